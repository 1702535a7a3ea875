//! Values: what a save accepts comes back, exactly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
use super::{attrs, must_get, unique_key};
use crate::exact::{ExactMap, ExactNumber, ExactValue};
use crate::{Attributes, Error, PersistenceAdapter, SaveMode};
use serde_json::{Value, json};

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

/// Numbers no `f64`, `i64` or `u64` holds exactly, as Python skills store them (boto3 hands
/// them `Decimal`s; Python ints grow past 2^64), within what every backend keeps (DynamoDB: 38
/// significant digits, magnitudes 1e-130 to 1e126), as decimal text.
pub fn exact_decimals() -> Vec<&'static str> {
    vec![
        "0.6666666666666666666666666667", // Decimal(2) / Decimal(3)
        "1180591620717411303424",         // 2**70
        "-1180591620717411303424",
        "18446744073709551616", // u64::MAX + 1
        "0.1000000000000000000000000001",
        "12345678901234567890123456789012345678", // 38 digits
        "9.9999999999999999999999999999999999999E+125",
        "1E-130",
        "-3.14159265358979323846264338327950288",
        "1.50",
        "1444013393650461.3", // half-way between two shortest f64 spellings
        "100",
        "-0.000001",
    ]
}

fn exact(text: &str) -> ExactValue {
    ExactValue::parse_json(text).expect("test JSON")
}

fn same_value(a: &ExactValue, b: &ExactValue) -> bool {
    a.same_value(b)
}

/// Stored values come back with their exact value, and every attribute a save did not change
/// is written back with exactly the text (and type) it was read with: numbers no `f64` holds
/// ([`exact_decimals`]), alone and in lists and maps, and string and number sets (kept as sets
/// where the backend has them, as lists elsewhere). A change inside a list keeps the exact form
/// of the elements it left alone.
pub async fn exact_values(a: &dyn PersistenceAdapter) {
    let key = unique_key("exact");
    let decimals = exact_decimals();
    let mut seeded = ExactMap::new();
    for (i, d) in decimals.iter().enumerate() {
        seeded.insert(format!("n{i:02}"), exact(d));
    }
    seeded.insert("list".into(), exact(&format!("[{}]", decimals.join(","))));
    seeded.insert(
        "map".into(),
        exact(r#"{"third": 0.6666666666666666666666666667, "name": "x"}"#),
    );
    seeded.insert(
        "tags".into(),
        ExactValue::StringSet(vec!["blue".into(), "green".into()]),
    );
    seeded.insert(
        "lucky".into(),
        ExactValue::NumberSet(vec![
            ExactNumber::parse("0.6666666666666666666666666667").unwrap(),
            ExactNumber::parse("7").unwrap(),
        ]),
    );
    seeded.insert("visits".into(), exact("1"));
    let attributes = Attributes::from_exact(seeded.clone()).unwrap();
    a.save(&key, &attributes, SaveMode::Overwrite)
        .await
        .unwrap();
    let first = must_get(a, &key).await;
    let read = first.attributes.to_exact();
    for (name, want) in &seeded {
        let got = read
            .get(name)
            .unwrap_or_else(|| panic!("[{}] `{name}` is gone", a.describe()));
        assert!(
            same_value(got, want),
            "[{}] `{name}` was stored as {want:?} and read as {got:?}",
            a.describe()
        );
    }
    // Change one attribute: every other one is written back exactly as it was read.
    let mut changed = first.attributes.clone();
    changed.insert("visits".into(), json!(2));
    a.save(&key, &changed, SaveMode::IfVersion(first.version))
        .await
        .unwrap();
    let second = must_get(a, &key).await.attributes.to_exact();
    for (name, before) in &read {
        if name != "visits" {
            assert_eq!(
                second.get(name),
                Some(before),
                "[{}] `{name}` changed although the save did not touch it",
                a.describe()
            );
        }
    }
    assert!(
        second
            .get("visits")
            .is_some_and(|v| same_value(v, &exact("2")))
    );
    // A change inside a list keeps the exact text of the elements left alone.
    let mut third = must_get(a, &key).await.attributes;
    if let Some(list) = third.get_mut("list").and_then(Value::as_array_mut) {
        list.push(json!("appended"));
    }
    a.save(&key, &third, SaveMode::Overwrite).await.unwrap();
    let after = must_get(a, &key).await.attributes.to_exact();
    match (after.get("list"), second.get("list")) {
        (Some(ExactValue::List(now)), Some(ExactValue::List(was))) => {
            assert_eq!(
                &now[..was.len()],
                &was[..],
                "[{}] list elements changed",
                a.describe()
            );
            assert_eq!(now.last(), Some(&ExactValue::String("appended".into())));
        }
        other => panic!("[{}] list read as {other:?}", a.describe()),
    }
}

/// Values near and past what backends hold: nesting from 8 to 1000 levels, empty and odd
/// names, empty values, integer and float extremes, a long string, a wide map, a long list.
pub fn edge_values() -> Vec<(String, Value)> {
    let nest = |depth: usize| {
        (0..depth).fold(json!("leaf"), |v, i| {
            if i % 2 == 0 {
                json!([v])
            } else {
                json!({ "k": v })
            }
        })
    };
    let mut out: Vec<(String, Value)> = [
        8, 30, 31, 32, 33, 63, 99, 100, 101, 126, 127, 128, 130, 200, 1000,
    ]
    .into_iter()
    .map(|d| (format!("nested {d} deep"), json!({ "deep": nest(d) })))
    .collect();
    out.extend([
        ("empty name".to_owned(), json!({ "": "empty name" })),
        (
            "odd names".to_owned(),
            json!({ "a.b": 1, "#x": 2, ":y": 3, "$z": 4, " ": 5, "\u{0}": 6 }),
        ),
        (
            "empty values".to_owned(),
            json!({ "s": "", "l": [], "m": {}, "n": null }),
        ),
        (
            "integer extremes".to_owned(),
            json!({ "max": u64::MAX, "min": i64::MIN }),
        ),
        (
            "float extremes".to_owned(),
            json!({ "tiny": 5e-324, "huge": 1.797_693_134_862_315_7e308, "small": 1e-130, "big": 9.99e125 }),
        ),
        ("long string".to_owned(), json!({ "s": "é".repeat(100_000) })),
        (
            "wide map".to_owned(),
            Value::Object((0..2000).map(|i| (format!("k{i}"), json!(i))).collect()),
        ),
        (
            "long list".to_owned(),
            json!({ "l": (0..5000).collect::<Vec<_>>() }),
        ),
    ]);
    out
}

/// What a save accepts, a read gives back; what a read could not give back, a save refuses
/// with a typed error ([`Error::UnsupportedValue`] or [`Error::TooLarge`]) that leaves what was
/// stored before as it was: for every [`edge_values`] case. Never saved and then unreadable.
pub async fn saved_values_read_back(a: &dyn PersistenceAdapter) {
    let key = unique_key("edges");
    let sentinel = attrs(json!({"sentinel": true}));
    for (case, value) in edge_values() {
        a.save(&key, &sentinel, SaveMode::Overwrite).await.unwrap();
        let attributes = attrs(value);
        match a.save(&key, &attributes, SaveMode::Overwrite).await {
            Ok(_) => {
                let got = a
                    .get(&key)
                    .await
                    .unwrap_or_else(|e| {
                        panic!("[{}] {case}: saved, then unreadable: {e}", a.describe())
                    })
                    .unwrap_or_else(|| panic!("[{}] {case}: saved, then absent", a.describe()));
                assert!(
                    got.attributes == attributes,
                    "[{}] {case}: saved, then read back different",
                    a.describe()
                );
            }
            Err(Error::UnsupportedValue { .. } | Error::TooLarge { .. }) => {
                let got = must_get(a, &key).await;
                assert_eq!(
                    got.attributes,
                    sentinel,
                    "[{}] {case}: refused, but what was stored changed",
                    a.describe()
                );
            }
            Err(e) => panic!(
                "[{}] {case}: refused with an untyped error: {e}",
                a.describe()
            ),
        }
    }
}
