//! Which written forms every backend reads back unchanged.

use persistence_core::exact::{ExactMap, ExactValue};
use persistence_core::number::is_json_number_text;

/// True when every backend reads `written` back exactly as written: only plain JSON types,
/// numbers spelled as JSON spells them. Sets and binary are not: backends that keep JSON text
/// (SQLite, S3, files) store sets as lists and binary as base64 strings; a number spelled
/// otherwise (`+1.5E2`, `.5`) is respelled for them. After a save of such values the cache
/// evicts the key rather than guess, so the next read gets the store's own forms.
pub(crate) fn read_back_unchanged(written: &ExactMap) -> bool {
    // An explicit stack: values nest up to a thousand levels deep.
    let mut pending: Vec<&ExactValue> = written.values().collect();
    while let Some(value) = pending.pop() {
        match value {
            ExactValue::Null | ExactValue::Bool(_) | ExactValue::String(_) => {}
            ExactValue::Number(n) => {
                if !is_json_number_text(n.as_str()) {
                    return false;
                }
            }
            ExactValue::List(items) => pending.extend(items),
            ExactValue::Map(map) => pending.extend(map.values()),
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use persistence_core::exact::ExactNumber;

    use super::*;

    fn map(v: ExactValue) -> ExactMap {
        [("a".to_owned(), v)].into_iter().collect()
    }

    #[test]
    fn plain_json_is_read_back_unchanged() {
        let ExactValue::Map(m) = ExactValue::parse_json(
            r#"{"n": 1.50, "l": [1, {"d": 0.6666666666666666666666666667}], "s": "x", "z": null}"#,
        )
        .unwrap() else {
            unreachable!()
        };
        assert!(read_back_unchanged(&m));
    }

    #[test]
    fn sets_binary_and_odd_spellings_are_not() {
        assert!(!read_back_unchanged(&map(ExactValue::StringSet(vec![
            "a".into()
        ]))));
        assert!(!read_back_unchanged(&map(ExactValue::List(vec![
            ExactValue::Binary(vec![1])
        ]))));
        let odd = ExactValue::Number(ExactNumber::parse("+1.5E2").unwrap());
        assert!(!read_back_unchanged(&map(ExactValue::Map(map(odd)))));
    }
}
