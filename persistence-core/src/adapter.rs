//! The adapter trait, versions, save modes and the read-modify-write helper.

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;

use crate::clock::{epoch_seconds, from_epoch_seconds};
use crate::{Attributes, Error, RedactedKey, Result};

/// An opaque token naming one stored state of a key's attributes.
///
/// Each backend makes its own (a store-wide counter in memory, a [`unique_token`](crate::unique_token)
/// written with the item in DynamoDB, the ETag of a body that carries such a token in S3). A
/// version names exactly one write: it never repeats, not even when a key is deleted and
/// written again with the same content, so a save conditional on it cannot succeed over
/// anything but the state that was read. A skill only carries it from
/// [`PersistenceAdapter::get`] to [`SaveMode::IfVersion`]; comparing versions of different keys
/// or backends means nothing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Version(String);

impl Version {
    /// Wraps a backend's version token. Backends call this; skills rarely need to.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The backend's token.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Version({})", self.0)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What [`PersistenceAdapter::get`] returns for a key that exists.
#[derive(Clone, Debug, PartialEq)]
pub struct Stored {
    /// The attributes as stored.
    pub attributes: Attributes,
    /// The version they were read at: pass it to [`SaveMode::IfVersion`] to save only if nobody
    /// changed them since.
    pub version: Version,
    /// When they expire (whole seconds), if an expiry was set with the last save.
    pub expires_at: Option<SystemTime>,
}

impl Stored {
    /// Attributes at a version, without expiry. The attributes remember the version they were
    /// read at ([`Attributes::read_at`]).
    pub fn new(mut attributes: Attributes, version: Version) -> Self {
        attributes.stamp(&version);
        Self {
            attributes,
            version,
            expires_at: None,
        }
    }

    /// The same, expiring at `expires_at`.
    #[must_use]
    pub fn expiring(mut self, expires_at: Option<SystemTime>) -> Self {
        self.expires_at = expires_at;
        self
    }
}

/// When saved attributes expire: how a save overrides the adapter's default.
///
/// Expired attributes read as absent ([`PersistenceAdapter::get`] gives `Ok(None)`), are left
/// out of listings, and a save over them behaves as over an absent key (a
/// [`SaveMode::CreateOnly`] save succeeds). Backends keep the time in whole seconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Expiry {
    /// The adapter's default (none unless the adapter was configured with one).
    #[default]
    Default,
    /// Never: keep the attributes until deleted, whatever the adapter's default.
    Never,
    /// This long after the save.
    After(Duration),
    /// At this time.
    At(SystemTime),
}

impl Expiry {
    /// The expiry time this setting gives a save made at `now`, when the adapter's default is
    /// `default`: whole seconds, rounded up.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// use persistence_core::Expiry;
    /// let now = UNIX_EPOCH + Duration::from_millis(1_000_500);
    /// let day = Some(Duration::from_secs(86_400));
    /// assert_eq!(Expiry::Default.resolve(day, now), Some(UNIX_EPOCH + Duration::from_secs(1_000 + 86_400 + 1)));
    /// assert_eq!(Expiry::Never.resolve(day, now), None);
    /// assert_eq!(Expiry::Default.resolve(None, now), None);
    /// ```
    pub fn resolve(&self, default: Option<Duration>, now: SystemTime) -> Option<SystemTime> {
        let after = |d: Duration| {
            let t = now.checked_add(d).unwrap_or(now);
            let secs = epoch_seconds(t);
            let whole = from_epoch_seconds(secs);
            from_epoch_seconds(if whole < t { secs + 1 } else { secs })
        };
        match self {
            Expiry::Default => default.map(after),
            Expiry::Never => None,
            Expiry::After(d) => Some(after(*d)),
            Expiry::At(t) => Some(from_epoch_seconds(epoch_seconds(*t))),
        }
    }
}

/// True when attributes expiring at `expires_at` have expired at `now` (at or after the second
/// they expire).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let at = Some(UNIX_EPOCH + Duration::from_secs(100));
/// assert!(!persistence_core::is_expired(at, UNIX_EPOCH + Duration::from_millis(99_999)));
/// assert!(persistence_core::is_expired(at, UNIX_EPOCH + Duration::from_secs(100)));
/// assert!(!persistence_core::is_expired(None, UNIX_EPOCH + Duration::from_secs(100)));
/// ```
pub fn is_expired(expires_at: Option<SystemTime>, now: SystemTime) -> bool {
    expires_at.is_some_and(|at| epoch_seconds(now) >= epoch_seconds(at))
}

/// How a save is made: the condition ([`SaveMode`]), the expiry, and an optional write token.
///
/// ```
/// use std::time::Duration;
/// use persistence_core::{Expiry, SaveMode, SaveOptions, unique_token};
/// let opts = SaveOptions::new(SaveMode::CreateOnly)
///     .expiry(Expiry::After(Duration::from_secs(30 * 86_400)))
///     .token(unique_token());
/// assert_eq!(opts.mode, SaveMode::CreateOnly);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SaveOptions {
    /// What must be stored for the save to go ahead.
    pub mode: SaveMode,
    /// When the saved attributes expire.
    pub expiry: Expiry,
    /// The token this write carries ([`unique_token`](crate::unique_token) shape; anything
    /// else is refused with [`Error::InvalidVersion`] by every backend); `None` lets the adapter
    /// make one. Saving again with the same token and mode after the first save committed (its
    /// answer lost) is recognised as the same write: it returns the version that write made
    /// instead of [`Error::Conflict`], and writes nothing, even when other writers saved on top
    /// of it since (up to [`RECENT_TOKENS`](crate::RECENT_TOKENS) writes in all). A token must
    /// never be used for two different writes.
    ///
    /// The record of recent tokens lives with the stored item, so a delete of the key removes
    /// it: a resend after the write was deleted is judged as a new write (a create-only resend
    /// writes again and undoes that delete; an `IfVersion` resend is a `Conflict` for a write
    /// that did land). Resend only while the key cannot have been deleted meanwhile, or treat a
    /// resend's answer as unknown. The adapters' own retries never resend a create-only or blind
    /// write after a lost answer for this reason.
    pub token: Option<String>,
}

impl SaveOptions {
    /// Options with this mode, the adapter's default expiry, and a fresh token.
    pub fn new(mode: SaveMode) -> Self {
        Self {
            mode,
            expiry: Expiry::Default,
            token: None,
        }
    }

    /// With this expiry.
    #[must_use]
    pub fn expiry(mut self, expiry: Expiry) -> Self {
        self.expiry = expiry;
        self
    }

    /// With this write token (see [`SaveOptions::token`]).
    #[must_use]
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }
}

impl From<SaveMode> for SaveOptions {
    fn from(mode: SaveMode) -> Self {
        Self::new(mode)
    }
}

/// What to list: keys under a prefix, expired ones or not, page size.
///
/// ```
/// use persistence_core::ListOptions;
/// let all = ListOptions::default();
/// let some = ListOptions::default().prefix("amzn1.ask.account.").page_size(100);
/// assert_eq!(some.prefix.as_deref(), Some("amzn1.ask.account."));
/// # let _ = all;
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListOptions {
    /// Only keys starting with this (byte for byte).
    pub prefix: Option<String>,
    /// Also list keys whose attributes expired but are still stored (for purging them).
    /// Listing keys only ([`PersistenceAdapter::list_keys`]) may include them anyway where the
    /// backend cannot tell without reading each (S3); [`PersistenceAdapter::entries`] honours it.
    pub include_expired: bool,
    /// A hint for how many keys a page holds (backends may give fewer or cap it).
    pub page_size: Option<usize>,
}

impl ListOptions {
    /// Only keys starting with `prefix`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Also expired entries.
    #[must_use]
    pub fn include_expired(mut self, on: bool) -> Self {
        self.include_expired = on;
        self
    }

    /// Pages of about `n` keys.
    #[must_use]
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// True when `key` is selected by the prefix.
    pub fn matches(&self, key: &str) -> bool {
        self.prefix.as_deref().is_none_or(|p| key.starts_with(p))
    }
}

/// One key with what is stored under it, as [`PersistenceAdapter::entries`] lists them.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The storage key.
    pub key: String,
    /// Its attributes, version and expiry.
    pub stored: Stored,
}

/// A stream of pages: what listing returns. Each item is one page, or the error that ended
/// the listing.
pub type Pages<'a, T> = BoxStream<'a, Result<Vec<T>>>;

/// How [`PersistenceAdapter::save`] treats what is already stored (like `object_store`'s
/// `PutMode`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum SaveMode {
    /// Write whatever is there (what the official ASK SDKs always do).
    #[default]
    Overwrite,
    /// Write only if nothing is stored under the key; otherwise [`Error::Conflict`].
    CreateOnly,
    /// Write only if the stored version is still this one; otherwise [`Error::Conflict`]
    /// (also when the key has been deleted meanwhile).
    IfVersion(Version),
}

impl SaveMode {
    /// `IfVersion` for a value read with [`PersistenceAdapter::get`], `CreateOnly` when the read
    /// found nothing: the mode that saves only if nobody wrote in between.
    ///
    /// ```
    /// # use persistence_core::{SaveMode, Stored, Version, Attributes};
    /// assert_eq!(SaveMode::expecting(None), SaveMode::CreateOnly);
    /// let s = Stored::new(Attributes::new(), Version::new("7"));
    /// assert_eq!(SaveMode::expecting(Some(&s.version)), SaveMode::IfVersion(Version::new("7")));
    /// ```
    pub fn expecting(version: Option<&Version>) -> Self {
        match version {
            Some(v) => SaveMode::IfVersion(v.clone()),
            None => SaveMode::CreateOnly,
        }
    }
}

/// Where per-key attributes live: DynamoDB, S3, SQLite, files, memory, or your own.
///
/// Object safe: programs hold an `Arc<dyn PersistenceAdapter>`. Keys are plain strings (a skill
/// builder makes them from requests), so tools and migrations use an adapter as it is. Every
/// implementation must pass [`crate::conformance`].
///
/// ```
/// use std::sync::Arc;
/// use persistence_core::{Attributes, PersistenceAdapter, PersistenceAdapterExt, SaveMode};
///
/// async fn remember_visit(store: Arc<dyn PersistenceAdapter>, user: &str) -> persistence_core::Result<u64> {
///     // Read-modify-write that retries on conflicting writers (another device, another Lambda).
///     let visits = store
///         .update(user, |attrs: &mut Attributes| {
///             let n = attrs.get_as::<u64>("visits").ok().flatten().unwrap_or(0) + 1;
///             attrs.insert("visits".into(), n.into());
///             n
///         })
///         .await?;
///     Ok(visits)
/// }
///
/// async fn show(store: &dyn PersistenceAdapter) -> persistence_core::Result<()> {
///     let mut attrs = Attributes::new();
///     attrs.set("drink", "latte")?;
///     let v1 = store.save("user-1", &attrs, SaveMode::CreateOnly).await?;
///     let got = store.get("user-1").await?.expect("just saved");
///     assert_eq!(got.attributes, attrs);
///     assert_eq!(got.version, v1);
///     store.delete("user-1").await?;
///     assert!(store.get("user-1").await?.is_none());
///     Ok(())
/// }
/// # fn main() {} // run against real adapters in their own crates' docs and tests
/// ```
#[async_trait]
pub trait PersistenceAdapter: Send + Sync + fmt::Debug {
    /// Reads the attributes stored under `key`, with their version. An absent (or expired) key
    /// is `Ok(None)`.
    async fn get(&self, key: &str) -> Result<Option<Stored>>;

    /// Stores `attributes` under `key` as `options` allow, and returns the new version.
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version>;

    /// Stores `attributes` under `key` as `mode` allows, with the adapter's default expiry, and
    /// returns the new version.
    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        self.save_with(key, attributes, &SaveOptions::new(mode))
            .await
    }

    /// Removes what is stored under `key`. Deleting an absent key is `Ok(())`.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Removes what is stored under `key` only if it is still at `expected`: otherwise
    /// [`Error::Conflict`] and nothing is removed. A key already gone is `Ok(())`.
    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()>;

    /// Every stored key `options` select, page by page, each once, in no particular order.
    /// Expired keys are left out where the backend can tell without reading each one. A stored
    /// name that is no key is an `Err` item of its own ([`Error::InvalidKey`]) and the listing
    /// goes on; any other error ends it (see [`crate::listing`]).
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String>;

    /// Every stored entry `options` select, with its attributes, page by page, each once.
    /// Expired entries are left out unless `options.include_expired`. An entry that cannot be
    /// read is an `Err` item of its own and the listing goes on (see [`crate::listing`]).
    ///
    /// The default reads each key [`list_keys`](PersistenceAdapter::list_keys) gives with
    /// [`get`](PersistenceAdapter::get), eight at a time (so it never includes expired entries);
    /// backends that can read entries in bulk override it.
    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        let pages = self.list_keys(options).then(move |page| async move {
            let keys = match page {
                Ok(keys) => keys,
                Err(e) => return vec![Err(e)],
            };
            let reads = futures::stream::iter(keys)
                .map(|key| async move {
                    match self.get(&key).await {
                        Ok(got) => Ok(got.map(|stored| Entry { key, stored })),
                        Err(e) => Err(e),
                    }
                })
                .buffered(8)
                .collect::<Vec<_>>()
                .await;
            crate::listing::page_items(reads.into_iter().filter_map(Result::transpose))
        });
        crate::listing::until_fatal(pages.flat_map(futures::stream::iter))
    }

    /// A short description of where data goes (`DynamoDB table 'x'`), for logs and errors.
    fn describe(&self) -> String;
}

/// How [`PersistenceAdapterExt::update_with`] retries when another writer wins.
///
/// Waits between attempts grow exponentially from `base_delay` up to `max_delay`, each one picked
/// at random below its ceiling ("full jitter"), so that writers that collided spread out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included. At least 1.
    pub max_attempts: u32,
    /// Ceiling of the first wait.
    pub base_delay: Duration,
    /// Ceiling no wait exceeds.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    /// 25 attempts, waits from up to 2 ms growing to at most 100 ms: well inside Alexa's
    /// 8-second answer budget even when every attempt conflicts.
    fn default() -> Self {
        Self {
            max_attempts: 25,
            base_delay: Duration::from_millis(2),
            max_delay: Duration::from_millis(100),
        }
    }
}

impl RetryPolicy {
    fn delay_before(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(20);
        let ceiling = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let nanos = u64::try_from(ceiling.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(fastrand::u64(0..=nanos))
    }
}

/// What [`PersistenceAdapterExt::update_with`] did.
#[derive(Clone, Debug, PartialEq)]
pub struct UpdateOutcome<T> {
    /// What the closure returned on the attempt that was saved.
    pub value: T,
    /// The version written.
    pub version: Version,
    /// Attempts made; `attempts - 1` conflicts were seen.
    pub attempts: u32,
}

/// Helpers on every adapter, trait objects included.
#[async_trait]
pub trait PersistenceAdapterExt: PersistenceAdapter {
    /// Read-modify-write of `key` that loses no concurrent update: reads the attributes (empty
    /// if absent), applies `change`, saves only if nobody wrote meanwhile, and on a conflict
    /// starts over with fresh data, up to [`RetryPolicy::default`]'s attempts. Returns what
    /// `change` returned on the attempt that was saved.
    ///
    /// `change` may run more than once, so it should only compute from the attributes it is
    /// given.
    async fn update<F, T>(&self, key: &str, change: F) -> Result<T>
    where
        F: FnMut(&mut Attributes) -> T + Send,
        T: Send,
    {
        Ok(self
            .update_with(key, &RetryPolicy::default(), change)
            .await?
            .value)
    }

    /// [`update`](PersistenceAdapterExt::update) with a chosen retry policy, telling how many
    /// attempts it took.
    ///
    /// ```
    /// # use persistence_core::{PersistenceAdapter, PersistenceAdapterExt, RetryPolicy};
    /// async fn bump(store: &dyn PersistenceAdapter) -> persistence_core::Result<u32> {
    ///     let policy = RetryPolicy { max_attempts: 5, ..RetryPolicy::default() };
    ///     let out = store.update_with("counter", &policy, |a| {
    ///         let n = a.get("n").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
    ///         a.insert("n".into(), n.into());
    ///     }).await?;
    ///     Ok(out.attempts)
    /// }
    /// # fn main() {}
    /// ```
    async fn update_with<F, T>(
        &self,
        key: &str,
        policy: &RetryPolicy,
        mut change: F,
    ) -> Result<UpdateOutcome<T>>
    where
        F: FnMut(&mut Attributes) -> T + Send,
        T: Send,
    {
        let max = policy.max_attempts.max(1);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (mut attrs, mode) = match self.get(key).await? {
                Some(stored) => (stored.attributes, SaveMode::IfVersion(stored.version)),
                None => (Attributes::new(), SaveMode::CreateOnly),
            };
            let value = change(&mut attrs);
            match self.save(key, &attrs, mode).await {
                Ok(version) => {
                    return Ok(UpdateOutcome {
                        value,
                        version,
                        attempts: attempt,
                    });
                }
                Err(e) if e.is_conflict() && attempt < max => {
                    tracing::debug!(
                        key = %RedactedKey::new(key),
                        attempt,
                        "update conflicted; retrying with fresh data"
                    );
                    tokio::time::sleep(policy.delay_before(attempt)).await;
                }
                Err(e) if e.is_conflict() => {
                    return Err(Error::Conflict {
                        operation: "update",
                        resource: self.describe(),
                        key: RedactedKey::new(key),
                        reason: format!("still conflicting after {attempt} attempts ({e})"),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }
}

impl<A: PersistenceAdapter + ?Sized> PersistenceAdapterExt for A {}

/// Implements [`PersistenceAdapter`] for a smart pointer by forwarding every method (the
/// provided ones too, so an adapter's own `save` and `entries` are kept).
macro_rules! forward_adapter {
    ($($pointer:ident)::+) => {
        #[async_trait]
        impl<A: PersistenceAdapter + ?Sized> PersistenceAdapter for $($pointer)::+<A> {
            async fn get(&self, key: &str) -> Result<Option<Stored>> {
                (**self).get(key).await
            }
            async fn save_with(
                &self,
                key: &str,
                attributes: &Attributes,
                options: &SaveOptions,
            ) -> Result<Version> {
                (**self).save_with(key, attributes, options).await
            }
            async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
                (**self).save(key, attributes, mode).await
            }
            async fn delete(&self, key: &str) -> Result<()> {
                (**self).delete(key).await
            }
            async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
                (**self).delete_if(key, expected).await
            }
            fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
                (**self).list_keys(options)
            }
            fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
                (**self).entries(options)
            }
            fn describe(&self) -> String {
                (**self).describe()
            }
        }
    };
}

forward_adapter!(std::sync::Arc);
forward_adapter!(Box);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_their_ceiling() {
        let p = RetryPolicy::default();
        for attempt in 1..40 {
            let d = p.delay_before(attempt);
            assert!(d <= p.max_delay, "attempt {attempt}: {d:?}");
        }
        assert!(p.delay_before(1) <= Duration::from_millis(2));
    }
}
