//! What the LocalStack tests of the `alexa-persistence` binary share: running it against the
//! emulator and reading what it printed.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

use futures::StreamExt;
use persistence_core::{Attributes, Entry, ListOptions, PersistenceAdapter, Stored};
use persistence_integration_tests::emulator;
use serde_json::Value;
use std::collections::BTreeMap;

/// The tool, run against the emulator, in `dir` (where default checkpoints go).
pub struct Tool {
    pub endpoint: String,
    pub dir: tempfile::TempDir,
}

impl Tool {
    pub async fn new() -> Option<Self> {
        let e = emulator().await?;
        Some(Self {
            endpoint: e.endpoint.clone(),
            dir: tempfile::tempdir().unwrap(),
        })
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_alexa-persistence"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("AWS_ENDPOINT_URL", &self.endpoint)
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("RUST_LOG", "warn")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env_remove("AWS_ENDPOINT_URL_DYNAMODB")
            .env_remove("ALEXA_PERSISTENCE_TEST_RAISE");
        c
    }

    pub fn run_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut c = self.command(args);
        for (k, v) in env {
            c.env(k, v);
        }
        let out = c.output().expect("the tool runs");
        Run::from(args, out)
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[])
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// One run of the tool.
pub struct Run {
    pub args: String,
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(args: &[&str], out: Output) -> Self {
        use std::os::unix::process::ExitStatusExt;
        Self {
            args: args.join(" "),
            code: out.status.code(),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    #[track_caller]
    pub fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "`alexa-persistence {}` exited {:?} (signal {:?})\nstdout:\n{}\nstderr:\n{}",
            self.args,
            self.code,
            self.signal,
            self.stdout,
            self.stderr
        );
        self
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "`{}`: stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.args, self.stdout, self.stderr
            )
        })
    }
}

/// Everything `store` lists as live, by key; panics on a key listed twice.
pub async fn contents(
    store: &dyn PersistenceAdapter,
    include_expired: bool,
) -> BTreeMap<String, Stored> {
    let mut out = BTreeMap::new();
    let mut pages = store.entries(&ListOptions::default().include_expired(include_expired));
    while let Some(page) = pages.next().await {
        for Entry { key, stored } in page.unwrap() {
            assert!(
                out.insert(key.clone(), stored).is_none(),
                "{key} listed twice"
            );
        }
    }
    out
}

/// The exact text of attribute `name` (numbers with all their digits).
pub fn exact_text(attributes: &Attributes, name: &str) -> String {
    attributes
        .exact(name)
        .map(|v| v.to_json_text())
        .unwrap_or_else(|| attributes[name].to_string())
}
