//! Creating the table on request, and waiting for it to be usable.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ProvisionedThroughput,
    ScalarAttributeType, TableDescription, TableStatus, TimeToLiveSpecification, TimeToLiveStatus,
};
use persistence_core::{Error, Result};

use crate::{DynamoDbAdapter, errors};

/// How the table is billed when [`DynamoDbAdapter::ensure_table`] creates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Billing {
    /// Pay per request (no capacity to plan). The default.
    #[default]
    OnDemand,
    /// Provisioned read and write capacity units.
    Provisioned {
        /// Read capacity units.
        read: i64,
        /// Write capacity units.
        write: i64,
    },
}

/// Settings for [`DynamoDbAdapter::ensure_table`].
///
/// ```
/// use std::time::Duration;
/// use persistence_dynamodb::{Billing, TableCreation};
/// let creation = TableCreation {
///     billing: Billing::Provisioned { read: 5, write: 5 },
///     wait_timeout: Duration::from_secs(120),
///     ..TableCreation::default()
/// };
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableCreation {
    /// Billing of a table it creates.
    pub billing: Billing,
    /// How long to wait for the table to become ACTIVE (default 60 s).
    pub wait_timeout: Duration,
    /// Time between two looks at the table's status (default 500 ms).
    pub poll_interval: Duration,
}

impl Default for TableCreation {
    fn default() -> Self {
        Self {
            billing: Billing::OnDemand,
            wait_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(500),
        }
    }
}

impl DynamoDbAdapter {
    /// Makes sure the table exists with the key schema this adapter needs (hash key
    /// `partition_key_name`, type S) and is ACTIVE.
    ///
    /// Creates it if missing (see [`TableCreation`]), tolerates another process creating it at
    /// the same moment, and waits until it is ACTIVE, at most
    /// [`TableCreation::wait_timeout`]. An existing table with another key schema is an
    /// [`Error::Incompatible`] naming both schemas. Then it makes sure the table's Time to Live
    /// is enabled on the adapter's expiry attribute (default `ttl`), so that DynamoDB deletes
    /// expired attributes (days late at worst; reads treat them as absent at once); Time to Live
    /// already enabled on another attribute is an [`Error::Incompatible`] that says which
    /// (set [`expiry_attribute_name`](crate::DynamoDbAdapterBuilder::expiry_attribute_name)).
    /// Call it at start-up (or from a deployment step), not per request: unlike the ASK SDKs,
    /// which fire `CreateTable` from a constructor and fail the first users while the table is
    /// CREATING, this returns only when the table can serve.
    pub async fn ensure_table(&self) -> Result<()> {
        let started = Instant::now();
        let deadline = started + self.creation.wait_timeout;
        let mut created = false;
        loop {
            match self.describe_table().await? {
                Some(desc) => {
                    self.check_schema(&desc)?;
                    match desc.table_status() {
                        Some(TableStatus::Active) => {
                            tracing::info!(table = %self.table, created, waited_ms = started.elapsed().as_millis() as u64, "table is ACTIVE");
                            return self.ensure_time_to_live().await;
                        }
                        Some(TableStatus::Deleting) => {
                            return Err(Error::Incompatible {
                                resource: self.resource.clone(),
                                detail: "the table is being deleted".into(),
                            });
                        }
                        status => {
                            tracing::debug!(table = %self.table, ?status, "waiting for the table");
                        }
                    }
                }
                None if !created => {
                    self.create_table().await?;
                    created = true;
                    continue;
                }
                None => {
                    tracing::debug!(table = %self.table, "created table not visible yet");
                }
            }
            if Instant::now() + self.creation.poll_interval > deadline {
                return Err(Error::backend(
                    "ensure table",
                    self.resource.clone(),
                    format!(
                        "the table was not ACTIVE after {:?}",
                        self.creation.wait_timeout
                    ),
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "table not active"),
                ));
            }
            tokio::time::sleep(self.creation.poll_interval).await;
        }
    }

    /// Enables Time to Live on the expiry attribute unless it already is.
    async fn ensure_time_to_live(&self) -> Result<()> {
        let described = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| errors::map("describe time to live", &self.resource, "", e))?;
        let current = described.time_to_live_description();
        let status = current.and_then(|d| d.time_to_live_status());
        let attribute = current.and_then(|d| d.attribute_name());
        if let Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) = status {
            if attribute == Some(self.expiry_name.as_str()) {
                return Ok(());
            }
            return Err(Error::Incompatible {
                resource: self.resource.clone(),
                detail: format!(
                    "its Time to Live is on attribute '{}', but this adapter keeps expiry \
                         in '{}' (set expiry_attribute_name to match)",
                    attribute.unwrap_or("?"),
                    self.expiry_name
                ),
            });
        }
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(&self.expiry_name)
            .build()
            .map_err(|e| {
                Error::backend(
                    "update time to live",
                    self.resource.clone(),
                    "invalid request",
                    e,
                )
            })?;
        self.client
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(spec)
            .send()
            .await
            .map_err(|e| errors::map("update time to live", &self.resource, "", e))?;
        tracing::info!(table = %self.table, attribute = %self.expiry_name, "enabled Time to Live");
        Ok(())
    }

    async fn describe_table(&self) -> Result<Option<TableDescription>> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(out) => Ok(out.table),
            Err(e) => match errors::map("describe table", &self.resource, "", e) {
                Error::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn create_table(&self) -> Result<()> {
        let build_err = |e: aws_sdk_dynamodb::error::BuildError| {
            Error::backend("create table", self.resource.clone(), "invalid request", e)
        };
        let mut req = self
            .client
            .create_table()
            .table_name(&self.table)
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(&self.partition_key)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(build_err)?,
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(&self.partition_key)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build_err)?,
            );
        req = match self.creation.billing {
            Billing::OnDemand => req.billing_mode(BillingMode::PayPerRequest),
            Billing::Provisioned { read, write } => req
                .billing_mode(BillingMode::Provisioned)
                .provisioned_throughput(
                    ProvisionedThroughput::builder()
                        .read_capacity_units(read)
                        .write_capacity_units(write)
                        .build()
                        .map_err(build_err)?,
                ),
        };
        match req.send().await {
            Ok(_) => {
                tracing::info!(table = %self.table, "creating table");
                Ok(())
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                tracing::info!(table = %self.table, "table is being created by someone else");
                Ok(())
            }
            Err(e) => Err(errors::map("create table", &self.resource, "", e)),
        }
    }

    fn check_schema(&self, desc: &TableDescription) -> Result<()> {
        let keys = desc.key_schema();
        let hash_ok = keys.len() == 1
            && keys[0].key_type() == &KeyType::Hash
            && keys[0].attribute_name() == self.partition_key;
        let type_ok = desc.attribute_definitions().iter().any(|d| {
            d.attribute_name() == self.partition_key
                && d.attribute_type() == &ScalarAttributeType::S
        });
        if hash_ok && type_ok {
            return Ok(());
        }
        let found: Vec<String> = keys
            .iter()
            .map(|k| {
                let ty = desc
                    .attribute_definitions()
                    .iter()
                    .find(|d| d.attribute_name() == k.attribute_name())
                    .map(|d| d.attribute_type().as_str().to_owned())
                    .unwrap_or_else(|| "?".into());
                format!("{} {} ({ty})", k.key_type().as_str(), k.attribute_name())
            })
            .collect();
        Err(Error::Incompatible {
            resource: self.resource.clone(),
            detail: format!(
                "its key schema is [{}], but this adapter needs only a HASH key '{}' of type S",
                found.join(", "),
                self.partition_key
            ),
        })
    }
}
