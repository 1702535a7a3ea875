//! [`SkillBuilder`] and [`Skill`]: registering handlers and dispatching a request through them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use persistence_core::{KeyGenerator, PersistenceAdapter, UserIdKey, async_trait};
use serde_json::Value;
use tracing::Instrument;

use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::handler::{
    BoxFuture, ExceptionHandler, HandlerInput, HandlerResult, RequestHandler, RequestInterceptor,
    ResponseInterceptor, exception_handler, is_intent_name, is_request_type, request_handler,
    request_interceptor, response_interceptor,
};
use crate::request::types;
use crate::response::{Response, ResponseBuilder, ResponseEnvelope};
use crate::turn::{HandlerError, Turn, TurnErrorHandler, TurnHandler, TurnInterceptor, with_turn};

/// The `userAgent` of responses.
pub const USER_AGENT: &str = concat!("skill-builder-rs/", env!("CARGO_PKG_VERSION"));

/// Builds a [`Skill`]: handlers, interceptors, persistence and skill ID.
///
/// Handlers and interceptors run in the order they are added.
///
/// ```
/// use std::sync::Arc;
/// use persistence_core::{DeviceIdKey, PersistenceAdapter};
/// use persistence_memory::MemoryAdapter;
/// use skill_builder::{is_request_type, SkillBuilder};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store: Arc<dyn PersistenceAdapter> = Arc::new(MemoryAdapter::new());
/// let skill = SkillBuilder::new()
///     .with_skill_id("amzn1.ask.skill.1234")
///     .with_persistence_adapter(store)
///     .with_key_generator(DeviceIdKey)
///     .with_save_on_response(true)
///     .add_request_handler_fn(
///         |input| is_request_type(input, "LaunchRequest"),
///         |input| Box::pin(async move {
///             let attrs = input.attributes_manager.persistent_attributes_mut().await?;
///             let launches = attrs.get_as::<u32>("launches")?.unwrap_or(0) + 1;
///             attrs.set("launches", &launches)?;
///             Ok(input.response_builder.speak(format!("Launch number {launches}.")).get_response())
///         }),
///     )
///     .build();
///
/// let response = skill.invoke_json(r#"{"version":"1.0",
///     "context":{"System":{"application":{"applicationId":"amzn1.ask.skill.1234"},
///         "device":{"deviceId":"amzn1.ask.device.D"}}},
///     "request":{"type":"LaunchRequest","requestId":"r1"}}"#).await?;
/// assert_eq!(response.response.output_speech.unwrap().content(), "Launch number 1.");
/// # Ok(()) }
/// ```
#[must_use = "call build() to get the skill"]
pub struct SkillBuilder {
    skill_id: Option<String>,
    adapter: Option<Arc<dyn PersistenceAdapter>>,
    key_generator: Arc<dyn KeyGenerator>,
    save_on_response: bool,
    merge_on_conflict: bool,
    request_handlers: Vec<Box<dyn RequestHandler>>,
    exception_handlers: Vec<Box<dyn ExceptionHandler>>,
    request_interceptors: Vec<Box<dyn RequestInterceptor>>,
    response_interceptors: Vec<Box<dyn ResponseInterceptor>>,
    fallback: Option<Arc<dyn TurnHandler>>,
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
            .field("save_on_response", &self.save_on_response)
            .field("request_handlers", &self.request_handlers.len())
            .field("exception_handlers", &self.exception_handlers.len())
            .field("request_interceptors", &self.request_interceptors.len())
            .field("response_interceptors", &self.response_interceptors.len())
            .finish()
    }
}

impl SkillBuilder {
    /// A builder with no handler, no persistence, keys by user ID, and no skill ID check.
    pub fn new() -> Self {
        Self {
            skill_id: None,
            adapter: None,
            key_generator: Arc::new(UserIdKey),
            save_on_response: true,
            merge_on_conflict: true,
            request_handlers: Vec::new(),
            exception_handlers: Vec::new(),
            request_interceptors: Vec::new(),
            response_interceptors: Vec::new(),
            fallback: None,
            on_error: None,
        }
    }

    /// Accept only requests for this skill ID (`amzn1.ask.skill.…`); others are refused with
    /// [`SkillError::SkillIdMismatch`] before any handler runs.
    pub fn with_skill_id(mut self, skill_id: impl Into<String>) -> Self {
        self.skill_id = Some(skill_id.into());
        self
    }

    /// Keep persistent attributes in `adapter`.
    pub fn with_persistence_adapter(mut self, adapter: Arc<dyn PersistenceAdapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Make persistent-attribute keys with `key_generator` (default: [`UserIdKey`]).
    pub fn with_key_generator(mut self, key_generator: impl KeyGenerator + 'static) -> Self {
        self.key_generator = Arc::new(key_generator);
        self
    }

    /// When `true` (the default), every turn whose handler succeeded saves the persistent
    /// attributes after the response interceptors, if they were loaded and changed (typed state
    /// included). A failed save (e.g. a conflict) goes to the exception handlers. When `false`,
    /// save explicitly with
    /// [`AttributesManager::save_persistent_attributes`](crate::AttributesManager::save_persistent_attributes);
    /// a turn that ends with changes it did not save then logs a warning naming the request.
    pub fn with_save_on_response(mut self, on: bool) -> Self {
        self.save_on_response = on;
        self
    }

    /// When `true` (the default), a save that finds another writer got in first merges: if the
    /// other writer changed only top-level attributes this turn did not change, both changes
    /// are kept (see [`AttributesManager`](crate::AttributesManager)). When `false`, any
    /// conflicting save fails with [`persistence_core::Error::Conflict`].
    pub fn with_merge_on_conflict(mut self, on: bool) -> Self {
        self.merge_on_conflict = on;
        self
    }

    /// Handles `LaunchRequest` ("Alexa, open …") with a plain async handler.
    pub fn on_launch(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::LAUNCH, handler)
    }

    /// Handles the intent `name` with a plain async handler (`async fn(Turn) -> TurnResult`).
    ///
    /// ```
    /// # use skill_builder::{SkillBuilder, Turn, TurnResult};
    /// async fn order(turn: Turn) -> TurnResult {
    ///     let drink = turn.resolved_slot_value("drink").unwrap_or("coffee").to_owned();
    ///     Ok(turn.speak(format!("One {drink}, coming up.")).end_session())
    /// }
    /// let skill = SkillBuilder::new().on_intent("OrderIntent", order).build();
    /// ```
    pub fn on_intent(self, name: impl Into<String>, handler: impl TurnHandler) -> Self {
        let name = name.into();
        self.route(move |i| is_intent_name(i, &name), handler)
    }

    /// Handles any of the intents `names` with one plain async handler.
    pub fn on_intents<I, S>(self, names: I, handler: impl TurnHandler) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        self.route(move |i| names.iter().any(|n| is_intent_name(i, n)), handler)
    }

    /// Handles `SessionEndedRequest`. Without one, the skill answers it with an empty response,
    /// as Alexa expects.
    pub fn on_session_ended(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SESSION_ENDED, handler)
    }

    /// Handles requests of type `request_type` (see [`crate::request::types`]; any other type
    /// Alexa sends works too).
    pub fn on_request(self, request_type: impl Into<String>, handler: impl TurnHandler) -> Self {
        let request_type = request_type.into();
        self.route(move |i| is_request_type(i, &request_type), handler)
    }

    /// Handles `AlexaSkillEvent.SkillEnabled`.
    pub fn on_skill_enabled(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SKILL_ENABLED, handler)
    }

    /// Handles `AlexaSkillEvent.SkillDisabled` (see also
    /// [`erase_data_on_skill_disabled`](SkillBuilder::erase_data_on_skill_disabled)).
    pub fn on_skill_disabled(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SKILL_DISABLED, handler)
    }

    /// Handles `AlexaSkillEvent.SkillAccountLinked`.
    pub fn on_account_linked(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::SKILL_ACCOUNT_LINKED, handler)
    }

    /// Handles `AlexaSkillEvent.SkillPermissionAccepted` and `SkillPermissionChanged`.
    pub fn on_permissions_changed(self, handler: impl TurnHandler) -> Self {
        self.route(
            |i| {
                is_request_type(i, types::SKILL_PERMISSION_ACCEPTED)
                    || is_request_type(i, types::SKILL_PERMISSION_CHANGED)
            },
            handler,
        )
    }

    /// Handles `Connections.Response` (purchases, tasks).
    pub fn on_connections_response(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::CONNECTIONS_RESPONSE, handler)
    }

    /// Handles `Alexa.Presentation.APL.UserEvent` (touches, `SendEvent` commands).
    pub fn on_apl_user_event(self, handler: impl TurnHandler) -> Self {
        self.on_request(types::APL_USER_EVENT, handler)
    }

    /// Handles the requests `can_handle` accepts with a plain async handler.
    pub fn route(
        self,
        can_handle: impl Fn(&HandlerInput) -> bool + Send + Sync + 'static,
        handler: impl TurnHandler,
    ) -> Self {
        self.add_request_handler(Routed {
            can_handle,
            handler,
        })
    }

    /// Handles every request no other handler takes (including `AMAZON.FallbackIntent` if no
    /// handler is registered for it). Without a fallback, such a request is
    /// [`SkillError::Unhandled`] (a `SessionEndedRequest` gets an empty response).
    pub fn fallback(mut self, handler: impl TurnHandler) -> Self {
        self.fallback = Some(Arc::new(handler));
        self
    }

    /// Answers turns that failed (after the exception handlers added with
    /// [`add_exception_handler`](SkillBuilder::add_exception_handler), if none took the
    /// error): `async fn(Turn, SkillError) -> TurnResult`.
    pub fn on_error(mut self, handler: impl TurnErrorHandler) -> Self {
        self.on_error = Some(Arc::new(handler));
        self
    }

    /// Runs `interceptor` (`async fn(Turn) -> Result<(), E>`) before the handler of every
    /// request, after the interceptors added before it. An error skips the handler and goes to
    /// the error handlers.
    pub fn before(self, interceptor: impl TurnInterceptor) -> Self {
        self.add_request_interceptor(Before(interceptor))
    }

    /// Deletes the user's persistent attributes when they disable the skill
    /// (`AlexaSkillEvent.SkillDisabled`), unless a handler for that event was added before:
    /// what Alexa's data-handling rules expect of a skill that keeps user data. The event is
    /// answered with an empty response.
    ///
    /// ```
    /// # use skill_builder::SkillBuilder;
    /// let skill = SkillBuilder::new()
    ///     .with_persistence_adapter(std::sync::Arc::new(persistence_memory::MemoryAdapter::new()))
    ///     .erase_data_on_skill_disabled()
    ///     .build();
    /// ```
    pub fn erase_data_on_skill_disabled(self) -> Self {
        self.on_skill_disabled(|turn: Turn| async move {
            turn.delete_persistent_attributes().await?;
            tracing::info!("the user disabled the skill: their persistent attributes are deleted");
            Ok::<_, HandlerError>(())
        })
    }

    /// Adds a request handler.
    pub fn add_request_handler(mut self, handler: impl RequestHandler + 'static) -> Self {
        self.request_handlers.push(Box::new(handler));
        self
    }

    /// Adds a request handler made of closures (see [`request_handler`]).
    pub fn add_request_handler_fn<C, H>(self, can_handle: C, handle: H) -> Self
    where
        C: Fn(&HandlerInput) -> bool + Send + Sync + 'static,
        H: for<'a> Fn(&'a mut HandlerInput) -> BoxFuture<'a, HandlerResult> + Send + Sync + 'static,
    {
        self.add_request_handler(request_handler(can_handle, handle))
    }

    /// Adds an exception handler.
    pub fn add_exception_handler(mut self, handler: impl ExceptionHandler + 'static) -> Self {
        self.exception_handlers.push(Box::new(handler));
        self
    }

    /// Adds an exception handler made of closures (see [`exception_handler`]).
    pub fn add_exception_handler_fn<C, H>(self, can_handle: C, handle: H) -> Self
    where
        C: Fn(&HandlerInput, &SkillError) -> bool + Send + Sync + 'static,
        H: for<'a> Fn(&'a mut HandlerInput, &'a SkillError) -> BoxFuture<'a, HandlerResult>
            + Send
            + Sync
            + 'static,
    {
        self.add_exception_handler(exception_handler(can_handle, handle))
    }

    /// Adds a request interceptor.
    pub fn add_request_interceptor(
        mut self,
        interceptor: impl RequestInterceptor + 'static,
    ) -> Self {
        self.request_interceptors.push(Box::new(interceptor));
        self
    }

    /// Adds a request interceptor made of a closure (see [`request_interceptor`]).
    pub fn add_request_interceptor_fn<F>(self, process: F) -> Self
    where
        F: for<'a> Fn(&'a mut HandlerInput) -> BoxFuture<'a, HandlerResult<()>>
            + Send
            + Sync
            + 'static,
    {
        self.add_request_interceptor(request_interceptor(process))
    }

    /// Adds a response interceptor.
    pub fn add_response_interceptor(
        mut self,
        interceptor: impl ResponseInterceptor + 'static,
    ) -> Self {
        self.response_interceptors.push(Box::new(interceptor));
        self
    }

    /// Adds a response interceptor made of a closure (see [`response_interceptor`]).
    pub fn add_response_interceptor_fn<F>(self, process: F) -> Self
    where
        F: for<'a> Fn(&'a mut HandlerInput, &'a mut Response) -> BoxFuture<'a, HandlerResult<()>>
            + Send
            + Sync
            + 'static,
    {
        self.add_response_interceptor(response_interceptor(process))
    }

    /// The skill.
    pub fn build(self) -> Skill {
        Skill {
            inner: Arc::new(Inner {
                skill_id: self.skill_id,
                adapter: self.adapter,
                key_generator: self.key_generator,
                save_on_response: self.save_on_response,
                merge_on_conflict: self.merge_on_conflict,
                request_handlers: self.request_handlers,
                exception_handlers: self.exception_handlers,
                request_interceptors: self.request_interceptors,
                response_interceptors: self.response_interceptors,
                fallback: self.fallback,
                on_error: self.on_error,
            }),
        }
    }
}

/// A plain async handler behind a `can_handle` predicate, as a [`RequestHandler`].
struct Routed<P, H> {
    can_handle: P,
    handler: H,
}

#[async_trait]
impl<P, H> RequestHandler for Routed<P, H>
where
    P: Fn(&HandlerInput) -> bool + Send + Sync,
    H: TurnHandler,
{
    fn can_handle(&self, input: &HandlerInput) -> bool {
        (self.can_handle)(input)
    }
    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
        with_turn(input, |turn| self.handler.call(turn)).await
    }
}

/// A plain async interceptor, as a [`RequestInterceptor`].
struct Before<I>(I);

#[async_trait]
impl<I: TurnInterceptor> RequestInterceptor for Before<I> {
    async fn process(&self, input: &mut HandlerInput) -> HandlerResult<()> {
        with_turn(input, |turn| self.0.call(turn)).await
    }
}

struct Inner {
    skill_id: Option<String>,
    adapter: Option<Arc<dyn PersistenceAdapter>>,
    key_generator: Arc<dyn KeyGenerator>,
    save_on_response: bool,
    merge_on_conflict: bool,
    request_handlers: Vec<Box<dyn RequestHandler>>,
    exception_handlers: Vec<Box<dyn ExceptionHandler>>,
    request_interceptors: Vec<Box<dyn RequestInterceptor>>,
    response_interceptors: Vec<Box<dyn ResponseInterceptor>>,
    fallback: Option<Arc<dyn TurnHandler>>,
    on_error: Option<Arc<dyn TurnErrorHandler>>,
}

/// A built skill: turns request envelopes into response envelopes. Cheap to clone (clones share
/// the handlers), `Send + Sync`, so one skill serves concurrent requests.
///
/// For each request it:
/// 1. refuses it if a skill ID was set and the request is for another skill
///    ([`SkillError::SkillIdMismatch`], no handler runs);
/// 2. runs the request interceptors, then the first request handler whose `can_handle` accepts
///    the request (none: [`SkillError::Unhandled`]), then the response interceptors, then saves
///    changed persistent attributes if built [`with_save_on_response`](SkillBuilder::with_save_on_response);
/// 3. if any step of 2 fails, gives the error to the first exception handler that accepts it
///    (with a fresh response builder; after a persistence conflict, with the session attributes
///    as the request brought them); if none does, returns the error;
/// 4. returns the response with the session attributes.
///
/// See [`SkillBuilder`] for an example.
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
                &self.inner.adapter.as_ref().map(|a| a.describe()),
            )
            .field("save_on_response", &self.inner.save_on_response)
            .field("request_handlers", &self.inner.request_handlers.len())
            .field("exception_handlers", &self.inner.exception_handlers.len())
            .finish_non_exhaustive()
    }
}

impl Skill {
    /// The skill ID requests must carry, if one was set.
    pub fn skill_id(&self) -> Option<&str> {
        self.inner.skill_id.as_deref()
    }

    /// The persistence adapter, if one was set.
    pub fn persistence_adapter(&self) -> Option<&Arc<dyn PersistenceAdapter>> {
        self.inner.adapter.as_ref()
    }

    /// The key generator of persistent attributes.
    pub fn key_generator(&self) -> &dyn KeyGenerator {
        self.inner.key_generator.as_ref()
    }

    /// Handles a request given as JSON text.
    ///
    /// # Errors
    /// [`SkillError::InvalidEnvelope`] when the JSON is not a request envelope; else as
    /// [`invoke`](Skill::invoke).
    pub async fn invoke_json(&self, json: &str) -> Result<ResponseEnvelope, SkillError> {
        let envelope = serde_json::from_str(json).map_err(SkillError::InvalidEnvelope)?;
        self.invoke(envelope).await
    }

    /// Handles a request given as a JSON value.
    ///
    /// # Errors
    /// As [`invoke_json`](Skill::invoke_json).
    pub async fn invoke_value(&self, json: Value) -> Result<ResponseEnvelope, SkillError> {
        let envelope = serde_json::from_value(json).map_err(SkillError::InvalidEnvelope)?;
        self.invoke(envelope).await
    }

    /// Handles one request.
    ///
    /// # Errors
    /// [`SkillError::SkillIdMismatch`] for a request to another skill; otherwise the error of
    /// the turn when no exception handler took it (or the exception handler's own error).
    pub async fn invoke(&self, envelope: RequestEnvelope) -> Result<ResponseEnvelope, SkillError> {
        let span = Self::span(&envelope);
        self.invoke_inner(envelope, None).instrument(span).await
    }

    /// Handles one request like [`invoke`](Skill::invoke) and also returns what the handlers
    /// looked at: which request handler took it, the intent names their predicates compared it
    /// with ([`is_intent_name`](crate::is_intent_name)), the slots they read, and the error the
    /// exception handlers answered, if any. For tests, such as checking a skill against its
    /// interaction model: a request for an intent no handler routes on reaches no handler, and
    /// then every handler's predicate has been asked.
    ///
    /// ```
    /// use skill_builder::{is_intent_name, SkillBuilder, envelope::RequestEnvelope};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let skill = SkillBuilder::new()
    ///     .add_request_handler_fn(
    ///         |i| is_intent_name(i, "HelloIntent"),
    ///         |i| Box::pin(async move {
    ///             let name = i.slot_value("name").unwrap_or("there").to_owned();
    ///             Ok(i.response_builder.speak(format!("Hello {name}!")).get_response())
    ///         }),
    ///     )
    ///     .add_request_handler_fn(
    ///         |i| is_intent_name(i, "AMAZON.StopIntent"),
    ///         |i| Box::pin(async move { Ok(i.response_builder.end_session().get_response()) }),
    ///     )
    ///     .build();
    /// let request = |intent: &str| -> serde_json::Result<RequestEnvelope> {
    ///     serde_json::from_value(serde_json::json!({"version": "1.0",
    ///         "request": {"type": "IntentRequest", "intent": {"name": intent}}}))
    /// };
    ///
    /// let (response, trace) = skill.invoke_traced(request("HelloIntent")?).await;
    /// assert!(response.is_ok());
    /// assert_eq!(trace.request_handler, Some(0));
    /// assert!(trace.slots_read.contains("name"));
    ///
    /// // An intent nobody routes on: every predicate was asked, none accepted.
    /// let (response, trace) = skill.invoke_traced(request("NoSuchIntent")?).await;
    /// assert!(response.is_err());
    /// assert_eq!(trace.request_handler, None);
    /// assert_eq!(trace.intents_checked.iter().collect::<Vec<_>>(), ["AMAZON.StopIntent", "HelloIntent"]);
    /// # Ok(()) }
    /// ```
    pub async fn invoke_traced(
        &self,
        envelope: RequestEnvelope,
    ) -> (Result<ResponseEnvelope, SkillError>, TurnTrace) {
        let span = Self::span(&envelope);
        let trace = Arc::new(Mutex::new(TurnTrace::default()));
        let result = self
            .invoke_inner(envelope, Some(trace.clone()))
            .instrument(span)
            .await;
        let trace = trace.lock().unwrap_or_else(PoisonError::into_inner).clone();
        (result, trace)
    }

    fn span(envelope: &RequestEnvelope) -> tracing::Span {
        tracing::info_span!(
            "alexa_request",
            request_type = envelope.request_type(),
            intent = envelope.intent_name().unwrap_or(""),
            request_id = envelope.request.request_id(),
        )
    }

    async fn invoke_inner(
        &self,
        envelope: RequestEnvelope,
        trace: Option<Arc<Mutex<TurnTrace>>>,
    ) -> Result<ResponseEnvelope, SkillError> {
        self.verify_skill_id(&envelope)?;
        let has_session = envelope.session.is_some();
        let mut input = HandlerInput::with_parts(
            Arc::new(envelope),
            self.inner.adapter.clone(),
            self.inner.key_generator.clone(),
        );
        input
            .attributes_manager
            .set_merge_on_conflict(self.inner.merge_on_conflict);
        if let Some(trace) = trace {
            input = input.traced(trace);
        }
        let response = match self.dispatch(&mut input).await {
            Ok(response) => response,
            Err(error) => self.handle_error(&mut input, error).await?,
        };
        let session_attributes = input.attributes_manager.take_session_attributes();
        Ok(ResponseEnvelope {
            version: "1.0".into(),
            session_attributes: (has_session || !session_attributes.is_empty())
                .then_some(session_attributes),
            user_agent: Some(USER_AGENT.into()),
            response,
        })
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
            tracing::warn!(received = other, "request refused: it is for another skill");
            return Err(SkillError::SkillIdMismatch {
                expected: expected.to_owned(),
                received: Some(other.to_owned()),
            });
        }
        Ok(())
    }

    async fn dispatch(&self, input: &mut HandlerInput) -> HandlerResult {
        for interceptor in &self.inner.request_interceptors {
            interceptor.process(input).await?;
        }
        let found = self
            .inner
            .request_handlers
            .iter()
            .enumerate()
            .find(|(_, h)| h.can_handle(input));
        let mut response = match (found, &self.inner.fallback) {
            (Some((index, handler)), _) => {
                input.note(|t| t.request_handler = Some(index));
                handler.handle(input).await?
            }
            (None, Some(fallback)) => {
                input.note(|t| t.fallback = true);
                let fallback = fallback.clone();
                with_turn(input, move |turn| fallback.call(turn)).await?
            }
            // Alexa expects no speech in answer to the end of a session.
            (None, None) if is_request_type(input, types::SESSION_ENDED) => Response::default(),
            (None, None) => {
                return Err(SkillError::Unhandled {
                    request_type: input.request_type().to_owned(),
                    intent_name: input.intent_name().map(str::to_owned),
                });
            }
        };
        for interceptor in &self.inner.response_interceptors {
            interceptor.process(input, &mut response).await?;
        }
        if input.attributes_manager.persistent_attributes_changed() {
            if self.inner.save_on_response {
                input
                    .attributes_manager
                    .save_persistent_attributes()
                    .await?;
            } else {
                tracing::warn!(
                    request_type = input.request_type(),
                    intent = input.intent_name().unwrap_or(""),
                    "the persistent attributes changed this turn but were not saved: the change \
                     is lost (save them, or build the skill with save_on_response on)"
                );
            }
        }
        Ok(response)
    }

    async fn handle_error(&self, input: &mut HandlerInput, error: SkillError) -> HandlerResult {
        input.response_builder = ResponseBuilder::new();
        if error.is_conflict() {
            // The turn's session changes were computed from persistent data that is no longer
            // current: they do not go out (the exception handler may set new ones).
            input.attributes_manager.reset_session_attributes();
        }
        input.note(|t| t.error = Some(error.to_string()));
        match self
            .inner
            .exception_handlers
            .iter()
            .find(|h| h.can_handle(input, &error))
        {
            Some(handler) => {
                tracing::warn!(%error, "request failed; an exception handler answers");
                handler.handle(input, &error).await
            }
            None => match &self.inner.on_error {
                Some(on_error) => {
                    tracing::warn!(%error, "request failed; the error handler answers");
                    let on_error = on_error.clone();
                    with_turn(input, move |turn| on_error.call(turn, error)).await
                }
                None => {
                    tracing::error!(%error, "request failed and no exception handler took it");
                    Err(error)
                }
            },
        }
    }
}

/// What the handlers of one turn looked at, from [`Skill::invoke_traced`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TurnTrace {
    /// The position (from 0, in the order they were added) of the request handler that took
    /// the request; `None` when no handler's `can_handle` accepted it (or an interceptor failed
    /// before).
    pub request_handler: Option<usize>,
    /// True when no request handler took the request and the fallback answered it.
    pub fallback: bool,
    /// The intent names handlers and interceptors compared the request with through
    /// [`is_intent_name`](crate::is_intent_name).
    pub intents_checked: BTreeSet<String>,
    /// The slot names read through [`HandlerInput::slot`], [`HandlerInput::slot_value`],
    /// [`get_slot`](crate::get_slot) or [`get_slot_value`](crate::get_slot_value).
    pub slots_read: BTreeSet<String>,
    /// The error that went to the exception handlers (its message), when the turn failed.
    pub error: Option<String>,
}
