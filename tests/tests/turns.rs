//! Two devices of one user in overlapping turns, through the skill builder's attributes manager,
//! on every backend: different attributes merge, the same attribute is a conflict the turn can
//! finish (reload, update), a delete is never undone by a stale turn.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use persistence_core::{Attributes, Error, PersistenceAdapter, SaveMode, UserIdKey, conformance};
use persistence_integration_tests::{dynamodb_adapter, s3_adapter};
use persistence_memory::MemoryAdapter;
use serde_json::json;
use skill_builder::HandlerInput;
use skill_builder::envelope::RequestEnvelope;

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

/// One device's turn for `user`.
fn turn(store: &Arc<dyn PersistenceAdapter>, user: &str) -> HandlerInput {
    let envelope: RequestEnvelope = serde_json::from_value(json!({
        "version": "1.0",
        "context": {"System": {"user": {"userId": user}}},
        "request": {"type": "LaunchRequest", "requestId": "r"}
    }))
    .unwrap();
    HandlerInput::new(envelope).with_persistence(store.clone(), UserIdKey)
}

async fn stored(store: &Arc<dyn PersistenceAdapter>, user: &str) -> Option<Attributes> {
    store.get(user).await.unwrap().map(|s| s.attributes)
}

async fn different_attributes_both_keep_their_change(store: Arc<dyn PersistenceAdapter>) {
    let user = conformance::unique_key("two-devices");
    store
        .save(
            &user,
            &attrs(json!({"streak": 3, "usual": "tea"})),
            SaveMode::Overwrite,
        )
        .await
        .unwrap();
    let mut kitchen = turn(&store, &user);
    let mut car = turn(&store, &user);
    kitchen
        .attributes_manager
        .persistent_attributes()
        .await
        .unwrap();
    car.attributes_manager
        .persistent_attributes()
        .await
        .unwrap();

    // The car saves the usual order first...
    car.attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("usual", "latte")
        .unwrap();
    assert!(
        car.attributes_manager
            .save_persistent_attributes()
            .await
            .unwrap()
    );
    // ...then the kitchen, which read before that, saves the streak: merged, not refused.
    kitchen
        .attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("streak", &4)
        .unwrap();
    let wrote = kitchen
        .attributes_manager
        .save_persistent_attributes()
        .await
        .unwrap_or_else(|e| panic!("[{}] disjoint changes did not merge: {e}", store.describe()));
    assert!(wrote);
    let want = attrs(json!({"streak": 4, "usual": "latte"}));
    assert_eq!(
        stored(&store, &user).await,
        Some(want.clone()),
        "[{}]",
        store.describe()
    );
    // The kitchen's turn now sees the merged attributes, and a further save is conditional on
    // the merged version.
    assert_eq!(
        kitchen
            .attributes_manager
            .persistent_attributes()
            .await
            .unwrap(),
        &want
    );
    kitchen
        .attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("visits", &1)
        .unwrap();
    assert!(
        kitchen
            .attributes_manager
            .save_persistent_attributes()
            .await
            .unwrap()
    );
    assert_eq!(
        stored(&store, &user).await.unwrap()["visits"],
        json!(1),
        "[{}]",
        store.describe()
    );
}

async fn both_create_at_once_and_both_keep_their_change(store: Arc<dyn PersistenceAdapter>) {
    let user = conformance::unique_key("two-new");
    let mut a = turn(&store, &user);
    let mut b = turn(&store, &user);
    a.attributes_manager.persistent_attributes().await.unwrap();
    b.attributes_manager.persistent_attributes().await.unwrap();
    b.attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("language", "de")
        .unwrap();
    b.attributes_manager
        .save_persistent_attributes()
        .await
        .unwrap();
    a.attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("visits", &1)
        .unwrap();
    a.attributes_manager
        .save_persistent_attributes()
        .await
        .unwrap();
    assert_eq!(
        stored(&store, &user).await,
        Some(attrs(json!({"language": "de", "visits": 1}))),
        "[{}]",
        store.describe()
    );
}

async fn the_same_attribute_is_a_conflict_the_turn_can_finish(store: Arc<dyn PersistenceAdapter>) {
    let user = conformance::unique_key("same-attribute");
    store
        .save(&user, &attrs(json!({"credits": 10})), SaveMode::Overwrite)
        .await
        .unwrap();
    let mut a = turn(&store, &user);
    let mut b = turn(&store, &user);
    a.attributes_manager.persistent_attributes().await.unwrap();
    b.attributes_manager.persistent_attributes().await.unwrap();
    b.attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("credits", &15)
        .unwrap();
    b.attributes_manager
        .save_persistent_attributes()
        .await
        .unwrap();
    a.attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("credits", &11)
        .unwrap();
    let e = a
        .attributes_manager
        .save_persistent_attributes()
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict { .. }),
        "[{}] {e:?}",
        store.describe()
    );
    assert!(
        e.to_string().contains("credits"),
        "names the attribute: {e}"
    );
    assert_eq!(
        stored(&store, &user).await.unwrap()["credits"],
        15,
        "nothing overwritten"
    );
    // Saving again without looking is still refused (the loaded copy stayed stale).
    assert!(
        a.attributes_manager
            .save_persistent_attributes()
            .await
            .is_err()
    );

    // The turn finishes: reload shows the other device's value...
    let fresh = a
        .attributes_manager
        .reload_persistent_attributes()
        .await
        .unwrap();
    assert_eq!(fresh["credits"], 15);
    assert!(!a.attributes_manager.persistent_attributes_changed());
    // ...and an update applies the change to fresh data, whoever writes meanwhile.
    let now = a
        .attributes_manager
        .update_persistent_attributes(|attrs| {
            let c = attrs.get("credits").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
            attrs.insert("credits".into(), json!(c));
            c
        })
        .await
        .unwrap();
    assert_eq!(now, 16);
    assert_eq!(
        stored(&store, &user).await.unwrap()["credits"],
        16,
        "[{}]",
        store.describe()
    );
    assert_eq!(
        a.attributes_manager.persistent_attributes().await.unwrap()["credits"],
        16
    );
}

async fn a_delete_is_never_undone_by_a_stale_turn(store: Arc<dyn PersistenceAdapter>) {
    let user = conformance::unique_key("start-over");
    store
        .save(
            &user,
            &attrs(json!({"level": 9, "coins": 300})),
            SaveMode::Overwrite,
        )
        .await
        .unwrap();
    let mut stale = turn(&store, &user);
    stale
        .attributes_manager
        .persistent_attributes()
        .await
        .unwrap();
    // "Start over" on another device.
    let mut other = turn(&store, &user);
    other
        .attributes_manager
        .persistent_attributes()
        .await
        .unwrap();
    other
        .attributes_manager
        .delete_persistent_attributes()
        .await
        .unwrap();
    assert_eq!(stored(&store, &user).await, None);
    // The stale turn changes an attribute the other never touched: still refused.
    stale
        .attributes_manager
        .persistent_attributes_mut()
        .await
        .unwrap()
        .set("last_seen", "today")
        .unwrap();
    let e = stale
        .attributes_manager
        .save_persistent_attributes()
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict { .. }),
        "[{}] {e:?}",
        store.describe()
    );
    assert_eq!(
        stored(&store, &user).await,
        None,
        "[{}] data came back",
        store.describe()
    );
}

async fn a_delete_after_another_save_is_refused(store: Arc<dyn PersistenceAdapter>) {
    let user = conformance::unique_key("delete-stale");
    store
        .save(&user, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let mut a = turn(&store, &user);
    a.attributes_manager.persistent_attributes().await.unwrap();
    store
        .save(&user, &attrs(json!({"n": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    let e = a
        .attributes_manager
        .delete_persistent_attributes()
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Conflict { .. }),
        "[{}] {e:?}",
        store.describe()
    );
    assert_eq!(stored(&store, &user).await, Some(attrs(json!({"n": 2}))));
    // Not loaded: the delete is what the user asked for, whatever is stored.
    let mut b = turn(&store, &user);
    b.attributes_manager
        .delete_persistent_attributes()
        .await
        .unwrap();
    assert_eq!(stored(&store, &user).await, None);
}

macro_rules! turn_tests {
    ($backend:ident, $make:expr) => {
        mod $backend {
            use super::*;

            async fn adapter() -> Option<Arc<dyn PersistenceAdapter>> {
                $make
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn different_attributes_both_keep_their_change() {
                let Some(a) = adapter().await else { return };
                super::different_attributes_both_keep_their_change(a).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn both_create_at_once_and_both_keep_their_change() {
                let Some(a) = adapter().await else { return };
                super::both_create_at_once_and_both_keep_their_change(a).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn the_same_attribute_is_a_conflict_the_turn_can_finish() {
                let Some(a) = adapter().await else { return };
                super::the_same_attribute_is_a_conflict_the_turn_can_finish(a).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_delete_is_never_undone_by_a_stale_turn() {
                let Some(a) = adapter().await else { return };
                super::a_delete_is_never_undone_by_a_stale_turn(a).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn a_delete_after_another_save_is_refused() {
                let Some(a) = adapter().await else { return };
                super::a_delete_after_another_save_is_refused(a).await;
            }
        }
    };
}

turn_tests!(
    memory,
    Some(Arc::new(MemoryAdapter::new()) as Arc<dyn PersistenceAdapter>)
);
turn_tests!(
    dynamodb,
    dynamodb_adapter("turns")
        .await
        .map(|a| Arc::new(a) as Arc<dyn PersistenceAdapter>)
);
turn_tests!(
    s3,
    s3_adapter("turns", Some("turns"))
        .await
        .map(|a| Arc::new(a) as Arc<dyn PersistenceAdapter>)
);
