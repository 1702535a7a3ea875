//! "The same attributes": what `copy` treats as already there and `verify` as equal.

use persistence_core::Stored;
use persistence_core::clock::epoch_seconds;
use persistence_core::exact::same_map;

/// True when two stored states hold the same attributes, exactly (numbers compared by their
/// decimal value, never through `f64`: `2.0` and `2` are equal, as DynamoDB stores both as one
/// number, `0.1` and `0.1000000000000000055511151231257827` are not; a DynamoDB set equal to the
/// list a JSON backend holds for it), and expire at the same second (or both never).
pub fn same_stored(a: &Stored, b: &Stored) -> bool {
    a.expires_at.map(epoch_seconds) == b.expires_at.map(epoch_seconds)
        && same_map(&a.attributes.to_exact(), &b.attributes.to_exact())
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_core::exact::ExactValue;
    use persistence_core::{Attributes, Version};
    use serde_json::json;

    fn stored(text: &str) -> Stored {
        let ExactValue::Map(map) = ExactValue::parse_json(text).unwrap() else {
            panic!("not an object")
        };
        Stored::new(Attributes::from_exact(map).unwrap(), Version::new("v"))
    }

    fn same(a: &str, b: &str) -> bool {
        same_stored(&stored(a), &stored(b))
    }

    #[test]
    fn numbers_compare_by_exact_value() {
        assert!(same(r#"{"a":1.50}"#, r#"{"a":1.5}"#));
        assert!(same(r#"{"a":2.0}"#, r#"{"a":2}"#));
        assert!(same(r#"{"a":1e21}"#, r#"{"a":1000000000000000000000}"#));
        assert!(same(
            r#"{"a":0.6666666666666666666666666667}"#,
            r#"{"a":0.66666666666666666666666666670}"#
        ));
        // The same f64, different numbers: not equal.
        assert!(!same(
            r#"{"a":0.6666666666666666666666666667}"#,
            r#"{"a":0.6666666666666666666666666666}"#
        ));
        assert!(!same(
            r#"{"a":18446744073709551616}"#,
            r#"{"a":18446744073709551615}"#
        ));
        assert!(!same(r#"{"a":1}"#, r#"{"a":-1}"#));
    }

    #[test]
    fn structure_and_types_matter() {
        assert!(!same(r#"{"a":[1,2]}"#, r#"{"a":[2,1]}"#));
        assert!(!same(r#"{"a":[1]}"#, r#"{"a":[1,1]}"#));
        assert!(!same(r#"{"a":1}"#, r#"{"a":1,"b":1}"#));
        assert!(!same(r#"{"a":""}"#, r#"{"a":null}"#));
        assert!(!same(r#"{"a":{}}"#, r#"{"a":[]}"#));
        assert!(same(r#"{"x":{"y":[{}]}}"#, r#"{"x":{"y":[{}]}}"#));
    }

    #[test]
    fn expiry_is_part_of_what_is_stored() {
        let attrs = Attributes::try_from(json!({"a": 1})).unwrap();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(100);
        let a = Stored::new(attrs.clone(), Version::new("1")).expiring(Some(t));
        let b = Stored::new(attrs.clone(), Version::new("2")).expiring(Some(t));
        let c = Stored::new(attrs, Version::new("3"));
        assert!(same_stored(&a, &b), "versions do not matter");
        assert!(!same_stored(&a, &c));
    }
}
