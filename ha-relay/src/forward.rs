//! Forwarding one request to Home Assistant: the HTTP client, the POST, and the checks on its
//! answer.

use std::time::Duration;

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde_json::Value;

use crate::config::RelayConfig;
use crate::error_chain;

/// The largest answer taken from Home Assistant (Alexa's own limits are far lower).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// The `User-Agent` of requests to Home Assistant.
const USER_AGENT: &str = concat!("ha-relay/", env!("CARGO_PKG_VERSION"));

/// Why a request could not be relayed. Messages hold no token, body or URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// Connecting failed: refused, DNS, TLS (an untrusted certificate included).
    #[error("cannot connect to Home Assistant")]
    Unreachable(#[source] reqwest::Error),
    /// No complete answer within the budget.
    #[error("Home Assistant did not answer within {0:?}")]
    TimedOut(Duration),
    /// HTTP 401: Home Assistant refused the access token.
    #[error("Home Assistant refused the access token (HTTP 401)")]
    Unauthorized,
    /// Another status than 2xx or 401.
    #[error("Home Assistant answered HTTP {0}")]
    Status(StatusCode),
    /// The answer exceeds [`MAX_RESPONSE_BYTES`].
    #[error("Home Assistant's answer exceeds {MAX_RESPONSE_BYTES} bytes")]
    TooLarge,
    /// The answer is not a JSON object with a string `version` and an object `response`.
    #[error("Home Assistant's answer is not an Alexa response envelope: {0}")]
    NotAnEnvelope(&'static str),
    /// Any other failure of the exchange (a connection cut while reading, ...).
    #[error("the exchange with Home Assistant failed")]
    Request(#[source] reqwest::Error),
}

impl RelayError {
    fn from_reqwest(error: reqwest::Error, budget: Duration) -> Self {
        let error = error.without_url();
        if error.is_timeout() {
            RelayError::TimedOut(budget)
        } else if error.is_connect() {
            RelayError::Unreachable(error)
        } else {
            RelayError::Request(error)
        }
    }

    /// A short, stable name for logs.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            RelayError::Unreachable(_) => "unreachable",
            RelayError::TimedOut(_) => "timeout",
            RelayError::Unauthorized => "unauthorized",
            RelayError::Status(_) => "http_status",
            RelayError::TooLarge => "too_large",
            RelayError::NotAnEnvelope(_) => "not_an_envelope",
            RelayError::Request(_) => "request",
        }
    }

    /// The log line's text: the error and its sources (none holds the token, body or URL).
    pub(crate) fn describe(&self) -> String {
        error_chain(self)
    }
}

/// The HTTP client for `config`: HTTP/1.1 over rustls (aws-lc-rs), the system's root
/// certificates unless `accept_invalid_certs`, no redirect followed (the token goes to
/// `BASE_URL` only), no proxy.
pub(crate) fn client(config: &RelayConfig) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .tls_danger_accept_invalid_certs(config.accept_invalid_certs)
        .build()
        .map_err(reqwest::Error::without_url)
}

/// POSTs `request` unchanged to `endpoint` with `token` as the bearer token, within `budget`,
/// and returns the answer when it is a response envelope.
pub(crate) async fn forward(
    client: &reqwest::Client,
    endpoint: &Url,
    request: &str,
    token: &str,
    budget: Duration,
) -> Result<Value, RelayError> {
    let mut response = client
        .post(endpoint.clone())
        .timeout(budget)
        // A sensitive header: reqwest and http leave its value out of Debug output.
        .bearer_auth(token)
        .header(CONTENT_TYPE, "application/json")
        .header(ACCEPT, "application/json")
        .body(request.to_owned())
        .send()
        .await
        .map_err(|e| RelayError::from_reqwest(e, budget))?;
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED {
        return Err(RelayError::Unauthorized);
    }
    if !status.is_success() {
        return Err(RelayError::Status(status));
    }
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
    {
        return Err(RelayError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| RelayError::from_reqwest(e, budget))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(RelayError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    response_envelope(&body)
}

/// Home Assistant's answer, when it is a response envelope.
fn response_envelope(body: &[u8]) -> Result<Value, RelayError> {
    let value: Value =
        serde_json::from_slice(body).map_err(|_| RelayError::NotAnEnvelope("not JSON"))?;
    let object = value
        .as_object()
        .ok_or(RelayError::NotAnEnvelope("not a JSON object"))?;
    if !object.get("version").is_some_and(Value::is_string) {
        return Err(RelayError::NotAnEnvelope("no string `version`"));
    }
    if !object.get("response").is_some_and(Value::is_object) {
        return Err(RelayError::NotAnEnvelope("no object `response`"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_response_envelopes_are_passed_on() {
        let ok =
            br#"{"version":"1.0","response":{"outputSpeech":{"type":"PlainText","text":"OK"}}}"#;
        assert_eq!(
            response_envelope(ok).unwrap()["response"]["outputSpeech"]["text"],
            "OK"
        );
        for (body, why) in [
            (&b"<html>502 Bad Gateway</html>"[..], "not JSON"),
            (b"[1, 2]", "not a JSON object"),
            (b"{\"response\": {}}", "no string `version`"),
            (
                b"{\"version\": \"1.0\", \"response\": \"OK\"}",
                "no object `response`",
            ),
        ] {
            match response_envelope(body) {
                Err(RelayError::NotAnEnvelope(reason)) => assert_eq!(reason, why),
                other => panic!("{other:?}"),
            }
        }
    }
}
