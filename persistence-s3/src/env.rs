//! `S3Adapter::from_env()`: Alexa-hosted skills' settings and the standard AWS environment.

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::Region;
use persistence_core::{Error, Result};

use crate::{S3Adapter, S3AdapterBuilder, client_config};

/// The bucket variable Alexa-hosted skills get.
pub const BUCKET_VAR: &str = "S3_PERSISTENCE_BUCKET";
/// The region variable Alexa-hosted skills get (optional; else the standard AWS region).
pub const REGION_VAR: &str = "S3_PERSISTENCE_REGION";
/// Optional path prefix for the objects (this crate's own setting; Alexa-hosted skills have none).
pub const PATH_PREFIX_VAR: &str = "S3_PERSISTENCE_PATH_PREFIX";

impl S3Adapter {
    /// The adapter for a deployment configured by environment (with the variable names of
    /// Alexa-hosted skills, for compatibility and for skills moving off Alexa-hosted): the
    /// bucket from `S3_PERSISTENCE_BUCKET`, the region from `S3_PERSISTENCE_REGION` (else
    /// `AWS_REGION` and the usual chain), an optional prefix from `S3_PERSISTENCE_PATH_PREFIX`,
    /// credentials and endpoint (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`) from the standard
    /// AWS environment, and [`client_config`]'s retry and timeout settings. Path-style
    /// addressing is used when an endpoint is overridden (LocalStack and other emulators).
    ///
    /// ```no_run
    /// # async fn run() -> persistence_core::Result<()> {
    /// let store = persistence_s3::S3Adapter::from_env().await?;
    /// # Ok(()) }
    /// ```
    pub async fn from_env() -> Result<Self> {
        Ok(Self::builder_from_env().await?.build())
    }

    /// Like [`S3Adapter::from_env`], but returns the builder so the prefix can still change.
    pub async fn builder_from_env() -> Result<S3AdapterBuilder> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let bucket = var(BUCKET_VAR).ok_or_else(|| Error::NotConfigured {
            what: format!("no S3 bucket: set {BUCKET_VAR}"),
        })?;
        let (retry, timeout) = client_config();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeout);
        if let Some(region) = var(REGION_VAR) {
            loader = loader.region(Region::new(region));
        }
        let config = loader.load().await;
        if config.region().is_none() {
            return Err(Error::NotConfigured {
                what: format!("no AWS region: set {REGION_VAR} or AWS_REGION"),
            });
        }
        let endpoint_overridden =
            var("AWS_ENDPOINT_URL_S3").is_some() || var("AWS_ENDPOINT_URL").is_some();
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(endpoint_overridden)
            .build();
        let mut builder = Self::builder(aws_sdk_s3::Client::from_conf(s3_config), bucket);
        if let Some(prefix) = var(PATH_PREFIX_VAR) {
            builder = builder.path_prefix(prefix);
        }
        Ok(builder)
    }
}
