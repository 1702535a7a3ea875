//! The adapter trait, versions, save modes and the read-modify-write helper.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

use crate::{Attributes, Error, RedactedKey, Result};

/// An opaque token naming one stored state of a key's attributes.
///
/// Each backend makes its own (a counter in memory, a number attribute in DynamoDB, the ETag in
/// S3). A skill only carries it from [`PersistenceAdapter::get`] to
/// [`SaveMode::IfVersion`]; comparing versions of different keys or backends means nothing.
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
}

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
    /// let s = Stored { attributes: Attributes::new(), version: Version::new("7") };
    /// assert_eq!(SaveMode::expecting(Some(&s.version)), SaveMode::IfVersion(Version::new("7")));
    /// ```
    pub fn expecting(version: Option<&Version>) -> Self {
        match version {
            Some(v) => SaveMode::IfVersion(v.clone()),
            None => SaveMode::CreateOnly,
        }
    }
}

/// Where a skill's persistent attributes live: DynamoDB, S3, memory, or your own.
///
/// Object safe: skills and the skill builder hold an `Arc<dyn PersistenceAdapter>`. Keys are plain
/// strings (see [`crate::KeyGenerator`] for how a request becomes a key), so tools and migrations
/// can use an adapter without an Alexa request. Every implementation must pass
/// [`crate::conformance`].
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
    /// Reads the attributes stored under `key`, with their version. An absent key is `Ok(None)`.
    async fn get(&self, key: &str) -> Result<Option<Stored>>;

    /// Stores `attributes` under `key` as `mode` allows, and returns the new version.
    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version>;

    /// Removes what is stored under `key`. Deleting an absent key is `Ok(())`.
    async fn delete(&self, key: &str) -> Result<()>;

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

#[async_trait]
impl<A: PersistenceAdapter + ?Sized> PersistenceAdapter for std::sync::Arc<A> {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        (**self).get(key).await
    }
    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        (**self).save(key, attributes, mode).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        (**self).delete(key).await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

#[async_trait]
impl<A: PersistenceAdapter + ?Sized> PersistenceAdapter for Box<A> {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        (**self).get(key).await
    }
    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        (**self).save(key, attributes, mode).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        (**self).delete(key).await
    }
    fn describe(&self) -> String {
        (**self).describe()
    }
}

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
