//! Every rule of `RequestVerifier::verify`, each refused by its own test, against a CA made at
//! test time and a chain served over HTTPS from 127.0.0.1. The URL rules stay as in production:
//! the test-only settings only trust the test CA and send every download to the loopback
//! server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use alexa_request_verifier::{RequestVerifier, VerifyError};
use alexa_request_verifier_testkit::{
    CHAIN_URL, ECHO_API, Serve, SigningCertSpec, TestCa, headers, now, other_key, request_body,
    sign, signing_key,
};

mod common;
use common::Setup;

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
