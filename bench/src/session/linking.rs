//! The account-linking example's first turn, prefetch on and off, against a fake userinfo
//! endpoint on loopback whose answer takes a fixed time (standing for the OAuth provider's
//! lookup); and, for comparison, the same lookup in a skill keyed by the Alexa user ID, where
//! the read does not wait for the lookup's answer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use persistence_core::PersistenceAdapter;
use serde::Serialize;
use serde_json::{Value, json};
use skill_builder::{HandlerError, SkillBuilder, Turn, TurnResult};
use skill_examples::account_linking::{ProfileClient, builder};
use skill_testkit::Conversation;

use super::{Metered, seed};
use crate::BoxError;

/// One skill and prefetch setting.
#[derive(Clone, Debug, Serialize)]
pub struct LinkingRow {
    /// Which skill.
    pub skill: &'static str,
    /// `with_prefetch`.
    pub prefetch: bool,
    /// First-turn latencies, ms.
    pub turn_ms: Vec<f64>,
    /// Time inside the store's calls per turn, ms.
    pub storage_ms: Vec<f64>,
}

/// The example as shipped: the key is the linked account's, known after the lookup.
pub const EXAMPLE: &str = "account-linking example (keyed_by_interceptor: key from the lookup)";
/// The same lookup, the key from the request.
pub const USER_KEYED: &str = "same lookup in a before interceptor, keyed by the Alexa user ID";

/// A userinfo endpoint on 127.0.0.1 that answers any `Bearer Atza|SUB` with a profile of
/// subject `SUB`, after `lookup`. Returns its URL.
async fn provider(lookup: Duration) -> Result<String, BoxError> {
    let app = Router::new().route(
        "/oauth2/userInfo",
        get(move |headers: HeaderMap| async move {
            tokio::time::sleep(lookup).await;
            let sub = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer Atza|"))
                .unwrap_or("unknown")
                .to_owned();
            axum::Json(json!({"sub": sub, "given_name": "Ada", "username": "ada"}))
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/oauth2/userInfo", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(url)
}

/// The comparison skill: the example's lookup in a `before` interceptor, the visit counter
/// keyed by the Alexa user ID.
fn user_keyed(
    store: Arc<dyn PersistenceAdapter>,
    profiles: ProfileClient,
    prefetch: bool,
) -> Result<skill_builder::Skill, BoxError> {
    let profiles = Arc::new(profiles);
    Ok(SkillBuilder::new()
        .skip_skill_id_check_for_local_testing()
        .with_persistence_adapter(store)
        .with_prefetch(prefetch)
        .before(move |turn: Turn| {
            let profiles = profiles.clone();
            async move {
                if let Some(token) = turn.envelope().user_access_token().map(str::to_owned) {
                    let name = profiles
                        .profile(&token)
                        .await
                        .map_or_else(|_| "there".to_owned(), |p| p.greeting_name().to_owned());
                    turn.insert_extension(name);
                }
                Ok::<_, HandlerError>(())
            }
        })
        .on_launch(|turn: Turn| async move {
            let name = turn.extension::<String>().unwrap_or_default();
            let visits = {
                let mut a = turn.attributes().await?;
                let n = a.get("visits").and_then(Value::as_u64).unwrap_or(0) + 1;
                a.insert("visits".into(), n.into());
                n
            };
            TurnResult::Ok(
                turn.speak(format!("Welcome back, {name}! This is visit {visits}."))
                    .reprompt("Say hello again."),
            )
        })
        .build()?)
}

/// Runs `warmup + runs` first turns per row through `store` (metered by `metered`). Keys start
/// with `key_prefix`; returns them too.
pub async fn run(
    store: Arc<dyn PersistenceAdapter>,
    metered: &Metered,
    runs: usize,
    warmup: usize,
    lookup: Duration,
    key_prefix: &str,
) -> Result<(Vec<LinkingRow>, Vec<String>), BoxError> {
    let url = provider(lookup).await?;
    let settings = [
        (EXAMPLE, false),
        (EXAMPLE, true),
        (USER_KEYED, false),
        (USER_KEYED, true),
    ];
    let mut skills = Vec::new();
    for &(which, prefetch) in &settings {
        let profiles = ProfileClient::new(url.clone())?;
        skills.push(if which == EXAMPLE {
            builder(store.clone(), profiles)
                .skip_skill_id_check_for_local_testing()
                .with_prefetch(prefetch)
                .build()?
        } else {
            user_keyed(store.clone(), profiles, prefetch)?
        });
    }
    let sub = |r: usize, i: usize| format!("{key_prefix}-{r}-{i}");
    let key = |r: usize, i: usize| {
        if settings[r].0 == EXAMPLE {
            format!("linked:{}", sub(r, i))
        } else {
            format!("amzn1.ask.account.{}", sub(r, i))
        }
    };
    let total = warmup + runs;
    let mut keys = Vec::new();
    for r in 0..settings.len() {
        for i in 0..total {
            seed(store.as_ref(), &key(r, i)).await?;
            keys.push(key(r, i));
        }
    }
    let mut rows: Vec<LinkingRow> = settings
        .iter()
        .map(|&(skill, prefetch)| LinkingRow {
            skill,
            prefetch,
            turn_ms: Vec::new(),
            storage_ms: Vec::new(),
        })
        .collect();
    metered.take();
    for i in 0..total {
        for (r, skill) in skills.iter().enumerate() {
            let mut talk = Conversation::new(skill)
                .user(format!("amzn1.ask.account.{}", sub(r, i)))
                .access_token(format!("Atza|{}", sub(r, i)));
            let t = Instant::now();
            let heard = talk.launch().await?;
            let took = t.elapsed();
            let m = metered.take();
            if !heard.speech().contains("visit 18") || m.reads != 1 {
                return Err(format!(
                    "account linking: unexpected first turn ({} reads): {}",
                    m.reads,
                    heard.speech()
                )
                .into());
            }
            if i >= warmup {
                rows[r].turn_ms.push(took.as_secs_f64() * 1e3);
                rows[r].storage_ms.push(m.busy.as_secs_f64() * 1e3);
            }
        }
    }
    Ok((rows, keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_memory::MemoryAdapter;

    #[tokio::test]
    async fn every_row_runs_its_first_turns_with_one_read_each() {
        let metered = Metered::new(Arc::new(MemoryAdapter::new()));
        let (rows, keys) = run(
            Arc::new(metered.clone()),
            &metered,
            2,
            1,
            Duration::from_millis(1),
            "t",
        )
        .await
        .unwrap();
        assert_eq!(rows.len(), 4);
        assert!(
            rows.iter()
                .all(|r| r.turn_ms.len() == 2 && r.storage_ms.len() == 2)
        );
        assert_eq!(keys.len(), 4 * 3);
        assert!(keys[0].starts_with("linked:"), "{keys:?}");
    }
}
