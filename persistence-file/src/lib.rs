//! Alexa skill persistent attributes as one JSON file per key in a directory.
//!
//! [`FileAdapter`] is for backups you can read, local runs and migrations through the
//! `alexa-persistence` tool (`file://DIR`). It keeps the contract of the cloud backends (it
//! passes the same conformance suite): versions are write tokens that never repeat, saves and
//! deletes are conditional, attributes expire, keys are listed page by page.
//!
//! - **Layout**: the key `amzn1.ask.account.AB` is the file `amzn1.ask.account._a_b.json` (see
//!   [`encode_key`]): lowercase letters, digits, `-` and `.` stay; an uppercase letter becomes
//!   `_` and the letter in lowercase (so two keys never share a name on a case-insensitive file
//!   system); any other byte is `%` and two lowercase hex digits. Names longer than 200 bytes are
//!   cut into directories ending in `+`. The encoding is reversible ([`decode_path`]), so listing
//!   reads names, not files. Names starting with `~` are the adapter's own (temporary files, the
//!   `~locks` directory) and are never keys.
//! - **Content**: `{"key": ..., "version": ..., "expires_at": ..., "attributes": {...}}`, compact
//!   JSON: the version (the save's write token) is kept next to the data it names.
//! - **Atomic writes**: a save writes a temporary file in the same directory, flushes it to disk,
//!   and renames it over the old one (then flushes the directory): a reader sees the old file or
//!   the new one, never a mix, and a crash leaves one of the two.
//! - **Conditions across processes**: a save or delete holds an advisory lock (`flock`) on one
//!   of 64 lock files (chosen by the key) from its check to its rename, so two processes (or
//!   threads) writing one key cannot both pass a condition.
//! - **Keys**: up to [`MAX_KEY_BYTES`] bytes (the encoded path must stay within the operating
//!   system's path limit), no control characters.
//!
//! ```
//! use persistence_core::{Attributes, PersistenceAdapter, SaveMode};
//! use persistence_file::FileAdapter;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> persistence_core::Result<()> {
//! # let tmp = tempfile::tempdir().unwrap();
//! let store = FileAdapter::create(tmp.path().join("backup"))?;
//! let mut attrs = Attributes::new();
//! attrs.set("usual", "large latte")?;
//! let v1 = store.save("amzn1.ask.account.A", &attrs, SaveMode::CreateOnly).await?;
//! let got = store.get("amzn1.ask.account.A").await?.expect("just saved");
//! assert_eq!(got.version, v1);
//! assert!(tmp.path().join("backup/amzn1.ask.account._a.json").exists());
//! # Ok(()) }
//! ```

use std::fs::{self, File, OpenOptions, ReadDir};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use futures::StreamExt;
use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, Pages, PersistenceAdapter, RedactedKey, Result,
    SaveMode, SaveOptions, Stored, SystemClock, Version, async_trait, is_expired, is_unique_token,
    validate_key,
};
use serde::{Deserialize, Serialize};

/// The longest key this adapter stores, in bytes (as S3's object keys): its encoded path stays
/// within the operating system's limits.
pub const MAX_KEY_BYTES: usize = 1024;

/// The longest file or directory name the encoding makes, in bytes (file systems allow 255).
const MAX_COMPONENT_BYTES: usize = 200;

/// The longest path (root included) this adapter opens; Linux allows 4096 bytes.
const MAX_PATH_BYTES: usize = 4000;

/// Lock files: a key's saves and deletes lock one of these.
const LOCK_STRIPES: u32 = 64;

/// Names the adapter keeps for itself start with this; encoded keys never do.
const OWN_NAME_PREFIX: char = '~';

/// The directory of lock files.
const LOCK_DIR: &str = "~locks";

/// Deepest directory the listing descends into (encoded keys need at most 16 levels).
const MAX_DEPTH: usize = 32;

/// The file name (a path relative to the adapter's directory, `/`-separated) that holds `key`.
///
/// Reversible ([`decode_path`]) and safe for any key: the result holds only `a-z 0-9 - . _ % +
/// /`, so no key can name another directory, a hidden file or one of the adapter's own files, and
/// two keys that differ only in case never share a name on a case-insensitive file system.
///
/// ```
/// use persistence_file::{decode_path, encode_key};
/// assert_eq!(encode_key("amzn1.ask.account.AB"), "amzn1.ask.account._a_b.json");
/// assert_eq!(encode_key("a/b é"), "a%2fb%20%c3%a9.json");
/// assert_eq!(decode_path("a%2fb%20%c3%a9.json").as_deref(), Some("a/b é"));
/// ```
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 8);
    let mut component = 0;
    for b in key.bytes() {
        let token_len = match b {
            b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => 1,
            b'A'..=b'Z' => 2,
            _ => 3,
        };
        if component + token_len > MAX_COMPONENT_BYTES {
            out.push_str("+/");
            component = 0;
        }
        match token_len {
            1 => out.push(char::from(b)),
            2 => {
                out.push('_');
                out.push(char::from(b.to_ascii_lowercase()));
            }
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push('%');
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        component += token_len;
    }
    out.push_str(".json");
    out
}

/// The key a file name made by [`encode_key`] holds, or `None` when `relative` is not exactly
/// what [`encode_key`] makes for some key (a file someone else put there).
///
/// ```
/// use persistence_file::decode_path;
/// assert_eq!(decode_path("user-1.json").as_deref(), Some("user-1"));
/// assert_eq!(decode_path("User-1.json"), None); // never made by encode_key
/// assert_eq!(decode_path("notes.txt"), None);
/// ```
pub fn decode_path(relative: &str) -> Option<String> {
    let body = relative.strip_suffix(".json")?;
    let parts: Vec<&str> = body.split('/').collect();
    let mut bytes = Vec::with_capacity(body.len());
    for (i, part) in parts.iter().enumerate() {
        let part = if i + 1 < parts.len() {
            part.strip_suffix('+')?
        } else {
            part
        };
        let mut it = part.bytes();
        while let Some(b) = it.next() {
            match b {
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' => bytes.push(b),
                b'_' => match it.next()? {
                    c @ b'a'..=b'z' => bytes.push(c.to_ascii_uppercase()),
                    _ => return None,
                },
                b'%' => {
                    let hi = hex_value(it.next()?)?;
                    let lo = hex_value(it.next()?)?;
                    bytes.push(hi << 4 | lo);
                }
                _ => return None,
            }
        }
    }
    let key = String::from_utf8(bytes).ok()?;
    (encode_key(&key) == relative).then_some(key)
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// What a file holds.
#[derive(Serialize)]
struct RecordOut<'a> {
    key: &'a str,
    version: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    attributes: &'a Attributes,
}

#[derive(Deserialize)]
struct RecordIn {
    key: String,
    version: String,
    #[serde(default)]
    expires_at: Option<u64>,
    attributes: serde_json::Value,
}

/// A file read back.
struct Record {
    version: String,
    expires_at: Option<SystemTime>,
    attributes: Attributes,
}

impl Record {
    fn stored(self) -> Stored {
        Stored::new(self.attributes, Version::new(self.version)).expiring(self.expires_at)
    }
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    resource: String,
    clock: Arc<dyn Clock>,
    default_expiry: Option<Duration>,
    fsync: bool,
}

/// Persistent attributes as JSON files in a directory. Cheap to clone (clones share settings);
/// any number of adapters, in any number of processes, may use one directory at once.
#[derive(Clone, Debug)]
pub struct FileAdapter {
    inner: Arc<Inner>,
}

impl FileAdapter {
    /// The adapter over an existing directory: [`Error::NotFound`] when there is none.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self> {
        let root = dir.into();
        let adapter = Self::at(root.clone());
        match fs::metadata(&root) {
            Ok(m) if m.is_dir() => Ok(adapter),
            Ok(_) => Err(Error::Incompatible {
                resource: adapter.inner.resource.clone(),
                detail: "it is not a directory".into(),
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(Error::NotFound {
                operation: "open",
                resource: adapter.inner.resource.clone(),
            }),
            Err(e) => Err(Error::backend(
                "open",
                adapter.inner.resource.clone(),
                "cannot read the directory",
                e,
            )),
        }
    }

    /// The adapter over a directory, created (with its parents) when missing.
    pub fn create(dir: impl Into<PathBuf>) -> Result<Self> {
        let root = dir.into();
        let adapter = Self::at(root.clone());
        fs::create_dir_all(&root).map_err(|e| {
            Error::backend(
                "create",
                adapter.inner.resource.clone(),
                "cannot create the directory",
                e,
            )
        })?;
        Self::open(root)
    }

    fn at(root: PathBuf) -> Self {
        Self {
            inner: Arc::new(Inner {
                resource: format!("directory '{}'", root.display()),
                root,
                clock: Arc::new(SystemClock),
                default_expiry: None,
                fsync: true,
            }),
        }
    }

    fn with(self, change: impl FnOnce(&mut Inner)) -> Self {
        let mut inner = Inner {
            root: self.inner.root.clone(),
            resource: self.inner.resource.clone(),
            clock: self.inner.clock.clone(),
            default_expiry: self.inner.default_expiry,
            fsync: self.inner.fsync,
        };
        change(&mut inner);
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Read the time from `clock` (default: the system clock; tests of expiry use
    /// [`persistence_core::ManualClock`]).
    #[must_use]
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        self.with(|i| i.clock = clock)
    }

    /// Keep each key's attributes for `ttl` after its last save, unless a save says otherwise
    /// ([`persistence_core::Expiry`]). Expired files read as absent until a save replaces them
    /// or they are deleted (`alexa-persistence purge-expired file://DIR`).
    #[must_use]
    pub fn with_default_expiry(self, ttl: Duration) -> Self {
        self.with(|i| i.default_expiry = Some(ttl))
    }

    /// Whether saves and deletes wait for the disk (`fsync` of the file and its directory;
    /// default on). Off, a power cut can lose the last writes, never half-write one.
    #[must_use]
    pub fn with_fsync(self, on: bool) -> Self {
        self.with(|i| i.fsync = on)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    /// The file that holds `key`, after checking the key.
    pub fn path_of(&self, key: &str) -> Result<PathBuf> {
        self.inner.path_of(key)
    }
}

/// Runs blocking file work off the async executor when there is a Tokio runtime.
async fn blocking<T, F>(operation: &'static str, resource: &str, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    if tokio::runtime::Handle::try_current().is_err() {
        return f();
    }
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r,
        Err(join) => Err(Error::backend(
            operation,
            resource.to_owned(),
            "the file task failed",
            join,
        )),
    }
}

impl Inner {
    fn path_of(&self, key: &str) -> Result<PathBuf> {
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

    fn io_error(&self, operation: &'static str, what: &str, e: io::Error) -> Error {
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
        let rec: RecordIn = serde_json::from_slice(bytes)
            .map_err(|e| self.corrupt(key, format!("the file is not a valid record ({e})")))?;
        if rec.key != key {
            return Err(self.corrupt(key, "the file holds another key's data"));
        }
        if !is_unique_token(&rec.version) {
            return Err(self.corrupt(key, "the file's version is not a write token"));
        }
        let mut value = rec.attributes;
        persistence_core::number::canonicalize(&mut value);
        let attributes = Attributes::try_from(value).map_err(|other| {
            self.corrupt(
                key,
                format!(
                    "`attributes` is {}, not a JSON object",
                    persistence_core::json_type_name(&other)
                ),
            )
        })?;
        Ok(Record {
            version: rec.version,
            expires_at: rec.expires_at.map(from_epoch_seconds),
            attributes,
        })
    }

    /// Reads the file of `key`, expired or not.
    fn read(&self, operation: &'static str, key: &str, path: &Path) -> Result<Option<Record>> {
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

    fn get(&self, key: &str) -> Result<Option<Stored>> {
        let path = self.path_of(key)?;
        let now = self.clock.now();
        Ok(self
            .read("get", key, &path)?
            .filter(|r| !is_expired(r.expires_at, now))
            .map(Record::stored))
    }

    fn save(&self, key: &str, attributes: &Attributes, options: &SaveOptions) -> Result<Version> {
        let path = self.path_of(key)?;
        let token = options.token_or_new();
        if !is_unique_token(&token) {
            return Err(Error::InvalidVersion {
                operation: "save",
                resource: self.resource.clone(),
                key: RedactedKey::new(key),
                version: token.chars().take(40).collect(),
                reason: "a write token must have persistence_core::unique_token's shape",
            });
        }
        if let SaveMode::IfVersion(v) = &options.mode {
            self.check_version("save", key, v.as_str())?;
        }
        let now = self.clock.now();
        let expires_at = options.expiry.resolve(self.default_expiry, now);
        let bytes = serde_json::to_vec(&RecordOut {
            key,
            version: &token,
            expires_at: expires_at.map(epoch_seconds),
            attributes,
        })
        .map_err(|e| Error::backend("save", self.resource.clone(), "encoding JSON failed", e))?;

        let _lock = self.lock("save", key)?;
        if !matches!(options.mode, SaveMode::Overwrite) {
            // What is there decides; an unreadable file counts as "something else is there".
            let current = match self.read("save", key, &path) {
                Ok(c) => c.map(|r| (r.version, r.expires_at)),
                Err(Error::CorruptData { .. }) => Some((String::new(), None)),
                Err(e) => return Err(e),
            };
            let refusal = match (&options.mode, &current) {
                (SaveMode::CreateOnly, None) => None,
                (SaveMode::CreateOnly, Some((_, exp))) if is_expired(*exp, now) => None,
                (SaveMode::CreateOnly, Some(_)) => Some("the key already exists".to_owned()),
                (SaveMode::IfVersion(_), None) => {
                    Some("the key was deleted since it was read".to_owned())
                }
                (SaveMode::IfVersion(v), Some((found, _))) if v.as_str() == found => None,
                (SaveMode::IfVersion(v), Some(_)) => Some(format!(
                    "the key is no longer at version {v} (changed since it was read)"
                )),
                (SaveMode::Overwrite, _) => None,
            };
            if let Some(reason) = refusal {
                // A save made again after its answer was lost: the stored write is this one.
                if let Some((found, _)) = &current
                    && *found == token
                {
                    tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
                    return Ok(Version::new(token));
                }
                return Err(self.conflict("save", key, reason));
            }
        }
        self.write_atomically(&path, &bytes)
            .map_err(|e| self.io_error("save", "writing the file failed", e))?;
        tracing::trace!(key = %RedactedKey::new(key), "file save");
        Ok(Version::new(token))
    }

    fn delete(&self, key: &str, expected: Option<&Version>) -> Result<()> {
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

/// Walks the directory tree depth first, yielding the keys of canonical key files.
struct Walker {
    root: PathBuf,
    /// Open directories, with their path relative to the root (`""` or `"abc+/"`).
    stack: Vec<(ReadDir, String)>,
    started: bool,
}

impl Walker {
    fn new(root: PathBuf) -> Self {
        Self {
            root,
            stack: Vec::new(),
            started: false,
        }
    }

    /// The next key file: its key and path. `Ok(None)` at the end.
    fn next_key(&mut self) -> io::Result<Option<(String, PathBuf)>> {
        if !self.started {
            self.started = true;
            self.stack.push((fs::read_dir(&self.root)?, String::new()));
        }
        while let Some((dir, relative)) = self.stack.last_mut() {
            let depth_left = MAX_DEPTH.saturating_sub(1);
            let Some(entry) = dir.next() else {
                self.stack.pop();
                continue;
            };
            let entry = entry?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with(OWN_NAME_PREFIX) {
                continue;
            }
            let path = entry.path();
            let mut kind = entry.file_type()?;
            if kind.is_symlink() {
                match fs::metadata(&path) {
                    Ok(m) => kind = m.file_type(),
                    Err(_) => continue,
                }
            }
            if kind.is_dir() {
                // Each level adds a '+/' component: the depth is the count of '/'.
                if name.ends_with('+') && relative.matches('/').count() < depth_left {
                    let below = format!("{relative}{name}/");
                    match fs::read_dir(&path) {
                        Ok(rd) => self.stack.push((rd, below)),
                        // Removed since it was listed (its last key was deleted).
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            if !kind.is_file() || !name.ends_with(".json") {
                continue;
            }
            let rel = format!("{relative}{name}");
            match decode_path(&rel) {
                Some(key) if validate_key(&key, MAX_KEY_BYTES).is_ok() => {
                    return Ok(Some((key, path)));
                }
                _ => tracing::debug!("ignoring a file whose name is not an encoded key"),
            }
        }
        Ok(None)
    }
}

impl FileAdapter {
    /// Pages of whatever `read` makes of each selected key file, each produced off the executor.
    fn pages<'a, T>(
        &'a self,
        options: &ListOptions,
        read: fn(&Inner, String, &Path, &ListOptions) -> Result<Option<T>>,
    ) -> Pages<'a, T>
    where
        T: Send + 'static,
    {
        let inner = self.inner.clone();
        let options = options.clone();
        let size = options.page_size.unwrap_or(1000).max(1);
        let walker = Walker::new(self.inner.root.clone());
        futures::stream::unfold(Some(walker), move |state| {
            let inner = inner.clone();
            let options = options.clone();
            async move {
                let mut walker = state?;
                let resource = inner.resource.clone();
                let outcome = blocking("list", &resource, move || {
                    let mut page = Vec::new();
                    let mut done = false;
                    while page.len() < size {
                        let next = walker.next_key().map_err(|e| {
                            if e.kind() == io::ErrorKind::NotFound && !inner.root.is_dir() {
                                Error::NotFound {
                                    operation: "list",
                                    resource: inner.resource.clone(),
                                }
                            } else {
                                inner.io_error("list", "reading the directory failed", e)
                            }
                        })?;
                        let Some((key, path)) = next else {
                            done = true;
                            break;
                        };
                        if !options.matches(&key) {
                            continue;
                        }
                        if let Some(item) = read(&inner, key, &path, &options)? {
                            page.push(item);
                        }
                    }
                    Ok((page, (!done).then_some(walker)))
                })
                .await;
                match outcome {
                    Ok((page, next)) => Some((Ok(page), next)),
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
        .filter(|page| futures::future::ready(!matches!(page, Ok(p) if p.is_empty())))
        .boxed()
    }
}

#[async_trait]
impl PersistenceAdapter for FileAdapter {
    async fn get(&self, key: &str) -> Result<Option<Stored>> {
        let inner = self.inner.clone();
        let key = key.to_owned();
        blocking("get", &self.inner.resource, move || inner.get(&key)).await
    }

    async fn save_with(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let inner = self.inner.clone();
        let (key, attributes, options) = (key.to_owned(), attributes.clone(), options.clone());
        blocking("save", &self.inner.resource, move || {
            inner.save(&key, &attributes, &options)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let inner = self.inner.clone();
        let key = key.to_owned();
        blocking("delete", &self.inner.resource, move || {
            inner.delete(&key, None)
        })
        .await
    }

    async fn delete_if(&self, key: &str, expected: &Version) -> Result<()> {
        let inner = self.inner.clone();
        let (key, expected) = (key.to_owned(), expected.clone());
        blocking("delete", &self.inner.resource, move || {
            inner.delete(&key, Some(&expected))
        })
        .await
    }

    /// Keys from file names, without reading the files: expired keys are listed until removed.
    fn list_keys<'a>(&'a self, options: &ListOptions) -> Pages<'a, String> {
        self.pages(options, |_, key, _, _| Ok(Some(key)))
    }

    fn entries<'a>(&'a self, options: &ListOptions) -> Pages<'a, Entry> {
        self.pages(options, |inner, key, path, options| {
            let Some(record) = inner.read("list", &key, path)? else {
                return Ok(None); // deleted since it was listed
            };
            if !options.include_expired && is_expired(record.expires_at, inner.clock.now()) {
                return Ok(None);
            }
            Ok(Some(Entry {
                key,
                stored: record.stored(),
            }))
        })
    }

    fn describe(&self) -> String {
        self.inner.resource.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_is_case_safe() {
        for key in [
            "amzn1.ask.account.AGF7EXAMPLE",
            "a",
            "UPPER lower 0-9 ._-~+%/\\",
            "ключ 🔑",
            "..",
            ".hidden",
            "~tmp-looks-like-ours",
            "con",
        ] {
            let enc = encode_key(key);
            assert!(
                enc.bytes()
                    .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'%' | b'+' | b'/')),
                "{enc}"
            );
            assert!(!enc.starts_with(OWN_NAME_PREFIX), "{enc}");
            assert_eq!(decode_path(&enc).as_deref(), Some(key), "{enc}");
        }
        assert_ne!(
            encode_key("Ab").to_lowercase(),
            encode_key("aB").to_lowercase()
        );
    }

    #[test]
    fn long_keys_are_cut_into_directories_without_splitting_escapes() {
        let key = format!("{}{}", "é".repeat(300), "A".repeat(150));
        let enc = encode_key(&key);
        let parts: Vec<&str> = enc.split('/').collect();
        assert!(parts.len() > 3, "{}", parts.len());
        for (i, p) in parts.iter().enumerate() {
            assert!(p.len() <= MAX_COMPONENT_BYTES + 5, "{p}");
            if i + 1 < parts.len() {
                assert!(p.ends_with('+'));
            }
        }
        assert_eq!(decode_path(&enc).as_deref(), Some(key.as_str()));
    }

    #[test]
    fn foreign_names_are_not_keys() {
        for name in [
            "a+.json",
            "A.json",
            "a_B.json",
            "a%2F.json",
            "a%zz.json",
            "a%2.json",
            "a.txt",
            "dir/a.json",
            "dir+/a.json", // a short key never lives in a directory
            "%ff.json",    // not UTF-8
        ] {
            assert_eq!(decode_path(name), None, "{name}");
        }
    }
}
