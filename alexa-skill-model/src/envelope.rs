//! The request envelope Alexa sends to a skill, as serde types.
//!
//! Field names follow Alexa's JSON exactly (`camelCase`, `context.System`). Unknown fields are
//! ignored, absent optional ones are `None` or empty, and a request type this crate does not
//! model is kept whole as [`Request::Other`] rather than refused.
//!
//! IDs and tokens never appear in full in `Debug` output: user, person and device IDs are shown
//! cut to their first half with their length, access tokens not at all.
//!
//! ```
//! use alexa_skill_model::envelope::{Request, RequestEnvelope};
//!
//! let json = r#"{
//!   "version": "1.0",
//!   "session": {"new": true, "sessionId": "amzn1.echo-api.session.1",
//!               "application": {"applicationId": "amzn1.ask.skill.1"},
//!               "user": {"userId": "amzn1.ask.account.A"}},
//!   "context": {"System": {"application": {"applicationId": "amzn1.ask.skill.1"},
//!                          "user": {"userId": "amzn1.ask.account.A"},
//!                          "device": {"deviceId": "amzn1.ask.device.D", "supportedInterfaces": {}},
//!                          "apiEndpoint": "https://api.amazonalexa.com"}},
//!   "request": {"type": "IntentRequest", "requestId": "amzn1.echo-api.request.1",
//!               "locale": "en-US", "timestamp": "2025-05-01T10:00:00Z",
//!               "intent": {"name": "FactNumberIntent", "confirmationStatus": "NONE",
//!                          "slots": {"fact_number": {"name": "fact_number", "value": "3"}}}}
//! }"#;
//! let envelope: RequestEnvelope = serde_json::from_str(json)?;
//! assert_eq!(envelope.request_type(), "IntentRequest");
//! assert_eq!(envelope.intent_name(), Some("FactNumberIntent"));
//! assert_eq!(envelope.slot_value("fact_number"), Some("3"));
//! assert_eq!(envelope.user_id(), Some("amzn1.ask.account.A"));
//! assert!(matches!(envelope.request, Request::Intent(_)));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::request::*;

/// Everything Alexa POSTs to a skill for one turn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestEnvelope {
    /// `version`, `"1.0"` today.
    #[serde(default)]
    pub version: String,
    /// `session`: absent for requests outside a session (e.g. some skill events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<Session>,
    /// `context`: who is asking, from which device.
    #[serde(default)]
    pub context: Context,
    /// `request`: what is asked.
    pub request: Request,
}

impl RequestEnvelope {
    /// The request's `type`: `LaunchRequest`, `IntentRequest`, `SessionEndedRequest`, or any
    /// other type Alexa sends.
    pub fn request_type(&self) -> &str {
        self.request.request_type()
    }

    /// The intent of an `IntentRequest`.
    pub fn intent(&self) -> Option<&Intent> {
        match &self.request {
            Request::Intent(r) => Some(&r.intent),
            _ => None,
        }
    }

    /// The intent name of an `IntentRequest`.
    pub fn intent_name(&self) -> Option<&str> {
        self.intent().map(|i| i.name.as_str())
    }

    /// Slot `name` of an `IntentRequest`'s intent.
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.intent()?.slots.get(name)
    }

    /// The spoken value of slot `name`, when the slot was filled (an empty value counts as
    /// absent).
    pub fn slot_value(&self, name: &str) -> Option<&str> {
        self.slot(name)?.value()
    }

    /// `request.locale`, e.g. `en-US`.
    pub fn locale(&self) -> Option<&str> {
        self.request.locale()
    }

    /// `session.new`: true on the first request of a session. False without a session.
    pub fn is_new_session(&self) -> bool {
        self.session.as_ref().is_some_and(|s| s.new)
    }

    /// `session.attributes`, as Alexa sent them back.
    pub fn session_attributes(&self) -> Option<&Map<String, Value>> {
        self.session.as_ref()?.attributes.as_ref()
    }

    /// `context.System.application.applicationId`, the skill ID Alexa addressed.
    pub fn application_id(&self) -> Option<&str> {
        non_empty(&self.context.system.application.as_ref()?.application_id)
    }

    /// `session.application.applicationId`.
    pub fn session_application_id(&self) -> Option<&str> {
        non_empty(&self.session.as_ref()?.application.as_ref()?.application_id)
    }

    /// `context.System.apiAccessToken`, for calling Alexa's service APIs.
    pub fn api_access_token(&self) -> Option<&str> {
        self.context.system.api_access_token.as_deref()
    }

    /// `context.System.user.accessToken` (or `session.user.accessToken`): the account-linking
    /// token, when the user linked an account.
    pub fn user_access_token(&self) -> Option<&str> {
        self.context
            .system
            .user
            .as_ref()
            .and_then(|u| u.access_token.as_deref())
            .or_else(|| {
                self.session
                    .as_ref()?
                    .user
                    .as_ref()?
                    .access_token
                    .as_deref()
            })
    }
}

fn non_empty(s: &str) -> Option<&str> {
    (!s.is_empty()).then_some(s)
}

impl RequestEnvelope {
    /// `context.System.user.userId` (an empty one counts as absent).
    pub fn user_id(&self) -> Option<&str> {
        non_empty(&self.context.system.user.as_ref()?.user_id)
    }

    /// `context.System.device.deviceId` (an empty one counts as absent).
    pub fn device_id(&self) -> Option<&str> {
        non_empty(&self.context.system.device.as_ref()?.device_id)
    }

    /// `context.System.person.personId`, present when Alexa recognised the speaker.
    pub fn person_id(&self) -> Option<&str> {
        non_empty(&self.context.system.person.as_ref()?.person_id)
    }

    /// `request.timestamp`, parsed: when Alexa sent the request (UTC). `None` when absent or
    /// not an ISO 8601 UTC time.
    pub fn timestamp(&self) -> Option<crate::Timestamp> {
        crate::Timestamp::parse(self.request.timestamp()?)
    }
}

/// An ID cut to its first half, with its length: enough to tell IDs apart in a log, never the
/// whole ID.
pub(crate) struct Redacted<'a>(pub(crate) &'a str);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keep = self.0.chars().count() / 2;
        let shown: String = self.0.chars().take(keep).collect();
        write!(f, "{shown}…({} bytes)", self.0.len())
    }
}

/// `session`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// `new`: true on the first request of the session.
    #[serde(default)]
    pub new: bool,
    /// `sessionId`
    #[serde(default)]
    pub session_id: String,
    /// `application`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    /// `attributes`: the session attributes the skill returned on the previous turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Map<String, Value>>,
    /// `user`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
}

/// `application`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    /// `applicationId`: the skill ID, `amzn1.ask.skill.…`.
    #[serde(default)]
    pub application_id: String,
}

/// `user` (in `session` and in `context.System`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// `userId`: one per Alexa account and skill, `amzn1.ask.account.…`.
    #[serde(default)]
    pub user_id: String,
    /// `accessToken`: the account-linking token, when the user linked an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// `permissions`: the consent token for customer data, when granted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Permissions>,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("user_id", &Redacted(&self.user_id))
            .field("access_token", &secret(&self.access_token))
            .field("permissions", &self.permissions)
            .finish()
    }
}

/// `user.permissions`
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Permissions {
    /// `consentToken`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_token: Option<String>,
}

impl fmt::Debug for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permissions")
            .field("consent_token", &secret(&self.consent_token))
            .finish()
    }
}

/// Shows whether a secret is there, never the secret.
fn secret(s: &Option<String>) -> &'static str {
    match s {
        Some(_) => "Some(<redacted>)",
        None => "None",
    }
}

/// `context`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    /// `context.System`
    #[serde(rename = "System", default)]
    pub system: System,
    /// The other context objects (`Viewport`, `Viewports`, `AudioPlayer`, `Geolocation`,
    /// `Extensions`, ...), kept as JSON.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `context.System`
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct System {
    /// `application`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<Application>,
    /// `user`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// `device`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<Device>,
    /// `person`: present when Alexa recognised the speaker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub person: Option<Person>,
    /// `apiEndpoint`, e.g. `https://api.amazonalexa.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_endpoint: Option<String>,
    /// `apiAccessToken`, for Alexa's service APIs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_access_token: Option<String>,
}

impl fmt::Debug for System {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("System")
            .field("application", &self.application)
            .field("user", &self.user)
            .field("device", &self.device)
            .field("person", &self.person)
            .field("api_endpoint", &self.api_endpoint)
            .field("api_access_token", &secret(&self.api_access_token))
            .finish()
    }
}

/// `context.System.device`
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// `deviceId`
    #[serde(default)]
    pub device_id: String,
    /// `supportedInterfaces`, e.g. `{"AudioPlayer": {}}`.
    #[serde(default)]
    pub supported_interfaces: Map<String, Value>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("device_id", &Redacted(&self.device_id))
            .field("supported_interfaces", &self.supported_interfaces)
            .finish()
    }
}

/// `context.System.person`
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    /// `personId`
    #[serde(default)]
    pub person_id: String,
    /// `accessToken`, when the person linked an account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Person")
            .field("person_id", &Redacted(&self.person_id))
            .field("access_token", &secret(&self.access_token))
            .finish()
    }
}
