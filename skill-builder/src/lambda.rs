//! Serving a skill as an AWS Lambda function (feature `lambda`).
//!
//! Alexa invokes the Lambda with the request envelope as the event and takes the response
//! envelope it returns. Restrict the function's Alexa trigger to your skill ID, and build the
//! skill [`with_skill_id`](crate::SkillBuilder::with_skill_id) too.
//!
//! Lambda starts the function's `bootstrap` without arguments; a binary that also runs
//! elsewhere asks [`storage::running_in_lambda`](crate::storage::running_in_lambda) (true when
//! `AWS_LAMBDA_RUNTIME_API` is set, also under `cargo lambda watch`). In Lambda,
//! [`storage::adapter_from_env`](crate::storage::adapter_from_env) refuses to fall back to
//! memory: set `DYNAMODB_PERSISTENCE_TABLE_NAME` (or `S3_PERSISTENCE_BUCKET`), or
//! `SKILL_PERSISTENCE=memory` on purpose.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, lambda::run_lambda, storage};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), lambda_runtime::Error> {
//!     let adapter = storage::adapter_from_env().await?; // in Lambda: DynamoDB or S3, or an error
//!     let skill = SkillBuilder::new()
//!         .with_skill_id("amzn1.ask.skill.1234")
//!         .with_persistence_adapter(adapter)
//!         // .add_request_handler(...)
//!         .build();
//!     if storage::running_in_lambda() {
//!         run_lambda(skill).await
//!     } else {
//!         Err("not in Lambda: try the skill with skill_builder::testkit instead".into())
//!     }
//! }
//! ```

/// What a failed invocation reports to Lambda: the error type of a [`run_lambda_fn`] handler
/// must convert into it (`String`, `Box<dyn Error>`, `std::convert::Infallible` do).
pub use lambda_runtime::Diagnostic;
use lambda_runtime::service_fn;
/// The event and context types [`handle_event`] takes, re-exported so that callers need no
/// `lambda_runtime` dependency of their own.
pub use lambda_runtime::{Context, LambdaEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::SkillError;
use crate::response::ResponseEnvelope;
use crate::skill::Skill;

/// The variables the Lambda environment sets and the runtime needs.
const LAMBDA_VARS: [&str; 4] = [
    crate::storage::LAMBDA_RUNTIME_API_VAR,
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// Runs the Lambda runtime loop with `skill` as the handler, until the runtime stops.
///
/// # Errors
/// When not running inside AWS Lambda (its environment variables are missing; checked first,
/// as the runtime would panic), or the runtime's errors.
pub async fn run_lambda(skill: Skill) -> Result<(), lambda_runtime::Error> {
    check_lambda_environment(|name| std::env::var(name).ok())?;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let skill = skill.clone();
        async move { handle_event(&skill, event).await }
    }))
    .await
}

/// Runs the Lambda runtime loop with a plain JSON function as the handler, for functions that
/// are not a [`Skill`]: a relay to another service, a proxy, a migration shim.
///
/// Each event is deserialized as `E` and the handler's answer is serialized from `R`. Take
/// [`serde_json::Value`] for any JSON, or `Box<serde_json::value::RawValue>` (serde_json feature
/// `raw_value`) to get the event's exact bytes, e.g. to forward them unchanged; an event that
/// does not deserialize as `E` fails the invocation without calling `handler`. An `Err` from
/// the handler is reported to Lambda as a failed invocation (Alexa then tells the user that the
/// skill failed); a handler that always answers returns `Result<_, std::convert::Infallible>`.
///
/// Nothing of a [`Skill`] applies: no envelope parsing, no skill ID check (restrict the
/// function's Alexa trigger to your skill ID), no handler chain, no persistence.
///
/// ```no_run
/// use std::convert::Infallible;
/// use serde_json::{Value, json};
/// use skill_builder::lambda::{LambdaEvent, run_lambda_fn};
///
/// #[tokio::main(flavor = "current_thread")]
/// async fn main() -> Result<(), lambda_runtime::Error> {
///     run_lambda_fn(|event: LambdaEvent<Value>| async move {
///         let kind = event.payload["request"]["type"].as_str().unwrap_or("?").to_owned();
///         let speech = format!("<speak>A {kind}.</speak>");
///         Ok::<_, Infallible>(json!({
///             "version": "1.0",
///             "response": {"outputSpeech": {"type": "SSML", "ssml": speech}}
///         }))
///     })
///     .await
/// }
/// ```
///
/// # Errors
/// As [`run_lambda`]: when not running inside AWS Lambda (checked first), or the runtime's
/// errors.
pub async fn run_lambda_fn<E, R, Err, F, Fut>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: FnMut(LambdaEvent<E>) -> Fut,
    Fut: Future<Output = Result<R, Err>>,
    E: DeserializeOwned,
    R: Serialize,
    Err: Into<Diagnostic> + std::fmt::Debug,
{
    check_lambda_environment(|name| std::env::var(name).ok())?;
    lambda_runtime::run(service_fn(handler)).await
}

fn check_lambda_environment(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), lambda_runtime::Error> {
    for var in LAMBDA_VARS {
        if lookup(var).is_none_or(|v| v.trim().is_empty()) {
            return Err(format!(
                "not running inside AWS Lambda: {var} is not set (to try the skill locally, use \
                 the http front or the test kit)"
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

/// Handles one Lambda event: what [`run_lambda`] does per invocation.
///
/// # Errors
/// As [`Skill::invoke_value`]; the Lambda reports it to Alexa as a failed invocation.
pub async fn handle_event(
    skill: &Skill,
    event: LambdaEvent<Value>,
) -> Result<ResponseEnvelope, SkillError> {
    tracing::debug!(aws_request_id = %event.context.request_id, "lambda invocation");
    skill.invoke_value(event.payload).await
}

impl From<SkillError> for Diagnostic {
    fn from(error: SkillError) -> Self {
        let error_type = match &error {
            SkillError::SkillIdMismatch { .. } => "SkillIdMismatch",
            SkillError::Unhandled { .. } => "Unhandled",
            SkillError::InvalidEnvelope(_) => "InvalidEnvelope",
            SkillError::Persistence(_) => "Persistence",
            SkillError::Handler(_) => "Handler",
        };
        Diagnostic {
            error_type: format!("SkillError::{error_type}"),
            error_message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SkillBuilder, is_request_type};
    use serde_json::json;

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
    async fn an_event_is_handled_like_a_request() {
        let skill = SkillBuilder::new()
            .add_request_handler_fn(
                |i| is_request_type(i, "LaunchRequest"),
                |i| Box::pin(async move { Ok(i.response_builder.speak("Hi").get_response()) }),
            )
            .build();
        let event = LambdaEvent::new(
            json!({"version": "1.0", "request": {"type": "LaunchRequest"}}),
            lambda_runtime::Context::default(),
        );
        let out = handle_event(&skill, event).await.unwrap();
        assert_eq!(out.response.output_speech.unwrap().content(), "Hi");

        let bad = LambdaEvent::new(json!({"nope": 1}), lambda_runtime::Context::default());
        let err = handle_event(&skill, bad).await.unwrap_err();
        let diag = Diagnostic::from(err);
        assert_eq!(diag.error_type, "SkillError::InvalidEnvelope");
    }
}
