//! The storage contract for per-user "persistent attributes" (a JSON object per key): one
//! object-safe trait, its versions and save modes, and the suite every backend passes.
//!
//! Storage is any [`PersistenceAdapter`]: `persistence-dynamodb`, `persistence-s3`,
//! `persistence-sqlite`, `persistence-file`, `persistence-memory`, or yours. Keys are plain
//! strings; this crate knows nothing of Alexa or AWS (the skill builder makes keys from Alexa
//! requests). Every read returns a [`Version`]; a save can require it ([`SaveMode::IfVersion`])
//! so that two writers at once never silently lose an update, and
//! [`PersistenceAdapterExt::update`] does read-modify-write with retries for you.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_core::{PersistenceAdapter, PersistenceAdapterExt};
//!
//! /// Counts a user's visits, whatever the storage.
//! async fn visit(store: Arc<dyn PersistenceAdapter>, user: &str) -> persistence_core::Result<u64> {
//!     store.update(user, |attrs| {
//!         let n = attrs.get("visits").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
//!         attrs.insert("visits".into(), n.into());
//!         n
//!     }).await
//! }
//! # fn main() {}
//! ```
//!
//! Beyond get, save and delete, every adapter lists its keys ([`PersistenceAdapter::list_keys`],
//! [`PersistenceAdapter::entries`]), deletes conditionally ([`PersistenceAdapter::delete_if`]),
//! and lets attributes expire ([`Expiry`]).
//!
//! Stored values are kept exactly ([`exact`]): a program sees plain JSON, and every attribute it
//! leaves as it was is written back exactly as it was stored (a 28-digit Python `Decimal`, an
//! integer past 2^64, a DynamoDB string or number set), without turning on `serde_json`
//! features that would change how the rest of the program parses JSON ([`number`]).
//!
//! ## Features
//! - `conformance`: the [`conformance`] suite every backend's tests run.

mod adapter;
mod attributes;
pub mod budget;
pub mod clock;
mod error;
pub mod exact;
mod key;
pub mod limits;
pub mod listing;
pub mod merge;
pub mod number;
pub mod scrub;
mod token;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use adapter::{
    Entry, Expiry, ListOptions, Pages, PersistenceAdapter, PersistenceAdapterExt, RetryPolicy,
    SaveMode, SaveOptions, Stored, UpdateOutcome, Version, is_expired,
};
pub use attributes::{Attributes, json_type_name};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{BoxError, Error, Result};
pub use key::{MAX_KEY_BYTES, RedactedKey, validate_key};
pub use scrub::ScrubbedError;
pub use token::{RECENT_TOKENS, is_unique_token, remember_token, unique_token, write_token};

/// `async_trait`, re-exported so adapters implement [`PersistenceAdapter`] with the same version.
pub use async_trait::async_trait;
