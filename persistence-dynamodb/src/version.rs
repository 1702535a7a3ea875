//! Versions of items: what a conditional save or delete expects, and how the latest write
//! tokens are kept.
//!
//! A version written by this adapter is `<token>.<n>`: the write's token and its sequence
//! number since the item was created (or last overwritten). The item keeps the latest
//! [`RECENT_TOKENS`] tokens (16 hex digits of each) in a list, the write numbered `n` in slot `n % RECENT_TOKENS`, so a
//! save can add its token without reading the list, and a retried save finds its own token
//! there after others wrote.
//!
//! Older versions still read: a bare token (this crate before it kept tokens), a whole number
//! (release 0.1), and items without a version (the official SDKs), named `sdk-<digest>`.

use aws_sdk_dynamodb::types::AttributeValue;
use persistence_core::{Error, RECENT_TOKENS, RedactedKey, Result, Version, is_unique_token};

use crate::{DynamoDbAdapter, Item};

/// How the version of an item written without a version attribute (by the official SDKs)
/// starts: `sdk-` and the digest of its attributes.
pub(crate) const UNVERSIONED_PREFIX: &str = "sdk-";

/// What a conditional save or delete expects, from the version a read returned.
#[derive(Clone)]
pub(crate) enum Expected {
    /// A version this adapter wrote: the stored text, its token and (since tokens are kept)
    /// its sequence number.
    Token {
        stored: String,
        token: String,
        seq: Option<u64>,
    },
    /// A number version written by release 0.1 of this crate (`N`).
    Legacy(String),
    /// An item without version attribute (written by the official SDKs), by content digest.
    Unversioned(String),
}

/// The version text for a write with `token`, numbered `seq`.
pub(crate) fn format_version(token: &str, seq: u64) -> String {
    format!("{token}.{seq}")
}

/// A version this adapter wrote, as (token, sequence number if any).
pub(crate) fn split_version(s: &str) -> Option<(&str, Option<u64>)> {
    match s.split_once('.') {
        Some((t, n)) if is_unique_token(t) && !n.is_empty() && n.len() <= 19 => {
            n.parse::<u64>().ok().map(|n| (t, Some(n)))
        }
        None if is_unique_token(s) => Some((s, None)),
        _ => None,
    }
}

/// How many hex digits of a write token the list keeps (64 bits: enough to tell a write from
/// the few others kept, and a smaller item).
pub(crate) const SHORT_TOKEN: usize = 16;

/// The part of a write token the list keeps.
pub(crate) fn short(token: &str) -> &str {
    &token[..SHORT_TOKEN.min(token.len())]
}

/// The slot of the token list the write numbered `seq` takes.
pub(crate) fn slot(seq: u64) -> u64 {
    seq % RECENT_TOKENS as u64
}

impl DynamoDbAdapter {
    pub(crate) fn parse_version(
        &self,
        operation: &'static str,
        key: &str,
        v: &Version,
    ) -> Result<Expected> {
        let s = v.as_str();
        if let Some((token, seq)) = split_version(s) {
            return Ok(Expected::Token {
                stored: s.to_owned(),
                token: token.to_owned(),
                seq,
            });
        }
        if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(Expected::Legacy(s.to_owned()));
        }
        if let Some(digest) = s
            .strip_prefix(UNVERSIONED_PREFIX)
            .filter(|d| is_unique_token(d))
        {
            return Ok(Expected::Unversioned(digest.to_owned()));
        }
        Err(Error::InvalidVersion {
            operation,
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            version: s.chars().take(40).collect(),
            reason: "versions of a DynamoDB table are write tokens (32 hex digits, optionally \
                     `.` and a number), whole numbers (release 0.1), or `sdk-` and a digest",
        })
    }

    /// The latest write tokens an item keeps.
    pub(crate) fn tokens_of(&self, item: &Item) -> Vec<String> {
        match item.get(&self.tokens_name) {
            Some(AttributeValue::L(items)) => items
                .iter()
                .filter_map(|v| match v {
                    AttributeValue::S(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The sequence number of an item's version, when it has one.
    pub(crate) fn seq_of(&self, item: &Item) -> Option<u64> {
        match item.get(&self.version_name) {
            Some(AttributeValue::S(v)) => split_version(v).and_then(|(_, n)| n),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_split_into_token_and_number() {
        let t = persistence_core::unique_token();
        assert_eq!(split_version(&t), Some((t.as_str(), None)));
        let v = format_version(&t, 42);
        assert_eq!(split_version(&v), Some((t.as_str(), Some(42))));
        for bad in [
            "",
            "7",
            &format!("{t}."),
            &format!("{t}.x"),
            &format!("{t}.-1"),
            "abc.1",
        ] {
            assert_eq!(split_version(bad), None, "{bad}");
        }
        assert_eq!(slot(0), 0);
        assert_eq!(slot(RECENT_TOKENS as u64 + 3), 3);
    }
}
