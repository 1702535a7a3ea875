//! Listing: walking the directory for key files.

use std::fs::{self, ReadDir};
use std::io;
use std::path::{Path, PathBuf};

use futures::StreamExt;
use persistence_core::listing::{page_items, until_fatal};
use persistence_core::{Error, ListOptions, Pages, Result, validate_key};

use crate::keys::{MAX_DEPTH, MAX_KEY_BYTES, OWN_NAME_PREFIX, decode_path};
use crate::store::Inner;
use crate::{FileAdapter, blocking};

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
    pub(crate) fn pages<'a, T>(
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
        let pages = futures::stream::unfold(Some(walker), move |state| {
            let inner = inner.clone();
            let options = options.clone();
            async move {
                let mut walker = state?;
                let resource = inner.resource.clone();
                let outcome = blocking("list", &resource, move || {
                    // Each key's result: an entry that cannot be read is an error of its own
                    // and the walk goes on past it.
                    let mut results = Vec::new();
                    let mut done = false;
                    while results.len() < size {
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
                        match read(&inner, key, &path, &options) {
                            Ok(Some(item)) => results.push(Ok(item)),
                            Ok(None) => {}
                            Err(e) if e.is_entry_error() => results.push(Err(e)),
                            Err(e) => return Err(e),
                        }
                    }
                    Ok((results, (!done).then_some(walker)))
                })
                .await;
                match outcome {
                    Ok((results, next)) => Some((page_items(results), next)),
                    Err(e) => Some((vec![Err(e)], None)),
                }
            }
        });
        until_fatal(pages.flat_map(futures::stream::iter))
    }
}
