//! Generated attributes, per official SDK and backend, within what each side can hold. Every
//! value is an [`ExactValue`], so numbers keep their text (serde_json's `Value` would round a
//! 38-digit decimal or an integer past 2^64 to a double).
//!
//! Two families:
//! - [`official_attributes`]: what a skill on an official SDK saves, in the drivers' tagged
//!   encoding (Python `Decimal`s of up to 38 digits and `int`s past 2^64, string, number and
//!   binary sets and bytes, Node numbers, DocumentClient sets and `Buffer`s, ...).
//! - [`our_attributes`]: the exact values our adapters save (attributes built with
//!   [`Attributes::from_exact`](persistence_core::Attributes::from_exact), as after a read),
//!   restricted to what the official SDK can read and save back without changing it by itself
//!   (Node holds numbers as doubles: no integers past 2^53, no 38-digit decimals; Python's
//!   `json` reads an S3 body's decimals as floats: no decimals a double cannot hold there).
//!   On DynamoDB they include string, number and binary sets and binary values.
//!
//! Both cover empty strings, nulls, booleans, unicode keys and text, nesting up to the
//! backend's limit ([`DYNAMODB_MAX_VALUE_DEPTH`]) and, in the S3 prefix strategy, the prefixes
//! of issue 19 item 5. Attribute names are non-empty on DynamoDB (it refuses empty names in a
//! map) and never start with `$` (the drivers' tags) nor are `__proto__` (JavaScript).

use persistence_core::exact::{ExactMap, ExactValue};
use proptest::prelude::*;

use super::driver::Sdk;
use super::tagged::{self, Backend, decimal, double, int, num, s};
use serde_json::{Value, json};

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

/// A name in a map: on S3 the empty name too (JSON has it; DynamoDB refuses it).
fn key(backend: Backend) -> impl Strategy<Value = String> {
    let empty = match backend {
        Backend::DynamoDb => 0,
        Backend::S3 => 1,
    };
    prop_oneof![
        8 => "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
        8 => "[☕é ключ😀\u{7f}\u{1}\"\\\\/.]{1,6}",
        8 => any::<String>(),
        empty => Just(String::new()),
    ]
    // `__proto__` is no name a JavaScript object holds as its own (assigning it sets the
    // prototype, in the DocumentClient's converter too).
    .prop_filter("no `$` tag, not `__proto__`", |k| {
        !k.starts_with('$') && k != "__proto__"
    })
    .prop_filter("non-empty on DynamoDB", move |k| {
        backend == Backend::S3 || !k.is_empty()
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
fn official_number(sdk: Sdk, backend: Backend) -> BoxedStrategy<ExactValue> {
    match (sdk, backend) {
        (Sdk::Python, Backend::DynamoDb) => prop_oneof![
            any::<i64>().prop_map(int),
            big_int(38).prop_map(|t| num(&t)),
            dynamodb_decimal().prop_map(|t| decimal(&t)),
            fixed_decimal().prop_map(|t| decimal(&t)),
        ]
        .boxed(),
        (Sdk::Python, Backend::S3) => prop_oneof![
            any::<i64>().prop_map(int),
            big_int(60).prop_map(|t| num(&t)),
            finite_f64().prop_map(double),
        ]
        .boxed(),
        (Sdk::Node, Backend::DynamoDb) => prop_oneof![
            (-MAX_SAFE..=MAX_SAFE).prop_map(int),
            dynamodb_f64().prop_map(double),
        ]
        .boxed(),
        (Sdk::Node, Backend::S3) => prop_oneof![
            (-MAX_SAFE..=MAX_SAFE).prop_map(int),
            finite_f64().prop_map(double),
        ]
        .boxed(),
    }
}

/// Bytes: empty ones too for Python (stored as an empty `B`); Node's DocumentClient
/// (`convertEmptyValues`) would store an empty `Buffer` as NULL, so none there.
fn bytes_value(sdk: Sdk) -> BoxedStrategy<Vec<u8>> {
    let min = match sdk {
        Sdk::Python => 0,
        Sdk::Node => 1,
    };
    prop::collection::vec(any::<u8>(), min..12).boxed()
}

/// A non-empty set, tagged: `$ss` of distinct strings, `$ns` of numbers distinct by value or
/// `$bs` of distinct non-empty bytes.
fn official_set(sdk: Sdk) -> BoxedStrategy<ExactValue> {
    let ss = prop::collection::btree_set(text(), 1..6).prop_map(tagged::ss);
    let bs = prop::collection::btree_set(prop::collection::vec(any::<u8>(), 1..12), 1..5)
        .prop_map(tagged::bs);
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
                dynamodb_f64().prop_map(|f| match double(f) {
                    ExactValue::Number(n) => n.as_str().to_owned(),
                    other => unreachable!("{other:?}"),
                })
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
        tagged::ns(out)
    });
    prop_oneof![ss, ns, bs].boxed()
}

fn max_depth(backend: Backend) -> usize {
    match backend {
        Backend::DynamoDb => DYNAMODB_MAX_VALUE_DEPTH,
        Backend::S3 => S3_MAX_VALUE_DEPTH,
    }
}

/// `leaf` inside `depth` containers, alternating maps and lists.
fn nest(depth: usize, leaf: ExactValue) -> ExactValue {
    (0..depth).fold(leaf, |v, i| {
        if i % 3 == 2 {
            ExactValue::List(vec![v])
        } else {
            tagged::map([(format!("level{}", depth - i), v)])
        }
    })
}

fn tree(leaf: BoxedStrategy<ExactValue>, backend: Backend) -> BoxedStrategy<ExactValue> {
    leaf.prop_recursive(4, 40, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(ExactValue::List),
            prop::collection::btree_map(key(backend), inner, 0..6).prop_map(ExactValue::Map),
        ]
    })
    .boxed()
}

/// An attribute map from `value`s, sometimes with one attribute nested as deep as the
/// backend allows (or a little less).
fn attributes(value: BoxedStrategy<ExactValue>, backend: Backend) -> BoxedStrategy<ExactValue> {
    let max = max_depth(backend);
    let map = prop::collection::btree_map(key(backend), value.clone(), 0..8);
    let deep = prop_oneof![Just(max), (max.saturating_sub(8))..=max];
    (
        map,
        prop::option::weighted(0.3, (key(backend), deep, value)),
    )
        .prop_map(|(m, deep)| {
            let mut m: ExactMap = m;
            if let Some((k, depth, leaf)) = deep {
                // The leaf may itself be a container: keep the total within the limit.
                let leaf = if depth_of(&leaf) > 0 { s("deep") } else { leaf };
                m.insert(k, nest(depth, leaf));
            }
            ExactValue::Map(m)
        })
        .boxed()
}

/// How many containers deep tagged `v` goes (a scalar, a set: 0).
pub fn depth_of(v: &ExactValue) -> usize {
    depth(v, false)
}

/// The same, counting a set as a list (what it is once written back as one).
pub fn depth_with_sets_as_lists(v: &ExactValue) -> usize {
    depth(v, true)
}

fn depth(v: &ExactValue, sets_count: bool) -> usize {
    match (v, tagged::tag(v)) {
        (ExactValue::List(items), _) => {
            1 + items
                .iter()
                .map(|x| depth(x, sets_count))
                .max()
                .unwrap_or(0)
        }
        (ExactValue::Map(m), None) => {
            1 + m.values().map(|x| depth(x, sets_count)).max().unwrap_or(0)
        }
        (_, Some(("$ss" | "$ns" | "$bs", _))) if sets_count => 1,
        _ => 0,
    }
}

/// What a skill on `sdk` saves to `backend`, tagged.
pub fn official_attributes(sdk: Sdk, backend: Backend) -> BoxedStrategy<ExactValue> {
    let scalar = prop_oneof![
        3 => text().prop_map(ExactValue::String),
        3 => official_number(sdk, backend),
        1 => Just(ExactValue::Null),
        1 => any::<bool>().prop_map(ExactValue::Bool),
    ];
    let leaf = match backend {
        // Sets and bytes exist only in DynamoDB (json.dumps refuses a Python set and bytes;
        // JSON.stringify writes a DocumentClient set or a Buffer as an object).
        Backend::DynamoDb => prop_oneof![
            8 => scalar,
            2 => official_set(sdk),
            1 => bytes_value(sdk).prop_map(|b| tagged::bytes(&b)),
        ]
        .boxed(),
        Backend::S3 => scalar.boxed(),
    };
    with_top_level_sets(
        attributes(tree(leaf, backend), backend),
        backend,
        official_set(sdk),
    )
}

/// `attributes` with up to 2 more top-level attributes that are sets, on DynamoDB (a skill's
/// `tags`: the values a skill edits in place, see [`Change::inside`]).
fn with_top_level_sets(
    attributes: BoxedStrategy<ExactValue>,
    backend: Backend,
    set: BoxedStrategy<ExactValue>,
) -> BoxedStrategy<ExactValue> {
    if backend == Backend::S3 {
        return attributes;
    }
    (
        attributes,
        prop::collection::btree_map(key(backend), set, 0..3),
    )
        .prop_map(|(mut attributes, sets)| {
            if let ExactValue::Map(m) = &mut attributes {
                for (k, v) in sets {
                    m.entry(k).or_insert(v);
                }
            }
            attributes
        })
        .boxed()
}

/// Numbers our adapters save (exact text) that `sdk` reads from `backend` and saves back
/// unchanged.
fn our_number(sdk: Sdk, backend: Backend) -> BoxedStrategy<ExactValue> {
    match (sdk, backend) {
        (Sdk::Python, Backend::DynamoDb) => prop_oneof![
            any::<i64>().prop_map(int),
            any::<u64>().prop_map(|u| num(&u.to_string())),
            big_int(38).prop_map(|t| num(&t)),
            dynamodb_decimal().prop_map(|t| num(&t)),
            fixed_decimal().prop_map(|t| num(&t)),
            dynamodb_f64().prop_map(double),
        ]
        .boxed(),
        (Sdk::Python, Backend::S3) => prop_oneof![
            any::<i64>().prop_map(int),
            any::<u64>().prop_map(|u| num(&u.to_string())),
            big_int(60).prop_map(|t| num(&t)),
            finite_f64().prop_map(double),
        ]
        .boxed(),
        (Sdk::Node, _) => official_number(sdk, backend),
    }
}

/// Exact attributes our adapters save, within what `sdk` holds (see the module docs).
pub fn our_attributes(sdk: Sdk, backend: Backend) -> BoxedStrategy<ExactValue> {
    let scalar = prop_oneof![
        3 => text().prop_map(ExactValue::String),
        3 => our_number(sdk, backend),
        1 => Just(ExactValue::Null),
        1 => any::<bool>().prop_map(ExactValue::Bool),
    ];
    let leaf = match backend {
        // What our DynamoDB adapter writes for sets and bytes it read (kept exactly).
        Backend::DynamoDb => prop_oneof![
            8 => scalar,
            2 => official_set(sdk).prop_map(|v| tagged::exact_of(&v)),
            1 => bytes_value(sdk).prop_map(ExactValue::Binary),
        ]
        .boxed(),
        Backend::S3 => scalar.boxed(),
    };
    let sets = official_set(sdk).prop_map(|v| tagged::exact_of(&v)).boxed();
    with_top_level_sets(attributes(tree(leaf, backend), backend), backend, sets)
}

/// The one attribute a case changes, and how.
#[derive(Clone, Debug)]
pub struct Change {
    /// Which existing attribute (when there is one and `new_name` is false).
    pub index: prop::sample::Index,
    /// Set a new attribute instead.
    pub new_name: bool,
    /// The new value (plain JSON every SDK holds as it is).
    pub value: Value,
    /// Case (a) only, on an existing attribute: edit inside it instead of replacing it (a
    /// skill adding a tag to its set, a field to its map): a field `changedInside` set to this
    /// token in a map, the token (or a number, or its bytes) appended to a list or set of that
    /// kind; a scalar is replaced by the token. The token is never base64 (it has a `-`).
    pub inside: Option<String>,
}

/// What a case changes: see [`Change`].
pub fn change() -> impl Strategy<Value = Change> {
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
        prop::option::weighted(0.3, "new-[a-z]{1,8}"),
    )
        .prop_map(|(index, new_name, value, inside)| Change {
            index,
            new_name,
            value,
            inside,
        })
}
