//! Example skills built with skill-builder, runnable in a terminal, and their conversations as
//! reusable checks.
//!
//! - [`cat_facts`]: ten cat facts, remembering the last one heard and the visits.
//! - [`cafe`]: the persistent cafe, "I'll have my usual".
//! - `account_linking` (feature `account-linking`): greets linked users by name, keeping their
//!   data under the linked account's stable ID.
//! - [`scenarios`]: their conversations as checks on any persistence adapter.
//! - [`demo`]: the terminal front of the `cat-facts` and `cafe` binaries.
//!
//! Each skill module exposes `skill(adapter)` and `builder(adapter)`:
//!
//! ```
//! use std::sync::Arc;
//! use persistence_core::PersistenceAdapter;
//! use persistence_memory::MemoryAdapter;
//!
//! let store: Arc<dyn PersistenceAdapter> = Arc::new(MemoryAdapter::new());
//! let cat_facts = skill_examples::cat_facts::skill(store.clone())?;
//! let cafe = skill_examples::cafe::builder(store).with_skill_id("amzn1.ask.skill.1234").build()?;
//! assert_eq!(cafe.skill_id(), Some("amzn1.ask.skill.1234"));
//! # let _ = cat_facts;
//! # Ok::<(), skill_builder::BuildError>(())
//! ```

#[cfg(feature = "account-linking")]
pub mod account_linking;
pub mod cafe;
pub mod cat_facts;
pub mod demo;
pub mod scenarios;
