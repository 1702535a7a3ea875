//! Issue 19 item 7 against a real S3 API (LocalStack; `scripts/test.sh` starts it, under
//! `CI=true` a missing emulator fails this test instead of skipping it): a bucket prefix that
//! holds real users and three stray objects, a "folder" marker `prefix/a/` (what the S3 console
//! makes), `prefix/x//y` (a name no key maps to) and an object whose body is not JSON. Every bulk
//! command completes, skips and counts exactly those three, names them redacted, exits 1, and
//! copies every real user.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use futures::StreamExt;
use persistence_core::{
    Attributes, Entry, Expiry, ListOptions, PersistenceAdapter, SaveMode, SaveOptions,
};
use persistence_integration_tests::{new_bucket, s3_client};
use persistence_s3::S3Adapter;
use serde_json::{Value, json};

use common::{Run, Tool};

const PREFIX: &str = "skills/cafe";
/// More than one listing page (the tool asks for 500 keys a page), so that the strays are met
/// on both sides of a page boundary.
const USERS: usize = 520;
const EXPIRED: usize = 4;
/// The object whose body is not JSON: a valid key, so `ls` lists it; its second half must
/// never be shown unless `--show-keys`.
const CORRUPT: &str = "amzn1.ask.account.U0510-CORRUPTSECRETSECRETSECRET";
const SECRET: &str = "CORRUPTSECRETSECRET";

fn user(i: usize) -> String {
    format!("amzn1.ask.account.U{i:04}")
}

/// Every live entry of `store`, by key, with its attributes.
async fn contents(store: &dyn PersistenceAdapter) -> BTreeMap<String, Attributes> {
    let mut out = BTreeMap::new();
    let mut pages = store.entries(&ListOptions::default());
    while let Some(page) = pages.next().await {
        // A stray entry is an `Err` item of its own: not a user.
        if let Ok(page) = page {
            for Entry { key, stored } in page {
                out.insert(key, stored.attributes);
            }
        }
    }
    out
}

#[track_caller]
fn assert_skipped(run: &Run, report: &Value) {
    let n = |f: &str| report[f].as_u64();
    assert_eq!(
        (
            n("skipped"),
            n("skipped_not_a_key"),
            n("skipped_unreadable")
        ),
        (Some(3), Some(2), Some(1)),
        "`{}`: {report}",
        run.args
    );
    assert_eq!(
        report["skipped_entries"].as_array().map(Vec::len),
        Some(3),
        "{report}"
    );
    for out in [&run.stdout, &run.stderr] {
        assert!(
            !out.contains(SECRET),
            "`{}` shows a key in full:\n{out}",
            run.args
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stray_objects_are_skipped_and_counted_by_every_bulk_command() {
    let Some(tool) = Tool::new().await else {
        return;
    };
    let client = s3_client().await.unwrap();
    let bucket = new_bucket(&client, "cli-strays").await;
    let s3 = S3Adapter::builder(client.clone(), &bucket)
        .path_prefix(PREFIX)
        .build();
    let in_30_days = SystemTime::now() + Duration::from_secs(30 * 86_400);
    let saved: Vec<(String, Attributes)> = futures::stream::iter(0..USERS)
        .map(|i| {
            let s3 = &s3;
            async move {
                let a =
                    Attributes::try_from(json!({"visits": i, "name": format!("Zoë {i}")})).unwrap();
                let expiry = if i.is_multiple_of(10) {
                    Expiry::At(in_30_days)
                } else {
                    Expiry::Never
                };
                s3.save_with(
                    &user(i),
                    &a,
                    &SaveOptions::new(SaveMode::CreateOnly).expiry(expiry),
                )
                .await
                .unwrap();
                (user(i), a)
            }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    let users: BTreeMap<String, Attributes> = saved.into_iter().collect();
    let strays = [
        (format!("{PREFIX}/a/"), Vec::new()),
        (format!("{PREFIX}/x//y"), br#"{"visits":1}"#.to_vec()),
        (format!("{PREFIX}/{CORRUPT}"), b"not JSON at all".to_vec()),
    ];
    for (name, body) in &strays {
        client
            .put_object()
            .bucket(&bucket)
            .key(name)
            .body(ByteStream::from(body.clone()))
            .send()
            .await
            .unwrap();
    }
    let url = format!("s3://{bucket}/{PREFIX}");

    // ls: every key (the unreadable object's name is one: ls reads no data); the two names that
    // are not keys skipped and named on stderr.
    let ls = tool.run(&["ls", &url]);
    ls.expect(1);
    assert_eq!(ls.stdout.lines().count(), USERS + 1, "{}", ls.stderr);
    assert!(
        ls.stderr
            .contains("skipped 2 objects that are not keys / unreadable"),
        "{}",
        ls.stderr
    );
    // What you ask ls for is printed in full; the names skipped are redacted.
    assert!(ls.stdout.lines().any(|l| l == CORRUPT), "{}", ls.stdout);
    assert!(!ls.stderr.contains(SECRET), "{}", ls.stderr);

    // export: complete file with every user, the three skipped.
    let file = tool.path("users.jsonl");
    let export = tool.run(&["export", &url, file.to_str().unwrap(), "--json"]);
    export.expect(1);
    let report = export.json();
    assert_eq!(report["keys"], USERS, "{report}");
    assert_skipped(&export, &report);
    let exported = std::fs::read_to_string(&file).unwrap();
    assert_eq!(exported.lines().count(), USERS);
    // --show-keys names the unreadable key in full (the tool read it itself).
    let shown = tool.run(&["export", &url, "-", "--show-keys", "-q"]);
    shown.expect(1);
    assert!(shown.stderr.contains(CORRUPT), "{}", shown.stderr);
    assert_eq!(shown.stdout.lines().count(), USERS);

    // copy (and --verify): every real user, exactly; the three skipped; no checkpoint left.
    let dir = tool.path("files");
    let files_url = format!("file://{}", dir.display());
    let copy = tool.run(&["copy", &url, &files_url, "--verify", "--json"]);
    copy.expect(1);
    let report = copy.json();
    assert_eq!(
        (report["copied"].as_u64(), report["failed"].as_u64()),
        (Some(USERS as u64), Some(0)),
        "{report}"
    );
    assert_skipped(&copy, &report);
    assert!(report["checkpoint"].is_null(), "{report}");
    let v = &report["verify"];
    assert_eq!(
        (
            v["source_keys"].as_u64(),
            v["missing"].as_u64(),
            v["different"].as_u64(),
            v["extra"].as_u64()
        ),
        (Some(USERS as u64), Some(0), Some(0), Some(0)),
        "{v}"
    );
    assert_skipped(&copy, v);
    let files = persistence_file::FileAdapter::open(&dir).unwrap();
    assert_eq!(contents(&files).await, users, "every real user, exactly");
    let human = tool.run(&["copy", &url, &files_url, "--no-checkpoint"]);
    human.expect(1);
    assert!(
        human
            .stdout
            .contains("skipped 3 objects that are not keys / unreadable"),
        "{}",
        human.stdout
    );

    // verify, the strays on the destination side this time.
    let verify = tool.run(&["verify", &files_url, &url, "--json"]);
    verify.expect(1);
    let report = verify.json();
    assert_eq!(
        (
            report["source_keys"].as_u64(),
            report["missing"].as_u64(),
            report["different"].as_u64(),
            report["extra"].as_u64()
        ),
        (Some(USERS as u64), Some(0), Some(0), Some(0)),
        "{report}"
    );
    assert_skipped(&verify, &report);

    // purge-expired: every expired user deleted, the strays skipped and left alone.
    let hour_ago = SystemTime::now() - Duration::from_secs(3600);
    for i in 0..EXPIRED {
        s3.save_with(
            &format!("amzn1.ask.account.OLD{i}"),
            &Attributes::new(),
            &SaveOptions::new(SaveMode::CreateOnly).expiry(Expiry::At(hour_ago)),
        )
        .await
        .unwrap();
    }
    let dry = tool.run(&["purge-expired", &url, "--dry-run", "--json"]);
    dry.expect(1);
    let report = dry.json();
    assert_eq!(report["expired"], EXPIRED, "{report}");
    assert_skipped(&dry, &report);
    let purge = tool.run(&["purge-expired", &url, "--json"]);
    purge.expect(1);
    let report = purge.json();
    assert_eq!(
        (report["scanned"].as_u64(), report["deleted"].as_u64()),
        (Some((USERS + EXPIRED) as u64), Some(EXPIRED as u64)),
        "{report}"
    );
    assert_skipped(&purge, &report);
    assert_eq!(contents(&s3).await, users, "only the expired users deleted");
    for (name, _) in &strays {
        client
            .head_object()
            .bucket(&bucket)
            .key(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name} was touched: {e:?}"));
    }

    // A fatal error still stops a bulk command: a bucket that does not exist.
    let gone = tool.run(&["export", "s3://no-such-bucket-here/skills", "-"]);
    gone.expect(3);
}
