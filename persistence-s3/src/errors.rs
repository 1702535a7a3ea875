//! S3 client errors -> the core error type.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use persistence_core::{Error, RedactedKey, ScrubbedError};

/// A mapped S3 error: "no such key" is not an error for every operation, so it is kept apart.
pub(crate) enum Mapped {
    /// The object does not exist (404 / NoSuchKey).
    Missing,
    /// Anything else.
    Error(Error),
}

impl Mapped {
    /// The error, with `missing` standing for "no such key".
    pub(crate) fn into_error(self, missing: impl FnOnce() -> Error) -> Error {
        match self {
            Mapped::Missing => missing(),
            Mapped::Error(e) => e,
        }
    }
}

/// True for a failed precondition of a conditional request (412, or 409 when another
/// conditional write to the object was in flight, or 404 to `If-Match` on a vanished object).
pub(crate) fn is_precondition_failure<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    if err.code() == Some("NoSuchBucket") {
        return false;
    }
    let status = err.raw_response().map(|r| r.status().as_u16());
    matches!(
        err.code(),
        Some("PreconditionFailed" | "ConditionalRequestConflict" | "NoSuchKey")
    ) || matches!(status, Some(412 | 409 | 404))
}

/// True when the endpoint does not implement the request (LocalStack and conditional deletes).
pub(crate) fn is_not_implemented<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    err.code() == Some("NotImplemented")
        || err
            .raw_response()
            .is_some_and(|r| r.status().as_u16() == 501)
}

/// Maps an S3 error; `expectation` (for conditional writes) says what a failed precondition
/// means.
pub(crate) fn map<E>(
    operation: &'static str,
    resource: &str,
    key: &str,
    object_key: &str,
    err: SdkError<E, HttpResponse>,
    expectation: Option<&str>,
) -> Mapped
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = err.raw_response().map(|r| r.status().as_u16());
    let code = err.code().map(str::to_owned);
    // Service messages can quote the object (S3's AccessDenied names its ARN, which holds the
    // user ID): the source kept is scrubbed of the key and the object key.
    let what = match &err {
        SdkError::TimeoutError(_) => "timed out (the client's timeout settings)",
        SdkError::DispatchFailure(_) => "could not reach S3",
        SdkError::ResponseError(_) => "could not read S3's answer",
        SdkError::ConstructionFailure(_) => "could not build the request",
        _ => "failed",
    };
    let err = ScrubbedError::new(err, &[object_key, key]);
    let conflict = |reason: &str| {
        Mapped::Error(Error::Conflict {
            operation,
            resource: resource.to_owned(),
            key: RedactedKey::new(key),
            reason: reason.to_owned(),
        })
    };
    match (code.as_deref(), status) {
        (Some("NoSuchBucket"), _) => Mapped::Error(Error::NotFound {
            operation,
            resource: resource.to_owned(),
        }),
        (Some("NoSuchKey" | "NotFound"), _) | (None, Some(404)) => Mapped::Missing,
        (Some("PreconditionFailed"), _) | (_, Some(412)) => {
            conflict(expectation.unwrap_or("a precondition failed"))
        }
        // S3 answers 409 when another conditional write to the key is in flight.
        (Some("ConditionalRequestConflict"), _) | (_, Some(409)) if expectation.is_some() => {
            conflict("another conditional write to the object was in flight")
        }
        (Some("AccessDenied"), _) | (None, Some(403)) => Mapped::Error(Error::backend(
            operation,
            resource,
            format!(
                "access denied: the credentials need s3:{} on the objects{}",
                iam_action(operation),
                if operation == "get" {
                    " (and without s3:ListBucket on the bucket, S3 says \"access denied\" for \
                     a key that does not exist yet)"
                } else {
                    ""
                }
            ),
            err,
        )),
        (Some(c @ ("SlowDown" | "Throttling" | "RequestLimitExceeded")), _) => {
            Mapped::Error(Error::backend(
                operation,
                resource,
                format!("throttled by S3 ({c}) and still throttled after the client's retries"),
                err,
            ))
        }
        (Some(c), _) => Mapped::Error(Error::backend(
            operation,
            resource,
            format!("S3 answered {c}"),
            err,
        )),
        (None, Some(s)) => Mapped::Error(Error::backend(
            operation,
            resource,
            format!("S3 answered HTTP {s}"),
            err,
        )),
        (None, None) => Mapped::Error(Error::backend(operation, resource, what, err)),
    }
}

fn iam_action(operation: &str) -> &'static str {
    match operation {
        "get" => "GetObject",
        "save" => "PutObject",
        "list" => "ListBucket",
        _ => "DeleteObject",
    }
}
