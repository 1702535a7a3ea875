//! The checkpoint of a `copy`: which keys are done, recorded durably, so that `--resume` after a
//! crash or Ctrl-C finishes the copy without reading them again.
//!
//! The file is a header line (what is copied where) and then one line per key done: the first
//! 128 bits of the key's SHA-256 in hex. Keys themselves (user IDs) are never written to it. A
//! key is recorded only once its destination holds it, so a recorded key is done; a key done but
//! not yet recorded when the process died is done again on resume, which the copy recognises
//! (the destination already holds identical attributes) instead of writing twice. Lines are
//! flushed to disk every [`SYNC_EVERY_KEYS`] keys or [`SYNC_EVERY`], and at the end.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::exit::{CliError, Status};

/// Keys between two flushes to disk.
pub const SYNC_EVERY_KEYS: usize = 256;

/// Longest time between two flushes to disk.
pub const SYNC_EVERY: Duration = Duration::from_secs(1);

/// The 128-bit digest a checkpoint records for a key.
pub type KeyDigest = [u8; 16];

/// The digest of `key`.
pub fn digest(key: &str) -> KeyDigest {
    let full = Sha256::digest(key.as_bytes());
    let mut out = [0u8; 16];
    out.copy_from_slice(&full[..16]);
    out
}

fn hex(d: &KeyDigest) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<KeyDigest> {
    if s.len() != 32 {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What a checkpoint belongs to: a resume must copy the same thing.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Header {
    /// Always `alexa-persistence copy`.
    pub checkpoint: String,
    /// Format version (1).
    pub version: u32,
    /// The source URL.
    pub source: String,
    /// The destination URL.
    pub destination: String,
    /// The key prefix copied, if any.
    pub prefix: Option<String>,
}

impl Header {
    /// The header of a copy from `source` to `destination`.
    pub fn new(source: &str, destination: &str, prefix: Option<&str>) -> Self {
        Self {
            checkpoint: "alexa-persistence copy".into(),
            version: 1,
            source: source.into(),
            destination: destination.into(),
            prefix: prefix.map(str::to_owned),
        }
    }

    /// The default checkpoint file name for this copy, in the current directory:
    /// `alexa-persistence-copy-<16 hex digits>.checkpoint`.
    pub fn default_path(&self) -> PathBuf {
        let id = digest(&format!(
            "{}\n{}\n{}",
            self.source,
            self.destination,
            self.prefix.as_deref().unwrap_or("")
        ));
        PathBuf::from(format!(
            "alexa-persistence-copy-{}.checkpoint",
            &hex(&id)[..16]
        ))
    }
}

/// Keys an earlier run finished (read-only during a run).
#[derive(Debug, Default)]
pub struct Done(HashSet<KeyDigest>);

impl Done {
    /// Whether `key` was done.
    pub fn contains(&self, key: &str) -> bool {
        !self.0.is_empty() && self.0.contains(&digest(key))
    }

    /// How many keys were done.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when none were.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// An open checkpoint file, appending the keys done.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    out: BufWriter<File>,
    unsynced: usize,
    last_sync: Instant,
}

impl Checkpoint {
    /// Starts a new checkpoint at `path`. An existing file is an error (exit 2) that says to
    /// resume or remove it: its copy was not finished.
    pub fn create(path: &Path, header: &Header) -> Result<Self, CliError> {
        let file = match OpenOptions::new().write(true).create_new(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(CliError::usage(format!(
                    "{} exists: an earlier copy was not finished. Add --resume to finish it, or \
                     remove the file to start over",
                    path.display()
                )));
            }
            Err(e) => {
                return Err(CliError::io(
                    format_args!("cannot create checkpoint {}", path.display()),
                    &e,
                ));
            }
        };
        let mut cp = Self {
            path: path.to_owned(),
            out: BufWriter::new(file),
            unsynced: 0,
            last_sync: Instant::now(),
        };
        let line = serde_json::to_string(header).unwrap_or_default();
        cp.write_line(&line)
            .and_then(|()| cp.sync())
            .map_err(|e| cp.error("cannot write", &e))?;
        // The directory entry too, so that a crash right now still leaves the file.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(cp)
    }

    /// Opens the checkpoint at `path` to resume: its header must match `header`; returns the
    /// keys done. A missing file starts a new checkpoint (nothing was done). A last line cut
    /// short by a crash is dropped.
    pub fn resume(path: &Path, header: &Header) -> Result<(Self, Done), CliError> {
        let file = match OpenOptions::new().read(true).write(true).open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(
                    "no checkpoint at {}: starting from the beginning",
                    path.display()
                );
                return Ok((Self::create(path, header)?, Done::default()));
            }
            Err(e) => {
                return Err(CliError::io(
                    format_args!("cannot open checkpoint {}", path.display()),
                    &e,
                ));
            }
        };
        let damaged = |line: u64, why: &str| {
            CliError::new(
                Status::Usage,
                format!(
                    "checkpoint {} is damaged at line {line} ({why}); remove it to start over",
                    path.display()
                ),
            )
        };
        let mut reader = BufReader::new(&file);
        let mut done = HashSet::new();
        let mut line = String::new();
        let mut number = 0u64;
        let mut complete_bytes = 0u64;
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| CliError::io(format_args!("cannot read {}", path.display()), &e))?;
            if n == 0 {
                break;
            }
            number += 1;
            if !line.ends_with('\n') {
                tracing::debug!("dropping the last checkpoint line, cut short by a crash");
                break;
            }
            let text = line.trim_end();
            if number == 1 {
                let found: Header = serde_json::from_str(text)
                    .map_err(|_| damaged(1, "not a copy checkpoint header"))?;
                if found != *header {
                    return Err(CliError::usage(format!(
                        "checkpoint {} belongs to another copy ({} -> {}{}); remove it or pass \
                         the same source, destination and prefix",
                        path.display(),
                        found.source,
                        found.destination,
                        found
                            .prefix
                            .as_deref()
                            .map(|p| format!(", prefix {p}"))
                            .unwrap_or_default()
                    )));
                }
            } else {
                done.insert(unhex(text).ok_or_else(|| damaged(number, "not a key digest"))?);
            }
            complete_bytes += n as u64;
        }
        if number == 0 {
            return Err(damaged(1, "empty"));
        }
        drop(reader);
        // Drop a cut-short last line before appending after it.
        file.set_len(complete_bytes)
            .map_err(|e| CliError::io(format_args!("cannot repair {}", path.display()), &e))?;
        let mut file = file;
        file.seek(io::SeekFrom::End(0))
            .map_err(|e| CliError::io(format_args!("cannot open {}", path.display()), &e))?;
        Ok((
            Self {
                path: path.to_owned(),
                out: BufWriter::new(file),
                unsynced: 0,
                last_sync: Instant::now(),
            },
            Done(done),
        ))
    }

    fn write_line(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    fn error(&self, what: &str, e: &io::Error) -> CliError {
        CliError::io(format_args!("{what} checkpoint {}", self.path.display()), e)
    }

    /// Records `key` as done; flushes to disk every [`SYNC_EVERY_KEYS`] keys or [`SYNC_EVERY`].
    pub fn record(&mut self, key: &str) -> Result<(), CliError> {
        self.write_line(&hex(&digest(key)))
            .map_err(|e| self.error("cannot write", &e))?;
        self.unsynced += 1;
        if self.unsynced >= SYNC_EVERY_KEYS || self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync().map_err(|e| self.error("cannot write", &e))?;
        }
        Ok(())
    }

    /// Flushes what is recorded to disk.
    pub fn sync(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_data()?;
        self.unsynced = 0;
        self.last_sync = Instant::now();
        Ok(())
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The copy is complete: removes the file.
    pub fn finish(mut self) -> Result<(), CliError> {
        self.out
            .flush()
            .map_err(|e| self.error("cannot write", &e))?;
        std::fs::remove_file(&self.path).map_err(|e| self.error("cannot remove", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header::new("dynamodb://t", "s3://b/p", None)
    }

    #[test]
    fn records_survive_and_resume_skips_them() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cp");
        let mut cp = Checkpoint::create(&path, &header()).unwrap();
        for i in 0..1000 {
            cp.record(&format!("user-{i}")).unwrap();
        }
        drop(cp); // no finish: as if the process had ended here
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("user-"), "keys are not written in clear");
        let (mut cp, done) = Checkpoint::resume(&path, &header()).unwrap();
        assert_eq!(done.len(), 1000);
        assert!(done.contains("user-0") && done.contains("user-999"));
        assert!(!done.contains("user-1000"));
        cp.record("user-1000").unwrap();
        cp.sync().unwrap();
        let (cp, done) = Checkpoint::resume(&path, &header()).unwrap();
        assert_eq!(done.len(), 1001);
        cp.finish().unwrap();
        assert!(!path.exists());
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_dropped_and_overwritten() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cp");
        let mut cp = Checkpoint::create(&path, &header()).unwrap();
        cp.record("a").unwrap();
        cp.sync().unwrap();
        drop(cp);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&hex(&digest("b")).as_bytes()[..10]).unwrap();
        drop(f);
        let (mut cp, done) = Checkpoint::resume(&path, &header()).unwrap();
        assert_eq!(done.len(), 1);
        assert!(!done.contains("b"));
        cp.record("c").unwrap();
        cp.sync().unwrap();
        let (_, done) = Checkpoint::resume(&path, &header()).unwrap();
        assert_eq!(done.len(), 2, "the torn line did not damage the next one");
        assert!(done.contains("c"));
    }

    #[test]
    fn an_unfinished_copy_is_not_overwritten_and_another_copy_cannot_resume_it() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cp");
        let cp = Checkpoint::create(&path, &header()).unwrap();
        drop(cp);
        let again = Checkpoint::create(&path, &header()).unwrap_err();
        assert_eq!(again.status, Status::Usage);
        assert!(again.message.contains("--resume"), "{}", again.message);
        let other = Header::new("dynamodb://t", "s3://b/other", None);
        let e = Checkpoint::resume(&path, &other).unwrap_err();
        assert!(e.message.contains("another copy"), "{}", e.message);
        std::fs::write(&path, "{\"checkpoint\":\"alexa-persistence copy\",\"version\":1,\"source\":\"dynamodb://t\",\"destination\":\"s3://b/p\",\"prefix\":null}\nnot-hex\n").unwrap();
        let e = Checkpoint::resume(&path, &header()).unwrap_err();
        assert!(e.message.contains("damaged at line 2"), "{}", e.message);
    }

    #[test]
    fn resuming_without_a_file_starts_afresh() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("cp");
        let (_cp, done) = Checkpoint::resume(&path, &header()).unwrap();
        assert!(done.is_empty());
        assert!(path.exists());
    }

    #[test]
    fn default_paths_differ_per_copy() {
        let a = header().default_path();
        let b = Header::new("dynamodb://t", "s3://b/q", None).default_path();
        assert_ne!(a, b);
        assert!(a.to_string_lossy().ends_with(".checkpoint"));
    }
}
