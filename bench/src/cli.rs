//! The command line (clap): the benchmark's options, and those of `--copy`.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};

use crate::Backend;

/// Where DynamoDB and S3 are, and the copy benchmark's notes: after the options in `--help`.
const AFTER_HELP: &str = "\
Where DynamoDB and S3 are:
  AWS_ENDPOINT_URL set      that emulator (e.g. from scripts/emulator/localstack.sh env)
  BENCH_AWS=1               real AWS: default credentials/region, BENCH_DYNAMODB_TABLE (created
                            if missing), BENCH_S3_BUCKET (must exist); keys are deleted after
  otherwise                 LocalStack is started with scripts/emulator/localstack.sh
                            (LOCALSTACK_STATE_DIR if set) and stopped at the end

Issue 22's rows (requests per five-turn skill session with and without the carried copy and
the cache, bytes of a one-field change of a 350 KB map, session latency on DynamoDB behind a
loopback proxy adding --rtt-ms against the official Python ASK SDK, the account-linking first
turn with prefetch on and off) are part of every run; alone:
  cargo run --release -p persistence-bench -- --sessions-only --quick    # ~15 s on a running emulator
  cargo run --release -p persistence-bench -- --sessions-only --sessions 100
The Python SDK comes from scripts/official-sdks.sh install (or ASK_SDK_PYTHON, --ask-python).

--copy: `alexa-persistence copy dynamodb://T s3://B/P` on the emulator, against a plain boto3
scan-and-put script, and the tool's peak memory as the number of keys grows. Build first:
  cargo build --release -p persistence-cli -p persistence-bench
  target/release/persistence-bench --copy [--keys LIST ...]
Without AWS_ENDPOINT_URL it starts LocalStack and stops it at the end. Items are seeded in the
official SDKs' layout ({id, attributes}, ~1.1 KB each).";

/// persistence-bench: what a skill turn costs (client CPU, latency, cold start, peak memory,
/// requests per turn, adapter/raw-SDK overhead, conversion throughput).
#[derive(Debug, Parser)]
#[command(
    name = "persistence-bench",
    override_usage = "cargo run --release -p persistence-bench -- [OPTIONS]",
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// ~30 s smoke run (short phases, 3 cold starts)
    #[arg(long, conflicts_with = "copy")]
    pub quick: bool,
    /// Also write every figure as JSON to FILE
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Comma-separated backends (memory,sqlite needs no emulator)
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "memory,sqlite,dynamodb,s3",
        conflicts_with = "copy"
    )]
    pub backends: Vec<Backend>,
    /// Measured time per phase, seconds (at least 0.1) [default: 5, quick 1]
    #[arg(long, value_name = "SECS", conflicts_with = "copy")]
    pub duration: Option<f64>,
    /// Cold starts per backend (at least 1) [default: 7, quick 3]
    #[arg(long, value_name = "N", conflicts_with = "copy")]
    pub cold_runs: Option<usize>,
    /// Do not measure conversion throughput
    #[arg(long, conflicts_with = "copy")]
    pub skip_conversion: bool,
    /// On an emulator, let LocalStack close the connection after every request (its default);
    /// by default requests ask for keep-alive, as connections to AWS are kept
    #[arg(long, conflicts_with = "copy")]
    pub no_keep_alive: bool,
    /// Run the measured turns on a current-thread tokio runtime (default: multi-thread, one
    /// worker per CPU, as #[tokio::main])
    #[arg(long, conflicts_with = "copy")]
    pub current_thread: bool,
    /// Only issue 22's rows: requests per five-turn session, bytes of a 350 KB map's save,
    /// session latency under an emulated network, the account-linking first turn
    #[arg(long, conflicts_with_all = ["copy", "skip_sessions"])]
    pub sessions_only: bool,
    /// Do not measure session latency under the emulated network (nor account linking)
    #[arg(long, conflicts_with = "copy")]
    pub skip_sessions: bool,
    /// Measured five-turn sessions per configuration, and account-linking first turns per row
    /// [default: 20, quick 3]
    #[arg(long, value_name = "N", conflicts_with = "copy")]
    pub sessions: Option<usize>,
    /// Round-trip time the loopback proxy adds in front of the emulator, ms (half each way)
    #[arg(long, value_name = "MS", default_value_t = 10, conflicts_with = "copy")]
    pub rtt_ms: u64,
    /// The account-linking lookup's time at the fake userinfo endpoint, ms
    #[arg(long, value_name = "MS", default_value_t = 20, conflicts_with = "copy")]
    pub lookup_ms: u64,
    /// Python with the official ASK SDK for the session rows [default: ASK_SDK_PYTHON, else
    /// the venv of scripts/official-sdks.sh]
    #[arg(long, value_name = "PATH", conflicts_with = "copy")]
    pub ask_python: Option<PathBuf>,
    /// Measure `alexa-persistence copy` DynamoDB -> S3 against boto3 instead (options below)
    #[arg(long)]
    pub copy: bool,
    /// The options of --copy.
    #[command(flatten)]
    pub copy_args: CopyArgs,
}

/// The options of `--copy`.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "With --copy")]
pub struct CopyArgs {
    /// Comma-separated table sizes
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "10000,100000",
        value_parser = count,
        requires = "copy"
    )]
    pub keys: Vec<usize>,
    /// The tool's --concurrency
    #[arg(long, value_name = "N", default_value_t = 32, requires = "copy")]
    pub concurrency: usize,
    /// boto3 runs: 1 is the plain loop, N puts N at once
    #[arg(
        long,
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "1,16",
        value_parser = count,
        requires = "copy"
    )]
    pub boto3_threads: Vec<usize>,
    /// Run boto3 only on tables of at most N keys
    #[arg(long, value_name = "N", default_value_t = 10_000, requires = "copy")]
    pub boto3_max_keys: usize,
    /// The alexa-persistence binary [default: next to this one]
    #[arg(long, value_name = "PATH", requires = "copy")]
    pub tool: Option<PathBuf>,
    /// Python with boto3 [default: LocalStack's virtualenv]
    #[arg(long, value_name = "PATH", requires = "copy")]
    pub python: Option<PathBuf>,
}

/// A count in a list: `10000`, `10_000` or ` 10000 `.
fn count(s: &str) -> Result<usize, String> {
    s.trim()
        .replace('_', "")
        .parse::<usize>()
        .map_err(|e| format!("{s}: {e}"))
}

/// Run settings of the main benchmark.
#[derive(Clone, Debug)]
pub struct Options {
    pub quick: bool,
    pub json: Option<PathBuf>,
    pub backends: Vec<Backend>,
    pub phase: Duration,
    pub overhead_rounds: usize,
    pub overhead_phase: Duration,
    pub canned_phase: Duration,
    pub cold_runs: usize,
    pub conversion_batch: Duration,
    pub conversion_batches: usize,
    pub sequential_users: usize,
    pub concurrency: Vec<usize>,
    pub max_turns: usize,
    pub warmup_per_key: usize,
    pub conversion: bool,
    pub keep_alive: bool,
    pub current_thread: bool,
    /// Only issue 22's rows.
    pub sessions_only: bool,
    /// Session latency and account linking under the emulated network.
    pub session_latency: bool,
    /// Measured sessions (and first turns) per configuration.
    pub sessions: usize,
    /// Unmeasured sessions per configuration first.
    pub session_warmup: usize,
    /// The proxy's delay each way.
    pub one_way: Duration,
    /// The simulated userinfo lookup.
    pub lookup: Duration,
    /// Python with the official SDK, or why there is none.
    pub python: Result<PathBuf, String>,
}

impl Options {
    /// The settings `cli` asks for, the defaults filled in.
    pub fn new(cli: &Cli) -> Self {
        let quick = cli.quick;
        let phase = cli
            .duration
            .map_or(Duration::from_secs(if quick { 1 } else { 5 }), |secs| {
                Duration::from_secs_f64(secs.max(0.1))
            });
        Self {
            quick,
            json: cli.json.clone(),
            backends: cli.backends.clone(),
            phase,
            // Short interleaved rounds: drift of the machine's load hits both sides alike.
            overhead_rounds: if quick { 2 } else { 6 },
            overhead_phase: phase.mul_f64(if quick { 0.6 } else { 0.3 }),
            canned_phase: phase.mul_f64(if quick { 0.2 } else { 0.1 }),
            cold_runs: cli
                .cold_runs
                .map_or(if quick { 3 } else { 7 }, |n| n.max(1)),
            conversion_batch: Duration::from_millis(if quick { 40 } else { 150 }),
            conversion_batches: if quick { 3 } else { 5 },
            sequential_users: 10,
            concurrency: vec![1, 8, 64],
            max_turns: 300_000,
            warmup_per_key: 3,
            conversion: !cli.skip_conversion,
            keep_alive: !cli.no_keep_alive,
            current_thread: cli.current_thread,
            sessions_only: cli.sessions_only,
            session_latency: !cli.skip_sessions,
            sessions: cli
                .sessions
                .map_or(if quick { 3 } else { 20 }, |n| n.max(1)),
            session_warmup: if quick { 1 } else { 2 },
            one_way: Duration::from_micros(cli.rtt_ms * 500),
            lookup: Duration::from_millis(cli.lookup_ms),
            python: cli
                .ask_python
                .clone()
                .map_or_else(crate::session::python::find, Ok),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("persistence-bench").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let o = Options::new(&parse(&[]).unwrap());
        assert!(!o.quick && o.conversion && o.keep_alive && !o.current_thread);
        assert_eq!(o.backends, Backend::ALL);
        assert_eq!(o.phase, Duration::from_secs(5));
        assert_eq!(o.cold_runs, 7);
        assert_eq!((o.overhead_rounds, o.conversion_batches), (6, 5));
        assert_eq!(o.json, None);
        assert!(!o.sessions_only && o.session_latency);
        assert_eq!((o.sessions, o.session_warmup), (20, 2));
        assert_eq!(o.one_way, Duration::from_millis(5), "10 ms RTT");
        assert_eq!(o.lookup, Duration::from_millis(20));

        let q = Options::new(&parse(&["--quick"]).unwrap());
        assert_eq!(q.phase, Duration::from_secs(1));
        assert_eq!(q.cold_runs, 3);
        assert_eq!(q.overhead_phase, Duration::from_secs(1).mul_f64(0.6));
        assert_eq!((q.overhead_rounds, q.conversion_batches), (2, 3));
        assert_eq!((q.sessions, q.session_warmup), (3, 1));
        let s = Options::new(
            &parse(&[
                "--sessions-only",
                "--sessions",
                "50",
                "--rtt-ms",
                "20",
                "--ask-python",
                "/py",
            ])
            .unwrap(),
        );
        assert!(s.sessions_only);
        assert_eq!(s.sessions, 50);
        assert_eq!(s.one_way, Duration::from_millis(10));
        assert_eq!(s.python, Ok(PathBuf::from("/py")));
        assert!(parse(&["--sessions-only", "--skip-sessions"]).is_err());
        assert!(parse(&["--copy", "--sessions-only"]).is_err());
    }

    #[test]
    fn options_parse_as_before() {
        let cli = parse(&[
            "--quick",
            "--backends",
            "memory,sqlite",
            "--duration",
            "0.01",
            "--cold-runs",
            "0",
            "--skip-conversion",
            "--no-keep-alive",
            "--current-thread",
            "--json",
            "out.json",
        ])
        .unwrap();
        let o = Options::new(&cli);
        assert_eq!(o.backends, [Backend::Memory, Backend::Sqlite]);
        assert_eq!(o.phase, Duration::from_secs_f64(0.1), "at least 0.1 s");
        assert_eq!(o.cold_runs, 1, "at least one");
        assert!(!o.conversion && !o.keep_alive && o.current_thread);
        assert_eq!(o.json, Some(PathBuf::from("out.json")));
        assert!(!cli.copy);
        for bad in [
            &["--backends", "memory,postgres"][..],
            &["--duration", "soon"],
            &["--cold-runs", "-1"],
            &["--bogus"],
            &["--json"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn copy_options_belong_to_copy() {
        let cli = parse(&["--copy"]).unwrap();
        assert!(cli.copy);
        let c = &cli.copy_args;
        assert_eq!(c.keys, [10_000, 100_000]);
        assert_eq!(c.concurrency, 32);
        assert_eq!(c.boto3_threads, [1, 16]);
        assert_eq!(c.boto3_max_keys, 10_000);
        assert_eq!((&c.tool, &c.python), (&None, &None));
        let cli = parse(&[
            "--copy",
            "--keys",
            "2_000, 5000",
            "--boto3-threads",
            "1",
            "--json",
            "c.json",
        ])
        .unwrap();
        assert_eq!(cli.copy_args.keys, [2000, 5000]);
        assert_eq!(cli.copy_args.boto3_threads, [1]);
        assert_eq!(cli.json, Some(PathBuf::from("c.json")));
        // Each side's options are refused on the other.
        assert!(parse(&["--keys", "10"]).is_err());
        assert!(parse(&["--copy", "--quick"]).is_err());
        assert!(parse(&["--copy", "--backends", "s3"]).is_err());
    }
}
