//! The two property tests' cases: (a) the official SDK writes, our adapter changes one
//! attribute, the SDK reads its data back; (b) the reverse. See the crate docs
//! (tests/tests/differential.rs).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use persistence_core::exact::ExactValue;
use persistence_core::number::same_number;
use persistence_core::{Attributes, Error, PersistenceAdapter, SaveMode};
use persistence_s3::S3Adapter;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Value, json};

use super::driver::Sdk;
use super::generate::Change;
use super::tagged::{self, Backend, Cmp, Diff, diff, diff_ours, official_view, set_entry};
use super::{
    Env, KNOWN_BUG_5_S3_PREFIX, KNOWN_BUG_6_SETS_BECOME_LISTS, Outcome, dynamodb_store, fail,
    generate, our_dynamodb, our_s3, run_property, s3_store, setup, step, user_id,
};

/// What our adapter read, exactly ([`Attributes::to_exact`] of attributes as read: the stored
/// form of every attribute), after checking that the JSON view a skill sees is that of the
/// exact values.
fn our_exact(attrs: &Attributes) -> Result<ExactValue, TestCaseError> {
    let exact = ExactValue::Map(attrs.to_exact());
    let view = exact
        .to_json()
        .map_err(|e| fail(format!("our read's exact values have no JSON view: {e}")))?;
    if view != Value::from(attrs.clone()) {
        return Err(fail(format!(
            "our read's JSON view {} is not that of its exact values {}",
            Value::from(attrs.clone()),
            exact.to_json_text()
        )));
    }
    Ok(exact)
}

fn diffs_text(diffs: &[Diff]) -> String {
    diffs.iter().map(|d| format!("\n  - {d}")).collect()
}

/// The attribute a case changes: an existing one (picked by `index`) or a new one.
fn pick(attrs: &ExactValue, index: &prop::sample::Index, new: bool) -> String {
    let keys = tagged::names(attrs);
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

    fn official(
        &self,
        env: &Env,
        prefix: &Option<String>,
        user: &str,
    ) -> Result<String, TestCaseError> {
        if !self.known.borrow().contains_key(prefix) {
            let probe = format!("amzn1.ask.account.PROBE{:016X}", fastrand::u64(..));
            let store = s3_store(&self.bucket, prefix);
            let mut d = env.driver.borrow_mut();
            d.save(&store, &probe, &tagged::json(&json!({"probe": true})))
                .map_err(fail)?;
            let names = env.objects_ending_with(&self.bucket, &probe);
            d.delete(&store, &probe).map_err(fail)?;
            let [name] = names.as_slice() else {
                return Err(fail(format!(
                    "probe for prefix {prefix:?}: objects {names:?}"
                )));
            };
            let part = name
                .strip_suffix(&probe)
                .expect("ends with the probe")
                .to_owned();
            self.known.borrow_mut().insert(prefix.clone(), part);
        }
        Ok(format!("{}{user}", self.known.borrow()[prefix]))
    }

    /// `Some(outcome)` when the case cannot go on: our object name is not the official one.
    fn check(
        &self,
        env: &Env,
        ours: &S3Adapter,
        prefix: &Option<String>,
        user: &str,
    ) -> Result<Option<Outcome>, TestCaseError> {
        let official = self.official(env, prefix, user)?;
        let our_name = ours
            .object_key(user)
            .map_err(|e| fail(format!("our object_key: {e}")))?;
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

/// Applies `change` to attribute `name` of `attrs` (as our adapter read them: their JSON
/// view), as a skill on our side would; returns what the official SDK should read for that
/// attribute afterwards (tagged). `before`: what the SDK read for it before (tagged), `None`
/// for a new attribute.
///
/// The stored type is kept where the new JSON still fits it (persistence_core::exact): a set
/// with a member added is still a set, and what the edit left alone inside a map or list keeps
/// its exact form; bytes replaced by text that is canonical base64 stay bytes (their JSON view
/// is base64).
fn apply_ours(
    attrs: &mut Attributes,
    name: &str,
    change: &Change,
    before: Option<&ExactValue>,
    sdk: Sdk,
    backend: Backend,
) -> ExactValue {
    let (Some(token), Some(before)) = (&change.inside, before) else {
        attrs.insert(name.to_owned(), change.value.clone());
        let stored_bytes = before.is_some_and(|b| matches!(tagged::tag(b), Some(("$bytes", _))));
        if let (true, Value::String(text)) = (stored_bytes, &change.value)
            && let Ok(b) = BASE64.decode(text)
            && BASE64.encode(&b) == *text
        {
            return tagged::bytes(&b);
        }
        return official_view(&ExactValue::from_json(&change.value), sdk, backend);
    };
    let view = attrs.get_mut(name).expect("an existing attribute");
    match (tagged::exact_of(before), view) {
        (ExactValue::Map(_), Value::Object(m)) => {
            m.insert("changedInside".into(), Value::String(token.clone()));
            let mut expected = before.clone();
            set_entry(&mut expected, "changedInside", tagged::s(token));
            expected
        }
        (ExactValue::StringSet(old), Value::Array(a)) if !old.contains(token) => {
            a.push(Value::String(token.clone()));
            tagged::ss(old.iter().chain([token]))
        }
        (ExactValue::NumberSet(old), Value::Array(a)) => {
            // A number no member has (members are compared by value).
            let n = (1_000_001u64..)
                .find(|n| !old.iter().any(|o| same_number(o.as_str(), &n.to_string())))
                .expect("a free number");
            a.push(Value::from(n));
            let texts = old
                .iter()
                .map(|o| o.as_str().to_owned())
                .chain([n.to_string()]);
            tagged::ns(texts)
        }
        (ExactValue::BinarySet(old), Value::Array(a))
            if !old.iter().any(|b| b.as_slice() == token.as_bytes()) =>
        {
            a.push(Value::String(BASE64.encode(token.as_bytes())));
            tagged::bs(old.iter().cloned().chain([token.as_bytes().to_vec()]))
        }
        (ExactValue::List(_), Value::Array(a)) => {
            a.push(Value::String(token.clone()));
            let ExactValue::List(mut items) = before.clone() else {
                unreachable!("a list's tagged form is a list")
            };
            items.push(official_view(&tagged::s(token), sdk, backend));
            ExactValue::List(items)
        }
        (_, view) => {
            *view = Value::String(token.clone());
            tagged::s(token)
        }
    }
}

// ------------------------------------------------------------------ (a) official, then ours

/// (a): the official SDK writes, our adapter changes one attribute, the SDK reads its data back.
pub fn official_writes_ours_changes_one(test: &str, sdk: Sdk, backend: Backend) {
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
    let strategy = (
        generate::official_attributes(sdk, backend),
        generate::change(),
        prefixes,
    );
    let bug6_reported = Cell::new(false);
    let bug6_deep_reported = Cell::new(false);
    let cmp = Cmp::new(sdk, backend);
    run_property(test, strategy, |(written, change, prefix)| {
        let user = user_id();
        let store = match backend {
            Backend::DynamoDb => dynamodb_store(&table),
            Backend::S3 => s3_store(&bucket, &prefix),
        };
        let mut driver = env.driver.borrow_mut();
        driver
            .save(&store, &user, &written)
            .map_err(step("the SDK's save"))?;
        let before = driver
            .get(&store, &user)
            .map_err(step("the SDK's first get"))?;
        drop(driver);
        // The SDK's own round trip is as modelled (what it writes and reads, see tagged.rs).
        let model = tagged::own_round_trip(&written, sdk, backend);
        let d = diff(&model, &before, cmp);
        if !d.is_empty() {
            return Err(fail(format!(
                "the SDK's own round trip is not as modelled:{}",
                diffs_text(&d)
            )));
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
        let ours_read = our_exact(&got.attributes)?;
        let d = diff_ours(&before, &ours_read, cmp);
        if !d.is_empty() {
            return Err(fail(format!(
                "our adapter reads other values:{}",
                diffs_text(&d)
            )));
        }
        // ...changes one top-level attribute (or something inside it) and saves at the version
        // it read...
        let name = pick(&ours_read, &change.index, change.new_name);
        let mut attrs = got.attributes;
        let new_value = apply_ours(
            &mut attrs,
            &name,
            &change,
            tagged::entry(&before, &name),
            sdk,
            backend,
        );
        let saved = env
            .rt
            .block_on(ours.save(&user, &attrs, SaveMode::IfVersion(got.version)));
        if let Err(e) = saved {
            // Issue 19 item 6 again: a set at the deepest level DynamoDB allows, written back
            // as a list, is one level too deep.
            if KNOWN_BUG_6_SETS_BECOME_LISTS
                && backend == Backend::DynamoDb
                && generate::depth_with_sets_as_lists(&before)
                    > 1 + generate::DYNAMODB_MAX_VALUE_DEPTH
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
        set_entry(&mut expected, &name, new_value);
        let d = diff(&expected, &after, cmp);
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
pub fn ours_writes_official_changes_one(test: &str, sdk: Sdk, backend: Backend) {
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
    let strategy = (
        generate::our_attributes(sdk, backend),
        generate::change(),
        prefixes,
    );
    let cmp = Cmp::new(sdk, backend);
    run_property(test, strategy, |(written, change, prefix)| {
        let value = change.inside.map_or(change.value, Value::String);
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
        // Attributes as after a read of these exact values: our save writes them exactly.
        let attrs = Attributes::from_exact(tagged::as_map(&written))
            .map_err(|e| fail(format!("generated values without a JSON view: {e}")))?;
        let version = env
            .rt
            .block_on(ours.save(&user, &attrs, SaveMode::CreateOnly))
            .map_err(|e| fail(format!("our save: {e}")))?;

        // The official SDK reads what we wrote, changes one attribute and saves.
        let name = pick(&written, &change.index, change.new_name);
        let read = env
            .driver
            .borrow_mut()
            .update(
                &store,
                &user,
                &name,
                &official_view(&ExactValue::from_json(&value), sdk, backend),
            )
            .map_err(step("the SDK's turn (get, change, save) after our save"))?;
        let expected_read = official_view(&written, sdk, backend);
        let d = diff(&expected_read, &read, cmp);
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
        set_entry(&mut expected, &name, ExactValue::from_json(&value));
        let expected = tagged::after_official_save(&expected, sdk, backend);
        let d = diff(&expected, &our_exact(&got.attributes)?, cmp);
        if !d.is_empty() {
            return Err(fail(format!(
                "after the {sdk:?} SDK changed `{name}`, our adapter reads other data:{}",
                diffs_text(&d)
            )));
        }
        // A save of ours at the version read before the SDK's write is refused.
        let stale = env
            .rt
            .block_on(ours.save(&user, &attrs, SaveMode::IfVersion(version)));
        if !matches!(stale, Err(Error::Conflict { .. })) {
            return Err(fail(format!(
                "our save at a version older than the SDK's write: expected a conflict, got {stale:?}"
            )));
        }
        Ok(Outcome::Passed)
    });
}
