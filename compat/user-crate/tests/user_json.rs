//! The user's own JSON parses as it does without our crates (issue 23). Each assertion holds for
//! serde_json with its default features and fails when a dependency turns on a feature with a
//! global effect: `arbitrary_precision` (untagged, flatten, `Number` range, number kinds, text
//! kept), `preserve_order` (key order). `float_roundtrip` moves some floats by one unit in the
//! last place, which an assertion here cannot tell from serde_json's own choice of algorithm;
//! `scripts/check-compat.sh` catches it by comparing [`user_crate::observations`] with a build
//! without our crates.

use serde_json::{Number, Value, json};
use user_crate::{Amount, BIG_INTEGER, Position, Reading, TRICKY_FLOATS};

#[test]
fn an_untagged_enum_takes_a_float() {
    assert_eq!(
        serde_json::from_str::<Amount>("1.5").unwrap(),
        Amount::Num(1.5)
    );
    assert_eq!(
        serde_json::from_str::<Amount>("7").unwrap(),
        Amount::Num(7.0)
    );
    assert_eq!(
        serde_json::from_str::<Amount>(r#""12 EUR""#).unwrap(),
        Amount::Text("12 EUR".into())
    );
    assert_eq!(
        serde_json::from_str::<Vec<Amount>>(r#"[0.1, "x", 1e300]"#).unwrap(),
        [
            Amount::Num(0.1),
            Amount::Text("x".into()),
            Amount::Num(1e300)
        ]
    );
}

#[test]
fn a_flattened_struct_takes_floats() {
    let r: Reading =
        serde_json::from_str(r#"{"value": 21.5, "lat": 48.8566, "lon": 2.3522}"#).unwrap();
    assert_eq!(
        r,
        Reading {
            value: 21.5,
            position: Position {
                lat: 48.8566,
                lon: 2.3522
            }
        }
    );
    assert_eq!(
        serde_json::from_str::<Reading>(&serde_json::to_string(&r).unwrap()).unwrap(),
        r
    );
}

#[test]
fn values_hold_plain_f64s() {
    let v: Value = serde_json::from_str("0.1").unwrap();
    assert_eq!(v, json!(0.1));
    let v: Value = serde_json::from_str("1.5").unwrap();
    assert!(v.is_f64(), "{v:?}");
    assert_eq!(v.as_f64(), Some(1.5));
    assert_eq!(v, json!(1.5));
    // arbitrary_precision keeps the text "1.50"; a plain f64 prints as 1.5.
    let v: Value = serde_json::from_str("1.50").unwrap();
    assert_eq!(v.to_string(), "1.5");
}

#[test]
fn numbers_beyond_f64_are_not_kept_as_text() {
    // With arbitrary_precision, a Number holds any JSON number's text, 1e400 included.
    assert!(serde_json::from_str::<Number>("1e400").is_err());
    // A 30-digit integer is an f64 (arbitrary_precision: an integer text that is no f64).
    let v: Value = serde_json::from_str(BIG_INTEGER).unwrap();
    assert!(v.is_f64() && !v.is_u64() && !v.is_i64(), "{v:?}");
    assert_eq!(v.as_f64(), Some(1.2345678901234568e29));
}

#[test]
fn floats_parse_alike_through_every_path() {
    for text in TRICKY_FLOATS {
        let direct: f64 = serde_json::from_str(text).unwrap();
        let via_value = serde_json::from_str::<Value>(text)
            .unwrap()
            .as_f64()
            .unwrap();
        assert_eq!(direct.to_bits(), via_value.to_bits(), "{text}");
        // Within one unit in the last place of the correctly rounded value, whether
        // float_roundtrip is on or off (the exact bits are compared with a build without our
        // crates by scripts/check-compat.sh).
        let exact: f64 = text.parse().unwrap();
        assert!(
            direct.to_bits().abs_diff(exact.to_bits()) <= 1,
            "{text}: {direct:e} vs {exact:e}"
        );
    }
}

#[test]
fn objects_keep_sorted_keys() {
    // preserve_order would keep the input's order.
    let v: Value = serde_json::from_str(r#"{"b": 1, "a": 2, "c": {"z": 0, "y": 1}}"#).unwrap();
    assert_eq!(v.to_string(), r#"{"a":2,"b":1,"c":{"y":1,"z":0}}"#);
}

#[test]
fn the_recursion_limit_stays() {
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    assert!(serde_json::from_str::<Value>(&deep).is_err());
}
