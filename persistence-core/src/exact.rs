//! Exact stored values: what a backend really holds, kept beside the JSON a skill works with.
//!
//! A skill sees its attributes as JSON ([`serde_json::Value`]). Storage holds more than JSON
//! says: DynamoDB has string, number and binary **sets** and binary values, and numbers are
//! decimal text of up to 38 digits (a Python skill's `Decimal`s), which an `f64` cannot always
//! hold. An [`ExactValue`] is a value as the backend stored it. Every backend reads into exact
//! values, shows the skill their JSON view, and keeps the exact values beside it
//! ([`Attributes::exact`](crate::Attributes::exact)); a save writes each value the skill left
//! as it was in its exact stored form ([`Attributes::to_exact`](crate::Attributes::to_exact)),
//! so a mixed fleet (a Python skill and this one on the same table) keeps its sets as sets and
//! its numbers digit for digit.
//!
//! A value the skill changed keeps its stored *type* where the new JSON still fits it: an
//! array that replaced a string set and still holds distinct strings is written as a string
//! set again (so the Python skill's `tags.add(...)` keeps working), a number set likewise, and
//! the elements and fields it left alone inside a changed list or map keep their exact form.
//!
//! ```
//! use persistence_core::exact::{ExactValue, ExactNumber};
//! use persistence_core::Attributes;
//! use serde_json::json;
//!
//! let stored = ExactValue::parse_json(r#"{"third": 0.6666666666666666666666666667, "visits": 3}"#)?;
//! let ExactValue::Map(map) = stored else { unreachable!() };
//! let mut attrs = Attributes::from_exact(map)?;
//! assert_eq!(attrs["third"], json!(0.6666666666666666)); // the JSON view: the nearest f64
//! attrs.insert("visits".into(), json!(4));                // the skill changes another attribute
//! let written = ExactValue::Map(attrs.to_exact()).to_json_text();
//! assert_eq!(written, r#"{"third":0.6666666666666666666666666667,"visits":4}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::value::RawValue;
use serde_json::{Map, Number, Value};

use crate::number::{Decimal, is_json_number_text, json_number, number_text};

mod json;
pub use json::MAX_READ_DEPTH;
use json::{from_raw, from_str_unbounded, write_map, write_seq, write_str};

/// The text of a stored number: a finite decimal (`-12.5`, `1E+30`, 38 digits of a Python
/// `Decimal`), kept exactly as the backend holds it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExactNumber(String);

impl ExactNumber {
    /// The number spelled `text`, if it is a finite decimal.
    ///
    /// ```
    /// use persistence_core::exact::ExactNumber;
    /// assert_eq!(ExactNumber::parse("1.50").unwrap().as_str(), "1.50");
    /// assert!(ExactNumber::parse("NaN").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        Decimal::parse(text).map(|_| Self(text.to_owned()))
    }

    /// The number a JSON value holds, in the text a save writes for it.
    pub fn from_json(n: &Number) -> Self {
        Self(number_text(n))
    }

    /// The exact text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON view ([`json_number`]): `None` beyond `f64`'s range.
    pub fn to_json(&self) -> Option<Number> {
        json_number(&self.0)
    }

    /// The text to put in a JSON document: as stored when that is valid JSON, else the same
    /// value in canonical JSON spelling (`+1.50E2` becomes `150`).
    pub fn json_text(&self) -> String {
        if is_json_number_text(&self.0) {
            self.0.clone()
        } else {
            Decimal::parse(&self.0).map_or_else(|| "0".into(), |d| d.to_json_text())
        }
    }
}

impl fmt::Debug for ExactNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for ExactNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A map of exact values by name: one key's stored attributes.
pub type ExactMap = BTreeMap<String, ExactValue>;

/// A value exactly as a backend stores it.
#[derive(Clone, Debug, PartialEq)]
pub enum ExactValue {
    /// JSON `null` (DynamoDB `NULL`).
    Null,
    /// A boolean.
    Bool(bool),
    /// A number, with its stored text.
    Number(ExactNumber),
    /// A string.
    String(String),
    /// Bytes (DynamoDB `B`); their JSON view is a base64 string.
    Binary(Vec<u8>),
    /// A list.
    List(Vec<ExactValue>),
    /// A map.
    Map(ExactMap),
    /// A string set (DynamoDB `SS`); its JSON view is an array of strings.
    StringSet(Vec<String>),
    /// A number set (DynamoDB `NS`); its JSON view is an array of numbers.
    NumberSet(Vec<ExactNumber>),
    /// A binary set (DynamoDB `BS`); its JSON view is an array of base64 strings.
    BinarySet(Vec<Vec<u8>>),
}

/// Why a stored value has no JSON view, or could not be parsed: what and where (a dotted path
/// of attribute names and `[index]`es).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExactError {
    path: Vec<String>,
    detail: String,
}

impl ExactError {
    /// An error at the current value.
    pub fn new(detail: impl Into<String>) -> Self {
        Self {
            path: Vec::new(),
            detail: detail.into(),
        }
    }

    /// The same error one level down, under `segment` (a name, or `[i]`).
    #[must_use]
    pub fn under(mut self, segment: impl Into<String>) -> Self {
        self.path.push(segment.into());
        self
    }

    /// Where: `profile.tags[2]`, or empty for the value itself.
    pub fn path(&self) -> String {
        let mut out = String::new();
        for seg in self.path.iter().rev() {
            if !out.is_empty() && !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }

    /// What is wrong.
    pub fn detail(&self) -> &str {
        &self.detail
    }
}

impl fmt::Display for ExactError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.path() {
            p if p.is_empty() => f.write_str(&self.detail),
            p => write!(f, "attribute `{p}`: {}", self.detail),
        }
    }
}

impl std::error::Error for ExactError {}

fn index(i: usize) -> String {
    format!("[{i}]")
}

impl ExactValue {
    /// The exact form of a JSON value a skill set (no sets, no binary: plain JSON types).
    pub fn from_json(v: &Value) -> Self {
        match v {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(ExactNumber::from_json(n)),
            Value::String(s) => Self::String(s.clone()),
            Value::Array(items) => Self::List(items.iter().map(Self::from_json).collect()),
            Value::Object(map) => Self::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Self::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The JSON view a skill sees: numbers as [`json_number`], sets as arrays, binary as
    /// base64 strings. A number beyond `f64`'s range (a Python int of hundreds of digits in a
    /// JSON body) is seen as its decimal text, a string, so that the user stays readable; left
    /// as it is, it is written back as the number it was.
    ///
    /// ```
    /// use persistence_core::exact::ExactValue;
    /// let big = format!("1{}", "0".repeat(400));
    /// let v = ExactValue::parse_json(&format!(r#"{{"big": {big}, "n": 2}}"#)).unwrap();
    /// let view = v.to_json().unwrap();
    /// assert_eq!(view["big"], big.as_str());
    /// let mut changed = view.clone();
    /// changed["n"] = 3.into();
    /// assert_eq!(v.reconcile(&changed).to_json_text(), format!(r#"{{"big":{big},"n":3}}"#));
    /// ```
    pub fn to_json(&self) -> Result<Value, ExactError> {
        Ok(match self {
            Self::Null => Value::Null,
            Self::Bool(b) => Value::Bool(*b),
            Self::Number(n) => number_value(n),
            Self::String(s) => Value::String(s.clone()),
            Self::Binary(b) => Value::String(BASE64.encode(b)),
            Self::List(items) => Value::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.to_json().map_err(|e| e.under(index(i))))
                    .collect::<Result<_, _>>()?,
            ),
            Self::Map(map) => Value::Object(map_to_json(map)?),
            Self::StringSet(items) => {
                Value::Array(items.iter().cloned().map(Value::String).collect())
            }
            Self::NumberSet(items) => Value::Array(items.iter().map(number_value).collect()),
            Self::BinarySet(items) => Value::Array(
                items
                    .iter()
                    .map(|b| Value::String(BASE64.encode(b)))
                    .collect(),
            ),
        })
    }

    /// True when this value's JSON view is `v` (without building the view).
    pub fn has_view(&self, v: &Value) -> bool {
        match (self, v) {
            (Self::Null, Value::Null) => true,
            (Self::Bool(a), Value::Bool(b)) => a == b,
            (Self::Number(a), b) => number_has_view(a, b),
            (Self::String(a), Value::String(b)) => a == b,
            (Self::Binary(a), Value::String(b)) => BASE64.encode(a) == *b,
            (Self::List(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.has_view(y))
            }
            (Self::Map(a), Value::Object(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .all(|(k, x)| b.get(k).is_some_and(|y| x.has_view(y)))
            }
            (Self::StringSet(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| y.as_str() == Some(x))
            }
            (Self::NumberSet(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().zip(b).all(|(x, y)| number_has_view(x, y))
            }
            (Self::BinarySet(a), Value::Array(b)) => {
                a.len() == b.len()
                    && a.iter()
                        .zip(b)
                        .all(|(x, y)| y.as_str() == Some(BASE64.encode(x).as_str()))
            }
            _ => false,
        }
    }

    /// What a save writes for `now`, the JSON a skill holds, when this value was stored
    /// before: this value itself when its view is still `now`; otherwise `now`'s exact form,
    /// keeping this value's type where `now` still fits it (a set stays a set, binary stays
    /// binary) and the exact form of every element or field `now` left as it was.
    pub fn reconcile(&self, now: &Value) -> Self {
        if self.has_view(now) {
            return self.clone();
        }
        match (self, now) {
            (Self::Map(old), Value::Object(new)) => Self::Map(
                new.iter()
                    .map(|(k, v)| {
                        let exact = match old.get(k) {
                            Some(o) => o.reconcile(v),
                            None => Self::from_json(v),
                        };
                        (k.clone(), exact)
                    })
                    .collect(),
            ),
            (Self::List(old), Value::Array(new)) => Self::List(
                new.iter()
                    .enumerate()
                    .map(|(i, v)| match old.get(i) {
                        Some(o) => o.reconcile(v),
                        None => Self::from_json(v),
                    })
                    .collect(),
            ),
            (Self::StringSet(_), Value::Array(new)) => match set_of(new, |v| v.as_str()) {
                Some(items) => Self::StringSet(items.into_iter().map(str::to_owned).collect()),
                None => Self::from_json(now),
            },
            (Self::NumberSet(old), Value::Array(new)) => match number_set(old, new) {
                Some(items) => Self::NumberSet(items),
                None => Self::from_json(now),
            },
            (Self::BinarySet(_), Value::Array(new)) => {
                match set_of(new, |v| v.as_str().and_then(|s| BASE64.decode(s).ok())) {
                    Some(items) => Self::BinarySet(items),
                    None => Self::from_json(now),
                }
            }
            (Self::Binary(_), Value::String(s)) => match BASE64.decode(s) {
                Ok(bytes) => Self::Binary(bytes),
                Err(_) => Self::from_json(now),
            },
            _ => Self::from_json(now),
        }
    }

    /// True when `other` holds the same value as stored by a backend that may spell it
    /// differently: numbers compared by their decimal value (`2.0` and `2`, `1.50` and `1.5`;
    /// never through `f64`), a set equal to a list of the same elements in the same order (what a
    /// backend without sets gives back for a set), maps regardless of order.
    ///
    /// ```
    /// use persistence_core::exact::ExactValue;
    /// let a = ExactValue::parse_json(r#"{"n": 1.50, "l": ["x"]}"#).unwrap();
    /// let b = ExactValue::parse_json(r#"{"l": ["x"], "n": 1.5}"#).unwrap();
    /// assert!(a.same_value(&b));
    /// let c = ExactValue::parse_json(r#"{"n": 1.5000000000000000001, "l": ["x"]}"#).unwrap();
    /// assert!(!a.same_value(&c));
    /// ```
    pub fn same_value(&self, other: &Self) -> bool {
        use crate::number::same_number;
        match (self, other) {
            (Self::Number(x), Self::Number(y)) => same_number(x.as_str(), y.as_str()),
            (Self::Map(x), Self::Map(y)) => same_map(x, y),
            (Self::StringSet(x), Self::StringSet(y)) => x == y,
            (Self::BinarySet(x), Self::BinarySet(y)) => x == y,
            (Self::NumberSet(x), Self::NumberSet(y)) => {
                x.len() == y.len()
                    && x.iter()
                        .zip(y)
                        .all(|(p, q)| same_number(p.as_str(), q.as_str()))
            }
            (Self::Binary(x), Self::String(y)) | (Self::String(y), Self::Binary(x)) => {
                BASE64.encode(x) == *y
            }
            _ => match (self.elements(), other.elements()) {
                (Some(x), Some(y)) => {
                    x.len() == y.len() && x.iter().zip(&y).all(|(p, q)| p.same_value(q))
                }
                _ => self == other,
            },
        }
    }

    /// A list's or a set's elements, as values.
    fn elements(&self) -> Option<Vec<Self>> {
        match self {
            Self::List(l) => Some(l.clone()),
            Self::StringSet(s) => Some(s.iter().cloned().map(Self::String).collect()),
            Self::NumberSet(s) => Some(s.iter().cloned().map(Self::Number).collect()),
            Self::BinarySet(s) => Some(s.iter().cloned().map(Self::Binary).collect()),
            _ => None,
        }
    }

    /// How deeply lists and maps nest in this value as JSON: 0 for a scalar, 1 for a list, map
    /// or set of scalars (a set is a list in JSON), and so on.
    pub fn depth(&self) -> usize {
        match self {
            Self::List(items) => 1 + items.iter().map(Self::depth).max().unwrap_or(0),
            Self::Map(map) => 1 + map_depth(map),
            Self::StringSet(_) | Self::NumberSet(_) | Self::BinarySet(_) => 1,
            _ => 0,
        }
    }

    /// How deeply lists and maps nest in this value where sets are scalars (as DynamoDB counts
    /// document nesting).
    pub fn document_depth(&self) -> usize {
        match self {
            Self::List(items) => 1 + items.iter().map(Self::document_depth).max().unwrap_or(0),
            Self::Map(map) => 1 + map.values().map(Self::document_depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// Parses JSON text keeping every number's exact text. Duplicate names keep the last
    /// value, as `serde_json` does. Values nested up to [`MAX_READ_DEPTH`] levels are read (the
    /// official SDKs' JSON readers go deeper than `serde_json`'s default 128).
    ///
    /// # Errors
    /// When `text` is not JSON, or nests deeper than [`MAX_READ_DEPTH`].
    pub fn parse_json(text: &str) -> Result<Self, serde_json::Error> {
        let raw: &RawValue = from_str_unbounded(text)?;
        from_raw(raw, 0)
    }

    /// Compact JSON text, numbers as stored (or canonically spelled where the stored spelling
    /// is not JSON), sets as arrays, binary as base64 strings.
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    /// Appends [`to_json_text`](Self::to_json_text)'s text to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Self::Null => out.push_str("null"),
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Number(n) => out.push_str(&n.json_text()),
            Self::String(s) => write_str(s, out),
            Self::Binary(b) => write_str(&BASE64.encode(b), out),
            Self::List(items) => write_seq(items.iter(), out, |v, out| v.write_json(out)),
            Self::Map(map) => write_map(map, out),
            Self::StringSet(items) => write_seq(items.iter(), out, |s, out| write_str(s, out)),
            Self::NumberSet(items) => {
                write_seq(items.iter(), out, |n, out| out.push_str(&n.json_text()));
            }
            Self::BinarySet(items) => {
                write_seq(items.iter(), out, |b, out| {
                    write_str(&BASE64.encode(b), out)
                });
            }
        }
    }
}

/// The JSON view of a map of exact values (see [`ExactValue::to_json`]).
///
/// # Errors
/// As [`ExactValue::to_json`], with the attribute's name in the path.
pub fn map_to_json(map: &ExactMap) -> Result<Map<String, Value>, ExactError> {
    map.iter()
        .map(|(k, v)| Ok((k.clone(), v.to_json().map_err(|e| e.under(k.clone()))?)))
        .collect()
}

/// [`ExactValue::same_value`] for two maps of stored values.
pub fn same_map(a: &ExactMap, b: &ExactMap) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| v.same_value(w)))
}

/// The deepest nesting among a map's values (see [`ExactValue::depth`]).
pub fn map_depth(map: &ExactMap) -> usize {
    map.values().map(ExactValue::depth).max().unwrap_or(0)
}

/// Compact JSON text of a map of exact values (see [`ExactValue::to_json_text`]).
pub fn map_to_json_text(map: &ExactMap) -> String {
    let mut out = String::new();
    write_map(map, &mut out);
    out
}

/// A number's JSON view: the number where `f64` holds it, else its decimal text.
fn number_value(n: &ExactNumber) -> Value {
    match n.to_json() {
        Some(v) => Value::Number(v),
        None => Value::String(n.json_text()),
    }
}

/// True when `v` is [`number_value`] of `n`.
fn number_has_view(n: &ExactNumber, v: &Value) -> bool {
    match (n.to_json(), v) {
        (Some(a), Value::Number(b)) => a == *b,
        (None, Value::String(text)) => *text == n.json_text(),
        _ => false,
    }
}

/// The members of a stored number set after a skill changed it to `new`: each member the
/// skill left as it was keeps its exact text (matched by position first, then by any unused
/// member with that view, so members alike as doubles keep theirs); `None` when `new` is not a
/// set of distinct numbers (distinct by exact value, not by their `f64` views).
fn number_set(old: &[ExactNumber], new: &[Value]) -> Option<Vec<ExactNumber>> {
    use crate::number::same_number;
    let mut used = vec![false; old.len()];
    let mut out: Vec<ExactNumber> = Vec::with_capacity(new.len());
    for (i, v) in new.iter().enumerate() {
        let alike = |o: &ExactNumber| number_has_view(o, v);
        let at = match old.get(i) {
            Some(o) if !used[i] && alike(o) => Some(i),
            _ => (0..old.len()).find(|&j| !used[j] && alike(&old[j])),
        };
        let member = match at {
            Some(j) => {
                used[j] = true;
                old[j].clone()
            }
            None => ExactNumber::from_json(v.as_number()?),
        };
        if out.iter().any(|m| same_number(m.as_str(), member.as_str())) {
            return None;
        }
        out.push(member);
    }
    (!out.is_empty()).then_some(out)
}

/// The distinct, non-empty elements of `items` if each one `pick`s, in order; `None` when one
/// does not fit, two are equal, or there are none (DynamoDB stores no empty set).
fn set_of<'a, T: PartialEq>(
    items: &'a [Value],
    pick: impl Fn(&'a Value) -> Option<T>,
) -> Option<Vec<T>> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        let t = pick(item)?;
        if out.contains(&t) {
            return None;
        }
        out.push(t);
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests;
