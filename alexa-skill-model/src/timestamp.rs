//! [`Timestamp`]: `request.timestamp` as a time, not a string.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When Alexa sent a request: `request.timestamp`, an ISO 8601 time in UTC
/// (`2026-12-02T17:32:53Z`, optionally with fractions of a second).
///
/// ```
/// use alexa_skill_model::Timestamp;
/// let t = Timestamp::parse("2026-12-02T17:32:53Z").unwrap();
/// assert_eq!(t.date_utc(), (2026, 12, 2));
/// assert_eq!(t.time_utc(), (17, 32, 53));
/// // The date at a fixed offset from UTC (e.g. one the Alexa Settings API gave for the device):
/// assert_eq!(t.date_at_offset(9 * 3600), (2026, 12, 3)); // 02:32 the next day in Tokyo
/// assert_eq!(t.unix_seconds(), 1_796_232_773);
/// assert!(Timestamp::parse("yesterday").is_none());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (also `+00:00` for `Z`, and a space for `T`).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (body, rest) = text.split_at_checked(19)?;
        let b = body.as_bytes();
        let digits = |r: std::ops::Range<usize>| -> Option<i64> {
            let s = body.get(r)?;
            s.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| s.parse().ok())?
        };
        if b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
        let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
        if !(1..=12).contains(&month)
            || day < 1
            || day > days_in_month(year, month)
            || hour > 23
            || minute > 59
            || second > 60
        {
            return None;
        }
        let (fraction, zone) = match rest.strip_prefix('.') {
            Some(r) => {
                let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
                let (f, z) = r.split_at(end);
                if f.is_empty() {
                    return None;
                }
                let mut nanos: u32 = 0;
                for (i, c) in f.bytes().take(9).enumerate() {
                    nanos += u32::from(c - b'0') * 10u32.pow(8 - i as u32);
                }
                (nanos, z)
            }
            None => (0, rest),
        };
        if !matches!(zone, "Z" | "z" | "+00:00" | "-00:00") {
            return None;
        }
        let seconds =
            days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second.min(59);
        Some(Self {
            seconds,
            nanos: fraction,
        })
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> i64 {
        self.seconds
    }

    /// The same instant as a [`SystemTime`].
    pub fn to_system_time(&self) -> SystemTime {
        let since = Duration::new(self.seconds.unsigned_abs(), self.nanos);
        if self.seconds >= 0 {
            UNIX_EPOCH + since
        } else {
            UNIX_EPOCH - since
        }
    }

    /// The calendar date in UTC: (year, month 1-12, day 1-31).
    pub fn date_utc(&self) -> (i32, u8, u8) {
        self.date_at_offset(0)
    }

    /// The calendar date at `offset_seconds` from UTC (east positive): what "today" is for a
    /// user in that zone at this instant.
    pub fn date_at_offset(&self, offset_seconds: i32) -> (i32, u8, u8) {
        civil_from_days((self.seconds + i64::from(offset_seconds)).div_euclid(86_400))
    }

    /// The time of day in UTC: (hour, minute, second).
    pub fn time_utc(&self) -> (u8, u8, u8) {
        let s = self.seconds.rem_euclid(86_400);
        ((s / 3600) as u8, (s / 60 % 60) as u8, (s % 60) as u8)
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, mo, d) = self.date_utc();
        let (h, mi, s) = self.time_utc();
        write!(f, "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month as u8, day as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_alexa_sends_and_refuses_the_rest() {
        let t = Timestamp::parse("2024-02-29T23:59:59.123Z").unwrap();
        assert_eq!(t.date_utc(), (2024, 2, 29));
        assert_eq!(
            t.to_system_time(),
            UNIX_EPOCH + Duration::new(1_709_251_199, 123_000_000)
        );
        assert_eq!(t.to_string(), "2024-02-29T23:59:59Z");
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00Z")
                .unwrap()
                .unix_seconds(),
            0
        );
        assert_eq!(
            Timestamp::parse("1969-12-31T23:59:59Z")
                .unwrap()
                .unix_seconds(),
            -1
        );
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00+01:00",
            "2024-01-01T00:00:00.Z",
            "2024-1-01T00:00:00Z",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn dates_round_trip_over_centuries() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(
                days_from_civil(i64::from(y), i64::from(m), i64::from(d)),
                days
            );
        }
        let t = Timestamp::parse("2026-01-01T05:00:00Z").unwrap();
        assert_eq!(t.date_at_offset(-6 * 3600), (2025, 12, 31));
    }
}
