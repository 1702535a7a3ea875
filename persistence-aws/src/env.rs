//! The standard AWS configuration from the environment, with [`client_config`]'s budget.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use persistence_core::{Error, Result};

use crate::client_config;

/// The value of environment variable `name`, when set and not blank.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// True when an endpoint is set for all services (`AWS_ENDPOINT_URL`) or for this one
/// (`service_variable`, e.g. `AWS_ENDPOINT_URL_S3`): an emulator such as LocalStack.
pub fn endpoint_overridden(service_variable: &str) -> bool {
    var(service_variable).is_some() || var("AWS_ENDPOINT_URL").is_some()
}

/// Loads the standard AWS configuration (credentials, region, endpoints from the environment
/// and profile) with [`client_config`]'s retries and timeouts, in `region` when given.
///
/// # Errors
/// [`Error::NotConfigured`] when no region is found, naming `region_variable` and `AWS_REGION`.
pub async fn load_config(region: Option<String>, region_variable: &str) -> Result<SdkConfig> {
    let mut loader = loader();
    if let Some(region) = region {
        loader = loader.region(Region::new(region));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(Error::NotConfigured {
            what: format!("no AWS region: set {region_variable} or AWS_REGION"),
        });
    }
    Ok(config)
}

/// The configuration [`load_config`] loads, for a client whose region may come from a store URL
/// (`?region=REGION`) instead: `url_has_region` says whether it does, and the URL's region is set
/// on the client by the caller.
///
/// # Errors
/// [`Error::NotConfigured`] when neither the environment nor the URL gives a region.
pub async fn load_config_for_url(url_has_region: bool) -> Result<SdkConfig> {
    let config = loader().load().await;
    if config.region().is_none() && !url_has_region {
        return Err(Error::NotConfigured {
            what: "no AWS region: set AWS_REGION or add ?region=REGION to the URL".into(),
        });
    }
    Ok(config)
}

fn loader() -> aws_config::ConfigLoader {
    let (retry, timeout) = client_config();
    aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeout)
}
