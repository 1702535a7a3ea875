//! The Home Assistant relay (`skill_examples::ha_relay`, binary `ha-relay`) against a fake Home
//! Assistant on 127.0.0.1 started by each test: what it forwards (the request's exact bytes,
//! the user's or the fallback token), what it returns, and the spoken answer for every way Home
//! Assistant can fail. The binary is run twice as a user would: `--invoke FILE`, and as Lambda
//! starts it, against a fake Lambda runtime API. No log line ever holds a token, user ID or
//! request body.

#![cfg(feature = "ha-relay")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::collections::VecDeque;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use skill_builder::ResponseEnvelope;
use skill_builder::response::Card;
use skill_examples::ha_relay::{
    FAILED_SPEECH, LINK_ACCOUNT_SPEECH, MAX_RESPONSE_BYTES, RELINK_ACCOUNT_SPEECH, Relay,
    RelayConfig, UNREACHABLE_SPEECH,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

// ------------------------------------------------------------------------------------------
// Logs: everything every test logs, at TRACE, for every target.

static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(|| Capture)
            .init();
    });
}

fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Every secret in these tests contains this, so that one search covers them all.
const SECRET: &str = "SECRET";

fn unique() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn secret_token(tag: &str) -> String {
    format!("eyJ{SECRET}TOKEN{tag}{:x}", unique())
}

// ------------------------------------------------------------------------------------------
// Requests. Written by hand, not serialized: keys out of alphabetical order, spacing, a
// `\u` escape and a number with a trailing zero, so that any re-serialization would show.

/// An `IntentRequest` of a linked user: the token in `context.System.user` and in
/// `session.user` (where Alexa puts it).
fn linked_request(token: &str) -> String {
    request("IntentRequest", Some(token), Some(token))
}

/// A request of `kind` with the token in the context and/or the session user.
fn request(kind: &str, context_token: Option<&str>, session_token: Option<&str>) -> String {
    let token = |t: Option<&str>| t.map_or(String::new(), |t| format!(r#", "accessToken": "{t}""#));
    format!(
        r#"{{ "version": "1.0",
  "session": {{"new": false, "sessionId": "amzn1.echo-api.session.S1", "attributes": {{"z": 1.10, "a": "caf\u00e9"}},
    "application": {{"applicationId": "amzn1.ask.skill.HA"}},
    "user": {{"userId": "amzn1.ask.account.{SECRET}USER"{session}}}}},
  "context": {{"System": {{"application": {{"applicationId": "amzn1.ask.skill.HA"}},
    "user": {{"userId": "amzn1.ask.account.{SECRET}USER"{context}}},
    "device": {{"deviceId": "amzn1.ask.device.{SECRET}DEVICE", "supportedInterfaces": {{}}}},
    "apiEndpoint": "https://api.amazonalexa.com", "apiAccessToken": "eyJ{SECRET}APITOKEN"}}}},
  "request": {{"type": "{kind}", "requestId": "amzn1.echo-api.request.R1", "locale": "en-US",
    "timestamp": "2025-05-01T10:00:00Z", "reason": "USER_INITIATED",
    "intent": {{"name": "ActivateSceneIntent", "confirmationStatus": "NONE",
      "slots": {{"Scene": {{"name": "Scene", "value": "movie {SECRET} time", "confirmationStatus": "NONE"}}}}}}}}
}}
"#,
        session = token(session_token),
        context = token(context_token),
    )
}

/// What the fake Home Assistant answers: an envelope as Home Assistant's `alexa` integration
/// writes it.
const HA_ANSWER: &str = r#"{"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": "Movie time is on."}, "card": {"type": "Simple", "title": "Scene", "content": "Movie time is on."}, "shouldEndSession": true}, "sessionAttributes": {"scene": "movie time"}}"#;

fn ha_answer() -> Value {
    serde_json::from_str(HA_ANSWER).unwrap()
}

// ------------------------------------------------------------------------------------------
// The fake Home Assistant.

#[derive(Clone, Debug)]
enum Behaviour {
    /// Answer `status` with `body` (as JSON).
    Answer(u16, &'static str),
    /// Wait this long, then answer 200 with [`HA_ANSWER`].
    Slow(Duration),
    /// Answer 200 with a valid envelope of this many bytes.
    Big(usize),
}

/// One request the fake Home Assistant received.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

#[derive(Clone)]
struct HaState {
    behaviour: Behaviour,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A fake Home Assistant on 127.0.0.1 (a free port), stopped when dropped.
struct FakeHa {
    base_url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: JoinHandle<()>,
}

impl Drop for FakeHa {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeHa {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The one request received.
    fn only_request(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.into_iter().next().unwrap()
    }
}

async fn ha_handler(
    State(state): State<HaState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let text = |name| {
        headers
            .get(name)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    state.seen.lock().unwrap().push(Seen {
        method,
        path: uri.path().to_owned(),
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        body: body.to_vec(),
    });
    let (status, body) = match state.behaviour {
        Behaviour::Answer(status, body) => (status, body.to_owned()),
        Behaviour::Slow(delay) => {
            tokio::time::sleep(delay).await;
            (200, HA_ANSWER.to_owned())
        }
        Behaviour::Big(size) => {
            let head = r#"{"version": "1.0", "response": {}, "padding": ""#;
            let padding = "x".repeat(size - head.len() - 2);
            (200, format!("{head}{padding}\"}}"))
        }
    };
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}

fn ha_router(behaviour: Behaviour) -> (Router, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = HaState {
        behaviour,
        seen: Arc::clone(&seen),
    };
    (Router::new().fallback(ha_handler).with_state(state), seen)
}

/// A fake Home Assistant over plain HTTP.
async fn fake_ha(behaviour: Behaviour) -> FakeHa {
    let (router, seen) = ha_router(behaviour);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    FakeHa {
        base_url,
        seen,
        task,
    }
}

/// TLS on top of a TCP listener, for `axum::serve`; failed handshakes are skipped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// A fake Home Assistant over HTTPS with a self-signed certificate (as many home
/// installations have), made for this test.
async fn fake_ha_tls(behaviour: Behaviour) -> FakeHa {
    let (router, seen) = ha_router(behaviour);
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.signing_key.serialize_der(),
    ));
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let base_url = format!("https://{}", tcp.local_addr().unwrap());
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(tls)),
    };
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    FakeHa {
        base_url,
        seen,
        task,
    }
}

/// A loopback address nothing listens on (bound, then released).
async fn closed_port_url() -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

fn relay(base_url: &str) -> Relay {
    relay_with(RelayConfig::new(base_url).unwrap())
}

fn relay_with(config: RelayConfig) -> Relay {
    capture_logs();
    Relay::new(config).unwrap()
}

// ------------------------------------------------------------------------------------------
// Checks on the answers.

/// The answer as the project's response model reads it (so it is a valid envelope).
fn envelope(answer: &Value) -> ResponseEnvelope {
    serde_json::from_value(answer.clone()).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

/// Asserts `answer` says `speech`, ends the session, and shows the `LinkAccount` card or none.
fn assert_says(answer: &Value, speech: &str, link_account_card: bool) {
    let envelope = envelope(answer);
    assert_eq!(envelope.version, "1.0");
    let response = envelope.response;
    assert_eq!(
        response.output_speech.as_ref().map(|s| s.content()),
        Some(speech),
        "{answer}"
    );
    assert_eq!(response.should_end_session, Some(true), "{answer}");
    if link_account_card {
        assert_eq!(response.card, Some(Card::LinkAccount), "{answer}");
    } else {
        assert_eq!(response.card, None, "{answer}");
    }
}

/// Bounds a test that would otherwise hang; not a timing assertion.
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 60 s"))
}

// ------------------------------------------------------------------------------------------
// Forwarding.

#[tokio::test]
async fn a_linked_users_request_is_forwarded_byte_for_byte_and_the_answer_returned() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    // A trailing slash on BASE_URL is tolerated.
    let relay = relay(&format!("{}/", ha.base_url));
    let token = secret_token("LINKED");
    let request = linked_request(&token);

    let answer = relay.handle(&request).await;

    assert_eq!(answer, ha_answer(), "Home Assistant's answer, as it came");
    let seen = ha.only_request();
    assert_eq!(seen.method, Method::POST);
    assert_eq!(seen.path, "/api/alexa");
    assert_eq!(
        seen.authorization.as_deref(),
        Some(format!("Bearer {token}").as_str())
    );
    assert_eq!(seen.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        String::from_utf8(seen.body).unwrap(),
        request,
        "the body must be the request's exact bytes"
    );
}

#[tokio::test]
async fn the_session_token_is_used_when_the_context_has_none() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let relay = relay(&ha.base_url);
    let token = secret_token("SESSION");
    let request = request("LaunchRequest", None, Some(&token));
    assert_eq!(relay.handle(&request).await, ha_answer());
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    assert_eq!(seen.body, request.as_bytes());
}

#[tokio::test]
async fn the_fallback_token_is_used_only_when_the_request_has_none() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let fallback = secret_token("FALLBACK");
    let relay = relay_with(
        RelayConfig::new(&ha.base_url)
            .unwrap()
            .with_fallback_token(&fallback)
            .unwrap(),
    );
    let unlinked = request("IntentRequest", None, None);
    assert_eq!(relay.handle(&unlinked).await, ha_answer());
    let user_token = secret_token("USERWINS");
    assert_eq!(
        relay.handle(&linked_request(&user_token)).await,
        ha_answer()
    );

    let seen = ha.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].authorization, Some(format!("Bearer {fallback}")));
    assert_eq!(seen[0].body, unlinked.as_bytes());
    assert_eq!(
        seen[1].authorization,
        Some(format!("Bearer {user_token}")),
        "the user's own token wins over the fallback"
    );
}

#[tokio::test]
async fn without_a_token_the_user_is_asked_to_link_the_account() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let relay = relay(&ha.base_url);
    let answer = relay.handle(&request("IntentRequest", None, None)).await;
    assert_says(&answer, LINK_ACCOUNT_SPEECH, true);
    assert!(ha.seen().is_empty(), "nothing is sent without a token");
}

// ------------------------------------------------------------------------------------------
// Failures: each is a spoken answer that ends the session.

#[tokio::test]
async fn connection_refused_is_an_apology() {
    let relay = relay(&closed_port_url().await);
    let answer = within(
        "refused",
        relay.handle(&linked_request(&secret_token("REFUSED"))),
    )
    .await;
    assert_says(&answer, UNREACHABLE_SPEECH, false);
}

#[tokio::test]
async fn a_home_assistant_that_does_not_answer_in_time_is_an_apology() {
    // The default budget (6 s, what the Lambda function uses); Home Assistant would take a
    // minute. Only "answered with the apology" is asserted, not how fast.
    let ha = fake_ha(Behaviour::Slow(Duration::from_secs(60))).await;
    let relay = relay(&ha.base_url);
    let answer = within("slow", relay.handle(&linked_request(&secret_token("SLOW")))).await;
    assert_says(&answer, UNREACHABLE_SPEECH, false);
    assert_eq!(ha.seen().len(), 1, "the request did reach Home Assistant");
}

#[tokio::test]
async fn http_401_asks_to_link_the_account_again() {
    let ha = fake_ha(Behaviour::Answer(401, r#"{"message": "Unauthorized"}"#)).await;
    let relay = relay(&ha.base_url);
    let answer = relay
        .handle(&linked_request(&secret_token("EXPIRED")))
        .await;
    assert_says(&answer, RELINK_ACCOUNT_SPEECH, true);
}

#[tokio::test]
async fn http_errors_are_apologies() {
    for status in [404, 500, 502, 302] {
        let ha = fake_ha(Behaviour::Answer(status, r#"{"message": "nope"}"#)).await;
        let relay = relay(&ha.base_url);
        let answer = relay.handle(&linked_request(&secret_token("STATUS"))).await;
        assert_says(&answer, FAILED_SPEECH, false);
        assert_eq!(
            ha.seen().len(),
            1,
            "HTTP {status}: one request, no retry or redirect"
        );
    }
}

#[tokio::test]
async fn an_answer_that_is_not_a_response_envelope_is_an_apology() {
    for body in [
        "<html><body>Home Assistant</body></html>",
        r#"{"event": {"payload": {"type": "INTERNAL_ERROR"}}}"#,
        r#"{"version": "1.0"}"#,
        "",
    ] {
        let ha = fake_ha(Behaviour::Answer(200, body)).await;
        let relay = relay(&ha.base_url);
        let answer = relay
            .handle(&linked_request(&secret_token("NOTJSON")))
            .await;
        assert_says(&answer, FAILED_SPEECH, false);
    }
}

#[tokio::test]
async fn an_answer_over_the_size_limit_is_an_apology() {
    let relay_answers = |size| async move {
        let ha = fake_ha(Behaviour::Big(size)).await;
        relay(&ha.base_url)
            .handle(&linked_request(&secret_token("BIG")))
            .await
    };
    // At the limit it goes through; one byte more is refused.
    let at_limit = relay_answers(MAX_RESPONSE_BYTES).await;
    assert_eq!(at_limit["version"], "1.0");
    assert_eq!(
        at_limit["padding"].as_str().map(str::len),
        Some(MAX_RESPONSE_BYTES - 49)
    );
    let over = relay_answers(MAX_RESPONSE_BYTES + 1).await;
    assert_says(&over, FAILED_SPEECH, false);
}

#[tokio::test]
async fn a_session_ended_request_gets_an_empty_response_when_relaying_fails() {
    // Alexa speaks nothing after a session ended: no apology, no card.
    let ended = |token: Option<&str>| request("SessionEndedRequest", token, token);
    let relay_to_nowhere = relay(&closed_port_url().await);
    let empty = json!({"version": "1.0", "response": {}});
    assert_eq!(relay_to_nowhere.handle(&ended(None)).await, empty);
    let token = secret_token("ENDED");
    assert_eq!(relay_to_nowhere.handle(&ended(Some(&token))).await, empty);
    // When Home Assistant answers, its answer goes through as usual.
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    assert_eq!(
        relay(&ha.base_url).handle(&ended(Some(&token))).await,
        ha_answer()
    );
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused_unless_not_verify_ssl() {
    let ha = fake_ha_tls(Behaviour::Answer(200, HA_ANSWER)).await;
    let token = secret_token("TLS");
    let request = linked_request(&token);

    // Verified (the default): the handshake fails, nothing reaches Home Assistant.
    let verifying = relay(&ha.base_url);
    let answer = within("verifying", verifying.handle(&request)).await;
    assert_says(&answer, UNREACHABLE_SPEECH, false);
    assert!(ha.seen().is_empty(), "{:?}", ha.seen());

    // NOT_VERIFY_SSL: accepted, and the relay works as over HTTP.
    let config = RelayConfig::from_lookup(|name| match name {
        "BASE_URL" => Some(ha.base_url.clone()),
        "NOT_VERIFY_SSL" => Some("yes".to_owned()),
        _ => None,
    })
    .unwrap();
    let trusting = relay_with(config);
    assert_eq!(
        within("trusting", trusting.handle(&request)).await,
        ha_answer()
    );
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    assert_eq!(seen.body, request.as_bytes());
    assert!(
        logs().contains("NOT_VERIFY_SSL is set: Home Assistant's TLS certificate is NOT verified"),
        "a warning at start-up"
    );
}

// ------------------------------------------------------------------------------------------
// Logs.

#[tokio::test]
async fn tokens_ids_and_request_bodies_never_reach_the_logs() {
    // Every path once more, here (other tests add their own lines to the same capture).
    let ok = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let unauthorized = fake_ha(Behaviour::Answer(401, "{}")).await;
    let failing = fake_ha(Behaviour::Answer(500, "{}")).await;
    let fallback = secret_token("LOGFALLBACK");
    for relay in [
        relay(&ok.base_url),
        relay(&unauthorized.base_url),
        relay(&failing.base_url),
        relay(&closed_port_url().await),
        relay_with(
            RelayConfig::new(&ok.base_url)
                .unwrap()
                .with_fallback_token(&fallback)
                .unwrap(),
        ),
    ] {
        relay.handle(&linked_request(&secret_token("LOG"))).await;
        relay.handle(&request("LaunchRequest", None, None)).await;
        relay.handle("[\"not an envelope\", \"SECRET\"]").await;
    }
    let logs = logs();
    for expected in [
        "relaying Alexa requests to Home Assistant",
        "relaying the request to Home Assistant",
        "Home Assistant answered",
        "kind=\"unauthorized\"",
        "HTTP 500",
        "kind=\"unreachable\"",
        "no account-linking token",
        "token_from=\"LONG_LIVED_ACCESS_TOKEN\"",
        "not an Alexa request envelope",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the logs:\n{logs}"
        );
    }
    assert!(
        !logs.contains(SECRET),
        "a token, ID or request body in the logs:\n{logs}"
    );
}

// ------------------------------------------------------------------------------------------
// The binary.

const BIN: &str = env!("CARGO_BIN_EXE_ha-relay");

/// The binary with an empty environment and these variables.
fn binary(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().args(args).envs(env.iter().copied());
    cmd
}

/// Runs `cmd` to the end without blocking the runtime the fakes run on.
async fn output(mut cmd: Command) -> std::process::Output {
    within(
        "the binary",
        tokio::task::spawn_blocking(move || cmd.stdin(Stdio::null()).output().unwrap()),
    )
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_binary_refuses_to_start_without_base_url() {
    for env in [
        &[][..],
        &[("BASE_URL", " ")][..],
        // Even where Lambda started it.
        &[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
            ("AWS_LAMBDA_FUNCTION_NAME", "ha-relay"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ][..],
    ] {
        let out = output(binary(&[], env)).await;
        let stderr = text(&out.stderr);
        assert!(!out.status.success(), "{env:?}: {stderr}");
        assert!(
            stderr.contains("ha-relay: cannot start: BASE_URL is not set"),
            "{env:?}: {stderr}"
        );
    }
    let out = output(binary(
        &[],
        &[("BASE_URL", "https://ha.example.com"), ("DEBUG", "maybe")],
    ))
    .await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("DEBUG=\"maybe\""),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn the_binary_relays_a_request_file_with_the_fallback_token_over_self_signed_tls() {
    let ha = fake_ha_tls(Behaviour::Answer(200, HA_ANSWER)).await;
    let file =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ha-relay/activate-scene.json");
    let token = secret_token("BINARYFALLBACK");
    let out = output(binary(
        &["--invoke", file.to_str().unwrap()],
        &[
            ("BASE_URL", &format!("{}/", ha.base_url)),
            ("NOT_VERIFY_SSL", "true"),
            ("LONG_LIVED_ACCESS_TOKEN", &token),
        ],
    ))
    .await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), ha_answer());
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    assert_eq!(seen.body, std::fs::read(&file).unwrap());
    for warning in ["NOT_VERIFY_SSL is set", "LONG_LIVED_ACCESS_TOKEN is set"] {
        assert!(stderr.contains(warning), "no {warning:?} in\n{stderr}");
    }
    assert!(!stderr.contains(&token), "{stderr}");
}

/// A fake Lambda runtime API: hands out `events` in order from `GET .../invocation/next` (and
/// then holds the next poll forever), and reports each `POST .../response` or `.../error`.
struct FakeRuntime {
    addr: SocketAddr,
    answers: mpsc::UnboundedReceiver<(String, String, Vec<u8>)>,
    task: JoinHandle<()>,
}

impl Drop for FakeRuntime {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct RuntimeState {
    events: Arc<Mutex<VecDeque<(String, String)>>>,
    answers: mpsc::UnboundedSender<(String, String, Vec<u8>)>,
}

async fn runtime_handler(
    State(state): State<RuntimeState>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path();
    if method == Method::GET && path == "/2018-06-01/runtime/invocation/next" {
        let next = state.events.lock().unwrap().pop_front();
        let Some((id, event)) = next else {
            return std::future::pending().await;
        };
        let deadline = SystemTime::now() + Duration::from_secs(60);
        let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
        return (
            StatusCode::OK,
            [
                ("content-type", "application/json".to_owned()),
                ("lambda-runtime-aws-request-id", id),
                ("lambda-runtime-deadline-ms", deadline_ms.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:ha-relay".to_owned(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-00000000-000000000000000000000000".to_owned(),
                ),
            ],
            event,
        )
            .into_response();
    }
    if method == Method::POST {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let (id, kind) = match parts.as_slice() {
            ["2018-06-01", "runtime", "invocation", id, kind] => {
                ((*id).to_owned(), (*kind).to_owned())
            }
            _ => ("init".to_owned(), path.to_owned()),
        };
        let _ = state.answers.send((id, kind, body.to_vec()));
        return StatusCode::ACCEPTED.into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn fake_runtime(events: Vec<(String, String)>) -> FakeRuntime {
    let (tx, answers) = mpsc::unbounded_channel();
    let state = RuntimeState {
        events: Arc::new(Mutex::new(events.into())),
        answers: tx,
    };
    let router = Router::new().fallback(runtime_handler).with_state(state);
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    FakeRuntime {
        addr,
        answers,
        task,
    }
}

#[tokio::test]
async fn the_binary_serves_lambda_through_the_runtime_api_and_logs_no_secret_at_trace() {
    let ha = fake_ha(Behaviour::Answer(200, HA_ANSWER)).await;
    let token = secret_token("LAMBDA");
    let linked = linked_request(&token);
    let unlinked = request("LaunchRequest", None, None);
    let mut runtime = fake_runtime(vec![
        ("invocation-1".to_owned(), linked.clone()),
        ("invocation-2".to_owned(), unlinked),
    ])
    .await;
    let log_path = std::env::temp_dir().join(format!("ha-relay-lambda-{}.log", unique()));
    let log_file = std::fs::File::create(&log_path).unwrap();
    let runtime_api = runtime.addr.to_string();
    let mut child = binary(
        &[],
        &[
            // As Lambda starts a bootstrap: no arguments, these variables.
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.as_str()),
            ("AWS_LAMBDA_FUNCTION_NAME", "ha-relay"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("BASE_URL", ha.base_url.as_str()),
            ("DEBUG", "1"),
            // Everything on, lambda_runtime's own TRACE lines included.
            ("RUST_LOG", "trace"),
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(log_file)
    .spawn()
    .unwrap();

    let mut answers = Vec::new();
    for _ in 0..2 {
        let answer = within("the runtime API", runtime.answers.recv()).await;
        answers.push(answer.unwrap());
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let stderr = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);

    let (id, kind, body) = &answers[0];
    assert_eq!(
        (id.as_str(), kind.as_str()),
        ("invocation-1", "response"),
        "{stderr}"
    );
    assert_eq!(serde_json::from_slice::<Value>(body).unwrap(), ha_answer());
    let seen = ha.only_request();
    assert_eq!(seen.authorization, Some(format!("Bearer {token}")));
    // The event's JSON text exactly: key order, spacing, escapes and number text kept. Only the
    // whitespace after the value (a trailing newline here) is not part of the JSON value
    // lambda_runtime hands over.
    assert_eq!(
        String::from_utf8(seen.body).unwrap(),
        linked.trim_end(),
        "the event's exact text, through the Lambda front"
    );

    let (id, kind, body) = &answers[1];
    assert_eq!(
        (id.as_str(), kind.as_str()),
        ("invocation-2", "response"),
        "{stderr}"
    );
    assert_says(
        &serde_json::from_slice(body).unwrap(),
        LINK_ACCOUNT_SPEECH,
        true,
    );

    assert!(
        stderr.contains("TRACE"),
        "RUST_LOG=trace was in effect:\n{stderr}"
    );
    assert!(
        stderr.contains("relaying the request to Home Assistant"),
        "debug lines:\n{stderr}"
    );
    assert!(
        !stderr.contains(SECRET),
        "a token, ID or request body in the binary's logs:\n{stderr}"
    );
}
