//! Exact numbers: the one canonical JSON form of every decimal a backend can hold.
//!
//! The workspace builds `serde_json` with `arbitrary_precision`, so a JSON number keeps its
//! decimal text: `0.6666666666666666666666666667` (what Python's `Decimal(2) / Decimal(3)`
//! stores through boto3) or `1180591620717411303424` (a Python int past 2^64) survive a read
//! and a save unchanged instead of being rounded or refused.
//!
//! Text that means the same number can be spelled many ways (`1.50`, `1.5`, `15E-1`). So that
//! values compare equal whatever backend or writer they came from, every backend reads numbers
//! through [`canonical_number`], which gives each value one form:
//!
//! - an integer literal (no `.`, no exponent) that fits `i64` or `u64` is that integer;
//! - any other number that an `f64` holds exactly is that `f64` (as `serde_json::json!` makes it);
//! - anything else keeps its exact value as decimal text: `0.6666666666666666666666666667`,
//!   `18446744073709551616` (integers in plain digits), `1.2345678901234567890123456789e+30`.
//!
//! ```
//! use persistence_core::number::canonical_number;
//! use serde_json::json;
//!
//! assert_eq!(json!(canonical_number("1.50").unwrap()), json!(1.5));
//! assert_eq!(json!(canonical_number("-0042").unwrap()), json!(-42));
//! assert_eq!(canonical_number("0.66666666666666666666666666670").unwrap().to_string(),
//!            "0.6666666666666666666666666667");
//! assert_eq!(canonical_number("18446744073709551616").unwrap().to_string(), "18446744073709551616");
//! assert!(canonical_number("NaN").is_none());
//! ```

use serde_json::{Number, Value};

/// A decimal number in canonical parts: sign, significant digits (no leading or trailing
/// zeros) and the power of ten of the first digit. Zero has no digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    digits: String,
    exp: i64,
}

/// Digits beyond which a number is not worth representing (DynamoDB keeps 38; JSON text from
/// elsewhere may carry more, and is kept exactly up to this many).
const MAX_DIGITS: usize = 1000;

impl Decimal {
    /// Parses decimal text: an optional sign, digits with an optional `.`, and an optional
    /// exponent (`e`/`E`, optional sign). No `NaN`, no `Infinity`, no hex. Overflowing
    /// exponents and absurdly long digit strings are refused, never wrapped.
    ///
    /// ```
    /// use persistence_core::number::Decimal;
    /// let d = Decimal::parse("-12.340e3").unwrap();
    /// assert_eq!((d.is_negative(), d.digits(), d.exponent()), (true, "1234", 4));
    /// assert!(Decimal::parse("10e9223372036854775807").is_none());
    /// assert!(Decimal::parse("1.2.3").is_none());
    /// ```
    pub fn parse(text: &str) -> Option<Self> {
        let (negative, rest) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exp) = match rest.find(['e', 'E']) {
            Some(i) => {
                let e = &rest[i + 1..];
                let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (&rest[..i], e.parse::<i64>().ok()?)
            }
            None => (rest, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let lead_int = int.bytes().take_while(|b| *b == b'0').count();
        let (digits, lead) = if lead_int < int.len() {
            (format!("{}{frac}", &int[lead_int..]), lead_int)
        } else {
            let lead_frac = frac.bytes().take_while(|b| *b == b'0').count();
            (frac[lead_frac..].to_owned(), int.len() + lead_frac)
        };
        let digits = digits.trim_end_matches('0');
        if digits.is_empty() {
            return Some(Self {
                negative: false,
                digits: String::new(),
                exp: 0,
            });
        }
        if digits.len() > MAX_DIGITS {
            return None;
        }
        // Power of ten of the first significant digit, with checked arithmetic.
        let int_len = i64::try_from(int.len()).ok()?;
        let lead = i64::try_from(lead).ok()?;
        let first = int_len
            .checked_sub(1)?
            .checked_sub(lead)?
            .checked_add(exp)?;
        Some(Self {
            negative,
            digits: digits.to_owned(),
            exp: first,
        })
    }

    /// True below zero.
    pub fn is_negative(&self) -> bool {
        self.negative
    }

    /// The significant digits, without leading or trailing zeros (empty for zero).
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The power of ten of the first significant digit (0 for zero).
    pub fn exponent(&self) -> i64 {
        self.exp
    }

    /// True for zero.
    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// The value as JSON number text: integers in plain digits (as Python and JavaScript
    /// write them, so a big integer stays an integer for every reader), other values in plain
    /// notation from 1e-6 up to 1e21, scientific (`d.ddde+N`) outside.
    pub fn to_json_text(&self) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let sign = if self.negative { "-" } else { "" };
        let d = &self.digits;
        let n = d.len() as i64;
        let e = self.exp;
        let integer = e >= n - 1 && e < 1000;
        if integer || (-6..21).contains(&e) {
            if e < 0 {
                let zeros = "0".repeat((-e - 1) as usize);
                format!("{sign}0.{zeros}{d}")
            } else if e + 1 >= n {
                let zeros = "0".repeat((e + 1 - n) as usize);
                format!("{sign}{d}{zeros}")
            } else {
                let (i, f) = d.split_at((e + 1) as usize);
                format!("{sign}{i}.{f}")
            }
        } else {
            let (first, rest) = d.split_at(1);
            let dot = if rest.is_empty() { "" } else { "." };
            let esign = if e < 0 { "-" } else { "+" };
            format!("{sign}{first}{dot}{rest}e{esign}{}", e.unsigned_abs())
        }
    }
}

/// True when `text` is written as an integer: optional `-`, digits, nothing else.
fn is_integer_literal(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The canonical JSON number for decimal `text` (see the [module docs](self)), or `None` when
/// the text is not a finite decimal number.
pub fn canonical_number(text: &str) -> Option<Number> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if is_integer_literal(unsigned) {
        if let Ok(i) = unsigned.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = unsigned.parse::<u64>() {
            return Some(u.into());
        }
        // Beyond u64 / below i64: exact integer text.
        let exact = Decimal::parse(unsigned)?;
        return Some(Number::from_string_unchecked(exact.to_json_text()));
    }
    let exact = Decimal::parse(text)?;
    if let Some(n) = unsigned.parse::<f64>().ok().and_then(Number::from_f64) {
        // Compared with the text the number will hold (serde_json writes floats with `ryu`),
        // not with another formatter's: two shortest spellings can both round to `f` (a tie),
        // and formatters break ties differently (`1444013393650461.3` vs `.2`).
        let same = n.as_f64() == Some(0.0) && exact.is_zero()
            || Decimal::parse(n.as_str()).as_ref() == Some(&exact);
        if same {
            return Some(n);
        }
    }
    Some(Number::from_string_unchecked(exact.to_json_text()))
}

/// Rewrites every number in `value` into its [canonical form](canonical_number), so that values
/// read from JSON text compare equal to the same values built in Rust or read from another
/// backend. A number with more than 1000 significant digits (no backend stores one) is left as
/// written, and the result is false.
pub fn canonicalize(value: &mut Value) -> bool {
    match value {
        Value::Number(n) => match canonical_number(n.as_str()) {
            Some(c) => {
                if c != *n {
                    *n = c;
                }
                true
            }
            None => false,
        },
        // Every element is visited, even after one fails.
        Value::Array(items) => items.iter_mut().map(canonicalize).fold(true, |a, b| a & b),
        Value::Object(map) => map.values_mut().map(canonicalize).fold(true, |a, b| a & b),
        Value::Null | Value::Bool(_) | Value::String(_) => true,
    }
}

/// True when `n` is in [canonical form](canonical_number).
pub fn is_canonical(n: &Number) -> bool {
    canonical_number(n.as_str()).as_ref() == Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(text: &str) -> String {
        canonical_number(text).unwrap().to_string()
    }

    #[test]
    fn integers_that_fit_are_integers() {
        assert_eq!(json!(canonical_number("0").unwrap()), json!(0));
        assert_eq!(json!(canonical_number("-0").unwrap()), json!(0));
        assert_eq!(
            json!(canonical_number("18446744073709551615").unwrap()),
            json!(u64::MAX)
        );
        assert_eq!(
            json!(canonical_number("-9223372036854775808").unwrap()),
            json!(i64::MIN)
        );
        assert_eq!(json!(canonical_number("007").unwrap()), json!(7));
    }

    #[test]
    fn exact_floats_are_floats() {
        for (text, f) in [
            ("0.1", 0.1),
            ("1E+21", 1e21),
            ("1000000000000000000000.0", 1e21),
            ("1.50", 1.5),
            ("0.00000015", 1.5e-7),
            ("123456.789", 123_456.789),
            ("0.30000000000000004", 0.30000000000000004),
            ("-3.5", -3.5),
            ("2.0", 2.0),
            ("1e2", 100.0),
            ("-5.3575624515848524e-89", -5.3575624515848524e-89),
        ] {
            assert_eq!(json!(canonical_number(text).unwrap()), json!(f), "{text}");
        }
    }

    #[test]
    fn ties_between_two_shortest_spellings_keep_the_value() {
        // Both spellings round to the same f64 (…461.25), exactly half-way between them; the
        // float's own shortest text is one of them, and the other must keep its exact text.
        for text in [
            "1444013393650461.3",
            "1444013393650461.2",
            "-1444013393650461.3",
        ] {
            let n = canonical_number(text).unwrap();
            assert_eq!(
                Decimal::parse(n.as_str()),
                Decimal::parse(text),
                "{text} read as {n}"
            );
            assert!(is_canonical(&n), "{text} read as {n}");
        }
    }

    #[test]
    fn inexact_values_keep_their_exact_decimal_text() {
        assert_eq!(
            canon("0.6666666666666666666666666667"),
            "0.6666666666666666666666666667"
        );
        assert_eq!(canon("1180591620717411303424"), "1180591620717411303424");
        assert_eq!(canon("-1180591620717411303424"), "-1180591620717411303424");
        assert_eq!(
            canon("0.1000000000000000000000000001"),
            "0.1000000000000000000000000001"
        );
        assert_eq!(
            canon("12345678901234567890123456789012345678E+100"),
            format!("12345678901234567890123456789012345678{}", "0".repeat(100))
        );
        assert_eq!(
            canon("1.2345678901234567890123456789012345678E+30"),
            "1.2345678901234567890123456789012345678e+30"
        );
        // As serde_json does: an integer literal stays an integer, other spellings whose decimal
        // value an f64's shortest form reproduces become that f64.
        assert_eq!(
            canon("10000000000000000000000000000000000000000"),
            format!("1{}", "0".repeat(40))
        );
        assert_eq!(canon("1E+40"), "1e+40");
        assert_eq!(
            canon("1.0000000000000000000000000000000000001E+40"),
            "10000000000000000000000000000000000001000"
        );
        assert_eq!(canon("1E-130"), "1e-130");
        assert_eq!(
            canon("9.9999999999999999999999999999999999999E+125"),
            format!("{}{}", "9".repeat(38), "0".repeat(88))
        );
        // Equal values, different spellings: one form.
        assert_eq!(
            canon("0.66666666666666666666666666670"),
            canon("6.666666666666666666666666667e-1")
        );
    }

    #[test]
    fn garbage_and_overflow_are_refused_without_panicking() {
        for text in [
            "",
            "-",
            "+",
            ".",
            "e5",
            "1e",
            "1e+",
            "NaN",
            "Infinity",
            "inf",
            "1.2.3",
            "0x10",
            "10e9223372036854775807",
            "1e99999999999999999999",
        ] {
            assert!(canonical_number(text).is_none(), "{text}");
        }
    }

    #[test]
    fn extreme_exponents_format_without_overflow() {
        assert_eq!(canon("1e-9223372036854775808"), "1e-9223372036854775808");
        assert_eq!(canon("-1e9223372036854775807"), "-1e+9223372036854775807");
    }

    #[test]
    fn canonicalize_walks_nested_values() {
        let mut v: Value =
            serde_json::from_str(r#"{"a":[1.50,{"b":2E0}],"c":0.66666666666666666666666666670}"#)
                .unwrap();
        assert!(canonicalize(&mut v));
        assert_eq!(v["a"][0], json!(1.5));
        assert_eq!(v["a"][1]["b"], json!(2.0));
        assert_eq!(v["c"].to_string(), "0.6666666666666666666666666667");
    }

    #[test]
    fn decimal_text_forms() {
        let t = |s: &str| Decimal::parse(s).unwrap().to_json_text();
        assert_eq!(t("0.000001"), "0.000001");
        assert_eq!(t("0.0000001"), "1e-7");
        assert_eq!(t("123.456"), "123.456");
        assert_eq!(t("1200"), "1200");
        assert_eq!(t("-0.0"), "0");
        assert_eq!(t("1e21"), "1000000000000000000000");
        assert_eq!(t("1.5e21"), "1500000000000000000000");
        assert_eq!(t("1.25e1"), "12.5");
        assert_eq!(t("1.234e-7"), "1.234e-7");
    }
}
