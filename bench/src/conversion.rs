//! Conversion throughput of large attribute maps: JSON <-> DynamoDB attribute values (the
//! DynamoDB adapter's own write and read paths, `attributes_to_dynamodb` with its range and size
//! check, and `attributes_from_dynamodb` with its exact-number check), and JSON encode/decode
//! (the S3 adapter's paths).

use std::hint::black_box;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::BoxError;
use crate::stats::median;
use crate::workload::sample_map;

/// The conversions measured, in table order.
pub const OPERATIONS: [&str; 4] = [
    "JSON → DynamoDB",
    "DynamoDB → JSON",
    "JSON encode",
    "JSON decode",
];

/// One conversion of one size.
#[derive(Clone, Debug, Serialize)]
pub struct ConversionRow {
    /// `1 KB`, `64 KB`, `350 KB`.
    pub size: String,
    /// Compact JSON size of the map, bytes.
    pub json_bytes: usize,
    /// One of [`OPERATIONS`].
    pub operation: &'static str,
    /// Median over the batches, in MB/s of compact JSON (10^6 bytes).
    pub mb_per_s: f64,
    /// Median time per conversion, microseconds.
    pub us_per_op: f64,
}

/// Times `op` on inputs made by `make` (outside the timing): `batches` batches of about
/// `batch` each; returns the median seconds per call.
fn time_per_op<T>(
    batch: Duration,
    batches: usize,
    max_inputs: usize,
    mut make: impl FnMut() -> T,
    mut op: impl FnMut(T) -> Result<(), BoxError>,
) -> Result<f64, BoxError> {
    let first = make();
    let t = Instant::now();
    op(first)?;
    let one = t.elapsed().as_secs_f64().max(1e-9);
    let n = ((batch.as_secs_f64() / one) as usize).clamp(1, max_inputs.max(1));
    let mut per_op = Vec::with_capacity(batches);
    for _ in 0..batches {
        let inputs: Vec<T> = (0..n).map(|_| make()).collect();
        let t = Instant::now();
        for input in inputs {
            op(input)?;
        }
        per_op.push(t.elapsed().as_secs_f64() / n as f64);
    }
    Ok(median(&per_op))
}

/// Measures every conversion for 1 KB, 64 KB and 350 KB maps.
pub fn run(batch: Duration, batches: usize) -> Result<Vec<ConversionRow>, BoxError> {
    let mut rows = Vec::new();
    for (label, target) in [("1 KB", 1024), ("64 KB", 64 * 1024), ("350 KB", 350 * 1024)] {
        let map = sample_map(target);
        let json = serde_json::to_vec(&map)?;
        let bytes = json.len();
        let attrs = persistence_core::Attributes::from(map.clone());
        let av: AttributeValue = persistence_dynamodb::attributes_to_dynamodb(&attrs)?;
        // Owned inputs are cloned before the timing; keep their memory bounded (~64 MB).
        let max_owned = (64 << 20) / (bytes * 10).max(1);
        let secs = [
            time_per_op(
                batch,
                batches,
                usize::MAX,
                || &attrs,
                |m| {
                    let v: AttributeValue =
                        persistence_dynamodb::attributes_to_dynamodb(black_box(m))?;
                    black_box(v);
                    Ok(())
                },
            )?,
            time_per_op(
                batch,
                batches,
                max_owned,
                || av.clone(),
                |v| {
                    let m = persistence_dynamodb::attributes_from_dynamodb(black_box(&v))?;
                    black_box(m);
                    Ok(())
                },
            )?,
            time_per_op(
                batch,
                batches,
                usize::MAX,
                || &map,
                |m| {
                    black_box(serde_json::to_vec(black_box(m))?);
                    Ok(())
                },
            )?,
            time_per_op(
                batch,
                batches,
                usize::MAX,
                || json.as_slice(),
                |b| {
                    let m: Map<String, Value> = serde_json::from_slice(black_box(b))?;
                    black_box(m);
                    Ok(())
                },
            )?,
        ];
        for (operation, s) in OPERATIONS.into_iter().zip(secs) {
            rows.push(ConversionRow {
                size: label.into(),
                json_bytes: bytes,
                operation,
                mb_per_s: bytes as f64 / s / 1e6,
                us_per_op: s * 1e6,
            });
        }
    }
    Ok(rows)
}
