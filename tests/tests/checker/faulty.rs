//! `FaultyAdapter`: wraps any adapter and, per call, from its own seeded random number
//! generator, refuses it before forwarding, forwards it and loses the answer, forwards it, loses
//! the answer and retries it with the same write token (what an adapter's own retry does), or
//! delays it. The in-process backends (memory, SQLite, files) meet their faults this way.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use persistence_core::{
    Attributes, Error, ListOptions, Pages, PersistenceAdapter, RedactedKey, Result, SaveOptions,
    Stored, Version, async_trait, unique_token,
};

/// How many of its latest write tokens an item keeps, as documented
/// (`persistence_core::RECENT_TOKENS`). Written out rather than read from the code under test, so
/// that a store that remembers fewer is caught rather than accommodated.
const CONTRACT_RECENT_TOKENS: u64 = 8;

/// Fault probabilities per call.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// Refused before forwarding (`Error::Backend`; nothing happened).
    pub fail_before: f64,
    /// Forwarded, answer lost (`Error::OutcomeUnknown`; it happened).
    pub lose_answer: f64,
    /// Saves only: forwarded, answer lost, retried with the same token after a pause in which
    /// other clients may write; the retry's answer is returned.
    pub lose_and_retry: f64,
    /// Delayed by up to `max_delay` before forwarding (more interleaving).
    pub delay: f64,
    pub max_delay: Duration,
}

impl Rates {
    pub fn moderate() -> Self {
        Self {
            fail_before: 0.06,
            lose_answer: 0.05,
            lose_and_retry: 0.12,
            delay: 0.5,
            max_delay: Duration::from_millis(3),
        }
    }
}

/// Faults injected, by kind, and what reached the store, per key (shared by every
/// `FaultyAdapter` of a run).
#[derive(Debug, Default)]
pub struct FaultStats {
    /// Per key: saves and deletes that reached the store.
    traffic: Mutex<HashMap<String, (u64, u64)>>,
    /// Held by deletes while they run, and by a retry from its last look at the deletes to its
    /// end: a retry knows whether a delete came between its two sends.
    delete_gate: tokio::sync::Mutex<()>,
    pub calls: AtomicU64,
    pub fail_before: AtomicU64,
    pub lose_answer: AtomicU64,
    pub lose_and_retry: AtomicU64,
    pub delay: AtomicU64,
}

impl fmt::Display for FaultStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
        write!(
            f,
            "calls={} fail-before={} lose-answer={} lose-and-retry={} delay={}",
            l(&self.calls),
            l(&self.fail_before),
            l(&self.lose_answer),
            l(&self.lose_and_retry),
            l(&self.delay)
        )
    }
}

impl FaultStats {
    fn traffic(&self, key: &str) -> (u64, u64) {
        let t = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
        t.get(key).copied().unwrap_or_default()
    }

    fn note(&self, key: &str, saves: u64, deletes: u64) {
        let mut t = self.traffic.lock().unwrap_or_else(|p| p.into_inner());
        let e = t.entry(key.to_owned()).or_default();
        e.0 += saves;
        e.1 += deletes;
    }

    pub fn faulted(&self) -> u64 {
        self.fail_before.load(Ordering::Relaxed)
            + self.lose_answer.load(Ordering::Relaxed)
            + self.lose_and_retry.load(Ordering::Relaxed)
    }
}

pub struct FaultyAdapter {
    inner: Arc<dyn PersistenceAdapter>,
    rng: Mutex<fastrand::Rng>,
    rates: Rates,
    stats: Arc<FaultStats>,
}

impl fmt::Debug for FaultyAdapter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyAdapter({})", self.inner.describe())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    FailBefore,
    LoseAnswer,
    LoseAndRetry,
}

impl FaultyAdapter {
    pub fn new(
        inner: Arc<dyn PersistenceAdapter>,
        seed: u64,
        rates: Rates,
        stats: Arc<FaultStats>,
    ) -> Self {
        Self {
            inner,
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            rates,
            stats,
        }
    }

    /// This call's fault (a save may be retried), and its delay.
    fn decide(&self, save: bool) -> (Fault, Option<Duration>, Duration) {
        let mut rng = self.rng.lock().unwrap_or_else(|p| p.into_inner());
        self.stats.calls.fetch_add(1, Ordering::Relaxed);
        let r = &self.rates;
        let x = rng.f64();
        let fault = if x < r.fail_before {
            Fault::FailBefore
        } else if x < r.fail_before + r.lose_answer {
            Fault::LoseAnswer
        } else if save && x < r.fail_before + r.lose_answer + r.lose_and_retry {
            Fault::LoseAndRetry
        } else {
            Fault::None
        };
        let delay = (rng.f64() < r.delay).then(|| {
            let max = u64::try_from(r.max_delay.as_micros()).unwrap_or(1).max(1);
            Duration::from_micros(rng.u64(0..max))
        });
        let pause = Duration::from_micros(rng.u64(500..6_000));
        let count = match fault {
            Fault::None => None,
            Fault::FailBefore => Some(&self.stats.fail_before),
            Fault::LoseAnswer => Some(&self.stats.lose_answer),
            Fault::LoseAndRetry => Some(&self.stats.lose_and_retry),
        };
        if let Some(c) = count {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if delay.is_some() {
            self.stats.delay.fetch_add(1, Ordering::Relaxed);
        }
        (fault, delay, pause)
    }

    fn refused(&self, operation: &'static str) -> Error {
        Error::backend(
            operation,
            self.inner.describe(),
            "injected fault: refused before sending",
            std::io::Error::other("injected"),
        )
    }

    fn lost(&self, operation: &'static str, key: &str) -> Error {
        Error::OutcomeUnknown {
            operation,
            resource: self.inner.describe(),
            key: RedactedKey::new(key),
            detail: "injected fault: the answer was lost".into(),
        }
    }
}

impl FaultyAdapter {
    async fn save_through(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let r = self.inner.save_with(key, attributes, options).await;
        self.stats.note(key, 1, 0);
        r
    }

    async fn delete_through(&self, key: &str, expected: Option<&Version>) -> Result<()> {
        let _gate = self.stats.delete_gate.lock().await;
        let r = match expected {
            Some(v) => self.inner.delete_if(key, v).await,
            None => self.inner.delete(key).await,
        };
        self.stats.note(key, 0, 1);
        r
    }

    /// Sends the save, loses the answer, waits until another client has saved the key (or a
    /// few milliseconds), and sends it again with the same token and condition, as an adapter
    /// retries a request whose answer it lost: the store must recognise its own write.
    ///
    /// Within the documented limits: when a delete came between the two sends, or more saves
    /// than an item remembers tokens of, the write's fate cannot be shown any more, and the
    /// answer is `OutcomeUnknown` (what the AWS adapters answer then), without resending.
    async fn lose_and_retry(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
        wait: Duration,
    ) -> Result<Version> {
        let options = match &options.token {
            Some(_) => options.clone(),
            None => options.clone().token(unique_token()),
        };
        // Counted from before the first send: what these counts add is at least everything
        // saved or deleted after the first send landed (more, when others ran alongside).
        let (saves, deletes) = self.stats.traffic(key);
        let _ = self.save_through(key, attributes, &options).await;
        let until = tokio::time::Instant::now() + wait;
        while self.stats.traffic(key).0 <= saves + 1 && tokio::time::Instant::now() < until {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let _gate = self.stats.delete_gate.lock().await;
        let (now_saves, now_deletes) = self.stats.traffic(key);
        let on_top = now_saves.saturating_sub(saves + 1);
        if now_deletes != deletes || on_top >= CONTRACT_RECENT_TOKENS - 1 {
            return Err(self.lost("save", key));
        }
        let r = self.inner.save_with(key, attributes, &options).await;
        self.stats.note(key, 1, 0);
        r
    }
}

async fn pause(d: Option<Duration>) {
    if let Some(d) = d {
        tokio::time::sleep(d).await;
    } else {
        tokio::task::yield_now().await;
    }
}

#[async_trait]
impl PersistenceAdapter for FaultyAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        let (fault, delay, _) = self.decide(false);
        pause(delay).await;
        match fault {
            Fault::FailBefore => Err(self.refused("get")),
            Fault::LoseAnswer => {
                let _ = self.inner.get(key).await;
                Err(Error::backend(
                    "get",
                    self.inner.describe(),
                    "injected fault: the answer was lost",
                    std::io::Error::other("injected"),
                ))
            }
            _ => self.inner.get(key).await,
        }
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let (fault, delay, retry_pause) = self.decide(true);
        pause(delay).await;
        match fault {
            Fault::FailBefore => Err(self.refused("save")),
            Fault::LoseAnswer => {
                let _ = self.save_through(key, attributes, options).await;
                Err(self.lost("save", key))
            }
            Fault::LoseAndRetry => {
                self.lose_and_retry(key, attributes, options, retry_pause)
                    .await
            }
            Fault::None => self.save_through(key, attributes, options).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let (fault, delay, _) = self.decide(false);
        pause(delay).await;
        match fault {
            Fault::FailBefore => Err(self.refused("delete")),
            Fault::LoseAnswer => {
                let _ = self.delete_through(key, None).await;
                Err(self.lost("delete", key))
            }
            _ => self.delete_through(key, None).await,
        }
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        let (fault, delay, _) = self.decide(false);
        pause(delay).await;
        match fault {
            Fault::FailBefore => Err(self.refused("delete")),
            Fault::LoseAnswer => {
                let _ = self.delete_through(key, Some(expected)).await;
                Err(self.lost("delete", key))
            }
            _ => self.delete_through(key, Some(expected)).await,
        }
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
