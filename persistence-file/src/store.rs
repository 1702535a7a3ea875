//! Reading, writing and deleting one key's file under its lock.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use persistence_core::clock::epoch_seconds;
use persistence_core::limits::{MAX_JSON_DEPTH, check_depth};
use persistence_core::{
    Attributes, Clock, Error, RedactedKey, Result, SaveMode, SaveOptions, Stored, Version,
    is_expired, is_unique_token, remember_token, validate_key, write_token,
};

use crate::keys::{
    LOCK_DIR, LOCK_STRIPES, MAX_KEY_BYTES, MAX_PATH_BYTES, OWN_NAME_PREFIX, encode_key,
};
use crate::record::{self, Record};

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) root: PathBuf,
    pub(crate) resource: String,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) default_expiry: Option<Duration>,
    pub(crate) fsync: bool,
}

impl Inner {
    pub(crate) fn path_of(&self, key: &str) -> Result<PathBuf> {
        validate_key(key, MAX_KEY_BYTES)?;
        let relative = encode_key(key);
        let len = self.root.as_os_str().len() + 1 + relative.len();
        if len > MAX_PATH_BYTES {
            return Err(Error::InvalidKey {
                key: RedactedKey::new(key),
                reason: format!(
                    "its file path would be {len} bytes long, over the limit of {MAX_PATH_BYTES}"
                ),
            });
        }
        Ok(self.root.join(relative))
    }

    pub(crate) fn io_error(&self, operation: &'static str, what: &str, e: io::Error) -> Error {
        // std's I/O errors carry no path, so the key (in the file name) cannot leak through them.
        Error::backend(operation, self.resource.clone(), what.to_owned(), e)
    }

    fn corrupt(&self, key: &str, detail: impl Into<String>) -> Error {
        Error::corrupt(self.resource.clone(), key, detail)
    }

    fn conflict(&self, operation: &'static str, key: &str, reason: impl Into<String>) -> Error {
        Error::conflict(operation, self.resource.clone(), key, reason)
    }

    fn check_version(&self, operation: &'static str, key: &str, v: &str) -> Result<()> {
        if is_unique_token(v) {
            Ok(())
        } else {
            Err(Error::InvalidVersion {
                operation,
                resource: self.resource.clone(),
                key: RedactedKey::new(key),
                version: v.chars().take(40).collect(),
                reason: "versions of a file store are write tokens (32 hex digits)",
            })
        }
    }

    fn parse(&self, key: &str, bytes: &[u8]) -> Result<Record> {
        record::decode(key, bytes).map_err(|detail| self.corrupt(key, detail))
    }

    /// Reads the file of `key`, expired or not.
    pub(crate) fn read(
        &self,
        operation: &'static str,
        key: &str,
        path: &Path,
    ) -> Result<Option<Record>> {
        match fs::read(path) {
            Ok(bytes) => self.parse(key, &bytes).map(Some),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.io_error(operation, "reading the file failed", e)),
        }
    }

    /// Takes the lock of `key`'s stripe; released when the file is dropped.
    fn lock(&self, operation: &'static str, key: &str) -> Result<File> {
        let dir = self.root.join(LOCK_DIR);
        let stripe = key.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        }) % LOCK_STRIPES;
        let path = dir.join(format!("{stripe:02}"));
        let open = || OpenOptions::new().create(true).append(true).open(&path);
        let file = match open() {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !self.root.is_dir() {
                    return Err(Error::NotFound {
                        operation,
                        resource: self.resource.clone(),
                    });
                }
                fs::create_dir_all(&dir).map_err(|e| {
                    self.io_error(operation, "creating the lock directory failed", e)
                })?;
                open()
            }
            other => other,
        }
        .map_err(|e| self.io_error(operation, "opening a lock file failed", e))?;
        file.lock()
            .map_err(|e| self.io_error(operation, "locking failed", e))?;
        Ok(file)
    }

    /// Writes `bytes` to `path` atomically: temporary file, flush, rename, flush the directory.
    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        let dir = path
            .parent()
            .ok_or_else(|| io::Error::other("a key's file has no directory"))?;
        if !dir.is_dir() {
            fs::create_dir_all(dir)?;
            if self.fsync {
                // New directories must reach the disk too, up to the root.
                for d in dir.ancestors().skip(1) {
                    sync_dir(d)?;
                    if d == self.root {
                        break;
                    }
                }
            }
        }
        let tmp = dir.join(format!(
            "{OWN_NAME_PREFIX}tmp-{}",
            persistence_core::unique_token()
        ));
        let written = (|| {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
            f.write_all(bytes)?;
            if self.fsync {
                f.sync_all()?;
            }
            drop(f);
            fs::rename(&tmp, path)?;
            if self.fsync {
                sync_dir(dir)?;
            }
            Ok(())
        })();
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    /// Removes `path`, then the chunk directories above it that became empty.
    fn remove(&self, path: &Path) -> io::Result<()> {
        match fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut dir = path.parent();
        if self.fsync
            && let Some(d) = dir
        {
            sync_dir(d)?;
        }
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
        Ok(())
    }

    pub(crate) fn get(&self, key: &str) -> Result<Option<Stored>> {
        let path = self.path_of(key)?;
        let now = self.clock.now();
        Ok(self
            .read("get", key, &path)?
            .filter(|r| !is_expired(r.expires_at, now))
            .map(Record::stored))
    }

    pub(crate) fn save(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let path = self.path_of(key)?;
        let token = write_token(options, "save", &self.resource, key)?;
        if let SaveMode::IfVersion(v) = &options.mode {
            self.check_version("save", key, v.as_str())?;
        }
        let exact = attributes.to_exact();
        check_depth(&exact, MAX_JSON_DEPTH, "save", &self.resource, key)?;
        let now = self.clock.now();
        let expires_at = options.expiry.resolve(self.default_expiry, now);

        let _lock = self.lock("save", key)?;
        // What is there decides; an unreadable file counts as "something else is there" (an
        // overwrite repairs it).
        let current = match self.read("save", key, &path) {
            Ok(c) => c.filter(|r| !is_expired(r.expires_at, now)),
            Err(Error::CorruptData { .. }) if matches!(options.mode, SaveMode::Overwrite) => None,
            Err(Error::CorruptData { .. }) => {
                return Err(self.conflict("save", key, "the stored file is unreadable"));
            }
            Err(e) => return Err(e),
        };
        if current.as_ref().is_some_and(|r| r.recent.contains(&token)) {
            // The same save made again after its answer was lost: it is one of the latest
            // writes, whatever was written on top of it since. Nothing more to write.
            tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
            return Ok(Version::new(token));
        }
        let refusal = match (&options.mode, &current) {
            (SaveMode::Overwrite, _) | (SaveMode::CreateOnly, None) => None,
            (SaveMode::CreateOnly, Some(_)) => Some("the key already exists".to_owned()),
            (SaveMode::IfVersion(_), None) => {
                Some("the key was deleted since it was read".to_owned())
            }
            (SaveMode::IfVersion(v), Some(r)) if v.as_str() == r.version => None,
            (SaveMode::IfVersion(v), Some(_)) => Some(format!(
                "the key is no longer at version {v} (changed since it was read)"
            )),
        };
        if let Some(reason) = refusal {
            return Err(self.conflict("save", key, reason));
        }
        let recent = remember_token(current.map(|r| r.recent).unwrap_or_default(), token.clone());
        let bytes = record::encode(key, &token, &recent, expires_at.map(epoch_seconds), &exact);
        self.write_atomically(&path, &bytes)
            .map_err(|e| self.io_error("save", "writing the file failed", e))?;
        tracing::trace!(key = %RedactedKey::new(key), "file save");
        Ok(Version::new(token))
    }

    pub(crate) fn delete(&self, key: &str, expected: Option<&Version>) -> Result<()> {
        let path = self.path_of(key)?;
        if let Some(v) = expected {
            self.check_version("delete", key, v.as_str())?;
        }
        let _lock = self.lock("delete", key)?;
        if let Some(v) = expected {
            match self.read("delete", key, &path) {
                Ok(None) => return Ok(()),
                Ok(Some(r)) if r.version == v.as_str() => {}
                Ok(Some(_)) | Err(Error::CorruptData { .. }) => {
                    return Err(self.conflict(
                        "delete",
                        key,
                        format!("the key is no longer at version {v}"),
                    ));
                }
                Err(e) => return Err(e),
            }
        }
        self.remove(&path)
            .map_err(|e| self.io_error("delete", "removing the file failed", e))
    }
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
