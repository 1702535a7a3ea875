//! [`CachingAdapter`]: the adapter in front of another.

use std::fmt;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use persistence_core::{
    Attributes, Entry, Expiry, ListOptions, Pages, PersistenceAdapter, Result, SaveMode,
    SaveOptions, Stored, Version, async_trait, is_expired,
};

use crate::CachingAdapterBuilder;
use crate::builder::{Limits, StoreTime};
use crate::forms::read_back_unchanged;
use crate::slots::{Slots, Ticket};

/// Any [`PersistenceAdapter`] with a bounded, time-limited cache in front: a key read (or
/// written) recently is answered from memory, without a round trip to the store.
///
/// - [`get`](PersistenceAdapter::get): a cached entry younger than the time to live answers at
///   once (an absent key too; attributes whose expiry passed read as absent, as from the store);
///   otherwise the store is read and its answer cached, `Ok(None)` included.
/// - [`save_with`](PersistenceAdapter::save_with) and [`save`](PersistenceAdapter::save) go to
///   the store with the caller's condition unchanged (the cache never decides one). On success
///   the cache holds what the store now holds, at the version it returned, as a read would
///   return it (or evicts the key when that is not certain, see the [crate documentation](crate));
///   on any error (conflict, outcome unknown, refused, backend) the key is evicted, so the next
///   read asks the store. A save with the caller's own write token
///   ([`SaveOptions::token`]) may be the retry of an earlier write, answered with that write's
///   version although others wrote since, so it evicts too.
/// - [`delete`](PersistenceAdapter::delete) and [`delete_if`](PersistenceAdapter::delete_if)
///   go to the store and evict the key, whatever the outcome.
/// - [`list_keys`](PersistenceAdapter::list_keys) and [`entries`](PersistenceAdapter::entries)
///   go to the store and leave the cache alone: a listing is a bulk scan (tools, migrations)
///   that would push the users being served out of a bounded cache, and its pages are read over
///   a long time, so they may be older than what a concurrent save cached.
///
/// Within one process, a read that began before a write or delete of the same key finished
/// never puts the older answer in the cache, and of two overlapping writes to one key neither
/// is cached (the key is evicted).
///
/// See the [crate documentation](crate) for what a read may miss of another instance's writes
/// and why no update is lost.
///
/// ```
/// use std::sync::Arc;
/// use persistence_cache::CachingAdapter;
/// use persistence_core::{PersistenceAdapter, PersistenceAdapterExt};
/// use persistence_memory::MemoryAdapter;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
/// let cached = Arc::new(CachingAdapter::new(MemoryAdapter::new()));
/// // What a skill holds: any adapter, cached or not.
/// let store: Arc<dyn PersistenceAdapter> = cached.clone();
/// for _ in 0..3 {
///     store.update("amzn1.ask.account.A", |a| {
///         let n = a.get("visits").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
///         a.insert("visits".into(), n.into());
///     }).await?;
/// }
/// assert_eq!(store.get("amzn1.ask.account.A").await?.unwrap().attributes["visits"], 3);
/// // One read of the store in all (the first); the other three were answered from the cache.
/// assert_eq!((cached.stats().misses, cached.stats().hits), (1, 3));
/// # Ok(()) }
/// ```
pub struct CachingAdapter<A> {
    inner: A,
    slots: Slots,
    limits: Limits,
    time: StoreTime,
}

/// What a [`CachingAdapter`] did so far: [`CachingAdapter::stats`].
///
/// ```
/// # use persistence_cache::CachingAdapter;
/// # use persistence_memory::MemoryAdapter;
/// # use persistence_core::PersistenceAdapter;
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
/// let cached = CachingAdapter::new(MemoryAdapter::new());
/// cached.get("amzn1.ask.account.A").await?; // from the store
/// cached.get("amzn1.ask.account.A").await?; // cached: absent
/// let stats = cached.stats();
/// assert_eq!((stats.hits, stats.misses, stats.entries), (1, 1, 1));
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Reads answered from the cache.
    pub hits: u64,
    /// Reads that went to the store.
    pub misses: u64,
    /// Keys cached now (absent ones included).
    pub entries: u64,
    /// Their estimated size in bytes when bytes are bounded
    /// ([`CachingAdapterBuilder::max_bytes`]), else the number of entries.
    pub weighted_size: u64,
}

impl<A: PersistenceAdapter> CachingAdapter<A> {
    /// `inner` behind a cache with the default bounds: [`DEFAULT_MAX_ENTRIES`](crate::DEFAULT_MAX_ENTRIES)
    /// entries, [`DEFAULT_MAX_BYTES`](crate::DEFAULT_MAX_BYTES) bytes, each trusted for
    /// [`DEFAULT_TIME_TO_LIVE`](crate::DEFAULT_TIME_TO_LIVE); the store on the system clock with
    /// no default expiry.
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::new(MemoryAdapter::new());
    /// # let _ = cached;
    /// ```
    pub fn new(inner: A) -> Self {
        Self::builder(inner).build()
    }

    /// Settings for a cache in front of `inner`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::builder(MemoryAdapter::new())
    ///     .time_to_live(Duration::from_secs(10))
    ///     .build();
    /// # let _ = cached;
    /// ```
    pub fn builder(inner: A) -> CachingAdapterBuilder<A> {
        CachingAdapterBuilder::new(inner)
    }

    pub(crate) fn from_parts(inner: A, limits: Limits, time: StoreTime) -> Self {
        Self {
            inner,
            slots: Slots::new(&limits),
            limits,
            time,
        }
    }

    /// The adapter behind the cache (reading through it bypasses the cache).
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let store = MemoryAdapter::new();
    /// let cached = CachingAdapter::new(store.clone());
    /// assert_eq!(cached.inner().len(), store.len());
    /// ```
    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// Forgets what is cached for `key`: its next read asks the store (e.g. when the program
    /// learns that another instance changed it).
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// # use persistence_core::PersistenceAdapter;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
    /// let cached = CachingAdapter::new(MemoryAdapter::new());
    /// cached.get("amzn1.ask.account.A").await?;
    /// cached.invalidate("amzn1.ask.account.A");
    /// cached.get("amzn1.ask.account.A").await?;
    /// assert_eq!(cached.stats().misses, 2);
    /// # Ok(()) }
    /// ```
    pub fn invalidate(&self, key: &str) {
        self.slots.evict(key);
    }

    /// Forgets everything cached.
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// # use persistence_core::PersistenceAdapter;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
    /// let cached = CachingAdapter::new(MemoryAdapter::new());
    /// cached.get("amzn1.ask.account.A").await?;
    /// cached.invalidate_all();
    /// assert_eq!(cached.stats().entries, 0);
    /// # Ok(()) }
    /// ```
    pub fn invalidate_all(&self) {
        self.slots.evict_all();
    }

    /// Hits, misses and what is cached now (after moka applied its pending evictions, so the
    /// counts respect the bounds).
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::new(MemoryAdapter::new());
    /// assert_eq!(cached.stats().hits, 0);
    /// ```
    pub fn stats(&self) -> CacheStats {
        let (entries, weighted_size) = self.slots.size();
        CacheStats {
            hits: self.slots.counters.hits.load(Ordering::Relaxed),
            misses: self.slots.counters.misses.load(Ordering::Relaxed),
            entries,
            weighted_size,
        }
    }

    /// What the store holds after a save of `attributes` that returned `version`, exactly as
    /// the inner adapter's next read would give it: the attributes it wrote (their exact forms,
    /// [`Attributes::to_exact`]) read back, stamped with the new version, with the expiry the
    /// store gave them. `None` when that cannot be known for sure: the save's time crossed a
    /// second (the store's rounding of the expiry may differ), or the forms written are ones
    /// some backends store differently (sets, binary, numbers not spelled as JSON spells them).
    fn written_copy(
        &self,
        attributes: &Attributes,
        version: &Version,
        expiry: &Expiry,
        started: SystemTime,
    ) -> Option<Stored> {
        let default = self.time.default_expiry;
        let expires_at = expiry.resolve(default, started);
        if expiry.resolve(default, self.time.clock.now()) != expires_at {
            return None;
        }
        let written = attributes.to_exact();
        if !read_back_unchanged(&written) {
            return None;
        }
        let read_back = Attributes::from_exact(written).ok()?;
        Some(Stored::new(read_back, version.clone()).expiring(expires_at))
    }

    fn after_save(
        &self,
        key: &str,
        ticket: Ticket,
        attributes: &Attributes,
        options: &SaveOptions,
        started: SystemTime,
        result: &Result<Version>,
    ) {
        let copy = match result {
            Ok(version) if options.token.is_none() => {
                self.written_copy(attributes, version, &options.expiry, started)
            }
            _ => None,
        };
        self.slots.written(key, ticket, copy);
    }
}

impl<A: fmt::Debug> fmt::Debug for CachingAdapter<A> {
    /// The inner adapter and the settings; never what is cached (keys are user IDs).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingAdapter")
            .field("inner", &self.inner)
            .field("limits", &self.limits)
            .field("time", &self.time)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<A: PersistenceAdapter> PersistenceAdapter for CachingAdapter<A> {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        if let Some(slot) = self.slots.lookup(key) {
            self.slots.counters.hits.fetch_add(1, Ordering::Relaxed);
            let now = self.time.clock.now();
            return Ok(slot
                .stored
                .as_ref()
                .filter(|s| !is_expired(s.expires_at, now))
                .cloned());
        }
        self.slots.counters.misses.fetch_add(1, Ordering::Relaxed);
        let ticket = self.slots.ticket(key);
        let got = self.inner.get(key).await;
        if let Ok(stored) = &got {
            self.slots.fill(key, ticket, stored.clone());
        }
        got
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let ticket = self.slots.ticket(key);
        let started = self.time.clock.now();
        let result = self.inner.save_with(key, attributes, options).await;
        self.after_save(key, ticket, attributes, options, started, &result);
        result
    }

    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        // The inner adapter's own `save`, should it have one.
        let ticket = self.slots.ticket(key);
        let started = self.time.clock.now();
        let options = SaveOptions::new(mode.clone());
        let result = self.inner.save(key, attributes, mode).await;
        self.after_save(key, ticket, attributes, &options, started, &result);
        result
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let result = self.inner.delete(key).await;
        self.slots.evict(key);
        result
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        let result = self.inner.delete_if(key, expected).await;
        self.slots.evict(key);
        result
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.inner.list_keys(options)
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.inner.entries(options)
    }

    fn describe(&self) -> String {
        format!("{} (cached)", self.inner.describe())
    }
}
