//! Worker threads sending the population's requests in a weighted mix, at a
//! rate or as fast as answers come, until a duration ends or the caller
//! says stop; requests/s, items/s and latency per kind, and the ledger.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::client::{Connection, Exchange};
use super::ledger::Ledger;
use super::population::{Population, VERSIONS};
use super::wire::{self, Request};

/// The kinds of traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// go-checkpoint's `GET /v1/check`.
    CheckGo,
    /// Prisma's `GET /v1/check`, developers and CI runs.
    CheckPrisma,
    /// A native event batch, `POST /api/v1/events`.
    Native,
    /// A Hasura server heartbeat, `POST /v1/http`.
    HasuraHeartbeat,
    /// A Hasura CLI event, `POST /v1/http`.
    HasuraCli,
    /// A console session over `/v1/ws`.
    Console,
    /// An error report, `POST /api/v1/error-reports`.
    ErrorReport,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 7] = [
        Kind::CheckGo,
        Kind::CheckPrisma,
        Kind::Native,
        Kind::HasuraHeartbeat,
        Kind::HasuraCli,
        Kind::Console,
        Kind::ErrorReport,
    ];

    /// Its name in `--mix` and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::CheckGo => "check-go",
            Kind::CheckPrisma => "check-prisma",
            Kind::Native => "native",
            Kind::HasuraHeartbeat => "hasura-heartbeat",
            Kind::HasuraCli => "hasura-cli",
            Kind::Console => "console",
            Kind::ErrorReport => "error-report",
        }
    }
}

/// Weights of the kinds: each request is of a kind drawn in proportion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix(pub Vec<(Kind, u32)>);

impl Default for Mix {
    /// Checks dominate, as they do for a real tool; every kind is present.
    fn default() -> Self {
        Mix(vec![
            (Kind::CheckGo, 30),
            (Kind::CheckPrisma, 30),
            (Kind::Native, 12),
            (Kind::HasuraHeartbeat, 6),
            (Kind::HasuraCli, 10),
            (Kind::Console, 4),
            (Kind::ErrorReport, 8),
        ])
    }
}

impl std::str::FromStr for Mix {
    type Err = String;

    /// `check-go=30,native=10,...`: kinds not named get weight 0.
    fn from_str(s: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected KIND=WEIGHT"))?;
            let kind = Kind::ALL
                .into_iter()
                .find(|k| k.name() == name.trim())
                .ok_or_else(|| format!("unknown kind {name:?} (kinds: {})", kind_names()))?;
            let weight = weight
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the weight is not a number"))?;
            out.push((kind, weight));
        }
        if out.iter().all(|(_, w)| *w == 0) {
            return Err("the mix has no kind with a weight above 0".into());
        }
        Ok(Mix(out))
    }
}

fn kind_names() -> String {
    Kind::ALL.map(Kind::name).join(", ")
}

impl Mix {
    fn pick(&self, rng: &mut impl Rng) -> Kind {
        let total: u32 = self.0.iter().map(|(_, w)| w).sum();
        let mut n = rng.random_range(0..total.max(1));
        for (kind, w) in &self.0 {
            if n < *w {
                return *kind;
            }
            n -= w;
        }
        self.0[0].0
    }
}

/// What to send, where, how fast.
#[derive(Debug, Clone)]
pub struct Options {
    /// The collector.
    pub addr: SocketAddr,
    /// The product of checks, native events and error reports.
    pub product: String,
    /// Developers in the population.
    pub developers: usize,
    /// Share of Prisma checks that come from CI runs (a fresh signature each).
    pub ci_share: f64,
    /// Share of workers that keep their connection alive (the rest open one
    /// per request, as go-checkpoint and Prisma's client do).
    pub keep_alive_share: f64,
    /// Worker threads (connections).
    pub concurrency: usize,
    /// Requests a second over all workers; `None`: as fast as answers come.
    pub rate: Option<f64>,
    /// How long to run; `None`: until told to stop.
    pub duration: Option<Duration>,
    /// The mix of kinds.
    pub mix: Mix,
    /// Events per native batch.
    pub batch: usize,
    /// Frames per console session.
    pub console_frames: usize,
    /// Seconds after which the population has moved one release ahead.
    pub version_shift_secs: f64,
    /// Seed of every random choice.
    pub seed: u64,
}

impl Options {
    /// Defaults for `addr`: 16 workers, 1000 developers, 10 s, the default mix.
    pub fn new(addr: SocketAddr) -> Self {
        Options {
            addr,
            product: "loadtool".into(),
            developers: 1000,
            ci_share: 0.2,
            keep_alive_share: 0.5,
            concurrency: 16,
            rate: None,
            duration: Some(Duration::from_secs(10)),
            mix: Mix::default(),
            batch: 50,
            console_frames: 5,
            version_shift_secs: 10.0,
            seed: 1,
        }
    }
}

/// Figures of one kind.
#[derive(Debug, Clone, Default)]
pub struct KindStats {
    /// Requests sent (console: sessions).
    pub requests: u64,
    /// Answers by status (console: 101 for a session closed cleanly).
    pub statuses: BTreeMap<u16, u64>,
    /// Answers with a `Retry-After` header.
    pub retry_after: u64,
    /// Requests that could not be sent (no connection).
    pub not_sent: u64,
    /// Requests sent that got no answer.
    pub no_answer: u64,
    /// Items acknowledged (pings, events, frames, reports).
    pub items_acked: u64,
    /// Latency of each answered request, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl KindStats {
    /// Adds `other`'s figures to these.
    pub fn merge(&mut self, other: KindStats) {
        self.requests += other.requests;
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.retry_after += other.retry_after;
        self.not_sent += other.not_sent;
        self.no_answer += other.no_answer;
        self.items_acked += other.items_acked;
        self.latencies_us.extend(other.latencies_us);
    }

    /// The `p`-th percentile latency (0–100), in microseconds.
    pub fn percentile(&self, p: f64) -> Option<u32> {
        let mut l = self.latencies_us.clone();
        if l.is_empty() {
            return None;
        }
        l.sort_unstable();
        let i = ((p / 100.0) * (l.len() - 1) as f64).round() as usize;
        Some(l[i.min(l.len() - 1)])
    }

    /// Answers with status `status`.
    pub fn status(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or_default()
    }
}

/// Figures of a run.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// By kind.
    pub by_kind: BTreeMap<Kind, KindStats>,
    /// How long it ran.
    pub elapsed: Duration,
}

impl Stats {
    /// Adds the figures of another run (its time included) to these.
    pub fn merge(&mut self, other: Stats) {
        for (kind, k) in other.by_kind {
            self.by_kind.entry(kind).or_default().merge(k);
        }
        self.elapsed += other.elapsed;
    }

    /// Answers with status `status`, all kinds.
    pub fn status(&self, status: u16) -> u64 {
        self.by_kind.values().map(|k| k.status(status)).sum()
    }

    /// Answers with a `Retry-After`, all kinds.
    pub fn retry_after(&self) -> u64 {
        self.by_kind.values().map(|k| k.retry_after).sum()
    }

    /// A table: per kind requests/s, items acknowledged/s, p50 and p99
    /// latency, answers by status, unanswered and unsent requests.
    pub fn table(&self) -> String {
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut out = format!(
            "{:<17} {:>9} {:>10} {:>11} {:>9} {:>9}  answers\n",
            "kind", "requests", "req/s", "items/s", "p50 ms", "p99 ms"
        );
        let ms = |v: Option<u32>| v.map_or("-".to_owned(), |us| format!("{:.2}", f64::from(us) / 1000.0));
        let mut total = KindStats::default();
        for (kind, k) in &self.by_kind {
            out += &line(kind.name(), k, secs, &ms);
            total.merge(k.clone());
        }
        out += &line("all", &total, secs, &ms);
        out
    }
}

fn line(name: &str, k: &KindStats, secs: f64, ms: &dyn Fn(Option<u32>) -> String) -> String {
    let answered: u64 = k.statuses.values().sum();
    let statuses: Vec<String> = k.statuses.iter().map(|(s, n)| format!("{s}:{n}")).collect();
    format!(
        "{:<17} {:>9} {:>10.1} {:>11.1} {:>9} {:>9}  {} no-answer:{} not-sent:{}\n",
        name,
        k.requests,
        answered as f64 / secs,
        k.items_acked as f64 / secs,
        ms(k.percentile(50.0)),
        ms(k.percentile(99.0)),
        statuses.join(" "),
        k.no_answer,
        k.not_sent
    )
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// What was acknowledged.
    pub ledger: Ledger,
    /// Figures.
    pub stats: Stats,
}

/// Publishes every release the population uses (the product's and
/// Hasura's) through the admin API with `token`.
pub fn setup(addr: SocketAddr, token: &str, product: &str) -> Result<(), String> {
    let host = addr.to_string();
    let hasura_release = super::population::HASURA_VERSION.trim_start_matches('v');
    let releases = VERSIONS
        .iter()
        .map(|v| (product, *v))
        .chain([(wire::HASURA, hasura_release)]);
    for (p, v) in releases {
        let mut conn = Connection::new(addr, false);
        match conn.exchange(&wire::publish(&host, token, p, v)) {
            Exchange::Answered { status: 201, .. } => {}
            other => return Err(format!("publishing {p} {v}: {other:?}")),
        }
    }
    Ok(())
}

/// Runs the load until `opts.duration` has passed or `stop` turns true.
pub fn run(opts: &Options, stop: &AtomicBool) -> Outcome {
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let population = Arc::new(Population::new(opts.developers, opts.version_shift_secs, &mut rng));
    let start = Instant::now();
    let workers = opts.concurrency.max(1);
    let keep_alive_workers = (workers as f64 * opts.keep_alive_share.clamp(0.0, 1.0)).round() as usize;
    let outcomes: Vec<(Ledger, Stats)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|i| {
                let worker = Worker {
                    opts,
                    population: population.clone(),
                    rng: StdRng::seed_from_u64(opts.seed.wrapping_mul(1_000_003).wrapping_add(i as u64 + 1)),
                    conn: Connection::new(opts.addr, i < keep_alive_workers),
                    host: opts.addr.to_string(),
                    ledger: Ledger::new(&opts.product),
                    stats: Stats::default(),
                    heartbeat_seq: (i as u64) << 40,
                };
                scope.spawn(move || worker.run(start, workers, stop))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a load worker panicked"))
            .collect()
    });
    let mut ledger = Ledger::new(&opts.product);
    let mut stats = Stats::default();
    for (l, s) in outcomes {
        ledger.merge(l);
        stats.merge(s);
    }
    stats.elapsed = start.elapsed();
    Outcome { ledger, stats }
}

/// One worker: its connection, random source and records.
struct Worker<'a> {
    opts: &'a Options,
    population: Arc<Population>,
    rng: StdRng,
    conn: Connection,
    host: String,
    ledger: Ledger,
    stats: Stats,
    heartbeat_seq: u64,
}

impl Worker<'_> {
    fn run(mut self, start: Instant, workers: usize, stop: &AtomicBool) -> (Ledger, Stats) {
        let interval = self
            .opts
            .rate
            .map(|r| Duration::from_secs_f64(workers as f64 / r.max(1e-3)));
        let mut due = start;
        while !stop.load(Ordering::Relaxed) && self.opts.duration.is_none_or(|d| start.elapsed() < d) {
            if let Some(interval) = interval {
                due += interval;
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
            }
            let kind = self.opts.mix.pick(&mut self.rng);
            let sent = if kind == Kind::Console {
                self.console()
            } else {
                let request = self.request(kind, start);
                self.send(kind, request)
            };
            if !sent {
                // The collector is not there (restarting): do not spin.
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        (self.ledger, self.stats)
    }

    fn request(&mut self, kind: Kind, start: Instant) -> Request {
        let elapsed = start.elapsed().as_secs_f64();
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let population = self.population.clone();
        let dev = population.pick(&mut self.rng);
        let version = population.version_of(dev, elapsed);
        let (host, product, ka) = (&self.host, self.opts.product.as_str(), self.conn.keep_alive());
        let rng = &mut self.rng;
        match kind {
            Kind::CheckGo => wire::check_go(host, product, &dev.signature, version, ka),
            Kind::CheckPrisma => {
                if rng.random_bool(self.opts.ci_share.clamp(0.0, 1.0)) {
                    // A CI run keeps no state: a new signature every time.
                    let signature = super::population::uuid(rng);
                    wire::check_prisma(host, product, &signature, version, Some("GitHub Actions"), ka, rng)
                } else {
                    wire::check_prisma(host, product, &dev.signature, version, None, ka, rng)
                }
            }
            Kind::Native => wire::native_batch(host, product, version, self.opts.batch, now_ms, ka, rng),
            Kind::HasuraHeartbeat => {
                self.heartbeat_seq += 1;
                wire::hasura_heartbeat(host, dev, self.heartbeat_seq, ka)
            }
            Kind::HasuraCli => wire::hasura_cli(host, dev, ka, rng),
            Kind::ErrorReport => wire::error_report(host, product, dev, version, now_ms, ka, rng),
            Kind::Console => unreachable!("console sessions are not single requests"),
        }
    }

    /// Sends one request and records what became of it; false when it
    /// could not be sent.
    fn send(&mut self, kind: Kind, request: Request) -> bool {
        let began = Instant::now();
        let answer = self.conn.exchange(&request.bytes);
        let k = self.stats.by_kind.entry(kind).or_default();
        k.requests += 1;
        match answer {
            Exchange::NotSent => {
                k.requests -= 1;
                k.not_sent += 1;
                return false;
            }
            Exchange::NoAnswer => {
                k.no_answer += 1;
                for item in &request.items {
                    self.ledger.record(item, false);
                }
            }
            Exchange::Answered {
                status,
                retry_after,
                body,
            } => {
                k.latencies_us
                    .push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
                *k.statuses.entry(status).or_default() += 1;
                k.retry_after += u64::from(retry_after.is_some());
                if (200..300).contains(&status) {
                    let refused = refused_indexes(&body);
                    for (i, item) in request.items.iter().enumerate() {
                        if !refused.contains(&i) {
                            self.ledger.record(item, true);
                            k.items_acked += 1;
                        }
                    }
                }
            }
        }
        true
    }

    /// One console session: open `/v1/ws`, send frames, close; the frames
    /// are acknowledged when the collector answers the close (it reads a
    /// frame only after the previous one committed).
    fn console(&mut self) -> bool {
        use tungstenite::protocol::{frame::coding::CloseCode, CloseFrame};
        use tungstenite::{Error, Message};

        let Some(stream) = self.conn.open() else {
            self.stats.by_kind.entry(Kind::Console).or_default().not_sent += 1;
            return false;
        };
        let population = self.population.clone();
        let dev = population.pick(&mut self.rng);
        let frames = wire::console_frames(dev, self.opts.console_frames, &mut self.rng);
        let began = Instant::now();
        let k = self.stats.by_kind.entry(Kind::Console).or_default();
        k.requests += 1;
        let url = format!("ws://{}/v1/ws", self.host);
        let mut socket = match tungstenite::client(url.as_str(), stream) {
            Ok((socket, _)) => socket,
            Err(tungstenite::HandshakeError::Failure(Error::Http(response))) => {
                *k.statuses.entry(response.status().as_u16()).or_default() += 1;
                k.retry_after += u64::from(response.headers().contains_key("retry-after"));
                return true;
            }
            Err(_) => {
                k.no_answer += 1;
                return true;
            }
        };
        let mut sent = 0;
        for (text, _) in &frames {
            if socket.send(Message::text(text.as_str())).is_err() {
                break;
            }
            sent += 1;
        }
        let mut clean = false;
        if sent == frames.len() {
            let _ = socket.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
            loop {
                match socket.read() {
                    // The first close the collector sends must answer ours:
                    // a close of its own (1013, 1001) means it stopped early.
                    Ok(Message::Close(frame)) => clean = frame.is_none_or(|f| f.code == CloseCode::Normal),
                    Ok(_) => {}
                    Err(Error::ConnectionClosed) => break,
                    Err(_) => {
                        clean = false;
                        break;
                    }
                }
            }
        }
        if clean {
            k.latencies_us
                .push(u32::try_from(began.elapsed().as_micros()).unwrap_or(u32::MAX));
            *k.statuses.entry(101).or_default() += 1;
            k.items_acked += frames.len() as u64;
        } else {
            k.no_answer += 1;
        }
        // A frame whose send failed may still have reached the collector.
        let reached = if clean { sent } else { (sent + 1).min(frames.len()) };
        for (_, item) in &frames[..reached] {
            self.ledger.record(item, clean);
        }
        true
    }
}

/// The indexes a native answer lists under `rejected` (events refused one
/// by one; the rest of the batch is stored).
fn refused_indexes(body: &[u8]) -> Vec<usize> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("rejected")?.as_array().map(|a| {
                a.iter()
                    .filter_map(|r| r.get("index")?.as_u64())
                    .map(|i| i as usize)
                    .collect()
            })
        })
        .unwrap_or_default()
}
