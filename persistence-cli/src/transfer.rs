//! `export` and `import`: JSON Lines files ([`crate::jsonl`]).

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use futures::StreamExt;
use persistence_core::clock::epoch_seconds;
use persistence_core::{Error, ListOptions};

use crate::copy::Context;
use crate::engine::{self, Listed, Problem, Written, keep};
use crate::exit::{CliError, Status};
use crate::jsonl::{self, Lines, Record};
use crate::output::{Progress, peak_rss_kib};
use crate::skip::Skipped;
use crate::store::Store;

/// What an export did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ExportReport {
    /// The source URL.
    pub source: String,
    /// The file written (`-`: standard output).
    pub file: String,
    /// Keys written.
    pub keys: u64,
    /// Bytes written.
    pub bytes: u64,
    /// Source entries skipped (names that are not keys, unreadable data): not in the file.
    /// JSON fields `skipped`, `skipped_not_a_key`, `skipped_unreadable`, `skipped_entries`.
    #[serde(flatten)]
    pub skips: Skipped,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Peak resident memory of the process (VmHWM), KiB.
    pub peak_rss_kib: Option<u64>,
}

impl ExportReport {
    /// The exit status: 0 every listed entry exported, 1 some were skipped.
    pub fn status(&self) -> Status {
        Status::of_run(false, self.skips.is_empty())
    }

    /// Human-readable summary.
    pub fn render(&self) -> String {
        format!(
            "exported {} keys ({}) from {} to {} in {:.1} s\n{}",
            self.keys,
            indicatif::HumanBytes(self.bytes),
            self.source,
            self.file,
            self.elapsed_s,
            self.skips.render()
        )
    }
}

/// Where an export goes.
enum Sink {
    Stdout(BufWriter<io::Stdout>),
    File {
        out: BufWriter<File>,
        tmp: PathBuf,
        path: PathBuf,
    },
}

impl Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(bytes),
            Sink::File { out, .. } => out.write_all(bytes),
        }
    }

    /// Flushes; for a file, to disk, then renames the temporary file into place.
    fn commit(self) -> io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::File { out, tmp, path } => {
                let file = out.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                drop(file);
                std::fs::rename(&tmp, &path)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    File::open(dir)?.sync_all()?;
                }
                Ok(())
            }
        }
    }

    fn abandon(self) {
        if let Sink::File { tmp, out, .. } = self {
            drop(out);
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Writes every live key of `src` (under `prefix`) to `file` as JSON Lines (`-`: standard
/// output). The file appears only when complete: lines go to a temporary file next to it,
/// renamed at the end; on an error or Ctrl-C it is removed and `file` is untouched. Source
/// entries that are not keys or cannot be read are skipped and counted
/// ([`ExportReport::skips`]): the file holds every other key.
pub async fn export(
    src: &Store,
    file: &Path,
    prefix: Option<&str>,
    concurrency: usize,
    ctx: &Context,
) -> Result<ExportReport, CliError> {
    let started = Instant::now();
    let mut sink = if file == Path::new("-") {
        Sink::Stdout(BufWriter::new(io::stdout()))
    } else {
        let name = file
            .file_name()
            .ok_or_else(|| CliError::usage(format!("{} is not a file name", file.display())))?;
        let tmp = file.with_file_name(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        let out = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| CliError::io(format_args!("cannot create {}", tmp.display()), &e))?;
        Sink::File {
            out: BufWriter::new(out),
            tmp,
            path: file.to_owned(),
        }
    };
    let mut report = ExportReport {
        source: src.url.to_string(),
        file: file.display().to_string(),
        ..ExportReport::default()
    };
    let list = ListOptions::default().page_size(engine::PAGE_SIZE);
    let list = match prefix {
        Some(p) => list.prefix(p),
        None => list,
    };
    let progress = Progress::new(ctx.bars, "exporting", "keys");
    let resumed = AtomicU64::new(0);
    let mut entries =
        engine::entries(src, &list, concurrency, None, &resumed).take_until(ctx.cancel.cancelled());
    let mut failure: Option<CliError> = None;
    while let Some(entry) = entries.next().await {
        let e = match entry {
            Ok(Listed::Entry(e)) => e,
            Ok(Listed::Skipped(skip)) => {
                report.skips.add(skip, ctx.keys, None);
                continue;
            }
            Err(err) => {
                failure = Some(err.into());
                break;
            }
        };
        let line = jsonl::to_line(&e.key, &e.stored);
        if let Err(err) = sink.write(&line) {
            failure = Some(CliError::io(
                format_args!("writing {}", file.display()),
                &err,
            ));
            break;
        }
        report.keys += 1;
        report.bytes += line.len() as u64;
        progress.add(1, report.bytes);
    }
    drop(entries);
    progress.finish();
    if failure.is_none() && ctx.cancel.is_cancelled() {
        failure = Some(CliError::new(
            Status::Interrupted,
            format!("export interrupted: {} was not written", file.display()),
        ));
    }
    if let Some(f) = failure {
        sink.abandon();
        return Err(f);
    }
    sink.commit()
        .map_err(|e| CliError::io(format_args!("writing {}", file.display()), &e))?;
    report.elapsed_s = started.elapsed().as_secs_f64();
    report.peak_rss_kib = peak_rss_kib();
    Ok(report)
}

/// What `import` does with a bad line or a key it cannot write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop. A file is checked whole before anything is written, so a bad line leaves the
    /// destination untouched.
    #[default]
    Stop,
    /// Report it with its line number and go on with the next line.
    Skip,
}

/// How to import.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// Replace keys the destination holds with other attributes (default: report them).
    pub overwrite: bool,
    /// Bad lines and failed keys: stop or skip.
    pub on_error: OnError,
    /// Lines written at once.
    pub concurrency: usize,
}

/// What an import did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ImportReport {
    /// The file read (`-`: standard input).
    pub file: String,
    /// The destination URL.
    pub destination: String,
    /// Lines read (blank ones included).
    pub lines: u64,
    /// Keys written.
    pub imported: u64,
    /// Keys the destination already held identically.
    pub unchanged: u64,
    /// Keys replaced (`--overwrite`).
    pub replaced: u64,
    /// Lines whose attributes had already expired: not written.
    pub expired: u64,
    /// Bad lines and keys not written (other attributes there, refused).
    pub failed: u64,
    /// The first problems, by line number.
    pub problems: Vec<Problem>,
    /// Stopped at the first problem (`--on-error stop`).
    pub stopped: bool,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Peak resident memory of the process (VmHWM), KiB.
    pub peak_rss_kib: Option<u64>,
}

impl ImportReport {
    /// The exit status: 0 all lines done, 1 some were not, 130 interrupted.
    pub fn status(&self) -> Status {
        Status::of_run(self.interrupted, self.failed == 0)
    }

    /// Human-readable summary.
    pub fn render(&self) -> String {
        let mut out = format!(
            "imported {} of {} lines from {} to {} in {:.1} s: {} written, {} unchanged, {} \
             replaced, {} already expired (not written), {} failed{}\n",
            self.imported + self.unchanged + self.replaced,
            self.lines,
            self.file,
            self.destination,
            self.elapsed_s,
            self.imported,
            self.unchanged,
            self.replaced,
            self.expired,
            self.failed,
            if self.stopped {
                " (stopped at the first problem)"
            } else {
                ""
            }
        );
        for p in &self.problems {
            out.push_str(&format!("  {}: {}\n", p.key, p.problem));
        }
        out
    }
}

fn open_input(file: &Path) -> Result<(Box<dyn BufRead + Send>, Option<u64>), CliError> {
    if file == Path::new("-") {
        return Ok((Box::new(BufReader::new(io::stdin())), None));
    }
    let f = File::open(file).map_err(|e| {
        let status = if e.kind() == io::ErrorKind::NotFound {
            Status::NotFound
        } else {
            Status::Failed
        };
        CliError::new(status, format!("cannot open {}: {e}", file.display()))
    })?;
    let size = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    Ok((Box::new(BufReader::with_capacity(1 << 16, f)), size))
}

/// Checks every line of `file` before anything is written; the first bad one is an error naming
/// its line (exit 2).
fn validate(file: &Path) -> Result<u64, CliError> {
    let (reader, _) = open_input(file)?;
    let mut lines = Lines::new(reader);
    let mut records = 0;
    while let Some((n, line)) = lines.next_line() {
        let bad = |why: String| {
            CliError::usage(format!(
                "{}: line {n}: {why}; nothing was imported (--on-error skip imports the other \
                 lines)",
                file.display()
            ))
        };
        match line {
            Ok(bytes) => {
                if jsonl::parse_line(bytes).map_err(bad)?.is_some() {
                    records += 1;
                }
            }
            Err(jsonl::LineError::Io(e)) => {
                return Err(CliError::io(format_args!("reading {}", file.display()), &e));
            }
            Err(e) => return Err(bad(e.to_string())),
        }
    }
    Ok(records)
}

/// What became of one line.
enum LineOutcome {
    Blank,
    Bad(String),
    Expired,
    Written(Written),
}

/// One line, read and parsed.
enum Parsed {
    Record(Record),
    Blank,
    Bad(String),
}

/// Imports `file` (JSON Lines; `-`: standard input) into `dst`. Each line is one atomic,
/// create-only save (a line whose key the destination holds identically is "unchanged"; with
/// other attributes it is a problem unless `overwrite`), so an import can be run again after a
/// failure or Ctrl-C. With [`OnError::Stop`] a file is checked whole first and a bad line
/// writes nothing; [`OnError::Skip`] reports bad lines (with their numbers) and goes on.
pub async fn import(
    file: &Path,
    dst: &Store,
    options: &ImportOptions,
    ctx: &Context,
) -> Result<ImportReport, CliError> {
    let started = Instant::now();
    let stop = options.on_error == OnError::Stop;
    if stop && file != Path::new("-") {
        let n = validate(file)?;
        tracing::info!(lines = n, "every line is valid");
    }
    let (reader, size) = open_input(file)?;
    let mut report = ImportReport {
        file: file.display().to_string(),
        destination: dst.url.to_string(),
        ..ImportReport::default()
    };
    let progress = Progress::bytes(ctx.bars, "importing", size);
    let halt = Arc::new(AtomicBool::new(false));
    let read_bytes = Arc::new(AtomicU64::new(0));
    let mut lines = Lines::new(reader);
    let io_error: Arc<std::sync::Mutex<Option<io::Error>>> = Arc::default();
    let source = {
        let (halt, read_bytes, io_error) = (halt.clone(), read_bytes.clone(), io_error.clone());
        futures::stream::iter(std::iter::from_fn(move || {
            if halt.load(Ordering::Relaxed) {
                return None;
            }
            let (n, line) = lines.next_line()?;
            let parsed = match line {
                Ok(bytes) => match jsonl::parse_line(bytes) {
                    Ok(Some(r)) => Parsed::Record(r),
                    Ok(None) => Parsed::Blank,
                    Err(why) => Parsed::Bad(why),
                },
                Err(jsonl::LineError::Io(e)) => {
                    if let Ok(mut slot) = io_error.lock() {
                        *slot = Some(e);
                    }
                    return None;
                }
                Err(e) => Parsed::Bad(e.to_string()),
            };
            read_bytes.store(lines.bytes_read(), Ordering::Relaxed);
            Some((n, parsed))
        }))
    };
    let now = SystemTime::now();
    let dst_adapter = dst.adapter.as_ref();
    let overwrite = options.overwrite;
    let mut results = source
        .take_until(ctx.cancel.cancelled())
        .map(|(n, parsed)| async move {
            let outcome = match parsed {
                Parsed::Blank => LineOutcome::Blank,
                Parsed::Bad(why) => LineOutcome::Bad(why),
                Parsed::Record(r) if r.expires_at.is_some_and(|at| at <= epoch_seconds(now)) => {
                    LineOutcome::Expired
                }
                Parsed::Record(r) => LineOutcome::Written(
                    engine::write_one(
                        dst_adapter,
                        &r.key,
                        &r.attributes,
                        r.expires_at_time(),
                        overwrite,
                        false,
                    )
                    .await,
                ),
            };
            (n, outcome)
        })
        .buffer_unordered(options.concurrency.max(1));

    let mut fatal: Option<Error> = None;
    while let Some((n, written)) = results.next().await {
        report.lines = report.lines.max(n);
        let problem = match written {
            LineOutcome::Blank => None,
            LineOutcome::Expired => {
                report.expired += 1;
                None
            }
            LineOutcome::Bad(why) => Some(why),
            LineOutcome::Written(Written::Created | Written::WouldCreate) => {
                report.imported += 1;
                None
            }
            LineOutcome::Written(Written::Identical) => {
                report.unchanged += 1;
                None
            }
            LineOutcome::Written(Written::Replaced | Written::WouldReplace) => {
                report.replaced += 1;
                None
            }
            LineOutcome::Written(Written::Differs) => Some(
                "the destination holds other attributes for this key (left alone; --overwrite \
                 replaces them)"
                    .to_owned(),
            ),
            LineOutcome::Written(Written::Failed(e)) => Some(e.to_string()),
            LineOutcome::Written(Written::Fatal(e)) => {
                fatal = Some(e);
                break;
            }
        };
        if let Some(why) = problem {
            report.failed += 1;
            let line = format!("line {n}");
            crate::output::eprintln_above(&format!("{}: {line}: {why}", file.display()));
            keep(
                &mut report.problems,
                Problem {
                    key: line,
                    problem: why,
                },
            );
            if stop {
                report.stopped = true;
                halt.store(true, Ordering::Relaxed);
            }
        }
        progress.set(
            read_bytes.load(Ordering::Relaxed),
            format!(
                "{} keys",
                report.imported + report.unchanged + report.replaced
            ),
        );
    }
    drop(results);
    progress.finish();
    if let Some(e) = fatal {
        return Err(e.into());
    }
    if let Ok(mut slot) = io_error.lock()
        && let Some(e) = slot.take()
    {
        return Err(CliError::io(format_args!("reading {}", file.display()), &e));
    }
    report.interrupted = ctx.cancel.is_cancelled();
    report.elapsed_s = started.elapsed().as_secs_f64();
    report.peak_rss_kib = peak_rss_kib();
    Ok(report)
}
