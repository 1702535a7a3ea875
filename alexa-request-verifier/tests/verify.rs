//! Every rule of `RequestVerifier::verify`, each refused by its own test, against a CA made at
//! test time and a chain served over HTTPS from 127.0.0.1. The URL rules stay as in production:
//! the test-only settings only trust the test CA and send every download to the loopback
//! server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use alexa_request_verifier::{CertUrlError, RequestVerifier, RequestVerifierBuilder, VerifyError};
use alexa_request_verifier_testkit::{
    CHAIN_HOST, CHAIN_URL, ChainServer, ContentLength, ECHO_API, Serve, SigningCertSpec, TestCa,
    headers, now, other_key, request_body, sign, signing_key,
};

/// A trusted test CA, a loopback server answering as `serve` says, and a verifier trusting
/// that CA and downloading from that server.
struct Setup {
    server: ChainServer,
    verifier: RequestVerifier,
}

impl Setup {
    async fn serving(serve: impl FnOnce(&TestCa) -> Serve) -> Self {
        Self::with(serve, |b| b).await
    }

    async fn with(
        serve: impl FnOnce(&TestCa) -> Serve,
        configure: impl FnOnce(RequestVerifierBuilder) -> RequestVerifierBuilder,
    ) -> Self {
        Self::with_ca(TestCa::new("Alexa Verifier Test Root"), serve, configure).await
    }

    async fn with_ca(
        ca: TestCa,
        serve: impl FnOnce(&TestCa) -> Serve,
        configure: impl FnOnce(RequestVerifierBuilder) -> RequestVerifierBuilder,
    ) -> Self {
        let server = ChainServer::start(ca.server_config(CHAIN_HOST), serve(&ca)).await;
        let builder = RequestVerifier::builder()
            .insecure_trust_roots_for_tests([ca.root_der()])
            .insecure_connect_to_loopback_for_tests(server.port());
        let verifier = configure(builder).build();
        Self { server, verifier }
    }

    /// Serving the chain of a signing certificate as `spec` says.
    async fn with_cert(spec: SigningCertSpec) -> Self {
        Self::serving(|ca| Serve::ok(ca.signing_chain(&spec))).await
    }

    /// Serving a good chain.
    async fn good() -> Self {
        Self::with_cert(SigningCertSpec::default()).await
    }

    /// Verifies a fresh request signed by Alexa's key, with the chain at `url`.
    async fn verify_signed(&self, url: &str) -> Result<(), VerifyError> {
        let body = request_body(now());
        let headers = headers(url, &sign(signing_key(), body.as_bytes()));
        self.verifier.verify(&headers, body.as_bytes()).await
    }
}

#[tokio::test]
async fn a_request_signed_by_alexa_passes() {
    let s = Setup::good().await;
    s.verify_signed(CHAIN_URL).await.unwrap();
    assert_eq!(s.server.paths(), ["/echo.api/echo-api-cert-test.pem"]);
    // The RSA signature covers the raw bytes: any body works, JSON formatting included.
    let body = request_body(now()).replace(',', " ,\n ");
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    s.verifier.verify(&h, body.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_tampered_body_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now());
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    let tampered = body.replace("LaunchRequest", "IntentRequest");
    assert_ne!(tampered, body);
    let err = s
        .verifier
        .verify(&h, tampered.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::SignatureMismatch), "{err:?}");
    // The untouched body passes with the same headers.
    s.verifier.verify(&h, body.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_wrong_signature_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now());
    let genuine = sign(signing_key(), body.as_bytes());
    // Same length, one bit flipped.
    let mut bytes = base64_decode(&genuine);
    bytes[10] ^= 0x01;
    let flipped = base64_encode(&bytes);
    let err = s
        .verifier
        .verify(&headers(CHAIN_URL, &flipped), body.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::SignatureMismatch), "{err:?}");

    let err = s
        .verifier
        .verify(&headers(CHAIN_URL, "bm90IGEgc2lnbmF0dXJl"), body.as_bytes())
        .await
        .unwrap_err();
    assert!(matches!(err, VerifyError::SignatureMismatch), "{err:?}");

    let err = s
        .verifier
        .verify(&headers(CHAIN_URL, "%%% not base64 %%%"), body.as_bytes())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::InvalidHeader {
                name: "Signature-256",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_signature_by_another_key_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now());
    let h = headers(CHAIN_URL, &sign(other_key(), body.as_bytes()));
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert!(matches!(err, VerifyError::SignatureMismatch), "{err:?}");
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let s = Setup::with_cert(SigningCertSpec {
        not_before: now() - time::Duration::days(60),
        not_after: now() - time::Duration::days(1),
        ..SigningCertSpec::default()
    })
    .await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::CertificateExpired { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_certificate_not_yet_valid_is_refused() {
    let s = Setup::with_cert(SigningCertSpec {
        not_before: now() + time::Duration::days(1),
        not_after: now() + time::Duration::days(60),
        ..SigningCertSpec::default()
    })
    .await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::CertificateNotYetValid { .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_certificate_without_the_echo_api_name_is_refused() {
    for sans in [
        vec!["echo-api.amazon.com.evil.com".to_owned()],
        vec!["*.amazon.com".to_owned()],
        vec!["amazon.com".to_owned(), "s3.amazonaws.com".to_owned()],
    ] {
        let s = Setup::with_cert(SigningCertSpec {
            sans: sans.clone(),
            ..SigningCertSpec::default()
        })
        .await;
        let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
        assert!(
            matches!(err, VerifyError::SubjectAltName { expected } if expected == ECHO_API),
            "{sans:?}: {err:?}"
        );
    }
    // Among other names is fine.
    let s = Setup::with_cert(SigningCertSpec {
        sans: vec!["other.amazon.com".to_owned(), ECHO_API.to_owned()],
        ..SigningCertSpec::default()
    })
    .await;
    s.verify_signed(CHAIN_URL).await.unwrap();
}

#[tokio::test]
async fn a_chain_to_an_untrusted_root_is_refused() {
    // A perfectly formed chain, from a CA the verifier does not trust (served over a TLS
    // connection it does trust).
    let stranger = TestCa::new("Someone Else's Root");
    let chain = stranger.signing_chain(&SigningCertSpec::default());
    let s = Setup::serving(|_| Serve::ok(chain)).await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(matches!(err, VerifyError::UntrustedChain { .. }), "{err:?}");

    // A chain from the trusted CA without its intermediate does not reach the root either.
    let ca = TestCa::new("Alexa Verifier Test Root");
    let leaf_only = {
        let pem = ca.signing_chain(&SigningCertSpec::default());
        let end = pem.find("-----END CERTIFICATE-----").unwrap() + 25;
        pem[..end].to_owned()
    };
    let s = Setup::with_ca(ca, |_| Serve::ok(leaf_only), |b| b).await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(matches!(err, VerifyError::UntrustedChain { .. }), "{err:?}");
}

/// The URL is refused with `rule`, and nothing was downloaded.
async fn assert_url_refused(url: &str, rule: CertUrlError) {
    let s = Setup::good().await;
    let err = s.verify_signed(url).await.unwrap_err();
    assert!(
        matches!(&err, VerifyError::CertUrl(r) if *r == rule),
        "{url}: {err:?}"
    );
    assert_eq!(
        s.server.downloads(),
        0,
        "{url}: refused before any download"
    );
}

#[tokio::test]
async fn a_chain_url_over_http_is_refused() {
    assert_url_refused(
        "http://s3.amazonaws.com/echo.api/echo-api-cert-test.pem",
        CertUrlError::Scheme,
    )
    .await;
}

#[tokio::test]
async fn a_chain_url_on_another_host_is_refused() {
    assert_url_refused(
        "https://notamazon.com/echo.api/echo-api-cert-test.pem",
        CertUrlError::Host,
    )
    .await;
    assert_url_refused(
        "https://s3.amazonaws.com.example.com/echo.api/echo-api-cert-test.pem",
        CertUrlError::Host,
    )
    .await;
}

#[tokio::test]
async fn a_chain_url_outside_echo_api_is_refused() {
    assert_url_refused(
        "https://s3.amazonaws.com/invalid.path/echo-api-cert-test.pem",
        CertUrlError::Path,
    )
    .await;
    assert_url_refused(
        "https://s3.amazonaws.com/EcHo.aPi/echo-api-cert-test.pem",
        CertUrlError::Path,
    )
    .await;
}

#[tokio::test]
async fn a_chain_url_escaping_echo_api_with_dot_dot_is_refused() {
    assert_url_refused(
        "https://s3.amazonaws.com/echo.api/../invalid",
        CertUrlError::Path,
    )
    .await;
    assert_url_refused(
        "https://s3.amazonaws.com/echo.api/%2E%2E/echo-api-cert-test.pem",
        CertUrlError::Path,
    )
    .await;
}

#[tokio::test]
async fn a_chain_url_with_another_port_is_refused() {
    assert_url_refused(
        "https://s3.amazonaws.com:563/echo.api/echo-api-cert-test.pem",
        CertUrlError::Port,
    )
    .await;
}

#[tokio::test]
async fn chain_urls_pass_after_normalisation_and_the_normalised_url_is_downloaded() {
    let s = Setup::good().await;
    s.verify_signed("HTTPS://S3.AmazonAWS.com:443/echo.api/x/../echo-api-cert-test.pem")
        .await
        .unwrap();
    assert_eq!(s.server.paths(), ["/echo.api/echo-api-cert-test.pem"]);
}

/// A valid chain followed by filler text (outside any PEM block) up to `size` bytes.
fn padded_chain(ca: &TestCa, size: usize) -> Vec<u8> {
    let mut pem = ca.signing_chain(&SigningCertSpec::default()).into_bytes();
    while pem.len() < size {
        pem.extend_from_slice(b"padding outside any PEM block, ignored by PEM parsers\n");
    }
    pem
}

#[tokio::test]
async fn a_padded_chain_under_the_cap_passes() {
    // Shows that the padding alone is harmless: the next two tests fail only on size.
    let s = Setup::serving(|ca| Serve::ok(padded_chain(ca, 60_000))).await;
    s.verify_signed(CHAIN_URL).await.unwrap();
}

#[tokio::test]
async fn a_chain_declared_larger_than_the_cap_is_refused_before_reading_it() {
    // The server announces 70 000 bytes but sends only a good chain: refused on the header
    // alone (reading on would hit the end of the connection instead).
    let s = Setup::serving(|ca| Serve {
        content_length: ContentLength::Declared(70_000),
        ..Serve::ok(ca.signing_chain(&SigningCertSpec::default()))
    })
    .await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::ChainTooLarge { limit: 65_536 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_chain_streamed_past_the_cap_without_a_length_is_refused() {
    let s = Setup::serving(|ca| Serve {
        content_length: ContentLength::Omitted,
        ..Serve::ok(padded_chain(ca, 70_000))
    })
    .await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::ChainTooLarge { limit: 65_536 }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_slow_chain_server_times_out() {
    let timeout = Duration::from_millis(500);
    let s = Setup::with(
        |ca| Serve {
            delay: Duration::from_secs(120),
            ..Serve::ok(ca.signing_chain(&SigningCertSpec::default()))
        },
        |b| b.fetch_timeout(timeout),
    )
    .await;
    // Generous: only there so that a missing timeout fails the test instead of hanging it.
    let outcome = tokio::time::timeout(Duration::from_secs(60), s.verify_signed(CHAIN_URL))
        .await
        .expect("the verifier's own timeout should have fired");
    let err = outcome.unwrap_err();
    assert!(
        matches!(err, VerifyError::ChainTimeout { timeout: t } if t == timeout),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_chain_server_error_is_refused() {
    let s = Setup::serving(|_| Serve {
        status: 404,
        ..Serve::ok("<Error><Code>NoSuchKey</Code></Error>")
    })
    .await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(matches!(err, VerifyError::ChainDownload { .. }), "{err:?}");
    assert!(err.to_string().contains("404"), "{err}");
}

#[tokio::test]
async fn a_download_that_is_not_a_pem_chain_is_refused() {
    let s = Setup::serving(|_| Serve::ok("<html>hello</html>")).await;
    let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
    assert!(matches!(err, VerifyError::InvalidChain { .. }), "{err:?}");
}

#[tokio::test]
async fn a_request_from_the_past_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now() - time::Duration::seconds(200));
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::StaleTimestamp { skew_seconds, tolerance_seconds: 150 } if skew_seconds >= 200),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_request_from_the_future_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now() + time::Duration::seconds(200));
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert!(
        matches!(err, VerifyError::StaleTimestamp { skew_seconds, tolerance_seconds: 150 } if skew_seconds <= -150),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_request_within_the_timestamp_tolerance_passes() {
    let s = Setup::good().await;
    for offset in [-100, 100] {
        let body = request_body(now() + time::Duration::seconds(offset));
        let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
        s.verifier.verify(&h, body.as_bytes()).await.unwrap();
    }
}

#[tokio::test]
async fn a_request_without_the_chain_url_header_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now());
    let mut h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    h.remove("SignatureCertChainUrl");
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::MissingHeader {
                name: "SignatureCertChainUrl",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(s.server.downloads(), 0);
}

#[tokio::test]
async fn a_request_without_signature_256_is_refused() {
    let s = Setup::good().await;
    let body = request_body(now());
    let signature = sign(signing_key(), body.as_bytes());
    let mut h = headers(CHAIN_URL, &signature);
    h.remove("Signature-256");
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::MissingHeader {
                name: "Signature-256",
                legacy_only: false
            }
        ),
        "{err:?}"
    );
    // Only the legacy SHA-1 header: refused, and the message says it is not supported.
    h.insert("Signature", signature.parse().unwrap());
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::MissingHeader {
                name: "Signature-256",
                legacy_only: true
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("not supported"), "{err}");
    assert_eq!(s.server.downloads(), 0);
}

#[tokio::test]
async fn the_chain_is_downloaded_once_per_url() {
    let s = Setup::good().await;
    for _ in 0..3 {
        s.verify_signed(CHAIN_URL).await.unwrap();
    }
    // Clones share the cache.
    let clone = s.verifier.clone();
    let body = request_body(now());
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    clone.verify(&h, body.as_bytes()).await.unwrap();
    assert_eq!(s.server.downloads(), 1);

    // Another URL is another download.
    s.verify_signed("https://s3.amazonaws.com/echo.api/echo-api-cert-2.pem")
        .await
        .unwrap();
    assert_eq!(
        s.server.paths(),
        [
            "/echo.api/echo-api-cert-test.pem",
            "/echo.api/echo-api-cert-2.pem"
        ]
    );

    // A refused signature does not evict the chain.
    let body = request_body(now());
    let h = headers(CHAIN_URL, &sign(other_key(), body.as_bytes()));
    assert!(s.verifier.verify(&h, body.as_bytes()).await.is_err());
    s.verify_signed(CHAIN_URL).await.unwrap();
    assert_eq!(s.server.downloads(), 2);
}

#[tokio::test]
async fn without_a_cache_every_request_downloads_the_chain() {
    let s = Setup::with(
        |ca| Serve::ok(ca.signing_chain(&SigningCertSpec::default())),
        |b| b.cache_capacity(0),
    )
    .await;
    s.verify_signed(CHAIN_URL).await.unwrap();
    s.verify_signed(CHAIN_URL).await.unwrap();
    assert_eq!(s.server.downloads(), 2);
}

#[tokio::test]
async fn a_refused_chain_is_remembered_for_the_failure_ttl_only() {
    let ttl = Duration::from_millis(600);
    let s = Setup::with(
        |ca| {
            Serve::ok(ca.signing_chain(&SigningCertSpec {
                sans: vec!["other.amazon.com".to_owned()],
                ..SigningCertSpec::default()
            }))
        },
        |b| b.failure_cache_ttl(ttl),
    )
    .await;
    for _ in 0..5 {
        let err = s.verify_signed(CHAIN_URL).await.unwrap_err();
        assert!(matches!(err, VerifyError::SubjectAltName { .. }), "{err:?}");
    }
    assert_eq!(s.server.downloads(), 1, "the failure was remembered");
    tokio::time::sleep(ttl * 2).await;
    assert!(s.verify_signed(CHAIN_URL).await.is_err());
    assert_eq!(s.server.downloads(), 2, "and forgotten after its TTL");

    // With no failure cache, every request downloads again.
    let s = Setup::with(
        |_| Serve::ok("<html>not a chain</html>"),
        |b| b.failure_cache_ttl(Duration::ZERO),
    )
    .await;
    assert!(s.verify_signed(CHAIN_URL).await.is_err());
    assert!(s.verify_signed(CHAIN_URL).await.is_err());
    assert_eq!(s.server.downloads(), 2);
}

#[tokio::test]
async fn error_messages_hold_no_body_ids_or_signature() {
    let s = Setup::good().await;
    let body = request_body(now() - time::Duration::seconds(400));
    let signature = sign(other_key(), body.as_bytes());
    let mut errors = vec![
        s.verifier
            .verify(&headers(CHAIN_URL, &signature), body.as_bytes())
            .await
            .unwrap_err(),
    ];
    let signature = sign(signing_key(), body.as_bytes());
    errors.push(
        s.verifier
            .verify(&headers(CHAIN_URL, &signature), body.as_bytes())
            .await
            .unwrap_err(),
    );
    errors.push(
        s.verifier
            .verify(
                &headers(CHAIN_URL, &signature),
                b"{\"request\": \"amzn1.ask.account.TESTUSER\"}",
            )
            .await
            .unwrap_err(),
    );
    for e in errors {
        let text = format!("{e} {e:?}");
        for secret in [
            "TESTUSER",
            "TESTDEVICE",
            "amzn1.",
            signature.as_str(),
            "LaunchRequest",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[test]
fn the_production_verifier_builds_without_io_or_a_runtime() {
    let v = RequestVerifier::new();
    let debug = format!("{v:?}");
    assert!(debug.contains("test_settings: false"), "{debug}");
    assert!(!debug.contains("trusted_roots: 0"), "{debug}");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
