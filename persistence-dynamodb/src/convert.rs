//! JSON attributes <-> DynamoDB attribute values, exactly or not at all.
//!
//! Writing uses `serde_dynamo` (JSON numbers become their exact decimal text). Reading is done
//! here because it must refuse what JSON cannot hold exactly: a number with more precision or
//! range than `i64`/`u64`/`f64` is reported as corrupt data naming the attribute, never rounded.
//! Sets read as JSON arrays (the ASK SDKs' Python adapter writes a Python `set` as SS/NS);
//! binary values have no JSON form and are refused.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Map, Number, Value};

/// DynamoDB's largest number magnitude is just under 1e126.
const MAX_EXP10: i32 = 126;
/// DynamoDB's smallest non-zero magnitude is 1e-130.
const MIN_EXP10: i32 = -130;
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
    check_and_measure(attributes, "attributes")?;
    to_attribute_value(attributes)
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

/// Checks that DynamoDB can store `attrs` exactly and returns the item size it adds, in bytes,
/// as DynamoDB counts it (names + values; maps and lists 3 bytes + 1 per element). `root`
/// names the map in errors.
pub(crate) fn check_and_measure(
    attrs: &Map<String, Value>,
    root: &str,
) -> Result<usize, ConvertError> {
    measure_map(attrs).map_err(|e| e.at(root))
}

fn measure_map(attrs: &Map<String, Value>) -> Result<usize, ConvertError> {
    let mut size = 3;
    for (k, v) in attrs {
        if k.is_empty() {
            return Err(ConvertError::here(
                "DynamoDB does not accept an empty attribute name inside a map".into(),
            )
            .in_key(k));
        }
        size += 1 + k.len() + measure_value(v).map_err(|e| e.in_key(k))?;
    }
    Ok(size)
}

fn measure_value(v: &Value) -> Result<usize, ConvertError> {
    Ok(match v {
        Value::Null | Value::Bool(_) => 1,
        Value::String(s) => s.len(),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                digits(u).div_ceil(2) + 1
            } else if let Some(i) = n.as_i64() {
                digits(i.unsigned_abs()).div_ceil(2) + 1
            } else {
                let f = n.as_f64().unwrap_or(0.0);
                check_float_range(f)?;
                // At most 17 significant digits: f64's shortest round-trip form.
                number_size(&format!("{f:e}"))
            }
        }
        Value::Array(items) => {
            let mut size = 3;
            for (i, item) in items.iter().enumerate() {
                size += 1 + measure_value(item).map_err(|e| e.in_index(i))?;
            }
            size
        }
        Value::Object(map) => measure_map(map)?,
    })
}

fn digits(mut n: u64) -> usize {
    let mut d = 1;
    while n >= 10 {
        n /= 10;
        d += 1;
    }
    d
}

fn check_float_range(f: f64) -> Result<(), ConvertError> {
    if f == 0.0 {
        return Ok(());
    }
    let exp = f.abs().log10().floor() as i32;
    if !(MIN_EXP10..MAX_EXP10).contains(&exp) {
        return Err(ConvertError::here(format!(
            "{f:e} is outside DynamoDB's number range (1e-130 to 9.99e125 in magnitude)"
        )));
    }
    Ok(())
}

/// "1 byte per two significant digits, plus 1".
fn number_size(text: &str) -> usize {
    let digits = text
        .split(['e', 'E'])
        .next()
        .unwrap_or(text)
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    digits.div_ceil(2) + 1
}

/// JSON attributes to a DynamoDB map value. Call [`check_and_measure`] first.
pub(crate) fn to_attribute_value(
    attrs: &Map<String, Value>,
) -> Result<AttributeValue, ConvertError> {
    serde_dynamo::to_attribute_value(attrs).map_err(|e| ConvertError {
        path: "attributes".into(),
        detail: e.to_string(),
    })
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

/// A DynamoDB number (decimal text) as a JSON number, only if that loses nothing.
pub(crate) fn number_to_json(text: &str) -> Result<Number, String> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(i.into());
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(u.into());
    }
    let Some(stored) = Decimal::parse(text) else {
        return Err(format!("`{text}` is not a number"));
    };
    let f: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    let exact = f.is_finite()
        && Decimal::parse(&format!("{f:e}")).is_some_and(|shortest| shortest == stored);
    match (exact, Number::from_f64(f)) {
        (true, Some(n)) => Ok(n),
        _ => Err(format!(
            "the number {text} cannot be held exactly by a JSON number (i64, u64 or f64); \
             it was not rounded"
        )),
    }
}

/// A decimal number in canonical form: sign, significant digits (no leading or trailing zeros),
/// and the power of ten of the first digit. Zero is `(false, "", 0)`.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    negative: bool,
    digits: String,
    exp: i64,
}

impl Decimal {
    fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], rest[i + 1..].parse::<i64>().ok()?),
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let all = format!("{int}{frac}");
        let lead = all.bytes().take_while(|b| *b == b'0').count();
        let digits = all[lead..].trim_end_matches('0');
        if digits.is_empty() {
            return Some(Self {
                negative: false,
                digits: String::new(),
                exp: 0,
            });
        }
        if digits.len() > MAX_DIGITS + 40 {
            // Far beyond anything DynamoDB or f64 holds; not worth comparing.
            return None;
        }
        let first_digit_exp = int.len() as i64 - 1 - lead as i64 + exp;
        Some(Self {
            negative,
            digits: digits.to_owned(),
            exp: first_digit_exp,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(v: Value) -> Value {
        let Value::Object(map) = v else { panic!() };
        check_and_measure(&map, "attributes").unwrap();
        let av = to_attribute_value(&map).unwrap();
        to_json(&av, "attributes").unwrap()
    }

    #[test]
    fn numbers_that_json_holds_exactly_are_read() {
        for (text, expected) in [
            ("0", json!(0)),
            ("-0", json!(0)),
            ("18446744073709551615", json!(u64::MAX)),
            ("-9223372036854775808", json!(i64::MIN)),
            ("0.1", json!(0.1)),
            ("1000000000000000000000", json!(1e21)),
            ("1E+21", json!(1e21)),
            ("0.00000015", json!(1.5e-7)),
            ("123456.789", json!(123_456.789)),
            ("0.30000000000000004", json!(0.30000000000000004)),
            ("-3.5", json!(-3.5)),
        ] {
            assert_eq!(
                Value::Number(number_to_json(text).unwrap()),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn numbers_json_cannot_hold_are_refused_not_rounded() {
        for text in [
            "0.1000000000000000000000000001",
            "18446744073709551616",
            "123456789012345678901234567890",
            "1E+400",
            "NaN",
            "Infinity",
            "inf",
            "",
            "1.2.3",
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
            "uni": "☕ \u{0} ключ"
        });
        assert_eq!(roundtrip(v.clone()), v);
    }

    #[test]
    fn out_of_range_floats_and_empty_names_are_refused_with_their_path() {
        let Value::Object(m) = json!({"a": {"b": [1, 1e200]}}) else {
            panic!()
        };
        let e = check_and_measure(&m, "attributes").unwrap_err();
        assert_eq!(e.path, "attributes.a.b[1]");
        let Value::Object(m) = json!({"a": {"": 1}}) else {
            panic!()
        };
        assert!(check_and_measure(&m, "attributes").is_err());
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
        assert_eq!(check_and_measure(&m, "a").unwrap(), 9);
        assert_eq!(number_size("12345"), 4);
    }
}
