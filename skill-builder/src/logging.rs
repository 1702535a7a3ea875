//! Logging that follows AWS Lambda's settings, and never prints a raw event.
//!
//! [`init`] installs a `tracing` subscriber once for the process:
//! - **level**: `RUST_LOG` when set (tracing-subscriber's `EnvFilter` syntax), else Lambda's
//!   `AWS_LAMBDA_LOG_LEVEL` (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`), else `info`;
//! - **format**: JSON lines when Lambda's `AWS_LAMBDA_LOG_FORMAT` is `JSON` (what CloudWatch's
//!   JSON log format expects), plain text otherwise (no colours inside Lambda);
//! - **never the raw event**: `lambda_runtime` logs every event it receives, access tokens and
//!   user IDs included, at TRACE under the target [`RAW_EVENT_TARGET`]. A separate filter drops
//!   that target at every level, whatever `RUST_LOG` says: an `EnvFilter` span directive such as
//!   `RUST_LOG='[{requestId}]=trace'` enables every event inside matching spans whatever their
//!   target, so a target directive alone cannot keep it out.
//!
//! ```no_run
//! skill_builder::logging::init();
//! tracing::info!("the skill starts");
//! ```

use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, fmt};

/// The target of `lambda_runtime`'s TRACE line that holds each raw event.
pub const RAW_EVENT_TARGET: &str = "lambda_runtime::layers::api_response";

/// How [`init`] sets up logging, read from the environment ([`Settings::from_env`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// The filter directives (`RUST_LOG` syntax).
    pub filter: String,
    /// JSON lines instead of text.
    pub json: bool,
    /// Colours (a terminal outside Lambda).
    pub ansi: bool,
}

impl Settings {
    /// From `RUST_LOG`, `AWS_LAMBDA_LOG_LEVEL`, `AWS_LAMBDA_LOG_FORMAT` and whether Lambda runs
    /// the process (`AWS_LAMBDA_RUNTIME_API`).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// As [`from_env`](Self::from_env), with the variables from `lookup` (for tests).
    ///
    /// ```
    /// use skill_builder::logging::Settings;
    /// let lambda = |name: &str| match name {
    ///     "AWS_LAMBDA_LOG_LEVEL" => Some("DEBUG".to_owned()),
    ///     "AWS_LAMBDA_LOG_FORMAT" => Some("JSON".to_owned()),
    ///     "AWS_LAMBDA_RUNTIME_API" => Some("127.0.0.1:9001".to_owned()),
    ///     _ => None,
    /// };
    /// let s = Settings::from_lookup(lambda);
    /// assert_eq!((s.filter.as_str(), s.json, s.ansi), ("debug", true, false));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let var = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let in_lambda = var("AWS_LAMBDA_RUNTIME_API").is_some();
        let filter = var("RUST_LOG").unwrap_or_else(|| {
            match var("AWS_LAMBDA_LOG_LEVEL")
                .map(|l| l.trim().to_ascii_uppercase())
                .as_deref()
            {
                Some("TRACE") => "trace",
                Some("DEBUG") => "debug",
                Some("WARN") => "warn",
                Some("ERROR" | "FATAL") => "error",
                _ => "info",
            }
            .to_owned()
        });
        let json =
            var("AWS_LAMBDA_LOG_FORMAT").is_some_and(|f| f.trim().eq_ignore_ascii_case("json"));
        Self {
            filter,
            json,
            ansi: !in_lambda && !json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

/// The layer [`init`] installs, for a subscriber of your own: formatted by `settings`, filtered
/// by them, and never passing [`RAW_EVENT_TARGET`].
pub fn layer<S>(settings: &Settings) -> Box<dyn Layer<S> + Send + Sync>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let env = EnvFilter::try_new(&settings.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let no_raw_event = filter_fn(|meta| !meta.target().starts_with(RAW_EVENT_TARGET));
    let filter = env.and(no_raw_event);
    if settings.json {
        fmt::layer()
            .json()
            .with_current_span(false)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    } else {
        fmt::layer()
            .with_ansi(settings.ansi)
            .with_writer(std::io::stderr)
            .with_filter(filter)
            .boxed()
    }
}

/// Installs the subscriber ([module docs](self)) for the process. Does nothing when one is
/// installed already (a test harness, your own).
pub fn init() {
    let settings = Settings::from_env();
    let _ = tracing_subscriber::registry()
        .with(layer(&settings))
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// Logs what lambda_runtime logs for an event, inside its span, under `filter`.
    fn log_like_lambda_runtime(filter: &str) -> String {
        let captured = Captured::default();
        let writer = captured.clone();
        let env = EnvFilter::try_new(filter).unwrap();
        let layer = fmt::layer()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .with_filter(env.and(filter_fn(|meta| {
                !meta.target().starts_with(RAW_EVENT_TARGET)
            })));
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "abc");
            let _in = span.enter();
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "SECRET-ACCESS-TOKEN", "raw event");
            tracing::info!(target: "my_skill", "the skill's own line");
        });
        String::from_utf8(captured.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn no_filter_can_print_the_raw_event() {
        for filter in [
            "trace",
            "lambda_runtime=trace",
            "[{requestId}]=trace",
            "[Lambda runtime invoke]=trace",
            "lambda_runtime::layers::api_response=trace",
        ] {
            let text = log_like_lambda_runtime(filter);
            assert!(!text.contains("SECRET-ACCESS-TOKEN"), "{filter}: {text}");
        }
        assert!(log_like_lambda_runtime("info").contains("the skill's own line"));
    }

    #[test]
    fn a_span_directive_alone_would_print_it() {
        // Why the separate filter exists: an EnvFilter span directive enables the raw-event line
        // whatever its target.
        let captured = Captured::default();
        let writer = captured.clone();
        let layer = fmt::layer()
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .with_filter(
                EnvFilter::try_new("lambda_runtime::layers::api_response=off,[{requestId}]=trace")
                    .unwrap(),
            );
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "abc");
            let _in = span.enter();
            tracing::trace!(target: "lambda_runtime::layers::api_response", body = "SECRET-ACCESS-TOKEN", "raw event");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(text.contains("SECRET-ACCESS-TOKEN"), "{text}");
    }

    #[test]
    fn lambda_settings_are_followed() {
        let s = Settings::from_lookup(|n| (n == "AWS_LAMBDA_LOG_LEVEL").then(|| "WARN".into()));
        assert_eq!(s.filter, "warn");
        assert!(!s.json);
        let s = Settings::from_lookup(|n| match n {
            "RUST_LOG" => Some("my_skill=debug".into()),
            "AWS_LAMBDA_LOG_LEVEL" => Some("ERROR".into()),
            _ => None,
        });
        assert_eq!(s.filter, "my_skill=debug", "RUST_LOG wins");
    }
}
