//! Directives a response carries: dialog management, dynamic entities, APL documents, and any
//! other directive as JSON.
//!
//! Each typed directive keeps fields this crate does not model in its `extra` map, and any other
//! directive type is [`Directive::Other`], so a skill can send what Alexa adds before this crate
//! knows it.
//!
//! ```
//! use alexa_skill_model::directive::{Directive, ElicitSlot};
//!
//! let d = Directive::ElicitSlot(ElicitSlot::new("drink"));
//! assert_eq!(serde_json::to_value(&d)?,
//!            serde_json::json!({"type": "Dialog.ElicitSlot", "slotToElicit": "drink"}));
//! let back: Directive = serde_json::from_value(serde_json::to_value(&d)?)?;
//! assert_eq!(back, d);
//! # Ok::<(), serde_json::Error>(())
//! ```

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::request::Intent;

/// A directive in a response's `directives`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Directive {
    /// `Dialog.Delegate`: let Alexa continue the dialog with the dialog model.
    Delegate(Delegate),
    /// `Dialog.ElicitSlot`: ask the user for a slot value.
    ElicitSlot(ElicitSlot),
    /// `Dialog.ConfirmSlot`: ask the user to confirm a slot value.
    ConfirmSlot(ConfirmSlot),
    /// `Dialog.ConfirmIntent`: ask the user to confirm the whole intent.
    ConfirmIntent(ConfirmIntent),
    /// `Dialog.UpdateDynamicEntities`: add (or clear) slot values for this session.
    UpdateDynamicEntities(UpdateDynamicEntities),
    /// `Alexa.Presentation.APL.RenderDocument`: show an APL document.
    RenderDocument(RenderDocument),
    /// Any other directive (`AudioPlayer.Play`, `Connections.SendRequest`, ...), as JSON with its
    /// `type`.
    Other(Value),
}

/// The directive types [`Directive`] has a variant for.
pub mod types {
    /// `Dialog.Delegate`
    pub const DELEGATE: &str = "Dialog.Delegate";
    /// `Dialog.ElicitSlot`
    pub const ELICIT_SLOT: &str = "Dialog.ElicitSlot";
    /// `Dialog.ConfirmSlot`
    pub const CONFIRM_SLOT: &str = "Dialog.ConfirmSlot";
    /// `Dialog.ConfirmIntent`
    pub const CONFIRM_INTENT: &str = "Dialog.ConfirmIntent";
    /// `Dialog.UpdateDynamicEntities`
    pub const UPDATE_DYNAMIC_ENTITIES: &str = "Dialog.UpdateDynamicEntities";
    /// `Alexa.Presentation.APL.RenderDocument`
    pub const RENDER_DOCUMENT: &str = "Alexa.Presentation.APL.RenderDocument";
}

impl Directive {
    /// The directive's `type`.
    pub fn directive_type(&self) -> &str {
        match self {
            Directive::Delegate(_) => types::DELEGATE,
            Directive::ElicitSlot(_) => types::ELICIT_SLOT,
            Directive::ConfirmSlot(_) => types::CONFIRM_SLOT,
            Directive::ConfirmIntent(_) => types::CONFIRM_INTENT,
            Directive::UpdateDynamicEntities(_) => types::UPDATE_DYNAMIC_ENTITIES,
            Directive::RenderDocument(_) => types::RENDER_DOCUMENT,
            Directive::Other(v) => v.get("type").and_then(Value::as_str).unwrap_or(""),
        }
    }
}

/// `Dialog.Delegate`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delegate {
    /// `updatedIntent`: the intent with slot values the skill changed or filled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_intent: Option<Intent>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Dialog.ElicitSlot`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitSlot {
    /// `slotToElicit`
    pub slot_to_elicit: String,
    /// `updatedIntent`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_intent: Option<Intent>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ElicitSlot {
    /// Elicit `slot`.
    pub fn new(slot: impl Into<String>) -> Self {
        Self {
            slot_to_elicit: slot.into(),
            ..Self::default()
        }
    }
}

/// `Dialog.ConfirmSlot`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmSlot {
    /// `slotToConfirm`
    pub slot_to_confirm: String,
    /// `updatedIntent`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_intent: Option<Intent>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ConfirmSlot {
    /// Confirm `slot`.
    pub fn new(slot: impl Into<String>) -> Self {
        Self {
            slot_to_confirm: slot.into(),
            ..Self::default()
        }
    }
}

/// `Dialog.ConfirmIntent`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmIntent {
    /// `updatedIntent`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_intent: Option<Intent>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `Dialog.UpdateDynamicEntities`
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDynamicEntities {
    /// `updateBehavior`
    pub update_behavior: UpdateBehavior,
    /// `types`: the slot types and their values for this session (absent to clear).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub types: Vec<DynamicSlotType>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UpdateDynamicEntities {
    /// Replace the session's dynamic entities with `types`.
    pub fn replace(types: Vec<DynamicSlotType>) -> Self {
        Self {
            update_behavior: UpdateBehavior::Replace,
            types,
            extra: Map::new(),
        }
    }

    /// Clear the session's dynamic entities.
    pub fn clear() -> Self {
        Self {
            update_behavior: UpdateBehavior::Clear,
            types: Vec::new(),
            extra: Map::new(),
        }
    }
}

/// `updateBehavior` of dynamic entities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UpdateBehavior {
    /// `REPLACE`
    Replace,
    /// `CLEAR`
    Clear,
}

/// A slot type of dynamic entities.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicSlotType {
    /// `name`: the slot type's name in the interaction model.
    pub name: String,
    /// `values`
    #[serde(default)]
    pub values: Vec<DynamicEntity>,
}

/// A value of a dynamic slot type.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicEntity {
    /// `id`
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// `name`: the value and its synonyms.
    pub name: EntityName,
}

/// `name` of a dynamic entity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityName {
    /// `value`
    pub value: String,
    /// `synonyms`
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synonyms: Vec<String>,
}

/// `Alexa.Presentation.APL.RenderDocument`
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RenderDocument {
    /// `token`: names the document, so later commands and user events refer to it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token: String,
    /// `document`: the APL document as JSON (or `{"type": "Link", "src": "doc://..."}`).
    pub document: Value,
    /// `datasources`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasources: Option<Value>,
    /// `sources`
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Value>,
    /// Fields this crate does not model yet.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl RenderDocument {
    /// Render `document` under `token`.
    pub fn new(token: impl Into<String>, document: Value) -> Self {
        Self {
            token: token.into(),
            document,
            ..Self::default()
        }
    }
}

/// The typed directives, borrowed, for serialization with their `type` tag.
#[derive(Serialize)]
#[serde(tag = "type")]
enum Known<'a> {
    #[serde(rename = "Dialog.Delegate")]
    Delegate(&'a Delegate),
    #[serde(rename = "Dialog.ElicitSlot")]
    ElicitSlot(&'a ElicitSlot),
    #[serde(rename = "Dialog.ConfirmSlot")]
    ConfirmSlot(&'a ConfirmSlot),
    #[serde(rename = "Dialog.ConfirmIntent")]
    ConfirmIntent(&'a ConfirmIntent),
    #[serde(rename = "Dialog.UpdateDynamicEntities")]
    UpdateDynamicEntities(&'a UpdateDynamicEntities),
    #[serde(rename = "Alexa.Presentation.APL.RenderDocument")]
    RenderDocument(&'a RenderDocument),
}

impl Serialize for Directive {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Directive::Delegate(d) => Known::Delegate(d).serialize(s),
            Directive::ElicitSlot(d) => Known::ElicitSlot(d).serialize(s),
            Directive::ConfirmSlot(d) => Known::ConfirmSlot(d).serialize(s),
            Directive::ConfirmIntent(d) => Known::ConfirmIntent(d).serialize(s),
            Directive::UpdateDynamicEntities(d) => Known::UpdateDynamicEntities(d).serialize(s),
            Directive::RenderDocument(d) => Known::RenderDocument(d).serialize(s),
            Directive::Other(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Directive {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let Some(kind) = value.get("type").and_then(Value::as_str).map(str::to_owned) else {
            return Err(D::Error::custom("a directive needs a string `type`"));
        };
        fn typed<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            mut value: Value,
            kind: &str,
        ) -> Result<T, E> {
            if let Value::Object(m) = &mut value {
                m.remove("type");
            }
            serde_json::from_value(value).map_err(|e| E::custom(format!("invalid {kind}: {e}")))
        }
        Ok(match kind.as_str() {
            types::DELEGATE => Directive::Delegate(typed(value, &kind)?),
            types::ELICIT_SLOT => Directive::ElicitSlot(typed(value, &kind)?),
            types::CONFIRM_SLOT => Directive::ConfirmSlot(typed(value, &kind)?),
            types::CONFIRM_INTENT => Directive::ConfirmIntent(typed(value, &kind)?),
            types::UPDATE_DYNAMIC_ENTITIES => {
                Directive::UpdateDynamicEntities(typed(value, &kind)?)
            }
            types::RENDER_DOCUMENT => Directive::RenderDocument(typed(value, &kind)?),
            _ => Directive::Other(value),
        })
    }
}

impl From<Value> for Directive {
    /// A directive given as JSON: typed when its `type` is one this crate models (and it
    /// parses), else kept as [`Directive::Other`].
    fn from(value: Value) -> Self {
        serde_json::from_value(value.clone()).unwrap_or(Directive::Other(value))
    }
}

macro_rules! from_typed {
    ($($t:ident),*) => {$(
        impl From<$t> for Directive {
            fn from(d: $t) -> Self {
                Directive::$t(d)
            }
        }
    )*};
}
from_typed!(
    Delegate,
    ElicitSlot,
    ConfirmSlot,
    ConfirmIntent,
    UpdateDynamicEntities,
    RenderDocument
);
