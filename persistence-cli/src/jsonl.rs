//! The export format: JSON Lines, one key per line.
//!
//! ```text
//! {"key":"amzn1.ask.account.A","attributes":{"visits":3},"expires_at":1767225600}
//! {"key":"amzn1.ask.account.B","attributes":{}}
//! ```
//!
//! `expires_at` (whole seconds since 1970) is there only for attributes that expire. Numbers keep
//! their exact decimal text (`0.6666666666666666666666666667`, integers past 2^64). Lines may end
//! in `\n` or `\r\n`; blank lines are ignored.

use std::io::{self, BufRead};

use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::exact::{ExactValue, map_to_json_text};
use persistence_core::{Attributes, MAX_KEY_BYTES, Stored, validate_key};

/// The longest line read, in bytes (DynamoDB items are at most 400 KB; JSON escapes can double
/// that).
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// One line: a key and what is stored under it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The storage key (usually a user ID).
    pub key: String,
    /// Its attributes.
    pub attributes: Attributes,
    /// When they expire, in seconds since 1970, if they do.
    pub expires_at: Option<u64>,
}

impl Record {
    /// The record of a stored entry.
    pub fn of(key: &str, stored: &Stored) -> Self {
        Self {
            key: key.to_owned(),
            attributes: stored.attributes.clone(),
            expires_at: stored.expires_at.map(epoch_seconds),
        }
    }

    /// When the attributes expire, as a time.
    pub fn expires_at_time(&self) -> Option<std::time::SystemTime> {
        self.expires_at.map(from_epoch_seconds)
    }
}

/// One line of JSON for `key` and `stored`, with its `\n`.
///
/// ```
/// use persistence_core::{Attributes, Stored, Version};
/// let attrs = Attributes::try_from(serde_json::json!({"visits": 3})).unwrap();
/// let line = persistence_cli::jsonl::to_line("user-1", &Stored::new(attrs, Version::new("v")));
/// assert_eq!(line, b"{\"key\":\"user-1\",\"attributes\":{\"visits\":3}}\n");
/// ```
pub fn to_line(key: &str, stored: &Stored) -> Vec<u8> {
    // Serialising a string into JSON text cannot fail.
    let mut line = format!(
        "{{\"key\":{},\"attributes\":{}",
        serde_json::to_string(key).unwrap_or_default(),
        map_to_json_text(&stored.attributes.to_exact())
    );
    if let Some(at) = stored.expires_at {
        line.push_str(&format!(",\"expires_at\":{}", epoch_seconds(at)));
    }
    line.push_str("}\n");
    line.into_bytes()
}

/// Parses one line (without its line ending). `Ok(None)` for a blank line; the error says what
/// is wrong, without the line number (the caller adds it) and with the key redacted.
///
/// ```
/// use persistence_cli::jsonl::parse_line;
/// let r = parse_line(br#"{"key":"u1","attributes":{"n":0.6666666666666666666666666667}}"#)?.unwrap();
/// assert_eq!(r.key, "u1");
/// assert_eq!(r.attributes.exact("n").unwrap().to_json_text(), "0.6666666666666666666666666667");
/// assert!(parse_line(b"   ")?.is_none());
/// assert!(parse_line(br#"{"key":"u1"}"#).unwrap_err().contains("no `attributes`"));
/// # Ok::<(), String>(())
/// ```
pub fn parse_line(line: &[u8]) -> Result<Option<Record>, String> {
    let text = std::str::from_utf8(line)
        .map_err(|e| format!("not UTF-8 text (at byte {})", e.valid_up_to()))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    let value = ExactValue::parse_json(text)
        .map_err(|e| format!("invalid JSON ({:?} at column {})", e.classify(), e.column()))?;
    let ExactValue::Map(mut map) = value else {
        return Err(
            "expected an object {\"key\": ..., \"attributes\": {...}}, found something else"
                .to_owned(),
        );
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "key" | "attributes" | "expires_at"))
    {
        return Err(format!(
            "unknown field `{}` (a line has key, attributes and expires_at)",
            unknown.chars().take(40).collect::<String>()
        ));
    }
    let key = match map.remove("key") {
        Some(ExactValue::String(k)) => k,
        Some(_) => return Err("`key` is not a string".into()),
        None => return Err("no `key`".into()),
    };
    validate_key(&key, MAX_KEY_BYTES).map_err(|e| e.to_string())?;
    let attributes = match map.remove("attributes") {
        Some(ExactValue::Map(m)) => m,
        Some(_) => return Err("`attributes` is not a JSON object".into()),
        None => return Err("no `attributes`".into()),
    };
    let attributes = Attributes::from_exact(attributes).map_err(|e| e.to_string())?;
    let expires_at = match map.remove("expires_at") {
        None | Some(ExactValue::Null) => None,
        Some(ExactValue::Number(n)) if n.as_str().parse::<u64>().is_ok() => n.as_str().parse().ok(),
        Some(other) => {
            return Err(format!(
                "`expires_at` must be whole seconds since 1970 (an integer of 0 or more), not {}",
                other.to_json_text().chars().take(40).collect::<String>()
            ));
        }
    };
    Ok(Some(Record {
        key,
        attributes,
        expires_at,
    }))
}

/// Reads lines one at a time, numbering them, each at most [`MAX_LINE_BYTES`].
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    number: u64,
    bytes: u64,
    buf: Vec<u8>,
}

/// A line that could not be read whole.
#[derive(Debug)]
pub enum LineError {
    /// Longer than [`MAX_LINE_BYTES`] (the rest of it was skipped).
    TooLong,
    /// Reading failed.
    Io(io::Error),
}

impl<R: BufRead> Lines<R> {
    /// Lines of `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            number: 0,
            bytes: 0,
            buf: Vec::new(),
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The next line (1-based number, content without its line ending), `None` at the end.
    pub fn next_line(&mut self) -> Option<(u64, Result<&[u8], LineError>)> {
        self.buf.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let read = io::Read::take(&mut self.reader, limit).read_until(b'\n', &mut self.buf);
        let n = match read {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) => {
                self.number += 1;
                return Some((self.number, Err(LineError::Io(e))));
            }
        };
        self.number += 1;
        self.bytes += n as u64;
        if self.buf.last() != Some(&b'\n') && self.buf.len() > MAX_LINE_BYTES {
            // Skip the rest of this line.
            loop {
                let mut rest = Vec::new();
                match io::Read::take(&mut self.reader, 1 << 20).read_until(b'\n', &mut rest) {
                    Ok(0) => break,
                    Ok(m) => {
                        self.bytes += m as u64;
                        if rest.last() == Some(&b'\n') {
                            break;
                        }
                    }
                    Err(e) => return Some((self.number, Err(LineError::Io(e)))),
                }
            }
            return Some((self.number, Err(LineError::TooLong)));
        }
        let mut line = self.buf.as_slice();
        if let Some(l) = line.strip_suffix(b"\n") {
            line = l;
        }
        if let Some(l) = line.strip_suffix(b"\r") {
            line = l;
        }
        Some((self.number, Ok(line)))
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::TooLong => write!(f, "the line is longer than {MAX_LINE_BYTES} bytes"),
            LineError::Io(e) => write!(f, "reading failed: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_core::Version;
    use serde_json::json;

    fn err(line: &str) -> String {
        parse_line(line.as_bytes()).expect_err(line)
    }

    #[test]
    fn lines_round_trip_exactly() {
        let rest = json!({
            "unicode": "héllo ☕ \u{0} \"q\"",
            "nested": [[[]], {}],
            "empty": "",
        })
        .to_string();
        let text = format!(
            r#"{{"decimals":[0.6666666666666666666666666667,1180591620717411303424],{}"#,
            &rest[1..]
        );
        let ExactValue::Map(map) = ExactValue::parse_json(&text).unwrap() else {
            panic!()
        };
        let attrs = Attributes::from_exact(map).unwrap();
        let stored = Stored::new(attrs.clone(), Version::new("v"))
            .expiring(Some(from_epoch_seconds(1_767_225_600)));
        let line = to_line("amzn1.ask.account.É", &stored);
        assert_eq!(line.last(), Some(&b'\n'));
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1, "one line");
        let text = String::from_utf8(line.clone()).unwrap();
        assert!(text.contains("0.6666666666666666666666666667"), "{text}");
        assert!(text.contains("1180591620717411303424"), "{text}");
        assert!(text.contains("\"expires_at\":1767225600"), "{text}");
        let back = parse_line(&line[..line.len() - 1]).unwrap().unwrap();
        assert_eq!(back.key, "amzn1.ask.account.É");
        assert_eq!(back.attributes, attrs);
        assert_eq!(back.attributes.to_exact(), attrs.to_exact());
        assert_eq!(back.expires_at, Some(1_767_225_600));
    }

    #[test]
    fn every_bad_line_says_why() {
        assert!(err("{").contains("invalid JSON"));
        assert!(err("[1]").contains("found something else"));
        assert!(err(r#"{"attributes":{}}"#).contains("no `key`"));
        assert!(err(r#"{"key":5,"attributes":{}}"#).contains("`key` is not a string"));
        assert!(err(r#"{"key":"","attributes":{}}"#).contains("empty"));
        assert!(err(r#"{"key":"a\nb","attributes":{}}"#).contains("control character"));
        assert!(err(r#"{"key":"k","attributes":[]}"#).contains("not a JSON object"));
        assert!(err(r#"{"key":"k"}"#).contains("no `attributes`"));
        assert!(err(r#"{"key":"k","attributes":{},"expires_at":-1}"#).contains("whole seconds"));
        assert!(
            err(r#"{"key":"k","attributes":{},"expires_at":"soon"}"#).contains("whole seconds")
        );
        assert!(err(r#"{"key":"k","attributes":{},"expires_at":1.5}"#).contains("whole seconds"));
        assert!(
            err(r#"{"key":"k","attributes":{},"version":"x"}"#).contains("unknown field `version`")
        );
        assert!(err(r#"{"key":"k","attributes":{"x":NaN}}"#).contains("invalid JSON"));
        assert!(parse_line(b"\xff\xfe").unwrap_err().contains("UTF-8"));
        // The key is never shown in full.
        let secret = "amzn1.ask.account.SECRETSECRETSECRET\u{1}";
        let e = err(&format!(
            r#"{{"key":"{}","attributes":{{}}}}"#,
            secret.escape_default()
        ));
        assert!(!e.contains("SECRETSECRETSECRET"), "{e}");
        // null expiry is no expiry.
        let r = parse_line(br#"{"key":"k","attributes":{},"expires_at":null}"#)
            .unwrap()
            .unwrap();
        assert_eq!(r.expires_at, None);
    }

    #[test]
    fn lines_are_numbered_and_bounded() {
        let long = "x".repeat(MAX_LINE_BYTES + 10);
        let input = format!("a\r\n\nb\n{long}\nc");
        let mut lines = Lines::new(io::Cursor::new(input.into_bytes()));
        let mut seen = Vec::new();
        while let Some((n, l)) = lines.next_line() {
            seen.push((
                n,
                l.map(|b| String::from_utf8_lossy(b).into_owned())
                    .map_err(|e| e.to_string()),
            ));
        }
        assert_eq!(seen.len(), 5);
        assert_eq!(seen[0], (1, Ok("a".into())));
        assert_eq!(seen[1], (2, Ok(String::new())));
        assert_eq!(seen[2], (3, Ok("b".into())));
        assert_eq!(seen[3].0, 4);
        assert!(seen[3].1.as_ref().is_err_and(|e| e.contains("longer than")));
        assert_eq!(seen[4], (5, Ok("c".into())));
    }
}
