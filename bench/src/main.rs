//! `persistence-bench`: what a skill turn costs with each persistence backend.
//!
//! ```text
//! cargo run --release -p persistence-bench                 # ~2.5 min: memory, SQLite, DynamoDB, S3
//! cargo run --release -p persistence-bench -- --quick      # ~30 s smoke run
//! cargo run --release -p persistence-bench -- --help        # every option (clap)
//! cargo run --release -p persistence-bench -- --sessions-only --quick   # issue 22's rows only
//! ```
//!
//! Issue 22's rows (module `session`): requests per five-turn session through the skill
//! builder, before and after the carried copy and the cache, on every backend; the bytes of a
//! one-field change of a 350 KB map (partial writes, in the bytes table); the session's turn
//! latency and storage wait on DynamoDB behind a loopback proxy that adds a fixed delay each way
//! (`--rtt-ms`, default 10), against the official Python ASK SDK running the same session
//! (`bench/scripts/ask_session.py`); and the account-linking example's first turn with prefetch
//! on and off (a fake userinfo endpoint answering after `--lookup-ms`).
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

mod backend;
mod canned;
mod cli;
mod cold;
mod conversion;
mod copybench;
mod counting;
mod delay;
mod measure;
mod report;
mod requests;
mod run;
mod session;
mod stats;
mod sys;
mod target;
mod workload;

use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;

pub use crate::backend::Backend;
use crate::cli::{Cli, Options};
pub use crate::measure::median_of;
use crate::measure::{measure, sqlite_dir};
use crate::target::{LocalStack, Target};

/// Errors, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> ExitCode {
    let entered = Instant::now();
    let args: Vec<String> = std::env::args().skip(1).collect();
    // The cold-start child (this binary started by `cold::run`) reads its few internal
    // arguments by hand, before anything else: its figures are measured from `main`, and
    // building clap's parser first would add to them.
    let result = if args.iter().any(|a| a == "--cold-start") {
        cold::child(entered, &args)
    } else {
        let cli = Cli::parse();
        if cli.copy {
            copybench::Options::new(&cli.copy_args, cli.json.clone())
                .and_then(|opts| copybench::main(&opts))
        } else {
            bench(&Options::new(&cli), &args)
        }
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

/// The main benchmark, as `opts` (from the command line `args`) ask.
fn bench(opts: &Options, args: &[String]) -> Result<(), BoxError> {
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
    let result = rt.block_on(measure(opts, target.as_ref()));
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
