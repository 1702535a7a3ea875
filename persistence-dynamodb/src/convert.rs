//! JSON attributes <-> DynamoDB attribute values, exactly or not at all.
//!
//! Numbers are exact both ways. The workspace's `serde_json` keeps a number's decimal text
//! (`arbitrary_precision`), so every number DynamoDB can store reads into the JSON value with its
//! exact value, in [`persistence_core::number`]'s canonical form: a 28-digit Python `Decimal`
//! or an integer past 2^64 loads, and is written back unchanged. Writing checks what DynamoDB
//! cannot store (over 38 significant digits, magnitudes outside 1e-130..1e126) and refuses it
//! naming the attribute. The conversion is written here rather than with `serde_dynamo`, which
//! sees an arbitrary-precision number as a one-field struct and would store it as a map.
//! Sets read as JSON arrays (the ASK SDKs' Python adapter writes a Python `set` as SS/NS);
//! binary values have no JSON form and are refused.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::number::{Decimal, canonical_number};
use serde_json::{Map, Number, Value};

/// DynamoDB's largest number magnitude is just under 1e126 (first digit at most 10^125).
const MAX_EXP10: i64 = 125;
/// DynamoDB's smallest non-zero magnitude is 1e-130.
const MIN_EXP10: i64 = -130;
/// DynamoDB keeps at most 38 significant digits.
const MAX_DIGITS: usize = 38;

/// Why a value cannot be converted, with the attribute path (`attributes.profile.tags[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    pub(crate) path: String,
    pub(crate) detail: String,
}

impl ConvertError {
    /// Where: `attributes.profile.tags[1]`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl std::error::Error for ConvertError {}

/// The DynamoDB map value the adapter stores for `attributes` (under `attributes`), after
/// checking that DynamoDB can hold every value exactly. The adapter's write path; public for
/// migrations and tools.
///
/// ```
/// use persistence_core::Attributes;
/// use persistence_dynamodb::{attributes_from_dynamodb, attributes_to_dynamodb};
///
/// let attrs = Attributes::try_from(serde_json::json!({"drink": "latte", "n": 0.1})).unwrap();
/// let value = attributes_to_dynamodb(&attrs)?;
/// assert_eq!(attributes_from_dynamodb(&value)?, attrs);
/// # Ok::<(), persistence_dynamodb::ConvertError>(())
/// ```
pub fn attributes_to_dynamodb(
    attributes: &persistence_core::Attributes,
) -> Result<AttributeValue, ConvertError> {
    to_item_value(attributes, "attributes").map(|(value, _)| value)
}

/// The attributes a stored DynamoDB map value holds, exactly or not at all (the adapter's read
/// path): a number JSON cannot hold, a binary value, or a value that is not a map is an error
/// naming the attribute.
pub fn attributes_from_dynamodb(
    value: &AttributeValue,
) -> Result<persistence_core::Attributes, ConvertError> {
    match value {
        AttributeValue::M(m) => map_to_json(m, "attributes").map(Into::into),
        other => Err(ConvertError {
            path: "attributes".into(),
            detail: format!(
                "should be a map (M), found {}",
                crate::errors::type_name(other)
            ),
        }),
    }
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "attribute `{}`: {}", self.path, self.detail)
    }
}

impl ConvertError {
    /// An error at the value being converted; the callers up the tree prepend the path, so that
    /// nothing is formatted on the (common) path where conversion succeeds.
    fn here(detail: String) -> Self {
        Self {
            path: String::new(),
            detail,
        }
    }

    fn in_key(mut self, key: &str) -> Self {
        self.path.insert_str(0, &format!(".{key}"));
        self
    }

    fn in_index(mut self, index: usize) -> Self {
        self.path.insert_str(0, &format!("[{index}]"));
        self
    }

    fn at(mut self, root: &str) -> Self {
        self.path.insert_str(0, root);
        self
    }
}

/// JSON attributes as the DynamoDB map value the adapter stores, with the size it adds to the
/// item in bytes as DynamoDB counts it (names + values; maps and lists 3 bytes + 1 per
/// element), after checking that DynamoDB can hold every value exactly. One pass. `root` names
/// the map in errors.
pub(crate) fn to_item_value(
    attrs: &Map<String, Value>,
    root: &str,
) -> Result<(AttributeValue, usize), ConvertError> {
    map_to_av(attrs)
        .map(|(m, size)| (AttributeValue::M(m), size))
        .map_err(|e| e.at(root))
}

fn map_to_av(
    attrs: &Map<String, Value>,
) -> Result<(HashMap<String, AttributeValue>, usize), ConvertError> {
    let mut size = 3;
    let mut out = HashMap::with_capacity(attrs.len());
    for (k, v) in attrs {
        if k.is_empty() {
            return Err(ConvertError::here(
                "DynamoDB does not accept an empty attribute name inside a map".into(),
            )
            .in_key(k));
        }
        let (av, n) = value_to_av(v).map_err(|e| e.in_key(k))?;
        size += 1 + k.len() + n;
        out.insert(k.clone(), av);
    }
    Ok((out, size))
}

fn value_to_av(v: &Value) -> Result<(AttributeValue, usize), ConvertError> {
    Ok(match v {
        Value::Null => (AttributeValue::Null(true), 1),
        Value::Bool(b) => (AttributeValue::Bool(*b), 1),
        Value::String(s) => (AttributeValue::S(s.clone()), s.len()),
        Value::Number(n) => {
            let size = check_number(n.as_str())?;
            (AttributeValue::N(n.as_str().to_owned()), size)
        }
        Value::Array(items) => {
            let mut size = 3;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let (av, n) = value_to_av(item).map_err(|e| e.in_index(i))?;
                size += 1 + n;
                out.push(av);
            }
            (AttributeValue::L(out), size)
        }
        Value::Object(map) => {
            let (m, size) = map_to_av(map)?;
            (AttributeValue::M(m), size)
        }
    })
}

/// Checks that DynamoDB can store the number `text` exactly; returns its size in bytes ("1 byte
/// per two significant digits, plus 1").
fn check_number(text: &str) -> Result<usize, ConvertError> {
    // Plain integers (the common case) need no parsing beyond their length.
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty()
        && digits.len() <= MAX_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(digits.len().div_ceil(2) + 1);
    }
    let d = Decimal::parse(text)
        .ok_or_else(|| ConvertError::here(format!("`{text}` is not a number")))?;
    if d.is_zero() {
        return Ok(2);
    }
    if d.digits().len() > MAX_DIGITS {
        return Err(ConvertError::here(format!(
            "{text} has {} significant digits; DynamoDB keeps at most {MAX_DIGITS}",
            d.digits().len()
        )));
    }
    if !(MIN_EXP10..=MAX_EXP10).contains(&d.exponent()) {
        return Err(ConvertError::here(format!(
            "{text} is outside DynamoDB's number range (1e-130 to 9.99e125 in magnitude)"
        )));
    }
    Ok(d.digits().len().div_ceil(2) + 1)
}

/// A DynamoDB value to JSON, exactly. `root` names it in errors.
#[cfg(test)]
pub(crate) fn to_json(av: &AttributeValue, root: &str) -> Result<Value, ConvertError> {
    value_to_json(av).map_err(|e| e.at(root))
}

fn value_to_json(av: &AttributeValue) -> Result<Value, ConvertError> {
    Ok(match av {
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::Bool(b) => Value::Bool(*b),
        AttributeValue::S(s) => Value::String(s.clone()),
        AttributeValue::N(n) => Value::Number(number_to_json(n).map_err(ConvertError::here)?),
        AttributeValue::M(m) => Value::Object(entries_to_json(m)?),
        AttributeValue::L(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, v) in items.iter().enumerate() {
                out.push(value_to_json(v).map_err(|e| e.in_index(i))?);
            }
            Value::Array(out)
        }
        AttributeValue::Ss(items) => {
            Value::Array(items.iter().cloned().map(Value::String).collect())
        }
        AttributeValue::Ns(items) => Value::Array(
            items
                .iter()
                .map(|n| number_to_json(n).map(Value::Number))
                .collect::<Result<_, _>>()
                .map_err(ConvertError::here)?,
        ),
        AttributeValue::B(_) | AttributeValue::Bs(_) => {
            return Err(ConvertError::here("binary values have no JSON form".into()));
        }
        other => {
            return Err(ConvertError::here(format!(
                "unsupported DynamoDB type {other:?}"
            )));
        }
    })
}

/// A DynamoDB map to a JSON object, exactly. `root` names it in errors.
pub(crate) fn map_to_json(
    m: &std::collections::HashMap<String, AttributeValue>,
    root: &str,
) -> Result<Map<String, Value>, ConvertError> {
    entries_to_json(m).map_err(|e| e.at(root))
}

fn entries_to_json(
    m: &std::collections::HashMap<String, AttributeValue>,
) -> Result<Map<String, Value>, ConvertError> {
    let mut out = Map::new();
    for (k, v) in m {
        out.insert(k.clone(), value_to_json(v).map_err(|e| e.in_key(k))?);
    }
    Ok(out)
}

/// A DynamoDB number (decimal text) as a JSON number with its exact value, in canonical form.
pub(crate) fn number_to_json(text: &str) -> Result<Number, String> {
    canonical_number(text).ok_or_else(|| format!("`{text}` is not a number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(v: Value) -> Value {
        let Value::Object(map) = v else { panic!() };
        let (av, _) = to_item_value(&map, "attributes").unwrap();
        to_json(&av, "attributes").unwrap()
    }

    #[test]
    fn every_number_dynamodb_stores_is_read_exactly() {
        for (text, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("-0.000", "-0.0"),
            ("18446744073709551615", "18446744073709551615"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("0.1", "0.1"),
            ("1E+21", "1e+21"),
            ("0.00000015", "1.5e-7"),
            ("123456.789", "123456.789"),
            ("-3.5", "-3.5"),
            // What floats cannot hold keeps its exact decimal text.
            (
                "0.6666666666666666666666666667",
                "0.6666666666666666666666666667",
            ),
            ("1180591620717411303424", "1180591620717411303424"),
            ("18446744073709551616", "18446744073709551616"),
            (
                "0.1000000000000000000000000001",
                "0.1000000000000000000000000001",
            ),
            ("1E-130", "1e-130"),
        ] {
            assert_eq!(number_to_json(text).unwrap().as_str(), expected, "{text}");
        }
        let max = "9.9999999999999999999999999999999999999E+125";
        assert_eq!(
            number_to_json(max).unwrap().as_str(),
            format!("{}{}", "9".repeat(38), "0".repeat(88))
        );
        for text in ["1e-130", "-1e-130", "1e125"] {
            assert!(number_to_json(text).is_ok(), "{text}");
        }
    }

    #[test]
    fn garbage_numbers_are_errors_not_panics() {
        for text in [
            "NaN",
            "Infinity",
            "inf",
            "",
            "1.2.3",
            "10e9223372036854775807",
        ] {
            assert!(number_to_json(text).is_err(), "{text}");
        }
    }

    #[test]
    fn awkward_values_round_trip() {
        let v = json!({
            "s": "", "n": null, "t": true, "m": {}, "l": [],
            "deep": {"a": [1, {"b": [0.1, -2.5, 1e21, 1.5e-7]}]},
            "i": i64::MIN, "u": u64::MAX, "f": 6.02214076e23,
            "uni": "☕ \u{0} ключ",
            "big": Value::Number(canonical_number("0.6666666666666666666666666667").unwrap()),
        });
        assert_eq!(roundtrip(v.clone()), v);
    }

    #[test]
    fn numbers_dynamodb_cannot_store_are_refused_with_their_path() {
        let Value::Object(m) = json!({"a": {"b": [1, 1e200]}}) else {
            panic!()
        };
        let e = to_item_value(&m, "attributes").unwrap_err();
        assert_eq!(e.path, "attributes.a.b[1]");
        let forty = Value::Number(canonical_number(&format!("0.{}", "1".repeat(40))).unwrap());
        let Value::Object(m) = json!({"x": forty}) else {
            panic!()
        };
        let e = to_item_value(&m, "attributes").unwrap_err();
        assert!(e.detail.contains("38"), "{e}");
        let Value::Object(m) = json!({"a": {"": 1}}) else {
            panic!()
        };
        assert!(to_item_value(&m, "attributes").is_err());
    }

    #[test]
    fn sets_read_as_arrays_and_binary_is_refused() {
        let ss = AttributeValue::Ss(vec!["a".into(), "b".into()]);
        assert_eq!(to_json(&ss, "x").unwrap(), json!(["a", "b"]));
        let ns = AttributeValue::Ns(vec!["1".into(), "2.5".into()]);
        assert_eq!(to_json(&ns, "x").unwrap(), json!([1, 2.5]));
        let b = AttributeValue::B(aws_smithy_types::Blob::new(vec![1, 2]));
        let mut m = std::collections::HashMap::new();
        m.insert("bin".to_string(), b);
        let e = map_to_json(&m, "attributes").unwrap_err();
        assert_eq!(e.path, "attributes.bin");
    }

    #[test]
    fn size_counts_names_and_values() {
        let Value::Object(m) = json!({"ab": "xyz"}) else {
            panic!()
        };
        // map overhead 3 + element 1 + name 2 + value 3
        assert_eq!(to_item_value(&m, "a").unwrap().1, 9);
        assert_eq!(check_number("12345").unwrap(), 4);
        assert_eq!(check_number("0.6666666666666666666666666667").unwrap(), 15);
    }
}
