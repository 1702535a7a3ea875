//! Counting the requests the SDK sends, by operation, with an interceptor.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeTransmitInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::Headers;
use aws_smithy_types::config_bag::ConfigBag;

/// Counts HTTP requests about to be sent (every attempt, retries included), by operation name
/// (`GetItem`, `PutObject`, ...). Register it on a DynamoDB or S3 client config with
/// `.interceptor(counter.clone())`; clones share the counts. It also adds up the bytes of
/// every request sent and every response received ([`RequestCounter::take_bytes`]).
#[derive(Clone, Debug, Default)]
pub struct RequestCounter {
    counts: Arc<Mutex<BTreeMap<String, u64>>>,
    bytes: Arc<Mutex<Traffic>>,
}

/// Bytes on the wire, as HTTP messages (the header lines as `name: value\r\n`, plus the body;
/// not TLS, chunk framing or the status and request lines).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Traffic {
    /// Requests: header lines and body.
    pub sent: u64,
    /// Responses: header lines and body.
    pub received: u64,
    /// Of `received`, the response bodies.
    pub received_body: u64,
}

impl RequestCounter {
    /// The counts so far, and resets them.
    pub fn take(&self) -> BTreeMap<String, u64> {
        std::mem::take(&mut *self.lock())
    }

    /// The bytes sent and received so far, and resets them.
    pub fn take_bytes(&self) -> Traffic {
        std::mem::take(&mut *self.bytes.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, u64>> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn add(&self, f: impl FnOnce(&mut Traffic)) {
        f(&mut self.bytes.lock().unwrap_or_else(|p| p.into_inner()));
    }
}

/// `name: value\r\n` for every header.
fn header_bytes(headers: &Headers) -> u64 {
    headers
        .iter()
        .map(|(name, value)| (name.len() + value.len() + 4) as u64)
        .sum()
}

/// The body's length: its bytes when it is in memory, else its declared `Content-Length`.
fn body_bytes(body: &aws_smithy_types::body::SdkBody, headers: &Headers) -> u64 {
    body.bytes().map(|b| b.len() as u64).unwrap_or_else(|| {
        headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    })
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg
            .load::<Metadata>()
            .map_or("unknown", |m| m.name())
            .to_owned();
        *self.lock().entry(op).or_default() += 1;
        let request = context.request();
        let sent = header_bytes(request.headers()) + body_bytes(request.body(), request.headers());
        self.add(|t| t.sent += sent);
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let body = body_bytes(response.body(), response.headers());
        let headers = header_bytes(response.headers());
        self.add(|t| {
            t.received += headers + body;
            t.received_body += body;
        });
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
    use crate::canned::Canned;
    use crate::target::{Target, sdk_config};
    use crate::workload::sample_map;
    use persistence_core::{Attributes, PersistenceAdapter, SaveMode};

    #[tokio::test]
    async fn adds_up_the_bytes_sent_and_received() {
        let attrs = sample_map(20_000);
        let json_len = serde_json::to_vec(&attrs).map_or(0, |v| v.len()) as u64;
        let nowhere = Target::Emulator {
            endpoint: "http://127.0.0.1:9".into(),
            description: String::new(),
            keep_alive: false,
        };
        let counter = RequestCounter::default();
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&sdk_config(&nowhere).await)
                .http_client(Canned::dynamodb(&attrs))
                .interceptor(counter.clone())
                .build(),
        );
        let adapter = persistence_dynamodb::DynamoDbAdapter::builder(client, "t").build();

        adapter.get("k").await.expect("canned get");
        let read = counter.take_bytes();
        assert!(read.sent > 0 && read.sent < 2_000, "{read:?}");
        // The map comes back in DynamoDB's wire format, which is larger than its JSON.
        assert!(read.received_body > json_len, "{read:?} vs {json_len}");
        assert!(
            read.received > read.received_body,
            "headers count: {read:?}"
        );
        assert_eq!(counter.take_bytes(), Traffic::default(), "take resets");

        adapter
            .save("k", &Attributes::from(attrs), SaveMode::Overwrite)
            .await
            .expect("canned save");
        let save = counter.take_bytes();
        assert!(save.sent > json_len, "{save:?} vs {json_len}");
        assert!(save.received_body < 100, "{save:?}");
        assert_eq!(counter.take().get("UpdateItem"), Some(&1));
    }

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
