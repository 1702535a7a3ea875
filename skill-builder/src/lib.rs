//! A focused Alexa skill SDK for Rust, shaped like the official ASK SDKs: request and response
//! envelopes as serde types, a handler chain (request handlers, exception handlers, request and
//! response interceptors), and an attributes manager whose persistent attributes live in any
//! [`PersistenceAdapter`] (DynamoDB, S3, memory, or yours) with optimistic concurrency.
//!
//! ```
//! use std::sync::Arc;
//! use persistence_core::PersistenceAdapter;
//! use persistence_memory::MemoryAdapter;
//! use skill_builder::{is_intent_name, is_request_type, SkillBuilder, testkit::Conversation};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store: Arc<dyn PersistenceAdapter> = Arc::new(MemoryAdapter::new());
//! let skill = SkillBuilder::new()
//!     .with_persistence_adapter(store)
//!     .add_request_handler_fn(
//!         |input| is_request_type(input, "LaunchRequest"),
//!         |input| Box::pin(async move {
//!             let attrs = input.attributes_manager.persistent_attributes_mut().await?;
//!             let visits = attrs.get_as::<u32>("visits")?.unwrap_or(0) + 1;
//!             attrs.set("visits", &visits)?;
//!             input.attributes_manager.save_persistent_attributes().await?;
//!             Ok(input.response_builder
//!                 .speak(format!("Welcome! This is visit {visits}."))
//!                 .reprompt("What now?")
//!                 .get_response())
//!         }),
//!     )
//!     .add_request_handler_fn(
//!         |input| is_intent_name(input, "AMAZON.StopIntent"),
//!         |input| Box::pin(async move {
//!             Ok(input.response_builder.speak("Goodbye!").end_session().get_response())
//!         }),
//!     )
//!     .build();
//!
//! let mut talk = Conversation::new(&skill).user("amzn1.ask.account.TEST");
//! assert_eq!(talk.launch().await?.speech(), "Welcome! This is visit 1.");
//! assert!(talk.intent("AMAZON.StopIntent").send().await?.ends_session());
//! assert_eq!(talk.launch().await?.speech(), "Welcome! This is visit 2.");
//! # Ok(()) }
//! ```
//!
//! ## Modules
//! - [`envelope`] and [`response`]: Alexa's JSON as serde types, and the response builder.
//! - [`handler`]: the handler traits, closure handlers, predicates, [`HandlerInput`].
//! - [`AttributesManager`]: request, session and persistent attributes.
//! - [`storage`]: the persistence backend chosen from the environment.
//! - [`testkit`]: scripted conversations for tests.
//! - `lambda` (feature `lambda`): run a skill as an AWS Lambda function.
//! - `http` (feature `http`): an HTTP endpoint that verifies Alexa's request signatures and
//!   timestamps (with an explicit opt-out for local development).
//!
//! ## Features
//! - `memory` (default), `dynamodb`, `s3`: the persistence backends [`storage`] can build.
//! - `lambda`, `http`: the fronts.

pub mod attributes;
pub use alexa_skill_model::{directive, envelope, request, response};
pub mod error;
pub mod handler;
#[cfg(feature = "http")]
pub mod http;
#[cfg(feature = "lambda")]
pub mod lambda;
#[cfg(feature = "progressive")]
pub mod progressive;
pub mod skill;
pub mod storage;
pub mod testkit;
pub mod turn;

pub use attributes::AttributesManager;
pub use envelope::{Request, RequestEnvelope};
pub use error::SkillError;
pub use handler::{
    BoxFuture, ExceptionHandler, HandlerInput, HandlerResult, RequestHandler, RequestInterceptor,
    ResponseInterceptor, exception_handler, get_slot, get_slot_value, is_intent_name,
    is_new_session, is_request_type, request_handler, request_interceptor, response_interceptor,
};
pub use persistence_core::{Attributes, PersistenceAdapter};
pub use response::{Response, ResponseBuilder, ResponseEnvelope};
pub use skill::{Skill, SkillBuilder, TurnTrace};
pub use turn::{HandlerError, IntoResponse, Reply, Turn, TurnResult};

/// `async_trait`, to implement the handler traits (the same version persistence-core uses).
pub use persistence_core::async_trait;

#[cfg(test)]
mod tests;
