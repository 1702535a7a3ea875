//! Serving a skill as an AWS Lambda function (feature `lambda`).
//!
//! Alexa invokes the Lambda with the request envelope as the event and takes the response
//! envelope it returns. A [`Skill`] is a `tower::Service` of Lambda events, so
//! `lambda_runtime::run(skill)` serves it as it is; [`run`] does the same after checking that
//! Lambda started the process (`lambda_runtime` panics otherwise). Restrict the function's
//! Alexa trigger to your skill ID; the skill checks it too (`ALEXA_SKILL_ID`).
//!
//! Lambda starts the function's `bootstrap` without arguments; a binary that also runs
//! elsewhere asks [`storage::running_in_lambda`](crate::storage::running_in_lambda) (true when
//! `AWS_LAMBDA_RUNTIME_API` is set, also under `cargo lambda watch`). In Lambda,
//! [`storage::adapter_from_env`](crate::storage::adapter_from_env) refuses to fall back to
//! memory: set `DYNAMODB_PERSISTENCE_TABLE_NAME` (or `S3_PERSISTENCE_BUCKET`), or
//! `SKILL_PERSISTENCE=memory` on purpose.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, Turn, HandlerError, logging, storage};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     logging::init(); // follows AWS_LAMBDA_LOG_LEVEL and AWS_LAMBDA_LOG_FORMAT
//!     let skill = SkillBuilder::new() // the skill ID from ALEXA_SKILL_ID
//!         .with_persistence_adapter(storage::adapter_from_env().await?)
//!         .on_launch(|turn: Turn| async move { Ok::<_, HandlerError>(turn.speak("Hello!")) })
//!         .build()?;
//!     lambda_runtime::run(skill).await
//! }
//! ```

pub use lambda_runtime::{Context, Diagnostic, LambdaEvent};

use crate::error::SkillError;
use crate::skill::Skill;

const LAMBDA_VARS: [&str; 4] = [
    crate::storage::LAMBDA_RUNTIME_API_VAR,
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// Serves `skill` as the Lambda function's handler, until Lambda stops the process.
///
/// # Errors
/// When the process was not started by Lambda (a variable Lambda sets is missing; say which
/// instead of the runtime's panic), or the runtime's own error.
pub async fn run(skill: Skill) -> Result<(), lambda_runtime::Error> {
    check_lambda_environment(|name| std::env::var(name).ok())?;
    lambda_runtime::run(skill).await
}

fn check_lambda_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), lambda_runtime::Error> {
    for var in LAMBDA_VARS {
        if lookup(var).is_none_or(|v| v.trim().is_empty()) {
            return Err(format!(
                "not running inside AWS Lambda: {var} is not set (to try the skill locally, use \
                 `cargo lambda watch`, the http front or the test kit)"
            )
            .into());
        }
    }
    let memory = lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.trim().parse::<i32>().is_err() {
        return Err(format!("AWS_LAMBDA_FUNCTION_MEMORY_SIZE={memory:?} is not a number").into());
    }
    Ok(())
}

impl From<SkillError> for Diagnostic {
    fn from(error: SkillError) -> Self {
        let error_type = match &error {
            SkillError::SkillIdMismatch { .. } => "SkillIdMismatch",
            SkillError::Unhandled { .. } => "Unhandled",
            SkillError::InvalidEnvelope(_) => "InvalidEnvelope",
            SkillError::Persistence(_) => "Persistence",
            SkillError::MissingKeySource { .. } => "MissingKeySource",
            SkillError::StateBorrowed { .. } => "StateBorrowed",
            SkillError::Handler(_) => "Handler",
        };
        Diagnostic {
            error_type: format!("SkillError::{error_type}"),
            // The type only: Lambda's logs and metrics show it; the details are logged without
            // user IDs by the skill itself.
            error_message: format!("the skill failed ({error_type})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{HandlerError, SkillBuilder, Turn};
    use tower_service::Service;

    #[test]
    fn outside_lambda_is_a_clear_error_not_a_panic() {
        let err = check_lambda_environment(|_| None).unwrap_err();
        assert!(err.to_string().contains("AWS_LAMBDA_RUNTIME_API"), "{err}");
        let lambda_like = |name: &str| {
            Some(match name {
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "128".to_owned(),
                _ => "x".to_owned(),
            })
        };
        assert!(check_lambda_environment(lambda_like).is_ok());
        let bad_memory =
            |name: &str| Some(if name.ends_with("SIZE") { "lots" } else { "x" }.into());
        assert!(check_lambda_environment(bad_memory).is_err());
    }

    #[tokio::test]
    async fn an_event_is_served_by_the_skill_as_a_service() {
        let mut skill = SkillBuilder::new()
            .skip_skill_id_check_for_local_testing()
            .on_launch(|turn: Turn| async move { Ok::<_, HandlerError>(turn.speak("Hi")) })
            .build()
            .unwrap();
        let envelope = serde_json::from_value(serde_json::json!(
            {"version": "1.0", "request": {"type": "LaunchRequest"}}
        ))
        .unwrap();
        let event = LambdaEvent::new(envelope, Context::default());
        let out = skill.call(event).await.unwrap();
        assert_eq!(out.response.output_speech.unwrap().content(), "Hi");
        let unhandled = serde_json::from_value(serde_json::json!(
            {"version": "1.0", "request": {"type": "IntentRequest", "intent": {"name": "Nope"}}}
        ))
        .unwrap();
        let err = skill
            .call(LambdaEvent::new(unhandled, Context::default()))
            .await
            .unwrap_err();
        assert_eq!(Diagnostic::from(err).error_type, "SkillError::Unhandled");
    }
}
