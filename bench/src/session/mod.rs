//! Issue 22's rows: what a five-turn session through the skill builder costs at the store.
//!
//! - [`count`]: reads and writes per session, before (no carried copy, no cache) and after
//!   (the carried copy; the cache; both), on every backend;
//! - [`latency`]: turn latency and storage wait under an emulated network (a loopback proxy
//!   adding a fixed delay each way in front of the emulator), carry on and off, against the
//!   official Python ASK SDK running the same session through the same proxy ([`python`]);
//! - [`linking`]: the account-linking example's first turn, prefetch on and off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use persistence_cache::CachingAdapter;
use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
use serde::Serialize;
use serde_json::Value;
use skill_builder::request::SessionEndedReason;
use skill_builder::{Skill, SkillBuilder, Turn, TurnResult};
use skill_testkit::Conversation;

use crate::counting::{RequestCounter, describe, tally};
use crate::workload::sample_map;
use crate::{Backend, BoxError};

pub mod latency;
pub mod linking;
pub mod metered;
pub mod python;

pub use metered::{Meter, Metered};

/// The session, as printed under the tables. The Python script plays the same one.
pub const SESSION: &str = "five-turn session through the skill builder (skill_testkit::Conversation): \
LaunchRequest (visits+1) → OrderIntent (orders+1, lastOrder) → AMAZON.HelpIntent (reads the \
attributes, changes nothing) → OrderIntent → SessionEndedRequest (no persistence); a returning \
user with a ~1 KB map";

/// The intents of the session after the launch, and whether each changes the attributes.
pub const INTENTS: [(&str, bool); 3] = [
    ("OrderIntent", true),
    ("AMAZON.HelpIntent", false),
    ("OrderIntent", true),
];

fn count_up(a: &mut serde_json::Map<String, Value>, name: &str) -> u64 {
    let n = a.get(name).and_then(Value::as_u64).unwrap_or(0) + 1;
    a.insert(name.into(), n.into());
    n
}

async fn launch(turn: Turn) -> TurnResult {
    let visits = {
        let mut a = turn.attributes().await?;
        count_up(&mut a, "visits")
    };
    Ok(turn
        .speak(format!(
            "Welcome back! Visit {visits}. What would you like?"
        ))
        .reprompt("What would you like?"))
}

async fn order(turn: Turn) -> TurnResult {
    let orders = {
        let mut a = turn.attributes().await?;
        a.insert("lastOrder".into(), "flat white".into());
        count_up(&mut a, "orders")
    };
    Ok(turn
        .speak(format!("A flat white: order {orders}. Anything else?"))
        .reprompt("Anything else?"))
}

async fn help(turn: Turn) -> TurnResult {
    let orders = turn
        .attributes()
        .await?
        .get("orders")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(turn
        .speak(format!(
            "You have ordered {orders} times. Say order a coffee."
        ))
        .reprompt("Say order a coffee."))
}

async fn ended(turn: Turn) -> TurnResult {
    Ok(turn.reply())
}

/// The session's skill over `store`, with the carried copy and prefetch as given.
pub fn skill(
    store: Arc<dyn PersistenceAdapter>,
    carry: bool,
    prefetch: bool,
) -> Result<Skill, BoxError> {
    Ok(SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .with_session_carry(carry)
        .with_prefetch(prefetch)
        .on_launch(launch)
        .on_intent("OrderIntent", order)
        .on_intent("AMAZON.HelpIntent", help)
        .on_session_ended(ended)
        .build()?)
}

/// Plays the five-turn session as `user` and returns each turn's latency (the skill's
/// `invoke`, as the test kit calls it).
pub async fn five_turns(skill: &Skill, user: &str) -> Result<[Duration; 5], BoxError> {
    let mut talk = Conversation::new(skill).user(user);
    let mut out = [Duration::ZERO; 5];
    let t = Instant::now();
    let first = talk.launch().await?;
    out[0] = t.elapsed();
    if first.ends_session() {
        return Err(format!("the launch ended the session: {}", first.speech()).into());
    }
    for (i, (intent, _)) in INTENTS.iter().enumerate() {
        let t = Instant::now();
        let ex = talk.intent(*intent).send().await?;
        out[i + 1] = t.elapsed();
        if ex.ends_session() {
            return Err(format!("{intent} ended the session: {}", ex.speech()).into());
        }
    }
    let t = Instant::now();
    talk.end_session(SessionEndedReason::UserInitiated).await?;
    out[4] = t.elapsed();
    Ok(out)
}

/// Stores the returning user's ~1 KB map under `key`.
pub async fn seed(store: &dyn PersistenceAdapter, key: &str) -> Result<(), BoxError> {
    store
        .save(
            key,
            &Attributes::from(sample_map(1024)),
            SaveMode::Overwrite,
        )
        .await?;
    Ok(())
}

/// How a configuration uses storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    /// The carried copy (`with_session_carry`).
    pub carry: bool,
    /// `CachingAdapter` in front of the store.
    pub cache: bool,
}

impl Config {
    /// Before, carry, cache, both.
    pub const ALL: [Config; 4] = [
        Config {
            carry: false,
            cache: false,
        },
        Config {
            carry: true,
            cache: false,
        },
        Config {
            carry: false,
            cache: true,
        },
        Config {
            carry: true,
            cache: true,
        },
    ];

    /// For the tables.
    pub fn name(self) -> &'static str {
        match (self.carry, self.cache) {
            (false, false) => "before: no carry, no cache",
            (true, false) => "carry (default)",
            (false, true) => "cache, no carry",
            (true, true) => "carry + cache",
        }
    }

    /// The store a skill of this configuration uses.
    pub fn store(self, store: Arc<dyn PersistenceAdapter>) -> Arc<dyn PersistenceAdapter> {
        if self.cache {
            Arc::new(CachingAdapter::builder(store).build())
        } else {
            store
        }
    }
}

/// Reads and writes of one session at the store.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counted {
    /// Requests by operation (the SDK's names on DynamoDB and S3, `get`/`save` on the others).
    pub operations: String,
    /// Reads.
    pub reads: u64,
    /// Writes.
    pub writes: u64,
}

/// One configuration's counts on one backend: a first session, then the same user's next
/// session in the same process (where a cache is warm).
#[derive(Clone, Debug, Serialize)]
pub struct SessionCountRow {
    /// Backend.
    pub backend: Backend,
    /// Configuration.
    pub config: Config,
    /// The first session.
    pub first: Counted,
    /// The next session of the same user, same process.
    pub next: Counted,
}

impl SessionCountRow {
    /// The target for the first session: one read, a write per changing turn.
    pub fn meets_target(&self) -> bool {
        let changing = 1 + INTENTS.iter().filter(|(_, c)| *c).count() as u64;
        self.first.reads <= 1 && self.first.writes <= changing
    }
}

/// Where a backend's requests are counted: the SDK's interceptor, or a [`Metered`] adapter.
pub enum Counter<'a> {
    /// DynamoDB and S3: every HTTP request the SDK sends.
    Sdk(&'a RequestCounter),
    /// Memory and SQLite: every call to the adapter.
    Adapter(&'a Metered),
}

impl Counter<'_> {
    fn take(&self) -> Counted {
        match self {
            Counter::Sdk(c) => {
                let ops = c.take();
                c.take_bytes();
                let (reads, writes, _) = tally(&ops);
                Counted {
                    operations: describe(&ops),
                    reads,
                    writes,
                }
            }
            Counter::Adapter(m) => {
                let Meter { reads, writes, .. } = m.take();
                let mut ops = Vec::new();
                if reads > 0 {
                    ops.push(format!("get×{reads}"));
                }
                if writes > 0 {
                    ops.push(format!("save×{writes}"));
                }
                Counted {
                    operations: if ops.is_empty() {
                        "none".into()
                    } else {
                        ops.join(" ")
                    },
                    reads,
                    writes,
                }
            }
        }
    }
}

/// Counts the requests of two sessions of one returning user per configuration, through
/// `store` (which reports to `counter`). Keys start with `key_prefix`.
pub async fn count(
    backend: Backend,
    store: Arc<dyn PersistenceAdapter>,
    counter: Counter<'_>,
    key_prefix: &str,
) -> Result<Vec<SessionCountRow>, BoxError> {
    let mut rows = Vec::new();
    for (i, config) in Config::ALL.into_iter().enumerate() {
        let user = format!("{key_prefix}-s{i}");
        seed(store.as_ref(), &user).await?;
        // One skill (and cache) per configuration, as one warm process serves the user twice.
        let skill = skill(config.store(store.clone()), config.carry, true)?;
        counter.take();
        five_turns(&skill, &user).await?;
        let first = counter.take();
        five_turns(&skill, &user).await?;
        let next = counter.take();
        rows.push(SessionCountRow {
            backend,
            config,
            first,
            next,
        });
    }
    Ok(rows)
}

/// The keys [`count`] writes under `key_prefix`.
pub fn count_keys(key_prefix: &str) -> Vec<String> {
    (0..Config::ALL.len())
        .map(|i| format!("{key_prefix}-s{i}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_memory::MemoryAdapter;

    #[tokio::test]
    async fn the_session_reads_once_with_the_copy_and_writes_the_changing_turns() {
        let metered = Metered::new(Arc::new(MemoryAdapter::new()));
        let rows = count(
            Backend::Memory,
            Arc::new(metered.clone()),
            Counter::Adapter(&metered),
            "u",
        )
        .await
        .unwrap();
        let by = |carry, cache| {
            rows.iter()
                .find(|r| r.config == Config { carry, cache })
                .unwrap()
        };
        let before = by(false, false);
        assert_eq!((before.first.reads, before.first.writes), (4, 3));
        assert!(!before.meets_target());
        let carry = by(true, false);
        assert_eq!((carry.first.reads, carry.first.writes), (1, 3));
        assert_eq!(carry.first.operations, "get×1 save×3");
        assert!(carry.meets_target());
        // A warm cache answers the next session's read.
        let both = by(true, true);
        assert_eq!((both.next.reads, both.next.writes), (0, 3));
    }
}
