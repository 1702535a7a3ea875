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
//! table; `dynamodb:DescribeTable` and `dynamodb:CreateTable` only for
//! [`DynamoDbAdapter::ensure_table`].

mod convert;
mod errors;
mod table;
mod url;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_smithy_runtime_api::client::result::SdkError;
use futures::StreamExt;
use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, MAX_KEY_BYTES, Pages, PersistenceAdapter,
    RedactedKey, Result, SaveMode, SaveOptions, Stored, SystemClock, Version, async_trait,
    is_expired, is_unique_token, validate_key,
};

pub use convert::{ConvertError, attributes_from_dynamodb, attributes_to_dynamodb};
pub use table::{Billing, TableCreation};
pub use url::{DynamoDbUrl, URL_SCHEME};

/// DynamoDB's item size limit: 400 KB.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The version attribute's default name.
pub const DEFAULT_VERSION_ATTRIBUTE: &str = "attributesVersion";

/// The expiry attribute's default name (epoch seconds, for DynamoDB's Time to Live).
pub const DEFAULT_EXPIRY_ATTRIBUTE: &str = "ttl";

/// How the version of an item written without a version attribute (by the official SDKs)
/// starts: `sdk-` and the digest of its attributes.
const UNVERSIONED_PREFIX: &str = "sdk-";

type Item = HashMap<String, AttributeValue>;

/// Persistent attributes in a DynamoDB table. Cheap to clone (the client is shared).
#[derive(Clone, Debug)]
pub struct DynamoDbAdapter {
    client: Client,
    table: String,
    partition_key: String,
    attributes_name: String,
    version_name: String,
    expiry_name: String,
    consistent_read: bool,
    creation: TableCreation,
    resource: String,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
    scan_segments: u32,
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

    /// The name of the attribute that holds the version (default
    /// [`DEFAULT_VERSION_ATTRIBUTE`]).
    pub fn version_attribute_name(mut self, name: impl Into<String>) -> Self {
        self.0.version_name = name.into();
        self
    }

    /// The name of the number attribute that holds the expiry time in epoch seconds, which
    /// [`DynamoDbAdapter::ensure_table`] makes the table's Time to Live attribute (default
    /// [`DEFAULT_EXPIRY_ATTRIBUTE`]). Saves own it: they set it to the save's expiry or remove
    /// it. An item whose expiry has passed reads as absent, whenever DynamoDB gets to delete it.
    pub fn expiry_attribute_name(mut self, name: impl Into<String>) -> Self {
        self.0.expiry_name = name.into();
        self
    }

    /// Keep each key's attributes for `ttl` after its last save, unless a save says otherwise
    /// ([`persistence_core::Expiry`]). Default: no expiry.
    pub fn default_expiry(mut self, ttl: Duration) -> Self {
        self.0.default_expiry = Some(ttl);
        self
    }

    /// Read the time from `clock` (default: the system clock; tests use
    /// [`persistence_core::ManualClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.0.clock = clock;
        self
    }

    /// Strongly consistent reads (default on, as the ASK SDKs): a save on one device is seen by
    /// the next turn on another. Listing scans use the same setting.
    pub fn consistent_read(mut self, on: bool) -> Self {
        self.0.consistent_read = on;
        self
    }

    /// How many parallel segments a listing scans (default 4, at least 1).
    pub fn scan_segments(mut self, segments: u32) -> Self {
        self.0.scan_segments = segments.max(1);
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

/// What a conditional save or delete expects, from the version a read returned.
enum Expected {
    /// A write token (`S`).
    Token(String),
    /// A number version written by release 0.1 of this crate (`N`).
    Legacy(String),
    /// An item without version attribute (written by the official SDKs), by content digest.
    Unversioned(String),
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
    ///     .default_expiry(std::time::Duration::from_secs(90 * 86_400))
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
            expiry_name: DEFAULT_EXPIRY_ATTRIBUTE.into(),
            consistent_read: true,
            creation: TableCreation::default(),
            clock: Arc::new(SystemClock),
            default_expiry: None,
            scan_segments: 4,
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

    /// The attributes an item holds.
    fn attributes_of(&self, key: &str, item: &Item) -> Result<Attributes> {
        match item.get(&self.attributes_name) {
            // An item without the map (e.g. only a TTL set by someone else) holds no
            // attributes yet.
            None | Some(AttributeValue::Null(_)) => Ok(Attributes::new()),
            Some(AttributeValue::M(m)) => convert::map_to_json(m, &self.attributes_name)
                .map(Into::into)
                .map_err(|e| self.corrupt(key, e.to_string())),
            Some(other) => Err(self.corrupt(
                key,
                format!(
                    "attribute `{}` should be a map (M), found {}",
                    self.attributes_name,
                    errors::type_name(other)
                ),
            )),
        }
    }

    /// The version of an item holding `attributes`.
    fn version_of(&self, key: &str, item: &Item, attributes: &Attributes) -> Result<Version> {
        match item.get(&self.version_name) {
            None => Ok(Version::new(format!(
                "{UNVERSIONED_PREFIX}{}",
                attributes.digest()
            ))),
            Some(AttributeValue::S(t)) if is_unique_token(t) => Ok(Version::new(t.clone())),
            Some(AttributeValue::N(n)) if n.parse::<u64>().is_ok() => Ok(Version::new(n.clone())),
            Some(other) => Err(self.corrupt(
                key,
                format!(
                    "attribute `{}` should be a version token, found {}",
                    self.version_name,
                    errors::type_name(other)
                ),
            )),
        }
    }

    /// When an item expires: its expiry attribute, if it is a whole number of epoch seconds
    /// (anything else is ignored, as DynamoDB's Time to Live ignores it).
    fn expiry_of(&self, item: &Item) -> Option<std::time::SystemTime> {
        match item.get(&self.expiry_name) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().ok().map(from_epoch_seconds),
            _ => None,
        }
    }

    fn stored_of(&self, key: &str, item: &Item) -> Result<Stored> {
        let attributes = self.attributes_of(key, item)?;
        let version = self.version_of(key, item, &attributes)?;
        Ok(Stored::new(attributes, version).expiring(self.expiry_of(item)))
    }

    fn parse_version(&self, operation: &'static str, key: &str, v: &Version) -> Result<Expected> {
        let s = v.as_str();
        if is_unique_token(s) {
            return Ok(Expected::Token(s.to_owned()));
        }
        if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Expected::Legacy(s.to_owned()));
        }
        if let Some(digest) = s
            .strip_prefix(UNVERSIONED_PREFIX)
            .filter(|d| is_unique_token(d))
        {
            return Ok(Expected::Unversioned(digest.to_owned()));
        }
        Err(Error::InvalidVersion {
            operation,
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            version: s.chars().take(40).collect(),
            reason: "versions of a DynamoDB table are write tokens (32 hex digits), whole \
                     numbers (release 0.1), or `sdk-` and a digest",
        })
    }

    /// A strongly consistent read of the raw item (projected to what conditions need).
    async fn raw_item(&self, operation: &'static str, key: &str) -> Result<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key_value(key)))
            .consistent_read(true)
            .projection_expression("#a, #v, #t")
            .expression_attribute_names("#a", &self.attributes_name)
            .expression_attribute_names("#v", &self.version_name)
            .expression_attribute_names("#t", &self.expiry_name)
            .send()
            .await
            .map_err(|e| errors::map(operation, &self.resource, key, e))?;
        Ok(out.item)
    }

    /// For a save or delete conditional on the state of an item the official SDKs wrote (no
    /// version attribute, known by the digest of its attributes): reads the item and returns
    /// the condition that holds only while it is still exactly that item, with its values.
    async fn unversioned_condition(
        &self,
        operation: &'static str,
        key: &str,
        digest: &str,
    ) -> Result<Option<(String, Option<AttributeValue>)>> {
        let Some(item) = self.raw_item(operation, key).await? else {
            return Ok(None);
        };
        if item.contains_key(&self.version_name) {
            return Err(self.conflict(
                operation,
                key,
                "the item was saved again since it was read",
            ));
        }
        let attributes = self.attributes_of(key, &item)?;
        if attributes.digest() != digest {
            return Err(self.conflict(
                operation,
                key,
                "the item was changed since it was read (by a writer that keeps no version, \
                 such as an official ASK SDK)",
            ));
        }
        Ok(Some(match item.get(&self.attributes_name) {
            Some(old) => (
                "attribute_exists(#k) AND attribute_not_exists(#v) AND #a = :old".to_owned(),
                Some(old.clone()),
            ),
            None => (
                "attribute_exists(#k) AND attribute_not_exists(#v) AND attribute_not_exists(#a)"
                    .to_owned(),
                None,
            ),
        }))
    }

    /// After a save whose outcome is unknown (timed out, or the answer was lost), whether the
    /// item now carries `token`: then the write landed. Bounded to one attempt's time.
    async fn landed(&self, key: &str, token: &str) -> bool {
        let check = self.raw_item("save", key);
        match tokio::time::timeout(persistence_core::budget::ATTEMPT_TIMEOUT, check).await {
            Ok(Ok(Some(item))) => {
                matches!(item.get(&self.version_name), Some(AttributeValue::S(t)) if t == token)
            }
            _ => false,
        }
    }

    fn scan<'a, T, F>(
        &'a self,
        options: &ListOptions,
        projection: &'static str,
        map: F,
    ) -> Pages<'a, T>
    where
        T: Send + 'a,
        F: Fn(&Self, Item) -> Result<T> + Send + Sync + Copy + 'a,
    {
        let segments = self.scan_segments.max(1);
        let options = options.clone();
        let streams = (0..segments).map(move |segment| {
            let options = options.clone();
            futures::stream::try_unfold(Some(None::<Item>), move |state| {
                let options = options.clone();
                async move {
                    let Some(mut start) = state else {
                        return Ok(None);
                    };
                    loop {
                        let out = self
                            .scan_request(&options, projection, segment, segments, start)
                            .send()
                            .await
                            .map_err(|e| errors::map("list", &self.resource, "", e))?;
                        let next = out.last_evaluated_key.filter(|k| !k.is_empty());
                        let page = out
                            .items
                            .unwrap_or_default()
                            .into_iter()
                            .map(|item| map(self, item))
                            .collect::<Result<Vec<T>>>()?;
                        if !page.is_empty() || next.is_none() {
                            return Ok(Some((page, next.map(Some))));
                        }
                        start = next;
                    }
                }
            })
            .boxed()
        });
        futures::stream::select_all(streams)
            .filter(|page| futures::future::ready(!matches!(page, Ok(p) if p.is_empty())))
            .boxed()
    }

    fn scan_request(
        &self,
        options: &ListOptions,
        projection: &str,
        segment: u32,
        segments: u32,
        start: Option<Item>,
    ) -> aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder {
        let mut req = self
            .client
            .scan()
            .table_name(&self.table)
            .consistent_read(self.consistent_read)
            .segment(segment as i32)
            .total_segments(segments as i32)
            .set_exclusive_start_key(start)
            .projection_expression(projection)
            .expression_attribute_names("#k", &self.partition_key);
        if projection.contains("#a") {
            req = req
                .expression_attribute_names("#a", &self.attributes_name)
                .expression_attribute_names("#v", &self.version_name);
        }
        let mut filters = Vec::new();
        if let Some(prefix) = &options.prefix {
            filters.push("begins_with(#k, :p)");
            req = req.expression_attribute_values(":p", AttributeValue::S(prefix.clone()));
        }
        if !options.include_expired {
            filters
                .push("(attribute_not_exists(#t) OR NOT attribute_type(#t, :ntype) OR #t > :now)");
            req = req
                .expression_attribute_values(":ntype", AttributeValue::S("N".into()))
                .expression_attribute_values(
                    ":now",
                    AttributeValue::N(epoch_seconds(self.clock.now()).to_string()),
                );
        }
        if projection.contains("#t") || !options.include_expired {
            req = req.expression_attribute_names("#t", &self.expiry_name);
        }
        if !filters.is_empty() {
            req = req.filter_expression(filters.join(" AND "));
        }
        if let Some(n) = options.page_size {
            req = req.limit(i32::try_from(n).unwrap_or(i32::MAX));
        }
        req
    }

    fn key_of(&self, item: &Item) -> Result<String> {
        match item.get(&self.partition_key) {
            Some(AttributeValue::S(k)) => Ok(k.clone()),
            _ => Err(Error::CorruptData {
                resource: self.resource.clone(),
                key: RedactedKey::new(""),
                detail: format!("an item's `{}` is not a string", self.partition_key),
            }),
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

/// True for an error after which a write may or may not have landed.
fn ambiguous<E, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::TimeoutError(_) | SdkError::ResponseError(_))
        || matches!(e, SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout())
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
                .projection_expression("#a, #v, #t")
                .expression_attribute_names("#a", &self.attributes_name)
                .expression_attribute_names("#v", &self.version_name)
                .expression_attribute_names("#t", &self.expiry_name)
                .send()
                .await
                .map_err(|e| errors::map("get", &self.resource, key, e))?;
            let Some(item) = out.item else {
                return Ok(None);
            };
            if is_expired(self.expiry_of(&item), self.clock.now()) {
                return Ok(None);
            }
            self.stored_of(key, &item).map(Some)
        }
        .await;
        log_outcome("get", &self.table, key, started, &r);
        r
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        validate_key(key, MAX_KEY_BYTES)?;
        let started = Instant::now();
        let r = async {
            let token = options.token_or_new();
            if !is_unique_token(&token) {
                return Err(Error::InvalidVersion {
                    operation: "save",
                    resource: self.resource.clone(),
                    key: RedactedKey::new(key),
                    version: token.chars().take(40).collect(),
                    reason: "a write token must have persistence_core::unique_token's shape",
                });
            }
            let (value, attrs_size) = convert::to_item_value(attributes, &self.attributes_name)
                .map_err(|e| Error::UnsupportedValue {
                    operation: "save",
                    resource: self.resource.clone(),
                    key: RedactedKey::new(key),
                    detail: e.to_string(),
                })?;
            let now = self.clock.now();
            let expires = options.expiry.resolve(self.default_expiry, now);
            let size = self.partition_key.len()
                + key.len()
                + self.attributes_name.len()
                + attrs_size
                + self.version_name.len()
                + token.len()
                + expires.map_or(0, |_| self.expiry_name.len() + 7);
            if size > MAX_ITEM_BYTES {
                return Err(Error::TooLarge {
                    operation: "save",
                    resource: self.resource.clone(),
                    key: RedactedKey::new(key),
                    size: Some(size),
                    limit: MAX_ITEM_BYTES,
                    source: None,
                });
            }
            let update = match expires {
                Some(_) => "SET #a = :a, #v = :token, #t = :exp",
                None => "SET #a = :a, #v = :token REMOVE #t",
            };
            let mut req = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(self.key_value(key)))
                .update_expression(update)
                .expression_attribute_names("#a", &self.attributes_name)
                .expression_attribute_names("#v", &self.version_name)
                .expression_attribute_names("#t", &self.expiry_name)
                .expression_attribute_values(":a", value)
                .expression_attribute_values(":token", AttributeValue::S(token.clone()))
                .return_values(ReturnValue::None);
            if let Some(at) = expires {
                req = req.expression_attribute_values(
                    ":exp",
                    AttributeValue::N(epoch_seconds(at).to_string()),
                );
            }
            let expectation = match &options.mode {
                SaveMode::Overwrite => None,
                SaveMode::CreateOnly => {
                    // An expired item counts as absent.
                    req = req
                        .condition_expression("attribute_not_exists(#k) OR #t <= :now")
                        .expression_attribute_names("#k", &self.partition_key)
                        .expression_attribute_values(
                            ":now",
                            AttributeValue::N(epoch_seconds(now).to_string()),
                        );
                    Some("the item already exists".to_owned())
                }
                SaveMode::IfVersion(v) => {
                    match self.parse_version("save", key, v)? {
                        Expected::Token(t) => {
                            req = req
                                .condition_expression("#v = :expected")
                                .expression_attribute_values(":expected", AttributeValue::S(t));
                        }
                        Expected::Legacy(n) => {
                            req = req
                                .condition_expression("#v = :expected")
                                .expression_attribute_values(":expected", AttributeValue::N(n));
                        }
                        Expected::Unversioned(digest) => {
                            let Some((condition, old)) =
                                self.unversioned_condition("save", key, &digest).await?
                            else {
                                return Err(self.conflict(
                                    "save",
                                    key,
                                    "the item was deleted since it was read",
                                ));
                            };
                            req = req
                                .condition_expression(condition)
                                .expression_attribute_names("#k", &self.partition_key);
                            if let Some(old) = old {
                                req = req.expression_attribute_values(":old", old);
                            }
                        }
                    }
                    Some(format!(
                        "the item is no longer at version {v} (changed or deleted since it was read)"
                    ))
                }
            };
            if expectation.is_some() {
                req = req.return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            }
            match req.send().await {
                Ok(_) => Ok(Version::new(token)),
                Err(e) => {
                    // The condition failed because the item already carries this write's token:
                    // an earlier attempt of this very save committed and its answer was lost
                    // (the client retried it, or the caller saved again with the same token).
                    if let Some(UpdateItemError::ConditionalCheckFailedException(ccf)) =
                        e.as_service_error()
                    {
                        let ours = ccf.item().and_then(|item| item.get(&self.version_name));
                        if matches!(ours, Some(AttributeValue::S(t)) if *t == token) {
                            tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
                            return Ok(Version::new(token));
                        }
                    }
                    if ambiguous(&e) && self.landed(key, &token).await {
                        tracing::debug!(key = %RedactedKey::new(key), "a save whose answer was lost had landed");
                        return Ok(Version::new(token));
                    }
                    Err(errors::map_save("save", &self.resource, key, e, expectation.as_deref()))
                }
            }
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

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        validate_key(key, MAX_KEY_BYTES)?;
        let started = Instant::now();
        let r = async {
            let mut req = self
                .client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(self.key_value(key)))
                .expression_attribute_names("#v", &self.version_name)
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            req = match self.parse_version("delete", key, expected)? {
                Expected::Token(t) => req
                    .condition_expression("#v = :expected")
                    .expression_attribute_values(":expected", AttributeValue::S(t)),
                Expected::Legacy(n) => req
                    .condition_expression("#v = :expected")
                    .expression_attribute_values(":expected", AttributeValue::N(n)),
                Expected::Unversioned(digest) => {
                    let Some((condition, old)) =
                        self.unversioned_condition("delete", key, &digest).await?
                    else {
                        return Ok(());
                    };
                    let req = req
                        .condition_expression(condition)
                        .expression_attribute_names("#k", &self.partition_key)
                        .expression_attribute_names("#a", &self.attributes_name);
                    match old {
                        Some(old) => req.expression_attribute_values(":old", old),
                        None => req,
                    }
                }
            };
            match req.send().await {
                Ok(_) => Ok(()),
                Err(e) => match e.as_service_error() {
                    // Nothing there any more: what the delete wanted.
                    Some(DeleteItemError::ConditionalCheckFailedException(ccf))
                        if ccf.item().is_none_or(HashMap::is_empty) =>
                    {
                        Ok(())
                    }
                    _ => Err(errors::map_save(
                        "delete",
                        &self.resource,
                        key,
                        e,
                        Some(&format!("the item is no longer at version {expected}")),
                    )),
                },
            }
        }
        .await;
        log_outcome("delete", &self.table, key, started, &r);
        r
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.scan(options, "#k", |this, item| this.key_of(&item))
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.scan(options, "#k, #a, #v, #t", |this, item| {
            let key = this.key_of(&item)?;
            let stored = this.stored_of(&key, &item)?;
            Ok(Entry { key, stored })
        })
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
