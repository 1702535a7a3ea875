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

use persistence_core::{
    Attributes, Error, MAX_KEY_BYTES, PersistenceAdapter, RedactedKey, Result, SaveMode, Stored,
    Version, async_trait, validate_key,
};

#[derive(Debug, Default)]
struct Shared {
    map: Mutex<HashMap<String, (Attributes, u64)>>,
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
}

impl Default for MemoryAdapter {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryAdapter {
    /// An empty store that accepts keys up to [`MAX_KEY_BYTES`] and attributes of any size.
    pub fn new() -> Self {
        Self {
            shared: Arc::default(),
            max_key_bytes: MAX_KEY_BYTES,
            max_item_bytes: None,
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

    fn lock(&self) -> MutexGuard<'_, HashMap<String, (Attributes, u64)>> {
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

    /// The attributes stored under `key`, if any (for tests).
    pub fn attributes(&self, key: &str) -> Option<Attributes> {
        self.lock().get(key).map(|(a, _)| a.clone())
    }

    /// Stores `attributes` under `key` unconditionally, bypassing key validation: seeds test data.
    /// Returns the new version.
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
        self.lock().insert(key.into(), (attributes, v));
        Version::new(v.to_string())
    }

    /// Everything stored, sorted by key (for tests and debugging).
    pub fn snapshot(&self) -> BTreeMap<String, Attributes> {
        self.lock()
            .iter()
            .map(|(k, (a, _))| (k.clone(), a.clone()))
            .collect()
    }

    /// How many keys are stored.
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

    fn conflict(key: &str, reason: impl Into<String>) -> Error {
        Error::Conflict {
            operation: "save",
            resource: "memory store".into(),
            key: RedactedKey::new(key),
            reason: reason.into(),
        }
    }
}

#[async_trait]
impl PersistenceAdapter for MemoryAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        validate_key(key, self.max_key_bytes)?;
        Ok(self.lock().get(key).map(|(a, v)| Stored {
            attributes: a.clone(),
            version: Version::new(v.to_string()),
        }))
    }

    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        validate_key(key, self.max_key_bytes)?;
        if let Some(limit) = self.max_item_bytes {
            let size = attributes.json_len();
            if size > limit {
                return Err(Error::TooLarge {
                    operation: "save",
                    resource: "memory store".into(),
                    key: RedactedKey::new(key),
                    size,
                    limit,
                });
            }
        }
        let mut map = self.lock();
        let current = map.get(key).map(|(_, v)| *v);
        match (&mode, current) {
            (SaveMode::Overwrite, _) | (SaveMode::CreateOnly, None) => {}
            (SaveMode::CreateOnly, Some(_)) => {
                return Err(Self::conflict(key, "the key already exists"));
            }
            (SaveMode::IfVersion(_), None) => {
                return Err(Self::conflict(key, "the key was deleted since it was read"));
            }
            (SaveMode::IfVersion(expected), Some(now)) => {
                if expected.as_str() != now.to_string() {
                    return Err(Self::conflict(
                        key,
                        format!("expected version {expected}, found {now}"),
                    ));
                }
            }
        }
        let v = self.new_version();
        map.insert(key.to_owned(), (attributes.clone(), v));
        tracing::trace!(key = %RedactedKey::new(key), version = v, "memory save");
        Ok(Version::new(v.to_string()))
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key, self.max_key_bytes)?;
        self.lock().remove(key);
        Ok(())
    }

    fn describe(&self) -> String {
        "memory store".into()
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
                assert_eq!(size, big.json_len());
            }
            other => panic!("{other:?}"),
        }
        assert!(s.is_empty());
    }
}
