//! "The same attributes": what `copy` treats as already there and `verify` as equal.

use persistence_core::Stored;
use persistence_core::clock::epoch_seconds;
use persistence_core::number::Decimal;
use serde_json::Value;

/// True when `a` and `b` are the same JSON value, numbers compared by their exact decimal value
/// (`2.0` and `2` are equal, as DynamoDB stores both as one number; `0.1` and
/// `0.1000000000000000055511151231257827` are not), objects regardless of key order.
///
/// ```
/// use persistence_cli::compare::same_value;
/// use serde_json::json;
/// assert!(same_value(&json!({"a": 2.0, "b": [1]}), &json!({"b": [1], "a": 2})));
/// assert!(!same_value(&json!({"a": "1"}), &json!({"a": 1})));
/// assert!(!same_value(&json!({"a": null}), &json!({})));
/// ```
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y
                || matches!(
                    (Decimal::parse(x.as_str()), Decimal::parse(y.as_str())),
                    (Some(p), Some(q)) if p == q
                )
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same_value(v, w))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// True when two stored states hold the same attributes ([`same_value`]) and expire at the same
/// second (or both never).
pub fn same_stored(a: &Stored, b: &Stored) -> bool {
    a.expires_at.map(epoch_seconds) == b.expires_at.map(epoch_seconds)
        && a.attributes.len() == b.attributes.len()
        && a.attributes
            .iter()
            .all(|(k, v)| b.attributes.get(k).is_some_and(|w| same_value(v, w)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_core::number::canonical_number;
    use persistence_core::{Attributes, Version};
    use serde_json::json;

    fn n(text: &str) -> Value {
        Value::Number(canonical_number(text).unwrap())
    }

    #[test]
    fn numbers_compare_by_exact_value() {
        assert!(same_value(&n("1.50"), &n("1.5")));
        assert!(same_value(&n("2.0"), &json!(2)));
        assert!(same_value(&n("1e21"), &n("1000000000000000000000")));
        assert!(same_value(
            &n("0.6666666666666666666666666667"),
            &n("0.66666666666666666666666666670")
        ));
        assert!(!same_value(
            &n("0.6666666666666666666666666667"),
            &n("0.6666666666666666666666666666")
        ));
        assert!(!same_value(&n("18446744073709551616"), &json!(u64::MAX)));
        assert!(!same_value(&json!(1), &json!(-1)));
    }

    #[test]
    fn structure_and_types_matter() {
        assert!(!same_value(&json!([1, 2]), &json!([2, 1])));
        assert!(!same_value(&json!([1]), &json!([1, 1])));
        assert!(!same_value(&json!({"a": 1}), &json!({"a": 1, "b": 1})));
        assert!(!same_value(&json!(""), &json!(null)));
        assert!(!same_value(&json!({}), &json!([])));
        assert!(same_value(
            &json!({"x": {"y": [{}]}}),
            &json!({"x": {"y": [{}]}})
        ));
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
