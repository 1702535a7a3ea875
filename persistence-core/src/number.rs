//! Exact numbers: decimal text as stored, and the JSON number a skill sees.
//!
//! Backends keep numbers as decimal text (DynamoDB's `N`, a JSON body's digits). A skill works
//! with [`serde_json::Value`]s, whose numbers are `i64`, `u64` or `f64` (unless something in
//! the build turned on `serde_json`'s `arbitrary_precision`; no crate of this project does,
//! because that feature changes how every crate in the same binary parses JSON). So a stored
//! number has two forms:
//!
//! - its **exact text** ([`ExactNumber`](crate::exact::ExactNumber)), kept beside the
//!   attributes a read returned ([`Attributes::exact`](crate::Attributes::exact)) and written
//!   back unchanged when the skill did not change it: a Python `Decimal(2) / Decimal(3)`
//!   (`0.6666666666666666666666666667`) or an integer past 2^64 survives a save of another
//!   attribute byte for byte;
//! - its **JSON view** ([`json_number`]): an integer literal that fits `i64`/`u64` is that
//!   integer; anything else is the nearest `f64` (correctly rounded). When `arbitrary_precision`
//!   is on anyway (another crate of the binary asked for it), the view keeps the exact value.
//!
//! ```
//! use persistence_core::number::json_number;
//! use serde_json::json;
//!
//! assert_eq!(json!(json_number("1.50").unwrap()), json!(1.5));
//! assert_eq!(json!(json_number("-0042").unwrap()), json!(-42));
//! assert_eq!(json!(json_number("18446744073709551615").unwrap()), json!(u64::MAX));
//! assert!(json_number("NaN").is_none());
//! assert!(json_number("1e400").is_none()); // beyond f64: viewed as its text instead
//! ```

use std::sync::OnceLock;

use serde_json::Number;

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
    ///
    /// ```
    /// use persistence_core::number::Decimal;
    /// assert_eq!(Decimal::parse("+1.50E2").unwrap().to_json_text(), "150");
    /// assert_eq!(Decimal::parse(".5").unwrap().to_json_text(), "0.5");
    /// ```
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

/// True when `text` is a number as JSON's grammar spells it (`-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`),
/// so it can be written into a JSON document as it is.
///
/// ```
/// use persistence_core::number::is_json_number_text;
/// assert!(is_json_number_text("-0.5e+3"));
/// assert!(!is_json_number_text("+1"));
/// assert!(!is_json_number_text("01"));
/// assert!(!is_json_number_text(".5"));
/// ```
pub fn is_json_number_text(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(c) if c.is_ascii_digit() => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// True when the `serde_json` this binary was built with keeps numbers' decimal text
/// (`arbitrary_precision`, turned on by some crate of the build). Checked once.
fn arbitrary_precision() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| {
        const PROBE: &str = "0.10000000000000000000000001";
        serde_json::from_str::<Number>(PROBE).is_ok_and(|n| n.to_string() == PROBE)
    })
}

/// The JSON number a skill sees for the stored decimal `text` (see the [module docs](self)):
/// an integer literal that fits `i64` or `u64` is that integer; anything else the nearest
/// `f64`. `None` when `text` is not a finite decimal, or is beyond `f64`'s range (`1e400`).
pub fn json_number(text: &str) -> Option<Number> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    if is_integer_literal(unsigned) {
        if let Ok(i) = unsigned.parse::<i64>() {
            return Some(i.into());
        }
        if let Ok(u) = unsigned.parse::<u64>() {
            return Some(u.into());
        }
    }
    let exact = Decimal::parse(unsigned)?;
    if arbitrary_precision() {
        return serde_json::from_str::<Number>(&exact.to_json_text()).ok();
    }
    // Rust's float parsing is correctly rounded (serde_json's is only with `float_roundtrip`).
    let f = unsigned.parse::<f64>().ok()?;
    Number::from_f64(if exact.is_zero() { 0.0 } else { f })
}

/// The decimal text a JSON number stands for: what a save writes for a number the skill set.
///
/// ```
/// use persistence_core::number::number_text;
/// assert_eq!(number_text(&serde_json::Number::from(7u8)), "7");
/// assert_eq!(number_text(&serde_json::Number::from_f64(0.1).unwrap()), "0.1");
/// ```
pub fn number_text(n: &Number) -> String {
    n.to_string()
}

/// True when two decimal texts are the same number (`1.50` and `15E-1`).
///
/// ```
/// assert!(persistence_core::number::same_number("1.50", "15E-1"));
/// assert!(!persistence_core::number::same_number("1.5", "1.51"));
/// ```
pub fn same_number(a: &str, b: &str) -> bool {
    match (Decimal::parse(a), Decimal::parse(b)) {
        (Some(x), Some(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn integers_that_fit_are_integers() {
        assert_eq!(json!(json_number("0").unwrap()), json!(0));
        assert_eq!(json!(json_number("-0").unwrap()), json!(0));
        assert_eq!(
            json!(json_number("18446744073709551615").unwrap()),
            json!(u64::MAX)
        );
        assert_eq!(
            json!(json_number("-9223372036854775808").unwrap()),
            json!(i64::MIN)
        );
        assert_eq!(json!(json_number("007").unwrap()), json!(7));
    }

    #[test]
    fn other_values_are_the_nearest_float() {
        for (text, f) in [
            ("0.1", 0.1),
            ("1E+21", 1e21),
            ("1000000000000000000000.0", 1e21),
            ("1.50", 1.5),
            ("0.00000015", 1.5e-7),
            ("0.30000000000000004", 0.30000000000000004),
            ("2.0", 2.0),
            ("1e2", 100.0),
            ("-0.0", 0.0),
            ("1180591620717411303424", 1_180_591_620_717_411_303_424.0),
            ("0.6666666666666666666666666667", 2.0 / 3.0),
            ("-5.3575624515848524e-89", -5.3575624515848524e-89),
            ("1444013393650461.3", 1_444_013_393_650_461.3),
        ] {
            assert_eq!(json!(json_number(text).unwrap()), json!(f), "{text}");
        }
    }

    #[test]
    fn garbage_and_out_of_range_have_no_view() {
        for text in [
            "", "-", "NaN", "inf", "1e", "1e+", "0x10", "1.2.3", " 1", "1e400", "-1e400",
        ] {
            assert!(json_number(text).is_none(), "{text}");
        }
    }

    #[test]
    fn json_text_is_recognised() {
        for ok in [
            "0",
            "-0",
            "1.5",
            "1e5",
            "1E-5",
            "123456789012345678901234567890",
        ] {
            assert!(is_json_number_text(ok), "{ok}");
        }
        for bad in ["", "-", "1.", ".1", "01", "+1", "1e", "1x", "NaN", "1.5e+"] {
            assert!(!is_json_number_text(bad), "{bad}");
        }
    }

    #[test]
    fn decimal_text_is_canonical() {
        assert_eq!(
            Decimal::parse("12345678901234567890123456789012345678E+100")
                .unwrap()
                .to_json_text(),
            format!("12345678901234567890123456789012345678{}", "0".repeat(100))
        );
        assert_eq!(
            Decimal::parse("1.2345678901234567890123456789012345678E+30")
                .unwrap()
                .to_json_text(),
            "1.2345678901234567890123456789012345678e+30"
        );
        assert_eq!(Decimal::parse("1E+1000").unwrap().to_json_text(), "1e+1000");
        assert_eq!(Decimal::parse("-0.000").unwrap().to_json_text(), "0");
    }
}
