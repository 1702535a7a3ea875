//! Cold start: a fresh process (this binary with `--cold-start`) that builds the SDK config,
//! the client and the adapter (for SQLite: opens the database file), and saves one turn of a
//! returning user, as a Lambda cold start does. It reports the time from its spawn to the saved turn and its peak memory.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use persistence_core::{Attributes, PersistenceAdapter};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_memory::MemoryAdapter;
use persistence_s3::S3Adapter;
use persistence_sqlite::SqliteAdapter;
use serde::{Deserialize, Serialize};

use crate::stats::median;
use crate::target::{Target, dynamodb_client, s3_client, sdk_config};
use crate::workload::{adapter_turn, sample_map};
use crate::{Backend, BoxError};

/// The environment variable that carries the parent's clock at spawn (nanoseconds since the
/// Unix epoch) to the child.
const SPAWN_VAR: &str = "PERSISTENCE_BENCH_SPAWN_UNIX_NS";

/// What one cold-start child reports (one JSON line on stdout).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ChildReport {
    /// From the parent's spawn call to the first turn saved, ms (exec, loading, runtime, SDK
    /// config, client, connection, get, save).
    pub spawn_to_saved_ms: f64,
    /// From `main` to the first turn saved, ms.
    pub main_to_saved_ms: f64,
    /// Runtime, SDK config, client and adapter construction, ms.
    pub setup_ms: f64,
    /// The first `get` (includes opening the connection), ms.
    pub first_get_ms: f64,
    /// The first `save`, ms.
    pub first_save_ms: f64,
    /// `VmHWM` right after the save, KiB.
    pub peak_rss_kib: u64,
}

fn unix_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The child: `--cold-start <backend> --name <table|bucket> --key <key>
/// (--endpoint URL [--no-keep-alive] | --aws)`.
pub fn child(entered_main: Instant, args: &[String]) -> Result<(), BoxError> {
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let backend: Backend = arg("--cold-start")
        .ok_or("--cold-start needs a backend")?
        .parse()?;
    let name = arg("--name").unwrap_or_default();
    let key = arg("--key").ok_or("--cold-start needs --key")?;
    let target = match arg("--endpoint") {
        Some(endpoint) => Target::Emulator {
            endpoint,
            description: String::new(),
            keep_alive: !args.iter().any(|a| a == "--no-keep-alive"),
        },
        None => Target::Aws {
            table: None,
            bucket: None,
        },
    };

    let t_setup = Instant::now();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let (setup, get, save) = rt.block_on(async {
        let store: Arc<dyn PersistenceAdapter> = match backend {
            Backend::Memory => {
                let m = MemoryAdapter::new();
                m.seed(key.clone(), Attributes::from(sample_map(1024)));
                Arc::new(m)
            }
            // The database file the parent seeded: opening it (schema check included) is
            // part of the cold start.
            Backend::Sqlite => Arc::new(SqliteAdapter::open(&name).await?),
            Backend::DynamoDb => {
                let conf = sdk_config(&target).await;
                Arc::new(
                    DynamoDbAdapter::builder(dynamodb_client(&conf, &target, None), name).build(),
                )
            }
            Backend::S3 => {
                let conf = sdk_config(&target).await;
                Arc::new(S3Adapter::builder(s3_client(&conf, &target, None), name).build())
            }
        };
        let setup = t_setup.elapsed();
        let t = adapter_turn(store.as_ref(), &key).await?;
        Ok::<_, BoxError>((
            setup,
            Duration::from_nanos(t.get_ns),
            Duration::from_nanos(t.save_ns),
        ))
    })?;
    let saved = unix_ns();
    let main_to_saved = entered_main.elapsed();
    let peak = crate::sys::peak_rss_kib().unwrap_or(0);
    let spawned: Option<u128> = std::env::var(SPAWN_VAR).ok().and_then(|v| v.parse().ok());
    let report = ChildReport {
        spawn_to_saved_ms: spawned.map_or(f64::NAN, |s| saved.saturating_sub(s) as f64 / 1e6),
        main_to_saved_ms: ms(main_to_saved),
        setup_ms: ms(setup),
        first_get_ms: ms(get),
        first_save_ms: ms(save),
        peak_rss_kib: peak,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

/// Cold starts of one backend: every run's report and their medians.
#[derive(Clone, Debug, Serialize)]
pub struct ColdResult {
    /// Each measured run (a first, unmeasured run warms the page cache).
    pub runs: Vec<ChildReport>,
    /// Size of the binary, bytes.
    pub binary_bytes: u64,
}

impl ColdResult {
    fn values(&self, f: impl Fn(&ChildReport) -> f64) -> Vec<f64> {
        self.runs.iter().map(f).collect()
    }

    /// Minimum, median and maximum of a field.
    pub fn min_median_max(&self, f: impl Fn(&ChildReport) -> f64) -> (f64, f64, f64) {
        let v = self.values(f);
        let min = v.iter().copied().fold(f64::INFINITY, f64::min);
        let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (min, median(&v), max)
    }
}

/// Runs `runs + 1` children (the first one unmeasured) on `keys` (one per run, already
/// stored), one after another.
pub fn run(
    backend: Backend,
    target: &Target,
    name: &str,
    keys: &[String],
) -> Result<ColdResult, BoxError> {
    let exe = std::env::current_exe()?;
    let mut runs = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let mut cmd = Command::new(&exe);
        cmd.args(["--cold-start", backend.name(), "--name", name, "--key", key])
            .args(target.child_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd.env(SPAWN_VAR, unix_ns().to_string());
        let out = cmd.output()?;
        if !out.status.success() {
            return Err(format!(
                "cold-start child for {} failed ({}): {}",
                backend.name(),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        let line = String::from_utf8_lossy(&out.stdout);
        let report: ChildReport = serde_json::from_str(line.trim())
            .map_err(|e| format!("cold-start child printed {line:?}: {e}"))?;
        if i > 0 {
            runs.push(report);
        }
    }
    Ok(ColdResult {
        runs,
        binary_bytes: std::fs::metadata(&exe).map_or(0, |m| m.len()),
    })
}
