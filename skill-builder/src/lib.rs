//! A focused Alexa skill SDK for Rust: handlers are plain `async fn`s, persistent and session
//! state are your own serde types, and persistent attributes live in any
//! [`PersistenceAdapter`] (DynamoDB, S3, SQLite, memory, or yours) with optimistic concurrency:
//! a save never silently overwrites another device's change.
//!
//! One crate to depend on: the request and response model ([`envelope`], [`request`],
//! [`response`], [`directive`]), key generators, save modes and errors from persistence-core, and
//! the adapters behind features are re-exported here ([`prelude`] has the usual imports).
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use skill_builder::prelude::*;
//!
//! #[derive(Default, Serialize, Deserialize)]
//! struct Visits {
//!     count: u32,
//! }
//!
//! async fn launch(turn: Turn) -> TurnResult {
//!     let mut visits = turn.state::<Visits>().await?;
//!     visits.count += 1;
//!     Ok(turn.speak(format!("Welcome! This is visit {}.", visits.count)).reprompt("What now?"))
//! }
//!
//! async fn stop(turn: Turn) -> TurnResult {
//!     Ok(turn.speak("Goodbye!").end_session())
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillBuilder::new()
//!     .with_persistence_adapter(std::sync::Arc::new(MemoryAdapter::new()))
//!     .on_launch(launch)
//!     .on_intents(["AMAZON.StopIntent", "AMAZON.CancelIntent"], stop)
//!     .build();
//!
//! let mut talk = Conversation::new(&skill).user("amzn1.ask.account.TEST");
//! assert_eq!(talk.launch().await?.speech(), "Welcome! This is visit 1.");
//! assert!(talk.intent("AMAZON.StopIntent").send().await?.ends_session());
//! assert_eq!(talk.launch().await?.speech(), "Welcome! This is visit 2.");
//! # Ok(()) }
//! ```
//!
//! The ASK-style API (handler traits with `can_handle`, closures returning boxed futures,
//! [`AttributesManager`] with string keys) is still there, and both mix in one skill.
//!
//! ## Modules
//! - [`turn`]: [`Turn`], typed state, [`Reply`], [`HandlerError`] — the plain async handler API.
//! - [`envelope`], [`request`], [`response`], [`directive`]: Alexa's JSON as serde types (the
//!   `alexa-skill-model` crate).
//! - [`handler`]: the ASK-style handler traits, closure handlers, predicates, [`HandlerInput`].
//! - [`AttributesManager`]: request, session and persistent attributes.
//! - [`storage`]: the persistence backend chosen from the environment.
//! - [`testkit`]: scripted conversations for tests.
//! - `lambda` (feature `lambda`): run a skill as an AWS Lambda function.
//! - `http` (feature `http`): an HTTP endpoint that verifies Alexa's request signatures and
//!   timestamps (with an explicit opt-out for local development).
//! - `progressive` (feature `progressive`): progressive responses.
//!
//! ## Features
//! - `memory` (default), `dynamodb`, `s3`, `sqlite`: the persistence backends [`storage`] can
//!   build, and their adapters re-exported ([`MemoryAdapter`], `DynamoDbAdapter`, `S3Adapter`,
//!   `SqliteAdapter`).
//! - `lambda`, `http`: the fronts; `progressive`: progressive responses.

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
    BoxFuture, ExceptionHandler, Extensions, HandlerInput, HandlerResult, RequestHandler,
    RequestInterceptor, ResponseInterceptor, exception_handler, get_slot, get_slot_value,
    is_intent_name, is_new_session, is_request_type, request_handler, request_interceptor,
    response_interceptor,
};
pub use persistence_core::{
    Attributes, DeviceIdKey, Error as PersistenceError, Expiry, KeyGenerator, PersistenceAdapter,
    PersistenceAdapterExt, PersonIdKey, RetryPolicy, SaveMode, SaveOptions, Stored, UserIdKey,
    Version,
};

#[cfg(feature = "dynamodb")]
pub use persistence_dynamodb::DynamoDbAdapter;
#[cfg(feature = "memory")]
pub use persistence_memory::MemoryAdapter;
#[cfg(feature = "s3")]
pub use persistence_s3::S3Adapter;
#[cfg(feature = "sqlite")]
pub use persistence_sqlite::SqliteAdapter;
pub use response::{Response, ResponseBuilder, ResponseEnvelope};
pub use skill::{Skill, SkillBuilder, TurnTrace};
pub use turn::{HandlerError, IntoResponse, Reply, Turn, TurnResult};

/// `async_trait`, to implement the handler traits (the same version persistence-core uses).
pub use persistence_core::async_trait;

/// What a skill usually imports: `use skill_builder::prelude::*;`.
pub mod prelude {
    pub use crate::directive::Directive;
    pub use crate::envelope::{Request, RequestEnvelope};
    pub use crate::response::Response;
    pub use crate::testkit::Conversation;
    pub use crate::{
        Attributes, DeviceIdKey, HandlerError, IntoResponse, PersistenceAdapter, PersonIdKey,
        Reply, SaveMode, Skill, SkillBuilder, SkillError, Turn, TurnResult, UserIdKey,
    };

    #[cfg(feature = "dynamodb")]
    pub use crate::DynamoDbAdapter;
    #[cfg(feature = "memory")]
    pub use crate::MemoryAdapter;
    #[cfg(feature = "s3")]
    pub use crate::S3Adapter;
    #[cfg(feature = "sqlite")]
    pub use crate::SqliteAdapter;
}

#[cfg(test)]
mod tests;
