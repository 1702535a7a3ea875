//! Helpers shared by the tests: a store that counts its round trips, can hold a read back, and
//! can fail saves on demand.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use persistence_core::{
    Attributes, Entry, Error, ListOptions, Pages, PersistenceAdapter, RedactedKey, Result,
    SaveOptions, Stored, Version, async_trait,
};
use tokio::sync::Notify;

/// Round trips a [`Counting`] store served.
#[derive(Debug, Default)]
pub struct Counts {
    pub gets: AtomicU64,
    pub saves: AtomicU64,
    pub conflicts: AtomicU64,
    pub deletes: AtomicU64,
}

impl Counts {
    pub fn gets(&self) -> u64 {
        self.gets.load(Ordering::SeqCst)
    }
    pub fn saves(&self) -> u64 {
        self.saves.load(Ordering::SeqCst)
    }
    pub fn conflicts(&self) -> u64 {
        self.conflicts.load(Ordering::SeqCst)
    }
    pub fn deletes(&self) -> u64 {
        self.deletes.load(Ordering::SeqCst)
    }
}

/// Holds one read back after it read, until released: to put a write in between.
#[derive(Debug, Default)]
pub struct Gate {
    armed: AtomicBool,
    pub read_done: Notify,
    pub release: Notify,
}

impl Gate {
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }
}

/// A store in front of another that counts every call reaching it.
#[derive(Debug)]
pub struct Counting {
    inner: Arc<dyn PersistenceAdapter>,
    pub counts: Arc<Counts>,
    pub gate: Arc<Gate>,
    /// When set, saves are applied and then answered with `OutcomeUnknown` (a lost answer).
    pub lose_save_answers: AtomicBool,
}

impl Counting {
    pub fn new(inner: impl PersistenceAdapter + 'static) -> Self {
        Self {
            inner: Arc::new(inner),
            counts: Arc::default(),
            gate: Arc::default(),
            lose_save_answers: AtomicBool::new(false),
        }
    }
}

#[async_trait]
impl PersistenceAdapter for Counting {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        self.counts.gets.fetch_add(1, Ordering::SeqCst);
        let got = self.inner.get(key).await;
        if self.gate.armed.swap(false, Ordering::SeqCst) {
            self.gate.read_done.notify_one();
            self.gate.release.notified().await;
        }
        got
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        self.counts.saves.fetch_add(1, Ordering::SeqCst);
        let r = self.inner.save_with(key, attributes, options).await;
        if matches!(r, Err(Error::Conflict { .. })) {
            self.counts.conflicts.fetch_add(1, Ordering::SeqCst);
        }
        if r.is_ok() && self.lose_save_answers.load(Ordering::SeqCst) {
            return Err(Error::OutcomeUnknown {
                operation: "save",
                resource: self.describe(),
                key: RedactedKey::new(key),
                detail: "answer lost (test)".into(),
            });
        }
        r
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.counts.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(key).await
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        self.counts.deletes.fetch_add(1, Ordering::SeqCst);
        self.inner.delete_if(key, expected).await
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.inner.entries(options)
    }

    fn describe(&self) -> String {
        format!("counting {}", self.inner.describe())
    }
}

/// Attributes from JSON.
pub fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

/// A database path that does not exist yet, in a directory of its own.
pub fn fresh_sqlite_path(what: &str) -> PathBuf {
    let token = persistence_core::unique_token();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("cache-tests")
        .join(format!("{what}-{}", &token[12..]));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join("attributes.sqlite3")
}
