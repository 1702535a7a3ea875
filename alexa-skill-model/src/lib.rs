//! Alexa's request and response JSON as serde types, the way the ASK SDKs' `ask-sdk-model` has
//! them: what a skill receives ([`envelope::RequestEnvelope`], with a typed [`request::Request`]
//! for the requests and skill events a skill really gets) and what it answers
//! ([`response::ResponseEnvelope`], built with [`response::ResponseBuilder`], with typed
//! [`directive::Directive`]s).
//!
//! Nothing is lost in a round trip: a request type this crate does not model is kept byte for
//! byte ([`request::RawRequest`]); fields it does not model on known types are kept in their
//! `extra` maps; any directive can be sent as JSON. IDs and tokens never show in full in `Debug`
//! output.
//!
//! The skill builder (`skill-builder`) re-exports these modules as `skill_builder::envelope`,
//! `skill_builder::response` and `skill_builder::directive`; tools that only read or write
//! Alexa JSON can depend on this crate alone.
//!
//! ```
//! use alexa_skill_model::envelope::{Request, RequestEnvelope};
//! use alexa_skill_model::response::ResponseBuilder;
//!
//! let envelope: RequestEnvelope = serde_json::from_str(r#"{"version": "1.0",
//!     "context": {"System": {"user": {"userId": "amzn1.ask.account.A"}}},
//!     "request": {"type": "AlexaSkillEvent.SkillEnabled", "requestId": "r1"}}"#)?;
//! assert!(matches!(envelope.request, Request::SkillEnabled(_)));
//!
//! let response = ResponseBuilder::new().speak("Hello!").end_session().get_response();
//! assert_eq!(response.should_end_session, Some(true));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod directive;
pub mod envelope;
pub mod request;
pub mod response;
mod timestamp;

pub use timestamp::Timestamp;
