//! Typed views of attributes: a skill's own serde type over a JSON object, and what changed.

use std::any::{Any, TypeId};
use std::collections::BTreeSet;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::SkillError;

/// Serialises a typed value (behind `dyn Any`) back into an attribute map.
type ToMap = fn(&(dyn Any + Send)) -> Result<Map<String, Value>, SkillError>;

/// A typed view of an attribute map: the value (out while a guard holds it), what it looked like
/// when it was made, and the top-level names its type takes.
pub(crate) struct TypedView {
    /// `None` while a [`StateMut`](super::StateMut) holds it.
    pub(crate) value: Option<Box<dyn Any + Send>>,
    pub(crate) type_id: TypeId,
    /// The top-level attributes the type takes; the others are left as they are.
    known: BTreeSet<String>,
    /// The value as a map right after it was made: a field whose value still serialises to the
    /// same is unchanged, and is not written (so reading never writes).
    snapshot: Map<String, Value>,
    to_map: ToMap,
}

impl TypedView {
    /// The view of `attributes` as a `T` (fields missing take their default).
    pub(crate) fn load<T>(
        attributes: &Map<String, Value>,
        scope: &'static str,
    ) -> Result<Self, SkillError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        // Fields missing in storage take their default: start from the default, then lay the
        // stored attributes over it.
        let mut merged = match serde_json::to_value(T::default()) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(type_error::<T>(
                    scope,
                    "the state type must serialize to a JSON object",
                ));
            }
            Err(e) => return Err(type_error::<T>(scope, &e.to_string())),
        };
        for (k, v) in attributes {
            merged.insert(k.clone(), v.clone());
        }
        let mut known: BTreeSet<String> = merged.keys().cloned().collect();
        let mut ignored = Vec::new();
        let parsed = serde_ignored::deserialize(Value::Object(merged.clone()), |path| {
            if let serde_ignored::Path::Map {
                parent: serde_ignored::Path::Root,
                key,
            } = path
            {
                ignored.push(key);
            }
        });
        let value: T = match parsed {
            Ok(v) => v,
            Err(e) => {
                // Again, to say which attribute did not fit (never its value: it is a user's).
                let at = serde_path_to_error::deserialize::<_, T>(Value::Object(merged))
                    .err()
                    .map(|p| p.path().to_string())
                    .filter(|p| p != ".")
                    .map(|p| format!("attribute `{p}`: "))
                    .unwrap_or_default();
                return Err(type_error::<T>(scope, &format!("{at}{}", category(&e))));
            }
        };
        for key in ignored {
            known.remove(&key);
        }
        let to_map: ToMap = |any| {
            let Some(t) = any.downcast_ref::<T>() else {
                return Err(type_error::<T>("state", "stored under another type"));
            };
            match serde_json::to_value(t) {
                Ok(Value::Object(m)) => Ok(m),
                Ok(_) => Err(type_error::<T>(
                    "state",
                    "it does not serialize to an object",
                )),
                Err(e) => Err(type_error::<T>("state", &e.to_string())),
            }
        };
        let snapshot = to_map(&value)?;
        Ok(Self {
            value: Some(Box::new(value)),
            type_id: TypeId::of::<T>(),
            known,
            snapshot,
            to_map,
        })
    }

    /// Writes the fields changed since the view was made into `attributes` (a field the type
    /// now leaves out is removed); leaves every other attribute as it is. True when something
    /// changed.
    pub(crate) fn apply(&self, attributes: &mut Map<String, Value>) -> Result<bool, SkillError> {
        let Some(value) = &self.value else {
            return Ok(false);
        };
        let now = (self.to_map)(value.as_ref())?;
        let mut changed = false;
        let names: BTreeSet<&String> = self.known.iter().chain(now.keys()).collect();
        for name in names {
            let (before, after) = (self.snapshot.get(name), now.get(name));
            if before == after {
                continue;
            }
            changed = true;
            match after {
                Some(v) => {
                    attributes.insert(name.clone(), v.clone());
                }
                None => {
                    attributes.remove(name);
                }
            }
        }
        Ok(changed)
    }
}

/// What kind of mismatch a serde error is, without its text (which may quote a stored value).
fn category(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Data => "a value of the wrong type, or a missing field",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Eof => "cut short",
        serde_json::error::Category::Io => "unreadable",
    }
}

fn type_error<T>(scope: &str, detail: &str) -> SkillError {
    SkillError::other(format!(
        "the {scope} attributes do not fit {}: {detail}",
        std::any::type_name::<T>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Default, Serialize, Deserialize)]
    struct Usual {
        drink: Option<String>,
        visits: u32,
    }

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!(),
        }
    }

    #[test]
    fn reading_changes_nothing_and_a_change_writes_only_its_field() {
        let stored = map(json!({"visits": 3, "other": "kept"}));
        let mut view = TypedView::load::<Usual>(&stored, "persistent").unwrap();
        let mut out = stored.clone();
        // Read only: the default `drink: null` is not written.
        assert!(!view.apply(&mut out).unwrap());
        assert_eq!(out, stored);
        // A change writes only the changed field.
        let usual = view
            .value
            .as_mut()
            .unwrap()
            .downcast_mut::<Usual>()
            .unwrap();
        usual.drink = Some("tea".into());
        assert!(view.apply(&mut out).unwrap());
        assert_eq!(
            out,
            map(json!({"visits": 3, "other": "kept", "drink": "tea"}))
        );
    }

    #[test]
    fn a_mismatch_names_the_attribute_but_not_its_value() {
        let stored = map(json!({"visits": "SECRET-VALUE"}));
        let Err(e) = TypedView::load::<Usual>(&stored, "persistent") else {
            panic!("should not fit")
        };
        let text = e.to_string();
        assert!(text.contains("visits"), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
}
