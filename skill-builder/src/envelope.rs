//! The request envelope Alexa sends to a skill, as serde types.
//!
//! Field names follow Alexa's JSON exactly (`camelCase`, `context.System`). Unknown fields are
//! ignored, absent optional ones are `None` or empty, and a request type this crate does not
//! model is kept whole as [`Request::Other`] rather than refused.
//!
//! IDs and tokens never appear in full in `Debug` output: user, person and device IDs are shown
//! as a [`RedactedKey`], access tokens not at all.
//!
//! ```
//! use skill_builder::envelope::{Request, RequestEnvelope};
//! use persistence_core::KeySource;
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

use std::collections::BTreeMap;
use std::fmt;

use persistence_core::{Attributes, KeySource, RedactedKey, json_type_name};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

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
    pub fn session_attributes(&self) -> Option<&Attributes> {
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

impl KeySource for RequestEnvelope {
    /// `context.System.user.userId`.
    fn user_id(&self) -> Option<&str> {
        non_empty(&self.context.system.user.as_ref()?.user_id)
    }
    /// `context.System.device.deviceId`.
    fn device_id(&self) -> Option<&str> {
        non_empty(&self.context.system.device.as_ref()?.device_id)
    }
    /// `context.System.person.personId`.
    fn person_id(&self) -> Option<&str> {
        non_empty(&self.context.system.person.as_ref()?.person_id)
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
    pub attributes: Option<Attributes>,
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
            .field("user_id", &RedactedKey::new(&self.user_id))
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
            .field("device_id", &RedactedKey::new(&self.device_id))
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
            .field("person_id", &RedactedKey::new(&self.person_id))
            .field("access_token", &secret(&self.access_token))
            .finish()
    }
}

/// `request`: what Alexa asks the skill, by `type`.
///
/// In JSON it is one object with a `type` field; the variants hold the rest. `Debug` of a
/// request kept raw ([`Request::Other`]) shows its type and field names, never their values
/// (which can hold tokens and IDs).
#[derive(Clone, PartialEq)]
pub enum Request {
    /// `LaunchRequest`: "Alexa, open …".
    Launch(LaunchRequest),
    /// `IntentRequest`: an utterance mapped to an intent.
    Intent(IntentRequest),
    /// `SessionEndedRequest`: the session ended (user exit, error, no answer to a reprompt).
    SessionEnded(SessionEndedRequest),
    /// Any other request type (`CanFulfillIntentRequest`, `Alexa.Presentation.APL.UserEvent`,
    /// `AlexaSkillEvent.SkillEnabled`, ...): kept as it came, so a handler can read it.
    Other {
        /// The request's `type`.
        request_type: String,
        /// The whole `request` object, `type` included.
        raw: Value,
    },
}

impl Default for Request {
    fn default() -> Self {
        Request::Launch(LaunchRequest::default())
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Launch(r) => f.debug_tuple("Launch").field(r).finish(),
            Request::Intent(r) => f.debug_tuple("Intent").field(r).finish(),
            Request::SessionEnded(r) => f.debug_tuple("SessionEnded").field(r).finish(),
            Request::Other { request_type, raw } => {
                let fields: Vec<&str> = match raw {
                    Value::Object(m) => m.keys().map(String::as_str).collect(),
                    _ => Vec::new(),
                };
                f.debug_struct("Other")
                    .field("request_type", request_type)
                    .field("fields", &fields)
                    .finish_non_exhaustive()
            }
        }
    }
}

impl Request {
    /// The `type` of the request.
    pub fn request_type(&self) -> &str {
        match self {
            Request::Launch(_) => "LaunchRequest",
            Request::Intent(_) => "IntentRequest",
            Request::SessionEnded(_) => "SessionEndedRequest",
            Request::Other { request_type, .. } => request_type,
        }
    }

    /// `requestId` (empty when absent).
    pub fn request_id(&self) -> &str {
        match self {
            Request::Launch(r) => &r.request_id,
            Request::Intent(r) => &r.request_id,
            Request::SessionEnded(r) => &r.request_id,
            Request::Other { raw, .. } => {
                raw.get("requestId").and_then(Value::as_str).unwrap_or("")
            }
        }
    }

    /// `locale`, e.g. `en-US`.
    pub fn locale(&self) -> Option<&str> {
        match self {
            Request::Launch(r) => r.locale.as_deref(),
            Request::Intent(r) => r.locale.as_deref(),
            Request::SessionEnded(r) => r.locale.as_deref(),
            Request::Other { raw, .. } => raw.get("locale").and_then(Value::as_str),
        }
    }
}

/// The known request types, borrowed, for serialization with their `type` tag.
#[derive(Serialize)]
#[serde(tag = "type")]
#[allow(clippy::enum_variant_names)] // the variant names are the JSON tags
enum KnownRequestRef<'a> {
    LaunchRequest(&'a LaunchRequest),
    IntentRequest(&'a IntentRequest),
    SessionEndedRequest(&'a SessionEndedRequest),
}

impl Serialize for Request {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Request::Launch(r) => KnownRequestRef::LaunchRequest(r).serialize(s),
            Request::Intent(r) => KnownRequestRef::IntentRequest(r).serialize(s),
            Request::SessionEnded(r) => KnownRequestRef::SessionEndedRequest(r).serialize(s),
            Request::Other { request_type, raw } => {
                let mut map = match raw {
                    Value::Object(map) => map.clone(),
                    _ => Map::new(),
                };
                map.insert("type".into(), Value::String(request_type.clone()));
                map.serialize(s)
            }
        }
    }
}

impl<'de> Deserialize<'de> for Request {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        let request_type = match raw.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "request.type must be a string, not {}",
                    json_type_name(other)
                )));
            }
            None => return Err(D::Error::missing_field("type")),
        };
        let parsed = match request_type.as_str() {
            "LaunchRequest" => serde_json::from_value(raw).map(Request::Launch),
            "IntentRequest" => serde_json::from_value(raw).map(Request::Intent),
            "SessionEndedRequest" => serde_json::from_value(raw).map(Request::SessionEnded),
            _ => return Ok(Request::Other { request_type, raw }),
        };
        parsed.map_err(|e| D::Error::custom(format!("invalid {request_type}: {e}")))
    }
}

/// A `LaunchRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
}

/// An `IntentRequest`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntentRequest {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `locale`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// `dialogState`, for skills with a dialog model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dialog_state: Option<DialogState>,
    /// `intent`
    pub intent: Intent,
}

/// `request.intent`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Intent {
    /// `name`, e.g. `AMAZON.HelpIntent`.
    pub name: String,
    /// `confirmationStatus`
    #[serde(default)]
    pub confirmation_status: ConfirmationStatus,
    /// `slots`, by slot name. Alexa sends every slot of the intent, filled or not.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slots: BTreeMap<String, Slot>,
}

/// One slot of an intent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Slot {
    /// `name`
    #[serde(default)]
    pub name: String,
    /// `value`: what the user said, absent when the slot was not filled. For `AMAZON.NUMBER`
    /// Alexa sends `"?"` when it heard something that is not a number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `confirmationStatus`
    #[serde(default)]
    pub confirmation_status: ConfirmationStatus,
    /// `source`, e.g. `USER`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// `resolutions`: entity resolution against the slot type's values and synonyms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolutions: Option<Resolutions>,
    /// `slotValue`: the newer structured value (multi-value slots), kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot_value: Option<Value>,
}

impl Slot {
    /// A filled slot, as a test or tool would build it.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Slot {
            name: name.into(),
            value: Some(value.into()),
            ..Slot::default()
        }
    }

    /// The spoken value; `None` when absent or empty.
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref().filter(|v| !v.is_empty())
    }

    /// The first value an authority matched (`ER_SUCCESS_MATCH`): the canonical value of the
    /// slot type that the spoken value (or a synonym of it) resolved to.
    pub fn resolved(&self) -> Option<&ResolutionValue> {
        self.resolutions
            .as_ref()?
            .resolutions_per_authority
            .iter()
            .filter(|r| r.status.code == ResolutionStatus::SUCCESS_MATCH)
            .find_map(|r| r.values.first())
            .map(|w| &w.value)
    }

    /// The canonical value when entity resolution matched, else the spoken value.
    pub fn resolved_or_spoken(&self) -> Option<&str> {
        match self.resolved() {
            Some(v) if !v.name.is_empty() => Some(&v.name),
            _ => self.value(),
        }
    }
}

/// `slot.resolutions`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolutions {
    /// `resolutionsPerAuthority`
    #[serde(default)]
    pub resolutions_per_authority: Vec<Resolution>,
}

/// One authority's entity resolution.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution {
    /// `authority`, e.g. `amzn1.er-authority.echo-sdk.<skill-id>.DrinkType`.
    #[serde(default)]
    pub authority: String,
    /// `status`
    #[serde(default)]
    pub status: ResolutionStatus,
    /// `values`, best first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<ResolutionValueWrapper>,
}

/// `resolution.status`
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionStatus {
    /// `code`: `ER_SUCCESS_MATCH`, `ER_SUCCESS_NO_MATCH`, `ER_ERROR_TIMEOUT`,
    /// `ER_ERROR_EXCEPTION`.
    #[serde(default)]
    pub code: String,
}

impl ResolutionStatus {
    /// The code of a successful match.
    pub const SUCCESS_MATCH: &'static str = "ER_SUCCESS_MATCH";
    /// The code when no value matched.
    pub const SUCCESS_NO_MATCH: &'static str = "ER_SUCCESS_NO_MATCH";
}

/// `{"value": {...}}`, as each resolution value is wrapped in Alexa's JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionValueWrapper {
    /// `value`
    pub value: ResolutionValue,
}

/// A resolved slot value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolutionValue {
    /// `name`: the canonical value.
    #[serde(default)]
    pub name: String,
    /// `id`: the value's ID in the slot type, if it has one.
    #[serde(default)]
    pub id: String,
}

/// `confirmationStatus` of an intent or slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ConfirmationStatus {
    /// `NONE`
    #[default]
    None,
    /// `CONFIRMED`
    Confirmed,
    /// `DENIED`
    Denied,
    /// Any value this crate does not know.
    #[serde(other)]
    Unknown,
}

/// `dialogState` of an `IntentRequest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DialogState {
    /// `STARTED`
    Started,
    /// `IN_PROGRESS`
    InProgress,
    /// `COMPLETED`
    Completed,
    /// Any value this crate does not know.
    #[serde(other)]
    Unknown,
}

/// A `SessionEndedRequest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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
