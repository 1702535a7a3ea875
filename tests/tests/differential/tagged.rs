//! The drivers' tagged JSON (see tests/differential/python/driver.py), held as
//! [`ExactValue`]s so that every number keeps its text (a 38-digit `Decimal`, an integer past
//! 2^64) across the pipe; comparisons that keep the official SDKs' types; and models of what
//! each SDK holds.
//!
//! Tags: `{"$decimal": "…"}` (a Python `Decimal`), `{"$ss": […]}` / `{"$ns": […]}` (a string /
//! number set: Python `set`, Node DocumentClient set), `{"$bytes": "…"}` / `{"$bs": […]}`
//! (bytes, a set of them; base64). Everything else is plain JSON. A tagged value is an
//! [`ExactValue`] made of JSON types only (a tag is a one-entry map); our adapters' exact values
//! ([`exact_of`]) use the set and binary variants instead.
//!
//! Numbers compare by value: `Decimal("1.50")` and `Decimal("1.5")` are the same digits
//! (DynamoDB trims leading and trailing zeros; the emulator keeps the text as written). Two
//! refinements, per SDK ([`Cmp`]): Node holds numbers as doubles, so its numbers compare as the
//! doubles they are; Python's `json` makes `1` an `int` and `1.0` a `float`, so on S3 an
//! integer literal is not the same as a float.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use persistence_core::exact::{ExactMap, ExactNumber, ExactValue};
use persistence_core::number::{Decimal, same_number};

use super::driver::Sdk;

/// Which service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// DynamoDB.
    DynamoDb,
    /// S3.
    S3,
}

// ------------------------------------------------------------------------------ construction

/// A number with exactly this text.
pub fn num(text: &str) -> ExactValue {
    ExactValue::Number(ExactNumber::parse(text).unwrap_or_else(|| panic!("not a number: {text}")))
}

/// A double, spelled as serde_json spells it (shortest round trip, `1.0` for an integral one).
pub fn double(f: f64) -> ExactValue {
    ExactValue::Number(ExactNumber::from_json(
        &serde_json::Number::from_f64(f).expect("a finite double"),
    ))
}

/// An integer.
pub fn int(i: i64) -> ExactValue {
    num(&i.to_string())
}

/// A string.
pub fn s(text: &str) -> ExactValue {
    ExactValue::String(text.to_owned())
}

/// A map.
pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, ExactValue)>) -> ExactValue {
    ExactValue::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
}

/// Plain JSON without numbers that need their text kept (small integers, shortest doubles).
pub fn json(v: &serde_json::Value) -> ExactValue {
    ExactValue::from_json(v)
}

fn tagged(tag: &str, inner: ExactValue) -> ExactValue {
    map([(tag, inner)])
}

/// `{"$decimal": text}`: a Python `Decimal` (Node: a number).
pub fn decimal(text: &str) -> ExactValue {
    tagged("$decimal", s(text))
}

/// `{"$ss": [...]}`: a string set.
pub fn ss<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> ExactValue {
    tagged(
        "$ss",
        ExactValue::List(items.into_iter().map(|x| s(x.as_ref())).collect()),
    )
}

/// `{"$ns": [...]}`: a number set, by the members' texts.
pub fn ns<S: AsRef<str>>(texts: impl IntoIterator<Item = S>) -> ExactValue {
    tagged(
        "$ns",
        ExactValue::List(texts.into_iter().map(|x| s(x.as_ref())).collect()),
    )
}

/// `{"$bytes": base64}`: bytes (Python `bytes`/`Binary`, a Node `Buffer`).
pub fn bytes(b: &[u8]) -> ExactValue {
    tagged("$bytes", s(&BASE64.encode(b)))
}

/// `{"$bs": [base64...]}`: a set of bytes.
pub fn bs<B: AsRef<[u8]>>(items: impl IntoIterator<Item = B>) -> ExactValue {
    tagged(
        "$bs",
        ExactValue::List(
            items
                .into_iter()
                .map(|b| s(&BASE64.encode(b.as_ref())))
                .collect(),
        ),
    )
}

/// Sets `name` in a map (a no-op on anything else).
pub fn set_entry(v: &mut ExactValue, name: &str, value: ExactValue) {
    if let ExactValue::Map(m) = v {
        m.insert(name.to_owned(), value);
    }
}

/// Entry `name` of a map.
pub fn entry<'a>(v: &'a ExactValue, name: &str) -> Option<&'a ExactValue> {
    match v {
        ExactValue::Map(m) => m.get(name),
        _ => None,
    }
}

/// The tags the drivers use.
const TAGS: [&str; 5] = ["$decimal", "$ss", "$ns", "$bytes", "$bs"];

/// `(tag, inner)` when `v` is a tagged value.
pub fn tag(v: &ExactValue) -> Option<(&str, &ExactValue)> {
    match v {
        ExactValue::Map(m) if m.len() == 1 => {
            let (k, inner) = m.iter().next()?;
            TAGS.contains(&k.as_str()).then_some((k.as_str(), inner))
        }
        _ => None,
    }
}

/// The texts of a tag's inner list (`$ss` members, `$ns` number texts, `$bs` base64).
fn inner_texts(inner: &ExactValue) -> Vec<String> {
    match inner {
        ExactValue::List(items) => items
            .iter()
            .map(|x| match x {
                ExactValue::String(t) => t.clone(),
                other => panic!("a tag's member is not a string: {other:?}"),
            })
            .collect(),
        other => panic!("a tag's inner value is not a list: {other:?}"),
    }
}

fn inner_text(inner: &ExactValue) -> &str {
    match inner {
        ExactValue::String(t) => t,
        other => panic!("a tag's inner value is not a string: {other:?}"),
    }
}

fn decode64(b64: &str) -> Vec<u8> {
    BASE64.decode(b64).expect("base64 from a driver")
}

// ------------------------------------------------------------------------------- comparison

/// How numbers compare for one SDK and backend.
#[derive(Clone, Copy, Debug)]
pub struct Cmp {
    /// Node holds numbers as doubles: compare them as the doubles they are (JavaScript and
    /// Rust may spell a double differently when two shortest spellings tie).
    doubles: bool,
    /// Python's `json` reads `1` as an `int` and `1.0` as a `float`: an integer literal and
    /// any other spelling are different types (only where the text is what Python parses: S3).
    ints_are_not_floats: bool,
}

impl Cmp {
    /// The comparison for `sdk` on `backend`.
    pub fn new(sdk: Sdk, backend: Backend) -> Self {
        Self {
            doubles: sdk == Sdk::Node,
            ints_are_not_floats: sdk == Sdk::Python && backend == Backend::S3,
        }
    }
}

fn is_integer_literal(text: &str) -> bool {
    !text.contains(['.', 'e', 'E'])
}

fn f64_of(text: &str) -> f64 {
    let f: f64 = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
    if f == 0.0 { 0.0 } else { f }
}

/// Two numbers' texts are the same number (`plain`: a plain JSON number, whose spelling is a
/// type for Python; a `Decimal`'s is not).
fn same_num(a: &str, b: &str, cmp: Cmp, plain: bool) -> bool {
    if plain && cmp.ints_are_not_floats && is_integer_literal(a) != is_integer_literal(b) {
        return false;
    }
    if cmp.doubles {
        f64_of(a) == f64_of(b)
    } else {
        same_number(a, b)
    }
}

/// A number's identity in a set: by value (`1.0000001E+7` is `10000001`).
fn number_key(text: &str, cmp: Cmp) -> String {
    if cmp.doubles {
        return format!("n:{:?}", f64_of(text));
    }
    match Decimal::parse(text) {
        Some(d) if d.is_zero() => "n:0".into(),
        Some(d) => format!(
            "n:{}{}e{}",
            if d.is_negative() { "-" } else { "" },
            d.digits(),
            d.exponent()
        ),
        None => format!("bad number:{text}"),
    }
}

/// An element's identity: numbers by value, strings and bytes as themselves.
fn member_key(v: &ExactValue, cmp: Cmp) -> String {
    match (v, tag(v)) {
        (ExactValue::Number(n), _) => number_key(n.as_str(), cmp),
        (_, Some(("$decimal", inner))) => number_key(inner_text(inner), cmp),
        (ExactValue::String(t), _) => format!("s:{t}"),
        (ExactValue::Binary(b), _) => format!("b:{}", BASE64.encode(b)),
        (_, Some(("$bytes", inner))) => format!("b:{}", inner_text(inner)),
        _ => format!("v:{}", v.to_json_text()),
    }
}

/// The members of a set (tagged or exact), by identity, sorted; `None` for anything else.
fn set_keys(v: &ExactValue, cmp: Cmp) -> Option<Vec<String>> {
    let keys: Vec<String> = match (v, tag(v)) {
        (_, Some(("$ss", inner))) => inner_texts(inner)
            .iter()
            .map(|t| format!("s:{t}"))
            .collect(),
        (_, Some(("$ns", inner))) => inner_texts(inner)
            .iter()
            .map(|t| number_key(t, cmp))
            .collect(),
        (_, Some(("$bs", inner))) => inner_texts(inner)
            .iter()
            .map(|t| format!("b:{t}"))
            .collect(),
        (ExactValue::StringSet(items), _) => items.iter().map(|t| format!("s:{t}")).collect(),
        (ExactValue::NumberSet(items), _) => {
            items.iter().map(|n| number_key(n.as_str(), cmp)).collect()
        }
        (ExactValue::BinarySet(items), _) => items
            .iter()
            .map(|b| format!("b:{}", BASE64.encode(b)))
            .collect(),
        _ => return None,
    };
    Some(sorted(keys))
}

/// Which kind of set (`$ss`, `$ns`, `$bs`, tagged or exact), if `v` is one.
fn set_kind(v: &ExactValue) -> Option<&'static str> {
    match (v, tag(v)) {
        (_, Some(("$ss", _))) | (ExactValue::StringSet(_), _) => Some("$ss"),
        (_, Some(("$ns", _))) | (ExactValue::NumberSet(_), _) => Some("$ns"),
        (_, Some(("$bs", _))) | (ExactValue::BinarySet(_), _) => Some("$bs"),
        _ => None,
    }
}

fn sorted(mut keys: Vec<String>) -> Vec<String> {
    keys.sort();
    keys
}

/// One difference between what should be held and what is.
#[derive(Debug, Clone)]
pub struct Diff {
    /// Where: `.profile.tags`.
    pub path: String,
    /// What should be there (`"<absent>"` when it should not).
    pub expected: ExactValue,
    /// What is there.
    pub found: ExactValue,
    /// The set came back as a list (or array) with the same members: issue 19 item 6.
    pub set_became_list: bool,
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let short = |v: &ExactValue| {
            let s = v.to_json_text();
            let set = match v {
                ExactValue::StringSet(_) => "SS",
                ExactValue::NumberSet(_) => "NS",
                ExactValue::BinarySet(_) => "BS",
                ExactValue::Binary(_) => "B",
                _ => "",
            };
            let s = if set.is_empty() {
                s
            } else {
                format!("{set}{s}")
            };
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

/// Every difference between `expected` and `found` (both tagged, or both exact), types
/// included: a set is not a list, a `Decimal` is not an int, bytes are not a string, a string
/// is not null. Set members compare as sets, numbers by value (see [`Cmp`]).
pub fn diff(expected: &ExactValue, found: &ExactValue, cmp: Cmp) -> Vec<Diff> {
    let mut out = Vec::new();
    diff_at(expected, found, cmp, &mut String::new(), &mut out);
    out
}

fn diff_at(
    expected: &ExactValue,
    found: &ExactValue,
    cmp: Cmp,
    path: &mut String,
    out: &mut Vec<Diff>,
) {
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
    if let Some(kind) = set_kind(expected) {
        if set_kind(found) == Some(kind) {
            if set_keys(expected, cmp) != set_keys(found, cmp) {
                push(false);
            }
        } else {
            let became_list = match found {
                ExactValue::List(items) if tag(found).is_none() => {
                    set_keys(expected, cmp)
                        == Some(sorted(items.iter().map(|x| member_key(x, cmp)).collect()))
                }
                _ => false,
            };
            push(became_list);
        }
        return;
    }
    match (tag(expected), tag(found)) {
        (Some((te, ie)), Some((tf, inf))) => {
            let same = te == tf
                && match te {
                    "$decimal" => same_num(inner_text(ie), inner_text(inf), cmp, false),
                    _ => ie == inf,
                };
            if !same {
                push(false);
            }
        }
        (Some(_), None) | (None, Some(_)) => push(false),
        (None, None) => match (expected, found) {
            (ExactValue::Number(a), ExactValue::Number(b)) => {
                if !same_num(a.as_str(), b.as_str(), cmp, true) {
                    push(false);
                }
            }
            (ExactValue::List(a), ExactValue::List(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    diff_at(x, y, cmp, path, out);
                    path.truncate(len);
                }
            }
            (ExactValue::Map(a), ExactValue::Map(b)) => {
                for k in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                    let len = path.len();
                    path.push('.');
                    path.push_str(k);
                    match (a.get(k), b.get(k)) {
                        (Some(x), Some(y)) => diff_at(x, y, cmp, path, out),
                        (x, y) => out.push(Diff {
                            path: path.clone(),
                            expected: x.cloned().unwrap_or_else(|| s("<absent>")),
                            found: y.cloned().unwrap_or_else(|| s("<absent>")),
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

/// Differences between what our adapter read (`ours`, exact: [`Attributes::to_exact`] of a
/// read) and what the official SDK holds (`official`, tagged).
///
/// [`Attributes::to_exact`]: persistence_core::Attributes::to_exact
pub fn diff_ours(official: &ExactValue, ours: &ExactValue, cmp: Cmp) -> Vec<Diff> {
    diff(&exact_of(official), ours, cmp)
}

// ------------------------------------------------------------------------------------ models

/// The exact value our adapters should read where the official SDK holds tagged `v`: a
/// `Decimal` is a number with its digits, a set a set, bytes binary.
pub fn exact_of(v: &ExactValue) -> ExactValue {
    match tag(v) {
        Some(("$decimal", inner)) => num(inner_text(inner)),
        Some(("$ss", inner)) => ExactValue::StringSet(inner_texts(inner)),
        Some(("$ns", inner)) => ExactValue::NumberSet(
            inner_texts(inner)
                .iter()
                .map(|t| ExactNumber::parse(t).expect("a number set's member"))
                .collect(),
        ),
        Some(("$bytes", inner)) => ExactValue::Binary(decode64(inner_text(inner))),
        Some(("$bs", inner)) => {
            ExactValue::BinarySet(inner_texts(inner).iter().map(|t| decode64(t)).collect())
        }
        Some((t, _)) => panic!("no exact form for {t}"),
        None => match v {
            ExactValue::List(items) => ExactValue::List(items.iter().map(exact_of).collect()),
            ExactValue::Map(m) => {
                ExactValue::Map(m.iter().map(|(k, x)| (k.clone(), exact_of(x))).collect())
            }
            other => other.clone(),
        },
    }
}

/// What `sdk` holds after reading exact `v` (written by our adapter) from `backend`, tagged:
/// Python's boto3 hands every DynamoDB number over as a `Decimal`; every other number stays a
/// JSON number (Python `int`/`float`, JavaScript number); sets are sets, binary is bytes.
pub fn official_view(v: &ExactValue, sdk: Sdk, backend: Backend) -> ExactValue {
    let rec = |x: &ExactValue| official_view(x, sdk, backend);
    match v {
        ExactValue::Number(n) if sdk == Sdk::Python && backend == Backend::DynamoDb => {
            decimal(n.as_str())
        }
        ExactValue::StringSet(items) => ss(items),
        ExactValue::NumberSet(items) => ns(items.iter().map(ExactNumber::as_str)),
        ExactValue::BinarySet(items) => bs(items),
        ExactValue::Binary(b) => bytes(b),
        ExactValue::List(items) => ExactValue::List(items.iter().map(rec).collect()),
        ExactValue::Map(m) => ExactValue::Map(m.iter().map(|(k, x)| (k.clone(), rec(x))).collect()),
        other => other.clone(),
    }
}

/// Node's DocumentClient with `convertEmptyValues: true` on a string set: `""` is dropped, a
/// set left empty is stored as NULL.
fn node_string_set(members: Vec<String>) -> Option<Vec<String>> {
    let kept: Vec<String> = members.into_iter().filter(|m| !m.is_empty()).collect();
    (!kept.is_empty()).then_some(kept)
}

/// What `sdk` reads back after saving tagged `v` to `backend` itself: the SDK's own round trip.
///
/// - Python/DynamoDB: every number comes back as a `Decimal` (an `int` too).
/// - Node/DynamoDB: the DocumentClient is built with `convertEmptyValues: true`, so `""`
///   (anywhere, also inside lists) is stored as NULL and reads as `null`; empty strings are
///   dropped from string sets, and a set left empty is stored as NULL.
/// - S3: JSON through `json.dumps`/`JSON.stringify` and back: unchanged for the values the
///   generators make.
pub fn own_round_trip(v: &ExactValue, sdk: Sdk, backend: Backend) -> ExactValue {
    let rec = |x: &ExactValue| own_round_trip(x, sdk, backend);
    let node_ddb = sdk == Sdk::Node && backend == Backend::DynamoDb;
    match (v, tag(v)) {
        (ExactValue::Number(n), _) if sdk == Sdk::Python && backend == Backend::DynamoDb => {
            decimal(n.as_str())
        }
        (ExactValue::String(t), _) if node_ddb && t.is_empty() => ExactValue::Null,
        (_, Some(("$ss", inner))) if node_ddb => {
            node_string_set(inner_texts(inner)).map_or(ExactValue::Null, ss)
        }
        (_, Some(_)) => v.clone(),
        (ExactValue::List(items), None) => ExactValue::List(items.iter().map(rec).collect()),
        (ExactValue::Map(m), None) => {
            ExactValue::Map(m.iter().map(|(k, x)| (k.clone(), rec(x))).collect())
        }
        (other, _) => other.clone(),
    }
}

/// What our adapter reads back (exact) after the official SDK read exact `v` (written by us)
/// and saved it again unchanged: Node's DynamoDB adapter turns `""` into NULL and drops `""`
/// from string sets (see [`own_round_trip`]); nothing else changes for the values the
/// generators make.
pub fn after_official_save(v: &ExactValue, sdk: Sdk, backend: Backend) -> ExactValue {
    let rec = |x: &ExactValue| after_official_save(x, sdk, backend);
    let node_ddb = sdk == Sdk::Node && backend == Backend::DynamoDb;
    match v {
        ExactValue::String(t) if node_ddb && t.is_empty() => ExactValue::Null,
        ExactValue::StringSet(items) if node_ddb => {
            node_string_set(items.clone()).map_or(ExactValue::Null, ExactValue::StringSet)
        }
        ExactValue::List(items) => ExactValue::List(items.iter().map(rec).collect()),
        ExactValue::Map(m) => ExactValue::Map(m.iter().map(|(k, x)| (k.clone(), rec(x))).collect()),
        other => other.clone(),
    }
}

/// The attribute names of a map value.
pub fn names(v: &ExactValue) -> Vec<&String> {
    match v {
        ExactValue::Map(m) => m.keys().collect(),
        _ => Vec::new(),
    }
}

/// A map's entries as an [`ExactMap`] (an empty one for anything else).
pub fn as_map(v: &ExactValue) -> ExactMap {
    match v {
        ExactValue::Map(m) => m.clone(),
        _ => ExactMap::new(),
    }
}
