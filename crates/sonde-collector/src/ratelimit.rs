//! The per-client-address rate limit: a token bucket per address, kept only
//! in memory, in a map of bounded size.
//!
//! Every HTTP request (a WebSocket upgrade included) takes one token from
//! the bucket of the address it came from; a bucket holds at most `burst`
//! tokens and gains `per_second` a second. A request that finds its bucket
//! empty is answered `429 rate_limited` with `Retry-After` (whole seconds
//! until a token is back) before the router sees it.
//!
//! The address is a key in this map and nothing else: it is never logged,
//! stored or put in an answer. IPv6 addresses are keyed by their /64 (one
//! host usually holds a whole /64); IPv4-mapped IPv6 addresses by their IPv4
//! address.
//!
//! The map holds at most [`MAX_ADDRESSES`] buckets. When it is full, buckets
//! that have refilled (an address that has been quiet for `burst /
//! per_second` seconds is indistinguishable from a new one) are swept out, at
//! most once a second; an address that still finds no room shares one
//! overflow bucket with every other such address. So memory stays bounded
//! however many addresses send, and a flood from many addresses is limited
//! as a whole.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most addresses tracked at once (about 2 MiB of buckets).
pub const MAX_ADDRESSES: usize = 65_536;

/// How often a full map may be swept for refilled buckets.
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The limit for each client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Tokens (requests) an address gains per second; at least 1.
    pub per_second: u32,
    /// Most requests an address may send at once after a quiet spell; at
    /// least 1.
    pub burst: u32,
}

impl Default for RateLimit {
    /// 5,000 requests a second per address, in bursts of 20,000: far above
    /// what one client (or one office's NAT) sends, and above what a
    /// reverse proxy in front of the collector forwards for any real tool
    /// (5,000 checks a second is 430 million a day), so only a runaway
    /// client trips it (docs/collector.md, "Rate limit").
    fn default() -> Self {
        RateLimit {
            per_second: 5_000,
            burst: 20_000,
        }
    }
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// The request may go on.
    Allowed,
    /// The address is over its limit: retry after this many seconds (≥ 1).
    Limited {
        /// Whole seconds until a token is back.
        retry_after: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(burst: f64, now: Instant) -> Self {
        Bucket { tokens: burst, at: now }
    }

    /// Adds what the time since the last take earned, up to `burst`.
    fn refill(&mut self, limit: &Limits, now: Instant) {
        let earned = now.saturating_duration_since(self.at).as_secs_f64() * limit.rate;
        self.tokens = (self.tokens + earned).min(limit.burst);
        self.at = now;
    }

    fn take(&mut self, limit: &Limits, now: Instant) -> Verdict {
        self.refill(limit, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Verdict::Allowed
        } else {
            let wait = (1.0 - self.tokens) / limit.rate;
            Verdict::Limited {
                retry_after: (wait.ceil() as u64).max(1),
            }
        }
    }

    /// Whether the bucket would be full at `now`: forgetting it changes nothing.
    fn refilled(&self, limit: &Limits, now: Instant) -> bool {
        self.tokens + now.saturating_duration_since(self.at).as_secs_f64() * limit.rate >= limit.burst
    }
}

#[derive(Debug, Clone, Copy)]
struct Limits {
    rate: f64,
    burst: f64,
}

#[derive(Debug)]
struct Buckets {
    by_key: HashMap<u128, Bucket>,
    overflow: Bucket,
    swept: Instant,
}

/// Token buckets by client address (see the module documentation).
#[derive(Debug)]
pub(crate) struct Limiter {
    limits: Limits,
    capacity: usize,
    buckets: Mutex<Buckets>,
}

impl Limiter {
    /// A limiter applying `limit` to each address, tracking at most
    /// [`MAX_ADDRESSES`].
    pub(crate) fn new(limit: RateLimit) -> Self {
        Self::with_capacity(limit, MAX_ADDRESSES)
    }

    fn with_capacity(limit: RateLimit, capacity: usize) -> Self {
        let limits = Limits {
            rate: f64::from(limit.per_second.max(1)),
            burst: f64::from(limit.burst.max(1)),
        };
        let now = Instant::now();
        Limiter {
            limits,
            capacity: capacity.max(1),
            buckets: Mutex::new(Buckets {
                by_key: HashMap::new(),
                overflow: Bucket::full(limits.burst, now),
                swept: now,
            }),
        }
    }

    /// Takes a token for a request from `addr`.
    pub(crate) fn check(&self, addr: IpAddr) -> Verdict {
        self.check_at(key(addr), Instant::now())
    }

    fn check_at(&self, key: u128, now: Instant) -> Verdict {
        let limits = self.limits;
        let mut guard = self.buckets.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let b = &mut *guard;
        if let Some(bucket) = b.by_key.get_mut(&key) {
            return bucket.take(&limits, now);
        }
        if b.by_key.len() >= self.capacity && now.saturating_duration_since(b.swept) >= SWEEP_EVERY {
            b.swept = now;
            b.by_key.retain(|_, bucket| !bucket.refilled(&limits, now));
        }
        if b.by_key.len() >= self.capacity {
            return b.overflow.take(&limits, now);
        }
        b.by_key
            .entry(key)
            .or_insert_with(|| Bucket::full(limits.burst, now))
            .take(&limits, now)
    }

    /// How many addresses have a bucket.
    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets.lock().map(|b| b.by_key.len()).unwrap_or_default()
    }
}

/// The map key of an address: an IPv4 address (or an IPv4-mapped IPv6 one)
/// as itself, any other IPv6 address by its /64 prefix.
fn key(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            None => (u128::from(v6) >> 64 << 64) | (1 << 32),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_second: u32, burst: u32, capacity: usize) -> Limiter {
        Limiter::with_capacity(RateLimit { per_second, burst }, capacity)
    }

    #[test]
    fn a_burst_passes_then_the_address_waits_for_tokens() {
        let l = limiter(2, 3, 16);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at(1, t0), Verdict::Allowed);
        }
        assert_eq!(l.check_at(1, t0), Verdict::Limited { retry_after: 1 });
        // Another address has its own bucket.
        assert_eq!(l.check_at(2, t0), Verdict::Allowed);
        // Half a second at 2/s earns one token.
        let t1 = t0 + Duration::from_millis(500);
        assert_eq!(l.check_at(1, t1), Verdict::Allowed);
        assert_eq!(l.check_at(1, t1), Verdict::Limited { retry_after: 1 });
    }

    #[test]
    fn retry_after_counts_whole_seconds_until_a_token() {
        let l = limiter(1, 1, 16);
        let t0 = Instant::now();
        assert_eq!(l.check_at(9, t0), Verdict::Allowed);
        assert_eq!(l.check_at(9, t0), Verdict::Limited { retry_after: 1 });
        let slow = Limiter::with_capacity(
            RateLimit {
                per_second: 1,
                burst: 1,
            },
            16,
        );
        assert_eq!(slow.check_at(9, t0), Verdict::Allowed);
        assert_eq!(
            slow.check_at(9, t0 + Duration::from_millis(100)),
            Verdict::Limited { retry_after: 1 }
        );
    }

    #[test]
    fn the_map_never_grows_past_its_capacity() {
        let l = limiter(1, 2, 4);
        let t0 = Instant::now();
        for k in 0..100 {
            let _ = l.check_at(k, t0);
        }
        assert_eq!(l.tracked(), 4);
        // Addresses without room share the overflow bucket (burst 2).
        assert_eq!(l.check_at(1000, t0), Verdict::Limited { retry_after: 1 });
        // Once the tracked buckets have refilled, a sweep makes room.
        let later = t0 + Duration::from_secs(5);
        assert_eq!(l.check_at(2000, later), Verdict::Allowed);
        assert_eq!(l.tracked(), 1);
    }

    #[test]
    fn addresses_are_keyed_by_host_and_ipv6_by_its_64_prefix() {
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(key(v4), key(mapped));
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
        assert_ne!(key(a), key(v4));
    }
}
