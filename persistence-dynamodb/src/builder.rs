//! [`DynamoDbAdapterBuilder`]: table, attribute names, expiry, reads, listing, creation.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use persistence_core::{Clock, SystemClock};

use crate::table::TableCreation;
use crate::{
    DEFAULT_EXPIRY_ATTRIBUTE, DEFAULT_TOKENS_ATTRIBUTE, DEFAULT_VERSION_ATTRIBUTE, DynamoDbAdapter,
};

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

    /// The name of the list attribute that holds the latest write tokens (default
    /// [`DEFAULT_TOKENS_ATTRIBUTE`]), with which a save whose answer was lost recognises its
    /// own write even after others saved on top of it.
    pub fn tokens_attribute_name(mut self, name: impl Into<String>) -> Self {
        self.0.tokens_name = name.into();
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

    /// Saves that changed a few top-level attributes of what was read write only those
    /// (`SET attributes.#name`), when that is smaller than the whole map (default on). Off, every
    /// save writes the whole map.
    pub fn partial_writes(mut self, on: bool) -> Self {
        self.0.partial_writes = on;
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
    /// retry and timeout settings apply; [`client_config`](crate::client_config) gives ones that
    /// fit Alexa).
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
            tokens_name: DEFAULT_TOKENS_ATTRIBUTE.into(),
            expiry_name: DEFAULT_EXPIRY_ATTRIBUTE.into(),
            consistent_read: true,
            creation: TableCreation::default(),
            clock: Arc::new(SystemClock),
            default_expiry: None,
            scan_segments: 4,
            partial_writes: true,
        })
    }
}
