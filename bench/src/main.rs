//! `persistence-bench`: what a skill turn costs with each persistence backend.
//!
//! ```text
//! cargo run --release -p persistence-bench                 # ~2.5 min: memory, SQLite, DynamoDB, S3
//! cargo run --release -p persistence-bench -- --quick      # ~30 s smoke run
//! cargo run --release -p persistence-bench -- --help
//! ```
//!
//! Without `AWS_ENDPOINT_URL` it starts LocalStack on loopback with
//! `scripts/emulator/localstack.sh` (in `LOCALSTACK_STATE_DIR` if set, else a state directory of
//! its own) and stops it when done, on an error, on Ctrl-C or on SIGTERM. With
//! `AWS_ENDPOINT_URL` set it uses that emulator. With `BENCH_AWS=1` (and no
//! `AWS_ENDPOINT_URL`) it runs against real AWS: the default credential and region chain,
//! the table `BENCH_DYNAMODB_TABLE` (created on demand if missing) and the existing bucket
//! `BENCH_S3_BUCKET`; the keys it writes are deleted at the end.
//!
//! It prints one table per measurement to stdout (progress goes to stderr) and, with
//! `--json FILE`, writes every figure as JSON. It never fails on speed: the figures are
//! reported, not asserted.

mod canned;
mod cold;
mod conversion;
mod copybench;
mod counting;
mod report;
mod requests;
mod run;
mod stats;
mod sys;
mod target;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_memory::MemoryAdapter;
use persistence_s3::S3Adapter;
use persistence_sqlite::SqliteAdapter;
use serde::Serialize;

use crate::counting::RequestCounter;
use crate::report::{ColdRow, OverheadRow, PhaseRow, Report, RequestsRow, SaveBytesRows, Settings};
use crate::run::{PhaseSpec, run_phase};
use crate::stats::median;
use crate::target::{LocalStack, Target, dynamodb_client, s3_client, sdk_config, unique_name};
use crate::workload::{Store, sample_map};

/// Errors, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A persistence backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// `persistence-memory`.
    Memory,
    /// `persistence-sqlite`, on a file in a temporary directory.
    Sqlite,
    /// `persistence-dynamodb`.
    DynamoDb,
    /// `persistence-s3`.
    S3,
}

impl Backend {
    /// `memory`, `sqlite`, `dynamodb`, `s3`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Memory => "memory",
            Backend::Sqlite => "sqlite",
            Backend::DynamoDb => "dynamodb",
            Backend::S3 => "s3",
        }
    }

    /// Whether it needs DynamoDB or S3.
    pub fn is_cloud(self) -> bool {
        matches!(self, Backend::DynamoDb | Backend::S3)
    }

    /// Whether what it stores outlives the process (a cold start then reads a stored user).
    pub fn persists(self) -> bool {
        self != Backend::Memory
    }
}

impl FromStr for Backend {
    type Err = BoxError;
    fn from_str(s: &str) -> Result<Self, BoxError> {
        match s {
            "memory" => Ok(Backend::Memory),
            "sqlite" => Ok(Backend::Sqlite),
            "dynamodb" => Ok(Backend::DynamoDb),
            "s3" => Ok(Backend::S3),
            other => {
                Err(format!("unknown backend `{other}` (memory, sqlite, dynamodb, s3)").into())
            }
        }
    }
}

const USAGE: &str = "\
persistence-bench: what a skill turn costs (client CPU, latency, cold start, peak memory,
requests per turn, adapter/raw-SDK overhead, conversion throughput).

usage: cargo run --release -p persistence-bench -- [options]

  --quick             ~30 s smoke run (short phases, 3 cold starts)
  --json FILE         also write every figure as JSON to FILE
  --backends LIST     comma-separated: memory,sqlite,dynamodb,s3 (default: all four;
                      memory,sqlite needs no emulator)
  --duration SECS     measured time per phase (default 5, quick 1)
  --cold-runs N       cold starts per backend (default 7, quick 3)
  --skip-conversion   do not measure conversion throughput
  --no-keep-alive     on an emulator, let LocalStack close the connection after every
                      request (its default); by default requests ask for keep-alive, as
                      connections to AWS are kept
  --current-thread    run the measured turns on a current-thread tokio runtime
                      (default: multi-thread, one worker per CPU, as #[tokio::main])
  --copy              measure `alexa-persistence copy` DynamoDB -> S3 against boto3 instead
                      (see --copy --help)
  --help              this text

Where DynamoDB and S3 are:
  AWS_ENDPOINT_URL set      that emulator (e.g. from scripts/emulator/localstack.sh env)
  BENCH_AWS=1               real AWS: default credentials/region, BENCH_DYNAMODB_TABLE (created
                            if missing), BENCH_S3_BUCKET (must exist); keys are deleted after
  otherwise                 LocalStack is started with scripts/emulator/localstack.sh
                            (LOCALSTACK_STATE_DIR if set) and stopped at the end";

/// Run settings.
#[derive(Clone, Debug)]
struct Options {
    quick: bool,
    json: Option<PathBuf>,
    backends: Vec<Backend>,
    phase: Duration,
    overhead_rounds: usize,
    overhead_phase: Duration,
    canned_phase: Duration,
    cold_runs: usize,
    conversion_batch: Duration,
    conversion_batches: usize,
    sequential_users: usize,
    concurrency: Vec<usize>,
    max_turns: usize,
    warmup_per_key: usize,
    conversion: bool,
    keep_alive: bool,
    current_thread: bool,
}

impl Options {
    fn parse(args: &[String]) -> Result<Option<Self>, BoxError> {
        let mut quick = false;
        let mut json = None;
        let mut backends = vec![
            Backend::Memory,
            Backend::Sqlite,
            Backend::DynamoDb,
            Backend::S3,
        ];
        let mut duration = None;
        let mut cold_runs = None;
        let mut conversion = true;
        let mut keep_alive = true;
        let mut current_thread = false;
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
            match a.as_str() {
                "--help" | "-h" => return Ok(None),
                "--quick" => quick = true,
                "--skip-conversion" => conversion = false,
                "--no-keep-alive" => keep_alive = false,
                "--current-thread" => current_thread = true,
                "--json" => json = Some(PathBuf::from(value()?)),
                "--backends" => {
                    backends = value()?
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::parse)
                        .collect::<Result<_, _>>()?
                }
                "--duration" => {
                    duration = Some(Duration::from_secs_f64(
                        value()?
                            .parse::<f64>()
                            .map_err(|e| format!("--duration: {e}"))?
                            .max(0.1),
                    ))
                }
                "--cold-runs" => {
                    cold_runs = Some(
                        value()?
                            .parse::<usize>()
                            .map_err(|e| format!("--cold-runs: {e}"))?
                            .max(1),
                    )
                }
                other => return Err(format!("unknown argument `{other}`; see --help").into()),
            }
        }
        let phase = duration.unwrap_or(Duration::from_secs(if quick { 1 } else { 5 }));
        Ok(Some(Self {
            quick,
            json,
            backends,
            phase,
            // Short interleaved rounds: drift of the machine's load hits both sides alike.
            overhead_rounds: if quick { 2 } else { 6 },
            overhead_phase: phase.mul_f64(if quick { 0.6 } else { 0.3 }),
            canned_phase: phase.mul_f64(if quick { 0.2 } else { 0.1 }),
            cold_runs: cold_runs.unwrap_or(if quick { 3 } else { 7 }),
            conversion_batch: Duration::from_millis(if quick { 40 } else { 150 }),
            conversion_batches: if quick { 3 } else { 5 },
            sequential_users: 10,
            concurrency: vec![1, 8, 64],
            max_turns: 300_000,
            warmup_per_key: 3,
            conversion,
            keep_alive,
            current_thread,
        }))
    }
}

fn main() -> ExitCode {
    let entered = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = if args.iter().any(|a| a == "--cold-start") {
        cold::child(entered, &args)
    } else if args.iter().any(|a| a == "--copy") {
        copybench::main(&args)
    } else {
        bench(&args)
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("persistence-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn bench(args: &[String]) -> Result<(), BoxError> {
    let Some(opts) = Options::parse(args)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let started = Instant::now();
    let started_utc = report::utc_now();
    let machine = sys::Machine::detect();
    eprintln!("bench: {}", machine.describe());

    // Ctrl-C and SIGTERM stop a LocalStack this process started, from a runtime of their own
    // (live before LocalStack starts, whatever runtime the measurements use).
    let watcher = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let mut localstack = None;
    let target = if !opts.backends.iter().any(|b| b.is_cloud()) {
        None
    } else if let Some(endpoint) = env_var("AWS_ENDPOINT_URL") {
        Some(Target::Emulator {
            endpoint,
            description: env_var("ALEXA_PERSISTENCE_EMULATOR_VERSION")
                .unwrap_or_else(|| "external emulator".into()),
            keep_alive: opts.keep_alive,
        })
    } else if env_var("BENCH_AWS").is_some_and(|v| v == "1") {
        Some(Target::Aws {
            table: env_var("BENCH_DYNAMODB_TABLE"),
            bucket: env_var("BENCH_S3_BUCKET"),
        })
    } else {
        eprintln!("bench: AWS_ENDPOINT_URL is unset: starting LocalStack");
        let ls = localstack.insert(LocalStack::new()?);
        let (script, dir) = ls.stopper();
        watcher.spawn(async move {
            let Ok(mut term) =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            else {
                return;
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            eprintln!("bench: interrupted; stopping LocalStack");
            LocalStack::stop_dir(&script, &dir);
            std::process::exit(130);
        });
        Some(ls.start(opts.keep_alive)?)
    };
    if let Some(t) = &target {
        eprintln!("bench: DynamoDB and S3 at {}", t.describe());
    }

    let rt = if opts.current_thread {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
    };
    let result = rt.block_on(measure(&opts, target.as_ref()));
    drop(rt);
    let _ = std::fs::remove_dir_all(sqlite_dir());
    if let Some(mut ls) = localstack.take() {
        ls.stop();
    }
    drop(watcher);
    let mut report = result?;
    report.started_utc = started_utc;
    report.duration_s = started.elapsed().as_secs_f64();
    report.machine = Some(machine);
    report.target = target.as_ref().map(Target::describe);
    report.command = format!(
        "cargo run --release -p persistence-bench{}{}",
        if args.is_empty() { "" } else { " -- " },
        args.join(" ")
    );

    println!("{}", report.render());
    if let Some(path) = &opts.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
        eprintln!("bench: wrote {}", path.display());
    }
    Ok(())
}

/// One backend's adapters and clients.
struct Setup {
    adapter: Arc<dyn PersistenceAdapter>,
    raw: Option<Store>,
    counting: Option<(Arc<dyn PersistenceAdapter>, RequestCounter)>,
    /// A DynamoDB client reporting to the counting adapter's counter, and the table.
    counting_dynamodb: Option<(aws_sdk_dynamodb::Client, String)>,
    /// Table or bucket.
    name: String,
}

/// Where the SQLite row's database lives (removed at the end).
fn sqlite_dir() -> PathBuf {
    std::env::temp_dir().join(format!("persistence-bench-sqlite-{}", std::process::id()))
}

async fn setup(backend: Backend, target: Option<&Target>) -> Result<Option<Setup>, BoxError> {
    let target = match (backend, target) {
        (Backend::Memory, _) => {
            return Ok(Some(Setup {
                adapter: Arc::new(MemoryAdapter::new()),
                raw: None,
                counting: None,
                counting_dynamodb: None,
                name: String::new(),
            }));
        }
        (Backend::Sqlite, _) => {
            let path = sqlite_dir().join("bench.sqlite3");
            let adapter = SqliteAdapter::builder(&path)
                .create_directories(true)
                .open()
                .await?;
            return Ok(Some(Setup {
                adapter: Arc::new(adapter),
                raw: None,
                counting: None,
                counting_dynamodb: None,
                name: path.to_string_lossy().into_owned(),
            }));
        }
        (_, Some(t)) => t,
        (_, None) => return Err("no DynamoDB/S3 target".into()),
    };
    let conf = sdk_config(target).await;
    let counter = RequestCounter::default();
    match backend {
        Backend::Memory | Backend::Sqlite => Ok(None),
        Backend::DynamoDb => {
            let table = match target {
                Target::Emulator { .. } => unique_name("ddb"),
                Target::Aws { table: Some(t), .. } => t.clone(),
                Target::Aws { table: None, .. } => {
                    eprintln!("bench: BENCH_DYNAMODB_TABLE is not set: skipping DynamoDB");
                    return Ok(None);
                }
            };
            let client = dynamodb_client(&conf, target, None);
            let adapter = DynamoDbAdapter::builder(client.clone(), &table).build();
            adapter.ensure_table().await?;
            let counting_client = dynamodb_client(&conf, target, Some(&counter));
            let counting = DynamoDbAdapter::builder(counting_client.clone(), &table).build();
            Ok(Some(Setup {
                adapter: Arc::new(adapter),
                raw: Some(Store::RawDynamoDb {
                    client,
                    table: table.clone(),
                }),
                counting: Some((Arc::new(counting), counter)),
                counting_dynamodb: Some((counting_client, table.clone())),
                name: table,
            }))
        }
        Backend::S3 => {
            let client = s3_client(&conf, target, None);
            let bucket = match target {
                Target::Emulator { .. } => {
                    let b = unique_name("s3");
                    client
                        .create_bucket()
                        .bucket(&b)
                        .send()
                        .await
                        .map_err(|e| {
                            format!(
                                "creating bucket {b}: {}",
                                aws_sdk_s3::error::DisplayErrorContext(e)
                            )
                        })?;
                    b
                }
                Target::Aws {
                    bucket: Some(b), ..
                } => b.clone(),
                Target::Aws { bucket: None, .. } => {
                    eprintln!("bench: BENCH_S3_BUCKET is not set: skipping S3");
                    return Ok(None);
                }
            };
            let adapter = S3Adapter::builder(client.clone(), &bucket).build();
            let counting =
                S3Adapter::builder(s3_client(&conf, target, Some(&counter)), &bucket).build();
            Ok(Some(Setup {
                adapter: Arc::new(adapter),
                raw: Some(Store::RawS3 {
                    client,
                    bucket: bucket.clone(),
                }),
                counting: Some((Arc::new(counting), counter)),
                counting_dynamodb: None,
                name: bucket,
            }))
        }
    }
}

/// Stores a ~1 KB map under every key, concurrently.
async fn seed(adapter: &Arc<dyn PersistenceAdapter>, keys: &[String]) -> Result<(), BoxError> {
    let attrs = Attributes::from(sample_map(1024));
    let tasks: Vec<_> = keys
        .iter()
        .map(|k| {
            let (a, k, attrs) = (adapter.clone(), k.clone(), attrs.clone());
            tokio::spawn(async move { a.save(&k, &attrs, SaveMode::Overwrite).await })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(())
}

async fn measure(opts: &Options, target: Option<&Target>) -> Result<Report, BoxError> {
    let run_id = format!("{:08x}", fastrand::u32(..));
    let mut report = Report {
        settings: Settings {
            quick: opts.quick,
            phase_s: opts.phase.as_secs_f64(),
            sequential_users: opts.sequential_users,
            concurrency: opts.concurrency.clone(),
            overhead_rounds: opts.overhead_rounds,
            overhead_phase_s: opts.overhead_phase.as_secs_f64(),
            canned_phase_s: opts.canned_phase.as_secs_f64(),
            cold_runs: opts.cold_runs,
            attributes_bytes: serde_json::to_vec(&sample_map(1024))?.len(),
            warmup_per_key: opts.warmup_per_key,
            runtime: if opts.current_thread {
                "tokio current-thread runtime".into()
            } else {
                format!(
                    "tokio multi-thread runtime ({} workers)",
                    std::thread::available_parallelism().map_or(1, |n| n.get())
                )
            },
        },
        ..Report::default()
    };
    let mut written: Vec<(Arc<dyn PersistenceAdapter>, String)> = Vec::new();

    for &backend in &opts.backends {
        let b = backend.name();
        eprintln!("bench: == {b}");
        let Some(s) = setup(backend, target).await? else {
            continue;
        };
        let key = |phase: &str, i: usize| format!("amzn1.ask.account.bench-{run_id}-{phase}-{i}");
        let keys = |phase: &str, n: usize| (0..n).map(|i| key(phase, i)).collect::<Vec<_>>();
        let mut remember = |ks: &[String]| {
            if matches!(target, Some(Target::Aws { .. })) {
                written.extend(ks.iter().map(|k| (s.adapter.clone(), k.clone())));
            }
        };

        // Cold start first, while nothing else is running.
        let cold_keys = keys("cold", opts.cold_runs + 1);
        if backend.persists() {
            seed(&s.adapter, &cold_keys).await?;
            remember(&cold_keys);
        }
        eprintln!("bench: {b}: {} cold starts", opts.cold_runs);
        let (t, name) = (target.cloned(), s.name.clone());
        let cold = tokio::task::spawn_blocking(move || {
            let t = t.unwrap_or(Target::Aws {
                table: None,
                bucket: None,
            });
            cold::run(backend, &t, &name, &cold_keys)
        })
        .await??;
        report.cold.push(ColdRow {
            backend,
            result: cold,
        });

        // CPU, throughput and latency: sequential, then concurrent users.
        let adapter_store = Arc::new(Store::Adapter {
            adapter: s.adapter.clone(),
            in_process: backend == Backend::Memory,
        });
        let modes = std::iter::once((false, opts.sequential_users))
            .chain(opts.concurrency.iter().map(|&c| (true, c)));
        for (concurrent, users) in modes {
            let mode = if concurrent {
                "concurrent"
            } else {
                "sequential"
            };
            let ks = keys(&format!("{}{users}", &mode[..3]), users);
            seed(&s.adapter, &ks).await?;
            remember(&ks);
            let spec = PhaseSpec {
                concurrent,
                keys: ks,
                duration: opts.phase,
                max_turns: opts.max_turns,
                warmup_per_key: opts.warmup_per_key,
            };
            let r = run_phase(adapter_store.clone(), &spec).await?;
            eprintln!(
                "bench: {b}: {mode} {users} users: {} turns, {:.0}/s, {:.4} ms CPU/turn{}",
                r.turns,
                r.turns_per_s,
                r.cpu_ms_per_turn,
                if r.errors > 0 {
                    format!(", {} errors", r.errors)
                } else {
                    String::new()
                }
            );
            report.phases.push(PhaseRow {
                backend,
                mode,
                users,
                result: r,
            });
        }

        // Adapter vs raw SDK, interleaved rounds, sequential.
        if let Some(raw) = &s.raw {
            eprintln!(
                "bench: {b}: adapter vs raw SDK, {} rounds",
                opts.overhead_rounds
            );
            let raw_store = Arc::new(raw.clone());
            let (ka, kr) = (
                keys("ovh-adapter", opts.sequential_users),
                keys("ovh-raw", opts.sequential_users),
            );
            seed(&s.adapter, &ka).await?;
            seed(&s.adapter, &kr).await?;
            remember(&ka);
            remember(&kr);
            let (a, r) = interleaved(
                (&adapter_store, &ka),
                (&raw_store, &kr),
                opts.overhead_rounds,
                opts.overhead_phase,
                opts.max_turns,
            )
            .await?;
            report.overhead.push(OverheadRow::new(backend, &a, &r));
        }

        // The same without network: canned HTTP responses in process.
        if let Some((adapter, raw)) = canned_stores(backend).await? {
            eprintln!(
                "bench: {b}: adapter vs raw SDK without network, {} rounds",
                opts.overhead_rounds
            );
            let ks = keys("canned", opts.sequential_users);
            let (a, r) = interleaved(
                (&Arc::new(adapter), &ks),
                (&Arc::new(raw), &ks),
                opts.overhead_rounds,
                opts.canned_phase,
                opts.max_turns,
            )
            .await?;
            report
                .overhead_canned
                .push(OverheadRow::new(backend, &a, &r));
        }

        // Requests per turn.
        if let Some((counting, counter)) = &s.counting {
            eprintln!("bench: {b}: requests per turn");
            let prefix = key("requests", 0);
            let rows = requests::count(counting.as_ref(), counter, &prefix).await?;
            remember(&["-returning", "-new", "-session"].map(|suffix| format!("{prefix}{suffix}")));
            report.requests.push(RequestsRow { backend, rows });

            eprintln!("bench: {b}: bytes of a save of a 350 KB map");
            let old_save = s
                .counting_dynamodb
                .as_ref()
                .map(|(client, table)| (client, table.as_str()));
            let rows = requests::save_bytes(counting.as_ref(), counter, &prefix, old_save).await?;
            remember(&[format!("{prefix}-large")]);
            report.save_bytes.push(SaveBytesRows { backend, rows });
        }
    }

    if !written.is_empty() {
        eprintln!("bench: deleting the {} keys written", written.len());
        for (adapter, k) in &written {
            adapter.delete(k).await?;
        }
    }

    if opts.conversion {
        eprintln!("bench: conversion throughput");
        report.conversion = tokio::task::spawn_blocking({
            let (batch, batches) = (opts.conversion_batch, opts.conversion_batches);
            move || conversion::run(batch, batches)
        })
        .await??;
    }
    Ok(report)
}

/// Runs `rounds` pairs of sequential phases, `a` on `ka` and `b` on `kb`, alternating which
/// goes first so that drift in the machine's load hits both alike.
async fn interleaved(
    (a, ka): (&Arc<Store>, &[String]),
    (b, kb): (&Arc<Store>, &[String]),
    rounds: usize,
    duration: Duration,
    max_turns: usize,
) -> Result<(Vec<run::PhaseResult>, Vec<run::PhaseResult>), BoxError> {
    let spec = |ks: &[String]| PhaseSpec {
        concurrent: false,
        keys: ks.to_vec(),
        duration,
        max_turns,
        warmup_per_key: 1,
    };
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            ra.push(run_phase(a.clone(), &spec(ka)).await?);
            rb.push(run_phase(b.clone(), &spec(kb)).await?);
        } else {
            rb.push(run_phase(b.clone(), &spec(kb)).await?);
            ra.push(run_phase(a.clone(), &spec(ka)).await?);
        }
    }
    Ok((ra, rb))
}

/// The adapter and the raw SDK over clients whose HTTP client is [`canned::Canned`].
async fn canned_stores(backend: Backend) -> Result<Option<(Store, Store)>, BoxError> {
    let nowhere = Target::Emulator {
        endpoint: "http://127.0.0.1:9".into(),
        description: String::new(),
        keep_alive: false,
    };
    let conf = sdk_config(&nowhere).await;
    let attrs = sample_map(1024);
    Ok(match backend {
        Backend::Memory | Backend::Sqlite => None,
        Backend::DynamoDb => {
            let client = aws_sdk_dynamodb::Client::from_conf(
                aws_sdk_dynamodb::config::Builder::from(&conf)
                    .http_client(canned::Canned::dynamodb(&attrs))
                    .build(),
            );
            let adapter = DynamoDbAdapter::builder(client.clone(), "canned").build();
            Some((
                Store::Adapter {
                    adapter: Arc::new(adapter),
                    in_process: false,
                },
                Store::RawDynamoDb {
                    client,
                    table: "canned".into(),
                },
            ))
        }
        Backend::S3 => {
            let client = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&conf)
                    .force_path_style(true)
                    .http_client(canned::Canned::s3(&attrs))
                    .build(),
            );
            let adapter = S3Adapter::builder(client.clone(), "canned").build();
            Some((
                Store::Adapter {
                    adapter: Arc::new(adapter),
                    in_process: false,
                },
                Store::RawS3 {
                    client,
                    bucket: "canned".into(),
                },
            ))
        }
    })
}

/// The median of per-round figures.
fn median_of(results: &[run::PhaseResult], f: impl Fn(&run::PhaseResult) -> f64) -> f64 {
    median(&results.iter().map(f).collect::<Vec<_>>())
}
