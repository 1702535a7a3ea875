//! Settings and their defaults.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use persistence_core::{Clock, PersistenceAdapter, SystemClock};

use crate::CachingAdapter;

/// Entries kept by default: [`CachingAdapterBuilder::max_entries`].
pub const DEFAULT_MAX_ENTRIES: u64 = 10_000;

/// How long an entry is trusted by default: [`CachingAdapterBuilder::time_to_live`]. A minute
/// covers the turns of one Alexa session and a user's quick return, and bounds what a read may
/// miss of another instance's change to a minute.
pub const DEFAULT_TIME_TO_LIVE: Duration = Duration::from_secs(60);

/// The bytes entries may hold in all by default: [`CachingAdapterBuilder::max_bytes`]. 32 MiB
/// fits in the smallest Lambda (128 MB) next to the skill, even when entries are large
/// (DynamoDB items reach 400 KB).
pub const DEFAULT_MAX_BYTES: u64 = 32 * 1024 * 1024;

/// The longest time to live; longer ones are cut to this (ten years).
pub const MAX_TIME_TO_LIVE: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The bounds of the cache.
#[derive(Clone, Debug)]
pub(crate) struct Limits {
    pub(crate) max_entries: u64,
    pub(crate) max_bytes: Option<u64>,
    pub(crate) time_to_live: Duration,
}

/// What the cache must know of the store to build the copy of a save exactly as a read would
/// return it.
#[derive(Clone)]
pub(crate) struct StoreTime {
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) default_expiry: Option<Duration>,
}

impl fmt::Debug for StoreTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreTime")
            .field("default_expiry", &self.default_expiry)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`CachingAdapter`]: start with [`CachingAdapter::builder`].
///
/// ```
/// use std::time::Duration;
/// use persistence_cache::CachingAdapter;
/// use persistence_memory::MemoryAdapter;
///
/// let cached = CachingAdapter::builder(MemoryAdapter::new())
///     .max_entries(1_000)
///     .max_bytes(Some(8 * 1024 * 1024))
///     .time_to_live(Duration::from_secs(30))
///     .build();
/// # let _ = cached;
/// ```
pub struct CachingAdapterBuilder<A> {
    inner: A,
    limits: Limits,
    time: StoreTime,
}

impl<A: fmt::Debug> fmt::Debug for CachingAdapterBuilder<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingAdapterBuilder")
            .field("inner", &self.inner)
            .field("limits", &self.limits)
            .field("time", &self.time)
            .finish()
    }
}

impl<A: PersistenceAdapter> CachingAdapterBuilder<A> {
    pub(crate) fn new(inner: A) -> Self {
        Self {
            inner,
            limits: Limits {
                max_entries: DEFAULT_MAX_ENTRIES,
                max_bytes: Some(DEFAULT_MAX_BYTES),
                time_to_live: DEFAULT_TIME_TO_LIVE,
            },
            time: StoreTime {
                clock: Arc::new(SystemClock),
                default_expiry: None,
            },
        }
    }

    /// Keep at most `n` keys (default [`DEFAULT_MAX_ENTRIES`]); the least useful go first
    /// (moka's TinyLFU policy). Absent keys count too. `0` caches nothing.
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::builder(MemoryAdapter::new()).max_entries(500).build();
    /// # let _ = cached;
    /// ```
    #[must_use]
    pub fn max_entries(mut self, n: u64) -> Self {
        self.limits.max_entries = n;
        self
    }

    /// Keep at most about this many bytes in all (default `Some(`[`DEFAULT_MAX_BYTES`]`)`), as
    /// estimated from each entry's key and attributes (their JSON size, counted twice for the
    /// exact stored forms kept with them); `None` bounds the number of entries only. An entry
    /// larger than the whole bound is not kept.
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::builder(MemoryAdapter::new()).max_bytes(Some(4 << 20)).build();
    /// # let _ = cached;
    /// ```
    #[must_use]
    pub fn max_bytes(mut self, bytes: Option<u64>) -> Self {
        self.limits.max_bytes = bytes;
        self
    }

    /// Trust an entry for this long after it was cached (default [`DEFAULT_TIME_TO_LIVE`]; at
    /// most [`MAX_TIME_TO_LIVE`]): the longest a read may miss another instance's change.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::builder(MemoryAdapter::new())
    ///     .time_to_live(Duration::from_secs(5))
    ///     .build();
    /// # let _ = cached;
    /// ```
    #[must_use]
    pub fn time_to_live(mut self, ttl: Duration) -> Self {
        self.limits.time_to_live = ttl.min(MAX_TIME_TO_LIVE);
        self
    }

    /// The default expiry the inner adapter was built with (default `None`, as adapters are
    /// unless configured): the cached copy of a save that leaves the expiry to the adapter
    /// ([`Expiry::Default`](persistence_core::Expiry::Default)) gets the expiry the store gave
    /// it. Set it whenever the inner adapter has one, or such copies read back with no expiry
    /// until they leave the cache.
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let month = Duration::from_secs(30 * 86_400);
    /// let cached = CachingAdapter::builder(MemoryAdapter::new().with_default_expiry(month))
    ///     .store_default_expiry(Some(month))
    ///     .build();
    /// # let _ = cached;
    /// ```
    #[must_use]
    pub fn store_default_expiry(mut self, default: Option<Duration>) -> Self {
        self.time.default_expiry = default;
        self
    }

    /// The clock the inner adapter reads the time from (default the system clock): the cache
    /// uses it to tell when cached attributes expire and to stamp the expiry of a save's copy.
    /// Give it the same [`ManualClock`](persistence_core::ManualClock) in tests of expiry.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let clock = persistence_core::ManualClock::new();
    /// let cached = CachingAdapter::builder(MemoryAdapter::new().with_clock(Arc::new(clock.clone())))
    ///     .clock(Arc::new(clock))
    ///     .build();
    /// # let _ = cached;
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.time.clock = clock;
        self
    }

    /// The caching adapter.
    ///
    /// ```
    /// # use persistence_cache::CachingAdapter;
    /// # use persistence_memory::MemoryAdapter;
    /// let cached = CachingAdapter::builder(MemoryAdapter::new()).build();
    /// # let _ = cached;
    /// ```
    pub fn build(self) -> CachingAdapter<A> {
        CachingAdapter::from_parts(self.inner, self.limits, self.time)
    }
}
