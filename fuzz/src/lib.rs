//! Fuzz oracles: each takes arbitrary bytes and panics only when an invariant users rely on is
//! broken. The cargo-fuzz targets in `cargo-fuzz/` call them (`scripts/fuzz.sh`), and
//! `tests/corpus.rs` replays the kept corpus and every crash case through them on stable Rust as
//! part of the normal test run.
#![allow(clippy::panic, clippy::expect_used, clippy::unwrap_used)]

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::number::{Decimal, canonicalize, is_canonical};
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

/// JSON -> DynamoDB -> JSON: an object the writer accepts reads back exactly the same value
/// (numbers included: each in its canonical form, compared as JSON values, never through `f64`);
/// an object it refuses is refused with a path. Never a panic.
pub fn dynamodb_roundtrip(data: &[u8]) {
    let Ok(mut value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    // What every backend does with numbers read from text (a number of over 1000 significant
    // digits stays as written; DynamoDB refuses it below).
    canonicalize(&mut value);
    let Value::Object(map) = value else {
        return;
    };
    let attrs = Attributes::from(map);
    match attributes_to_dynamodb(&attrs) {
        Ok(stored) => {
            let back = attributes_from_dynamodb(&stored)
                .unwrap_or_else(|e| panic!("what the adapter writes it cannot read: {e}"));
            assert_eq!(back, attrs, "the round trip changed a value");
        }
        Err(e) => assert!(
            e.path().starts_with("attributes"),
            "error without a path: {e}"
        ),
    }
}

/// A stored DynamoDB number given as arbitrary text: read exactly (its decimal value is the
/// text's) or refused as not a number; what is read is in canonical form, and is written and
/// read again unchanged, or refused by the writer as something DynamoDB cannot store (which
/// DynamoDB itself never returns).
pub fn dynamodb_numbers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let stored = AttributeValue::M([("n".to_string(), AttributeValue::N(text.to_owned()))].into());
    let Ok(first) = attributes_from_dynamodb(&stored) else {
        // Refused: it must not be a decimal number at all.
        assert!(
            Decimal::parse(text).is_none(),
            "{text:?} is a number the reader refused"
        );
        return;
    };
    let n = first["n"].as_number().expect("a number reads as a number");
    assert!(
        is_canonical(n),
        "{text:?} read as {n}, not in canonical form"
    );
    // The value is exactly the text's: the same decimal, whatever the spelling.
    assert_eq!(
        Decimal::parse(n.as_str()),
        Decimal::parse(text.trim_start_matches('+')),
        "{text:?} read as {n}: a different value"
    );
    match attributes_to_dynamodb(&first).and_then(|v| attributes_from_dynamodb(&v)) {
        Ok(again) => assert_eq!(again, first, "{text:?}: {n} changed in a save"),
        Err(e) => assert!(
            e.detail().contains("outside DynamoDB's number range")
                || e.detail().contains("significant digits"),
            "{text:?} read as {n} but does not survive a save: {e}"
        ),
    }
}
