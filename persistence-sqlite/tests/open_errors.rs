//! Opening a database: every path or file that cannot be used is a typed error naming the path,
//! and a refused file is left as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{attrs, fresh_dir, fresh_path};
use persistence_core::{Error, PersistenceAdapter, SaveMode};
use persistence_sqlite::{Durability, SCHEMA_VERSION, SqliteAdapter};
use serde_json::json;

async fn open_err(path: &std::path::Path) -> Error {
    match SqliteAdapter::open(path).await {
        Ok(a) => panic!("{} opened: {a:?}", path.display()),
        Err(e) => e,
    }
}

#[tokio::test]
async fn a_missing_directory_is_not_configured_and_names_the_path() {
    let dir = fresh_dir("missing-dir");
    let path = dir.join("no-such-dir").join("a.sqlite3");
    let e = open_err(&path).await;
    let text = e.to_string();
    assert!(matches!(e, Error::NotConfigured { .. }), "{e:?}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("does not exist"), "{text}");
    assert!(!dir.join("no-such-dir").exists(), "nothing was created");
}

#[tokio::test]
async fn create_directories_creates_the_missing_directory() {
    let dir = fresh_dir("create-dirs");
    let path = dir.join("a").join("b").join("attrs.sqlite3");
    let store = SqliteAdapter::builder(&path)
        .create_directories(true)
        .open()
        .await
        .unwrap();
    store
        .save("k", &attrs(json!({"x": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    assert!(path.is_file());
    assert_eq!(store.path(), path.as_path());
}

#[tokio::test]
async fn a_directory_or_a_file_in_place_of_a_directory_is_not_configured() {
    let dir = fresh_dir("not-a-file");
    let e = open_err(&dir).await;
    assert!(matches!(e, Error::NotConfigured { .. }), "{e:?}");
    assert!(e.to_string().contains("is a directory"), "{e}");
    assert!(e.to_string().contains(&dir.display().to_string()), "{e}");

    let file = dir.join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    let under_a_file = file.join("a.sqlite3");
    let e = open_err(&under_a_file).await;
    assert!(matches!(e, Error::NotConfigured { .. }), "{e:?}");
    assert!(
        e.to_string().contains(&under_a_file.display().to_string()),
        "{e}"
    );
}

#[tokio::test]
async fn empty_and_in_memory_paths_are_refused() {
    for path in ["", ":memory:"] {
        let e = open_err(std::path::Path::new(path)).await;
        assert!(matches!(e, Error::NotConfigured { .. }), "{path:?}: {e:?}");
        assert!(e.to_string().contains("persistence-memory"), "{e}");
    }
}

/// Set in the child that [`no_permission_is_not_configured_and_names_the_path`] runs as an
/// unprivileged user: the database path to try.
const PERMISSION_CHILD: &str = "PERSISTENCE_SQLITE_PERMISSION_CHILD";

/// Opens the path in [`PERMISSION_CHILD`] and checks the error; does nothing without it.
#[test]
#[ignore = "run by no_permission_is_not_configured_and_names_the_path"]
fn permission_child() {
    let Some(path) = std::env::var_os(PERMISSION_CHILD) else {
        return;
    };
    let path = std::path::PathBuf::from(path);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let e = rt.block_on(open_err(&path));
    println!("ERROR {e}");
    assert!(matches!(e, Error::NotConfigured { .. }), "{e:?}");
    assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    assert!(e.to_string().contains("permission denied"), "{e}");
}

/// A directory this process cannot write to, a read-only file: `NotConfigured` naming the path.
/// Root writes anyway; then the check runs in a child process as user `nobody` (via `setpriv`),
/// or is skipped, saying so, when that is not possible.
#[cfg(unix)]
#[tokio::test]
async fn no_permission_is_not_configured_and_names_the_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = fresh_dir("no-permission");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    let in_locked_dir = locked.join("a.sqlite3");
    let read_only = dir.join("read-only.sqlite3");
    SqliteAdapter::open(&read_only).await.unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o444)).unwrap();

    let privileged = std::fs::write(locked.join("probe"), b"").is_ok();
    for path in [&in_locked_dir, &read_only] {
        if !privileged {
            let e = open_err(path).await;
            assert!(matches!(e, Error::NotConfigured { .. }), "{e:?}");
            assert!(e.to_string().contains(&path.display().to_string()), "{e}");
            assert!(e.to_string().contains("permission denied"), "{e}");
            continue;
        }
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&exe)
            .args(["--exact", "permission_child", "--ignored", "--nocapture"])
            .env(PERMISSION_CHILD, path)
            .output();
        match out {
            Ok(out) if String::from_utf8_lossy(&out.stdout).contains("ERROR ") => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "{stdout}\n{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert!(stdout.contains("1 passed"), "{stdout}");
                eprintln!(
                    "checked as user nobody: {}",
                    stdout
                        .lines()
                        .find(|l| l.starts_with("ERROR"))
                        .unwrap_or("")
                );
            }
            other => {
                eprintln!(
                    "SKIPPED: running as root, and the check could not run as user nobody \
                     ({other:?})"
                );
                return;
            }
        }
    }
}

#[tokio::test]
async fn a_file_that_is_not_sqlite_is_incompatible_and_left_alone() {
    let path = fresh_path("not-sqlite");
    let content = "This is a text file, not a database.\n".repeat(50);
    std::fs::write(&path, &content).unwrap();
    let e = open_err(&path).await;
    assert!(matches!(e, Error::Incompatible { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("not a SQLite database"), "{text}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), content);
}

#[tokio::test]
async fn a_newer_schema_version_is_incompatible_saying_both_versions() {
    let path = fresh_path("newer-schema");
    let store = SqliteAdapter::open(&path).await.unwrap();
    store
        .save("k", &attrs(json!({"x": 1})), SaveMode::Overwrite)
        .await
        .unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "user_version", 7).unwrap();
    drop(conn);

    let e = open_err(&path).await;
    assert!(matches!(e, Error::Incompatible { .. }), "{e:?}");
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("schema version 7"), "{text}");
    assert!(
        text.contains(&format!("supports schema version {SCHEMA_VERSION}")),
        "{text}"
    );
    // Refused without a change: the version is still 7 and the row is there.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 7);
    let n: i64 = conn
        .query_row("SELECT count(*) FROM persistent_attributes", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn another_applications_database_is_incompatible() {
    let path = fresh_path("other-app");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total TEXT);")
        .unwrap();
    drop(conn);
    let e = open_err(&path).await;
    assert!(matches!(e, Error::Incompatible { .. }), "{e:?}");
    assert!(e.to_string().contains("invoices"), "{e}");

    let path = fresh_path("other-app-id");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "application_id", 0x1234).unwrap();
    drop(conn);
    let e = open_err(&path).await;
    assert!(matches!(e, Error::Incompatible { .. }), "{e:?}");
    assert!(e.to_string().contains("another application"), "{e}");
}

#[tokio::test]
async fn an_empty_file_becomes_a_database_and_reopening_keeps_data() {
    let path = fresh_path("empty-file");
    std::fs::write(&path, b"").unwrap();
    let store = SqliteAdapter::builder(&path)
        .durability(Durability::PowerLoss)
        .busy_timeout(Duration::from_secs(1))
        .open()
        .await
        .unwrap();
    let v = store
        .save("k", &attrs(json!({"x": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    drop(store);
    let again = SqliteAdapter::open(&path).await.unwrap();
    let got = again.get("k").await.unwrap().unwrap();
    assert_eq!(got.version, v);
    assert_eq!(got.attributes, attrs(json!({"x": 1})));
    let mode: String = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
