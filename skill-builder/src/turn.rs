//! Plain `async fn` handlers: [`Turn`], typed persistent and session state, [`Reply`], and
//! [`HandlerError`] (so that `?` works on any error).
//!
//! A handler is any `async fn(Turn) -> Result<R, E>` (or closure returning such a future) where
//! `R` is a [`Reply`] or a [`Response`] and `E` is any error. Register it on the
//! [`SkillBuilder`](crate::SkillBuilder) by what it handles:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use skill_builder::{Reply, SkillBuilder, Turn, TurnResult};
//!
//! /// What the skill remembers about a user.
//! #[derive(Default, Serialize, Deserialize)]
//! struct Visits {
//!     count: u32,
//! }
//!
//! async fn launch(turn: Turn) -> TurnResult {
//!     let mut visits = turn.state::<Visits>().await?; // loaded once, saved if changed
//!     visits.count += 1;
//!     Ok(turn.speak(format!("Visit number {}.", visits.count)).reprompt("What now?"))
//! }
//!
//! async fn stop(turn: Turn) -> TurnResult {
//!     Ok(turn.speak("Goodbye!").end_session())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillBuilder::new()
//!     .with_persistence_adapter(std::sync::Arc::new(persistence_memory::MemoryAdapter::new()))
//!     .on_launch(launch)
//!     .on_intents(["AMAZON.StopIntent", "AMAZON.CancelIntent"], stop)
//!     .build();
//! let mut talk = skill_builder::testkit::Conversation::new(&skill).user("amzn1.ask.account.A");
//! assert_eq!(talk.launch().await?.speech(), "Visit number 1.");
//! assert_eq!(talk.launch().await?.speech(), "Visit number 2.");
//! # Ok(()) }
//! ```
//!
//! Typed state: [`Turn::state`] reads the persistent attributes into your `T` (any serde type
//! with `Default`; fields missing in storage take their default) and gives it to the handler
//! mutably. At the end of the handler it is written back into the persistent attributes, and the
//! skill saves them after the response when they changed (conditionally on the version loaded,
//! merging with another device's changes to other attributes). Top-level attributes your `T` does
//! not know (written by an older or newer version of the skill, or another skill) are kept as
//! they were. [`Turn::session`] does the same for session attributes.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use persistence_core::{Attributes, BoxError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use crate::attributes::AttributesManager;
use crate::directive::Directive;
use crate::envelope::{Request, RequestEnvelope, Slot};
use crate::error::SkillError;
use crate::handler::{BoxFuture, HandlerInput};
use crate::response::{Card, PlayBehavior, Response, ResponseBuilder};

/// An error from a handler: any error converts into it with `?`.
///
/// Persistence errors keep their type (an exception handler still sees
/// [`SkillError::is_conflict`]); anything else becomes [`SkillError::Handler`] with the error as
/// its source. It does not implement `std::error::Error` itself (so that every error can
/// convert into it, as with `anyhow::Error`); [`HandlerError::into_skill_error`] gives one that
/// does.
///
/// ```
/// use skill_builder::HandlerError;
/// fn parse(n: &str) -> Result<u32, HandlerError> {
///     Ok(n.parse::<u32>()?) // ParseIntError -> HandlerError
/// }
/// assert!(parse("x").is_err());
/// let e = HandlerError::msg("the weather service is down");
/// assert_eq!(e.to_string(), "the skill failed: the weather service is down");
/// ```
pub struct HandlerError(SkillError);

impl HandlerError {
    /// An error with a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self(SkillError::other(message.to_string()))
    }

    /// The [`SkillError`] it stands for.
    pub fn into_skill_error(self) -> SkillError {
        self.0
    }

    /// The [`SkillError`] it stands for, borrowed.
    pub fn as_skill_error(&self) -> &SkillError {
        &self.0
    }

    /// True when a save lost to another writer.
    pub fn is_conflict(&self) -> bool {
        self.0.is_conflict()
    }
}

impl<E> From<E> for HandlerError
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(error: E) -> Self {
        let boxed: BoxError = Box::new(error);
        let boxed = match boxed.downcast::<SkillError>() {
            Ok(e) => return Self(*e),
            Err(other) => other,
        };
        match boxed.downcast::<persistence_core::Error>() {
            Ok(e) => Self(SkillError::Persistence(*e)),
            Err(other) => Self(SkillError::Handler(other)),
        }
    }
}

impl From<HandlerError> for SkillError {
    fn from(e: HandlerError) -> Self {
        e.0
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// What a plain async handler returns: a [`Reply`] by default.
pub type TurnResult<R = Reply> = Result<R, HandlerError>;

/// What a handler may answer with.
pub trait IntoResponse {
    /// The response.
    fn into_response(self) -> Response;
}

impl IntoResponse for Response {
    fn into_response(self) -> Response {
        self
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        self.0
    }
}

impl IntoResponse for () {
    /// No speech, no card: what a `SessionEndedRequest` or a skill event answers.
    fn into_response(self) -> Response {
        Response::default()
    }
}

/// A response, built by value: `turn.speak("Hi").reprompt("What now?")`.
///
/// Speech is SSML (wrapped in `<speak>` unless it already is); text from users or data that may
/// hold `&`, `<` or `>` should go through [`escape_ssml`](crate::response::escape_ssml).
///
/// ```
/// use skill_builder::Reply;
/// use skill_builder::directive::ElicitSlot;
/// let r = Reply::speak("What size?").reprompt("Small, medium or large?")
///     .directive(ElicitSlot::new("size"));
/// let response = skill_builder::IntoResponse::into_response(r);
/// assert_eq!(response.should_end_session, Some(false));
/// assert_eq!(response.directives.len(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[must_use = "return the reply from the handler"]
pub struct Reply(Response);

impl Reply {
    /// A reply that says nothing (e.g. to a skill event).
    pub fn empty() -> Self {
        Self::default()
    }

    /// A reply that says `ssml`.
    pub fn speak(ssml: impl Into<String>) -> Self {
        Self::empty().and_speak(ssml)
    }

    fn with(mut self, f: impl FnOnce(&mut ResponseBuilder)) -> Self {
        let mut b = ResponseBuilder::from(std::mem::take(&mut self.0));
        f(&mut b);
        Self(b.get_response())
    }

    /// Says `ssml` (replacing what was to be said).
    pub fn and_speak(self, ssml: impl Into<String>) -> Self {
        let ssml = ssml.into();
        self.with(|b| {
            b.speak(ssml);
        })
    }

    /// Says `text` as plain text.
    pub fn speak_plain(self, text: impl Into<String>) -> Self {
        let text = text.into();
        self.with(|b| {
            b.speak_plain(text);
        })
    }

    /// How the speech plays relative to what the device is saying.
    pub fn play_behavior(self, behavior: PlayBehavior) -> Self {
        self.with(|b| {
            b.play_behavior(behavior);
        })
    }

    /// Says `ssml` when the user does not answer, and keeps the session open.
    pub fn reprompt(self, ssml: impl Into<String>) -> Self {
        let ssml = ssml.into();
        self.with(|b| {
            b.reprompt(ssml);
        })
    }

    /// Ends the session after this reply.
    pub fn end_session(self) -> Self {
        self.with(|b| {
            b.end_session();
        })
    }

    /// Shows a simple card in the Alexa app.
    pub fn simple_card(self, title: impl Into<String>, content: impl Into<String>) -> Self {
        let (title, content) = (title.into(), content.into());
        self.with(|b| {
            b.simple_card(title, content);
        })
    }

    /// Shows `card`.
    pub fn card(mut self, card: Card) -> Self {
        self.0.card = Some(card);
        self
    }

    /// Shows the card that asks the user to link their account.
    pub fn link_account_card(self) -> Self {
        self.card(Card::LinkAccount)
    }

    /// Adds a directive: typed ([`crate::directive`]) or any directive as JSON.
    pub fn directive(mut self, directive: impl Into<Directive>) -> Self {
        self.0.directives.push(directive.into());
        self
    }

    /// The response so far.
    pub fn response(&self) -> &Response {
        &self.0
    }
}

impl From<Response> for Reply {
    fn from(r: Response) -> Self {
        Self(r)
    }
}

/// Serialises a typed value (behind `dyn Any`) back into an attribute map.
type ToMap = fn(&(dyn Any + Send)) -> Result<Map<String, Value>, SkillError>;

/// A typed view of attributes, loaded once per turn.
struct Typed {
    value: Box<dyn Any + Send>,
    type_name: &'static str,
    /// The top-level attributes the type takes; the others are left as they are.
    known: std::collections::BTreeSet<String>,
    to_map: ToMap,
}

impl Typed {
    fn load<T>(attributes: &Attributes, scope: &'static str) -> Result<Self, SkillError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        // Fields missing in storage take their default: start from the default, then lay the
        // stored attributes over it.
        let mut merged = match serde_json::to_value(T::default()) {
            Ok(Value::Object(m)) => m,
            Ok(_) => {
                return Err(type_error::<T>(
                    scope,
                    "the state type must serialize to a JSON object",
                ));
            }
            Err(e) => return Err(type_error::<T>(scope, &e.to_string())),
        };
        for (k, v) in attributes.iter() {
            merged.insert(k.clone(), v.clone());
        }
        let mut known: std::collections::BTreeSet<String> = merged.keys().cloned().collect();
        let mut ignored = Vec::new();
        let parsed = serde_ignored::deserialize(Value::Object(merged.clone()), |path| {
            if let serde_ignored::Path::Map {
                parent: serde_ignored::Path::Root,
                key,
            } = path
            {
                ignored.push(key);
            }
        });
        let value: T = match parsed {
            Ok(v) => v,
            Err(e) => {
                // Again, to say which attribute did not fit.
                let at = serde_path_to_error::deserialize::<_, T>(Value::Object(merged))
                    .err()
                    .map(|p| p.path().to_string())
                    .filter(|p| p != ".")
                    .map(|p| format!("attribute `{p}`: "))
                    .unwrap_or_default();
                return Err(type_error::<T>(scope, &format!("{at}{e}")));
            }
        };
        for key in ignored {
            known.remove(&key);
        }
        Ok(Self {
            value: Box::new(value),
            type_name: std::any::type_name::<T>(),
            known,
            to_map: |any| {
                let Some(t) = any.downcast_ref::<T>() else {
                    return Err(type_error::<T>("state", "stored under another type"));
                };
                match serde_json::to_value(t) {
                    Ok(Value::Object(m)) => Ok(m),
                    Ok(_) => Err(type_error::<T>(
                        "state",
                        "it does not serialize to an object",
                    )),
                    Err(e) => Err(type_error::<T>("state", &e.to_string())),
                }
            },
        })
    }

    /// `current` with this state's fields written over it: a field the type now leaves out
    /// is removed, attributes the type does not take are left as they are (changed through
    /// the attributes manager or not).
    fn apply_to(&self, current: &Attributes) -> Result<Attributes, SkillError> {
        let fields = (self.to_map)(self.value.as_ref())?;
        let mut out = current.clone();
        for k in &self.known {
            if !fields.contains_key(k) {
                out.remove(k);
            }
        }
        for (k, v) in fields {
            out.insert(k, v);
        }
        Ok(out)
    }
}

fn type_error<T>(scope: &str, detail: &str) -> SkillError {
    SkillError::other(format!(
        "the {scope} attributes do not fit {}: {detail}",
        std::any::type_name::<T>()
    ))
}

/// Mutable access to this turn's typed state; written back when the handler ends.
pub type StateMut<T> = OwnedMappedMutexGuard<Option<TypedSlot>, T>;

/// Where a turn keeps a typed state (opaque).
pub struct TypedSlot(Typed);

/// Access to the attributes manager for the rest of a handler (see [`Turn::attributes`]).
pub type AttributesMut = OwnedMappedMutexGuard<HandlerInput, AttributesManager>;

/// One turn of the conversation, as a plain async handler gets it: the request, typed state,
/// the attributes manager, and what to answer.
///
/// Cheap to clone; valid until the handler that got it returns.
#[derive(Clone)]
pub struct Turn {
    envelope: Arc<RequestEnvelope>,
    input: Arc<Mutex<HandlerInput>>,
    persistent: Arc<Mutex<Option<TypedSlot>>>,
    session: Arc<Mutex<Option<TypedSlot>>>,
}

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn")
            .field("request_type", &self.envelope.request_type())
            .finish_non_exhaustive()
    }
}

impl Turn {
    pub(crate) fn new(input: HandlerInput) -> Self {
        Self {
            envelope: input.envelope_arc(),
            input: Arc::new(Mutex::new(input)),
            persistent: Arc::default(),
            session: Arc::default(),
        }
    }

    /// Writes typed state back into the attributes and hands the input back.
    pub(crate) async fn finish(self) -> Result<HandlerInput, SkillError> {
        let mut input = self.input.lock().await;
        if let Some(TypedSlot(typed)) = self.persistent.lock().await.as_ref() {
            let now = input
                .attributes_manager
                .loaded_persistent_attributes()
                .cloned()
                .unwrap_or_default();
            let attributes = typed.apply_to(&now)?;
            if attributes != now {
                input
                    .attributes_manager
                    .set_persistent_attributes(attributes)
                    .await?;
            }
        }
        if let Some(TypedSlot(typed)) = self.session.lock().await.as_ref() {
            let attributes = typed.apply_to(input.attributes_manager.session_attributes())?;
            input.attributes_manager.set_session_attributes(attributes);
        }
        let placeholder = HandlerInput::new(RequestEnvelope::default());
        Ok(std::mem::replace(&mut *input, placeholder))
    }

    /// The whole request envelope.
    pub fn envelope(&self) -> &RequestEnvelope {
        &self.envelope
    }

    /// The request (typed for launch, intents, session end and the skill events).
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
        self.note_slot(name);
        self.envelope.slot(name)
    }

    /// The spoken value of slot `name`, when filled.
    pub fn slot_value(&self, name: &str) -> Option<&str> {
        self.note_slot(name);
        self.envelope.slot_value(name)
    }

    /// The value slot `name` resolved to in the slot type (its canonical name), or the spoken
    /// value when entity resolution found no match.
    pub fn resolved_slot_value(&self, name: &str) -> Option<&str> {
        self.note_slot(name);
        self.envelope.slot(name)?.resolved_or_spoken()
    }

    fn note_slot(&self, name: &str) {
        if let Ok(input) = self.input.try_lock() {
            input.note(|t| {
                t.slots_read.insert(name.to_owned());
            });
        }
    }

    /// The Alexa user ID (`context.System.user.userId`).
    pub fn user_id(&self) -> Option<&str> {
        persistence_core::KeySource::user_id(self.envelope.as_ref())
    }

    /// The request's locale, e.g. `en-US`.
    pub fn locale(&self) -> Option<&str> {
        self.envelope.locale()
    }

    /// True on the first request of a session.
    pub fn is_new_session(&self) -> bool {
        self.envelope.is_new_session()
    }

    /// The persistent attributes as a `T`, loaded on first use this turn (from storage, once),
    /// for reading and changing. Written back when the handler returns, and saved after the
    /// response when they changed. Top-level attributes `T` does not know are kept.
    ///
    /// Holding two at once in one turn is refused (drop the first, or use one type).
    ///
    /// # Errors
    /// When there is no persistence adapter or no key source, when storage fails, or when the
    /// stored attributes do not fit `T` (naming `T` and the field).
    pub async fn state<T>(&self) -> Result<StateMut<T>, HandlerError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        let slot = self.persistent.clone().try_lock_owned().map_err(|_| {
            HandlerError::msg("the persistent state is already borrowed in this turn")
        })?;
        let mut slot = slot;
        if slot.is_none() {
            let mut input = self.input.lock().await;
            let attributes = input
                .attributes_manager
                .persistent_attributes()
                .await?
                .clone();
            *slot = Some(TypedSlot(Typed::load::<T>(&attributes, "persistent")?));
        }
        map_slot(slot)
    }

    /// The session attributes as a `T` (default when the session has none), for reading and
    /// changing; returned in the response when the handler returns. Top-level attributes `T`
    /// does not know are kept.
    ///
    /// # Errors
    /// When the session attributes do not fit `T`, or it is already borrowed.
    pub async fn session<T>(&self) -> Result<StateMut<T>, HandlerError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        let mut slot =
            self.session.clone().try_lock_owned().map_err(|_| {
                HandlerError::msg("the session state is already borrowed in this turn")
            })?;
        if slot.is_none() {
            let input = self.input.lock().await;
            let attributes = input.attributes_manager.session_attributes().clone();
            *slot = Some(TypedSlot(Typed::load::<T>(&attributes, "session")?));
        }
        map_slot(slot)
    }

    /// The attributes manager, for what typed state does not cover: request attributes,
    /// [`reload_persistent_attributes`](AttributesManager::reload_persistent_attributes),
    /// [`update_persistent_attributes`](AttributesManager::update_persistent_attributes),
    /// [`delete_persistent_attributes`](AttributesManager::delete_persistent_attributes).
    /// Typed state taken this turn is written over the persistent attributes when the handler
    /// returns.
    pub async fn attributes(&self) -> AttributesMut {
        OwnedMutexGuard::map(self.input.clone().lock_owned().await, |i| {
            &mut i.attributes_manager
        })
    }

    /// Deletes the user's persistent attributes now (conditionally on the version loaded, if
    /// they were loaded) and forgets typed state taken this turn.
    ///
    /// # Errors
    /// As [`AttributesManager::delete_persistent_attributes`].
    pub async fn delete_persistent_attributes(&self) -> Result<(), HandlerError> {
        let mut slot =
            self.persistent.clone().try_lock_owned().map_err(|_| {
                HandlerError::msg("the persistent state is borrowed while deleting it")
            })?;
        self.input
            .lock()
            .await
            .attributes_manager
            .delete_persistent_attributes()
            .await?;
        *slot = None;
        Ok(())
    }

    /// Keys this turn's persistent attributes by `key` instead of the key generator's (e.g. a
    /// linked account's stable ID, found by a `before` interceptor). Only before they are
    /// loaded.
    ///
    /// # Errors
    /// When the persistent attributes were already loaded this turn.
    pub async fn use_persistence_key(&self, key: impl Into<String>) -> Result<(), HandlerError> {
        self.input
            .lock()
            .await
            .attributes_manager
            .use_persistence_key(key)?;
        Ok(())
    }

    /// Leaves `value` for the rest of this turn (one per type): what a `before` interceptor
    /// found out (a linked profile, say) for the handler.
    ///
    /// ```
    /// # use skill_builder::{SkillBuilder, Turn, TurnResult, HandlerError};
    /// #[derive(Clone)]
    /// struct Tier(&'static str);
    /// let skill = SkillBuilder::new()
    ///     .before(|turn: Turn| async move {
    ///         turn.insert_extension(Tier("gold")).await;
    ///         Ok::<_, HandlerError>(())
    ///     })
    ///     .on_launch(|turn: Turn| async move {
    ///         let tier = turn.extension::<Tier>().await.map_or("none", |t| t.0);
    ///         Ok::<_, HandlerError>(turn.speak(format!("Your tier: {tier}.")))
    ///     })
    ///     .build();
    /// ```
    pub async fn insert_extension<T: Send + Sync + 'static>(&self, value: T) {
        self.input.lock().await.extensions_mut().insert(value);
    }

    /// A copy of the value of type `T` left for this turn, if any.
    pub async fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.input.lock().await.extensions().get::<T>().cloned()
    }

    /// A reply that says `ssml`.
    pub fn speak(&self, ssml: impl Into<String>) -> Reply {
        Reply::speak(ssml)
    }

    /// A reply that says nothing.
    pub fn reply(&self) -> Reply {
        Reply::empty()
    }
}

fn map_slot<T: Send + 'static>(
    slot: OwnedMutexGuard<Option<TypedSlot>>,
) -> Result<StateMut<T>, HandlerError> {
    let found = slot
        .as_ref()
        .map_or("nothing", |TypedSlot(t)| t.type_name)
        .to_owned();
    OwnedMutexGuard::try_map(slot, |s| {
        s.as_mut()
            .and_then(|TypedSlot(t)| t.value.downcast_mut::<T>())
    })
    .map_err(|_| {
        HandlerError::msg(format!(
            "this turn's state was taken as {found}, not as {}",
            std::any::type_name::<T>()
        ))
    })
}

/// A plain async handler: `async fn(Turn) -> Result<R, E>` where `R:` [`IntoResponse`] and
/// `E:` `Into<`[`HandlerError`]`>`. Implemented for every such function and closure.
pub trait TurnHandler: Send + Sync + 'static {
    /// Handles the turn.
    fn call(&self, turn: Turn) -> BoxFuture<'static, Result<Response, HandlerError>>;
}

impl<F, Fut, R, E> TurnHandler for F
where
    F: Fn(Turn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoResponse,
    E: Into<HandlerError>,
{
    fn call(&self, turn: Turn) -> BoxFuture<'static, Result<Response, HandlerError>> {
        let fut = self(turn);
        Box::pin(async move {
            fut.await
                .map(IntoResponse::into_response)
                .map_err(Into::into)
        })
    }
}

/// A plain async exception handler: `async fn(Turn, SkillError) -> Result<R, E>`.
pub trait TurnErrorHandler: Send + Sync + 'static {
    /// Answers the turn that failed with `error`.
    fn call(
        &self,
        turn: Turn,
        error: SkillError,
    ) -> BoxFuture<'static, Result<Response, HandlerError>>;
}

impl<F, Fut, R, E> TurnErrorHandler for F
where
    F: Fn(Turn, SkillError) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoResponse,
    E: Into<HandlerError>,
{
    fn call(
        &self,
        turn: Turn,
        error: SkillError,
    ) -> BoxFuture<'static, Result<Response, HandlerError>> {
        let fut = self(turn, error);
        Box::pin(async move {
            fut.await
                .map(IntoResponse::into_response)
                .map_err(Into::into)
        })
    }
}

/// A plain async request interceptor: `async fn(Turn) -> Result<(), E>`, run before the
/// handler (see [`SkillBuilder::before`](crate::SkillBuilder::before)).
pub trait TurnInterceptor: Send + Sync + 'static {
    /// Runs before the handler.
    fn call(&self, turn: Turn) -> BoxFuture<'static, Result<(), HandlerError>>;
}

impl<F, Fut, E> TurnInterceptor for F
where
    F: Fn(Turn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<HandlerError>,
{
    fn call(&self, turn: Turn) -> BoxFuture<'static, Result<(), HandlerError>> {
        let fut = self(turn);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// Runs `f` with the turn made of `input`, then puts the input back (with typed state written
/// into it).
pub(crate) async fn with_turn<T>(
    input: &mut HandlerInput,
    f: impl FnOnce(Turn) -> BoxFuture<'static, Result<T, HandlerError>>,
) -> Result<T, SkillError> {
    let owned = std::mem::replace(input, HandlerInput::new(RequestEnvelope::default()));
    let turn = Turn::new(owned);
    let result = f(turn.clone()).await;
    *input = turn.finish().await?;
    result.map_err(HandlerError::into_skill_error)
}
