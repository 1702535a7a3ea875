//! Issue 19 item 7: one stray object must not stop a bulk command. A store whose listing yields
//! per-entry errors between its pages (two names that are not keys, one entry that cannot be
//! read), as the S3 adapter does for a folder marker `prefix/a/`, `prefix/x//y` and a body that
//! is not JSON: every bulk command completes, skips and counts exactly those, names them
//! (redacted), and exits 1; a fatal error after them still stops the command.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::{StreamExt, stream};
use persistence_cli::copy::{Context, CopyOptions, copy, verify};
use persistence_cli::exit::Status;
use persistence_cli::maintain::purge_expired;
use persistence_cli::output::Keys;
use persistence_cli::store::{Store, StoreUrl};
use persistence_cli::transfer::export;
use persistence_core::{
    Attributes, Entry, Error, Expiry, ListOptions, Pages, PersistenceAdapter, RedactedKey, Result,
    SaveMode, SaveOptions, Stored, Version, async_trait,
};
use persistence_memory::MemoryAdapter;
use serde::Serialize;
use serde_json::{Value, json};

/// A key whose stored data cannot be read; its second half must never be shown redacted.
const CORRUPT: &str = "amzn1.ask.account.CORRUPTSECRETSECRETSECRET";
const USERS: usize = 1200;
const EXPIRED: usize = 5;

fn attrs(v: Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

fn not_a_key(name: &str) -> Error {
    Error::InvalidKey {
        key: RedactedKey::new(name),
        reason: "an S3 key may not have empty segments".into(),
    }
}

fn corrupt() -> Error {
    Error::corrupt("strays", CORRUPT, "not a JSON object")
}

/// A memory store whose listings yield, between pages, the names `a/` and `x//y` as
/// [`Error::InvalidKey`] and [`CORRUPT`] as unreadable (listed as a key by `list_keys`, an
/// [`Error::CorruptData`] item from `entries` and from `get`), then go on; with `fatal`, a
/// backend error ends the listing after them.
#[derive(Debug, Clone)]
struct Strays {
    inner: MemoryAdapter,
    fatal: bool,
}

impl Strays {
    fn listing<'a, T: Send + 'a>(
        &'a self,
        pages: Pages<'a, T>,
        unreadable: impl Fn() -> Result<Vec<T>> + Send + 'a,
    ) -> Pages<'a, T> {
        if self.fatal {
            let reset = Error::backend(
                "list",
                "strays",
                "connection reset",
                std::io::Error::other("reset"),
            );
            let after = vec![Err(not_a_key("a/")), unreadable(), Err(reset)];
            return pages.take(1).chain(stream::iter(after)).boxed();
        }
        pages
            .enumerate()
            .flat_map(move |(i, page)| {
                let mut items = vec![page];
                match i {
                    0 => items.push(Err(not_a_key("a/"))),
                    1 => items.extend([Err(not_a_key("x//y")), unreadable()]),
                    _ => {}
                }
                stream::iter(items)
            })
            .boxed()
    }
}

#[async_trait]
impl PersistenceAdapter for Strays {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        if key == CORRUPT {
            return Err(corrupt());
        }
        self.inner.get(key).await
    }
    async fn save_with(&self, key: &str, a: &Attributes, o: &SaveOptions) -> Result<Version> {
        self.inner.save_with(key, a, o).await
    }
    async fn delete(&self, key: &str) -> Result<()> {
        self.inner.delete(key).await
    }
    async fn delete_if(&self, key: &str, v: &Version) -> Result<()> {
        self.inner.delete_if(key, v).await
    }
    fn list_keys<'a>(&'a self, o: &ListOptions) -> Pages<'a, String> {
        self.listing(self.inner.list_keys(o), || Ok(vec![CORRUPT.to_owned()]))
    }
    fn entries<'a>(&'a self, o: &ListOptions) -> Pages<'a, Entry> {
        self.listing(self.inner.entries(o), || Err(corrupt()))
    }
    fn describe(&self) -> String {
        "strays".into()
    }
}

/// [`USERS`] live users and [`EXPIRED`] expired ones.
async fn users() -> MemoryAdapter {
    let m = MemoryAdapter::new();
    for i in 0..USERS {
        m.seed(format!("amzn1.ask.account.U{i:05}"), attrs(json!({"i": i})));
    }
    let past = SystemTime::now() - Duration::from_secs(60);
    for i in 0..EXPIRED {
        m.save_with(
            &format!("amzn1.ask.account.OLD{i}"),
            &attrs(json!({})),
            &SaveOptions::new(SaveMode::CreateOnly).expiry(Expiry::At(past)),
        )
        .await
        .unwrap();
    }
    m
}

/// The stray store under `url`: `memory:` reads entries in bulk, `s3://` lists keys and reads
/// each (the two ways the commands read a source).
async fn strays(url: &str, fatal: bool) -> (Store, MemoryAdapter) {
    let inner = users().await;
    let store = Store {
        url: StoreUrl::parse(url).unwrap(),
        adapter: Arc::new(Strays {
            inner: inner.clone(),
            fatal,
        }),
    };
    (store, inner)
}

fn memory(m: &MemoryAdapter) -> Store {
    Store {
        url: StoreUrl::Memory,
        adapter: Arc::new(m.clone()),
    }
}

/// The report as `--json` prints it.
fn json_of(report: &impl Serialize) -> Value {
    serde_json::to_value(report).unwrap()
}

/// `skipped`, `skipped_not_a_key`, `skipped_unreadable` of a `--json` report, and its names.
#[track_caller]
fn assert_skipped(report: &Value, what: &str, show: bool) {
    let n = |f: &str| report[f].as_u64();
    assert_eq!(
        (
            n("skipped"),
            n("skipped_not_a_key"),
            n("skipped_unreadable")
        ),
        (Some(3), Some(2), Some(1)),
        "{what}: {report}"
    );
    let entries = report["skipped_entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{what}: every skipped entry is named");
    let reasons: Vec<&str> = entries
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons.iter().filter(|r| **r == "not-a-key").count(),
        2,
        "{what}: {reasons:?}"
    );
    let text = report.to_string();
    assert_eq!(
        text.contains("SECRETSECRET"),
        show,
        "{what}: the unreadable key is redacted unless --show-keys and known: {text}"
    );
}

fn context(show: bool) -> Context {
    Context {
        keys: Keys { show },
        ..Context::default()
    }
}

#[tokio::test]
async fn export_skips_and_counts_what_is_not_a_key_or_unreadable() {
    for url in ["memory:", "s3://bucket/skills/cafe"] {
        let tmp = tempfile::tempdir().unwrap();
        let (src, _) = strays(url, false).await;
        let file = tmp.path().join("out.jsonl");
        let r = export(&src, &file, None, 8, &context(false))
            .await
            .unwrap_or_else(|e| panic!("{url}: export stopped: {}", e.message));
        assert_eq!(r.keys, USERS as u64, "{url}");
        assert_skipped(&json_of(&r), url, false);
        assert_eq!(r.status(), Status::Partial, "{url}");
        assert!(
            r.render()
                .contains("skipped 3 objects that are not keys / unreadable"),
            "{}",
            r.render()
        );
        let lines = std::fs::read_to_string(&file).unwrap().lines().count();
        assert_eq!(lines, USERS, "{url}: the file holds every real user");
    }
}

#[tokio::test]
async fn copy_skips_and_counts_and_copies_every_real_user() {
    for (url, show) in [("memory:", false), ("s3://bucket/skills/cafe", true)] {
        let tmp = tempfile::tempdir().unwrap();
        let (src, inner) = strays(url, false).await;
        let dst = MemoryAdapter::new();
        let checkpoint = tmp.path().join("cp");
        let options = CopyOptions {
            checkpoint: Some(checkpoint.clone()),
            verify: true,
            ..CopyOptions::default()
        };
        let r = copy(&src, &memory(&dst), &options, &context(show))
            .await
            .unwrap_or_else(|e| panic!("{url}: copy stopped: {}", e.message));
        assert_eq!((r.copied, r.failed), (USERS as u64, 0), "{url}");
        let report = json_of(&r);
        // The key is known in full only where the tool read it itself (keys listed, then read).
        assert_skipped(&report, url, show && url.starts_with("s3:"));
        assert_eq!(r.status(), Status::Partial, "{url}");
        assert!(
            r.render()
                .contains("skipped 3 objects that are not keys / unreadable")
        );
        assert!(
            !checkpoint.exists(),
            "{url}: skipped entries do not keep the checkpoint (a resume could not copy them)"
        );
        let live: Vec<String> = inner
            .snapshot()
            .into_keys()
            .filter(|k| !k.contains("OLD"))
            .collect();
        assert_eq!(dst.snapshot().into_keys().collect::<Vec<_>>(), live);
        // --verify compared every real user and skipped the same three.
        let v = &report["verify"];
        assert_eq!(
            (
                v["source_keys"].as_u64(),
                v["missing"].as_u64(),
                v["different"].as_u64(),
                v["extra"].as_u64()
            ),
            (Some(USERS as u64), Some(0), Some(0), Some(0)),
            "{url}: {v}"
        );
        assert_skipped(v, url, show && url.starts_with("s3:"));
    }
}

#[tokio::test]
async fn verify_skips_and_counts_on_either_side() {
    for url in ["memory:", "s3://bucket/skills/cafe"] {
        let (strays, inner) = strays(url, false).await;
        let clean = MemoryAdapter::new();
        for (k, a) in inner.snapshot() {
            if !k.contains("OLD") {
                clean.seed(k, a);
            }
        }
        let ctx = context(false);
        for (src, dst, side) in [
            (&strays, &memory(&clean), "source"),
            (&memory(&clean), &strays, "destination"),
        ] {
            let v = verify(src, dst, None, 8, &ctx)
                .await
                .unwrap_or_else(|e| panic!("{url}, strays in the {side}: {}", e.message));
            let report = json_of(&v);
            assert_eq!(
                (v.source_keys, v.missing, v.different, v.extra),
                (USERS as u64, 0, 0, 0),
                "{url}, strays in the {side}: {report}"
            );
            assert_skipped(&report, side, false);
            assert_eq!(v.status(), Status::Partial, "{url} {side}");
            let named = report["skipped_entries"][0]["detail"].as_str().unwrap();
            assert!(named.starts_with(&format!("in the {side}: ")), "{named}");
        }
    }
}

#[tokio::test]
async fn purge_expired_skips_and_counts_and_deletes_every_expired_user() {
    let (src, inner) = strays("s3://bucket/skills/cafe", false).await;
    let dry = purge_expired(&src, None, true, 8, &context(false))
        .await
        .unwrap_or_else(|e| panic!("dry run stopped: {}", e.message));
    assert_eq!(dry.expired, EXPIRED as u64);
    assert_skipped(&json_of(&dry), "dry run", false);
    let r = purge_expired(&src, None, false, 8, &context(false))
        .await
        .unwrap_or_else(|e| panic!("purge stopped: {}", e.message));
    assert_eq!(
        (r.scanned, r.deleted, r.failed),
        ((USERS + EXPIRED) as u64, EXPIRED as u64, 0)
    );
    assert_skipped(&json_of(&r), "purge", false);
    assert_eq!(r.status(), Status::Partial);
    assert!(
        r.render()
            .contains("skipped 3 objects that are not keys / unreadable")
    );
    assert_eq!(
        inner.len(),
        USERS,
        "every expired user deleted, nobody else"
    );
}

#[tokio::test]
async fn ls_skips_and_counts_names_that_are_not_keys() {
    let (src, _) = strays("s3://bucket/skills/cafe", false).await;
    let mut out = Vec::new();
    let r = persistence_cli::ls::ls(&src, None, true, &mut out, &context(false))
        .await
        .unwrap_or_else(|e| panic!("ls stopped: {}", e.message));
    // The unreadable object's name is a key: ls lists it (it reads no data). Memory leaves
    // expired keys out.
    let listed = String::from_utf8(out).unwrap();
    assert_eq!(listed.lines().count(), USERS + 1);
    assert!(
        listed
            .lines()
            .all(|l| l.starts_with("\"amzn1.ask.account."))
    );
    assert_eq!(r.keys, (USERS + 1) as u64);
    assert_eq!(
        (r.skips.skipped, r.skips.skipped_not_a_key),
        (2, 2),
        "{:?}",
        r.skips
    );
    assert_eq!(r.status(), Status::Partial);
    assert!(
        r.skips
            .summary()
            .starts_with("skipped 2 objects that are not keys / unreadable")
    );
}

#[tokio::test]
async fn a_fatal_error_after_skipped_entries_still_stops_every_bulk_command() {
    for url in ["memory:", "s3://bucket/skills/cafe"] {
        let tmp = tempfile::tempdir().unwrap();
        let (src, _) = strays(url, true).await;
        let ctx = context(false);
        let stopped = |what: &str, e: persistence_cli::exit::CliError| {
            assert_eq!(e.status, Status::Failed, "{url} {what}: {}", e.message);
            assert!(
                e.message.contains("connection reset"),
                "{url} {what}: {}",
                e.message
            );
        };
        let file = tmp.path().join("out.jsonl");
        stopped(
            "export",
            export(&src, &file, None, 4, &ctx).await.unwrap_err(),
        );
        assert!(!file.exists(), "no partial export");
        let checkpoint = tmp.path().join("cp");
        let options = CopyOptions {
            checkpoint: Some(checkpoint.clone()),
            ..CopyOptions::default()
        };
        let dst = MemoryAdapter::new();
        stopped(
            "copy",
            copy(&src, &memory(&dst), &options, &ctx).await.unwrap_err(),
        );
        assert!(checkpoint.exists(), "{url}: kept for --resume");
        stopped(
            "verify",
            verify(&src, &memory(&dst), None, 4, &ctx)
                .await
                .unwrap_err(),
        );
        stopped(
            "purge-expired",
            purge_expired(&src, None, false, 4, &ctx).await.unwrap_err(),
        );
        let mut out = Vec::new();
        stopped(
            "ls",
            persistence_cli::ls::ls(&src, None, false, &mut out, &ctx)
                .await
                .unwrap_err(),
        );
    }
}

/// Every adapter lists past an entry it cannot read (the listing contract): a real file store
/// with a broken key file and a real SQLite database whose row is not JSON are exported in full
/// but for that entry, which is counted as unreadable.
#[tokio::test]
async fn file_and_sqlite_sources_skip_what_they_cannot_read_and_export_the_rest() {
    const N: usize = 40;
    let tmp = tempfile::tempdir().unwrap();
    let file = persistence_file::FileAdapter::create(tmp.path().join("files")).unwrap();
    let sqlite = persistence_sqlite::SqliteAdapter::open(tmp.path().join("s.db"))
        .await
        .unwrap();
    let stores: [(&str, Arc<dyn PersistenceAdapter>); 2] = [
        ("file:///x", Arc::new(file.clone())),
        ("sqlite:///x.db", Arc::new(sqlite.clone())),
    ];
    for (url, adapter) in stores {
        for i in 0..N {
            let key = format!("amzn1.ask.account.U{i:05}");
            adapter
                .save(&key, &attrs(json!({"i": i})), SaveMode::Overwrite)
                .await
                .unwrap();
        }
        // Break one entry behind the adapter's back.
        let broken = "amzn1.ask.account.U00007";
        if url.starts_with("file") {
            std::fs::write(file.path_of(broken).unwrap(), b"{not json").unwrap();
        } else {
            rusqlite::Connection::open(tmp.path().join("s.db"))
                .unwrap()
                .execute(
                    "UPDATE persistent_attributes SET attributes = '{not json' WHERE key = ?1",
                    [broken],
                )
                .unwrap();
        }
        let src = Store {
            url: StoreUrl::parse(url).unwrap(),
            adapter,
        };
        let out = tmp.path().join(format!("out-{}.jsonl", &url[..4]));
        let r = export(&src, &out, None, 4, &context(false))
            .await
            .unwrap_or_else(|e| panic!("{url}: export stopped: {}", e.message));
        let report = json_of(&r);
        assert_eq!(r.keys, (N - 1) as u64, "{url}: {report}");
        assert_eq!(
            report["skipped_unreadable"].as_u64(),
            Some(1),
            "{url}: {report}"
        );
        assert_eq!(r.status(), Status::Partial, "{url}");
        let lines = std::fs::read_to_string(&out).unwrap().lines().count();
        assert_eq!(lines, N - 1, "{url}");
    }
}
