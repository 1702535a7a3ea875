//! `alexa-persistence`: one tool for the people who operate an Alexa skill's persistent
//! attributes, in any backend of this workspace, named by URL:
//!
//! | URL | backend |
//! |---|---|
//! | `dynamodb://TABLE` | `persistence-dynamodb`, the ASK SDKs' `{id, attributes}` items |
//! | `s3://BUCKET/PREFIX` | `persistence-s3`, one compact JSON object per key under the prefix |
//! | `file://DIR` | `persistence-file`, one JSON file per key |
//! | `sqlite://PATH` | `persistence-sqlite`, one table in a SQLite file |
//! | `memory:` | `persistence-memory`, for tests |
//!
//! Commands: `get`, `put`, `rm`, `ls`, `export`, `import`, `copy`, `verify`, `purge-expired`,
//! `erase` (see `alexa-persistence --help`). The bulk ones go on past a listed entry that is not a
//! key or cannot be read, and count it ([`skip`]; exit 1). The library is what the binary runs, usable on any
//! [`persistence_core::PersistenceAdapter`]:
//!
//! ```
//! use std::sync::Arc;
//! use persistence_cli::copy::{copy, Context, CopyOptions};
//! use persistence_cli::store::{Store, StoreUrl};
//! use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
//! use persistence_memory::MemoryAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let old = MemoryAdapter::new();
//! old.save("amzn1.ask.account.A", &Attributes::new(), SaveMode::CreateOnly).await?;
//! let new = MemoryAdapter::new();
//! let src = Store { url: StoreUrl::Memory, adapter: Arc::new(old) };
//! let dst = Store { url: StoreUrl::Memory, adapter: Arc::new(new.clone()) };
//! let report = copy(&src, &dst, &CopyOptions { verify: true, ..CopyOptions::default() },
//!                   &Context::default()).await?;
//! assert_eq!(report.copied, 1);
//! assert!(report.verify.unwrap().equal());
//! assert_eq!(new.len(), 1);
//! # Ok(()) }
//! ```

pub mod checkpoint;
pub mod cli;
pub mod compare;
pub mod copy;
pub mod engine;
pub mod exit;
pub mod jsonl;
pub mod ls;
pub mod maintain;
pub mod output;
pub mod skip;
pub mod store;
pub mod transfer;
pub mod verify;
