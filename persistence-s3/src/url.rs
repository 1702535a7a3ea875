//! `s3://BUCKET/PREFIX` URLs: how tools (the `alexa-persistence` command) and configuration name
//! a bucket and prefix.

use std::fmt;
use std::str::FromStr;

use persistence_core::{Error, Result};

/// The URL scheme of an S3 bucket.
pub const URL_SCHEME: &str = "s3";

/// A bucket and optional prefix named by a URL: `s3://BUCKET`, `s3://BUCKET/PREFIX`,
/// optionally `?region=REGION` (otherwise the region of the AWS configuration) and
/// `layout=python|node` (see [`KeyLayout`](crate::KeyLayout)). The prefix is everything after
/// the `/` that ends the bucket, as the official SDKs were given it: `s3://b//skills/cafe` is
/// the prefix `/skills/cafe`.
///
/// ```
/// use persistence_s3::S3Url;
/// let url: S3Url = "s3://skill-bucket/skills/cafe/".parse()?;
/// assert_eq!(url.bucket, "skill-bucket");
/// assert_eq!(url.prefix.as_deref(), Some("skills/cafe/"));
/// assert_eq!(url.to_string(), "s3://skill-bucket/skills/cafe/");
/// assert_eq!("s3://b-1".parse::<S3Url>()?.prefix, None);
/// assert_eq!("s3://b-1//abs".parse::<S3Url>()?.prefix.as_deref(), Some("/abs"));
/// assert!("s3://".parse::<S3Url>().is_err());
/// # Ok::<(), persistence_core::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct S3Url {
    /// The bucket's name: 3 to 255 characters of `a-z A-Z 0-9 . - _` (new buckets: 3 to 63,
    /// lowercase; older ones in us-east-1 may have more).
    pub bucket: String,
    /// The prefix objects live under, as [`S3AdapterBuilder::path_prefix`](crate::S3AdapterBuilder::path_prefix)
    /// takes it (`None`: the bucket's root).
    pub prefix: Option<String>,
    /// The region, when the URL names one.
    pub region: Option<String>,
    /// Which official SDK's object names, when the URL says.
    pub layout: Option<crate::KeyLayout>,
}

impl S3Url {
    /// Parses `s3://BUCKET[/PREFIX][?region=REGION]`.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |why: &str| Error::NotConfigured {
            what: format!(
                "invalid S3 URL `{url}`: {why} (expected s3://BUCKET or s3://BUCKET/PREFIX)"
            ),
        };
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it does not start with s3://"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if !(3..=255).contains(&bucket.len()) {
            return Err(bad("a bucket name has 3 to 63 characters"));
        }
        if let Some(c) = bucket
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
        {
            return Err(bad(&format!(
                "a bucket name has only letters, digits, '.', '-' and '_', not {c:?}"
            )));
        }
        if prefix.chars().any(char::is_control) {
            return Err(bad("the prefix has a control character"));
        }
        if prefix.contains('\\') {
            return Err(bad("the prefix has a backslash"));
        }
        let (region, layout) = settings(query).map_err(|why| bad(&why))?;
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: (!prefix.is_empty()).then(|| prefix.to_owned()),
            region,
            layout,
        })
    }
}

/// Reads `region=R` and `layout=python|node` from a query string.
fn settings(
    query: &str,
) -> std::result::Result<(Option<String>, Option<crate::KeyLayout>), String> {
    let mut region = None;
    let mut layout = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("region", r))
                if !r.is_empty() && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
            {
                region = Some(r.to_owned());
            }
            Some(("region", _)) => return Err("the region is empty or not a region name".into()),
            Some(("layout", l)) => {
                layout = Some(
                    crate::KeyLayout::parse(l)
                        .ok_or_else(|| format!("layout is `python` or `node`, not `{l}`"))?,
                );
            }
            _ => {
                return Err(format!(
                    "unknown setting `{pair}` (only region=REGION and layout=python|node)"
                ));
            }
        }
    }
    Ok((region, layout))
}

impl FromStr for S3Url {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

impl fmt::Display for S3Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}", self.bucket)?;
        if let Some(p) = &self.prefix {
            write!(f, "/{p}")?;
        }
        let mut sep = '?';
        if let Some(r) = &self.region {
            write!(f, "{sep}region={r}")?;
            sep = '&';
        }
        match self.layout {
            Some(crate::KeyLayout::Python) => write!(f, "{sep}layout=python")?,
            Some(crate::KeyLayout::Node) => write!(f, "{sep}layout=node")?,
            None => {}
        }
        Ok(())
    }
}

#[cfg(feature = "from-env")]
mod from_url {
    use aws_config::SdkConfig;
    use aws_sdk_s3::config::Region;
    use persistence_core::Result;

    use super::S3Url;
    use crate::{S3Adapter, S3AdapterBuilder};

    impl S3Adapter {
        /// The adapter for the bucket and prefix a URL names (`s3://BUCKET[/PREFIX]`), with the
        /// standard AWS environment (`AWS_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL`,
        /// credentials) and [`client_config`](crate::client_config)'s time budget. Path-style
        /// addressing when an endpoint is set (emulators).
        ///
        /// ```no_run
        /// # async fn run() -> persistence_core::Result<()> {
        /// let store = persistence_s3::S3Adapter::from_url("s3://skill-bucket/skills/cafe").await?;
        /// # Ok(()) }
        /// ```
        pub async fn from_url(url: &str) -> Result<Self> {
            let url = S3Url::parse(url)?;
            let config = persistence_aws::load_config_for_url(url.region.is_some()).await?;
            Ok(Self::builder_from_url(&url, &config).build())
        }

        /// A builder for the bucket and prefix a URL names, with a client made from `config`
        /// (its endpoint, credentials, retry and timeout settings; the URL's region, if any,
        /// wins). Path-style addressing when `config` has an endpoint or `AWS_ENDPOINT_URL_S3`
        /// is set (LocalStack and other emulators need it).
        pub fn builder_from_url(url: &S3Url, config: &SdkConfig) -> S3AdapterBuilder {
            let s3_endpoint =
                std::env::var("AWS_ENDPOINT_URL_S3").is_ok_and(|v| !v.trim().is_empty());
            let mut conf = aws_sdk_s3::config::Builder::from(config)
                .force_path_style(config.endpoint_url().is_some() || s3_endpoint);
            if let Some(r) = &url.region {
                conf = conf.region(Region::new(r.clone()));
            }
            let builder = Self::builder(
                aws_sdk_s3::Client::from_conf(conf.build()),
                url.bucket.clone(),
            );
            let builder = match &url.prefix {
                Some(p) => builder.path_prefix(p.clone()),
                None => builder,
            };
            match url.layout {
                Some(layout) => builder.key_layout(layout),
                None => builder,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = S3Url::parse("s3://bucket").unwrap();
        assert_eq!(
            (u.bucket.as_str(), u.prefix, u.region),
            ("bucket", None, None)
        );
        let u = S3Url::parse("s3://bucket/").unwrap();
        assert_eq!(u.prefix, None);
        let u = S3Url::parse("s3://my.bucket/a/b?region=us-west-2").unwrap();
        assert_eq!(u.prefix.as_deref(), Some("a/b"));
        assert_eq!(u.region.as_deref(), Some("us-west-2"));
        assert_eq!(u.to_string(), "s3://my.bucket/a/b?region=us-west-2");
        // Prefixes as the SDKs were given them, with the layout for the ones they disagree on.
        for text in [
            "s3://bucket//skills/cafe",
            "s3://bucket/a//b?layout=node",
            "s3://bucket/./a?region=eu-west-1&layout=python",
        ] {
            assert_eq!(S3Url::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "s3://",
            "s3://ab",
            "s3:///prefix",
            "s3://bucket name",
            "s3://bucket/a\\b",
            "s3://bucket/a?layout=java",
            "s3://bucket?x=1",
            "dynamodb://bucket",
        ] {
            let e = S3Url::parse(bad).unwrap_err();
            assert!(e.to_string().contains("invalid S3 URL"), "{bad}: {e}");
        }
    }
}
