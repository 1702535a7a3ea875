//! Alexa skill persistent attributes in Amazon S3: one JSON object per key.
//!
//! [`S3Adapter`] uses the layout of the official ASK SDKs' S3 adapters (Python, Node.js), so a
//! skill moving to Rust keeps every user's data: the object key is the prefix and the key joined
//! as the SDKs join paths (a leading `/` kept; see [`KeyLayout`] for the prefixes the Python and
//! Node.js SDKs name differently), no suffix, and the body is the attributes as UTF-8 JSON. It
//! writes compact JSON with `Content-Type: application/json`, numbers and untouched values as
//! they were read, and reads what the SDKs wrote (Python's spaced JSON with `\u` escapes,
//! Node's compact JSON).
//!
//! Versions are the objects' ETags, and saves are conditional writes: `If-None-Match: *` for
//! [`SaveMode::CreateOnly`], `If-Match: <etag>` for [`SaveMode::IfVersion`]. An ETag is a hash
//! of the body, so that a version names one write and never repeats (a key deleted and written
//! again with the same attributes must not match a stale reader's version), each body ends with
//! 32 characters of JSON whitespace encoding 64 random bits of the save's write token; every
//! JSON reader ignores them. The whole token is also kept in the object's metadata
//! (`x-amz-meta-write-token`), with the latest few (`x-amz-meta-recent-tokens`), so that a save
//! retried after its answer was lost recognises its own write, even under later ones, instead
//! of reporting a conflict. Expiry is kept in metadata too
//! (`x-amz-meta-expires-at`, epoch seconds): expired objects read as absent. Keys are checked so
//! that none can leave the prefix (no `.`/`..` segments, no leading `/`, no backslash).
//!
//! A save whose answer was lost and whose outcome the object cannot show any more (more writes
//! than it keeps tokens of, or a delete, since) is [`Error::OutcomeUnknown`], never a conflict.
//! One limit: a blind save ([`persistence_core::SaveMode::Overwrite`]) has no condition S3 could
//! check, so the client's retry of one whose answer was lost writes it again, over any write
//! made in between (conditional saves, which skills use, do not).
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

mod body;
mod errors;
mod keys;
mod listing;
mod url;
mod write;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use aws_sdk_s3::Client;
use persistence_aws::log_outcome;
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, Pages, PersistenceAdapter, RedactedKey, Result,
    SaveOptions, Stored, SystemClock, Version, async_trait, is_expired,
};

pub use keys::KeyLayout;
pub use persistence_aws::client_config;
pub use url::{S3Url, URL_SCHEME};

use crate::body::S3Version;
use crate::keys::ObjectNames;

/// S3's limit on an object key, in bytes (prefix included).
pub const MAX_OBJECT_KEY_BYTES: usize = 1024;

/// The metadata entry holding the write token of the save that wrote the object.
pub const WRITE_TOKEN_METADATA: &str = "write-token";
/// The metadata entry holding the latest write tokens (16 hex digits each, oldest first).
pub const RECENT_TOKENS_METADATA: &str = "recent-tokens";
/// The metadata entry holding the expiry time (epoch seconds), when there is one.
pub const EXPIRES_AT_METADATA: &str = "expires-at";

/// Persistent attributes as JSON objects in an S3 bucket. Cheap to clone.
#[derive(Clone, Debug)]
pub struct S3Adapter {
    client: Client,
    bucket: String,
    names: ObjectNames,
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
    prefix: String,
    layout: Option<KeyLayout>,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
}

impl S3AdapterBuilder {
    /// Objects go under `prefix`, joined with the key exactly as the official SDKs join them
    /// (see [`KeyLayout`]): `skills/cafe` and `skills/cafe/` give `skills/cafe/<key>`,
    /// `/skills/cafe` gives `/skills/cafe/<key>`. Default: none (the bucket's root).
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Which official SDK wrote the objects, for a prefix the two name differently (with
    /// `//`, `.` or `..` segments; see [`KeyLayout`]). Without it, such a prefix makes every
    /// operation fail with [`Error::NotConfigured`] instead of reading the wrong objects.
    pub fn key_layout(mut self, layout: KeyLayout) -> Self {
        self.layout = Some(layout);
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
        let resource = if self.prefix.is_empty() {
            format!("S3 bucket '{}'", self.bucket)
        } else {
            format!("S3 bucket '{}' under '{}'", self.bucket, self.prefix)
        };
        S3Adapter {
            client: self.client,
            bucket: self.bucket,
            names: ObjectNames::new(self.prefix, self.layout),
            resource,
            clock: self.clock,
            default_expiry: self.default_expiry,
            no_conditional_delete: Arc::new(AtomicBool::new(false)),
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
            prefix: String::new(),
            layout: None,
            clock: Arc::new(SystemClock),
            default_expiry: None,
        }
    }

    /// The bucket's name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The prefix, as given to [`S3AdapterBuilder::path_prefix`].
    pub fn path_prefix(&self) -> &str {
        self.names.prefix()
    }

    /// The object key a storage key maps to, after checking the key cannot leave the prefix.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] for a key that cannot be an object under the prefix;
    /// [`Error::NotConfigured`] for a prefix the SDKs name differently, without a layout.
    pub fn object_key(&self, key: &str) -> Result<String> {
        self.names.object_key(key)
    }

    /// The storage key an object key maps back to: `None` outside the prefix, an error for a
    /// name under it that is not a key (a "folder" marker, say).
    pub fn storage_key(&self, object_key: &str) -> Option<Result<String>> {
        self.names.storage_key(object_key)
    }

    fn corrupt(&self, key: &str, detail: impl Into<String>) -> Error {
        Error::corrupt(self.resource.clone(), key, detail)
    }

    fn conflict(&self, operation: &'static str, key: &str, reason: impl Into<String>) -> Error {
        Error::conflict(operation, self.resource.clone(), key, reason)
    }

    /// A version of this store, parsed.
    fn version(&self, operation: &'static str, key: &str, v: &Version) -> Result<S3Version> {
        S3Version::parse(v.as_str()).ok_or_else(|| Error::InvalidVersion {
            operation,
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            version: v.as_str().chars().take(40).collect(),
            reason: "versions of an S3 store are quoted ETags, optionally with `;` and the latest \
                     write tokens",
        })
    }

    /// Reads an object, expired or not.
    async fn fetch(&self, key: &str) -> Result<Option<Stored>> {
        let object_key = self.names.object_key(key)?;
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
        let etag = out.e_tag().map(str::to_owned).ok_or_else(|| {
            Error::backend(
                "get",
                self.resource.clone(),
                "S3 returned no ETag",
                std::io::Error::other("missing ETag"),
            )
        })?;
        let version = S3Version {
            etag,
            tokens: Self::tokens_from(out.metadata()),
        };
        let expires_at = Self::expiry_from(out.metadata());
        let bytes = out.body.collect().await.map_err(|e| {
            Error::backend("get", self.resource.clone(), "reading the object failed", e)
        })?;
        let attributes = body::decode(&bytes.into_bytes()).map_err(|d| self.corrupt(key, d))?;
        Ok(Some(
            Stored::new(attributes, Version::new(version.text())).expiring(expires_at),
        ))
    }

    fn logged<T>(
        &self,
        operation: &'static str,
        key: &str,
        started: Instant,
        r: Result<T>,
    ) -> Result<T> {
        log_outcome("s3", &self.bucket, operation, key, started, &r);
        r
    }
}

#[async_trait]
impl PersistenceAdapter for S3Adapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        let started = Instant::now();
        let r = self
            .fetch(key)
            .await
            .map(|got| got.filter(|s| !is_expired(s.expires_at, self.clock.now())));
        self.logged("get", key, started, r)
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let started = Instant::now();
        let r = self.save_object(key, attributes, options).await;
        self.logged("save", key, started, r)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let started = Instant::now();
        let r = self.delete_object(key).await;
        self.logged("delete", key, started, r)
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        let started = Instant::now();
        let r = self.delete_object_if(key, expected).await;
        self.logged("delete", key, started, r)
    }

    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.list_key_pages(options)
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.entry_pages(options)
    }

    fn describe(&self) -> String {
        self.resource.clone()
    }
}

#[cfg(feature = "from-env")]
mod env;
#[cfg(feature = "from-env")]
pub use env::{BUCKET_VAR, KEY_LAYOUT_VAR, PATH_PREFIX_VAR, REGION_VAR};
