//! The chain URL rules (checked before anything is downloaded) and what a chain download may
//! be: size caps, time-out, server errors, content that is no PEM chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use alexa_request_verifier::{CertUrlError, VerifyError};
use alexa_request_verifier_testkit::{CHAIN_URL, ContentLength, Serve, SigningCertSpec, TestCa};
use common::Setup;

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
