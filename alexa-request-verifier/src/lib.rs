//! Verifies that an HTTP request really comes from Alexa, as Alexa requires of a skill served
//! from your own HTTPS endpoint (not AWS Lambda).
//!
//! [`RequestVerifier::verify`] takes the request's headers and its raw body and checks, in
//! this order:
//!
//! 1. **Headers**: `SignatureCertChainUrl` and `Signature-256` are present. (Alexa's legacy
//!    `Signature` header, RSA with SHA-1, is not supported: a request carrying only that one is
//!    refused.)
//! 2. **Certificate URL**, before anything is downloaded: after normalising `.` and `..`
//!    segments, the scheme is `https`, the host `s3.amazonaws.com` (both case-insensitive),
//!    the port 443 if one is given, no user information, and the path starts with `/echo.api/`
//!    (so `https://s3.amazonaws.com/echo.api/../invalid` is refused).
//! 3. **Timestamp**, still before anything is downloaded: the body's `request.timestamp` is at
//!    most [`MAX_TIMESTAMP_SKEW`] (150 s) from now, in either direction; for skill events
//!    (`request.type` starting with `AlexaSkillEvent.`, which Alexa delivers late) at most
//!    [`MAX_SKILL_EVENT_SKEW`] (an hour), as Amazon's Python SDK allows them.
//! 4. **Certificate chain** (PEM, signing certificate first, then intermediates): downloaded
//!    over HTTPS (no redirects, [`DEFAULT_FETCH_TIMEOUT`], at most [`DEFAULT_MAX_CHAIN_BYTES`]),
//!    then checked: the signing certificate is within its validity dates, has
//!    [`SIGNING_CERT_SAN`] (`echo-api.amazon.com`) among its subject alternative names, and
//!    chains to a root of Mozilla's set (`webpki-roots`) — webpki checks every signature,
//!    validity period, basic constraint and key usage on the way. A valid chain is cached by
//!    URL until the first certificate in it expires (at most [`DEFAULT_CACHE_CAPACITY`] URLs).
//! 5. **Signature**: `Signature-256` is the base64 RSA PKCS#1 v1.5 SHA-256 signature of the
//!    raw body bytes by the signing certificate's key.
//!
//! ## What a chain URL can cost
//!
//! The chain URL comes from the request, before anything in it is authenticated, and any path
//! under `/echo.api/` (or query string) passes the URL rules. So that junk requests cannot make
//! the server download without end:
//! - concurrent requests naming one URL share one download;
//! - a URL whose download or chain failed is answered with that failure for
//!   [`DEFAULT_FAILURE_CACHE_TTL`] (60 s; 10 s for connection, TLS, time-out and 5xx failures),
//!   at most [`DEFAULT_FAILURE_CACHE_CAPACITY`] URLs;
//! - at most [`DEFAULT_MAX_DOWNLOADS_IN_FLIGHT`] downloads run at once and at most
//!   [`DEFAULT_MAX_DOWNLOADS_PER_MINUTE`] start per minute; past either bound a request is
//!   refused at once ([`VerifyError::DownloadLimited`]). Chains already cached are unaffected.
//!
//! Any failure is a [`VerifyError`] naming the rule; answer such a request with HTTP 400 and
//! run no skill code, and tell the client no more than that verification failed (the error's
//! message is for your logs: it may hold the causes of a failed download). The cryptography is rustls-webpki's on aws-lc-rs; nothing is written by
//! hand here.
//!
//! ```
//! use alexa_request_verifier::{RequestVerifier, VerifyError};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let verifier = RequestVerifier::new(); // production rules; clone it freely (shared cache)
//!
//! let headers = http::HeaderMap::new();
//! let body = br#"{"version":"1.0","request":{"type":"LaunchRequest"}}"#;
//! match verifier.verify(&headers, body).await {
//!     Ok(()) => { /* run the skill */ }
//!     Err(e) => {
//!         // Answer 400. The message says which rule failed, never what the body holds.
//!         assert!(matches!(e, VerifyError::MissingHeader { name: "SignatureCertChainUrl", .. }));
//!     }
//! }
//! # }
//! ```
//!
//! With axum (or any `http`-based server), read the body as bytes, verify, then parse it:
//!
//! ```no_run
//! # use alexa_request_verifier::RequestVerifier;
//! async fn alexa(
//!     verifier: RequestVerifier,
//!     headers: http::HeaderMap,
//!     body: Vec<u8>,
//! ) -> http::StatusCode {
//!     if let Err(e) = verifier.verify(&headers, &body).await {
//!         tracing::warn!(rule = e.rule(), error = %e, "refused a request that is not from Alexa");
//!         return http::StatusCode::BAD_REQUEST; // with a generic body, not the error text
//!     }
//!     // ... parse the envelope and run the skill ...
//!     http::StatusCode::OK
//! }
//! ```
//!
//! ## Tests
//!
//! The `test-util` feature (never for production builds) adds
//! `RequestVerifierBuilder::insecure_trust_roots_for_tests` and
//! `RequestVerifierBuilder::insecure_connect_to_loopback_for_tests`, so that a test can sign
//! requests with its own CA and serve the chain from a loopback HTTPS server while the URL rules
//! stay as they are.

mod builder;
mod cache;
mod chain;
mod error;
mod fetch;
mod timestamp;
mod url_rule;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::HeaderMap;
use rustls_pki_types::{SignatureVerificationAlgorithm, TrustAnchor, UnixTime};

pub use builder::RequestVerifierBuilder;
pub use error::{BoxError, CertUrlError, DownloadLimit, SharedError, VerifyError};

use cache::Chains;
use fetch::HttpsClient;

/// The header holding the certificate chain's URL.
pub const SIGNATURE_CERT_CHAIN_URL: &str = "SignatureCertChainUrl";
/// The header holding the base64 RSA SHA-256 signature of the body.
pub const SIGNATURE_256: &str = "Signature-256";
/// Alexa's legacy SHA-1 signature header, which is not supported.
const LEGACY_SIGNATURE: &str = "Signature";
/// The name the signing certificate must have among its subject alternative names.
pub const SIGNING_CERT_SAN: &str = "echo-api.amazon.com";
/// How far `request.timestamp` may be from now, in either direction (requests other than
/// skill events).
pub const MAX_TIMESTAMP_SKEW: Duration = Duration::from_secs(150);
/// How far `request.timestamp` of a skill event (`request.type` starting with
/// [`SKILL_EVENT_PREFIX`]) may be from now, in either direction: an hour, as in Amazon's Python
/// SDK (`MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS`), because Alexa delivers skill events late.
pub const MAX_SKILL_EVENT_SKEW: Duration = Duration::from_secs(3600);
/// The `request.type` prefix of skill events (`AlexaSkillEvent.SkillDisabled`, ...).
pub const SKILL_EVENT_PREFIX: &str = "AlexaSkillEvent.";
/// How long downloading a certificate chain may take (connection, TLS and body), by default.
/// Alexa waits 8 s for an answer.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest certificate chain downloaded, by default (Alexa's is about 6 KB).
pub const DEFAULT_MAX_CHAIN_BYTES: usize = 64 * 1024;
/// How many chain URLs are cached, by default (Alexa uses one or two at a time).
pub const DEFAULT_CACHE_CAPACITY: usize = 16;
/// How long a URL whose download or chain failed is answered with that failure, by default
/// (transient failures: at most 10 s).
pub const DEFAULT_FAILURE_CACHE_TTL: Duration = Duration::from_secs(60);
/// How many failed URLs are remembered, by default. Failures come from downloads, which are
/// bounded per minute, so this holds several minutes of them.
pub const DEFAULT_FAILURE_CACHE_CAPACITY: usize = 1024;
/// How many chain downloads may run at once, by default (Alexa needs one).
pub const DEFAULT_MAX_DOWNLOADS_IN_FLIGHT: usize = 4;
/// How many chain downloads may start per minute, by default (a burst of 10, then one every
/// 6 s): what junk chain URLs can cost in outbound downloads.
pub const DEFAULT_MAX_DOWNLOADS_PER_MINUTE: u32 = 10;

/// Verifies Alexa requests: see the [crate docs](crate) for the rules.
///
/// Cheap to clone; clones share the certificate caches, the download bounds and the HTTPS
/// client.
#[derive(Clone)]
pub struct RequestVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    anchors: Vec<TrustAnchor<'static>>,
    algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    /// `Err` only if the TLS configuration could not be built, reported on first use.
    client: Result<HttpsClient, String>,
    chains: Chains,
    fetch_timeout: Duration,
    max_chain_bytes: usize,
    test_settings: bool,
}

impl RequestVerifier {
    /// A verifier with the production rules and the default bounds: Mozilla's roots,
    /// [`DEFAULT_FETCH_TIMEOUT`], [`DEFAULT_MAX_CHAIN_BYTES`], [`DEFAULT_CACHE_CAPACITY`],
    /// [`DEFAULT_FAILURE_CACHE_TTL`], [`DEFAULT_MAX_DOWNLOADS_IN_FLIGHT`],
    /// [`DEFAULT_MAX_DOWNLOADS_PER_MINUTE`].
    ///
    /// Creating it does no I/O; the first request downloads the chain.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to change the timeout, size cap, caches or download bounds.
    ///
    /// ```
    /// use std::time::Duration;
    /// let verifier = alexa_request_verifier::RequestVerifier::builder()
    ///     .fetch_timeout(Duration::from_secs(2))
    ///     .build();
    /// ```
    pub fn builder() -> RequestVerifierBuilder {
        RequestVerifierBuilder::default()
    }

    /// Checks that the request with these `headers` and this raw `body` comes from Alexa.
    ///
    /// Pass the body exactly as received (before any JSON parsing): the signature covers its
    /// bytes.
    ///
    /// # Errors
    /// The first rule the request breaks, as a [`VerifyError`].
    pub async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), VerifyError> {
        let chain_url = required_header(headers, SIGNATURE_CERT_CHAIN_URL)?;
        let signature = required_header(headers, SIGNATURE_256)?;
        let url = url_rule::check(chain_url)?;
        let signature = BASE64
            .decode(signature)
            .map_err(|_| VerifyError::InvalidHeader {
                name: SIGNATURE_256,
                reason: "not base64",
            })?;
        let now = SystemTime::now();
        // Before any download: a stale or replayed request costs nothing.
        timestamp::check(body, now)?;
        let cert = self.signing_cert(&url, now).await?;
        cert.verify_signature(body, &signature)?;
        Ok(())
    }

    /// The validated signing certificate for `url`: from the cache, or downloaded and checked
    /// (within the download bounds).
    async fn signing_cert(
        &self,
        url: &url::Url,
        now: SystemTime,
    ) -> Result<Arc<chain::SigningCert>, VerifyError> {
        let inner = &*self.inner;
        let download = async {
            let client = inner
                .client
                .as_ref()
                .map_err(|e| VerifyError::download(e, None))?;
            tracing::debug!(%url, "downloading Alexa's signing certificate chain");
            let pem = fetch::fetch(client, url, inner.fetch_timeout, inner.max_chain_bytes).await?;
            let now =
                UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
            Ok(Arc::new(chain::validate(
                &pem,
                &inner.anchors,
                inner.algorithms,
                now,
            )?))
        };
        inner.chains.signing_cert(url.as_str(), download).await
    }
}

impl Default for RequestVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for RequestVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestVerifier")
            .field("trusted_roots", &self.inner.anchors.len())
            .field("fetch_timeout", &self.inner.fetch_timeout)
            .field("max_chain_bytes", &self.inner.max_chain_bytes)
            .field("test_settings", &self.inner.test_settings)
            .finish_non_exhaustive()
    }
}

/// A present, non-empty header as text.
fn required_header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, VerifyError> {
    match headers.get(name) {
        Some(value) => {
            let text = value.to_str().map_err(|_| VerifyError::InvalidHeader {
                name,
                reason: "not visible ASCII",
            })?;
            let text = text.trim();
            if text.is_empty() {
                Err(VerifyError::MissingHeader {
                    name,
                    legacy_only: false,
                })
            } else {
                Ok(text)
            }
        }
        None => Err(VerifyError::MissingHeader {
            name,
            legacy_only: name == SIGNATURE_256 && headers.contains_key(LEGACY_SIGNATURE),
        }),
    }
}
