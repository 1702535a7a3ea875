//! What a backend can read back, checked before it writes: a save that would lock a user out
//! of their own data is refused instead.
//!
//! Every backend must give back, on the next read, exactly what a save accepted. Nesting is the
//! limit that differs between writing and reading: a JSON parser refuses documents nested past
//! its limit ([`MAX_READ_DEPTH`](crate::exact::MAX_READ_DEPTH) here, which reads what the official
//! SDKs write), while writing has no such limit; DynamoDB refuses documents nested past 32
//! levels. So each backend checks the depth of what it is about to write against what it can
//! read back, with [`check_depth`], and refuses deeper values with [`Error::UnsupportedValue`]
//! before any I/O.

use crate::exact::{ExactMap, ExactValue};
use crate::{Error, RedactedKey, Result};

/// The deepest nesting of lists and maps inside an attribute (see [`ExactValue::depth`]) that
/// the JSON backends (S3, SQLite, files, memory) accept: their documents add a level or two
/// around the attributes, and they read at most
/// [`MAX_READ_DEPTH`](crate::exact::MAX_READ_DEPTH).
pub const MAX_JSON_DEPTH: usize = 500;

/// Refuses `attributes` when one of them nests lists and maps deeper than `max_depth`
/// (counted as [`ExactValue::depth`]).
///
/// ```
/// use persistence_core::{limits::check_depth, exact::ExactValue, Attributes};
/// let deep = (0..5).fold(serde_json::json!(1), |v, _| serde_json::json!([v]));
/// let attrs = Attributes::try_from(serde_json::json!({ "deep": deep })).unwrap();
/// assert!(check_depth(&attrs.to_exact(), 5, "save", "memory", "k").is_ok());
/// assert!(check_depth(&attrs.to_exact(), 4, "save", "memory", "k").is_err());
/// ```
///
/// # Errors
/// [`Error::UnsupportedValue`] naming the attribute and both depths.
pub fn check_depth(
    attributes: &ExactMap,
    max_depth: usize,
    operation: &'static str,
    resource: &str,
    key: &str,
) -> Result<()> {
    check(
        attributes,
        max_depth,
        ExactValue::depth,
        operation,
        resource,
        key,
    )
}

/// [`check_depth`] for a store that keeps sets as sets, nesting them no deeper than a number
/// ([`ExactValue::document_depth`]; DynamoDB).
///
/// # Errors
/// [`Error::UnsupportedValue`] naming the attribute and both depths.
pub fn check_document_depth(
    attributes: &ExactMap,
    max_depth: usize,
    operation: &'static str,
    resource: &str,
    key: &str,
) -> Result<()> {
    check(
        attributes,
        max_depth,
        ExactValue::document_depth,
        operation,
        resource,
        key,
    )
}

fn check(
    attributes: &ExactMap,
    max_depth: usize,
    depth_of: fn(&ExactValue) -> usize,
    operation: &'static str,
    resource: &str,
    key: &str,
) -> Result<()> {
    for (name, value) in attributes {
        let depth = depth_of(value);
        if depth > max_depth {
            return Err(Error::UnsupportedValue {
                operation,
                resource: resource.to_owned(),
                key: RedactedKey::new(key),
                detail: format!(
                    "attribute `{name}` nests lists and maps {depth} levels deep; this store \
                     reads back at most {max_depth}, so it would be saved but never read again"
                ),
            });
        }
    }
    Ok(())
}

/// Depth of the deepest attribute (0 when there is none or all are scalars).
pub fn max_depth(attributes: &ExactMap) -> usize {
    attributes
        .values()
        .map(ExactValue::depth)
        .max()
        .unwrap_or(0)
}
