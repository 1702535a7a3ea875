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

mod keys;
mod listing;
mod record;
mod store;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use persistence_core::{
    Attributes, Clock, Entry, Error, ListOptions, Pages, PersistenceAdapter, Result, SaveOptions,
    Stored, SystemClock, Version, async_trait, is_expired,
};

pub use keys::{MAX_KEY_BYTES, decode_path, encode_key};
use store::Inner;

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
pub(crate) async fn blocking<T, F>(operation: &'static str, resource: &str, f: F) -> Result<T>
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
