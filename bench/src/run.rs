//! Measured phases: turns by one or many users for a while, with the process CPU they cost.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::BoxError;
use crate::stats::{Summary, summarize};
use crate::sys::CpuTime;
use crate::workload::Store;

/// How a phase runs.
#[derive(Clone, Debug)]
pub struct PhaseSpec {
    /// `sequential` or `concurrent`.
    pub concurrent: bool,
    /// Distinct user keys.
    pub keys: Vec<String>,
    /// How long to measure.
    pub duration: Duration,
    /// Stop earlier after this many turns in all (bounds the samples kept in memory).
    pub max_turns: usize,
    /// Unmeasured turns per key before measuring (connections, caches).
    pub warmup_per_key: usize,
}

/// What a phase measured.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseResult {
    /// Turns completed.
    pub turns: usize,
    /// Turns that failed (timeouts, conflicts); not in `turns`.
    pub errors: usize,
    /// The first failure, if any.
    pub first_error: Option<String>,
    /// Wall time of the measured window, seconds.
    pub wall_s: f64,
    /// Process user CPU over the window, per completed turn, milliseconds.
    pub user_ms_per_turn: f64,
    /// Process system CPU over the window, per completed turn, milliseconds.
    pub sys_ms_per_turn: f64,
    /// User + system per turn, milliseconds.
    pub cpu_ms_per_turn: f64,
    /// Completed turns per second of wall time.
    pub turns_per_s: f64,
    /// The read.
    pub get: Summary,
    /// The change and the write.
    pub save: Summary,
    /// The whole turn.
    pub turn: Summary,
}

#[derive(Default)]
struct Samples {
    get: Vec<u64>,
    save: Vec<u64>,
    turn: Vec<u64>,
    errors: usize,
    first_error: Option<String>,
}

impl Samples {
    fn merge(&mut self, other: Samples) {
        self.get.extend(other.get);
        self.save.extend(other.save);
        self.turn.extend(other.turn);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// Runs turns over `keys` in one task, one after another, round-robin.
async fn sequential(
    store: Arc<Store>,
    keys: Arc<Vec<String>>,
    deadline: Instant,
    max_turns: usize,
) -> Samples {
    let mut s = Samples::default();
    let mut i = 0usize;
    while s.turn.len() < max_turns && Instant::now() < deadline {
        let key = &keys[i % keys.len()];
        i += 1;
        record(&mut s, store.turn(key).await);
    }
    s
}

/// Runs turns on one key until the deadline.
async fn one_user(store: Arc<Store>, key: String, deadline: Instant, max_turns: usize) -> Samples {
    let mut s = Samples::default();
    let yield_between = store.in_process();
    while s.turn.len() < max_turns && Instant::now() < deadline {
        record(&mut s, store.turn(&key).await);
        if yield_between {
            tokio::task::yield_now().await;
        }
    }
    s
}

fn record(s: &mut Samples, r: Result<crate::workload::TurnTimes, BoxError>) {
    match r {
        Ok(t) => {
            s.get.push(t.get_ns);
            s.save.push(t.save_ns);
            s.turn.push(t.get_ns + t.save_ns);
        }
        Err(e) => {
            s.errors += 1;
            if s.first_error.is_none() {
                s.first_error = Some(e.to_string());
            }
        }
    }
}

/// Warms up, then measures turns for `spec.duration` (or `spec.max_turns`), on the current
/// tokio runtime: in one task for `sequential`, one task per key for `concurrent`.
pub async fn run_phase(store: Arc<Store>, spec: &PhaseSpec) -> Result<PhaseResult, BoxError> {
    let keys = Arc::new(spec.keys.clone());
    // Warm-up: every key once or more, the same way the phase will run.
    let warm_deadline = Instant::now() + Duration::from_secs(60);
    if spec.concurrent {
        let tasks: Vec<_> = keys
            .iter()
            .map(|k| {
                tokio::spawn(one_user(
                    store.clone(),
                    k.clone(),
                    warm_deadline,
                    spec.warmup_per_key,
                ))
            })
            .collect();
        for t in tasks {
            t.await?;
        }
    } else {
        let n = keys.len() * spec.warmup_per_key;
        tokio::spawn(sequential(store.clone(), keys.clone(), warm_deadline, n)).await?;
    }

    let cpu0 = CpuTime::now()?;
    let t0 = Instant::now();
    let deadline = t0 + spec.duration;
    let mut samples = Samples::default();
    if spec.concurrent {
        let per_task = spec.max_turns.div_ceil(keys.len()).max(1);
        let tasks: Vec<_> = keys
            .iter()
            .map(|k| tokio::spawn(one_user(store.clone(), k.clone(), deadline, per_task)))
            .collect();
        for t in tasks {
            samples.merge(t.await?);
        }
    } else {
        samples.merge(
            tokio::spawn(sequential(
                store.clone(),
                keys.clone(),
                deadline,
                spec.max_turns,
            ))
            .await?,
        );
    }
    let wall = t0.elapsed();
    let cpu = CpuTime::now()?.since(cpu0);

    let turns = samples.turn.len();
    let per_turn = |d: Duration| {
        if turns == 0 {
            0.0
        } else {
            d.as_secs_f64() * 1000.0 / turns as f64
        }
    };
    Ok(PhaseResult {
        turns,
        errors: samples.errors,
        first_error: samples.first_error.take(),
        wall_s: wall.as_secs_f64(),
        user_ms_per_turn: per_turn(cpu.user),
        sys_ms_per_turn: per_turn(cpu.sys),
        cpu_ms_per_turn: per_turn(cpu.total()),
        turns_per_s: turns as f64 / wall.as_secs_f64().max(1e-9),
        get: summarize(&mut samples.get),
        save: summarize(&mut samples.save),
        turn: summarize(&mut samples.turn),
    })
}
