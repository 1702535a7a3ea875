//! Object bodies and versions.
//!
//! A body is the attributes as compact JSON, numbers as they were stored (see
//! `persistence_core::exact`), then 32 characters of JSON whitespace carrying 64 bits of the
//! save's write token, so that the ETag (a hash of the body) is new for every write. Every JSON
//! reader ignores the whitespace.
//!
//! A version is the object's ETag, then `;` and the latest write tokens (16 hex digits of each,
//! oldest first, the version's own last), which the object also keeps in its metadata. A save
//! adds its token to the list of the version it replaces, so a retried save finds its own
//! write in the list after others wrote on top of it. Versions without the list (an ETag only,
//! as earlier releases gave) are still accepted.

use md5::{Digest, Md5};
use persistence_core::exact::{ExactValue, map_to_json_text};
use persistence_core::{Attributes, RECENT_TOKENS, remember_token};

/// The four JSON whitespace characters: two bits each.
const WHITESPACE: [u8; 4] = [b' ', b'\t', b'\n', b'\r'];

/// How many hex digits of a token the list keeps.
const SHORT_TOKEN: usize = 16;

/// The part of a write token the list keeps.
pub(crate) fn short(token: &str) -> &str {
    &token[..SHORT_TOKEN.min(token.len())]
}

/// The body of a save (see the [module docs](self)).
pub(crate) fn encode(attributes: &Attributes, token: &str) -> Vec<u8> {
    let mut body = map_to_json_text(&attributes.to_exact()).into_bytes();
    let bits = u64::from_str_radix(&token[token.len().saturating_sub(16)..], 16).unwrap_or(0);
    body.extend((0..32).map(|i| WHITESPACE[((bits >> (2 * i)) & 3) as usize]));
    body
}

/// What a body holds: empty is empty attributes; anything but a JSON object is an error.
pub(crate) fn decode(body: &[u8]) -> Result<Attributes, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the object is not UTF-8 text".to_owned())?;
    if text.trim().is_empty() {
        return Ok(Attributes::new());
    }
    match ExactValue::parse_json(text) {
        Ok(ExactValue::Map(map)) => Attributes::from_exact(map).map_err(|e| e.to_string()),
        Ok(_) => Err("the object holds JSON that is not an object".into()),
        Err(e) => Err(format!(
            "the object is not valid JSON ({:?} at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        )),
    }
}

/// The ETag S3 gives a body written in one part without KMS encryption: its MD5, quoted.
pub(crate) fn etag_of(body: &[u8]) -> String {
    let digest = Md5::digest(body);
    let mut out = String::with_capacity(34);
    out.push('"');
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out.push('"');
    out
}

/// A version: an ETag and, when known, the latest tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct S3Version {
    pub(crate) etag: String,
    pub(crate) tokens: Option<Vec<String>>,
}

impl S3Version {
    /// Parses `"<hex>"` or `"<hex>-<parts>"`, optionally followed by `;` and the token list.
    pub(crate) fn parse(s: &str) -> Option<Self> {
        let (etag, tokens) = match s.split_once(';') {
            Some((e, t)) => (e, Some(parse_tokens(t)?)),
            None => (s, None),
        };
        let inner = etag.strip_prefix('"').and_then(|r| r.strip_suffix('"'))?;
        let ok = !inner.is_empty()
            && inner.len() <= 80
            && inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
        ok.then(|| Self {
            etag: etag.to_owned(),
            tokens,
        })
    }

    pub(crate) fn text(&self) -> String {
        match &self.tokens {
            Some(t) => format!("{};{}", self.etag, t.join(",")),
            None => self.etag.clone(),
        }
    }

    /// The list of a write replacing this version with `token`.
    pub(crate) fn next_tokens(&self, token: &str) -> Vec<String> {
        remember_token(
            self.tokens.clone().unwrap_or_default(),
            short(token).to_owned(),
        )
    }
}

/// A token list as kept in metadata: comma-separated short tokens, at most [`RECENT_TOKENS`].
pub(crate) fn parse_tokens(text: &str) -> Option<Vec<String>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    let tokens: Vec<String> = text.split(',').map(str::to_owned).collect();
    let ok = tokens.len() <= RECENT_TOKENS
        && tokens
            .iter()
            .all(|t| t.len() == SHORT_TOKEN && t.bytes().all(|b| b.is_ascii_hexdigit()));
    ok.then_some(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_end_with_a_token_in_whitespace_that_readers_ignore() {
        let attrs = Attributes::try_from(json!({"drink": "latte"})).unwrap();
        let t1 = persistence_core::unique_token();
        let t2 = persistence_core::unique_token();
        let b1 = encode(&attrs, &t1);
        let b2 = encode(&attrs, &t2);
        assert_ne!(
            b1, b2,
            "two writes of the same attributes have different bodies"
        );
        assert!(b1.starts_with(br#"{"drink":"latte"}"#));
        let v: serde_json::Value = serde_json::from_slice(&b1).unwrap();
        assert_eq!(v, json!({"drink": "latte"}));
        assert_eq!(decode(&b2).unwrap(), attrs);
    }

    #[test]
    fn bodies_others_wrote_read_and_garbage_is_refused() {
        assert_eq!(decode(b"").unwrap(), Attributes::new());
        assert_eq!(decode(b"{\"a\": \"\\u00e9\"}").unwrap()["a"], "é");
        for bad in [
            &b"[1]"[..],
            b"{\"a\": NaN}",
            b"{\"a\": Infinity}",
            b"\xff\xfe",
            b"{",
            b"5",
            b"null",
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn versions_carry_the_latest_tokens() {
        let v = S3Version::parse("\"abc\"").unwrap();
        assert_eq!(v.tokens, None);
        let t = persistence_core::unique_token();
        let next = v.next_tokens(&t);
        assert_eq!(next, vec![short(&t).to_owned()]);
        let w = S3Version {
            etag: "\"def\"".into(),
            tokens: Some(next),
        };
        assert_eq!(S3Version::parse(&w.text()), Some(w));
        for bad in ["", "abc", "\"\"", "\"zz\"", "\"ab\";x", "\"ab\";0123"] {
            assert_eq!(S3Version::parse(bad), None, "{bad}");
        }
        assert_eq!(etag_of(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }
}
