//! What the cache saves and what it costs, counted at the store: every call that reaches the
//! store behind the cache is a round trip.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use persistence_cache::CachingAdapter;
use persistence_core::exact::{ExactMap, ExactNumber, ExactValue};
use persistence_core::{
    Attributes, Error, Expiry, ManualClock, PersistenceAdapter, PersistenceAdapterExt, RetryPolicy,
    SaveMode, SaveOptions, Stored, unique_token,
};
use persistence_memory::MemoryAdapter;
use persistence_sqlite::SqliteAdapter;
use serde_json::{Value, json};

mod common;

use common::{Counting, attrs};

const KEY: &str = "amzn1.ask.account.ROUND-TRIPS";

fn counted() -> (Arc<Counting>, CachingAdapter<Arc<Counting>>) {
    let store = Arc::new(Counting::new(MemoryAdapter::new()));
    let cached = CachingAdapter::new(store.clone());
    (store, cached)
}

fn bump(a: &mut Attributes) -> u64 {
    let n = a.get("n").and_then(Value::as_u64).unwrap_or(0) + 1;
    a.insert("n".into(), json!(n));
    n
}

#[tokio::test]
async fn a_warm_reread_costs_no_round_trip() {
    let (store, cached) = counted();
    // An absent key is cached as absent.
    assert!(cached.get(KEY).await.unwrap().is_none());
    assert!(cached.get(KEY).await.unwrap().is_none());
    assert_eq!(store.counts.gets(), 1);

    // A save's copy answers the next read, at the version the save returned.
    let v = cached
        .save(KEY, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let got = cached.get(KEY).await.unwrap().unwrap();
    assert_eq!(got.attributes["n"], 1);
    assert_eq!(got.version, v);
    assert_eq!(got.attributes.read_at(), Some(&v));
    assert_eq!(store.counts.gets(), 1);

    // Five more turns of read-modify-write: writes only.
    for _ in 0..5 {
        cached.update(KEY, bump).await.unwrap();
    }
    assert_eq!(store.counts.gets(), 1);
    assert_eq!(store.counts.saves(), 6);
    assert_eq!(store.get(KEY).await.unwrap().unwrap().attributes["n"], 6);
}

#[tokio::test]
async fn after_the_time_to_live_it_reads_again() {
    let store = Arc::new(Counting::new(MemoryAdapter::new()));
    let ttl = Duration::from_millis(30);
    let cached = CachingAdapter::builder(store.clone())
        .time_to_live(ttl)
        .build();
    store
        .save(KEY, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    cached.get(KEY).await.unwrap();
    let before = store.counts.gets();
    assert_eq!(before, 1);
    // Only "at least the time to live later" is asserted, which sleeping cannot break.
    tokio::time::sleep(ttl * 3).await;
    let got = cached.get(KEY).await.unwrap().unwrap();
    assert_eq!(got.attributes["n"], 1);
    assert_eq!(store.counts.gets(), before + 1, "an old entry was trusted");
}

#[tokio::test]
async fn a_conflict_evicts_and_the_retry_reads_fresh() {
    // Two instances (two caches) over one store.
    let shared = MemoryAdapter::new();
    let store_a = Arc::new(Counting::new(shared.clone()));
    let a = CachingAdapter::new(store_a.clone());
    let b = CachingAdapter::new(shared.clone());

    a.update(KEY, bump).await.unwrap(); // n = 1, cached by a
    let seen_by_a = a.get(KEY).await.unwrap().unwrap();
    b.update(KEY, bump).await.unwrap(); // n = 2, through the other instance
    let reads = store_a.counts.gets();

    // Within its time to live, a still answers with what it saw: the staleness the crate
    // documents.
    let stale = a.get(KEY).await.unwrap().unwrap();
    assert_eq!(stale.attributes["n"], 1);
    assert_eq!(store_a.counts.gets(), reads);

    // A save conditional on that version is refused by the store, and evicts.
    let lost = a
        .save(
            KEY,
            &attrs(json!({"n": 99})),
            SaveMode::IfVersion(seen_by_a.version),
        )
        .await;
    assert!(matches!(lost, Err(Error::Conflict { .. })), "{lost:?}");
    let fresh = a.get(KEY).await.unwrap().unwrap();
    assert_eq!(fresh.attributes["n"], 2);
    assert_eq!(store_a.counts.gets(), reads + 1);

    // update() over a stale copy: one conflict, one fresh read, nothing lost.
    b.update(KEY, bump).await.unwrap(); // n = 3; a still holds n = 2
    let reads = store_a.counts.gets();
    let out = a
        .update_with(KEY, &RetryPolicy::default(), bump)
        .await
        .unwrap();
    assert_eq!(out.value, 4);
    assert_eq!(
        out.attempts, 2,
        "the stale copy should cost exactly one conflict"
    );
    assert_eq!(store_a.counts.gets(), reads + 1);
    assert_eq!(shared.attributes(KEY).unwrap()["n"], 4);
}

#[tokio::test]
async fn the_bound_on_entries_holds() {
    let store = Arc::new(Counting::new(MemoryAdapter::new()));
    let cached = CachingAdapter::builder(store.clone())
        .max_entries(16)
        .max_bytes(None)
        .build();
    for i in 0..200 {
        let key = format!("{KEY}-{i}");
        cached.get(&key).await.unwrap();
        cached
            .save(&key, &attrs(json!({ "i": i })), SaveMode::Overwrite)
            .await
            .unwrap();
    }
    let stats = cached.stats();
    eprintln!("max_entries 16 after 200 keys: {stats:?}");
    assert!(stats.entries <= 16, "{stats:?}");
    assert!(stats.entries > 0, "{stats:?}");
}

#[tokio::test]
async fn the_bound_on_bytes_holds() {
    let max = 64 * 1024;
    let cached = CachingAdapter::builder(MemoryAdapter::new())
        .max_entries(1_000)
        .max_bytes(Some(max))
        .build();
    let big = "x".repeat(4_000);
    for i in 0..100 {
        let key = format!("{KEY}-{i}");
        cached
            .save(&key, &attrs(json!({ "s": big })), SaveMode::Overwrite)
            .await
            .unwrap();
    }
    let stats = cached.stats();
    eprintln!("max_bytes 64 KiB after 100 entries of 4 KB: {stats:?}");
    assert!(stats.weighted_size <= max, "{stats:?}");
    // Each entry is counted at about 8 KB (its JSON twice), so at most 8 fit.
    assert!(stats.entries <= 8, "{stats:?}");
    // The count bound holds with the byte bound too: entries weigh at least max_bytes / max_entries.
    let cached = CachingAdapter::builder(MemoryAdapter::new())
        .max_entries(10)
        .max_bytes(Some(1 << 30))
        .build();
    for i in 0..100 {
        cached.get(&format!("{KEY}-{i}")).await.unwrap();
    }
    let stats = cached.stats();
    assert!(stats.entries <= 10, "{stats:?}");
}

/// Attributes holding numbers JSON cannot carry exactly, as a Python skill stores them.
fn exact_attributes() -> Attributes {
    let mut m = ExactMap::new();
    for (name, text) in [
        ("price", "1.50"),
        ("big", "1180591620717411303424"),
        ("third", "0.6666666666666666666666666667"),
        ("visits", "1"),
    ] {
        m.insert(
            name.into(),
            ExactValue::Number(ExactNumber::parse(text).unwrap()),
        );
    }
    m.insert(
        "list".into(),
        ExactValue::parse_json("[1.0, 2.50, {\"x\": 1E+2}]").unwrap(),
    );
    Attributes::from_exact(m).unwrap()
}

/// The cached copy of a save and the store's own read agree exactly: exact forms, version,
/// `read_at`, expiry.
async fn assert_same_as_store(cached: &dyn PersistenceAdapter, store: &dyn PersistenceAdapter) {
    let ours: Stored = cached.get(KEY).await.unwrap().unwrap();
    let theirs: Stored = store.get(KEY).await.unwrap().unwrap();
    assert_eq!(ours.attributes.to_exact(), theirs.attributes.to_exact());
    assert_eq!(ours.attributes, theirs.attributes);
    assert_eq!(ours.version, theirs.version);
    assert_eq!(ours.attributes.read_at(), theirs.attributes.read_at());
    assert_eq!(ours.expires_at, theirs.expires_at);
    assert_eq!(
        ours.attributes.changed_since_read(),
        theirs.attributes.changed_since_read()
    );
    for name in ours.attributes.keys() {
        assert_eq!(
            ours.attributes.exact(name),
            theirs.attributes.exact(name),
            "{name}"
        );
    }
}

async fn exact_forms_survive(store: Arc<Counting>, clock: ManualClock) {
    let cached = CachingAdapter::builder(store.clone())
        .clock(Arc::new(clock.clone()))
        .build();
    let minutes =
        SaveOptions::new(SaveMode::CreateOnly).expiry(Expiry::After(Duration::from_secs(90)));
    cached
        .save_with(KEY, &exact_attributes(), &minutes)
        .await
        .unwrap();
    assert_same_as_store(&cached, store.as_ref()).await;

    // A one-field change of what was read: the fields left alone keep their exact forms.
    let mut read = cached.get(KEY).await.unwrap().unwrap();
    read.attributes.insert("visits".into(), json!(2));
    let minutes = SaveOptions::new(SaveMode::IfVersion(read.version))
        .expiry(Expiry::After(Duration::from_secs(90)));
    cached
        .save_with(KEY, &read.attributes, &minutes)
        .await
        .unwrap();
    let reads = store.counts.gets();
    let now = cached.get(KEY).await.unwrap().unwrap();
    assert_eq!(store.counts.gets(), reads, "the save's copy was not cached");
    assert_eq!(
        now.attributes.exact("price").unwrap().to_json_text(),
        "1.50",
        "an attribute left alone lost its stored form"
    );
    assert_same_as_store(&cached, store.as_ref()).await;

    // Past its expiry, the cached copy reads as absent, as the store does, with no round trip.
    clock.advance(Duration::from_secs(91));
    let reads = store.counts.gets();
    assert!(cached.get(KEY).await.unwrap().is_none());
    assert_eq!(store.counts.gets(), reads);
    assert!(store.get(KEY).await.unwrap().is_none());

    // Sets are kept as sets by some stores and as lists by others: such a save is not cached,
    // and the next read brings the store's own forms.
    let mut with_set = ExactMap::new();
    with_set.insert(
        "tags".into(),
        ExactValue::StringSet(vec!["blue".into(), "green".into()]),
    );
    cached
        .save(
            KEY,
            &Attributes::from_exact(with_set).unwrap(),
            SaveMode::Overwrite,
        )
        .await
        .unwrap();
    let reads = store.counts.gets();
    assert_same_as_store(&cached, store.as_ref()).await;
    assert_eq!(store.counts.gets(), reads + 2, "a set's copy was cached");
}

#[tokio::test]
async fn exact_forms_survive_in_front_of_memory() {
    let clock = ManualClock::new();
    let store = MemoryAdapter::new().with_clock(Arc::new(clock.clone()));
    exact_forms_survive(Arc::new(Counting::new(store)), clock).await;
}

#[tokio::test]
async fn exact_forms_survive_in_front_of_sqlite() {
    let clock = ManualClock::new();
    let store = SqliteAdapter::builder(common::fresh_sqlite_path("exact"))
        .clock(Arc::new(clock.clone()))
        .open()
        .await
        .unwrap();
    exact_forms_survive(Arc::new(Counting::new(store)), clock).await;
}

#[tokio::test]
async fn expired_attributes_read_absent_without_a_round_trip() {
    let clock = ManualClock::new();
    let store = Arc::new(Counting::new(
        MemoryAdapter::new().with_clock(Arc::new(clock.clone())),
    ));
    let cached = CachingAdapter::builder(store.clone())
        .clock(Arc::new(clock.clone()))
        .build();
    let opts =
        SaveOptions::new(SaveMode::CreateOnly).expiry(Expiry::After(Duration::from_secs(60)));
    cached
        .save_with(KEY, &attrs(json!({"n": 1})), &opts)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(59));
    assert!(cached.get(KEY).await.unwrap().is_some());
    clock.advance(Duration::from_secs(2));
    assert!(cached.get(KEY).await.unwrap().is_none());
    assert_eq!(store.counts.gets(), 0);
    // A create-only save over them succeeds, as over an absent key.
    cached
        .save(KEY, &attrs(json!({"n": 2})), SaveMode::CreateOnly)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_save_with_its_own_token_is_not_cached() {
    // It may be the retry of a write whose answer was lost, answered with that write's version.
    let (store, cached) = counted();
    let opts = SaveOptions::new(SaveMode::CreateOnly).token(unique_token());
    cached
        .save_with(KEY, &attrs(json!({"n": 1})), &opts)
        .await
        .unwrap();
    cached.get(KEY).await.unwrap();
    assert_eq!(store.counts.gets(), 1);
}

#[tokio::test]
async fn an_unknown_outcome_evicts() {
    let (store, cached) = counted();
    cached.update(KEY, bump).await.unwrap();
    store.lose_save_answers.store(true, Ordering::SeqCst);
    let r = cached.update(KEY, bump).await;
    assert!(matches!(r, Err(Error::OutcomeUnknown { .. })), "{r:?}");
    store.lose_save_answers.store(false, Ordering::SeqCst);
    let reads = store.counts.gets();
    // The write was applied after all: the next read asks the store and sees it.
    let got = cached.get(KEY).await.unwrap().unwrap();
    assert_eq!(got.attributes["n"], 2);
    assert_eq!(store.counts.gets(), reads + 1);
}

#[tokio::test]
async fn refused_saves_evict() {
    let store = Arc::new(Counting::new(MemoryAdapter::new().with_max_item_bytes(100)));
    let cached = CachingAdapter::new(store.clone());
    cached.update(KEY, bump).await.unwrap();
    let r = cached
        .save(
            KEY,
            &attrs(json!({"s": "x".repeat(200)})),
            SaveMode::Overwrite,
        )
        .await;
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
    let reads = store.counts.gets();
    assert_eq!(cached.get(KEY).await.unwrap().unwrap().attributes["n"], 1);
    assert_eq!(store.counts.gets(), reads + 1);
}

#[tokio::test]
async fn deletes_evict() {
    let (store, cached) = counted();
    let v = cached
        .save(KEY, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    cached.delete(KEY).await.unwrap();
    assert!(cached.get(KEY).await.unwrap().is_none());
    assert_eq!(store.counts.gets(), 1);

    // delete_if: a stale version is a conflict that evicts; the current one deletes.
    let v1 = cached
        .save(KEY, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let stale = cached.delete_if(KEY, &v).await;
    assert!(matches!(stale, Err(Error::Conflict { .. })), "{stale:?}");
    assert_eq!(cached.get(KEY).await.unwrap().unwrap().version, v1);
    assert_eq!(store.counts.gets(), 2);
    cached.delete_if(KEY, &v1).await.unwrap();
    assert!(cached.get(KEY).await.unwrap().is_none());
    assert_eq!(store.counts.gets(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_in_flight_during_a_write_does_not_cache_the_older_answer() {
    let (store, cached) = counted();
    let cached = Arc::new(cached);
    let v1 = store
        .save(KEY, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    store.gate.arm();
    let reader = tokio::spawn({
        let cached = cached.clone();
        async move { cached.get(KEY).await.unwrap().unwrap() }
    });
    // The reader has read n = 1 and is held; a write through the same cache finishes first.
    store.gate.read_done.notified().await;
    let v2 = cached
        .save(
            KEY,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(v1.clone()),
        )
        .await
        .unwrap();
    store.gate.release.notify_one();
    let old = reader.await.unwrap();
    assert_eq!(old.version, v1);
    let reads = store.counts.gets();
    let now = cached.get(KEY).await.unwrap().unwrap();
    assert_eq!(now.version, v2, "the older read replaced the write's copy");
    assert_eq!(now.attributes["n"], 2);
    assert_eq!(store.counts.gets(), reads);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_caches_lose_no_update() {
    // Every writer goes through a cache; the count is read from the bare store.
    let shared = MemoryAdapter::new();
    let a = Arc::new(CachingAdapter::new(shared.clone()));
    let b = Arc::new(CachingAdapter::new(shared.clone()));
    let policy = RetryPolicy {
        max_attempts: 10_000,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    };
    let mut tasks = Vec::new();
    for w in 0..8 {
        let adapter = if w % 2 == 0 { a.clone() } else { b.clone() };
        let policy = policy.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0;
            for _ in 0..25 {
                let out = adapter.update_with(KEY, &policy, bump).await.unwrap();
                conflicts += out.attempts - 1;
                tokio::task::yield_now().await;
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await.unwrap();
    }
    assert_eq!(shared.attributes(KEY).unwrap()["n"], 200);
    eprintln!(
        "8 writers x 25 increments over two caches: 200 of 200, {conflicts} conflicts retried; \
         a: {:?}; b: {:?}",
        a.stats(),
        b.stats()
    );
}

/// Round trips of a five-turn session (each turn a read-modify-write of one user's attributes),
/// with and without the cache, on one instance and alternating between two: printed figures.
#[tokio::test]
async fn session_round_trips() {
    async fn session(instances: &[&dyn PersistenceAdapter], store: &Counting) -> (u64, u64, u64) {
        for turn in 0..5 {
            instances[turn % instances.len()]
                .update(KEY, bump)
                .await
                .unwrap();
        }
        (
            store.counts.gets(),
            store.counts.saves(),
            store.counts.conflicts(),
        )
    }
    let plain = Counting::new(MemoryAdapter::new());
    let p = session(&[&plain], &plain).await;
    let store = Arc::new(Counting::new(MemoryAdapter::new()));
    let one = CachingAdapter::new(store.clone());
    let c1 = session(&[&one], &store).await;
    let store2 = Arc::new(Counting::new(MemoryAdapter::new()));
    let (x, y) = (
        CachingAdapter::new(store2.clone()),
        CachingAdapter::new(store2.clone()),
    );
    let c2 = session(&[&x, &y], &store2).await;
    eprintln!("five-turn session (reads, writes, conflicts at the store):");
    eprintln!("  no cache:                      {p:?}");
    eprintln!("  cache, one instance:           {c1:?}");
    eprintln!("  caches, two instances in turn: {c2:?}");
    assert_eq!(p, (5, 5, 0));
    assert_eq!(c1, (1, 5, 0));
    assert_eq!(store2.get(KEY).await.unwrap().unwrap().attributes["n"], 5);
}
