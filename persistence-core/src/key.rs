//! Storage keys: validation shared by every backend, and a redacted form for logs and errors.

use std::fmt;

use crate::{Error, Result};

/// The longest key any backend here accepts, in bytes (DynamoDB's limit for a partition key).
///
/// Backends with a lower limit (S3 object keys: 1024 bytes, prefix included) pass their own to
/// [`validate_key`].
pub const MAX_KEY_BYTES: usize = 2048;

/// Checks a storage key before any I/O.
///
/// A key is refused with [`Error::InvalidKey`] when it is empty, longer than `max_bytes` bytes
/// (UTF-8), or contains a control character (including NUL, newline and DEL). Every backend calls
/// this first, so the same key is valid or invalid everywhere.
///
/// ```
/// use persistence_core::{validate_key, Error};
///
/// assert!(validate_key("amzn1.ask.account.AF3X", 2048).is_ok());
/// assert!(matches!(validate_key("", 2048), Err(Error::InvalidKey { .. })));
/// assert!(matches!(validate_key("a\nb", 2048), Err(Error::InvalidKey { .. })));
/// assert!(matches!(validate_key(&"x".repeat(10), 8), Err(Error::InvalidKey { .. })));
/// ```
pub fn validate_key(key: &str, max_bytes: usize) -> Result<()> {
    if key.is_empty() {
        return Err(Error::InvalidKey {
            key: RedactedKey::new(key),
            reason: "the key is empty".into(),
        });
    }
    if key.len() > max_bytes {
        return Err(Error::InvalidKey {
            key: RedactedKey::new(key),
            reason: format!(
                "the key is {} bytes long, over the limit of {max_bytes} bytes",
                key.len()
            ),
        });
    }
    if let Some(pos) = key.chars().position(char::is_control) {
        return Err(Error::InvalidKey {
            key: RedactedKey::new(key),
            reason: format!("the key has a control character at position {pos}"),
        });
    }
    Ok(())
}

/// A key as it may appear in logs and error messages: never in full.
///
/// It shows at most the first half of the key (and at most 24 characters of it), the key's length,
/// and a short hash so that two log lines about the same user can be matched without revealing the
/// ID. `amzn1.ask.account.AGF7…` style prefixes stay readable, the unique part does not.
///
/// ```
/// use persistence_core::RedactedKey;
///
/// let id = "amzn1.ask.account.AGF7EXAMPLEUSERIDTHATISLONGANDSECRET";
/// let shown = RedactedKey::new(id).to_string();
/// assert!(!shown.contains("SECRET"));
/// assert!(shown.starts_with("amzn1.ask.account.AGF7"));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedactedKey {
    shown: Box<str>,
    len: usize,
    hash: u32,
}

impl RedactedKey {
    /// Redacts `key`.
    pub fn new(key: &str) -> Self {
        let chars = key.chars().count();
        let keep = (chars / 2).min(24);
        let shown: String = key
            .chars()
            .take(keep)
            .map(|c| if c.is_control() { '?' } else { c })
            .collect::<String>();
        Self {
            shown: shown.into_boxed_str(),
            len: key.len(),
            hash: fnv1a(key.as_bytes()),
        }
    }
}

/// FNV-1a, 32 bits: a stable correlation tag, not a security measure.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

impl fmt::Display for RedactedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…({} bytes, #{:08x})", self.shown, self.len, self.hash)
    }
}

impl fmt::Debug for RedactedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedKey({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_at_least_half_and_is_stable() {
        let id = "amzn1.ask.account.AEXAMPLE1234567890ABCDEFGHIJKLMNOP";
        let a = RedactedKey::new(id).to_string();
        let b = RedactedKey::new(id).to_string();
        assert_eq!(a, b);
        assert!(!a.contains(id));
        assert!(!a.contains("ABCDEFGHIJKLMNOP"));
        let other = RedactedKey::new("amzn1.ask.account.AEXAMPLE1234567890ABCDEFGHIJKLMNOQ");
        assert_ne!(a, other.to_string(), "different keys get different tags");
    }

    #[test]
    fn short_and_odd_keys_are_redacted_too() {
        assert!(!RedactedKey::new("secret").to_string().contains("secret"));
        assert!(!RedactedKey::new("x").to_string().contains('x'));
        assert!(!RedactedKey::new("ab\ncd").to_string().contains('\n'));
        // Multi-byte characters are cut on character boundaries.
        let shown = RedactedKey::new("éééééééé").to_string();
        assert!(shown.starts_with("éééé…"));
    }

    #[test]
    fn validation_rules() {
        assert!(validate_key("a", 1).is_ok());
        assert!(validate_key("é", 1).is_err(), "limit counts bytes");
        assert!(validate_key("a\u{0}b", 10).is_err());
        assert!(validate_key("a\u{7f}b", 10).is_err());
        assert!(validate_key("a b/c.d:é", 100).is_ok());
    }
}
