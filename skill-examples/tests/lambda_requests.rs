//! The Alexa requests `scripts/lambda-e2e.sh` sends to the cafe under `cargo lambda watch`
//! (`tests/data/cafe-lambda/`), played here in-process through the Lambda front's handler on
//! memory: the same answers, so a change that breaks the end-to-end test shows up here first,
//! and the request files stay valid envelopes.

#![cfg(feature = "lambda")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers

use std::path::PathBuf;
use std::sync::Arc;

use persistence_core::PersistenceAdapter;
use persistence_memory::MemoryAdapter;
use serde_json::Value;
use skill_builder::SkillError;
use skill_builder::lambda::{Context, LambdaEvent};
use tower_service::Service;

/// What `lambda_runtime::run(skill)` does with each event.
async fn handle_event(
    skill: &skill_builder::Skill,
    event: LambdaEvent<Value>,
) -> Result<skill_builder::ResponseEnvelope, SkillError> {
    let envelope = serde_json::from_value(event.payload).map_err(SkillError::InvalidEnvelope)?;
    skill
        .clone()
        .call(LambdaEvent::new(envelope, event.context))
        .await
}

/// The skill ID in the request files (and what the end-to-end test sets as ALEXA_SKILL_ID).
const SKILL_ID: &str = "amzn1.ask.skill.7c0ffee0-cafe-4e2e-9a11-0000000cafe1";

fn request(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cafe-lambda")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

#[tokio::test]
async fn two_sessions_of_one_user_through_the_lambda_handler_remember_the_usual() {
    let store = Arc::new(MemoryAdapter::new());
    let skill = skill_examples::cafe::builder(store.clone())
        .with_skill_id(SKILL_ID)
        .build()
        .unwrap();
    let mut user = None;
    for (file, speech, ends) in [
        (
            "1-session1-launch.json",
            skill_examples::cafe::WELCOME,
            false,
        ),
        (
            "2-session1-order-large-coffee.json",
            "Alright! Your large coffee will be served soon!",
            true,
        ),
        (
            "3-session2-launch.json",
            skill_examples::cafe::WELCOME,
            false,
        ),
        (
            "4-session2-my-usual.json",
            "Got it. I will make your usual large coffee!",
            true,
        ),
    ] {
        let event = request(file);
        user = event["context"]["System"]["user"]["userId"]
            .as_str()
            .map(str::to_owned);
        let response = handle_event(&skill, LambdaEvent::new(event, Context::default()))
            .await
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let out = response.response;
        assert_eq!(
            out.output_speech.as_ref().map(|s| s.content()),
            Some(speech),
            "{file}"
        );
        assert_eq!(out.should_end_session.unwrap_or(false), ends, "{file}");
    }
    let stored = store.get(&user.unwrap()).await.unwrap().expect("stored");
    assert_eq!(stored.attributes["drink"], "coffee");
    assert_eq!(stored.attributes["size"], "large");
}

#[tokio::test]
async fn a_request_for_another_skill_is_refused() {
    let store: Arc<dyn PersistenceAdapter> = Arc::new(MemoryAdapter::new());
    let skill = skill_examples::cafe::builder(store)
        .with_skill_id(SKILL_ID)
        .build()
        .unwrap();
    let event = LambdaEvent::new(request("9-other-skill-launch.json"), Context::default());
    match handle_event(&skill, event).await {
        Err(SkillError::SkillIdMismatch { expected, .. }) => assert_eq!(expected, SKILL_ID),
        other => panic!("{other:?}"),
    }
}
