//! [`VerifyError`]: why a request was refused.

use std::sync::Arc;
use std::time::Duration;

/// A boxed error, as accepted by the crate's constructors.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A shared error kept as the `source` of a [`VerifyError`]: one failed download answers every
/// request that waited for it (and, for a while, the requests after it), so its error is shared.
pub type SharedError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Why a request was refused: one variant per rule Alexa sets for self-hosted endpoints.
///
/// Messages name the rule and, where useful, a limit or the HTTP status; they never contain
/// the request body, user or device IDs, tokens, or the signature. They may contain the causes of
/// a failed download (TLS, DNS, connection errors): log them, but answer the client with no more
/// than "request verification failed" ([`VerifyError::rule`] names the rule in a word).
///
/// ```
/// use alexa_request_verifier::{CertUrlError, VerifyError};
///
/// let e = VerifyError::CertUrl(CertUrlError::Host);
/// assert_eq!(
///     e.to_string(),
///     "SignatureCertChainUrl refused: the host is not s3.amazonaws.com"
/// );
/// assert!(VerifyError::SignatureMismatch.to_string().contains("Signature-256"));
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// A required header (`SignatureCertChainUrl` or `Signature-256`) is missing.
    #[error("the {name} header is missing{}", if *.legacy_only { " (only the legacy SHA-1 `Signature` header was sent, which is not supported)" } else { "" })]
    MissingHeader {
        /// The header's name.
        name: &'static str,
        /// True when only Alexa's legacy `Signature` (SHA-1) header came instead of
        /// `Signature-256`.
        legacy_only: bool,
    },

    /// A header is present but unusable (not visible ASCII, or `Signature-256` not base64).
    #[error("the {name} header is invalid: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// `SignatureCertChainUrl` breaks a URL rule; nothing was downloaded.
    #[error("SignatureCertChainUrl refused: {0}")]
    CertUrl(#[from] CertUrlError),

    /// The certificate chain could not be downloaded (connection, TLS, or an HTTP status other
    /// than 200).
    #[error("could not download the certificate chain: {reason}")]
    ChainDownload {
        /// What failed, with the causes.
        reason: String,
        /// The HTTP status, when the server answered with one other than 200.
        status: Option<u16>,
        /// The client's error, when there is one.
        #[source]
        source: Option<SharedError>,
    },

    /// The chain was not downloaded, to bound what junk requests cost: too many downloads are
    /// in flight, or too many were started in the last minute (see
    /// [`RequestVerifierBuilder::max_downloads_in_flight`](crate::RequestVerifierBuilder::max_downloads_in_flight)
    /// and [`RequestVerifierBuilder::max_downloads_per_minute`](crate::RequestVerifierBuilder::max_downloads_per_minute)).
    /// Chains already cached are not affected.
    #[error("the certificate chain was not downloaded: {0}")]
    DownloadLimited(DownloadLimit),

    /// The certificate chain download took longer than the timeout.
    #[error("the certificate chain download took longer than {timeout:?}")]
    ChainTimeout {
        /// The timeout ([`RequestVerifierBuilder::fetch_timeout`](crate::RequestVerifierBuilder::fetch_timeout)).
        timeout: Duration,
    },

    /// The certificate chain is larger than the size cap.
    #[error("the certificate chain is larger than {limit} bytes")]
    ChainTooLarge {
        /// The cap ([`RequestVerifierBuilder::max_chain_bytes`](crate::RequestVerifierBuilder::max_chain_bytes)).
        limit: usize,
    },

    /// The download is not a PEM certificate chain, or a certificate in it cannot be parsed.
    #[error("the certificate chain is invalid: {reason}")]
    InvalidChain {
        /// What is wrong with it.
        reason: &'static str,
    },

    /// The signing certificate's validity ended before now.
    #[error("the signing certificate expired (not after {not_after} s since the Unix epoch)")]
    CertificateExpired {
        /// Its `notAfter`, in seconds since the Unix epoch.
        not_after: i64,
    },

    /// The signing certificate's validity starts after now.
    #[error(
        "the signing certificate is not valid yet (not before {not_before} s since the Unix epoch)"
    )]
    CertificateNotYetValid {
        /// Its `notBefore`, in seconds since the Unix epoch.
        not_before: i64,
    },

    /// The signing certificate does not have `echo-api.amazon.com` among its subject
    /// alternative names.
    #[error(
        "the signing certificate is not for {expected} (not among its subject alternative names)"
    )]
    SubjectAltName {
        /// The name required, [`SIGNING_CERT_SAN`](crate::SIGNING_CERT_SAN).
        expected: &'static str,
    },

    /// The chain does not lead from the signing certificate to a trusted root (unknown issuer,
    /// bad certificate signature, expired intermediate, wrong key usage, ...).
    #[error("the certificate chain is not trusted: {reason}")]
    UntrustedChain {
        /// Why, as webpki reports it.
        reason: String,
    },

    /// `Signature-256` is not the signing certificate's RSA SHA-256 signature of the body (the
    /// body was changed, or signed with another key).
    #[error("the Signature-256 header does not match the request body")]
    SignatureMismatch,

    /// The body is not JSON with a usable `request.timestamp`.
    #[error("the request has no valid request.timestamp: {reason}")]
    InvalidTimestamp {
        /// What is wrong.
        reason: &'static str,
    },

    /// `request.timestamp` is further from now than the tolerance for its request type
    /// ([`MAX_TIMESTAMP_SKEW`](crate::MAX_TIMESTAMP_SKEW), or
    /// [`MAX_SKILL_EVENT_SKEW`](crate::MAX_SKILL_EVENT_SKEW) for skill events): a replayed or
    /// delayed request.
    #[error(
        "the request timestamp is {skew_seconds} s away from now (at most {tolerance_seconds} s allowed for this request type)"
    )]
    StaleTimestamp {
        /// Now minus the timestamp, in whole seconds (negative: in the future).
        skew_seconds: i64,
        /// The tolerance that applied, in seconds.
        tolerance_seconds: u64,
    },
}

/// Which bound kept a certificate chain from being downloaded:
/// [`VerifyError::DownloadLimited`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DownloadLimit {
    /// As many downloads as allowed are already in flight.
    #[error("{max} downloads are already in flight")]
    InFlight {
        /// The bound.
        max: usize,
    },
    /// As many downloads as allowed were started in the last minute.
    #[error("more than {per_minute} downloads were started in the last minute")]
    PerMinute {
        /// The bound.
        per_minute: u32,
    },
}

/// Which `SignatureCertChainUrl` rule a URL breaks.
///
/// The URL is checked after normalisation (`.` and `..` segments resolved, `%2e` included,
/// scheme and host lower-cased, the default port dropped), and that normalised URL is the one
/// downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertUrlError {
    /// Not a URL.
    #[error("not a valid absolute URL")]
    Invalid,
    /// The scheme is not `https`.
    #[error("the scheme is not https")]
    Scheme,
    /// The URL carries a user name or password.
    #[error("the URL carries user information")]
    UserInfo,
    /// The host is not `s3.amazonaws.com`.
    #[error("the host is not s3.amazonaws.com")]
    Host,
    /// A port other than 443 is given.
    #[error("the port is not 443")]
    Port,
    /// The normalised path does not start with `/echo.api/`.
    #[error("the path is not under /echo.api/")]
    Path,
}

impl VerifyError {
    /// The rule the request broke, as one stable word for logs and metrics: `header`,
    /// `cert-url`, `download`, `download-limited`, `chain`, `signature` or `timestamp`.
    ///
    /// ```
    /// use alexa_request_verifier::VerifyError;
    /// assert_eq!(VerifyError::SignatureMismatch.rule(), "signature");
    /// ```
    pub fn rule(&self) -> &'static str {
        match self {
            VerifyError::MissingHeader { .. } | VerifyError::InvalidHeader { .. } => "header",
            VerifyError::CertUrl(_) => "cert-url",
            VerifyError::ChainDownload { .. }
            | VerifyError::ChainTimeout { .. }
            | VerifyError::ChainTooLarge { .. } => "download",
            VerifyError::DownloadLimited(_) => "download-limited",
            VerifyError::InvalidChain { .. }
            | VerifyError::CertificateExpired { .. }
            | VerifyError::CertificateNotYetValid { .. }
            | VerifyError::SubjectAltName { .. }
            | VerifyError::UntrustedChain { .. } => "chain",
            VerifyError::SignatureMismatch => "signature",
            VerifyError::InvalidTimestamp { .. } | VerifyError::StaleTimestamp { .. } => {
                "timestamp"
            }
        }
    }

    /// True for a download failure that may go away by itself (connection, TLS, time-out, an
    /// HTTP 5xx); false for an answer that says something about the URL (4xx, a bad or
    /// untrusted chain). Transient failures are remembered for less time.
    pub(crate) fn is_transient(&self) -> bool {
        match self {
            VerifyError::ChainDownload { status, .. } => status.is_none_or(|s| s >= 500),
            VerifyError::ChainTimeout { .. } => true,
            _ => false,
        }
    }

    /// A download failure with the chain of causes in its message.
    pub(crate) fn download(context: &str, source: Option<BoxError>) -> Self {
        let mut reason = context.to_owned();
        let mut next: Option<&(dyn std::error::Error + 'static)> = source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static));
        while let Some(e) = next {
            reason.push_str(": ");
            reason.push_str(&e.to_string());
            next = e.source();
        }
        VerifyError::ChainDownload {
            reason,
            status: None,
            source: source.map(SharedError::from),
        }
    }

    /// A download answered with an HTTP status other than 200.
    pub(crate) fn download_status(status: http::StatusCode) -> Self {
        VerifyError::ChainDownload {
            reason: format!("HTTP status {status}"),
            status: Some(status.as_u16()),
            source: None,
        }
    }
}
