//! The simulated users: developers with stable identities, the version each
//! runs at a given moment, and CI runs.

use rand::Rng;

/// The releases the population moves through, oldest first; the generator's
/// setup publishes every one of them.
pub const VERSIONS: &[&str] = &[
    "1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0", "1.5.0", "1.6.0", "1.7.0", "1.8.0", "1.9.0",
];

/// The Hasura server version the Hasura clients report.
pub const HASURA_VERSION: &str = "v2.36.0";

/// One developer: the identities their installation keeps between runs.
#[derive(Debug, Clone)]
pub struct Developer {
    /// The checkpoint signature (a UUID) their pings and reports carry.
    pub signature: String,
    /// The Hasura CLI installation id.
    pub cli_uuid: String,
    /// The Hasura server instance they run.
    pub instance_uid: String,
    /// Where they start in [`VERSIONS`], in fractions of a release: early
    /// adopters start high, laggards low.
    adoption: f64,
}

/// N developers; built from a seed, so a run can be repeated.
#[derive(Debug, Clone)]
pub struct Population {
    developers: Vec<Developer>,
    /// Seconds after which the population has moved one release ahead.
    shift_secs: f64,
}

impl Population {
    /// `n` developers (at least one) drawn from `rng`, moving one release
    /// ahead every `shift_secs` seconds.
    pub fn new(n: usize, shift_secs: f64, rng: &mut impl Rng) -> Self {
        let developers = (0..n.max(1))
            .map(|_| Developer {
                signature: uuid(rng),
                cli_uuid: uuid(rng),
                instance_uid: uuid(rng),
                // Most developers start on the first three releases.
                adoption: rng.random::<f64>().powi(2) * 3.0,
            })
            .collect();
        Population {
            developers,
            shift_secs: shift_secs.max(0.001),
        }
    }

    /// A developer picked at random.
    pub fn pick(&self, rng: &mut impl Rng) -> &Developer {
        &self.developers[rng.random_range(0..self.developers.len())]
    }

    /// The version `dev` runs `elapsed_secs` into the run: their starting
    /// point plus one release per shift, capped at the newest.
    pub fn version_of(&self, dev: &Developer, elapsed_secs: f64) -> &'static str {
        let index = (dev.adoption + elapsed_secs / self.shift_secs) as usize;
        VERSIONS[index.min(VERSIONS.len() - 1)]
    }

    /// How many developers there are.
    pub fn len(&self) -> usize {
        self.developers.len()
    }

    /// Whether there are none (never: [`Population::new`] makes at least one).
    pub fn is_empty(&self) -> bool {
        self.developers.is_empty()
    }
}

/// A random (version 4) UUID in its lower-case text form.
pub fn uuid(rng: &mut impl Rng) -> String {
    let n: u128 = rng.random();
    let n = (n & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let h = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A UUID as the store keeps it: 32 lower-case hex digits, no dashes.
pub fn compact(uuid: &str) -> String {
    uuid.chars()
        .filter(|c| *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn uuids_have_the_version_4_layout() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let u = uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
        assert_eq!(compact(&u).len(), 32);
    }

    #[test]
    fn versions_move_forward_with_time_and_stop_at_the_newest() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let p = Population::new(50, 10.0, &mut rng);
        let dev = p.pick(&mut rng).clone();
        let early = VERSIONS.iter().position(|v| *v == p.version_of(&dev, 0.0)).unwrap();
        let later = VERSIONS.iter().position(|v| *v == p.version_of(&dev, 30.0)).unwrap();
        assert!(later >= early + 2, "{early} -> {later}");
        assert_eq!(p.version_of(&dev, 1e6), "1.9.0");
    }
}
