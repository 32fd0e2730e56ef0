//! Dashboard sessions: signing in with the admin token gives a random
//! session id, kept in memory only, that the browser holds in an `HttpOnly`,
//! `SameSite=Strict` cookie.
//!
//! - A session id is 32 random bytes (hex); the map holds at most
//!   [`MAX_SESSIONS`], each for [`SESSION_TTL`]. When full, the session
//!   closest to expiry is dropped. A restart signs everyone out.
//! - Sign-in attempts are limited to [`MAX_ATTEMPTS`] per [`ATTEMPT_WINDOW`]
//!   for the whole collector (it never keeps a client's address, so the
//!   limit cannot be per client); the admin token is 32 random bytes, so the
//!   limit is a second line, not the defence.
//!
//! Every function takes the current instant, so tests can move time.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a session lasts after sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Most sessions kept at once.
pub const MAX_SESSIONS: usize = 64;
/// Most sign-in attempts per [`ATTEMPT_WINDOW`].
pub const MAX_ATTEMPTS: usize = 10;
/// The window sign-in attempts are counted over.
pub const ATTEMPT_WINDOW: Duration = Duration::from_secs(60);
/// The cookie's name.
pub const COOKIE: &str = "sonde_session";

/// No randomness to make a session id with.
#[derive(Debug, thiserror::Error)]
#[error("no randomness for a session id: {0}")]
pub struct SessionError(#[from] getrandom::Error);

/// The sessions and the sign-in attempts of one collector.
#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    max: usize,
    live: Mutex<HashMap<String, Instant>>,
    attempts: Mutex<VecDeque<Instant>>,
    max_attempts: usize,
    window: Duration,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions::new(SESSION_TTL, MAX_SESSIONS, MAX_ATTEMPTS, ATTEMPT_WINDOW)
    }
}

impl Sessions {
    /// Sessions lasting `ttl`, at most `max` at once; at most `max_attempts`
    /// sign-in attempts per `window`.
    pub fn new(ttl: Duration, max: usize, max_attempts: usize, window: Duration) -> Self {
        Sessions {
            ttl,
            max: max.max(1),
            live: Mutex::new(HashMap::new()),
            attempts: Mutex::new(VecDeque::new()),
            max_attempts,
            window,
        }
    }

    /// How long a session lasts.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Counts a sign-in attempt at `now`; `false` when over the limit (the
    /// attempt is then not made, and not counted).
    pub fn attempt(&self, now: Instant) -> bool {
        let mut attempts = self.attempts.lock().unwrap_or_else(|e| e.into_inner());
        while attempts.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
            attempts.pop_front();
        }
        if attempts.len() >= self.max_attempts {
            return false;
        }
        attempts.push_back(now);
        true
    }

    /// A new session from `now`; returns its id.
    pub fn create(&self, now: Instant) -> Result<String, SessionError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|_, expires| *expires > now);
        while live.len() >= self.max {
            let Some(oldest) = live.iter().min_by_key(|(_, e)| **e).map(|(k, _)| k.clone()) else {
                break;
            };
            live.remove(&oldest);
        }
        live.insert(id.clone(), now + self.ttl);
        Ok(id)
    }

    /// Whether `id` is a session that has not expired at `now` (an expired
    /// one is forgotten).
    pub fn is_valid(&self, id: &str, now: Instant) -> bool {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        match live.get(id) {
            Some(expires) if *expires > now => true,
            Some(_) => {
                live.remove(id);
                false
            }
            None => false,
        }
    }

    /// Ends session `id` (nothing if there is none).
    pub fn remove(&self, id: &str) {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }

    /// Sessions held now (expired ones included until next touched).
    pub fn len(&self) -> usize {
        self.live.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The session id in a `Cookie` header, if any.
pub fn from_cookie_header(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name == COOKIE && !value.is_empty()).then_some(value)
    })
}

/// The `Set-Cookie` value giving session `id`, `Secure` when served over TLS.
pub fn set_cookie(id: &str, max_age: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        max_age.as_secs()
    )
}

/// The `Set-Cookie` value that clears the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_lives_until_it_expires_or_is_removed() {
        let s = Sessions::new(Duration::from_secs(60), 8, 10, Duration::from_secs(60));
        let t0 = Instant::now();
        let id = s.create(t0).unwrap();
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(id, s.create(t0).unwrap(), "ids are random");
        assert!(s.is_valid(&id, t0 + Duration::from_secs(59)));
        assert!(!s.is_valid(&id, t0 + Duration::from_secs(60)));
        // Forgotten once seen expired.
        assert!(!s.is_valid(&id, t0));
        let other = s.create(t0).unwrap();
        s.remove(&other);
        assert!(!s.is_valid(&other, t0));
        assert!(!s.is_valid("not-a-session", t0));
    }

    #[test]
    fn the_number_of_sessions_is_bounded() {
        let s = Sessions::new(Duration::from_secs(60), 3, 10, Duration::from_secs(60));
        let t0 = Instant::now();
        let first = s.create(t0).unwrap();
        let ids: Vec<_> = (1..=3)
            .map(|i| s.create(t0 + Duration::from_secs(i)).unwrap())
            .collect();
        assert_eq!(s.len(), 3);
        // The one closest to expiry made room.
        assert!(!s.is_valid(&first, t0));
        assert!(ids.iter().all(|id| s.is_valid(id, t0 + Duration::from_secs(4))));
    }

    #[test]
    fn sign_in_attempts_are_limited_per_window() {
        let s = Sessions::new(Duration::from_secs(60), 8, 3, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!((0..3).all(|_| s.attempt(t0)));
        assert!(!s.attempt(t0 + Duration::from_secs(59)));
        assert!(s.attempt(t0 + Duration::from_secs(60)));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_tls() {
        assert_eq!(
            set_cookie("ab", Duration::from_secs(10), false),
            "sonde_session=ab; HttpOnly; SameSite=Strict; Path=/; Max-Age=10"
        );
        assert!(set_cookie("ab", Duration::from_secs(10), true).ends_with("; Secure"));
        assert!(clear_cookie(false).contains("Max-Age=0"));
        assert_eq!(from_cookie_header("a=1; sonde_session=xyz; b=2"), Some("xyz"));
        assert_eq!(from_cookie_header("sonde_session="), None);
        assert_eq!(from_cookie_header("other=1"), None);
    }
}
