//! The shapes of skill code: handlers, error handlers and interceptors are plain `async fn`s
//! (or closures returning futures), taking the [`Turn`] by value.
//!
//! | shape | signature | registered with |
//! |---|---|---|
//! | handler | `async fn(Turn) -> Result<R: IntoResponse, E: Into<HandlerError>>` | `on_launch`, `on_intent`, `on_request`, `fallback`, ... |
//! | before | `async fn(Turn) -> Result<(), E>` | [`SkillBuilder::before`](crate::SkillBuilder::before) |
//! | after | `async fn(Turn, Response) -> Result<Response, E>` | [`SkillBuilder::after`](crate::SkillBuilder::after) |
//! | on_error | `async fn(Turn, SkillError) -> Result<R: IntoResponse, E>` | [`SkillBuilder::on_error`](crate::SkillBuilder::on_error) |

use std::future::Future;
use std::pin::Pin;

use crate::error::SkillError;
use crate::reply::{HandlerError, IntoResponse};
use crate::response::Response;
use crate::turn::Turn;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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

/// A plain async error handler: `async fn(Turn, SkillError) -> Result<R, E>`.
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

/// A plain async response interceptor: `async fn(Turn, Response) -> Result<Response, E>`, run
/// after the handler (see [`SkillBuilder::after`](crate::SkillBuilder::after)).
pub trait TurnResponder: Send + Sync + 'static {
    /// Runs after the handler, with its response.
    fn call(
        &self,
        turn: Turn,
        response: Response,
    ) -> BoxFuture<'static, Result<Response, HandlerError>>;
}

impl<F, Fut, R, E> TurnResponder for F
where
    F: Fn(Turn, Response) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, E>> + Send + 'static,
    R: IntoResponse,
    E: Into<HandlerError>,
{
    fn call(
        &self,
        turn: Turn,
        response: Response,
    ) -> BoxFuture<'static, Result<Response, HandlerError>> {
        let fut = self(turn, response);
        Box::pin(async move {
            fut.await
                .map(IntoResponse::into_response)
                .map_err(Into::into)
        })
    }
}
