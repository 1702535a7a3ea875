//! In-process persistent attributes for Alexa skills: for unit tests, local runs and demos.
//!
//! [`MemoryAdapter`] behaves like the cloud backends (same versions semantics, same errors, same
//! key rules; it passes the same conformance suite) but keeps everything in a map shared by its
//! clones. Tests can seed it and look inside.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_core::{Attributes, PersistenceAdapter, PersistenceAdapterExt, SaveMode};
//! use persistence_memory::MemoryAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
//! let store = MemoryAdapter::new();
//! let skill_side: Arc<dyn PersistenceAdapter> = Arc::new(store.clone());
//!
//! skill_side.update("amzn1.ask.account.A", |a| { a.insert("visits".into(), 1.into()); }).await?;
//!
//! // The test side sees what the skill stored.
//! assert_eq!(store.attributes("amzn1.ask.account.A").unwrap()["visits"], 1);
//! # Ok(()) }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use persistence_core::exact::ExactMap;
use persistence_core::limits::{MAX_JSON_DEPTH, check_depth};
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, MAX_KEY_BYTES, Pages, PersistenceAdapter,
    RedactedKey, Result, SaveMode, SaveOptions, Stored, SystemClock, Version, async_trait,
    is_expired, remember_token, validate_key, write_token,
};

/// What is stored under one key.
#[derive(Clone, Debug)]
struct Item {
    /// The attributes exactly as saved (what a JSON backend would hold).
    exact: Arc<ExactMap>,
    version: u64,
    /// The tokens of the latest writes and the versions they made, oldest first (to recognise a
    /// retried save even after later writes).
    recent: Vec<(String, u64)>,
    expires_at: Option<SystemTime>,
}

impl Item {
    fn attributes(&self) -> Attributes {
        // What the store holds was made from attributes, so it always has a JSON view.
        Attributes::from_exact((*self.exact).clone()).unwrap_or_default()
    }

    fn stored(&self) -> Stored {
        Stored::new(self.attributes(), Version::new(self.version.to_string()))
            .expiring(self.expires_at)
    }

    /// The version the write with `token` made, if it is one of the latest.
    fn made_by(&self, token: &str) -> Option<u64> {
        self.recent
            .iter()
            .find(|(t, _)| t == token)
            .map(|(_, v)| *v)
    }
}

#[derive(Debug, Default)]
struct Shared {
    map: Mutex<HashMap<String, Item>>,
    /// One counter for the whole store, so that a key deleted and written again never gets back
    /// a version a stale reader might still hold.
    next_version: AtomicU64,
}

/// Persistent attributes in a map in this process. Cheap to clone: clones share the data.
#[derive(Clone, Debug)]
pub struct MemoryAdapter {
    shared: Arc<Shared>,
    max_key_bytes: usize,
    max_item_bytes: Option<usize>,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
}

impl Default for MemoryAdapter {
    fn default() -> Self {
        Self::new()
    }
}

const RESOURCE: &str = "memory store";

impl MemoryAdapter {
    /// An empty store that accepts keys up to [`MAX_KEY_BYTES`] and attributes of any size,
    /// with no default expiry, on the system clock.
    pub fn new() -> Self {
        Self {
            shared: Arc::default(),
            max_key_bytes: MAX_KEY_BYTES,
            max_item_bytes: None,
            clock: Arc::new(SystemClock),
            default_expiry: None,
        }
    }

    /// Accept keys of at most `bytes` bytes (to mimic a backend with a lower limit).
    ///
    /// ```
    /// # use persistence_memory::MemoryAdapter;
    /// let s3_like = MemoryAdapter::new().with_max_key_bytes(1024);
    /// ```
    pub fn with_max_key_bytes(mut self, bytes: usize) -> Self {
        self.max_key_bytes = bytes;
        self
    }

    /// Refuse attributes whose compact JSON is over `bytes` bytes with [`Error::TooLarge`] (to
    /// test how a skill handles the cloud backends' size limits).
    ///
    /// ```
    /// # use persistence_memory::MemoryAdapter;
    /// let dynamo_like = MemoryAdapter::new().with_max_item_bytes(400 * 1024);
    /// ```
    pub fn with_max_item_bytes(mut self, bytes: usize) -> Self {
        self.max_item_bytes = Some(bytes);
        self
    }

    /// Keep each key's attributes for `ttl` after its last save, unless a save says otherwise
    /// ([`persistence_core::Expiry`]).
    ///
    /// ```
    /// # use std::time::Duration;
    /// # use persistence_memory::MemoryAdapter;
    /// let store = MemoryAdapter::new().with_default_expiry(Duration::from_secs(30 * 86_400));
    /// ```
    pub fn with_default_expiry(mut self, ttl: Duration) -> Self {
        self.default_expiry = Some(ttl);
        self
    }

    /// Read the time from `clock` (a [`persistence_core::ManualClock`] in tests of expiry).
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use persistence_memory::MemoryAdapter;
    /// let clock = persistence_core::ManualClock::new();
    /// let store = MemoryAdapter::new().with_clock(Arc::new(clock.clone()));
    /// ```
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Item>> {
        // A panic in another thread while holding the lock cannot leave a half-written entry
        // (entries are replaced whole), so a poisoned lock is safe to use.
        self.shared
            .map
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new_version(&self) -> u64 {
        self.shared.next_version.fetch_add(1, Ordering::Relaxed) + 1
    }

    fn live<'m>(&self, item: Option<&'m Item>) -> Option<&'m Item> {
        let now = self.clock.now();
        item.filter(|i| !is_expired(i.expires_at, now))
    }

    /// The attributes stored under `key`, if any and not expired (for tests).
    pub fn attributes(&self, key: &str) -> Option<Attributes> {
        self.live(self.lock().get(key)).map(Item::attributes)
    }

    /// Stores `attributes` under `key` unconditionally, without expiry, bypassing key
    /// validation: seeds test data. Returns the new version.
    ///
    /// ```
    /// # use persistence_memory::MemoryAdapter;
    /// # use persistence_core::Attributes;
    /// let store = MemoryAdapter::new();
    /// let mut usual = Attributes::new();
    /// usual.set("drink", "tea").unwrap();
    /// store.seed("amzn1.ask.account.RETURNING", usual);
    /// assert_eq!(store.len(), 1);
    /// ```
    pub fn seed(&self, key: impl Into<String>, attributes: Attributes) -> Version {
        let v = self.new_version();
        self.lock().insert(
            key.into(),
            Item {
                exact: Arc::new(attributes.to_exact()),
                version: v,
                recent: Vec::new(),
                expires_at: None,
            },
        );
        Version::new(v.to_string())
    }

    /// Everything stored and not expired, sorted by key (for tests and debugging).
    pub fn snapshot(&self) -> BTreeMap<String, Attributes> {
        let now = self.clock.now();
        self.lock()
            .iter()
            .filter(|(_, i)| !is_expired(i.expires_at, now))
            .map(|(k, i)| (k.clone(), i.attributes()))
            .collect()
    }

    /// How many keys are stored (expired ones included until overwritten or deleted).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Removes everything.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn conflict(operation: &'static str, key: &str, reason: impl Into<String>) -> Error {
        Error::conflict(operation, RESOURCE, key, reason)
    }

    fn parse_version(operation: &'static str, key: &str, v: &Version) -> Result<u64> {
        v.as_str()
            .parse::<u64>()
            .map_err(|_| Error::InvalidVersion {
                operation,
                resource: RESOURCE.into(),
                key: RedactedKey::new(key),
                version: v.as_str().chars().take(40).collect(),
                reason: "memory store versions are whole numbers",
            })
    }

    fn selected(&self, options: &ListOptions) -> Vec<(String, Item)> {
        let now = self.clock.now();
        let mut out: Vec<(String, Item)> = self
            .lock()
            .iter()
            .filter(|(k, i)| {
                options.matches(k) && (options.include_expired || !is_expired(i.expires_at, now))
            })
            .map(|(k, i)| (k.clone(), i.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

fn pages<'a, T: Send + 'a>(items: Vec<T>, options: &ListOptions) -> Pages<'a, T> {
    let size = options.page_size.unwrap_or(1000).max(1);
    let mut pages = Vec::new();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        pages.push(Ok(items.by_ref().take(size).collect::<Vec<T>>()));
    }
    futures::stream::iter(pages).boxed()
}

#[async_trait]
impl PersistenceAdapter for MemoryAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        validate_key(key, self.max_key_bytes)?;
        Ok(self.live(self.lock().get(key)).map(Item::stored))
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        validate_key(key, self.max_key_bytes)?;
        let token = write_token(options, "save", RESOURCE, key)?;
        let exact = attributes.to_exact();
        // What the JSON backends can read back, so that a skill tested on memory meets the
        // same limits in production.
        check_depth(&exact, MAX_JSON_DEPTH, "save", RESOURCE, key)?;
        if let Some(limit) = self.max_item_bytes {
            let size = persistence_core::exact::map_to_json_text(&exact).len();
            if size > limit {
                return Err(Error::TooLarge {
                    operation: "save",
                    resource: RESOURCE.into(),
                    key: RedactedKey::new(key),
                    size: Some(size),
                    limit,
                    source: None,
                });
            }
        }
        let expected = match &options.mode {
            SaveMode::IfVersion(v) => Some(Self::parse_version("save", key, v)?),
            _ => None,
        };
        let now = self.clock.now();
        let mut map = self.lock();
        let current = map.get(key);
        let refusal = match (&options.mode, current) {
            (SaveMode::Overwrite, _) | (SaveMode::CreateOnly, None) => None,
            (SaveMode::CreateOnly, Some(item)) if is_expired(item.expires_at, now) => None,
            (SaveMode::CreateOnly, Some(_)) => Some("the key already exists".to_owned()),
            (SaveMode::IfVersion(_), None) => {
                Some("the key was deleted since it was read".to_owned())
            }
            (SaveMode::IfVersion(_), Some(item)) if Some(item.version) == expected => None,
            (SaveMode::IfVersion(v), Some(item)) => {
                Some(format!("expected version {v}, found {}", item.version))
            }
        };
        if let Some(reason) = refusal {
            // A save made again after its answer was lost: the write with this token is one of
            // the latest, whatever was written on top of it since.
            if let Some(made) = current.and_then(|item| item.made_by(&token)) {
                return Ok(Version::new(made.to_string()));
            }
            return Err(Self::conflict("save", key, reason));
        }
        let v = self.new_version();
        let expires_at = options.expiry.resolve(self.default_expiry, now);
        let recent = match current {
            Some(item) if !is_expired(item.expires_at, now) => item.recent.clone(),
            _ => Vec::new(),
        };
        map.insert(
            key.to_owned(),
            Item {
                exact: Arc::new(exact),
                version: v,
                recent: remember_token(recent, (token, v)),
                expires_at,
            },
        );
        tracing::trace!(key = %RedactedKey::new(key), version = v, "memory save");
        Ok(Version::new(v.to_string()))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key, self.max_key_bytes)?;
        self.lock().remove(key);
        Ok(())
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        validate_key(key, self.max_key_bytes)?;
        let expected_n = Self::parse_version("delete", key, expected)?;
        let mut map = self.lock();
        match map.get(key) {
            None => Ok(()),
            Some(item) if item.version == expected_n => {
                map.remove(key);
                Ok(())
            }
            Some(item) => Err(Self::conflict(
                "delete",
                key,
                format!("expected version {expected}, found {}", item.version),
            )),
        }
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        let keys = self.selected(options).into_iter().map(|(k, _)| k).collect();
        pages(keys, options)
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        let entries = self
            .selected(options)
            .into_iter()
            .map(|(key, item)| Entry {
                stored: item.stored(),
                key,
            })
            .collect();
        pages(entries, options)
    }

    fn describe(&self) -> String {
        RESOURCE.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn clones_share_state() {
        let a = MemoryAdapter::new();
        let b = a.clone();
        a.save("k", &Attributes::new(), SaveMode::Overwrite)
            .await
            .unwrap();
        assert!(b.get("k").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn recreated_key_does_not_reuse_versions() {
        let s = MemoryAdapter::new();
        let v1 = s
            .save("k", &Attributes::new(), SaveMode::CreateOnly)
            .await
            .unwrap();
        s.delete("k").await.unwrap();
        s.save("k", &Attributes::new(), SaveMode::CreateOnly)
            .await
            .unwrap();
        let stale = s
            .save("k", &Attributes::new(), SaveMode::IfVersion(v1))
            .await;
        assert!(matches!(stale, Err(Error::Conflict { .. })));
    }

    #[tokio::test]
    async fn size_limit_is_enforced_before_writing() {
        let s = MemoryAdapter::new().with_max_item_bytes(10);
        let big = Attributes::try_from(json!({"long": "0123456789"})).unwrap();
        match s.save("k", &big, SaveMode::Overwrite).await {
            Err(Error::TooLarge { size, limit, .. }) => {
                assert_eq!(limit, 10);
                assert_eq!(size, Some(big.json_len()));
            }
            other => panic!("{other:?}"),
        }
        assert!(s.is_empty());
    }
}
