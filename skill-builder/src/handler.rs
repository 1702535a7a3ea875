//! The handler chain: request handlers, exception handlers, request and response interceptors,
//! what they receive ([`HandlerInput`]) and the predicates they use.
//!
//! Each kind is an object-safe async trait (implement it with
//! [`async_trait`](macro@crate::async_trait)) and can also be made from closures with
//! [`request_handler`], [`exception_handler`], [`request_interceptor`] and
//! [`response_interceptor`]. Closures that do async work return a boxed future:
//! `|input| Box::pin(async move { ... })`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use persistence_core::{KeyGenerator, PersistenceAdapter, UserIdKey, async_trait};

use crate::attributes::AttributesManager;
use crate::envelope::{Request, RequestEnvelope, Slot};
use crate::error::SkillError;
use crate::response::{Response, ResponseBuilder};
use crate::skill::TurnTrace;

/// A boxed, `Send` future: what closure handlers return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What handlers and interceptors return.
pub type HandlerResult<T = Response> = Result<T, SkillError>;

/// What every handler and interceptor of a turn works on: the request, the attributes and the
/// response being built.
///
/// The two public fields can be borrowed at once (`input.response_builder` while reading
/// `input.attributes_manager`).
///
/// ```
/// use skill_builder::{HandlerInput, envelope::RequestEnvelope, is_intent_name};
///
/// let envelope: RequestEnvelope = serde_json::from_str(r#"{"version":"1.0",
///     "request":{"type":"IntentRequest","intent":{"name":"HelloIntent",
///     "slots":{"name":{"name":"name","value":"Ada"}}}}}"#)?;
/// let mut input = HandlerInput::new(envelope);
/// assert!(is_intent_name(&input, "HelloIntent"));
/// let name = input.slot_value("name").unwrap_or("there").to_owned();
/// let response = input.response_builder.speak(format!("Hello {name}!")).get_response();
/// assert!(response.output_speech.is_some());
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug)]
pub struct HandlerInput {
    envelope: Arc<RequestEnvelope>,
    /// Request, session and persistent attributes.
    pub attributes_manager: AttributesManager,
    /// The response being built.
    pub response_builder: ResponseBuilder,
    /// Where [`Skill::invoke_traced`](crate::Skill::invoke_traced) collects what the handlers
    /// look at; `None` on ordinary turns.
    trace: Option<Arc<Mutex<TurnTrace>>>,
    /// Typed values interceptors leave for the handlers of this turn.
    extensions: Extensions,
}

/// Typed values for one turn, one per type (see [`HandlerInput::extensions_mut`]).
#[derive(Default)]
pub struct Extensions(
    std::collections::HashMap<std::any::TypeId, Box<dyn std::any::Any + Send + Sync>>,
);

impl Extensions {
    /// Stores `value`, replacing any earlier value of its type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        self.0.insert(std::any::TypeId::of::<T>(), Box::new(value));
    }

    /// The value of type `T`, if one was stored.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.0
            .get(&std::any::TypeId::of::<T>())
            .and_then(|b| b.downcast_ref::<T>())
    }

    /// Takes the value of type `T` out, if one was stored.
    pub fn remove<T: Send + Sync + 'static>(&mut self) -> Option<T> {
        self.0
            .remove(&std::any::TypeId::of::<T>())
            .and_then(|b| b.downcast::<T>().ok())
            .map(|b| *b)
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Extensions({} values)", self.0.len())
    }
}

impl HandlerInput {
    /// An input for `envelope` without persistence (for testing a handler on its own).
    pub fn new(envelope: RequestEnvelope) -> Self {
        Self::with_parts(Arc::new(envelope), None, Arc::new(UserIdKey))
    }

    /// The same input with persistent attributes kept by `adapter` under the keys
    /// `key_generator` makes. Attributes already loaded or changed are discarded.
    pub fn with_persistence(
        self,
        adapter: Arc<dyn PersistenceAdapter>,
        key_generator: impl KeyGenerator + 'static,
    ) -> Self {
        Self::with_parts(self.envelope, Some(adapter), Arc::new(key_generator))
    }

    pub(crate) fn with_parts(
        envelope: Arc<RequestEnvelope>,
        adapter: Option<Arc<dyn PersistenceAdapter>>,
        key_generator: Arc<dyn KeyGenerator>,
    ) -> Self {
        Self {
            attributes_manager: AttributesManager::new(envelope.clone(), adapter, key_generator),
            envelope,
            response_builder: ResponseBuilder::new(),
            trace: None,
            extensions: Extensions::default(),
        }
    }

    /// Typed values an interceptor left for this turn's handlers (a looked-up profile, a
    /// client), one per type.
    pub fn extensions(&self) -> &Extensions {
        &self.extensions
    }

    /// The turn's typed values, to add to.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extensions
    }

    /// The same input, recording into `trace`.
    pub(crate) fn traced(mut self, trace: Arc<Mutex<TurnTrace>>) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Records into the trace, when this turn is traced.
    pub(crate) fn note(&self, record: impl FnOnce(&mut TurnTrace)) {
        if let Some(trace) = &self.trace {
            record(&mut trace.lock().unwrap_or_else(PoisonError::into_inner));
        }
    }

    pub(crate) fn envelope_arc(&self) -> Arc<RequestEnvelope> {
        self.envelope.clone()
    }

    /// The whole request envelope.
    pub fn request_envelope(&self) -> &RequestEnvelope {
        &self.envelope
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.envelope.request
    }

    /// The request's type.
    pub fn request_type(&self) -> &str {
        self.envelope.request_type()
    }

    /// The intent name, for an `IntentRequest`.
    pub fn intent_name(&self) -> Option<&str> {
        self.envelope.intent_name()
    }

    /// Slot `name` of the intent.
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.note(|t| {
            t.slots_read.insert(name.to_owned());
        });
        self.envelope.slot(name)
    }

    /// The spoken value of slot `name`, when filled.
    pub fn slot_value(&self, name: &str) -> Option<&str> {
        self.note(|t| {
            t.slots_read.insert(name.to_owned());
        });
        self.envelope.slot_value(name)
    }
}

/// True when the request's type is `request_type` (`LaunchRequest`, `SessionEndedRequest`, ...).
///
/// ```
/// # use skill_builder::{HandlerInput, is_request_type, envelope::RequestEnvelope};
/// let input = HandlerInput::new(RequestEnvelope::default()); // a LaunchRequest
/// assert!(is_request_type(&input, "LaunchRequest"));
/// ```
pub fn is_request_type(input: &HandlerInput, request_type: &str) -> bool {
    input.request_type() == request_type
}

/// True for an `IntentRequest` whose intent is `intent_name`.
///
/// Route on intents with this predicate (rather than comparing
/// [`HandlerInput::intent_name`] by hand): [`Skill::invoke_traced`](crate::Skill::invoke_traced)
/// then sees which intents a skill handles, which is how a test checks a skill against its
/// interaction model.
pub fn is_intent_name(input: &HandlerInput, intent_name: &str) -> bool {
    input.note(|t| {
        t.intents_checked.insert(intent_name.to_owned());
    });
    input.intent_name() == Some(intent_name)
}

/// Slot `name` of the intent, if the request is an `IntentRequest` that has it.
pub fn get_slot<'a>(input: &'a HandlerInput, name: &str) -> Option<&'a Slot> {
    input.slot(name)
}

/// The spoken value of slot `name`, when filled.
pub fn get_slot_value<'a>(input: &'a HandlerInput, name: &str) -> Option<&'a str> {
    input.slot_value(name)
}

/// True on the first request of a session.
pub fn is_new_session(input: &HandlerInput) -> bool {
    input.envelope.is_new_session()
}

/// Handles the requests its `can_handle` accepts. The first registered handler that accepts a
/// request handles it.
///
/// ```
/// use skill_builder::{async_trait, is_request_type, HandlerInput, HandlerResult, RequestHandler};
///
/// struct Launch;
///
/// #[async_trait]
/// impl RequestHandler for Launch {
///     fn can_handle(&self, input: &HandlerInput) -> bool {
///         is_request_type(input, "LaunchRequest")
///     }
///     async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
///         let visits = input.attributes_manager.persistent_attributes().await?
///             .get_as::<u32>("visits")?.unwrap_or(0);
///         Ok(input.response_builder
///             .speak(format!("Welcome! Visit number {}.", visits + 1))
///             .reprompt("What would you like?")
///             .get_response())
///     }
/// }
/// ```
#[async_trait]
pub trait RequestHandler: Send + Sync {
    /// Whether this handler handles the request.
    fn can_handle(&self, input: &HandlerInput) -> bool;
    /// Handles it, returning the response.
    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult;
}

/// Turns an error of a turn into a response. The first registered handler whose `can_handle`
/// accepts the error handles it.
///
/// ```
/// use skill_builder::{async_trait, ExceptionHandler, HandlerInput, HandlerResult, SkillError};
///
/// struct Sorry;
///
/// #[async_trait]
/// impl ExceptionHandler for Sorry {
///     fn can_handle(&self, _input: &HandlerInput, _error: &SkillError) -> bool { true }
///     async fn handle(&self, input: &mut HandlerInput, error: &SkillError) -> HandlerResult {
///         let speech = if error.is_conflict() {
///             "That changed on another device just now. Please try again."
///         } else {
///             "Sorry, something went wrong."
///         };
///         Ok(input.response_builder.speak(speech).reprompt("What now?").get_response())
///     }
/// }
/// ```
#[async_trait]
pub trait ExceptionHandler: Send + Sync {
    /// Whether this handler handles `error`.
    fn can_handle(&self, input: &HandlerInput, error: &SkillError) -> bool;
    /// Handles it, returning the response.
    async fn handle(&self, input: &mut HandlerInput, error: &SkillError) -> HandlerResult;
}

/// Runs before the request handler, in registration order. An error skips the rest of the
/// turn and goes to the exception handlers.
#[async_trait]
pub trait RequestInterceptor: Send + Sync {
    /// Processes the input.
    async fn process(&self, input: &mut HandlerInput) -> HandlerResult<()>;
}

/// Runs after the request handler succeeded, in registration order, and may change the
/// response. An error goes to the exception handlers.
#[async_trait]
pub trait ResponseInterceptor: Send + Sync {
    /// Processes the input and the response.
    async fn process(&self, input: &mut HandlerInput, response: &mut Response)
    -> HandlerResult<()>;
}

/// A [`RequestHandler`] made of two closures; see [`request_handler`].
pub struct FnRequestHandler<C, H> {
    can_handle: C,
    handle: H,
}

/// A request handler from a `can_handle` predicate and an async `handle` closure.
///
/// ```
/// use skill_builder::{is_intent_name, request_handler, RequestHandler};
///
/// let help = request_handler(
///     |input| is_intent_name(input, "AMAZON.HelpIntent"),
///     |input| Box::pin(async move {
///         Ok(input.response_builder.speak("Say yes to hear a fact.").reprompt("Want a fact?").get_response())
///     }),
/// );
/// let _boxed: Box<dyn RequestHandler> = Box::new(help);
/// ```
pub fn request_handler<C, H>(can_handle: C, handle: H) -> FnRequestHandler<C, H>
where
    C: Fn(&HandlerInput) -> bool + Send + Sync,
    H: for<'a> Fn(&'a mut HandlerInput) -> BoxFuture<'a, HandlerResult> + Send + Sync,
{
    FnRequestHandler { can_handle, handle }
}

#[async_trait]
impl<C, H> RequestHandler for FnRequestHandler<C, H>
where
    C: Fn(&HandlerInput) -> bool + Send + Sync,
    H: for<'a> Fn(&'a mut HandlerInput) -> BoxFuture<'a, HandlerResult> + Send + Sync,
{
    fn can_handle(&self, input: &HandlerInput) -> bool {
        (self.can_handle)(input)
    }
    async fn handle(&self, input: &mut HandlerInput) -> HandlerResult {
        (self.handle)(input).await
    }
}

impl<C, H> fmt::Debug for FnRequestHandler<C, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnRequestHandler")
    }
}

/// An [`ExceptionHandler`] made of two closures; see [`exception_handler`].
pub struct FnExceptionHandler<C, H> {
    can_handle: C,
    handle: H,
}

/// An exception handler from a predicate and an async closure.
///
/// ```
/// use skill_builder::{exception_handler, ExceptionHandler};
///
/// let on_conflict = exception_handler(
///     |_input, error| error.is_conflict(),
///     |input, _error| Box::pin(async move {
///         Ok(input.response_builder.speak("Please try again.").get_response())
///     }),
/// );
/// let _boxed: Box<dyn ExceptionHandler> = Box::new(on_conflict);
/// ```
pub fn exception_handler<C, H>(can_handle: C, handle: H) -> FnExceptionHandler<C, H>
where
    C: Fn(&HandlerInput, &SkillError) -> bool + Send + Sync,
    H: for<'a> Fn(&'a mut HandlerInput, &'a SkillError) -> BoxFuture<'a, HandlerResult>
        + Send
        + Sync,
{
    FnExceptionHandler { can_handle, handle }
}

#[async_trait]
impl<C, H> ExceptionHandler for FnExceptionHandler<C, H>
where
    C: Fn(&HandlerInput, &SkillError) -> bool + Send + Sync,
    H: for<'a> Fn(&'a mut HandlerInput, &'a SkillError) -> BoxFuture<'a, HandlerResult>
        + Send
        + Sync,
{
    fn can_handle(&self, input: &HandlerInput, error: &SkillError) -> bool {
        (self.can_handle)(input, error)
    }
    async fn handle(&self, input: &mut HandlerInput, error: &SkillError) -> HandlerResult {
        (self.handle)(input, error).await
    }
}

impl<C, H> fmt::Debug for FnExceptionHandler<C, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnExceptionHandler")
    }
}

/// A [`RequestInterceptor`] made of a closure; see [`request_interceptor`].
pub struct FnRequestInterceptor<F>(F);

/// A request interceptor from an async closure.
///
/// ```
/// use skill_builder::{request_interceptor, RequestInterceptor};
///
/// let log = request_interceptor(|input| Box::pin(async move {
///     tracing::info!(request_type = input.request_type(), "request");
///     Ok(())
/// }));
/// let _boxed: Box<dyn RequestInterceptor> = Box::new(log);
/// ```
pub fn request_interceptor<F>(process: F) -> FnRequestInterceptor<F>
where
    F: for<'a> Fn(&'a mut HandlerInput) -> BoxFuture<'a, HandlerResult<()>> + Send + Sync,
{
    FnRequestInterceptor(process)
}

#[async_trait]
impl<F> RequestInterceptor for FnRequestInterceptor<F>
where
    F: for<'a> Fn(&'a mut HandlerInput) -> BoxFuture<'a, HandlerResult<()>> + Send + Sync,
{
    async fn process(&self, input: &mut HandlerInput) -> HandlerResult<()> {
        (self.0)(input).await
    }
}

impl<F> fmt::Debug for FnRequestInterceptor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnRequestInterceptor")
    }
}

/// A [`ResponseInterceptor`] made of a closure; see [`response_interceptor`].
pub struct FnResponseInterceptor<F>(F);

/// A response interceptor from an async closure.
///
/// ```
/// use skill_builder::{response_interceptor, ResponseInterceptor};
///
/// let card = response_interceptor(|_input, response| Box::pin(async move {
///     response.should_end_session.get_or_insert(false);
///     Ok(())
/// }));
/// let _boxed: Box<dyn ResponseInterceptor> = Box::new(card);
/// ```
pub fn response_interceptor<F>(process: F) -> FnResponseInterceptor<F>
where
    F: for<'a> Fn(&'a mut HandlerInput, &'a mut Response) -> BoxFuture<'a, HandlerResult<()>>
        + Send
        + Sync,
{
    FnResponseInterceptor(process)
}

#[async_trait]
impl<F> ResponseInterceptor for FnResponseInterceptor<F>
where
    F: for<'a> Fn(&'a mut HandlerInput, &'a mut Response) -> BoxFuture<'a, HandlerResult<()>>
        + Send
        + Sync,
{
    async fn process(
        &self,
        input: &mut HandlerInput,
        response: &mut Response,
    ) -> HandlerResult<()> {
        (self.0)(input, response).await
    }
}

impl<F> fmt::Debug for FnResponseInterceptor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnResponseInterceptor")
    }
}
