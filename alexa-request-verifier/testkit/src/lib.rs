//! Test fixtures for `alexa-request-verifier` and the HTTP front: a throwaway CA made at test time,
//! Alexa-like signing certificates, RSA signatures of request bodies, and a loopback HTTPS
//! server (127.0.0.1 only) that serves the chain and counts downloads.
//!
//! ```no_run
//! use alexa_request_verifier_testkit::*;
//!
//! # async fn demo() {
//! let ca = TestCa::new("Test Root");
//! let chain = ca.signing_chain(&SigningCertSpec::default());
//! let server = ChainServer::start(ca.server_config(CHAIN_HOST), Serve::ok(chain)).await;
//! let body = request_body(now());
//! let headers = headers(CHAIN_URL, &sign(signing_key(), body.as_bytes()));
//! // RequestVerifier::builder()
//! //     .insecure_trust_roots_for_tests([ca.root_der()])
//! //     .insecure_connect_to_loopback_for_tests(server.port())
//! # }
//! ```

// A test fixture: a failure here should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SigningKey as _,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The host Alexa's chains come from; the test server's TLS certificate is for it.
pub const CHAIN_HOST: &str = "s3.amazonaws.com";
/// A chain URL that passes the URL rules.
pub const CHAIN_URL: &str = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem";
/// The path of [`CHAIN_URL`].
pub const CHAIN_PATH: &str = "/echo.api/echo-api-cert-test.pem";

/// A junk chain URL that passes the URL rules: `CHAIN_URL`'s directory, another name each `n`.
pub fn junk_chain_url(n: usize) -> String {
    format!("https://s3.amazonaws.com/echo.api/junk-{n}.pem")
}
/// The name Alexa's signing certificate carries.
pub const ECHO_API: &str = "echo-api.amazon.com";

/// The RSA 2048 key "Alexa" signs with (made once per test binary).
pub fn signing_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap())
}

/// Another RSA 2048 key, for signatures by the wrong key.
pub fn other_key() -> &'static KeyPair {
    static KEY: OnceLock<KeyPair> = OnceLock::new();
    KEY.get_or_init(|| KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap())
}

/// The base64 RSA PKCS#1 v1.5 SHA-256 signature of `body` by `key`: a `Signature-256` value.
pub fn sign(key: &KeyPair, body: &[u8]) -> String {
    BASE64.encode(key.sign(body).unwrap())
}

/// Now, in UTC.
pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// `timestamp` as Alexa writes `request.timestamp`: RFC 3339 in UTC, whole seconds.
pub fn timestamp_text(timestamp: OffsetDateTime) -> String {
    timestamp
        .to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

/// A LaunchRequest envelope with `request.timestamp` = `timestamp` (RFC 3339, whole seconds
/// as Alexa sends it).
pub fn request_body(timestamp: OffsetDateTime) -> String {
    request_body_of_type("LaunchRequest", timestamp)
}

/// An envelope whose `request.type` is `request_type` (e.g. `AlexaSkillEvent.SkillDisabled`),
/// with `request.timestamp` = `timestamp`; otherwise as [`request_body`].
pub fn request_body_of_type(request_type: &str, timestamp: OffsetDateTime) -> String {
    let ts = timestamp_text(timestamp);
    format!(
        r#"{{"version":"1.0","session":{{"new":true,"sessionId":"amzn1.echo-api.session.test","application":{{"applicationId":"amzn1.ask.skill.test"}},"user":{{"userId":"amzn1.ask.account.TESTUSER"}}}},"context":{{"System":{{"application":{{"applicationId":"amzn1.ask.skill.test"}},"user":{{"userId":"amzn1.ask.account.TESTUSER"}},"device":{{"deviceId":"amzn1.ask.device.TESTDEVICE"}},"apiEndpoint":"https://api.amazonalexa.com"}}}},"request":{{"type":"{request_type}","requestId":"amzn1.echo-api.request.test","timestamp":"{ts}","locale":"en-US"}}}}"#
    )
}

/// The two headers Alexa sends: `SignatureCertChainUrl` and `Signature-256`.
pub fn headers(chain_url: &str, signature: &str) -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert("SignatureCertChainUrl", chain_url.parse().unwrap());
    h.insert("Signature-256", signature.parse().unwrap());
    h
}

/// What the signing certificate looks like.
#[derive(Clone, Debug)]
pub struct SigningCertSpec {
    /// Its DNS subject alternative names (default: `echo-api.amazon.com`).
    pub sans: Vec<String>,
    /// Start of validity (default: a day ago).
    pub not_before: OffsetDateTime,
    /// End of validity (default: in 30 days).
    pub not_after: OffsetDateTime,
    /// Its key (default: [`signing_key`]).
    pub key: &'static KeyPair,
}

impl Default for SigningCertSpec {
    fn default() -> Self {
        Self {
            sans: vec![ECHO_API.to_owned()],
            not_before: now() - time::Duration::days(1),
            not_after: now() + time::Duration::days(30),
            key: signing_key(),
        }
    }
}

/// A root CA and an intermediate CA (ECDSA P-256), made at test time.
pub struct TestCa {
    root: CertifiedIssuer<'static, KeyPair>,
    intermediate: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    /// A new root named `name`, and an intermediate under it.
    pub fn new(name: &str) -> Self {
        let mut params = ca_params(name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let root = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let mut params = ca_params(&format!("{name} Intermediate"));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.use_authority_key_identifier_extension = true;
        let intermediate =
            CertifiedIssuer::signed_by(params, KeyPair::generate().unwrap(), &*root).unwrap();
        Self { root, intermediate }
    }

    /// The root certificate, DER: what the verifier under test should trust.
    pub fn root_der(&self) -> Vec<u8> {
        self.root.der().to_vec()
    }

    /// The PEM chain Alexa would serve: a signing certificate as `spec` says, then the
    /// intermediate.
    pub fn signing_chain(&self, spec: &SigningCertSpec) -> String {
        let mut params = CertificateParams::new(spec.sans.clone()).unwrap();
        params.distinguished_name.push(DnType::CommonName, ECHO_API);
        params.not_before = spec.not_before;
        params.not_after = spec.not_after;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(spec.key, &*self.intermediate).unwrap();
        format!("{}{}", cert.pem(), self.intermediate.pem())
    }

    /// A TLS server configuration with a certificate for `host` from this CA.
    pub fn server_config(&self, host: &str) -> Arc<rustls::ServerConfig> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, host);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let cert = params.signed_by(&key, &*self.intermediate).unwrap();
        let chain = vec![
            cert.der().clone(),
            CertificateDer::from(self.intermediate.der().to_vec()),
        ];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        Arc::new(config)
    }
}

fn ca_params(name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.not_before = now() - time::Duration::days(2);
    params.not_after = now() + time::Duration::days(365);
    params
}

/// What the chain server answers to every request.
#[derive(Clone, Debug)]
pub struct Serve {
    /// The HTTP status.
    pub status: u16,
    /// The body (the PEM chain).
    pub body: Vec<u8>,
    /// How long to wait before answering.
    pub delay: Duration,
    /// The `Content-Length` header to send.
    pub content_length: ContentLength,
    /// When set, only this path gets the answer above; every other path gets `404` with an
    /// S3-like error body (as S3 answers junk keys).
    pub only_path: Option<String>,
}

/// The `Content-Length` the chain server sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentLength {
    /// The body's length.
    Actual,
    /// None: the body ends when the connection closes.
    Omitted,
    /// This length, whatever the body's (the connection closes after the body).
    Declared(usize),
}

impl Serve {
    /// `200` with `body` at once, with its length.
    pub fn ok(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            body: body.into(),
            delay: Duration::ZERO,
            content_length: ContentLength::Actual,
            only_path: None,
        }
    }

    /// The same answer, for `path` only (e.g. [`CHAIN_PATH`]); `404` elsewhere.
    pub fn only_at(mut self, path: &str) -> Self {
        self.only_path = Some(path.to_owned());
        self
    }
}

/// A loopback HTTPS server (127.0.0.1, a free port) that answers every request as its
/// [`Serve`] says and records the paths asked for. Stops when dropped.
pub struct ChainServer {
    port: u16,
    paths: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl ChainServer {
    /// Starts the server on 127.0.0.1 with `tls` (see [`TestCa::server_config`]).
    pub async fn start(tls: Arc<rustls::ServerConfig>, serve: Serve) -> Self {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let paths = Arc::new(Mutex::new(Vec::new()));
        let acceptor = TlsAcceptor::from(tls);
        let log = Arc::clone(&paths);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, serve, log) = (acceptor.clone(), serve.clone(), Arc::clone(&log));
                tokio::spawn(async move {
                    let _ = answer(acceptor, tcp, &serve, &log).await;
                });
            }
        });
        Self { port, paths, task }
    }

    /// The port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// How many HTTP requests (downloads) reached the server.
    pub fn downloads(&self) -> usize {
        self.paths.lock().unwrap().len()
    }

    /// The paths requested, in order.
    pub fn paths(&self) -> Vec<String> {
        self.paths.lock().unwrap().clone()
    }
}

impl Drop for ChainServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    serve: &Serve,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    let mut tls = acceptor.accept(tcp).await?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tls.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let path = text
        .lines()
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .unwrap_or_default()
        .to_owned();
    log.lock().unwrap().push(path.clone());
    tokio::time::sleep(serve.delay).await;
    let not_found;
    let serve = match &serve.only_path {
        Some(only) if *only != path => {
            not_found = Serve {
                status: 404,
                only_path: None,
                ..Serve::ok("<Error><Code>NoSuchKey</Code></Error>")
            };
            &not_found
        }
        _ => serve,
    };
    let mut response = format!(
        "HTTP/1.1 {} Test\r\nContent-Type: application/x-pem-file\r\nConnection: close\r\n",
        serve.status
    );
    let length = match serve.content_length {
        ContentLength::Actual => Some(serve.body.len()),
        ContentLength::Omitted => None,
        ContentLength::Declared(n) => Some(n),
    };
    if let Some(n) = length {
        response.push_str(&format!("Content-Length: {n}\r\n"));
    }
    response.push_str("\r\n");
    tls.write_all(response.as_bytes()).await?;
    tls.write_all(&serve.body).await?;
    tls.shutdown().await
}
