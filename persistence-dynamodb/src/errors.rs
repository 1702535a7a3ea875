//! DynamoDB client errors -> the core error type.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use persistence_core::{Error, RedactedKey};

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
    let message = err.message().unwrap_or_default().to_owned();
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
        Some("ValidationException") if message.contains("size") => Error::TooLarge {
            operation,
            resource: resource.to_owned(),
            key: RedactedKey::new(key),
            // DynamoDB counts the whole item, attributes this adapter does not own included.
            size: super::MAX_ITEM_BYTES + 1,
            limit: super::MAX_ITEM_BYTES,
        },
        Some(c) if THROTTLING.contains(&c) => Error::backend(
            operation,
            resource,
            format!("throttled by DynamoDB ({c}) and still throttled after the client's retries"),
            err,
        ),
        Some(c @ ("AccessDeniedException" | "UnrecognizedClientException")) => Error::backend(
            operation,
            resource,
            format!(
                "access denied ({c}): the credentials need dynamodb:{} on this table",
                iam_action(operation)
            ),
            err,
        ),
        Some(c) => Error::backend(operation, resource, format!("DynamoDB answered {c}"), err),
        None => {
            let what = match &err {
                SdkError::TimeoutError(_) => "timed out (the client's timeout settings)",
                SdkError::DispatchFailure(_) => "could not reach DynamoDB",
                SdkError::ResponseError(_) => "could not read DynamoDB's answer",
                SdkError::ConstructionFailure(_) => "could not build the request",
                _ => "failed",
            };
            Error::backend(operation, resource, what, err)
        }
    }
}

fn iam_action(operation: &str) -> &'static str {
    match operation {
        "get" => "GetItem",
        "save" => "UpdateItem",
        "delete" => "DeleteItem",
        "create table" => "CreateTable",
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
