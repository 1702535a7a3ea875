//! Downloading a certificate chain: HTTPS only, no redirects, a timeout and a size cap.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioExecutor;
use url::Url;

use crate::error::VerifyError;

/// The HTTPS client certificate chains are downloaded with.
pub(crate) type HttpsClient = Client<HttpsConnector<HttpConnector<Resolver>>, Empty<Bytes>>;

/// Name resolution: the system's, or (test builds only) one fixed loopback address for every
/// host, so that tests can serve `https://s3.amazonaws.com/echo.api/...` themselves while TLS
/// still checks the name `s3.amazonaws.com`.
#[derive(Clone)]
pub(crate) enum Resolver {
    System(GaiResolver),
    #[cfg_attr(not(feature = "test-util"), allow(dead_code))]
    Fixed(SocketAddr),
}

type ResolveFuture =
    Pin<Box<dyn Future<Output = Result<std::vec::IntoIter<SocketAddr>, std::io::Error>> + Send>>;

impl tower_service::Service<Name> for Resolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = ResolveFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        match self {
            Resolver::System(gai) => gai.poll_ready(cx),
            Resolver::Fixed(_) => Poll::Ready(Ok(())),
        }
    }

    fn call(&mut self, name: Name) -> Self::Future {
        match self {
            Resolver::System(gai) => {
                let lookup = gai.call(name);
                Box::pin(async move { Ok(lookup.await?.collect::<Vec<_>>().into_iter()) })
            }
            Resolver::Fixed(addr) => {
                let addr = *addr;
                Box::pin(async move { Ok(vec![addr].into_iter()) })
            }
        }
    }
}

/// Builds the client: rustls on aws-lc-rs trusting `roots`, HTTPS only, HTTP/1.1, no pooled
/// connections (a chain is downloaded once per URL and then cached).
pub(crate) fn client(
    roots: rustls::RootCertStore,
    resolver: Resolver,
    connect_timeout: Duration,
) -> Result<HttpsClient, rustls::Error> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut http = HttpConnector::new_with_resolver(resolver);
    http.enforce_http(false);
    http.set_connect_timeout(Some(connect_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    Ok(Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(https))
}

/// Downloads `url` (already checked by the URL rules): status 200 only (redirects are not
/// followed), at most `limit` bytes, all within `timeout`.
pub(crate) async fn fetch(
    client: &HttpsClient,
    url: &Url,
    timeout: Duration,
    limit: usize,
) -> Result<Vec<u8>, VerifyError> {
    let uri: hyper::Uri = url
        .as_str()
        .parse()
        .map_err(|e| VerifyError::download("the URL cannot be requested", Some(Box::new(e))))?;
    let download = async {
        let response = client
            .get(uri)
            .await
            .map_err(|e| VerifyError::download("the request failed", Some(Box::new(e))))?;
        let status = response.status();
        if status != http::StatusCode::OK {
            return Err(VerifyError::download_status(status));
        }
        let declared = response
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > u64::try_from(limit).unwrap_or(u64::MAX)) {
            return Err(VerifyError::ChainTooLarge { limit });
        }
        let mut body = response.into_body();
        let mut pem = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame = frame
                .map_err(|e| VerifyError::download("reading the body failed", Some(Box::new(e))))?;
            if let Some(data) = frame.data_ref() {
                if pem.len().saturating_add(data.len()) > limit {
                    return Err(VerifyError::ChainTooLarge { limit });
                }
                pem.extend_from_slice(data);
            }
        }
        Ok(pem)
    };
    match tokio::time::timeout(timeout, download).await {
        Ok(result) => result,
        Err(_) => Err(VerifyError::ChainTimeout { timeout }),
    }
}
