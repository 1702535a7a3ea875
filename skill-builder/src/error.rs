//! [`SkillError`]: what can go wrong while a skill handles a request.

use persistence_core::BoxError;

/// Everything that can go wrong while a skill handles a request.
///
/// Errors raised by interceptors, handlers and the persistent-attribute save reach the skill's
/// exception handlers; an error no exception handler takes is returned by
/// [`Skill::invoke`](crate::Skill::invoke). A request addressed to another skill is refused
/// before any handler runs.
///
/// ```
/// use skill_builder::SkillError;
/// use persistence_core::{Error, RedactedKey};
///
/// let conflict: SkillError = Error::Conflict {
///     operation: "save", resource: "memory store".into(),
///     key: RedactedKey::new("amzn1.ask.account.A"), reason: "version changed".into(),
/// }.into();
/// assert!(conflict.is_conflict());
/// assert!(matches!(conflict.persistence(), Some(Error::Conflict { .. })));
///
/// let other = SkillError::other("the weather service is down");
/// assert_eq!(other.to_string(), "the skill failed: the weather service is down");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SkillError {
    /// The request names another skill ID than the one the skill was built with (or none).
    #[error(
        "request refused: it is for skill {}, not for this skill ({expected})",
        received.as_deref().unwrap_or("<no application ID>")
    )]
    SkillIdMismatch {
        /// The skill ID given to [`SkillBuilder::with_skill_id`](crate::SkillBuilder::with_skill_id).
        expected: String,
        /// The ID in the request that differs (`None` when the request has none).
        received: Option<String>,
    },

    /// No route takes the request, and the skill has no fallback.
    #[error("no route answers this {request_type}{}",
        intent_name.as_deref().map(|n| format!(" (intent {n})")).unwrap_or_default())]
    Unhandled {
        /// The request's type.
        request_type: String,
        /// The intent name, for an `IntentRequest`.
        intent_name: Option<String>,
    },

    /// The request lacks the field a key generator reads (e.g. no device ID).
    #[error("cannot make a persistence key: the request has no `{field}`")]
    MissingKeySource {
        /// The JSON path of the missing field, e.g. `context.System.device.deviceId`.
        field: &'static str,
    },
    /// The handler asked for attributes that a guard it still holds has lent out (drop the
    /// guard first, or use one view of them per turn), or a guard outlived its handler. Raised
    /// at once: a turn never waits for its own guards.
    #[error(
        "the {what} attributes are lent out to a guard that is still alive: drop it first \
         (a turn never waits for its own guards)"
    )]
    StateBorrowed {
        /// `persistent` or `session`.
        what: &'static str,
    },
    /// The request JSON is not a valid Alexa request envelope.
    #[error("invalid request envelope: {0}")]
    InvalidEnvelope(#[source] serde_json::Error),

    /// Loading, saving or deleting persistent attributes failed (a save that lost to another
    /// writer is [`persistence_core::Error::Conflict`]), or persistence is used without an
    /// adapter ([`persistence_core::Error::NotConfigured`]).
    #[error(transparent)]
    Persistence(#[from] persistence_core::Error),

    /// Any other failure in a handler or interceptor.
    #[error("the skill failed: {0}")]
    Handler(#[source] BoxError),
}

impl SkillError {
    /// Wraps any error (or message) from skill code.
    pub fn other(error: impl Into<BoxError>) -> Self {
        SkillError::Handler(error.into())
    }

    /// The persistence error, when this is one.
    pub fn persistence(&self) -> Option<&persistence_core::Error> {
        match self {
            SkillError::Persistence(e) => Some(e),
            _ => None,
        }
    }

    /// True when a save lost to another writer ([`persistence_core::Error::Conflict`]) and
    /// running the handler again did not settle it.
    pub fn is_conflict(&self) -> bool {
        self.persistence()
            .is_some_and(persistence_core::Error::is_conflict)
    }
}

/// Why [`SkillBuilder::build`](crate::SkillBuilder::build) refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No skill ID: a deployed skill must refuse requests meant for other skills.
    #[error(
        "no skill ID: set ALEXA_SKILL_ID to your skill's ID (amzn1.ask.skill...) or call \
         SkillBuilder::with_skill_id; for local testing only, ALEXA_SKIP_SKILL_ID_CHECK=1 or \
         SkillBuilder::skip_skill_id_check_for_local_testing turns the check off"
    )]
    MissingSkillId,
    /// `ALEXA_SKILL_ID` and `ALEXA_SKIP_SKILL_ID_CHECK` are both set.
    #[error("ALEXA_SKILL_ID and ALEXA_SKIP_SKILL_ID_CHECK are both set: keep one")]
    ConflictingSkillIdSettings,
}
