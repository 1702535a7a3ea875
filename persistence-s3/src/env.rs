//! `S3Adapter::from_env()`: Alexa-hosted skills' settings and the standard AWS environment.

use persistence_core::{Error, Result};

use crate::{KeyLayout, S3Adapter, S3AdapterBuilder};

/// The bucket variable Alexa-hosted skills get.
pub const BUCKET_VAR: &str = "S3_PERSISTENCE_BUCKET";
/// The region variable Alexa-hosted skills get (optional; else the standard AWS region).
pub const REGION_VAR: &str = "S3_PERSISTENCE_REGION";
/// Optional path prefix for the objects (this crate's own setting; Alexa-hosted skills have none).
pub const PATH_PREFIX_VAR: &str = "S3_PERSISTENCE_PATH_PREFIX";
/// Which official SDK wrote the objects (`python` or `node`), for prefixes they name
/// differently (see [`KeyLayout`](crate::KeyLayout)).
pub const KEY_LAYOUT_VAR: &str = "S3_PERSISTENCE_KEY_LAYOUT";

impl S3Adapter {
    /// The adapter for a deployment configured by environment (with the variable names of
    /// Alexa-hosted skills, for compatibility and for skills moving off Alexa-hosted): the
    /// bucket from `S3_PERSISTENCE_BUCKET`, the region from `S3_PERSISTENCE_REGION` (else
    /// `AWS_REGION` and the usual chain), an optional prefix from `S3_PERSISTENCE_PATH_PREFIX`
    /// (and `S3_PERSISTENCE_KEY_LAYOUT` for prefixes the SDKs name differently),
    /// credentials and endpoint (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`) from the standard
    /// AWS environment, and [`client_config`](crate::client_config)'s retry and timeout settings. Path-style
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
        let var = persistence_aws::var;
        let bucket = var(BUCKET_VAR).ok_or_else(|| Error::NotConfigured {
            what: format!("no S3 bucket: set {BUCKET_VAR}"),
        })?;
        let config = persistence_aws::load_config(var(REGION_VAR), REGION_VAR).await?;
        let s3_config = aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(persistence_aws::endpoint_overridden("AWS_ENDPOINT_URL_S3"))
            .build();
        let mut builder = Self::builder(aws_sdk_s3::Client::from_conf(s3_config), bucket);
        if let Some(prefix) = std::env::var(PATH_PREFIX_VAR)
            .ok()
            .filter(|p| !p.is_empty())
        {
            builder = builder.path_prefix(prefix);
        }
        if let Some(layout) = var(KEY_LAYOUT_VAR) {
            let layout = KeyLayout::parse(&layout).ok_or_else(|| Error::NotConfigured {
                what: format!("{KEY_LAYOUT_VAR} must be `python` or `node`, not {layout:?}"),
            })?;
            builder = builder.key_layout(layout);
        }
        Ok(builder)
    }
}
