//! Generated attributes, per official SDK and backend, within what each side can hold.
//!
//! Two families:
//! - [`official_attributes`]: what a skill on an official SDK saves, in the drivers' tagged
//!   encoding (Python `Decimal`s of up to 38 digits and `int`s past 2^64, string and number
//!   sets, Node numbers and DocumentClient sets, ...).
//! - [`our_attributes`]: plain JSON our adapters save, restricted to what the official SDK can
//!   read and save back without changing it by itself (Node holds numbers as doubles: no
//!   integers past 2^53, no 38-digit decimals; Python's `json` reads an S3 body's decimals as
//!   floats: no decimals a double cannot hold there).
//!
//! Both cover empty strings, nulls, booleans, unicode keys and text, nesting up to the
//! backend's limit ([`DYNAMODB_MAX_VALUE_DEPTH`]) and, in the S3 prefix strategy, the prefixes
//! of issue 19 item 5. Attribute names are non-empty (DynamoDB refuses empty names in a map)
//! and never start with `$` (the drivers' tags) nor are `__proto__` (JavaScript).

use persistence_core::number::canonicalize;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::driver::Sdk;
use super::tagged::Backend;

/// DynamoDB allows 32 levels of nesting counting the item itself: the `attributes` map is
/// level 2, so a top-level attribute's value may hold 30 nested maps or lists (measured on
/// LocalStack: 30 is stored, 31 is refused with "Nesting Levels have exceeded supported
/// limits", from both SDKs).
pub const DYNAMODB_MAX_VALUE_DEPTH: usize = 30;

/// How deep the S3 cases nest: within serde_json's read limit (128 levels, the whole object
/// included; issue 19 item 4 is about what lies past it).
pub const S3_MAX_VALUE_DEPTH: usize = 120;

/// The S3 path prefixes of issue 19 item 5 (`None`: no prefix given).
pub const PREFIXES: [Option<&str>; 9] = [
    None,
    Some("skills/cafe"),
    Some("/skills/cafe"),
    Some("skills/cafe/"),
    Some("a//b"),
    Some("./a"),
    Some("../x"),
    Some("/"),
    Some("skills/./cafe/../bar"),
];

/// A prefix from [`PREFIXES`].
pub fn prefix() -> impl Strategy<Value = Option<String>> {
    prop::sample::select(PREFIXES.to_vec()).prop_map(|p| p.map(str::to_owned))
}

/// A JSON number with exactly this text (serde_json keeps it: `arbitrary_precision`).
fn num(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
        "[☕é ключ😀\u{7f}\u{1}\"\\\\/.]{1,6}",
        any::<String>(),
    ]
    // `__proto__` is no name a JavaScript object holds as its own (assigning it sets the
    // prototype, in the DocumentClient's converter too).
    .prop_filter("non-empty, no `$` tag, not `__proto__`", |k| {
        !k.is_empty() && !k.starts_with('$') && k != "__proto__"
    })
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z ]{0,12}",
        "[☕é ключ😀\u{0}\u{1f}\u{2028}\"\\\\]{0,8}",
        any::<String>(),
    ]
}

/// Significant digits `d.ddd` and a power of ten: a decimal DynamoDB holds exactly (at most
/// 38 digits, none below 1e-130) and boto3 reads back: under 1e38. DynamoDB hands
/// numbers back in plain digits (`1E+40` as 41 digits) and boto3 refuses more than 38 digits
/// with `decimal.Rounded`, whoever wrote the number (boto/boto3#2500); LocalStack keeps the
/// text of numbers inside maps as written, so there only a rewrite in plain digits shows it.
fn dynamodb_decimal() -> impl Strategy<Value = String> {
    (any::<bool>(), "[1-9][0-9]{0,37}", -130i32..=37).prop_map(|(neg, digits, exp)| {
        let sign = if neg { "-" } else { "" };
        let (first, rest) = digits.split_at(1);
        // No digit below 1e-130 (boto3's context refuses `1.0…01E-129` with 38 digits as an
        // underflow).
        let keep = usize::try_from(exp + 130).unwrap_or(0).min(rest.len());
        let rest = rest[..keep].trim_end_matches('0');
        if rest.is_empty() {
            format!("{sign}{first}E{exp:+}")
        } else {
            format!("{sign}{first}.{rest}E{exp:+}")
        }
    })
}

/// Decimals as a skill computes them: fixed-point text (`Decimal(2) / Decimal(3)` has 28).
fn fixed_decimal() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0.6666666666666666666666666667".to_owned()),
        Just("-12345678901234567890.123456789012345678".to_owned()),
        "-?[1-9][0-9]{0,18}\\.[0-9]{0,18}[1-9]",
        "-?0\\.[0-9]{0,36}[1-9]",
    ]
}

/// Integers past 2^64 (and below -2^63), up to `max_digits` digits.
fn big_int(max_digits: usize) -> impl Strategy<Value = String> {
    (any::<bool>(), 20..=max_digits).prop_flat_map(|(neg, n)| {
        proptest::string::string_regex(&format!("[1-9][0-9]{{{}}}", n - 1))
            .expect("a regex")
            .prop_map(move |d| {
                let d = if d.len() == 20 && d.as_str() <= "18446744073709551615" {
                    format!("{d}0") // 21 digits: past 2^64
                } else {
                    d
                };
                if neg { format!("-{d}") } else { d }
            })
    })
}

fn finite_f64() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |f| f.is_finite())
}

/// Doubles DynamoDB stores as they are: 0 or magnitude 1e-130..1e125, not integral (DynamoDB
/// itself spells `2.0` as `2`, the same for every writer).
fn dynamodb_f64() -> impl Strategy<Value = f64> {
    finite_f64().prop_filter("in DynamoDB's range, not integral", |f| {
        f.fract() != 0.0 && f.abs() > 1e-120 && f.abs() < 1e120
    })
}

const MAX_SAFE: i64 = (1 << 53) - 1;

/// Numbers as the SDK's skill holds them, tagged: what it saves to `backend`.
fn official_number(sdk: Sdk, backend: Backend) -> BoxedStrategy<Value> {
    match (sdk, backend) {
        (Sdk::Python, Backend::DynamoDb) => prop_oneof![
            any::<i64>().prop_map(Value::from),
            big_int(38).prop_map(|t| num(&t)),
            dynamodb_decimal().prop_map(|t| json!({"$decimal": t})),
            fixed_decimal().prop_map(|t| json!({"$decimal": t})),
        ]
        .boxed(),
        (Sdk::Python, Backend::S3) => prop_oneof![
            any::<i64>().prop_map(Value::from),
            big_int(60).prop_map(|t| num(&t)),
            finite_f64().prop_map(Value::from),
        ]
        .boxed(),
        (Sdk::Node, Backend::DynamoDb) => prop_oneof![
            (-MAX_SAFE..=MAX_SAFE).prop_map(Value::from),
            dynamodb_f64().prop_map(Value::from),
        ]
        .boxed(),
        (Sdk::Node, Backend::S3) => prop_oneof![
            (-MAX_SAFE..=MAX_SAFE).prop_map(Value::from),
            finite_f64().prop_map(Value::from),
        ]
        .boxed(),
    }
}

/// A non-empty set, tagged: `$ss` of distinct strings or `$ns` of numbers distinct by value.
fn official_set(sdk: Sdk) -> BoxedStrategy<Value> {
    let ss = prop::collection::btree_set(text(), 1..6).prop_map(|s| json!({"$ss": s}));
    let ns = match sdk {
        Sdk::Python => prop::collection::vec(
            prop_oneof![
                any::<i32>().prop_map(|i| i.to_string()),
                dynamodb_decimal(),
                fixed_decimal()
            ],
            1..6,
        )
        .boxed(),
        Sdk::Node => prop::collection::vec(
            prop_oneof![
                (-MAX_SAFE..=MAX_SAFE).prop_map(|i| i.to_string()),
                dynamodb_f64().prop_map(|f| Value::from(f).to_string())
            ],
            1..6,
        )
        .boxed(),
    };
    let ns = ns.prop_map(|texts| {
        let mut seen = Vec::new();
        let mut out = Vec::new();
        for t in texts {
            let d = persistence_core::number::Decimal::parse(&t).expect("generated number");
            if !seen.contains(&d) {
                seen.push(d);
                out.push(t);
            }
        }
        json!({"$ns": out})
    });
    prop_oneof![ss, ns].boxed()
}

fn max_depth(backend: Backend) -> usize {
    match backend {
        Backend::DynamoDb => DYNAMODB_MAX_VALUE_DEPTH,
        Backend::S3 => S3_MAX_VALUE_DEPTH,
    }
}

/// `leaf` inside `depth` containers, alternating maps and lists.
fn nest(depth: usize, leaf: Value) -> Value {
    (0..depth).fold(leaf, |v, i| {
        if i % 3 == 2 {
            json!([v])
        } else {
            json!({ format!("level{}", depth - i): v })
        }
    })
}

fn tree(leaf: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
    .boxed()
}

/// An attribute map from `value`s, sometimes with one attribute nested as deep as the
/// backend allows (or a little less).
fn attributes(value: BoxedStrategy<Value>, backend: Backend) -> BoxedStrategy<Value> {
    let max = max_depth(backend);
    let map = prop::collection::btree_map(key(), value.clone(), 0..8);
    let deep = prop_oneof![Just(max), (max.saturating_sub(8))..=max];
    (map, prop::option::weighted(0.3, (key(), deep, value)))
        .prop_map(|(m, deep)| {
            let mut m: Map<String, Value> = m.into_iter().collect();
            if let Some((k, depth, leaf)) = deep {
                // The leaf may itself be a container: keep the total within the limit.
                let leaf = if depth_of(&leaf) > 0 {
                    json!("deep")
                } else {
                    leaf
                };
                m.insert(k, nest(depth, leaf));
            }
            Value::Object(m)
        })
        .boxed()
}

/// How many containers deep `v` goes (a scalar, a set: 0).
pub fn depth_of(v: &Value) -> usize {
    depth(v, false)
}

/// The same, counting a set as a list (what it is once written back as one).
pub fn depth_with_sets_as_lists(v: &Value) -> usize {
    depth(v, true)
}

fn depth(v: &Value, sets_count: bool) -> usize {
    match (v, super::tagged::tag(v)) {
        (Value::Array(items), _) => {
            1 + items
                .iter()
                .map(|x| depth(x, sets_count))
                .max()
                .unwrap_or(0)
        }
        (Value::Object(m), None) => 1 + m.values().map(|x| depth(x, sets_count)).max().unwrap_or(0),
        (_, Some(("$ss" | "$ns" | "$bs", _))) if sets_count => 1,
        _ => 0,
    }
}

/// What a skill on `sdk` saves to `backend`, tagged.
pub fn official_attributes(sdk: Sdk, backend: Backend) -> BoxedStrategy<Value> {
    let scalar = prop_oneof![
        3 => text().prop_map(Value::String),
        3 => official_number(sdk, backend),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
    ];
    let leaf = match backend {
        // Sets exist only in DynamoDB (json.dumps refuses a Python set; JSON.stringify writes
        // a DocumentClient set as an object, not a set).
        Backend::DynamoDb => prop_oneof![4 => scalar, 1 => official_set(sdk)].boxed(),
        Backend::S3 => scalar.boxed(),
    };
    attributes(tree(leaf), backend)
}

/// Plain JSON numbers our adapters save that `sdk` reads from `backend` and saves back
/// unchanged.
fn our_number(sdk: Sdk, backend: Backend) -> BoxedStrategy<Value> {
    match (sdk, backend) {
        (Sdk::Python, Backend::DynamoDb) => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            big_int(38).prop_map(|t| num(&t)),
            dynamodb_decimal().prop_map(|t| num(&t)),
            fixed_decimal().prop_map(|t| num(&t)),
            dynamodb_f64().prop_map(Value::from),
        ]
        .boxed(),
        (Sdk::Python, Backend::S3) => prop_oneof![
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            big_int(60).prop_map(|t| num(&t)),
            finite_f64().prop_map(Value::from),
        ]
        .boxed(),
        (Sdk::Node, _) => official_number(sdk, backend),
    }
}

/// Plain JSON attributes our adapters save, within what `sdk` holds (see the module docs).
pub fn our_attributes(sdk: Sdk, backend: Backend) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        3 => text().prop_map(Value::String),
        3 => our_number(sdk, backend),
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
    .boxed();
    attributes(tree(leaf), backend)
        .prop_map(|mut v| {
            canonicalize(&mut v);
            v
        })
        .boxed()
}

/// The one attribute a case changes: a new value (plain JSON every SDK holds as it is) and
/// which attribute (an existing one picked by `Index`, or a new name).
pub fn change() -> impl Strategy<Value = (prop::sample::Index, bool, Value)> {
    let value = prop_oneof![
        "[a-z]{1,8}".prop_map(Value::String),
        (-1000i64..1000).prop_map(Value::from),
        any::<bool>().prop_map(Value::Bool),
        "[a-z]{1,8}".prop_map(|s| json!({"changed": s, "at": [1, 2]})),
    ];
    (
        any::<prop::sample::Index>(),
        prop::bool::weighted(0.2),
        value,
    )
}
