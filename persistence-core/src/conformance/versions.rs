//! Versions, conditional writes, write tokens and lost answers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::json;

use super::{attrs, must_get, unique_key};
use crate::{Error, PersistenceAdapter, SaveMode, SaveOptions, Version};

/// `IfVersion` with the current version succeeds; with a stale one it is a typed conflict and
/// leaves the stored value alone. Also on a key deleted since the read.
pub async fn versioned_save(a: &dyn PersistenceAdapter) {
    let key = unique_key("versioned");
    let v1 = a
        .save(&key, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let v2 = a
        .save(
            &key,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(v1.clone()),
        )
        .await
        .unwrap_or_else(|e| panic!("[{}] save at current version failed: {e}", a.describe()));
    assert_ne!(v1, v2);

    let stale = a
        .save(&key, &attrs(json!({"n": 99})), SaveMode::IfVersion(v1))
        .await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] stale version save gave {stale:?}",
        a.describe()
    );
    let got = must_get(a, &key).await;
    assert_eq!(
        got.attributes,
        attrs(json!({"n": 2})),
        "[{}] a failed save changed data",
        a.describe()
    );
    assert_eq!(got.version, v2);

    a.delete(&key).await.unwrap();
    let vanished = a
        .save(&key, &attrs(json!({"n": 3})), SaveMode::IfVersion(v2))
        .await;
    assert!(
        matches!(vanished, Err(Error::Conflict { .. })),
        "[{}] IfVersion on a deleted key gave {vanished:?}",
        a.describe()
    );
    assert!(
        a.get(&key).await.unwrap().is_none(),
        "[{}] a failed IfVersion save created the key",
        a.describe()
    );
}

/// `CreateOnly` writes an absent key once; the second is a typed conflict.
pub async fn create_only(a: &dyn PersistenceAdapter) {
    let key = unique_key("create-only");
    a.save(&key, &attrs(json!({"first": true})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let second = a
        .save(&key, &attrs(json!({"second": true})), SaveMode::CreateOnly)
        .await;
    assert!(
        matches!(second, Err(Error::Conflict { .. })),
        "[{}] second CreateOnly gave {second:?}",
        a.describe()
    );
    assert_eq!(
        must_get(a, &key).await.attributes,
        attrs(json!({"first": true}))
    );
}

/// Two adapter instances over the same storage (two Lambda containers): a version read through
/// one is honoured by the other.
pub async fn versions_across_instances(a: &dyn PersistenceAdapter, b: &dyn PersistenceAdapter) {
    let key = unique_key("two-instances");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let seen_by_a = must_get(a, &key).await;
    let seen_by_b = must_get(b, &key).await;
    assert_eq!(seen_by_a, seen_by_b, "instances disagree on what is stored");
    b.save(
        &key,
        &attrs(json!({"n": 2, "by": "b"})),
        SaveMode::IfVersion(seen_by_b.version),
    )
    .await
    .unwrap();
    let lost = a
        .save(
            &key,
            &attrs(json!({"n": 2, "by": "a"})),
            SaveMode::IfVersion(seen_by_a.version),
        )
        .await;
    assert!(
        matches!(lost, Err(Error::Conflict { .. })),
        "[{}] stale write through the other instance gave {lost:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["by"], "b");
}

/// A version names one write: a key deleted and created again, even with the same content,
/// gets a new version, and a save conditional on the old one is a conflict that changes nothing
/// (the "start over on another device" case: the stale turn must not bring back discarded data).
pub async fn versions_never_repeat(a: &dyn PersistenceAdapter) {
    let key = unique_key("never-repeat");
    let progress = attrs(json!({"level": 5, "coins": 120}));
    let v1 = a.save(&key, &progress, SaveMode::CreateOnly).await.unwrap();
    let read_by_stale_turn = must_get(a, &key).await;
    assert_eq!(read_by_stale_turn.version, v1);

    // Another device: "start over", then the same content is written again.
    a.delete(&key).await.unwrap();
    let v2 = a.save(&key, &progress, SaveMode::CreateOnly).await.unwrap();
    assert_ne!(
        v1,
        v2,
        "[{}] a key deleted and created again got its old version back",
        a.describe()
    );
    // And an unconditional rewrite of identical content is a new write too.
    let v3 = a.save(&key, &progress, SaveMode::Overwrite).await.unwrap();
    assert_ne!(
        v2,
        v3,
        "[{}] rewriting identical content kept the version",
        a.describe()
    );

    let stale = a
        .save(
            &key,
            &attrs(json!({"level": 6, "coins": 125})),
            SaveMode::IfVersion(read_by_stale_turn.version),
        )
        .await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] a save conditional on a version from before the delete gave {stale:?}",
        a.describe()
    );
    let now = must_get(a, &key).await;
    assert_eq!(
        now.attributes,
        progress,
        "[{}] the stale save changed data",
        a.describe()
    );
    assert_eq!(now.version, v3);
}

/// A delete and re-creation with different content between a read and a save: the save is a
/// conflict.
pub async fn stale_save_after_delete_and_recreate(a: &dyn PersistenceAdapter) {
    let key = unique_key("recreated");
    a.save(&key, &attrs(json!({"streak": 9})), SaveMode::Overwrite)
        .await
        .unwrap();
    let stale = must_get(a, &key).await;
    a.delete(&key).await.unwrap();
    a.save(&key, &attrs(json!({"streak": 0})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let r = a
        .save(
            &key,
            &attrs(json!({"streak": 10})),
            SaveMode::IfVersion(stale.version),
        )
        .await;
    assert!(
        matches!(r, Err(Error::Conflict { .. })),
        "[{}] stale save over a re-created key gave {r:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["streak"], 0);
}

/// A conditional save whose answer was lost (it committed, the caller saw an error) and that is
/// made again with the same write token is recognised as the same write: it returns the version
/// it made, not a conflict, and writes nothing. That holds even after other writers saved on
/// top of it (up to [`RECENT_TOKENS`](crate::RECENT_TOKENS) writes): "recognises its own
/// write" must not depend on nobody else writing, or `update()` would apply a change twice.
pub async fn lost_response_retry_is_recognised(a: &dyn PersistenceAdapter) {
    let key = unique_key("lost-response");
    let v0 = a
        .save(&key, &attrs(json!({"credits": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let token = crate::unique_token();
    let credited = attrs(json!({"credits": 2}));
    let opts = SaveOptions::new(SaveMode::IfVersion(v0)).token(token.clone());
    let v1 = a.save_with(&key, &credited, &opts).await.unwrap();
    // The answer is lost; the same request is made again.
    let again = a.save_with(&key, &credited, &opts).await;
    assert_eq!(
        again.as_ref().ok(),
        Some(&v1),
        "[{}] a retried save that had committed gave {again:?}",
        a.describe()
    );
    let stored = must_get(a, &key).await;
    assert_eq!(stored.attributes, credited);
    assert_eq!(stored.version, v1);

    // Create-only too.
    let fresh = unique_key("lost-create");
    let create = SaveOptions::new(SaveMode::CreateOnly).token(crate::unique_token());
    let c1 = a.save_with(&fresh, &credited, &create).await.unwrap();
    let c2 = a.save_with(&fresh, &credited, &create).await;
    assert_eq!(
        c2.as_ref().ok(),
        Some(&c1),
        "[{}] retried create gave {c2:?}",
        a.describe()
    );

    // Others write on top of it before the retry arrives: still recognised, and the retry
    // writes nothing (their writes stay).
    let mut version = v1.clone();
    for credits in 3..3 + crate::RECENT_TOKENS as u64 - 1 {
        version = a
            .save(
                &key,
                &attrs(json!({ "credits": credits })),
                SaveMode::IfVersion(version),
            )
            .await
            .unwrap();
    }
    let late = a.save_with(&key, &credited, &opts).await;
    assert_eq!(
        late.as_ref().ok(),
        Some(&v1),
        "[{}] a retry after {} other writes gave {late:?}",
        a.describe(),
        crate::RECENT_TOKENS - 1
    );
    let now = must_get(a, &key).await;
    assert_eq!(
        now.version,
        version,
        "[{}] the retry wrote again",
        a.describe()
    );
    assert_eq!(now.attributes["credits"], 1 + crate::RECENT_TOKENS as u64);
    let late_create = a.save_with(&fresh, &credited, &create).await;
    assert_eq!(late_create.as_ref().ok(), Some(&c1));

    // A different write (a new token) against the same stale version is a conflict.
    let stale = a
        .save(&key, &credited, SaveMode::IfVersion(v1.clone()))
        .await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] a stale save with a new token gave {stale:?}",
        a.describe()
    );
}

/// Write tokens that do not have [`unique_token`](crate::unique_token)'s shape are refused as
/// [`Error::InvalidVersion`] before anything is written, by every backend alike.
pub async fn malformed_tokens_are_refused(a: &dyn PersistenceAdapter) {
    let key = unique_key("bad-token");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    for bad in [
        "",
        "7",
        "not a token",
        "ABCDEF0123456789ABCDEF0123456789",
        "0123456789abcdef0123456789abcdef0",
    ] {
        let opts = SaveOptions::new(SaveMode::Overwrite).token(bad);
        let r = a.save_with(&key, &attrs(json!({"n": 2})), &opts).await;
        assert!(
            matches!(r, Err(Error::InvalidVersion { .. })),
            "[{}] token {bad:?} gave {r:?}",
            a.describe()
        );
    }
    assert_eq!(must_get(a, &key).await.attributes["n"], 1);
}

/// [`PersistenceAdapter::delete_if`]: a stale version is a conflict that deletes nothing; the
/// current version deletes; a key already gone is fine.
pub async fn conditional_delete(a: &dyn PersistenceAdapter) {
    let key = unique_key("delete-if");
    let v1 = a
        .save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let v2 = a
        .save(
            &key,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(v1.clone()),
        )
        .await
        .unwrap();
    let stale = a.delete_if(&key, &v1).await;
    assert!(
        matches!(stale, Err(Error::Conflict { .. })),
        "[{}] delete_if with a stale version gave {stale:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["n"], 2);
    a.delete_if(&key, &v2)
        .await
        .unwrap_or_else(|e| panic!("[{}] delete_if at the current version: {e}", a.describe()));
    assert!(a.get(&key).await.unwrap().is_none());
    a.delete_if(&key, &v2)
        .await
        .unwrap_or_else(|e| panic!("[{}] delete_if of a key already gone: {e}", a.describe()));
}

/// Text that is not a version of this store is refused as [`Error::InvalidVersion`] by
/// conditional saves and deletes, and nothing is written.
pub async fn invalid_versions(a: &dyn PersistenceAdapter) {
    let key = unique_key("bad-version");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let bogus = Version::new("not a version \" \u{1}");
    let s = a
        .save(
            &key,
            &attrs(json!({"n": 2})),
            SaveMode::IfVersion(bogus.clone()),
        )
        .await;
    assert!(
        matches!(s, Err(Error::InvalidVersion { .. })),
        "[{}] save with a bogus version gave {s:?}",
        a.describe()
    );
    let d = a.delete_if(&key, &bogus).await;
    assert!(
        matches!(d, Err(Error::InvalidVersion { .. })),
        "[{}] delete_if with a bogus version gave {d:?}",
        a.describe()
    );
    assert_eq!(must_get(a, &key).await.attributes["n"], 1);
}
