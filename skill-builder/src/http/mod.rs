//! An HTTP endpoint for a skill (feature `http`, axum on hyper) that verifies Alexa's requests
//! and holds up on the open internet.
//!
//! It takes Alexa's request envelope as a JSON `POST` to `/` and answers with the response
//! envelope as JSON.
//!
//! **Every request is verified first**, as Alexa requires of endpoints it calls outside AWS
//! Lambda (with [`alexa_request_verifier`], re-exported here as [`RequestVerifier`]):
//! - the `SignatureCertChainUrl` header: `https`, host `s3.amazonaws.com`, port 443 if given,
//!   a path under `/echo.api/` after resolving `.` and `..` (checked before any download);
//! - `request.timestamp`: at most 150 s from now (an hour for `AlexaSkillEvent.*` requests,
//!   which Alexa delivers late), also before any download;
//! - the certificate chain it names: downloaded over HTTPS (3 s timeout, 64 KiB cap, cached
//!   until it expires; concurrent requests for one URL share one download, failures are
//!   remembered for a minute, and at most 10 downloads start per minute, so junk URLs cost a
//!   bounded number of downloads), chaining to a Mozilla root, the signing certificate within
//!   its dates and naming `echo-api.amazon.com`;
//! - the `Signature-256` header: the RSA SHA-256 signature of the raw body by that
//!   certificate (the legacy SHA-1 `Signature` header is not supported).
//!
//! A request that fails any of them gets `400` with the body
//! `{"error":"request verification failed"}` and no handler runs; the log (`warn`) names the
//! rule and why, never the body, IDs or tokens.
//!
//! Then: `400` (`{"error":"invalid request body"}`) for a body that is not a request envelope,
//! logged with its line, column and error category only (serde's messages quote the body);
//! `400` (`{"error":"request refused"}`) for a request for another skill; the skill's response
//! with `200`; and when the skill fails and no exception handler answered, `200` with a spoken
//! fallback ("Sorry, something went wrong.", ending the session; see
//! [`HttpFront::with_fallback_speech`]) so that the user hears something rather than Alexa's
//! endpoint error, with the error logged.
//!
//! ## Limits
//!
//! Each has a default and a setter on [`HttpFront`]:
//!
//! | limit | default | past it |
//! |---|---|---|
//! | request head (line and headers) arrives within | [`DEFAULT_HEADER_READ_TIMEOUT`] (5 s) | connection closed (hyper's `header_read_timeout`; also bounds idle keep-alive connections) |
//! | longest pause in the body | [`DEFAULT_BODY_READ_TIMEOUT`] (5 s) | `408`, connection closed (tower-http `RequestBodyTimeoutLayer`) |
//! | whole request: body, verification and turn | [`DEFAULT_REQUEST_TIMEOUT`] (10 s; Alexa gives up after 8 s) | `408` (tower-http `TimeoutLayer`) |
//! | body size | [`DEFAULT_MAX_BODY_BYTES`] (256 KiB) | `413` at once from `Content-Length`, else as soon as the body passes it, never buffered whole (tower-http `RequestBodyLimitLayer`) |
//! | request head size | [`MAX_HEAD_BYTES`] (64 KiB) | connection closed (hyper's `max_buf_size`) |
//! | open connections | [`DEFAULT_MAX_CONNECTIONS`] (256) | further connections wait in the listen backlog, unaccepted, until one closes |
//! | shutdown | on SIGTERM or Ctrl-C: stop accepting, let requests in flight finish (their saves included) for up to [`DEFAULT_SHUTDOWN_GRACE_PERIOD`] (10 s), then close what is left | |
//!
//! The body, request and head limits apply to [`HttpFront::into_router`] too; the header
//! timeout, connection limit and graceful shutdown are the server's ([`HttpFront::serve`],
//! [`HttpFront::serve_on`], [`HttpFront::serve_with_shutdown`]).
//!
//! Alexa calls HTTPS endpoints only: put this server behind a TLS-terminating proxy or load
//! balancer (with a certificate Alexa accepts) that passes the body and headers unchanged.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, http::{serve_http, DEFAULT_HTTP_ADDR}};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillBuilder::new() /* .on_launch(...) */ .build()?; // the skill ID from ALEXA_SKILL_ID
//! serve_http(skill, DEFAULT_HTTP_ADDR).await?; // verifies every request; returns after SIGTERM
//! # Ok(()) }
//! ```
//!
//! To embed it in a larger axum app, nest [`router`] (also verifying):
//!
//! ```
//! # let skill = skill_builder::SkillBuilder::new().skip_skill_id_check_for_local_testing().build().unwrap();
//! let app: axum::Router = axum::Router::new().nest("/alexa", skill_builder::http::router(skill));
//! ```
//!
//! ## Local development without verification
//!
//! Requests you POST yourself (curl, a test) carry no Alexa signature. To accept them, opt out
//! explicitly with [`HttpFront::skip_verification_for_local_development`]; the server then
//! logs a warning at start-up and a `debug` line on each request saying that nothing was
//! verified. Never expose such a server.
//!
//! ```no_run
//! use skill_builder::{SkillBuilder, http::{HttpFront, DEFAULT_HTTP_ADDR}};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillBuilder::new().skip_skill_id_check_for_local_testing().build()?;
//! HttpFront::new(skill)
//!     .skip_verification_for_local_development() // curl -d @request.json http://127.0.0.1:3000/
//!     .serve(DEFAULT_HTTP_ADDR)
//!     .await?;
//! # Ok(()) }
//! ```

mod handler;
mod server;

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use tokio::net::TcpListener;

pub use alexa_request_verifier::{RequestVerifier, VerifyError};

use crate::skill::Skill;

/// `127.0.0.1:3000`: the loopback interface only.
pub const DEFAULT_HTTP_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 3000));

/// What the fallback response says when the skill fails: see
/// [`HttpFront::with_fallback_speech`].
pub const DEFAULT_FALLBACK_SPEECH: &str = "Sorry, something went wrong.";

/// How long a client may take to send a request's line and headers, from the moment the
/// server is ready to read them (a new connection, or a kept-alive one after its last
/// response): 5 s. Alexa (or the proxy in front) sends them at once; a client that trickles
/// them (slowloris) or holds an idle connection open is disconnected.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The longest pause allowed between two pieces of a request body: 5 s. The whole body is also
/// bounded by [`DEFAULT_REQUEST_TIMEOUT`].
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// How long one request may take, from its headers to the response (body, verification, the
/// turn and its save): 10 s. Alexa waits 8 s for an answer, so a turn past this one is lost
/// anyway; the margin lets a turn that Alexa just gave up on still finish its save.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest request body accepted: 256 KiB.
///
/// Alexa's requests are small: the largest in this repository's test data (an intent request
/// with device, viewport and APL context) is 4.5 KB. What can make one grow is what the skill
/// itself put in its previous response, which comes back in `session.attributes`, and APL's
/// visual context; Amazon's JSON interface reference caps a whole response at 24 KB. 256 KiB is
/// ten times that plus room for the context, and bounds what the
/// [`DEFAULT_MAX_CONNECTIONS`] connections can make the server buffer to 64 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 256 * 1024;

/// The largest request head (request line and headers) read: 64 KiB (hyper's read buffer;
/// its default is about 400 KiB). Alexa's headers take under 2 KB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How many connections are served at once: 256. Further connections are not accepted until
/// one closes: they wait in the operating system's listen backlog (the client sees a slow
/// connect, and a full backlog drops new connection attempts). Keep it under the process's
/// descriptor limit (`ulimit -n`, often 1024).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;

/// How long a graceful shutdown waits for requests in flight to finish before closing their
/// connections: 10 s, the [`DEFAULT_REQUEST_TIMEOUT`], so that every request in flight can
/// finish (container runtimes usually wait 10 s or more after SIGTERM before killing).
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(10);

/// The server's limits: see the [module docs](self#limits).
#[derive(Clone, Copy, Debug)]
struct Limits {
    header_read_timeout: Duration,
    body_read_timeout: Duration,
    request_timeout: Duration,
    max_body_bytes: usize,
    max_connections: usize,
    shutdown_grace_period: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            shutdown_grace_period: DEFAULT_SHUTDOWN_GRACE_PERIOD,
        }
    }
}

/// The HTTP front for a skill, with its options: request verification (on unless
/// [`skip_verification_for_local_development`](Self::skip_verification_for_local_development)),
/// the fallback speech and the server's [limits](self#limits).
///
/// [`router`], [`serve_http`] and [`serve_http_on`] are `HttpFront::new(skill)` with the
/// defaults.
///
/// ```
/// use std::time::Duration;
/// use skill_builder::{SkillBuilder, http::{HttpFront, RequestVerifier}};
///
/// let skill = SkillBuilder::new().with_skill_id("amzn1.ask.skill.1").build().unwrap();
/// let front = HttpFront::new(skill)
///     .with_verifier(RequestVerifier::builder().fetch_timeout(Duration::from_secs(2)).build())
///     .with_fallback_speech("Entschuldigung, da ist etwas schiefgegangen.")
///     .with_max_connections(64)
///     .with_request_timeout(Duration::from_secs(9));
/// assert!(front.verifies_requests());
/// let app: axum::Router = front.into_router();
/// ```
pub struct HttpFront {
    skill: Skill,
    verifier: Option<RequestVerifier>,
    fallback_speech: String,
    limits: Limits,
}

impl HttpFront {
    /// A front for `skill` that verifies every request with [`RequestVerifier::new`], answers
    /// skill failures with [`DEFAULT_FALLBACK_SPEECH`] and has the default limits.
    pub fn new(skill: Skill) -> Self {
        Self {
            skill,
            verifier: Some(RequestVerifier::new()),
            fallback_speech: DEFAULT_FALLBACK_SPEECH.to_owned(),
            limits: Limits::default(),
        }
    }

    /// Verifies requests with `verifier` (e.g. one built with another timeout, or one shared
    /// with other endpoints so that they share its certificate cache). Turns verification
    /// back on after [`skip_verification_for_local_development`](Self::skip_verification_for_local_development).
    pub fn with_verifier(mut self, verifier: RequestVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// **Local development only**: accepts requests without verifying that they come from
    /// Alexa, so that you can POST requests yourself (curl, tests). Anyone who can reach the
    /// server can then drive the skill as any user. The server warns at start-up and logs
    /// each unverified request at `debug` level.
    pub fn skip_verification_for_local_development(mut self) -> Self {
        self.verifier = None;
        self
    }

    /// What Alexa says (plain text) when the skill fails and no exception handler answered;
    /// [`DEFAULT_FALLBACK_SPEECH`] by default. Say it in the skill's language.
    pub fn with_fallback_speech(mut self, text: impl Into<String>) -> Self {
        self.fallback_speech = text.into();
        self
    }

    /// How long a client may take to send a request's line and headers (also how long an idle
    /// kept-alive connection stays open); [`DEFAULT_HEADER_READ_TIMEOUT`] by default.
    pub fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.header_read_timeout = timeout;
        self
    }

    /// The longest pause allowed between two pieces of a request body;
    /// [`DEFAULT_BODY_READ_TIMEOUT`] by default.
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.body_read_timeout = timeout;
        self
    }

    /// How long one request may take from its headers to the response, the turn included;
    /// [`DEFAULT_REQUEST_TIMEOUT`] by default. A turn past it is cancelled (its save may or may
    /// not have happened, as when a process is killed) and the client gets `408`.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.limits.request_timeout = timeout;
        self
    }

    /// The largest request body accepted, in bytes; [`DEFAULT_MAX_BODY_BYTES`] by default.
    pub fn with_max_body_bytes(mut self, limit: usize) -> Self {
        self.limits.max_body_bytes = limit;
        self
    }

    /// How many connections are served at once (at least 1); [`DEFAULT_MAX_CONNECTIONS`] by
    /// default. Further connections wait, unaccepted, until one closes.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.limits.max_connections = max.max(1);
        self
    }

    /// How long a graceful shutdown waits for requests in flight;
    /// [`DEFAULT_SHUTDOWN_GRACE_PERIOD`] by default.
    pub fn with_shutdown_grace_period(mut self, grace: Duration) -> Self {
        self.limits.shutdown_grace_period = grace;
        self
    }

    /// Whether requests are verified (true unless
    /// [`skip_verification_for_local_development`](Self::skip_verification_for_local_development)).
    pub fn verifies_requests(&self) -> bool {
        self.verifier.is_some()
    }

    /// An axum router that serves the skill at `POST /`, with the body-size cap, the body and
    /// request timeouts. Warns when verification is off.
    pub fn into_router(self) -> axum::Router {
        if !self.verifies_requests() {
            warn_unverified(None);
        }
        handler::router(self)
    }

    /// Binds `addr` and serves the skill there until SIGTERM or Ctrl-C, then shuts down
    /// gracefully (see [`serve_with_shutdown`](Self::serve_with_shutdown)).
    ///
    /// # Errors
    /// When `addr` cannot be bound, the signal handlers cannot be installed, or accepting
    /// connections fails for good.
    pub async fn serve(self, addr: SocketAddr) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve_on(listener).await
    }

    /// Serves the skill on an already bound listener (e.g. bound to port 0 in a test) until
    /// SIGTERM or Ctrl-C, then shuts down gracefully.
    ///
    /// # Errors
    /// When the signal handlers cannot be installed, or accepting connections fails for good.
    pub async fn serve_on(self, listener: TcpListener) -> std::io::Result<()> {
        let signal = server::shutdown_signal()?;
        self.serve_with_shutdown(listener, signal).await
    }

    /// Serves the skill on `listener` until `shutdown` completes, then shuts down gracefully:
    /// stops accepting connections, closes idle ones, lets requests in flight finish (the
    /// turn and its save) for up to the grace period
    /// ([`with_shutdown_grace_period`](Self::with_shutdown_grace_period)), closes what is
    /// left, and returns.
    ///
    /// ```no_run
    /// # use skill_builder::{SkillBuilder, http::HttpFront};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let skill = SkillBuilder::new().build()?;
    /// let server = tokio::spawn(
    ///     HttpFront::new(skill)
    ///         .serve_with_shutdown(listener, async { stopped.await.ok(); }),
    /// );
    /// // ...
    /// stop.send(()).ok();
    /// server.await??;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// When accepting connections fails for good.
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        if self.verifies_requests() {
            tracing::info!(%addr, "skill listening for Alexa requests (POST /), verifying each");
        } else {
            warn_unverified(Some(addr));
            tracing::info!(%addr, "skill listening for requests (POST /), NOT verified");
        }
        let limits = self.limits;
        server::serve(listener, handler::router(self), limits, shutdown).await
    }
}

impl fmt::Debug for HttpFront {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpFront")
            .field("skill", &self.skill)
            .field("verifier", &self.verifier)
            .field("fallback_speech", &self.fallback_speech)
            .field("limits", &self.limits)
            .finish()
    }
}

fn warn_unverified(addr: Option<SocketAddr>) {
    let exposed = addr.is_some_and(|a| !a.ip().is_loopback());
    tracing::warn!(
        addr = addr.map(tracing::field::display),
        exposed,
        "Alexa request verification is OFF (skip_verification_for_local_development): any \
         request is accepted as coming from Alexa. Local development only{}",
        if exposed {
            "; this address is reachable from other machines"
        } else {
            ""
        }
    );
}

/// An axum router that serves `skill` at `POST /`, verifying every request
/// (`HttpFront::new(skill).into_router()`).
pub fn router(skill: Skill) -> axum::Router {
    HttpFront::new(skill).into_router()
}

/// Binds `addr` and serves `skill` there until SIGTERM or Ctrl-C, verifying every request
/// (`HttpFront::new(skill).serve(addr)`).
///
/// # Errors
/// As [`HttpFront::serve`].
pub async fn serve_http(skill: Skill, addr: SocketAddr) -> std::io::Result<()> {
    HttpFront::new(skill).serve(addr).await
}

/// Serves `skill` on an already bound listener until SIGTERM or Ctrl-C, verifying every
/// request (`HttpFront::new(skill).serve_on(listener)`).
///
/// # Errors
/// As [`HttpFront::serve_on`].
pub async fn serve_http_on(skill: Skill, listener: TcpListener) -> std::io::Result<()> {
    HttpFront::new(skill).serve_on(listener).await
}

#[cfg(test)]
mod tests;
