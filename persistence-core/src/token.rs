//! Write tokens and content digests: what makes a version name exactly one write.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::Attributes;

/// A token no other write will carry: 32 lowercase hex digits, the first 12 the milliseconds
/// since the Unix epoch (so tokens sort roughly by time), the other 20 random (80 bits).
///
/// Backends write one with every save and use it as (or alongside) the version, so that a
/// version never repeats: a key deleted and created again gets a new one, and an adapter can
/// recognise its own write when a retried request finds the condition it set already spent.
///
/// ```
/// let a = persistence_core::unique_token();
/// let b = persistence_core::unique_token();
/// assert_ne!(a, b);
/// assert_eq!(a.len(), 32);
/// assert!(persistence_core::is_unique_token(&a));
/// ```
pub fn unique_token() -> String {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
        & 0xffff_ffff_ffff;
    format!(
        "{millis:012x}{:016x}{:04x}",
        fastrand::u64(..),
        fastrand::u16(..)
    )
}

/// True when `s` has the shape of a [`unique_token`].
pub fn is_unique_token(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// FNV-1a, 128 bits.
struct Fnv128(u128);

impl Fnv128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u128::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.write(b"n"),
            Value::Bool(true) => self.write(b"t"),
            Value::Bool(false) => self.write(b"f"),
            Value::Number(n) => {
                self.write(b"#");
                self.str(n.as_str());
            }
            Value::String(s) => {
                self.write(b"s");
                self.str(s);
            }
            Value::Array(items) => {
                self.write(b"[");
                self.write(&(items.len() as u64).to_le_bytes());
                for item in items {
                    self.value(item);
                }
            }
            Value::Object(map) => {
                self.write(b"{");
                self.write(&(map.len() as u64).to_le_bytes());
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort_unstable();
                for k in keys {
                    self.str(k);
                    if let Some(v) = map.get(k) {
                        self.value(v);
                    }
                }
            }
        }
    }

    fn str(&mut self, s: &str) {
        self.write(&(s.len() as u64).to_le_bytes());
        self.write(s.as_bytes());
    }
}

impl Attributes {
    /// A 128-bit digest of the attributes' content (32 hex digits), independent of key order:
    /// equal attributes have equal digests. Not cryptographic; used to name the state of data
    /// written without a version (by the official SDKs).
    ///
    /// ```
    /// use persistence_core::Attributes;
    /// let a = Attributes::try_from(serde_json::json!({"x": 1, "y": [true, null]})).unwrap();
    /// let b = Attributes::try_from(serde_json::json!({"y": [true, null], "x": 1})).unwrap();
    /// assert_eq!(a.digest(), b.digest());
    /// assert_ne!(a.digest(), Attributes::new().digest());
    /// ```
    pub fn digest(&self) -> String {
        let mut h = Fnv128(Fnv128::OFFSET);
        let mut keys: Vec<&String> = self.keys().collect();
        keys.sort_unstable();
        h.write(b"{");
        h.write(&(keys.len() as u64).to_le_bytes());
        for k in keys {
            h.str(k);
            if let Some(v) = self.get(k) {
                h.value(v);
            }
        }
        format!("{:032x}", h.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_are_unique_and_shaped() {
        let tokens: std::collections::HashSet<String> =
            (0..10_000).map(|_| unique_token()).collect();
        assert_eq!(tokens.len(), 10_000);
        assert!(tokens.iter().all(|t| is_unique_token(t)));
        assert!(!is_unique_token("7"));
        assert!(!is_unique_token(&"G".repeat(32)));
    }

    #[test]
    fn digests_tell_structure_apart() {
        let d = |v: Value| Attributes::try_from(v).unwrap().digest();
        let all = [
            d(json!({"a": "1"})),
            d(json!({"a": 1})),
            d(json!({"a": [1]})),
            d(json!({"a": {"1": null}})),
            d(json!({"a": null})),
            d(json!({"a": "", "b": ""})),
            d(json!({"ab": ""})),
            d(json!({"a": ["b", "c"]})),
            d(json!({"a": ["bc"]})),
        ];
        let unique: std::collections::HashSet<_> = all.iter().collect();
        assert_eq!(unique.len(), all.len());
    }
}
