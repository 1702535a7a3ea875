//! Counting the requests the SDK sends, by operation, with an interceptor.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// Counts HTTP requests about to be sent (every attempt, retries included), by operation name
/// (`GetItem`, `PutObject`, ...). Register it on a DynamoDB or S3 client config with
/// `.interceptor(counter.clone())`; clones share the counts.
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
}

impl RequestCounter {
    /// The counts so far, and resets them.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map_or("unknown", |m| m.name())
            .to_owned();
        *self.lock().entry(op).or_default() += 1;
        Ok(())
    }
}

/// Adds `Connection: keep-alive` to every request. Only for emulators: LocalStack's gateway
/// answers `Connection: close` unless the request asks for keep-alive
/// (`localstack/aws/handlers/legacy.py`), so without it every request would open a new TCP
/// connection, which real DynamoDB and S3 endpoints do not make a client do.
#[derive(Clone, Copy, Debug, Default)]
pub struct KeepAlive;

impl Intercept for KeepAlive {
    fn name(&self) -> &'static str {
        "KeepAlive"
    }

    fn modify_before_transmit(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        context
            .request_mut()
            .headers_mut()
            .insert("connection", "keep-alive");
        Ok(())
    }
}

/// Whether an operation reads (`GetItem`, `GetObject`, ...), writes, or neither.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Reads an item or object.
    Read,
    /// Writes or deletes an item or object.
    Write,
    /// Anything else (table or bucket management, listing).
    Other,
}

/// Classifies a DynamoDB or S3 operation name.
pub fn kind(operation: &str) -> Kind {
    match operation {
        "GetItem" | "BatchGetItem" | "Query" | "Scan" | "GetObject" | "HeadObject" => Kind::Read,
        "PutItem" | "UpdateItem" | "DeleteItem" | "BatchWriteItem" | "TransactWriteItems"
        | "PutObject" | "DeleteObject" | "CopyObject" => Kind::Write,
        _ => Kind::Other,
    }
}

/// Reads, writes and other requests in a set of counts.
pub fn tally(counts: &BTreeMap<String, u64>) -> (u64, u64, u64) {
    counts
        .iter()
        .fold((0, 0, 0), |(r, w, o), (op, n)| match kind(op) {
            Kind::Read => (r + n, w, o),
            Kind::Write => (r, w + n, o),
            Kind::Other => (r, w, o + n),
        })
}

/// `GetItem×1 UpdateItem×1`, or `none`.
pub fn describe(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    counts
        .iter()
        .map(|(op, n)| format!("{op}×{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_by_kind() {
        let counts = BTreeMap::from([
            ("GetItem".to_owned(), 4),
            ("UpdateItem".to_owned(), 3),
            ("DescribeTable".to_owned(), 1),
        ]);
        assert_eq!(tally(&counts), (4, 3, 1));
        assert_eq!(describe(&counts), "DescribeTable×1 GetItem×4 UpdateItem×3");
        assert_eq!(describe(&BTreeMap::new()), "none");
    }
}
