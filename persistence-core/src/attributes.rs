//! [`Attributes`]: the JSON object a skill persists per user or device.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::exact::{ExactError, ExactMap, ExactValue, map_to_json};
use crate::{Error, Result, Version};

/// The persistent attributes of one user or device: a JSON object, exactly what the official ASK
/// SDKs store.
///
/// It dereferences to [`serde_json::Map`], so all of its methods work, and adds typed access
/// through serde so a skill can keep plain structs instead of walking JSON by hand.
///
/// ```
/// use persistence_core::Attributes;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize, PartialEq, Debug)]
/// struct Order { drink: String, size: String }
///
/// let mut attrs = Attributes::new();
/// attrs.set("usual", &Order { drink: "latte".into(), size: "large".into() })?;
/// attrs.set("visits", &3)?;
///
/// let usual: Option<Order> = attrs.get_as("usual")?;
/// assert_eq!(usual.unwrap().drink, "latte");
/// assert_eq!(attrs.get_as::<u32>("visits")?, Some(3));
/// assert_eq!(attrs.get_as::<u32>("missing")?, None);
/// // Map methods through Deref:
/// assert!(attrs.contains_key("visits"));
/// # Ok::<(), persistence_core::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Attributes {
    map: Map<String, Value>,
    /// What a backend read, exactly (see [`crate::exact`]): written back for every attribute
    /// the skill leaves as it was. Not part of equality.
    origin: Option<Arc<Origin>>,
}

/// What a read gave: the exact stored values, and the version they were read at.
#[derive(Debug)]
struct Origin {
    exact: ExactMap,
    version: Option<Version>,
}

impl PartialEq for Attributes {
    /// Equal JSON: the exact stored forms are not compared.
    fn eq(&self, other: &Self) -> bool {
        self.map == other.map
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Attributes").field(&self.map).finish()
    }
}

impl Serialize for Attributes {
    /// The JSON view (numbers as `serde_json` holds them); [`Attributes::to_exact`] keeps
    /// stored numbers exactly.
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.map.serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for Attributes {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        Map::deserialize(deserializer).map(Self::from)
    }
}

impl Attributes {
    /// An empty attributes object.
    pub fn new() -> Self {
        Self::default()
    }

    /// Attributes as a backend read them: their JSON view, with the exact stored form kept for
    /// the next save ([`Attributes::to_exact`]).
    ///
    /// # Errors
    /// None today: every stored value has a JSON view (a number beyond `f64`'s range is seen
    /// as its decimal text, see [`ExactValue::to_json`]); the `Result` stays for stored forms
    /// a later version may not view.
    pub fn from_exact(exact: ExactMap) -> std::result::Result<Self, ExactError> {
        let map = map_to_json(&exact)?;
        Ok(Self {
            map,
            origin: Some(Arc::new(Origin {
                exact,
                version: None,
            })),
        })
    }

    /// What a save writes: for each attribute, its exact stored form when the skill left it as
    /// read, else its current value (keeping the stored type and the exact form of what it left
    /// unchanged inside, see [`ExactValue::reconcile`]).
    ///
    /// ```
    /// use persistence_core::{Attributes, exact::{ExactValue, ExactNumber}};
    /// let stored = [("n".to_owned(), ExactValue::Number(ExactNumber::parse("1.50").unwrap()))];
    /// let mut a = Attributes::from_exact(stored.into_iter().collect()).unwrap();
    /// assert_eq!(a.to_exact()["n"], ExactValue::Number(ExactNumber::parse("1.50").unwrap()));
    /// a.insert("n".into(), 2.into());
    /// assert_eq!(a.to_exact()["n"], ExactValue::Number(ExactNumber::parse("2").unwrap()));
    /// ```
    pub fn to_exact(&self) -> ExactMap {
        self.map
            .iter()
            .map(|(k, v)| {
                let exact = match self.origin.as_ref().and_then(|o| o.exact.get(k)) {
                    Some(stored) => stored.reconcile(v),
                    None => ExactValue::from_json(v),
                };
                (k.clone(), exact)
            })
            .collect()
    }

    /// The exact stored form of attribute `name` when it is still as it was read (e.g. the
    /// 28 digits of a Python `Decimal` whose JSON view is an `f64`), else `None`.
    ///
    /// ```
    /// use persistence_core::{Attributes, exact::ExactValue};
    /// let ExactValue::Map(stored) = ExactValue::parse_json(r#"{"third": 0.6666666666666666666666666667}"#).unwrap()
    ///     else { unreachable!() };
    /// let a = Attributes::from_exact(stored).unwrap();
    /// assert_eq!(a.exact("third").unwrap().to_json_text(), "0.6666666666666666666666666667");
    /// ```
    pub fn exact(&self, name: &str) -> Option<&ExactValue> {
        let stored = self.origin.as_ref()?.exact.get(name)?;
        stored.has_view(self.map.get(name)?).then_some(stored)
    }

    /// The version these attributes were read at, when they came from a read (a backend
    /// uses it to write only what changed since, see [`Attributes::changed_since_read`]).
    pub fn read_at(&self) -> Option<&Version> {
        self.origin.as_ref()?.version.as_ref()
    }

    /// Marks these attributes as read at `version` (backends call this through
    /// [`Stored::new`](crate::Stored::new)).
    pub(crate) fn stamp(&mut self, version: &Version) {
        if let Some(origin) = self.origin.as_mut() {
            match Arc::get_mut(origin) {
                Some(o) => o.version = Some(version.clone()),
                None => {
                    *origin = Arc::new(Origin {
                        exact: origin.exact.clone(),
                        version: Some(version.clone()),
                    });
                }
            }
        }
    }

    /// The top-level names whose current value is not what was read (added, changed or
    /// removed), when these attributes came from a read; `None` for attributes built by hand.
    pub fn changed_since_read(&self) -> Option<std::collections::BTreeSet<String>> {
        let origin = &self.origin.as_ref()?.exact;
        let mut names: std::collections::BTreeSet<String> = origin
            .iter()
            .filter(|(k, stored)| !self.map.get(k.as_str()).is_some_and(|v| stored.has_view(v)))
            .map(|(k, _)| k.clone())
            .collect();
        names.extend(
            self.map
                .keys()
                .filter(|k| !origin.contains_key(k.as_str()))
                .cloned(),
        );
        Some(names)
    }

    /// Reads attribute `name` as a `T`. `Ok(None)` when it is absent; an error naming the
    /// attribute when it is there but does not fit `T`. A JSON `null` is passed to `T`'s
    /// deserializer, so `Option<U>` reads it as `None`.
    pub fn get_as<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.map.get(name) {
            None => Ok(None),
            Some(v) => T::deserialize(v)
                .map(Some)
                .map_err(|source| Error::AttributeType {
                    name: name.to_owned(),
                    source,
                }),
        }
    }

    /// Stores `value` (anything serde can serialize) under `name`, replacing what was there.
    pub fn set<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<()> {
        let v = serde_json::to_value(value).map_err(|source| Error::AttributeType {
            name: name.to_owned(),
            source,
        })?;
        self.map.insert(name.to_owned(), v);
        Ok(())
    }

    /// Builds attributes from a struct (or map) that serializes to a JSON object.
    ///
    /// ```
    /// # use persistence_core::Attributes;
    /// #[derive(serde::Serialize)]
    /// struct Progress { level: u8 }
    /// let attrs = Attributes::from_serializable(&Progress { level: 4 })?;
    /// assert_eq!(attrs["level"], 4);
    /// # Ok::<(), persistence_core::Error>(())
    /// ```
    pub fn from_serializable<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        match serde_json::to_value(value) {
            Ok(Value::Object(map)) => Ok(Self::from(map)),
            Ok(other) => Err(Error::AttributeType {
                name: "<root>".into(),
                source: <serde_json::Error as serde::ser::Error>::custom(format!(
                    "attributes must be a JSON object, not {}",
                    json_type_name(&other)
                )),
            }),
            Err(source) => Err(Error::AttributeType {
                name: "<root>".into(),
                source,
            }),
        }
    }

    /// Reads the whole object as a `T` (the inverse of [`Attributes::from_serializable`]).
    ///
    /// ```
    /// # use persistence_core::Attributes;
    /// #[derive(serde::Deserialize, Default)]
    /// struct Progress { #[serde(default)] level: u8 }
    /// let p: Progress = Attributes::new().to_deserialized()?;
    /// assert_eq!(p.level, 0);
    /// # Ok::<(), persistence_core::Error>(())
    /// ```
    pub fn to_deserialized<T: DeserializeOwned>(&self) -> Result<T> {
        T::deserialize(&self.map).map_err(|source| Error::AttributeType {
            name: "<root>".into(),
            source,
        })
    }

    /// The underlying map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.map
    }

    /// The size of the attributes as compact JSON, in bytes: what an S3 object body would hold.
    pub fn json_len(&self) -> usize {
        struct Counter(usize);
        impl std::io::Write for Counter {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut c = Counter(0);
        // Writing a Map of Values to an infallible writer cannot fail.
        let _ = serde_json::to_writer(&mut c, &self.map);
        c.0
    }
}

/// The name of a JSON value's type, for error messages.
pub fn json_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Deref for Attributes {
    type Target = Map<String, Value>;
    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl DerefMut for Attributes {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.map
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Self { map, origin: None }
    }
}

impl From<Attributes> for Map<String, Value> {
    fn from(a: Attributes) -> Self {
        a.map
    }
}

impl From<Attributes> for Value {
    fn from(a: Attributes) -> Self {
        Value::Object(a.map)
    }
}

impl TryFrom<Value> for Attributes {
    type Error = Value;
    /// Accepts a JSON object; gives any other value back.
    fn try_from(v: Value) -> std::result::Result<Self, Value> {
        match v {
            Value::Object(map) => Ok(Self::from(map)),
            other => Err(other),
        }
    }
}

impl FromIterator<(String, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Map<String, Value>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typed_access_reports_the_attribute_name() {
        let mut a = Attributes::new();
        a.insert("visits".into(), json!("three"));
        let err = a.get_as::<u32>("visits").unwrap_err();
        assert!(err.to_string().contains("visits"), "{err}");
    }

    #[test]
    fn non_object_roots_are_refused() {
        assert!(Attributes::from_serializable(&vec![1, 2]).is_err());
        assert!(Attributes::try_from(json!(5)).is_err());
        assert!(Attributes::try_from(json!({"a": 1})).is_ok());
    }

    #[test]
    fn json_len_matches_serialization() {
        let a: Attributes =
            Attributes::try_from(json!({"a": [1, "é", null], "b": {"c": 0.1}})).unwrap();
        assert_eq!(a.json_len(), serde_json::to_vec(&a).unwrap().len());
    }
}
