//! A focused Alexa skill SDK for Rust: handlers are plain `async fn`s, persistent and session
//! state are your own serde types, and persistent attributes live in any
//! [`PersistenceAdapter`] (DynamoDB, S3, SQLite, memory, or yours) without lost updates.
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
//! # fn main() -> Result<(), skill_builder::BuildError> {
//! let skill = SkillBuilder::new()
//!     .with_skill_id("amzn1.ask.skill.00000000-0000-0000-0000-000000000000")
//!     .with_persistence_adapter(std::sync::Arc::new(MemoryAdapter::new()))
//!     .on_launch(launch)
//!     .on_intents(["AMAZON.StopIntent", "AMAZON.CancelIntent"], stop)
//!     .build()?;
//! # let _ = skill; Ok(()) }
//! ```
//!
//! A [`Skill`] is a `tower::Service` of request envelopes (and, with feature `lambda`, of Lambda
//! events: `lambda_runtime::run(skill)`), so tower layers wrap it. The `skill-testkit` crate
//! drives a skill through whole conversations in tests.
//!
//! ## Modules
//! - [`turn`]: [`Turn`], typed state, guards; [`reply`]: [`Reply`], [`HandlerError`].
//! - [`routes`]: the route table; [`handler`]: the shapes of handlers and interceptors.
//! - [`envelope`], [`request`], [`response`], [`directive`]: Alexa's JSON as serde types (the
//!   `alexa-skill-model` crate).
//! - [`keys`]: key generators; [`carry`]: one read per session; [`storage`]: the backend chosen
//!   from the environment; [`logging`]: a tracing subscriber that follows Lambda's settings.
//! - `lambda` (feature `lambda`), `http` (feature `http`): the fronts; `progressive` (feature
//!   `progressive`): progressive responses.
//!
//! ## Features
//! - `memory` (default), `dynamodb`, `s3`, `sqlite`: the persistence backends [`storage`] can
//!   build, and their adapters re-exported.
//! - `lambda`, `http`: the fronts; `progressive`: progressive responses.

pub use alexa_skill_model::{Timestamp, directive, envelope, request, response};

pub mod carry;
pub mod error;
pub mod handler;
#[cfg(feature = "http")]
pub mod http;
pub mod keys;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod logging;
#[cfg(feature = "progressive")]
pub mod progressive;
pub mod reply;
pub mod routes;
mod service;
pub mod skill;
pub mod storage;
pub mod turn;
mod write;

pub use envelope::{Request, RequestEnvelope};
pub use error::{BuildError, SkillError};
pub use handler::{BoxFuture, TurnErrorHandler, TurnHandler, TurnInterceptor, TurnResponder};
pub use keys::{DeviceIdKey, KeyGenerator, PersonIdKey, UserIdKey};
pub use persistence_core::{
    Attributes, Error as PersistenceError, Expiry, PersistenceAdapter, PersistenceAdapterExt,
    RetryPolicy, SaveMode, SaveOptions, Stored, Version,
};
pub use reply::{HandlerError, IntoResponse, Reply, TurnResult};
pub use response::{Response, ResponseBuilder, ResponseEnvelope};
pub use routes::Route;
pub use skill::{Skill, SkillBuilder, TurnTrace};
pub use turn::{AttributesMut, StateMut, Turn};

#[cfg(feature = "cache")]
pub use persistence_cache::CachingAdapter;
#[cfg(feature = "dynamodb")]
pub use persistence_dynamodb::DynamoDbAdapter;
#[cfg(feature = "memory")]
pub use persistence_memory::MemoryAdapter;
#[cfg(feature = "s3")]
pub use persistence_s3::S3Adapter;
#[cfg(feature = "sqlite")]
pub use persistence_sqlite::SqliteAdapter;

/// What a skill usually imports: `use skill_builder::prelude::*;`.
pub mod prelude {
    pub use crate::directive::Directive;
    pub use crate::envelope::{Request, RequestEnvelope};
    pub use crate::response::Response;
    pub use crate::{
        Attributes, BuildError, DeviceIdKey, HandlerError, IntoResponse, PersistenceAdapter,
        PersonIdKey, Reply, SaveMode, Skill, SkillBuilder, SkillError, Turn, TurnResult, UserIdKey,
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
