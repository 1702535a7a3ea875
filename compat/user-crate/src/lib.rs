//! A user's own JSON types and how serde_json parses them, for the compatibility test (issue 23):
//! depending on our crates must not change any of it.
//!
//! [`observations`] records how a fixed set of inputs parses (results, exact `f64` bits, number
//! kinds, key order, limits). `scripts/check-compat.sh` prints them from a build without our
//! crates (the reference: exactly what the user gets without us) and from builds with them
//! (default features, then every feature) and requires the same lines. `tests/user_json.rs`
//! asserts the cases a user would notice first, in every build.

use serde::{Deserialize, Serialize};

// Every public library crate of ours is a dependency (feature `ours`): Cargo unifies features
// across the whole build, whether or not this code calls them.
#[cfg(feature = "ours")]
mod ours {
    use alexa_request_verifier as _;
    use alexa_skill_model as _;
    use persistence_aws as _;
    use persistence_cache as _;
    use persistence_core as _;
    use persistence_dynamodb as _;
    use persistence_file as _;
    use persistence_memory as _;
    use persistence_s3 as _;
    use persistence_sqlite as _;
    use skill_builder as _;
    use skill_testkit as _;
}

/// An amount as a user's API may send it: a number or a text. `#[serde(untagged)]` buffers the
/// input before trying each variant, which serde_json's `arbitrary_precision` breaks (a number
/// then reaches the variants as a private map, and `1.5` matches none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    /// A number.
    Num(f64),
    /// Anything else, as text.
    Text(String),
}

/// Coordinates, flattened into [`Reading`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Position {
    /// Degrees north.
    pub lat: f64,
    /// Degrees east.
    pub lon: f64,
}

/// A reading with its position flattened in (`#[serde(flatten)]` buffers like `untagged`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// What was measured.
    pub value: f64,
    /// Where.
    #[serde(flatten)]
    pub position: Position,
}

/// Floats that serde_json's default parser reads one unit in the last place away from the
/// correctly rounded value (`str::parse`), and `float_roundtrip` reads exactly: what they parse
/// to tells whether a dependency turned `float_roundtrip` on.
pub const TRICKY_FLOATS: [&str; 5] = [
    "-5.3575624515848524e-89",
    "1.0715660391465826e-75",
    "-1.81996730402717e-179",
    "-1.603964615428183e143",
    "-9.643915712060552e-234",
];

/// A 30-digit integer: an `f64` in a default `serde_json::Value`, the exact text with
/// `arbitrary_precision`.
pub const BIG_INTEGER: &str = "123456789012345678901234567890";

fn shown<T: std::fmt::Debug>(r: Result<T, serde_json::Error>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({e})"),
    }
}

fn f64_bits(r: Result<f64, serde_json::Error>) -> String {
    match r {
        Ok(v) => format!("{v:e} (bits {:#018x})", v.to_bits()),
        Err(e) => format!("Err({e})"),
    }
}

fn kind(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => format!(
            "number u64={} i64={} f64={} text={n}",
            n.is_u64(),
            n.is_i64(),
            n.is_f64()
        ),
        other => format!("not a number: {other}"),
    }
}

/// How serde_json parses a fixed set of inputs in this build, one `(name, result)` per case.
pub fn observations() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, value: String| out.push((name.to_owned(), value));

    add("untagged 1.5", shown(serde_json::from_str::<Amount>("1.5")));
    add("untagged 7", shown(serde_json::from_str::<Amount>("7")));
    add(
        "untagged text",
        shown(serde_json::from_str::<Amount>(r#""12 EUR""#)),
    );
    add(
        "untagged list",
        shown(serde_json::from_str::<Vec<Amount>>(r#"[0.1, "x", 1e300]"#)),
    );
    add(
        "flatten",
        shown(serde_json::from_str::<Reading>(
            r#"{"value": 21.5, "lat": 48.8566, "lon": 2.3522}"#,
        )),
    );
    for text in [
        "0.1",
        "1.5",
        "-0.0",
        "1.50",
        "1e2",
        "18446744073709551616",
        BIG_INTEGER,
    ] {
        let value = serde_json::from_str::<serde_json::Value>(text);
        add(
            &format!("value {text}"),
            match value {
                Ok(v) => kind(&v),
                Err(e) => format!("Err({e})"),
            },
        );
    }
    add(
        "Number 1e400",
        shown(serde_json::from_str::<serde_json::Number>("1e400")),
    );
    add("f64 1e400", shown(serde_json::from_str::<f64>("1e400")));
    for text in TRICKY_FLOATS {
        add(&format!("f64 {text}"), f64_bits(serde_json::from_str(text)));
        let via_value = serde_json::from_str::<serde_json::Value>(text).map(|v| v.as_f64());
        add(
            &format!("Value::as_f64 {text}"),
            match via_value {
                Ok(Some(f)) => f64_bits(Ok(f)),
                Ok(None) => "None".to_owned(),
                Err(e) => format!("Err({e})"),
            },
        );
    }
    add(
        "object key order",
        shown(
            serde_json::from_str::<serde_json::Value>(r#"{"b": 1, "a": 2, "c": {"z": 0, "y": 1}}"#)
                .map(|v| v.to_string()),
        ),
    );
    add(
        "i128 max",
        shown(serde_json::from_str::<i128>(
            "170141183460469231731687303715884105727",
        )),
    );
    add(
        "serialize 0.1+0.2",
        shown(serde_json::to_string(&(0.1_f64 + 0.2))),
    );
    add(
        "serialize Amount",
        shown(serde_json::to_string(&[
            Amount::Num(1.5),
            Amount::Text("x".into()),
        ])),
    );
    let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
    add(
        "depth 200",
        shown(serde_json::from_str::<serde_json::Value>(&deep).map(|_| "parsed")),
    );
    out
}
