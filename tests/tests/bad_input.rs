//! Bad input from outside: malformed or partial request envelopes. Each gives a clear typed
//! error (naming the missing field where there is one), never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use persistence_core::PersistenceAdapter;
use persistence_memory::MemoryAdapter;
use serde_json::{Value, json};
use skill_builder::{
    DeviceIdKey, HandlerError, KeyGenerator, PersonIdKey, Skill, SkillBuilder, SkillError, Turn,
    UserIdKey,
};

/// A skill whose every request reads persistent attributes, with no exception handler, so
/// errors come back as they are.
fn skill(key: impl KeyGenerator + 'static) -> Skill {
    async fn visits(turn: Turn) -> Result<skill_builder::Reply, HandlerError> {
        let visits = turn
            .attributes()
            .await?
            .get_as::<u32>("visits")?
            .unwrap_or(0);
        Ok(turn.speak(format!("visit {visits}")))
    }
    SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(MemoryAdapter::new()) as Arc<dyn PersistenceAdapter>)
        .with_key_generator(key)
        .on_launch(visits)
        .fallback(visits)
        .build()
        .unwrap()
}

fn launch(context: Value) -> Value {
    json!({
        "version": "1.0",
        "context": context,
        "request": {"type": "LaunchRequest", "requestId": "r1",
                    "timestamp": "2026-11-22T10:00:00Z", "locale": "en-US"}
    })
}

fn missing_field(r: Result<impl std::fmt::Debug, SkillError>) -> &'static str {
    match r {
        Err(SkillError::MissingKeySource { field }) => field,
        other => panic!("expected a missing key source, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_ids_name_the_field() {
    let no_context = json!({"version": "1.0", "request": {"type": "LaunchRequest"}});
    assert_eq!(
        missing_field(skill(UserIdKey).invoke_value(no_context).await),
        "context.System.user.userId"
    );
    let no_user = launch(json!({"System": {"application": {"applicationId": "a"}}}));
    assert_eq!(
        missing_field(skill(UserIdKey).invoke_value(no_user.clone()).await),
        "context.System.user.userId"
    );
    assert_eq!(
        missing_field(skill(DeviceIdKey).invoke_value(no_user.clone()).await),
        "context.System.device.deviceId"
    );
    // Person ID falls back to the user ID, so with neither the user ID is what is missing.
    assert_eq!(
        missing_field(skill(PersonIdKey).invoke_value(no_user).await),
        "context.System.user.userId"
    );
    let empty_device =
        launch(json!({"System": {"user": {"userId": "u"}, "device": {"deviceId": ""}}}));
    assert_eq!(
        missing_field(skill(DeviceIdKey).invoke_value(empty_device).await),
        "context.System.device.deviceId"
    );
}

#[tokio::test]
async fn wrong_types_are_invalid_envelopes() {
    for bad in [
        launch(json!({"System": {"user": {"userId": 5}}})),
        launch(json!({"System": "not an object"})),
        json!({"version": "1.0", "request": "LaunchRequest"}),
        json!({"version": "1.0", "request": {"type": 7}}),
        json!([1, 2, 3]),
        json!(null),
    ] {
        let r = skill(UserIdKey).invoke_value(bad.clone()).await;
        assert!(
            matches!(r, Err(SkillError::InvalidEnvelope(_))),
            "{bad}: {r:?}"
        );
    }
    for text in [
        "",
        "{",
        "not json",
        "{\"version\": \"1.0\", \"request\": {\"type\": \"LaunchRequest\"}",
    ] {
        let r = skill(UserIdKey).invoke_json(text).await;
        assert!(
            matches!(r, Err(SkillError::InvalidEnvelope(_))),
            "{text:?}: {r:?}"
        );
    }
}

#[tokio::test]
async fn huge_and_deeply_nested_envelopes_do_not_crash() {
    // 8 MB of session attributes: parsed and answered.
    let mut huge = launch(json!({"System": {"user": {"userId": "u"}}}));
    huge["session"] =
        json!({"new": true, "sessionId": "s", "attributes": {"blob": "x".repeat(8 << 20)}});
    let r = skill(UserIdKey).invoke_value(huge.clone()).await;
    assert!(r.is_ok(), "{r:?}");
    let r = skill(UserIdKey).invoke_json(&huge.to_string()).await;
    assert!(r.is_ok());

    // 100 000 levels of nesting: refused by the parser's depth limit, not a stack overflow.
    let depth = 100_000;
    let deep = format!(
        "{{\"version\":\"1.0\",\"session\":{{\"attributes\":{{\"x\":{}{}}}}},\"request\":{{\"type\":\"LaunchRequest\"}}}}",
        "[".repeat(depth),
        "]".repeat(depth)
    );
    let r = skill(UserIdKey).invoke_json(&deep).await;
    assert!(
        matches!(r, Err(SkillError::InvalidEnvelope(_))),
        "{:?}",
        r.map(|_| ())
    );
}

#[tokio::test]
async fn unknown_request_types_reach_the_handlers() {
    let r = skill(UserIdKey)
        .invoke_value(json!({
            "version": "1.0",
            "context": {"System": {"user": {"userId": "u"}}},
            "request": {"type": "Alexa.Presentation.APL.UserEvent", "requestId": "r",
                        "arguments": ["go"], "source": {"type": "TouchWrapper"}}
        }))
        .await
        .unwrap();
    assert!(serde_json::to_string(&r).unwrap().contains("visit 0"));
}
