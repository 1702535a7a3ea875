//! Skill events (`AlexaSkillEvent.*`): enabled, disabled, account linked, permissions.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// `AlexaSkillEvent.SkillEnabled`: sent when a user enables the skill (if the skill subscribes
/// to skill events in its manifest).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillEventRequest {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `eventCreationTime`: when the event happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_creation_time: Option<String>,
    /// `eventPublishingTime`: when Alexa sent it (events can arrive late).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_publishing_time: Option<String>,
    /// Fields this crate does not model yet, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An `AlexaSkillEvent.*` request with a `body`: the fields every skill event has, and the
/// event's own body `B` ([`SkillDisabledRequest`], [`SkillAccountLinkedRequest`],
/// [`SkillPermissionRequest`]). `Debug` shows neither the body's secrets nor `extra`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillEvent<B> {
    /// `requestId`
    #[serde(default)]
    pub request_id: String,
    /// `timestamp` (ISO 8601)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `eventCreationTime`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_creation_time: Option<String>,
    /// `eventPublishingTime`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_publishing_time: Option<String>,
    /// `body`
    #[serde(default)]
    pub body: B,
    /// Fields this crate does not model yet, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl<B: fmt::Debug> fmt::Debug for SkillEvent<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SkillEvent")
            .field("request_id", &self.request_id)
            .field("timestamp", &self.timestamp)
            .field("event_creation_time", &self.event_creation_time)
            .field("event_publishing_time", &self.event_publishing_time)
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

/// `AlexaSkillEvent.SkillDisabled`: the user disabled the skill. A skill should delete what it
/// keeps about the user unless `userInformationPersistenceStatus` says Alexa kept their ID.
pub type SkillDisabledRequest = SkillEvent<SkillDisabledBody>;

/// `body` of `AlexaSkillEvent.SkillDisabled`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillDisabledBody {
    /// `userInformationPersistenceStatus`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_information_persistence_status: Option<UserInformationPersistenceStatus>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Whether Alexa keeps the user ID after the skill was disabled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserInformationPersistenceStatus {
    /// `PERSISTED`: the user ID stays the same if the user enables the skill again.
    Persisted,
    /// `NOT_PERSISTED`: re-enabling gives a new user ID; the old one is gone for good.
    NotPersisted,
    /// Any value this crate does not know.
    #[serde(other)]
    Unknown,
}

/// `AlexaSkillEvent.SkillAccountLinked`: the user linked their account; `body.accessToken` is
/// the new token (never shown by `Debug`).
pub type SkillAccountLinkedRequest = SkillEvent<AccountLinkedBody>;

/// `body` of `AlexaSkillEvent.SkillAccountLinked`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountLinkedBody {
    /// `accessToken`: the linked account's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for AccountLinkedBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountLinkedBody")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// `AlexaSkillEvent.SkillPermissionAccepted` and `AlexaSkillEvent.SkillPermissionChanged`.
pub type SkillPermissionRequest = SkillEvent<PermissionBody>;

/// `body` of the permission events: the permissions now granted.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionBody {
    /// `acceptedPermissions`: account-level scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_permissions: Vec<PermissionScope>,
    /// `acceptedPersonPermissions`: person-level scopes (recognised voices).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accepted_person_permissions: Vec<PermissionScope>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One granted permission.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionScope {
    /// `scope`, e.g. `alexa::profile:email:read`.
    #[serde(default)]
    pub scope: String,
}
