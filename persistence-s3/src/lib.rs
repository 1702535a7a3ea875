//! Alexa skill persistent attributes in Amazon S3: one JSON object per key.
//!
//! [`S3Adapter`] uses the layout of the official ASK SDKs' S3 adapters (Python, Node.js), so a
//! skill moving to Rust keeps every user's data: the object key is `prefix + "/" + key` (the bare
//! key without a prefix), no suffix, and the body is the attributes as UTF-8 JSON. It writes
//! compact JSON with `Content-Type: application/json`, and reads what the SDKs wrote (Python's
//! spaced JSON with `\u` escapes, Node's compact JSON).
//!
//! Versions are the objects' ETags, and saves are conditional writes: `If-None-Match: *` for
//! [`SaveMode::CreateOnly`], `If-Match: <etag>` for [`SaveMode::IfVersion`]. Keys are checked so
//! that none can leave the prefix (no `.`/`..` segments, no leading `/`, no backslash).
//!
//! ```no_run
//! use persistence_core::PersistenceAdapterExt;
//! use persistence_s3::S3Adapter;
//!
//! # async fn run() -> persistence_core::Result<()> {
//! // Alexa-hosted skill: the bucket comes from the environment.
//! let store = S3Adapter::from_env().await?;
//!
//! // Or with your own client:
//! let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
//! let store = S3Adapter::builder(aws_sdk_s3::Client::new(&config), "my-skill-bucket")
//!     .path_prefix("skills/cafe")
//!     .build();
//! store.update("amzn1.ask.account.A", |attrs| {
//!     attrs.insert("usual".into(), "latte".into());
//! }).await?;
//! # Ok(()) }
//! ```
//!
//! IAM actions needed: `s3:GetObject`, `s3:PutObject`, `s3:DeleteObject` on
//! `arn:aws:s3:::bucket/prefix/*`; `s3:ListBucket` on the bucket lets S3 answer "no such key"
//! for a new user instead of "access denied".

mod errors;

use std::time::Instant;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use persistence_core::{
    Attributes, Error, PersistenceAdapter, RedactedKey, Result, SaveMode, Stored, Version,
    async_trait, validate_key,
};

/// S3's limit on an object key, in bytes (prefix included).
pub const MAX_OBJECT_KEY_BYTES: usize = 1024;

/// Persistent attributes as JSON objects in an S3 bucket. Cheap to clone.
#[derive(Clone, Debug)]
pub struct S3Adapter {
    client: Client,
    bucket: String,
    prefix: Option<String>,
    resource: String,
}

/// Builds an [`S3Adapter`]; see [`S3Adapter::builder`].
#[derive(Clone, Debug)]
pub struct S3AdapterBuilder {
    client: Client,
    bucket: String,
    prefix: Option<String>,
}

impl S3AdapterBuilder {
    /// Objects go under `prefix/` (default: none, the bucket's root). Leading and trailing `/`
    /// are dropped, as the SDKs' path joining does.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        let p = prefix.into();
        let p = p.trim_matches('/');
        self.prefix = (!p.is_empty()).then(|| p.to_owned());
        self
    }

    /// The adapter.
    pub fn build(self) -> S3Adapter {
        let resource = match &self.prefix {
            Some(p) => format!("S3 bucket '{}' under '{p}/'", self.bucket),
            None => format!("S3 bucket '{}'", self.bucket),
        };
        S3Adapter {
            client: self.client,
            bucket: self.bucket,
            prefix: self.prefix,
            resource,
        }
    }
}

impl S3Adapter {
    /// A builder for the adapter over `bucket`, using `client` as it is configured (its retry
    /// and timeout settings apply; [`client_config`] gives ones that fit Alexa). S3 emulators
    /// such as LocalStack need `force_path_style(true)` on the client.
    ///
    /// ```
    /// # fn demo(client: aws_sdk_s3::Client) {
    /// let store = persistence_s3::S3Adapter::builder(client, "skill-bucket")
    ///     .path_prefix("skills/cafe")
    ///     .build();
    /// assert_eq!(store.object_key("amzn1.ask.account.A").unwrap(), "skills/cafe/amzn1.ask.account.A");
    /// # }
    /// ```
    pub fn builder(client: Client, bucket: impl Into<String>) -> S3AdapterBuilder {
        S3AdapterBuilder {
            client,
            bucket: bucket.into(),
            prefix: None,
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The object key a storage key maps to, after checking the key cannot leave the prefix.
    pub fn object_key(&self, key: &str) -> Result<String> {
        let prefix_len = self.prefix.as_ref().map_or(0, |p| p.len() + 1);
        validate_key(key, MAX_OBJECT_KEY_BYTES.saturating_sub(prefix_len))?;
        let invalid = |reason: &str| Error::InvalidKey {
            key: RedactedKey::new(key),
            reason: reason.to_owned(),
        };
        if key.starts_with('/') {
            return Err(invalid("an S3 key may not start with '/'"));
        }
        if key.contains('\\') {
            return Err(invalid("an S3 key may not contain a backslash"));
        }
        if key
            .split('/')
            .any(|seg| seg == "." || seg == ".." || seg.is_empty())
        {
            return Err(invalid(
                "an S3 key may not have '.', '..' or empty path segments",
            ));
        }
        Ok(match &self.prefix {
            Some(p) => format!("{p}/{key}"),
            None => key.to_owned(),
        })
    }

    fn corrupt(&self, key: &str, detail: impl Into<String>) -> Error {
        Error::CorruptData {
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            detail: detail.into(),
        }
    }

    /// Parses a stored body: empty is empty attributes; anything but a JSON object is corrupt.
    fn parse_body(&self, key: &str, body: &[u8]) -> Result<Attributes> {
        let text = std::str::from_utf8(body)
            .map_err(|e| self.corrupt(key, format!("the object is not UTF-8 text ({e})")))?;
        if text.trim().is_empty() {
            return Ok(Attributes::new());
        }
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| self.corrupt(key, format!("the object is not valid JSON ({e})")))?;
        Attributes::try_from(value).map_err(|other| {
            self.corrupt(
                key,
                format!(
                    "the object holds {}, not a JSON object",
                    persistence_core::json_type_name(&other)
                ),
            )
        })
    }
}

fn log_outcome<T>(op: &'static str, bucket: &str, key: &str, started: Instant, r: &Result<T>) {
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    match r {
        Ok(_) => {
            tracing::debug!(bucket, op, key = %RedactedKey::new(key), latency_ms, outcome = "ok", "s3")
        }
        Err(e) if e.is_conflict() => {
            tracing::debug!(bucket, op, key = %RedactedKey::new(key), latency_ms, outcome = "conflict", "s3")
        }
        Err(e) => {
            tracing::warn!(bucket, op, key = %RedactedKey::new(key), latency_ms, outcome = "error", error = %e, "s3")
        }
    }
}

#[async_trait]
impl PersistenceAdapter for S3Adapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        let object_key = self.object_key(key)?;
        let started = Instant::now();
        let r = async {
            let out = match self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&object_key)
                .send()
                .await
            {
                Ok(out) => out,
                Err(e) => {
                    return match errors::map("get", &self.resource, key, e, None) {
                        errors::Mapped::Missing => Ok(None),
                        errors::Mapped::Error(e) => Err(e),
                    };
                }
            };
            let version = out.e_tag().map(Version::new);
            let body = out.body.collect().await.map_err(|e| {
                Error::backend("get", self.resource.clone(), "reading the object failed", e)
            })?;
            let attributes = self.parse_body(key, &body.into_bytes())?;
            let version = version.ok_or_else(|| {
                Error::backend(
                    "get",
                    self.resource.clone(),
                    "S3 returned no ETag",
                    std::io::Error::other("missing ETag"),
                )
            })?;
            Ok(Some(Stored {
                attributes,
                version,
            }))
        }
        .await;
        log_outcome("get", &self.bucket, key, started, &r);
        r
    }

    async fn save(&self, key: &str, attributes: &Attributes, mode: SaveMode) -> Result<Version> {
        let object_key = self.object_key(key)?;
        let started = Instant::now();
        let r = async {
            let body = serde_json::to_vec(attributes).map_err(|e| {
                Error::backend("save", self.resource.clone(), "encoding JSON failed", e)
            })?;
            let mut req = self
                .client
                .put_object()
                .bucket(&self.bucket)
                .key(&object_key)
                .content_type("application/json")
                .body(ByteStream::from(body));
            let expectation = match &mode {
                SaveMode::Overwrite => None,
                SaveMode::CreateOnly => {
                    req = req.if_none_match("*");
                    Some("the object already exists".to_owned())
                }
                SaveMode::IfVersion(v) => {
                    req = req.if_match(v.as_str());
                    Some(format!(
                        "the object is no longer at ETag {v} (changed or deleted since it was read)"
                    ))
                }
            };
            let out = req.send().await.map_err(|e| {
                match errors::map("save", &self.resource, key, e, expectation.as_deref()) {
                    errors::Mapped::Error(e) => e,
                    // A 404 to a conditional write: the object vanished since it was read.
                    errors::Mapped::Missing => Error::Conflict {
                        operation: "save",
                        resource: self.resource.clone(),
                        key: RedactedKey::new(key),
                        reason: expectation
                            .clone()
                            .unwrap_or_else(|| "the object vanished".into()),
                    },
                }
            })?;
            out.e_tag().map(Version::new).ok_or_else(|| {
                Error::backend(
                    "save",
                    self.resource.clone(),
                    "S3 returned no ETag",
                    std::io::Error::other("missing ETag"),
                )
            })
        }
        .await;
        log_outcome("save", &self.bucket, key, started, &r);
        r
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let object_key = self.object_key(key)?;
        let started = Instant::now();
        let r = match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match errors::map("delete", &self.resource, key, e, None) {
                errors::Mapped::Missing => Ok(()),
                errors::Mapped::Error(e) => Err(e),
            },
        };
        log_outcome("delete", &self.bucket, key, started, &r);
        r
    }

    fn describe(&self) -> String {
        self.resource.clone()
    }
}

/// Retry and timeout settings that fit Alexa's 8-second answer budget (see
/// [`persistence_core::budget`]); apply them to your own client's config.
///
/// ```
/// let (retry, timeout) = persistence_s3::client_config();
/// let conf = aws_sdk_s3::Config::builder()
///     .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
///     .retry_config(retry)
///     .timeout_config(timeout)
///     .build();
/// # let _ = conf;
/// ```
pub fn client_config() -> (
    aws_sdk_s3::config::retry::RetryConfig,
    aws_sdk_s3::config::timeout::TimeoutConfig,
) {
    use persistence_core::budget;
    (
        aws_sdk_s3::config::retry::RetryConfig::standard()
            .with_max_attempts(budget::MAX_ATTEMPTS)
            .with_initial_backoff(budget::INITIAL_BACKOFF)
            .with_max_backoff(budget::MAX_BACKOFF),
        aws_sdk_s3::config::timeout::TimeoutConfig::builder()
            .connect_timeout(budget::CONNECT_TIMEOUT)
            .operation_attempt_timeout(budget::ATTEMPT_TIMEOUT)
            .operation_timeout(budget::OPERATION_TIMEOUT)
            .build(),
    )
}

#[cfg(feature = "from-env")]
mod env;
#[cfg(feature = "from-env")]
pub use env::{BUCKET_VAR, PATH_PREFIX_VAR, REGION_VAR};

#[cfg(test)]
mod tests {
    use super::*;

    fn adapter(prefix: Option<&str>) -> S3Adapter {
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .build();
        let b = S3Adapter::builder(Client::from_conf(conf), "b");
        match prefix {
            Some(p) => b.path_prefix(p).build(),
            None => b.build(),
        }
    }

    #[test]
    fn layout_matches_the_sdks() {
        assert_eq!(adapter(None).object_key("u1").unwrap(), "u1");
        assert_eq!(
            adapter(Some("skills/cafe")).object_key("u1").unwrap(),
            "skills/cafe/u1"
        );
        assert_eq!(
            adapter(Some("/skills/cafe/")).object_key("u1").unwrap(),
            "skills/cafe/u1"
        );
        assert_eq!(adapter(Some("")).object_key("a/b").unwrap(), "a/b");
    }

    #[test]
    fn keys_cannot_leave_the_prefix() {
        let a = adapter(Some("skills/cafe"));
        for bad in [
            "../other/u1",
            "a/../../x",
            "./u",
            "/abs",
            "a\\b",
            "a//b",
            "a/",
            ".",
            "..",
        ] {
            assert!(
                matches!(a.object_key(bad), Err(Error::InvalidKey { .. })),
                "{bad}"
            );
        }
        // Dots inside names are fine.
        assert!(a.object_key("amzn1.ask.account.X").is_ok());
        assert!(a.object_key("a..b").is_ok());
    }

    #[test]
    fn key_limit_counts_the_prefix() {
        let a = adapter(Some("p"));
        assert!(a.object_key(&"k".repeat(MAX_OBJECT_KEY_BYTES - 2)).is_ok());
        assert!(a.object_key(&"k".repeat(MAX_OBJECT_KEY_BYTES - 1)).is_err());
    }

    #[test]
    fn bodies() {
        let a = adapter(None);
        assert_eq!(a.parse_body("k", b"").unwrap(), Attributes::new());
        assert_eq!(
            a.parse_body("k", b"{\"a\": \"\\u00e9\"}").unwrap()["a"],
            "é"
        );
        for bad in [
            &b"[1]"[..],
            b"{\"a\": NaN}",
            b"{\"a\": Infinity}",
            b"\xff\xfe",
            b"{",
            b"5",
            b"null",
        ] {
            assert!(
                matches!(a.parse_body("k", bad), Err(Error::CorruptData { .. })),
                "{bad:?}"
            );
        }
    }
}
