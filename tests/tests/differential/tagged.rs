//! The drivers' tagged JSON (see tests/differential/python/driver.py): comparisons that keep
//! the official SDKs' types, and models of what each SDK holds.
//!
//! Tags: `{"$decimal": "…"}` (a Python `Decimal`), `{"$ss": […]}` / `{"$ns": […]}` (a string /
//! number set: Python `set`, Node DocumentClient set), `{"$bytes": "…"}`. Everything else is
//! plain JSON. Numbers compare by value: `Decimal("1.50")` and `Decimal("1.5")` are the same
//! digits (DynamoDB trims leading and trailing zeros; the emulator keeps the text as written).

use persistence_core::number::{Decimal, canonical_number, canonicalize};
use serde_json::{Map, Value, json};

use super::driver::Sdk;

/// Which service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// DynamoDB.
    DynamoDb,
    /// S3.
    S3,
}

/// The tags the drivers use.
const TAGS: [&str; 5] = ["$decimal", "$ss", "$ns", "$bytes", "$bs"];

/// `(tag, inner)` when `v` is a tagged value.
pub fn tag(v: &Value) -> Option<(&str, &Value)> {
    match v {
        Value::Object(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next()?;
            TAGS.contains(&k.as_str()).then_some((k.as_str(), inner))
        }
        _ => None,
    }
}

fn set_members(inner: &Value) -> Vec<Value> {
    inner.as_array().cloned().unwrap_or_default()
}

/// A number's value, from JSON number or decimal text; `None` for anything else.
fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => Decimal::parse(n.as_str()),
        Value::String(s) => Decimal::parse(s),
        _ => None,
    }
}

fn same_number(a: &Value, b: &Value) -> bool {
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y || (x.is_zero() && y.is_zero()),
        _ => false,
    }
}

/// The JSON value our adapters should read where the official SDK holds `v`: decimals as
/// numbers, sets as arrays (sorted as the driver sorts them), numbers canonical.
pub fn plain(v: &Value) -> Value {
    let mut out = match tag(v) {
        Some(("$decimal", s)) => Value::Number(
            canonical_number(s.as_str().unwrap_or_default()).expect("a decimal's text"),
        ),
        Some(("$ss", inner)) => Value::Array(set_members(inner)),
        Some(("$ns", inner)) => Value::Array(
            set_members(inner)
                .iter()
                .map(|s| {
                    Value::Number(
                        canonical_number(s.as_str().unwrap_or_default()).expect("a number"),
                    )
                })
                .collect(),
        ),
        Some((t, _)) => panic!("no JSON form for {t}"),
        None => match v {
            Value::Array(items) => Value::Array(items.iter().map(plain).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, x)| (k.clone(), plain(x))).collect())
            }
            other => other.clone(),
        },
    };
    canonicalize(&mut out);
    out
}

/// One difference between what an official SDK should hold and what it holds.
#[derive(Debug, Clone)]
pub struct Diff {
    /// Where: `.profile.tags`.
    pub path: String,
    /// What should be there (tagged; `null` when absent).
    pub expected: Value,
    /// What is there.
    pub found: Value,
    /// The set came back as a list (or array) with the same members: issue 19 item 6.
    pub set_became_list: bool,
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |v: &Value| {
            let s = v.to_string();
            if s.len() > 200 {
                format!("{}…", &s[..s.floor_char_boundary(200)])
            } else {
                s
            }
        };
        write!(
            f,
            "at `{}`: expected {}, found {}",
            self.path,
            short(&self.expected),
            short(&self.found)
        )?;
        if self.set_became_list {
            write!(f, " (the set became a list)")?;
        }
        Ok(())
    }
}

/// A set member's identity: numbers by value (`1.0000001E+7` is `10000001`), strings as
/// themselves.
fn member_key(v: &Value) -> String {
    let n = match tag(v) {
        Some(("$decimal", inner)) => number(inner),
        _ => number(v).filter(|_| v.is_number()),
    };
    match n {
        Some(d) if d.is_zero() => "n:0".into(),
        Some(d) => format!(
            "n:{}{}e{}",
            if d.is_negative() { "-" } else { "" },
            d.digits(),
            d.exponent()
        ),
        None => format!("v:{v}"),
    }
}

/// The members of a tagged set (`$ss`/`$ns`), by identity, sorted.
fn set_keys(v: &Value) -> Option<Vec<String>> {
    match tag(v) {
        Some(("$ss", inner)) => Some(sorted(set_members(inner).iter().map(member_key))),
        Some(("$ns", inner)) => Some(sorted(set_members(inner).iter().map(|t| {
            member_key(&Value::Number(
                canonical_number(t.as_str().unwrap_or_default()).expect("a number"),
            ))
        }))),
        _ => None,
    }
}

/// The elements of an array, by identity, sorted.
fn list_keys(items: &[Value]) -> Vec<String> {
    sorted(items.iter().map(member_key))
}

fn sorted(keys: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = keys.collect();
    v.sort();
    v
}

/// Every difference between `expected` and `found` (both tagged), types included: a set is not
/// a list, a `Decimal` is not an int, a string is not null. Set members compare as sets,
/// numbers by value.
pub fn diff(expected: &Value, found: &Value) -> Vec<Diff> {
    let mut out = Vec::new();
    diff_at(expected, found, &mut String::new(), &mut out);
    out
}

fn diff_at(expected: &Value, found: &Value, path: &mut String, out: &mut Vec<Diff>) {
    let mut push = |set_became_list| {
        out.push(Diff {
            path: if path.is_empty() {
                ".".into()
            } else {
                path.clone()
            },
            expected: expected.clone(),
            found: found.clone(),
            set_became_list,
        })
    };
    match (tag(expected), tag(found)) {
        (Some((te, ie)), Some((tf, inf))) => {
            let same = te == tf
                && match te {
                    "$decimal" => same_number(ie, inf),
                    "$ns" | "$ss" => set_keys(expected) == set_keys(found),
                    _ => ie == inf,
                };
            if !same {
                push(false);
            }
        }
        (Some(("$ss" | "$ns", _)), None) => {
            let became_list = found
                .as_array()
                .is_some_and(|items| set_keys(expected) == Some(list_keys(items)));
            push(became_list);
        }
        (Some(_), None) | (None, Some(_)) => push(false),
        (None, None) => match (expected, found) {
            (Value::Number(_), Value::Number(_)) => {
                if !same_number(expected, found) {
                    push(false);
                }
            }
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    diff_at(x, y, path, out);
                    path.truncate(len);
                }
            }
            (Value::Object(a), Value::Object(b)) => {
                for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) => diff_at(x, y, path, out),
                        (x, y) => out.push(Diff {
                            path: path.clone(),
                            expected: x.cloned().unwrap_or(json!("<absent>")),
                            found: y.cloned().unwrap_or(json!("<absent>")),
                            set_became_list: false,
                        }),
                    }
                    path.truncate(len);
                }
            }
            (a, b) => {
                if a != b {
                    push(false);
                }
            }
        },
    }
}

/// Differences between what our adapter read (`ours`, plain JSON) and what the official SDK
/// holds (`official`, tagged): sets compare as sets, numbers by value.
pub fn diff_ours(official: &Value, ours: &Value) -> Vec<Diff> {
    diff(&as_ours(official, ours), ours)
}

/// `official` as our adapter should read it, with set members in the order `ours` has them (a
/// set has no order), so that [`diff`] compares them as plain arrays.
fn as_ours(official: &Value, ours: &Value) -> Value {
    match tag(official) {
        Some(("$ss" | "$ns", _)) => match ours.as_array() {
            Some(items) if set_keys(official) == Some(list_keys(items)) => ours.clone(),
            _ => plain(official),
        },
        Some(_) => plain(official),
        None => match (official, ours) {
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                Value::Array(a.iter().zip(b).map(|(x, y)| as_ours(x, y)).collect())
            }
            (Value::Object(a), Value::Object(b)) => Value::Object(
                a.iter()
                    .map(|(k, x)| (k.clone(), as_ours(x, b.get(k).unwrap_or(&Value::Null))))
                    .collect(),
            ),
            _ => plain(official),
        },
    }
}

/// What `sdk` holds after reading plain JSON `v` from `backend` (what it reads what our
/// adapter wrote as): Python's boto3 hands every DynamoDB number over as a `Decimal`; every
/// other number stays a JSON number (Python `int`/`float`, JavaScript number).
pub fn official_view(v: &Value, sdk: Sdk, backend: Backend) -> Value {
    match v {
        Value::Number(n) if sdk == Sdk::Python && backend == Backend::DynamoDb => {
            json!({"$decimal": n.as_str()})
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|x| official_view(x, sdk, backend))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), official_view(x, sdk, backend)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// What `sdk` reads back after saving tagged `v` to `backend` itself: the SDK's own round trip.
///
/// - Python/DynamoDB: every number comes back as a `Decimal` (an `int` too).
/// - Node/DynamoDB: the DocumentClient is built with `convertEmptyValues: true`, so `""`
///   (anywhere, also inside lists) is stored as NULL and reads as `null`; empty strings are
///   dropped from string sets, and a set left empty is stored as NULL.
/// - S3: JSON through `json.dumps`/`JSON.stringify` and back: unchanged for the values the
///   generators make.
pub fn own_round_trip(v: &Value, sdk: Sdk, backend: Backend) -> Value {
    let rec = |x: &Value| own_round_trip(x, sdk, backend);
    match (sdk, backend, v) {
        (Sdk::Python, Backend::DynamoDb, Value::Number(n)) => json!({"$decimal": n.as_str()}),
        (Sdk::Node, Backend::DynamoDb, Value::String(s)) if s.is_empty() => Value::Null,
        (Sdk::Node, Backend::DynamoDb, _) if matches!(tag(v), Some(("$ss", _))) => {
            let kept: Vec<Value> = tag(v)
                .map(|(_, i)| set_members(i))
                .unwrap_or_default()
                .into_iter()
                .filter(|s| s.as_str() != Some(""))
                .collect();
            if kept.is_empty() {
                Value::Null
            } else {
                json!({"$ss": kept})
            }
        }
        (_, _, _) if tag(v).is_some() => v.clone(),
        (_, _, Value::Array(items)) => Value::Array(items.iter().map(rec).collect()),
        (_, _, Value::Object(m)) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), rec(x)))
                .collect::<Map<_, _>>(),
        ),
        (_, _, other) => other.clone(),
    }
}

/// What our adapter reads back after the official SDK read plain JSON `v` (written by us)
/// and saved it again unchanged: Node's DynamoDB adapter turns `""` into NULL (see
/// [`own_round_trip`]); nothing else changes for the values the generators make.
pub fn after_official_save(v: &Value, sdk: Sdk, backend: Backend) -> Value {
    match v {
        Value::String(s) if s.is_empty() && sdk == Sdk::Node && backend == Backend::DynamoDb => {
            Value::Null
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|x| after_official_save(x, sdk, backend))
                .collect(),
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), after_official_save(x, sdk, backend)))
                .collect(),
        ),
        other => other.clone(),
    }
}
