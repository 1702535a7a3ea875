//! A relay from Alexa to Home Assistant, served as an AWS Lambda function (binary `ha-relay`):
//! the Rust counterpart of the small Python function Home Assistant's "Amazon Alexa Custom
//! Skill" guide deploys.
//!
//! Each Alexa request is POSTed **unchanged** (the event's JSON text exactly as Lambda delivered
//! it: key order, spacing, escapes, number text) to `BASE_URL/api/alexa` with
//! `Authorization: Bearer <token>`, where the token is the user's account-linking access token
//! (`context.System.user.accessToken`, else `session.user.accessToken`), or
//! `LONG_LIVED_ACCESS_TOKEN` when the request carries none (for testing). Home Assistant's JSON
//! answer is the skill's response, passed on as it came.
//!
//! Whatever goes wrong, Alexa gets a valid response to speak, never a failed invocation:
//!
//! | situation | the user hears | card | session |
//! |---|---|---|---|
//! | no token (account not linked, no fallback) | [`LINK_ACCOUNT_SPEECH`] | `LinkAccount` | ends |
//! | Home Assistant answers 401 | [`RELINK_ACCOUNT_SPEECH`] | `LinkAccount` | ends |
//! | connection refused, DNS or TLS failure, no answer within the budget | [`UNREACHABLE_SPEECH`] | none | ends |
//! | any other HTTP error (404, 500, a redirect), an answer over 1 MiB, or one that is not a JSON response envelope | [`FAILED_SPEECH`] | none | ends |
//!
//! A `SessionEndedRequest` gets the empty response `{"version": "1.0", "response": {}}`
//! instead (Alexa speaks nothing after a session ended).
//!
//! **Time budget.** Alexa waits 8 s for a skill. A request to Home Assistant, from connecting to
//! the last byte of its answer, gets [`DEFAULT_TIMEOUT`] (6 s), of which at most
//! [`DEFAULT_CONNECT_TIMEOUT`] (2 s) to connect, and never more than the Lambda invocation's
//! deadline minus [`DEADLINE_MARGIN`], so that the apology is sent before Lambda stops the
//! function.
//!
//! **Environment** (read once at start-up by [`RelayConfig::from_env`]):
//! - `BASE_URL` (required): Home Assistant as the internet reaches it, e.g.
//!   `https://ha.example.com` (a trailing `/` is fine). Without it the function refuses to start,
//!   naming the variable.
//! - `NOT_VERIFY_SSL` (optional, `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`): accept any
//!   TLS certificate (self-signed), through reqwest's documented
//!   `tls_danger_accept_invalid_certs`; a warning is logged at start-up.
//! - `DEBUG` (optional, same values): debug logs (`RUST_LOG`, when set, takes precedence).
//! - `LONG_LIVED_ACCESS_TOKEN` (optional, testing only): used when a request carries no token;
//!   a warning is logged at start-up.
//!
//! **Logs** never hold the token or the request body: requests are described by their type,
//! size and timing, and Home Assistant's failures by status or error kind. The binary also
//! keeps `lambda_runtime`'s own TRACE line with the raw event (token included) switched off,
//! whatever `RUST_LOG` says.
//!
//! **Why not a skill-builder `Skill`.** A skill parses the envelope and builds the response from
//! its own model; the relay must forward the request byte for byte and return whatever Home
//! Assistant answered (session attributes, directives, cards the model may not know). So it is
//! a plain `lambda_runtime` handler taking `Box<RawValue>` events (the exact bytes).
//!
//! Differences from the Python function of the guide: the fallback token is used whenever it is
//! set (the Python function also required `DEBUG`); flags are parsed strictly (the Python
//! function took any non-empty value, even `False`, as true); failures are spoken responses
//! (the Python function returned a Smart Home error payload, which a custom skill cannot use);
//! the token can also come from `context.System.user`, where Alexa puts it in every request.
//!
//! ```no_run
//! use ha_relay::{Relay, RelayConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = Relay::new(RelayConfig::new("https://ha.example.com/")?)?;
//! let answer = relay.handle(r#"{"version":"1.0","session":{"user":{"accessToken":"…"}},"request":{"type":"LaunchRequest"}}"#).await;
//! println!("{answer}");
//! # Ok(()) }
//! ```

mod cli;
mod config;
mod forward;
mod relay;
mod responses;
mod token;

pub use cli::run_cli;
pub use config::{
    API_PATH, BASE_URL_VAR, ConfigError, DEBUG_VAR, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    NOT_VERIFY_SSL_VAR, RelayConfig, TOKEN_VAR,
};
pub use forward::{MAX_RESPONSE_BYTES, RelayError};
pub use relay::{DEADLINE_MARGIN, Relay};
pub use responses::{
    FAILED_SPEECH, LINK_ACCOUNT_SPEECH, RELINK_ACCOUNT_SPEECH, UNREACHABLE_SPEECH,
};

/// `error` and its sources, joined by ": ".
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
