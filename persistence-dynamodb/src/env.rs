//! `DynamoDbAdapter::from_env()`: Alexa-hosted skills' settings and the standard AWS environment.

use aws_config::BehaviorVersion;
use aws_sdk_dynamodb::config::Region;
use persistence_core::{Error, Result};

use crate::{DynamoDbAdapter, DynamoDbAdapterBuilder, client_config};

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
    /// environment, and [`client_config`]'s retry and timeout settings.
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
        let table = std::env::var(TABLE_NAME_VAR)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| Error::NotConfigured {
                what: format!("no DynamoDB table name: set {TABLE_NAME_VAR}"),
            })?;
        let (retry, timeout) = client_config();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeout);
        if let Some(region) = std::env::var(REGION_VAR)
            .ok()
            .filter(|r| !r.trim().is_empty())
        {
            loader = loader.region(Region::new(region));
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(Error::NotConfigured {
                what: format!("no AWS region: set {REGION_VAR} or AWS_REGION"),
            });
        }
        Ok(Self::builder(aws_sdk_dynamodb::Client::new(&config), table))
    }
}
