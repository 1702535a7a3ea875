//! Whole skill turns: a small skill whose "Count" intent counts a visit (a counter every device
//! changes, and a list of ids per device), "Reset" deletes the user's data, "Peek" only reads;
//! two devices of one user run seeded random turns at once, with session carry on, each
//! through its own faulty adapter. The handlers leave what they loaded in a side channel (per
//! turn, the load of its last run), so the model knows what each turn read and what a Reset
//! could remove.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use persistence_core::PersistenceAdapter;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use skill_builder::{HandlerError, Skill, SkillBuilder, SkillError, Turn, TurnResult};
use skill_testkit::Conversation;

use super::history::{Event, History, Obs, Outcome, variant, write_outcome};

/// What each turn (by id) loaded on its handler's last run.
#[derive(Clone, Default)]
pub struct Loads(Arc<Mutex<HashMap<String, Map<String, Value>>>>);

impl Loads {
    fn record(&self, id: &str, attrs: Map<String, Value>) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_owned(), attrs);
    }

    fn take(&self, id: &str) -> Option<Map<String, Value>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(id)
    }
}

/// The typed state of the Count intent.
#[derive(Default, Serialize, Deserialize)]
struct Tally {
    #[serde(default)]
    visits: u64,
    #[serde(default)]
    seen_d0: Vec<String>,
    #[serde(default)]
    seen_d1: Vec<String>,
}

fn slot(turn: &Turn, name: &str) -> String {
    turn.slot_value(name).unwrap_or_default().to_owned()
}

fn as_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

async fn count(turn: Turn, loads: Loads) -> TurnResult {
    let (id, dev) = (slot(&turn, "id"), slot(&turn, "dev"));
    let delay = Duration::from_micros(slot(&turn, "delay").parse().unwrap_or(0));
    if slot(&turn, "mode") == "typed" {
        let mut st = turn.state::<Tally>().await?;
        loads.record(
            &id,
            as_map(serde_json::to_value(&*st).map_err(HandlerError::msg)?),
        );
        tokio::time::sleep(delay).await;
        st.visits += 1;
        if dev == "d0" {
            st.seen_d0.push(id);
        } else {
            st.seen_d1.push(id);
        }
    } else {
        let mut a = turn.attributes().await?;
        loads.record(&id, a.clone().into_inner());
        tokio::time::sleep(delay).await;
        super::workload::append(&mut a, &format!("seen_{dev}"), "visits", &id);
    }
    Ok(turn.speak("Counted.").reprompt("Again?"))
}

async fn reset(turn: Turn, loads: Loads) -> TurnResult {
    let id = slot(&turn, "id");
    let delay = Duration::from_micros(slot(&turn, "delay").parse().unwrap_or(0));
    {
        let a = turn.attributes().await?;
        loads.record(&id, a.clone().into_inner());
    }
    tokio::time::sleep(delay).await;
    turn.delete_persistent_attributes().await?;
    Ok(turn.speak("Reset.").reprompt("Now?"))
}

async fn peek(turn: Turn, loads: Loads) -> TurnResult {
    let id = slot(&turn, "id");
    let a = turn.attributes().await?;
    loads.record(&id, a.clone().into_inner());
    Ok(turn.speak("Peeked.").reprompt("And?"))
}

/// The skill, over `adapter`, with session carry on.
pub fn skill(adapter: Arc<dyn PersistenceAdapter>, loads: &Loads) -> Result<Skill, String> {
    let (l1, l2, l3) = (loads.clone(), loads.clone(), loads.clone());
    SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(adapter)
        .with_session_carry(true)
        .on_intent("Count", move |t: Turn| count(t, l1.clone()))
        .on_intent("Reset", move |t: Turn| reset(t, l2.clone()))
        .on_intent("Peek", move |t: Turn| peek(t, l3.clone()))
        .build()
        .map_err(|e| e.to_string())
}

/// One device of one user.
pub struct Device {
    pub history: Arc<History>,
    pub conversation: Conversation,
    pub loads: Loads,
    pub user: String,
    pub dev: &'static str,
    pub tag: String,
    pub rng: fastrand::Rng,
}

impl Device {
    pub async fn run(&mut self, ops: usize) {
        for seq in 0..ops {
            if self.rng.u32(0..100) < 15 {
                self.conversation.new_session();
            }
            let carried = self.conversation.carries_persistent_attributes();
            let intent = match self.rng.u32(0..100) {
                0..60 => "Count",
                60..78 => "Reset",
                _ => "Peek",
            };
            let id = format!("{}.{}", self.tag, seq);
            let mode = if self.rng.bool() { "typed" } else { "untyped" };
            // Between its load and its write a turn waits a little (a Reset up to 30 ms, about
            // one cloud round trip), so that the other device's turns land in between.
            let delay = match intent {
                "Reset" => self.rng.u64(0..30_000),
                _ => self.rng.u64(0..2_000),
            }
            .to_string();
            let inv = self.history.now();
            let r = self
                .conversation
                .intent(intent)
                .slot("id", id.clone())
                .slot("dev", self.dev)
                .slot("mode", mode)
                .slot("delay", delay)
                .send()
                .await;
            let ret = self.history.now();
            let outcome = match &r {
                Ok(_) => Outcome::Ok,
                Err(SkillError::Persistence(e)) => match write_outcome(e) {
                    Ok(o) => o,
                    Err(why) => {
                        self.history.anomaly(format!("{intent} turn: {why}"));
                        Outcome::Unknown
                    }
                },
                Err(other) => {
                    self.history
                        .anomaly(format!("{intent} turn failed untyped: {other}"));
                    Outcome::Unknown
                }
            };
            let err = match &r {
                Err(SkillError::Persistence(e)) => Some(e),
                _ => None,
            };
            self.history.count(outcome, err);
            let load = self.loads.take(&id).map(|m| Obs::of(&m));
            let obs = match load {
                Some(Ok(o)) => Some(o),
                Some(Err(why)) => {
                    self.history
                        .anomaly(format!("malformed state loaded by a {intent} turn: {why}"));
                    None
                }
                None => None,
            };
            let key = self.user.clone();
            if let Some(o) = &obs {
                // A load from storage is a read within the turn. A copy the session carried
                // may be stale: it is only known current when a Count's conditional write on it
                // was acknowledged (a Reset's delete of a version already gone is acknowledged
                // too, so it proves nothing).
                let fresh = !carried || (intent == "Count" && outcome == Outcome::Ok);
                self.history.push(Event::Read {
                    key: key.clone(),
                    obs: Some(o.clone()),
                    inv,
                    ret,
                    fresh,
                    what: match (intent, carried) {
                        ("Count", false) => "Count turn's load",
                        ("Count", true) => "Count turn's load (carried copy)",
                        ("Reset", false) => "Reset turn's load",
                        ("Reset", true) => "Reset turn's load (carried copy)",
                        (_, false) => "Peek turn's load",
                        (_, true) => "Peek turn's load (carried copy)",
                    },
                });
            }
            match intent {
                "Count" => self.history.push(Event::Append {
                    key,
                    id,
                    inv,
                    ret,
                    outcome,
                    what: "Count turn",
                    error: err.map(variant),
                }),
                "Reset" => {
                    if let Some(o) = obs {
                        self.history.push(Event::Remove {
                            key,
                            seen: o.ids,
                            inv,
                            ret,
                            outcome,
                            what: "Reset turn",
                            error: err.map(variant),
                        });
                    }
                }
                _ => {}
            }
        }
    }
}
