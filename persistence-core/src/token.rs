//! Write tokens and content digests: what makes a version name exactly one write.

use serde_json::Value;

use crate::{Attributes, Error, RedactedKey, Result};

/// A token no other write will carry: 32 lowercase hex digits, 128 bits from the operating
/// system's random number generator.
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
    let mut bytes = [0u8; 16];
    if let Err(e) = getrandom::fill(&mut bytes) {
        // No system randomness (never seen on the platforms Alexa skills run on): fall back to
        // a per-process generator, and say so once per token, loudly.
        tracing::error!(error = %e, "no system randomness for a write token; using a weaker generator");
        bytes = fastrand::u128(..).to_le_bytes();
    }
    let mut out = String::with_capacity(32);
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// True when `s` has the shape of a [`unique_token`]: 32 lowercase hex digits.
pub fn is_unique_token(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// How many of its latest write tokens a stored item remembers, so that a save whose answer
/// was lost recognises its own write even after other writers saved on top of it (up to this
/// many writes in all, its own included).
pub const RECENT_TOKENS: usize = 8;

/// `recent` with `token` added as the newest, keeping the [`RECENT_TOKENS`] newest (oldest
/// first).
///
/// ```
/// use persistence_core::{remember_token, RECENT_TOKENS};
/// let mut recent = Vec::new();
/// for i in 0..RECENT_TOKENS + 2 {
///     recent = remember_token(recent, format!("{i}"));
/// }
/// assert_eq!(recent.len(), RECENT_TOKENS);
/// assert_eq!(recent.last().map(String::as_str), Some("9"));
/// ```
pub fn remember_token<T>(mut recent: Vec<T>, token: T) -> Vec<T> {
    recent.push(token);
    if recent.len() > RECENT_TOKENS {
        let excess = recent.len() - RECENT_TOKENS;
        recent.drain(..excess);
    }
    recent
}

/// The write token a save carries: the caller's ([`SaveOptions::token`](crate::SaveOptions::token)),
/// checked to have [`unique_token`]'s shape, or a fresh one. Every backend calls this, so a
/// malformed token is refused the same way everywhere, before any I/O.
///
/// # Errors
/// [`Error::InvalidVersion`] naming the operation, the resource and the key (redacted).
pub fn write_token(
    options: &crate::SaveOptions,
    operation: &'static str,
    resource: &str,
    key: &str,
) -> Result<String> {
    match &options.token {
        None => Ok(unique_token()),
        Some(t) if is_unique_token(t) => Ok(t.clone()),
        Some(t) => Err(Error::InvalidVersion {
            operation,
            resource: resource.to_owned(),
            key: RedactedKey::new(key),
            version: t.chars().take(40).collect(),
            reason: "a write token must have persistence_core::unique_token's shape (32 lowercase hex digits)",
        }),
    }
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
                self.str(&n.to_string());
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
    fn malformed_tokens_are_refused() {
        let ok = crate::SaveOptions::default().token(unique_token());
        assert!(write_token(&ok, "save", "r", "k").is_ok());
        for bad in [
            "",
            "7",
            "ABCDEF0123456789ABCDEF0123456789",
            &"g".repeat(32),
            &"a".repeat(33),
        ] {
            let opts = crate::SaveOptions::default().token(bad);
            assert!(
                matches!(
                    write_token(&opts, "save", "r", "k"),
                    Err(Error::InvalidVersion { .. })
                ),
                "{bad:?}"
            );
        }
    }

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
