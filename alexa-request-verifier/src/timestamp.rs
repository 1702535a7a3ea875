//! The `request.timestamp` rule: at most 150 seconds from now, in either direction.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::MAX_TIMESTAMP_SKEW;
use crate::error::VerifyError;

#[derive(Deserialize)]
struct Envelope {
    request: Option<RequestPart>,
}

#[derive(Deserialize)]
struct RequestPart {
    timestamp: Option<Value>,
}

/// Reads `request.timestamp` from the raw body (ISO 8601 / RFC 3339 text, as Alexa sends it,
/// or milliseconds since the Unix epoch) and checks it is within [`MAX_TIMESTAMP_SKEW`] of
/// `now`.
pub(crate) fn check(body: &[u8], now: SystemTime) -> Result<(), VerifyError> {
    let invalid = |reason| VerifyError::InvalidTimestamp { reason };
    // Fixed reasons only: serde's messages may quote the body.
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|_| invalid("the body is not a JSON object"))?;
    let timestamp = envelope
        .request
        .and_then(|r| r.timestamp)
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
    if skew_millis.unsigned_abs() > MAX_TIMESTAMP_SKEW.as_millis() {
        let skew_seconds = i64::try_from(skew_millis / 1000).unwrap_or(if skew_millis < 0 {
            i64::MIN
        } else {
            i64::MAX
        });
        return Err(VerifyError::StaleTimestamp { skew_seconds });
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
            Err(VerifyError::StaleTimestamp { skew_seconds }) => skew_seconds,
            other => panic!("{ts}: {other:?}"),
        };
        assert_eq!(stale(r#""2018-04-11T15:12:54Z""#), 151);
        assert_eq!(stale(r#""2018-04-11T15:17:56Z""#), -151);
        assert_eq!(stale("1523459574000"), 151);
        assert_eq!(stale(r#""1970-01-01T00:00:00Z""#), 1_523_459_725);
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
