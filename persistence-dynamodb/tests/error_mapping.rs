//! Error paths of the DynamoDB adapter, with the SDK mocked (no emulator needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use persistence_core::{Attributes, Error, PersistenceAdapter, SaveMode, Version};
use persistence_dynamodb::DynamoDbAdapter;

const USER: &str = "amzn1.ask.account.AHSECRETUSERIDTHATMUSTNOTLEAKINTOERRORS";

/// A DynamoDB error answer as the service sends it (JSON 1.0 protocol).
fn ddb_error(status: u16, code: &str) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":"mocked {code}"}}"#
        )),
    )
}

fn adapter(client: Client) -> DynamoDbAdapter {
    DynamoDbAdapter::builder(client, "skill-table").build()
}

fn assert_redacted(e: &Error) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(USER), "full user ID leaked: {text}");
    assert!(text.contains("skill-table"), "table not named: {text}");
}

#[tokio::test]
async fn missing_table_is_not_found_naming_the_table() {
    let rule =
        mock!(Client::get_item).then_http_response(|| ddb_error(400, "ResourceNotFoundException"));
    let store = adapter(mock_client!(aws_sdk_dynamodb, [&rule]));
    let e = store.get(USER).await.unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert!(
        e.to_string().contains("DynamoDB table 'skill-table'"),
        "{e}"
    );
    assert_redacted(&e);
}

#[tokio::test]
async fn failed_condition_is_a_conflict() {
    let rule = mock!(Client::update_item)
        .then_http_response(|| ddb_error(400, "ConditionalCheckFailedException"));
    let store = adapter(mock_client!(aws_sdk_dynamodb, [&rule]));
    let e = store
        .save(
            USER,
            &Attributes::new(),
            SaveMode::IfVersion(Version::new("4")),
        )
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
    assert!(e.to_string().contains("version 4"), "{e}");
    assert_redacted(&e);
}

#[tokio::test]
async fn throttling_is_retried_then_succeeds() {
    // Two throttling answers, then the item: the client's standard retry absorbs them.
    let throttled = mock!(Client::get_item)
        .sequence()
        .http_response(|| ddb_error(400, "ProvisionedThroughputExceededException"))
        .times(2)
        .output(|| {
            GetItemOutput::builder()
                .item("id", AttributeValue::S(USER.into()))
                .item(
                    "attributes",
                    AttributeValue::M([("n".to_string(), AttributeValue::N("1".into()))].into()),
                )
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&throttled], |c| {
        c.retry_config(persistence_dynamodb::client_config().0)
    });
    let got = adapter(client).get(USER).await.unwrap().unwrap();
    assert_eq!(got.attributes["n"], 1);
    assert_eq!(throttled.num_calls(), 3);
}

#[tokio::test]
async fn throttling_that_outlasts_retries_is_a_backend_error_with_source() {
    let throttled = mock!(Client::get_item)
        .sequence()
        .http_response(|| ddb_error(400, "ProvisionedThroughputExceededException"))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&throttled], |c| {
        c.retry_config(persistence_dynamodb::client_config().0)
    });
    let e = adapter(client).get(USER).await.unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(e.to_string().contains("throttled"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
    assert_eq!(throttled.num_calls(), 3, "budget: 3 attempts");
    assert_redacted(&e);
}

#[tokio::test]
async fn access_denied_says_which_permission() {
    let rule =
        mock!(Client::get_item).then_http_response(|| ddb_error(400, "AccessDeniedException"));
    let e = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
        .get(USER)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(e.to_string().contains("dynamodb:GetItem"), "{e}");
    assert_redacted(&e);
}

#[tokio::test]
async fn corrupt_items_are_typed_errors_naming_the_attribute() {
    type Case = (
        &'static str,
        Vec<(&'static str, AttributeValue)>,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "attributes not a map",
            vec![("attributes", AttributeValue::S("x".into()))],
            "should be a map",
        ),
        (
            "version not a number",
            vec![
                ("attributes", AttributeValue::M(Default::default())),
                ("attributesVersion", AttributeValue::S("v".into())),
            ],
            "attributesVersion",
        ),
        (
            "imprecise number",
            vec![(
                "attributes",
                AttributeValue::M(
                    [(
                        "score".to_string(),
                        AttributeValue::N("0.1000000000000000000001".into()),
                    )]
                    .into(),
                ),
            )],
            "attributes.score",
        ),
        (
            "binary",
            vec![(
                "attributes",
                AttributeValue::M(
                    [(
                        "b".to_string(),
                        AttributeValue::B(aws_smithy_types::Blob::new(vec![0u8])),
                    )]
                    .into(),
                ),
            )],
            "attributes.b",
        ),
    ];
    for (name, item, expected) in cases {
        let item = item.clone();
        let rule = mock!(Client::get_item).then_output(move || {
            let mut b = GetItemOutput::builder().item("id", AttributeValue::S(USER.into()));
            for (k, v) in item.clone() {
                b = b.item(k, v);
            }
            b.build()
        });
        let e = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
            .get(USER)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::CorruptData { .. }), "{name}: {e:?}");
        assert!(e.to_string().contains(expected), "{name}: {e}");
        assert_redacted(&e);
    }
}

#[tokio::test]
async fn too_large_and_out_of_range_are_refused_before_the_call() {
    // No rules: any call would fail the test with a "no rule" error instead.
    let store = adapter(mock_client!(aws_sdk_dynamodb, []));
    let mut big = Attributes::new();
    big.insert("blob".into(), "x".repeat(401 * 1024).into());
    match store.save(USER, &big, SaveMode::Overwrite).await {
        Err(Error::TooLarge { size, limit, .. }) => {
            assert!(size > limit);
            assert_eq!(limit, 400 * 1024);
        }
        other => panic!("{other:?}"),
    }
    let mut huge = Attributes::new();
    huge.insert("x".into(), serde_json::json!(1e200));
    let e = store
        .save(USER, &huge, SaveMode::Overwrite)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::UnsupportedValue { .. }), "{e:?}");
    assert!(e.to_string().contains("attributes.x"), "{e}");
}
