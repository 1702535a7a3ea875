//! An HTTP endpoint for a skill (feature `http`, axum) that verifies Alexa's requests.
//!
//! It takes Alexa's request envelope as a JSON `POST` to `/` and answers with the response
//! envelope as JSON.
//!
//! **Every request is verified first**, as Alexa requires of endpoints it calls outside AWS
//! Lambda (with [`alexa_request_verifier`], re-exported here as [`RequestVerifier`]):
//! - the `SignatureCertChainUrl` header: `https`, host `s3.amazonaws.com`, port 443 if given,
//!   a path under `/echo.api/` after resolving `.` and `..` (checked before any download);
//! - the certificate chain it names: downloaded over HTTPS (3 s timeout, 64 KiB cap, cached
//!   until it expires), chaining to a Mozilla root, the signing certificate within its dates
//!   and naming `echo-api.amazon.com`;
//! - the `Signature-256` header: the RSA SHA-256 signature of the raw body by that
//!   certificate (the legacy SHA-1 `Signature` header is not supported);
//! - `request.timestamp`: at most 150 s from now.
//!
//! A request that fails any of them gets `400` and no handler runs; the log (`warn`) says
//! which rule failed, never the body, IDs or tokens.
//!
//! Then: `400` for a body that is not a request envelope or a request for another skill; the
//! skill's response with `200`; and when the skill fails and no exception handler answered,
//! `200` with a spoken fallback ("Sorry, something went wrong.", ending the session; see
//! [`HttpFront::with_fallback_speech`]) so that the user hears something rather than Alexa's
//! endpoint error, with the error logged.
//!
//! Alexa calls HTTPS endpoints only: put this server behind a TLS-terminating proxy or load
//! balancer (with a certificate Alexa accepts) that passes the body and headers unchanged.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, http::{serve_http, DEFAULT_HTTP_ADDR}};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let skill = SkillBuilder::new() /* .add_request_handler(...) */ .build();
//! serve_http(skill, DEFAULT_HTTP_ADDR).await // verifies every request
//! # }
//! ```
//!
//! To embed it in a larger axum app, nest [`router`] (also verifying):
//!
//! ```
//! # let skill = skill_builder::SkillBuilder::new().build();
//! let app: axum::Router = axum::Router::new().nest("/alexa", skill_builder::http::router(skill));
//! ```
//!
//! ## Local development without verification
//!
//! Requests you POST yourself (curl, a test) carry no Alexa signature. To accept them, opt out
//! explicitly with [`HttpFront::skip_verification_for_local_development`]; the server then
//! logs a warning at start-up and a `debug` line on each request saying that nothing was
//! verified. Never expose such a server.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, http::{HttpFront, DEFAULT_HTTP_ADDR}};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let skill = SkillBuilder::new().build();
//! HttpFront::new(skill)
//!     .skip_verification_for_local_development() // curl -d @request.json http://127.0.0.1:3000/
//!     .serve(DEFAULT_HTTP_ADDR)
//!     .await
//! # }
//! ```

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;

pub use alexa_request_verifier::{RequestVerifier, VerifyError};

use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::response::{ResponseBuilder, ResponseEnvelope};
use crate::skill::Skill;

/// `127.0.0.1:3000`: the loopback interface only.
pub const DEFAULT_HTTP_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));

/// What the fallback response says when the skill fails: see
/// [`HttpFront::with_fallback_speech`].
pub const DEFAULT_FALLBACK_SPEECH: &str = "Sorry, something went wrong.";

/// The HTTP front for a skill, with its options: request verification (on unless
/// [`skip_verification_for_local_development`](Self::skip_verification_for_local_development))
/// and the fallback speech.
///
/// [`router`], [`serve_http`] and [`serve_http_on`] are `HttpFront::new(skill)` with the
/// defaults.
///
/// ```
/// use skill_builder::{SkillBuilder, http::{HttpFront, RequestVerifier}};
///
/// let front = HttpFront::new(SkillBuilder::new().build())
///     .with_verifier(RequestVerifier::builder().fetch_timeout(std::time::Duration::from_secs(2)).build())
///     .with_fallback_speech("Entschuldigung, da ist etwas schiefgegangen.");
/// assert!(front.verifies_requests());
/// let app: axum::Router = front.into_router();
/// ```
pub struct HttpFront {
    skill: Skill,
    verifier: Option<RequestVerifier>,
    fallback_speech: String,
}

impl HttpFront {
    /// A front for `skill` that verifies every request with [`RequestVerifier::new`] and
    /// answers skill failures with [`DEFAULT_FALLBACK_SPEECH`].
    pub fn new(skill: Skill) -> Self {
        Self {
            skill,
            verifier: Some(RequestVerifier::new()),
            fallback_speech: DEFAULT_FALLBACK_SPEECH.to_owned(),
        }
    }

    /// Verifies requests with `verifier` (e.g. one built with another timeout, or one shared
    /// with other endpoints so that they share its certificate cache). Turns verification
    /// back on after [`skip_verification_for_local_development`](Self::skip_verification_for_local_development).
    pub fn with_verifier(mut self, verifier: RequestVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// **Local development only**: accepts requests without verifying that they come from
    /// Alexa, so that you can POST requests yourself (curl, tests). Anyone who can reach the
    /// server can then drive the skill as any user. The server warns at start-up and logs
    /// each unverified request at `debug` level.
    pub fn skip_verification_for_local_development(mut self) -> Self {
        self.verifier = None;
        self
    }

    /// What Alexa says (plain text) when the skill fails and no exception handler answered;
    /// [`DEFAULT_FALLBACK_SPEECH`] by default. Say it in the skill's language.
    pub fn with_fallback_speech(mut self, text: impl Into<String>) -> Self {
        self.fallback_speech = text.into();
        self
    }

    /// Whether requests are verified (true unless
    /// [`skip_verification_for_local_development`](Self::skip_verification_for_local_development)).
    pub fn verifies_requests(&self) -> bool {
        self.verifier.is_some()
    }

    /// An axum router that serves the skill at `POST /`. Warns when verification is off.
    pub fn into_router(self) -> axum::Router {
        if !self.verifies_requests() {
            warn_unverified(None);
        }
        self.build_router()
    }

    /// Binds `addr` and serves the skill there until the process stops.
    ///
    /// # Errors
    /// When `addr` cannot be bound, or the server fails.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_on(listener).await
    }

    /// Serves the skill on an already bound listener (e.g. bound to port 0 in a test).
    ///
    /// # Errors
    /// When the server fails.
    pub async fn serve_on(self, listener: TcpListener) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        if self.verifies_requests() {
            tracing::info!(%addr, "skill listening for Alexa requests (POST /), verifying each");
        } else {
            warn_unverified(Some(addr));
            tracing::info!(%addr, "skill listening for requests (POST /), NOT verified");
        }
        axum::serve(listener, self.build_router()).await
    }

    fn build_router(self) -> axum::Router {
        let fallback = ResponseEnvelope {
            version: "1.0".to_owned(),
            session_attributes: None,
            user_agent: None,
            response: ResponseBuilder::new()
                .speak_plain(self.fallback_speech)
                .end_session()
                .get_response(),
        };
        let state = Arc::new(FrontState {
            skill: self.skill,
            verifier: self.verifier,
            fallback,
        });
        axum::Router::new()
            .route("/", post(handle))
            .with_state(state)
    }
}

impl fmt::Debug for HttpFront {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpFront")
            .field("skill", &self.skill)
            .field("verifier", &self.verifier)
            .field("fallback_speech", &self.fallback_speech)
            .finish()
    }
}

fn warn_unverified(addr: Option<SocketAddr>) {
    let exposed = addr.is_some_and(|a| !a.ip().is_loopback());
    tracing::warn!(
        addr = addr.map(tracing::field::display),
        exposed,
        "Alexa request verification is OFF (skip_verification_for_local_development): any \
         request is accepted as coming from Alexa. Local development only{}",
        if exposed {
            "; this address is reachable from other machines"
        } else {
            ""
        }
    );
}

/// An axum router that serves `skill` at `POST /`, verifying every request
/// (`HttpFront::new(skill).into_router()`).
pub fn router(skill: Skill) -> axum::Router {
    HttpFront::new(skill).into_router()
}

/// Binds `addr` and serves `skill` there until the process stops, verifying every request
/// (`HttpFront::new(skill).serve(addr)`).
///
/// # Errors
/// When `addr` cannot be bound, or the server fails.
pub async fn serve_http(skill: Skill, addr: SocketAddr) -> std::io::Result<()> {
    HttpFront::new(skill).serve(addr).await
}

/// Serves `skill` on an already bound listener, verifying every request
/// (`HttpFront::new(skill).serve_on(listener)`).
///
/// # Errors
/// When the server fails.
pub async fn serve_http_on(skill: Skill, listener: TcpListener) -> std::io::Result<()> {
    HttpFront::new(skill).serve_on(listener).await
}

struct FrontState {
    skill: Skill,
    verifier: Option<RequestVerifier>,
    fallback: ResponseEnvelope,
}

async fn handle(State(front): State<Arc<FrontState>>, headers: HeaderMap, body: Bytes) -> Response {
    match &front.verifier {
        Some(verifier) => {
            if let Err(e) = verifier.verify(&headers, &body).await {
                tracing::warn!(error = %e, "refused a request that failed Alexa request verification");
                return error_response(
                    StatusCode::BAD_REQUEST,
                    &format!("request verification failed: {e}"),
                );
            }
        }
        None => tracing::debug!(
            "Alexa request verification is OFF (local development): this request was not verified"
        ),
    }
    let envelope: RequestEnvelope = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "refused a body that is not a request envelope");
            return error_response(StatusCode::BAD_REQUEST, &SkillError::InvalidEnvelope(e));
        }
    };
    match front.skill.invoke(envelope).await {
        Ok(response) => Json(response).into_response(),
        Err(e @ SkillError::SkillIdMismatch { .. }) => {
            tracing::warn!(error = %e, "refused a request for another skill");
            error_response(StatusCode::BAD_REQUEST, &e)
        }
        Err(e) => {
            tracing::error!(
                error = %e,
                "the skill failed and no exception handler answered: answering with the fallback speech"
            );
            Json(&front.fallback).into_response()
        }
    }
}

fn error_response(status: StatusCode, error: &dyn fmt::Display) -> Response {
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SkillBuilder, is_intent_name, is_request_type};
    use alexa_request_verifier_testkit as kit;
    use serde_json::Value;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LAUNCH: &str = include_str!("../tests/data/launch_request.json");
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
            .add_request_handler_fn(
                |i| is_request_type(i, "LaunchRequest"),
                move |i| {
                    launches.fetch_add(1, Ordering::SeqCst);
                    Box::pin(async move {
                        i.attributes_manager
                            .session_attributes_mut()
                            .set("step", "welcomed")?;
                        Ok(i.response_builder
                            .speak("Welcome to HTTP!")
                            .reprompt("Still there?")
                            .get_response())
                    })
                },
            )
            .add_request_handler_fn(
                |i| is_intent_name(i, "AMAZON.StopIntent"),
                |i| Box::pin(async move { Ok(i.response_builder.end_session().get_response()) }),
            )
            .build()
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
        assert!(answer.contains("request verification failed"), "{answer}");
        assert!(answer.contains("Signature-256"), "{answer}");
        assert_eq!(launches.load(Ordering::SeqCst), 1);

        // No headers at all: 400.
        let (status, answer) = post(addr, &body).await;
        assert_eq!(status, 400, "{answer}");
        assert!(
            answer.contains("SignatureCertChainUrl header is missing"),
            "{answer}"
        );
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
        assert!(body.contains("s3.amazonaws.com"), "{body}");
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

        // Not a request envelope: 400 with a JSON error.
        let (status, body) = post(addr, r#"{"hello": "world"}"#).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("invalid request envelope"), "{body}");

        // Another skill's request: 400.
        let other = LAUNCH.replace(
            "amzn1.ask.skill.0f2b6a1e-7c59-4a7e-9a8e-0c3f5c2d9b11",
            "amzn1.ask.skill.someone-else",
        );
        let (status, body) = post(addr, &other).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains("someone-else"), "{body}");
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
}
