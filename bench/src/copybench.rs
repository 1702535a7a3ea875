//! `persistence-bench --copy`: `alexa-persistence copy` of a DynamoDB table to S3 on the
//! emulator, in keys per second and the tool's peak memory, against a plain boto3 scan-and-put
//! script (`bench/scripts/boto3_copy.py`) run in the same session.
//!
//! ```text
//! cargo build --release -p persistence-cli -p persistence-bench
//! target/release/persistence-bench --copy                       # 10 000 and 100 000 keys
//! target/release/persistence-bench --copy --keys 2000 --boto3-threads 1
//! ```

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use futures::StreamExt;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeValLike;
use persistence_core::Attributes;
use persistence_dynamodb::DynamoDbAdapter;
use serde::Serialize;
use serde_json::Value;

use crate::BoxError;
use crate::cli::CopyArgs;
use crate::stats::Table;
use crate::sys::Machine;
use crate::target::{LocalStack, Target, dynamodb_client, s3_client, unique_name};
use crate::workload::sample_map;

/// The copy benchmark's settings (`--copy` and the options under "With --copy" in `--help`).
pub struct Options {
    keys: Vec<usize>,
    concurrency: usize,
    boto3_threads: Vec<usize>,
    boto3_max_keys: usize,
    tool: PathBuf,
    python: PathBuf,
    json: Option<PathBuf>,
}

impl Options {
    /// The settings `args` ask for, the tool and Python found where they are by default.
    ///
    /// # Errors
    /// When the tool is not there (it must be built first).
    pub fn new(args: &CopyArgs, json: Option<PathBuf>) -> Result<Self, BoxError> {
        let exe_dir = std::env::current_exe()?
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        let cache = std::env::var_os("ALEXA_PERSISTENCE_CACHE")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/alexa-persistence"))
            })
            .unwrap_or_default();
        let o = Options {
            keys: args.keys.clone(),
            concurrency: args.concurrency,
            boto3_threads: args.boto3_threads.clone(),
            boto3_max_keys: args.boto3_max_keys,
            tool: args
                .tool
                .clone()
                .unwrap_or_else(|| exe_dir.join("alexa-persistence")),
            python: args
                .python
                .clone()
                .unwrap_or_else(|| cache.join("localstack/venv/bin/python")),
            json,
        };
        if !o.tool.exists() {
            return Err(format!(
                "{} not found: build it with `cargo build --release -p persistence-cli`, or pass --tool",
                o.tool.display()
            )
            .into());
        }
        Ok(o)
    }
}

/// One run of a copier over one table.
#[derive(Clone, Debug, Serialize)]
pub struct CopyRun {
    /// `alexa-persistence` or `boto3 (N threads)`.
    pub copier: String,
    /// Keys in the table.
    pub keys: usize,
    /// Keys the copier reported copied.
    pub copied: u64,
    /// Wall time of the process, seconds.
    pub wall_s: f64,
    /// Keys per second (wall).
    pub keys_per_s: f64,
    /// CPU (user + system) of the copier process per key, milliseconds.
    pub cpu_ms_per_key: f64,
    /// Peak resident memory of the copier process (VmHWM / ru_maxrss), KiB.
    pub peak_rss_kib: Option<u64>,
}

/// The figures of `--copy`.
#[derive(Clone, Debug, Serialize)]
pub struct CopyReport {
    /// The machine.
    pub machine: Machine,
    /// The emulator.
    pub target: String,
    /// Bytes of one item's attributes as compact JSON.
    pub attributes_bytes: usize,
    /// The tool's --concurrency.
    pub concurrency: usize,
    /// Every run.
    pub runs: Vec<CopyRun>,
}

fn children_cpu() -> Duration {
    match getrusage(UsageWho::RUSAGE_CHILDREN) {
        Ok(u) => {
            let micros = u.user_time().num_microseconds() + u.system_time().num_microseconds();
            Duration::from_micros(u64::try_from(micros).unwrap_or(0))
        }
        Err(_) => Duration::ZERO,
    }
}

/// Runs a command, returning its stdout as JSON, wall time and CPU.
fn measure(mut cmd: Command) -> Result<(Value, Duration, Duration), BoxError> {
    let cpu0 = children_cpu();
    let t0 = Instant::now();
    let out = cmd.stderr(Stdio::inherit()).output()?;
    let wall = t0.elapsed();
    let cpu = children_cpu().saturating_sub(cpu0);
    if !out.status.success() {
        return Err(format!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stdout)
        )
        .into());
    }
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| {
        format!(
            "{cmd:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })?;
    Ok((v, wall, cpu))
}

/// Seeds `n` items in the official SDKs' layout with BatchWriteItem, 8 batches at once.
async fn seed(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    n: usize,
    attrs: &AttributeValue,
) -> Result<(), BoxError> {
    let batches = (0..n).collect::<Vec<_>>();
    let results = futures::stream::iter(batches.chunks(25).map(<[usize]>::to_vec))
        .map(|chunk| async move {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|i| {
                    let put = PutRequest::builder()
                        .item(
                            "id",
                            AttributeValue::S(format!("amzn1.ask.account.BENCH{i:08}")),
                        )
                        .item("attributes", attrs.clone())
                        .build()?;
                    Ok::<_, BoxError>(WriteRequest::builder().put_request(put).build())
                })
                .collect::<Result<_, _>>()?;
            while !requests.is_empty() {
                let out = client
                    .batch_write_item()
                    .request_items(table, requests)
                    .send()
                    .await?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(table))
                    .unwrap_or_default();
            }
            Ok::<_, BoxError>(())
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    results.into_iter().collect()
}

/// Runs the copy benchmark (`persistence-bench --copy ...`).
pub fn main(opts: &Options) -> Result<(), BoxError> {
    let machine = Machine::detect();
    eprintln!("bench --copy: {}", machine.describe());
    let mut localstack = None;
    let target = match std::env::var("AWS_ENDPOINT_URL")
        .ok()
        .filter(|e| !e.is_empty())
    {
        Some(endpoint) => Target::Emulator {
            endpoint,
            description: std::env::var("ALEXA_PERSISTENCE_EMULATOR_VERSION")
                .unwrap_or_else(|_| "external emulator".into()),
            keep_alive: true,
        },
        None => {
            eprintln!("bench --copy: AWS_ENDPOINT_URL is unset: starting LocalStack");
            localstack.insert(LocalStack::new()?).start(true)?
        }
    };
    let Target::Emulator {
        endpoint,
        description,
        ..
    } = &target
    else {
        return Err("--copy runs on an emulator only".into());
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = rt.block_on(run(opts, &target, endpoint));
    drop(rt);
    if let Some(mut ls) = localstack.take() {
        ls.stop();
    }
    let runs = result?;
    let attrs = Attributes::from(sample_map(1024));
    let report = CopyReport {
        machine,
        target: description.clone(),
        attributes_bytes: attrs.json_len(),
        concurrency: opts.concurrency,
        runs,
    };
    let mut t = Table::new(
        format!(
            "copy DynamoDB -> S3 on {} ({} B per item)",
            report.target, report.attributes_bytes
        ),
        &[
            "copier",
            "keys",
            "keys/s",
            "wall s",
            "CPU ms/key",
            "peak RSS MiB",
        ],
    );
    for r in &report.runs {
        t.row(vec![
            r.copier.clone(),
            r.keys.to_string(),
            format!("{:.0}", r.keys_per_s),
            format!("{:.1}", r.wall_s),
            format!("{:.3}", r.cpu_ms_per_key),
            r.peak_rss_kib
                .map_or("?".into(), |k| format!("{:.1}", k as f64 / 1024.0)),
        ]);
    }
    t.note(format!(
        "alexa-persistence copy --concurrency {}; CPU is the copier process's (the emulator's is not counted)",
        opts.concurrency
    ));
    println!("{}", t.render());
    if let Some(path) = &opts.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("bench --copy: wrote {}", path.display());
    }
    Ok(())
}

async fn run(opts: &Options, target: &Target, endpoint: &str) -> Result<Vec<CopyRun>, BoxError> {
    // Seeding 100 000 items in batches takes longer per call than a skill's turn may.
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "emulator",
        ))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(60))
                .operation_timeout(Duration::from_secs(300))
                .build(),
        )
        .load()
        .await;
    let ddb = dynamodb_client(&conf, target, None);
    let s3 = s3_client(&conf, target, None);
    let attrs = persistence_dynamodb::attributes_to_dynamodb(&Attributes::from(sample_map(1024)))?;
    let env = [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
    ];
    let mut runs = Vec::new();
    for &n in &opts.keys {
        let table = unique_name("copy");
        let bucket = unique_name("copy");
        DynamoDbAdapter::builder(ddb.clone(), &table)
            .build()
            .ensure_table()
            .await?;
        s3.create_bucket().bucket(&bucket).send().await?;
        let t0 = Instant::now();
        seed(&ddb, &table, n, &attrs)
            .await
            .map_err(|e| format!("seeding {n} items: {e}"))?;
        eprintln!(
            "bench --copy: seeded {n} items in {:.1} s",
            t0.elapsed().as_secs_f64()
        );

        let mut cmd = Command::new(&opts.tool);
        cmd.args([
            "copy",
            &format!("dynamodb://{table}"),
            &format!("s3://{bucket}/tool"),
            "--json",
            "--no-checkpoint",
            "--quiet",
            "--concurrency",
            &opts.concurrency.to_string(),
        ])
        .envs(env)
        .env("RUST_LOG", "warn");
        let (v, wall, cpu) = measure(cmd)?;
        let copied = v["copied"].as_u64().unwrap_or(0);
        if copied != n as u64 {
            return Err(format!("alexa-persistence copied {copied} of {n}: {v}").into());
        }
        let run = CopyRun {
            copier: "alexa-persistence".into(),
            keys: n,
            copied,
            wall_s: wall.as_secs_f64(),
            keys_per_s: n as f64 / wall.as_secs_f64(),
            cpu_ms_per_key: cpu.as_secs_f64() * 1000.0 / n as f64,
            peak_rss_kib: v["peak_rss_kib"].as_u64(),
        };
        eprintln!("bench --copy: {run:?}");
        runs.push(run);

        if n <= opts.boto3_max_keys {
            for &threads in &opts.boto3_threads {
                let mut cmd = Command::new(&opts.python);
                cmd.arg(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/scripts/boto3_copy.py"
                ))
                .args([
                    "--endpoint",
                    endpoint,
                    "--table",
                    &table,
                    "--bucket",
                    &bucket,
                ])
                .args([
                    "--prefix",
                    &format!("boto3-{threads}"),
                    "--threads",
                    &threads.to_string(),
                ]);
                let (v, wall, cpu) = measure(cmd)?;
                let copied = v["keys"].as_u64().unwrap_or(0);
                if copied != n as u64 {
                    return Err(format!("boto3 copied {copied} of {n}: {v}").into());
                }
                let run = CopyRun {
                    copier: if threads == 1 {
                        "boto3 scan + put (plain loop)".into()
                    } else {
                        format!("boto3 scan + put ({threads} threads)")
                    },
                    keys: n,
                    copied,
                    wall_s: wall.as_secs_f64(),
                    keys_per_s: n as f64 / wall.as_secs_f64(),
                    cpu_ms_per_key: cpu.as_secs_f64() * 1000.0 / n as f64,
                    peak_rss_kib: v["peak_rss_kib"].as_u64(),
                };
                eprintln!("bench --copy: {run:?}");
                runs.push(run);
            }
        }
        // Free the emulator's memory for the next size.
        let _ = ddb.delete_table().table_name(&table).send().await;
    }
    Ok(runs)
}
