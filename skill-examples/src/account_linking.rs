//! A skill with account linking: it greets the user by the name their linked account has, and
//! keeps what it remembers under the linked account's stable subject, so that their data
//! survives disabling and enabling the skill again (which gives them a new Alexa user ID).
//!
//! The shape of seed 004's Node skill (Cognito user pools and account linking), in Rust:
//! - a `before` interceptor looks the linked user's profile up at the OAuth provider's userinfo
//!   endpoint (Cognito: `https://<domain>/oauth2/userInfo`) with the access token Alexa sends, and
//!   keys the turn's persistent attributes by the profile's `sub`;
//! - without a linked account, the skill answers with the LinkAccount card;
//! - a failed lookup (provider down, token expired) is an apology, not a crash, and a 401 asks
//!   the user to link again.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let profiles = skill_examples::account_linking::ProfileClient::new(
//!     "https://example.auth.eu-west-1.amazoncognito.com/oauth2/userInfo")?;
//! let store = Arc::new(skill_builder::MemoryAdapter::new());
//! let skill = skill_examples::account_linking::skill(store, profiles);
//! # let _ = skill; Ok(()) }
//! ```

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use skill_builder::prelude::*;
use skill_builder::{HandlerError, SkillError};

/// The environment variable holding the userinfo endpoint.
pub const USERINFO_URL_VAR: &str = "USERINFO_URL";

/// How long a profile lookup may take: well inside Alexa's 8 seconds.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);

/// The linked user's profile, as an OpenID Connect userinfo endpoint answers (Cognito included).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Profile {
    /// `sub`: the account's stable ID at the provider.
    pub sub: String,
    /// `name`, when the provider has one.
    #[serde(default)]
    pub name: Option<String>,
    /// `given_name`
    #[serde(default)]
    pub given_name: Option<String>,
    /// `username` (Cognito)
    #[serde(default)]
    pub username: Option<String>,
    /// `email`
    #[serde(default)]
    pub email: Option<String>,
}

impl Profile {
    /// What to call the user.
    pub fn greeting_name(&self) -> &str {
        self.given_name
            .as_deref()
            .or(self.name.as_deref())
            .or(self.username.as_deref())
            .unwrap_or("there")
    }
}

/// Why a profile could not be looked up.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// The provider refused the token (expired or revoked): the user should link again.
    #[error("the identity provider refused the access token")]
    Unauthorized,
    /// The provider could not be reached, was too slow, or answered something else.
    #[error("the identity provider could not be asked: {0}")]
    Unavailable(String),
}

/// Looks profiles up at a userinfo endpoint.
#[derive(Clone, Debug)]
pub struct ProfileClient {
    url: String,
    http: reqwest::Client,
}

impl ProfileClient {
    /// A client for the userinfo endpoint at `url` (HTTPS with the system's roots).
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(url: impl Into<String>) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(LOOKUP_TIMEOUT)
            .connect_timeout(LOOKUP_TIMEOUT)
            .build()?;
        Ok(Self {
            url: url.into(),
            http,
        })
    }

    /// The client for the endpoint in `USERINFO_URL`.
    ///
    /// # Errors
    /// When the variable is unset or empty, or the client cannot be built.
    pub fn from_env() -> Result<Self, String> {
        let url = std::env::var(USERINFO_URL_VAR)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| {
                format!("set {USERINFO_URL_VAR} to the OAuth provider's userinfo endpoint")
            })?;
        Self::new(url).map_err(|e| e.to_string())
    }

    /// The profile of the account `access_token` belongs to.
    ///
    /// # Errors
    /// [`ProfileError::Unauthorized`] for a refused token, [`ProfileError::Unavailable`]
    /// otherwise. Messages never hold the token.
    pub async fn profile(&self, access_token: &str) -> Result<Profile, ProfileError> {
        let response = self
            .http
            .get(&self.url)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(|e| ProfileError::Unavailable(without_url(&e)))?;
        match response.status() {
            s if s == reqwest::StatusCode::UNAUTHORIZED || s == reqwest::StatusCode::FORBIDDEN => {
                return Err(ProfileError::Unauthorized);
            }
            s if !s.is_success() => {
                return Err(ProfileError::Unavailable(format!("HTTP {s}")));
            }
            _ => {}
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| ProfileError::Unavailable(without_url(&e)))?;
        let profile: Profile = serde_json::from_slice(&body)
            .map_err(|e| ProfileError::Unavailable(format!("not a userinfo answer: {e}")))?;
        if profile.sub.is_empty() {
            return Err(ProfileError::Unavailable("no `sub` in the answer".into()));
        }
        Ok(profile)
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    kind.to_owned()
}

/// What the skill remembers per linked account.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Remembered {
    /// Visits so far.
    pub visits: u32,
}

/// What the `before` interceptor found out about the linked account this turn.
#[derive(Clone, Debug)]
enum Linked {
    /// The linked user's name.
    Name(String),
    /// The provider refused the token: link again.
    Expired,
    /// The provider could not be asked.
    Unavailable,
}

/// The persistence key of a linked account.
pub fn linked_key(profile: &Profile) -> String {
    format!("linked:{}", profile.sub)
}

/// The skill: greets linked users by name and counts their visits per linked account.
pub fn skill(
    adapter: Arc<dyn PersistenceAdapter>,
    profiles: ProfileClient,
) -> Result<Skill, BuildError> {
    builder(adapter, profiles)
        .skip_skill_id_check_for_local_testing()
        .build()
}

/// The skill's builder.
pub fn builder(adapter: Arc<dyn PersistenceAdapter>, profiles: ProfileClient) -> SkillBuilder {
    let profiles = Arc::new(profiles);
    SkillBuilder::new()
        .with_persistence_adapter(adapter)
        // The key is the linked account's, found by the lookup below: nothing is read for the
        // Alexa user ID, and the read starts as soon as the lookup gives the key.
        .keyed_by_interceptor()
        .before(move |turn: Turn| {
            let profiles = profiles.clone();
            async move { load_profile(&turn, &profiles).await }
        })
        .on_launch(hello)
        .on_intent("HelloIntent", hello)
        .on_intent("AMAZON.HelpIntent", help)
        .on_intents(["AMAZON.StopIntent", "AMAZON.CancelIntent"], goodbye)
        .on_account_linked(|_turn: Turn| async { Ok::<_, HandlerError>(()) })
        .fallback(help)
        .on_error(sorry)
}

/// Looks the linked profile up (when there is a token) and keys persistence by it.
async fn load_profile(turn: &Turn, profiles: &ProfileClient) -> Result<(), HandlerError> {
    let Some(token) = turn.envelope().user_access_token().map(str::to_owned) else {
        return Ok(());
    };
    let linked = match profiles.profile(&token).await {
        Ok(profile) => {
            turn.use_persistence_key(linked_key(&profile))?;
            Linked::Name(profile.greeting_name().to_owned())
        }
        Err(e) => {
            tracing::warn!(error = %e, "the linked profile could not be looked up");
            match e {
                ProfileError::Unauthorized => Linked::Expired,
                ProfileError::Unavailable(_) => Linked::Unavailable,
            }
        }
    };
    turn.insert_extension(linked);
    Ok(())
}

/// The linked user's name this turn, or the reply to give instead.
async fn linked_name(turn: &Turn) -> Result<String, Reply> {
    Err(match turn.extension::<Linked>() {
        Some(Linked::Name(name)) => return Ok(name),
        Some(Linked::Unavailable) => Reply::speak(
            "Sorry, I can't reach your account right now. Please try again in a little while.",
        )
        .end_session(),
        Some(Linked::Expired) => Reply::speak(
            "Your account link has expired. I've sent a card to the Alexa app to link it again.",
        )
        .link_account_card()
        .end_session(),
        None => Reply::speak(
            "To use this skill, please link your account. I've sent a card to the Alexa app to \
             help you.",
        )
        .link_account_card()
        .end_session(),
    })
}

async fn hello(turn: Turn) -> TurnResult {
    let name = match linked_name(&turn).await {
        Ok(name) => name,
        Err(reply) => return Ok(reply),
    };
    let mut remembered = turn.state::<Remembered>().await?;
    remembered.visits += 1;
    let speech = if remembered.visits == 1 {
        format!("Hello {name}! Nice to meet you.")
    } else {
        format!("Welcome back, {name}! This is visit {}.", remembered.visits)
    };
    Ok(turn.speak(speech).reprompt("Say hello again, or stop."))
}

async fn help(turn: Turn) -> TurnResult {
    if let Err(reply) = linked_name(&turn).await {
        return Ok(reply);
    }
    Ok(turn
        .speak("Say hello, and I'll tell you how many times we've met.")
        .reprompt("Say hello."))
}

async fn goodbye(turn: Turn) -> TurnResult {
    Ok(turn.speak("Goodbye!").end_session())
}

async fn sorry(turn: Turn, error: SkillError) -> TurnResult {
    tracing::warn!(%error, "the turn failed");
    Ok(turn
        .speak("Sorry, something went wrong. Please try again.")
        .end_session())
}
