//! One read per session: the persistent attributes a turn read or wrote travel to the next turn
//! of the same session inside the session attributes, so later turns read nothing.
//!
//! The copy is one session attribute, [`CARRY_ATTRIBUTE`], that handlers never see (it is taken
//! out of the session attributes before they run and put back after): the attributes exactly as
//! stored (numbers with all their digits), the version they were read at, and a digest of the
//! key they belong to (a copy for another key is ignored). Saves stay conditional on the carried
//! version, so a change another device made meanwhile is caught by the save and merged, or the
//! turn runs again on fresh data: no update is lost. What a copy costs is staleness for turns that
//! only read: they see the attributes as this session last read or wrote them, not a change
//! another device made during the session. Copies larger than the skill's bound are not carried
//! (the next turn reads as usual), which keeps responses well under Alexa's size limit.

use persistence_core::exact::{ExactValue, map_to_json_text};
use persistence_core::{Attributes, Stored, Version};
use serde_json::{Map, Value, json};

/// The session attribute that carries the copy. Reserved: a skill's own session attribute of
/// this name would be replaced.
pub const CARRY_ATTRIBUTE: &str = "__alexaPersistence";

/// The default largest copy carried, in bytes of JSON text: Alexa refuses responses over 24 KB,
/// and a skill's own speech and session attributes need the rest.
pub const DEFAULT_MAX_CARRY_BYTES: usize = 6 * 1024;

/// Format of the copy, so that a later release can change it.
const FORMAT: u64 = 1;

/// A copy of a user's persistent attributes that a session carried from the previous turn.
#[derive(Clone, Debug)]
pub(crate) struct Carried {
    key_digest: String,
    version: Option<Version>,
    attributes: Attributes,
}

fn digest(key: &str) -> String {
    // FNV-1a, 64 bits: it ties a copy to a key; it is not a secret (the key is in the request).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

impl Carried {
    /// True when this copy is of `key`'s attributes.
    pub(crate) fn is_for(&self, key: &str) -> bool {
        self.key_digest == digest(key)
    }

    /// The version and attributes, as a read would give them.
    pub(crate) fn into_parts(self) -> (Option<Version>, Attributes) {
        match self.version {
            Some(v) => {
                let stored = Stored::new(self.attributes, v);
                (Some(stored.version), stored.attributes)
            }
            None => (None, Attributes::new()),
        }
    }
}

/// Takes the carried copy out of `session` (always removing the attribute, valid or not).
pub(crate) fn take(session: &mut Map<String, Value>) -> Option<Carried> {
    let value = session.remove(CARRY_ATTRIBUTE)?;
    let obj = value.as_object()?;
    if obj.get("f").and_then(Value::as_u64) != Some(FORMAT) {
        return None;
    }
    let key_digest = obj.get("k")?.as_str()?.to_owned();
    let version = match obj.get("v")? {
        Value::Null => None,
        Value::String(v) => Some(Version::new(v.clone())),
        _ => return None,
    };
    let attributes = match version {
        None => Attributes::new(),
        Some(_) => match ExactValue::parse_json(obj.get("a")?.as_str()?) {
            Ok(ExactValue::Map(map)) => Attributes::from_exact(map).ok()?,
            _ => return None,
        },
    };
    Some(Carried {
        key_digest,
        version,
        attributes,
    })
}

/// The copy of `key`'s attributes at `version` (`None`: nothing stored), when it fits in
/// `max_bytes`.
pub(crate) fn encode(
    key: &str,
    version: Option<&Version>,
    attributes: &Attributes,
    max_bytes: usize,
) -> Option<Value> {
    let text = match version {
        Some(_) => map_to_json_text(&attributes.to_exact()),
        None => String::new(),
    };
    if text.len() > max_bytes {
        return None;
    }
    Some(json!({
        "f": FORMAT,
        "k": digest(key),
        "v": version.map(Version::as_str),
        "a": text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_round_trips_exactly_and_only_for_its_key() {
        let ExactValue::Map(map) =
            ExactValue::parse_json(r#"{"third": 0.6666666666666666666666666667, "n": 1}"#).unwrap()
        else {
            panic!()
        };
        let attrs = Attributes::from_exact(map).unwrap();
        let v = Version::new("v1");
        let value = encode("user-a", Some(&v), &attrs, 1024).unwrap();
        let mut session = Map::new();
        session.insert(CARRY_ATTRIBUTE.into(), value);
        session.insert("own".into(), json!(1));
        let carried = take(&mut session).unwrap();
        assert!(!session.contains_key(CARRY_ATTRIBUTE));
        assert_eq!(session.len(), 1);
        assert!(carried.is_for("user-a"));
        assert!(!carried.is_for("user-b"));
        let (version, got) = carried.into_parts();
        assert_eq!(version, Some(v.clone()));
        assert_eq!(got, attrs);
        assert_eq!(got.read_at(), Some(&v));
        assert_eq!(
            got.exact("third").unwrap().to_json_text(),
            "0.6666666666666666666666666667"
        );
        // Too large: not carried. Garbage: ignored (and removed).
        assert!(encode("user-a", Some(&v), &attrs, 10).is_none());
        let mut junk = Map::new();
        junk.insert(CARRY_ATTRIBUTE.into(), json!({"f": 99}));
        assert!(take(&mut junk).is_none());
        assert!(junk.is_empty());
    }
}
