//! The bulk commands through the library, on the memory and file backends (no emulator).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use persistence_cli::checkpoint::{Checkpoint, Header};
use persistence_cli::copy::{Context, CopyOptions, copy, verify};
use persistence_cli::exit::Status;
use persistence_cli::maintain::{erase, purge_expired};
use persistence_cli::store::{Store, StoreUrl};
use persistence_cli::transfer::{ImportOptions, OnError, export, import};
use persistence_core::{
    Attributes, Entry, Error, Expiry, ListOptions, Pages, PersistenceAdapter, Result, SaveMode,
    SaveOptions, Stored, Version, async_trait,
};
use persistence_file::FileAdapter;
use persistence_memory::MemoryAdapter;
use serde_json::json;

fn attrs(v: serde_json::Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

fn memory_store(m: &MemoryAdapter) -> Store {
    Store {
        url: StoreUrl::Memory,
        adapter: Arc::new(m.clone()),
    }
}

fn seeded(n: usize) -> MemoryAdapter {
    let m = MemoryAdapter::new();
    for i in 0..n {
        m.seed(
            format!("user-{i:03}"),
            attrs(json!({"i": i, "name": format!("ü{i}")})),
        );
    }
    m
}

#[tokio::test]
async fn copy_is_create_only_reports_differences_and_overwrites_on_request() {
    let src = seeded(50);
    let dst = MemoryAdapter::new();
    dst.seed("user-001", attrs(json!({"i": 1, "name": "ü1"}))); // identical
    dst.seed("user-002", attrs(json!({"i": "changed"}))); // different
    let ctx = Context::default();
    let (s, d) = (memory_store(&src), memory_store(&dst));

    let dry = copy(
        &s,
        &d,
        &CopyOptions {
            dry_run: true,
            ..CopyOptions::default()
        },
        &ctx,
    )
    .await
    .unwrap();
    assert_eq!((dry.copied, dry.identical, dry.different), (48, 1, 1));
    assert_eq!(dst.len(), 2, "a dry run writes nothing");

    let r = copy(
        &s,
        &d,
        &CopyOptions {
            verify: true,
            ..CopyOptions::default()
        },
        &ctx,
    )
    .await
    .unwrap();
    assert_eq!(
        (r.copied, r.identical, r.different, r.failed),
        (48, 1, 1, 0)
    );
    assert_eq!(r.status(), Status::Partial);
    assert_eq!(
        dst.attributes("user-002").unwrap(),
        attrs(json!({"i": "changed"})),
        "left alone"
    );
    let v = r.verify.unwrap();
    assert_eq!(
        (v.source_keys, v.missing, v.different, v.extra),
        (50, 0, 1, 0)
    );
    assert!(
        !v.problems[0].key.contains("user-002"),
        "keys are redacted: {:?}",
        v.problems
    );

    let r = copy(
        &s,
        &d,
        &CopyOptions {
            overwrite: true,
            verify: true,
            ..CopyOptions::default()
        },
        &ctx,
    )
    .await
    .unwrap();
    assert_eq!((r.copied, r.identical, r.replaced), (0, 49, 1));
    assert_eq!(r.status(), Status::Ok);
    assert!(r.verify.unwrap().equal());
}

#[tokio::test]
async fn verify_finds_extra_keys_in_the_destination() {
    let src = seeded(10);
    let dst = seeded(10);
    dst.seed("intruder", attrs(json!({})));
    let ctx = Context {
        keys: persistence_cli::output::Keys { show: true },
        ..Context::default()
    };
    let v = verify(&memory_store(&src), &memory_store(&dst), None, 4, &ctx)
        .await
        .unwrap();
    assert_eq!((v.missing, v.different, v.extra), (0, 0, 1));
    assert_eq!(v.problems[0].key, "intruder", "--show-keys shows keys");
    assert_eq!(v.status(), Status::Partial);
    let v = verify(
        &memory_store(&src),
        &memory_store(&dst),
        Some("user-"),
        4,
        &ctx,
    )
    .await
    .unwrap();
    assert!(v.equal(), "the prefix leaves the intruder out");
}

#[tokio::test]
async fn a_resumed_copy_skips_recorded_keys_without_reading_or_writing_them() {
    let tmp = tempfile::tempdir().unwrap();
    let cp_path = tmp.path().join("cp");
    let src = seeded(30);
    let dst = MemoryAdapter::new();
    let (s, d) = (memory_store(&src), memory_store(&dst));
    // An earlier run finished keys 0..10 (recorded), then died.
    let header = Header::new("memory:", "memory:", None);
    let mut cp = Checkpoint::create(&cp_path, &header).unwrap();
    for i in 0..10 {
        cp.record(&format!("user-{i:03}")).unwrap();
    }
    cp.sync().unwrap();
    drop(cp);
    let options = CopyOptions {
        checkpoint: Some(cp_path.clone()),
        resume: true,
        ..CopyOptions::default()
    };
    let r = copy(&s, &d, &options, &Context::default()).await.unwrap();
    assert_eq!((r.resumed, r.copied), (10, 20));
    // Recorded keys are trusted: not read, not written.
    assert!(dst.attributes("user-000").is_none());
    assert!(dst.attributes("user-010").is_some());
    assert!(!cp_path.exists(), "complete: the checkpoint is removed");

    // Without --resume an existing checkpoint is refused.
    Checkpoint::create(&cp_path, &header).unwrap();
    let options = CopyOptions {
        checkpoint: Some(cp_path.clone()),
        ..CopyOptions::default()
    };
    let e = copy(&s, &d, &options, &Context::default())
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Usage);
}

#[tokio::test]
async fn a_cancelled_copy_keeps_its_checkpoint_and_finishes_on_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let cp_path = tmp.path().join("cp");
    let src = seeded(200);
    let dst = MemoryAdapter::new();
    let (s, d) = (memory_store(&src), memory_store(&dst));
    let ctx = Context::default();
    ctx.cancel.cancel(); // Ctrl-C before anything is read
    let options = CopyOptions {
        checkpoint: Some(cp_path.clone()),
        ..CopyOptions::default()
    };
    let r = copy(&s, &d, &options, &ctx).await.unwrap();
    assert!(r.interrupted);
    assert_eq!(r.status(), Status::Interrupted);
    assert!(cp_path.exists());
    let options = CopyOptions {
        resume: true,
        verify: true,
        ..options
    };
    let r = copy(&s, &d, &options, &Context::default()).await.unwrap();
    assert_eq!(r.copied, 200);
    assert!(r.verify.unwrap().equal());
}

#[tokio::test]
async fn copy_keeps_expiry_and_leaves_expired_keys() {
    let src = MemoryAdapter::new();
    let past = SystemTime::now() - Duration::from_secs(60);
    let future = SystemTime::now() + Duration::from_secs(3600);
    for (k, exp) in [
        ("gone", Expiry::At(past)),
        ("later", Expiry::At(future)),
        ("never", Expiry::Never),
    ] {
        src.save_with(
            k,
            &attrs(json!({})),
            &SaveOptions::new(SaveMode::CreateOnly).expiry(exp),
        )
        .await
        .unwrap();
    }
    let tmp = tempfile::tempdir().unwrap();
    let files = FileAdapter::create(tmp.path().join("d")).unwrap();
    let d = Store {
        url: StoreUrl::File(tmp.path().join("d")),
        adapter: Arc::new(files.clone()),
    };
    let r = copy(
        &memory_store(&src),
        &d,
        &CopyOptions::default(),
        &Context::default(),
    )
    .await
    .unwrap();
    assert_eq!(r.copied, 2);
    assert!(files.get("gone").await.unwrap().is_none());
    let later = files.get("later").await.unwrap().unwrap();
    assert_eq!(
        later.expires_at.map(persistence_core::clock::epoch_seconds),
        Some(persistence_core::clock::epoch_seconds(future))
    );
    assert_eq!(files.get("never").await.unwrap().unwrap().expires_at, None);

    // purge-expired deletes the expired one only.
    let p = purge_expired(&memory_store(&src), None, false, 4, &Context::default())
        .await
        .unwrap();
    assert_eq!((p.scanned, p.expired, p.deleted), (3, 1, 1));
    assert_eq!(src.len(), 2);
}

fn exact_attrs(text: &str) -> Attributes {
    let persistence_core::exact::ExactValue::Map(map) =
        persistence_core::exact::ExactValue::parse_json(text).unwrap()
    else {
        panic!("not an object")
    };
    Attributes::from_exact(map).unwrap()
}

#[tokio::test]
async fn export_and_import_round_trip_and_bad_lines_are_numbered() {
    let tmp = tempfile::tempdir().unwrap();
    let src = seeded(25);
    src.seed(
        "decimal",
        exact_attrs(r#"{"d": 0.6666666666666666666666666667}"#),
    );
    let ctx = Context::default();
    let file = tmp.path().join("out.jsonl");
    let e = export(&memory_store(&src), &file, None, 8, &ctx)
        .await
        .unwrap();
    assert_eq!(e.keys, 26);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("0.6666666666666666666666666667"));
    let dst = MemoryAdapter::new();
    let opts = ImportOptions {
        overwrite: false,
        on_error: OnError::Stop,
        concurrency: 8,
    };
    let r = import(&file, &memory_store(&dst), &opts, &ctx)
        .await
        .unwrap();
    assert_eq!((r.imported, r.failed), (26, 0));
    assert_eq!(dst.snapshot(), src.snapshot());
    assert_eq!(
        dst.attributes("decimal")
            .unwrap()
            .exact("d")
            .unwrap()
            .to_json_text(),
        "0.6666666666666666666666666667"
    );

    let bad = tmp.path().join("bad.jsonl");
    std::fs::write(
        &bad,
        format!(
            "{}\n{{\"key\":\"x\"}}\n\n[]\n",
            text.lines().next().unwrap()
        ),
    )
    .unwrap();
    let fresh = MemoryAdapter::new();
    let e = import(&bad, &memory_store(&fresh), &opts, &ctx)
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Usage);
    assert!(
        e.message.contains("line 2") && e.message.contains("no `attributes`"),
        "{}",
        e.message
    );
    assert!(fresh.is_empty(), "nothing written when stopping");
    let skip = ImportOptions {
        on_error: OnError::Skip,
        ..opts
    };
    let r = import(&bad, &memory_store(&fresh), &skip, &ctx)
        .await
        .unwrap();
    assert_eq!((r.imported, r.failed, r.lines), (1, 2, 4));
    let lines: Vec<&str> = r.problems.iter().map(|p| p.key.as_str()).collect();
    assert!(
        lines.contains(&"line 2") && lines.contains(&"line 4"),
        "{lines:?}"
    );
    assert_eq!(r.status(), Status::Partial);
}

/// A store whose listing fails after its first page.
#[derive(Debug)]
struct Flaky(MemoryAdapter);

#[async_trait]
impl PersistenceAdapter for Flaky {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        self.0.get(key).await
    }
    async fn save_with(&self, key: &str, a: &Attributes, o: &SaveOptions) -> Result<Version> {
        self.0.save_with(key, a, o).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.0.delete(key).await
    }
    async fn delete_if(&self, key: &str, v: &Version) -> Result<()> {
        self.0.delete_if(key, v).await
    }
    fn list_keys<'a>(&'a self, o: &ListOptions) -> Pages<'a, String> {
        self.0.list_keys(o)
    }
    fn entries<'a>(&'a self, o: &ListOptions) -> Pages<'a, Entry> {
        self.0
            .entries(o)
            .take(1)
            .chain(futures::stream::once(async {
                Err(Error::backend(
                    "list",
                    "flaky",
                    "connection reset",
                    std::io::Error::other("reset"),
                ))
            }))
            .boxed()
    }
    fn describe(&self) -> String {
        "flaky".into()
    }
}

#[tokio::test]
async fn a_failed_export_leaves_no_file_and_a_failed_copy_keeps_its_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let flaky = Store {
        url: StoreUrl::Memory,
        adapter: Arc::new(Flaky(seeded(1200))),
    };
    let file = tmp.path().join("out.jsonl");
    let e = export(&flaky, &file, None, 4, &Context::default())
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Failed);
    assert!(e.message.contains("connection reset"), "{}", e.message);
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "no file, no temporary file: {left:?}");

    let cp = tmp.path().join("cp");
    let dst = MemoryAdapter::new();
    let options = CopyOptions {
        checkpoint: Some(cp.clone()),
        ..CopyOptions::default()
    };
    let e = copy(&flaky, &memory_store(&dst), &options, &Context::default())
        .await
        .unwrap_err();
    assert_eq!(e.status, Status::Failed);
    assert!(e.message.contains("--resume"), "{}", e.message);
    assert!(cp.exists());
    let recorded = std::fs::read_to_string(&cp).unwrap().lines().count() - 1;
    assert_eq!(recorded, dst.len(), "every key written is recorded");
}

#[tokio::test]
async fn erase_deletes_and_says_whether_something_was_there() {
    let m = seeded(3);
    let ctx = Context::default();
    let r = erase(&memory_store(&m), "user-001", &ctx).await.unwrap();
    assert!(r.existed);
    assert!(!r.key.contains("user-001"), "{}", r.key);
    assert!(m.attributes("user-001").is_none());
    let r = erase(&memory_store(&m), "user-001", &ctx).await.unwrap();
    assert!(!r.existed);
    // Expired remains are deleted too.
    m.save_with(
        "old",
        &attrs(json!({})),
        &SaveOptions::new(SaveMode::CreateOnly)
            .expiry(Expiry::At(SystemTime::now() - Duration::from_secs(5))),
    )
    .await
    .unwrap();
    assert_eq!(m.len(), 3);
    let r = erase(&memory_store(&m), "old", &ctx).await.unwrap();
    assert!(!r.existed);
    assert_eq!(m.len(), 2, "the expired entry is physically gone");
}
