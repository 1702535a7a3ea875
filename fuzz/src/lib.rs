//! Fuzz oracles: each takes arbitrary bytes and panics only when an invariant users rely on is
//! broken. The cargo-fuzz targets in `cargo-fuzz/` call them (`scripts/fuzz.sh`), and
//! `tests/corpus.rs` replays the kept corpus and every crash case through them on stable Rust as
//! part of the normal test run.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::{
    Attributes, DeviceIdKey, Error, KeyGenerator, MAX_KEY_BYTES, PersonIdKey, UserIdKey,
    validate_key,
};
use persistence_dynamodb::{attributes_from_dynamodb, attributes_to_dynamodb};
use serde_json::Value;

/// Envelope parsing and key generation: any input parses or is refused; a parsed envelope gives
/// each key generator either a non-empty key or [`Error::MissingKeySource`]; printing it never
/// panics or shows a full ID.
pub fn envelope(data: &[u8]) {
    let _ = serde_json::from_slice::<persistence_core::envelope::RequestEnvelope>(data);
    let Ok(env) = serde_json::from_slice::<skill_builder::RequestEnvelope>(data) else {
        return;
    };
    let generators: [&dyn KeyGenerator; 3] = [&UserIdKey, &DeviceIdKey, &PersonIdKey];
    for generator in generators {
        match generator.key(&env) {
            Ok(key) => {
                assert!(!key.is_empty(), "a key generator returned an empty key");
                let _ = validate_key(&key, MAX_KEY_BYTES);
                // Only where the ID is written once in the input: an ID that also stands in
                // another field's text (a message, an unknown field) is shown there legitimately
                // (the fuzzer found such an input; it is kept in fuzz/regressions/envelope/).
                let shown = format!("{env:?}");
                let input = String::from_utf8_lossy(data);
                if key.chars().count() >= 8 && input.matches(key.as_str()).count() == 1 {
                    assert!(!shown.contains(&key), "Debug output shows a full ID");
                }
            }
            Err(Error::MissingKeySource { field }) => assert!(field.starts_with("context.System.")),
            Err(other) => panic!("key generation failed with {other:?}"),
        }
    }
}

/// JSON -> DynamoDB -> JSON: an object the writer accepts reads back as the same value (numbers
/// compared as DynamoDB keeps them: an integral float comes back as an integer); an object it
/// refuses is refused with a path. Never a panic.
pub fn dynamodb_roundtrip(data: &[u8]) {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let attrs = Attributes::from(map);
    match attributes_to_dynamodb(&attrs) {
        Ok(value) => {
            let back = attributes_from_dynamodb(&value)
                .unwrap_or_else(|e| panic!("what the adapter writes it cannot read: {e}"));
            assert!(
                same(&Value::from(attrs.clone()), &Value::from(back.clone())),
                "round trip changed {attrs:?} into {back:?}"
            );
        }
        Err(e) => assert!(
            e.path().starts_with("attributes"),
            "error without a path: {e}"
        ),
    }
}

/// A stored DynamoDB number given as arbitrary text: read exactly or refused, and what is read
/// is written and read again unchanged (or refused by the writer as outside DynamoDB's range).
pub fn dynamodb_numbers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let stored = AttributeValue::M([("n".to_string(), AttributeValue::N(text.to_owned()))].into());
    let Ok(first) = attributes_from_dynamodb(&stored) else {
        return;
    };
    let n = &first["n"];
    assert!(n.is_number(), "{text:?} read as {n:?}");
    match attributes_to_dynamodb(&first).and_then(|v| attributes_from_dynamodb(&v)) {
        Ok(again) => assert!(
            same(&first["n"], &again["n"]),
            "{text:?}: {n} became {}",
            again["n"]
        ),
        // Text outside DynamoDB's range (which DynamoDB itself never returns) reads, but a save
        // refuses it: the writer never sends what DynamoDB would reject.
        Err(e) => assert!(
            e.detail().contains("outside DynamoDB's number range"),
            "{text:?} read as {n} but does not survive a save: {e}"
        ),
    }
}

/// Equality with numbers compared by value when one of them is a float.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                x.as_f64() == y.as_f64()
            } else {
                x == y
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
