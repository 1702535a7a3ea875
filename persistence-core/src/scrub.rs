//! Client errors with user IDs taken out, so that they can be kept as an error's `source`.

use std::fmt;

use crate::RedactedKey;

/// A backend client's error whose text (the whole `source` chain, flattened) has every
/// occurrence of the given secrets (the storage key, an object path) replaced by their
/// [`RedactedKey`] form.
///
/// Service messages can quote what a request named: S3's AccessDenied names the object's ARN,
/// which holds the user ID. [`Error::Backend`](crate::Error::Backend) keeps the client's error
/// as its source; backends wrap it in this first so that no log line or error report shows a
/// full ID, whatever walks the chain. The original error stays reachable, on purpose only,
/// through [`ScrubbedError::unscrubbed`].
///
/// ```
/// use persistence_core::ScrubbedError;
///
/// let raw = std::io::Error::other("AccessDenied on arn:aws:s3:::b/p/amzn1.ask.account.SECRETUSER123456");
/// let e = ScrubbedError::new(raw, &["p/amzn1.ask.account.SECRETUSER123456"]);
/// assert!(!e.to_string().contains("SECRETUSER123456"));
/// assert!(!format!("{e:?}").contains("SECRETUSER123456"));
/// assert!(e.to_string().contains("AccessDenied"));
/// ```
pub struct ScrubbedError {
    text: String,
    debug: String,
    inner: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl ScrubbedError {
    /// Wraps `error`, scrubbing `secrets` (empty ones are ignored) from its text.
    pub fn new<E>(error: E, secrets: &[&str]) -> Self
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(s) = source {
            let t = s.to_string();
            if !text.contains(&t) {
                text.push_str(": ");
                text.push_str(&t);
            }
            source = s.source();
        }
        let debug = format!("{error:?}");
        Self {
            text: scrub(&text, secrets),
            debug: scrub(&debug, secrets),
            inner: Box::new(error),
        }
    }

    /// The client's original error, IDs included: for debugging on purpose, never for logs.
    pub fn unscrubbed(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.inner.as_ref()
    }
}

/// Replaces each secret in `text` (also percent-encoded, as URLs and ARNs carry it) by its
/// redacted form.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        let shown = RedactedKey::new(secret).to_string();
        for form in [secret.to_string(), percent_encode(secret)] {
            if out.contains(&form) {
                out = out.replace(&form, &shown);
            }
        }
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl fmt::Display for ScrubbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for ScrubbedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.debug)
    }
}

/// The chain is flattened into the text, so there is no further source to walk (and leak).
impl std::error::Error for ScrubbedError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Chain(&'static str, Option<Box<Chain>>);
    impl fmt::Display for Chain {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Chain {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|c| c as _)
        }
    }

    #[test]
    fn the_whole_chain_is_scrubbed_and_flattened() {
        let e = Chain(
            "service error",
            Some(Box::new(Chain(
                "AccessDenied: arn:aws:s3:::bucket/users/amzn1.ask.account.ABCDEFGHIJKLMNOP%2B1",
                None,
            ))),
        );
        let s = ScrubbedError::new(e, &["users/amzn1.ask.account.ABCDEFGHIJKLMNOP+1"]);
        let text = s.to_string();
        assert!(text.contains("service error"), "{text}");
        assert!(text.contains("AccessDenied"), "{text}");
        assert!(!text.contains("IJKLMNOP"), "{text}");
        assert!(!format!("{s:?}").contains("IJKLMNOP"));
        assert!(std::error::Error::source(&s).is_none());
    }
}
