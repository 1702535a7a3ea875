//! The `request.timestamp` rule: at most 150 seconds from now, in either direction; an hour for
//! skill events.
//!
//! The hour is what Amazon's own Python SDK allows skill events
//! (`ask-sdk-webservice-support/ask_sdk_webservice_support/verifier_constants.py` and
//! `verifier.py`, `TimestampVerifier.verify`, in alexa/alexa-skills-kit-sdk-for-python):
//! `MAX_NORMAL_REQUEST_TOLERANCE_IN_MILLIS = 150000`, and when a request is further away than
//! that but its type is in `ALEXA_SKILL_EVENT_LIST` (`AlexaSkillEvent.SkillEnabled`,
//! `SkillDisabled`, `SkillPermissionChanged`, `SkillPermissionAccepted`, `SkillAccountLinked`),
//! it passes while `abs(now - timestamp) <= MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS / 1000`, with
//! `MAX_SKILL_EVENT_TOLERANCE_IN_MILLIS = 3600000`; the constant's comment points at Amazon's
//! "Delivery of events to the skill" (skill events are delivered late). Unlike the SDK's fixed
//! list, every type starting with `AlexaSkillEvent.` gets the hour here, so that events Amazon
//! added since (e.g. `AlexaSkillEvent.ProactiveSubscriptionChanged`) are not refused.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::VerifyError;
use crate::{MAX_SKILL_EVENT_SKEW, MAX_TIMESTAMP_SKEW, SKILL_EVENT_PREFIX};

#[derive(Deserialize)]
struct Envelope {
    request: Option<RequestPart>,
}

#[derive(Deserialize)]
struct RequestPart {
    #[serde(rename = "type")]
    request_type: Option<Value>,
    timestamp: Option<Value>,
}

/// Reads `request.timestamp` from the raw body (ISO 8601 / RFC 3339 text, as Alexa sends it,
/// or milliseconds since the Unix epoch) and checks it is within [`MAX_TIMESTAMP_SKEW`] of
/// `now`, or [`MAX_SKILL_EVENT_SKEW`] when `request.type` starts with `AlexaSkillEvent.`.
pub(crate) fn check(body: &[u8], now: SystemTime) -> Result<(), VerifyError> {
    let invalid = |reason| VerifyError::InvalidTimestamp { reason };
    // Fixed reasons only: serde's messages may quote the body.
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|_| invalid("the body is not a JSON object"))?;
    let request = envelope
        .request
        .ok_or_else(|| invalid("request.timestamp is missing"))?;
    let is_event = matches!(&request.request_type, Some(Value::String(t)) if t.starts_with(SKILL_EVENT_PREFIX));
    let tolerance = if is_event {
        MAX_SKILL_EVENT_SKEW
    } else {
        MAX_TIMESTAMP_SKEW
    };
    let timestamp = request
        .timestamp
        .ok_or_else(|| invalid("request.timestamp is missing"))?;
    let millis = match &timestamp {
        Value::String(text) => OffsetDateTime::parse(text, &Rfc3339)
            .map(|t| t.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| invalid("request.timestamp is not an ISO 8601 date-time"))?,
        Value::Number(n) => n
            .as_i64()
            .map(i128::from)
            .ok_or_else(|| invalid("request.timestamp is not whole milliseconds"))?,
        _ => return Err(invalid("request.timestamp is neither text nor a number")),
    };
    let now_millis = match now.duration_since(UNIX_EPOCH) {
        Ok(d) => i128::try_from(d.as_millis()).unwrap_or(i128::MAX),
        Err(e) => -i128::try_from(e.duration().as_millis()).unwrap_or(i128::MAX),
    };
    let skew_millis = now_millis.saturating_sub(millis);
    if skew_millis.unsigned_abs() > tolerance.as_millis() {
        let skew_seconds = i64::try_from(skew_millis / 1000).unwrap_or(if skew_millis < 0 {
            i64::MIN
        } else {
            i64::MAX
        });
        return Err(VerifyError::StaleTimestamp {
            skew_seconds,
            tolerance_seconds: tolerance.as_secs(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn body(timestamp: &str) -> Vec<u8> {
        format!(
            r#"{{"version":"1.0","request":{{"type":"LaunchRequest","timestamp":{timestamp}}}}}"#
        )
        .into_bytes()
    }

    /// 2018-04-11T15:15:25Z
    fn at() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_523_459_725)
    }

    #[test]
    fn within_150_seconds_either_way_passes() {
        for ts in [
            r#""2018-04-11T15:15:25Z""#,
            r#""2018-04-11T15:12:55Z""#, // 150 s before
            r#""2018-04-11T15:17:55Z""#, // 150 s after
            r#""2018-04-11T17:15:25+02:00""#,
            r#""2018-04-11T15:15:25.123Z""#,
            "1523459725000",
        ] {
            assert!(check(&body(ts), at()).is_ok(), "{ts}");
        }
    }

    #[test]
    fn more_than_150_seconds_is_stale() {
        let stale = |ts: &str| match check(&body(ts), at()) {
            Err(VerifyError::StaleTimestamp {
                skew_seconds,
                tolerance_seconds: 150,
            }) => skew_seconds,
            other => panic!("{ts}: {other:?}"),
        };
        assert_eq!(stale(r#""2018-04-11T15:12:54Z""#), 151);
        assert_eq!(stale(r#""2018-04-11T15:17:56Z""#), -151);
        assert_eq!(stale("1523459574000"), 151);
        assert_eq!(stale(r#""1970-01-01T00:00:00Z""#), 1_523_459_725);
    }

    fn event_body(request_type: &str, timestamp: &str) -> Vec<u8> {
        format!(
            r#"{{"version":"1.0","request":{{"type":"{request_type}","timestamp":{timestamp}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn skill_events_get_an_hour_either_way_and_no_more() {
        for t in [
            "AlexaSkillEvent.SkillDisabled",
            "AlexaSkillEvent.SkillEnabled",
            "AlexaSkillEvent.ProactiveSubscriptionChanged",
        ] {
            for ts in [
                r#""2018-04-11T14:45:25Z""#, // 30 min before
                r#""2018-04-11T14:15:25Z""#, // 60 min before
                r#""2018-04-11T16:15:25Z""#, // 60 min after
            ] {
                assert!(check(&event_body(t, ts), at()).is_ok(), "{t} {ts}");
            }
            for ts in [r#""2018-04-11T14:15:24Z""#, r#""2018-04-11T16:15:26Z""#] {
                assert!(
                    matches!(
                        check(&event_body(t, ts), at()),
                        Err(VerifyError::StaleTimestamp {
                            tolerance_seconds: 3600,
                            ..
                        })
                    ),
                    "{t} {ts}"
                );
            }
        }
        // Other types, and look-alikes, keep 150 s.
        for t in [
            "IntentRequest",
            "LaunchRequest",
            "AlexaSkillEventSkillDisabled",
            "alexaskillevent.SkillDisabled",
            "Messaging.MessageReceived",
        ] {
            assert!(
                matches!(
                    check(&event_body(t, r#""2018-04-11T14:45:25Z""#), at()),
                    Err(VerifyError::StaleTimestamp {
                        skew_seconds: 1800,
                        tolerance_seconds: 150
                    })
                ),
                "{t}"
            );
        }
    }

    #[test]
    fn missing_or_malformed_timestamps_are_refused() {
        for b in [
            b"not json".to_vec(),
            b"{}".to_vec(),
            br#"{"request":{}}"#.to_vec(),
            body(r#""yesterday""#),
            body(r#""2018-04-11 15:15:25""#),
            body("1.5e3"),
            body("true"),
            body("null"),
        ] {
            assert!(
                matches!(check(&b, at()), Err(VerifyError::InvalidTimestamp { .. })),
                "{}",
                String::from_utf8_lossy(&b)
            );
        }
    }
}
