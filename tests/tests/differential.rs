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
//! The generators (differential/generate.rs) cover string and number sets, Decimals of up to 38
//! digits, integers past 2^64 (Python only: Node holds numbers as doubles, so the Node cases
//! stay within 2^53 and 17 digits), empty strings, nulls, booleans, unicode keys and text,
//! nesting to DynamoDB's limit, and the S3 path prefixes of issue 19 item 5. Fixed tests pin
//! the facts the adapters rely on: each SDK's S3 object names per prefix and body format, its
//! DynamoDB types, the nesting limit, maps near DynamoDB's 400 KB item limit.
//!
//! Running: `scripts/test.sh -p persistence-integration-tests --test differential` installs the
//! SDKs (scripts/official-sdks.sh, cached outside the repo) and LocalStack, and exports where
//! they are. Without them the tests fail under CI and are skipped loudly elsewhere.
//! - `DIFF_CASES` (default 12): cases per property test. The long form, by hand:
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
#[path = "differential/generate.rs"]
mod generate;
#[path = "differential/tagged.rs"]
mod tagged;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::{Attributes, Error, PersistenceAdapter, SaveMode};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::{dynamodb_client, emulator, new_bucket, s3_client, unique_name};
use persistence_s3::S3Adapter;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};

use driver::{Driver, Sdk, Store};
use tagged::{Backend, Diff, diff, diff_ours, official_view};

/// Issue 19 item 5: our S3 prefix mapping is not the official adapters' (they join prefix and
/// key as paths: Python `os.path.join`, Node `path.join`). While on, an S3 case whose object
/// name differs from the official one is skipped, loudly.
const KNOWN_BUG_5_S3_PREFIX: bool = true;
/// Issue 19 item 6: our DynamoDB adapter writes sets (SS/NS) back as lists (L) after another
/// attribute changed. While on, a case whose only differences are sets that became lists is
/// skipped, loudly.
const KNOWN_BUG_6_SETS_BECOME_LISTS: bool = true;

const DEFAULT_CASES: u32 = 12;
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
pub fn our_s3(client: aws_sdk_s3::Client, bucket: &str, prefix: Option<&str>, sdk: Sdk) -> S3Adapter {
    let _layout = sdk; // no such option yet
    let mut b = S3Adapter::builder(client, bucket);
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
    eprintln!("differential: {} (started in {:.2?})", driver.banner, driver.startup);
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
            let mut pages = self.s3.list_objects_v2().bucket(bucket).into_paginator().send();
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
            let o = self.s3.get_object().bucket(bucket).key(key).send().await.unwrap();
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

/// This test's seed: `DIFF_SEED` (or the default) mixed with the test's name.
fn seed(test: &str) -> u64 {
    let base = match std::env::var("DIFF_SEED").ok().as_deref() {
        None | Some("") => DEFAULT_SEED,
        Some("random") => {
            let s = fastrand::u64(..);
            eprintln!("differential: DIFF_SEED={s}");
            s
        }
        Some(s) => s.parse().expect("DIFF_SEED is a u64 or `random`"),
    };
    // FNV-1a of the name.
    test.bytes()
        .fold(base ^ 0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
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
fn run_property<S: Strategy>(test: &str, strategy: S, case: impl Fn(S::Value) -> Result<Outcome, TestCaseError>)
where
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
        "differential {test}: {} cases (seed {}) in {:.1?}: {:?}",
        cases(),
        seed(test),
        t0.elapsed(),
        tally.borrow()
    );
    if let Err(e) = result {
        panic!("differential {test}: {e}");
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
            Outcome::KnownBug6 => "passed but for sets that became lists: KNOWN_BUG_6_SETS_BECOME_LISTS",
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

fn user_id() -> String {
    format!("amzn1.ask.account.DIFF{:016X}", fastrand::u64(..))
}

/// Node holds numbers as doubles: compare Node's numbers as the doubles they are (JavaScript
/// and Rust may spell a double differently when two shortest spellings tie).
fn as_doubles(v: &Value, sdk: Sdk) -> Value {
    if sdk == Sdk::Python {
        return v.clone();
    }
    let double = |t: &str| {
        let f: f64 = t.parse().expect("a number");
        if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
            json!(f as i64)
        } else {
            json!(f)
        }
    };
    match v {
        Value::Number(n) => double(n.as_str()),
        Value::Array(items) => Value::Array(items.iter().map(|x| as_doubles(x, sdk)).collect()),
        Value::Object(m) => {
            if let Some(("$ns", Value::Array(items))) = tagged::tag(v) {
                let texts: Vec<Value> = items
                    .iter()
                    .map(|t| Value::String(double(t.as_str().unwrap_or_default()).to_string()))
                    .collect();
                return json!({"$ns": texts});
            }
            Value::Object(m.iter().map(|(k, x)| (k.clone(), as_doubles(x, sdk))).collect())
        }
        other => other.clone(),
    }
}

fn diffs_text(diffs: &[Diff]) -> String {
    diffs.iter().map(|d| format!("\n  - {d}")).collect()
}

/// The attribute a case changes: an existing one (picked by `index`) or a new one.
fn pick(attrs: &Value, index: &prop::sample::Index, new: bool) -> String {
    let keys: Vec<&String> = attrs.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    if new || keys.is_empty() {
        "changedByTheOtherSide".to_owned()
    } else {
        index.get(&keys).to_string()
    }
}

// ---------------------------------------------------------------------------- S3 object names

/// The object name each official S3 adapter uses, per prefix: learnt once per prefix by a
/// probe save (user IDs contain no `/` or `.` runs, so the name for another user is the same
/// prefix part followed by that user's ID).
struct ObjectNames {
    bucket: String,
    known: RefCell<HashMap<Option<String>, String>>,
    reported: RefCell<Vec<Option<String>>>,
}

impl ObjectNames {
    fn new(bucket: &str) -> Self {
        Self {
            bucket: bucket.to_owned(),
            known: RefCell::default(),
            reported: RefCell::default(),
        }
    }

    fn official(&self, env: &Env, prefix: &Option<String>, user: &str) -> Result<String, TestCaseError> {
        if !self.known.borrow().contains_key(prefix) {
            let probe = format!("amzn1.ask.account.PROBE{:016X}", fastrand::u64(..));
            let store = s3_store(&self.bucket, prefix);
            let mut d = env.driver.borrow_mut();
            d.save(&store, &probe, &json!({"probe": true})).map_err(fail)?;
            let names = env.objects_ending_with(&self.bucket, &probe);
            d.delete(&store, &probe).map_err(fail)?;
            let [name] = names.as_slice() else {
                return Err(fail(format!("probe for prefix {prefix:?}: objects {names:?}")));
            };
            let part = name.strip_suffix(&probe).expect("ends with the probe").to_owned();
            self.known.borrow_mut().insert(prefix.clone(), part);
        }
        Ok(format!("{}{user}", self.known.borrow()[prefix]))
    }

    /// `Some(outcome)` when the case cannot go on: our object name is not the official one.
    fn check(&self, env: &Env, ours: &S3Adapter, prefix: &Option<String>, user: &str) -> Result<Option<Outcome>, TestCaseError> {
        let official = self.official(env, prefix, user)?;
        let our_name = ours.object_key(user).map_err(|e| fail(format!("our object_key: {e}")))?;
        if our_name == official {
            return Ok(None);
        }
        let msg = format!(
            "S3 prefix {prefix:?}: the official {:?} adapter's object is {official:?}, ours is {our_name:?}",
            env.driver.borrow().sdk()
        );
        if !KNOWN_BUG_5_S3_PREFIX {
            return Err(fail(msg));
        }
        if !self.reported.borrow().contains(prefix) {
            self.reported.borrow_mut().push(prefix.clone());
            eprintln!("\n!!!!!!!! KNOWN BUG 5 (issue 19 item 5), case skipped: {msg}\n");
        }
        Ok(Some(Outcome::KnownBug5))
    }
}

fn s3_store(bucket: &str, prefix: &Option<String>) -> Store {
    Store::S3 {
        bucket: bucket.to_owned(),
        path_prefix: prefix.clone(),
    }
}

fn dynamodb_store(table: &str) -> Store {
    Store::DynamoDb {
        table: table.to_owned(),
        partition_key_name: "id".into(),
        attributes_name: "attributes".into(),
    }
}

// ------------------------------------------------------------------ (a) official, then ours

/// (a): the official SDK writes, our adapter changes one attribute, the SDK reads its data back.
fn official_writes_ours_changes_one(test: &str, sdk: Sdk, backend: Backend) {
    let Some(env) = setup(sdk) else { return };
    let (table, bucket) = match backend {
        Backend::DynamoDb => (env.new_table(test), String::new()),
        Backend::S3 => (String::new(), env.new_bucket(test)),
    };
    let names = ObjectNames::new(&bucket);
    let prefixes = match backend {
        Backend::DynamoDb => Just(None).boxed(),
        Backend::S3 => generate::prefix().boxed(),
    };
    let strategy = (generate::official_attributes(sdk, backend), generate::change(), prefixes);
    let bug6_reported = std::cell::Cell::new(false);
    let bug6_deep_reported = std::cell::Cell::new(false);
    run_property(test, strategy, |(written, (index, new, value), prefix)| {
        let user = user_id();
        let store = match backend {
            Backend::DynamoDb => dynamodb_store(&table),
            Backend::S3 => s3_store(&bucket, &prefix),
        };
        let mut driver = env.driver.borrow_mut();
        driver.save(&store, &user, &written).map_err(step("the SDK's save"))?;
        let before = driver.get(&store, &user).map_err(step("the SDK's first get"))?;
        drop(driver);
        // The SDK's own round trip is as modelled (what it writes and reads, see tagged.rs).
        let model = tagged::own_round_trip(&written, sdk, backend);
        let d = diff(&as_doubles(&model, sdk), &as_doubles(&before, sdk));
        if !d.is_empty() {
            return Err(fail(format!("the SDK's own round trip is not as modelled:{}", diffs_text(&d))));
        }

        // Our adapter, configured like the official one, reads what it wrote...
        let ours: Box<dyn PersistenceAdapter> = match backend {
            Backend::DynamoDb => Box::new(our_dynamodb(env.ddb.clone(), &table)),
            Backend::S3 => {
                let a = our_s3(env.s3.clone(), &bucket, prefix.as_deref(), sdk);
                if let Some(outcome) = names.check(&env, &a, &prefix, &user)? {
                    return Ok(outcome);
                }
                Box::new(a)
            }
        };
        let got = env
            .rt
            .block_on(ours.get(&user))
            .map_err(|e| fail(format!("our adapter cannot read it: {e}")))?
            .ok_or_else(|| fail("our adapter reads nothing"))?;
        let ours_read = Value::from(got.attributes.clone());
        let d = diff_ours(&before, &ours_read);
        if !d.is_empty() {
            return Err(fail(format!("our adapter reads other values:{}", diffs_text(&d))));
        }
        // ...changes one top-level attribute and saves at the version it read...
        let name = pick(&ours_read, &index, new);
        let mut attrs = got.attributes;
        attrs.insert(name.clone(), value.clone());
        let saved = env.rt.block_on(ours.save(&user, &attrs, SaveMode::IfVersion(got.version)));
        if let Err(e) = saved {
            // Issue 19 item 6 again: a set at the deepest level DynamoDB allows, written back
            // as a list, is one level too deep.
            if KNOWN_BUG_6_SETS_BECOME_LISTS
                && backend == Backend::DynamoDb
                && generate::depth_with_sets_as_lists(&before) > 1 + generate::DYNAMODB_MAX_VALUE_DEPTH
            {
                if !bug6_deep_reported.replace(true) {
                    eprintln!(
                        "\n!!!!!!!! KNOWN BUG 6 (issue 19 item 6): a set at DynamoDB's deepest level, \
                         written back as a list, is one level too deep: our save fails: {e}\n"
                    );
                }
                return Ok(Outcome::KnownBug6);
            }
            return Err(fail(format!("our save: {e}")));
        }

        // ...and the official SDK reads back what it had, types intact, plus the new value.
        let after = env
            .driver
            .borrow_mut()
            .get(&store, &user)
            .map_err(step("the SDK's get after our save"))?;
        let mut expected = before.clone();
        expected[name.as_str()] = official_view(&value, sdk, backend);
        let d = diff(&as_doubles(&expected, sdk), &as_doubles(&after, sdk));
        if d.is_empty() {
            return Ok(Outcome::Passed);
        }
        if KNOWN_BUG_6_SETS_BECOME_LISTS && d.iter().all(|d| d.set_became_list) {
            if !bug6_reported.replace(true) {
                eprintln!(
                    "\n!!!!!!!! KNOWN BUG 6 (issue 19 item 6): after our save the {sdk:?} SDK reads \
                     lists where it wrote sets (every other attribute as written); such cases are \
                     counted, this one is shown:{}\n",
                    diffs_text(&d)
                );
            }
            return Ok(Outcome::KnownBug6);
        }
        Err(fail(format!(
            "after our adapter changed `{name}`, the {sdk:?} SDK reads other data than it wrote:{}",
            diffs_text(&d)
        )))
    });
}

// ------------------------------------------------------------------ (b) ours, then official

/// (b): our adapter writes, the official SDK changes one attribute, our adapter reads it back.
fn ours_writes_official_changes_one(test: &str, sdk: Sdk, backend: Backend) {
    let Some(env) = setup(sdk) else { return };
    let (table, bucket) = match backend {
        Backend::DynamoDb => (env.new_table(test), String::new()),
        Backend::S3 => (String::new(), env.new_bucket(test)),
    };
    let names = ObjectNames::new(&bucket);
    let prefixes = match backend {
        Backend::DynamoDb => Just(None).boxed(),
        Backend::S3 => generate::prefix().boxed(),
    };
    let strategy = (generate::our_attributes(sdk, backend), generate::change(), prefixes);
    run_property(test, strategy, |(written, (index, new, value), prefix)| {
        let user = user_id();
        let store = match backend {
            Backend::DynamoDb => dynamodb_store(&table),
            Backend::S3 => s3_store(&bucket, &prefix),
        };
        let ours: Box<dyn PersistenceAdapter> = match backend {
            Backend::DynamoDb => Box::new(our_dynamodb(env.ddb.clone(), &table)),
            Backend::S3 => {
                let a = our_s3(env.s3.clone(), &bucket, prefix.as_deref(), sdk);
                if let Some(outcome) = names.check(&env, &a, &prefix, &user)? {
                    return Ok(outcome);
                }
                Box::new(a)
            }
        };
        let attrs = Attributes::try_from(written.clone()).expect("an object");
        let version = env
            .rt
            .block_on(ours.save(&user, &attrs, SaveMode::CreateOnly))
            .map_err(|e| fail(format!("our save: {e}")))?;

        // The official SDK reads what we wrote, changes one attribute and saves.
        let name = pick(&written, &index, new);
        let read = env
            .driver
            .borrow_mut()
            .update(&store, &user, &name, &official_view(&value, sdk, backend))
            .map_err(step("the SDK's turn (get, change, save) after our save"))?;
        let expected_read = official_view(&written, sdk, backend);
        let d = diff(&as_doubles(&expected_read, sdk), &as_doubles(&read, sdk));
        if !d.is_empty() {
            return Err(fail(format!(
                "the {sdk:?} SDK reads other values than our adapter wrote:{}",
                diffs_text(&d)
            )));
        }

        // Our adapter reads exactly that.
        let got = env
            .rt
            .block_on(ours.get(&user))
            .map_err(|e| fail(format!("our adapter cannot read the SDK's save: {e}")))?
            .ok_or_else(|| fail("our adapter reads nothing after the SDK's save"))?;
        let mut expected = written.clone();
        expected[name.as_str()] = value;
        let expected = tagged::after_official_save(&expected, sdk, backend);
        let d = diff(&as_doubles(&expected, sdk), &as_doubles(&Value::from(got.attributes), sdk));
        if !d.is_empty() {
            return Err(fail(format!(
                "after the {sdk:?} SDK changed `{name}`, our adapter reads other data:{}",
                diffs_text(&d)
            )));
        }
        // A save of ours at the version read before the SDK's write is refused.
        let stale = env.rt.block_on(ours.save(&user, &attrs, SaveMode::IfVersion(version)));
        if !matches!(stale, Err(Error::Conflict { .. })) {
            return Err(fail(format!(
                "our save at a version older than the SDK's write: expected a conflict, got {stale:?}"
            )));
        }
        Ok(Outcome::Passed)
    });
}

#[test]
fn python_dynamodb_official_writes_ours_changes_one() {
    official_writes_ours_changes_one("py-ddb-a", Sdk::Python, Backend::DynamoDb);
}

#[test]
fn python_dynamodb_ours_writes_official_changes_one() {
    ours_writes_official_changes_one("py-ddb-b", Sdk::Python, Backend::DynamoDb);
}

#[test]
fn node_dynamodb_official_writes_ours_changes_one() {
    official_writes_ours_changes_one("node-ddb-a", Sdk::Node, Backend::DynamoDb);
}

#[test]
fn node_dynamodb_ours_writes_official_changes_one() {
    ours_writes_official_changes_one("node-ddb-b", Sdk::Node, Backend::DynamoDb);
}

#[test]
fn python_s3_official_writes_ours_changes_one() {
    official_writes_ours_changes_one("py-s3-a", Sdk::Python, Backend::S3);
}

#[test]
fn python_s3_ours_writes_official_changes_one() {
    ours_writes_official_changes_one("py-s3-b", Sdk::Python, Backend::S3);
}

#[test]
fn node_s3_official_writes_ours_changes_one() {
    official_writes_ours_changes_one("node-s3-a", Sdk::Node, Backend::S3);
}

#[test]
fn node_s3_ours_writes_official_changes_one() {
    ours_writes_official_changes_one("node-s3-b", Sdk::Node, Backend::S3);
}

#[test]
fn zz_debug() {
    let Some(env) = setup(Sdk::Python) else { return };
    let table = env.new_table("dbg");
    let store = dynamodb_store(&table);
    let deep = (0..30).fold(json!("    "), |v, i| if i % 3 == 2 { json!([v]) } else { json!({format!("l{i}"): v}) });
    for (name, d) in [
        ("set-only", json!({"a": {"A": {"$ns": ["1.2261172050212407E+40"]}}})),
        ("deep-only", json!({"x": deep.clone()})),
        ("both", json!({"a": {"A": {"$ns": ["1.2261172050212407E+40"]}}, "x": deep.clone()})),
    ] {
        let user = user_id();
        env.driver.borrow_mut().save(&store, &user, &d).unwrap();
        eprintln!("{name}: raw before {:?}", env.raw_item(&table, &user).get("attributes").map(|a| format!("{a:?}").chars().take(300).collect::<String>()));
        let ours = our_dynamodb(env.ddb.clone(), &table);
        let got = env.rt.block_on(ours.get(&user)).unwrap().unwrap();
        eprintln!("{name}: ours read {}", Value::from(got.attributes.clone()).to_string().chars().take(300).collect::<String>());
        let mut attrs = got.attributes;
        attrs.insert("new".into(), json!(1));
        env.rt.block_on(ours.save(&user, &attrs, SaveMode::IfVersion(got.version))).unwrap();
        let raw = env.raw_item(&table, &user);
        eprintln!("{name}: raw after {:?}", raw.get("attributes").map(|a| format!("{a:?}").chars().take(400).collect::<String>()));
        eprintln!("{name}: sdk reads {:?}", env.driver.borrow_mut().get(&store, &user).map(|v| v.to_string().chars().take(300).collect::<String>()));
    }
}
