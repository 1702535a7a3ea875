//! The model-based, fault-injecting history checker (issue 19), on all five backends.
//!
//! Many clients at once run seeded random operations against ONE store: adapter-level clients
//! (`get`, `update` appends, compare-and-set appends, `delete_if` after a get, blind saves and
//! deletes on a key each owns, some expiring on an injected `ManualClock` that clients move
//! forward) and two devices of each of two users playing whole skill turns ("Count", "Reset",
//! "Peek") through skill-builder with session carry. Every operation's invocation and outcome
//! (ok / failed / unknown) and everything each read saw goes into a history, which is checked
//! against a model ([`checker::model`]): every acknowledged append present exactly once unless a
//! removal that saw it may have removed it, no acknowledged removal undone, no change applied
//! twice, counters equal to what they count (equal changes never merged), ids of definitely
//! failed writes never present, reads consistent with real-time order, nothing unreadable, every
//! failure a typed `persistence_core::Error`.
//!
//! Faults: memory, SQLite and files run through a `FaultyAdapter` (refuse before sending, lose
//! the answer, lose it and retry with the same write token, delay); DynamoDB and S3 run on
//! LocalStack through an HTTP chaos proxy (`persistence_integration_tests::chaos`: throttling,
//! 500 before or after forwarding, a cut connection after forwarding, an answer held past the
//! SDK's attempt timeout, S3 409 `OperationAborted`), with the production time budget.
//!
//! Run: `flock /tmp/cargo.lock scripts/test.sh -p persistence-integration-tests --test checker
//! -- --nocapture`. See `tests/checker/README.md` for the knobs (`CHECKER_SEED`,
//! `CHECKER_CLIENTS`, `CHECKER_OPS`, `CHECKER_HISTORIES`, `CHECKER_SECONDS`) and the soak form.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "checker/mod.rs"]
mod checker;

use checker::backends::Backend;
use checker::run::{Config, check_backend};

async fn run(backend: Backend) {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .try_init();
    }
    let config = Config::from_env(backend);
    if let Err(report) = check_backend(backend, &config).await {
        panic!("{report}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checker_memory() {
    run(Backend::Memory).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checker_sqlite() {
    run(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checker_files() {
    run(Backend::Files).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checker_dynamodb() {
    run(Backend::DynamoDb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checker_s3() {
    run(Backend::S3).await;
}

/// The model itself: histories with a known anomaly are caught, a clean one passes.
#[test]
fn model_catches_known_anomalies() {
    use checker::history::{Event, Obs, Outcome};
    use std::collections::BTreeMap;
    let obs = |ids: &[&str], n: u64| Obs {
        ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        counter: n,
    };
    let append = |id: &str, inv, ret, outcome| Event::Append {
        key: "k".into(),
        id: id.into(),
        inv,
        ret,
        outcome,
        what: "update",
        error: None,
    };
    let finals = |o: Option<Obs>| BTreeMap::from([("k".to_owned(), o)]);
    let clean = [
        append("a", 0, 1, Outcome::Ok),
        append("b", 2, 3, Outcome::Unknown),
        append("c", 4, 5, Outcome::Failed),
    ];
    assert!(checker::model::check(&clean, &finals(Some(obs(&["a"], 1)))).is_empty());
    assert!(checker::model::check(&clean, &finals(Some(obs(&["a", "b"], 2)))).is_empty());
    let found = |f: Option<Obs>, events: &[Event]| checker::model::check(events, &finals(f));
    assert!(found(Some(obs(&["a", "a"], 2)), &clean)[0].starts_with("duplicate id"));
    assert!(found(Some(obs(&["a", "b"], 1)), &clean)[0].starts_with("counter mismatch"));
    assert!(found(Some(obs(&["a", "c"], 2)), &clean)[0].starts_with("failed write landed"));
    assert!(found(None, &clean)[0].starts_with("acked append lost"));
    let mut removed = clean.to_vec();
    removed.push(Event::Remove {
        key: "k".into(),
        seen: vec!["a".into()],
        inv: 6,
        ret: 7,
        outcome: Outcome::Ok,
        what: "delete_if",
        error: None,
    });
    assert!(found(None, &removed).is_empty());
    assert!(found(Some(obs(&["a"], 1)), &removed)[0].starts_with("acked delete undone"));
    let mut stale = clean.to_vec();
    stale.push(Event::Read {
        key: "k".into(),
        obs: None,
        inv: 6,
        ret: 7,
        fresh: true,
        what: "get",
    });
    assert!(found(Some(obs(&["a"], 1)), &stale)[0].starts_with("acked append lost"));
}

/// S3 bugs the checker found, reduced to exact fault sequences (`checker/s3_lost_answers.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_delete_if_that_landed_then_was_throttled_is_not_a_definite_failure() {
    checker::s3_lost_answers::delete_if_landed_then_throttled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_delete_if_that_landed_before_a_recreate_is_not_a_conflict() {
    checker::s3_lost_answers::delete_if_landed_then_recreated().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_save_that_landed_then_could_not_be_settled_is_outcome_unknown() {
    checker::s3_lost_answers::save_landed_then_settling_read_throttled().await;
}

/// Found while building the checker's lost-answer resends: `SaveOptions::token` promises that a
/// save sent again with the same token after it committed "writes nothing", but after a delete
/// of the key (the item and its recent tokens gone) a create-only resend writes again, bringing
/// back what the delete removed (an acknowledged delete undone), and an `IfVersion` resend says
/// `Conflict` for a write that landed. The checker's `FaultyAdapter` therefore never resends
/// across a delete (see tests/checker/README.md).
#[tokio::test]
#[ignore = "known limit, documented on SaveOptions::token: a token resend after a delete writes again"]
async fn a_resend_after_a_delete_does_not_write_again() {
    use persistence_core::{Attributes, PersistenceAdapter, SaveMode, SaveOptions, unique_token};
    let store = persistence_memory::MemoryAdapter::new();
    let attrs = Attributes::try_from(serde_json::json!({"x": 1})).unwrap();
    let opts = SaveOptions::new(SaveMode::CreateOnly).token(unique_token());
    let v = store.save_with("k", &attrs, &opts).await.unwrap();
    // Its answer was lost; another client reads what it wrote and deletes it.
    store.delete_if("k", &v).await.unwrap();
    // The resend of the same write.
    let _ = store.save_with("k", &attrs, &opts).await;
    assert!(
        store.get("k").await.unwrap().is_none(),
        "the acknowledged delete was undone by a resend of the write it deleted"
    );
}
