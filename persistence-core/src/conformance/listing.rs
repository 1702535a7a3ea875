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
