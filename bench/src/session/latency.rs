//! Turn latency and storage wait of the five-turn session on DynamoDB under an emulated
//! network ([`DelayProxy`]), carry on and off, against the official Python ASK SDK running the
//! same session through the same proxy; and the account-linking example's first turn.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use persistence_core::PersistenceAdapter;
use persistence_dynamodb::DynamoDbAdapter;
use serde::Serialize;

use super::{Metered, five_turns, linking, python, seed, skill};
use crate::BoxError;
use crate::delay::DelayProxy;
use crate::stats::{Summary, summarize};
use crate::target::{Target, dynamodb_client, sdk_config};

/// What to run.
#[derive(Clone, Debug)]
pub struct LatencySpec {
    /// Measured sessions per configuration.
    pub sessions: usize,
    /// Unmeasured sessions per configuration first (connections, caches).
    pub warmup: usize,
    /// Delay each way (half the RTT the proxy adds).
    pub one_way: Duration,
    /// The interpreter with the official Python SDK, if any.
    pub python: Option<PathBuf>,
    /// Why there is none, for the report.
    pub python_missing: Option<String>,
    /// The account-linking lookup's simulated time at the fake userinfo endpoint.
    pub lookup: Duration,
    /// The DynamoDB table (exists).
    pub table: String,
}

/// One measured session.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize)]
pub struct SessionSample {
    /// Each turn's latency, ms: launch, order, help, order, session end.
    pub turns_ms: Vec<f64>,
    /// Time inside the store's get/save calls, summed over the session, ms.
    pub storage_ms: f64,
    /// Reads at the store.
    pub reads: u64,
    /// Writes at the store.
    pub writes: u64,
}

/// One client and configuration.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyRow {
    /// `skill-builder` or the official SDK's name and version.
    pub client: String,
    /// What was on.
    pub config: String,
    /// Every measured session.
    pub samples: Vec<SessionSample>,
}

fn ns(ms: f64) -> u64 {
    (ms * 1e6).max(0.0) as u64
}

impl LatencyRow {
    /// Every turn of every session.
    pub fn turn(&self) -> Summary {
        let mut v: Vec<u64> = self
            .samples
            .iter()
            .flat_map(|s| s.turns_ms.iter().map(|&t| ns(t)))
            .collect();
        summarize(&mut v)
    }

    /// Turn `i` (0: launch) of every session.
    pub fn position(&self, i: usize) -> Summary {
        let mut v: Vec<u64> = self
            .samples
            .iter()
            .filter_map(|s| s.turns_ms.get(i).map(|&t| ns(t)))
            .collect();
        summarize(&mut v)
    }

    /// Whole sessions (the five turns added up).
    pub fn session(&self) -> Summary {
        let mut v: Vec<u64> = self
            .samples
            .iter()
            .map(|s| ns(s.turns_ms.iter().sum()))
            .collect();
        summarize(&mut v)
    }

    /// Storage wait per session.
    pub fn storage(&self) -> Summary {
        let mut v: Vec<u64> = self.samples.iter().map(|s| ns(s.storage_ms)).collect();
        summarize(&mut v)
    }

    /// Reads and writes per session, averaged.
    pub fn requests(&self) -> (f64, f64) {
        let n = self.samples.len().max(1) as f64;
        let (r, w) = self
            .samples
            .iter()
            .fold((0, 0), |(r, w), s| (r + s.reads, w + s.writes));
        (r as f64 / n, w as f64 / n)
    }
}

/// Everything measured under the emulated network.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LatencyReport {
    /// Where requests went and through what.
    pub network: String,
    /// The RTT the proxy adds, ms (0 without a proxy).
    pub added_rtt_ms: f64,
    /// Measured sessions per row.
    pub sessions: usize,
    /// The session rows.
    pub rows: Vec<LatencyRow>,
    /// Why the Python SDK did not run, if it did not.
    pub python_note: Option<String>,
    /// The account-linking rows.
    pub linking: Vec<linking::LinkingRow>,
    /// The simulated userinfo lookup, ms.
    pub lookup_ms: f64,
}

/// Runs the session rows and the account-linking rows on DynamoDB at `target`, through a delay
/// proxy when it is an emulator. Keys start with `key_prefix`; returns them for clean-up too.
pub async fn run(
    target: &Target,
    spec: &LatencySpec,
    key_prefix: &str,
) -> Result<(LatencyReport, Vec<String>), BoxError> {
    let (proxy, through) = match target {
        Target::Emulator {
            endpoint,
            description,
            keep_alive,
        } => {
            let proxy = DelayProxy::start(endpoint, spec.one_way).await?;
            let through = Target::Emulator {
                endpoint: proxy.endpoint(),
                description: description.clone(),
                keep_alive: *keep_alive,
            };
            (Some(proxy), through)
        }
        Target::Aws { .. } => (None, target.clone()),
    };
    let network = match &proxy {
        Some(p) => format!(
            "loopback proxy adding {} ms each way ({} ms RTT) in front of the emulator",
            spec.one_way.as_millis(),
            p.rtt().as_millis()
        ),
        None => "real AWS network (no proxy)".into(),
    };
    let conf = sdk_config(&through).await;
    let client = dynamodb_client(&conf, &through, None);
    let adapter: Arc<dyn PersistenceAdapter> =
        Arc::new(DynamoDbAdapter::builder(client, &spec.table).build());
    let metered = Metered::new(adapter);
    let store: Arc<dyn PersistenceAdapter> = Arc::new(metered.clone());
    let mut keys = Vec::new();

    // (label, carry, cache on one returning user)
    let configs = [
        (
            "carry off (every turn reads; before issue 22)",
            false,
            false,
        ),
        ("carry on (default)", true, false),
        (
            "carry + cache, the user's next session in a warm process",
            true,
            true,
        ),
    ];
    let skills = configs
        .iter()
        .map(|&(_, carry, cache)| {
            let s = if cache {
                super::Config { carry, cache }.store(store.clone())
            } else {
                store.clone()
            };
            skill(s, carry, true)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut rows: Vec<LatencyRow> = configs
        .iter()
        .map(|(label, ..)| LatencyRow {
            client: "skill-builder".into(),
            config: (*label).into(),
            samples: Vec::new(),
        })
        .collect();
    let user = |c: usize, i: usize| format!("{key_prefix}-lat{c}-{i}");
    let total = spec.warmup + spec.sessions;
    eprintln!(
        "bench: session latency: {total} sessions × {} configurations ({network})",
        configs.len()
    );
    for (c, &(_, _, cache)) in configs.iter().enumerate() {
        for i in 0..if cache { 1 } else { total } {
            seed(store.as_ref(), &user(c, i)).await?;
            keys.push(user(c, i));
        }
    }
    metered.take();
    // Configurations interleaved session by session: drift in load hits them alike.
    for i in 0..total {
        for (c, &(_, _, cache)) in configs.iter().enumerate() {
            let who = user(c, if cache { 0 } else { i });
            let turns = five_turns(&skills[c], &who).await?;
            let m = metered.take();
            if i >= spec.warmup {
                rows[c].samples.push(SessionSample {
                    turns_ms: turns.iter().map(|d| d.as_secs_f64() * 1e3).collect(),
                    storage_ms: m.busy.as_secs_f64() * 1e3,
                    reads: m.reads,
                    writes: m.writes,
                });
            }
        }
    }

    let mut python_note = spec.python_missing.clone();
    if spec.python.is_some() && !through.is_emulator() {
        python_note = Some("the Python comparison runs on an emulator only".into());
    }
    if let (Some(py), Target::Emulator { endpoint, .. }) = (&spec.python, &through) {
        eprintln!("bench: session latency: the official Python ASK SDK, {total} sessions");
        let prefix = format!("{key_prefix}-py");
        match python::run(
            py,
            endpoint,
            &spec.table,
            spec.sessions,
            spec.warmup,
            &prefix,
        )
        .await
        {
            Ok((sdk, samples)) => {
                keys.extend(python::keys(&prefix, total));
                rows.push(LatencyRow {
                    client: sdk,
                    config: "official DynamoDbAdapter (every turn reads)".into(),
                    samples,
                });
            }
            Err(e) => python_note = Some(format!("the Python SDK run failed: {e}")),
        }
    }

    eprintln!("bench: account linking: first turn, prefetch on and off");
    let (linking, linking_keys) = linking::run(
        store.clone(),
        &metered,
        spec.sessions,
        spec.warmup,
        spec.lookup,
        &format!("{key_prefix}-al"),
    )
    .await?;
    keys.extend(linking_keys);

    Ok((
        LatencyReport {
            network,
            added_rtt_ms: proxy.as_ref().map_or(0.0, |p| p.rtt().as_secs_f64() * 1e3),
            sessions: spec.sessions,
            rows,
            python_note,
            linking,
            lookup_ms: spec.lookup.as_secs_f64() * 1e3,
        },
        keys,
    ))
}
