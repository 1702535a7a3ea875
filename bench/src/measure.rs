//! The main benchmark's measurements: each backend set up, seeded and measured (phases,
//! cold starts, requests, overhead against the raw SDK, conversion), into a [`Report`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use persistence_dynamodb::DynamoDbAdapter;
use persistence_memory::MemoryAdapter;
use persistence_s3::S3Adapter;
use persistence_sqlite::SqliteAdapter;

use crate::cli::Options;
use crate::counting::RequestCounter;
use crate::report::{ColdRow, OverheadRow, PhaseRow, Report, RequestsRow, SaveBytesRows, Settings};
use crate::run::{PhaseSpec, run_phase};
use crate::session::latency::{self, LatencySpec};
use crate::session::{self, Counter, Metered};
use crate::stats::median;
use crate::target::{Target, dynamodb_client, s3_client, sdk_config, unique_name};
use crate::workload::{Store, sample_map};
use crate::{Backend, BoxError, canned, cold, conversion, requests, run};

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
pub fn sqlite_dir() -> PathBuf {
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

pub async fn measure(opts: &Options, target: Option<&Target>) -> Result<Report, BoxError> {
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
        let mut remember = |ks: &[String]| {
            if matches!(target, Some(Target::Aws { .. })) {
                written.extend(ks.iter().map(|k| (s.adapter.clone(), k.clone())));
            }
        };

        if !opts.sessions_only {
            measure_turns(opts, target, &s, backend, &key, &mut remember, &mut report).await?;
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
            let rows = requests::save_bytes(counting, counter, &prefix, old_save).await?;
            remember(&[format!("{prefix}-large")]);
            report.save_bytes.push(SaveBytesRows { backend, rows });
        }

        // Issue 22: requests per five-turn session through the skill builder.
        eprintln!("bench: {b}: requests per five-turn session (skill builder)");
        let prefix = key("sessions", 0);
        let rows = match &s.counting {
            Some((counting, counter)) => {
                session::count(backend, counting.clone(), Counter::Sdk(counter), &prefix).await?
            }
            None => {
                let metered = Metered::new(s.adapter.clone());
                session::count(
                    backend,
                    Arc::new(metered.clone()),
                    Counter::Adapter(&metered),
                    &prefix,
                )
                .await?
            }
        };
        remember(&session::count_keys(&prefix));
        report.session_counts.extend(rows);

        // Issue 22: session latency and account linking under an emulated network.
        if let (Backend::DynamoDb, Some(t), true) = (backend, target, opts.session_latency) {
            let spec = LatencySpec {
                sessions: opts.sessions,
                warmup: opts.session_warmup,
                one_way: opts.one_way,
                python: opts.python.as_ref().ok().cloned(),
                python_missing: opts.python.as_ref().err().cloned(),
                lookup: opts.lookup,
                table: s.name.clone(),
            };
            let (r, ks) = latency::run(t, &spec, &key("latency", 0)).await?;
            remember(&ks);
            report.session_latency = Some(r);
        }
    }

    if !written.is_empty() {
        eprintln!("bench: deleting the {} keys written", written.len());
        for (adapter, k) in &written {
            adapter.delete(k).await?;
        }
    }

    if opts.conversion && !opts.sessions_only {
        eprintln!("bench: conversion throughput");
        report.conversion = tokio::task::spawn_blocking({
            let (batch, batches) = (opts.conversion_batch, opts.conversion_batches);
            move || conversion::run(batch, batches)
        })
        .await??;
    }
    Ok(report)
}

/// Cold starts, CPU and latency phases, and the adapter against the raw SDK, for one backend.
async fn measure_turns(
    opts: &Options,
    target: Option<&Target>,
    s: &Setup,
    backend: Backend,
    key: &impl Fn(&str, usize) -> String,
    remember: &mut impl FnMut(&[String]),
    report: &mut Report,
) -> Result<(), BoxError> {
    let b = backend.name();
    let keys = |phase: &str, n: usize| (0..n).map(|i| key(phase, i)).collect::<Vec<_>>();
    {
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
    }
    Ok(())
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
pub fn median_of(results: &[run::PhaseResult], f: impl Fn(&run::PhaseResult) -> f64) -> f64 {
    median(&results.iter().map(f).collect::<Vec<_>>())
}
