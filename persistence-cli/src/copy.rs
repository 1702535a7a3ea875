//! `copy` (and `verify`): every key of one store into another, concurrently, streaming,
//! resumable.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::StreamExt;
use persistence_core::{Error, ListOptions};

use crate::checkpoint::{Checkpoint, Header};
use crate::engine::{self, Cancel, Listed, Problem, RaiseHook, Written, keep};
use crate::exit::{CliError, Status};
use crate::output::{Keys, Progress, peak_rss_kib};
use crate::skip::{SkipReason, Skipped};
use crate::store::Store;
pub use crate::verify::{VerifyReport, verify};

/// How to copy.
#[derive(Clone, Debug)]
pub struct CopyOptions {
    /// Only keys starting with this.
    pub prefix: Option<String>,
    /// Keys read and written at once.
    pub concurrency: usize,
    /// Only say what would be written.
    pub dry_run: bool,
    /// Replace keys the destination holds with other attributes (default: leave them, report).
    pub overwrite: bool,
    /// Where progress is recorded (`None`: nowhere; `--no-checkpoint`, dry runs).
    pub checkpoint: Option<PathBuf>,
    /// Continue the copy the checkpoint belongs to.
    pub resume: bool,
    /// Afterwards, compare every key of the source and the destination.
    pub verify: bool,
}

impl Default for CopyOptions {
    fn default() -> Self {
        Self {
            prefix: None,
            concurrency: 16,
            dry_run: false,
            overwrite: false,
            checkpoint: None,
            resume: false,
            verify: false,
        }
    }
}

/// What the bulk commands share: key display, progress bars, cancellation.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// How keys appear in messages.
    pub keys: Keys,
    /// Draw progress bars.
    pub bars: bool,
    /// Ctrl-C.
    pub cancel: Cancel,
}

/// What a copy did.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct CopyReport {
    /// The source URL.
    pub source: String,
    /// The destination URL.
    pub destination: String,
    /// Whether nothing was written (dry run).
    pub dry_run: bool,
    /// Keys written (or, dry run, that would be).
    pub copied: u64,
    /// Keys the destination already held identically (nothing written).
    pub identical: u64,
    /// Keys replaced (`--overwrite`; dry run: that would be).
    pub replaced: u64,
    /// Keys the destination holds with other attributes, left alone.
    pub different: u64,
    /// Keys skipped because an earlier run finished them (`--resume`).
    pub resumed: u64,
    /// Keys that failed.
    pub failed: u64,
    /// Source entries skipped (names that are not keys, unreadable data): JSON fields
    /// `skipped`, `skipped_not_a_key`, `skipped_unreadable`, `skipped_entries`.
    #[serde(flatten)]
    pub skips: Skipped,
    /// Bytes of attributes (compact JSON) read from the source.
    pub bytes: u64,
    /// The first problems (keys redacted unless `--show-keys`).
    pub problems: Vec<Problem>,
    /// Stopped by Ctrl-C.
    pub interrupted: bool,
    /// The checkpoint kept for `--resume` (when the copy is not complete).
    pub checkpoint: Option<String>,
    /// Wall time, seconds.
    pub elapsed_s: f64,
    /// Keys handled per second (copied, identical, replaced, different, failed).
    pub keys_per_s: f64,
    /// Peak resident memory of the process (VmHWM), KiB.
    pub peak_rss_kib: Option<u64>,
    /// The comparison, with `--verify`.
    pub verify: Option<VerifyReport>,
}

impl CopyReport {
    /// The exit status this report gives: 1 when keys failed or differ, source entries were
    /// skipped, or the verification found differences or skipped entries.
    pub fn status(&self) -> Status {
        let all_done = self.failed == 0
            && self.different == 0
            && self.skips.is_empty()
            && self.verify.as_ref().is_none_or(|v| v.equal());
        Status::of_run(self.interrupted, all_done)
    }

    /// Human-readable summary lines.
    pub fn render(&self) -> String {
        let (verb, written, replaced) = if self.dry_run {
            ("would copy", "to write", "to replace")
        } else {
            ("copied", "written", "replaced")
        };
        let handled = self.copied + self.identical + self.replaced + self.different + self.failed;
        let mut out = format!(
            "{verb} {} of {} keys ({}) from {} to {} in {:.1} s ({:.0} keys/s)\n  {} {written}, {} \
             already there, {} {replaced}, {} left alone (different in the destination), {} done \
             earlier (--resume), {} failed\n",
            self.copied + self.replaced,
            handled + self.resumed,
            indicatif::HumanBytes(self.bytes),
            self.source,
            self.destination,
            self.elapsed_s,
            self.keys_per_s,
            self.copied,
            self.identical,
            self.replaced,
            self.different,
            self.resumed,
            self.failed,
        );
        for p in &self.problems {
            out.push_str(&format!("  {}: {}\n", p.key, p.problem));
        }
        out.push_str(&self.skips.render());
        if self.interrupted {
            out.push_str("interrupted: the keys in flight were finished\n");
        }
        if let Some(cp) = &self.checkpoint {
            out.push_str(&format!(
                "checkpoint kept in {cp}: run the same command with --resume to finish\n"
            ));
        }
        if let Some(v) = &self.verify {
            out.push_str(&v.render());
        }
        out
    }
}

/// Copies every live key of `src` (under `options.prefix`) into `dst`: create-only, so nothing
/// in `dst` is lost (keys it holds identically count as done, keys it holds differently are
/// left alone and reported, unless `overwrite`), concurrently and streaming (memory does not
/// grow with the number of keys), recording progress in a checkpoint so that a run after a
/// crash or Ctrl-C (`resume`) finishes without reading the finished keys again. Expired keys are
/// not copied; expiry times are. Source entries that are not keys or cannot be read are skipped
/// and counted ([`CopyReport::skips`]); they do not keep the checkpoint (a resume could not copy
/// them either).
pub async fn copy(
    src: &Store,
    dst: &Store,
    options: &CopyOptions,
    ctx: &Context,
) -> Result<CopyReport, CliError> {
    let started = Instant::now();
    let header = Header::new(
        &src.url.to_string(),
        &dst.url.to_string(),
        options.prefix.as_deref(),
    );
    let (mut checkpoint, done) = match (&options.checkpoint, options.dry_run) {
        (Some(path), false) if options.resume => {
            let (cp, done) = Checkpoint::resume(path, &header)?;
            (Some(cp), Some(done))
        }
        (Some(path), false) => (Some(Checkpoint::create(path, &header)?), None),
        _ => (None, None),
    };
    if let Some(d) = &done {
        tracing::info!(keys = d.len(), "resuming: keys done earlier are skipped");
    }
    let mut report = CopyReport {
        source: header.source.clone(),
        destination: header.destination.clone(),
        dry_run: options.dry_run,
        ..CopyReport::default()
    };
    let progress = Progress::new(
        ctx.bars,
        if options.dry_run {
            "checking"
        } else {
            "copying"
        },
        "keys",
    );
    let list = ListOptions::default().page_size(engine::PAGE_SIZE);
    let list = match &options.prefix {
        Some(p) => list.prefix(p.clone()),
        None => list,
    };
    // An ETA needs the total: count in the background where counting is cheap.
    let counter = (ctx.bars && src.url.counts_cheaply()).then(|| {
        let (adapter, list, progress) = (src.adapter.clone(), list.clone(), progress.clone());
        tokio::spawn(async move {
            let mut n = 0u64;
            let mut pages = adapter.list_keys(&list);
            while let Some(page) = pages.next().await {
                match page {
                    Ok(page) => n += page.len() as u64,
                    Err(e) if SkipReason::of(&e).is_some() => {}
                    Err(_) => return,
                }
            }
            progress.set_total(n);
        })
    });

    let resumed = AtomicU64::new(0);
    let hook = RaiseHook::from_env();
    let concurrency = options.concurrency.max(1);
    let dst_adapter = dst.adapter.as_ref();
    // A fatal error stops the reading; the keys in flight are still finished and recorded.
    let stop = Cancel::new();
    let stopped = futures::future::select(ctx.cancel.cancelled(), stop.cancelled());
    let mut results = engine::entries(src, &list, concurrency, done.as_ref(), &resumed)
        .take_until(stopped)
        .map(|entry| async move {
            match entry {
                Ok(Listed::Entry(e)) => {
                    let bytes = e.stored.attributes.json_len() as u64;
                    let w = engine::write_one(
                        dst_adapter,
                        &e.key,
                        &e.stored.attributes,
                        e.stored.expires_at,
                        options.overwrite,
                        options.dry_run,
                    )
                    .await;
                    Ok((e.key, bytes, w))
                }
                Ok(Listed::Skipped(skip)) => Err(skip),
                Err(err) => Ok((String::new(), 0, Written::Fatal(err))),
            }
        })
        .buffer_unordered(concurrency);

    let mut fatal: Option<Error> = None;
    let mut done_now = 0u64;
    while let Some(result) = results.next().await {
        let (key, bytes, written) = match result {
            Ok(r) => r,
            Err(skip) => {
                report.skips.add(skip, ctx.keys, None);
                continue;
            }
        };
        report.bytes += bytes;
        let finished = match written {
            Written::Created | Written::WouldCreate => {
                report.copied += 1;
                true
            }
            Written::Identical => {
                report.identical += 1;
                true
            }
            Written::Replaced | Written::WouldReplace => {
                report.replaced += 1;
                true
            }
            Written::Differs => {
                report.different += 1;
                keep(
                    &mut report.problems,
                    Problem {
                        key: ctx.keys.show(&key),
                        problem: "the destination holds other attributes (left alone; \
                                  --overwrite replaces them)"
                            .into(),
                    },
                );
                false
            }
            Written::Failed(e) => {
                report.failed += 1;
                crate::output::eprintln_above(&format!("{}: {e}", ctx.keys.show(&key)));
                keep(
                    &mut report.problems,
                    Problem {
                        key: ctx.keys.show(&key),
                        problem: e.to_string(),
                    },
                );
                false
            }
            Written::Fatal(e) => {
                stop.cancel();
                fatal.get_or_insert(e);
                continue;
            }
        };
        if finished && let Some(cp) = checkpoint.as_mut() {
            cp.record(&key)?;
        }
        done_now += 1;
        progress.add(1, report.bytes);
        if let Some(h) = &hook {
            h.check(done_now);
        }
    }
    drop(results);
    if let Some(c) = counter {
        c.abort();
    }
    progress.finish();
    report.resumed = resumed.load(Ordering::Relaxed);
    report.interrupted = ctx.cancel.is_cancelled();
    report.elapsed_s = started.elapsed().as_secs_f64();
    let handled =
        report.copied + report.identical + report.replaced + report.different + report.failed;
    report.keys_per_s = handled as f64 / report.elapsed_s.max(1e-9);

    let complete =
        fatal.is_none() && !report.interrupted && report.failed == 0 && report.different == 0;
    if let Some(mut cp) = checkpoint {
        if complete {
            cp.finish()?;
        } else {
            cp.sync()
                .map_err(|e| CliError::io("cannot write the checkpoint", &e))?;
            report.checkpoint = Some(cp.path().display().to_string());
        }
    }
    if let Some(e) = fatal {
        let mut err = CliError::from(e);
        if let Some(cp) = &report.checkpoint {
            err.message.push_str(&format!(
                "\n{} keys were done; the checkpoint is in {cp}: run the same command with \
                 --resume to finish",
                report.copied + report.identical + report.replaced + report.resumed
            ));
        }
        return Err(err);
    }
    if options.verify && !report.interrupted && !options.dry_run {
        report.verify = Some(verify(src, dst, options.prefix.as_deref(), concurrency, ctx).await?);
    }
    report.peak_rss_kib = peak_rss_kib();
    Ok(report)
}
