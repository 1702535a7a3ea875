//! The router: limits as tower-http layers, then one handler that reads the body, verifies,
//! parses and invokes the skill; and the generic answers unverified clients get.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONNECTION, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use http_body_util::LengthLimitError;
use serde_json::json;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutError, TimeoutLayer};

use super::{HttpFront, RequestVerifier};
use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::response::{ResponseBuilder, ResponseEnvelope};
use crate::skill::Skill;

/// The body of a `400` for a request that failed verification, whatever the rule.
pub(super) const VERIFICATION_FAILED: &str = "request verification failed";
/// The body of a `400` for a body that is not a request envelope.
pub(super) const INVALID_BODY: &str = "invalid request body";
/// The body of a `400` for a request for another skill.
pub(super) const REFUSED: &str = "request refused";

struct FrontState {
    skill: Skill,
    verifier: Option<RequestVerifier>,
    fallback: ResponseEnvelope,
    max_body_bytes: usize,
}

/// `POST /` with the limits: the request timeout outermost (it covers the body, the
/// verification and the turn), then the body-size cap (a `Content-Length` over it is answered
/// `413` before anything is read), then the body's pause timeout.
pub(super) fn router(front: HttpFront) -> axum::Router {
    let limits = front.limits;
    let fallback = ResponseEnvelope {
        version: "1.0".to_owned(),
        session_attributes: None,
        user_agent: None,
        response: ResponseBuilder::new()
            .speak_plain(front.fallback_speech)
            .end_session()
            .get_response(),
    };
    let state = Arc::new(FrontState {
        skill: front.skill,
        verifier: front.verifier,
        fallback,
        max_body_bytes: limits.max_body_bytes,
    });
    axum::Router::new()
        .route("/", post(handle))
        .with_state(state)
        .layer(RequestBodyTimeoutLayer::new(limits.body_read_timeout))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
}

async fn handle(State(front): State<Arc<FrontState>>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(body, front.max_body_bytes).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    match &front.verifier {
        Some(verifier) => {
            if let Err(e) = verifier.verify(&headers, &body).await {
                // The rule and its reason (which may hold a download's TLS or DNS error) go to
                // the log only; the client learns that verification failed, nothing more.
                tracing::warn!(
                    rule = e.rule(),
                    error = %e,
                    "refused a request that failed Alexa request verification"
                );
                return error_response(StatusCode::BAD_REQUEST, VERIFICATION_FAILED);
            }
        }
        None => tracing::debug!(
            "Alexa request verification is OFF (local development): this request was not verified"
        ),
    }
    let envelope: RequestEnvelope = match serde_json::from_slice(&body) {
        Ok(e) => e,
        Err(e) => {
            // serde's message quotes values from the body: only where and what kind.
            tracing::warn!(
                line = e.line(),
                column = e.column(),
                category = ?e.classify(),
                "refused a body that is not a request envelope"
            );
            return error_response(StatusCode::BAD_REQUEST, INVALID_BODY);
        }
    };
    match front.skill.invoke(envelope).await {
        Ok(response) => Json(response).into_response(),
        Err(SkillError::SkillIdMismatch { .. }) => {
            tracing::warn!(
                "refused a request for another skill (compare the skill ID configured for this \
                 skill with the one in the Alexa developer console)"
            );
            error_response(StatusCode::BAD_REQUEST, REFUSED)
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

/// The whole body, at most `limit` bytes. A body past the cap is answered `413`, one that
/// pauses too long `408`, and a broken one `400`; each closes the connection, whose remaining
/// body was not read.
async fn read_body(body: Body, limit: usize) -> Result<Bytes, Response> {
    let error = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => return Ok(bytes),
        Err(e) => e,
    };
    let (status, message, kind) = if caused_by::<LengthLimitError>(&error) {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large",
            "too large",
        )
    } else if caused_by::<TimeoutError>(&error) {
        (
            StatusCode::REQUEST_TIMEOUT,
            "request body timed out",
            "body read timeout",
        )
    } else {
        (StatusCode::BAD_REQUEST, "request body unreadable", "broken")
    };
    tracing::warn!(kind, limit, "refused a request body");
    let mut response = error_response(status, message);
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    Err(response)
}

/// Whether `error` or one of its sources is an `E`.
fn caused_by<E: std::error::Error + 'static>(error: &axum::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if e.is::<E>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// `{"error": message}` with `status`. The messages are fixed texts: nothing from the request
/// or about the server's internals reaches a client that has not been verified.
fn error_response(status: StatusCode, message: &'static str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}
