//! [`SkillBuilder`] and [`Skill`]: declaring routes and running a turn through them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use persistence_core::PersistenceAdapter;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::carry;
use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::handler::{TurnErrorHandler, TurnInterceptor, TurnResponder};
use crate::keys::KeyGenerator;
use crate::reply::HandlerError;
use crate::request::types;
use crate::response::{Response, ResponseEnvelope};
use crate::routes::{Route, Router};
use crate::turn::Turn;
use crate::turn::state::{Seed, TurnConfig, TurnShared};
use crate::write::{Outcome, perform};

mod builder;

pub use builder::{
    DEFAULT_HANDLER_RUNS, SKILL_ID_VAR, SKIP_SKILL_ID_CHECK_VAR, SkillBuilder, USER_AGENT,
};

struct Inner {
    skill_id: Option<String>,
    config: Arc<TurnConfig>,
    carry_bytes: Option<usize>,
    handler_runs: u32,
    router: Router,
    before: Vec<Arc<dyn TurnInterceptor>>,
    after: Vec<Arc<dyn TurnResponder>>,
    on_error: Option<Arc<dyn TurnErrorHandler>>,
}

/// A built skill: cheap to clone and share between requests and threads.
#[derive(Clone)]
pub struct Skill {
    inner: Arc<Inner>,
}

impl fmt::Debug for Skill {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Skill")
            .field("skill_id", &self.inner.skill_id)
            .field(
                "adapter",
                &self.inner.config.adapter.as_ref().map(|a| a.describe()),
            )
            .field("routes", &self.inner.router.list())
            .finish_non_exhaustive()
    }
}

/// What one turn did, from [`Skill::invoke_traced`]: which route took the request, the slots
/// handlers read, and the error, if the turn failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnTrace {
    /// The route that answered; `None` when none took the request (or a `before` interceptor
    /// failed first).
    pub route: Option<Route>,
    /// How many times the handler ran (more than once when its save met another device's change
    /// to the same attributes).
    pub runs: u32,
    /// The slot names handlers read.
    pub slots_read: BTreeSet<String>,
    /// The error that reached the error handler (its message), when the turn failed.
    pub error: Option<String>,
}

/// How a run of the handler ended.
enum Run {
    Done(Response),
    Again(Seed),
    Failed(SkillError),
}

impl Skill {
    /// The skill ID requests are checked against (`None`: the check is off).
    pub fn skill_id(&self) -> Option<&str> {
        self.inner.skill_id.as_deref()
    }

    /// The persistence adapter, if any.
    pub fn persistence_adapter(&self) -> Option<&Arc<dyn PersistenceAdapter>> {
        self.inner.config.adapter.as_ref()
    }

    /// The key generator.
    pub fn key_generator(&self) -> &dyn KeyGenerator {
        self.inner.config.key_generator.as_ref()
    }

    /// The route table: every intent, request type and fallback with a handler.
    pub fn routes(&self) -> Vec<Route> {
        self.inner.router.list()
    }

    /// Handles a request given as JSON text.
    ///
    /// # Errors
    /// [`SkillError::InvalidEnvelope`], or as [`Skill::invoke`].
    pub async fn invoke_json(&self, json: &str) -> Result<ResponseEnvelope, SkillError> {
        let envelope = serde_json::from_str(json).map_err(SkillError::InvalidEnvelope)?;
        self.invoke(envelope).await
    }

    /// Handles a request given as a JSON value.
    ///
    /// # Errors
    /// [`SkillError::InvalidEnvelope`], or as [`Skill::invoke`].
    pub async fn invoke_value(&self, json: Value) -> Result<ResponseEnvelope, SkillError> {
        let envelope = serde_json::from_value(json).map_err(SkillError::InvalidEnvelope)?;
        self.invoke(envelope).await
    }

    /// Handles one request: checks the skill ID, runs the `before` interceptors and the route's
    /// handler, saves what changed, and answers.
    ///
    /// # Errors
    /// A request for another skill; an error no error handler answered.
    pub async fn invoke(&self, envelope: RequestEnvelope) -> Result<ResponseEnvelope, SkillError> {
        self.invoke_traced(envelope).await.0
    }

    /// [`invoke`](Self::invoke), also telling which route answered and what the handlers read.
    pub async fn invoke_traced(
        &self,
        envelope: RequestEnvelope,
    ) -> (Result<ResponseEnvelope, SkillError>, TurnTrace) {
        let span = tracing::info_span!(
            "alexa_request",
            request_type = envelope.request_type(),
            intent = envelope.intent_name().unwrap_or(""),
            request_id = envelope.request.request_id(),
        );
        let mut trace = TurnTrace::default();
        let result = self.turn(envelope, &mut trace).instrument(span).await;
        (result, trace)
    }

    fn verify_skill_id(&self, envelope: &RequestEnvelope) -> Result<(), SkillError> {
        let Some(expected) = self.inner.skill_id.as_deref() else {
            return Ok(());
        };
        let ids = [envelope.application_id(), envelope.session_application_id()];
        if ids.iter().all(Option::is_none) {
            tracing::warn!("request refused: it has no application ID");
            return Err(SkillError::SkillIdMismatch {
                expected: expected.to_owned(),
                received: None,
            });
        }
        if let Some(other) = ids.into_iter().flatten().find(|id| *id != expected) {
            tracing::warn!("request refused: it is for another skill");
            return Err(SkillError::SkillIdMismatch {
                expected: expected.to_owned(),
                received: Some(other.to_owned()),
            });
        }
        Ok(())
    }

    async fn turn(
        &self,
        envelope: RequestEnvelope,
        trace: &mut TurnTrace,
    ) -> Result<ResponseEnvelope, SkillError> {
        self.verify_skill_id(&envelope)?;
        let has_session = envelope.session.is_some();
        let mut session = envelope.session_attributes().cloned().unwrap_or_default();
        let carried = carry::take(&mut session);
        let envelope = Arc::new(envelope);
        let mut seed = Seed {
            carried: if self.inner.carry_bytes.is_some() {
                carried
            } else {
                None
            },
            ..Seed::default()
        };
        let mut last = None;
        for run in 1..=self.inner.handler_runs {
            trace.runs = run;
            let shared = TurnShared::new(
                envelope.clone(),
                self.inner.config.clone(),
                seed,
                session.clone(),
            );
            let turn = Turn {
                shared: shared.clone(),
            };
            match self.run(&turn, run, &session, trace).await {
                Run::Done(response) => return self.answer(&turn, response, has_session),
                Run::Again(next) => {
                    tracing::debug!(
                        run,
                        "another device changed the same attributes: the handler runs again on fresh data"
                    );
                    seed = next;
                    last = Some(turn);
                }
                Run::Failed(error) => {
                    return self.fail(turn, error, &session, has_session, trace).await;
                }
            }
        }
        // Every run met a conflicting change: the last one's conflict goes to the error handler.
        let turn = last.ok_or_else(|| SkillError::other("no run of the handler"))?;
        let error = SkillError::Persistence(persistence_core::Error::conflict(
            "save",
            turn.persistence_adapter()
                .map_or_else(|| "storage".into(), |a| a.describe()),
            &turn.shared.key().unwrap_or_default(),
            format!(
                "other devices kept changing the same attributes over {} runs of the handler",
                self.inner.handler_runs
            ),
        ));
        self.fail(turn, error, &session, has_session, trace).await
    }

    /// One run of the interceptors (the first time), the route's handler and the responders,
    /// then the write.
    async fn run(
        &self,
        turn: &Turn,
        run: u32,
        session: &Map<String, Value>,
        trace: &mut TurnTrace,
    ) -> Run {
        if run == 1 {
            let prefetch = self.inner.config.prefetch && prefetches(turn.request_type());
            let before = async {
                for interceptor in &self.inner.before {
                    interceptor.call(turn.clone()).await?;
                }
                Ok::<(), HandlerError>(())
            };
            let mut before = std::pin::pin!(before);
            // The interceptors' first steps run before the read starts, so that one that sets
            // the key at once (`use_persistence_key` before its first await) changes what is
            // read and no read is issued for the generated key; the read then goes on while
            // they await.
            let first =
                std::future::poll_fn(|cx| std::task::Poll::Ready(before.as_mut().poll(cx))).await;
            if prefetch {
                turn.shared.prefetch();
            }
            let done = match first {
                std::task::Poll::Ready(r) => r,
                std::task::Poll::Pending => before.await,
            };
            if let Err(e) = done {
                return Run::Failed(e.into_skill_error());
            }
        }
        let found = self.inner.router.find(turn.envelope());
        trace.route = found.as_ref().map(|(r, _)| r.clone());
        let mut response = match found {
            Some((_, handler)) => match handler.call(turn.clone()).await {
                Ok(r) => r,
                Err(e) => return Run::Failed(e.into_skill_error()),
            },
            // Alexa expects no speech in answer to the end of a session.
            None if turn.request_type() == types::SESSION_ENDED => Response::default(),
            None => {
                return Run::Failed(SkillError::Unhandled {
                    request_type: turn.request_type().to_owned(),
                    intent_name: turn.intent_name().map(str::to_owned),
                });
            }
        };
        for responder in &self.inner.after {
            match responder.call(turn.clone(), response).await {
                Ok(r) => response = r,
                Err(e) => return Run::Failed(e.into_skill_error()),
            }
        }
        trace.slots_read = turn.shared.slots_read();
        let write = match turn.shared.pending_write() {
            Ok(w) => w,
            Err(e) => return Run::Failed(e),
        };
        let Some(write) = write else {
            return Run::Done(response);
        };
        let Some(adapter) = turn.persistence_adapter().cloned() else {
            return Run::Failed(SkillError::other(
                "persistent attributes changed but the skill has no adapter",
            ));
        };
        match perform(&turn.shared, adapter.as_ref(), write).await {
            Ok(()) => Run::Done(response),
            Err(Outcome::Rerun(_)) if run < self.inner.handler_runs => {
                turn.shared.discard_changes(session.clone());
                Run::Again(turn.shared.seed())
            }
            Err(outcome) => Run::Failed(outcome.into_error()),
        }
    }

    /// The response envelope, with the session attributes and the carried copy.
    fn answer(
        &self,
        turn: &Turn,
        response: Response,
        has_session: bool,
    ) -> Result<ResponseEnvelope, SkillError> {
        let mut session = turn.shared.session_attributes()?;
        session.remove(carry::CARRY_ATTRIBUTE);
        let ends = response.should_end_session == Some(true);
        if let (Some(max), false, true) = (self.inner.carry_bytes, ends, has_session)
            && let Some((key, version, attributes)) = turn.shared.loaded_state()
            && let Some(copy) = carry::encode(&key, version.as_ref(), &attributes, max)
        {
            session.insert(carry::CARRY_ATTRIBUTE.to_owned(), copy);
        }
        Ok(ResponseEnvelope {
            version: "1.0".into(),
            session_attributes: (has_session || !session.is_empty()).then_some(session),
            user_agent: Some(USER_AGENT.into()),
            response,
        })
    }

    /// A failed turn: its changes are discarded and the error handler answers (its own changes
    /// are saved, once).
    async fn fail(
        &self,
        turn: Turn,
        error: SkillError,
        session: &Map<String, Value>,
        has_session: bool,
        trace: &mut TurnTrace,
    ) -> Result<ResponseEnvelope, SkillError> {
        trace.error = Some(error.to_string());
        turn.shared.discard_changes(session.clone());
        let Some(on_error) = self.inner.on_error.clone() else {
            tracing::error!(%error, "request failed and no error handler took it");
            return Err(error);
        };
        tracing::warn!(%error, "request failed; the error handler answers");
        let response = on_error
            .call(turn.clone(), error)
            .await
            .map_err(HandlerError::into_skill_error)?;
        if let Some(write) = turn.shared.pending_write()?
            && let Some(adapter) = turn.persistence_adapter().cloned()
        {
            perform(&turn.shared, adapter.as_ref(), write)
                .await
                .map_err(Outcome::into_error)?;
        }
        self.answer(&turn, response, has_session)
    }
}

/// True for the requests whose handlers usually read the persistent attributes: not session
/// ends and skill events.
fn prefetches(request_type: &str) -> bool {
    request_type != types::SESSION_ENDED && !request_type.starts_with("AlexaSkillEvent.")
}
