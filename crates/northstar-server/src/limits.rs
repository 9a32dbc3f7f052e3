//! Token-bucket rate limits, per key and global, held in memory per server
//! process. Keys are account names or ids, never network addresses: the
//! server does not record who connects from where.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Tokens the bucket holds when full.
    pub burst: f64,
    /// Tokens added per second.
    pub per_second: f64,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub struct Limiter {
    rate: Rate,
    buckets: Mutex<HashMap<String, Bucket>>,
}

/// How many distinct keys a limiter remembers before it forgets the fullest buckets.
const MAX_KEYS: usize = 100_000;

impl Limiter {
    pub fn new(rate: Rate) -> Self {
        Limiter {
            rate,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one token for `key`; false if the bucket is empty.
    pub fn allow(&self, key: &str) -> bool {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_KEYS && !buckets.contains_key(key) {
            let rate = self.rate;
            buckets.retain(|_, b| {
                b.tokens + now.duration_since(b.last).as_secs_f64() * rate.per_second < rate.burst
            });
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.rate.burst,
            last: now,
        });
        let elapsed = now.duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate.per_second).min(self.rate.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Limiter {
    /// Give back the token an attempt took (a sign-in that succeeded): only
    /// failed attempts drain a bucket.
    pub fn refund(&self, key: &str) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = buckets.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(self.rate.burst);
        }
    }
}

/// The limits of one server process.
#[derive(Debug)]
pub struct RateLimits {
    /// Failed sign-in attempts per account name: a burst of 10, then one every 6 s
    /// (a successful sign-in gives its token back).
    pub login_per_account: Limiter,
    /// Sign-in attempts overall: a burst of 200, then 50 a second.
    pub login_global: Limiter,
    /// Registrations (organization creation and joining) overall.
    pub register_global: Limiter,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_per_account: Limiter::new(Rate {
                burst: 10.0,
                per_second: 1.0 / 6.0,
            }),
            login_global: Limiter::new(Rate {
                burst: 200.0,
                per_second: 50.0,
            }),
            register_global: Limiter::new(Rate {
                burst: 50.0,
                per_second: 5.0,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_refuses_after_its_burst_and_keys_are_separate() {
        let l = Limiter::new(Rate {
            burst: 3.0,
            per_second: 0.0,
        });
        assert!(l.allow("a") && l.allow("a") && l.allow("a"));
        assert!(!l.allow("a"));
        assert!(l.allow("b"));
        l.refund("a");
        assert!(l.allow("a"));
        assert!(!l.allow("a"));
    }
}
