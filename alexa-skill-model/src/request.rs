//! `request`: what Alexa asks the skill, by `type`, as serde types.
//!
//! [`Request`] has a variant for every request type a skill commonly gets: the three of every
//! custom skill, the skill events (`AlexaSkillEvent.*`), the answer of a skill connection
//! (`Connections.Response`, e.g. after an in-skill purchase) and touches on a screen
//! (`Alexa.Presentation.APL.UserEvent`). Any other type is kept as [`RawRequest`], byte for byte:
//! serialized again, it is exactly the JSON Alexa sent. Known types keep fields this crate does
//! not model in their `extra` map, so nothing Alexa adds later is lost.
//!
//! ```
//! use alexa_skill_model::request::{Request, UserInformationPersistenceStatus};
//!
//! let r: Request = serde_json::from_str(r#"{"type": "AlexaSkillEvent.SkillDisabled",
//!     "requestId": "amzn1.echo-api.request.1", "timestamp": "2026-05-06T20:38:21Z",
//!     "body": {"userInformationPersistenceStatus": "PERSISTED"}}"#)?;
//! let Request::SkillDisabled(event) = &r else { panic!() };
//! assert_eq!(event.body.user_information_persistence_status,
//!            Some(UserInformationPersistenceStatus::Persisted));
//! assert_eq!(r.request_type(), "AlexaSkillEvent.SkillDisabled");
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

mod events;
mod intent;

pub use events::*;
pub use intent::*;

/// `request`: what Alexa asks the skill, by `type`.
///
/// In JSON it is one object with a `type` field; the variants hold the rest. `Debug` of a
/// request kept raw ([`Request::Other`]) shows its type and field names, never their values
/// (which can hold tokens and IDs); the typed events with tokens redact them too.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// `LaunchRequest`: "Alexa, open …".
    Launch(LaunchRequest),
    /// `IntentRequest`: an utterance mapped to an intent.
    Intent(IntentRequest),
    /// `SessionEndedRequest`: the session ended (user exit, error, no answer to a reprompt).
    SessionEnded(SessionEndedRequest),
    /// `AlexaSkillEvent.SkillEnabled`: the user enabled the skill.
    SkillEnabled(SkillEventRequest),
    /// `AlexaSkillEvent.SkillDisabled`: the user disabled the skill (a data-deletion signal).
    SkillDisabled(SkillDisabledRequest),
    /// `AlexaSkillEvent.SkillAccountLinked`: the user linked their account.
    SkillAccountLinked(SkillAccountLinkedRequest),
    /// `AlexaSkillEvent.SkillPermissionAccepted`: the user granted permissions.
    SkillPermissionAccepted(SkillPermissionRequest),
    /// `AlexaSkillEvent.SkillPermissionChanged`: the user changed the permissions granted.
    SkillPermissionChanged(SkillPermissionRequest),
    /// `Connections.Response`: the answer to a `Connections.SendRequest` (purchases, tasks).
    ConnectionsResponse(ConnectionsResponse),
    /// `Alexa.Presentation.APL.UserEvent`: a `SendEvent` command from an APL document.
    AplUserEvent(AplUserEvent),
    /// Any other request type (`CanFulfillIntentRequest`, `AudioPlayer.*`, ...), kept byte for
    /// byte.
    Other(RawRequest),
}

/// The request types [`Request`] has a variant for, as Alexa names them.
pub mod types {
    /// `LaunchRequest`
    pub const LAUNCH: &str = "LaunchRequest";
    /// `IntentRequest`
    pub const INTENT: &str = "IntentRequest";
    /// `SessionEndedRequest`
    pub const SESSION_ENDED: &str = "SessionEndedRequest";
    /// `AlexaSkillEvent.SkillEnabled`
    pub const SKILL_ENABLED: &str = "AlexaSkillEvent.SkillEnabled";
    /// `AlexaSkillEvent.SkillDisabled`
    pub const SKILL_DISABLED: &str = "AlexaSkillEvent.SkillDisabled";
    /// `AlexaSkillEvent.SkillAccountLinked`
    pub const SKILL_ACCOUNT_LINKED: &str = "AlexaSkillEvent.SkillAccountLinked";
    /// `AlexaSkillEvent.SkillPermissionAccepted`
    pub const SKILL_PERMISSION_ACCEPTED: &str = "AlexaSkillEvent.SkillPermissionAccepted";
    /// `AlexaSkillEvent.SkillPermissionChanged`
    pub const SKILL_PERMISSION_CHANGED: &str = "AlexaSkillEvent.SkillPermissionChanged";
    /// `Connections.Response`
    pub const CONNECTIONS_RESPONSE: &str = "Connections.Response";
    /// `Alexa.Presentation.APL.UserEvent`
    pub const APL_USER_EVENT: &str = "Alexa.Presentation.APL.UserEvent";
}

impl Default for Request {
    fn default() -> Self {
        Request::Launch(LaunchRequest::default())
    }
}

/// A request of a type this crate does not model, exactly as Alexa sent it.
#[derive(Clone)]
pub struct RawRequest {
    request_type: String,
    raw: Box<RawValue>,
}

impl RawRequest {
    /// The request's `type`.
    pub fn request_type(&self) -> &str {
        &self.request_type
    }

    /// The whole `request` object's JSON text, exactly as received.
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    /// The request parsed as a JSON value.
    ///
    /// # Errors
    /// Never for text that came from a request; kept fallible for hand-built ones.
    pub fn to_value(&self) -> serde_json::Result<Value> {
        serde_json::from_str(self.raw.get())
    }

    /// A raw request from a JSON object with a string `type`.
    ///
    /// # Errors
    /// When `value` is not an object with a string `type`.
    pub fn from_value(value: &Value) -> serde_json::Result<Self> {
        let request_type = value
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| serde_json::Error::custom("a request needs a string `type`"))?
            .to_owned();
        Ok(Self {
            request_type,
            raw: RawValue::from_string(serde_json::to_string(value)?)?,
        })
    }
}

impl PartialEq for RawRequest {
    fn eq(&self, other: &Self) -> bool {
        self.request_type == other.request_type && self.raw.get() == other.raw.get()
    }
}

impl fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = match self.to_value() {
            Ok(Value::Object(m)) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        f.debug_struct("RawRequest")
            .field("request_type", &self.request_type)
            .field("fields", &fields)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// The `type` of the request.
    pub fn request_type(&self) -> &str {
        match self {
            Request::Launch(_) => types::LAUNCH,
            Request::Intent(_) => types::INTENT,
            Request::SessionEnded(_) => types::SESSION_ENDED,
            Request::SkillEnabled(_) => types::SKILL_ENABLED,
            Request::SkillDisabled(_) => types::SKILL_DISABLED,
            Request::SkillAccountLinked(_) => types::SKILL_ACCOUNT_LINKED,
            Request::SkillPermissionAccepted(_) => types::SKILL_PERMISSION_ACCEPTED,
            Request::SkillPermissionChanged(_) => types::SKILL_PERMISSION_CHANGED,
            Request::ConnectionsResponse(_) => types::CONNECTIONS_RESPONSE,
            Request::AplUserEvent(_) => types::APL_USER_EVENT,
            Request::Other(r) => &r.request_type,
        }
    }

    /// `requestId` (empty when absent).
    pub fn request_id(&self) -> &str {
        match self {
            Request::Launch(r) => &r.request_id,
            Request::Intent(r) => &r.request_id,
            Request::SessionEnded(r) => &r.request_id,
            Request::SkillEnabled(r) => &r.request_id,
            Request::SkillDisabled(r) => &r.request_id,
            Request::SkillAccountLinked(r) => &r.request_id,
            Request::SkillPermissionAccepted(r) | Request::SkillPermissionChanged(r) => {
                &r.request_id
            }
            Request::ConnectionsResponse(r) => &r.request_id,
            Request::AplUserEvent(r) => &r.request_id,
            Request::Other(_) => "",
        }
    }

    /// `timestamp` (ISO 8601), when the request has one.
    pub fn timestamp(&self) -> Option<&str> {
        match self {
            Request::Launch(r) => r.timestamp.as_deref(),
            Request::Intent(r) => r.timestamp.as_deref(),
            Request::SessionEnded(r) => r.timestamp.as_deref(),
            Request::SkillEnabled(r) => r.timestamp.as_deref(),
            Request::SkillDisabled(r) => r.timestamp.as_deref(),
            Request::SkillAccountLinked(r) => r.timestamp.as_deref(),
            Request::SkillPermissionAccepted(r) | Request::SkillPermissionChanged(r) => {
                r.timestamp.as_deref()
            }
            Request::ConnectionsResponse(r) => r.timestamp.as_deref(),
            Request::AplUserEvent(r) => r.timestamp.as_deref(),
            Request::Other(_) => None,
        }
    }

    /// `locale`, e.g. `en-US`, when the request has one.
    pub fn locale(&self) -> Option<&str> {
        match self {
            Request::Launch(r) => r.locale.as_deref(),
            Request::Intent(r) => r.locale.as_deref(),
            Request::SessionEnded(r) => r.locale.as_deref(),
            Request::ConnectionsResponse(r) => r.locale.as_deref(),
            Request::AplUserEvent(r) => r.locale.as_deref(),
            _ => None,
        }
    }
}

/// The known request types, borrowed, for serialization with their `type` tag.
#[derive(Serialize)]
#[serde(tag = "type")]
enum KnownRequestRef<'a> {
    #[serde(rename = "LaunchRequest")]
    Launch(&'a LaunchRequest),
    #[serde(rename = "IntentRequest")]
    Intent(&'a IntentRequest),
    #[serde(rename = "SessionEndedRequest")]
    SessionEnded(&'a SessionEndedRequest),
    #[serde(rename = "AlexaSkillEvent.SkillEnabled")]
    SkillEnabled(&'a SkillEventRequest),
    #[serde(rename = "AlexaSkillEvent.SkillDisabled")]
    SkillDisabled(&'a SkillDisabledRequest),
    #[serde(rename = "AlexaSkillEvent.SkillAccountLinked")]
    SkillAccountLinked(&'a SkillAccountLinkedRequest),
    #[serde(rename = "AlexaSkillEvent.SkillPermissionAccepted")]
    SkillPermissionAccepted(&'a SkillPermissionRequest),
    #[serde(rename = "AlexaSkillEvent.SkillPermissionChanged")]
    SkillPermissionChanged(&'a SkillPermissionRequest),
    #[serde(rename = "Connections.Response")]
    ConnectionsResponse(&'a ConnectionsResponse),
    #[serde(rename = "Alexa.Presentation.APL.UserEvent")]
    AplUserEvent(&'a AplUserEvent),
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Request::Launch(r) => KnownRequestRef::Launch(r).serialize(s),
            Request::Intent(r) => KnownRequestRef::Intent(r).serialize(s),
            Request::SessionEnded(r) => KnownRequestRef::SessionEnded(r).serialize(s),
            Request::SkillEnabled(r) => KnownRequestRef::SkillEnabled(r).serialize(s),
            Request::SkillDisabled(r) => KnownRequestRef::SkillDisabled(r).serialize(s),
            Request::SkillAccountLinked(r) => KnownRequestRef::SkillAccountLinked(r).serialize(s),
            Request::SkillPermissionAccepted(r) => {
                KnownRequestRef::SkillPermissionAccepted(r).serialize(s)
            }
            Request::SkillPermissionChanged(r) => {
                KnownRequestRef::SkillPermissionChanged(r).serialize(s)
            }
            Request::ConnectionsResponse(r) => KnownRequestRef::ConnectionsResponse(r).serialize(s),
            Request::AplUserEvent(r) => KnownRequestRef::AplUserEvent(r).serialize(s),
            Request::Other(r) => r.raw.serialize(s),
        }
    }
}

#[derive(Deserialize)]
struct TypeOnly<'a> {
    #[serde(rename = "type", borrow)]
    request_type: Option<std::borrow::Cow<'a, str>>,
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // The request's exact text first, so that a type this crate does not model is kept
        // byte for byte.
        let raw = Box::<RawValue>::deserialize(d)?;
        let text = raw.get();
        let head: TypeOnly<'_> = serde_json::from_str(text).map_err(|e| {
            D::Error::custom(format!(
                "request must be an object with a string `type`: {e}"
            ))
        })?;
        let request_type = head
            .request_type
            .ok_or_else(|| D::Error::missing_field("type"))?
            .into_owned();
        fn parse<'t, T: Deserialize<'t>, E: serde::de::Error>(
            text: &'t str,
            request_type: &str,
        ) -> Result<T, E> {
            serde_json::from_str(text)
                .map_err(|e| E::custom(format!("invalid {request_type}: {e}")))
        }
        Ok(match request_type.as_str() {
            types::LAUNCH => Request::Launch(parse(text, &request_type)?),
            types::INTENT => Request::Intent(parse(text, &request_type)?),
            types::SESSION_ENDED => Request::SessionEnded(parse(text, &request_type)?),
            types::SKILL_ENABLED => Request::SkillEnabled(parse(text, &request_type)?),
            types::SKILL_DISABLED => Request::SkillDisabled(parse(text, &request_type)?),
            types::SKILL_ACCOUNT_LINKED => Request::SkillAccountLinked(parse(text, &request_type)?),
            types::SKILL_PERMISSION_ACCEPTED => {
                Request::SkillPermissionAccepted(parse(text, &request_type)?)
            }
            types::SKILL_PERMISSION_CHANGED => {
                Request::SkillPermissionChanged(parse(text, &request_type)?)
            }
            types::CONNECTIONS_RESPONSE => {
                Request::ConnectionsResponse(parse(text, &request_type)?)
            }
            types::APL_USER_EVENT => Request::AplUserEvent(parse(text, &request_type)?),
            _ => Request::Other(RawRequest { request_type, raw }),
        })
    }
}

/// A `LaunchRequest`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LaunchRequest {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `locale`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Fields this crate does not model yet (Alexa adds some now and then), kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A `SessionEndedRequest`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEndedRequest {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `locale`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `reason`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SessionEndedReason>,
    /// `error`, when `reason` is `ERROR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SessionEndedError>,
    /// Fields this crate does not model yet, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SessionEndedReason {
    /// `USER_INITIATED`: the user said "exit".
    UserInitiated,
    /// `ERROR`: see [`SessionEndedRequest::error`].
    Error,
    /// `EXCEEDED_MAX_REPROMPTS`: the user did not answer.
    ExceededMaxReprompts,
    /// Any value this crate does not know.
    #[serde(other)]
    Unknown,
}

/// `request.error` of a `SessionEndedRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionEndedError {
    /// `type`, e.g. `INVALID_RESPONSE`.
    #[serde(rename = "type", default)]
    pub error_type: String,
    /// `message`
    #[serde(default)]
    pub message: String,
}

/// `Connections.Response`: the result of a `Connections.SendRequest` (in-skill purchases,
/// tasks such as scheduling).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionsResponse {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `locale`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `name`: the request's name, e.g. `Buy`, `Upsell`, `Cancel`.
    #[serde(default)]
    pub name: String,
    /// `status`
    #[serde(default)]
    pub status: ConnectionsStatus,
    /// `payload`, as the connection defines it (e.g. `purchaseResult`, `productId`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<Value>,
    /// `token`: what the skill passed with the request, to correlate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Fields this crate does not model yet, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `status` of a `Connections.Response`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionsStatus {
    /// `code`, an HTTP-like status as text (`"200"`).
    #[serde(default)]
    pub code: String,
    /// `message`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `Alexa.Presentation.APL.UserEvent`: an APL document's `SendEvent` command.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AplUserEvent {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `locale`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `token`: the token of the `RenderDocument` that sent it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// `arguments` of the `SendEvent` command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub arguments: Vec<Value>,
    /// `source`: the component that sent it (`type`, `handler`, `id`, `value`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Value>,
    /// `components`: values of the document's components that asked to be sent.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub components: Map<String, Value>,
    /// Fields this crate does not model yet, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
