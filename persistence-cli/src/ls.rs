//! `ls`: every key, one per line, as it is listed.

use std::io::{ErrorKind, Write};

use futures::StreamExt;
use persistence_core::ListOptions;

use crate::copy::Context;
use crate::exit::{CliError, Status};
use crate::skip::{Skip, Skipped};
use crate::store::Store;

/// What `ls` listed.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct LsReport {
    /// Keys written.
    pub keys: u64,
    /// Names under the store that are not keys (S3 "folder" markers and the like): not
    /// listed, counted and named on stderr.
    #[serde(flatten)]
    pub skips: Skipped,
    /// The reader went away (`| head`): listing stopped there.
    pub closed: bool,
}

impl LsReport {
    /// 0 every name listed was a key, 1 some were skipped.
    pub fn status(&self) -> Status {
        Status::of_run(false, self.skips.is_empty())
    }
}

/// Writes every key of `src` (under `prefix`) to `out`, one per line (`json`: one JSON string
/// per line), flushing after each page so that keys reach the reader as they are listed. Names
/// that are not keys are skipped, counted and named on stderr; a reader that goes away ends the
/// listing quietly.
///
/// ```
/// use std::sync::Arc;
/// use persistence_cli::{copy::Context, ls::ls, store::{Store, StoreUrl}};
/// use persistence_core::Attributes;
/// use persistence_memory::MemoryAdapter;
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let m = MemoryAdapter::new();
/// m.seed("user-1", Attributes::new());
/// let src = Store { url: StoreUrl::Memory, adapter: Arc::new(m) };
/// let mut out = Vec::new();
/// let r = ls(&src, None, false, &mut out, &Context::default()).await?;
/// assert_eq!((r.keys, out), (1, b"user-1\n".to_vec()));
/// # Ok(()) }
/// ```
pub async fn ls<W: Write>(
    src: &Store,
    prefix: Option<&str>,
    json: bool,
    out: &mut W,
    ctx: &Context,
) -> Result<LsReport, CliError> {
    let mut report = LsReport::default();
    let mut options = ListOptions::default().page_size(1000);
    if let Some(p) = prefix {
        options = options.prefix(p);
    }
    let mut pages = src.adapter.list_keys(&options);
    while let Some(page) = pages.next().await {
        let keys = match page {
            Ok(keys) => keys,
            Err(e) => {
                report.skips.add(Skip::from_listing(e)?, ctx.keys, None);
                continue;
            }
        };
        for key in keys {
            let line = if json {
                serde_json::Value::String(key).to_string()
            } else {
                key
            };
            match out
                .write_all(line.as_bytes())
                .and_then(|()| out.write_all(b"\n"))
            {
                Ok(()) => report.keys += 1,
                Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                    report.closed = true;
                    return Ok(report);
                }
                Err(e) => return Err(CliError::io("writing to standard output", &e)),
            }
        }
        match out.flush() {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                report.closed = true;
                return Ok(report);
            }
            Err(e) => return Err(CliError::io("writing to standard output", &e)),
        }
    }
    Ok(report)
}
