//! A read cache for any persistent-attributes adapter: [`CachingAdapter`] wraps a
//! [`PersistenceAdapter`](persistence_core::PersistenceAdapter) (DynamoDB, S3, SQLite, files, memory, yours) so that a warm Lambda or
//! a long-running server that reads the same user again pays no round trip, while every write
//! still goes to the store with its condition, so no update is lost. In the spirit of
//! tower-sessions' `CachingSessionStore`, on [moka](https://docs.rs/moka)'s concurrent cache.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use persistence_cache::CachingAdapter;
//! use persistence_core::{PersistenceAdapter, PersistenceAdapterExt};
//! use persistence_memory::MemoryAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
//! // Any adapter; a MemoryAdapter here, a DynamoDbAdapter in a skill.
//! let cached = CachingAdapter::builder(MemoryAdapter::new())
//!     .max_entries(10_000)
//!     .time_to_live(Duration::from_secs(60))
//!     .build();
//! let store: Arc<dyn PersistenceAdapter> = Arc::new(cached);
//!
//! store.update("amzn1.ask.account.A", |a| { a.insert("visits".into(), 1.into()); }).await?;
//! // Answered from the cache: what the save wrote, at the version it returned.
//! let stored = store.get("amzn1.ask.account.A").await?.unwrap();
//! assert_eq!(stored.attributes["visits"], 1);
//! # Ok(()) }
//! ```
//!
//! ## Bounds and defaults
//!
//! | Setting | Default | |
//! |---|---|---|
//! | [`max_entries`](CachingAdapterBuilder::max_entries) | [`DEFAULT_MAX_ENTRIES`] (10 000) | keys kept, absent ones included |
//! | [`max_bytes`](CachingAdapterBuilder::max_bytes) | [`DEFAULT_MAX_BYTES`] (32 MiB) | estimated size of all entries; `None`: entries only |
//! | [`time_to_live`](CachingAdapterBuilder::time_to_live) | [`DEFAULT_TIME_TO_LIVE`] (60 s) | how long an entry is trusted |
//! | [`store_default_expiry`](CachingAdapterBuilder::store_default_expiry) | `None` | the inner adapter's default expiry: set it when it has one |
//! | [`clock`](CachingAdapterBuilder::clock) | the system clock | the inner adapter's clock |
//!
//! ## What a read may miss, and why no update is lost
//!
//! The cache knows what this process read and wrote, not what other processes (other Lambda
//! instances, another server, the `alexa-persistence` tool) write to the same store. So a read
//! may return what this process last saw of a key for up to the time to live after it saw it,
//! missing a change another instance made meanwhile. A turn that only reads may therefore
//! answer from a copy up to a minute old (by default).
//!
//! No update is lost because of it: a read returns the version it was read at, and saves stay
//! conditional on that version ([`SaveMode::IfVersion`](persistence_core::SaveMode::IfVersion),
//! [`PersistenceAdapterExt::update`](persistence_core::PersistenceAdapterExt::update), the skill
//! builder's writes). The cache passes the condition to the store untouched, so a save based on
//! a stale copy is a conflict, which evicts the key; the retry then reads the store afresh. A
//! stale copy costs one conflicting write, never a lost one. Saves made without a condition
//! ([`SaveMode::Overwrite`](persistence_core::SaveMode::Overwrite)) overwrite blindly, with or
//! without a cache.
//!
//! Within one process the cache is exact:
//! - A save's copy is what the next read of the store would return: the attributes as written
//!   (their exact stored forms, [`Attributes::to_exact`](persistence_core::Attributes::to_exact)),
//!   read back as the adapter reads them, stamped with the new version
//!   ([`Attributes::read_at`](persistence_core::Attributes::read_at)), with the expiry the store
//!   gave them. A save whose forms some backends store differently (sets and binary, which
//!   JSON-text backends keep as lists and base64 strings; a number not spelled as JSON spells it)
//!   evicts instead, as does a save whose expiry straddled a second. One difference remains on
//!   DynamoDB, which trims the zeros of number text: a copy holds `1.50` where DynamoDB would
//!   read back `1.5`; same value, same JSON view, and the same item after the next save.
//! - A read that began before a write, delete or eviction of the same key finished never caches
//!   its older answer; of two overlapping writes to one key neither is cached.
//! - Attributes whose expiry passed read as absent, as from the store, without a round trip.
//!
//! Reads are not merged: two concurrent misses of one key make two reads.

mod adapter;
mod builder;
mod forms;
mod slots;

pub use adapter::{CacheStats, CachingAdapter};
pub use builder::{
    CachingAdapterBuilder, DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_TIME_TO_LIVE,
    MAX_TIME_TO_LIVE,
};
