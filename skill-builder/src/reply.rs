//! What handlers answer with: [`Reply`], [`IntoResponse`], and [`HandlerError`] (so that `?`
//! works on any error).

use std::fmt;

use persistence_core::BoxError;

use crate::directive::Directive;
use crate::error::SkillError;
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
