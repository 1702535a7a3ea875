//! The plain async handler API: typed state, routing, fallback, errors with `?`, interceptors,
//! skill events, and what is saved when.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use persistence_memory::MemoryAdapter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use skill_builder::{HandlerError, Reply, SkillBuilder, SkillError, Turn, TurnResult};
use skill_testkit::Conversation;

const USER: &str = "amzn1.ask.account.PLAINHANDLERSTESTUSER";

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

#[derive(Default, Serialize, Deserialize)]
struct Progress {
    count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

async fn count(turn: Turn) -> TurnResult {
    let mut p = turn.state::<Progress>().await?;
    p.count += 1;
    Ok(turn.speak(format!("count {}", p.count)).reprompt("again?"))
}

async fn peek(turn: Turn) -> TurnResult {
    let p = turn.state::<Progress>().await?;
    let name = p.name.clone().unwrap_or_else(|| "nobody".into());
    Ok(turn
        .speak(format!("{name} at {}", p.count))
        .reprompt("again?"))
}

#[tokio::test]
async fn typed_state_is_saved_after_the_response_and_unknown_attributes_survive() {
    let store = MemoryAdapter::new();
    store.seed(
        USER,
        attrs(
            json!({"count": 1, "legacy": "written by the Python skill", "nested": {"a": [1, 2.5]}}),
        ),
    );
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .on_launch(count)
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    assert_eq!(c.launch().await.unwrap().speech(), "count 2");
    assert_eq!(
        store.attributes(USER).unwrap(),
        attrs(
            json!({"count": 2, "legacy": "written by the Python skill", "nested": {"a": [1, 2.5]}})
        ),
        "saved without an explicit save, unknown attributes kept"
    );
}

#[tokio::test]
async fn fields_missing_in_storage_take_their_default() {
    let store = MemoryAdapter::new();
    store.seed(USER, attrs(json!({"name": "Ada"})));
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .on_launch(peek)
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    assert_eq!(c.launch().await.unwrap().speech(), "Ada at 0");
}

/// A memory store that counts saves.
#[derive(Debug, Default)]
struct CountingSaves {
    inner: MemoryAdapter,
    saves: AtomicUsize,
}

#[persistence_core::async_trait]
impl PersistenceAdapter for CountingSaves {
    async fn get(&self, key: &str) -> persistence_core::Result<Option<persistence_core::Stored>> {
        self.inner.get(key).await
    }
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &persistence_core::SaveOptions,
    ) -> persistence_core::Result<persistence_core::Version> {
        self.saves.fetch_add(1, Ordering::SeqCst);
        self.inner.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> persistence_core::Result<()> {
        self.inner.delete(key).await
    }
    async fn delete_if(
        &self,
        key: &str,
        expected: &persistence_core::Version,
    ) -> persistence_core::Result<()> {
        self.inner.delete_if(key, expected).await
    }
    fn list_keys<'a>(
        &'a self,
        options: &persistence_core::ListOptions,
    ) -> persistence_core::Pages<'a, String> {
        self.inner.list_keys(options)
    }
    fn describe(&self) -> String {
        "counting saves".into()
    }
}

#[tokio::test]
async fn reading_typed_state_without_changing_it_writes_nothing() {
    let store = Arc::new(CountingSaves::default());
    store
        .inner
        .seed(USER, attrs(json!({"count": 3, "extra": true})));
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store.clone())
        .on_launch(peek)
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    assert_eq!(c.launch().await.unwrap().speech(), "nobody at 3");
    assert_eq!(store.saves.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn stored_attributes_that_do_not_fit_the_type_reach_the_error_handler() {
    let store = MemoryAdapter::new();
    store.seed(USER, attrs(json!({"count": "three"})));
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .on_launch(count)
        .on_error(|turn: Turn, error: SkillError| async move {
            Ok::<_, HandlerError>(turn.speak(format!("sorry: {error}")).end_session())
        })
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    let speech = c.launch().await.unwrap().speech().to_owned();
    assert!(
        speech.contains("Progress") && speech.contains("attribute `count`"),
        "names the type and the attribute: {speech}"
    );
    assert_eq!(
        store.attributes(USER).unwrap()["count"],
        "three",
        "nothing overwritten"
    );
}

#[derive(Default, Serialize, Deserialize)]
struct Step {
    step: u32,
}

#[tokio::test]
async fn typed_session_state_goes_out_with_the_response_keeping_unknown_fields() {
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .on_launch(|turn: Turn| async move {
            let mut s = turn.session::<Step>()?;
            s.step += 1;
            let reply = turn.speak(format!("step {}", s.step)).reprompt("next?");
            drop(s);
            turn.session_attributes()?
                .insert("other".into(), json!("kept"));
            Ok::<_, HandlerError>(reply)
        })
        .on_intent("NextIntent", |turn: Turn| async move {
            let mut s = turn.session::<Step>()?;
            s.step += 1;
            Ok::<_, HandlerError>(turn.speak(format!("step {}", s.step)).reprompt("next?"))
        })
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    let first = c.launch().await.unwrap();
    assert_eq!(first.speech(), "step 1");
    let second = c.intent("NextIntent").send().await.unwrap();
    assert_eq!(second.speech(), "step 2");
    let session = second.response().session_attributes.clone().unwrap();
    assert_eq!(session["step"], 2);
    assert_eq!(session["other"], "kept");
}

#[tokio::test]
async fn any_error_works_with_question_mark_and_persistence_errors_keep_their_type() {
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .on_intent("NumberIntent", |turn: Turn| async move {
            let n: u32 = turn.slot_value("n").unwrap_or("").parse()?; // ParseIntError
            Ok::<_, HandlerError>(turn.speak(format!("{n}")))
        })
        .on_error(|turn: Turn, error: SkillError| async move {
            let kind = match &error {
                SkillError::Handler(source) => format!("handler: {source}"),
                SkillError::Persistence(_) => "persistence".to_owned(),
                other => format!("other: {other}"),
            };
            Ok::<_, HandlerError>(turn.speak(kind))
        })
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    let out = c
        .intent("NumberIntent")
        .slot("n", "seven")
        .send()
        .await
        .unwrap();
    assert!(
        out.speech().starts_with("handler: invalid digit"),
        "{}",
        out.speech()
    );

    // No adapter: the persistence error is still a persistence error.
    let e: HandlerError = persistence_core::Error::NotConfigured { what: "x".into() }.into();
    assert!(matches!(e.into_skill_error(), SkillError::Persistence(_)));
}

#[tokio::test]
async fn routing_by_intent_names_fallback_and_session_end() {
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .on_intents(
            ["AMAZON.StopIntent", "AMAZON.CancelIntent"],
            |turn: Turn| async move { Ok::<_, HandlerError>(turn.speak("bye").end_session()) },
        )
        .fallback(|turn: Turn| async move {
            let what = turn.intent_name().unwrap_or("that").to_owned();
            Ok::<_, HandlerError>(
                turn.speak(format!("I can't do {what} yet"))
                    .reprompt("Try again?"),
            )
        })
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    assert_eq!(
        c.intent("AMAZON.CancelIntent")
            .send()
            .await
            .unwrap()
            .speech(),
        "bye"
    );
    assert_eq!(
        c.intent("AMAZON.FallbackIntent")
            .send()
            .await
            .unwrap()
            .speech(),
        "I can't do AMAZON.FallbackIntent yet"
    );
    assert_eq!(
        c.launch().await.unwrap().speech(),
        "I can't do that yet",
        "the fallback takes any request nothing else takes"
    );

    // Without a fallback: a session end gets the empty answer Alexa expects, anything else is
    // an unhandled-request error.
    let bare = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .build()
        .unwrap();
    let mut c = Conversation::new(&bare).user(USER);
    let ended = c
        .end_session(skill_builder::envelope::SessionEndedReason::UserInitiated)
        .await
        .unwrap();
    assert!(ended.response().response.output_speech.is_none());
    assert!(matches!(
        c.launch().await.unwrap_err(),
        SkillError::Unhandled { .. }
    ));
}

#[tokio::test]
async fn interceptors_run_before_and_can_rekey_persistence() {
    let store = MemoryAdapter::new();
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .before(|turn: Turn| async move {
            // E.g. the stable ID of a linked account, looked up here.
            turn.use_persistence_key("linked:subject-42")?;
            Ok::<_, HandlerError>(())
        })
        .on_launch(count)
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    c.launch().await.unwrap();
    assert!(store.attributes(USER).is_none());
    assert_eq!(store.attributes("linked:subject-42").unwrap()["count"], 1);

    let failing = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .before(
            |_turn: Turn| async move { Err::<(), _>(HandlerError::msg("profile service down")) },
        )
        .on_launch(|turn: Turn| async move { Ok::<_, HandlerError>(turn.speak("should not run")) })
        .on_error(|turn: Turn, e: SkillError| async move {
            Ok::<_, HandlerError>(turn.speak(format!("{e}")))
        })
        .build()
        .unwrap();
    let mut c = Conversation::new(&failing).user(USER);
    assert!(
        c.launch()
            .await
            .unwrap()
            .speech()
            .contains("profile service down")
    );
}

#[tokio::test]
async fn disabling_the_skill_erases_the_users_data() {
    let store = MemoryAdapter::new();
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .on_launch(count)
        .erase_data_on_skill_disabled()
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    c.launch().await.unwrap();
    assert!(store.attributes(USER).is_some());
    let out = c.skill_disabled().await.unwrap();
    assert!(out.response().response.output_speech.is_none());
    assert!(
        out.response().session_attributes.is_none(),
        "events have no session"
    );
    assert!(
        store.attributes(USER).is_none(),
        "the user's data is erased"
    );
    // Another user's data stays.
    store.seed("amzn1.ask.account.OTHER", attrs(json!({"count": 9})));
    c.skill_disabled().await.unwrap();
    assert!(store.attributes("amzn1.ask.account.OTHER").is_some());
}

#[tokio::test]
async fn state_taken_twice_in_one_handler_is_an_error_not_a_deadlock() {
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(MemoryAdapter::new()))
        .on_launch(|turn: Turn| async move {
            let _first = turn.state::<Progress>().await?;
            let second = turn.state::<Progress>().await;
            Ok::<_, HandlerError>(turn.speak(match second {
                Ok(_) => "both".to_owned(),
                Err(e) => format!("refused: {e}"),
            }))
        })
        .build()
        .unwrap();
    let mut c = Conversation::new(&skill).user(USER);
    let speech = tokio::time::timeout(std::time::Duration::from_secs(10), c.launch())
        .await
        .expect("no deadlock")
        .unwrap()
        .speech()
        .to_owned();
    assert!(speech.starts_with("refused"), "{speech}");
}

/// A skill whose launch counts, while "another device" overwrites the count between the read
/// and the save: on the first run only, or on every run.
fn interfered(
    store: &MemoryAdapter,
    every_run: bool,
) -> (skill_builder::Skill, Arc<std::sync::atomic::AtomicU64>) {
    let other = store.clone();
    let runs = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let r = runs.clone();
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .on_launch(move |turn: Turn| {
            let other = other.clone();
            let r = r.clone();
            async move {
                let mut p = turn.state::<Progress>().await?;
                let n = r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n == 0 || every_run {
                    other
                        .save(USER, &attrs(json!({"count": 100 + n})), SaveMode::Overwrite)
                        .await?;
                }
                p.count += 1;
                Ok::<_, HandlerError>(turn.speak(format!("counted {}", p.count)))
            }
        })
        .on_error(|turn: Turn, e: SkillError| async move {
            Ok::<Reply, HandlerError>(turn.speak(if e.is_conflict() {
                "conflict"
            } else {
                "other"
            }))
        })
        .build()
        .unwrap();
    (skill, runs)
}

#[tokio::test]
async fn a_conflicting_change_runs_the_handler_again_on_the_fresh_data() {
    let store = MemoryAdapter::new();
    let (skill, runs) = interfered(&store, false);
    let mut c = Conversation::new(&skill).user(USER);
    assert_eq!(c.launch().await.unwrap().speech(), "counted 101");
    assert_eq!(store.attributes(USER).unwrap()["count"], 101);
    assert_eq!(runs.load(std::sync::atomic::Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_conflict_that_never_settles_reaches_on_error_as_a_conflict() {
    let store = MemoryAdapter::new();
    let (skill, runs) = interfered(&store, true);
    let mut c = Conversation::new(&skill).user(USER);
    assert_eq!(c.launch().await.unwrap().speech(), "conflict");
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        u64::from(skill_builder::skill::DEFAULT_HANDLER_RUNS)
    );
    // Only the other device's writes are stored.
    assert_eq!(store.attributes(USER).unwrap()["count"], 102);
}
