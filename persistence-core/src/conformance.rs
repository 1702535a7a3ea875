//! The conformance suite: the behaviour every backend guarantees, as async checks its tests run.
//!
//! A backend is done when it passes all of these. Each check panics (like an assertion) with a
//! message naming the backend and what differed. The [`conformance_tests!`](crate::conformance_tests)
//! macro turns the whole suite into one `#[tokio::test]` per check for a backend:
//!
//! ```
//! # // In a backend's tests/conformance.rs:
//! # mod demo {
//! use std::sync::Arc;
//! use persistence_core::PersistenceAdapter;
//! # #[derive(Debug, Default)] struct MyAdapter;
//! # #[async_trait::async_trait] impl PersistenceAdapter for MyAdapter {
//! #   async fn get(&self, _: &str) -> persistence_core::Result<Option<persistence_core::Stored>> { unimplemented!() }
//! #   async fn save(&self, _: &str, _: &persistence_core::Attributes, _: persistence_core::SaveMode) -> persistence_core::Result<persistence_core::Version> { unimplemented!() }
//! #   async fn delete(&self, _: &str) -> persistence_core::Result<()> { unimplemented!() }
//! #   fn describe(&self) -> String { "demo".into() }
//! # }
//!
//! persistence_core::conformance_tests!(
//!     // an async expression giving a fresh Arc<dyn PersistenceAdapter> and the backend's key
//!     // limit, or None when the backend cannot run here
//!     async { Some((Arc::new(MyAdapter::default()) as Arc<dyn PersistenceAdapter>, 2048)) }
//! );
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::{
    Attributes, Error, PersistenceAdapter, PersistenceAdapterExt, RetryPolicy, SaveMode, Stored,
};

/// A key no other test run uses, so suites can share one table or bucket.
pub fn unique_key(case: &str) -> String {
    format!(
        "amzn1.ask.account.conformance-{case}-{:016x}",
        fastrand::u64(..)
    )
}

fn attrs(v: Value) -> Attributes {
    Attributes::try_from(v).expect("test attributes are an object")
}

async fn must_get(a: &dyn PersistenceAdapter, key: &str) -> Stored {
    a.get(key)
        .await
        .unwrap_or_else(|e| panic!("[{}] get failed: {e}", a.describe()))
        .unwrap_or_else(|| {
            panic!(
                "[{}] get found nothing where a value was saved",
                a.describe()
            )
        })
}

/// Reading a key never written is `Ok(None)`, not an error.
pub async fn absent_read(a: &dyn PersistenceAdapter) {
    let got = a.get(&unique_key("absent")).await;
    assert!(
        matches!(got, Ok(None)),
        "[{}] absent key read as {got:?}",
        a.describe()
    );
}

/// What is saved is what is read back, with the version the save returned.
pub async fn round_trip(a: &dyn PersistenceAdapter) {
    let key = unique_key("round-trip");
    let value = attrs(json!({"drink": "latte", "visits": 3, "premium": false}));
    let v = a.save(&key, &value, SaveMode::Overwrite).await.unwrap();
    let got = must_get(a, &key).await;
    assert_eq!(got.attributes, value, "[{}] round trip", a.describe());
    assert_eq!(
        got.version,
        v,
        "[{}] version read != version saved",
        a.describe()
    );
}

/// An unconditional save replaces the whole object (no merge) and changes the version.
pub async fn overwrite(a: &dyn PersistenceAdapter) {
    let key = unique_key("overwrite");
    let v1 = a
        .save(&key, &attrs(json!({"a": 1, "b": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    let second = attrs(json!({"a": 10}));
    let v2 = a.save(&key, &second, SaveMode::Overwrite).await.unwrap();
    assert_ne!(v1, v2, "[{}] overwrite kept the version", a.describe());
    let got = must_get(a, &key).await;
    assert_eq!(
        got.attributes,
        second,
        "[{}] overwrite merged instead of replacing",
        a.describe()
    );
}

/// Deleting removes the attributes; a later read finds nothing.
pub async fn delete(a: &dyn PersistenceAdapter) {
    let key = unique_key("delete");
    a.save(&key, &attrs(json!({"x": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.delete(&key).await.unwrap();
    assert!(
        a.get(&key).await.unwrap().is_none(),
        "[{}] deleted key still reads",
        a.describe()
    );
}

/// Deleting a key that was never written (or twice) is `Ok`.
pub async fn delete_absent(a: &dyn PersistenceAdapter) {
    let key = unique_key("delete-absent");
    a.delete(&key).await.unwrap();
    a.delete(&key).await.unwrap();
}

/// `IfVersion` with the current version succeeds; with a stale one it is a typed conflict and
/// leaves the stored value alone. Also on a key deleted since the read.
pub async fn versioned_save(a: &dyn PersistenceAdapter) {
    let key = unique_key("versioned");
    let v1 = a
        .save(&key, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let v2 = a
        .save(
            &key,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(v1.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("[{}] save at current version failed: {e}", a.describe()));
    assert_ne!(v1, v2);

    let stale = a
        .save(&key, &attrs(json!({"n": 99})), SaveMode::IfVersion(v1))
        .await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] stale version save gave {stale:?}",
        a.describe()
    );
    let got = must_get(a, &key).await;
    assert_eq!(
        got.attributes,
        attrs(json!({"n": 2})),
        "[{}] a failed save changed data",
        a.describe()
    );
    assert_eq!(got.version, v2);

    a.delete(&key).await.unwrap();
    let vanished = a
        .save(&key, &attrs(json!({"n": 3})), SaveMode::IfVersion(v2))
        .await;
    assert!(
        matches!(vanished, Err(Error::Conflict { .. })),
        "[{}] IfVersion on a deleted key gave {vanished:?}",
        a.describe()
    );
    assert!(
        a.get(&key).await.unwrap().is_none(),
        "[{}] a failed IfVersion save created the key",
        a.describe()
    );
}

/// `CreateOnly` writes an absent key once; the second is a typed conflict.
pub async fn create_only(a: &dyn PersistenceAdapter) {
    let key = unique_key("create-only");
    a.save(&key, &attrs(json!({"first": true})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let second = a
        .save(&key, &attrs(json!({"second": true})), SaveMode::CreateOnly)
        .await;
    assert!(
        matches!(second, Err(Error::Conflict { .. })),
        "[{}] second CreateOnly gave {second:?}",
        a.describe()
    );
    assert_eq!(
        must_get(a, &key).await.attributes,
        attrs(json!({"first": true}))
    );
}

/// Two keys never see each other's data, and deleting one leaves the other.
pub async fn key_isolation(a: &dyn PersistenceAdapter) {
    let k1 = unique_key("iso");
    let k2 = format!("{k1}-2");
    let k3 = format!("{k1}/sub");
    a.save(&k1, &attrs(json!({"who": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.save(&k2, &attrs(json!({"who": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.save(&k3, &attrs(json!({"who": 3})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.delete(&k2).await.unwrap();
    assert_eq!(
        must_get(a, &k1).await.attributes["who"],
        1,
        "[{}]",
        a.describe()
    );
    assert_eq!(
        must_get(a, &k3).await.attributes["who"],
        3,
        "[{}]",
        a.describe()
    );
    assert!(a.get(&k2).await.unwrap().is_none());
}

/// The JSON the suite expects every backend to store exactly: nesting, empty values, nulls,
/// booleans, unicode, integer extremes and floats that are easy to get wrong.
pub fn awkward_attributes() -> Attributes {
    attrs(json!({
        "nested": {"a": {"b": {"c": [1, [2, [3, {"d": "deep"}]]]}}},
        "mixed_list": [1, "two", null, true, {"x": []}, [], {}],
        "empty_string": "",
        "empty_map": {},
        "empty_list": [],
        "null": null,
        "yes": true,
        "no": false,
        "unicode": "héllo wörld ☕ 🐱 \u{0} \t\n\"quoted\" \\",
        "ключ 🔑": "значение",
        "i64_min": i64::MIN,
        "i64_max": i64::MAX,
        "u64_max": u64::MAX,
        "zero": 0,
        "minus_one": -1,
        // The last one needs correctly rounded float parsing (found by the property tests:
        // serde_json's default fast path reads it back one bit off).
        "floats": [0.1, 1e21, -2.5, 1.5e-7, 123_456.789, 0.30000000000000004, -1e-100,
                   6.02214076e23, -5.3575624515848524e-89],
        "long_string": "x".repeat(5000),
    }))
}

/// [`awkward_attributes`] round-trip exactly.
pub async fn awkward_json(a: &dyn PersistenceAdapter) {
    let key = unique_key("awkward");
    let value = awkward_attributes();
    a.save(&key, &value, SaveMode::Overwrite).await.unwrap();
    let got = must_get(a, &key).await.attributes;
    for (name, expected) in value.iter() {
        assert_eq!(
            got.get(name),
            Some(expected),
            "[{}] attribute `{name}` did not round-trip",
            a.describe()
        );
    }
    assert_eq!(got, value, "[{}] extra attributes appeared", a.describe());
}

/// Empty, overlong and control-character keys are refused with [`Error::InvalidKey`] by every
/// operation. `max_key_bytes` is the backend's documented limit: a key of exactly that many bytes
/// still works.
pub async fn invalid_keys(a: &dyn PersistenceAdapter, max_key_bytes: usize) {
    let prefix = unique_key("long");
    let longest = format!("{prefix}{}", "k".repeat(max_key_bytes - prefix.len()));
    let too_long = format!("{longest}k");
    let bad = [
        String::new(),
        too_long,
        "user\n1".to_string(),
        "user\u{0}1".to_string(),
        "tab\there".to_string(),
    ];
    let value = attrs(json!({"v": 1}));
    for key in &bad {
        let shown = key.escape_debug().to_string();
        let shown = &shown[..shown.len().min(40)];
        let g = a.get(key).await;
        assert!(
            matches!(g, Err(Error::InvalidKey { .. })),
            "[{}] get {shown}: {g:?}",
            a.describe()
        );
        let s = a.save(key, &value, SaveMode::Overwrite).await;
        assert!(
            matches!(s, Err(Error::InvalidKey { .. })),
            "[{}] save {shown}: {s:?}",
            a.describe()
        );
        let d = a.delete(key).await;
        assert!(
            matches!(d, Err(Error::InvalidKey { .. })),
            "[{}] delete {shown}: {d:?}",
            a.describe()
        );
    }
    a.save(&longest, &value, SaveMode::Overwrite)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "[{}] key of exactly {max_key_bytes} bytes: {e}",
                a.describe()
            )
        });
    assert_eq!(must_get(a, &longest).await.attributes, value);
    a.delete(&longest).await.unwrap();
}

/// Two adapter instances over the same storage (two Lambda containers): a version read through
/// one is honoured by the other.
pub async fn versions_across_instances(a: &dyn PersistenceAdapter, b: &dyn PersistenceAdapter) {
    let key = unique_key("two-instances");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let seen_by_a = must_get(a, &key).await;
    let seen_by_b = must_get(b, &key).await;
    assert_eq!(seen_by_a, seen_by_b, "instances disagree on what is stored");
    b.save(
        &key,
        &attrs(json!({"n": 2, "by": "b"})),
        SaveMode::IfVersion(seen_by_b.version),
    )
    .await
    .unwrap();
    let lost = a
        .save(
            &key,
            &attrs(json!({"n": 2, "by": "a"})),
            SaveMode::IfVersion(seen_by_a.version),
        )
        .await;
    assert!(
        matches!(lost, Err(Error::Conflict { .. })),
        "[{}] stale write through the other instance gave {lost:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["by"], "b");
}

/// What [`update_contention`] saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentionReport {
    /// Concurrent writers.
    pub writers: usize,
    /// Increments each writer applied.
    pub increments: usize,
    /// The counter read at the end: must be `writers * increments`.
    pub final_count: u64,
    /// Conflicts seen (and retried) in all.
    pub conflicts: u64,
    /// The most attempts one increment needed.
    pub max_attempts: u32,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl fmt::Display for ContentionReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} writers x {} increments: final count {} (expected {}), {} conflicts retried, \
             at most {} attempts for one increment, {:.0?}",
            self.writers,
            self.increments,
            self.final_count,
            self.writers * self.increments,
            self.conflicts,
            self.max_attempts,
            self.elapsed
        )
    }
}

/// `writers` tasks (spread round-robin over `adapters`, which must share storage) each add 1 to
/// one counter `increments` times through [`PersistenceAdapterExt::update_with`]; the final count
/// must be exactly `writers * increments`: no update lost. Needs a Tokio runtime; run it on a
/// multi-threaded one to get real parallelism.
pub async fn update_contention(
    adapters: &[Arc<dyn PersistenceAdapter>],
    writers: usize,
    increments: usize,
) -> ContentionReport {
    assert!(!adapters.is_empty(), "update_contention needs an adapter");
    let key = unique_key("contention");
    // Generous but bounded: every conflict means another writer made progress.
    let policy = RetryPolicy {
        max_attempts: 10_000,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(50),
    };
    let start = Instant::now();
    let mut handles = Vec::with_capacity(writers);
    for w in 0..writers {
        let adapter: Arc<dyn PersistenceAdapter> =
            Arc::new(Yielding(Arc::clone(&adapters[w % adapters.len()])));
        let key = key.clone();
        let policy = policy.clone();
        handles.push(tokio::spawn(async move {
            let mut conflicts = 0u64;
            let mut max_attempts = 0u32;
            for _ in 0..increments {
                let out = adapter
                    .update_with(&key, &policy, |attrs| {
                        let n = attrs.get("count").and_then(Value::as_u64).unwrap_or(0);
                        attrs.insert("count".into(), json!(n + 1));
                    })
                    .await
                    .unwrap_or_else(|e| panic!("[{}] update failed: {e}", adapter.describe()));
                conflicts += u64::from(out.attempts - 1);
                max_attempts = max_attempts.max(out.attempts);
            }
            (conflicts, max_attempts)
        }));
    }
    let mut conflicts = 0;
    let mut max_attempts = 0;
    for r in futures::future::join_all(handles).await {
        let (c, m) = r.expect("writer task panicked");
        conflicts += c;
        max_attempts = max_attempts.max(m);
    }
    let final_count = must_get(adapters[0].as_ref(), &key).await.attributes["count"]
        .as_u64()
        .expect("count is a number");
    let report = ContentionReport {
        writers,
        increments,
        final_count,
        conflicts,
        max_attempts,
        elapsed: start.elapsed(),
    };
    assert_eq!(
        final_count,
        (writers * increments) as u64,
        "[{}] updates were lost: {report}",
        adapters[0].describe()
    );
    report
}

/// Yields to the scheduler before each read, so that writers interleave between read and save
/// even on a backend whose calls never wait (memory): contention becomes real everywhere.
#[derive(Debug)]
struct Yielding(Arc<dyn PersistenceAdapter>);

#[async_trait::async_trait]
impl PersistenceAdapter for Yielding {
    async fn get(&self, key: &str) -> crate::Result<Option<Stored>> {
        let got = self.0.get(key).await;
        tokio::task::yield_now().await;
        got
    }
    async fn save(
        &self,
        key: &str,
        attributes: &Attributes,
        mode: SaveMode,
    ) -> crate::Result<crate::Version> {
        self.0.save(key, attributes, mode).await
    }
    async fn delete(&self, key: &str) -> crate::Result<()> {
        self.0.delete(key).await
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

/// Runs every check above, in order, against one adapter (`max_key_bytes` as in
/// [`invalid_keys`]); contention uses 8 writers x 25 increments.
pub async fn run_all(adapter: Arc<dyn PersistenceAdapter>, max_key_bytes: usize) {
    let a = adapter.as_ref();
    absent_read(a).await;
    round_trip(a).await;
    overwrite(a).await;
    delete(a).await;
    delete_absent(a).await;
    versioned_save(a).await;
    create_only(a).await;
    key_isolation(a).await;
    awkward_json(a).await;
    invalid_keys(a, max_key_bytes).await;
    versions_across_instances(a, a).await;
    let report = update_contention(std::slice::from_ref(&adapter), 8, 25).await;
    eprintln!("[{}] {report}", adapter.describe());
}

#[doc(hidden)]
/// Type anchor for [`conformance_tests!`](crate::conformance_tests).
pub fn __expect_adapter(
    made: Option<(Arc<dyn PersistenceAdapter>, usize)>,
) -> Option<(Arc<dyn PersistenceAdapter>, usize)> {
    made
}

/// Expands to a `conformance_suite` test module with one `#[tokio::test]` per check above.
///
/// `$make` is an async expression evaluating to `Option<(Arc<dyn PersistenceAdapter>, usize)>`:
/// an adapter and its key limit in bytes, or `None` when the backend is not available here (the
/// test then returns early; the harness decides whether that is allowed). It is evaluated once
/// per test inside the generated module (which does `use super::*`). Two-instance checks need two real instances, so call
/// [`versions_across_instances`] and [`update_contention`] with two adapters in the backend's own
/// tests as well. The calling crate needs `tokio` (features `macros`, `rt-multi-thread`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        mod conformance_suite {
            #[allow(unused_imports)]
            use super::*;

            $crate::conformance_tests!(@cases $make;
                absent_read, round_trip, overwrite, delete, delete_absent, versioned_save,
                create_only, key_isolation, awkward_json);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn invalid_keys() {
                let Some((adapter, max)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::invalid_keys(adapter.as_ref(), max).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn versions_across_instances() {
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::versions_across_instances(a.as_ref(), a.as_ref()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn update_contention() {
                let Some((adapter, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                let report =
                    $crate::conformance::update_contention(::std::slice::from_ref(&adapter), 8, 25).await;
                eprintln!("[{}] {}", adapter.describe(), report);
            }
        }
    };
    (@cases $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some((adapter, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::$name(adapter.as_ref()).await;
            }
        )*
    };
}
