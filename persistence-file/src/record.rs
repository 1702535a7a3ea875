//! What a file holds: the key, its version, the latest write tokens, the expiry and the
//! attributes (numbers as stored, see `persistence_core::exact`).

use std::time::SystemTime;

use persistence_core::clock::from_epoch_seconds;
use persistence_core::exact::{ExactMap, ExactValue, map_to_json_text};
use persistence_core::{Attributes, Stored, Version, is_unique_token};
use serde::Deserialize;
use serde_json::value::RawValue;

/// A file read back.
pub(crate) struct Record {
    pub(crate) version: String,
    /// The latest write tokens, oldest first, the current version's last.
    pub(crate) recent: Vec<String>,
    pub(crate) expires_at: Option<SystemTime>,
    pub(crate) attributes: Attributes,
}

impl Record {
    pub(crate) fn stored(self) -> Stored {
        Stored::new(self.attributes, Version::new(self.version)).expiring(self.expires_at)
    }
}

#[derive(Deserialize)]
struct RecordIn<'a> {
    key: String,
    version: String,
    #[serde(default)]
    recent_tokens: Vec<String>,
    #[serde(default)]
    expires_at: Option<u64>,
    #[serde(borrow)]
    attributes: &'a RawValue,
}

/// The file for `key`: compact JSON, attributes exactly as given.
pub(crate) fn encode(
    key: &str,
    version: &str,
    recent: &[String],
    expires_at: Option<u64>,
    attributes: &ExactMap,
) -> Vec<u8> {
    let text = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut out = format!("{{\"key\":{},\"version\":{}", text(key), text(version));
    out.push_str(",\"recent_tokens\":[");
    for (i, t) in recent.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&text(t));
    }
    out.push(']');
    if let Some(at) = expires_at {
        out.push_str(&format!(",\"expires_at\":{at}"));
    }
    out.push_str(",\"attributes\":");
    out.push_str(&map_to_json_text(attributes));
    out.push('}');
    out.into_bytes()
}

/// Reads a file that should hold `key`; what is wrong otherwise (never the file's content).
pub(crate) fn decode(key: &str, bytes: &[u8]) -> Result<Record, String> {
    let rec: RecordIn<'_> = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "the file is not a valid record ({:?} at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        )
    })?;
    if rec.key != key {
        return Err("the file holds another key's data".into());
    }
    if !is_unique_token(&rec.version) {
        return Err("the file's version is not a write token".into());
    }
    let exact = match ExactValue::parse_json(rec.attributes.get()) {
        Ok(ExactValue::Map(map)) => map,
        Ok(_) => return Err("`attributes` is not a JSON object".into()),
        Err(e) => {
            return Err(format!(
                "`attributes` is not valid JSON ({:?})",
                e.classify()
            ));
        }
    };
    let attributes = Attributes::from_exact(exact).map_err(|e| e.to_string())?;
    let mut recent = rec.recent_tokens;
    if recent.last() != Some(&rec.version) {
        // Written before files kept their latest tokens: the version is the one known.
        recent.push(rec.version.clone());
    }
    Ok(Record {
        version: rec.version,
        recent,
        expires_at: rec.expires_at.map(from_epoch_seconds),
        attributes,
    })
}
