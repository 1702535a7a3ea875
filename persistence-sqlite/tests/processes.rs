//! Several processes on one database file: no update is lost between them, and a writer killed
//! with SIGKILL mid-loop leaves a consistent file holding every write it reported.
//!
//! The processes are this test binary run again with `--ignored --exact child`, told what to
//! do by environment variables; they print what they did on stdout, one line each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{attrs, fresh_path};
use persistence_core::{Error, PersistenceAdapter, PersistenceAdapterExt, RetryPolicy, SaveMode};
use persistence_sqlite::SqliteAdapter;
use serde_json::{Value, json};

/// What the child does: `count` or `crash`.
const ROLE: &str = "PERSISTENCE_SQLITE_CHILD";
const DB: &str = "PERSISTENCE_SQLITE_CHILD_DB";
const KEY: &str = "PERSISTENCE_SQLITE_CHILD_KEY";
const UPDATES: &str = "PERSISTENCE_SQLITE_CHILD_UPDATES";
const FIRST: &str = "PERSISTENCE_SQLITE_CHILD_FIRST";

/// Keys the crashing writer cycles through.
const CRASH_KEYS: usize = 8;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn spawn_child(role: &str, db: &Path, vars: &[(&str, String)]) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--ignored", "--nocapture", "--quiet"])
        .env(ROLE, role)
        .env(DB, db)
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

/// The child's side: does nothing unless started by one of the tests below.
#[test]
#[ignore = "a child process of the tests in this file"]
fn child() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match role.as_str() {
        "count" => rt.block_on(count_child()),
        "crash" => rt.block_on(crash_child()),
        other => panic!("unknown child role {other}"),
    }
}

/// Waits for "go" on stdin, then makes `UPDATES` increments of `KEY`'s counter with
/// `update_with`, retrying an increment whose update failed with a backend error (a lock held
/// past the busy timeout); prints one `REPORT` line.
async fn count_child() {
    let store = SqliteAdapter::open(env(DB)).await.unwrap();
    let key = env(KEY);
    let updates: u64 = env(UPDATES).parse().unwrap();
    let mut go = String::new();
    std::io::stdin().read_line(&mut go).unwrap();
    let policy = RetryPolicy {
        max_attempts: 10_000,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    };
    let (mut done, mut conflicts, mut busy, mut gave_up, mut max_attempts) =
        (0u64, 0u64, 0u64, 0u64, 0u32);
    for _ in 0..updates {
        let mut tries = 0;
        loop {
            tries += 1;
            match store
                .update_with(&key, &policy, |a| {
                    let n = a.get("count").and_then(Value::as_u64).unwrap_or(0);
                    a.insert("count".into(), json!(n + 1));
                })
                .await
            {
                Ok(out) => {
                    done += 1;
                    conflicts += u64::from(out.attempts - 1);
                    max_attempts = max_attempts.max(out.attempts);
                    break;
                }
                Err(Error::Backend { .. }) if tries < 100 => busy += 1,
                Err(e) => {
                    eprintln!("update gave up: {e}");
                    gave_up += 1;
                    break;
                }
            }
        }
    }
    println!(
        "REPORT done={done} conflicts={conflicts} busy={busy} gave_up={gave_up} max_attempts={max_attempts}"
    );
}

/// Saves `{"n": i}` under `CRASH_KEYS` keys in turn, `i` counting up from `FIRST`, printing
/// `COMMITTED <key index> <i>` after each save returned, until killed (or, should nobody kill
/// it, for at most 60 s).
async fn crash_child() {
    let store = SqliteAdapter::open(env(DB)).await.unwrap();
    let first: u64 = env(FIRST).parse().unwrap();
    let started = Instant::now();
    let mut out = std::io::stdout().lock();
    for i in first.. {
        for k in 0..CRASH_KEYS {
            store
                .save(&crash_key(k), &attrs(json!({"n": i})), SaveMode::Overwrite)
                .await
                .unwrap();
            writeln!(out, "COMMITTED {k} {i}").unwrap();
            out.flush().unwrap();
        }
        if started.elapsed() > Duration::from_secs(60) {
            return;
        }
    }
}

fn crash_key(k: usize) -> String {
    format!("amzn1.ask.account.crash-{k}")
}

fn field(line: &str, name: &str) -> u64 {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
}

/// 4 processes x 50 `update()` calls on one key of one file: the counter ends at exactly 200.
#[test]
fn processes_sharing_a_file_lose_no_update() {
    const PROCESSES: usize = 4;
    const UPDATES: u64 = 50;
    let path = fresh_path("processes");
    let key = "amzn1.ask.account.shared-counter";
    let rt = tokio::runtime::Runtime::new().unwrap();
    // Created up front, so the children race on the counter, not on creating the schema.
    drop(rt.block_on(SqliteAdapter::open(&path)).unwrap());

    let started = Instant::now();
    let mut children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            spawn_child(
                "count",
                &path,
                &[(KEY, key.to_owned()), (self::UPDATES, UPDATES.to_string())],
            )
        })
        .collect();
    for c in &mut children {
        c.stdin.take().unwrap().write_all(b"go\n").unwrap();
    }
    let (mut done, mut conflicts, mut busy, mut gave_up, mut max_attempts) = (0, 0, 0, 0, 0);
    for c in children {
        let out = c.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "a child failed: {stdout}");
        let report = stdout
            .lines()
            .find(|l| l.starts_with("REPORT"))
            .unwrap_or_else(|| panic!("no report in {stdout:?}"));
        done += field(report, "done");
        conflicts += field(report, "conflicts");
        busy += field(report, "busy");
        gave_up += field(report, "gave_up");
        max_attempts = max_attempts.max(field(report, "max_attempts"));
    }
    let elapsed = started.elapsed();

    let store = rt.block_on(SqliteAdapter::open(&path)).unwrap();
    let count = rt.block_on(store.get(key)).unwrap().unwrap().attributes["count"]
        .as_u64()
        .unwrap();
    eprintln!(
        "{PROCESSES} processes x {UPDATES} updates: final count {count} (expected {}), \
         {conflicts} conflicts retried, at most {max_attempts} attempts for one update, \
         {busy} updates failed on a lock past the busy timeout and were made again, \
         {gave_up} gave up, {elapsed:.1?}",
        PROCESSES as u64 * UPDATES
    );
    assert_eq!(gave_up, 0, "updates gave up");
    assert_eq!(done, PROCESSES as u64 * UPDATES);
    assert_eq!(count, PROCESSES as u64 * UPDATES, "updates were lost");
}

/// A writer in a tight save loop is killed with SIGKILL, three times over on one file: after
/// each kill the file passes `PRAGMA integrity_check`, and every key holds the last value the
/// writer reported as committed, or, for the one save in flight, the value it was writing.
#[test]
fn a_writer_killed_mid_loop_leaves_every_reported_write() {
    let path = fresh_path("crash");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut last: BTreeMap<usize, u64> = BTreeMap::new();
    for round in 0..3u64 {
        let first = round * 1_000_000;
        let mut child = spawn_child("crash", &path, &[(FIRST, first.to_string())]);
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let kill_after = 50 + fastrand_below(2000);
        let mut reported = 0;
        let mut last_line: Option<(usize, u64)> = None;
        let mut line = String::new();
        let mut killed = false;
        loop {
            line.clear();
            let n = lines.read_line(&mut line).unwrap();
            if n == 0 {
                break; // the child is gone and its output read
            }
            if !line.ends_with('\n') {
                continue; // cut off by the kill: not a report
            }
            if let Some(rest) = line.trim_end().strip_prefix("COMMITTED ") {
                let (k, i) = rest.split_once(' ').unwrap();
                let (k, i): (usize, u64) = (k.parse().unwrap(), i.parse().unwrap());
                last.insert(k, i);
                last_line = Some((k, i));
                reported += 1;
                if reported == kill_after && !killed {
                    // SIGKILL on Unix; whatever was printed before stays in the pipe.
                    child.kill().unwrap();
                    killed = true;
                }
            }
        }
        let status = child.wait().unwrap();
        assert!(
            killed,
            "the writer ended by itself ({status}) after {reported} saves"
        );
        assert!(!status.success(), "killed, not finished: {status}");

        let conn = rusqlite::Connection::open(&path).unwrap();
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "round {round}");
        drop(conn);

        // The save in flight when the kill came: the key after the last one reported.
        let (k, i) = last_line.unwrap();
        let in_flight = if k + 1 < CRASH_KEYS {
            (k + 1, i)
        } else {
            (0, i + 1)
        };
        let store = rt.block_on(SqliteAdapter::open(&path)).unwrap();
        let mut in_flight_landed = false;
        for key in 0..CRASH_KEYS {
            let stored = rt
                .block_on(store.get(&crash_key(key)))
                .unwrap()
                .map(|s| s.attributes["n"].as_u64().unwrap());
            let reported = last.get(&key).copied();
            if key == in_flight.0 && stored == Some(in_flight.1) {
                in_flight_landed = true;
                last.insert(key, in_flight.1);
                continue;
            }
            assert_eq!(
                stored, reported,
                "round {round}: key {key} holds {stored:?}, last reported {reported:?}"
            );
        }
        eprintln!(
            "round {round}: killed after {reported} reported saves; integrity ok; every key \
             holds its last reported value{}",
            if in_flight_landed {
                " (the save in flight had committed too)"
            } else {
                ""
            }
        );
    }
}

fn fastrand_below(n: usize) -> usize {
    let t = persistence_core::unique_token();
    usize::from_str_radix(&t[24..], 16).unwrap() % n
}
