//! [`RequestVerifierBuilder`]: the verifier's settings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::TrustAnchor;

use crate::cache::{Bounds, Chains};
use crate::fetch::{self, Resolver};
use crate::{
    DEFAULT_CACHE_CAPACITY, DEFAULT_FAILURE_CACHE_CAPACITY, DEFAULT_FAILURE_CACHE_TTL,
    DEFAULT_FETCH_TIMEOUT, DEFAULT_MAX_CHAIN_BYTES, DEFAULT_MAX_DOWNLOADS_IN_FLIGHT,
    DEFAULT_MAX_DOWNLOADS_PER_MINUTE, Inner, RequestVerifier,
};

/// Builds a [`RequestVerifier`]; [`RequestVerifier::builder`].
///
/// ```
/// use std::time::Duration;
/// let verifier = alexa_request_verifier::RequestVerifier::builder()
///     .fetch_timeout(Duration::from_secs(2))
///     .max_downloads_per_minute(5)
///     .failure_cache_ttl(Duration::from_secs(120))
///     .build();
/// ```
#[derive(Clone)]
pub struct RequestVerifierBuilder {
    fetch_timeout: Duration,
    max_chain_bytes: usize,
    bounds: Bounds,
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
            bounds: Bounds {
                capacity: DEFAULT_CACHE_CAPACITY,
                failure_capacity: DEFAULT_FAILURE_CACHE_CAPACITY,
                failure_ttl: DEFAULT_FAILURE_CACHE_TTL,
                max_in_flight: DEFAULT_MAX_DOWNLOADS_IN_FLIGHT,
                max_per_minute: DEFAULT_MAX_DOWNLOADS_PER_MINUTE,
            },
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
            .field("bounds", &self.bounds)
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
        self.bounds.capacity = capacity;
        self
    }

    /// How long a URL whose download or chain failed is answered with that failure without
    /// downloading again; [`DEFAULT_FAILURE_CACHE_TTL`] by default. Transient failures
    /// (connection, TLS, time-out, HTTP 5xx) are remembered for at most 10 s. `Duration::ZERO`
    /// remembers none.
    pub fn failure_cache_ttl(mut self, ttl: Duration) -> Self {
        self.bounds.failure_ttl = ttl;
        self
    }

    /// How many failed URLs are remembered at most; [`DEFAULT_FAILURE_CACHE_CAPACITY`] by
    /// default.
    pub fn failure_cache_capacity(mut self, capacity: usize) -> Self {
        self.bounds.failure_capacity = capacity;
        self
    }

    /// How many chain downloads may run at once (at least 1); a request that would start
    /// another is refused at once with [`VerifyError::DownloadLimited`](crate::VerifyError::DownloadLimited).
    /// [`DEFAULT_MAX_DOWNLOADS_IN_FLIGHT`] by default. Requests for a URL already being
    /// downloaded wait for that download instead.
    pub fn max_downloads_in_flight(mut self, max: usize) -> Self {
        self.bounds.max_in_flight = max;
        self
    }

    /// How many chain downloads may start per minute (at least 1): a burst of this many, then
    /// one every `60 s / max`; a request that would start another is refused at once with
    /// [`VerifyError::DownloadLimited`](crate::VerifyError::DownloadLimited).
    /// [`DEFAULT_MAX_DOWNLOADS_PER_MINUTE`] by default.
    ///
    /// This bounds what a flood of junk chain URLs (any path under `/echo.api/`, any query
    /// string) costs in outbound downloads. Alexa uses one chain URL for months, cached after
    /// its first download; under such a flood a chain not yet cached may be refused until the
    /// flood stops.
    pub fn max_downloads_per_minute(mut self, max: u32) -> Self {
        self.bounds.max_per_minute = max;
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
                chains: Chains::new(self.bounds),
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
