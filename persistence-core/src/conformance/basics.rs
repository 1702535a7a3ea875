//! Reads, writes, deletes and keys: the basic contract.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::{attrs, must_get, unique_key};
use crate::{Error, PersistenceAdapter, SaveMode};

/// Reading a key never written is `Ok(None)`, not an error.
pub async fn absent_read(a: &dyn PersistenceAdapter) {
    let got = a.get(&unique_key("absent")).await;
    assert!(
        matches!(got, Ok(None)),
        "[{}] absent key read as {got:?}",
        a.describe()
    );
}

/// What is saved is what is read back, with the version the save returned.
pub async fn round_trip(a: &dyn PersistenceAdapter) {
    let key = unique_key("round-trip");
    let value = attrs(json!({"drink": "latte", "visits": 3, "premium": false}));
    let v = a.save(&key, &value, SaveMode::Overwrite).await.unwrap();
    let got = must_get(a, &key).await;
    assert_eq!(got.attributes, value, "[{}] round trip", a.describe());
    assert_eq!(
        got.version,
        v,
        "[{}] version read != version saved",
        a.describe()
    );
}

/// An unconditional save replaces the whole object (no merge) and changes the version.
pub async fn overwrite(a: &dyn PersistenceAdapter) {
    let key = unique_key("overwrite");
    let v1 = a
        .save(&key, &attrs(json!({"a": 1, "b": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    let second = attrs(json!({"a": 10}));
    let v2 = a.save(&key, &second, SaveMode::Overwrite).await.unwrap();
    assert_ne!(v1, v2, "[{}] overwrite kept the version", a.describe());
    let got = must_get(a, &key).await;
    assert_eq!(
        got.attributes,
        second,
        "[{}] overwrite merged instead of replacing",
        a.describe()
    );
}

/// Deleting removes the attributes; a later read finds nothing.
pub async fn delete(a: &dyn PersistenceAdapter) {
    let key = unique_key("delete");
    a.save(&key, &attrs(json!({"x": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.delete(&key).await.unwrap();
    assert!(
        a.get(&key).await.unwrap().is_none(),
        "[{}] deleted key still reads",
        a.describe()
    );
}

/// Deleting a key that was never written (or twice) is `Ok`.
pub async fn delete_absent(a: &dyn PersistenceAdapter) {
    let key = unique_key("delete-absent");
    a.delete(&key).await.unwrap();
    a.delete(&key).await.unwrap();
}

/// Two keys never see each other's data, and deleting one leaves the other.
pub async fn key_isolation(a: &dyn PersistenceAdapter) {
    let k1 = unique_key("iso");
    let k2 = format!("{k1}-2");
    let k3 = format!("{k1}/sub");
    a.save(&k1, &attrs(json!({"who": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.save(&k2, &attrs(json!({"who": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.save(&k3, &attrs(json!({"who": 3})), SaveMode::Overwrite)
        .await
        .unwrap();
    a.delete(&k2).await.unwrap();
    assert_eq!(
        must_get(a, &k1).await.attributes["who"],
        1,
        "[{}]",
        a.describe()
    );
    assert_eq!(
        must_get(a, &k3).await.attributes["who"],
        3,
        "[{}]",
        a.describe()
    );
    assert!(a.get(&k2).await.unwrap().is_none());
}

/// Empty, overlong and control-character keys are refused with [`Error::InvalidKey`] by every
/// operation. `max_key_bytes` is the backend's documented limit: a key of exactly that many bytes
/// still works.
pub async fn invalid_keys(a: &dyn PersistenceAdapter, max_key_bytes: usize) {
    let prefix = unique_key("long");
    let longest = format!("{prefix}{}", "k".repeat(max_key_bytes - prefix.len()));
    let too_long = format!("{longest}k");
    let bad = [
        String::new(),
        too_long,
        "user\n1".to_string(),
        "user\u{0}1".to_string(),
        "tab\there".to_string(),
    ];
    let value = attrs(json!({"v": 1}));
    for key in &bad {
        let shown = key.escape_debug().to_string();
        let shown = &shown[..shown.len().min(40)];
        let g = a.get(key).await;
        assert!(
            matches!(g, Err(Error::InvalidKey { .. })),
            "[{}] get {shown}: {g:?}",
            a.describe()
        );
        let s = a.save(key, &value, SaveMode::Overwrite).await;
        assert!(
            matches!(s, Err(Error::InvalidKey { .. })),
            "[{}] save {shown}: {s:?}",
            a.describe()
        );
        let d = a.delete(key).await;
        assert!(
            matches!(d, Err(Error::InvalidKey { .. })),
            "[{}] delete {shown}: {d:?}",
            a.describe()
        );
    }
    a.save(&longest, &value, SaveMode::Overwrite)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "[{}] key of exactly {max_key_bytes} bytes: {e}",
                a.describe()
            )
        });
    assert_eq!(must_get(a, &longest).await.attributes, value);
    a.delete(&longest).await.unwrap();
}
