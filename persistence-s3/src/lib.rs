//! Alexa skill persistent attributes in Amazon S3: one JSON object per key.
//!
//! [`S3Adapter`] uses the layout of the official ASK SDKs' S3 adapters (Python, Node.js), so a
//! skill moving to Rust keeps every user's data: the object key is `prefix + "/" + key` (the bare
//! key without a prefix), no suffix, and the body is the attributes as UTF-8 JSON. It writes
//! compact JSON with `Content-Type: application/json`, and reads what the SDKs wrote (Python's
//! spaced JSON with `\u` escapes, Node's compact JSON).
//!
//! Versions are the objects' ETags, and saves are conditional writes: `If-None-Match: *` for
//! [`SaveMode::CreateOnly`], `If-Match: <etag>` for [`SaveMode::IfVersion`]. An ETag is a hash
//! of the body, so that a version names one write and never repeats (a key deleted and written
//! again with the same attributes must not match a stale reader's version), each body ends with
//! 32 characters of JSON whitespace encoding 64 random bits of the save's write token; every
//! JSON reader ignores them. The whole token is also kept in the object's metadata
//! (`x-amz-meta-write-token`), so that a save retried after its answer was lost recognises its
//! own write instead of reporting a conflict. Expiry is kept in metadata too
//! (`x-amz-meta-expires-at`, epoch seconds): expired objects read as absent. Keys are checked so
//! that none can leave the prefix (no `.`/`..` segments, no leading `/`, no backslash).
//!
//! ```no_run
//! use persistence_core::PersistenceAdapterExt;
//! use persistence_s3::S3Adapter;
//!
//! # async fn run() -> persistence_core::Result<()> {
//! // The bucket from the environment (the variable names Alexa-hosted skills use).
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
mod url;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, Pages, PersistenceAdapter, RedactedKey, Result,
    SaveMode, SaveOptions, Stored, SystemClock, Version, async_trait, is_expired, is_unique_token,
    validate_key,
};

pub use url::{S3Url, URL_SCHEME};

/// S3's limit on an object key, in bytes (prefix included).
pub const MAX_OBJECT_KEY_BYTES: usize = 1024;

/// The metadata entry holding the write token of the save that wrote the object.
pub const WRITE_TOKEN_METADATA: &str = "write-token";
/// The metadata entry holding the expiry time (epoch seconds), when there is one.
pub const EXPIRES_AT_METADATA: &str = "expires-at";

/// The four JSON whitespace characters: two bits each.
const WHITESPACE: [u8; 4] = [b' ', b'\t', b'\n', b'\r'];

/// Persistent attributes as JSON objects in an S3 bucket. Cheap to clone.
#[derive(Clone, Debug)]
pub struct S3Adapter {
    client: Client,
    bucket: String,
    prefix: Option<String>,
    resource: String,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
    /// Set once the endpoint answered that it does not implement conditional deletes.
    no_conditional_delete: Arc<AtomicBool>,
}

/// Builds an [`S3Adapter`]; see [`S3Adapter::builder`].
#[derive(Clone, Debug)]
pub struct S3AdapterBuilder {
    client: Client,
    bucket: String,
    prefix: Option<String>,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
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

    /// Keep each key's attributes for `ttl` after its last save, unless a save says otherwise
    /// ([`persistence_core::Expiry`]). Expired objects read as absent; a bucket lifecycle rule
    /// or `purge-expired` removes them (see the crate docs).
    pub fn default_expiry(mut self, ttl: Duration) -> Self {
        self.default_expiry = Some(ttl);
        self
    }

    /// Read the time from `clock` (default: the system clock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
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
            clock: self.clock,
            default_expiry: self.default_expiry,
            no_conditional_delete: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// What S3 says about an object: its ETag and our metadata.
struct Head {
    etag: String,
    token: Option<String>,
    expires_at: Option<SystemTime>,
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
            clock: Arc::new(SystemClock),
            default_expiry: None,
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

    /// The storage key an object key maps back to (`None` outside the prefix).
    pub fn storage_key<'k>(&self, object_key: &'k str) -> Option<&'k str> {
        let key = match &self.prefix {
            Some(p) => object_key.strip_prefix(p.as_str())?.strip_prefix('/')?,
            None => object_key,
        };
        (!key.is_empty()).then_some(key)
    }

    fn corrupt(&self, key: &str, detail: impl Into<String>) -> Error {
        Error::corrupt(self.resource.clone(), key, detail)
    }

    fn conflict(&self, operation: &'static str, key: &str, reason: impl Into<String>) -> Error {
        Error::conflict(operation, self.resource.clone(), key, reason)
    }

    fn invalid_version(
        &self,
        operation: &'static str,
        key: &str,
        v: &str,
        reason: &'static str,
    ) -> Error {
        Error::InvalidVersion {
            operation,
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            version: v.chars().take(40).collect(),
            reason,
        }
    }

    /// Checks that `v` is an S3 ETag (`"<hex>"` or `"<hex>-<parts>"`).
    fn etag(&self, operation: &'static str, key: &str, v: &Version) -> Result<String> {
        let s = v.as_str();
        let inner = s.strip_prefix('"').and_then(|r| r.strip_suffix('"'));
        let ok = inner.is_some_and(|i| {
            !i.is_empty() && i.len() <= 80 && i.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        });
        if ok {
            Ok(s.to_owned())
        } else {
            Err(self.invalid_version(
                operation,
                key,
                s,
                "versions of an S3 store are quoted ETags",
            ))
        }
    }

    /// Parses a stored body: empty is empty attributes; anything but a JSON object is corrupt.
    /// Numbers are put in canonical form.
    fn parse_body(&self, key: &str, body: &[u8]) -> Result<Attributes> {
        let text = std::str::from_utf8(body)
            .map_err(|e| self.corrupt(key, format!("the object is not UTF-8 text ({e})")))?;
        if text.trim().is_empty() {
            return Ok(Attributes::new());
        }
        let mut value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| self.corrupt(key, format!("the object is not valid JSON ({e})")))?;
        persistence_core::number::canonicalize(&mut value);
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

    /// The body of a save: compact JSON, then 32 whitespace characters carrying 64 bits of the
    /// write token, so that the ETag (a hash of the body) is new for every write.
    fn body(attributes: &Attributes, token: &str) -> serde_json::Result<Vec<u8>> {
        let mut body = serde_json::to_vec(attributes)?;
        let bits = u64::from_str_radix(&token[token.len().saturating_sub(16)..], 16).unwrap_or(0);
        body.extend((0..32).map(|i| WHITESPACE[((bits >> (2 * i)) & 3) as usize]));
        Ok(body)
    }

    fn expiry_from(
        metadata: Option<&std::collections::HashMap<String, String>>,
    ) -> Option<SystemTime> {
        metadata?
            .get(EXPIRES_AT_METADATA)?
            .parse::<u64>()
            .ok()
            .map(from_epoch_seconds)
    }

    /// HEAD of the object: `None` when it does not exist.
    async fn head(
        &self,
        operation: &'static str,
        key: &str,
        object_key: &str,
    ) -> Result<Option<Head>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(object_key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Head {
                etag: out.e_tag().unwrap_or_default().to_owned(),
                token: out
                    .metadata()
                    .and_then(|m| m.get(WRITE_TOKEN_METADATA))
                    .cloned(),
                expires_at: Self::expiry_from(out.metadata()),
            })),
            Err(e) => match errors::map(operation, &self.resource, key, object_key, e, None) {
                errors::Mapped::Missing => Ok(None),
                errors::Mapped::Error(e) => Err(e),
            },
        }
    }

    /// Reads an object, expired or not.
    async fn fetch(&self, key: &str) -> Result<Option<Stored>> {
        let object_key = self.object_key(key)?;
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
                return match errors::map("get", &self.resource, key, &object_key, e, None) {
                    errors::Mapped::Missing => Ok(None),
                    errors::Mapped::Error(e) => Err(e),
                };
            }
        };
        let version = out.e_tag().map(Version::new);
        let expires_at = Self::expiry_from(out.metadata());
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
        Ok(Some(Stored::new(attributes, version).expiring(expires_at)))
    }

    /// One PUT of a save.
    async fn put(
        &self,
        object_key: &str,
        body: &[u8],
        token: &str,
        expires: Option<SystemTime>,
        condition: &Condition,
    ) -> std::result::Result<
        Version,
        SdkError<
            aws_sdk_s3::operation::put_object::PutObjectError,
            aws_smithy_runtime_api::client::orchestrator::HttpResponse,
        >,
    > {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(object_key)
            .content_type("application/json")
            .metadata(WRITE_TOKEN_METADATA, token)
            .body(ByteStream::from(body.to_vec()));
        if let Some(at) = expires {
            req = req.metadata(EXPIRES_AT_METADATA, epoch_seconds(at).to_string());
        }
        req = match condition {
            Condition::None => req,
            Condition::Absent => req.if_none_match("*"),
            Condition::Etag(e) => req.if_match(e),
        };
        let out = req.send().await?;
        Ok(Version::new(out.e_tag().unwrap_or_default()))
    }
}

/// The condition of one PUT.
enum Condition {
    None,
    Absent,
    Etag(String),
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

/// True for an error after which a write may or may not have landed.
fn ambiguous<E, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::TimeoutError(_) | SdkError::ResponseError(_))
        || matches!(e, SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout())
}

#[async_trait]
impl PersistenceAdapter for S3Adapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        let started = Instant::now();
        let r = self
            .fetch(key)
            .await
            .map(|got| got.filter(|s| !is_expired(s.expires_at, self.clock.now())));
        log_outcome("get", &self.bucket, key, started, &r);
        r
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let object_key = self.object_key(key)?;
        let started = Instant::now();
        let r = async {
            let token = options.token_or_new();
            if !is_unique_token(&token) {
                return Err(self.invalid_version(
                    "save",
                    key,
                    &token,
                    "a write token must have persistence_core::unique_token's shape",
                ));
            }
            let body = Self::body(attributes, &token).map_err(|e| {
                Error::backend("save", self.resource.clone(), "encoding JSON failed", e)
            })?;
            let now = self.clock.now();
            let expires = options.expiry.resolve(self.default_expiry, now);
            let (condition, expectation) = match &options.mode {
                SaveMode::Overwrite => (Condition::None, None),
                SaveMode::CreateOnly => {
                    (Condition::Absent, Some("the object already exists".to_owned()))
                }
                SaveMode::IfVersion(v) => (
                    Condition::Etag(self.etag("save", key, v)?),
                    Some(format!(
                        "the object is no longer at ETag {v} (changed or deleted since it was read)"
                    )),
                ),
            };
            let first = self.put(&object_key, &body, &token, expires, &condition).await;
            let e = match first {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            let precondition = expectation.is_some() && errors::is_precondition_failure(&e);
            if !precondition && !ambiguous(&e) {
                return Err(errors::map("save", &self.resource, key, &object_key, e, expectation.as_deref())
                    .into_error(|| self.conflict("save", key, "the object vanished")));
            }
            // Either the condition failed or the answer was lost: look at what is stored.
            let head = self.head("save", key, &object_key).await?;
            match head {
                // Our own write (an earlier attempt of this save committed).
                Some(h) if h.token.as_deref() == Some(token.as_str()) => {
                    tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
                    Ok(Version::new(h.etag))
                }
                // Create-only over an expired object: replace exactly that object.
                Some(h) if matches!(options.mode, SaveMode::CreateOnly)
                    && is_expired(h.expires_at, now) =>
                {
                    self.put(&object_key, &body, &token, expires, &Condition::Etag(h.etag))
                        .await
                        .map_err(|e| {
                            errors::map("save", &self.resource, key, &object_key, e, expectation.as_deref())
                                .into_error(|| self.conflict("save", key, "the object vanished"))
                        })
                }
                _ if precondition => Err(self.conflict(
                    "save",
                    key,
                    expectation.unwrap_or_else(|| "a precondition failed".into()),
                )),
                _ => Err(errors::map("save", &self.resource, key, &object_key, e, expectation.as_deref())
                    .into_error(|| self.conflict("save", key, "the object vanished"))),
            }
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
            Err(e) => match errors::map("delete", &self.resource, key, &object_key, e, None) {
                errors::Mapped::Missing => Ok(()),
                errors::Mapped::Error(e) => Err(e),
            },
        };
        log_outcome("delete", &self.bucket, key, started, &r);
        r
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        let object_key = self.object_key(key)?;
        let etag = self.etag("delete", key, expected)?;
        let started = Instant::now();
        let r = async {
            if !self.no_conditional_delete.load(Ordering::Relaxed) {
                match self
                    .client
                    .delete_object()
                    .bucket(&self.bucket)
                    .key(&object_key)
                    .if_match(&etag)
                    .send()
                    .await
                {
                    Ok(_) => return Ok(()),
                    Err(e) if errors::is_not_implemented(&e) => {
                        self.no_conditional_delete.store(true, Ordering::Relaxed);
                        tracing::warn!(
                            bucket = %self.bucket,
                            "this S3 endpoint does not implement conditional deletes (If-Match \
                             on DeleteObject); falling back to check-then-delete, which a write \
                             between the check and the delete can still lose"
                        );
                    }
                    Err(e) if errors::is_precondition_failure(&e) => {
                        // Gone already is fine; anything else is a newer version.
                        return match self.head("delete", key, &object_key).await? {
                            None => Ok(()),
                            Some(_) => Err(self.conflict(
                                "delete",
                                key,
                                format!("the object is no longer at ETag {expected}"),
                            )),
                        };
                    }
                    Err(e) => {
                        return match errors::map(
                            "delete",
                            &self.resource,
                            key,
                            &object_key,
                            e,
                            None,
                        ) {
                            errors::Mapped::Missing => Ok(()),
                            errors::Mapped::Error(e) => Err(e),
                        };
                    }
                }
            }
            match self.head("delete", key, &object_key).await? {
                None => Ok(()),
                Some(h) if h.etag == etag => self.delete(key).await,
                Some(_) => Err(self.conflict(
                    "delete",
                    key,
                    format!("the object is no longer at ETag {expected}"),
                )),
            }
        }
        .await;
        log_outcome("delete", &self.bucket, key, started, &r);
        r
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        let list_prefix = match (&self.prefix, &options.prefix) {
            (Some(p), Some(k)) => format!("{p}/{k}"),
            (Some(p), None) => format!("{p}/"),
            (None, Some(k)) => k.clone(),
            (None, None) => String::new(),
        };
        let max_keys = options
            .page_size
            .map(|n| i32::try_from(n.min(1000)).unwrap_or(1000));
        futures::stream::try_unfold(Some(None::<String>), move |state| {
            let list_prefix = list_prefix.clone();
            async move {
                let Some(token) = state else {
                    return Ok(None);
                };
                let out = self
                    .client
                    .list_objects_v2()
                    .bucket(&self.bucket)
                    .prefix(list_prefix)
                    .set_max_keys(max_keys)
                    .set_continuation_token(token)
                    .send()
                    .await
                    .map_err(
                        |e| match errors::map("list", &self.resource, "", "", e, None) {
                            errors::Mapped::Error(e) => e,
                            errors::Mapped::Missing => Error::NotFound {
                                operation: "list",
                                resource: self.resource.clone(),
                            },
                        },
                    )?;
                let keys: Vec<String> = out
                    .contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter_map(|k| self.storage_key(k))
                    .map(str::to_owned)
                    .collect();
                let next = if out.is_truncated() == Some(true) {
                    out.next_continuation_token().map(|t| Some(t.to_owned()))
                } else {
                    None
                };
                Ok(Some((keys, next)))
            }
        })
        .filter(|page| futures::future::ready(!matches!(page, Ok(p) if p.is_empty())))
        .boxed()
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        let include_expired = options.include_expired;
        self.list_keys(options)
            .then(move |page| async move {
                let keys = page?;
                let mut reads = futures::stream::iter(keys)
                    .map(|key| async move {
                        let got = self.fetch(&key).await;
                        (key, got)
                    })
                    .buffered(8);
                let mut out = Vec::new();
                let now = self.clock.now();
                while let Some((key, got)) = reads.next().await {
                    if let Some(stored) = got?
                        && (include_expired || !is_expired(stored.expires_at, now))
                    {
                        out.push(Entry { key, stored });
                    }
                }
                Ok(out)
            })
            .boxed()
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
    fn object_keys_map_back_to_storage_keys() {
        let a = adapter(Some("skills/cafe"));
        assert_eq!(a.storage_key("skills/cafe/u1"), Some("u1"));
        assert_eq!(a.storage_key("skills/cafe/a/b"), Some("a/b"));
        assert_eq!(a.storage_key("skills/cafeX/u1"), None);
        assert_eq!(a.storage_key("skills/cafe/"), None);
        assert_eq!(adapter(None).storage_key("u1"), Some("u1"));
    }

    #[test]
    fn key_limit_counts_the_prefix() {
        let a = adapter(Some("p"));
        assert!(a.object_key(&"k".repeat(MAX_OBJECT_KEY_BYTES - 2)).is_ok());
        assert!(a.object_key(&"k".repeat(MAX_OBJECT_KEY_BYTES - 1)).is_err());
    }

    #[test]
    fn bodies_end_with_a_token_in_whitespace_that_readers_ignore() {
        let mut attrs = Attributes::new();
        attrs.insert("drink".into(), "latte".into());
        let t1 = persistence_core::unique_token();
        let t2 = persistence_core::unique_token();
        let b1 = S3Adapter::body(&attrs, &t1).unwrap();
        let b2 = S3Adapter::body(&attrs, &t2).unwrap();
        assert_ne!(
            b1, b2,
            "two writes of the same attributes have different bodies"
        );
        assert!(b1.starts_with(br#"{"drink":"latte"}"#));
        let v: serde_json::Value = serde_json::from_slice(&b1).unwrap();
        assert_eq!(v, serde_json::json!({"drink": "latte"}));
        assert_eq!(adapter(None).parse_body("k", &b2).unwrap(), attrs);
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
