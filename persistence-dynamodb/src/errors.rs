//! DynamoDB client errors -> the core error type.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use persistence_core::{Error, RedactedKey, ScrubbedError};

/// Error codes DynamoDB uses for throttling; the client retries them before we see them.
const THROTTLING: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "ThrottlingException",
    "LimitExceededException",
];

/// Maps an error of any operation.
pub(crate) fn map<E>(
    operation: &'static str,
    resource: &str,
    key: &str,
    err: SdkError<E, HttpResponse>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    map_save(operation, resource, key, err, None)
}

/// Maps an error; `expectation` (for conditional writes) says what a failed condition means.
pub(crate) fn map_save<E>(
    operation: &'static str,
    resource: &str,
    key: &str,
    err: SdkError<E, HttpResponse>,
    expectation: Option<&str>,
) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let message = persistence_core::scrub::scrub(err.message().unwrap_or_default(), &[key]);
    // The client's error, with the key taken out of its text, kept as the source.
    let source = |err| ScrubbedError::new(err, &[key]);
    match code.as_deref() {
        Some("ResourceNotFoundException") => Error::NotFound {
            operation,
            resource: resource.to_owned(),
        },
        Some("ConditionalCheckFailedException") => Error::Conflict {
            operation,
            resource: resource.to_owned(),
            key: RedactedKey::new(key),
            reason: expectation.unwrap_or("a condition failed").to_owned(),
        },
        // "Item size has exceeded the maximum allowed size" (PutItem) / "Item size to update has
        // exceeded the maximum allowed size" (UpdateItem): the whole item counts, fields this
        // adapter does not own included, so the adapter's own check can pass and DynamoDB refuse.
        Some("ValidationException")
            if message.contains("Item size") && message.contains("exceeded the maximum") =>
        {
            Error::TooLarge {
                operation,
                resource: resource.to_owned(),
                key: RedactedKey::new(key),
                size: None,
                limit: super::MAX_ITEM_BYTES,
                source: Some(Box::new(source(err))),
            }
        }
        Some("ValidationException") => Error::backend(
            operation,
            resource,
            format!("DynamoDB refused the request as invalid: {message}"),
            source(err),
        ),
        Some(c) if THROTTLING.contains(&c) => Error::backend(
            operation,
            resource,
            format!("throttled by DynamoDB ({c}) and still throttled after the client's retries"),
            source(err),
        ),
        Some(c @ "AccessDeniedException") => Error::backend(
            operation,
            resource,
            format!(
                "access denied ({c}): the credentials need dynamodb:{} on this table",
                iam_action(operation)
            ),
            source(err),
        ),
        Some(
            c @ ("UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignatureException"
            | "MissingAuthenticationTokenException"
            | "ExpiredTokenException"),
        ) => Error::backend(
            operation,
            resource,
            format!(
                "DynamoDB did not accept the credentials ({c}): they are unknown, expired or \
                 for another endpoint; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, \
                 AWS_SESSION_TOKEN or AWS_PROFILE, and the region"
            ),
            source(err),
        ),
        Some(c) => Error::backend(
            operation,
            resource,
            format!("DynamoDB answered {c}"),
            source(err),
        ),
        None => {
            let what = match &err {
                SdkError::TimeoutError(_) => "timed out (the client's timeout settings)",
                SdkError::DispatchFailure(_) => "could not reach DynamoDB",
                SdkError::ResponseError(_) => "could not read DynamoDB's answer",
                SdkError::ConstructionFailure(_) => "could not build the request",
                _ => "failed",
            };
            Error::backend(operation, resource, what, source(err))
        }
    }
}

fn iam_action(operation: &str) -> &'static str {
    match operation {
        "get" => "GetItem",
        "save" => "UpdateItem",
        "delete" => "DeleteItem",
        "list" => "Scan",
        "create table" => "CreateTable",
        "describe time to live" => "DescribeTimeToLive",
        "update time to live" => "UpdateTimeToLive",
        _ => "DescribeTable",
    }
}

/// DynamoDB's name for a value's type, for error messages.
pub(crate) fn type_name(av: &AttributeValue) -> &'static str {
    match av {
        AttributeValue::S(_) => "a string (S)",
        AttributeValue::N(_) => "a number (N)",
        AttributeValue::B(_) => "binary (B)",
        AttributeValue::Bool(_) => "a boolean (BOOL)",
        AttributeValue::Null(_) => "null (NULL)",
        AttributeValue::L(_) => "a list (L)",
        AttributeValue::M(_) => "a map (M)",
        AttributeValue::Ss(_) => "a string set (SS)",
        AttributeValue::Ns(_) => "a number set (NS)",
        AttributeValue::Bs(_) => "a binary set (BS)",
        _ => "an unknown type",
    }
}
