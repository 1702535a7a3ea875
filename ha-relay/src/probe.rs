//! What the relay reads from a request before forwarding it: the user's token, the skill IDs it
//! names, and the request type (for logs). The request itself is forwarded as its exact text,
//! never re-serialized.

use serde_json::Value;

/// Where Alexa names the skill a request is for.
const SKILL_ID_POINTERS: [&str; 2] = [
    "/context/System/application/applicationId",
    "/session/application/applicationId",
];

/// What the relay reads from a request: the token, the skill IDs and the request type (for
/// logs).
pub(crate) struct Probe {
    /// The account-linking token: `context.System.user.accessToken`, else
    /// `session.user.accessToken`; blank counts as none.
    pub(crate) token: Option<String>,
    /// The skill IDs the request names: `context.System.application.applicationId` and
    /// `session.application.applicationId`, those present (anything but a string counts as a
    /// different ID).
    pub(crate) skill_ids: Vec<Option<String>>,
    /// The request type as logged ([`request_type_name`]).
    pub(crate) request_type: &'static str,
}

impl Probe {
    /// `None` when `request` is not a JSON object.
    pub(crate) fn read(request: &str) -> Option<Probe> {
        let value: Value = serde_json::from_str(request).ok()?;
        if !value.is_object() {
            return None;
        }
        let token = [
            "/context/System/user/accessToken",
            "/session/user/accessToken",
        ]
        .iter()
        .find_map(|pointer| {
            value
                .pointer(pointer)?
                .as_str()
                .map(str::trim)
                .filter(|t| !t.is_empty())
        })
        .map(str::to_owned);
        let skill_ids = SKILL_ID_POINTERS
            .iter()
            .filter_map(|pointer| value.pointer(pointer))
            .map(|id| id.as_str().map(str::to_owned))
            .collect();
        let request_type = value
            .pointer("/request/type")
            .and_then(Value::as_str)
            .map_or("(none)", request_type_name);
        Some(Probe {
            token,
            skill_ids,
            request_type,
        })
    }

    /// Whether Alexa will speak nothing of the answer (the session is over).
    pub(crate) fn session_ended(&self) -> bool {
        self.request_type == "SessionEndedRequest"
    }
}

/// The request type as logged: Alexa's common types by name, anything else as "other" (a
/// request's text never reaches the logs).
fn request_type_name(kind: &str) -> &'static str {
    const KNOWN: [&str; 8] = [
        "LaunchRequest",
        "IntentRequest",
        "SessionEndedRequest",
        "CanFulfillIntentRequest",
        "Connections.Response",
        "Alexa.Presentation.APL.UserEvent",
        "System.ExceptionEncountered",
        "SessionResumedRequest",
    ];
    KNOWN
        .iter()
        .find(|known| **known == kind)
        .copied()
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_context_then_session() {
        let both = r#"{"session":{"user":{"accessToken":"from-session"}},
            "context":{"System":{"user":{"accessToken":"from-context"}}},
            "request":{"type":"IntentRequest"}}"#;
        let probe = Probe::read(both).unwrap();
        assert_eq!(probe.token.as_deref(), Some("from-context"));
        assert_eq!(probe.request_type, "IntentRequest");
        let session = r#"{"session":{"user":{"accessToken":"from-session"}},
            "context":{"System":{"user":{"accessToken":""}}}, "request":{"type":"Custom.Thing"}}"#;
        let probe = Probe::read(session).unwrap();
        assert_eq!(probe.token.as_deref(), Some("from-session"));
        assert_eq!(probe.request_type, "other");
        let empty = Probe::read("{}").unwrap();
        assert!(empty.token.is_none());
        assert!(empty.skill_ids.is_empty());
        assert!(Probe::read("[]").is_none());
        assert!(Probe::read("not json").is_none());
    }

    #[test]
    fn the_skill_ids_come_from_context_and_session() {
        let both = r#"{"session":{"application":{"applicationId":"amzn1.ask.skill.S"}},
            "context":{"System":{"application":{"applicationId":"amzn1.ask.skill.C"}}}}"#;
        let ids = Probe::read(both).unwrap().skill_ids;
        assert_eq!(
            ids,
            [
                Some("amzn1.ask.skill.C".to_owned()),
                Some("amzn1.ask.skill.S".to_owned())
            ]
        );
        let odd = r#"{"session":{"application":{"applicationId":7}}}"#;
        assert_eq!(Probe::read(odd).unwrap().skill_ids, [None]);
    }
}
