//! `DynamoDbAdapter::from_env()`: Alexa-hosted skills' settings and the standard AWS environment.

use persistence_core::{Error, Result};

use crate::{DynamoDbAdapter, DynamoDbAdapterBuilder};

/// The table name variable (the name Alexa-hosted skills get, kept for compatibility: a Rust
/// skill is never Alexa-hosted, which runs only Node.js and Python).
pub const TABLE_NAME_VAR: &str = "DYNAMODB_PERSISTENCE_TABLE_NAME";
/// The region variable Alexa-hosted skills get (optional; else the standard AWS region).
pub const REGION_VAR: &str = "DYNAMODB_PERSISTENCE_REGION";

impl DynamoDbAdapter {
    /// The adapter for a deployment configured by environment (with the variable names of
    /// Alexa-hosted skills, for compatibility and for skills moving off Alexa-hosted):
    /// the table from `DYNAMODB_PERSISTENCE_TABLE_NAME`, the region from
    /// `DYNAMODB_PERSISTENCE_REGION` (else `AWS_REGION` and the usual chain), credentials and
    /// endpoint (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_DYNAMODB`) from the standard AWS
    /// environment, and [`client_config`](crate::client_config)'s retry and timeout settings.
    ///
    /// ```no_run
    /// # async fn run() -> persistence_core::Result<()> {
    /// let store = persistence_dynamodb::DynamoDbAdapter::from_env().await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_env() -> Result<Self> {
        Ok(Self::builder_from_env().await?.build())
    }

    /// Like [`DynamoDbAdapter::from_env`], but returns the builder so names and creation
    /// settings can still be changed.
    pub async fn builder_from_env() -> Result<DynamoDbAdapterBuilder> {
        let table = persistence_aws::var(TABLE_NAME_VAR).ok_or_else(|| Error::NotConfigured {
            what: format!("no DynamoDB table name: set {TABLE_NAME_VAR}"),
        })?;
        let config =
            persistence_aws::load_config(persistence_aws::var(REGION_VAR), REGION_VAR).await?;
        Ok(Self::builder(aws_sdk_dynamodb::Client::new(&config), table))
    }
}
