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

/// A HEAD answer: the object at `etag`, written with `token`, keeping `recent` (short tokens).
fn head(etag: &'static str, token: String, recent: &[String]) -> HeadObjectOutput {
    HeadObjectOutput::builder()
        .e_tag(etag)
        .metadata("write-token", token)
        .metadata("recent-tokens", recent.join(","))
        .build()
}

fn short(token: &str) -> String {
    token[..16].to_owned()
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
        let other = mock!(Client::head_object).then_output(|| head("\"ff\"", unique_token(), &[]));
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
    assert!(v1.as_str().starts_with("\"e1\";"), "{v1:?}");
    let v2 = store
        .save(USER, &Attributes::new(), SaveMode::IfVersion(v1))
        .await
        .unwrap();
    // The version carries the latest write tokens: both saves'.
    let (etag, tokens) = v2.as_str().split_once(';').unwrap();
    assert_eq!(etag, "\"e2\"");
    assert_eq!(tokens.split(',').count(), 2);
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

/// The stored object a case's HEAD shows, given the token of the save under test.
type HeadFor = Box<dyn Fn(&str) -> HeadObjectOutput + Send + Sync>;

/// A save whose first attempt's answer was lost (a 500 here) and whose retry meets a failed
/// precondition looks at the object: its own token current, or under later writes, is the save
/// that landed; a list that shows every write since the version it replaced, without its token,
/// is a conflict; a list that cannot tell is an unknown outcome, never a conflict.
#[tokio::test]
async fn a_retry_that_meets_its_own_write_is_the_save_that_landed() {
    let replaced = unique_token();
    let read_at = Version::new(format!("\"e1\";{}", short(&replaced)));
    let cases: [(&str, HeadFor); 4] = [
        (
            "current",
            Box::new(|mine: &str| head("\"e9\"", mine.to_owned(), &[short(mine)])),
        ),
        (
            "under later writes",
            Box::new(|mine: &str| {
                let other = unique_token();
                head("\"e9\"", other.clone(), &[short(mine), short(&other)])
            }),
        ),
        (
            "not there, every write since shown",
            Box::new({
                let replaced = replaced.clone();
                move |_: &str| {
                    let other = unique_token();
                    head("\"e9\"", other.clone(), &[short(&replaced), short(&other)])
                }
            }),
        ),
        (
            "not there, the list cannot tell",
            Box::new(|_: &str| {
                let other = unique_token();
                head("\"e9\"", other.clone(), &[short(&other)])
            }),
        ),
    ];
    for (case, make_head) in cases {
        let token = unique_token();
        let put = mock!(Client::put_object)
            .sequence()
            .http_response(|| s3_error(500, "InternalError"))
            .http_response(|| s3_error(412, "PreconditionFailed"))
            .build();
        let answer = make_head(&token);
        let found = mock!(Client::head_object).then_output(move || answer.clone());
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&put, &found], |c| {
            c.retry_config(persistence_s3::client_config().0)
        });
        let store = adapter(client);
        let opts = SaveOptions::new(SaveMode::IfVersion(read_at.clone())).token(token.clone());
        let r = store.save_with(USER, &Attributes::new(), &opts).await;
        match case {
            "current" => assert!(
                r.as_ref().is_ok_and(|v| v.as_str().starts_with("\"e9\";")),
                "{case}: {r:?}"
            ),
            "under later writes" => assert!(r.is_ok(), "{case}: {r:?}"),
            "not there, every write since shown" => {
                assert!(r.as_ref().is_err_and(Error::is_conflict), "{case}: {r:?}")
            }
            _ => assert!(
                matches!(r, Err(Error::OutcomeUnknown { .. })),
                "{case}: {r:?}"
            ),
        }
        assert_eq!(put.num_calls(), 2, "{case}");
        assert_eq!(found.num_calls(), 1, "{case}");
    }
}

/// A precondition that fails on the first attempt is a conflict at once (nothing to look up),
/// unless the caller gave its own token: then it may be repeating a save whose answer it lost,
/// and the object is looked at (see the test above).
#[tokio::test]
async fn a_failed_precondition_without_a_lost_answer_is_a_conflict_without_a_lookup() {
    let put = mock!(Client::put_object).then_http_response(|| s3_error(412, "PreconditionFailed"));
    let store = adapter(mock_client!(aws_sdk_s3, [&put]));
    let opts = SaveOptions::new(SaveMode::IfVersion(Version::new("\"e1\"")));
    let e = store
        .save_with(USER, &Attributes::new(), &opts)
        .await
        .unwrap_err();
    assert!(e.is_conflict(), "{e:?}");
}

#[tokio::test]
async fn a_malformed_version_is_invalid_and_sends_nothing() {
    let store = adapter(mock_client!(aws_sdk_s3, []));
    for v in ["", "e1", "\"\"", "\"not hex\"", "7", "\"e1\";xyz"] {
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
    let newer = mock!(Client::head_object).then_output(|| head("\"e2\"", unique_token(), &[]));
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
    let current = mock!(Client::head_object).then_output(|| head("\"e1\"", unique_token(), &[]));
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
