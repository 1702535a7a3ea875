//! Expiry on an injected clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use serde_json::{Value, json};

use super::listing::collect_entries;
use super::{attrs, must_get, unique_key};
use crate::{
    Clock, Expiry, ListOptions, ManualClock, PersistenceAdapter, PersistenceAdapterExt, SaveMode,
    SaveOptions,
};

/// Expiry with the setup's clock: attributes saved to expire read as absent once the clock
/// passes their time, are left out of entries (unless asked for), and a create-only save over
/// them succeeds; `Expiry::Never` keeps attributes; update() starts afresh over expired data.
pub async fn expiry(a: &dyn PersistenceAdapter, clock: &ManualClock) {
    let key = unique_key("expiry");
    let minute = Duration::from_secs(60);
    let opts = SaveOptions::new(SaveMode::CreateOnly).expiry(Expiry::After(minute));
    a.save_with(&key, &attrs(json!({"order": "latte"})), &opts)
        .await
        .unwrap();
    let got = must_get(a, &key).await;
    let at = got
        .expires_at
        .unwrap_or_else(|| panic!("[{}] no expiry read back", a.describe()));
    let expected = clock.now() + minute;
    let diff = at.duration_since(expected).unwrap_or_else(|e| e.duration());
    assert!(
        diff <= Duration::from_secs(1),
        "[{}] expiry {at:?}, wanted {expected:?}",
        a.describe()
    );

    let keep = unique_key("expiry-never");
    a.save_with(
        &keep,
        &attrs(json!({"order": "tea"})),
        &SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::Never),
    )
    .await
    .unwrap();

    clock.advance(Duration::from_secs(58));
    assert!(
        a.get(&key).await.unwrap().is_some(),
        "[{}] expired early",
        a.describe()
    );
    clock.advance(Duration::from_secs(3));
    let after = a.get(&key).await.unwrap();
    assert!(
        after.is_none(),
        "[{}] expired attributes still read: {after:?}",
        a.describe()
    );
    assert!(
        a.get(&keep).await.unwrap().is_some(),
        "[{}] Expiry::Never expired",
        a.describe()
    );

    // Left out of entries, unless asked for.
    let only = ListOptions::default().prefix(key.clone());
    assert!(
        collect_entries(a, &only).await.is_empty(),
        "[{}] expired entry listed",
        a.describe()
    );
    let with_expired = collect_entries(a, &only.clone().include_expired(true)).await;
    assert_eq!(with_expired.len(), 1, "[{}] include_expired", a.describe());
    assert!(with_expired[0].stored.expires_at.is_some());

    // A save over expired attributes behaves as over an absent key.
    let v = a
        .save(
            &key,
            &attrs(json!({"order": "mocha"})),
            SaveMode::CreateOnly,
        )
        .await
        .unwrap_or_else(|e| panic!("[{}] create-only over expired: {e}", a.describe()));
    let now = must_get(a, &key).await;
    assert_eq!(now.version, v);
    assert_eq!(now.attributes, attrs(json!({"order": "mocha"})));
    assert_eq!(
        now.expires_at,
        None,
        "[{}] the new save kept the old expiry",
        a.describe()
    );

    // update() over expired data starts from empty attributes.
    let counter = unique_key("expiry-update");
    a.save_with(
        &counter,
        &attrs(json!({"n": 41})),
        &SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::After(minute)),
    )
    .await
    .unwrap();
    clock.advance(Duration::from_secs(61));
    let n = a
        .update(&counter, |attrs| {
            let n = attrs.get("n").and_then(Value::as_u64).unwrap_or(0) + 1;
            attrs.insert("n".into(), json!(n));
            n
        })
        .await
        .unwrap();
    assert_eq!(n, 1, "[{}] update() read expired data", a.describe());
}

/// An adapter built with a default expiry applies it to every save that does not override it,
/// and refreshes it on each save.
pub async fn default_expiry(a: &dyn PersistenceAdapter, clock: &ManualClock, default: Duration) {
    let key = unique_key("default-expiry");
    a.save(&key, &attrs(json!({"n": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let first = must_get(a, &key).await.expires_at;
    let want = clock.now() + default;
    let at =
        first.unwrap_or_else(|| panic!("[{}] the default expiry was not applied", a.describe()));
    assert!(
        at.duration_since(want).unwrap_or_else(|e| e.duration()) <= Duration::from_secs(1),
        "[{}] default expiry {at:?}, wanted {want:?}",
        a.describe()
    );
    clock.advance(default / 2);
    a.save(&key, &attrs(json!({"n": 2})), SaveMode::Overwrite)
        .await
        .unwrap();
    let refreshed = must_get(a, &key)
        .await
        .expires_at
        .unwrap_or_else(|| panic!("[{}] expiry lost", a.describe()));
    assert!(
        refreshed > at,
        "[{}] a save did not refresh the expiry",
        a.describe()
    );
    a.save_with(
        &key,
        &attrs(json!({"n": 3})),
        &SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::Never),
    )
    .await
    .unwrap();
    assert_eq!(
        must_get(a, &key).await.expires_at,
        None,
        "[{}] Expiry::Never kept an expiry",
        a.describe()
    );
}
