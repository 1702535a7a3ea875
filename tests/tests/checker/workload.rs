//! Adapter-level clients: seeded random gets, `update` appends, compare-and-set appends,
//! conditional deletes on keys every client shares; blind saves (some expiring on the injected
//! clock), blind deletes and reads on a key the client owns; clock ticks.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use persistence_core::{
    Attributes, Clock, Error, Expiry, ManualClock, PersistenceAdapter, PersistenceAdapterExt,
    RetryPolicy, SaveMode, SaveOptions, is_expired, unique_token,
};
use serde_json::{Value, json};

use super::history::{Event, History, Obs, Outcome, variant, write_outcome};

/// One adapter-level client.
pub struct Client {
    pub index: usize,
    pub history: Arc<History>,
    pub adapter: Arc<dyn PersistenceAdapter>,
    pub clock: ManualClock,
    pub rng: fastrand::Rng,
    pub shared: Vec<String>,
    pub own: String,
    pub seq: u64,
    /// What the owned key may hold now (more than one after a write whose answer was lost).
    pub owned: Vec<Option<Val>>,
}

/// What a blind save put on the owned key: its id, and the bounds of its expiry.
#[derive(Clone, Debug, PartialEq)]
pub struct Val {
    pub id: String,
    pub expires: Option<(SystemTime, SystemTime)>,
}

/// Adds `id` to the list `list` and counts it in `counter`.
pub fn append(attrs: &mut Attributes, list: &str, counter: &str, id: &str) {
    let mut items = attrs
        .get(list)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    items.push(Value::String(id.to_owned()));
    let n = attrs.get(counter).and_then(Value::as_u64).unwrap_or(0) + 1;
    attrs.insert(list.to_owned(), Value::Array(items));
    attrs.insert(counter.to_owned(), json!(n));
}

/// May a state holding `val` (or nothing) be read as `seen` between clock times `from`..`to`?
pub fn consistent(val: &Option<Val>, seen: Option<&str>, from: SystemTime, to: SystemTime) -> bool {
    match (val, seen) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some(v), Some(id)) => {
            v.id == id && v.expires.is_none_or(|(_, hi)| !is_expired(Some(hi), from))
        }
        (Some(v), None) => v.expires.is_some_and(|(lo, _)| is_expired(Some(lo), to)),
    }
}

impl Client {
    fn next_id(&mut self) -> String {
        self.seq += 1;
        format!("c{}.{}", self.index, self.seq)
    }

    pub async fn run(&mut self, ops: usize) {
        for _ in 0..ops {
            let key = self.shared[self.rng.usize(..self.shared.len())].clone();
            match self.rng.u32(0..100) {
                0..20 => {
                    let _ = self.get(&key, "get").await;
                }
                20..45 => self.update_append(&key).await,
                45..65 => self.cas_append(&key).await,
                65..73 => self.delete_if(&key).await,
                73..82 => self.owned_save().await,
                82..87 => self.owned_delete().await,
                87..95 => self.owned_get().await,
                _ => self
                    .clock
                    .advance(Duration::from_secs(self.rng.u64(1..=20))),
            }
        }
    }

    /// Reads a shared key into the history; `Some(stored)` when the read succeeded.
    async fn get(
        &mut self,
        key: &str,
        what: &'static str,
    ) -> Option<Option<persistence_core::Stored>> {
        let inv = self.history.now();
        let got = self.adapter.get(key).await;
        let ret = self.history.now();
        match got {
            Ok(stored) => {
                let obs = match stored.as_ref().map(|s| Obs::of_attributes(&s.attributes)) {
                    Some(Err(why)) => {
                        self.history
                            .anomaly(format!("malformed state of {key} read by {what}: {why}"));
                        None
                    }
                    Some(Ok(o)) => Some(o),
                    None => None,
                };
                self.history.push(Event::Read {
                    key: key.to_owned(),
                    obs,
                    inv,
                    ret,
                    fresh: true,
                    what,
                });
                self.history.count(Outcome::Ok, None);
                Some(stored)
            }
            Err(e) => {
                self.read_failed(key, what, &e);
                None
            }
        }
    }

    fn read_failed(&self, key: &str, what: &str, e: &Error) {
        if !matches!(e, Error::Backend { .. } | Error::OutcomeUnknown { .. }) {
            self.history.anomaly(format!(
                "unreadable: {what} of {key} failed with {} ({e})",
                variant(e)
            ));
        }
        self.history.count(Outcome::Failed, Some(e));
    }

    fn outcome_of<T>(&self, r: &Result<T, Error>, what: &str) -> Outcome {
        match r {
            Ok(_) => Outcome::Ok,
            Err(e) => match write_outcome(e) {
                Ok(o) => o,
                Err(why) => {
                    self.history.anomaly(format!("{what}: {why}"));
                    Outcome::Unknown
                }
            },
        }
    }

    async fn update_append(&mut self, key: &str) {
        let id = self.next_id();
        let policy = RetryPolicy {
            max_attempts: self.rng.u32(2..=25),
            ..RetryPolicy::default()
        };
        let inv = self.history.now();
        let r = self
            .adapter
            .update_with(key, &policy, |a| append(a, "log", "n", &id))
            .await;
        let ret = self.history.now();
        let outcome = self.outcome_of(&r, "update");
        self.history.count(outcome, r.as_ref().err());
        self.history.push(Event::Append {
            key: key.to_owned(),
            id,
            inv,
            ret,
            outcome,
            what: "update",
            error: r.as_ref().err().map(variant),
        });
    }

    async fn cas_append(&mut self, key: &str) {
        let Some(stored) = self.get(key, "get before a CAS append").await else {
            return;
        };
        let id = self.next_id();
        let (mut attrs, version) = match stored {
            Some(s) => (s.attributes, Some(s.version)),
            None => (Attributes::new(), None),
        };
        append(&mut attrs, "log", "n", &id);
        let mut options = SaveOptions::new(SaveMode::expecting(version.as_ref()));
        if self.rng.bool() {
            options = options.token(unique_token());
        }
        let inv = self.history.now();
        let r = self.adapter.save_with(key, &attrs, &options).await;
        let ret = self.history.now();
        let outcome = self.outcome_of(&r, "CAS append");
        self.history.count(outcome, r.as_ref().err());
        self.history.push(Event::Append {
            key: key.to_owned(),
            id,
            inv,
            ret,
            outcome,
            what: "CAS append",
            error: r.as_ref().err().map(variant),
        });
    }

    async fn delete_if(&mut self, key: &str) {
        let Some(Some(stored)) = self.get(key, "get before a delete_if").await else {
            return;
        };
        let seen = Obs::of_attributes(&stored.attributes)
            .map(|o| o.ids)
            .unwrap_or_default();
        let inv = self.history.now();
        let r = self.adapter.delete_if(key, &stored.version).await;
        let ret = self.history.now();
        let outcome = self.outcome_of(&r, "delete_if");
        self.history.count(outcome, r.as_ref().err());
        self.history.push(Event::Remove {
            key: key.to_owned(),
            seen,
            inv,
            ret,
            outcome,
            what: "delete_if",
            error: r.as_ref().err().map(variant),
        });
    }

    /// After a blind write: what the owned key may hold.
    fn owned_after(&mut self, r: &Result<(), Error>, new: Option<Val>, what: &str) {
        if let Err(e) = r
            && e.is_conflict()
        {
            self.history
                .anomaly(format!("{what} of {} got a Conflict: {e}", self.own));
        }
        match self.outcome_of(r, what) {
            Outcome::Ok => self.owned = vec![new],
            Outcome::Failed => {}
            Outcome::Unknown => {
                if !self.owned.contains(&new) {
                    self.owned.push(new);
                }
            }
        }
    }

    async fn owned_save(&mut self) {
        let id = self.next_id();
        let mut attrs = Attributes::new();
        append(&mut attrs, "log", "n", &id);
        let expiry = if self.rng.bool() {
            Expiry::After(Duration::from_secs(self.rng.u64(5..=60)))
        } else {
            Expiry::Never
        };
        let options = SaveOptions::new(SaveMode::Overwrite).expiry(expiry);
        let from = self.clock.now();
        let r = self
            .adapter
            .save_with(&self.own, &attrs, &options)
            .await
            .map(|_| ());
        let to = self.clock.now();
        let expires = match (expiry.resolve(None, from), expiry.resolve(None, to)) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        };
        self.history
            .count(self.outcome_of(&r, "blind save"), r.as_ref().err());
        self.owned_after(&r, Some(Val { id, expires }), "blind save");
    }

    async fn owned_delete(&mut self) {
        let r = self.adapter.delete(&self.own).await;
        self.history
            .count(self.outcome_of(&r, "blind delete"), r.as_ref().err());
        self.owned_after(&r, None, "blind delete");
    }

    async fn owned_get(&mut self) {
        let from = self.clock.now();
        let got = self.adapter.get(&self.own).await;
        let to = self.clock.now();
        match got {
            Ok(stored) => {
                self.history.count(Outcome::Ok, None);
                let own = self.own.clone();
                self.owned_seen(stored.as_ref().map(|s| &s.attributes), from, to, &own);
            }
            Err(e) => self.read_failed(&self.own.clone(), "get", &e),
        }
    }

    /// Checks what was read of the owned key against what it may hold, and narrows that down.
    pub fn owned_seen(
        &mut self,
        attrs: Option<&Attributes>,
        from: SystemTime,
        to: SystemTime,
        label: &str,
    ) {
        let seen = match attrs.map(Obs::of_attributes) {
            None => None,
            Some(Ok(o)) if o.ids.len() == 1 && o.counter == 1 => Some(o.ids[0].clone()),
            Some(other) => {
                self.history
                    .anomaly(format!("owned key {label} holds {other:?}, not one write"));
                return;
            }
        };
        let fits: Vec<Option<Val>> = self
            .owned
            .iter()
            .filter(|v| consistent(v, seen.as_deref(), from, to))
            .cloned()
            .collect();
        if fits.is_empty() {
            self.history.anomaly(format!(
                "owned key {label}: read {seen:?}, but it may only hold one of {:?} (blind write lost, delete undone, or expiry wrong)",
                self.owned
            ));
            return;
        }
        self.owned = if seen.is_none() { vec![None] } else { fits };
    }
}
