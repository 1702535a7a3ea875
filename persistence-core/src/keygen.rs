//! Key generators: which part of an Alexa request names the stored attributes.
//!
//! The official ASK SDKs key persistent attributes by user ID by default, and offer device ID
//! and person ID (recognised speaker, falling back to the user). The same three are here, plus
//! any closure. They read a [`KeySource`]: the minimal [`envelope`] model in this crate, or the
//! skill builder's full request envelope.

use std::fmt;

use crate::{Error, Result};

/// The IDs in a request that a key can be made from.
///
/// Implemented by [`envelope::RequestEnvelope`] here and by the skill builder's full envelope.
/// An empty string counts as absent.
pub trait KeySource {
    /// `context.System.user.userId`
    fn user_id(&self) -> Option<&str>;
    /// `context.System.device.deviceId`
    fn device_id(&self) -> Option<&str>;
    /// `context.System.person.personId` (present when Alexa recognised the speaker)
    fn person_id(&self) -> Option<&str>;
}

/// Makes the storage key for a request.
///
/// Closures `Fn(&dyn KeySource) -> Result<String>` are key generators too:
///
/// ```
/// use persistence_core::{envelope::RequestEnvelope, Error, KeyGenerator, KeySource, UserIdKey};
///
/// let json = r#"{"version":"1.0","context":{"System":{
///     "user":{"userId":"amzn1.ask.account.ABC"},
///     "device":{"deviceId":"amzn1.ask.device.XYZ","supportedInterfaces":{}}}},
///     "request":{"type":"LaunchRequest"}}"#;
/// let envelope: RequestEnvelope = serde_json::from_str(json).unwrap();
///
/// assert_eq!(UserIdKey.key(&envelope)?, "amzn1.ask.account.ABC");
///
/// // A custom key: one record per skill user and device.
/// let per_device = |src: &dyn KeySource| -> Result<String, Error> {
///     let user = src.user_id().ok_or(Error::MissingKeySource { field: "context.System.user.userId" })?;
///     let device = src.device_id().ok_or(Error::MissingKeySource { field: "context.System.device.deviceId" })?;
///     Ok(format!("{user}#{device}"))
/// };
/// assert_eq!(per_device.key(&envelope)?, "amzn1.ask.account.ABC#amzn1.ask.device.XYZ");
/// # Ok::<(), Error>(())
/// ```
pub trait KeyGenerator: Send + Sync {
    /// The key for this request, or [`Error::MissingKeySource`] naming the absent field.
    fn key(&self, source: &dyn KeySource) -> Result<String>;
}

impl<F> KeyGenerator for F
where
    F: Fn(&dyn KeySource) -> Result<String> + Send + Sync,
{
    fn key(&self, source: &dyn KeySource) -> Result<String> {
        self(source)
    }
}

/// Field path of the user ID, as named in errors.
pub const USER_ID_FIELD: &str = "context.System.user.userId";
/// Field path of the device ID, as named in errors.
pub const DEVICE_ID_FIELD: &str = "context.System.device.deviceId";

/// Keys by `context.System.user.userId`: the ASK SDKs' default. One record per Alexa account
/// and skill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UserIdKey;

impl KeyGenerator for UserIdKey {
    fn key(&self, source: &dyn KeySource) -> Result<String> {
        source
            .user_id()
            .map(str::to_owned)
            .ok_or(Error::MissingKeySource {
                field: USER_ID_FIELD,
            })
    }
}

/// Keys by `context.System.device.deviceId`: one record per Echo device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeviceIdKey;

impl KeyGenerator for DeviceIdKey {
    fn key(&self, source: &dyn KeySource) -> Result<String> {
        source
            .device_id()
            .map(str::to_owned)
            .ok_or(Error::MissingKeySource {
                field: DEVICE_ID_FIELD,
            })
    }
}

/// Keys by `context.System.person.personId` when Alexa recognised the speaker, else by user ID,
/// as the official SDKs' person-ID generator does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersonIdKey;

impl KeyGenerator for PersonIdKey {
    fn key(&self, source: &dyn KeySource) -> Result<String> {
        match source.person_id() {
            Some(person) => Ok(person.to_owned()),
            None => UserIdKey.key(source),
        }
    }
}

/// A boxed key generator, as stored by builders.
pub type BoxKeyGenerator = Box<dyn KeyGenerator>;

impl fmt::Debug for dyn KeyGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyGenerator")
    }
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().filter(|s| !s.is_empty())
}

pub mod envelope {
    //! The few request-envelope fields key generators read, as serde types that accept a whole
    //! Alexa request (unknown fields are ignored, absent ones are `None`).
    //!
    //! ```
    //! use persistence_core::{envelope::RequestEnvelope, KeySource};
    //! let e: RequestEnvelope = serde_json::from_str(r#"{"context":{"System":{"person":{"personId":"amzn1.ask.person.P"}}}}"#).unwrap();
    //! assert_eq!(e.person_id(), Some("amzn1.ask.person.P"));
    //! assert_eq!(e.user_id(), None);
    //! ```

    use serde::Deserialize;

    use super::{KeySource, non_empty};

    /// The parts of an Alexa request envelope that carry IDs.
    #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct RequestEnvelope {
        /// `context`
        #[serde(default)]
        pub context: Option<Context>,
    }

    /// `context`
    #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
    pub struct Context {
        /// `context.System`
        #[serde(rename = "System", default)]
        pub system: Option<System>,
    }

    /// `context.System`
    #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
    pub struct System {
        /// `context.System.user`
        #[serde(default)]
        pub user: Option<User>,
        /// `context.System.device`
        #[serde(default)]
        pub device: Option<Device>,
        /// `context.System.person`
        #[serde(default)]
        pub person: Option<Person>,
    }

    /// `context.System.user`
    #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct User {
        /// `userId`
        #[serde(default)]
        pub user_id: Option<String>,
    }

    /// `context.System.device`
    #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct Device {
        /// `deviceId`
        #[serde(default)]
        pub device_id: Option<String>,
    }

    /// `context.System.person`
    #[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
    #[serde(rename_all = "camelCase")]
    pub struct Person {
        /// `personId`
        #[serde(default)]
        pub person_id: Option<String>,
    }

    impl RequestEnvelope {
        fn system(&self) -> Option<&System> {
            self.context.as_ref()?.system.as_ref()
        }
    }

    impl KeySource for RequestEnvelope {
        fn user_id(&self) -> Option<&str> {
            non_empty(&self.system()?.user.as_ref()?.user_id)
        }
        fn device_id(&self) -> Option<&str> {
            non_empty(&self.system()?.device.as_ref()?.device_id)
        }
        fn person_id(&self) -> Option<&str> {
            non_empty(&self.system()?.person.as_ref()?.person_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::envelope::RequestEnvelope;
    use super::*;

    fn env(json: &str) -> RequestEnvelope {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn person_falls_back_to_user() {
        let e = env(r#"{"context":{"System":{"user":{"userId":"U"}}}}"#);
        assert_eq!(PersonIdKey.key(&e).unwrap(), "U");
        let e = env(r#"{"context":{"System":{"user":{"userId":"U"},"person":{"personId":"P"}}}}"#);
        assert_eq!(PersonIdKey.key(&e).unwrap(), "P");
    }

    #[test]
    fn missing_ids_name_the_field() {
        for json in [
            "{}",
            r#"{"context":{}}"#,
            r#"{"context":{"System":{}}}"#,
            r#"{"context":{"System":{"device":{}}}}"#,
            r#"{"context":{"System":{"device":{"deviceId":""}}}}"#,
        ] {
            let e = env(json);
            match DeviceIdKey.key(&e) {
                Err(Error::MissingKeySource { field }) => assert_eq!(field, DEVICE_ID_FIELD),
                other => panic!("{json}: {other:?}"),
            }
            match PersonIdKey.key(&e) {
                Err(Error::MissingKeySource { field }) => assert_eq!(field, USER_ID_FIELD),
                other => panic!("{json}: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let e = env(
            r#"{"version":"1.0","session":{"new":true},"context":{"System":{"application":{"applicationId":"A"},
            "user":{"userId":"U","accessToken":"T","permissions":{}},"apiEndpoint":"https://api"},"Viewport":{}},
            "request":{"type":"IntentRequest","intent":{"name":"X"}}}"#,
        );
        assert_eq!(UserIdKey.key(&e).unwrap(), "U");
    }
}
