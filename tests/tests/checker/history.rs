//! The history: what every client invoked, when, and how it ended; plus what every read saw.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use persistence_core::{Attributes, Error};

/// How an operation ended, as the model sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged: it took effect.
    Ok,
    /// A definite failure (typed `Conflict`, or refused before anything was sent): it took no
    /// effect.
    Failed,
    /// The answer was lost: it may or may not have taken effect.
    Unknown,
}

/// What a read (or a turn's load) saw of one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Obs {
    /// The appended ids in the state, in order (a duplicate is an anomaly).
    pub ids: Vec<String>,
    /// The counter (`n` for adapter keys, `visits` for skill users).
    pub counter: u64,
}

impl Obs {
    /// What attributes hold: ids from `log` and every `seen_*` list; the counter from `n` or
    /// `visits`. `Err` when the attributes are not of the shape the workload writes.
    pub fn of(attrs: &serde_json::Map<String, serde_json::Value>) -> Result<Self, String> {
        let mut ids = Vec::new();
        let mut counter = 0;
        for (name, value) in attrs {
            if name == "log" || name.starts_with("seen_") {
                let list = value
                    .as_array()
                    .ok_or_else(|| format!("`{name}` is not a list"))?;
                for v in list {
                    ids.push(
                        v.as_str()
                            .ok_or_else(|| format!("`{name}` holds a non-string"))?
                            .to_owned(),
                    );
                }
            } else if name == "n" || name == "visits" {
                counter = value
                    .as_u64()
                    .ok_or_else(|| format!("`{name}` is not a count"))?;
            } else {
                return Err(format!("unexpected attribute `{name}`"));
            }
        }
        Ok(Self { ids, counter })
    }

    /// [`Obs::of`] for stored attributes.
    pub fn of_attributes(attrs: &Attributes) -> Result<Self, String> {
        Self::of(attrs)
    }
}

/// One entry of the history.
#[derive(Clone, Debug)]
pub enum Event {
    /// An operation that appends `id` (update, CAS append, a skill's Count turn).
    Append {
        key: String,
        id: String,
        inv: u64,
        ret: u64,
        outcome: Outcome,
        what: &'static str,
        /// The error's variant, when it failed.
        error: Option<&'static str>,
    },
    /// A conditional removal of exactly what `seen` lists (delete_if after a get, a skill's
    /// Reset turn after its load).
    Remove {
        key: String,
        seen: Vec<String>,
        inv: u64,
        ret: u64,
        outcome: Outcome,
        what: &'static str,
        /// The error's variant, when it failed.
        error: Option<&'static str>,
    },
    /// A read. `fresh`: it read storage at some instant within [inv, ret] (a get, a turn's
    /// load that its acknowledged write was conditional on), rather than a copy a session
    /// carried.
    Read {
        key: String,
        obs: Option<Obs>,
        inv: u64,
        ret: u64,
        fresh: bool,
        what: &'static str,
    },
}

/// Outcome and error-variant counts.
#[derive(Debug, Default)]
pub struct Counts {
    pub ops: u64,
    pub ok: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Errors seen, by variant.
    pub errors: BTreeMap<String, u64>,
}

/// The history of one run, shared by its clients.
#[derive(Debug, Default)]
pub struct History {
    clock: AtomicU64,
    events: Mutex<Vec<Event>>,
    counts: Mutex<Counts>,
    /// Anomalies clients found on the spot (owned keys, untyped errors, ...).
    anomalies: Mutex<Vec<String>>,
}

/// The name of an error's variant, for counts.
pub fn variant(e: &Error) -> &'static str {
    match e {
        Error::InvalidKey { .. } => "InvalidKey",
        Error::Conflict { .. } => "Conflict",
        Error::OutcomeUnknown { .. } => "OutcomeUnknown",
        Error::TooLarge { .. } => "TooLarge",
        Error::CorruptData { .. } => "CorruptData",
        Error::UnsupportedValue { .. } => "UnsupportedValue",
        Error::AttributeType { .. } => "AttributeType",
        Error::InvalidVersion { .. } => "InvalidVersion",
        Error::Unsupported { .. } => "Unsupported",
        Error::NotFound { .. } => "NotFound",
        Error::Incompatible { .. } => "Incompatible",
        Error::NotConfigured { .. } => "NotConfigured",
        Error::Backend { .. } => "Backend",
        _ => "other",
    }
}

/// How the model takes a failed write: `Conflict` and `Backend` (refused, throttled, or
/// retries exhausted without the request possibly applied) are definite; `OutcomeUnknown` is
/// unknown. Anything else a write of well-formed attributes should never get.
pub fn write_outcome(e: &Error) -> Result<Outcome, String> {
    match e {
        Error::Conflict { .. } | Error::Backend { .. } => Ok(Outcome::Failed),
        Error::OutcomeUnknown { .. } => Ok(Outcome::Unknown),
        other => Err(format!("unexpected {} error: {other}", variant(other))),
    }
}

impl History {
    pub fn new() -> Arc<Self> {
        Arc::default()
    }

    /// A point in the run's real-time order.
    pub fn now(&self) -> u64 {
        self.clock.fetch_add(1, Ordering::SeqCst)
    }

    pub fn push(&self, e: Event) {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(e);
    }

    pub fn anomaly(&self, what: String) {
        self.anomalies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(what);
    }

    /// Counts one operation's outcome, and its error's variant.
    pub fn count(&self, outcome: Outcome, error: Option<&Error>) {
        let mut c = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        c.ops += 1;
        match outcome {
            Outcome::Ok => c.ok += 1,
            Outcome::Failed => c.failed += 1,
            Outcome::Unknown => c.unknown += 1,
        }
        if let Some(e) = error {
            *c.errors.entry(variant(e).to_owned()).or_default() += 1;
        }
    }

    pub fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn anomalies(&self) -> Vec<String> {
        self.anomalies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn with_counts<T>(&self, f: impl FnOnce(&Counts) -> T) -> T {
        f(&self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }
}
