//! An in-process HTTP client that answers DynamoDB and S3 requests with canned responses: no
//! socket, no server. Turns through it cost only client CPU (SDK, adapter, conversions), so the
//! adapter/raw-SDK ratio can be measured without the emulator's noise.

use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use serde_json::{Map, Value, json};

use crate::BoxError;

type Bytes = Vec<u8>;

/// Which service the canned server plays.
#[derive(Clone, Debug)]
enum Service {
    /// `GetItem` returns the item, `UpdateItem` a new version.
    DynamoDb { get_item: Bytes },
    /// `GET` returns the object, `PUT` a new ETag.
    S3 { object: Bytes },
}

/// An [`HttpClient`] that answers every request at once with a canned response, after reading
/// the request body as a socket would.
#[derive(Clone, Debug)]
pub struct Canned {
    service: Service,
}

/// A JSON value in DynamoDB's wire format (`{"S": ...}`, `{"N": ...}`, `{"M": {...}}`, ...).
pub fn dynamodb_json(v: &Value) -> Value {
    match v {
        Value::Null => json!({"NULL": true}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Number(n) => json!({"N": n.to_string()}),
        Value::String(s) => json!({"S": s}),
        Value::Array(items) => json!({"L": items.iter().map(dynamodb_json).collect::<Vec<_>>()}),
        Value::Object(m) => json!({"M": m.iter().map(|(k, v)| (k.clone(), dynamodb_json(v)))
            .collect::<Map<_, _>>()}),
    }
}

impl Canned {
    /// DynamoDB holding `attrs` under every key, in the adapter's layout: the version
    /// `<token>.5` and the latest write tokens.
    pub fn dynamodb(attrs: &Map<String, Value>) -> Self {
        let tokens: Vec<Value> = (0..persistence_core::RECENT_TOKENS)
            .map(|i| json!({"S": format!("{i:016x}")}))
            .collect();
        let item = json!({"Item": {
            "attributes": dynamodb_json(&Value::Object(attrs.clone())),
            "attributesVersion": {"S": "0123456789abcdef0123456789abcdef.5"},
            "attributesTokens": {"L": tokens},
        }});
        Self {
            service: Service::DynamoDb {
                get_item: item.to_string().into_bytes(),
            },
        }
    }

    /// S3 holding `attrs` as compact JSON under every key.
    pub fn s3(attrs: &Map<String, Value>) -> Self {
        Self {
            service: Service::S3 {
                object: serde_json::to_vec(attrs).unwrap_or_default(),
            },
        }
    }

    fn respond(&self, request: &HttpRequest) -> Result<Response<SdkBody>, BoxError> {
        let (body, headers): (Bytes, &[(&str, &str)]) = match &self.service {
            Service::DynamoDb { get_item } => {
                let target = request.headers().get("x-amz-target").unwrap_or_default();
                let body = if target.ends_with(".GetItem") {
                    get_item.clone()
                } else if target.ends_with(".UpdateItem") {
                    // The adapter and the raw save ask for no attributes back.
                    b"{}".to_vec()
                } else {
                    b"{}".to_vec()
                };
                (body, &[("content-type", "application/x-amz-json-1.0")])
            }
            Service::S3 { object } => {
                if request.method() == "GET" {
                    (
                        object.clone(),
                        &[("content-type", "application/json"), ("etag", "\"e5\"")],
                    )
                } else {
                    (Vec::new(), &[("etag", "\"e6\"")])
                }
            }
        };
        let len = body.len().to_string();
        let mut response = Response::new(StatusCode::try_from(200u16)?, SdkBody::from(body));
        for (k, v) in headers {
            response.headers_mut().insert(*k, *v);
        }
        response.headers_mut().insert("content-length", len);
        Ok(response)
    }
}

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let response = match self.respond(&request) {
            Ok(r) => r,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::other(e, None))),
        };
        HttpConnectorFuture::new(async move {
            // Read the body (and run any checksum wrapped around it) as sending it would.
            let _ = ByteStream::new(request.into_body()).collect().await;
            Ok(response)
        })
    }
}

impl HttpClient for Canned {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dynamodb_wire_format() {
        let v = json!({"a": [1, "x", true, null], "b": {"c": 1.5}});
        assert_eq!(
            dynamodb_json(&v),
            json!({"M": {
                "a": {"L": [{"N": "1"}, {"S": "x"}, {"BOOL": true}, {"NULL": true}]},
                "b": {"M": {"c": {"N": "1.5"}}},
            }})
        );
    }
}
