//! A relay from Alexa to Home Assistant, served as an AWS Lambda function (feature `ha-relay`,
//! binary `ha-relay`): the Rust counterpart of the small Python function Home Assistant's
//! "Amazon Alexa Custom Skill" guide deploys.
//!
//! Each Alexa request is POSTed **unchanged** (the event's JSON text exactly as Lambda delivered
//! it: key order, spacing, escapes, number text) to `BASE_URL/api/alexa` with `Authorization: Bearer <token>`, where the token is the user's
//! account-linking access token (`context.System.user.accessToken`, else
//! `session.user.accessToken`), or `LONG_LIVED_ACCESS_TOKEN` when the request carries none (for
//! testing). Home Assistant's JSON answer is the skill's response, passed on as it came.
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
//! **Why not a [`Skill`](skill_builder::Skill).** A skill parses the envelope and builds the
//! response from its own model; the relay must forward the request byte for byte and return
//! whatever Home Assistant answered (session attributes, directives, cards the model may not
//! know). So it is served by [`run_lambda_fn`](skill_builder::lambda::run_lambda_fn), the
//! Lambda front for plain JSON handlers, with `Box<RawValue>` events (the exact bytes).
//!
//! Differences from the Python function of the guide: the fallback token is used whenever it is
//! set (the Python function also required `DEBUG`); flags are parsed strictly (the Python
//! function took any non-empty value, even `False`, as true); failures are spoken responses
//! (the Python function returned a Smart Home error payload, which a custom skill cannot use);
//! the token can also come from `context.System.user`, where Alexa puts it in every request.
//!
//! ```no_run
//! use skill_examples::ha_relay::{Relay, RelayConfig};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let relay = Relay::new(RelayConfig::new("https://ha.example.com/")?)?;
//! let answer = relay.handle(r#"{"version":"1.0","session":{"user":{"accessToken":"…"}},"request":{"type":"LaunchRequest"}}"#).await;
//! println!("{answer}");
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::fmt;
use std::io::{self, IsTerminal, Read};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{StatusCode, Url};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use skill_builder::lambda::LambdaEvent;

/// The variable naming Home Assistant's address (required).
pub const BASE_URL_VAR: &str = "BASE_URL";
/// The variable holding a Home Assistant long-lived access token, used when a request carries
/// no account-linking token (testing only).
pub const TOKEN_VAR: &str = "LONG_LIVED_ACCESS_TOKEN";
/// The variable that, when true, accepts any TLS certificate from Home Assistant.
pub const NOT_VERIFY_SSL_VAR: &str = "NOT_VERIFY_SSL";
/// The variable that, when true, turns debug logs on.
pub const DEBUG_VAR: &str = "DEBUG";

/// Home Assistant's Alexa custom-skill endpoint, appended to `BASE_URL`.
pub const API_PATH: &str = "/api/alexa";
/// The longest a request to Home Assistant may take, connecting and reading its answer
/// included: with a cold start, the turn stays within Alexa's 8 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(6);
/// The longest connecting to Home Assistant may take (within [`DEFAULT_TIMEOUT`]).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time kept back from the Lambda invocation's deadline to send the apology.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(300);
/// The largest answer taken from Home Assistant (Alexa's own limits are far lower).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Said when the request carries no access token and no fallback is configured.
pub const LINK_ACCOUNT_SPEECH: &str =
    "To use this skill, please link your Home Assistant account in the Alexa app.";
/// Said when Home Assistant refuses the token (HTTP 401).
pub const RELINK_ACCOUNT_SPEECH: &str = "Home Assistant did not accept your account link. \
     Please link your Home Assistant account again in the Alexa app.";
/// Said when Home Assistant cannot be reached or does not answer in time.
pub const UNREACHABLE_SPEECH: &str =
    "Sorry, I can't reach Home Assistant right now. Please try again later.";
/// Said when Home Assistant answers with an error or something that is not a response.
pub const FAILED_SPEECH: &str =
    "Sorry, Home Assistant couldn't handle that request right now. Please try again later.";

/// The `User-Agent` of requests to Home Assistant.
const USER_AGENT: &str = concat!("skill-examples-ha-relay/", env!("CARGO_PKG_VERSION"));

/// Why the relay cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `BASE_URL` is missing or blank.
    #[error(
        "BASE_URL is not set: set it to your Home Assistant's address as the internet reaches \
         it, e.g. https://ha.example.com (requests go to BASE_URL/api/alexa)"
    )]
    MissingBaseUrl,
    /// `BASE_URL` is not an `http(s)://host[:port][/path]` address. The value is not repeated
    /// (it could hold credentials).
    #[error("BASE_URL is not a usable Home Assistant address: {reason}")]
    InvalidBaseUrl {
        /// What is wrong with it.
        reason: String,
    },
    /// A true/false variable holds something else.
    #[error("{var}={value:?} is neither true/1/yes/on nor false/0/no/off")]
    InvalidFlag {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
    },
    /// `LONG_LIVED_ACCESS_TOKEN` cannot be sent as an HTTP header value (not repeated here).
    #[error(
        "LONG_LIVED_ACCESS_TOKEN cannot be sent in an HTTP header (it holds a line break or \
         another control character); set it to the token alone"
    )]
    InvalidToken,
    /// The HTTP client could not be built (e.g. no TLS roots could be loaded).
    #[error("the HTTP client could not be set up")]
    Client(#[source] reqwest::Error),
}

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
    fn kind(&self) -> &'static str {
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
}

/// The relay's settings; [`RelayConfig::from_env`] reads them as the Lambda function does.
///
/// ```
/// use skill_examples::ha_relay::RelayConfig;
///
/// let config = RelayConfig::from_lookup(|name| match name {
///     "BASE_URL" => Some("https://ha.example.com:8123/".to_owned()),
///     "NOT_VERIFY_SSL" => Some("True".to_owned()),
///     _ => None,
/// })?;
/// assert_eq!(config.endpoint().as_str(), "https://ha.example.com:8123/api/alexa");
/// assert!(config.accept_invalid_certs);
/// assert!(!config.has_fallback_token());
///
/// let err = RelayConfig::from_lookup(|_| None).unwrap_err();
/// assert!(err.to_string().starts_with("BASE_URL is not set"));
/// # Ok::<(), skill_examples::ha_relay::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RelayConfig {
    endpoint: Url,
    fallback_token: Option<String>,
    /// Accept any TLS certificate (`NOT_VERIFY_SSL`).
    pub accept_invalid_certs: bool,
    /// Debug logs (`DEBUG`).
    pub debug: bool,
    /// The longest a request may take, connecting and reading the answer included.
    pub timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RelayConfig")
            .field("endpoint", &self.endpoint.as_str())
            .field(
                "fallback_token",
                &self.fallback_token.as_ref().map(|_| "(set)"),
            )
            .field("accept_invalid_certs", &self.accept_invalid_certs)
            .field("debug", &self.debug)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl RelayConfig {
    /// Settings for Home Assistant at `base_url` (`http(s)://host[:port][/path]`, trailing `/`
    /// ignored), verifying certificates, no fallback token, default timeouts.
    ///
    /// # Errors
    /// [`ConfigError::MissingBaseUrl`] when blank, [`ConfigError::InvalidBaseUrl`] otherwise.
    pub fn new(base_url: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            endpoint: endpoint(base_url)?,
            fallback_token: None,
            accept_invalid_certs: false,
            debug: false,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        })
    }

    /// Reads the settings from the process environment (see the module documentation).
    ///
    /// # Errors
    /// As [`RelayConfig::from_lookup`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings from the variables `lookup` returns.
    ///
    /// # Errors
    /// `BASE_URL` missing or unusable, a flag that is not true or false, or a fallback token
    /// that cannot be a header value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut config = Self::new(&lookup(BASE_URL_VAR).unwrap_or_default())?;
        config.accept_invalid_certs = flag(&lookup, NOT_VERIFY_SSL_VAR)?;
        config.debug = flag(&lookup, DEBUG_VAR)?;
        if let Some(token) = lookup(TOKEN_VAR).filter(|t| !t.trim().is_empty()) {
            config = config.with_fallback_token(&token)?;
        }
        Ok(config)
    }

    /// Uses `token` (a Home Assistant long-lived access token) for requests that carry no
    /// account-linking token. Surrounding whitespace is removed.
    ///
    /// # Errors
    /// [`ConfigError::InvalidToken`] when it cannot be sent in an HTTP header.
    pub fn with_fallback_token(mut self, token: &str) -> Result<Self, ConfigError> {
        let token = token.trim();
        if token.is_empty() || HeaderValue::from_str(&format!("Bearer {token}")).is_err() {
            return Err(ConfigError::InvalidToken);
        }
        self.fallback_token = Some(token.to_owned());
        Ok(self)
    }

    /// Where requests go: `BASE_URL` + `/api/alexa`.
    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// Whether a fallback token is configured (the token itself is not readable back).
    pub fn has_fallback_token(&self) -> bool {
        self.fallback_token.is_some()
    }
}

/// `BASE_URL` -> `BASE_URL/api/alexa`, checked.
fn endpoint(base_url: &str) -> Result<Url, ConfigError> {
    let base = base_url.trim().trim_end_matches('/');
    if base.is_empty() {
        return Err(ConfigError::MissingBaseUrl);
    }
    let invalid = |reason: &str| ConfigError::InvalidBaseUrl {
        reason: reason.to_owned(),
    };
    let parsed = Url::parse(base).map_err(|e| ConfigError::InvalidBaseUrl {
        reason: format!("{e} (expected e.g. https://ha.example.com)"),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be https (or http)"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("it has no host"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "it holds a user name or password; Home Assistant authenticates the relay with the \
             user's access token",
        ));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("it has a query (?) or fragment (#)"));
    }
    Url::parse(&format!("{base}{API_PATH}")).map_err(|e| ConfigError::InvalidBaseUrl {
        reason: e.to_string(),
    })
}

/// A true/false variable: unset or blank is false.
fn flag(lookup: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    let Some(value) = lookup(var) else {
        return Ok(false);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" | "false" | "0" | "no" | "off" => Ok(false),
        "true" | "1" | "yes" | "on" => Ok(true),
        _ => Err(ConfigError::InvalidFlag { var, value }),
    }
}

/// The relay: one HTTP client (connections are kept between invocations) and the settings.
pub struct Relay {
    client: reqwest::Client,
    endpoint: Url,
    fallback_token: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("endpoint", &self.endpoint.as_str())
            .field(
                "fallback_token",
                &self.fallback_token.as_ref().map(|_| "(set)"),
            )
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Builds the HTTP client for `config`, and logs what the relay will do (a warning for
    /// `NOT_VERIFY_SSL`, a fallback token, or plain `http`).
    ///
    /// The client speaks HTTP/1.1 over rustls (aws-lc-rs), trusts the system's root
    /// certificates unless [`RelayConfig::accept_invalid_certs`], follows no redirect (the
    /// token goes to `BASE_URL` only) and uses no proxy.
    ///
    /// # Errors
    /// [`ConfigError::Client`] when the client cannot be built.
    pub fn new(config: RelayConfig) -> Result<Self, ConfigError> {
        if config.accept_invalid_certs {
            tracing::warn!(
                "{NOT_VERIFY_SSL_VAR} is set: Home Assistant's TLS certificate is NOT verified, so \
                 anyone between this function and Home Assistant could read the users' access \
                 tokens; use it only for a self-signed certificate on a network you trust"
            );
        }
        if config.fallback_token.is_some() {
            tracing::warn!(
                "{TOKEN_VAR} is set: requests without an account-linking token act as its owner; \
                 for testing only, remove it (and revoke the token in Home Assistant) afterwards"
            );
        }
        if config.endpoint.scheme() == "http" {
            tracing::warn!(
                "{BASE_URL_VAR} is plain http: access tokens travel unencrypted; Alexa account \
                 linking needs https anyway"
            );
        }
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .tls_danger_accept_invalid_certs(config.accept_invalid_certs)
            .build()
            .map_err(|e| ConfigError::Client(e.without_url()))?;
        tracing::info!(
            endpoint = %config.endpoint,
            timeout_ms = config.timeout.as_millis(),
            connect_timeout_ms = config.connect_timeout.as_millis(),
            verify_tls = !config.accept_invalid_certs,
            fallback_token = config.fallback_token.is_some(),
            "relaying Alexa requests to Home Assistant"
        );
        Ok(Self {
            client,
            endpoint: config.endpoint,
            fallback_token: config.fallback_token,
            timeout: config.timeout,
        })
    }

    /// Relays one Alexa request (its JSON text, sent as is) within the configured timeout,
    /// and returns the response for Alexa: Home Assistant's, or one of the module's spoken
    /// apologies. Never fails.
    pub async fn handle(&self, request: &str) -> Value {
        self.handle_within(request, self.timeout).await
    }

    /// What the Lambda function does per invocation: [`Relay::handle`] on the event's exact
    /// JSON text (whitespace around the value aside), within the configured timeout and the invocation's deadline (less
    /// [`DEADLINE_MARGIN`]).
    ///
    /// # Errors
    /// None: every failure is a spoken response.
    pub async fn handle_event(
        &self,
        event: LambdaEvent<Box<RawValue>>,
    ) -> Result<Value, Infallible> {
        let budget = budget(event.context.deadline, SystemTime::now(), self.timeout);
        Ok(self.handle_within(event.payload.get(), budget).await)
    }

    async fn handle_within(&self, request: &str, budget: Duration) -> Value {
        let started = Instant::now();
        let Some(probe) = Probe::read(request) else {
            tracing::warn!(
                bytes = request.len(),
                "the event is not an Alexa request envelope (not a JSON object); not relayed"
            );
            return spoken(FAILED_SPEECH, false);
        };
        let session_ended = probe.request_type == "SessionEndedRequest";
        let (token, source) = match (&probe.token, &self.fallback_token) {
            (Some(token), _) => (token.as_str(), "request"),
            (None, Some(token)) => (token.as_str(), TOKEN_VAR),
            (None, None) => {
                tracing::info!(
                    request_type = probe.request_type,
                    "the request carries no account-linking token: asking the user to link \
                     the account"
                );
                return answer(session_ended, LINK_ACCOUNT_SPEECH, true);
            }
        };
        tracing::debug!(
            request_type = probe.request_type,
            bytes = request.len(),
            token_from = source,
            budget_ms = budget.as_millis(),
            "relaying the request to Home Assistant"
        );
        match self.forward(request, token, budget).await {
            Ok(response) => {
                tracing::debug!(
                    request_type = probe.request_type,
                    elapsed_ms = started.elapsed().as_millis(),
                    "Home Assistant answered"
                );
                response
            }
            Err(error) => {
                tracing::warn!(
                    request_type = probe.request_type,
                    elapsed_ms = started.elapsed().as_millis(),
                    kind = error.kind(),
                    error = %error_chain(&error),
                    "relaying to Home Assistant failed; answering with an apology"
                );
                match error {
                    RelayError::Unauthorized => answer(session_ended, RELINK_ACCOUNT_SPEECH, true),
                    RelayError::Unreachable(_)
                    | RelayError::TimedOut(_)
                    | RelayError::Request(_) => answer(session_ended, UNREACHABLE_SPEECH, false),
                    _ => answer(session_ended, FAILED_SPEECH, false),
                }
            }
        }
    }

    /// POSTs `request` unchanged to Home Assistant with `token` as the bearer token, within
    /// `budget`, and returns its answer when it is a response envelope.
    ///
    /// # Errors
    /// [`RelayError`]: what went wrong, without the token, body or URL.
    pub async fn forward(
        &self,
        request: &str,
        token: &str,
        budget: Duration,
    ) -> Result<Value, RelayError> {
        let mut response = self
            .client
            .post(self.endpoint.clone())
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

/// What the relay reads from a request: the token and the request type (for logs).
struct Probe {
    token: Option<String>,
    request_type: &'static str,
}

impl Probe {
    /// `None` when `request` is not a JSON object.
    fn read(request: &str) -> Option<Probe> {
        let value: Value = serde_json::from_str(request).ok()?;
        if !value.is_object() {
            return None;
        }
        let token = [
            "/context/System/user/accessToken",
            "/session/user/accessToken",
        ]
        .iter()
        .find_map(|pointer| {
            value
                .pointer(pointer)?
                .as_str()
                .map(str::trim)
                .filter(|t| !t.is_empty())
        })
        .map(str::to_owned);
        let request_type = value
            .pointer("/request/type")
            .and_then(Value::as_str)
            .map_or("(none)", request_type_name);
        Some(Probe {
            token,
            request_type,
        })
    }
}

/// The request type as logged: Alexa's common types by name, anything else as "other" (a
/// request's text never reaches the logs).
fn request_type_name(kind: &str) -> &'static str {
    const KNOWN: [&str; 8] = [
        "LaunchRequest",
        "IntentRequest",
        "SessionEndedRequest",
        "CanFulfillIntentRequest",
        "Connections.Response",
        "Alexa.Presentation.APL.UserEvent",
        "System.ExceptionEncountered",
        "SessionResumedRequest",
    ];
    KNOWN
        .iter()
        .find(|known| **known == kind)
        .copied()
        .unwrap_or("other")
}

/// The response to give instead of Home Assistant's: nothing to say after a session ended.
fn answer(session_ended: bool, speech: &str, link_account: bool) -> Value {
    if session_ended {
        json!({"version": "1.0", "response": {}})
    } else {
        spoken(speech, link_account)
    }
}

/// A response envelope saying `speech` and ending the session, with the `LinkAccount` card
/// when `link_account`.
fn spoken(speech: &str, link_account: bool) -> Value {
    let mut response = json!({
        "outputSpeech": {"type": "PlainText", "text": speech},
        "shouldEndSession": true,
    });
    if link_account {
        response["card"] = json!({"type": "LinkAccount"});
    }
    json!({"version": "1.0", "response": response})
}

/// The time a request to Home Assistant may take: `max`, and no later than `deadline_ms`
/// (Lambda's deadline, milliseconds since the epoch; 0 when unknown) less
/// [`DEADLINE_MARGIN`].
fn budget(deadline_ms: u64, now: SystemTime, max: Duration) -> Duration {
    if deadline_ms == 0 {
        return max;
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    deadline
        .duration_since(now)
        .unwrap_or(Duration::ZERO)
        .saturating_sub(DEADLINE_MARGIN)
        .min(max)
}

/// `error` and its sources, joined by ": ".
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn usage() -> String {
    format!(
        "usage: ha-relay [--lambda | --invoke FILE|-]\n\
         \n\
         Relays each Alexa request to Home Assistant's {API_PATH} as an AWS Lambda function.\n\
         --lambda        serve Lambda (the default: Lambda starts the binary without arguments)\n\
         --invoke FILE   relay the Alexa request in FILE (- for standard input) once, print the\n\
         \x20               answer and exit: to try a Home Assistant without Lambda\n\
         \n\
         Environment:\n\
         {BASE_URL_VAR}                  required: Home Assistant as the internet reaches it, e.g.\n\
         \x20                         https://ha.example.com\n\
         {NOT_VERIFY_SSL_VAR}            true/1/yes: accept any TLS certificate (self-signed)\n\
         {DEBUG_VAR}                     true/1/yes: debug logs (RUST_LOG, when set, wins)\n\
         {TOKEN_VAR}   testing only: the token for requests that carry none\n\
         \n\
         Each request may take {}s (connecting: {}s) and never past the invocation's deadline;\n\
         failures are answered with a spoken apology.",
        DEFAULT_TIMEOUT.as_secs(),
        DEFAULT_CONNECT_TIMEOUT.as_secs(),
    )
}

/// The `ha-relay` binary's `main`: reads the environment, then serves Lambda (or, with
/// `--invoke FILE`, relays one request and prints the answer).
pub async fn run_cli() -> ExitCode {
    let mut invoke = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--help" | "-h" => {
                println!("{}", usage());
                return ExitCode::SUCCESS;
            }
            "--lambda" => invoke = None,
            "--invoke" => match args.next() {
                Some(path) => invoke = Some(path),
                None => {
                    eprintln!(
                        "--invoke needs a file (or - for standard input)\n\n{}",
                        usage()
                    );
                    return ExitCode::from(2);
                }
            },
            other => {
                eprintln!("unknown argument {other:?}\n\n{}", usage());
                return ExitCode::from(2);
            }
        }
    }
    let config = match RelayConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("ha-relay: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    init_tracing(config.debug);
    let relay = match Relay::new(config) {
        Ok(relay) => Arc::new(relay),
        Err(e) => {
            eprintln!("ha-relay: cannot start: {}", error_chain(&e));
            return ExitCode::FAILURE;
        }
    };
    match invoke {
        Some(path) => invoke_once(&relay, &path).await,
        None => {
            let served =
                skill_builder::lambda::run_lambda_fn(move |event: LambdaEvent<Box<RawValue>>| {
                    let relay = Arc::clone(&relay);
                    async move { relay.handle_event(event).await }
                })
                .await;
            match served {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!(
                        "ha-relay: {e}\n(to relay one request without Lambda: ha-relay --invoke FILE)"
                    );
                    ExitCode::FAILURE
                }
            }
        }
    }
}

async fn invoke_once(relay: &Relay, path: &str) -> ExitCode {
    let read = if path == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(path)
    };
    let text = match read {
        Ok(text) => text,
        Err(e) => {
            eprintln!("ha-relay: cannot read {path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = serde_json::from_str::<&RawValue>(&text) {
        eprintln!("ha-relay: {path} is not JSON: {e}");
        return ExitCode::FAILURE;
    }
    let answer = relay.handle(&text).await;
    match serde_json::to_string_pretty(&answer) {
        Ok(json) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ha-relay: cannot print the answer: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to standard error: `RUST_LOG` when set, else `DEBUG`'s choice. `lambda_runtime` logs
/// each raw event (the user's access token and IDs included) at TRACE: that target is held at
/// DEBUG whatever `RUST_LOG` says.
fn init_tracing(debug: bool) {
    use tracing_subscriber::EnvFilter;
    let default = if debug {
        "info,skill_examples=debug,skill_builder=debug"
    } else {
        "warn,skill_examples=info"
    };
    let mut filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    if let Ok(directive) = "lambda_runtime::layers::api_response=debug".parse() {
        filter = filter.add_directive(directive);
    }
    // No colour codes where nobody reads a terminal (CloudWatch keeps them verbatim).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(io::stderr().is_terminal())
        .with_writer(io::stderr)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn base_url_is_required_and_a_trailing_slash_is_tolerated() {
        for vars in [&[][..], &[("BASE_URL", "  ")][..]] {
            let err = RelayConfig::from_lookup(env(vars)).unwrap_err();
            assert!(matches!(err, ConfigError::MissingBaseUrl), "{err:?}");
            assert!(err.to_string().contains("BASE_URL"), "{err}");
        }
        for base in [
            "https://ha.example.com",
            "https://ha.example.com/",
            " https://ha.example.com// ",
        ] {
            let config = RelayConfig::from_lookup(env(&[("BASE_URL", base)])).unwrap();
            assert_eq!(
                config.endpoint().as_str(),
                "https://ha.example.com/api/alexa",
                "{base:?}"
            );
        }
        let config = RelayConfig::new("http://192.168.1.5:8123/ha/").unwrap();
        assert_eq!(
            config.endpoint().as_str(),
            "http://192.168.1.5:8123/ha/api/alexa"
        );
    }

    #[test]
    fn unusable_base_urls_are_refused_without_repeating_them() {
        for base in [
            "ha.example.com",
            "ftp://ha.example.com",
            "https://user:SECRETPASS@ha.example.com",
            "https://ha.example.com/?x=1",
            "https://ha.example.com/#top",
        ] {
            let err = RelayConfig::new(base).unwrap_err();
            assert!(matches!(err, ConfigError::InvalidBaseUrl { .. }), "{base}");
            let text = err.to_string();
            assert!(text.starts_with("BASE_URL"), "{text}");
            assert!(!text.contains("SECRETPASS"), "{text}");
        }
    }

    #[test]
    fn flags_take_the_usual_spellings_and_refuse_others() {
        let base = ("BASE_URL", "https://ha.example.com");
        for (value, expected) in [
            ("true", true),
            ("True", true),
            ("1", true),
            ("yes", true),
            ("ON", true),
            ("false", false),
            ("0", false),
            ("no", false),
            ("", false),
        ] {
            let config =
                RelayConfig::from_lookup(env(&[base, ("NOT_VERIFY_SSL", value), ("DEBUG", value)]))
                    .unwrap();
            assert_eq!(config.accept_invalid_certs, expected, "{value:?}");
            assert_eq!(config.debug, expected, "{value:?}");
        }
        let err =
            RelayConfig::from_lookup(env(&[base, ("NOT_VERIFY_SSL", "sometimes")])).unwrap_err();
        assert!(err.to_string().contains("NOT_VERIFY_SSL"), "{err}");
    }

    #[test]
    fn the_fallback_token_is_kept_but_never_shown() {
        let config = RelayConfig::from_lookup(env(&[
            ("BASE_URL", "https://ha.example.com"),
            ("LONG_LIVED_ACCESS_TOKEN", " eyJSECRETTOKEN \n"),
        ]))
        .unwrap();
        assert!(config.has_fallback_token());
        assert_eq!(config.fallback_token.as_deref(), Some("eyJSECRETTOKEN"));
        assert!(!format!("{config:?}").contains("SECRETTOKEN"));
        let relay = Relay::new(config).unwrap();
        assert!(!format!("{relay:?}").contains("SECRETTOKEN"));
        let blank = RelayConfig::from_lookup(env(&[
            ("BASE_URL", "https://ha.example.com"),
            ("LONG_LIVED_ACCESS_TOKEN", "  "),
        ]))
        .unwrap();
        assert!(!blank.has_fallback_token());
        let err = RelayConfig::new("https://ha.example.com")
            .unwrap()
            .with_fallback_token("eyJSECRET\nTOKEN")
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidToken));
        assert!(!err.to_string().contains("SECRET"));
    }

    #[test]
    fn the_budget_keeps_the_answer_before_the_lambda_deadline() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ms = |t: SystemTime| {
            u64::try_from(t.duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
        };
        // Unknown deadline (in-process calls): the configured maximum.
        assert_eq!(budget(0, now, DEFAULT_TIMEOUT), DEFAULT_TIMEOUT);
        // A generous deadline: the maximum.
        let later = ms(now + Duration::from_secs(30));
        assert_eq!(budget(later, now, DEFAULT_TIMEOUT), DEFAULT_TIMEOUT);
        // A close one: up to the deadline less the margin.
        let soon = ms(now + Duration::from_secs(3));
        assert_eq!(
            budget(soon, now, DEFAULT_TIMEOUT),
            Duration::from_secs(3) - DEADLINE_MARGIN
        );
        // Past: nothing (the apology goes at once).
        assert_eq!(budget(ms(now) - 5, now, DEFAULT_TIMEOUT), Duration::ZERO);
        // The default leaves a cold start room within Alexa's 8 s.
        assert!(DEFAULT_TIMEOUT + Duration::from_secs(1) < Duration::from_secs(8));
        assert!(DEFAULT_CONNECT_TIMEOUT < DEFAULT_TIMEOUT);
    }

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

    #[test]
    fn the_token_comes_from_context_then_session() {
        let both = r#"{"session":{"user":{"accessToken":"from-session"}},
            "context":{"System":{"user":{"accessToken":"from-context"}}},
            "request":{"type":"IntentRequest"}}"#;
        let probe = Probe::read(both).unwrap();
        assert_eq!(probe.token.as_deref(), Some("from-context"));
        assert_eq!(probe.request_type, "IntentRequest");
        let session = r#"{"session":{"user":{"accessToken":"from-session"}},
            "context":{"System":{"user":{"accessToken":""}}}, "request":{"type":"Custom.Thing"}}"#;
        let probe = Probe::read(session).unwrap();
        assert_eq!(probe.token.as_deref(), Some("from-session"));
        assert_eq!(probe.request_type, "other");
        assert!(Probe::read("{}").unwrap().token.is_none());
        assert!(Probe::read("[]").is_none());
        assert!(Probe::read("not json").is_none());
    }
}
