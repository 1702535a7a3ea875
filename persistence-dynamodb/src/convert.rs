//! Exact stored values <-> DynamoDB attribute values, both ways without loss.
//!
//! A read keeps every value exactly ([`ExactValue`]): numbers as DynamoDB's decimal text, string,
//! number and binary sets as sets, binary as bytes. The skill sees their JSON view; a save writes
//! back the exact form of every value the skill left alone (see `persistence_core::exact`), so
//! a Python skill's `Decimal`s and sets on the same table survive this adapter's saves. Writing
//! checks what DynamoDB cannot store (numbers over 38 significant digits or outside
//! 1e-130..1e126, empty names inside maps) and refuses it naming the attribute.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::Attributes;
use persistence_core::exact::{ExactError, ExactMap, ExactNumber, ExactValue};
use persistence_core::number::Decimal;

/// DynamoDB's largest number magnitude is just under 1e126 (first digit at most 10^125).
const MAX_EXP10: i64 = 125;
/// DynamoDB's smallest non-zero magnitude is 1e-130.
const MIN_EXP10: i64 = -130;
/// DynamoDB keeps at most 38 significant digits.
const MAX_DIGITS: usize = 38;

/// Why a value cannot be converted, with the attribute path (`attributes.profile.tags[1]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertError {
    path: String,
    detail: String,
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

    fn at(e: ExactError, root: &str) -> Self {
        let inner = e.path();
        let path = match inner.as_str() {
            "" => root.to_owned(),
            p if p.starts_with('[') => format!("{root}{p}"),
            p => format!("{root}.{p}"),
        };
        Self {
            path,
            detail: e.detail().to_owned(),
        }
    }
}

impl std::fmt::Display for ConvertError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "attribute `{}`: {}", self.path, self.detail)
    }
}

impl std::error::Error for ConvertError {}

/// The DynamoDB map value the adapter stores for `attributes` (under `attributes`), after
/// checking that DynamoDB can hold every value exactly: each value's exact stored form where
/// the attributes still hold it as read. The adapter's write path; public for migrations and
/// tools.
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
///
/// # Errors
/// A value DynamoDB cannot store exactly, naming it.
pub fn attributes_to_dynamodb(attributes: &Attributes) -> Result<AttributeValue, ConvertError> {
    to_item_value(&attributes.to_exact(), "attributes").map(|(value, _)| value)
}

/// The attributes a stored DynamoDB map value holds (the adapter's read path), with the exact
/// stored form kept for the next save.
///
/// # Errors
/// A value that is not a map, or holds a type this adapter does not know, naming it.
pub fn attributes_from_dynamodb(value: &AttributeValue) -> Result<Attributes, ConvertError> {
    match value {
        AttributeValue::M(m) => {
            let exact = map_to_exact(m, "attributes")?;
            Attributes::from_exact(exact).map_err(|e| ConvertError::at(e, "attributes"))
        }
        other => Err(ConvertError {
            path: "attributes".into(),
            detail: format!(
                "should be a map (M), found {}",
                crate::errors::type_name(other)
            ),
        }),
    }
}

/// A map of exact values as the DynamoDB map value the adapter stores, with the size it adds
/// to the item in bytes as DynamoDB counts it (names + values; maps and lists 3 bytes + 1 per
/// element), after checking that DynamoDB can hold every value exactly. `root` names the map
/// in errors.
pub(crate) fn to_item_value(
    attrs: &ExactMap,
    root: &str,
) -> Result<(AttributeValue, usize), ConvertError> {
    map_to_av(attrs)
        .map(|(m, size)| (AttributeValue::M(m), size))
        .map_err(|e| ConvertError::at(e, root))
}

/// One top-level value as a DynamoDB value, with its size (for partial writes).
pub(crate) fn value_to_item_value(
    name: &str,
    value: &ExactValue,
) -> Result<(AttributeValue, usize), ConvertError> {
    value_to_av(value).map_err(|e| ConvertError::at(e.under(name.to_owned()), "attributes"))
}

fn map_to_av(attrs: &ExactMap) -> Result<(HashMap<String, AttributeValue>, usize), ExactError> {
    let mut size = 3;
    let mut out = HashMap::with_capacity(attrs.len());
    for (k, v) in attrs {
        if k.is_empty() {
            return Err(ExactError::new(
                "DynamoDB does not accept an empty attribute name inside a map",
            )
            .under(k.clone()));
        }
        let (av, n) = value_to_av(v).map_err(|e| e.under(k.clone()))?;
        size += 1 + k.len() + n;
        out.insert(k.clone(), av);
    }
    Ok((out, size))
}

fn value_to_av(v: &ExactValue) -> Result<(AttributeValue, usize), ExactError> {
    Ok(match v {
        ExactValue::Null => (AttributeValue::Null(true), 1),
        ExactValue::Bool(b) => (AttributeValue::Bool(*b), 1),
        ExactValue::String(s) => (AttributeValue::S(s.clone()), s.len()),
        ExactValue::Number(n) => (AttributeValue::N(n.as_str().to_owned()), check_number(n)?),
        ExactValue::Binary(b) => (AttributeValue::B(Blob::new(b.clone())), b.len()),
        ExactValue::List(items) => {
            let mut size = 3;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let (av, n) = value_to_av(item).map_err(|e| e.under(format!("[{i}]")))?;
                size += 1 + n;
                out.push(av);
            }
            (AttributeValue::L(out), size)
        }
        ExactValue::Map(map) => {
            let (m, size) = map_to_av(map)?;
            (AttributeValue::M(m), size)
        }
        ExactValue::StringSet(items) => (
            AttributeValue::Ss(items.clone()),
            items.iter().map(String::len).sum(),
        ),
        ExactValue::NumberSet(items) => {
            let mut size = 0;
            for (i, n) in items.iter().enumerate() {
                size += check_number(n).map_err(|e| e.under(format!("[{i}]")))?;
            }
            (
                AttributeValue::Ns(items.iter().map(|n| n.as_str().to_owned()).collect()),
                size,
            )
        }
        ExactValue::BinarySet(items) => (
            AttributeValue::Bs(items.iter().map(|b| Blob::new(b.clone())).collect()),
            items.iter().map(Vec::len).sum(),
        ),
    })
}

/// Checks that DynamoDB can store the number exactly; returns its size in bytes ("1 byte per
/// two significant digits, plus 1").
fn check_number(n: &ExactNumber) -> Result<usize, ExactError> {
    let text = n.as_str();
    // Plain integers (the common case) need no parsing beyond their length.
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty()
        && digits.len() <= MAX_DIGITS
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Ok(digits.len().div_ceil(2) + 1);
    }
    let d =
        Decimal::parse(text).ok_or_else(|| ExactError::new(format!("`{text}` is not a number")))?;
    if d.is_zero() {
        return Ok(2);
    }
    if d.digits().len() > MAX_DIGITS {
        return Err(ExactError::new(format!(
            "{text} has {} significant digits; DynamoDB keeps at most {MAX_DIGITS}",
            d.digits().len()
        )));
    }
    if !(MIN_EXP10..=MAX_EXP10).contains(&d.exponent()) {
        return Err(ExactError::new(format!(
            "{text} is outside DynamoDB's number range (1e-130 to 9.99e125 in magnitude)"
        )));
    }
    Ok(d.digits().len().div_ceil(2) + 1)
}

/// A DynamoDB map as exact values. `root` names it in errors.
pub(crate) fn map_to_exact(
    m: &HashMap<String, AttributeValue>,
    root: &str,
) -> Result<ExactMap, ConvertError> {
    entries_to_exact(m).map_err(|e| ConvertError::at(e, root))
}

fn entries_to_exact(m: &HashMap<String, AttributeValue>) -> Result<ExactMap, ExactError> {
    m.iter()
        .map(|(k, v)| Ok((k.clone(), av_to_exact(v).map_err(|e| e.under(k.clone()))?)))
        .collect()
}

fn number(text: &str) -> Result<ExactNumber, ExactError> {
    ExactNumber::parse(text).ok_or_else(|| ExactError::new(format!("`{text}` is not a number")))
}

fn av_to_exact(av: &AttributeValue) -> Result<ExactValue, ExactError> {
    Ok(match av {
        AttributeValue::Null(_) => ExactValue::Null,
        AttributeValue::Bool(b) => ExactValue::Bool(*b),
        AttributeValue::S(s) => ExactValue::String(s.clone()),
        AttributeValue::N(n) => ExactValue::Number(number(n)?),
        AttributeValue::B(b) => ExactValue::Binary(b.clone().into_inner()),
        AttributeValue::M(m) => ExactValue::Map(entries_to_exact(m)?),
        AttributeValue::L(items) => ExactValue::List(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| av_to_exact(v).map_err(|e| e.under(format!("[{i}]"))))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::Ss(items) => ExactValue::StringSet(items.clone()),
        AttributeValue::Ns(items) => ExactValue::NumberSet(
            items
                .iter()
                .enumerate()
                .map(|(i, n)| number(n).map_err(|e| e.under(format!("[{i}]"))))
                .collect::<Result<_, _>>()?,
        ),
        AttributeValue::Bs(items) => {
            ExactValue::BinarySet(items.iter().map(|b| b.clone().into_inner()).collect())
        }
        other => {
            return Err(ExactError::new(format!(
                "unsupported DynamoDB type {}",
                crate::errors::type_name(other)
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn attrs(v: Value) -> Attributes {
        Attributes::try_from(v).unwrap()
    }

    fn roundtrip(a: &Attributes) -> Attributes {
        attributes_from_dynamodb(&attributes_to_dynamodb(a).unwrap()).unwrap()
    }

    #[test]
    fn every_number_dynamodb_stores_is_kept_exactly() {
        for text in [
            "0",
            "-0.000",
            "18446744073709551616",
            "0.6666666666666666666666666667",
            "1180591620717411303424",
            "1E-130",
            "9.9999999999999999999999999999999999999E+125",
        ] {
            let av = AttributeValue::M(HashMap::from([(
                "n".to_owned(),
                AttributeValue::N(text.into()),
            )]));
            let read = attributes_from_dynamodb(&av).unwrap();
            // Untouched, it is written back with the same text.
            assert_eq!(attributes_to_dynamodb(&read).unwrap(), av, "{text}");
        }
    }

    #[test]
    fn garbage_numbers_are_errors_not_panics() {
        for text in ["NaN", "Infinity", "", "1.2.3", "10e9223372036854775807"] {
            let av = AttributeValue::M(HashMap::from([(
                "n".to_owned(),
                AttributeValue::N(text.into()),
            )]));
            let e = attributes_from_dynamodb(&av).unwrap_err();
            assert_eq!(e.path(), "attributes.n", "{text}");
        }
    }

    #[test]
    fn awkward_values_round_trip() {
        let v = attrs(json!({
            "s": "", "n": null, "t": true, "m": {}, "l": [],
            "deep": {"a": [1, {"b": [0.1, -2.5, 1e21, 1.5e-7]}]},
            "i": i64::MIN, "u": u64::MAX, "f": 6.02214076e23,
            "uni": "☕ \u{0} ключ",
        }));
        assert_eq!(roundtrip(&v), v);
    }

    #[test]
    fn numbers_dynamodb_cannot_store_are_refused_with_their_path() {
        let e = attributes_to_dynamodb(&attrs(json!({"a": {"b": [1, 1e200]}}))).unwrap_err();
        assert_eq!(e.path(), "attributes.a.b[1]");
        let forty = ExactValue::parse_json(&format!("{{\"x\": 0.{}}}", "1".repeat(40))).unwrap();
        let ExactValue::Map(forty) = forty else {
            unreachable!()
        };
        let e = to_item_value(&forty, "attributes").unwrap_err();
        assert!(e.detail().contains("38"), "{e}");
        assert!(attributes_to_dynamodb(&attrs(json!({"a": {"": 1}}))).is_err());
    }

    #[test]
    fn sets_and_binary_read_as_json_and_are_written_back_as_they_were() {
        let stored = AttributeValue::M(HashMap::from([
            (
                "ss".to_owned(),
                AttributeValue::Ss(vec!["a".into(), "b".into()]),
            ),
            (
                "ns".to_owned(),
                AttributeValue::Ns(vec!["1".into(), "2.50".into()]),
            ),
            ("b".to_owned(), AttributeValue::B(Blob::new(vec![1, 2]))),
            ("visits".to_owned(), AttributeValue::N("1".into())),
        ]));
        let mut read = attributes_from_dynamodb(&stored).unwrap();
        assert_eq!(read["ss"], json!(["a", "b"]));
        assert_eq!(read["ns"], json!([1, 2.5]));
        assert_eq!(read["b"], json!("AQI="));
        read.insert("visits".into(), json!(2));
        let AttributeValue::M(written) = attributes_to_dynamodb(&read).unwrap() else {
            panic!()
        };
        assert_eq!(
            written["ss"],
            AttributeValue::Ss(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            written["ns"],
            AttributeValue::Ns(vec!["1".into(), "2.50".into()])
        );
        assert_eq!(written["b"], AttributeValue::B(Blob::new(vec![1, 2])));
        assert_eq!(written["visits"], AttributeValue::N("2".into()));
        // A set the skill added to stays a set.
        read.get_mut("ss")
            .unwrap()
            .as_array_mut()
            .unwrap()
            .push(json!("c"));
        let AttributeValue::M(written) = attributes_to_dynamodb(&read).unwrap() else {
            panic!()
        };
        assert_eq!(
            written["ss"],
            AttributeValue::Ss(vec!["a".into(), "b".into(), "c".into()])
        );
    }

    #[test]
    fn size_counts_names_and_values() {
        let a = attrs(json!({"ab": "xyz"}));
        // map overhead 3 + element 1 + name 2 + value 3
        assert_eq!(to_item_value(&a.to_exact(), "a").unwrap().1, 9);
        let n = |t: &str| check_number(&ExactNumber::parse(t).unwrap()).unwrap();
        assert_eq!(n("12345"), 4);
        assert_eq!(n("0.6666666666666666666666666667"), 15);
    }
}
