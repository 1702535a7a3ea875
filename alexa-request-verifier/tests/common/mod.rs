//! The setup the verifier's tests share: a test CA, a loopback chain server and a verifier
//! trusting that CA.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use alexa_request_verifier::{RequestVerifier, RequestVerifierBuilder, VerifyError};
use alexa_request_verifier_testkit::{
    CHAIN_HOST, ChainServer, Serve, SigningCertSpec, TestCa, headers, now, request_body, sign,
    signing_key,
};

/// A trusted test CA, a loopback server answering as `serve` says, and a verifier trusting
/// that CA and downloading from that server.
pub struct Setup {
    pub server: ChainServer,
    pub verifier: RequestVerifier,
}

impl Setup {
    pub async fn serving(serve: impl FnOnce(&TestCa) -> Serve) -> Self {
        Self::with(serve, |b| b).await
    }

    pub async fn with(
        serve: impl FnOnce(&TestCa) -> Serve,
        configure: impl FnOnce(RequestVerifierBuilder) -> RequestVerifierBuilder,
    ) -> Self {
        Self::with_ca(TestCa::new("Alexa Verifier Test Root"), serve, configure).await
    }

    pub async fn with_ca(
        ca: TestCa,
        serve: impl FnOnce(&TestCa) -> Serve,
        configure: impl FnOnce(RequestVerifierBuilder) -> RequestVerifierBuilder,
    ) -> Self {
        let server = ChainServer::start(ca.server_config(CHAIN_HOST), serve(&ca)).await;
        let builder = RequestVerifier::builder()
            .insecure_trust_roots_for_tests([ca.root_der()])
            .insecure_connect_to_loopback_for_tests(server.port());
        let verifier = configure(builder).build();
        Self { server, verifier }
    }

    /// Serving the chain of a signing certificate as `spec` says.
    pub async fn with_cert(spec: SigningCertSpec) -> Self {
        Self::serving(|ca| Serve::ok(ca.signing_chain(&spec))).await
    }

    /// Serving a good chain.
    pub async fn good() -> Self {
        Self::with_cert(SigningCertSpec::default()).await
    }

    /// Verifies a fresh request signed by Alexa's key, with the chain at `url`.
    pub async fn verify_signed(&self, url: &str) -> Result<(), VerifyError> {
        let body = request_body(now());
        let headers = headers(url, &sign(signing_key(), body.as_bytes()));
        self.verifier.verify(&headers, body.as_bytes()).await
    }
}
