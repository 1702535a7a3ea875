//! Fuzz oracles: each takes arbitrary bytes and panics only when an invariant users rely on is
//! broken. The cargo-fuzz targets in `cargo-fuzz/` call them (`scripts/fuzz.sh`), and
//! `tests/corpus.rs` replays the kept corpus and every crash case through them on stable Rust as
//! part of the normal test run.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::exact::ExactValue;
use persistence_core::number::{Decimal, json_number};
use persistence_core::{Attributes, MAX_KEY_BYTES, validate_key};
use persistence_dynamodb::{attributes_from_dynamodb, attributes_to_dynamodb};
use skill_builder::{DeviceIdKey, KeyGenerator, PersonIdKey, SkillError, UserIdKey};

/// Envelope parsing and key generation: any input parses or is refused; a parsed envelope gives
/// each key generator either a non-empty key or [`SkillError::MissingKeySource`]; printing it
/// never panics or shows a full ID.
pub fn envelope(data: &[u8]) {
    let Ok(env) = serde_json::from_slice::<skill_builder::RequestEnvelope>(data) else {
        return;
    };
    let _ = env.timestamp();
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
            Err(SkillError::MissingKeySource { field }) => {
                assert!(field.starts_with("context.System."));
            }
            Err(other) => panic!("key generation failed with {other:?}"),
        }
    }
}

/// JSON -> DynamoDB -> JSON: an object the writer accepts reads back exactly the same, both
/// its JSON view and every number's exact text (never through `f64`); an object it refuses is
/// refused with a path. Never a panic.
pub fn dynamodb_roundtrip(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(ExactValue::Map(map)) = ExactValue::parse_json(text) else {
        return;
    };
    let Ok(attrs) = Attributes::from_exact(map) else {
        return; // a number beyond f64's range has no JSON view
    };
    match attributes_to_dynamodb(&attrs) {
        Ok(stored) => {
            let back = attributes_from_dynamodb(&stored)
                .unwrap_or_else(|e| panic!("what the adapter writes it cannot read: {e}"));
            assert_eq!(back, attrs, "the round trip changed a value");
            assert_eq!(
                back.to_exact(),
                attrs.to_exact(),
                "the round trip changed a stored form"
            );
        }
        Err(e) => assert!(
            e.path().starts_with("attributes"),
            "error without a path: {e}"
        ),
    }
}

/// A stored DynamoDB number given as arbitrary text: read (its JSON view is the nearest value,
/// or its text beyond a float's range) or refused as not a number; its exact text is kept and written
/// back unchanged by a save that did not touch it, or refused by the writer as something
/// DynamoDB cannot store (which DynamoDB itself never returns).
pub fn dynamodb_numbers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let stored = AttributeValue::M([("n".to_string(), AttributeValue::N(text.to_owned()))].into());
    let Ok(first) = attributes_from_dynamodb(&stored) else {
        // Refused: not a decimal number.
        assert!(
            Decimal::parse(text).is_none(),
            "{text:?} is a number the reader refused"
        );
        return;
    };
    let n = &first["n"];
    match n {
        serde_json::Value::Number(number) => {
            let view = number.as_f64().expect("a JSON number has a float value");
            if let Ok(exact) = text.trim_start_matches('+').parse::<f64>() {
                assert!(
                    view == exact || (view == 0.0 && exact == 0.0),
                    "{text:?} read as {n}: not the nearest float"
                );
            }
        }
        // Beyond a float's range: seen as its decimal text.
        serde_json::Value::String(_) => assert!(
            json_number(text).is_none(),
            "{text:?} has a float value but reads as text {n}"
        ),
        other => panic!("{text:?} read as {other}"),
    }
    match first.exact("n") {
        Some(ExactValue::Number(e)) => assert_eq!(e.as_str(), text, "the exact text was lost"),
        other => panic!("{text:?}: exact form {other:?}"),
    }
    match attributes_to_dynamodb(&first) {
        Ok(again) => assert_eq!(
            again, stored,
            "{text:?} changed in a save that did not touch it"
        ),
        Err(e) => assert!(
            e.detail().contains("outside DynamoDB's number range")
                || e.detail().contains("significant digits"),
            "{text:?} read as {n} but does not survive a save: {e}"
        ),
    }
}
