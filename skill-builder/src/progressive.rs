//! Progressive responses (feature `progressive`): something to say while the skill is still
//! working ("One moment, I'm looking that up"), sent through Alexa's directive service with the
//! request's API endpoint and access token.
//!
//! ```no_run
//! use skill_builder::{Turn, TurnResult};
//!
//! async fn slow_lookup(turn: Turn) -> TurnResult {
//!     // Best effort: a failure here should not fail the turn.
//!     if let Err(e) = turn.send_progressive_response("One moment, I'm checking the menu.").await {
//!         tracing::debug!(error = %e, "no progressive response");
//!     }
//!     // ... the slow work ...
//!     Ok(turn.speak("Today's special is a flat white."))
//! }
//! ```
//!
//! The request goes to `POST {apiEndpoint}/v1/directives` with `Authorization: Bearer
//! {apiAccessToken}` and a `VoicePlayer.Speak` directive for the request's ID, over HTTPS
//! (Mozilla's roots, rustls on aws-lc-rs, as the AWS SDK uses) with a 2-second timeout. Plain
//! HTTP is accepted for loopback endpoints only (tests), never for the access token elsewhere.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use crate::envelope::RequestEnvelope;

/// How long a progressive response may take, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(2);

/// Why a progressive response was not delivered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProgressiveError {
    /// The request has no `apiEndpoint`, `apiAccessToken` or request ID (e.g. a skill event).
    #[error("the request has no {0}: no progressive response can be sent for it")]
    Missing(&'static str),
    /// The API endpoint is not an `https` URL (or `http` on loopback).
    #[error("the API endpoint is not an https URL")]
    Endpoint,
    /// The directive service could not be reached, or did not answer in time.
    #[error("the directive service could not be reached: {0}")]
    Transport(String),
    /// The directive service refused it.
    #[error("the directive service answered HTTP {0}")]
    Status(StatusCode),
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

fn client() -> Result<&'static HttpsClient, ProgressiveError> {
    static CLIENT: OnceLock<Result<HttpsClient, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
            let roots =
                rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            let tls = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots)
                .with_no_client_auth();
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            http.set_connect_timeout(Some(TIMEOUT));
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls)
                .https_or_http()
                .enable_http1()
                .wrap_connector(http);
            Ok(Client::builder(TokioExecutor::new()).build(https))
        })
        .as_ref()
        .map_err(|e| ProgressiveError::Transport(e.clone()))
}

/// Where the directive service is for `endpoint`: `https`, or `http` on a loopback host only.
fn directives_url(endpoint: &str) -> Result<String, ProgressiveError> {
    let trimmed = endpoint.trim_end_matches('/');
    let uri: http::Uri = trimmed.parse().map_err(|_| ProgressiveError::Endpoint)?;
    let host = uri.host().unwrap_or_default();
    let loopback = host == "localhost"
        || host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        _ => return Err(ProgressiveError::Endpoint),
    }
    Ok(format!("{trimmed}/v1/directives"))
}

/// Sends `ssml` as a progressive response for the request in `envelope`.
///
/// # Errors
/// [`ProgressiveError`]: what is missing or what went wrong. Callers usually log it and go on.
pub async fn send(envelope: &RequestEnvelope, ssml: &str) -> Result<(), ProgressiveError> {
    let system = &envelope.context.system;
    let endpoint = system
        .api_endpoint
        .as_deref()
        .ok_or(ProgressiveError::Missing("apiEndpoint"))?;
    let token = system
        .api_access_token
        .as_deref()
        .ok_or(ProgressiveError::Missing("apiAccessToken"))?;
    let request_id = envelope.request.request_id();
    if request_id.is_empty() {
        return Err(ProgressiveError::Missing("request ID"));
    }
    let url = directives_url(endpoint)?;
    let speech = if ssml.trim_start().starts_with("<speak>") {
        ssml.to_owned()
    } else {
        format!("<speak>{ssml}</speak>")
    };
    let body = json!({
        "header": {"requestId": request_id},
        "directive": {"type": "VoicePlayer.Speak", "speech": speech},
    });
    let request = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| ProgressiveError::Transport(e.to_string()))?;
    let client = client()?;
    let call = async {
        let response = client
            .request(request)
            .await
            .map_err(|e| ProgressiveError::Transport(e.to_string()))?;
        let status = response.status();
        // Drain the (small) answer so the connection can be reused.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(ProgressiveError::Status(status))
        }
    };
    match tokio::time::timeout(TIMEOUT, call).await {
        Ok(result) => result,
        Err(_) => Err(ProgressiveError::Transport(format!(
            "no answer within {TIMEOUT:?}"
        ))),
    }
}

impl crate::Turn {
    /// Says `ssml` now, while the handler goes on working (Alexa's progressive response). At
    /// most five per turn, and only for requests with an API access token (not skill events).
    ///
    /// # Errors
    /// [`ProgressiveError`] as a [`HandlerError`](crate::HandlerError); a skill usually logs it
    /// and goes on.
    pub async fn send_progressive_response(
        &self,
        ssml: impl AsRef<str>,
    ) -> Result<(), crate::HandlerError> {
        send(self.envelope(), ssml.as_ref()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http_endpoints() {
        assert_eq!(
            directives_url("https://api.amazonalexa.com").unwrap(),
            "https://api.amazonalexa.com/v1/directives"
        );
        assert_eq!(
            directives_url("https://api.eu.amazonalexa.com/").unwrap(),
            "https://api.eu.amazonalexa.com/v1/directives"
        );
        assert!(directives_url("http://127.0.0.1:8080").is_ok());
        assert!(directives_url("http://[::1]:8080").is_ok());
        for bad in ["http://api.amazonalexa.com", "ftp://x", "not a url", ""] {
            assert!(directives_url(bad).is_err(), "{bad}");
        }
    }
}
