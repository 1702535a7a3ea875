//! What a client that is not verified learns when refused: a generic reason class, never a
//! TLS or DNS error chain, a URL, or serde's text quoting the body. The details go to a `warn`
//! line that names the rule, without body values, IDs or tokens.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod http_common;

use std::sync::Arc;
use std::time::Duration;

use alexa_request_verifier_testkit as kit;
use http_common::{Signing, capture_logs, counter_skill, envelope, post, saved_count, start, text};
use skill_builder::MemoryAdapter;
use skill_builder::http::{HttpFront, RequestVerifier};

const SECRET_USER: &str = "amzn1.ask.account.SECRETUSERVALUE0123456789";
const TOKEN: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.TESTTOKEN.SIGNATURE";

fn assert_no_user_data(logs: &str) {
    for secret in [SECRET_USER, "SECRETUSERVALUE", TOKEN, "TESTTOKEN"] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
}

#[tokio::test]
async fn a_failed_chain_download_answers_generically_and_logs_the_rule() {
    let (logs, _guard) = capture_logs();
    // Nothing listens on this port: the download fails with a connection error.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let ca = kit::TestCa::new("Refusals Test Root");
    let verifier = RequestVerifier::builder()
        .insecure_trust_roots_for_tests([ca.root_der()])
        .insecure_connect_to_loopback_for_tests(port)
        .build();
    let store = Arc::new(MemoryAdapter::new());
    let front =
        HttpFront::new(counter_skill(store.clone(), Duration::ZERO)).with_verifier(verifier);
    let (addr, _stop, _server) = start(front).await;

    let body = envelope(SECRET_USER, "LaunchRequest");
    let answer = post(addr, &Signing::headers(&body), &body).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.body, r#"{"error":"request verification failed"}"#);
    for internal in [
        "s3.amazonaws.com",
        "echo.api",
        "refused",
        "tcp",
        "127.0.0.1",
        "download",
    ] {
        assert!(
            !answer.body.contains(internal),
            "{internal} sent: {answer:?}"
        );
    }
    assert_eq!(saved_count(store.as_ref(), SECRET_USER).await, 0);

    let logs = text(&logs);
    let line = logs
        .lines()
        .find(|l| l.contains("failed Alexa request verification"))
        .unwrap_or_else(|| panic!("no refusal logged:\n{logs}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("rule=\"download\"") || line.contains("rule=download"),
        "{line}"
    );
    assert!(
        line.contains("could not download the certificate chain"),
        "{line}"
    );
    assert_no_user_data(&logs);
}

#[tokio::test]
async fn each_verification_failure_gets_the_same_generic_answer() {
    let (logs, _guard) = capture_logs();
    let signing = Signing::start().await;
    let store = Arc::new(MemoryAdapter::new());
    let front = HttpFront::new(counter_skill(store.clone(), Duration::ZERO))
        .with_verifier(signing.verifier());
    let (addr, _stop, _server) = start(front).await;

    let body = envelope(SECRET_USER, "LaunchRequest");
    let good = Signing::headers(&body);
    let with = |name: &str, value: &str| {
        let mut h: Vec<(String, String)> =
            good.iter().filter(|(n, _)| n != name).cloned().collect();
        h.push((name.to_owned(), value.to_owned()));
        h
    };
    type Case<'a> = (&'a str, Vec<(String, String)>, String);
    let cases: Vec<Case> = vec![
        ("no headers", vec![], body.clone()),
        (
            "another host",
            with(
                "SignatureCertChainUrl",
                "https://evil.example.com/echo.api/c.pem",
            ),
            body.clone(),
        ),
        (
            "a junk chain URL (404)",
            with("SignatureCertChainUrl", &kit::junk_chain_url(7)),
            body.clone(),
        ),
        (
            "a tampered body",
            good.clone(),
            body.replace("en-US", "de-DE"),
        ),
        (
            "a stale request",
            Signing::headers(&stale(&body)),
            stale(&body),
        ),
    ];
    for (what, headers, body) in cases {
        let answer = post(addr, &headers, &body).await;
        assert_eq!(answer.status, 400, "{what}: {answer:?}");
        assert_eq!(
            answer.body, r#"{"error":"request verification failed"}"#,
            "{what}"
        );
    }
    assert_eq!(saved_count(store.as_ref(), SECRET_USER).await, 0);

    let logs = text(&logs);
    for rule in ["header", "cert-url", "download", "signature", "timestamp"] {
        assert!(
            logs.lines().any(|l| l.contains("WARN")
                && l.contains("failed Alexa request verification")
                && l.contains(rule)),
            "{rule} not logged:\n{logs}"
        );
    }
    assert_no_user_data(&logs);
}

/// `body` with a `request.timestamp` ten minutes old.
fn stale(body: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    v["request"]["timestamp"] = kit::timestamp_text(kit::now() - Duration::from_secs(600)).into();
    v.to_string()
}

#[tokio::test]
async fn a_signed_body_that_is_not_an_envelope_is_logged_by_position_only() {
    let (logs, _guard) = capture_logs();
    let signing = Signing::start().await;
    let store = Arc::new(MemoryAdapter::new());
    let front = HttpFront::new(counter_skill(store.clone(), Duration::ZERO))
        .with_verifier(signing.verifier());
    let (addr, _stop, _server) = start(front).await;

    // Valid JSON, signed, fresh: it passes verification; but `session.new` is a string, and
    // serde's message would quote it.
    let mut v: serde_json::Value =
        serde_json::from_str(&envelope(SECRET_USER, "LaunchRequest")).unwrap();
    v["session"]["new"] = SECRET_USER.into();
    let body = v.to_string();
    let answer = post(addr, &Signing::headers(&body), &body).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.body, r#"{"error":"invalid request body"}"#);

    let logs = text(&logs);
    let line = logs
        .lines()
        .find(|l| l.contains("not a request envelope"))
        .unwrap_or_else(|| panic!("nothing logged:\n{logs}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("line=1") && line.contains("column="),
        "{line}"
    );
    assert!(line.contains("category=Data"), "{line}");
    assert!(
        !line.contains("invalid type"),
        "serde's message logged: {line}"
    );
    assert_no_user_data(&logs);
}

#[tokio::test]
async fn malformed_json_is_answered_generically_and_logged_by_position_only() {
    let (logs, _guard) = capture_logs();
    let store = Arc::new(MemoryAdapter::new());
    let front = HttpFront::new(counter_skill(store.clone(), Duration::ZERO))
        .skip_verification_for_local_development();
    let (addr, _stop, _server) = start(front).await;

    for (body, category) in [
        (
            format!(r#"{{"session": {{"sessionId": "{SECRET_USER}"}}, "#),
            "Eof",
        ),
        (format!(r#"{{"version": "{SECRET_USER}" ]"#), "Syntax"),
        (
            format!(r#"{{"request": {{"type": 5, "x": "{SECRET_USER}"}}}}"#),
            "Data",
        ),
        (format!(r#"["{SECRET_USER}"]"#), "Data"),
    ] {
        let answer = post(addr, &[], &body).await;
        assert_eq!(answer.status, 400, "{body}: {answer:?}");
        assert_eq!(answer.body, r#"{"error":"invalid request body"}"#);
        assert!(
            text(&logs).contains(&format!("category={category}")),
            "{body}:\n{}",
            text(&logs)
        );
    }
    assert_no_user_data(&text(&logs));
}

#[tokio::test]
async fn a_request_for_another_skill_is_refused_without_echoing_its_id() {
    let (logs, _guard) = capture_logs();
    let store = Arc::new(MemoryAdapter::new());
    let front = HttpFront::new(counter_skill(store.clone(), Duration::ZERO))
        .skip_verification_for_local_development();
    let (addr, _stop, _server) = start(front).await;
    let body = envelope(SECRET_USER, "LaunchRequest")
        .replace(http_common::SKILL_ID, "amzn1.ask.skill.someone-else");
    let answer = post(addr, &[], &body).await;
    assert_eq!(answer.status, 400, "{answer:?}");
    assert_eq!(answer.body, r#"{"error":"request refused"}"#);
    assert!(text(&logs).contains("refused a request for another skill"));
    assert_no_user_data(&text(&logs));
}
