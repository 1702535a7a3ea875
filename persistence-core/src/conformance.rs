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
//! #   async fn save_with(&self, _: &str, _: &persistence_core::Attributes, _: &persistence_core::SaveOptions) -> persistence_core::Result<persistence_core::Version> { unimplemented!() }
//! #   async fn delete(&self, _: &str) -> persistence_core::Result<()> { unimplemented!() }
//! #   async fn delete_if(&self, _: &str, _: &persistence_core::Version) -> persistence_core::Result<()> { unimplemented!() }
//! #   fn list_keys<'a>(&'a self, _: &persistence_core::ListOptions) -> persistence_core::Pages<'a, String> { unimplemented!() }
//! #   fn describe(&self) -> String { "demo".into() }
//! # }
//! # impl MyAdapter { fn with_setup(_: &persistence_core::conformance::Setup) -> Self { Self } }
//!
//! persistence_core::conformance_tests!(
//!     // `setup` names the clock and default expiry the adapter must be built with; the async
//!     // expression gives a fresh Arc<dyn PersistenceAdapter> and the backend's key limit, or
//!     // None when the backend cannot run here
//!     setup => async { Some((Arc::new(MyAdapter::with_setup(&setup)) as Arc<dyn PersistenceAdapter>, 2048)) }
//! );
//! # }
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Number, Value, json};

use crate::{
    Attributes, Clock, Entry, Error, Expiry, ListOptions, ManualClock, PersistenceAdapter,
    PersistenceAdapterExt, RetryPolicy, SaveMode, SaveOptions, Stored, Version,
};

/// How the adapter under test must be built: with this clock (so expiry can be tested by
/// moving it, never by sleeping) and this default expiry ("keep a key's attributes for D
/// after its last save"; `None` unless a check needs one).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Setup {
    /// The clock the adapter reads the time from.
    pub clock: ManualClock,
    /// The adapter's default expiry.
    pub default_expiry: Option<Duration>,
}

impl Setup {
    /// A setup with a default expiry.
    pub fn with_default_expiry(default_expiry: Duration) -> Self {
        Self {
            clock: ManualClock::new(),
            default_expiry: Some(default_expiry),
        }
    }
}

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
        "decimals": exact_decimals(),
        "long_string": "x".repeat(5000),
    }))
}

/// Numbers no `f64`, `i64` or `u64` holds exactly, as Python skills store them (boto3 hands
/// them `Decimal`s; Python ints grow past 2^64), within what every backend keeps (DynamoDB: 38
/// significant digits, magnitudes 1e-130 to 1e126): each must come back with its exact value.
pub fn exact_decimals() -> Value {
    let n = |text: &str| {
        Value::Number(crate::number::canonical_number(text).expect("a decimal number"))
    };
    json!([
        n("0.6666666666666666666666666667"),    // Decimal(2) / Decimal(3)
        n("1180591620717411303424"),            // 2**70
        n("-1180591620717411303424"),
        n("18446744073709551616"),              // u64::MAX + 1
        n("0.1000000000000000000000000001"),
        n("12345678901234567890123456789012345678"), // 38 digits
        n("9.9999999999999999999999999999999999999e+125"),
        n("1e-130"),
        n("-3.14159265358979323846264338327950288"),
        {"nested": [n("2.718281828459045235360287471352662497")]},
        n("1444013393650461.3"), // half-way between two f64 spellings; the float writes .2
    ])
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

/// A version names one write: a key deleted and created again, even with the same content,
/// gets a new version, and a save conditional on the old one is a conflict that changes nothing
/// (the "start over on another device" case: the stale turn must not bring back discarded data).
pub async fn versions_never_repeat(a: &dyn PersistenceAdapter) {
    let key = unique_key("never-repeat");
    let progress = attrs(json!({"level": 5, "coins": 120}));
    let v1 = a.save(&key, &progress, SaveMode::CreateOnly).await.unwrap();
    let read_by_stale_turn = must_get(a, &key).await;
    assert_eq!(read_by_stale_turn.version, v1);

    // Another device: "start over", then the same content is written again.
    a.delete(&key).await.unwrap();
    let v2 = a.save(&key, &progress, SaveMode::CreateOnly).await.unwrap();
    assert_ne!(
        v1,
        v2,
        "[{}] a key deleted and created again got its old version back",
        a.describe()
    );
    // And an unconditional rewrite of identical content is a new write too.
    let v3 = a.save(&key, &progress, SaveMode::Overwrite).await.unwrap();
    assert_ne!(
        v2,
        v3,
        "[{}] rewriting identical content kept the version",
        a.describe()
    );

    let stale = a
        .save(
            &key,
            &attrs(json!({"level": 6, "coins": 125})),
            SaveMode::IfVersion(read_by_stale_turn.version),
        )
        .await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] a save conditional on a version from before the delete gave {stale:?}",
        a.describe()
    );
    let now = must_get(a, &key).await;
    assert_eq!(
        now.attributes,
        progress,
        "[{}] the stale save changed data",
        a.describe()
    );
    assert_eq!(now.version, v3);
}

/// A delete and re-creation with different content between a read and a save: the save is a
/// conflict.
pub async fn stale_save_after_delete_and_recreate(a: &dyn PersistenceAdapter) {
    let key = unique_key("recreated");
    a.save(&key, &attrs(json!({"streak": 9})), SaveMode::Overwrite)
        .await
        .unwrap();
    let stale = must_get(a, &key).await;
    a.delete(&key).await.unwrap();
    a.save(&key, &attrs(json!({"streak": 0})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let r = a
        .save(
            &key,
            &attrs(json!({"streak": 10})),
            SaveMode::IfVersion(stale.version),
        )
        .await;
    assert!(
        matches!(r, Err(Error::Conflict { .. })),
        "[{}] stale save over a re-created key gave {r:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["streak"], 0);
}

/// A conditional save whose answer was lost (it committed, the caller saw an error) and that is
/// made again with the same write token is recognised as the same write: it returns the version
/// it made, not a conflict, and the data is written once. Once somebody else wrote after it,
/// the same retry is a conflict (the adapter cannot tell it from a stale write any more).
pub async fn lost_response_retry_is_recognised(a: &dyn PersistenceAdapter) {
    let key = unique_key("lost-response");
    let v0 = a
        .save(&key, &attrs(json!({"credits": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let token = crate::unique_token();
    let credited = attrs(json!({"credits": 2}));
    let opts = SaveOptions::new(SaveMode::IfVersion(v0)).token(token.clone());
    let v1 = a.save_with(&key, &credited, &opts).await.unwrap();
    // The answer is lost; the same request is made again.
    let again = a.save_with(&key, &credited, &opts).await;
    assert_eq!(
        again.as_ref().ok(),
        Some(&v1),
        "[{}] a retried save that had committed gave {again:?}",
        a.describe()
    );
    let stored = must_get(a, &key).await;
    assert_eq!(stored.attributes, credited);
    assert_eq!(stored.version, v1);

    // Create-only too.
    let fresh = unique_key("lost-create");
    let create = SaveOptions::new(SaveMode::CreateOnly).token(crate::unique_token());
    let c1 = a.save_with(&fresh, &credited, &create).await.unwrap();
    let c2 = a.save_with(&fresh, &credited, &create).await;
    assert_eq!(
        c2.as_ref().ok(),
        Some(&c1),
        "[{}] retried create gave {c2:?}",
        a.describe()
    );

    // Someone else writes after it: the old retry no longer passes.
    a.save(&key, &attrs(json!({"credits": 7})), SaveMode::IfVersion(v1))
        .await
        .unwrap();
    let late = a.save_with(&key, &credited, &opts).await;
    assert!(
        matches!(late, Err(Error::Conflict { .. })),
        "[{}] a retry after another writer gave {late:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["credits"], 7);
}

/// [`PersistenceAdapter::delete_if`]: a stale version is a conflict that deletes nothing; the
/// current version deletes; a key already gone is fine.
pub async fn conditional_delete(a: &dyn PersistenceAdapter) {
    let key = unique_key("delete-if");
    let v1 = a
        .save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let v2 = a
        .save(
            &key,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(v1.clone()),
        )
        .await
        .unwrap();
    let stale = a.delete_if(&key, &v1).await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] delete_if with a stale version gave {stale:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["n"], 2);
    a.delete_if(&key, &v2)
        .await
        .unwrap_or_else(|e| panic!("[{}] delete_if at the current version: {e}", a.describe()));
    assert!(a.get(&key).await.unwrap().is_none());
    a.delete_if(&key, &v2)
        .await
        .unwrap_or_else(|e| panic!("[{}] delete_if of a key already gone: {e}", a.describe()));
}

/// Text that is not a version of this store is refused as [`Error::InvalidVersion`] by
/// conditional saves and deletes, and nothing is written.
pub async fn invalid_versions(a: &dyn PersistenceAdapter) {
    let key = unique_key("bad-version");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let bogus = Version::new("not a version \" \u{1}");
    let s = a
        .save(
            &key,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(bogus.clone()),
        )
        .await;
    assert!(
        matches!(s, Err(Error::InvalidVersion { .. })),
        "[{}] save with a bogus version gave {s:?}",
        a.describe()
    );
    let d = a.delete_if(&key, &bogus).await;
    assert!(
        matches!(d, Err(Error::InvalidVersion { .. })),
        "[{}] delete_if with a bogus version gave {d:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["n"], 1);
}

/// [`exact_decimals`] come back exactly, and an attribute nobody touched is written back
/// unchanged by a save that changed another one.
pub async fn exact_numbers(a: &dyn PersistenceAdapter) {
    let key = unique_key("decimals");
    let value = attrs(json!({"python": exact_decimals(), "visits": 1}));
    a.save(&key, &value, SaveMode::Overwrite).await.unwrap();
    let mut got = must_get(a, &key).await;
    assert_eq!(
        got.attributes["python"],
        value["python"],
        "[{}] exact decimals did not round-trip",
        a.describe()
    );
    got.attributes.insert("visits".into(), json!(2));
    a.save(&key, &got.attributes, SaveMode::IfVersion(got.version))
        .await
        .unwrap();
    let again = must_get(a, &key).await;
    assert_eq!(again.attributes["python"], value["python"]);
    assert_eq!(again.attributes["visits"], 2);
    // They are exactly the numbers, not strings.
    let third = &again.attributes["python"][0];
    assert!(third.is_number(), "[{}] {third:?}", a.describe());
    assert_eq!(
        third.as_number().map(Number::as_str),
        Some("0.6666666666666666666666666667")
    );
    let tie = &again.attributes["python"][10];
    assert_eq!(
        tie.as_number().map(Number::as_str),
        Some("1444013393650461.3"),
        "[{}]",
        a.describe()
    );
}

async fn collect_keys(a: &dyn PersistenceAdapter, options: &ListOptions) -> Vec<String> {
    let mut pages = a.list_keys(options);
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        keys.extend(page.unwrap_or_else(|e| panic!("[{}] listing failed: {e}", a.describe())));
    }
    keys
}

async fn collect_entries(a: &dyn PersistenceAdapter, options: &ListOptions) -> Vec<Entry> {
    let mut pages = a.entries(options);
    let mut entries = Vec::new();
    while let Some(page) = pages.next().await {
        entries.extend(page.unwrap_or_else(|e| panic!("[{}] listing failed: {e}", a.describe())));
    }
    entries
}

/// Listing: every key under a prefix, each once, across pages, and nothing else; entries carry
/// what `get` reads; a deleted key is gone.
pub async fn listing(a: &dyn PersistenceAdapter) {
    let prefix = unique_key("list");
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..23 {
        let key = format!("{prefix}/user-{i:02}");
        let v = a
            .save(
                &key,
                &attrs(json!({"i": i, "name": format!("ü{i}")})),
                SaveMode::Overwrite,
            )
            .await
            .unwrap();
        expected.insert(key, v);
    }
    // A key that only shares part of the prefix must not be listed.
    let outside = format!("{prefix}x");
    a.save(&outside, &attrs(json!({"i": -1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let opts = ListOptions::default()
        .prefix(format!("{prefix}/"))
        .page_size(5);

    let mut keys = collect_keys(a, &opts).await;
    keys.sort();
    let want: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(keys, want, "[{}] list_keys", a.describe());

    let entries = collect_entries(a, &opts).await;
    assert_eq!(
        entries.len(),
        expected.len(),
        "[{}] entries count",
        a.describe()
    );
    for e in &entries {
        let got = must_get(a, &e.key).await;
        assert_eq!(
            e.stored.attributes,
            got.attributes,
            "[{}] entry attributes",
            a.describe()
        );
        assert_eq!(
            Some(&e.stored.version),
            expected.get(&e.key),
            "[{}] entry version",
            a.describe()
        );
    }

    let gone = format!("{prefix}/user-07");
    a.delete(&gone).await.unwrap();
    let keys = collect_keys(a, &opts).await;
    assert!(
        !keys.contains(&gone),
        "[{}] a deleted key is still listed",
        a.describe()
    );
    assert_eq!(keys.len(), expected.len() - 1);
}

/// Expiry with the setup's clock: attributes saved to expire read as absent once the clock
/// passes their time, are left out of entries (unless asked for), and a create-only save over
/// them succeeds; `Expiry::Never` keeps attributes; update() starts afresh over expired data.
pub async fn expiry(a: &dyn PersistenceAdapter, clock: &ManualClock) {
    let key = unique_key("expiry");
    let minute = Duration::from_secs(60);
    let opts = SaveOptions::new(SaveMode::CreateOnly).expiry(Expiry::After(minute));
    a.save_with(&key, &attrs(json!({"order": "latte"})), &opts)
        .await
        .unwrap();
    let got = must_get(a, &key).await;
    let at = got
        .expires_at
        .unwrap_or_else(|| panic!("[{}] no expiry read back", a.describe()));
    let expected = clock.now() + minute;
    let diff = at.duration_since(expected).unwrap_or_else(|e| e.duration());
    assert!(
        diff <= Duration::from_secs(1),
        "[{}] expiry {at:?}, wanted {expected:?}",
        a.describe()
    );

    let keep = unique_key("expiry-never");
    a.save_with(
        &keep,
        &attrs(json!({"order": "tea"})),
        &SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::Never),
    )
    .await
    .unwrap();

    clock.advance(Duration::from_secs(58));
    assert!(
        a.get(&key).await.unwrap().is_some(),
        "[{}] expired early",
        a.describe()
    );
    clock.advance(Duration::from_secs(3));
    let after = a.get(&key).await.unwrap();
    assert!(
        after.is_none(),
        "[{}] expired attributes still read: {after:?}",
        a.describe()
    );
    assert!(
        a.get(&keep).await.unwrap().is_some(),
        "[{}] Expiry::Never expired",
        a.describe()
    );

    // Left out of entries, unless asked for.
    let only = ListOptions::default().prefix(key.clone());
    assert!(
        collect_entries(a, &only).await.is_empty(),
        "[{}] expired entry listed",
        a.describe()
    );
    let with_expired = collect_entries(a, &only.clone().include_expired(true)).await;
    assert_eq!(with_expired.len(), 1, "[{}] include_expired", a.describe());
    assert!(with_expired[0].stored.expires_at.is_some());

    // A save over expired attributes behaves as over an absent key.
    let v = a
        .save(
            &key,
            &attrs(json!({"order": "mocha"})),
            SaveMode::CreateOnly,
        )
        .await
        .unwrap_or_else(|e| panic!("[{}] create-only over expired: {e}", a.describe()));
    let now = must_get(a, &key).await;
    assert_eq!(now.version, v);
    assert_eq!(now.attributes, attrs(json!({"order": "mocha"})));
    assert_eq!(
        now.expires_at,
        None,
        "[{}] the new save kept the old expiry",
        a.describe()
    );

    // update() over expired data starts from empty attributes.
    let counter = unique_key("expiry-update");
    a.save_with(
        &counter,
        &attrs(json!({"n": 41})),
        &SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::After(minute)),
    )
    .await
    .unwrap();
    clock.advance(Duration::from_secs(61));
    let n = a
        .update(&counter, |attrs| {
            let n = attrs.get("n").and_then(Value::as_u64).unwrap_or(0) + 1;
            attrs.insert("n".into(), json!(n));
            n
        })
        .await
        .unwrap();
    assert_eq!(n, 1, "[{}] update() read expired data", a.describe());
}

/// An adapter built with a default expiry applies it to every save that does not override it,
/// and refreshes it on each save.
pub async fn default_expiry(a: &dyn PersistenceAdapter, clock: &ManualClock, default: Duration) {
    let key = unique_key("default-expiry");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let first = must_get(a, &key).await.expires_at;
    let want = clock.now() + default;
    let at =
        first.unwrap_or_else(|| panic!("[{}] the default expiry was not applied", a.describe()));
    assert!(
        at.duration_since(want).unwrap_or_else(|e| e.duration()) <= Duration::from_secs(1),
        "[{}] default expiry {at:?}, wanted {want:?}",
        a.describe()
    );
    clock.advance(default / 2);
    a.save(&key, &attrs(json!({"n": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    let refreshed = must_get(a, &key)
        .await
        .expires_at
        .unwrap_or_else(|| panic!("[{}] expiry lost", a.describe()));
    assert!(
        refreshed > at,
        "[{}] a save did not refresh the expiry",
        a.describe()
    );
    a.save_with(
        &key,
        &attrs(json!({"n": 3})),
        &SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::Never),
    )
    .await
    .unwrap();
    assert_eq!(
        must_get(a, &key).await.expires_at,
        None,
        "[{}] Expiry::Never kept an expiry",
        a.describe()
    );
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
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> crate::Result<crate::Version> {
        self.0.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> crate::Result<()> {
        self.0.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> crate::Result<()> {
        self.0.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> crate::Pages<'a, String> {
        self.0.list_keys(options)
    }
    fn describe(&self) -> String {
        self.0.describe()
    }
}

/// Runs every check above that needs no clock, in order, against one adapter (`max_key_bytes`
/// as in [`invalid_keys`]); contention uses 8 writers x 25 increments. [`expiry`] and
/// [`default_expiry`] need an adapter built with a [`Setup`]'s clock.
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
    versions_never_repeat(a).await;
    stale_save_after_delete_and_recreate(a).await;
    lost_response_retry_is_recognised(a).await;
    conditional_delete(a).await;
    invalid_versions(a).await;
    exact_numbers(a).await;
    listing(a).await;
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
/// `conformance_tests!(setup => make)`: for each test, `setup` is bound to a fresh [`Setup`]
/// (a [`ManualClock`] and, for the default-expiry check, a default expiry) and `make` is an
/// async expression evaluating to `Option<(Arc<dyn PersistenceAdapter>, usize)>`: an adapter
/// built with `setup`'s clock and default expiry, and its key limit in bytes, or `None` when the
/// backend is not available here (the test then returns early; the harness decides whether that
/// is allowed). It is evaluated inside the generated module (which does `use super::*`).
/// Two-instance checks need two real instances, so call [`versions_across_instances`] and
/// [`update_contention`] with two adapters in the backend's own tests as well. The calling crate
/// needs `tokio` (features `macros`, `rt-multi-thread`).
#[macro_export]
macro_rules! conformance_tests {
    ($setup:ident => $make:expr) => {
        mod conformance_suite {
            #[allow(unused_imports)]
            use super::*;

            $crate::conformance_tests!(@cases $setup => $make;
                absent_read, round_trip, overwrite, delete, delete_absent, versioned_save,
                create_only, key_isolation, awkward_json, versions_never_repeat,
                stale_save_after_delete_and_recreate, lost_response_retry_is_recognised,
                conditional_delete, invalid_versions, exact_numbers, listing);

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn invalid_keys() {
                let $setup = $crate::conformance::Setup::default();
                let Some((adapter, max)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::invalid_keys(adapter.as_ref(), max).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn versions_across_instances() {
                let $setup = $crate::conformance::Setup::default();
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::versions_across_instances(a.as_ref(), a.as_ref()).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn expiry() {
                let $setup = $crate::conformance::Setup::default();
                let clock = $setup.clock.clone();
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::expiry(a.as_ref(), &clock).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn default_expiry() {
                let day = ::std::time::Duration::from_secs(86_400);
                let $setup = $crate::conformance::Setup::with_default_expiry(day);
                let clock = $setup.clock.clone();
                let Some((a, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::default_expiry(a.as_ref(), &clock, day).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn update_contention() {
                let $setup = $crate::conformance::Setup::default();
                let Some((adapter, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                let report =
                    $crate::conformance::update_contention(::std::slice::from_ref(&adapter), 8, 25).await;
                eprintln!("[{}] {}", adapter.describe(), report);
            }
        }
    };
    (@cases $setup:ident => $make:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let $setup = $crate::conformance::Setup::default();
                let Some((adapter, _)) = $crate::conformance::__expect_adapter($make.await) else { return };
                $crate::conformance::$name(adapter.as_ref()).await;
            }
        )*
    };
}
