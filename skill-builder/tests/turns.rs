//! What a turn writes (issue 19 items 1, 2 and 8): reading writes nothing, a delete after
//! loading nothing deletes nothing, and two devices changing the same attribute at once both
//! count (the second turn's handler runs again on the fresh data).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Counting, USER, attrs};
use persistence_core::{PersistenceAdapter, SaveMode};
use persistence_memory::MemoryAdapter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use skill_builder::{HandlerError, Skill, SkillBuilder, Turn, TurnResult};
use skill_testkit::Conversation;
use tokio::sync::Barrier;

#[derive(Default, Serialize, Deserialize)]
struct Usual {
    drink: Option<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Visits {
    visits: u32,
}

async fn my_usual(turn: Turn) -> TurnResult {
    let usual = turn.state::<Usual>().await?; // read only
    Ok(turn
        .speak(usual.drink.clone().unwrap_or_else(|| "nothing".into()))
        .end_session())
}

async fn order(turn: Turn) -> TurnResult {
    let drink = turn.slot_value("drink").unwrap_or("coffee").to_owned();
    turn.state::<Usual>().await?.drink = Some(drink);
    Ok(turn.speak("ok").end_session())
}

async fn reset(turn: Turn) -> TurnResult {
    turn.delete_persistent_attributes().await?;
    Ok(turn.speak("forgotten").end_session())
}

fn cafe(store: Arc<dyn PersistenceAdapter>) -> Skill {
    SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .on_intent("MyUsualIntent", my_usual)
        .on_intent("OrderIntent", order)
        .on_intent("ResetIntent", reset)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_read_only_turn_writes_nothing_even_for_a_user_without_data() {
    let store = Counting::new(MemoryAdapter::new());
    let skill = cafe(store.clone());
    let mut talk = Conversation::new(&skill);
    assert_eq!(
        talk.intent("MyUsualIntent").send().await.unwrap().speech(),
        "nothing"
    );
    assert_eq!(
        store.saves(),
        0,
        "reading a new user's state stored defaults"
    );
    assert!(store.inner.is_empty());
    // A user with data: a read-only turn leaves it byte for byte (no `"drink": null` added).
    store.inner.seed(USER, attrs(json!({"other": 1})));
    talk.intent("MyUsualIntent").send().await.unwrap();
    assert_eq!(store.saves(), 0);
    assert_eq!(
        store.inner.attributes(USER).unwrap(),
        attrs(json!({"other": 1}))
    );
}

#[tokio::test]
async fn a_deleted_user_stays_deleted_after_a_read_only_turn() {
    let store = Counting::new(MemoryAdapter::new());
    let skill = cafe(store.clone());
    let mut talk = Conversation::new(&skill);
    talk.intent("OrderIntent")
        .slot("drink", "tea")
        .send()
        .await
        .unwrap();
    assert_eq!(
        talk.intent("ResetIntent").send().await.unwrap().speech(),
        "forgotten"
    );
    assert!(store.inner.attributes(USER).is_none());
    assert_eq!(
        talk.intent("MyUsualIntent").send().await.unwrap().speech(),
        "nothing"
    );
    assert!(
        store.inner.attributes(USER).is_none(),
        "the status turn wrote the deleted user back as defaults"
    );
}

#[tokio::test]
async fn a_delete_after_loading_nothing_leaves_what_another_device_created() {
    let store = MemoryAdapter::new();
    let barrier = Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let other_device = store.clone();
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(store.clone()))
        .on_intent("ResetIntent", move |turn: Turn| {
            let b = b.clone();
            let other = other_device.clone();
            async move {
                let usual = turn.state::<Usual>().await?; // nothing stored yet
                assert!(usual.drink.is_none());
                drop(usual);
                // Meanwhile another device creates the user's data.
                other
                    .save(
                        USER,
                        &attrs(json!({"drink": "latte"})),
                        SaveMode::CreateOnly,
                    )
                    .await?;
                b.wait().await;
                turn.delete_persistent_attributes().await?;
                Ok::<_, HandlerError>(turn.speak("forgotten").end_session())
            }
        })
        .build()
        .unwrap();
    let mut talk = Conversation::new(&skill);
    let (r, _) = tokio::join!(talk.intent("ResetIntent").send(), barrier.wait());
    r.unwrap();
    assert_eq!(
        store.attributes(USER).unwrap()["drink"],
        "latte",
        "the delete removed data created after the turn read nothing"
    );
}

/// A skill whose launch counts visits; every turn waits at the barrier after reading, so two
/// turns read the same count before either saves.
fn counter(store: Arc<dyn PersistenceAdapter>, barrier: Arc<Barrier>) -> Skill {
    SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .on_launch(move |turn: Turn| {
            let barrier = barrier.clone();
            async move {
                let mut v = turn.state::<Visits>().await?;
                v.visits += 1;
                let n = v.visits;
                drop(v);
                // Only the first run of each turn waits (a rerun must not deadlock).
                if turn.extension::<bool>().is_none() {
                    turn.insert_extension(true);
                    barrier.wait().await;
                }
                Ok::<_, HandlerError>(turn.speak(format!("visit {n}")).end_session())
            }
        })
        .build()
        .unwrap()
}

#[tokio::test]
async fn two_devices_counting_a_visit_at_once_both_count() {
    for seed in [json!({"visits": 3}), json!(null)] {
        let store = MemoryAdapter::new();
        if let Ok(a) = attrs_or_none(&seed) {
            store.seed(USER, a);
        }
        let barrier = Arc::new(Barrier::new(2));
        let skill = counter(Arc::new(store.clone()), barrier);
        let mut kitchen = Conversation::new(&skill).device("kitchen");
        let mut bedroom = Conversation::new(&skill).device("bedroom");
        let (a, b) = tokio::join!(kitchen.launch(), bedroom.launch());
        let (a, b) = (a.unwrap(), b.unwrap());
        let start = seed.get("visits").and_then(|v| v.as_u64()).unwrap_or(0);
        assert_eq!(
            store.attributes(USER).unwrap()["visits"],
            start + 2,
            "from {seed}: one visit was lost (answers: {:?}, {:?})",
            a.speech(),
            b.speech()
        );
        let mut heard = [a.speech().to_owned(), b.speech().to_owned()];
        heard.sort();
        assert_eq!(
            heard,
            [
                format!("visit {}", start + 1),
                format!("visit {}", start + 2)
            ]
        );
    }
}

fn attrs_or_none(v: &serde_json::Value) -> Result<persistence_core::Attributes, ()> {
    persistence_core::Attributes::try_from(v.clone()).map_err(|_| ())
}

#[tokio::test]
async fn changes_to_different_attributes_merge_without_running_again() {
    let store = Counting::new(MemoryAdapter::new());
    store
        .inner
        .seed(USER, attrs(json!({"drink": "tea", "visits": 1})));
    let barrier = Arc::new(Barrier::new(2));
    let (b1, b2) = (barrier.clone(), barrier.clone());
    let runs = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let r = runs.clone();
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store.clone())
        .on_intent("OrderIntent", move |turn: Turn| {
            let b = b1.clone();
            let r = r.clone();
            async move {
                r.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                turn.state::<Usual>().await?.drink = Some("latte".into());
                b.wait().await;
                Ok::<_, HandlerError>(turn.speak("ok").end_session())
            }
        })
        .on_launch(move |turn: Turn| {
            let b = b2.clone();
            async move {
                turn.state::<Visits>().await?.visits += 1;
                b.wait().await;
                Ok::<_, HandlerError>(turn.speak("hi").end_session())
            }
        })
        .build()
        .unwrap();
    let mut a = Conversation::new(&skill).device("a");
    let mut b = Conversation::new(&skill).device("b");
    let (x, y) = tokio::join!(a.intent("OrderIntent").send(), b.launch());
    x.unwrap();
    y.unwrap();
    assert_eq!(
        store.inner.attributes(USER).unwrap(),
        attrs(json!({"drink": "latte", "visits": 2}))
    );
    assert_eq!(
        runs.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no rerun was needed"
    );
}
