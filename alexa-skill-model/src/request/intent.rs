//! `IntentRequest`: an intent, its slots and their entity resolutions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
    /// Fields this crate does not model yet, kept as they came.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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
