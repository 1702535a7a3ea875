//! Round trips per session (issue 22): one read per session through the carried copy, writes
//! only for turns that changed something, no lost update across the copy, and prefetch.
//! Request counts come from a counting adapter, never from timing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{Counting, USER, attrs};
use persistence_core::{PersistenceAdapter, PersistenceAdapterExt};
use persistence_memory::MemoryAdapter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use skill_builder::{HandlerError, Skill, SkillBuilder, Turn, TurnResult};
use skill_testkit::Conversation;

#[derive(Default, Serialize, Deserialize)]
struct Game {
    score: u32,
    level: u32,
}

async fn play(turn: Turn) -> TurnResult {
    turn.state::<Game>().await?.score += 1;
    Ok(turn.speak("point").reprompt("again?"))
}

async fn status(turn: Turn) -> TurnResult {
    let game = turn.state::<Game>().await?;
    Ok(turn
        .speak(format!("score {}", game.score))
        .reprompt("again?"))
}

fn game(store: Arc<dyn PersistenceAdapter>, carry: bool) -> Skill {
    SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .with_session_carry(carry)
        .on_launch(status)
        .on_intent("PlayIntent", play)
        .on_intent("StatusIntent", status)
        .build()
        .unwrap()
}

/// launch, play, status, play, status: five turns, two of them changing the state.
async fn five_turns(talk: &mut Conversation) -> Vec<String> {
    let mut heard = vec![talk.launch().await.unwrap().speech().to_owned()];
    for intent in ["PlayIntent", "StatusIntent", "PlayIntent", "StatusIntent"] {
        heard.push(
            talk.intent(intent)
                .send()
                .await
                .unwrap()
                .speech()
                .to_owned(),
        );
    }
    heard
}

#[tokio::test]
async fn a_five_turn_session_reads_once_and_writes_only_the_turns_that_changed() {
    let store = Counting::new(MemoryAdapter::new());
    store
        .inner
        .seed(USER, attrs(json!({"score": 10, "level": 2})));
    let skill = game(store.clone(), true);
    let mut talk = Conversation::new(&skill);
    let heard = five_turns(&mut talk).await;
    assert_eq!(
        heard,
        ["score 10", "point", "score 11", "point", "score 12"]
    );
    assert_eq!(store.gets(), 1, "one read per session");
    assert_eq!(
        store.saves(),
        2,
        "one write per turn that changed something"
    );
    assert_eq!(store.inner.attributes(USER).unwrap()["score"], 12);
    // The copy rides in the session but never reaches handlers as session state.
    assert!(talk.carries_persistent_attributes());
    assert!(talk.session_attributes().unwrap().is_empty());

    // Without the copy: every turn reads.
    let store = Counting::new(MemoryAdapter::new());
    store
        .inner
        .seed(USER, attrs(json!({"score": 10, "level": 2})));
    let skill = game(store.clone(), false);
    five_turns(&mut Conversation::new(&skill)).await;
    assert_eq!(store.gets(), 5);
    assert_eq!(store.saves(), 2);
}

#[tokio::test]
async fn a_change_from_another_device_during_the_session_is_not_lost() {
    let store = Counting::new(MemoryAdapter::new());
    store
        .inner
        .seed(USER, attrs(json!({"score": 10, "level": 2})));
    let skill = game(store.clone(), true);
    let mut talk = Conversation::new(&skill);
    talk.launch().await.unwrap();
    // Another device changes a different attribute, then the same one.
    store
        .inner
        .update(USER, |a| {
            a.insert("level".into(), json!(3));
        })
        .await
        .unwrap();
    talk.intent("PlayIntent").send().await.unwrap();
    let now = store.inner.attributes(USER).unwrap();
    assert_eq!(
        (now["score"].clone(), now["level"].clone()),
        (json!(11), json!(3)),
        "merged"
    );
    store
        .inner
        .update(USER, |a| {
            a.insert("score".into(), json!(50));
        })
        .await
        .unwrap();
    talk.intent("PlayIntent").send().await.unwrap();
    assert_eq!(
        store.inner.attributes(USER).unwrap()["score"],
        51,
        "the turn ran again on the other device's score"
    );
    // A read-only turn may have seen the stale copy; the next write corrected it, and the
    // session carries the fresh state from then on.
    assert_eq!(
        talk.intent("StatusIntent").send().await.unwrap().speech(),
        "score 51"
    );
}

#[tokio::test]
async fn a_copy_for_another_user_is_ignored() {
    let store = Counting::new(MemoryAdapter::new());
    store.inner.seed(USER, attrs(json!({"score": 10})));
    store
        .inner
        .seed("amzn1.ask.account.OTHER", attrs(json!({"score": 99})));
    let skill = game(store.clone(), true);
    let mut talk = Conversation::new(&skill);
    talk.launch().await.unwrap();
    let session = talk.session_attributes();
    assert!(session.is_some());
    // The same session, another user (a forged or mixed-up request): the copy is not theirs.
    let mut other = Conversation::new(&skill).user("amzn1.ask.account.OTHER");
    assert_eq!(other.launch().await.unwrap().speech(), "score 99");
}

#[tokio::test]
async fn the_read_starts_while_interceptors_run_and_is_dropped_when_not_needed() {
    let store = Counting::new(MemoryAdapter::new());
    store.inner.seed(USER, attrs(json!({"score": 10})));
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(usize::MAX));
    let (s, st) = (seen.clone(), store.clone());
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store.clone())
        .before(move |_turn: Turn| {
            let (s, st) = (s.clone(), st.clone());
            async move {
                // A slow lookup (an account-linking userinfo call, say).
                tokio::time::sleep(Duration::from_millis(50)).await;
                s.store(st.gets(), std::sync::atomic::Ordering::SeqCst);
                Ok::<_, HandlerError>(())
            }
        })
        .on_launch(status)
        .on_intent("HelpIntent", |turn: Turn| async move {
            Ok::<_, HandlerError>(turn.speak("help").reprompt("?"))
        })
        .build()
        .unwrap();
    let mut talk = Conversation::new(&skill);
    talk.launch().await.unwrap();
    assert_eq!(
        seen.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the read had started before the interceptor finished"
    );
    assert_eq!(store.gets(), 1);

    // A turn that never uses the state: the slow read in flight is dropped with the turn.
    store.slow_reads(Duration::from_secs(2));
    talk.new_session();
    let help = tokio::time::timeout(Duration::from_secs(1), talk.intent("HelpIntent").send())
        .await
        .expect("the turn waited for a read it did not need")
        .unwrap();
    assert_eq!(help.speech(), "help");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(store.gets(), 2, "the read was started");
    assert_eq!(store.gets_done(), 1, "and dropped, not finished");
}

#[tokio::test]
async fn a_key_set_at_once_by_an_interceptor_is_the_only_one_read() {
    let store = Counting::new(MemoryAdapter::new());
    store
        .inner
        .seed("linked-subject", attrs(json!({"score": 7})));
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store.clone())
        .before(|turn: Turn| async move {
            turn.use_persistence_key("linked-subject")?;
            Ok::<_, HandlerError>(())
        })
        .on_launch(status)
        .build()
        .unwrap();
    let out = Conversation::new(&skill).launch().await.unwrap();
    assert_eq!(out.speech(), "score 7");
    assert_eq!(store.gets(), 1, "no read was issued for the user-ID key");
}
