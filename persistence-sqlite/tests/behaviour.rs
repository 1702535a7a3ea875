//! What the SQLite backend does beyond the conformance suite: bad rows, a lock held past the
//! busy timeout, keyset listing, purging expired rows, numbers written by other tools.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{attrs, fresh_path};
use futures::StreamExt;
use persistence_core::{
    Error, Expiry, ListOptions, ManualClock, PersistenceAdapter, SaveMode, SaveOptions,
};
use persistence_sqlite::SqliteAdapter;
use serde_json::json;

const USER: &str = "amzn1.ask.account.AGF7SECRETPARTOFTHEUSERIDTHATMUSTNOTLEAK";

fn raw(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test]
async fn corrupt_rows_are_typed_errors_naming_the_database_and_an_overwrite_repairs_them() {
    let path = fresh_path("corrupt");
    let store = SqliteAdapter::open(&path).await.unwrap();
    let token = persistence_core::unique_token();
    for (attributes, version, what) in [
        ("{not json", token.as_str(), "not valid JSON"),
        ("[1, 2]", token.as_str(), "not a JSON object"),
        ("{\"a\": 1}", "7", "not a write token"),
    ] {
        raw(&path)
            .execute(
                "INSERT OR REPLACE INTO persistent_attributes (key, attributes, version) \
                 VALUES (?1, ?2, ?3)",
                [USER, attributes, version],
            )
            .unwrap();
        let e = store.get(USER).await.unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::CorruptData { .. }), "{e:?}");
        assert!(text.contains(what), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(!text.contains("SECRETPART"), "the key leaked: {text}");
    }
    let v = store
        .save(USER, &attrs(json!({"fixed": true})), SaveMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(store.get(USER).await.unwrap().unwrap().version, v);
}

#[tokio::test]
async fn numbers_written_by_other_tools_read_exactly_and_are_written_back_unchanged() {
    let path = fresh_path("numbers");
    let store = SqliteAdapter::open(&path).await.unwrap();
    raw(&path)
        .execute(
            "INSERT INTO persistent_attributes (key, attributes, version) VALUES (?1, ?2, ?3)",
            [
                "k",
                r#"{"a": 1.50, "b": 2E0, "c": 0.66666666666666666666666666670, "d": -4.2e1, "e": 18446744073709551616}"#,
                &persistence_core::unique_token(),
            ],
        )
        .unwrap();
    let got = store.get("k").await.unwrap().unwrap();
    let a = &got.attributes;
    // The JSON view: integers that fit, else the nearest f64.
    assert_eq!(a["a"], json!(1.5));
    assert_eq!(a["b"], json!(2.0));
    assert_eq!(a["c"], json!(2.0 / 3.0));
    assert_eq!(a["d"], json!(-42.0));
    assert_eq!(a["e"], json!(18_446_744_073_709_551_616.0));
    // The exact text, kept for the next save.
    assert_eq!(
        a.exact("c").unwrap().to_json_text(),
        "0.66666666666666666666666666670"
    );
    // A save that changes another attribute writes these back byte for byte.
    let mut changed = got.attributes.clone();
    changed.insert("f".into(), json!(1));
    store
        .save("k", &changed, SaveMode::IfVersion(got.version))
        .await
        .unwrap();
    let text: String = raw(&path)
        .query_row(
            "SELECT attributes FROM persistent_attributes WHERE key = 'k'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        text,
        r#"{"a":1.50,"b":2E0,"c":0.66666666666666666666666666670,"d":-4.2e1,"e":18446744073709551616,"f":1}"#
    );
}

/// Another connection holds the write lock past the busy timeout: the save is a
/// `Backend` error saying so (never a success that wrote nothing), reads still work (WAL),
/// nothing changed, and the same adapter saves once the lock is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_past_the_busy_timeout_is_a_backend_error_that_changes_nothing() {
    let path = fresh_path("busy");
    let store = SqliteAdapter::builder(&path)
        .busy_timeout(Duration::from_millis(200))
        .open()
        .await
        .unwrap();
    let v1 = store
        .save(USER, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();

    let other = raw(&path);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    for mode in [SaveMode::IfVersion(v1.clone()), SaveMode::Overwrite] {
        let e = store
            .save(USER, &attrs(json!({"n": 2})), mode)
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Backend { .. }), "{e:?}");
        assert!(!e.is_conflict());
        assert!(text.contains("locked"), "{text}");
        assert!(text.contains("changed nothing"), "{text}");
        assert!(text.contains(&path.display().to_string()), "{text}");
    }
    let e = store.delete(USER).await.unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    // Readers are not blocked by the writer.
    let seen = store.get(USER).await.unwrap().unwrap();
    assert_eq!(seen.version, v1);
    other.execute_batch("ROLLBACK").unwrap();

    let v2 = store
        .save(USER, &attrs(json!({"n": 2})), SaveMode::IfVersion(v1))
        .await
        .unwrap();
    let now = store.get(USER).await.unwrap().unwrap();
    assert_eq!(now.version, v2);
    assert_eq!(now.attributes["n"], 2);
}

/// A lock released within the busy timeout is waited for: the save succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_released_within_the_busy_timeout_is_waited_for() {
    let path = fresh_path("busy-wait");
    let store = SqliteAdapter::open(&path).await.unwrap();
    let other = raw(&path);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        other.execute_batch("COMMIT").unwrap();
    });
    store
        .save(USER, &attrs(json!({"n": 1})), SaveMode::CreateOnly)
        .await
        .unwrap();
    release.join().unwrap();
    assert_eq!(store.get(USER).await.unwrap().unwrap().attributes["n"], 1);
}

async fn all_pages(store: &SqliteAdapter, options: &ListOptions) -> Vec<Vec<String>> {
    let mut pages = store.list_keys(options);
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        out.push(page.unwrap());
    }
    out
}

#[tokio::test]
async fn listing_pages_follow_key_order_and_stop_at_the_prefix() {
    let path = fresh_path("listing");
    let store = SqliteAdapter::open(&path).await.unwrap();
    let mut keys: Vec<String> = (0..2500).map(|i| format!("p/user-{i:05}")).collect();
    // Byte order, as the prefix is matched: "é" sorts after every ASCII letter.
    keys.push("p/zébra".into());
    keys.push("p/zz".into());
    let conn = raw(&path);
    conn.execute_batch("BEGIN").unwrap();
    for k in &keys {
        conn.execute(
            "INSERT INTO persistent_attributes (key, attributes, version) VALUES (?1, '{}', ?2)",
            [k.as_str(), &persistence_core::unique_token()],
        )
        .unwrap();
    }
    for k in ["o", "p", "p0", "q/user-1"] {
        conn.execute(
            "INSERT INTO persistent_attributes (key, attributes, version) VALUES (?1, '{}', ?2)",
            [k, &persistence_core::unique_token()],
        )
        .unwrap();
    }
    conn.execute_batch("COMMIT").unwrap();

    let pages = all_pages(&store, &ListOptions::default().prefix("p/").page_size(1000)).await;
    assert_eq!(
        pages.iter().map(Vec::len).collect::<Vec<_>>(),
        [1000, 1000, 502]
    );
    let listed: Vec<String> = pages.concat();
    keys.sort();
    assert_eq!(listed, keys);

    let everything: Vec<String> = all_pages(&store, &ListOptions::default().page_size(7))
        .await
        .concat();
    assert_eq!(everything.len(), keys.len() + 4);
    assert!(everything.windows(2).all(|w| w[0] < w[1]), "key order");

    let none = all_pages(&store, &ListOptions::default().prefix("nothing-here")).await;
    assert!(none.is_empty());
}

#[tokio::test]
async fn expired_rows_are_left_out_of_listings_and_purged_on_request() {
    let path = fresh_path("purge");
    let clock = ManualClock::new();
    let store = SqliteAdapter::builder(&path)
        .clock(Arc::new(clock.clone()))
        .open()
        .await
        .unwrap();
    let hour =
        SaveOptions::new(SaveMode::Overwrite).expiry(Expiry::After(Duration::from_secs(3600)));
    for i in 0..5 {
        store
            .save_with(&format!("short-{i}"), &attrs(json!({"i": i})), &hour)
            .await
            .unwrap();
    }
    store
        .save("kept", &attrs(json!({})), SaveMode::Overwrite)
        .await
        .unwrap();
    assert_eq!(store.purge_expired().await.unwrap(), 0);
    clock.advance(Duration::from_secs(3600));

    let live = all_pages(&store, &ListOptions::default()).await.concat();
    assert_eq!(live, ["kept"]);
    let with_expired = all_pages(&store, &ListOptions::default().include_expired(true))
        .await
        .concat();
    assert_eq!(with_expired.len(), 6);

    assert_eq!(store.purge_expired().await.unwrap(), 5);
    let n: i64 = raw(&path)
        .query_row("SELECT count(*) FROM persistent_attributes", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_write_token_of_the_wrong_shape_is_refused_before_writing() {
    let path = fresh_path("token");
    let store = SqliteAdapter::open(&path).await.unwrap();
    let e = store
        .save_with(
            USER,
            &attrs(json!({})),
            &SaveOptions::new(SaveMode::Overwrite).token("not-a-token"),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidVersion { .. }), "{e:?}");
    assert!(store.get(USER).await.unwrap().is_none());
}

#[tokio::test]
async fn conflict_messages_name_the_database_but_not_the_user() {
    let path = fresh_path("messages");
    let store = SqliteAdapter::open(&path).await.unwrap();
    store
        .save(USER, &attrs(json!({})), SaveMode::CreateOnly)
        .await
        .unwrap();
    let e = store
        .save(USER, &attrs(json!({})), SaveMode::CreateOnly)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(e.is_conflict(), "{e:?}");
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("amzn1.ask.account."), "{text}");
    assert!(!text.contains("SECRETPART"), "{text}");
    assert!(!format!("{e:?}").contains("SECRETPART"));
}

/// A database written by schema 1 (one token per row) opens, is upgraded in place to keep the
/// latest tokens, and its rows read and save as before.
#[tokio::test]
async fn a_schema_1_database_is_upgraded_on_open() {
    let path = fresh_path("schema1");
    let token = persistence_core::unique_token();
    {
        let conn = raw(&path);
        conn.execute_batch(
            "CREATE TABLE persistent_attributes (
                 key TEXT PRIMARY KEY NOT NULL, attributes TEXT NOT NULL,
                 version TEXT NOT NULL, expires_at INTEGER) STRICT;
             PRAGMA application_id = 1095522384;
             PRAGMA user_version = 1;",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO persistent_attributes (key, attributes, version) VALUES (?1, ?2, ?3)",
            [USER, r#"{"visits": 3}"#, token.as_str()],
        )
        .unwrap();
    }
    let store = SqliteAdapter::open(&path).await.unwrap();
    let got = store.get(USER).await.unwrap().unwrap();
    assert_eq!(got.attributes["visits"], 3);
    assert_eq!(got.version.as_str(), token);
    store
        .save(
            USER,
            &attrs(json!({"visits": 4})),
            SaveMode::IfVersion(got.version),
        )
        .await
        .unwrap();
    let version: i64 = raw(&path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, persistence_sqlite::SCHEMA_VERSION);
}

#[tokio::test]
async fn a_listing_goes_past_rows_it_cannot_read() {
    let path = fresh_path("stray-rows");
    let store = SqliteAdapter::open(&path).await.unwrap();
    persistence_core::conformance::listing_goes_past_unreadable_entries(&store, |key| {
        let path = path.clone();
        async move {
            raw(&path)
                .execute(
                    "UPDATE persistent_attributes SET attributes = '{not json' WHERE key = ?1",
                    [key],
                )
                .unwrap();
        }
    })
    .await;
}
