//! The timestamp rule's two tolerances: skill events (`AlexaSkillEvent.*`), which Alexa
//! delivers late, get an hour as in Amazon's Python SDK; every other request 150 s. And a stale
//! request is refused before anything is downloaded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use alexa_request_verifier::VerifyError;
use alexa_request_verifier_testkit::{
    CHAIN_URL, headers, now, request_body, request_body_of_type, sign, signing_key,
};

mod common;
use common::Setup;

/// Skill events (`AlexaSkillEvent.*`) are delivered late: they get an hour, as in Amazon's
/// Python SDK; everything else keeps 150 s.
#[tokio::test]
async fn a_skill_event_30_minutes_old_passes_and_an_intent_30_minutes_old_does_not() {
    let s = Setup::good().await;
    let half_an_hour_ago = now() - time::Duration::minutes(30);
    let verify = |body: String| {
        let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
        let verifier = s.verifier.clone();
        async move { verifier.verify(&h, body.as_bytes()).await }
    };
    for event in [
        "AlexaSkillEvent.SkillDisabled",
        "AlexaSkillEvent.SkillEnabled",
        "AlexaSkillEvent.SkillPermissionAccepted",
    ] {
        verify(request_body_of_type(event, half_an_hour_ago))
            .await
            .unwrap_or_else(|e| panic!("{event}: {e}"));
    }
    for request in ["IntentRequest", "LaunchRequest", "SessionEndedRequest"] {
        let err = verify(request_body_of_type(request, half_an_hour_ago))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::StaleTimestamp {
                    skew_seconds: 1799..=1801,
                    tolerance_seconds: 150
                }
            ),
            "{request}: {err:?}"
        );
    }
}

#[tokio::test]
async fn a_skill_event_older_than_an_hour_is_refused() {
    let s = Setup::good().await;
    for offset in [
        -time::Duration::minutes(61),
        time::Duration::minutes(61),
        -time::Duration::days(2),
    ] {
        let body = request_body_of_type("AlexaSkillEvent.SkillDisabled", now() + offset);
        let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
        let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::StaleTimestamp {
                    tolerance_seconds: 3600,
                    ..
                }
            ),
            "{offset}: {err:?}"
        );
    }
    // 59 minutes: still within.
    let body = request_body_of_type(
        "AlexaSkillEvent.SkillDisabled",
        now() - time::Duration::minutes(59),
    );
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    s.verifier.verify(&h, body.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_stale_request_costs_no_download() {
    let s = Setup::good().await;
    let body = request_body(now() - time::Duration::minutes(10));
    let h = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
    let err = s.verifier.verify(&h, body.as_bytes()).await.unwrap_err();
    assert_eq!(err.rule(), "timestamp", "{err:?}");
    assert_eq!(s.server.downloads(), 0);
}
