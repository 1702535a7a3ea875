//! [`SkillBuilder`] and [`Skill`]: declaring routes and running a turn through them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use persistence_core::PersistenceAdapter;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::carry;
use crate::envelope::RequestEnvelope;
use crate::error::{BuildError, SkillError};
use crate::handler::{TurnErrorHandler, TurnHandler, TurnInterceptor, TurnResponder};
use crate::keys::{KeyGenerator, UserIdKey};
use crate::reply::HandlerError;
use crate::request::types;
use crate::response::{Response, ResponseEnvelope};
use crate::routes::{Route, Router};
use crate::turn::Turn;
use crate::turn::state::{Seed, TurnConfig, TurnShared};
use crate::write::{Outcome, perform};

/// The `userAgent` a skill's responses carry.
pub const USER_AGENT: &str = concat!("skill-builder-rs/", env!("CARGO_PKG_VERSION"));

/// The variable the skill ID is read from when none is given to the builder.
pub const SKILL_ID_VAR: &str = "ALEXA_SKILL_ID";

/// The variable that turns the skill-ID check off (`1`), for local testing only.
pub const SKIP_SKILL_ID_CHECK_VAR: &str = "ALEXA_SKIP_SKILL_ID_CHECK";

/// How many times in all a turn's handler runs when its save meets another device's change to
/// the same attributes.
pub const DEFAULT_HANDLER_RUNS: u32 = 3;

/// What the skill checks of a request's skill ID.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SkillIdCheck {
    /// Not set on the builder: read from the environment at `build`.
    FromEnvironment,
    Expect(String),
    /// Explicitly off, for local testing.
    Off,
}

/// Builds a [`Skill`]: persistence, routes, interceptors, error handler.
///
/// ```
/// use skill_builder::{SkillBuilder, Turn, TurnResult};
///
/// async fn launch(turn: Turn) -> TurnResult {
///     Ok(turn.speak("Welcome!").reprompt("What now?"))
/// }
///
/// let skill = SkillBuilder::new()
///     .with_skill_id("amzn1.ask.skill.00000000-0000-0000-0000-000000000000")
///     .on_launch(launch)
///     .on_intent("AMAZON.StopIntent", |turn: Turn| async move {
///         Ok::<_, skill_builder::HandlerError>(turn.speak("Goodbye!").end_session())
///     })
///     .build()
///     .expect("a skill ID is set");
/// assert_eq!(skill.routes().len(), 2);
/// ```
#[must_use = "call build() to get the skill"]
pub struct SkillBuilder {
    skill_id: SkillIdCheck,
    adapter: Option<Arc<dyn PersistenceAdapter>>,
    key_generator: Arc<dyn KeyGenerator>,
    merge_on_conflict: bool,
    carry_bytes: Option<usize>,
    prefetch: bool,
    key_from_interceptor: bool,
    handler_runs: u32,
    router: Router,
    replaced: Vec<Route>,
    before: Vec<Arc<dyn TurnInterceptor>>,
    after: Vec<Arc<dyn TurnResponder>>,
    on_error: Option<Arc<dyn TurnErrorHandler>>,
}

impl Default for SkillBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for SkillBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SkillBuilder")
            .field("skill_id", &self.skill_id)
            .field("adapter", &self.adapter.as_ref().map(|a| a.describe()))
            .field("routes", &self.router.list())
            .finish_non_exhaustive()
    }
}

impl SkillBuilder {
    /// A builder with no routes, user-ID keys, merging and session carrying on.
    pub fn new() -> Self {
        Self {
            skill_id: SkillIdCheck::FromEnvironment,
            adapter: None,
            key_generator: Arc::new(UserIdKey),
            merge_on_conflict: true,
            carry_bytes: Some(carry::DEFAULT_MAX_CARRY_BYTES),
            prefetch: true,
            key_from_interceptor: false,
            handler_runs: DEFAULT_HANDLER_RUNS,
            router: Router::default(),
            replaced: Vec::new(),
            before: Vec::new(),
            after: Vec::new(),
            on_error: None,
        }
    }

    /// Refuses requests for any other skill (Alexa's docs require this check of a skill's own
    /// endpoint). Without it, [`build`](Self::build) reads [`SKILL_ID_VAR`] (`ALEXA_SKILL_ID`).
    pub fn with_skill_id(mut self, skill_id: impl Into<String>) -> Self {
        self.skill_id = SkillIdCheck::Expect(skill_id.into());
        self
    }

    /// Accepts requests for any skill ID: for tests and local runs only (anyone's skill could
    /// drive yours). Logs a warning at `build`.
    pub fn skip_skill_id_check_for_local_testing(mut self) -> Self {
        self.skill_id = SkillIdCheck::Off;
        self
    }

    /// Where persistent attributes live.
    pub fn with_persistence_adapter(mut self, adapter: Arc<dyn PersistenceAdapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Which part of a request keys the persistent attributes (default [`UserIdKey`]).
    pub fn with_key_generator(mut self, key_generator: impl KeyGenerator + 'static) -> Self {
        self.key_generator = Arc::new(key_generator);
        self
    }

    /// Whether a save that meets another device's change to *other* attributes merges with it
    /// (default on). Off, any concurrent change makes the handler run again on fresh data.
    pub fn with_merge_on_conflict(mut self, on: bool) -> Self {
        self.merge_on_conflict = on;
        self
    }

    /// Whether the persistent attributes a turn read travel to the next turn of the session, so
    /// that it reads nothing (default on, up to [`carry::DEFAULT_MAX_CARRY_BYTES`]; see
    /// [`crate::carry`] for what a turn that only reads may then miss). Off, every turn that
    /// uses them reads them.
    pub fn with_session_carry(mut self, on: bool) -> Self {
        self.carry_bytes = on.then_some(carry::DEFAULT_MAX_CARRY_BYTES);
        self
    }

    /// Carries copies of up to `bytes` bytes of JSON (see [`with_session_carry`](Self::with_session_carry)).
    pub fn with_max_carry_bytes(mut self, bytes: usize) -> Self {
        self.carry_bytes = Some(bytes);
        self
    }

    /// Whether a turn starts reading the persistent attributes as soon as it knows their key,
    /// while the `before` interceptors run (default on, for launch and intent requests and the
    /// other requests of a session; never for session ends and skill events, which rarely need
    /// them).
    pub fn with_prefetch(mut self, on: bool) -> Self {
        self.prefetch = on;
        self
    }

    /// Declares that a `before` interceptor keys the persistent attributes
    /// ([`Turn::use_persistence_key`], e.g. by a linked account found by an async lookup): no
    /// read is started for the key generator's key, and the read starts as soon as the
    /// interceptor sets the key.
    pub fn keyed_by_interceptor(mut self) -> Self {
        self.key_from_interceptor = true;
        self
    }

    /// How many times in all a handler runs when its turn's save meets another device's change
    /// to the same attributes (default [`DEFAULT_HANDLER_RUNS`], at least 1).
    pub fn with_handler_runs(mut self, runs: u32) -> Self {
        self.handler_runs = runs.max(1);
        self
    }

    /// Answers route `route` with `handler` (a later route for the same request replaces it).
    pub fn route(mut self, route: Route, handler: impl TurnHandler) -> Self {
        if self.router.insert(route.clone(), Arc::new(handler)) {
            self.replaced.push(route);
        }
        self
    }

    /// Answers `LaunchRequest`.
    pub fn on_launch(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::LAUNCH, handler)
    }

    /// Answers intent `name`.
    pub fn on_intent(self, name: impl Into<String>, handler: impl TurnHandler) -> Self {
        self.route(Route::Intent(name.into()), handler)
    }

    /// Answers each of the intents `names` with one handler.
    pub fn on_intents<I, S>(mut self, names: I, handler: impl TurnHandler) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let handler: Arc<dyn TurnHandler> = Arc::new(handler);
        for name in names {
            let route = Route::Intent(name.into());
            if self.router.insert(route.clone(), handler.clone()) {
                self.replaced.push(route);
            }
        }
        self
    }

    /// Answers `SessionEndedRequest` (without one, it gets the empty response Alexa expects).
    pub fn on_session_ended(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SESSION_ENDED, handler)
    }

    /// Answers any request of `request_type`.
    pub fn on_request(self, request_type: impl Into<String>, handler: impl TurnHandler) -> Self {
        self.route(Route::Request(request_type.into()), handler)
    }

    /// Answers `AlexaSkillEvent.SkillEnabled`.
    pub fn on_skill_enabled(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SKILL_ENABLED, handler)
    }

    /// Answers `AlexaSkillEvent.SkillDisabled`.
    pub fn on_skill_disabled(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SKILL_DISABLED, handler)
    }

    /// Answers `AlexaSkillEvent.SkillAccountLinked`.
    pub fn on_account_linked(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SKILL_ACCOUNT_LINKED, handler)
    }

    /// Answers `AlexaSkillEvent.SkillPermissionAccepted` and `...Changed`.
    pub fn on_permissions_changed(mut self, handler: impl TurnHandler) -> Self {
        let handler: Arc<dyn TurnHandler> = Arc::new(handler);
        for t in [
            types::SKILL_PERMISSION_ACCEPTED,
            types::SKILL_PERMISSION_CHANGED,
        ] {
            let route = Route::Request(t.to_owned());
            if self.router.insert(route.clone(), handler.clone()) {
                self.replaced.push(route);
            }
        }
        self
    }

    /// Answers `Connections.Response` (purchases, tasks).
    pub fn on_connections_response(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::CONNECTIONS_RESPONSE, handler)
    }

    /// Answers `Alexa.Presentation.APL.UserEvent`.
    pub fn on_apl_user_event(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::APL_USER_EVENT, handler)
    }

    /// Answers every request no other route takes.
    pub fn fallback(self, handler: impl TurnHandler) -> Self {
        self.route(Route::Fallback, handler)
    }

    /// Runs `interceptor` before the handler of every request, in the order added. An error
    /// goes to the error handler and no route runs.
    pub fn before(mut self, interceptor: impl TurnInterceptor) -> Self {
        self.before.push(Arc::new(interceptor));
        self
    }

    /// Runs `responder` on every handler's response, in the order added.
    pub fn after(mut self, responder: impl TurnResponder) -> Self {
        self.after.push(Arc::new(responder));
        self
    }

    /// Answers a turn that failed (`error.is_conflict()` tells another device's change from a
    /// fault). Without one, the error is returned by [`Skill::invoke`].
    pub fn on_error(mut self, handler: impl TurnErrorHandler) -> Self {
        self.on_error = Some(Arc::new(handler));
        self
    }

    /// Deletes a user's persistent attributes when they disable the skill.
    pub fn erase_data_on_skill_disabled(self) -> Self {
        self.on_skill_disabled(|turn: Turn| async move {
            turn.delete_persistent_attributes().await?;
            tracing::info!("the user disabled the skill: their persistent attributes are deleted");
            Ok::<_, HandlerError>(())
        })
    }

    /// The skill.
    ///
    /// # Errors
    /// [`BuildError::MissingSkillId`] when no skill ID was given, none is in `ALEXA_SKILL_ID`,
    /// and the check was not turned off explicitly (`skip_skill_id_check_for_local_testing`, or
    /// `ALEXA_SKIP_SKILL_ID_CHECK=1`); [`BuildError::ConflictingSkillIdSettings`] when the
    /// environment both sets an ID and turns the check off.
    pub fn build(self) -> Result<Skill, BuildError> {
        let skill_id = match self.skill_id {
            SkillIdCheck::Expect(id) => Some(id),
            SkillIdCheck::Off => None,
            SkillIdCheck::FromEnvironment => {
                let id = std::env::var(SKILL_ID_VAR)
                    .ok()
                    .filter(|v| !v.trim().is_empty());
                let skip = std::env::var(SKIP_SKILL_ID_CHECK_VAR)
                    .is_ok_and(|v| matches!(v.trim(), "1" | "true" | "yes" | "on"));
                match (id, skip) {
                    (Some(_), true) => return Err(BuildError::ConflictingSkillIdSettings),
                    (Some(id), false) => Some(id),
                    (None, true) => None,
                    (None, false) => return Err(BuildError::MissingSkillId),
                }
            }
        };
        if skill_id.is_none() {
            tracing::warn!(
                "THE SKILL-ID CHECK IS OFF: this skill answers requests meant for any skill \
                 (local testing only; set ALEXA_SKILL_ID for a deployed skill)"
            );
        }
        for route in &self.replaced {
            tracing::warn!(%route, "a route was declared twice; the later one answers");
        }
        Ok(Skill {
            inner: Arc::new(Inner {
                skill_id,
                config: Arc::new(TurnConfig {
                    adapter: self.adapter,
                    key_generator: self.key_generator,
                    prefetch: self.prefetch,
                    merge_on_conflict: self.merge_on_conflict,
                    key_from_interceptor: self.key_from_interceptor,
                }),
                carry_bytes: self.carry_bytes,
                handler_runs: self.handler_runs,
                router: self.router,
                before: self.before,
                after: self.after,
                on_error: self.on_error,
            }),
        })
    }
}

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
