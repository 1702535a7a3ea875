//! A relay from Alexa to Home Assistant, served as an AWS Lambda function (binary `ha-relay`):
//! the Rust counterpart of the small Python function Home Assistant's "Amazon Alexa Custom
//! Skill" guide deploys.
//!
//! Each Alexa request for the configured skill is POSTed **unchanged** (the event's JSON text
//! exactly as Lambda delivered it: key order, spacing, escapes, number text) to
//! `BASE_URL/api/alexa` with `Authorization: Bearer <token>`, where the token is the user's
//! account-linking access token (`context.System.user.accessToken`, else
//! `session.user.accessToken`), or, with `DEBUG` on only, `LONG_LIVED_ACCESS_TOKEN` when the
//! request carries none (for testing). Home Assistant's JSON answer is the skill's response,
//! passed on as it came.
//!
//! **Skill ID.** Only requests whose `context.System.application.applicationId` and
//! `session.application.applicationId` (those present, at least one) equal `ALEXA_SKILL_ID` are
//! relayed. Any other request is refused before anything is sent to Home Assistant: the Lambda
//! invocation fails with a [`Refused`] error that names no ID (as the ASK SDKs answer a skill-ID
//! mismatch; Alexa then tells the user the skill could not answer), and a warning is logged.
//!
//! For the skill's own requests, whatever goes wrong, Alexa gets a valid response to speak,
//! never a failed invocation:
//!
//! | situation | the user hears | card | session |
//! |---|---|---|---|
//! | no token (account not linked; `LONG_LIVED_ACCESS_TOKEN` unset, or set without `DEBUG`) | [`LINK_ACCOUNT_SPEECH`] | `LinkAccount` | ends |
//! | Home Assistant answers 401 | [`RELINK_ACCOUNT_SPEECH`] | `LinkAccount` | ends |
//! | connection refused, DNS or TLS failure, no answer within the budget | [`UNREACHABLE_SPEECH`] | none | ends |
//! | any other HTTP error (404, 500, a redirect), an answer over 1 MiB, or one that is not a JSON response envelope; an event that is not a JSON object | [`FAILED_SPEECH`] | none | ends |
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
//! - `ALEXA_SKILL_ID` (required): the skill's ID, `amzn1.ask.skill.…`. Without it the function
//!   refuses to start, naming it and the opt-out below.
//! - `ALEXA_SKIP_SKILL_ID_CHECK=1` (local testing only, instead of `ALEXA_SKILL_ID`): relay
//!   requests for any skill; a loud warning is logged at start-up. Setting both is an error.
//! - `NOT_VERIFY_SSL` (optional, `true`/`1`/`yes`/`on` or `false`/`0`/`no`/`off`): accept any
//!   TLS certificate (self-signed), through reqwest's documented
//!   `tls_danger_accept_invalid_certs`; a warning is logged at start-up.
//! - `DEBUG` (optional, same values): debug logs (`RUST_LOG`, when set, takes precedence), and
//!   `LONG_LIVED_ACCESS_TOKEN` used.
//! - `LONG_LIVED_ACCESS_TOKEN` (optional, testing only): with `DEBUG` on, used when a request
//!   carries no token, and a warning is logged at start-up; without `DEBUG`, ignored, and a
//!   warning says so.
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
//! **Differences from the Python function** Home Assistant's guide has users copy
//! (<https://gist.github.com/lpomfrey/97381cf4316553b03622c665ae3a47da>): it checks the skill
//! ID (the Python function leaves that to the Lambda trigger alone); flags are parsed strictly
//! (`true`/`false` and the like; anything else stops the start); failures are spoken responses
//! (the Python function returned a Smart Home error payload, which a custom skill cannot use);
//! the token can also come from `context.System.user`, where Alexa puts it in every request.
//! Like the Python function, it uses `LONG_LIVED_ACCESS_TOKEN` only in debug mode.
//!
//! ```no_run
//! use ha_relay::{Relay, RelayConfig, SkillIdCheck};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillIdCheck::Expect("amzn1.ask.skill.1234".to_owned());
//! let relay = Relay::new(RelayConfig::new("https://ha.example.com/", skill)?)?;
//! let request = r#"{"version":"1.0","session":{"application":{"applicationId":"amzn1.ask.skill.1234"},
//!     "user":{"accessToken":"…"}},"request":{"type":"LaunchRequest"}}"#;
//! let answer = relay.handle(request).await?;
//! println!("{answer}");
//! # Ok(()) }
//! ```

mod cli;
mod config;
mod forward;
mod probe;
mod relay;
mod responses;
mod skill_id;

pub use cli::run_cli;
pub use config::{
    API_PATH, BASE_URL_VAR, ConfigError, DEBUG_VAR, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
    NOT_VERIFY_SSL_VAR, RelayConfig, SKILL_ID_VAR, SKIP_SKILL_ID_CHECK_VAR, SkillIdCheck,
    TOKEN_VAR,
};
pub use forward::{MAX_RESPONSE_BYTES, RelayError};
pub use relay::{DEADLINE_MARGIN, Relay};
pub use responses::{
    FAILED_SPEECH, LINK_ACCOUNT_SPEECH, RELINK_ACCOUNT_SPEECH, UNREACHABLE_SPEECH,
};
pub use skill_id::Refused;

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
