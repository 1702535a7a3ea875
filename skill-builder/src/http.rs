//! A local HTTP endpoint for a skill (feature `http`, axum).
//!
//! It accepts Alexa's request envelope as a JSON `POST` to `/` and answers with the response
//! envelope as JSON: `400` for a body that is not a request envelope or a request for another
//! skill, `500` when the skill fails and no exception handler answered.
//!
//! **It does not verify Alexa's request signatures** (the `Signature` and
//! `SignatureCertChainUrl` headers) nor the request timestamp, which Alexa requires of any
//! HTTPS endpoint it calls. Use it for development (the default address is the loopback
//! interface, [`DEFAULT_HTTP_ADDR`]), or behind a proxy that verifies them; on AWS use the
//! [`lambda`](crate::lambda) front instead.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, http::{serve_http, DEFAULT_HTTP_ADDR}};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
//! let skill = SkillBuilder::new() /* .add_request_handler(...) */ .build();
//! serve_http(skill, DEFAULT_HTTP_ADDR).await
//! # }
//! ```
//!
//! To embed it in a larger axum app, nest [`router`]:
//!
//! ```
//! # let skill = skill_builder::SkillBuilder::new().build();
//! let app: axum::Router = axum::Router::new().nest("/alexa", skill_builder::http::router(skill));
//! ```

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use tokio::net::TcpListener;

use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::skill::Skill;

/// `127.0.0.1:3000`: the loopback interface only.
pub const DEFAULT_HTTP_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));

/// An axum router that serves `skill` at `POST /`.
pub fn router(skill: Skill) -> axum::Router {
    axum::Router::new()
        .route("/", post(handle))
        .with_state(skill)
}

/// Binds `addr` and serves `skill` there until the process stops.
///
/// # Errors
/// When `addr` cannot be bound, or the server fails.
pub async fn serve_http(skill: Skill, addr: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_http_on(skill, listener).await
}

/// Serves `skill` on an already bound listener (e.g. bound to port 0 in a test).
///
/// # Errors
/// When the server fails.
pub async fn serve_http_on(skill: Skill, listener: TcpListener) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        tracing::warn!(
            %addr,
            "serving a skill on a non-loopback address without Alexa request signature \
             verification: put a verifying proxy in front of it"
        );
    }
    tracing::info!(%addr, "skill listening for Alexa requests (POST /)");
    axum::serve(listener, router(skill)).await
}

async fn handle(State(skill): State<Skill>, body: Bytes) -> Response {
    let envelope: RequestEnvelope = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "refused a body that is not a request envelope");
            return error_response(StatusCode::BAD_REQUEST, &SkillError::InvalidEnvelope(e));
        }
    };
    match skill.invoke(envelope).await {
        Ok(response) => Json(response).into_response(),
        Err(e @ SkillError::SkillIdMismatch { .. }) => error_response(StatusCode::BAD_REQUEST, &e),
        Err(e) => error_response(StatusCode::INTERNAL_SERVER_ERROR, &e),
    }
}

fn error_response(status: StatusCode, error: &SkillError) -> Response {
    (status, Json(json!({ "error": error.to_string() }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SkillBuilder, is_intent_name, is_request_type};
    use serde_json::Value;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    const LAUNCH: &str = include_str!("../tests/data/launch_request.json");

    fn skill() -> Skill {
        SkillBuilder::new()
            .with_skill_id("amzn1.ask.skill.0f2b6a1e-7c59-4a7e-9a8e-0c3f5c2d9b11")
            .add_request_handler_fn(
                |i| is_request_type(i, "LaunchRequest"),
                |i| {
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

    /// POSTs `body` with a plain HTTP/1.1 request and returns the status and the body.
    async fn post(addr: SocketAddr, body: &str) -> (u16, String) {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
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

    #[tokio::test]
    async fn serves_alexa_requests_over_http() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve_http_on(skill(), listener));

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

        // No handler for this intent, no exception handler: 500.
        let help = LAUNCH.replace(
            r#""type": "LaunchRequest","#,
            r#""type": "IntentRequest", "intent": {"name": "AMAZON.HelpIntent"},"#,
        );
        assert_ne!(help, LAUNCH);
        let (status, body) = post(addr, &help).await;
        assert_eq!(status, 500, "{body}");
        assert!(body.contains("AMAZON.HelpIntent"), "{body}");

        server.abort();
    }

    /// What a developer does by hand: curl POSTs a real Alexa request file to the local endpoint.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn answers_a_real_alexa_request_posted_with_curl() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(serve_http_on(skill(), listener));
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
