//! The cached entries (a moka cache) and the striped change counts that keep a read which
//! started before a write from putting back what the write replaced.

use std::hash::BuildHasher;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use moka::sync::Cache;
use persistence_core::Stored;

use crate::builder::Limits;

/// Change counts are kept per stripe of keys (by hash), not per key, so they take a fixed amount
/// of memory. A change to one key makes a read of another key on the same stripe that was in
/// flight skip filling the cache (one extra round trip later), never cache something stale.
const STRIPES: usize = 256;

/// What is cached for one key: what the store holds (`None`: nothing), and its weight.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The stored value as the inner adapter returned it (or as it would return it after a
    /// save), or `None` for an absent key.
    pub(crate) stored: Option<Stored>,
    weight: u32,
}

/// The change count of a key's stripe when an operation on the key began.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket {
    stripe: usize,
    seen: u64,
}

/// Hit and miss counts.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) misses: AtomicU64,
}

/// The cache proper.
pub(crate) struct Slots {
    cache: Cache<String, Arc<Slot>>,
    /// Changes (writes, deletes, evictions) made to the keys of each stripe so far. Every change
    /// to the cache happens under its stripe's lock, and never across an `await`.
    stripes: Box<[Mutex<u64>]>,
    hasher: std::collections::hash_map::RandomState,
    /// Each entry weighs at least this much (see [`Limits`]), when bytes are bounded.
    min_weight: Option<u64>,
    pub(crate) counters: Counters,
}

impl Slots {
    pub(crate) fn new(limits: &Limits) -> Self {
        let mut builder = Cache::builder().time_to_live(limits.time_to_live);
        let mut min_weight = None;
        match limits.max_bytes {
            Some(bytes) if limits.max_entries > 0 => {
                // Each entry weighs at least bytes / entries (rounded up), so the total weight
                // staying within `bytes` also keeps the count within `max_entries`.
                min_weight = Some(bytes.div_ceil(limits.max_entries).max(1));
                builder = builder
                    .max_capacity(bytes)
                    .weigher(|_key: &String, slot: &Arc<Slot>| slot.weight);
            }
            _ => builder = builder.max_capacity(limits.max_entries),
        }
        Self {
            cache: builder.build(),
            stripes: (0..STRIPES).map(|_| Mutex::new(0)).collect(),
            hasher: std::collections::hash_map::RandomState::new(),
            min_weight,
            counters: Counters::default(),
        }
    }

    fn stripe_of(&self, key: &str) -> usize {
        // The remainder is below STRIPES, so it fits a usize.
        usize::try_from(self.hasher.hash_one(key) % STRIPES as u64).unwrap_or(0)
    }

    fn lock(&self, stripe: usize) -> MutexGuard<'_, u64> {
        // The guarded count is only ever incremented, so a poisoned lock still holds a usable
        // count.
        self.stripes[stripe]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// What is cached for `key`, if anything (moka leaves out entries past their time to live).
    pub(crate) fn lookup(&self, key: &str) -> Option<Arc<Slot>> {
        self.cache.get(key)
    }

    /// Where `key`'s stripe stands: take it before asking the store.
    pub(crate) fn ticket(&self, key: &str) -> Ticket {
        let stripe = self.stripe_of(key);
        let seen = *self.lock(stripe);
        Ticket { stripe, seen }
    }

    /// A read's answer: cached unless the key's stripe changed since `ticket` (a write or
    /// eviction that finished meanwhile already left the cache as it should be).
    pub(crate) fn fill(&self, key: &str, ticket: Ticket, stored: Option<Stored>) {
        let slot = self.slot(key, stored);
        let count = self.lock(ticket.stripe);
        if *count == ticket.seen {
            self.cache.insert(key.to_owned(), slot);
        }
    }

    /// A write's result: `Some` is what the store now holds, cached unless the key's stripe
    /// changed since `ticket` (then which of two overlapping operations the store applied last
    /// is unknown, so the key is evicted); `None` evicts.
    pub(crate) fn written(&self, key: &str, ticket: Ticket, stored: Option<Stored>) {
        let slot = stored.map(|s| self.slot(key, Some(s)));
        let mut count = self.lock(ticket.stripe);
        match slot {
            Some(slot) if *count == ticket.seen => self.cache.insert(key.to_owned(), slot),
            _ => self.cache.invalidate(key),
        }
        *count += 1;
    }

    /// Forgets `key`, and makes reads of it already in flight cache nothing.
    pub(crate) fn evict(&self, key: &str) {
        let mut count = self.lock(self.stripe_of(key));
        self.cache.invalidate(key);
        *count += 1;
    }

    /// Forgets every key, and makes reads already in flight cache nothing.
    pub(crate) fn evict_all(&self) {
        for stripe in 0..self.stripes.len() {
            *self.lock(stripe) += 1;
        }
        self.cache.invalidate_all();
    }

    /// Entries and their total weight, once moka has applied its pending evictions.
    pub(crate) fn size(&self) -> (u64, u64) {
        self.cache.run_pending_tasks();
        (self.cache.entry_count(), self.cache.weighted_size())
    }

    fn slot(&self, key: &str, stored: Option<Stored>) -> Arc<Slot> {
        let weight = match self.min_weight {
            Some(min) => {
                let footprint = footprint(key, stored.as_ref()).max(min);
                u32::try_from(footprint).unwrap_or(u32::MAX)
            }
            None => 1,
        };
        Arc::new(Slot { stored, weight })
    }
}

/// About how many bytes an entry holds: the key, the attributes twice (their JSON view and the
/// exact stored forms kept with it for the next save), the version, and a fixed overhead.
fn footprint(key: &str, stored: Option<&Stored>) -> u64 {
    let value = stored.map_or(0, |s| {
        2 * s.attributes.json_len() + s.version.as_str().len() + 64
    });
    u64::try_from(128 + key.len() + value).unwrap_or(u64::MAX)
}

impl Slot {
    #[cfg(test)]
    pub(crate) fn weight(&self) -> u32 {
        self.weight
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::time::Duration;

    use persistence_core::{Attributes, Version};

    use super::*;

    fn limits(max_entries: u64, max_bytes: Option<u64>) -> Limits {
        Limits {
            max_entries,
            max_bytes,
            time_to_live: Duration::from_secs(60),
        }
    }

    fn stored(n: u64) -> Option<Stored> {
        let mut a = Attributes::new();
        a.insert("n".into(), n.into());
        Some(Stored::new(a, Version::new(n.to_string())))
    }

    #[test]
    fn a_read_that_started_before_a_write_does_not_fill() {
        let slots = Slots::new(&limits(10, None));
        let read = slots.ticket("k");
        let write = slots.ticket("k");
        slots.written("k", write, stored(2));
        slots.fill("k", read, stored(1));
        let got = slots.lookup("k").unwrap();
        assert_eq!(got.stored.as_ref().unwrap().attributes["n"], 2);
    }

    #[test]
    fn overlapping_writes_evict() {
        let slots = Slots::new(&limits(10, None));
        let first = slots.ticket("k");
        let second = slots.ticket("k");
        slots.written("k", second, stored(3));
        slots.written("k", first, stored(2));
        assert!(slots.lookup("k").is_none());
    }

    #[test]
    fn every_entry_weighs_at_least_its_share() {
        let slots = Slots::new(&limits(4, Some(4_000)));
        let s = slots.slot("k", None);
        assert_eq!(s.weight(), 1_000);
        let mut big = Attributes::new();
        big.insert("s".into(), "x".repeat(5_000).into());
        let s = slots.slot("k", Some(Stored::new(big, Version::new("1"))));
        assert!(s.weight() > 10_000, "{}", s.weight());
    }
}
