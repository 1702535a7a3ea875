//! Alexa skill persistent attributes in Amazon DynamoDB.
//!
//! [`DynamoDbAdapter`] stores each key's attributes as one item, in the layout of the official
//! ASK SDKs' DynamoDB adapters (Python, Node.js, Java), so a skill moving to Rust keeps every
//! user's data:
//!
//! | attribute          | type | holds                                                   |
//! |--------------------|------|---------------------------------------------------------|
//! | `id`               | S    | the key (by default the Alexa user ID); the hash key    |
//! | `attributes`       | M    | the persistent attributes                               |
//! | `attributesVersion`| N    | the optimistic version (absent on SDK-written items)    |
//!
//! Other top-level attributes (a TTL, your own fields) are left untouched by saves. What it
//! adds to the SDKs' behaviour: versions (two devices saving at once no longer lose an update),
//! exact numbers (a number JSON cannot hold is an error, never rounded), a size check before the
//! call, and table creation that waits for the table instead of failing the first users.
//!
//! ```no_run
//! use persistence_core::{PersistenceAdapter, PersistenceAdapterExt};
//! use persistence_dynamodb::DynamoDbAdapter;
//!
//! # async fn run() -> persistence_core::Result<()> {
//! // Alexa-hosted skill: table and region come from the environment.
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
//! table; `dynamodb:DescribeTable` and `dynamodb:CreateTable` only for
//! [`DynamoDbAdapter::ensure_table`].

mod convert;
mod errors;
mod table;

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use persistence_core::{
    Attributes, Error, MAX_KEY_BYTES, PersistenceAdapter, RedactedKey, Result, SaveMode, Stored,
    Version, async_trait, validate_key,
};

pub use convert::{ConvertError, attributes_from_dynamodb, attributes_to_dynamodb};
pub use table::{Billing, TableCreation};

/// DynamoDB's item size limit: 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The version attribute's default name.
pub const DEFAULT_VERSION_ATTRIBUTE: &str = "attributesVersion";

/// The version of an item that exists but has no version attribute (written by the official
/// SDKs): saving with it succeeds only if the item still has none.
const UNVERSIONED: &str = "0";

/// Persistent attributes in a DynamoDB table. Cheap to clone (the client is shared).
#[derive(Clone, Debug)]
pub struct DynamoDbAdapter {
    client: Client,
    table: String,
    partition_key: String,
    attributes_name: String,
    version_name: String,
    consistent_read: bool,
    creation: TableCreation,
    resource: String,
}

/// Builds a [`DynamoDbAdapter`]; see [`DynamoDbAdapter::builder`]. It holds the adapter being
/// configured; `build` hands it over.
#[derive(Clone, Debug)]
pub struct DynamoDbAdapterBuilder(DynamoDbAdapter);

impl DynamoDbAdapterBuilder {
    /// The hash key attribute's name (default `id`, as the ASK SDKs).
    pub fn partition_key_name(mut self, name: impl Into<String>) -> Self {
        self.0.partition_key = name.into();
        self
    }

    /// The name of the map attribute that holds the attributes (default `attributes`).
    pub fn attributes_name(mut self, name: impl Into<String>) -> Self {
        self.0.attributes_name = name.into();
        self
    }

    /// The name of the number attribute that holds the version (default
    /// [`DEFAULT_VERSION_ATTRIBUTE`]).
    pub fn version_attribute_name(mut self, name: impl Into<String>) -> Self {
        self.0.version_name = name.into();
        self
    }

    /// Strongly consistent reads (default on, as the ASK SDKs): a save on one device is seen by
    /// the next turn on another.
    pub fn consistent_read(mut self, on: bool) -> Self {
        self.0.consistent_read = on;
        self
    }

    /// How [`DynamoDbAdapter::ensure_table`] creates the table (default: on-demand billing,
    /// waiting up to 60 s for ACTIVE).
    pub fn table_creation(mut self, creation: TableCreation) -> Self {
        self.0.creation = creation;
        self
    }

    /// The adapter.
    pub fn build(self) -> DynamoDbAdapter {
        self.0
    }
}

impl DynamoDbAdapter {
    /// A builder for the adapter over `table_name`, using `client` as it is configured (its
    /// retry and timeout settings apply; [`client_config`] gives ones that fit Alexa).
    ///
    /// ```
    /// # fn demo(client: aws_sdk_dynamodb::Client) {
    /// use persistence_dynamodb::DynamoDbAdapter;
    /// let store = DynamoDbAdapter::builder(client, "skill-table")
    ///     .partition_key_name("id")
    ///     .attributes_name("attributes")
    ///     .consistent_read(true)
    ///     .build();
    /// assert_eq!(store.table_name(), "skill-table");
    /// # }
    /// ```
    pub fn builder(client: Client, table_name: impl Into<String>) -> DynamoDbAdapterBuilder {
        let table = table_name.into();
        DynamoDbAdapterBuilder(DynamoDbAdapter {
            client,
            resource: format!("DynamoDB table '{table}'"),
            table,
            partition_key: "id".into(),
            attributes_name: "attributes".into(),
            version_name: DEFAULT_VERSION_ATTRIBUTE.into(),
            consistent_read: true,
            creation: TableCreation::default(),
        })
    }

    /// The table's name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// The client, e.g. to share it.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn key_value(&self, key: &str) -> HashMap<String, AttributeValue> {
        HashMap::from([(
            self.partition_key.clone(),
            AttributeValue::S(key.to_owned()),
        )])
    }

    fn corrupt(&self, key: &str, detail: impl Into<String>) -> Error {
        Error::CorruptData {
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            detail: detail.into(),
        }
    }

    fn read_version(&self, key: &str, av: Option<&AttributeValue>) -> Result<Version> {
        match av {
            None => Ok(Version::new(UNVERSIONED)),
            Some(AttributeValue::N(n)) if n.parse::<u64>().is_ok() => Ok(Version::new(n.clone())),
            Some(other) => Err(self.corrupt(
                key,
                format!(
                    "attribute `{}` should be a whole number, found {other:?}",
                    self.version_name
                ),
            )),
        }
    }
}

fn log_outcome<T>(op: &'static str, table: &str, key: &str, started: Instant, r: &Result<T>) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match r {
        Ok(_) => {
            tracing::debug!(table, op, key = %RedactedKey::new(key), latency_ms, outcome = "ok", "dynamodb")
        }
        Err(e) if e.is_conflict() => {
            tracing::debug!(table, op, key = %RedactedKey::new(key), latency_ms, outcome = "conflict", "dynamodb")
        }
        Err(e) => {
            tracing::warn!(table, op, key = %RedactedKey::new(key), latency_ms, outcome = "error", error = %e, "dynamodb")
        }
    }
}

#[async_trait]
impl PersistenceAdapter for DynamoDbAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        validate_key(key, MAX_KEY_BYTES)?;
        let started = Instant::now();
        let r = async {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .set_key(Some(self.key_value(key)))
                .consistent_read(self.consistent_read)
                .projection_expression("#a, #v")
                .expression_attribute_names("#a", &self.attributes_name)
                .expression_attribute_names("#v", &self.version_name)
                .send()
                .await
                .map_err(|e| errors::map("get", &self.resource, key, e))?;
            let Some(item) = out.item else {
                return Ok(None);
            };
            let version = self.read_version(key, item.get(&self.version_name))?;
            let attributes = match item.get(&self.attributes_name) {
                // An item without the map (e.g. only a TTL set by someone else) holds no
                // attributes yet.
                None => Attributes::new(),
                Some(AttributeValue::M(m)) => convert::map_to_json(m, &self.attributes_name)
                    .map_err(|e| self.corrupt(key, e.to_string()))?
                    .into(),
                Some(AttributeValue::Null(_)) => Attributes::new(),
                Some(other) => {
                    return Err(self.corrupt(
                        key,
                        format!(
                            "attribute `{}` should be a map (M), found {}",
                            self.attributes_name,
                            errors::type_name(other)
                        ),
                    ));
                }
            };
            Ok(Some(Stored {
                attributes,
                version,
            }))
        }
        .await;
        log_outcome("get", &self.table, key, started, &r);
        r
    }

    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        validate_key(key, MAX_KEY_BYTES)?;
        let started = Instant::now();
        let r = async {
            let unsupported = |detail: String| Error::UnsupportedValue {
                operation: "save",
                resource: self.resource.clone(),
                key: RedactedKey::new(key),
                detail,
            };
            let attrs_size = convert::check_and_measure(attributes, &self.attributes_name)
                .map_err(|e| unsupported(e.to_string()))?;
            let size = self.partition_key.len()
                + key.len()
                + self.attributes_name.len()
                + attrs_size
                + self.version_name.len()
                + 21;
            if size > MAX_ITEM_BYTES {
                return Err(Error::TooLarge {
                    operation: "save",
                    resource: self.resource.clone(),
                    key: RedactedKey::new(key),
                    size,
                    limit: MAX_ITEM_BYTES,
                });
            }
            let value =
                convert::to_attribute_value(attributes).map_err(|e| unsupported(e.to_string()))?;

            let mut req = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(self.key_value(key)))
                .update_expression("SET #a = :a, #v = if_not_exists(#v, :zero) + :one")
                .expression_attribute_names("#a", &self.attributes_name)
                .expression_attribute_names("#v", &self.version_name)
                .expression_attribute_values(":a", value)
                .expression_attribute_values(":zero", AttributeValue::N("0".into()))
                .expression_attribute_values(":one", AttributeValue::N("1".into()))
                .return_values(ReturnValue::UpdatedNew);
            let expectation = match &mode {
                SaveMode::Overwrite => None,
                SaveMode::CreateOnly => {
                    req = req
                        .condition_expression("attribute_not_exists(#k)")
                        .expression_attribute_names("#k", &self.partition_key);
                    Some("the item already exists".to_owned())
                }
                SaveMode::IfVersion(v) if v.as_str() == UNVERSIONED => {
                    req = req
                        .condition_expression("attribute_exists(#k) AND attribute_not_exists(#v)")
                        .expression_attribute_names("#k", &self.partition_key);
                    Some("the item was changed or deleted since it was read".to_owned())
                }
                SaveMode::IfVersion(v) => {
                    if v.as_str().parse::<u64>().is_err() {
                        return Err(Error::Conflict {
                            operation: "save",
                            resource: self.resource.clone(),
                            key: RedactedKey::new(key),
                            reason: format!("`{v}` is not a version from this table"),
                        });
                    }
                    req = req
                        .condition_expression("#v = :expected")
                        .expression_attribute_values(":expected", AttributeValue::N(v.to_string()));
                    Some(format!(
                        "the item is no longer at version {v} (changed or deleted since it was read)"
                    ))
                }
            };
            let out = req.send().await.map_err(|e| {
                errors::map_save("save", &self.resource, key, e, expectation.as_deref())
            })?;
            let attrs = out.attributes.unwrap_or_default();
            self.read_version(key, attrs.get(&self.version_name))
        }
        .await;
        log_outcome("save", &self.table, key, started, &r);
        r
    }

    async fn delete(&self, key: &str) -> Result<()> {
        validate_key(key, MAX_KEY_BYTES)?;
        let started = Instant::now();
        let r = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(self.key_value(key)))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| errors::map("delete", &self.resource, key, e));
        log_outcome("delete", &self.table, key, started, &r);
        r
    }

    fn describe(&self) -> String {
        self.resource.clone()
    }
}

/// Retry and timeout settings that fit Alexa's 8-second answer budget (see
/// [`persistence_core::budget`]): 3 attempts with exponential back-off for throttling, 5xx and
/// network faults, 1 s per attempt, 2.5 s per call. Apply them to your own client's config:
///
/// ```
/// use persistence_dynamodb::client_config;
/// let (retry, timeout) = client_config();
/// let conf = aws_sdk_dynamodb::Config::builder()
///     .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
///     .retry_config(retry)
///     .timeout_config(timeout)
///     .build();
/// # let _ = conf;
/// ```
pub fn client_config() -> (
    aws_sdk_dynamodb::config::retry::RetryConfig,
    aws_sdk_dynamodb::config::timeout::TimeoutConfig,
) {
    use persistence_core::budget;
    (
        aws_sdk_dynamodb::config::retry::RetryConfig::standard()
            .with_max_attempts(budget::MAX_ATTEMPTS)
            .with_initial_backoff(budget::INITIAL_BACKOFF)
            .with_max_backoff(budget::MAX_BACKOFF),
        aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
            .connect_timeout(budget::CONNECT_TIMEOUT)
            .operation_attempt_timeout(budget::ATTEMPT_TIMEOUT)
            .operation_timeout(budget::OPERATION_TIMEOUT)
            .build(),
    )
}

#[cfg(feature = "from-env")]
mod env;
#[cfg(feature = "from-env")]
pub use env::{REGION_VAR, TABLE_NAME_VAR};
