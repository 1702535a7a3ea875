//! Where the cloud backends are: an emulator (LocalStack, started here when no
//! `AWS_ENDPOINT_URL` is given) or real AWS (`BENCH_AWS=1`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;

use crate::BoxError;
use crate::counting::{KeepAlive, RequestCounter};

/// Where DynamoDB and S3 requests go.
#[derive(Clone, Debug)]
pub enum Target {
    /// An emulator at this endpoint, with dummy credentials and `us-east-1`: the same settings
    /// as the integration-test harness (`tests/src/lib.rs`, `sdk_config`).
    Emulator {
        /// Endpoint URL, e.g. `http://127.0.0.1:4566`.
        endpoint: String,
        /// What serves it, for the report.
        description: String,
        /// Ask for keep-alive connections (see [`KeepAlive`]).
        keep_alive: bool,
    },
    /// Real AWS with the default credential and region chain.
    Aws {
        /// Existing (or to be created) table, from `BENCH_DYNAMODB_TABLE`.
        table: Option<String>,
        /// Existing bucket, from `BENCH_S3_BUCKET`.
        bucket: Option<String>,
    },
}

impl Target {
    /// For the report.
    pub fn describe(&self) -> String {
        match self {
            Target::Emulator {
                endpoint,
                description,
                keep_alive,
            } => format!(
                "{description} at {endpoint}, {}",
                if *keep_alive {
                    "requests ask for keep-alive connections (as on AWS; LocalStack closes them otherwise)"
                } else {
                    "a new connection per request (LocalStack's default)"
                }
            ),
            Target::Aws { .. } => "real AWS (default credential and region chain)".into(),
        }
    }

    /// Arguments that give a cold-start child process the same target.
    pub fn child_args(&self) -> Vec<String> {
        match self {
            Target::Emulator {
                endpoint,
                keep_alive,
                ..
            } => {
                let mut v = vec!["--endpoint".into(), endpoint.clone()];
                if !keep_alive {
                    v.push("--no-keep-alive".into());
                }
                v
            }
            Target::Aws { .. } => vec!["--aws".into()],
        }
    }

    /// Whether this is an emulator.
    pub fn is_emulator(&self) -> bool {
        matches!(self, Target::Emulator { .. })
    }
}

/// The SDK config a skill would build: the adapters' recommended retry and timeout budget
/// ([`persistence_dynamodb::client_config`]), plus the emulator's endpoint, region and dummy
/// credentials when there is one.
pub async fn sdk_config(target: &Target) -> SdkConfig {
    let (retry, timeout) = persistence_dynamodb::client_config();
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry)
        .timeout_config(timeout);
    match target {
        Target::Emulator { endpoint, .. } => {
            loader
                .endpoint_url(endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(Credentials::new("test", "test", None, None, "emulator"))
                .load()
                .await
        }
        Target::Aws { .. } => loader.load().await,
    }
}

fn keep_alive(target: &Target) -> bool {
    matches!(
        target,
        Target::Emulator {
            keep_alive: true,
            ..
        }
    )
}

/// A DynamoDB client, counting requests with `counter` if given.
pub fn dynamodb_client(
    config: &SdkConfig,
    target: &Target,
    counter: Option<&RequestCounter>,
) -> aws_sdk_dynamodb::Client {
    let mut b = aws_sdk_dynamodb::config::Builder::from(config);
    if keep_alive(target) {
        b = b.interceptor(KeepAlive);
    }
    if let Some(c) = counter {
        b = b.interceptor(c.clone());
    }
    aws_sdk_dynamodb::Client::from_conf(b.build())
}

/// An S3 client (path-style addressing on an emulator, as LocalStack needs), counting requests
/// with `counter` if given.
pub fn s3_client(
    config: &SdkConfig,
    target: &Target,
    counter: Option<&RequestCounter>,
) -> aws_sdk_s3::Client {
    let mut b = aws_sdk_s3::config::Builder::from(config).force_path_style(target.is_emulator());
    if keep_alive(target) {
        b = b.interceptor(KeepAlive);
    }
    if let Some(c) = counter {
        b = b.interceptor(c.clone());
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

/// A fresh name for a table or bucket: lowercase, digits and dashes.
pub fn unique_name(what: &str) -> String {
    format!("bench-{what}-{:012x}", fastrand::u64(..) & 0xffff_ffff_ffff)
}

/// A LocalStack instance this process started with `scripts/emulator/localstack.sh`; stopped
/// when dropped (and by the signal handler in `main` on Ctrl-C or SIGTERM).
#[derive(Debug)]
pub struct LocalStack {
    script: PathBuf,
    state_dir: PathBuf,
    remove_state_dir: bool,
    stopped: bool,
}

impl LocalStack {
    /// The workspace's emulator script.
    pub fn script() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scripts/emulator/localstack.sh"
        ))
    }

    /// The instance this process will run: in `LOCALSTACK_STATE_DIR`, or in a fresh state
    /// directory of its own (removed after a clean stop). Not started yet.
    pub fn new() -> Result<Self, BoxError> {
        let script = Self::script();
        if !script.exists() {
            return Err(format!(
                "{} not found: set AWS_ENDPOINT_URL to a running emulator",
                script.display()
            )
            .into());
        }
        let (state_dir, remove_state_dir) = match std::env::var_os("LOCALSTACK_STATE_DIR") {
            Some(d) if !d.is_empty() => (PathBuf::from(d), false),
            _ => (
                std::env::temp_dir().join(format!(
                    "persistence-bench-localstack-{}",
                    std::process::id()
                )),
                true,
            ),
        };
        Ok(Self {
            script,
            state_dir,
            remove_state_dir,
            stopped: true,
        })
    }

    /// Installs (cached) and starts LocalStack, and returns the target it serves.
    pub fn start(&mut self, keep_alive: bool) -> Result<Target, BoxError> {
        self.run("install")?;
        // From here on a failed or interrupted start must be cleaned up too.
        self.stopped = false;
        self.run("start")?;
        let env = self.run("env")?;
        let var = |name: &str| {
            env.lines()
                .filter_map(|l| l.strip_prefix("export "))
                .filter_map(|l| l.split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.trim_matches('\'').to_owned())
        };
        let endpoint = var("AWS_ENDPOINT_URL").ok_or("localstack.sh env gave no endpoint")?;
        let description =
            var("ALEXA_PERSISTENCE_EMULATOR_VERSION").unwrap_or_else(|| "LocalStack".into());
        Ok(Target::Emulator {
            endpoint,
            description,
            keep_alive,
        })
    }

    /// Runs `localstack.sh <cmd>` and returns its standard output (its log goes to stderr).
    fn run(&self, cmd: &str) -> Result<String, BoxError> {
        let out = self
            .command(cmd)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .output()?;
        if !out.status.success() {
            return Err(format!("localstack.sh {cmd} failed ({})", out.status).into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn command(&self, cmd: &str) -> Command {
        let mut c = Command::new(&self.script);
        c.arg(cmd).env("LOCALSTACK_STATE_DIR", &self.state_dir);
        c
    }

    /// Stops it (idempotent).
    pub fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        Self::stop_dir(&self.script, &self.state_dir);
        if self.remove_state_dir {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }

    /// What the signal handler needs to stop it from another thread.
    pub fn stopper(&self) -> (PathBuf, PathBuf) {
        (self.script.clone(), self.state_dir.clone())
    }

    /// Stops the instance whose state is in `state_dir`.
    pub fn stop_dir(script: &Path, state_dir: &Path) {
        let status = Command::new(script)
            .arg("stop")
            .env("LOCALSTACK_STATE_DIR", state_dir)
            .stdout(Stdio::null())
            .status();
        if !matches!(status, Ok(s) if s.success()) {
            eprintln!(
                "bench: WARNING: stopping LocalStack failed (state dir {})",
                state_dir.display()
            );
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        self.stop();
    }
}
