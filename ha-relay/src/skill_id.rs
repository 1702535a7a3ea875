//! The skill-ID check: only requests for the configured skill are relayed.
//!
//! Amazon signs the requests of every skill, and anyone can point their own skill at a Lambda
//! function or endpoint whose ARN or URL they know; Amazon's documentation asks skills to
//! check the skill ID in each request for this reason. The relay compares
//! `context.System.application.applicationId` and `session.application.applicationId` (every
//! one present) with `ALEXA_SKILL_ID`; a request naming no skill or another one is refused
//! before anything is sent to Home Assistant.

use crate::probe::Probe;

/// Why a request was refused without being relayed. The messages hold no ID: the Lambda
/// function reports them to Alexa as a failed invocation (as the ASK SDKs do for a skill-ID
/// mismatch), which also shows a misconfigured `ALEXA_SKILL_ID` in the function's error metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The request names another skill (in its context, its session, or both).
    #[error("request refused: it is not for this skill (it names another skill ID)")]
    OtherSkill,
    /// The request names no skill at all.
    #[error("request refused: it is not for this skill (it names no skill ID)")]
    NoSkillId,
}

impl Refused {
    /// A short, stable name for logs and Lambda's error type.
    pub fn kind(&self) -> &'static str {
        match self {
            Refused::OtherSkill => "other_skill",
            Refused::NoSkillId => "no_skill_id",
        }
    }
}

impl From<Refused> for lambda_runtime::Diagnostic {
    fn from(refused: Refused) -> Self {
        lambda_runtime::Diagnostic {
            error_type: format!("Refused::{}", refused.kind()),
            error_message: refused.to_string(),
        }
    }
}

/// Whether `probe`'s request is for the skill `expected`: every skill ID it names equals
/// `expected`, and it names at least one.
pub(crate) fn check(probe: &Probe, expected: &str) -> Result<(), Refused> {
    if probe.skill_ids.is_empty() {
        return Err(Refused::NoSkillId);
    }
    if probe
        .skill_ids
        .iter()
        .all(|id| id.as_deref() == Some(expected))
    {
        Ok(())
    } else {
        Err(Refused::OtherSkill)
    }
}

/// A skill ID as it may be logged: Alexa's `amzn1.ask.skill.<uuid>` form as is, anything else
/// (which no Alexa request holds) replaced, so that request text never reaches the logs.
pub(crate) fn loggable(id: Option<&str>) -> &str {
    match id {
        Some(id) if is_skill_id(id) => id,
        Some(_) => "(not a skill ID)",
        None => "(none)",
    }
}

fn is_skill_id(id: &str) -> bool {
    id.strip_prefix("amzn1.ask.skill.").is_some_and(|uuid| {
        !uuid.is_empty()
            && uuid.len() <= 64
            && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OURS: &str = "amzn1.ask.skill.00000000-0000-4000-8000-000000000001";
    const THEIRS: &str = "amzn1.ask.skill.00000000-0000-4000-8000-000000000002";

    fn probe(context: Option<&str>, session: Option<&str>) -> Probe {
        let app = |id: Option<&str>| {
            id.map_or(String::new(), |id| {
                format!(r#""application": {{"applicationId": "{id}"}}"#)
            })
        };
        let request = format!(
            r#"{{"context": {{"System": {{{}}}}}, "session": {{{}}}}}"#,
            app(context),
            app(session)
        );
        Probe::read(&request).unwrap()
    }

    #[test]
    fn only_requests_naming_this_skill_and_no_other_pass() {
        assert_eq!(check(&probe(Some(OURS), Some(OURS)), OURS), Ok(()));
        // Requests outside a session (skill events, some directives) have only the context.
        assert_eq!(check(&probe(Some(OURS), None), OURS), Ok(()));
        assert_eq!(check(&probe(None, Some(OURS)), OURS), Ok(()));
        for (context, session) in [
            (Some(THEIRS), Some(THEIRS)),
            (Some(THEIRS), None),
            (None, Some(THEIRS)),
            (Some(OURS), Some(THEIRS)),
            (Some(THEIRS), Some(OURS)),
            (Some(""), None),
        ] {
            assert_eq!(
                check(&probe(context, session), OURS),
                Err(Refused::OtherSkill),
                "{context:?} {session:?}"
            );
        }
        assert_eq!(check(&probe(None, None), OURS), Err(Refused::NoSkillId));
        let not_a_string = Probe::read(r#"{"session":{"application":{"applicationId":1}}}"#);
        assert_eq!(
            check(&not_a_string.unwrap(), OURS),
            Err(Refused::OtherSkill)
        );
    }

    #[test]
    fn refusals_name_no_id_and_only_skill_ids_are_logged() {
        for refused in [Refused::OtherSkill, Refused::NoSkillId] {
            let diagnostic = lambda_runtime::Diagnostic::from(refused.clone());
            assert!(
                !diagnostic.error_message.contains("amzn1"),
                "{diagnostic:?}"
            );
            assert!(diagnostic.error_type.starts_with("Refused::"));
        }
        assert_eq!(loggable(Some(THEIRS)), THEIRS);
        assert_eq!(loggable(Some("amzn1.ask.skill.SECRET")), "(not a skill ID)");
        assert_eq!(loggable(Some("amzn1.ask.skill.")), "(not a skill ID)");
        assert_eq!(loggable(None), "(none)");
    }
}
