//! Key generators: which part of an Alexa request names a user's stored attributes.
//!
//! The official ASK SDKs key persistent attributes by user ID by default, and offer device ID
//! and person ID (recognised speaker, falling back to the user). The same three are here, plus
//! any closure `Fn(&RequestEnvelope) -> Result<String, SkillError>`. A key that only an async
//! lookup can give (a linked account's subject) is set per turn with
//! [`Turn::use_persistence_key`](crate::Turn::use_persistence_key).

use std::fmt;

use crate::envelope::RequestEnvelope;
use crate::error::SkillError;

/// Field path of the user ID, as named in errors.
pub const USER_ID_FIELD: &str = "context.System.user.userId";
/// Field path of the device ID, as named in errors.
pub const DEVICE_ID_FIELD: &str = "context.System.device.deviceId";

/// Makes the storage key for a request.
///
/// ```
/// use skill_builder::{KeyGenerator, SkillError, UserIdKey};
/// use skill_builder::envelope::RequestEnvelope;
/// use skill_builder::keys::{DEVICE_ID_FIELD, USER_ID_FIELD};
///
/// let envelope: RequestEnvelope = serde_json::from_str(r#"{"version":"1.0","context":{"System":{
///     "user":{"userId":"amzn1.ask.account.ABC"},
///     "device":{"deviceId":"amzn1.ask.device.XYZ","supportedInterfaces":{}}}},
///     "request":{"type":"LaunchRequest"}}"#).unwrap();
/// assert_eq!(UserIdKey.key(&envelope)?, "amzn1.ask.account.ABC");
///
/// // A custom key: one record per skill user and device.
/// let per_device = |e: &RequestEnvelope| -> Result<String, SkillError> {
///     let user = e.user_id().ok_or(SkillError::MissingKeySource { field: USER_ID_FIELD })?;
///     let device = e.device_id().ok_or(SkillError::MissingKeySource { field: DEVICE_ID_FIELD })?;
///     Ok(format!("{user}#{device}"))
/// };
/// assert_eq!(per_device.key(&envelope)?, "amzn1.ask.account.ABC#amzn1.ask.device.XYZ");
/// # Ok::<(), SkillError>(())
/// ```
pub trait KeyGenerator: Send + Sync {
    /// The key for this request, or [`SkillError::MissingKeySource`] naming the absent field.
    ///
    /// # Errors
    /// When the request lacks what the key is made of.
    fn key(&self, envelope: &RequestEnvelope) -> Result<String, SkillError>;
}

impl<F> KeyGenerator for F
where
    F: Fn(&RequestEnvelope) -> Result<String, SkillError> + Send + Sync,
{
    fn key(&self, envelope: &RequestEnvelope) -> Result<String, SkillError> {
        self(envelope)
    }
}

impl fmt::Debug for dyn KeyGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyGenerator")
    }
}

/// Keys by `context.System.user.userId`: the ASK SDKs' default. One record per Alexa account
/// and skill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserIdKey;

impl KeyGenerator for UserIdKey {
    fn key(&self, envelope: &RequestEnvelope) -> Result<String, SkillError> {
        envelope
            .user_id()
            .map(str::to_owned)
            .ok_or(SkillError::MissingKeySource {
                field: USER_ID_FIELD,
            })
    }
}

/// Keys by `context.System.device.deviceId`: one record per Echo device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceIdKey;

impl KeyGenerator for DeviceIdKey {
    fn key(&self, envelope: &RequestEnvelope) -> Result<String, SkillError> {
        envelope
            .device_id()
            .map(str::to_owned)
            .ok_or(SkillError::MissingKeySource {
                field: DEVICE_ID_FIELD,
            })
    }
}

/// Keys by `context.System.person.personId` when Alexa recognised the speaker, else by user ID,
/// as the official SDKs' person-ID generator does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonIdKey;

impl KeyGenerator for PersonIdKey {
    fn key(&self, envelope: &RequestEnvelope) -> Result<String, SkillError> {
        match envelope.person_id() {
            Some(person) => Ok(person.to_owned()),
            None => UserIdKey.key(envelope),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(system: serde_json::Value) -> RequestEnvelope {
        serde_json::from_value(serde_json::json!({
            "version": "1.0", "context": {"System": system}, "request": {"type": "LaunchRequest"}
        }))
        .unwrap()
    }

    #[test]
    fn each_generator_reads_its_field_or_names_the_missing_one() {
        let full = envelope(serde_json::json!({
            "user": {"userId": "u"}, "device": {"deviceId": "d", "supportedInterfaces": {}},
            "person": {"personId": "p"}
        }));
        assert_eq!(UserIdKey.key(&full).unwrap(), "u");
        assert_eq!(DeviceIdKey.key(&full).unwrap(), "d");
        assert_eq!(PersonIdKey.key(&full).unwrap(), "p");
        let user_only = envelope(serde_json::json!({"user": {"userId": "u"}}));
        assert_eq!(PersonIdKey.key(&user_only).unwrap(), "u");
        assert!(matches!(
            DeviceIdKey.key(&user_only),
            Err(SkillError::MissingKeySource {
                field: DEVICE_ID_FIELD
            })
        ));
        let empty = envelope(serde_json::json!({"user": {"userId": ""}}));
        assert!(matches!(
            UserIdKey.key(&empty),
            Err(SkillError::MissingKeySource {
                field: USER_ID_FIELD
            })
        ));
    }
}
