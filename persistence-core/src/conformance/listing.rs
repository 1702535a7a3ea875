//! Listing keys and entries.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use futures::StreamExt;
use serde_json::json;

use super::{attrs, must_get, unique_key};
use crate::{Entry, ListOptions, PersistenceAdapter, SaveMode};

pub(crate) async fn collect_keys(a: &dyn PersistenceAdapter, options: &ListOptions) -> Vec<String> {
    let mut pages = a.list_keys(options);
    let mut keys = Vec::new();
    while let Some(page) = pages.next().await {
        keys.extend(page.unwrap_or_else(|e| panic!("[{}] listing failed: {e}", a.describe())));
    }
    keys
}

pub(crate) async fn collect_entries(
    a: &dyn PersistenceAdapter,
    options: &ListOptions,
) -> Vec<Entry> {
    let mut pages = a.entries(options);
    let mut entries = Vec::new();
    while let Some(page) = pages.next().await {
        entries.extend(page.unwrap_or_else(|e| panic!("[{}] listing failed: {e}", a.describe())));
    }
    entries
}

/// Listing: every key under a prefix, each once, across pages, and nothing else; entries carry
/// what `get` reads; a deleted key is gone.
pub async fn listing(a: &dyn PersistenceAdapter) {
    let prefix = unique_key("list");
    let mut expected = std::collections::BTreeMap::new();
    for i in 0..23 {
        let key = format!("{prefix}/user-{i:02}");
        let v = a
            .save(
                &key,
                &attrs(json!({"i": i, "name": format!("ü{i}")})),
                SaveMode::Overwrite,
            )
            .await
            .unwrap();
        expected.insert(key, v);
    }
    // A key that only shares part of the prefix must not be listed.
    let outside = format!("{prefix}x");
    a.save(&outside, &attrs(json!({"i": -1})), SaveMode::Overwrite)
        .await
        .unwrap();
    let opts = ListOptions::default()
        .prefix(format!("{prefix}/"))
        .page_size(5);

    let mut keys = collect_keys(a, &opts).await;
    keys.sort();
    let want: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(keys, want, "[{}] list_keys", a.describe());

    let entries = collect_entries(a, &opts).await;
    assert_eq!(
        entries.len(),
        expected.len(),
        "[{}] entries count",
        a.describe()
    );
    for e in &entries {
        let got = must_get(a, &e.key).await;
        assert_eq!(
            e.stored.attributes,
            got.attributes,
            "[{}] entry attributes",
            a.describe()
        );
        assert_eq!(
            Some(&e.stored.version),
            expected.get(&e.key),
            "[{}] entry version",
            a.describe()
        );
    }

    let gone = format!("{prefix}/user-07");
    a.delete(&gone).await.unwrap();
    let keys = collect_keys(a, &opts).await;
    assert!(
        !keys.contains(&gone),
        "[{}] a deleted key is still listed",
        a.describe()
    );
    assert_eq!(keys.len(), expected.len() - 1);
}

/// An entry whose stored data cannot be read does not end a listing (see [`crate::listing`]):
/// `entries` yields every good entry and, for each entry `corrupt` broke, one
/// [`Error::CorruptData`](crate::Error::CorruptData) item of its own, across pages; `list_keys`
/// still lists every key.
///
/// Not part of [`run_all`](super::run_all): `corrupt(key)` must damage what the backend stores
/// under `key` behind the adapter's back (each backend's tests know how).
pub async fn listing_goes_past_unreadable_entries<F, Fut>(a: &dyn PersistenceAdapter, corrupt: F)
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let prefix = unique_key("stray");
    let keys: Vec<String> = (0..10).map(|i| format!("{prefix}/user-{i:02}")).collect();
    for (i, key) in keys.iter().enumerate() {
        a.save(key, &attrs(json!({"i": i})), SaveMode::Overwrite)
            .await
            .unwrap();
    }
    let broken = [keys[0].clone(), keys[4].clone(), keys[9].clone()];
    for key in &broken {
        corrupt(key.clone()).await;
    }
    let opts = ListOptions::default()
        .prefix(format!("{prefix}/"))
        .page_size(3);
    let mut pages = a.entries(&opts);
    let (mut good, mut errors) = (Vec::new(), 0);
    while let Some(page) = pages.next().await {
        match page {
            Ok(entries) => good.extend(entries.into_iter().map(|e| e.key)),
            Err(e) if e.is_entry_error() => errors += 1,
            Err(e) => panic!(
                "[{}] a listing ended at an unreadable entry: {e}",
                a.describe()
            ),
        }
    }
    good.sort();
    let want: Vec<String> = keys
        .iter()
        .filter(|k| !broken.contains(k))
        .cloned()
        .collect();
    assert_eq!(
        good,
        want,
        "[{}] entries past unreadable ones",
        a.describe()
    );
    assert_eq!(
        errors,
        broken.len(),
        "[{}] one error per unreadable entry",
        a.describe()
    );
    let mut listed = collect_keys(a, &opts).await;
    listed.sort();
    assert_eq!(listed, keys, "[{}] list_keys", a.describe());
}
