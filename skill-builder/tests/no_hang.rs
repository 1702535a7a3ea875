//! A turn cannot hang on itself (issue 20): every combination of the public API that used to
//! wait for a lock the handler's own guard held now answers, or fails with
//! `SkillError::StateBorrowed`, at once. Each case runs under a one-second timeout.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use skill_builder::{HandlerError, SkillBuilder, SkillError, Turn, TurnResult};
use skill_testkit::Conversation;

#[derive(Default, Serialize, Deserialize)]
struct Usual {
    drink: Option<String>,
}

#[derive(Default, Serialize, Deserialize)]
struct Other {
    visits: u32,
}

/// Runs `handler` as the launch handler and returns what the turn answered (speech) or its
/// error, within a second or fails the test.
async fn within_a_second<F, Fut>(handler: F) -> Result<String, String>
where
    F: Fn(Turn) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = TurnResult> + Send + 'static,
{
    let store = Arc::new(persistence_memory::MemoryAdapter::new());
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .on_launch(handler)
        .build()
        .unwrap();
    let mut talk = Conversation::new(&skill);
    let r = tokio::time::timeout(Duration::from_secs(1), talk.launch())
        .await
        .expect("the turn hung: it did not answer within a second");
    r.map(|x| x.speech().to_owned()).map_err(|e| e.to_string())
}

fn borrowed(r: &Result<String, String>) -> bool {
    r.as_ref().is_err_and(|e| e.contains("lent out"))
}

#[tokio::test]
async fn attributes_then_state_is_an_error_not_a_hang() {
    let r = within_a_second(|turn: Turn| async move {
        let _map = turn.attributes().await?;
        let _usual = turn.state::<Usual>().await?; // the shape that hung
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
}

#[tokio::test]
async fn state_then_attributes_and_state_then_other_state_are_errors_not_hangs() {
    let r = within_a_second(|turn: Turn| async move {
        let _usual = turn.state::<Usual>().await?;
        let _map = turn.attributes().await?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
    let r = within_a_second(|turn: Turn| async move {
        let _usual = turn.state::<Usual>().await?;
        let _other = turn.state::<Other>().await?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
}

#[tokio::test]
async fn a_guard_held_while_deleting_reloading_or_saving_is_an_error_not_a_hang() {
    let r = within_a_second(|turn: Turn| async move {
        let _usual = turn.state::<Usual>().await?;
        turn.delete_persistent_attributes().await?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
    let r = within_a_second(|turn: Turn| async move {
        let _usual = turn.attributes().await?;
        turn.reload_persistent_attributes().await?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
    let r = within_a_second(|turn: Turn| async move {
        let mut usual = turn.state::<Usual>().await?;
        usual.drink = Some("tea".into());
        turn.save_persistent_attributes().await?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
}

#[tokio::test]
async fn extensions_keys_and_session_state_work_while_a_persistent_guard_is_held() {
    let r = within_a_second(|turn: Turn| async move {
        let mut usual = turn.state::<Usual>().await?;
        turn.insert_extension(5u32);
        let n = turn.extension::<u32>().unwrap_or(0);
        // The same key: fine while loaded.
        turn.use_persistence_key(turn.user_id().unwrap_or_default().to_owned())?;
        let mut session = turn.session::<Other>()?;
        session.visits += n;
        usual.drink = Some("tea".into());
        Ok(turn.speak(format!("{} {}", n, session.visits)))
    })
    .await;
    assert_eq!(r.as_deref(), Ok("5 5"));
}

#[tokio::test]
async fn another_key_after_loading_and_two_session_guards_are_errors_not_hangs() {
    let r = within_a_second(|turn: Turn| async move {
        let _usual = turn.state::<Usual>().await?;
        turn.use_persistence_key("another-key")?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(
        r.as_ref().is_err_and(|e| e.contains("another key")),
        "{r:?}"
    );
    let r = within_a_second(|turn: Turn| async move {
        let _a = turn.session::<Other>()?;
        let _b = turn.session_attributes()?;
        Ok(turn.speak("unreachable"))
    })
    .await;
    assert!(borrowed(&r), "{r:?}");
}

#[tokio::test]
async fn guards_dropped_in_turn_let_every_view_be_used_and_changes_are_kept() {
    let store = Arc::new(persistence_memory::MemoryAdapter::new());
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store.clone())
        .on_launch(|turn: Turn| async move {
            {
                let mut usual = turn.state::<Usual>().await?;
                usual.drink = Some("tea".into());
            }
            {
                let mut map = turn.attributes().await?;
                map.insert("size".into(), "large".into());
            }
            let usual = turn.state::<Usual>().await?;
            Ok::<_, HandlerError>(turn.speak(usual.drink.clone().unwrap_or_default()))
        })
        .build()
        .unwrap();
    let mut talk = Conversation::new(&skill);
    let out = tokio::time::timeout(Duration::from_secs(1), talk.launch())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.speech(), "tea");
    let stored = talk.stored_attributes().await.unwrap().unwrap();
    assert_eq!(stored["drink"], "tea");
    assert_eq!(stored["size"], "large");
}

#[tokio::test]
async fn a_guard_that_outlives_its_handler_fails_the_turn_at_once() {
    let skill = SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(Arc::new(persistence_memory::MemoryAdapter::new()))
        .on_launch(|turn: Turn| async move {
            let mut usual = turn.state::<Usual>().await?;
            usual.drink = Some("tea".into());
            // Leaked into a task that outlives the handler.
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                drop(usual);
            });
            Ok::<_, HandlerError>(turn.speak("done"))
        })
        .build()
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(1), Conversation::new(&skill).launch())
        .await
        .expect("the turn waited for a guard");
    assert!(
        matches!(r, Err(SkillError::StateBorrowed { what: "persistent" })),
        "{r:?}"
    );
}
