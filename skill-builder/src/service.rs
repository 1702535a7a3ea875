//! [`Skill`] as a `tower::Service`: request envelope in, response envelope out, so tower's
//! layers (timeouts, concurrency limits, tracing) wrap it and any tower-based server takes it.
//!
//! ```
//! use tower_service::Service;
//! # async fn demo(mut skill: skill_builder::Skill, request: skill_builder::RequestEnvelope) {
//! let response = skill.call(request).await;
//! # }
//! ```

use std::task::{Context, Poll};

use tower_service::Service;

use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::handler::BoxFuture;
use crate::response::ResponseEnvelope;
use crate::skill::Skill;

impl Service<RequestEnvelope> for Skill {
    type Response = ResponseEnvelope;
    type Error = SkillError;
    type Future = BoxFuture<'static, Result<ResponseEnvelope, SkillError>>;

    /// Always ready: a skill handles any number of requests at once.
    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), SkillError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: RequestEnvelope) -> Self::Future {
        let skill = self.clone();
        Box::pin(async move { skill.invoke(request).await })
    }
}

#[cfg(feature = "lambda")]
impl Service<lambda_runtime::LambdaEvent<RequestEnvelope>> for Skill {
    type Response = ResponseEnvelope;
    type Error = SkillError;
    type Future = BoxFuture<'static, Result<ResponseEnvelope, SkillError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), SkillError>> {
        Poll::Ready(Ok(()))
    }

    /// One Lambda invocation: the event is the request envelope.
    fn call(&mut self, event: lambda_runtime::LambdaEvent<RequestEnvelope>) -> Self::Future {
        let skill = self.clone();
        Box::pin(async move {
            tracing::debug!(aws_request_id = %event.context.request_id, "lambda invocation");
            skill.invoke(event.payload).await
        })
    }
}
