//! What the relay's tests share: a fake Home Assistant on 127.0.0.1 (HTTP, and HTTPS with a
//! self-signed certificate), hand-written Alexa requests holding secrets, a log capture, and
//! checks on the answers.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alexa_skill_model::response::{Card, ResponseEnvelope};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ha_relay::{Relay, RelayConfig, SkillIdCheck};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

// ------------------------------------------------------------------------------------------
// Logs: everything every test logs, at TRACE, for every target.

pub static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub struct Capture;

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOGS.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn capture_logs() {
    static INIT: OnceLock<()> = OnceLock::new();
    INIT.get_or_init(|| {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(|| Capture)
            .init();
    });
}

pub fn logs() -> String {
    String::from_utf8_lossy(&LOGS.lock().unwrap()).into_owned()
}

/// Every secret in these tests contains this, so that one search covers them all.
pub const SECRET: &str = "SECRET";

pub fn unique() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

pub fn secret_token(tag: &str) -> String {
    format!("eyJ{SECRET}TOKEN{tag}{:x}", unique())
}

// ------------------------------------------------------------------------------------------
// Requests. Written by hand, not serialized: keys out of alphabetical order, spacing, a
// `\u` escape and a number with a trailing zero, so that any re-serialization would show.

/// An `IntentRequest` of a linked user: the token in `context.System.user` and in
/// `session.user` (where Alexa puts it).
pub fn linked_request(token: &str) -> String {
    request("IntentRequest", Some(token), Some(token))
}

/// A request of `kind` with the token in the context and/or the session user.
pub fn request(kind: &str, context_token: Option<&str>, session_token: Option<&str>) -> String {
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
pub const HA_ANSWER: &str = r#"{"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": "Movie time is on."}, "card": {"type": "Simple", "title": "Scene", "content": "Movie time is on."}, "shouldEndSession": true}, "sessionAttributes": {"scene": "movie time"}}"#;

pub fn ha_answer() -> Value {
    serde_json::from_str(HA_ANSWER).unwrap()
}

// ------------------------------------------------------------------------------------------
// The fake Home Assistant.

#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Answer `status` with `body` (as JSON).
    Answer(u16, &'static str),
    /// Wait this long, then answer 200 with [`HA_ANSWER`].
    Slow(Duration),
    /// Answer 200 with a valid envelope of this many bytes.
    Big(usize),
}

/// One request the fake Home Assistant received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

#[derive(Clone)]
pub struct HaState {
    behaviour: Behaviour,
    pub seen: Arc<Mutex<Vec<Seen>>>,
}

/// A fake Home Assistant on 127.0.0.1 (a free port), stopped when dropped.
pub struct FakeHa {
    pub base_url: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub task: JoinHandle<()>,
}

impl Drop for FakeHa {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeHa {
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The one request received.
    pub fn only_request(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.into_iter().next().unwrap()
    }
}

pub async fn ha_handler(
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

pub fn ha_router(behaviour: Behaviour) -> (Router, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = HaState {
        behaviour,
        seen: Arc::clone(&seen),
    };
    (Router::new().fallback(ha_handler).with_state(state), seen)
}

/// A fake Home Assistant over plain HTTP.
pub async fn fake_ha(behaviour: Behaviour) -> FakeHa {
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
pub struct TlsListener {
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
pub async fn fake_ha_tls(behaviour: Behaviour) -> FakeHa {
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
pub async fn closed_port_url() -> String {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    url
}

pub fn relay(base_url: &str) -> Relay {
    relay_with(config(base_url))
}

/// [`config`] with `DEBUG` on and the long-lived `token` as the fallback.
pub fn debug_config_with_fallback(base_url: &str, token: &str) -> RelayConfig {
    let mut config = config(base_url);
    config.debug = true;
    config.with_fallback_token(token).unwrap()
}

/// The settings for Home Assistant at `base_url`, for the skill [`SKILL_ID`].
pub fn config(base_url: &str) -> RelayConfig {
    RelayConfig::new(base_url, SkillIdCheck::Expect(SKILL_ID.to_owned())).unwrap()
}

pub fn relay_with(config: RelayConfig) -> Relay {
    capture_logs();
    Relay::new(config).unwrap()
}

// ------------------------------------------------------------------------------------------
// Checks on the answers.

/// The answer as the project's response model reads it (so it is a valid envelope).
pub fn envelope(answer: &Value) -> ResponseEnvelope {
    serde_json::from_value(answer.clone()).unwrap_or_else(|e| panic!("{e}: {answer}"))
}

/// Asserts `answer` says `speech`, ends the session, and shows the `LinkAccount` card or none.
pub fn assert_says(answer: &Value, speech: &str, link_account_card: bool) {
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
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), future)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within 60 s"))
}

// ------------------------------------------------------------------------------------------
// The binary.

pub const BIN: &str = env!("CARGO_BIN_EXE_ha-relay");

/// The binary with an empty environment and these variables.
pub fn binary(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().args(args).envs(env.iter().copied());
    cmd
}

/// Runs `cmd` to the end without blocking the runtime the fakes run on.
pub async fn output(mut cmd: Command) -> std::process::Output {
    within(
        "the binary",
        tokio::task::spawn_blocking(move || cmd.stdin(Stdio::null()).output().unwrap()),
    )
    .await
    .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The skill ID in [`request`]'s requests (context and session).
pub const SKILL_ID: &str = "amzn1.ask.skill.HA";

/// Writes `text` to a new file in the temporary directory, removed when dropped.
pub struct TempFile(pub std::path::PathBuf);

impl TempFile {
    pub fn new(tag: &str, text: &str) -> Self {
        let path = std::env::temp_dir().join(format!("ha-relay-{tag}-{}.json", unique()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }

    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
