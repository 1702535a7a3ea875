//! Reading JSON text into exact values (numbers as written, deep documents without the
//! recursion limit) and writing them back.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::{ExactMap, ExactNumber, ExactValue};

/// How deeply [`ExactValue::parse_json`] reads nested lists and maps.
pub const MAX_READ_DEPTH: usize = 512;

/// `serde_json::from_str` without its recursion limit of 128 (the depth is bounded by
/// [`MAX_READ_DEPTH`] here instead).
pub(super) fn from_str_unbounded<'a, T: serde::Deserialize<'a>>(
    text: &'a str,
) -> Result<T, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let value = T::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

pub(super) fn from_raw(raw: &RawValue, depth: usize) -> Result<ExactValue, serde_json::Error> {
    let text = raw.get();
    let nested = |first: u8| {
        if depth >= MAX_READ_DEPTH {
            Err(<serde_json::Error as serde::de::Error>::custom(format!(
                "nested deeper than {MAX_READ_DEPTH} levels"
            )))
        } else {
            Ok(first)
        }
    };
    Ok(match text.as_bytes().first() {
        Some(b'{') => {
            nested(b'{')?;
            let entries: BTreeMap<String, &RawValue> = from_str_unbounded(text)?;
            ExactValue::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Ok((k, from_raw(v, depth + 1)?)))
                    .collect::<Result<_, serde_json::Error>>()?,
            )
        }
        Some(b'[') => {
            nested(b'[')?;
            let items: Vec<&RawValue> = from_str_unbounded(text)?;
            ExactValue::List(
                items
                    .into_iter()
                    .map(|v| from_raw(v, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        Some(b'"') => ExactValue::String(serde_json::from_str(text)?),
        Some(b't' | b'f') => ExactValue::Bool(serde_json::from_str(text)?),
        Some(b'n') => ExactValue::Null,
        _ => match ExactNumber::parse(text) {
            Some(n) => ExactValue::Number(n),
            None => {
                return Err(<serde_json::Error as serde::de::Error>::custom(
                    "a number that is not a finite decimal",
                ));
            }
        },
    })
}

pub(super) fn write_str(s: &str, out: &mut String) {
    // Serialising a string into JSON text cannot fail.
    if let Ok(text) = serde_json::to_string(s) {
        out.push_str(&text);
    }
}

pub(super) fn write_seq<T>(
    items: impl Iterator<Item = T>,
    out: &mut String,
    each: impl Fn(T, &mut String),
) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        each(item, out);
    }
    out.push(']');
}

pub(super) fn write_map(map: &ExactMap, out: &mut String) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(k, out);
        out.push(':');
        v.write_json(out);
    }
    out.push('}');
}
