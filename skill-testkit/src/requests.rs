//! Request files: the JSON Alexa sends, for `cargo lambda invoke --data-file` and `curl`.
//!
//! ```
//! use skill_testkit::requests::Requests;
//! let r = Requests::new("amzn1.ask.skill.00000000-0000-0000-0000-000000000000");
//! let launch = r.launch();
//! assert_eq!(launch.request_type(), "LaunchRequest");
//! let order = r.intent("OrderIntent", &[("drink", "latte")]);
//! assert_eq!(order.slot_value("drink"), Some("latte"));
//! let json = Requests::to_json(&order);
//! assert!(json.contains("\"OrderIntent\""));
//! ```
//!
//! The binary `alexa-request` writes them: `alexa-request launch > launch.json`,
//! `alexa-request intent OrderIntent --slot drink=latte > order.json`, or
//! `alexa-request all requests/` for a set.

use std::collections::BTreeMap;
use std::path::Path;

use skill_builder::envelope::{
    Application, ConfirmationStatus, Context, Device, Intent, IntentRequest, LaunchRequest,
    Request, RequestEnvelope, Session, SessionEndedReason, SessionEndedRequest, Slot, System, User,
};

use crate::{TEST_DEVICE_ID, TEST_USER_ID, iso8601_now};

/// Makes request envelopes as Alexa sends them, each in a new session.
#[derive(Clone, Debug)]
pub struct Requests {
    skill_id: String,
    user_id: String,
    device_id: String,
    locale: String,
}

impl Requests {
    /// Requests addressed to `skill_id`, from [`TEST_USER_ID`] on [`TEST_DEVICE_ID`], in
    /// `en-US`.
    pub fn new(skill_id: impl Into<String>) -> Self {
        Self {
            skill_id: skill_id.into(),
            user_id: TEST_USER_ID.into(),
            device_id: TEST_DEVICE_ID.into(),
            locale: "en-US".into(),
        }
    }

    /// From user `user_id`.
    #[must_use]
    pub fn user(mut self, user_id: impl Into<String>) -> Self {
        self.user_id = user_id.into();
        self
    }

    /// In `locale`.
    #[must_use]
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    /// "Alexa, open …".
    pub fn launch(&self) -> RequestEnvelope {
        self.envelope(Request::Launch(LaunchRequest {
            request_id: "amzn1.echo-api.request.launch".into(),
            timestamp: Some(iso8601_now()),
            locale: Some(self.locale.clone()),
            ..LaunchRequest::default()
        }))
    }

    /// Intent `name` with `slots` (name, spoken value).
    pub fn intent(&self, name: &str, slots: &[(&str, &str)]) -> RequestEnvelope {
        let slots: BTreeMap<String, Slot> = slots
            .iter()
            .map(|(n, v)| ((*n).to_owned(), Slot::new(*n, *v)))
            .collect();
        self.envelope(Request::Intent(IntentRequest {
            request_id: format!("amzn1.echo-api.request.{name}"),
            timestamp: Some(iso8601_now()),
            locale: Some(self.locale.clone()),
            intent: Intent {
                name: name.to_owned(),
                confirmation_status: ConfirmationStatus::None,
                slots,
            },
            ..IntentRequest::default()
        }))
    }

    /// The end of a session (the user said nothing, or "stop" ended it).
    pub fn session_ended(&self) -> RequestEnvelope {
        self.envelope(Request::SessionEnded(SessionEndedRequest {
            request_id: "amzn1.echo-api.request.session-ended".into(),
            timestamp: Some(iso8601_now()),
            locale: Some(self.locale.clone()),
            reason: Some(SessionEndedReason::UserInitiated),
            ..SessionEndedRequest::default()
        }))
    }

    /// Pretty JSON text of a request.
    pub fn to_json(envelope: &RequestEnvelope) -> String {
        serde_json::to_string_pretty(envelope).unwrap_or_default()
    }

    /// Writes `launch.json`, `help.json` (`AMAZON.HelpIntent`), `stop.json`
    /// (`AMAZON.StopIntent`) and `session-ended.json` into `dir` (created if missing); returns
    /// their paths.
    ///
    /// # Errors
    /// When the directory or a file cannot be written.
    pub fn write_all(&self, dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
        std::fs::create_dir_all(dir)?;
        let files = [
            ("launch.json", self.launch()),
            ("help.json", self.intent("AMAZON.HelpIntent", &[])),
            ("stop.json", self.intent("AMAZON.StopIntent", &[])),
            ("session-ended.json", self.session_ended()),
        ];
        let mut written = Vec::new();
        for (name, envelope) in files {
            let path = dir.join(name);
            std::fs::write(&path, Self::to_json(&envelope) + "\n")?;
            written.push(path);
        }
        Ok(written)
    }

    fn envelope(&self, request: Request) -> RequestEnvelope {
        let application = Application {
            application_id: self.skill_id.clone(),
        };
        let user = User {
            user_id: self.user_id.clone(),
            access_token: None,
            permissions: None,
        };
        RequestEnvelope {
            version: "1.0".into(),
            session: Some(Session {
                new: true,
                session_id: "amzn1.echo-api.session.request-file".into(),
                application: Some(application.clone()),
                attributes: None,
                user: Some(user.clone()),
            }),
            context: Context {
                system: System {
                    application: Some(application),
                    user: Some(user),
                    device: Some(Device {
                        device_id: self.device_id.clone(),
                        supported_interfaces: serde_json::Map::new(),
                    }),
                    person: None,
                    api_endpoint: Some("https://api.amazonalexa.com".into()),
                    api_access_token: None,
                },
                other: serde_json::Map::new(),
            },
            request,
        }
    }
}
