//! [`SkillBuilder`]: the skill ID, persistence, routes, interceptors and error handler.

use std::fmt;
use std::sync::Arc;

use persistence_core::PersistenceAdapter;

use super::{Inner, Skill};
use crate::carry;
use crate::error::BuildError;
use crate::handler::{TurnErrorHandler, TurnHandler, TurnInterceptor, TurnResponder};
use crate::keys::{KeyGenerator, UserIdKey};
use crate::reply::HandlerError;
use crate::request::types;
use crate::routes::{Route, Router};
use crate::turn::Turn;
use crate::turn::state::TurnConfig;

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
