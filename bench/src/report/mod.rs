//! The figures of a run, as JSON and as tables (the tables themselves are in `tables.rs`).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

mod session;
mod tables;

use crate::cold::ColdResult;
use crate::conversion::{ConversionRow, OPERATIONS};
use crate::requests::{RequestRow, SESSION, SaveBytesRow};
use crate::run::PhaseResult;
use crate::session::SessionCountRow;
use crate::session::latency::LatencyReport;
use crate::stats::{Table, ms};
use crate::sys::Machine;
use crate::{Backend, median_of};

/// The targets and the official SDKs' figures (from the issue: same workload, emulator on
/// loopback, this kind of machine).
mod reference {
    pub const CPU_MS: f64 = 0.2;
    pub const COLD_MS: f64 = 50.0;
    pub const RSS_MIB: f64 = 15.0;
    pub const RATIO: f64 = 1.05;
}

/// How the run was set up.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Settings {
    /// `--quick`.
    pub quick: bool,
    /// Measured seconds per phase.
    pub phase_s: f64,
    /// Users in the sequential phase.
    pub sequential_users: usize,
    /// Users in the concurrent phases.
    pub concurrency: Vec<usize>,
    /// Adapter/raw rounds.
    pub overhead_rounds: usize,
    /// Seconds per adapter/raw phase.
    pub overhead_phase_s: f64,
    /// Seconds per adapter/raw phase without network.
    pub canned_phase_s: f64,
    /// Cold starts per backend.
    pub cold_runs: usize,
    /// Size of the turn's attribute map as compact JSON.
    pub attributes_bytes: usize,
    /// Unmeasured turns per user before each phase.
    pub warmup_per_key: usize,
    /// The tokio runtime the turns ran on.
    pub runtime: String,
}

/// One CPU/throughput phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseRow {
    /// Backend.
    pub backend: Backend,
    /// `sequential` or `concurrent`.
    pub mode: &'static str,
    /// Distinct users.
    pub users: usize,
    /// Figures.
    pub result: PhaseResult,
}

/// Adapter vs raw SDK for one backend.
#[derive(Clone, Debug, Serialize)]
pub struct OverheadRow {
    /// Backend.
    pub backend: Backend,
    /// Median over rounds: adapter CPU per turn, ms.
    pub adapter_cpu_ms: f64,
    /// Median over rounds: raw SDK CPU per turn, ms.
    pub raw_cpu_ms: f64,
    /// Median over rounds: adapter turn p50, ms.
    pub adapter_p50_ms: f64,
    /// Median over rounds: raw turn p50, ms.
    pub raw_p50_ms: f64,
    /// Median over rounds: adapter turn p99, ms.
    pub adapter_p99_ms: f64,
    /// Median over rounds: raw turn p99, ms.
    pub raw_p99_ms: f64,
    /// Every adapter round.
    pub adapter_rounds: Vec<PhaseResult>,
    /// Every raw round.
    pub raw_rounds: Vec<PhaseResult>,
}

impl OverheadRow {
    /// Medians of the rounds.
    pub fn new(backend: Backend, adapter: &[PhaseResult], raw: &[PhaseResult]) -> Self {
        Self {
            backend,
            adapter_cpu_ms: median_of(adapter, |r| r.cpu_ms_per_turn),
            raw_cpu_ms: median_of(raw, |r| r.cpu_ms_per_turn),
            adapter_p50_ms: median_of(adapter, |r| r.turn.p50_ms),
            raw_p50_ms: median_of(raw, |r| r.turn.p50_ms),
            adapter_p99_ms: median_of(adapter, |r| r.turn.p99_ms),
            raw_p99_ms: median_of(raw, |r| r.turn.p99_ms),
            adapter_rounds: adapter.to_vec(),
            raw_rounds: raw.to_vec(),
        }
    }

    /// Adapter CPU per turn / raw CPU per turn.
    pub fn cpu_ratio(&self) -> f64 {
        ratio(self.adapter_cpu_ms, self.raw_cpu_ms)
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

/// Requests per scenario for one backend.
#[derive(Clone, Debug, Serialize)]
pub struct RequestsRow {
    /// Backend.
    pub backend: Backend,
    /// Scenarios.
    pub rows: Vec<RequestRow>,
}

/// Bytes of a large map's read and save for one backend.
#[derive(Clone, Debug, Serialize)]
pub struct SaveBytesRows {
    /// Backend.
    pub backend: Backend,
    /// Requests.
    pub rows: Vec<SaveBytesRow>,
}

/// Cold starts for one backend.
#[derive(Clone, Debug, Serialize)]
pub struct ColdRow {
    /// Backend.
    pub backend: Backend,
    /// Figures.
    pub result: ColdResult,
}

/// Everything a run measured.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// When the run started (UTC).
    pub started_utc: String,
    /// How long it took, seconds.
    pub duration_s: f64,
    /// The command that ran it.
    pub command: String,
    /// The machine.
    pub machine: Option<Machine>,
    /// Where DynamoDB and S3 were.
    pub target: Option<String>,
    /// Settings.
    pub settings: Settings,
    /// CPU, throughput and latency phases.
    pub phases: Vec<PhaseRow>,
    /// Adapter vs raw SDK.
    pub overhead: Vec<OverheadRow>,
    /// Adapter vs raw SDK without network (canned in-process HTTP responses).
    pub overhead_canned: Vec<OverheadRow>,
    /// Requests per turn.
    pub requests: Vec<RequestsRow>,
    /// Bytes on the wire of a large map's read and save.
    pub save_bytes: Vec<SaveBytesRows>,
    /// Cold starts.
    pub cold: Vec<ColdRow>,
    /// Conversion throughput.
    pub conversion: Vec<ConversionRow>,
    /// Issue 22: requests per five-turn session through the skill builder.
    pub session_counts: Vec<SessionCountRow>,
    /// Issue 22: session latency and the account-linking first turn under an emulated network.
    pub session_latency: Option<LatencyReport>,
}

fn mib(kib: f64) -> f64 {
    kib / 1024.0
}

fn mark(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

impl Report {
    fn backends(&self) -> Vec<Backend> {
        let mut v: Vec<Backend> = self.phases.iter().map(|p| p.backend).collect();
        v.dedup();
        v
    }

    fn sequential(&self, b: Backend) -> Option<&PhaseResult> {
        self.phases
            .iter()
            .find(|p| p.backend == b && p.mode == "sequential")
            .map(|p| &p.result)
    }

    /// All the tables, with a header saying what ran where.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("## persistence-bench\n\n");
        if let Some(m) = &self.machine {
            out.push_str(&format!(
                "- machine: {} (load average at start: {})\n",
                m.describe(),
                m.loadavg_at_start
            ));
        }
        out.push_str(&format!(
            "- DynamoDB/S3: {}\n",
            self.target.as_deref().unwrap_or("not used")
        ));
        out.push_str(&format!(
            "- run: {} UTC, {:.0} s, `{}`\n",
            self.started_utc, self.duration_s, self.command
        ));
        let s = &self.settings;
        if self.phases.is_empty() {
            out.push('\n');
        } else {
            out.push_str(&format!(
            "- turn = get(key) → visits+1 → save(key, attrs, SaveMode::expecting(version)) of a {} B attribute map, through Arc<dyn PersistenceAdapter>; \
             {:.1} s measured per phase after {} warm-up turns per user; {}\n\n",
            s.attributes_bytes, s.phase_s, s.warmup_per_key, s.runtime
        ));
        }
        for t in [
            self.summary_table(),
            self.cpu_table(),
            self.latency_table(),
            self.overhead_table(),
            self.canned_table(),
            self.requests_table(),
            self.save_bytes_table(),
            self.session_counts_table(),
            self.session_latency_table(),
            self.linking_table(),
            self.cold_table(),
            self.conversion_table(),
        ] {
            if !t.is_empty() {
                out.push_str(&t.render());
                out.push('\n');
            }
        }
        out
    }
}

/// Now as `YYYY-MM-DD HH:MM`, UTC.
pub fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let (y, m, d) = civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}
