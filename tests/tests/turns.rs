//! Two devices of one user in overlapping turns, through the skill builder's turn state, on
//! every backend (memory, SQLite; DynamoDB and S3 on LocalStack): different attributes merge;
//! the same attribute changed on both sides (even to the same value) is never merged silently,
//! and the second turn's handler runs again on the fresh data, so both count; a delete is never
//! undone by a stale turn, and a delete after reading nothing deletes nothing; a turn that only
//! reads writes nothing. Sessions carry their copy of the attributes between turns, so the
//! copies are exercised too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use persistence_core::{Attributes, PersistenceAdapter, SaveMode, conformance};
use persistence_integration_tests::{dynamodb_adapter, s3_adapter};
use persistence_memory::MemoryAdapter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use skill_builder::{HandlerError, Skill, SkillBuilder, Turn, TurnResult};
use skill_testkit::Conversation;
use tokio::sync::Barrier;

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

#[derive(Default, Serialize, Deserialize)]
struct Profile {
    streak: u32,
    usual: Option<String>,
    visits: u32,
}

/// The barrier a turn waits at after reading (only on its handler's first run), so that two
/// turns read before either saves.
#[derive(Clone)]
struct Meet(Arc<Barrier>);

async fn meet(turn: &Turn) {
    // A handler that runs again (after a conflict) does not wait a second time.
    if turn.extension::<Ran>().is_some() {
        return;
    }
    if let Some(Meet(b)) = turn.extension::<Meet>() {
        turn.insert_extension(Ran);
        b.wait().await;
    }
}

#[derive(Clone)]
struct Ran;

async fn streak(turn: Turn) -> TurnResult {
    turn.state::<Profile>().await?.streak += 1;
    meet(&turn).await;
    Ok(turn.speak("streak").end_session())
}

async fn usual(turn: Turn) -> TurnResult {
    turn.state::<Profile>().await?.usual = Some("latte".into());
    meet(&turn).await;
    Ok(turn.speak("usual").end_session())
}

async fn visit(turn: Turn) -> TurnResult {
    let mut p = turn.state::<Profile>().await?;
    p.visits += 1;
    let n = p.visits;
    drop(p);
    meet(&turn).await;
    Ok(turn.speak(format!("visit {n}")).end_session())
}

async fn reset(turn: Turn) -> TurnResult {
    turn.delete_persistent_attributes().await?;
    meet(&turn).await;
    Ok(turn.speak("reset").end_session())
}

async fn status(turn: Turn) -> TurnResult {
    let p = turn.state::<Profile>().await?;
    Ok(turn
        .speak(format!("{} {}", p.visits, p.streak))
        .reprompt("?"))
}

fn skill(store: Arc<dyn PersistenceAdapter>, barrier: Option<Arc<Barrier>>) -> Skill {
    SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .before(move |turn: Turn| {
            let barrier = barrier.clone();
            async move {
                // Only the turns asked to wait (by slot `meet`) and only their first run.
                if turn.slot_value("meet").is_some()
                    && turn.extension::<Ran>().is_none()
                    && let Some(b) = barrier
                {
                    turn.insert_extension(Meet(b));
                }
                Ok::<_, HandlerError>(())
            }
        })
        .on_launch(visit)
        .on_intent("VisitIntent", visit)
        .on_intent("StreakIntent", streak)
        .on_intent("UsualIntent", usual)
        .on_intent("ResetIntent", reset)
        .on_intent("StatusIntent", status)
        .build()
        .unwrap()
}

/// Two devices of `user` send `a` and `b` at once (each reads before either saves).
async fn at_once(
    store: &Arc<dyn PersistenceAdapter>,
    user: &str,
    a: &str,
    b: &str,
) -> (String, String) {
    let barrier = Arc::new(Barrier::new(2));
    let skill = skill(store.clone(), Some(barrier));
    let mut kitchen = Conversation::new(&skill).user(user).device("kitchen");
    let mut car = Conversation::new(&skill).user(user).device("car");
    let (x, y) = tokio::join!(
        kitchen.intent(a).slot("meet", "1").send(),
        car.intent(b).slot("meet", "1").send()
    );
    let (x, y) = (x.unwrap(), y.unwrap());
    (x.speech().to_owned(), y.speech().to_owned())
}

async fn stored(store: &Arc<dyn PersistenceAdapter>, user: &str) -> Option<Attributes> {
    store.get(user).await.unwrap().map(|s| s.attributes)
}

async fn two_devices(store: Arc<dyn PersistenceAdapter>) {
    let name = store.describe();
    // Different attributes: both kept.
    let user = conformance::unique_key("two-devices");
    store
        .save(
            &user,
            &attrs(json!({"streak": 3, "visits": 0})),
            SaveMode::Overwrite,
        )
        .await
        .unwrap();
    at_once(&store, &user, "StreakIntent", "UsualIntent").await;
    let got = stored(&store, &user).await.unwrap();
    assert_eq!(
        (got["streak"].clone(), got["usual"].clone()),
        (json!(4), json!("latte")),
        "[{name}]"
    );

    // The same attribute, the same new value on both sides (3 -> 4 twice): both visits count.
    let user = conformance::unique_key("same-attribute");
    store
        .save(&user, &attrs(json!({"visits": 3})), SaveMode::Overwrite)
        .await
        .unwrap();
    let (x, y) = at_once(&store, &user, "VisitIntent", "VisitIntent").await;
    let mut heard = [x, y];
    heard.sort();
    assert_eq!(heard, ["visit 4", "visit 5"], "[{name}]");
    assert_eq!(
        stored(&store, &user).await.unwrap()["visits"],
        5,
        "[{name}]"
    );

    // Two first visits at once (both create {"visits": 1}): both count.
    let user = conformance::unique_key("first-visits");
    at_once(&store, &user, "VisitIntent", "VisitIntent").await;
    assert_eq!(
        stored(&store, &user).await.unwrap()["visits"],
        2,
        "[{name}]"
    );

    // A reset and a stale turn: the reset is not undone (nothing the user discarded comes back).
    let user = conformance::unique_key("reset");
    store
        .save(
            &user,
            &attrs(json!({"streak": 9, "usual": "tea", "visits": 7})),
            SaveMode::Overwrite,
        )
        .await
        .unwrap();
    at_once(&store, &user, "ResetIntent", "StreakIntent").await;
    match stored(&store, &user).await {
        None => {}
        Some(a) => {
            assert!(
                a.get("usual").is_none() && a.get("visits").is_none(),
                "[{name}] {a:?}"
            );
            assert_eq!(
                a["streak"], 1,
                "[{name}] the streak counted on the discarded 9"
            );
        }
    }

    // A reset after reading nothing leaves what another device created meanwhile.
    let user = conformance::unique_key("reset-nothing");
    at_once(&store, &user, "ResetIntent", "StreakIntent").await;
    let got = stored(&store, &user).await;
    assert!(
        got.as_ref().is_none_or(|a| a["streak"] == 1),
        "[{name}] {got:?}"
    );

    // Reading never writes: a status turn for a new user stores nothing.
    let user = conformance::unique_key("read-only");
    let s = skill(store.clone(), None);
    let mut c = Conversation::new(&s).user(&user);
    assert_eq!(
        c.intent("StatusIntent").send().await.unwrap().speech(),
        "0 0"
    );
    assert!(
        stored(&store, &user).await.is_none(),
        "[{name}] a read stored defaults"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_memory() {
    two_devices(Arc::new(MemoryAdapter::new())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_dynamodb() {
    if let Some(a) = dynamodb_adapter("turns").await {
        two_devices(Arc::new(a)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_s3() {
    if let Some(a) = s3_adapter("turns", Some("turns")).await {
        two_devices(Arc::new(a)).await;
    }
}
