//! Testing skills built with `skill-builder`: scripted conversations without writing request
//! JSON ([`Conversation`]), and request files for `cargo lambda invoke` ([`requests`], binary
//! `alexa-request`). A dev-dependency: nothing here is for production builds.
//!
//! A [`Conversation`] plays one user on one device: it builds each request envelope (IDs,
//! session, context), carries the session attributes from one turn to the next while the
//! session lasts, starts a new session after the skill ends one (or on
//! [`new_session`](Conversation::new_session)), and reads what the skill stored.
//!
//! ```
//! use std::sync::Arc;
//! use serde::{Deserialize, Serialize};
//! use skill_builder::{SkillBuilder, Turn, TurnResult};
//! use skill_testkit::Conversation;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! struct Profile { name: Option<String> }
//!
//! async fn launch(turn: Turn) -> TurnResult {
//!     let speech = match &turn.state::<Profile>().await?.name {
//!         Some(name) => format!("Hello again, {name}!"),
//!         None => "Hello! What is your name?".to_owned(),
//!     };
//!     Ok(turn.speak(speech).reprompt("Your name?"))
//! }
//!
//! async fn name(turn: Turn) -> TurnResult {
//!     let name = turn.slot_value("name").unwrap_or("friend").to_owned();
//!     turn.state::<Profile>().await?.name = Some(name.clone());
//!     Ok(turn.speak(format!("Nice to meet you, {name}.")).end_session())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillBuilder::new()
//!     .skip_skill_id_check_for_local_testing()
//!     .with_persistence_adapter(Arc::new(persistence_memory::MemoryAdapter::new()))
//!     .on_launch(launch)
//!     .on_intent("NameIntent", name)
//!     .build()?;
//!
//! let mut talk = Conversation::new(&skill).user("amzn1.ask.account.TEST");
//! assert_eq!(talk.launch().await?.speech(), "Hello! What is your name?");
//! let turn = talk.intent("NameIntent").slot("name", "Ada").send().await?;
//! assert!(turn.ends_session());
//! assert_eq!(talk.stored_attributes().await?.unwrap()["name"], "Ada");
//!
//! talk.new_session();
//! assert_eq!(talk.launch().await?.speech(), "Hello again, Ada!");
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};
use skill_builder::carry::CARRY_ATTRIBUTE;
use skill_builder::envelope::{
    Application, ConfirmationStatus, Context, Device, DialogState, Intent, IntentRequest,
    LaunchRequest, Person, Request, RequestEnvelope, Resolution, ResolutionStatus, ResolutionValue,
    ResolutionValueWrapper, Resolutions, Session, SessionEndedReason, SessionEndedRequest, Slot,
    System, User,
};
use skill_builder::response::{Card, ResponseEnvelope};
use skill_builder::{Skill, SkillError};

pub mod requests;

/// The skill ID requests carry when the skill was built without one.
pub const TEST_SKILL_ID: &str = "amzn1.ask.skill.00000000-0000-0000-0000-000000000000";
/// The user ID of a conversation unless [`Conversation::user`] sets another.
pub const TEST_USER_ID: &str = "amzn1.ask.account.TESTUSER";
/// The device ID of a conversation unless [`Conversation::device`] sets another.
pub const TEST_DEVICE_ID: &str = "amzn1.ask.device.TESTDEVICE";

#[derive(Clone, Debug)]
struct OpenSession {
    id: String,
    new: bool,
    attributes: Map<String, Value>,
}

/// One user talking to a skill, turn after turn. See the [module docs](self).
#[derive(Debug)]
pub struct Conversation {
    skill: Skill,
    user_id: String,
    device_id: String,
    person_id: Option<String>,
    access_token: Option<String>,
    application_id: String,
    locale: String,
    session: Option<OpenSession>,
    counter: u64,
}

impl Conversation {
    /// A conversation with `skill` (which is cloned; clones share handlers and storage), as
    /// [`TEST_USER_ID`] on [`TEST_DEVICE_ID`], in `en-US`, addressed to the skill's ID.
    pub fn new(skill: &Skill) -> Self {
        Self {
            application_id: skill.skill_id().unwrap_or(TEST_SKILL_ID).to_owned(),
            skill: skill.clone(),
            user_id: TEST_USER_ID.into(),
            device_id: TEST_DEVICE_ID.into(),
            person_id: None,
            access_token: None,
            locale: "en-US".into(),
            session: None,
            counter: 0,
        }
    }

    /// Talk as user `user_id`.
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// Talk from device `device_id`.
    pub fn device(mut self, device_id: impl Into<String>) -> Self {
        self.device_id = device_id.into();
        self
    }

    /// Talk as a recognised person (`context.System.person`).
    pub fn person(mut self, person_id: impl Into<String>) -> Self {
        self.person_id = Some(person_id.into());
        self
    }

    /// Send an account-linking access token.
    pub fn access_token(mut self, token: impl Into<String>) -> Self {
        self.access_token = Some(token.into());
        self
    }

    /// Send requests in `locale` (e.g. `en-GB`).
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    /// Address requests to `skill_id` instead of the skill's own ID.
    pub fn application_id(mut self, skill_id: impl Into<String>) -> Self {
        self.application_id = skill_id.into();
        self
    }

    /// The user ID requests carry.
    pub fn user_id(&self) -> &str {
        &self.user_id
    }

    /// True while a session is open (the next request continues it).
    pub fn in_session(&self) -> bool {
        self.session.is_some()
    }

    /// The session attributes the next request of the open session will carry, as the skill's
    /// handlers see them (without the copy of the persistent attributes the session carries,
    /// see `skill_builder::carry`).
    pub fn session_attributes(&self) -> Option<Map<String, Value>> {
        self.session
            .as_ref()
            .map(|s| without_carried(&s.attributes))
    }

    /// True when the open session carries a copy of the persistent attributes (the next turn
    /// reads nothing from storage).
    pub fn carries_persistent_attributes(&self) -> bool {
        self.session
            .as_ref()
            .is_some_and(|s| s.attributes.contains_key(CARRY_ATTRIBUTE))
    }

    /// Forgets the open session, if any, without telling the skill (as when a session times
    /// out unnoticed); the next request starts a new one.
    pub fn new_session(&mut self) -> &mut Self {
        self.session = None;
        self
    }

    /// "Alexa, open …": a `LaunchRequest`, always in a new session.
    ///
    /// # Errors
    /// The skill's error; the session is then closed.
    pub async fn launch(&mut self) -> Result<Exchange, SkillError> {
        self.session = None;
        let request = Request::Launch(LaunchRequest::default());
        self.send(request).await
    }

    /// An `IntentRequest` for intent `name`, in the open session (or a new one); add slots, then
    /// [`send`](IntentTurn::send) it.
    pub fn intent(&mut self, name: impl Into<String>) -> IntentTurn<'_> {
        IntentTurn {
            conversation: self,
            intent: Intent {
                name: name.into(),
                confirmation_status: ConfirmationStatus::None,
                slots: BTreeMap::new(),
            },
            dialog_state: None,
        }
    }

    /// `AlexaSkillEvent.SkillDisabled`: the user disabled the skill (outside any session).
    ///
    /// # Errors
    /// The skill's error.
    pub async fn skill_disabled(&mut self) -> Result<Exchange, SkillError> {
        self.session = None;
        let request =
            Request::SkillDisabled(skill_builder::request::SkillDisabledRequest::default());
        self.send_event(request).await
    }

    /// Sends a request outside any session, as Alexa sends skill events: the envelope has no
    /// `session`, and no session is open afterwards.
    ///
    /// # Errors
    /// The skill's error.
    pub async fn send_event(&mut self, request: Request) -> Result<Exchange, SkillError> {
        self.session = None;
        let out = self.send(request).await;
        self.session = None;
        out
    }

    /// A `SessionEndedRequest` for the open session (or a new one), which then ends.
    ///
    /// # Errors
    /// The skill's error.
    pub async fn end_session(
        &mut self,
        reason: SessionEndedReason,
    ) -> Result<Exchange, SkillError> {
        let request = Request::SessionEnded(SessionEndedRequest {
            reason: Some(reason),
            ..SessionEndedRequest::default()
        });
        self.send(request).await
    }

    /// Sends any request in the open session (or a new one). Its request ID, timestamp and
    /// locale are filled in when empty.
    ///
    /// After the skill answers, the session ends if the response sets `shouldEndSession` to
    /// `true`, if the request was a `SessionEndedRequest`, or if the skill failed; otherwise it
    /// goes on with the session attributes the response returned.
    ///
    /// # Errors
    /// The skill's error.
    pub async fn send(&mut self, mut request: Request) -> Result<Exchange, SkillError> {
        self.counter += 1;
        let request_id = format!("amzn1.echo-api.request.test-{}", self.counter);
        let timestamp = iso8601_now();
        let locale = self.locale.clone();
        let set = |id: &mut String, ts: &mut Option<String>, loc: &mut Option<String>| {
            if id.is_empty() {
                *id = request_id.clone();
            }
            ts.get_or_insert_with(|| timestamp.clone());
            loc.get_or_insert_with(|| locale.clone());
        };
        match &mut request {
            Request::Launch(r) => set(&mut r.request_id, &mut r.timestamp, &mut r.locale),
            Request::Intent(r) => set(&mut r.request_id, &mut r.timestamp, &mut r.locale),
            Request::SessionEnded(r) => set(&mut r.request_id, &mut r.timestamp, &mut r.locale),
            Request::SkillDisabled(r) => {
                set(&mut r.request_id, &mut r.timestamp, &mut None);
            }
            Request::SkillEnabled(r) => {
                set(&mut r.request_id, &mut r.timestamp, &mut None);
            }
            _ => {}
        }

        let session = match self.session.take() {
            Some(s) => s,
            None => OpenSession {
                id: format!("amzn1.echo-api.session.test-{}", self.counter),
                new: true,
                attributes: Map::new(),
            },
        };
        let is_session_end = matches!(request, Request::SessionEnded(_));
        let envelope = self.envelope(request, &session);
        let result = self.skill.invoke(envelope.clone()).await;
        let response = result?;
        let ends = is_session_end || response.response.should_end_session == Some(true);
        if !ends {
            self.session = Some(OpenSession {
                id: session.id,
                new: false,
                attributes: response.session_attributes.clone().unwrap_or_default(),
            });
        }
        Ok(Exchange {
            request: envelope,
            response,
        })
    }

    fn alexa_user(&self) -> User {
        User {
            user_id: self.user_id.clone(),
            access_token: self.access_token.clone(),
            permissions: None,
        }
    }

    fn envelope(&self, request: Request, session: &OpenSession) -> RequestEnvelope {
        let application = Application {
            application_id: self.application_id.clone(),
        };
        // Skill events come outside any session.
        let sessionless = matches!(
            request,
            Request::SkillEnabled(_)
                | Request::SkillDisabled(_)
                | Request::SkillAccountLinked(_)
                | Request::SkillPermissionAccepted(_)
                | Request::SkillPermissionChanged(_)
        );
        RequestEnvelope {
            version: "1.0".into(),
            session: (!sessionless).then(|| Session {
                new: session.new,
                session_id: session.id.clone(),
                application: Some(application.clone()),
                attributes: (!session.new).then(|| session.attributes.clone()),
                user: Some(self.alexa_user()),
            }),
            context: Context {
                system: System {
                    application: Some(application),
                    user: Some(self.alexa_user()),
                    device: Some(Device {
                        device_id: self.device_id.clone(),
                        supported_interfaces: serde_json::Map::new(),
                    }),
                    person: self.person_id.as_ref().map(|p| Person {
                        person_id: p.clone(),
                        access_token: None,
                    }),
                    api_endpoint: Some("https://api.amazonalexa.com".into()),
                    api_access_token: Some("test-api-access-token".into()),
                },
                other: serde_json::Map::new(),
            },
            request,
        }
    }

    /// What the skill's persistence adapter stores for this user (under the key the skill's key
    /// generator makes from this conversation's requests), `None` when nothing is.
    ///
    /// # Errors
    /// [`persistence_core::Error::NotConfigured`] when the skill has no adapter, or the
    /// adapter's error.
    pub async fn stored_attributes(
        &self,
    ) -> Result<Option<persistence_core::Attributes>, SkillError> {
        let adapter = self.skill.persistence_adapter().ok_or_else(|| {
            SkillError::from(persistence_core::Error::NotConfigured {
                what: "the skill has no persistence adapter".into(),
            })
        })?;
        let probe = OpenSession {
            id: String::new(),
            new: true,
            attributes: Map::new(),
        };
        let envelope = self.envelope(Request::default(), &probe);
        let key = self.skill.key_generator().key(&envelope)?;
        Ok(adapter.get(&key).await?.map(|s| s.attributes))
    }
}

/// An intent request being put together; see [`Conversation::intent`].
#[derive(Debug)]
#[must_use = "call send() to send the request"]
pub struct IntentTurn<'c> {
    conversation: &'c mut Conversation,
    intent: Intent,
    dialog_state: Option<DialogState>,
}

impl IntentTurn<'_> {
    /// Fills slot `name` with the spoken `value`.
    pub fn slot(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.intent
            .slots
            .insert(name.clone(), Slot::new(name, value));
        self
    }

    /// Fills slot `name` with the spoken `value` that entity resolution matched to the
    /// canonical value `resolved` (with ID `id`).
    pub fn slot_resolved(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
        resolved: impl Into<String>,
        id: impl Into<String>,
    ) -> Self {
        let name = name.into();
        let mut slot = Slot::new(name.clone(), value);
        slot.resolutions = Some(Resolutions {
            resolutions_per_authority: vec![Resolution {
                authority: format!(
                    "amzn1.er-authority.echo-sdk.{}.{name}",
                    self.conversation.application_id
                ),
                status: ResolutionStatus {
                    code: ResolutionStatus::SUCCESS_MATCH.into(),
                },
                values: vec![ResolutionValueWrapper {
                    value: ResolutionValue {
                        name: resolved.into(),
                        id: id.into(),
                    },
                }],
            }],
        });
        self.intent.slots.insert(name, slot);
        self
    }

    /// Declares slot `name` of the intent without a value (as Alexa sends unfilled slots).
    pub fn empty_slot(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.intent.slots.insert(
            name.clone(),
            Slot {
                name,
                ..Slot::default()
            },
        );
        self
    }

    /// Sets the intent's `confirmationStatus`.
    pub fn confirmation(mut self, status: ConfirmationStatus) -> Self {
        self.intent.confirmation_status = status;
        self
    }

    /// Sets the request's `dialogState`.
    pub fn dialog_state(mut self, state: DialogState) -> Self {
        self.dialog_state = Some(state);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// The skill's error; the session is then closed.
    pub async fn send(self) -> Result<Exchange, SkillError> {
        let request = Request::Intent(IntentRequest {
            dialog_state: self.dialog_state,
            intent: self.intent,
            ..IntentRequest::default()
        });
        self.conversation.send(request).await
    }
}

/// One request and the skill's answer.
#[derive(Clone, Debug)]
pub struct Exchange {
    request: RequestEnvelope,
    response: ResponseEnvelope,
}

impl Exchange {
    /// What Alexa says: the speech without its `<speak>` wrapper; empty when there is none.
    pub fn speech(&self) -> &str {
        self.response
            .response
            .output_speech
            .as_ref()
            .map_or("", |s| s.content())
    }

    /// What Alexa says if the user does not answer; empty when there is no reprompt.
    pub fn reprompt(&self) -> &str {
        self.response
            .response
            .reprompt
            .as_ref()
            .map_or("", |r| r.output_speech.content())
    }

    /// True when the response ends the session (`shouldEndSession: true`).
    pub fn ends_session(&self) -> bool {
        self.response.response.should_end_session == Some(true)
    }

    /// True when the response keeps the session open and listens (`shouldEndSession: false`).
    pub fn keeps_session_open(&self) -> bool {
        self.response.response.should_end_session == Some(false)
    }

    /// The card shown, if any.
    pub fn card(&self) -> Option<&Card> {
        self.response.response.card.as_ref()
    }

    /// The session attributes the response returned, as the next turn's handlers will see
    /// them (without the carried copy of the persistent attributes).
    pub fn session_attributes(&self) -> Option<Map<String, Value>> {
        self.response
            .session_attributes
            .as_ref()
            .map(without_carried)
    }

    /// The request sent.
    pub fn request(&self) -> &RequestEnvelope {
        &self.request
    }

    /// The whole response envelope.
    pub fn response(&self) -> &ResponseEnvelope {
        &self.response
    }
}

fn without_carried(attributes: &Map<String, Value>) -> Map<String, Value> {
    let mut out = attributes.clone();
    out.remove(CARRY_ATTRIBUTE);
    out
}

/// The current time as `YYYY-MM-DDTHH:MM:SSZ`, as Alexa writes timestamps.
pub(crate) fn iso8601_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_computed_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let now = iso8601_now();
        assert_eq!(now.len(), 20, "{now}");
        assert!(now.ends_with('Z'));
    }
}
