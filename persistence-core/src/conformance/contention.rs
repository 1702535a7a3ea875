//! Concurrent read-modify-write: no lost update.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{must_get, unique_key};
use crate::{
    Attributes, ListOptions, PersistenceAdapter, PersistenceAdapterExt, RetryPolicy, SaveOptions,
    Stored, Version,
};

/// What [`update_contention`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentionReport {
    /// Concurrent writers.
    pub writers: usize,
    /// Increments each writer applied.
    pub increments: usize,
    /// The counter read at the end: must be `writers * increments`.
    pub final_count: u64,
    /// Conflicts seen (and retried) in all.
    pub conflicts: u64,
    /// The most attempts one increment needed.
    pub max_attempts: u32,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl fmt::Display for ContentionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} writers x {} increments: final count {} (expected {}), {} conflicts retried, \
             at most {} attempts for one increment, {:.0?}",
            self.writers,
            self.increments,
            self.final_count,
            self.writers * self.increments,
            self.conflicts,
            self.max_attempts,
            self.elapsed
        )
    }
}

/// `writers` tasks (spread round-robin over `adapters`, which must share storage) each add 1 to
/// one counter `increments` times through [`PersistenceAdapterExt::update_with`]; the final count
/// must be exactly `writers * increments`: no update lost. Needs a Tokio runtime; run it on a
/// multi-threaded one to get real parallelism.
pub async fn update_contention(
    adapters: &[Arc<dyn PersistenceAdapter>],
    writers: usize,
    increments: usize,
) -> ContentionReport {
    assert!(!adapters.is_empty(), "update_contention needs an adapter");
    let key = unique_key("contention");
    // Generous but bounded: every conflict means another writer made progress.
    let policy = RetryPolicy {
        max_attempts: 10_000,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(50),
    };
    let start = Instant::now();
    let mut handles = Vec::with_capacity(writers);
    for w in 0..writers {
        let adapter: Arc<dyn PersistenceAdapter> =
            Arc::new(Yielding(Arc::clone(&adapters[w % adapters.len()])));
        let key = key.clone();
        let policy = policy.clone();
        handles.push(tokio::spawn(async move {
            let mut conflicts = 0u64;
            let mut max_attempts = 0u32;
            for _ in 0..increments {
                let out = adapter
                    .update_with(&key, &policy, |attrs| {
                        let n = attrs.get("count").and_then(Value::as_u64).unwrap_or(0);
                        attrs.insert("count".into(), json!(n + 1));
                    })
                    .await
                    .unwrap_or_else(|e| panic!("[{}] update failed: {e}", adapter.describe()));
                conflicts += u64::from(out.attempts - 1);
                max_attempts = max_attempts.max(out.attempts);
            }
            (conflicts, max_attempts)
        }));
    }
    let mut conflicts = 0;
    let mut max_attempts = 0;
    for r in futures::future::join_all(handles).await {
        let (c, m) = r.expect("writer task panicked");
        conflicts += c;
        max_attempts = max_attempts.max(m);
    }
    let final_count = must_get(adapters[0].as_ref(), &key).await.attributes["count"]
        .as_u64()
        .expect("count is a number");
    let report = ContentionReport {
        writers,
        increments,
        final_count,
        conflicts,
        max_attempts,
        elapsed: start.elapsed(),
    };
    assert_eq!(
        final_count,
        (writers * increments) as u64,
        "[{}] updates were lost: {report}",
        adapters[0].describe()
    );
    report
}

/// Yields to the scheduler before each read, so that writers interleave between read and save
/// even on a backend whose calls never wait (memory): contention becomes real everywhere.
#[derive(Debug)]
struct Yielding(Arc<dyn PersistenceAdapter>);

#[async_trait::async_trait]
impl PersistenceAdapter for Yielding {
    async fn get(&self, key: &str) -> crate::Result<Option<Stored>> {
        let got = self.0.get(key).await;
        tokio::task::yield_now().await;
        got
    }
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> crate::Result<crate::Version> {
        self.0.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> crate::Result<()> {
        self.0.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> crate::Result<()> {
        self.0.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> crate::Pages<'a, String> {
        self.0.list_keys(options)
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}
