//! `dynamodb://TABLE` URLs: how tools (the `alexa-persistence` command) and configuration name a
//! table.

use std::fmt;
use std::str::FromStr;

use persistence_core::{Error, Result};

/// The URL scheme of a DynamoDB table.
pub const URL_SCHEME: &str = "dynamodb";

/// A table named by a URL: `dynamodb://TABLE`, optionally `?region=REGION` (otherwise the
/// region of the AWS configuration).
///
/// ```
/// use persistence_dynamodb::DynamoDbUrl;
/// let url: DynamoDbUrl = "dynamodb://skill-table?region=eu-west-1".parse()?;
/// assert_eq!(url.table, "skill-table");
/// assert_eq!(url.region.as_deref(), Some("eu-west-1"));
/// assert_eq!(url.to_string(), "dynamodb://skill-table?region=eu-west-1");
/// assert!("dynamodb://ab".parse::<DynamoDbUrl>().is_err()); // table names have 3+ characters
/// # Ok::<(), persistence_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DynamoDbUrl {
    /// The table's name: 3 to 255 characters of `A-Z a-z 0-9 _ . -`.
    pub table: String,
    /// The region, when the URL names one.
    pub region: Option<String>,
}

impl DynamoDbUrl {
    /// Parses `dynamodb://TABLE[?region=REGION]`.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::NotConfigured {
            what: format!("invalid DynamoDB URL `{url}`: {why} (expected dynamodb://TABLE)"),
        };
        let rest = url
            .strip_prefix("dynamodb://")
            .ok_or_else(|| bad("it does not start with dynamodb://"))?;
        let (table, query) = rest.split_once('?').unwrap_or((rest, ""));
        if table.contains('/') {
            return Err(bad("a table name has no '/'"));
        }
        if !(3..=255).contains(&table.len()) {
            return Err(bad("a table name has 3 to 255 characters"));
        }
        if let Some(c) = table
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(bad(&format!(
                "a table name has only letters, digits, '_', '.' and '-', not {c:?}"
            )));
        }
        let region = region_from_query(query).map_err(|why| bad(&why))?;
        Ok(Self {
            table: table.to_owned(),
            region,
        })
    }
}

/// Reads `region=R` (the only setting a URL takes) from a query string.
pub(crate) fn region_from_query(query: &str) -> std::result::Result<Option<String>, String> {
    let mut region = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("region", r))
                if !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                region = Some(r.to_owned());
            }
            Some(("region", _)) => return Err("the region is empty or not a region name".into()),
            _ => return Err(format!("unknown setting `{pair}` (only region=REGION)")),
        }
    }
    Ok(region)
}

impl FromStr for DynamoDbUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for DynamoDbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "dynamodb://{}", self.table)?;
        if let Some(r) = &self.region {
            write!(f, "?region={r}")?;
        }
        Ok(())
    }
}

#[cfg(feature = "from-env")]
mod from_url {
    use aws_config::SdkConfig;
    use aws_sdk_dynamodb::config::Region;
    use persistence_core::Result;

    use super::DynamoDbUrl;
    use crate::{DynamoDbAdapter, DynamoDbAdapterBuilder};

    impl DynamoDbAdapter {
        /// The adapter for the table a URL names (`dynamodb://TABLE[?region=REGION]`), with the
        /// standard AWS environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`,
        /// credentials) and [`client_config`](crate::client_config)'s time budget.
        ///
        /// ```no_run
        /// # async fn run() -> persistence_core::Result<()> {
        /// let store = persistence_dynamodb::DynamoDbAdapter::from_url("dynamodb://skill-table").await?;
        /// # Ok(()) }
        /// ```
        pub async fn from_url(url: &str) -> Result<Self> {
            let url = DynamoDbUrl::parse(url)?;
            let config = persistence_aws::load_config_for_url(url.region.is_some()).await?;
            Ok(Self::builder_from_url(&url, &config).build())
        }

        /// A builder for the table a URL names, with a client made from `config` (its
        /// endpoint, credentials, retry and timeout settings; the URL's region, if any, wins
        /// over the config's). Tools that scan whole tables pass longer timeouts than a skill's.
        pub fn builder_from_url(url: &DynamoDbUrl, config: &SdkConfig) -> DynamoDbAdapterBuilder {
            let mut conf = aws_sdk_dynamodb::config::Builder::from(config);
            if let Some(r) = &url.region {
                conf = conf.region(Region::new(r.clone()));
            }
            Self::builder(
                aws_sdk_dynamodb::Client::from_conf(conf.build()),
                url.table.clone(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = DynamoDbUrl::parse("dynamodb://My_Table.v2-x").unwrap();
        assert_eq!(u.table, "My_Table.v2-x");
        assert_eq!(u.region, None);
        for bad in [
            "dynamodb://",
            "dynamodb://ab",
            "dynamodb://t/x",
            "dynamodb://tab le",
            "dynamodb://table?regio=x",
            "dynamodb://table?region=",
            "dynamodb://table?region=a/b",
            "s3://table",
            "dynamodb:table",
        ] {
            let e = DynamoDbUrl::parse(bad).unwrap_err();
            assert!(e.to_string().contains("invalid DynamoDB URL"), "{bad}: {e}");
        }
        assert!(DynamoDbUrl::parse(&format!("dynamodb://{}", "t".repeat(256))).is_err());
    }
}
