//! The `alexa-persistence` binary against real DynamoDB and S3 APIs (LocalStack, through the
//! workspace's integration harness: `scripts/test.sh` starts it; under `CI=true` a missing
//! emulator fails these tests instead of skipping them).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use persistence_core::clock::epoch_seconds;
use persistence_core::{
    Attributes, Expiry, ListOptions, PersistenceAdapter, SaveMode, SaveOptions, Stored,
};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_integration_tests::{
    dynamodb_adapter, dynamodb_client, new_bucket, s3_client, unique_name,
};
use persistence_s3::S3Adapter;
use serde_json::{Value, json};

use common::{Tool, contents};

fn exact_attrs(text: &str) -> Attributes {
    let persistence_core::exact::ExactValue::Map(map) =
        persistence_core::exact::ExactValue::parse_json(text).unwrap()
    else {
        panic!("not an object")
    };
    Attributes::from_exact(map).unwrap()
}

fn attrs(v: Value) -> Attributes {
    Attributes::try_from(v).unwrap()
}

/// The attributes of user `i`: exact decimals, integers past 2^64, unicode, nested lists, empty
/// strings and maps, floats that are easy to get wrong.
fn user_attributes(i: usize) -> Attributes {
    let rest = json!({
        "visits": i,
        "floats": [0.1, -2.5, 1.5e-7, 6.02214076e23, 1e21, -5.3575624515848524e-89],
        "unicode": format!("Zoë ☕ 🐱 ключ {i} \"quoted\" \\ \t"),
        "empty_string": "",
        "empty_map": {},
        "empty_list": [],
        "nested": [[i, ["x", {"deep": [true, null, {"deeper": [[]]}]}]], [], [{}]],
        "profile": {"name": format!("user {i}"), "prefs": {"units": "metric", "volume": i % 11}},
        "extremes": [i64::MIN, i64::MAX, u64::MAX],
    });
    let rest = rest.to_string();
    exact_attrs(&format!(
        r#"{{"python_decimal":0.6666666666666666666666666667,"past_u64":{},"negative_big":-{},"decimal_i":{i}.{:028},{}"#,
        18_446_744_073_709_551_616u128 + i as u128,
        1_180_591_620_717_411_303_424u128 + i as u128,
        i * 7919,
        &rest[1..]
    ))
}

/// Every seventh key is non-ASCII when `unicode` is set. (LocalStack cannot list an S3 page
/// followed by a non-ASCII key: its continuation token is that key, which it fails to decode;
/// the 2000 keys of the full set keep every page boundary on ASCII keys, but an arbitrary subset,
/// such as what a killed copy wrote, may not.)
fn user_key(run: &str, i: usize, unicode: bool) -> String {
    if unicode && i.is_multiple_of(7) {
        format!("amzn1.ask.account.ÜNÏCØDE-{run}-{i:04}")
    } else {
        format!("amzn1.ask.account.AF{run}{i:04}XYZ")
    }
}

/// Saves `n` users into `store`; every tenth expires in 30 days. Returns what was saved.
async fn seed(
    store: &dyn PersistenceAdapter,
    run: &str,
    n: usize,
    unicode_keys: bool,
) -> BTreeMap<String, Stored> {
    let in_30_days = SystemTime::now() + Duration::from_secs(30 * 86_400);
    let saves = futures::stream::iter(0..n)
        .map(|i| async move {
            let key = user_key(run, i, unicode_keys);
            let a = user_attributes(i);
            let expiry = if i.is_multiple_of(10) {
                Expiry::At(in_30_days)
            } else {
                Expiry::Never
            };
            store
                .save_with(
                    &key,
                    &a,
                    &SaveOptions::new(SaveMode::CreateOnly).expiry(expiry),
                )
                .await
                .unwrap_or_else(|e| panic!("seeding {i}: {e}"));
            (key, a, expiry)
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;
    saves
        .into_iter()
        .map(|(k, a, exp)| {
            let at = match exp {
                Expiry::At(t) => Some(persistence_core::clock::from_epoch_seconds(epoch_seconds(
                    t,
                ))),
                _ => None,
            };
            (
                k,
                Stored::new(a, persistence_core::Version::new("")).expiring(at),
            )
        })
        .collect()
}

/// [`contents`] once the number of keys has stayed the same for a second (at most 30 s).
async fn settled(store: &dyn PersistenceAdapter) -> BTreeMap<String, Stored> {
    let count = || async {
        let mut n = 0;
        let mut pages = store.list_keys(&ListOptions::default());
        while let Some(page) = pages.next().await {
            n += page.unwrap().len();
        }
        n
    };
    let mut last = count().await;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = count().await;
        if now == last {
            break;
        }
        last = now;
    }
    contents(store, false).await
}

#[track_caller]
fn assert_same(got: &BTreeMap<String, Stored>, want: &BTreeMap<String, Stored>, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: number of keys");
    for (k, w) in want {
        let g = got
            .get(k)
            .unwrap_or_else(|| panic!("{what}: {k} is missing"));
        assert_eq!(g.attributes, w.attributes, "{what}: attributes of {k}");
        assert_eq!(
            g.expires_at.map(epoch_seconds),
            w.expires_at.map(epoch_seconds),
            "{what}: expiry of {k}"
        );
    }
}

async fn s3_store(bucket: &str, prefix: Option<&str>) -> S3Adapter {
    let b = S3Adapter::builder(s3_client().await.unwrap(), bucket);
    match prefix {
        Some(p) => b.path_prefix(p).build(),
        None => b.build(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_thousand_users_go_dynamodb_to_s3_to_files_to_dynamodb_exactly() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let run = format!("{:06x}", fastrand::u32(..) & 0xff_ffff);
    let source = dynamodb_adapter("cli-chain-src").await.unwrap();
    let original = seed(&source, &run, 2000, true).await;
    let bucket = new_bucket(&s3_client().await.unwrap(), "cli-chain").await;
    let table2 = unique_name("cli-chain-dst");
    let dir = tool.path("files");

    let s3_url = format!("s3://{bucket}/skills/cafe");
    let file_url = format!("file://{}", dir.display());
    let ddb1 = format!("dynamodb://{}", source.table_name());
    let ddb2 = format!("dynamodb://{table2}");
    for (from, to, extra) in [
        (&ddb1, &s3_url, None),
        (&s3_url, &file_url, None),
        (&file_url, &ddb2, Some("--create-table")),
    ] {
        let mut args = vec!["copy", from.as_str(), to.as_str(), "--verify", "--json"];
        args.extend(extra);
        let r = tool.run(&args);
        r.expect(0);
        let report = r.json();
        assert_eq!(report["copied"], 2000, "{from} -> {to}: {report}");
        assert_eq!(report["failed"], 0);
        assert_eq!(report["verify"]["source_keys"], 2000);
        assert_eq!(report["verify"]["missing"], 0);
        assert_eq!(report["verify"]["different"], 0);
        assert_eq!(report["verify"]["extra"], 0);
        assert!(
            report["checkpoint"].is_null(),
            "a complete copy leaves no checkpoint"
        );
    }
    assert!(
        std::fs::read_dir(tool.dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".checkpoint")),
        "checkpoints removed"
    );

    // Every hop, read back independently of the tool, is exactly the original.
    assert_same(
        &contents(&s3_store(&bucket, Some("skills/cafe")).await, false).await,
        &original,
        "S3",
    );
    let files = persistence_file::FileAdapter::open(&dir).unwrap();
    assert_same(&contents(&files, false).await, &original, "files");
    let back = DynamoDbAdapter::builder(dynamodb_client().await.unwrap(), &table2).build();
    assert_same(
        &contents(&back, false).await,
        &original,
        "DynamoDB at the end",
    );

    // A second copy finds everything already there and writes nothing.
    let r = tool.run(&["copy", &ddb1, &ddb2, "--json", "--no-checkpoint"]);
    r.expect(0);
    let report = r.json();
    assert_eq!(report["identical"], 2000, "{report}");
    assert_eq!(report["copied"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_copy_killed_half_way_and_resumed_holds_every_key_exactly_once() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let run = format!("{:06x}", fastrand::u32(..) & 0xff_ffff);
    let source = dynamodb_adapter("cli-kill-src").await.unwrap();
    let original = seed(&source, &run, 2000, false).await;
    let bucket = new_bucket(&s3_client().await.unwrap(), "cli-kill").await;
    let src = format!("dynamodb://{}", source.table_name());
    let dst = format!("s3://{bucket}/users");
    let checkpoint = tool.path("copy.checkpoint");
    let cp = checkpoint.to_str().unwrap();

    // Killed (SIGKILL: no cleanup, buffered checkpoint lines lost) after 1100 keys, with 16
    // writes in flight.
    let killed = tool.run_with(
        &["copy", &src, &dst, "--checkpoint", cp, "-c", "16"],
        &[("ALEXA_PERSISTENCE_TEST_RAISE", "KILL:1100")],
    );
    assert_eq!(
        killed.signal,
        Some(9),
        "killed: {} {}",
        killed.stdout,
        killed.stderr
    );
    let recorded = std::fs::read_to_string(&checkpoint)
        .unwrap()
        .lines()
        .count()
        - 1;
    let s3 = s3_store(&bucket, Some("users")).await;
    // A PUT the killed process had sent may still be committed by the emulator after the kill:
    // take the snapshot once the destination has stopped changing.
    let after_crash = settled(&s3).await;
    eprintln!(
        "killed after 1100 keys: {} in S3, {recorded} recorded in the checkpoint",
        after_crash.len()
    );
    assert!(
        recorded <= after_crash.len(),
        "a recorded key is in the destination"
    );
    assert!(after_crash.len() < 2000, "killed half-way");
    assert!(after_crash.len() >= 1100);

    // Without --resume the tool refuses to start over the unfinished copy.
    let refused = tool.run(&["copy", &src, &dst, "--checkpoint", cp]);
    refused.expect(2);
    assert!(refused.stderr.contains("--resume"), "{}", refused.stderr);

    let resumed = tool.run(&[
        "copy",
        &src,
        &dst,
        "--checkpoint",
        cp,
        "--resume",
        "--verify",
        "--json",
    ]);
    resumed.expect(0);
    let report = resumed.json();
    assert_eq!(report["resumed"], recorded as u64, "{report}");
    let copied = report["copied"].as_u64().unwrap();
    let identical = report["identical"].as_u64().unwrap();
    assert_eq!(
        copied + identical + recorded as u64,
        2000,
        "every key handled exactly once: {report}"
    );
    assert_eq!(
        identical as usize,
        after_crash.len() - recorded,
        "keys written before the crash but not recorded are recognised, not rewritten"
    );
    assert_eq!(report["verify"]["missing"], 0);
    assert_eq!(report["verify"]["extra"], 0);
    assert_eq!(report["verify"]["different"], 0);
    assert!(
        !checkpoint.exists(),
        "the checkpoint is removed when the copy is complete"
    );

    let end = contents(&s3, false).await; // panics on a key listed twice
    assert_same(&end, &original, "S3 after the resume");
    for (k, before) in &after_crash {
        assert_eq!(
            end[k].version, before.version,
            "{k} was written again after the crash"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ctrl_c_finishes_the_keys_in_flight_and_the_copy_resumes() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let run = format!("{:06x}", fastrand::u32(..) & 0xff_ffff);
    let source = dynamodb_adapter("cli-int-src").await.unwrap();
    let original = seed(&source, &run, 600, true).await;
    let dir = tool.path("backup");
    let src = format!("dynamodb://{}", source.table_name());
    let dst = format!("file://{}", dir.display());

    let interrupted = tool.run_with(
        &["copy", &src, &dst, "--json"],
        &[("ALEXA_PERSISTENCE_TEST_RAISE", "INT:250")],
    );
    interrupted.expect(130);
    let report = interrupted.json();
    assert_eq!(report["interrupted"], true);
    let done = report["copied"].as_u64().unwrap();
    assert!((250..600).contains(&done), "{report}");
    let checkpoint = report["checkpoint"].as_str().unwrap().to_owned();
    let recorded = std::fs::read_to_string(tool.dir.path().join(&checkpoint))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(
        recorded as u64, done,
        "a graceful stop records every key it finished"
    );
    assert!(interrupted.stdout.contains("\"checkpoint\""));

    let resumed = tool.run(&["copy", &src, &dst, "--resume", "--json"]);
    resumed.expect(0);
    let r = resumed.json();
    assert_eq!(r["resumed"], done, "{r}");
    assert_eq!(r["copied"].as_u64().unwrap() + done, 600, "{r}");
    assert_eq!(
        r["identical"], 0,
        "nothing was written without being recorded"
    );
    let files = persistence_file::FileAdapter::open(&dir).unwrap();
    assert_same(
        &contents(&files, false).await,
        &original,
        "files after the resume",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_keys_are_purged_and_never_copied() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let table = dynamodb_adapter("cli-expired").await.unwrap();
    let bucket = new_bucket(&s3_client().await.unwrap(), "cli-expired").await;
    let s3 = s3_store(&bucket, None).await;
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let next_week = SystemTime::now() + Duration::from_secs(7 * 86_400);
    for store in [&table as &dyn PersistenceAdapter, &s3] {
        for i in 0..100 {
            let expiry = match i % 10 {
                0..=2 => Expiry::At(hour_ago),
                3 | 4 => Expiry::At(next_week),
                _ => Expiry::Never,
            };
            store
                .save_with(
                    &format!("amzn1.ask.account.E{i:03}"),
                    &attrs(json!({"i": i})),
                    &SaveOptions::new(SaveMode::Overwrite).expiry(expiry),
                )
                .await
                .unwrap();
        }
        assert_eq!(contents(store, true).await.len(), 100);
    }
    let ddb = format!("dynamodb://{}", table.table_name());
    let s3_url = format!("s3://{bucket}");

    // Copy leaves expired keys behind, and keeps the others' expiry.
    let dir = tool.path("live");
    let r = tool.run(&["copy", &ddb, &format!("file://{}", dir.display()), "--json"]);
    r.expect(0);
    assert_eq!(r.json()["copied"], 70);
    let files = persistence_file::FileAdapter::open(&dir).unwrap();
    let copied = contents(&files, true).await;
    assert_eq!(copied.len(), 70);
    assert_eq!(
        copied.values().filter(|s| s.expires_at.is_some()).count(),
        20
    );
    let r = tool.run(&[
        "copy",
        &s3_url,
        &format!("file://{}", tool.path("live-s3").display()),
        "--json",
    ]);
    r.expect(0);
    assert_eq!(r.json()["copied"], 70);

    for (url, store) in [(&ddb, &table as &dyn PersistenceAdapter), (&s3_url, &s3)] {
        let dry = tool.run(&["purge-expired", url, "--dry-run", "--json"]);
        dry.expect(0);
        assert_eq!(dry.json()["expired"], 30, "{url}");
        assert_eq!(
            contents(store, true).await.len(),
            100,
            "{url}: a dry run deletes nothing"
        );
        let purge = tool.run(&["purge-expired", url, "--json"]);
        purge.expect(0);
        let p = purge.json();
        assert_eq!(
            (p["scanned"].as_u64(), p["deleted"].as_u64()),
            (Some(100), Some(30)),
            "{url}: {p}"
        );
        let left = contents(store, true).await;
        assert_eq!(left.len(), 70, "{url}: expired entries are physically gone");
        assert!(
            left.values()
                .all(|s| !persistence_core::is_expired(s.expires_at, SystemTime::now()))
        );
        let again = tool.run(&["purge-expired", url, "--json"]);
        again.expect(0);
        assert_eq!(again.json()["deleted"], 0);
    }
}
