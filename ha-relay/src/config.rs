//! The relay's settings and the environment variables they come from.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::HeaderValue;

/// The variable naming Home Assistant's address (required).
pub const BASE_URL_VAR: &str = "BASE_URL";
/// The variable holding a Home Assistant long-lived access token, used when a request carries
/// no account-linking token, and only when [`DEBUG_VAR`] is on (testing only).
pub const TOKEN_VAR: &str = "LONG_LIVED_ACCESS_TOKEN";
/// The variable that, when true, accepts any TLS certificate from Home Assistant.
pub const NOT_VERIFY_SSL_VAR: &str = "NOT_VERIFY_SSL";
/// The variable that, when true, turns debug logs on, and lets [`TOKEN_VAR`] be used.
pub const DEBUG_VAR: &str = "DEBUG";
/// The variable holding the skill ID (`amzn1.ask.skill.…`) whose requests are relayed
/// (required, unless [`SKIP_SKILL_ID_CHECK_VAR`] is on).
pub const SKILL_ID_VAR: &str = "ALEXA_SKILL_ID";
/// The variable that, when `1` (or another true value), relays requests for any skill:
/// for local testing only.
pub const SKIP_SKILL_ID_CHECK_VAR: &str = "ALEXA_SKIP_SKILL_ID_CHECK";

/// Home Assistant's Alexa custom-skill endpoint, appended to `BASE_URL`.
pub const API_PATH: &str = "/api/alexa";
/// The longest a request to Home Assistant may take, connecting and reading its answer
/// included: with a cold start, the turn stays within Alexa's 8 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(6);
/// The longest connecting to Home Assistant may take (within [`DEFAULT_TIMEOUT`]).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

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
    /// Neither `ALEXA_SKILL_ID` nor the opt-out is set.
    #[error(
        "ALEXA_SKILL_ID is not set: set it to your skill's ID (amzn1.ask.skill.…, shown in the \
         Alexa developer console) so that only your skill's requests reach Home Assistant; to \
         test locally without one, set ALEXA_SKIP_SKILL_ID_CHECK=1 (never where Alexa can reach \
         the function)"
    )]
    MissingSkillId,
    /// Both `ALEXA_SKILL_ID` and the opt-out are set.
    #[error(
        "ALEXA_SKILL_ID and ALEXA_SKIP_SKILL_ID_CHECK are both set: remove \
         ALEXA_SKIP_SKILL_ID_CHECK to check the skill ID, or ALEXA_SKILL_ID to test without it"
    )]
    ConflictingSkillIdCheck,
    /// The HTTP client could not be built (e.g. no TLS roots could be loaded).
    #[error("the HTTP client could not be set up")]
    Client(#[source] reqwest::Error),
}

/// Which requests the relay takes: those for one skill (the default, and what Amazon asks of
/// every skill), or, for local testing only, any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkillIdCheck {
    /// Relay only requests whose `context.System.application.applicationId` and
    /// `session.application.applicationId` (those present, at least one) are this skill ID.
    Expect(String),
    /// Relay requests for any skill (`ALEXA_SKIP_SKILL_ID_CHECK=1`): anyone's skill pointed at
    /// the function could then use Home Assistant with its users' tokens. Local testing only.
    Skip,
}

/// The relay's settings; [`RelayConfig::from_env`] reads them as the Lambda function does.
///
/// ```
/// use ha_relay::{RelayConfig, SkillIdCheck};
///
/// let config = RelayConfig::from_lookup(|name| match name {
///     "BASE_URL" => Some("https://ha.example.com:8123/".to_owned()),
///     "ALEXA_SKILL_ID" => Some("amzn1.ask.skill.1234".to_owned()),
///     "NOT_VERIFY_SSL" => Some("True".to_owned()),
///     _ => None,
/// })?;
/// assert_eq!(config.endpoint().as_str(), "https://ha.example.com:8123/api/alexa");
/// assert_eq!(config.skill_id_check(), &SkillIdCheck::Expect("amzn1.ask.skill.1234".into()));
/// assert!(config.accept_invalid_certs);
/// assert!(!config.has_fallback_token());
///
/// let err = RelayConfig::from_lookup(|_| None).unwrap_err();
/// assert!(err.to_string().starts_with("BASE_URL is not set"));
/// let err = RelayConfig::from_lookup(|name| {
///     (name == "BASE_URL").then(|| "https://ha.example.com".to_owned())
/// })
/// .unwrap_err();
/// assert!(err.to_string().contains("ALEXA_SKIP_SKILL_ID_CHECK=1"));
/// # Ok::<(), ha_relay::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RelayConfig {
    pub(crate) endpoint: Url,
    pub(crate) skill_id: SkillIdCheck,
    pub(crate) fallback_token: Option<String>,
    /// Accept any TLS certificate (`NOT_VERIFY_SSL`).
    pub accept_invalid_certs: bool,
    /// Debug logs (`DEBUG`), and the fallback token used: Home Assistant's own function takes
    /// `LONG_LIVED_ACCESS_TOKEN` only with `DEBUG` on, and so does the relay.
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
            .field("skill_id", &self.skill_id)
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
    /// ignored), relaying the requests `skill_id` lets through, verifying certificates, no
    /// fallback token, default timeouts.
    ///
    /// # Errors
    /// [`ConfigError::MissingBaseUrl`] when blank, [`ConfigError::InvalidBaseUrl`] otherwise;
    /// [`ConfigError::MissingSkillId`] when the skill ID to expect is blank.
    pub fn new(base_url: &str, skill_id: SkillIdCheck) -> Result<Self, ConfigError> {
        let skill_id = match skill_id {
            SkillIdCheck::Expect(id) if id.trim().is_empty() => {
                return Err(ConfigError::MissingSkillId);
            }
            SkillIdCheck::Expect(id) => SkillIdCheck::Expect(id.trim().to_owned()),
            SkillIdCheck::Skip => SkillIdCheck::Skip,
        };
        Ok(Self {
            endpoint: endpoint(base_url)?,
            skill_id,
            fallback_token: None,
            accept_invalid_certs: false,
            debug: false,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        })
    }

    /// Reads the settings from the process environment (see the crate documentation).
    ///
    /// # Errors
    /// As [`RelayConfig::from_lookup`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings from the variables `lookup` returns.
    ///
    /// # Errors
    /// `BASE_URL` missing or unusable, a flag that is not true or false, neither
    /// `ALEXA_SKILL_ID` nor `ALEXA_SKIP_SKILL_ID_CHECK` set (or both), or a fallback token
    /// that cannot be a header value.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let base_url = lookup(BASE_URL_VAR).unwrap_or_default();
        endpoint(&base_url)?;
        let accept_invalid_certs = flag(&lookup, NOT_VERIFY_SSL_VAR)?;
        let debug = flag(&lookup, DEBUG_VAR)?;
        let skip = flag(&lookup, SKIP_SKILL_ID_CHECK_VAR)?;
        let skill_id = lookup(SKILL_ID_VAR).filter(|id| !id.trim().is_empty());
        let check = match (skill_id, skip) {
            (Some(_), true) => return Err(ConfigError::ConflictingSkillIdCheck),
            (Some(id), false) => SkillIdCheck::Expect(id),
            (None, true) => SkillIdCheck::Skip,
            (None, false) => return Err(ConfigError::MissingSkillId),
        };
        let mut config = Self::new(&base_url, check)?;
        config.accept_invalid_certs = accept_invalid_certs;
        config.debug = debug;
        if let Some(token) = lookup(TOKEN_VAR).filter(|t| !t.trim().is_empty()) {
            config = config.with_fallback_token(&token)?;
        }
        Ok(config)
    }

    /// Uses `token` (a Home Assistant long-lived access token) for requests that carry no
    /// account-linking token, when [`RelayConfig::debug`] is on (without it the relay ignores
    /// the token and says so at start-up). Surrounding whitespace is removed.
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

    /// Whether a fallback token is configured (the token itself is not readable back); it is
    /// used only with [`RelayConfig::debug`] on.
    pub fn has_fallback_token(&self) -> bool {
        self.fallback_token.is_some()
    }

    /// Which requests are relayed.
    pub fn skill_id_check(&self) -> &SkillIdCheck {
        &self.skill_id
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

#[cfg(test)]
mod tests {
    use super::*;

    const SKILL: (&str, &str) = ("ALEXA_SKILL_ID", "amzn1.ask.skill.1234");

    /// `vars`, and the skill ID unless `vars` say something about it.
    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        let names_skill = vars.iter().any(|(n, _)| n.starts_with("ALEXA_"));
        move |name| {
            vars.iter()
                .chain((!names_skill).then_some(&SKILL))
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    /// `vars` alone.
    fn env_only<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn new(base_url: &str) -> Result<RelayConfig, ConfigError> {
        RelayConfig::new(base_url, SkillIdCheck::Expect(SKILL.1.to_owned()))
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
        let config = new("http://192.168.1.5:8123/ha/").unwrap();
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
            let err = new(base).unwrap_err();
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
        let relay = crate::Relay::new(config).unwrap();
        assert!(!format!("{relay:?}").contains("SECRETTOKEN"));
        let blank = RelayConfig::from_lookup(env(&[
            ("BASE_URL", "https://ha.example.com"),
            ("LONG_LIVED_ACCESS_TOKEN", "  "),
        ]))
        .unwrap();
        assert!(!blank.has_fallback_token());
        let err = new("https://ha.example.com")
            .unwrap()
            .with_fallback_token("eyJSECRET\nTOKEN")
            .unwrap_err();
        assert!(matches!(err, ConfigError::InvalidToken));
        assert!(!err.to_string().contains("SECRET"));
    }

    #[test]
    fn a_skill_id_is_required_unless_the_check_is_skipped_on_purpose() {
        let base = ("BASE_URL", "https://ha.example.com");
        for vars in [
            &[base][..],
            &[base, ("ALEXA_SKILL_ID", "  ")][..],
            &[base, ("ALEXA_SKIP_SKILL_ID_CHECK", "0")][..],
        ] {
            let err = RelayConfig::from_lookup(env_only(vars)).unwrap_err();
            assert!(
                matches!(err, ConfigError::MissingSkillId),
                "{vars:?}: {err:?}"
            );
            let text = err.to_string();
            assert!(text.starts_with("ALEXA_SKILL_ID is not set"), "{text}");
            assert!(text.contains("ALEXA_SKIP_SKILL_ID_CHECK=1"), "{text}");
        }
        let config =
            RelayConfig::from_lookup(env_only(&[base, ("ALEXA_SKILL_ID", " amzn1.ask.skill.1 ")]))
                .unwrap();
        assert_eq!(
            config.skill_id_check(),
            &SkillIdCheck::Expect("amzn1.ask.skill.1".to_owned())
        );
        let config =
            RelayConfig::from_lookup(env_only(&[base, ("ALEXA_SKIP_SKILL_ID_CHECK", "1")]))
                .unwrap();
        assert_eq!(config.skill_id_check(), &SkillIdCheck::Skip);
        let both = [
            base,
            ("ALEXA_SKILL_ID", "amzn1.ask.skill.1"),
            ("ALEXA_SKIP_SKILL_ID_CHECK", "1"),
        ];
        let err = RelayConfig::from_lookup(env_only(&both)).unwrap_err();
        assert!(
            matches!(err, ConfigError::ConflictingSkillIdCheck),
            "{err:?}"
        );
        let err = RelayConfig::from_lookup(env_only(&[base, ("ALEXA_SKIP_SKILL_ID_CHECK", "y")]))
            .unwrap_err();
        assert!(
            err.to_string().contains("ALEXA_SKIP_SKILL_ID_CHECK"),
            "{err}"
        );
        let err = RelayConfig::new(base.1, SkillIdCheck::Expect(" ".into())).unwrap_err();
        assert!(matches!(err, ConfigError::MissingSkillId), "{err:?}");
    }
}
