//! The model the history is checked against, per key.
//!
//! Every appended id is unique and every removal on a shared key is conditional on what its
//! read saw, so the checks need no search over orders:
//! - no state ever holds an id twice (a change applied twice);
//! - the counter equals the number of ids in every state (two equal changes merged into one
//!   lose a count);
//! - an id whose operation failed definitely never appears;
//! - no read holds an id whose operation began after the read ended;
//! - an acknowledged append is in every fresh read that began after it was acknowledged, and in
//!   the final state, unless a removal not known to have failed saw it (so could have removed
//!   it);
//! - an acknowledged removal is never undone: what it saw never appears again in a fresh read
//!   that began after it was acknowledged, nor in the final state.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::history::{Event, Obs, Outcome};

struct Append {
    inv: u64,
    ret: u64,
    outcome: Outcome,
    what: String,
}

fn describe(what: &str, error: Option<&str>) -> String {
    match error {
        Some(e) => format!("{what}, {e}"),
        None => what.to_owned(),
    }
}

struct Remove {
    seen: HashSet<String>,
    inv: u64,
    ret: u64,
    outcome: Outcome,
    what: String,
}

struct Read {
    obs: Obs,
    inv: u64,
    ret: u64,
    fresh: bool,
    what: &'static str,
}

#[derive(Default)]
struct KeyHistory {
    appends: HashMap<String, Append>,
    removes: Vec<Remove>,
    reads: Vec<Read>,
}

impl KeyHistory {
    fn removable(&self, id: &str, before: u64) -> bool {
        self.removes
            .iter()
            .any(|r| r.outcome != Outcome::Failed && r.inv < before && r.seen.contains(id))
    }

    /// Checks one observed state; `window` is the read's [inv, ret] (`None`: the final state,
    /// after everything).
    fn check(
        &self,
        key: &str,
        obs: &Obs,
        window: Option<(u64, u64)>,
        fresh: bool,
        label: &str,
        out: &mut Vec<String>,
    ) {
        let (inv, ret) = window.unwrap_or((u64::MAX, u64::MAX));
        let mut seen = HashSet::new();
        for id in &obs.ids {
            if !seen.insert(id.as_str()) {
                let what = self.appends.get(id).map_or("?", |a| a.what.as_str());
                out.push(format!(
                    "duplicate id: {id} ({what}) appears twice in {label} of {key}"
                ));
            }
            match self.appends.get(id) {
                None => out.push(format!(
                    "unknown id: {id} in {label} of {key} was never appended there"
                )),
                Some(a) => {
                    if a.outcome == Outcome::Failed {
                        out.push(format!(
                            "failed write landed: {id} ({}) failed definitely but is in {label} of {key}",
                            a.what
                        ));
                    }
                    if a.inv > ret {
                        out.push(format!(
                            "read from the future: {id} ({}) began after {label} of {key} ended",
                            a.what
                        ));
                    }
                }
            }
        }
        if obs.counter != obs.ids.len() as u64 {
            out.push(format!(
                "counter mismatch: the counter is {} but {} ids are in {label} of {key} (equal changes merged, or a change applied twice)",
                obs.counter,
                obs.ids.len()
            ));
        }
        if !fresh {
            return;
        }
        for (id, a) in &self.appends {
            if a.outcome == Outcome::Ok
                && a.ret < inv
                && !seen.contains(id.as_str())
                && !self.removable(id, ret)
            {
                out.push(format!(
                    "acked append lost: {id} ({}) was acknowledged before {label} of {key} began, no removal saw it, yet it is missing",
                    a.what
                ));
            }
        }
        for r in &self.removes {
            if r.outcome == Outcome::Ok && r.ret < inv {
                for id in r.seen.iter().filter(|id| seen.contains(id.as_str())) {
                    out.push(format!(
                        "acked delete undone: {id} was removed by an acknowledged {} but is back in {label} of {key}",
                        r.what
                    ));
                }
            }
        }
    }
}

/// Checks the history against the model; `finals` is what a fault-free read of each key found
/// afterwards (`None`: absent). Returns the anomalies found.
pub fn check(events: &[Event], finals: &BTreeMap<String, Option<Obs>>) -> Vec<String> {
    let mut keys: BTreeMap<String, KeyHistory> = BTreeMap::new();
    for e in events {
        match e {
            Event::Append {
                key,
                id,
                inv,
                ret,
                outcome,
                what,
                error,
            } => {
                keys.entry(key.clone()).or_default().appends.insert(
                    id.clone(),
                    Append {
                        inv: *inv,
                        ret: *ret,
                        outcome: *outcome,
                        what: describe(what, *error),
                    },
                );
            }
            Event::Remove {
                key,
                seen,
                inv,
                ret,
                outcome,
                what,
                error,
            } => keys.entry(key.clone()).or_default().removes.push(Remove {
                seen: seen.iter().cloned().collect(),
                inv: *inv,
                ret: *ret,
                outcome: *outcome,
                what: describe(what, *error),
            }),
            Event::Read {
                key,
                obs,
                inv,
                ret,
                fresh,
                what,
            } => keys.entry(key.clone()).or_default().reads.push(Read {
                obs: obs.clone().unwrap_or(Obs {
                    ids: Vec::new(),
                    counter: 0,
                }),
                inv: *inv,
                ret: *ret,
                fresh: *fresh,
                what,
            }),
        }
    }
    let mut out = Vec::new();
    for (key, h) in &keys {
        for r in &h.reads {
            let label = format!("a {} at [{}, {}]", r.what, r.inv, r.ret);
            h.check(key, &r.obs, Some((r.inv, r.ret)), r.fresh, &label, &mut out);
        }
        let empty = Obs {
            ids: Vec::new(),
            counter: 0,
        };
        let final_obs = finals.get(key).and_then(Option::as_ref).unwrap_or(&empty);
        h.check(key, final_obs, None, true, "the final state", &mut out);
    }
    out
}
