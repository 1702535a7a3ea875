//! What the tool shows: keys (redacted unless asked), progress bars on stderr, logs around them.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use persistence_core::RedactedKey;

/// How keys (user IDs) appear in messages and logs: redacted ([`RedactedKey`]) unless
/// `--show-keys`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// Show keys in full.
    pub show: bool,
}

impl Keys {
    /// `key` as messages show it.
    ///
    /// ```
    /// use persistence_cli::output::Keys;
    /// let id = "amzn1.ask.account.AEXAMPLESECRETPART";
    /// assert!(!Keys { show: false }.show(id).contains("SECRETPART"));
    /// assert_eq!(Keys { show: true }.show(id), id);
    /// ```
    pub fn show(self, key: &str) -> String {
        if self.show {
            key.to_owned()
        } else {
            RedactedKey::new(key).to_string()
        }
    }
}

fn multi() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()))
}

/// Whether progress bars are drawn: stderr is a terminal and `--quiet` was not given.
pub fn bars_enabled(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Writes a line to stderr without tearing a progress bar.
pub fn eprintln_above(line: &str) {
    multi().suspend(|| {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    });
}

/// A `tracing` writer that prints log lines above the progress bars.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        multi().suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LogWriter
    }
}

/// A progress bar for long work: keys done, bytes, rate, and an ETA once the total is known.
/// Hidden (all calls cheap no-ops on the drawing side) when bars are off.
#[derive(Clone, Debug)]
pub struct Progress {
    bar: ProgressBar,
    unit: &'static str,
}

impl Progress {
    /// A bar counting `unit` (keys, lines) for the work named `what`.
    pub fn new(enabled: bool, what: &str, unit: &'static str) -> Self {
        let bar = if enabled {
            multi().add(ProgressBar::new_spinner())
        } else {
            ProgressBar::hidden()
        };
        bar.set_prefix(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(200));
        let p = Self { bar, unit };
        p.style_unknown();
        p
    }

    /// A hidden bar (library use, tests).
    pub fn hidden() -> Self {
        Self {
            bar: ProgressBar::hidden(),
            unit: "keys",
        }
    }

    fn style_unknown(&self) {
        let template = format!(
            "{{spinner}} {{prefix}}: {{human_pos}} {} {{msg}} ({{per_sec}}, {{elapsed}})",
            self.unit
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            self.bar.set_style(style);
        }
    }

    /// The total is known: show a bar and an ETA.
    pub fn set_total(&self, total: u64) {
        let template = format!(
            "{{prefix}}: [{{bar:30}}] {{human_pos}}/{{human_len}} {} {{msg}} ({{per_sec}}, ETA {{eta}})",
            self.unit
        );
        if let Ok(style) = ProgressStyle::with_template(&template) {
            self.bar.set_style(style.progress_chars("=> "));
        }
        self.bar.set_length(total);
    }

    /// A bar over bytes of input (import): bytes, rate and ETA; `count` keys in the message.
    pub fn bytes(enabled: bool, what: &str, total_bytes: Option<u64>) -> Self {
        let p = Self::new(enabled, what, "keys");
        let template = match total_bytes {
            Some(_) => {
                "{prefix}: [{bar:30}] {bytes}/{total_bytes} {msg} ({bytes_per_sec}, ETA {eta})"
            }
            None => "{spinner} {prefix}: {bytes} {msg} ({bytes_per_sec}, {elapsed})",
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            p.bar.set_style(style.progress_chars("=> "));
        }
        if let Some(t) = total_bytes {
            p.bar.set_length(t);
        }
        p
    }

    /// One more unit done, `bytes` more bytes; the message shows the byte count.
    pub fn add(&self, n: u64, bytes_so_far: u64) {
        self.bar.inc(n);
        if !self.bar.is_hidden() {
            self.bar
                .set_message(format!("[{}]", HumanBytes(bytes_so_far)));
        }
    }

    /// Sets the position (bytes read, for [`Progress::bytes`]) and the message.
    pub fn set(&self, position: u64, message: String) {
        self.bar.set_position(position);
        if !self.bar.is_hidden() {
            self.bar.set_message(message);
        }
    }

    /// Done: removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// The peak resident memory of this process so far (`VmHWM`, KiB), where the system tells.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
