//! The whole conformance suite against the file backend, plus what is specific to files.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use futures::StreamExt;
use persistence_core::{
    Attributes, Entry, Error, ListOptions, Pages, PersistenceAdapter, Result, SaveMode,
    SaveOptions, Stored, Version, async_trait, conformance,
};
use persistence_file::{FileAdapter, MAX_KEY_BYTES, encode_key};
use serde_json::json;

/// A file adapter that owns its temporary directory (removed when the last clone is dropped).
#[derive(Debug, Clone)]
struct InTempDir {
    adapter: FileAdapter,
    _dir: Arc<tempfile::TempDir>,
}

impl InTempDir {
    fn new(setup: &conformance::Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut adapter = FileAdapter::create(dir.path().join("store"))
            .unwrap()
            .with_clock(Arc::new(setup.clock.clone()));
        if let Some(d) = setup.default_expiry {
            adapter = adapter.with_default_expiry(d);
        }
        Self {
            adapter,
            _dir: Arc::new(dir),
        }
    }
}

#[async_trait]
impl PersistenceAdapter for InTempDir {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        self.adapter.get(key).await
    }
    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        self.adapter.save_with(key, attributes, options).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.adapter.delete(key).await
    }
    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        self.adapter.delete_if(key, expected).await
    }
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.adapter.list_keys(options)
    }
    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.adapter.entries(options)
    }
    fn describe(&self) -> String {
        self.adapter.describe()
    }
}

persistence_core::conformance_tests!(setup => async {
    Some((Arc::new(InTempDir::new(&setup)) as Arc<dyn PersistenceAdapter>, MAX_KEY_BYTES))
});

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_adapters_on_one_directory_behave_as_two_instances() {
    let a = InTempDir::new(&conformance::Setup::default());
    let b = FileAdapter::open(a.adapter.root()).unwrap();
    conformance::versions_across_instances(&a, &b).await;
    let report = conformance::update_contention(&[Arc::new(a), Arc::new(b)], 16, 10).await;
    eprintln!("{report}");
}

#[tokio::test]
async fn files_hold_the_key_version_expiry_and_attributes_as_json() {
    let s = InTempDir::new(&conformance::Setup::default());
    let key = "amzn1.ask.account.AEXAMPLE";
    let stored =
        persistence_core::exact::ExactValue::parse_json(r#"{"n": 0.6666666666666666666666666667}"#)
            .unwrap();
    let persistence_core::exact::ExactValue::Map(stored) = stored else {
        unreachable!()
    };
    let v = s
        .save(
            key,
            &Attributes::from_exact(stored).unwrap(),
            SaveMode::CreateOnly,
        )
        .await
        .unwrap();
    let path = s
        .adapter
        .root()
        .join("amzn1.ask.account._a_e_x_a_m_p_l_e.json");
    assert_eq!(s.adapter.path_of(key).unwrap(), path);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        format!(
            r#"{{"key":"amzn1.ask.account.AEXAMPLE","version":"{v}","recent_tokens":["{v}"],"attributes":{{"n":0.6666666666666666666666666667}}}}"#,
            v = v.as_str()
        )
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(s.adapter.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with('~'))
        .collect();
    assert_eq!(names, vec![encode_key(key)]);
}

#[tokio::test]
async fn long_and_odd_keys_are_stored_listed_and_deleted() {
    let s = InTempDir::new(&conformance::Setup::default());
    let keys = [
        "É".repeat(MAX_KEY_BYTES / 2),
        "../../etc/passwd".to_owned(),
        "~locks".to_owned(),
        "a/b/c".to_owned(),
        ".".to_owned(),
        "CON".to_owned(),
    ];
    for (i, k) in keys.iter().enumerate() {
        s.save(k, &attrs(json!({"i": i})), SaveMode::CreateOnly)
            .await
            .unwrap_or_else(|e| panic!("{k:?}: {e}"));
    }
    // Nothing was written outside the directory.
    assert!(!s.adapter.root().parent().unwrap().join("etc").exists());
    let mut listed = Vec::new();
    let mut pages = s.list_keys(&ListOptions::default().page_size(2));
    while let Some(p) = pages.next().await {
        listed.extend(p.unwrap());
    }
    listed.sort();
    let mut want = keys.to_vec();
    want.sort();
    assert_eq!(listed, want);
    for k in &keys {
        s.delete(k).await.unwrap();
    }
    // The directories made for the long key are gone with it.
    let left: Vec<_> = std::fs::read_dir(s.adapter.root())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| !n.to_string_lossy().starts_with('~'))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn corrupt_and_foreign_files_are_typed_errors_and_an_overwrite_repairs() {
    let s = InTempDir::new(&conformance::Setup::default());
    let root = s.adapter.root().to_owned();
    std::fs::write(root.join("broken.json"), b"{not json").unwrap();
    std::fs::write(root.join("README.txt"), b"not a key").unwrap();
    std::fs::write(root.join("Upper.json"), b"{}").unwrap();
    let got = s.get("broken").await;
    assert!(matches!(got, Err(Error::CorruptData { .. })), "{got:?}");
    // Another key's record under this name.
    s.save("other", &attrs(json!({})), SaveMode::Overwrite)
        .await
        .unwrap();
    std::fs::copy(root.join("other.json"), root.join("moved.json")).unwrap();
    assert!(matches!(
        s.get("moved").await,
        Err(Error::CorruptData { .. })
    ));
    // Create-only does not replace what it cannot read; an overwrite does.
    let c = s
        .save("broken", &attrs(json!({"ok": 1})), SaveMode::CreateOnly)
        .await;
    assert!(matches!(c, Err(Error::Conflict { .. })), "{c:?}");
    s.save("broken", &attrs(json!({"ok": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(s.get("broken").await.unwrap().unwrap().attributes["ok"], 1);
    // Foreign names are not listed.
    let mut keys = Vec::new();
    let mut pages = s.list_keys(&ListOptions::default());
    while let Some(p) = pages.next().await {
        keys.extend(p.unwrap());
    }
    keys.sort();
    assert_eq!(keys, vec!["broken", "moved", "other"]);
}

#[tokio::test]
async fn a_missing_directory_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope");
    assert!(matches!(
        FileAdapter::open(&missing),
        Err(Error::NotFound { .. })
    ));
    let s = FileAdapter::create(&missing).unwrap();
    std::fs::remove_dir_all(&missing).unwrap();
    let mut pages = s.list_keys(&ListOptions::default());
    let first = pages.next().await;
    assert!(
        matches!(first, Some(Err(Error::NotFound { .. }))),
        "{first:?}"
    );
    let saved = s.save("k", &attrs(json!({})), SaveMode::Overwrite).await;
    assert!(matches!(saved, Err(Error::NotFound { .. })), "{saved:?}");
}

#[tokio::test]
async fn a_listing_goes_past_files_it_cannot_read() {
    let s = InTempDir::new(&conformance::Setup::default());
    let store = &s.adapter;
    conformance::listing_goes_past_unreadable_entries(store, |key| {
        let path = store.path_of(&key).unwrap();
        async move { std::fs::write(path, b"{not json").unwrap() }
    })
    .await;
}
