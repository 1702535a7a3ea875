//! The official Python ASK SDK playing the same session (`bench/scripts/ask_session.py`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::latency::SessionSample;
use crate::BoxError;
use crate::workload::sample_map;

/// The script.
pub fn script() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scripts/ask_session.py"
    ))
}

/// The interpreter with the official SDK: `ASK_SDK_PYTHON`, else the venv
/// `scripts/official-sdks.sh install` makes in its cache. `Err` says why there is none.
pub fn find() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("ASK_SDK_PYTHON").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let cache = std::env::var_os("ALEXA_PERSISTENCE_CACHE")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("XDG_CACHE_HOME")
                .filter(|p| !p.is_empty())
                .map(|p| PathBuf::from(p).join("alexa-persistence"))
        })
        .or_else(|| {
            std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/alexa-persistence"))
        });
    let venv = cache.map(|c| c.join("official-sdks/python-venv/bin/python"));
    match venv {
        Some(p) if p.exists() => Ok(p),
        _ => Err(
            "the official Python SDK is not installed: run scripts/official-sdks.sh install \
             (or set ASK_SDK_PYTHON / --python)"
                .into(),
        ),
    }
}

#[derive(Deserialize)]
struct Output {
    sdk: String,
    sessions: Vec<SessionSample>,
}

/// The keys the script writes for `prefix` and `total` sessions.
pub fn keys(prefix: &str, total: usize) -> Vec<String> {
    (0..total).map(|i| format!("{prefix}-{i}")).collect()
}

/// Runs `warmup + sessions` sessions with `python` against DynamoDB at `endpoint`, table
/// `table`, users `prefix-0`, `prefix-1`, ...; returns the SDK's description and the measured
/// sessions. Bounded: killed after ten minutes.
pub async fn run(
    python: &Path,
    endpoint: &str,
    table: &str,
    sessions: usize,
    warmup: usize,
    prefix: &str,
) -> Result<(String, Vec<SessionSample>), BoxError> {
    let mut child = tokio::process::Command::new(python)
        .arg(script())
        .args(["--endpoint", endpoint, "--table", table, "--prefix", prefix])
        .args(["--sessions", &sessions.to_string()])
        .args(["--warmup", &warmup.to_string(), "--keep-alive"])
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_PROFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("starting {}: {e}", python.display()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(&serde_json::to_vec(&sample_map(1024))?)
            .await?;
    }
    let out = tokio::time::timeout(Duration::from_secs(600), child.wait_with_output())
        .await
        .map_err(|_| "the Python session script took over 10 minutes")??;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        return Err(format!(
            "ask_session.py failed ({}): {}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )
        .into());
    }
    let parsed: Output = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("ask_session.py printed no valid JSON: {e}"))?;
    Ok((parsed.sdk, parsed.sessions))
}
