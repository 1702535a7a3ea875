//! Alexa skill persistent attributes in Amazon DynamoDB.
//!
//! [`DynamoDbAdapter`] stores each key's attributes as one item, in the layout of the official
//! ASK SDKs' DynamoDB adapters (Python, Node.js, Java), so a skill moving to Rust keeps every
//! user's data:
//!
//! | attribute          | type | holds                                                              |
//! |--------------------|------|--------------------------------------------------------------------|
//! | `id`               | S    | the key (by default the Alexa user ID); the hash key               |
//! | `attributes`       | M    | the persistent attributes                                          |
//! | `attributesVersion`| S    | the version: the last write's token and number (absent on SDK-written items) |
//! | `attributesTokens` | L    | the latest write tokens (see [`persistence_core::RECENT_TOKENS`])   |
//! | `ttl`              | N    | when the attributes expire (only with an expiry)                   |
//!
//! Other top-level attributes (your own fields) are left untouched by saves. What it adds to
//! the SDKs' behaviour: versions (two devices saving at once no longer lose an update), exact
//! values (a Python skill's `Decimal`s and sets on the same table are written back as they
//! were, see `persistence_core::exact`), saves that write only the attributes that changed,
//! a size check before the call, and table creation that waits for the table instead of
//! failing the first users.
//!
//! ```no_run
//! use persistence_core::{PersistenceAdapter, PersistenceAdapterExt};
//! use persistence_dynamodb::DynamoDbAdapter;
//!
//! # async fn run() -> persistence_core::Result<()> {
//! // Table and region from the environment (the variable names Alexa-hosted skills use).
//! let store = DynamoDbAdapter::from_env().await?;
//!
//! // Or with your own client:
//! let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let store = DynamoDbAdapter::builder(aws_sdk_dynamodb::Client::new(&config), "my-skill-table")
//!     .build();
//! store.ensure_table().await?; // optional: create it if missing and wait until ACTIVE
//!
//! store.update("amzn1.ask.account.A", |attrs| {
//!     attrs.insert("visits".into(), 1.into());
//! }).await?;
//! # Ok(()) }
//! ```
//!
//! IAM actions needed: `dynamodb:GetItem`, `dynamodb:UpdateItem`, `dynamodb:DeleteItem` on the
//! table; `dynamodb:Scan` for listing; `dynamodb:DescribeTable`, `dynamodb:CreateTable` and
//! `dynamodb:UpdateTimeToLive` only for [`DynamoDbAdapter::ensure_table`].

mod builder;
mod convert;
mod errors;
mod item;
mod listing;
mod table;
mod url;
mod version;
mod write;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use persistence_aws::log_outcome;
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, MAX_KEY_BYTES, Pages, PersistenceAdapter, Result,
    SaveOptions, Stored, Version, async_trait, validate_key,
};

pub use builder::DynamoDbAdapterBuilder;
pub use convert::{ConvertError, attributes_from_dynamodb, attributes_to_dynamodb};
pub use persistence_aws::client_config;
pub use table::{Billing, TableCreation};
pub use url::{DynamoDbUrl, URL_SCHEME};

/// DynamoDB's item size limit: 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The deepest nesting of lists and maps inside one attribute that a save accepts (sets count as
/// values, not as a level): DynamoDB nests documents at most 32 levels counting the item, and the
/// `attributes` map is one of them.
pub const MAX_DEPTH: usize = 30;

/// The version attribute's default name.
pub const DEFAULT_VERSION_ATTRIBUTE: &str = "attributesVersion";

/// The default name of the list of the latest write tokens.
pub const DEFAULT_TOKENS_ATTRIBUTE: &str = "attributesTokens";

/// The expiry attribute's default name (epoch seconds, for DynamoDB's Time to Live).
pub const DEFAULT_EXPIRY_ATTRIBUTE: &str = "ttl";

type Item = HashMap<String, AttributeValue>;

/// Persistent attributes in a DynamoDB table. Cheap to clone (the client is shared).
#[derive(Clone, Debug)]
pub struct DynamoDbAdapter {
    client: Client,
    table: String,
    partition_key: String,
    attributes_name: String,
    version_name: String,
    tokens_name: String,
    expiry_name: String,
    consistent_read: bool,
    creation: TableCreation,
    resource: String,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
    scan_segments: u32,
    partial_writes: bool,
}

impl DynamoDbAdapter {
    /// The table's name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The client, e.g. to share it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key_value(&self, key: &str) -> Item {
        HashMap::from([(
            self.partition_key.clone(),
            AttributeValue::S(key.to_owned()),
        )])
    }

    fn corrupt(&self, key: &str, detail: impl Into<String>) -> Error {
        Error::corrupt(self.resource.clone(), key, detail)
    }

    fn conflict(&self, operation: &'static str, key: &str, reason: impl Into<String>) -> Error {
        Error::conflict(operation, self.resource.clone(), key, reason)
    }

    fn logged<T>(
        &self,
        operation: &'static str,
        key: &str,
        started: Instant,
        r: Result<T>,
    ) -> Result<T> {
        log_outcome("dynamodb", &self.table, operation, key, started, &r);
        r
    }
}

#[async_trait]
impl PersistenceAdapter for DynamoDbAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        validate_key(key, MAX_KEY_BYTES)?;
        let started = Instant::now();
        let r = self.get_stored(key).await;
        self.logged("get", key, started, r)
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let started = Instant::now();
        let r = self.save_item(key, attributes, options).await;
        self.logged("save", key, started, r)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let started = Instant::now();
        let r = self.delete_item(key).await;
        self.logged("delete", key, started, r)
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        let started = Instant::now();
        let r = self.delete_item_if(key, expected).await;
        self.logged("delete", key, started, r)
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.list_keys_pages(options)
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.entries_pages(options)
    }

    fn describe(&self) -> String {
        self.resource.clone()
    }
}

#[cfg(feature = "from-env")]
mod env;
#[cfg(feature = "from-env")]
pub use env::{REGION_VAR, TABLE_NAME_VAR};
