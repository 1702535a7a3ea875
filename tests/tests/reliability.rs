//! Reliability: contention with many writers and instances, faults between the adapter and the
//! emulator (stopped, hung, slow, a request cut in half), and what stays intact afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use persistence_core::{
    Attributes, Error, PersistenceAdapter, PersistenceAdapterExt, SaveMode, budget, conformance,
};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::proxy::{Fault, FaultProxy};
use persistence_integration_tests::{
    dynamodb_adapter, dynamodb_client, emulator, heavy, new_bucket, s3_client,
    s3_client_with_budget, sdk_config_with_budget,
};
use persistence_memory::MemoryAdapter;
use persistence_s3::S3Adapter;
use serde_json::json;

const WRITERS: usize = 32;

/// Four instances over one table, as four Lambda containers would be.
async fn dynamodb_instances() -> Option<Vec<Arc<dyn PersistenceAdapter>>> {
    let first = dynamodb_adapter("stress").await?;
    let mut all: Vec<Arc<dyn PersistenceAdapter>> = Vec::new();
    for _ in 0..3 {
        let client = dynamodb_client().await?;
        all.push(Arc::new(
            DynamoDbAdapter::builder(client, first.table_name()).build(),
        ));
    }
    all.push(Arc::new(first));
    Some(all)
}

async fn s3_instances() -> Option<Vec<Arc<dyn PersistenceAdapter>>> {
    let client = s3_client().await?;
    let bucket = new_bucket(&client, "stress").await;
    let mut all: Vec<Arc<dyn PersistenceAdapter>> = Vec::new();
    for _ in 0..4 {
        all.push(Arc::new(
            S3Adapter::builder(s3_client().await?, &bucket).build(),
        ));
    }
    Some(all)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_over_four_instances_lose_nothing_memory() {
    let store = MemoryAdapter::new();
    let instances: Vec<Arc<dyn PersistenceAdapter>> =
        (0..4).map(|_| Arc::new(store.clone()) as _).collect();
    let report = conformance::update_contention(&instances, WRITERS, 25).await;
    eprintln!("RELIABILITY memory: {report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_over_four_instances_lose_nothing_dynamodb() {
    let Some(instances) = dynamodb_instances().await else {
        return;
    };
    let _one_at_a_time = heavy().await;
    let report = conformance::update_contention(&instances, WRITERS, 3).await;
    eprintln!("RELIABILITY dynamodb: {report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn thirty_two_writers_over_four_instances_lose_nothing_s3() {
    let Some(instances) = s3_instances().await else {
        return;
    };
    let _one_at_a_time = heavy().await;
    let report = conformance::update_contention(&instances, WRITERS, 3).await;
    eprintln!("RELIABILITY s3: {report}");
}

/// The same workload with plain unconditional saves, as the official SDKs do: a documented
/// comparison of what is lost, not an assertion that something is.
async fn unconditional_increments(
    instances: &[Arc<dyn PersistenceAdapter>],
    per_writer: usize,
) -> u64 {
    let key = conformance::unique_key("unconditional");
    // Every writer reads before any writes, in each round: the worst case, made certain (on a
    // loaded machine, free-running tasks may happen not to interleave at all).
    let all_read = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let all_wrote = Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let a = instances[w % instances.len()].clone();
        let key = key.clone();
        let (all_read, all_wrote) = (all_read.clone(), all_wrote.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_writer {
                let mut attrs = a
                    .get(&key)
                    .await
                    .unwrap()
                    .map(|s| s.attributes)
                    .unwrap_or_default();
                let n = attrs.get("count").and_then(|v| v.as_u64()).unwrap_or(0);
                all_read.wait().await;
                attrs.insert("count".into(), json!(n + 1));
                a.save(&key, &attrs, SaveMode::Overwrite).await.unwrap();
                all_wrote.wait().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = instances[0].get(&key).await.unwrap().unwrap();
    got.attributes["count"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unconditional_saves_lose_updates_for_comparison() {
    let _one_at_a_time = heavy().await;
    let memory = MemoryAdapter::new();
    let mut backends: Vec<(&str, Vec<Arc<dyn PersistenceAdapter>>)> = vec![(
        "memory",
        (0..4).map(|_| Arc::new(memory.clone()) as _).collect(),
    )];
    if let Some(d) = dynamodb_instances().await {
        backends.push(("dynamodb", d));
    }
    if let Some(s) = s3_instances().await {
        backends.push(("s3", s));
    }
    for (name, instances) in backends {
        let per_writer = 3;
        let kept = unconditional_increments(&instances, per_writer).await;
        let expected = (WRITERS * per_writer) as u64;
        // 32 writers read the same count each round and all write count + 1: one increment
        // per round survives, every other is lost.
        assert_eq!(kept, per_writer as u64, "{name}: kept {kept} of {expected}");
        eprintln!(
            "RELIABILITY {name}: unconditional saves kept {kept} of {expected} increments \
             ({} lost); update() keeps all",
            expected - kept
        );
    }
}

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

/// The most a failing call may take: the operation budget, plus slack for a loaded machine.
fn no_hang_bound() -> Duration {
    budget::OPERATION_TIMEOUT + Duration::from_secs(3)
}

/// Runs the fault scenarios through `via_proxy` (an adapter whose client goes through `proxy`);
/// `direct` reaches the same storage without the proxy.
async fn fault_scenarios(
    name: &str,
    proxy: &FaultProxy,
    via_proxy: &dyn PersistenceAdapter,
    direct: &dyn PersistenceAdapter,
    cut_request_test: bool,
) {
    let key = conformance::unique_key("faults");
    let saved = attrs(json!({"streak": 41, "usual": "latte"}));
    via_proxy
        .save(&key, &saved, SaveMode::Overwrite)
        .await
        .unwrap();

    // 1. The emulator stops answering (connections refused/closed, then hung): every call fails
    //    with a typed error within the time budget, and nothing saved is altered.
    for fault in [Fault::Drop, Fault::Hang] {
        proxy.set(fault);
        let ops: [(&str, BoxFuture<'_, persistence_core::Result<()>>); 3] = [
            (
                "get",
                Box::pin(async { via_proxy.get(&key).await.map(|_| ()) }),
            ),
            (
                "save",
                Box::pin(async {
                    via_proxy
                        .save(&key, &attrs(json!({"streak": 0})), SaveMode::Overwrite)
                        .await
                        .map(|_| ())
                }),
            ),
            ("delete", Box::pin(async { via_proxy.delete(&key).await })),
        ];
        for (op, fut) in ops {
            let started = Instant::now();
            let r = tokio::time::timeout(Duration::from_secs(30), fut)
                .await
                .unwrap_or_else(|_| panic!("{name} {op} under {fault:?} hung for 30 s"));
            let took = started.elapsed();
            let e = r.expect_err("a call through a dead emulator cannot succeed");
            // A write whose request may have gone out cannot be settled while the emulator is
            // dead: its outcome is unknown (never a conflict, never success).
            assert!(
                matches!(e, Error::Backend { .. })
                    || (op != "get" && matches!(e, Error::OutcomeUnknown { .. })),
                "{name} {op} {fault:?}: {e:?}"
            );
            assert!(
                took < no_hang_bound(),
                "{name} {op} {fault:?} took {took:?}, over the budget"
            );
            eprintln!("RELIABILITY {name}: {op} under {fault:?} failed in {took:.1?}: {e}");
        }
        assert_eq!(
            direct.get(&key).await.unwrap().unwrap().attributes,
            saved,
            "{name}: data changed while the emulator was unreachable"
        );
    }

    // 2. Back again: the same adapter instance works without a restart.
    proxy.set(Fault::None);
    let got = via_proxy.get(&key).await.unwrap().unwrap();
    assert_eq!(got.attributes, saved);

    // 3. A slow answer on one connection: the attempt times out, the retry succeeds, and the
    //    whole call stays within the operation budget.
    proxy.set_for_next(
        Fault::Delay(budget::ATTEMPT_TIMEOUT + Duration::from_millis(500)),
        1,
    );
    let started = Instant::now();
    let got = via_proxy.get(&key).await.unwrap().unwrap();
    let took = started.elapsed();
    assert_eq!(got.attributes, saved);
    assert!(
        took < no_hang_bound(),
        "{name}: slow-then-ok get took {took:?}"
    );
    eprintln!("RELIABILITY {name}: get with one slow attempt succeeded in {took:.1?}");

    // 4. A save cut off in the middle of its request body never leaves a half-written value.
    if !cut_request_test {
        return;
    }
    let big = attrs(json!({"streak": 42, "history": "h".repeat(200_000)}));
    proxy.set(Fault::CutRequestAfter(60_000));
    let e = via_proxy
        .save(&key, &big, SaveMode::IfVersion(got.version.clone()))
        .await
        .expect_err("a cut request cannot succeed");
    assert!(matches!(e, Error::Backend { .. }), "{name}: {e:?}");
    proxy.set(Fault::None);
    let after = direct.get(&key).await.unwrap().unwrap();
    assert_eq!(
        after.attributes, saved,
        "{name}: a cut save left partial data"
    );
    assert_eq!(
        after.version, got.version,
        "{name}: a cut save changed the version"
    );
    // And the interrupted save can simply be made again.
    via_proxy
        .save(&key, &big, SaveMode::IfVersion(got.version))
        .await
        .unwrap();
    assert_eq!(direct.get(&key).await.unwrap().unwrap().attributes, big);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_survives_a_stopped_hung_slow_or_cut_emulator() {
    let Some(direct) = dynamodb_adapter("faults").await else {
        return;
    };
    let proxy = FaultProxy::start(&emulator().await.unwrap().endpoint)
        .await
        .unwrap();
    let client = aws_sdk_dynamodb::Client::new(&sdk_config_with_budget(&proxy.endpoint()).await);
    let via_proxy = DynamoDbAdapter::builder(client, direct.table_name()).build();
    fault_scenarios("dynamodb", &proxy, &via_proxy, &direct, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_survives_a_stopped_hung_slow_or_cut_emulator() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "faults").await;
    let direct = S3Adapter::builder(client, &bucket).build();
    let proxy = FaultProxy::start(&emulator().await.unwrap().endpoint)
        .await
        .unwrap();
    let via_proxy =
        S3Adapter::builder(s3_client_with_budget(&proxy.endpoint()).await, &bucket).build();
    // Not the cut-request scenario: LocalStack's S3 (2026.3.0) commits a PUT whose connection
    // is cut mid-body, truncated, even with Content-MD5 (real S3 answers IncompleteBody and
    // keeps the old object). Interrupted saves are covered above: a save that never completes
    // (connection dropped or hung) leaves the stored object as it was.
    eprintln!(
        "RELIABILITY s3: cut-request scenario not run: LocalStack S3 stores truncated bodies \
         of interrupted PUTs (an emulator fault; real S3 rejects them)"
    );
    fault_scenarios("s3", &proxy, &via_proxy, &direct, false).await;
}

/// A save whose request reached the emulator and committed, but whose answer the client never
/// got (held past the attempt timeout, or the connection cut after the request was sent): the
/// client retries, the retry finds the condition already spent, and the adapter must recognise
/// its own write. `update()` must then count exactly once: no "conflict", no second increment.
async fn lost_answers_count_once(
    name: &str,
    proxy: &FaultProxy,
    via_proxy: &dyn PersistenceAdapter,
    direct: &dyn PersistenceAdapter,
) {
    for fault in [
        Fault::Delay(budget::ATTEMPT_TIMEOUT + Duration::from_millis(600)),
        Fault::CutResponse,
    ] {
        for first_write in [false, true] {
            let key = conformance::unique_key("lost-answer");
            if !first_write {
                via_proxy
                    .save(&key, &attrs(json!({"streak": 41})), SaveMode::Overwrite)
                    .await
                    .unwrap();
            }
            let runs = AtomicU32::new(0);
            let started = Instant::now();
            let out = via_proxy
                .update(&key, |a| {
                    if runs.fetch_add(1, Ordering::SeqCst) == 0 {
                        // The save about to be sent goes through the faulty connection.
                        proxy.set_for_next(fault, 1);
                    }
                    let n = a.get("streak").and_then(|v| v.as_u64()).unwrap_or(0) + 1;
                    a.insert("streak".into(), json!(n));
                    n
                })
                .await;
            let took = started.elapsed();
            proxy.set(Fault::None);
            let expected = if first_write { 1 } else { 42 };
            let stored = direct.get(&key).await.unwrap().unwrap().attributes["streak"].clone();
            eprintln!(
                "RELIABILITY {name}: update() under {fault:?} ({}) -> {out:?} in {took:.1?}, \
                 stored streak {stored}, closure ran {} time(s)",
                if first_write { "create" } else { "existing" },
                runs.load(Ordering::SeqCst)
            );
            assert_eq!(
                out.as_ref().ok(),
                Some(&expected),
                "{name} {fault:?}: update() must report the write that landed"
            );
            assert_eq!(
                stored,
                json!(expected),
                "{name} {fault:?}: counted twice or not at all"
            );
            assert_eq!(
                runs.load(Ordering::SeqCst),
                1,
                "{name} {fault:?}: the change was applied again after its own write landed"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamodb_update_counts_once_when_the_save_answer_is_lost() {
    let Some(direct) = dynamodb_adapter("lost-answer").await else {
        return;
    };
    let proxy = FaultProxy::start(&emulator().await.unwrap().endpoint)
        .await
        .unwrap();
    let client = aws_sdk_dynamodb::Client::new(&sdk_config_with_budget(&proxy.endpoint()).await);
    let via_proxy = DynamoDbAdapter::builder(client, direct.table_name()).build();
    lost_answers_count_once("dynamodb", &proxy, &via_proxy, &direct).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_update_counts_once_when_the_save_answer_is_lost() {
    let Some(client) = s3_client().await else {
        return;
    };
    let bucket = new_bucket(&client, "lost-answer").await;
    let direct = S3Adapter::builder(client, &bucket).build();
    let proxy = FaultProxy::start(&emulator().await.unwrap().endpoint)
        .await
        .unwrap();
    let via_proxy =
        S3Adapter::builder(s3_client_with_budget(&proxy.endpoint()).await, &bucket).build();
    lost_answers_count_once("s3", &proxy, &via_proxy, &direct).await;
}
