//! Differential compatibility: our DynamoDB and S3 adapters against the OFFICIAL ASK SDK
//! adapters (Python: ask-sdk-core 1.19.0, ask-sdk-dynamodb-persistence-adapter 1.19.0,
//! ask-sdk-s3-persistence-adapter 1.0.0, boto3; Node: ask-sdk-core,
//! ask-sdk-dynamodb-persistence-adapter and ask-sdk-s3-persistence-adapter 2.14.0, aws-sdk 2), on
//! the emulator. The promise checked: a skill moving between the official SDKs and this project,
//! or a fleet running both, keeps every user's data: **the official SDKs read back exactly what
//! they wrote, with types intact** (a set is still a set, a `Decimal` has the same digits), and
//! what we write they read as the same JSON.
//!
//! Property-based, both directions, DynamoDB and S3, Python and Node:
//! - (a) the official SDK writes generated data under a user ID; our adapter, configured like it
//!   (same table, key and attribute names; same bucket and path prefix), reads it, changes one
//!   top-level attribute and saves with `SaveMode::IfVersion(version read)`; the official SDK
//!   then reads back what it read before for every other attribute, types included, plus the
//!   new value.
//! - (b) our adapter writes generated JSON; the official SDK reads it (the same JSON values),
//!   changes one attribute and saves; our adapter reads back exactly that, and a save of ours
//!   at the version read before the SDK's write is a conflict (no lost update in a mixed fleet).
//!
//! The generators (differential/generate.rs) cover string, number and binary sets and binary
//! values (DynamoDB), Decimals of up to 38 digits, integers past 2^64 (Python only: Node holds
//! numbers as doubles, so the Node cases stay within 2^53 and 17 digits), empty strings, nulls,
//! booleans, unicode keys and text, nesting to DynamoDB's limit, and the S3 path prefixes of
//! issue 19 item 5. Values are [`persistence_core::exact::ExactValue`]s throughout, so numbers
//! keep their digits on the way to and from the SDKs; our side is checked exactly too: what our
//! adapter reads is compared by its stored form (`Attributes::to_exact`: a set must be a set,
//! bytes binary, a number its digits), and in (b) it writes attributes built from exact values
//! (`Attributes::from_exact`). Fixed tests pin the facts the adapters rely on: each SDK's S3
//! object names per prefix and body format, its DynamoDB types (and that our adapter writes
//! each one back as stored), the nesting limit, maps near DynamoDB's 400 KB item limit.
//!
//! Running: `scripts/test.sh -p persistence-integration-tests --test differential` installs the
//! SDKs (scripts/official-sdks.sh, cached outside the repo) and LocalStack, and exports where
//! they are. Without them the tests fail under CI and are skipped loudly elsewhere.
//! - `DIFF_CASES` (default 48): cases per property test. The long form, by hand:
//!   `DIFF_CASES=500 scripts/test.sh -p persistence-integration-tests --test differential`.
//! - `DIFF_SEED` (default fixed): the seed; each test derives its own from it and its name, so a
//!   failure replays with the same `DIFF_SEED` and `DIFF_CASES`. `DIFF_SEED=random` for a new one
//!   (printed).
//!
//! Known bugs (issue 19): the cases that fail only because of them are skipped with a loud
//! message while their switch below is on. Turn the switch off with the fix.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "differential/driver.rs"]
mod driver;
#[path = "differential/facts.rs"]
mod facts;
#[path = "differential/generate.rs"]
mod generate;
#[path = "differential/limits.rs"]
mod limits;
#[path = "differential/properties.rs"]
mod properties;
#[path = "differential/tagged.rs"]
mod tagged;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::{
    dynamodb_client, emulator, new_bucket, s3_client, unique_name,
};
use persistence_s3::S3Adapter;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};

use driver::{Driver, Sdk, Store};
use tagged::Backend;

/// Issue 19 item 5: our S3 prefix mapping is not the official adapters' (they join prefix and
/// key as paths: Python `os.path.join`, Node `path.join`). While on, an S3 case whose object
/// name differs from the official one is skipped, loudly.
const KNOWN_BUG_5_S3_PREFIX: bool = false;
/// Issue 19 item 6: our DynamoDB adapter writes sets (SS/NS) back as lists (L) after another
/// attribute changed. While on, a case whose only differences are sets that became lists is
/// skipped, loudly.
const KNOWN_BUG_6_SETS_BECOME_LISTS: bool = false;

const DEFAULT_CASES: u32 = 48;
const DEFAULT_SEED: u64 = 0x19_d1ff;

// ------------------------------------------------------------------------------ our adapters

/// Our DynamoDB adapter configured like the official ones in these tests (their defaults:
/// partition key `id`, attributes under `attributes`).
pub fn our_dynamodb(client: aws_sdk_dynamodb::Client, table: &str) -> DynamoDbAdapter {
    DynamoDbAdapter::builder(client, table)
        .partition_key_name("id")
        .attributes_name("attributes")
        .build()
}

/// Our S3 adapter configured like the official `sdk`'s with `prefix`. The SDK is named because
/// the two join prefix and key differently (Python `os.path.join`, Node `path.join`, which
/// normalises `//` and `./`): the fix of issue 19 item 5 adds an option for which layout to use,
/// set here.
pub fn our_s3(
    client: aws_sdk_s3::Client,
    bucket: &str,
    prefix: Option<&str>,
    sdk: Sdk,
) -> S3Adapter {
    let layout = match sdk {
        Sdk::Python => persistence_s3::KeyLayout::Python,
        Sdk::Node => persistence_s3::KeyLayout::Node,
    };
    let mut b = S3Adapter::builder(client, bucket).key_layout(layout);
    if let Some(p) = prefix {
        b = b.path_prefix(p);
    }
    b.build()
}

// ------------------------------------------------------------------------------- the harness

/// Everything a test needs: a runtime for our async adapters, the emulator's clients and one
/// driver process.
struct Env {
    rt: tokio::runtime::Runtime,
    ddb: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    driver: RefCell<Driver>,
}

fn setup(sdk: Sdk) -> Option<Env> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let endpoint = rt.block_on(emulator())?.endpoint.clone();
    let (ddb, s3) = rt.block_on(async { (dynamodb_client().await, s3_client().await) });
    let driver = Driver::start(sdk, &endpoint)?;
    eprintln!(
        "differential: {} (started in {:.2?})",
        driver.banner, driver.startup
    );
    Some(Env {
        rt,
        ddb: ddb?,
        s3: s3?,
        driver: RefCell::new(driver),
    })
}

impl Env {
    fn new_table(&self, case: &str) -> String {
        let table = unique_name(case);
        let a = our_dynamodb(self.ddb.clone(), &table);
        self.rt.block_on(a.ensure_table()).unwrap();
        table
    }

    fn new_bucket(&self, case: &str) -> String {
        self.rt.block_on(new_bucket(&self.s3, case))
    }

    /// The raw DynamoDB item.
    fn raw_item(&self, table: &str, user: &str) -> HashMap<String, AttributeValue> {
        self.rt
            .block_on(
                self.ddb
                    .get_item()
                    .table_name(table)
                    .key("id", AttributeValue::S(user.into()))
                    .consistent_read(true)
                    .send(),
            )
            .unwrap()
            .item
            .expect("item exists")
    }

    /// Every object name in `bucket` that ends with `suffix`.
    fn objects_ending_with(&self, bucket: &str, suffix: &str) -> Vec<String> {
        self.rt.block_on(async {
            let mut out = Vec::new();
            let mut pages = self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                for o in page.unwrap().contents() {
                    if let Some(k) = o.key().filter(|k| k.ends_with(suffix)) {
                        out.push(k.to_owned());
                    }
                }
            }
            out
        })
    }

    fn raw_object(&self, bucket: &str, key: &str) -> Vec<u8> {
        self.rt.block_on(async {
            let o = self
                .s3
                .get_object()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            o.body.collect().await.unwrap().into_bytes().to_vec()
        })
    }
}

fn cases() -> u32 {
    std::env::var("DIFF_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// This test's seed: `DIFF_SEED` (or the default; `random`: one for the whole run, printed)
/// mixed with the test's name.
fn seed(test: &str) -> u64 {
    // FNV-1a of the name.
    test.bytes()
        .fold(base_seed() ^ 0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

/// `DIFF_SEED`, or the default, or (`random`) one drawn once for the whole run.
fn base_seed() -> u64 {
    static BASE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *BASE.get_or_init(|| match std::env::var("DIFF_SEED").ok().as_deref() {
        None | Some("") => DEFAULT_SEED,
        Some("random") => {
            let s = fastrand::u64(..);
            eprintln!("differential: DIFF_SEED={s} (replay with this value)");
            s
        }
        Some(s) => s.parse().expect("DIFF_SEED is a u64 or `random`"),
    })
}

fn runner(test: &str) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed(test)),
        // A shrink step is a few round trips to the emulator: bounded.
        max_shrink_iters: 256,
        max_shrink_time: 120_000,
        ..Config::default()
    })
}

/// Runs a property and reports its figures; a failure panics with the (shrunk) case.
fn run_property<S: Strategy>(
    test: &str,
    strategy: S,
    case: impl Fn(S::Value) -> Result<Outcome, TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let t0 = Instant::now();
    let tally = RefCell::new(BTreeMap::<&'static str, u32>::new());
    let result = runner(test).run(&strategy, |v| {
        let outcome = case(v)?;
        *tally.borrow_mut().entry(outcome.name()).or_default() += 1;
        Ok(())
    });
    eprintln!(
        "differential {test}: {} cases (DIFF_SEED={}) in {:.1?}: {:?}",
        cases(),
        base_seed(),
        t0.elapsed(),
        tally.borrow()
    );
    if let Err(e) = result {
        panic!(
            "differential {test}: {e}\nreplay: DIFF_SEED={} DIFF_CASES={} scripts/test.sh \
             -p persistence-integration-tests --test differential -- {test_fn}",
            base_seed(),
            cases(),
            test_fn = std::thread::current().name().unwrap_or_default()
        );
    }
}

/// How a case ended.
enum Outcome {
    Passed,
    /// Skipped because of issue 19 item 5 (switch [`KNOWN_BUG_5_S3_PREFIX`]).
    KnownBug5,
    /// Every difference is a set that became a list: issue 19 item 6 (switch
    /// [`KNOWN_BUG_6_SETS_BECOME_LISTS`]); everything else was as written.
    KnownBug6,
}

impl Outcome {
    fn name(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::KnownBug5 => "skipped: KNOWN_BUG_5_S3_PREFIX",
            Outcome::KnownBug6 => {
                "passed but for sets that became lists: KNOWN_BUG_6_SETS_BECOME_LISTS"
            }
        }
    }
}

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

/// An error of the named step.
fn step(what: &'static str) -> impl Fn(String) -> TestCaseError {
    move |e| fail(format!("{what}: {e}"))
}

/// How the drivers name an S3 store.
pub fn s3_store(bucket: &str, prefix: &Option<String>) -> Store {
    Store::S3 {
        bucket: bucket.to_owned(),
        path_prefix: prefix.clone(),
    }
}

/// How the drivers name a DynamoDB store (the official adapters' default names).
pub fn dynamodb_store(table: &str) -> Store {
    Store::DynamoDb {
        table: table.to_owned(),
        partition_key_name: "id".into(),
        attributes_name: "attributes".into(),
    }
}

fn user_id() -> String {
    format!("amzn1.ask.account.DIFF{:016X}", fastrand::u64(..))
}

#[test]
fn python_dynamodb_official_writes_ours_changes_one() {
    properties::official_writes_ours_changes_one("py-ddb-a", Sdk::Python, Backend::DynamoDb);
}

#[test]
fn python_dynamodb_ours_writes_official_changes_one() {
    properties::ours_writes_official_changes_one("py-ddb-b", Sdk::Python, Backend::DynamoDb);
}

#[test]
fn node_dynamodb_official_writes_ours_changes_one() {
    properties::official_writes_ours_changes_one("node-ddb-a", Sdk::Node, Backend::DynamoDb);
}

#[test]
fn node_dynamodb_ours_writes_official_changes_one() {
    properties::ours_writes_official_changes_one("node-ddb-b", Sdk::Node, Backend::DynamoDb);
}

#[test]
fn python_s3_official_writes_ours_changes_one() {
    properties::official_writes_ours_changes_one("py-s3-a", Sdk::Python, Backend::S3);
}

#[test]
fn python_s3_ours_writes_official_changes_one() {
    properties::ours_writes_official_changes_one("py-s3-b", Sdk::Python, Backend::S3);
}

#[test]
fn node_s3_official_writes_ours_changes_one() {
    properties::official_writes_ours_changes_one("node-s3-a", Sdk::Node, Backend::S3);
}

#[test]
fn node_s3_ours_writes_official_changes_one() {
    properties::ours_writes_official_changes_one("node-s3-b", Sdk::Node, Backend::S3);
}

#[test]
fn python_s3_object_names_per_prefix() {
    facts::s3_object_names(Sdk::Python);
}

#[test]
fn node_s3_object_names_per_prefix() {
    facts::s3_object_names(Sdk::Node);
}

#[test]
fn python_s3_body_format() {
    facts::s3_bodies(Sdk::Python);
}

#[test]
fn node_s3_body_format() {
    facts::s3_bodies(Sdk::Node);
}

#[test]
fn python_dynamodb_types() {
    facts::dynamodb_types(Sdk::Python);
}

#[test]
fn node_dynamodb_types() {
    facts::dynamodb_types(Sdk::Node);
}

#[test]
fn python_dynamodb_nesting_limit() {
    limits::dynamodb_nesting(Sdk::Python);
}

#[test]
fn node_dynamodb_nesting_limit() {
    limits::dynamodb_nesting(Sdk::Node);
}

#[test]
fn python_s3_deep_nesting() {
    limits::s3_nesting(Sdk::Python);
}

#[test]
fn node_s3_deep_nesting() {
    limits::s3_nesting(Sdk::Node);
}

#[test]
fn python_dynamodb_large_maps() {
    limits::large_maps(Sdk::Python, Backend::DynamoDb);
}

#[test]
fn node_dynamodb_large_maps() {
    limits::large_maps(Sdk::Node, Backend::DynamoDb);
}

#[test]
fn python_s3_large_maps() {
    limits::large_maps(Sdk::Python, Backend::S3);
}

#[test]
fn node_s3_large_maps() {
    limits::large_maps(Sdk::Node, Backend::S3);
}

/// The comparisons themselves (no emulator): each difference of type or digits the property
/// tests rely on is reported.
#[test]
fn comparisons_keep_types_and_digits() {
    use persistence_core::exact::{ExactNumber, ExactValue};
    use tagged::{Cmp, decimal, diff, diff_ours, num, ss};
    let py_ddb = Cmp::new(Sdk::Python, Backend::DynamoDb);
    let py_s3 = Cmp::new(Sdk::Python, Backend::S3);
    let node = Cmp::new(Sdk::Node, Backend::DynamoDb);
    let d38 = "0.12345678901234567890123456789012345678";
    let d38_other = "0.12345678901234567890123456789012345679";
    // Digits: a Decimal is compared exactly, and by value.
    assert!(diff(&decimal(d38), &decimal(d38_other), py_ddb).len() == 1);
    assert!(diff(&decimal("1.50"), &decimal("15E-1"), py_ddb).is_empty());
    assert!(
        diff(
            &num("18446744073709551617"),
            &num("18446744073709551616"),
            py_s3
        )
        .len()
            == 1
    );
    // Types: a Decimal is not an int, a set is not a list, Python's 1 is not 1.0 (on S3).
    assert!(diff(&decimal("1"), &num("1"), py_ddb).len() == 1);
    let became = diff(
        &ss(["a", "b"]),
        &ExactValue::List(vec![tagged::s("b"), tagged::s("a")]),
        py_ddb,
    );
    assert!(became.len() == 1 && became[0].set_became_list);
    assert!(diff(&num("1"), &num("1.0"), py_s3).len() == 1);
    assert!(diff(&num("1e16"), &num("1e+16"), py_s3).is_empty());
    // Sets compare as sets; our exact read must hold a set where the SDK holds one.
    assert!(diff(&ss(["a", "b"]), &ss(["b", "a"]), py_ddb).is_empty());
    let ours_set = ExactValue::StringSet(vec!["b".into(), "a".into()]);
    assert!(diff_ours(&ss(["a", "b"]), &ours_set, py_ddb).is_empty());
    let ours_list = ExactValue::List(vec![tagged::s("a"), tagged::s("b")]);
    assert!(diff_ours(&ss(["a", "b"]), &ours_list, py_ddb)[0].set_became_list);
    let ours_n = ExactValue::Number(ExactNumber::parse(d38).unwrap());
    assert!(diff_ours(&decimal(d38), &ours_n, py_ddb).is_empty());
    assert!(diff_ours(&decimal(d38_other), &ours_n, py_ddb).len() == 1);
    // Bytes are not their base64 text.
    assert!(diff_ours(&tagged::bytes(&[1, 2]), &tagged::s("AQI="), py_ddb).len() == 1);
    // Node: numbers are doubles, whatever their spelling.
    assert!(diff(&num("0.1"), &num("1e-1"), node).is_empty());
    assert!(diff(&num("9007199254740993"), &num("9007199254740992"), node).is_empty());
    assert!(diff(&num("0.1"), &num("0.2"), node).len() == 1);
}

#[test]
fn python_dynamodb_number_set_members_alike_as_doubles() {
    facts::number_set_members_alike_as_doubles(Sdk::Python);
}
