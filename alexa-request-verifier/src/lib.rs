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
//! 3. **Certificate chain** (PEM, signing certificate first, then intermediates): downloaded
//!    over HTTPS (no redirects, [`DEFAULT_FETCH_TIMEOUT`], at most [`DEFAULT_MAX_CHAIN_BYTES`]),
//!    then checked: the signing certificate is within its validity dates, has
//!    [`SIGNING_CERT_SAN`] (`echo-api.amazon.com`) among its subject alternative names, and
//!    chains to a root of Mozilla's set (`webpki-roots`) — webpki checks every signature,
//!    validity period, basic constraint and key usage on the way. A valid chain is cached by
//!    URL until the first certificate in it expires (at most [`DEFAULT_CACHE_CAPACITY`] URLs).
//! 4. **Signature**: `Signature-256` is the base64 RSA PKCS#1 v1.5 SHA-256 signature of the
//!    raw body bytes by the signing certificate's key.
//! 5. **Timestamp**: the body's `request.timestamp` is at most [`MAX_TIMESTAMP_SKEW`]
//!    (150 s) from now, in either direction.
//!
//! Any failure is a [`VerifyError`] naming the rule; answer such a request with HTTP 400 and
//! run no skill code. The cryptography is rustls-webpki's on aws-lc-rs; nothing is written by
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
//!         tracing::warn!(error = %e, "refused a request that is not from Alexa");
//!         return http::StatusCode::BAD_REQUEST;
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

pub use error::{BoxError, CertUrlError, VerifyError};

use cache::ChainCache;
use fetch::{HttpsClient, Resolver};

/// The header holding the certificate chain's URL.
pub const SIGNATURE_CERT_CHAIN_URL: &str = "SignatureCertChainUrl";
/// The header holding the base64 RSA SHA-256 signature of the body.
pub const SIGNATURE_256: &str = "Signature-256";
/// Alexa's legacy SHA-1 signature header, which is not supported.
const LEGACY_SIGNATURE: &str = "Signature";
/// The name the signing certificate must have among its subject alternative names.
pub const SIGNING_CERT_SAN: &str = "echo-api.amazon.com";
/// How far `request.timestamp` may be from now, in either direction.
pub const MAX_TIMESTAMP_SKEW: Duration = Duration::from_secs(150);
/// How long downloading a certificate chain may take (connection, TLS and body), by default.
/// Alexa waits 8 s for an answer.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// The largest certificate chain downloaded, by default (Alexa's is about 6 KB).
pub const DEFAULT_MAX_CHAIN_BYTES: usize = 64 * 1024;
/// How many chain URLs are cached, by default (Alexa uses one or two at a time).
pub const DEFAULT_CACHE_CAPACITY: usize = 16;

/// Verifies Alexa requests: see the [crate docs](crate) for the rules.
///
/// Cheap to clone; clones share the certificate cache and the HTTPS client.
#[derive(Clone)]
pub struct RequestVerifier {
    inner: Arc<Inner>,
}

struct Inner {
    anchors: Vec<TrustAnchor<'static>>,
    algorithms: &'static [&'static dyn SignatureVerificationAlgorithm],
    /// `Err` only if the TLS configuration could not be built, reported on first use.
    client: Result<HttpsClient, String>,
    cache: ChainCache,
    fetch_timeout: Duration,
    max_chain_bytes: usize,
    test_settings: bool,
}

impl RequestVerifier {
    /// A verifier with the production rules: Mozilla's roots, [`DEFAULT_FETCH_TIMEOUT`],
    /// [`DEFAULT_MAX_CHAIN_BYTES`], [`DEFAULT_CACHE_CAPACITY`].
    ///
    /// Creating it does no I/O; the first request downloads the chain.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder to change the timeout, size cap or cache size.
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
        let cert = self.signing_cert(&url, now).await?;
        cert.verify_signature(body, &signature)?;
        timestamp::check(body, now)?;
        Ok(())
    }

    /// The validated signing certificate for `url`: from the cache, or downloaded and checked.
    async fn signing_cert(
        &self,
        url: &url::Url,
        now: SystemTime,
    ) -> Result<Arc<chain::SigningCert>, VerifyError> {
        let inner = &*self.inner;
        let now = UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default());
        let now_secs = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
        if let Some(cert) = inner.cache.get(url.as_str(), now_secs) {
            return Ok(cert);
        }
        let client = inner
            .client
            .as_ref()
            .map_err(|e| VerifyError::download(e, None))?;
        tracing::debug!(%url, "downloading Alexa's signing certificate chain");
        let pem = fetch::fetch(client, url, inner.fetch_timeout, inner.max_chain_bytes).await?;
        let cert = Arc::new(chain::validate(
            &pem,
            &inner.anchors,
            inner.algorithms,
            now,
        )?);
        inner
            .cache
            .insert(url.as_str(), Arc::clone(&cert), now_secs);
        Ok(cert)
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

/// Builds a [`RequestVerifier`]; [`RequestVerifier::builder`].
#[derive(Clone)]
pub struct RequestVerifierBuilder {
    fetch_timeout: Duration,
    max_chain_bytes: usize,
    cache_capacity: usize,
    #[cfg(feature = "test-util")]
    test_roots: Option<Vec<Vec<u8>>>,
    #[cfg(feature = "test-util")]
    connect_to: Option<std::net::SocketAddr>,
}

impl Default for RequestVerifierBuilder {
    fn default() -> Self {
        Self {
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            max_chain_bytes: DEFAULT_MAX_CHAIN_BYTES,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            #[cfg(feature = "test-util")]
            test_roots: None,
            #[cfg(feature = "test-util")]
            connect_to: None,
        }
    }
}

impl fmt::Debug for RequestVerifierBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestVerifierBuilder")
            .field("fetch_timeout", &self.fetch_timeout)
            .field("max_chain_bytes", &self.max_chain_bytes)
            .field("cache_capacity", &self.cache_capacity)
            .finish_non_exhaustive()
    }
}

impl RequestVerifierBuilder {
    /// How long a chain download may take in all (DNS, connection, TLS, body);
    /// [`DEFAULT_FETCH_TIMEOUT`] by default.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// The largest chain accepted, in bytes; [`DEFAULT_MAX_CHAIN_BYTES`] by default.
    pub fn max_chain_bytes(mut self, limit: usize) -> Self {
        self.max_chain_bytes = limit;
        self
    }

    /// How many chain URLs are cached (`0`: download the chain for every request);
    /// [`DEFAULT_CACHE_CAPACITY`] by default.
    pub fn cache_capacity(mut self, capacity: usize) -> Self {
        self.cache_capacity = capacity;
        self
    }

    /// **Tests only** (feature `test-util`): trust these DER certificates as roots, instead of
    /// Mozilla's, both for the signing chain and for the HTTPS download. Certificates that are
    /// not usable as roots are skipped with a warning.
    #[cfg(feature = "test-util")]
    pub fn insecure_trust_roots_for_tests(
        mut self,
        roots_der: impl IntoIterator<Item = Vec<u8>>,
    ) -> Self {
        self.test_roots = Some(roots_der.into_iter().collect());
        self
    }

    /// **Tests only** (feature `test-util`): download every chain from `127.0.0.1:port`
    /// whatever the URL's host resolves to, like `curl --connect-to`. The URL rules still
    /// apply, and TLS still checks the certificate for the URL's host (`s3.amazonaws.com`),
    /// so the test's server needs a certificate for that name from a root given to
    /// [`insecure_trust_roots_for_tests`](Self::insecure_trust_roots_for_tests).
    #[cfg(feature = "test-util")]
    pub fn insecure_connect_to_loopback_for_tests(mut self, port: u16) -> Self {
        self.connect_to = Some(std::net::SocketAddr::from((
            std::net::Ipv4Addr::LOCALHOST,
            port,
        )));
        self
    }

    /// Builds the verifier. No I/O happens until the first [`verify`](RequestVerifier::verify).
    pub fn build(self) -> RequestVerifier {
        let (anchors, test_settings) = self.anchors();
        if test_settings {
            tracing::warn!(
                "Alexa request verifier built with TEST-ONLY settings (test roots or a loopback \
                 chain server): it does not verify real Alexa requests"
            );
        }
        let resolver = self.resolver();
        let roots = rustls::RootCertStore {
            roots: anchors.clone(),
        };
        let client = fetch::client(roots, resolver, self.fetch_timeout)
            .map_err(|e| format!("the TLS client cannot be set up: {e}"));
        let algorithms = rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .all;
        RequestVerifier {
            inner: Arc::new(Inner {
                anchors,
                algorithms,
                client,
                cache: ChainCache::new(self.cache_capacity),
                fetch_timeout: self.fetch_timeout,
                max_chain_bytes: self.max_chain_bytes,
                test_settings,
            }),
        }
    }

    #[cfg(not(feature = "test-util"))]
    fn anchors(&self) -> (Vec<TrustAnchor<'static>>, bool) {
        (webpki_roots::TLS_SERVER_ROOTS.to_vec(), false)
    }

    #[cfg(feature = "test-util")]
    fn anchors(&self) -> (Vec<TrustAnchor<'static>>, bool) {
        let Some(roots) = &self.test_roots else {
            return (
                webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                self.connect_to.is_some(),
            );
        };
        let mut anchors = Vec::new();
        for der in roots {
            let der = rustls_pki_types::CertificateDer::from(der.as_slice());
            match webpki::anchor_from_trusted_cert(&der) {
                Ok(anchor) => anchors.push(anchor.to_owned()),
                Err(e) => tracing::warn!(error = %e, "skipped a test root that is not usable"),
            }
        }
        (anchors, true)
    }

    fn resolver(&self) -> Resolver {
        #[cfg(feature = "test-util")]
        if let Some(addr) = self.connect_to {
            return Resolver::Fixed(addr);
        }
        Resolver::System(hyper_util::client::legacy::connect::dns::GaiResolver::new())
    }
}
