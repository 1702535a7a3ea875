//! Error paths of the S3 adapter, with the SDK mocked (no emulator needed).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use aws_sdk_s3::Client;
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use persistence_core::{
    Attributes, Error, PersistenceAdapter, SaveMode, SaveOptions, Version, unique_token,
};
use persistence_s3::S3Adapter;

const USER: &str = "amzn1.ask.account.AHSECRETUSERIDTHATMUSTNOTLEAKINTOERRORS";

/// An S3 error answer as the service sends it (REST-XML).
fn s3_error(status: u16, code: &str) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>mocked</Message></Error>"
        )),
    )
}

fn s3_error_with(status: u16, code: &str, message: &str) -> aws_smithy_runtime_api::http::Response {
    aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
        aws_smithy_types::body::SdkBody::from(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        )),
    )
}

/// A HEAD answer: the object at `etag`, written with `token`.
fn head(etag: &'static str, token: String) -> HeadObjectOutput {
    HeadObjectOutput::builder()
        .e_tag(etag)
        .metadata("write-token", token)
        .build()
}

fn chain_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!(" | {s} {s:?}"));
        source = s.source();
    }
    text
}

fn adapter(client: Client) -> S3Adapter {
    S3Adapter::builder(client, "skill-bucket")
        .path_prefix("skills")
        .build()
}

fn assert_redacted(e: &Error) {
    let text = format!("{e} {e:?}");
    assert!(!text.contains(USER), "full user ID leaked: {text}");
    assert!(text.contains("skill-bucket"), "bucket not named: {text}");
}

#[tokio::test]
async fn missing_key_reads_as_absent_and_missing_bucket_is_not_found() {
    let no_key = mock!(Client::get_object).then_http_response(|| s3_error(404, "NoSuchKey"));
    let got = adapter(mock_client!(aws_sdk_s3, [&no_key]))
        .get(USER)
        .await
        .unwrap();
    assert!(got.is_none());

    let no_bucket = mock!(Client::get_object).then_http_response(|| s3_error(404, "NoSuchBucket"));
    let e = adapter(mock_client!(aws_sdk_s3, [&no_bucket]))
        .get(USER)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::NotFound { .. }), "{e:?}");
    assert_redacted(&e);
}

#[tokio::test]
async fn precondition_failures_are_conflicts() {
    for (status, code) in [
        (412, "PreconditionFailed"),
        (404, "NoSuchKey"),
        (409, "ConditionalRequestConflict"),
    ] {
        let rule = mock!(Client::put_object).then_http_response(move || s3_error(status, code));
        // What is stored now was written by someone else.
        let other = mock!(Client::head_object).then_output(|| head("\"ff\"", unique_token()));
        let e = adapter(mock_client!(
            aws_sdk_s3,
            RuleMode::MatchAny,
            [&rule, &other]
        ))
        .save(
            USER,
            &Attributes::new(),
            SaveMode::IfVersion(Version::new("\"abc\"")),
        )
        .await
        .unwrap_err();
        assert!(e.is_conflict(), "{status} {code}: {e:?}");
        assert_redacted(&e);
    }
}

#[tokio::test]
async fn conditional_headers_are_sent() {
    let create = mock!(Client::put_object)
        .match_requests(|r| {
            let token = r.metadata().and_then(|m| m.get("write-token"));
            let body = r.body().bytes().unwrap_or_default();
            let tail = &body[body.len().saturating_sub(32)..];
            r.if_none_match() == Some("*")
                && r.if_match().is_none()
                && token.is_some_and(|t| persistence_core::is_unique_token(t))
                && body.starts_with(b"{}")
                && tail.len() == 32
                && tail.iter().all(|b| b" \t\r\n".contains(b))
        })
        .then_output(|| {
            aws_sdk_s3::operation::put_object::PutObjectOutput::builder()
                .e_tag("\"e1\"")
                .build()
        });
    let versioned = mock!(Client::put_object)
        .match_requests(|r| {
            r.if_match() == Some("\"e1\"") && r.content_type() == Some("application/json")
        })
        .then_output(|| {
            aws_sdk_s3::operation::put_object::PutObjectOutput::builder()
                .e_tag("\"e2\"")
                .build()
        });
    let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&create, &versioned]);
    let store = adapter(client);
    let v1 = store
        .save(USER, &Attributes::new(), SaveMode::CreateOnly)
        .await
        .unwrap();
    assert_eq!(v1, Version::new("\"e1\""));
    let v2 = store
        .save(USER, &Attributes::new(), SaveMode::IfVersion(v1))
        .await
        .unwrap();
    assert_eq!(v2, Version::new("\"e2\""));
    assert_eq!(create.num_calls(), 1);
    assert_eq!(versioned.num_calls(), 1);
}

#[tokio::test]
async fn access_denied_explains_list_bucket() {
    let rule = mock!(Client::get_object).then_http_response(|| s3_error(403, "AccessDenied"));
    let e = adapter(mock_client!(aws_sdk_s3, [&rule]))
        .get(USER)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("s3:GetObject") && text.contains("s3:ListBucket"),
        "{text}"
    );
    assert_redacted(&e);
}

#[tokio::test]
async fn throttling_is_retried_then_surfaces_with_source() {
    let rule = mock!(Client::get_object)
        .sequence()
        .http_response(|| s3_error(503, "SlowDown"))
        .repeatedly()
        .build();
    let client = mock_client!(aws_sdk_s3, RuleMode::Sequential, [&rule], |c| {
        c.retry_config(persistence_s3::client_config().0)
    });
    let e = adapter(client).get(USER).await.unwrap_err();
    assert!(e.to_string().contains("throttled"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
    assert_eq!(rule.num_calls(), 3);
}

#[tokio::test]
async fn corrupt_bodies_are_typed_errors_naming_bucket() {
    for body in [&b"{\"a\": NaN}"[..], b"[1,2]", b"\xff\xfe{}", b"not json"] {
        let body = body.to_vec();
        let rule = mock!(Client::get_object).then_output(move || {
            GetObjectOutput::builder()
                .e_tag("\"e\"")
                .body(ByteStream::from(body.clone()))
                .build()
        });
        let e = adapter(mock_client!(aws_sdk_s3, [&rule]))
            .get(USER)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::CorruptData { .. }), "{e:?}");
        assert_redacted(&e);
    }
}

#[tokio::test]
async fn a_failed_precondition_that_finds_its_own_token_is_the_save_that_landed() {
    let token = unique_token();
    let put = mock!(Client::put_object).then_http_response(|| s3_error(412, "PreconditionFailed"));
    let mine = token.clone();
    let ours = mock!(Client::head_object).then_output(move || head("\"e9\"", mine.clone()));
    let store = adapter(mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&put, &ours]));
    let opts = SaveOptions::new(SaveMode::IfVersion(Version::new("\"e1\""))).token(token);
    let v = store
        .save_with(USER, &Attributes::new(), &opts)
        .await
        .unwrap();
    assert_eq!(v, Version::new("\"e9\""));
    assert_eq!(ours.num_calls(), 1);
}

#[tokio::test]
async fn a_malformed_version_is_invalid_and_sends_nothing() {
    let store = adapter(mock_client!(aws_sdk_s3, []));
    for v in ["", "e1", "\"\"", "\"not hex\"", "7"] {
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
async fn conditional_deletes_send_if_match_and_a_newer_object_is_a_conflict() {
    let delete = mock!(Client::delete_object)
        .match_requests(|r| r.if_match() == Some("\"e1\""))
        .then_http_response(|| s3_error(412, "PreconditionFailed"));
    let newer = mock!(Client::head_object).then_output(|| head("\"e2\"", unique_token()));
    let store = adapter(mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&delete, &newer]
    ));
    let e = store
        .delete_if(USER, &Version::new("\"e1\""))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
    assert_eq!(delete.num_calls(), 1);

    let ok = mock!(Client::delete_object)
        .match_requests(|r| r.if_match() == Some("\"e1\""))
        .then_output(|| {
            aws_sdk_s3::operation::delete_object::DeleteObjectOutput::builder().build()
        });
    let store = adapter(mock_client!(aws_sdk_s3, [&ok]));
    store
        .delete_if(USER, &Version::new("\"e1\""))
        .await
        .unwrap();
}

#[tokio::test]
async fn without_conditional_deletes_the_adapter_checks_then_deletes() {
    // LocalStack answers 501 to If-Match on DeleteObject.
    let unsupported = mock!(Client::delete_object)
        .match_requests(|r| r.if_match().is_some())
        .then_http_response(|| s3_error(501, "NotImplemented"));
    let plain = mock!(Client::delete_object)
        .match_requests(|r| r.if_match().is_none())
        .then_output(|| {
            aws_sdk_s3::operation::delete_object::DeleteObjectOutput::builder().build()
        });
    let current = mock!(Client::head_object).then_output(|| head("\"e1\"", unique_token()));
    let store = adapter(mock_client!(
        aws_sdk_s3,
        RuleMode::MatchAny,
        [&unsupported, &plain, &current]
    ));
    store
        .delete_if(USER, &Version::new("\"e1\""))
        .await
        .unwrap();
    assert_eq!(plain.num_calls(), 1);
    let e = store
        .delete_if(USER, &Version::new("\"e0\""))
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
    assert_eq!(plain.num_calls(), 1, "a stale version deletes nothing");
    assert_eq!(unsupported.num_calls(), 1, "the endpoint is asked once");
}

#[tokio::test]
async fn the_object_arn_in_access_denied_does_not_reach_the_source_chain() {
    let rule = mock!(Client::get_object).then_http_response(|| {
        s3_error_with(
            403,
            "AccessDenied",
            &format!("User: arn:aws:sts::123:assumed-role/skill is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::skill-bucket/skills/{USER}\""),
        )
    });
    let e = adapter(mock_client!(aws_sdk_s3, [&rule]))
        .get(USER)
        .await
        .unwrap_err();
    let text = chain_text(&e);
    assert!(!text.contains(USER), "{text}");
    assert!(text.contains("not authorized"), "{text}");
}
