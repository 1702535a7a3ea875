//! [`Attributes`]: the JSON object a skill persists per user or device.

use std::ops::{Deref, DerefMut};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::{Error, Result};

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
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Attributes(Map<String, Value>);

impl Attributes {
    /// An empty attributes object.
    pub fn new() -> Self {
        Self(Map::new())
    }

    /// Reads attribute `name` as a `T`. `Ok(None)` when it is absent; an error naming the
    /// attribute when it is there but does not fit `T`. A JSON `null` is passed to `T`'s
    /// deserializer, so `Option<U>` reads it as `None`.
    pub fn get_as<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        match self.0.get(name) {
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
        self.0.insert(name.to_owned(), v);
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
            Ok(Value::Object(map)) => Ok(Self(map)),
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
        T::deserialize(&self.0).map_err(|source| Error::AttributeType {
            name: "<root>".into(),
            source,
        })
    }

    /// The underlying map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
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
        let _ = serde_json::to_writer(&mut c, &self.0);
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
        &self.0
    }
}

impl DerefMut for Attributes {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Self(map)
    }
}

impl From<Attributes> for Map<String, Value> {
    fn from(a: Attributes) -> Self {
        a.0
    }
}

impl From<Attributes> for Value {
    fn from(a: Attributes) -> Self {
        Value::Object(a.0)
    }
}

impl TryFrom<Value> for Attributes {
    type Error = Value;
    /// Accepts a JSON object; gives any other value back.
    fn try_from(v: Value) -> std::result::Result<Self, Value> {
        match v {
            Value::Object(map) => Ok(Self(map)),
            other => Err(other),
        }
    }
}

impl FromIterator<(String, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
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
