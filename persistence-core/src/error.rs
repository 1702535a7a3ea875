//! The one error type every adapter returns.

use crate::RedactedKey;

/// A boxed error from a backend's own client, kept as the `source` of [`Error::Backend`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong when loading, saving or deleting persistent attributes.
///
/// Backends map their clients' errors into these variants so that a skill handles one type,
/// whichever storage it runs on. Messages name the operation and the table, bucket or field
/// concerned; keys (which are usually user IDs) only ever appear as a [`RedactedKey`].
///
/// ```
/// use persistence_core::Error;
///
/// fn tell_user(err: &Error) -> &'static str {
///     match err {
///         Error::Conflict { .. } => "Someone else just changed that. Please try again.",
///         Error::OutcomeUnknown { .. } => "I'm not sure that was saved. Please check.",
///         _ => "Sorry, I couldn't remember that.",
///     }
/// }
/// # assert_eq!(tell_user(&Error::conflict("save", "memory", "k", "changed")),
/// #            "Someone else just changed that. Please try again.");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The key is empty, too long or has control characters; refused before any I/O.
    #[error("invalid persistence key {key}: {reason}")]
    InvalidKey {
        /// The offending key, redacted.
        key: RedactedKey,
        /// What is wrong with it.
        reason: String,
    },

    /// A conditional save lost: the stored version is not the one expected, the item already
    /// exists for a create-only save, or [`update`](crate::PersistenceAdapterExt::update) ran
    /// out of attempts.
    #[error("{operation} of {key} in {resource} conflicted: {reason}")]
    Conflict {
        /// `save`, `update`, ...
        operation: &'static str,
        /// Where: e.g. `DynamoDB table 'skill'`.
        resource: String,
        /// The key, redacted.
        key: RedactedKey,
        /// What did not match.
        reason: String,
    },

    /// A write whose answer was lost (a timeout, a cut connection, a 5xx) and whose outcome the
    /// adapter could not establish afterwards: it may or may not have been applied. Not a
    /// conflict: retrying the change blindly could apply it twice. Read the key again to see.
    #[error("{operation} of {key} in {resource}: the outcome is unknown ({detail})")]
    OutcomeUnknown {
        /// `save`, `delete`, ...
        operation: &'static str,
        /// Where: e.g. `DynamoDB table 'skill'`.
        resource: String,
        /// The key, redacted.
        key: RedactedKey,
        /// Why it could not be established.
        detail: String,
    },
    /// The attributes are larger than the backend can store: refused before the call (with the
    /// size counted as the backend counts it), or by the backend itself (with its error kept as
    /// the source; DynamoDB counts the whole item, fields this adapter does not own included).
    #[error(
        "{operation} of {key} in {resource} refused: {} over the limit of {limit} bytes",
        match size { Some(s) => format!("{s} bytes is"), None => "the item is".to_owned() }
    )]
    TooLarge {
        /// The operation refused.
        operation: &'static str,
        /// Where it would have been stored.
        resource: String,
        /// The key, redacted.
        key: RedactedKey,
        /// The size of what would have been written, in bytes, as the backend counts it;
        /// `None` when the backend refused it without saying.
        size: Option<usize>,
        /// The backend's limit, in bytes.
        limit: usize,
        /// The backend's refusal, when it was the backend that refused.
        #[source]
        source: Option<BoxError>,
    },

    /// What is stored under a key cannot be read back as an attributes object.
    #[error("corrupt data for {key} in {resource}: {detail}")]
    CorruptData {
        /// Where: e.g. `S3 bucket 'b' object prefix/<key>`.
        resource: String,
        /// The key, redacted.
        key: RedactedKey,
        /// What was wrong, naming the attribute when there is one.
        detail: String,
    },

    /// The attributes hold a value this backend cannot store exactly (e.g. a number outside
    /// DynamoDB's range); refused before the call.
    #[error("{operation} of {key} in {resource} refused: {detail}")]
    UnsupportedValue {
        /// The operation refused.
        operation: &'static str,
        /// Where it would have been stored.
        resource: String,
        /// The key, redacted.
        key: RedactedKey,
        /// Which value and why, naming the attribute.
        detail: String,
    },

    /// An attribute could not be converted to or from the Rust type asked for.
    #[error("attribute `{name}` does not fit the requested type: {source}")]
    AttributeType {
        /// The attribute's name.
        name: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },

    /// A version given to a conditional save or delete is not one this backend makes (a
    /// version from another backend, or text that is not a version at all). Nothing was written.
    #[error(
        "{operation} of {key} in {resource} refused: `{version}` is not a version of this store ({reason})"
    )]
    InvalidVersion {
        /// The operation refused.
        operation: &'static str,
        /// Where.
        resource: String,
        /// The key, redacted.
        key: RedactedKey,
        /// The version given (at most its first 40 characters).
        version: String,
        /// What versions of this store look like.
        reason: &'static str,
    },

    /// The backend cannot do this (e.g. list keys in an adapter that has no listing).
    #[error("{operation} is not supported by {resource}: {detail}")]
    Unsupported {
        /// The operation.
        operation: &'static str,
        /// The backend.
        resource: String,
        /// Why, and what to do instead.
        detail: String,
    },

    /// The table, bucket or other resource does not exist.
    #[error("{operation} failed: {resource} does not exist")]
    NotFound {
        /// The operation that found it missing.
        operation: &'static str,
        /// The resource, e.g. `DynamoDB table 'skill'`.
        resource: String,
    },

    /// The resource exists but cannot be used as configured (e.g. a table whose key schema is
    /// not the one the adapter was built for).
    #[error("{resource} cannot be used: {detail}")]
    Incompatible {
        /// The resource, e.g. `DynamoDB table 'skill'`.
        resource: String,
        /// What does not match, with what was expected.
        detail: String,
    },

    /// A setting the adapter needs is missing or invalid (e.g. no table name in the environment).
    #[error("persistence is not configured: {what}")]
    NotConfigured {
        /// What is missing and where it was looked for.
        what: String,
    },

    /// Any other failure of the backend (network, throttling after retries, access denied, ...),
    /// with the client's error kept as the source.
    #[error("{operation} on {resource} failed: {message}")]
    Backend {
        /// The operation that failed.
        operation: &'static str,
        /// The resource, e.g. `S3 bucket 'b'`.
        resource: String,
        /// A one-line summary, without user IDs.
        message: String,
        /// The backend client's error.
        #[source]
        source: BoxError,
    },
}

impl Error {
    /// True for [`Error::Conflict`]: retrying with fresh data may succeed.
    ///
    /// ```
    /// # use persistence_core::{Error, RedactedKey};
    /// let e = Error::Conflict { operation: "save", resource: "memory".into(),
    ///     key: RedactedKey::new("k"), reason: "version changed".into() };
    /// assert!(e.is_conflict());
    /// ```
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Conflict { .. })
    }

    /// Builds an [`Error::Conflict`], redacting `key`.
    ///
    /// ```
    /// # use persistence_core::Error;
    /// let e = Error::conflict("save", "memory", "amzn1.ask.account.AB12", "version changed");
    /// assert!(e.is_conflict());
    /// assert!(!e.to_string().contains("AB12"));
    /// ```
    pub fn conflict(
        operation: &'static str,
        resource: impl Into<String>,
        key: &str,
        reason: impl Into<String>,
    ) -> Self {
        Error::Conflict {
            operation,
            resource: resource.into(),
            key: RedactedKey::new(key),
            reason: reason.into(),
        }
    }

    /// Builds an [`Error::CorruptData`], redacting `key`.
    ///
    /// ```
    /// # use persistence_core::Error;
    /// let e = Error::corrupt("S3 bucket 'b'", "amzn1.ask.account.AB12", "not a JSON object");
    /// assert!(matches!(e, Error::CorruptData { .. }));
    /// assert!(!e.to_string().contains("AB12"));
    /// ```
    pub fn corrupt(resource: impl Into<String>, key: &str, detail: impl Into<String>) -> Self {
        Error::CorruptData {
            resource: resource.into(),
            key: RedactedKey::new(key),
            detail: detail.into(),
        }
    }

    /// Builds an [`Error::Backend`] from any client error.
    ///
    /// ```
    /// # use persistence_core::Error;
    /// let io = std::io::Error::other("connection reset");
    /// let e = Error::backend("get", "DynamoDB table 't'", "request failed", io);
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    pub fn backend(
        operation: &'static str,
        resource: impl Into<String>,
        message: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Error::Backend {
            operation,
            resource: resource.into(),
            message: message.into(),
            source: source.into(),
        }
    }
}
