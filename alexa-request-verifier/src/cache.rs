//! Validated signing certificates by chain URL, kept until they expire; bounded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::chain::SigningCert;

#[derive(Debug)]
pub(crate) struct ChainCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Arc<SigningCert>>>,
}

impl ChainCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The certificate validated for `url`, if it has not expired at `now_secs`.
    pub(crate) fn get(&self, url: &str, now_secs: i64) -> Option<Arc<SigningCert>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        match entries.get(url) {
            Some(cert) if now_secs <= cert.expires_at => Some(Arc::clone(cert)),
            Some(_) => {
                entries.remove(url);
                None
            }
            None => None,
        }
    }

    /// Keeps `cert` for `url`. When full, expired entries go first, then the one that expires
    /// soonest.
    pub(crate) fn insert(&self, url: &str, cert: Arc<SigningCert>, now_secs: i64) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if !entries.contains_key(url) && entries.len() >= self.capacity {
            entries.retain(|_, c| now_secs <= c.expires_at);
            while entries.len() >= self.capacity {
                let Some(soonest) = entries
                    .iter()
                    .min_by_key(|(_, c)| c.expires_at)
                    .map(|(k, _)| k.clone())
                else {
                    break;
                };
                entries.remove(&soonest);
            }
        }
        entries.insert(url.to_owned(), cert);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(expires_at: i64) -> Arc<SigningCert> {
        Arc::new(SigningCert::for_tests(expires_at))
    }

    #[test]
    fn entries_live_until_they_expire() {
        let cache = ChainCache::new(4);
        cache.insert("a", cert(100), 0);
        assert!(cache.get("a", 100).is_some());
        assert!(cache.get("a", 101).is_none());
        assert_eq!(cache.len(), 0, "an expired entry is dropped");
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = ChainCache::new(2);
        cache.insert("a", cert(300), 0);
        cache.insert("b", cert(100), 0);
        cache.insert("c", cert(200), 0);
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b", 0).is_none(), "the soonest to expire went");
        assert!(cache.get("a", 0).is_some());
        assert!(cache.get("c", 0).is_some());
        // Replacing an entry does not evict another.
        cache.insert("a", cert(400), 0);
        assert_eq!(cache.len(), 2);

        let none = ChainCache::new(0);
        none.insert("a", cert(100), 0);
        assert!(none.get("a", 0).is_none());
    }
}
