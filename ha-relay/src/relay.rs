//! The relay: one HTTP client and the settings, and what it does with each request.

use std::fmt;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::LambdaEvent;
use reqwest::Url;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::{
    BASE_URL_VAR, ConfigError, DEBUG_VAR, NOT_VERIFY_SSL_VAR, RelayConfig, SKILL_ID_VAR,
    SKIP_SKILL_ID_CHECK_VAR, SkillIdCheck, TOKEN_VAR,
};
use crate::forward::{self, RelayError};
use crate::probe::Probe;
use crate::responses::{
    FAILED_SPEECH, LINK_ACCOUNT_SPEECH, RELINK_ACCOUNT_SPEECH, UNREACHABLE_SPEECH, answer, spoken,
};
use crate::skill_id::{self, Refused};

/// Time kept back from the Lambda invocation's deadline to send the apology.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(300);

/// The relay: one HTTP client (connections are kept between invocations) and the settings.
pub struct Relay {
    client: reqwest::Client,
    endpoint: Url,
    /// The skill whose requests are relayed; `None`: any (`ALEXA_SKIP_SKILL_ID_CHECK`).
    skill_id: Option<String>,
    /// `LONG_LIVED_ACCESS_TOKEN`, kept only when `DEBUG` is on.
    fallback_token: Option<String>,
    timeout: Duration,
}

impl fmt::Debug for Relay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Relay")
            .field("endpoint", &self.endpoint.as_str())
            .field("skill_id", &self.skill_id)
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
    /// a skipped skill-ID check, `NOT_VERIFY_SSL`, a fallback token used or ignored, or plain
    /// `http`).
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
        let skill_id = match &config.skill_id {
            SkillIdCheck::Expect(id) => Some(id.clone()),
            SkillIdCheck::Skip => {
                tracing::warn!(
                    "!!! {SKIP_SKILL_ID_CHECK_VAR} is set: the skill-ID check is OFF. Requests of \
                     ANY Alexa skill, anyone's, are relayed to Home Assistant with their users' \
                     tokens. For local testing only: never where Alexa can reach this function; \
                     set {SKILL_ID_VAR} instead"
                );
                None
            }
        };
        // Home Assistant's own function ("Amazon Alexa Custom Skill" guide,
        // https://www.home-assistant.io/integrations/alexa.intent/, which has users copy
        // https://gist.github.com/lpomfrey/97381cf4316553b03622c665ae3a47da) reads the token
        // only in debug mode: `if token is None and _debug: token =
        // os.environ.get('LONG_LIVED_ACCESS_TOKEN')`. So does the relay: without DEBUG, a
        // request without a token never acts as the token's owner.
        let fallback_token = match config.fallback_token.clone() {
            Some(token) if config.debug => {
                tracing::warn!(
                    "{TOKEN_VAR} is set and {DEBUG_VAR} is on: requests without an \
                     account-linking token act as the token's owner; for testing only, remove it \
                     (and revoke the token in Home Assistant) afterwards"
                );
                Some(token)
            }
            Some(_) => {
                tracing::warn!(
                    "{TOKEN_VAR} is set but ignored: it is used only with {DEBUG_VAR} on (for \
                     testing); requests without an account-linking token are asked to link the \
                     account. Remove it (and revoke the token in Home Assistant)"
                );
                None
            }
            None => None,
        };
        if config.endpoint.scheme() == "http" {
            tracing::warn!(
                "{BASE_URL_VAR} is plain http: access tokens travel unencrypted; Alexa account \
                 linking needs https anyway"
            );
        }
        let client = forward::client(&config).map_err(ConfigError::Client)?;
        tracing::info!(
            endpoint = %config.endpoint,
            timeout_ms = config.timeout.as_millis(),
            connect_timeout_ms = config.connect_timeout.as_millis(),
            verify_tls = !config.accept_invalid_certs,
            skill_id = skill_id.as_deref().unwrap_or("(any: check skipped)"),
            fallback_token = fallback_token.is_some(),
            "relaying Alexa requests to Home Assistant"
        );
        Ok(Self {
            client,
            endpoint: config.endpoint,
            skill_id,
            fallback_token,
            timeout: config.timeout,
        })
    }

    /// Relays one Alexa request (its JSON text, sent as is) within the configured timeout,
    /// and returns the response for Alexa: Home Assistant's, or one of the crate's spoken
    /// apologies.
    ///
    /// # Errors
    /// [`Refused`] when the request is not for the configured skill: nothing is sent to Home
    /// Assistant. Every other failure is a spoken response.
    pub async fn handle(&self, request: &str) -> Result<Value, Refused> {
        self.handle_within(request, self.timeout).await
    }

    /// What the Lambda function does per invocation: [`Relay::handle`] on the event's exact
    /// JSON text (whitespace around the value aside), within the configured timeout and the
    /// invocation's deadline (less [`DEADLINE_MARGIN`]).
    ///
    /// # Errors
    /// [`Refused`] when the request is not for the configured skill (Lambda reports it to
    /// Alexa as a failed invocation); every other failure is a spoken response.
    pub async fn handle_event(&self, event: LambdaEvent<Box<RawValue>>) -> Result<Value, Refused> {
        let budget = budget(event.context.deadline, SystemTime::now(), self.timeout);
        self.handle_within(event.payload.get(), budget).await
    }

    async fn handle_within(&self, request: &str, budget: Duration) -> Result<Value, Refused> {
        let started = Instant::now();
        let Some(probe) = Probe::read(request) else {
            tracing::warn!(
                bytes = request.len(),
                "the event is not an Alexa request envelope (not a JSON object); not relayed"
            );
            return Ok(spoken(FAILED_SPEECH, false));
        };
        if let Some(expected) = &self.skill_id
            && let Err(refused) = skill_id::check(&probe, expected)
        {
            let received = probe
                .skill_ids
                .iter()
                .find(|id| id.as_deref() != Some(expected.as_str()))
                .and_then(Option::as_deref);
            tracing::warn!(
                request_type = probe.request_type,
                kind = refused.kind(),
                expected = expected.as_str(),
                received = skill_id::loggable(received),
                "request refused, nothing relayed: it is not for this skill ({SKILL_ID_VAR})"
            );
            return Err(refused);
        }
        Ok(self.relay(request, &probe, budget, started).await)
    }

    /// Relays a request for this skill: the user's token (or the fallback), Home Assistant's
    /// answer or an apology.
    async fn relay(
        &self,
        request: &str,
        probe: &Probe,
        budget: Duration,
        started: Instant,
    ) -> Value {
        let session_ended = probe.session_ended();
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
                    error = %error.describe(),
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
        forward::forward(&self.client, &self.endpoint, request, token, budget).await
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT};

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
}
