//! Running histories on a backend: configuration, clients, final reads, the check, the summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use persistence_core::Clock;
use skill_testkit::Conversation;

use super::backends::{Backend, Store, prepare};
use super::history::{History, Obs};
use super::model;
use super::turns::{Device, Loads, skill};
use super::workload::Client;

/// What a run does; from the environment (see tests/checker/README.md).
#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub clients: usize,
    pub users: usize,
    pub ops: usize,
    pub histories: usize,
    pub seconds: Option<u64>,
}

fn env_num(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a number"),
    }
}

impl Config {
    /// CI defaults, overridden by `CHECKER_SEED`, `CHECKER_CLIENTS`, `CHECKER_OPS`,
    /// `CHECKER_HISTORIES`, `CHECKER_SECONDS`.
    pub fn from_env(backend: Backend) -> Self {
        let seed = env_num("CHECKER_SEED").unwrap_or_else(|| fastrand::u64(..) >> 16);
        let (ops, histories) = if backend.on_emulator() {
            (40, 2)
        } else {
            (60, 4)
        };
        Self {
            seed,
            clients: env_num("CHECKER_CLIENTS").map_or(5, |n| n.max(1) as usize),
            users: 2,
            ops: env_num("CHECKER_OPS").map_or(ops, |n| n.max(1) as usize),
            histories: env_num("CHECKER_HISTORIES").map_or(histories, |n| n.max(1) as usize),
            seconds: env_num("CHECKER_SECONDS"),
        }
    }

    fn replay(&self, backend: Backend) -> String {
        format!(
            "CHECKER_SEED={} CHECKER_CLIENTS={} CHECKER_OPS={} CHECKER_HISTORIES={} flock /tmp/cargo.lock \
             scripts/test.sh -p persistence-integration-tests --test checker -- checker_{} --nocapture",
            self.seed,
            self.clients,
            self.ops,
            self.histories,
            backend.name()
        )
    }
}

/// splitmix64: seeds for histories and clients from the run's seed.
pub fn mix(seed: u64, parts: &[u64]) -> u64 {
    let mut z = seed;
    for p in parts {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15 ^ p.wrapping_mul(0xD1B5_4A32_D192_ED03));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
    }
    z
}

#[derive(Default)]
struct Totals {
    histories: u64,
    ops: u64,
    ok: u64,
    failed: u64,
    unknown: u64,
    faults: u64,
    errors: BTreeMap<String, u64>,
    anomalies: Vec<String>,
}

/// Runs the configured histories on `backend`; `Err` carries the report of what was found.
pub async fn check_backend(backend: Backend, config: &Config) -> Result<(), String> {
    let Some(prepared) = prepare(backend).await else {
        eprintln!(
            "\n!!!!!!!! SKIPPING checker on {}: no emulator (see above)\n",
            backend.name()
        );
        return Ok(());
    };
    let started = Instant::now();
    let mut t = Totals::default();
    let mut h = 0u64;
    loop {
        let seed = mix(config.seed, &[backend as u64, h]);
        let one = history(backend, &prepared, config, h, seed);
        let out = match tokio::time::timeout(Duration::from_secs(240), one).await {
            Ok(r) => r,
            Err(_) => Err(format!("history {h} did not finish within 240 s (hung)")),
        };
        let out = out.map_err(|e| {
            format!(
                "checker on {} (seed {}): {e}\nreplay: {}",
                backend.name(),
                config.seed,
                config.replay(backend)
            )
        })?;
        t.histories += 1;
        let (history, faults, fault_kinds, anomalies) = out;
        history.with_counts(|c| {
            t.ops += c.ops;
            t.ok += c.ok;
            t.failed += c.failed;
            t.unknown += c.unknown;
            for (k, v) in &c.errors {
                *t.errors.entry(k.clone()).or_default() += v;
            }
        });
        t.faults += faults;
        eprintln!(
            "CHECKER {} history {h}: faults {fault_kinds}; anomalies {}",
            backend.name(),
            anomalies.len()
        );
        t.anomalies
            .extend(anomalies.into_iter().map(|a| format!("history {h}: {a}")));
        h += 1;
        let more_time = config
            .seconds
            .is_some_and(|s| started.elapsed() < Duration::from_secs(s));
        if h as usize >= config.histories && !more_time {
            break;
        }
    }
    eprintln!(
        "CHECKER SUMMARY {}: seed={} histories={} ops={} acked={} failed={} unknown={} faults={} errors={:?} anomalies={} time={:.1}s",
        backend.name(),
        config.seed,
        t.histories,
        t.ops,
        t.ok,
        t.failed,
        t.unknown,
        t.faults,
        t.errors,
        t.anomalies.len(),
        started.elapsed().as_secs_f64()
    );
    if t.anomalies.is_empty() {
        return Ok(());
    }
    let mut report = format!(
        "the checker found {} anomalies on {} (seed {}):\n",
        t.anomalies.len(),
        backend.name(),
        config.seed
    );
    for a in t.anomalies.iter().take(25) {
        let _ = writeln!(report, "  - ANOMALY {a}");
    }
    let _ = write!(
        report,
        "replay: {}\n(the seed replays each client's operations and the in-process faults; \
         timings, and so interleavings and the chaos proxy's choices, may differ)",
        config.replay(backend)
    );
    Err(report)
}

type HistoryOut = (Arc<History>, u64, String, Vec<String>);

async fn history(
    backend: Backend,
    prepared: &super::backends::Prepared,
    config: &Config,
    h: u64,
    seed: u64,
) -> Result<HistoryOut, String> {
    let store = Store::new(backend, prepared, seed).await?;
    let history = History::new();
    let prefix = format!("chk{:08x}-h{h}", seed & 0xffff_ffff);
    let shared: Vec<String> = (0..2).map(|i| format!("{prefix}-shared{i}")).collect();

    let mut tasks = Vec::new();
    for i in 0..config.clients {
        let cseed = mix(seed, &[1, i as u64]);
        let mut client = Client {
            index: i,
            history: history.clone(),
            adapter: store.client_adapter(cseed).await,
            clock: store.clock.clone(),
            rng: fastrand::Rng::with_seed(cseed),
            shared: shared.clone(),
            own: format!("{prefix}-own{i}"),
            seq: 0,
            owned: vec![None],
        };
        let ops = config.ops;
        tasks.push(tokio::spawn(async move {
            client.run(ops).await;
            Some(client)
        }));
    }
    let mut users = Vec::new();
    for u in 0..config.users {
        let user = format!("amzn1.ask.account.{prefix}-u{u}");
        for (d, dev) in ["d0", "d1"].into_iter().enumerate() {
            let dseed = mix(seed, &[2, u as u64, d as u64]);
            let loads = Loads::default();
            let skill = skill(store.client_adapter(dseed).await, &loads)?;
            let mut device = Device {
                history: history.clone(),
                conversation: Conversation::new(&skill).user(user.clone()).device(dev),
                loads,
                user: user.clone(),
                dev,
                tag: format!("u{u}{dev}"),
                rng: fastrand::Rng::with_seed(dseed),
            };
            let ops = config.ops;
            tasks.push(tokio::spawn(async move {
                device.run(ops).await;
                None
            }));
        }
        users.push(user);
    }
    let mut clients = Vec::new();
    for t in tasks {
        match t.await {
            Ok(Some(c)) => clients.push(c),
            Ok(None) => {}
            Err(e) => return Err(format!("a client panicked: {e}")),
        }
    }

    // Final reads through a fault-free adapter: every key must be readable.
    store.calm();
    let mut finals = BTreeMap::new();
    for key in shared.iter().chain(users.iter()) {
        match store.raw.get(key).await {
            Ok(s) => {
                let obs = match s.map(|s| Obs::of_attributes(&s.attributes)).transpose() {
                    Ok(o) => o,
                    Err(why) => {
                        history.anomaly(format!("malformed final state of {key}: {why}"));
                        None
                    }
                };
                finals.insert(key.clone(), obs);
            }
            Err(e) => history.anomaly(format!("unreadable: the final read of {key} failed: {e}")),
        }
    }
    for c in &mut clients {
        let key = c.own.clone();
        let now = store.clock.now();
        match store.raw.get(&key).await {
            Ok(s) => c.owned_seen(s.as_ref().map(|s| &s.attributes), now, now, &key),
            Err(e) => history.anomaly(format!("unreadable: the final read of {key} failed: {e}")),
        }
    }
    let mut anomalies = history.anomalies();
    anomalies.extend(collapse(model::check(&history.events(), &finals)));
    if !anomalies.is_empty() && std::env::var_os("CHECKER_DUMP").is_some() {
        dump(&history, &anomalies, &finals);
    }
    let (faults, kinds) = store.faults();
    Ok((history, faults, kinds, anomalies))
}

/// One line per anomaly kind and id (the first read that showed it), with how many reads
/// showed it.
fn collapse(found: Vec<String>) -> Vec<String> {
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    for a in found {
        let head = match a.split_once(": ") {
            Some((kind, rest)) => format!("{kind}: {}", rest.split(' ').next().unwrap_or("")),
            None => a.clone(),
        };
        match seen.iter_mut().find(|(h, _, _)| *h == head) {
            Some(e) => e.2 += 1,
            None => seen.push((head, a, 1)),
        }
    }
    seen.into_iter()
        .map(|(_, a, n)| {
            if n > 1 {
                format!("{a} [and {} more]", n - 1)
            } else {
                a
            }
        })
        .collect()
}

/// `CHECKER_DUMP=1`: prints the history of every key an anomaly names, in real-time order.
fn dump(history: &History, anomalies: &[String], finals: &BTreeMap<String, Option<Obs>>) {
    use super::history::Event;
    let mut events = history.events();
    events.sort_by_key(|e| match e {
        Event::Append { inv, .. } | Event::Remove { inv, .. } | Event::Read { inv, .. } => *inv,
    });
    for (key, fin) in finals {
        if !anomalies.iter().any(|a| a.contains(key.as_str())) {
            continue;
        }
        eprintln!("---- history of {key} (final: {fin:?})");
        for e in &events {
            let k = match e {
                Event::Append { key, .. } | Event::Remove { key, .. } | Event::Read { key, .. } => {
                    key
                }
            };
            if k == key {
                eprintln!("  {e:?}");
            }
        }
    }
}
