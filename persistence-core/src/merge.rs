//! Three-way merge of top-level attributes: how two turns that changed different things both
//! keep their change.

use std::collections::BTreeSet;

use crate::Attributes;

/// The top-level attribute names whose value differs between `before` and `after` (added,
/// removed or changed).
///
/// ```
/// use persistence_core::{Attributes, merge::changed_names};
/// use serde_json::json;
/// let before = Attributes::try_from(json!({"a": 1, "b": 2, "c": 3})).unwrap();
/// let after = Attributes::try_from(json!({"a": 1, "b": 20, "d": 4})).unwrap();
/// let names: Vec<_> = changed_names(&before, &after).into_iter().collect();
/// assert_eq!(names, ["b", "c", "d"]);
/// ```
pub fn changed_names(before: &Attributes, after: &Attributes) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (k, v) in before.iter() {
        if after.get(k) != Some(v) {
            names.insert(k.clone());
        }
    }
    for k in after.keys() {
        if !before.contains_key(k) {
            names.insert(k.clone());
        }
    }
    names
}

/// Why [`three_way`] could not merge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overlap {
    /// Top-level names both sides changed (to the same value or not).
    pub names: BTreeSet<String>,
}

/// Merges two concurrent changes of the same attributes, top-level name by name.
///
/// `base` is what both sides started from, `ours` what this side made of it, `theirs` what is
/// stored now (another writer's result). Every name only one side changed takes that side's
/// value (a removal included). A name **both** changed is an [`Overlap`] and nothing is merged,
/// even when both changed it to the same value: two devices that each counted a visit from 3
/// both wrote 4, and merging them as "agreeing" would lose one visit. Only the skill can tell a
/// counter from a setting, so it decides (run the turn again on the fresh copy).
///
/// ```
/// use persistence_core::{Attributes, merge::three_way};
/// use serde_json::json;
/// let a = |v| Attributes::try_from(v).unwrap();
/// let base = a(json!({"streak": 3, "usual": "tea"}));
/// let ours = a(json!({"streak": 4, "usual": "tea"}));          // this device: streak
/// let theirs = a(json!({"streak": 3, "usual": "latte"}));      // the other: the usual order
/// assert_eq!(three_way(&base, &ours, &theirs).unwrap(), a(json!({"streak": 4, "usual": "latte"})));
///
/// let clash = a(json!({"streak": 10, "usual": "tea"}));
/// assert!(three_way(&base, &ours, &clash).is_err());
/// // The same change on both sides is a clash too: two visits counted from 3.
/// assert!(three_way(&base, &ours, &ours).is_err());
/// ```
pub fn three_way(
    base: &Attributes,
    ours: &Attributes,
    theirs: &Attributes,
) -> Result<Attributes, Overlap> {
    let mine = changed_names(base, ours);
    let other = changed_names(base, theirs);
    let clashing: BTreeSet<String> = mine.intersection(&other).cloned().collect();
    if !clashing.is_empty() {
        return Err(Overlap { names: clashing });
    }
    let mut merged = theirs.clone();
    for k in mine {
        match ours.get(&k) {
            Some(v) => {
                merged.insert(k, v.clone());
            }
            None => {
                merged.remove(&k);
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn a(v: serde_json::Value) -> Attributes {
        Attributes::try_from(v).unwrap()
    }

    #[test]
    fn removals_and_additions_merge() {
        let base = a(json!({"x": 1, "y": 2}));
        let ours = a(json!({"x": 1, "y": 2, "new": true}));
        let theirs = a(json!({"x": 1}));
        assert_eq!(
            three_way(&base, &ours, &theirs).unwrap(),
            a(json!({"x": 1, "new": true}))
        );
        // Ours removes, theirs adds elsewhere.
        let ours = a(json!({"y": 2}));
        let theirs = a(json!({"x": 1, "y": 2, "z": 3}));
        assert_eq!(
            three_way(&base, &ours, &theirs).unwrap(),
            a(json!({"y": 2, "z": 3}))
        );
    }

    #[test]
    fn same_change_on_both_sides_is_a_clash() {
        // Two devices count a visit from 3: both write 4. Merged, one visit would be lost.
        let base = a(json!({"visits": 3}));
        let both = a(json!({"visits": 4}));
        let e = three_way(&base, &both, &both).unwrap_err();
        assert_eq!(e.names.into_iter().collect::<Vec<_>>(), ["visits"]);
        // Two first launches at once, both creating {"count": 1}.
        let e = three_way(
            &Attributes::new(),
            &a(json!({"count": 1})),
            &a(json!({"count": 1})),
        )
        .unwrap_err();
        assert_eq!(e.names.into_iter().collect::<Vec<_>>(), ["count"]);
    }

    #[test]
    fn nested_changes_clash_at_the_top_level_name() {
        let base = a(json!({"profile": {"name": "A", "age": 3}}));
        let ours = a(json!({"profile": {"name": "B", "age": 3}}));
        let theirs = a(json!({"profile": {"name": "A", "age": 4}}));
        let e = three_way(&base, &ours, &theirs).unwrap_err();
        assert_eq!(e.names.into_iter().collect::<Vec<_>>(), ["profile"]);
    }
}
