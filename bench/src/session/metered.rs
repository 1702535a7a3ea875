//! An adapter wrapper that counts reads and writes and adds up the time spent in them: the
//! requests a session makes at the store, and how long its turns waited on storage.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use persistence_core::{
    Attributes, Entry, ListOptions, Pages, PersistenceAdapter, Result, SaveOptions, Stored,
    Version, async_trait,
};

/// What went through a [`Metered`] adapter since the last [`Metered::take`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meter {
    /// `get` calls.
    pub reads: u64,
    /// `save_with`, `delete` and `delete_if` calls.
    pub writes: u64,
    /// Time spent inside those calls, summed (overlapping calls count twice).
    pub busy: Duration,
}

/// Counts the calls to `inner` and times them. Clones share the counts.
#[derive(Clone, Debug)]
pub struct Metered {
    inner: Arc<dyn PersistenceAdapter>,
    reads: Arc<AtomicU64>,
    writes: Arc<AtomicU64>,
    busy_ns: Arc<AtomicU64>,
}

impl Metered {
    /// Meters `inner`.
    pub fn new(inner: Arc<dyn PersistenceAdapter>) -> Self {
        Self {
            inner,
            reads: Arc::default(),
            writes: Arc::default(),
            busy_ns: Arc::default(),
        }
    }

    /// The counts and time so far, and resets them.
    pub fn take(&self) -> Meter {
        Meter {
            reads: self.reads.swap(0, Ordering::SeqCst),
            writes: self.writes.swap(0, Ordering::SeqCst),
            busy: Duration::from_nanos(self.busy_ns.swap(0, Ordering::SeqCst)),
        }
    }

    fn timed(&self, started: Instant) {
        let ns = u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.busy_ns.fetch_add(ns, Ordering::SeqCst);
    }
}

#[async_trait]
impl PersistenceAdapter for Metered {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let t = Instant::now();
        let r = self.inner.get(key).await;
        self.timed(t);
        r
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let t = Instant::now();
        let r = self.inner.save_with(key, attributes, options).await;
        self.timed(t);
        r
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let t = Instant::now();
        let r = self.inner.delete(key).await;
        self.timed(t);
        r
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        self.writes.fetch_add(1, Ordering::SeqCst);
        let t = Instant::now();
        let r = self.inner.delete_if(key, expected).await;
        self.timed(t);
        r
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.inner.entries(options)
    }

    fn describe(&self) -> String {
        self.inner.describe()
    }
}
