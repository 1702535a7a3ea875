//! Persistent attributes for Alexa skills, the way the official ASK SDKs keep them, with
//! optimistic concurrency added.
//!
//! A skill keeps a JSON object per user or device ([`Attributes`]) under a key made from the
//! request ([`KeyGenerator`]: user ID, device ID, person ID, or your own). Storage is any
//! [`PersistenceAdapter`]: `persistence-dynamodb`, `persistence-s3`, `persistence-memory`, or
//! yours. Every read returns a [`Version`]; a save can require it ([`SaveMode::IfVersion`]) so
//! that two devices writing at once never silently lose an update, and
//! [`PersistenceAdapterExt::update`] does read-modify-write with retries for you.
//!
//! This crate knows no AWS type: backends live in their own crates and depend on this one.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_core::{envelope::RequestEnvelope, KeyGenerator, PersistenceAdapter,
//!     PersistenceAdapterExt, UserIdKey};
//!
//! /// Counts a user's visits, whatever the storage.
//! async fn on_launch(store: Arc<dyn PersistenceAdapter>, request_json: &str)
//!     -> Result<u64, Box<dyn std::error::Error>>
//! {
//!     let envelope: RequestEnvelope = serde_json::from_str(request_json)?;
//!     let key = UserIdKey.key(&envelope)?;
//!     let visits = store.update(&key, |attrs| {
//!         let n = attrs.get("visits").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
//!         attrs.insert("visits".into(), n.into());
//!         n
//!     }).await?;
//!     Ok(visits)
//! }
//! # fn main() {}
//! ```
//!
//! Beyond get, save and delete, every adapter lists its keys ([`PersistenceAdapter::list_keys`],
//! [`PersistenceAdapter::entries`]), deletes conditionally ([`PersistenceAdapter::delete_if`]),
//! and lets attributes expire ([`Expiry`]).
//!
//! Stored values are kept exactly ([`exact`]): a skill sees plain JSON, and every attribute it
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
mod keygen;
pub mod limits;
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
pub use keygen::{
    BoxKeyGenerator, DEVICE_ID_FIELD, DeviceIdKey, KeyGenerator, KeySource, PersonIdKey,
    USER_ID_FIELD, UserIdKey, envelope,
};
pub use scrub::ScrubbedError;
pub use token::{RECENT_TOKENS, is_unique_token, remember_token, unique_token, write_token};

/// `async_trait`, re-exported so adapters implement [`PersistenceAdapter`] with the same version.
pub use async_trait::async_trait;
