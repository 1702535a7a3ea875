//! Error paths of the DynamoDB adapter, with the SDK mocked (no emulator needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use persistence_core::{
    Attributes, Error, PersistenceAdapter, SaveMode, SaveOptions, Version, unique_token,
};
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

/// An error answer with a message of our choosing and extra JSON fields.
fn ddb_error_with(
    status: u16,
    code: &str,
    message: &str,
    extra: &str,
) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(format!(
            r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{code}","message":{}{extra}}}"#,
            serde_json::to_string(message).unwrap()
        )),
    )
}

/// Every text of an error and its whole source chain.
fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    text
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
            "number text that is not a number",
            vec![(
                "attributes",
                AttributeValue::M([("score".to_string(), AttributeValue::N("NaN".into()))].into()),
            )],
            "attributes.score",
        ),
        (
            "a number set with a number that is not one",
            vec![(
                "attributes",
                AttributeValue::M(
                    [(
                        "ns".to_string(),
                        AttributeValue::Ns(vec!["1".into(), "one".into()]),
                    )]
                    .into(),
                ),
            )],
            "attributes.ns[1]",
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
        Err(Error::TooLarge {
            size: Some(size),
            limit,
            source: None,
            ..
        }) => {
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

#[tokio::test]
async fn numbers_no_float_holds_load_exactly() {
    let rule = mock!(Client::get_item).then_output(|| {
        GetItemOutput::builder()
            .item("id", AttributeValue::S(USER.into()))
            .item(
                "attributes",
                AttributeValue::M(
                    [
                        (
                            "third".to_string(),
                            AttributeValue::N("0.6666666666666666666666666667".into()),
                        ),
                        (
                            "big".to_string(),
                            AttributeValue::N("1180591620717411303424".into()),
                        ),
                    ]
                    .into(),
                ),
            )
            .build()
    });
    let got = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
        .get(USER)
        .await
        .unwrap()
        .unwrap();
    // The JSON view is the nearest f64; the exact text is kept and written back.
    assert_eq!(got.attributes["third"], serde_json::json!(2.0 / 3.0));
    assert_eq!(
        got.attributes.exact("third").unwrap().to_json_text(),
        "0.6666666666666666666666666667"
    );
    assert_eq!(
        got.attributes.exact("big").unwrap().to_json_text(),
        "1180591620717411303424"
    );
    let value = persistence_dynamodb::attributes_to_dynamodb(&got.attributes).unwrap();
    let AttributeValue::M(m) = value else {
        panic!()
    };
    assert_eq!(
        m["third"],
        AttributeValue::N("0.6666666666666666666666666667".into())
    );
    assert_eq!(m["big"], AttributeValue::N("1180591620717411303424".into()));
}

#[tokio::test]
async fn dynamodb_refusing_a_large_item_is_too_large_with_its_source_and_no_invented_size() {
    let rule = mock!(Client::update_item).then_http_response(|| {
        ddb_error_with(
            400,
            "ValidationException",
            "Item size to update has exceeded the maximum allowed size",
            "",
        )
    });
    let e = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
        .save(USER, &Attributes::new(), SaveMode::Overwrite)
        .await
        .unwrap_err();
    match &e {
        Error::TooLarge { size, source, .. } => {
            assert_eq!(*size, None, "the size is unknown, not invented");
            assert!(source.is_some());
        }
        other => panic!("{other:?}"),
    }
    assert!(
        chain_text(&e).contains("maximum allowed size"),
        "{}",
        chain_text(&e)
    );
    assert_redacted(&e);
}

#[tokio::test]
async fn other_validation_errors_are_not_too_large() {
    let rule = mock!(Client::update_item).then_http_response(|| {
        ddb_error_with(
            400,
            "ValidationException",
            "One or more parameter values were invalid: the size of a key is wrong",
            "",
        )
    });
    let e = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
        .save(USER, &Attributes::new(), SaveMode::Overwrite)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(e.to_string().contains("invalid"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
}

#[tokio::test]
async fn bad_credentials_are_not_reported_as_a_missing_permission() {
    let rule = mock!(Client::get_item)
        .then_http_response(|| ddb_error(400, "UnrecognizedClientException"));
    let e = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
        .get(USER)
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(text.contains("credentials"), "{text}");
    assert!(!text.contains("dynamodb:GetItem"), "{text}");
    assert!(std::error::Error::source(&e).is_some());
}

#[tokio::test]
async fn a_malformed_version_is_invalid_not_a_conflict_and_sends_nothing() {
    let store = adapter(mock_client!(aws_sdk_dynamodb, []));
    for v in ["", "v7", "sdk-xyz", "-1", "1.5", &"9".repeat(30)] {
        let e = store
            .save(
                USER,
                &Attributes::new(),
                SaveMode::IfVersion(Version::new(v)),
            )
            .await
            .unwrap_err();
        assert!(matches!(e, Error::InvalidVersion { .. }), "{v}: {e:?}");
        let e = store.delete_if(USER, &Version::new(v)).await.unwrap_err();
        assert!(matches!(e, Error::InvalidVersion { .. }), "{v}: {e:?}");
    }
}

#[tokio::test]
async fn a_failed_condition_that_finds_its_own_token_is_the_save_that_landed() {
    let token = unique_token();
    let mine = token[..16].to_owned();
    let rule = mock!(Client::update_item).then_http_response(move || {
        ddb_error_with(
            400,
            "ConditionalCheckFailedException",
            "The conditional request failed",
            // Its own write, with two others on top of it since.
            &format!(
                r#","Item":{{"id":{{"S":"{USER}"}},"attributesVersion":{{"S":"{}.6"}},"attributesTokens":{{"L":[{{"S":"{}"}},{{"S":"{mine}"}},{{"S":"{}"}}]}}}}"#,
                unique_token(),
                unique_token(),
                unique_token()
            ),
        )
    });
    let store = adapter(mock_client!(aws_sdk_dynamodb, [&rule]));
    let read_at = format!("{}.3", unique_token());
    let opts = SaveOptions::new(SaveMode::IfVersion(Version::new(read_at))).token(token.clone());
    let v = store
        .save_with(USER, &Attributes::new(), &opts)
        .await
        .unwrap();
    assert_eq!(v.as_str(), format!("{token}.4"));

    // Another writer's token: a real conflict.
    let other = unique_token();
    let rule = mock!(Client::update_item).then_http_response(move || {
        ddb_error_with(
            400,
            "ConditionalCheckFailedException",
            "The conditional request failed",
            &format!(
                r#","Item":{{"id":{{"S":"{USER}"}},"attributesVersion":{{"S":"{other}.4"}},"attributesTokens":{{"L":[{{"S":"{other}"}}]}}}}"#
            ),
        )
    });
    let store = adapter(mock_client!(aws_sdk_dynamodb, [&rule]));
    let e = store
        .save_with(USER, &Attributes::new(), &opts)
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
}

#[tokio::test]
async fn saves_ask_for_nothing_back_and_write_a_token() {
    let rule = mock!(Client::update_item)
        .match_requests(|r| {
            r.return_values() == Some(&aws_sdk_dynamodb::types::ReturnValue::None)
                && matches!(
                    r.expression_attribute_values().and_then(|v| v.get(":token")),
                    Some(AttributeValue::S(t)) if t.len() == 16
                )
                && matches!(
                    r.expression_attribute_values().and_then(|v| v.get(":tokens")),
                    Some(AttributeValue::L(l)) if l.len() == 1
                )
        })
        .then_output(|| {
            aws_sdk_dynamodb::operation::update_item::UpdateItemOutput::builder().build()
        });
    let store = adapter(mock_client!(aws_sdk_dynamodb, [&rule]));
    let v = store
        .save(USER, &Attributes::new(), SaveMode::Overwrite)
        .await
        .unwrap();
    let (token, number) = v.as_str().split_once('.').unwrap();
    assert!(persistence_core::is_unique_token(token), "{v:?}");
    assert_eq!(number, "0");
    assert_eq!(rule.num_calls(), 1);
}

#[tokio::test]
async fn ids_in_service_messages_do_not_reach_the_source_chain() {
    let rule = mock!(Client::get_item).then_http_response(|| {
        ddb_error_with(
            400,
            "AccessDeniedException",
            &format!("User: arn:aws:sts::1:assumed-role/r is not authorized to perform: dynamodb:GetItem on key {USER}"),
            "",
        )
    });
    let e = adapter(mock_client!(aws_sdk_dynamodb, [&rule]))
        .get(USER)
        .await
        .unwrap_err();
    let text = chain_text(&e);
    assert!(!text.contains(USER), "{text}");
    assert!(text.contains("not authorized"), "{text}");
}
