use super::*;
use crate::{HandlerError, SkillBuilder, Turn};
use alexa_request_verifier_testkit as kit;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const LAUNCH: &str = include_str!("../../tests/data/launch_request.json");
const LAUNCH_TIMESTAMP: &str = "2025-05-14T09:21:43Z";
const USER_ID: &str =
    "amzn1.ask.account.AHZ3XJ4FQK2L7NMRT5VW6YB8CD9EFG0HIJKLMNOPQRSTUVWXYZ1234567890ABCDEFGH";
const DEVICE_ID: &str = "amzn1.ask.device.AEKQ7PWEXAMPLEDEVICE3MZ5N2XAZVTR7LPQ4JHG6YUIOKLMNB";
const TOKEN_PART: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ";

/// The launch request as Alexa would send it now.
fn fresh_launch() -> String {
    assert!(LAUNCH.contains(LAUNCH_TIMESTAMP));
    LAUNCH.replace(LAUNCH_TIMESTAMP, &kit::timestamp_text(kit::now()))
}

/// A skill whose launch handler counts its runs.
fn counting_skill(launches: Arc<AtomicUsize>) -> Skill {
    SkillBuilder::new()
        .with_skill_id("amzn1.ask.skill.0f2b6a1e-7c59-4a7e-9a8e-0c3f5c2d9b11")
        .on_launch(move |turn: Turn| {
            launches.fetch_add(1, Ordering::SeqCst);
            async move {
                turn.session_attributes()?.set("step", "welcomed")?;
                Ok::<_, HandlerError>(turn.speak("Welcome to HTTP!").reprompt("Still there?"))
            }
        })
        .on_intent("AMAZON.StopIntent", |turn: Turn| async move {
            Ok::<_, HandlerError>(turn.reply().end_session())
        })
        .build()
        .unwrap()
}

fn skill() -> Skill {
    counting_skill(Arc::default())
}

/// Serves `front` on a free loopback port.
async fn start(front: HttpFront) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (addr, tokio::spawn(front.serve_on(listener)))
}

/// POSTs `body` with a plain HTTP/1.1 request and `headers`; returns the status and body.
async fn post_with(addr: SocketAddr, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    (status, body.to_owned())
}

async fn post(addr: SocketAddr, body: &str) -> (u16, String) {
    post_with(addr, &[], body).await
}

/// Everything logged at any level while the guard lives, on this thread (the tests that
/// use it run on a current-thread runtime, so the server's tasks log here too).
fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let logs = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&logs);
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || Sink(Arc::clone(&sink)))
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

fn text(logs: &Mutex<Vec<u8>>) -> String {
    String::from_utf8_lossy(&logs.lock().unwrap()).into_owned()
}

/// A test CA, a loopback HTTPS server serving its Alexa-like chain, and a front whose
/// verifier trusts that CA and downloads from that server (the URL rules unchanged).
async fn signed_setup(skill: Skill) -> (kit::ChainServer, HttpFront) {
    let ca = kit::TestCa::new("HTTP Front Test Root");
    let chain = ca.signing_chain(&kit::SigningCertSpec::default());
    let server =
        kit::ChainServer::start(ca.server_config(kit::CHAIN_HOST), kit::Serve::ok(chain)).await;
    let verifier = RequestVerifier::builder()
        .insecure_trust_roots_for_tests([ca.root_der()])
        .insecure_connect_to_loopback_for_tests(server.port())
        .build();
    (server, HttpFront::new(skill).with_verifier(verifier))
}

#[tokio::test]
async fn serves_a_request_alexa_signed_end_to_end() {
    let launches = Arc::new(AtomicUsize::new(0));
    let (chain_server, front) = signed_setup(counting_skill(Arc::clone(&launches))).await;
    let (addr, server) = start(front).await;

    let body = fresh_launch();
    let signature = kit::sign(kit::signing_key(), body.as_bytes());
    let headers = [
        ("SignatureCertChainUrl", kit::CHAIN_URL),
        ("Signature-256", signature.as_str()),
    ];
    let (status, answer) = post_with(addr, &headers, &body).await;
    assert_eq!(status, 200, "{answer}");
    let v: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        v["response"]["outputSpeech"]["ssml"],
        "<speak>Welcome to HTTP!</speak>"
    );
    assert_eq!(launches.load(Ordering::SeqCst), 1);
    assert_eq!(chain_server.downloads(), 1);

    // The same headers over another body: 400, and the handler does not run.
    let tampered = body.replace("en-US", "en-GB");
    assert_ne!(tampered, body);
    let (status, answer) = post_with(addr, &headers, &tampered).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer, r#"{"error":"request verification failed"}"#);
    assert_eq!(launches.load(Ordering::SeqCst), 1);

    // No headers at all: 400, the same generic answer.
    let (status, answer) = post(addr, &body).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer, r#"{"error":"request verification failed"}"#);
    assert_eq!(launches.load(Ordering::SeqCst), 1);
    server.abort();
}

#[tokio::test]
async fn verifies_by_default() {
    let launches = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(serve_http_on(
        counting_skill(Arc::clone(&launches)),
        listener,
    ));
    assert!(HttpFront::new(skill()).verifies_requests());

    // An unsigned request, and one pointing at a chain outside Amazon's (refused before any
    // download, so no network is needed).
    let (status, body) = post(addr, &fresh_launch()).await;
    assert_eq!(status, 400, "{body}");
    let headers = [
        (
            "SignatureCertChainUrl",
            "https://evil.example.com/echo.api/cert.pem",
        ),
        ("Signature-256", "c2lnbmF0dXJl"),
    ];
    let (status, body) = post_with(addr, &headers, &fresh_launch()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, r#"{"error":"request verification failed"}"#);
    assert_eq!(launches.load(Ordering::SeqCst), 0, "no handler ran");

    // The router too.
    let app = router(skill());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr2 = listener.local_addr().unwrap();
    let server2 = tokio::spawn(async move { axum::serve(listener, app).await });
    let (status, _) = post(addr2, &fresh_launch()).await;
    assert_eq!(status, 400);
    server.abort();
    server2.abort();
}

#[tokio::test]
async fn logs_why_a_request_was_refused_without_the_body_ids_or_tokens() {
    let (logs, _guard) = capture_logs();
    let (_chain_server, front) = signed_setup(skill()).await;
    let (addr, server) = start(front).await;

    let body = fresh_launch();
    let wrong_key = kit::sign(kit::other_key(), body.as_bytes());
    let headers = [
        ("SignatureCertChainUrl", kit::CHAIN_URL),
        ("Signature-256", wrong_key.as_str()),
    ];
    let (status, answer) = post_with(addr, &headers, &body).await;
    assert_eq!(status, 400, "{answer}");
    let stale = LAUNCH.replace(LAUNCH_TIMESTAMP, "2020-01-01T00:00:00Z");
    let signature = kit::sign(kit::signing_key(), stale.as_bytes());
    let headers = [
        ("SignatureCertChainUrl", kit::CHAIN_URL),
        ("Signature-256", signature.as_str()),
    ];
    let (status, answer) = post_with(addr, &headers, &stale).await;
    assert_eq!(status, 400, "{answer}");
    server.abort();

    let logs = text(&logs);
    assert!(
        logs.contains("failed Alexa request verification")
            && logs.contains("Signature-256 header does not match"),
        "{logs}"
    );
    assert!(logs.contains("request timestamp is"), "{logs}");
    for secret in [
        USER_ID, DEVICE_ID, TOKEN_PART, &wrong_key, &signature, "Viewport",
    ] {
        assert!(!logs.contains(secret), "{secret} logged:\n{logs}");
    }
    assert!(!logs.contains("AHZ3XJ4FQK2L7"), "{logs}");
}

#[tokio::test]
async fn says_loudly_when_verification_is_off() {
    let (logs, _guard) = capture_logs();
    let front = HttpFront::new(skill()).skip_verification_for_local_development();
    assert!(!front.verifies_requests());
    let (addr, server) = start(front).await;
    let (status, body) = post(addr, &fresh_launch()).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = post(addr, &fresh_launch()).await;
    assert_eq!(status, 200);
    server.abort();

    let logs = text(&logs);
    let warnings: Vec<_> = logs
        .lines()
        .filter(|l| l.contains("WARN") && l.contains("verification is OFF"))
        .collect();
    assert_eq!(warnings.len(), 1, "one start-up warning:\n{logs}");
    let per_request = logs
        .lines()
        .filter(|l| l.contains("DEBUG") && l.contains("this request was not verified"))
        .count();
    assert_eq!(per_request, 2, "{logs}");

    // Embedding the router warns too.
    let (logs, _guard) = capture_logs();
    let _app = HttpFront::new(skill())
        .skip_verification_for_local_development()
        .into_router();
    assert!(text(&logs).contains("verification is OFF"));
    let (logs, _guard) = capture_logs();
    let _app = router(skill());
    assert!(!text(&logs).contains("verification is OFF"));
}

#[tokio::test]
async fn serves_alexa_requests_over_http() {
    let front = HttpFront::new(skill()).skip_verification_for_local_development();
    let (addr, server) = start(front).await;

    let (status, body) = post(addr, LAUNCH).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["version"], "1.0");
    assert_eq!(
        v["response"]["outputSpeech"],
        json!({"type": "SSML", "ssml": "<speak>Welcome to HTTP!</speak>"})
    );
    assert_eq!(v["response"]["shouldEndSession"], false);
    assert_eq!(v["sessionAttributes"], json!({"step": "welcomed"}));

    // Not a request envelope: 400 with a generic JSON error.
    let (status, body) = post(addr, r#"{"hello": "world"}"#).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, r#"{"error":"invalid request body"}"#);

    // Another skill's request: 400.
    let other = LAUNCH.replace(
        "amzn1.ask.skill.0f2b6a1e-7c59-4a7e-9a8e-0c3f5c2d9b11",
        "amzn1.ask.skill.someone-else",
    );
    let (status, body) = post(addr, &other).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body, r#"{"error":"request refused"}"#);
    server.abort();
}

#[tokio::test]
async fn a_failing_skill_answers_with_spoken_fallback_not_a_500() {
    // No handler for this intent, no exception handler.
    let help = LAUNCH.replace(
        r#""type": "LaunchRequest","#,
        r#""type": "IntentRequest", "intent": {"name": "AMAZON.HelpIntent"},"#,
    );
    assert_ne!(help, LAUNCH);

    let (logs, _guard) = capture_logs();
    let front = HttpFront::new(skill()).skip_verification_for_local_development();
    let (addr, server) = start(front).await;
    let (status, body) = post(addr, &help).await;
    server.abort();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v,
        json!({
            "version": "1.0",
            "response": {
                "outputSpeech": {"type": "PlainText", "text": "Sorry, something went wrong."},
                "shouldEndSession": true
            }
        })
    );
    // The reason is logged, not sent.
    assert!(!body.contains("HelpIntent"), "{body}");
    assert!(text(&logs).contains("AMAZON.HelpIntent"));

    // In the skill's language.
    let front = HttpFront::new(skill())
        .skip_verification_for_local_development()
        .with_fallback_speech("Entschuldigung, da ist etwas schiefgegangen.");
    let (addr, server) = start(front).await;
    let (status, body) = post(addr, &help).await;
    server.abort();
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        v["response"]["outputSpeech"]["text"],
        "Entschuldigung, da ist etwas schiefgegangen."
    );
}

/// What a developer does by hand: curl POSTs a real Alexa request file to the local
/// endpoint, with verification explicitly off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_a_real_alexa_request_posted_with_curl() {
    let front = HttpFront::new(skill()).skip_verification_for_local_development();
    let (addr, server) = start(front).await;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/launch_request.json"
    );
    let url = format!("http://{addr}/");
    let out = tokio::process::Command::new("curl")
        .args([
            "--silent",
            "--show-error",
            "--fail-with-body",
            "--max-time",
            "10",
        ])
        .args(["-H", "Content-Type: application/json", "--data-binary"])
        .arg(format!("@{file}"))
        .arg(&url)
        .output()
        .await
        .expect("curl is installed (Debian package curl)");
    assert!(
        out.status.success(),
        "curl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["response"]["outputSpeech"]["ssml"],
        "<speak>Welcome to HTTP!</speak>"
    );
    assert_eq!(
        v["response"]["reprompt"]["outputSpeech"]["ssml"],
        "<speak>Still there?</speak>"
    );
    server.abort();
}
