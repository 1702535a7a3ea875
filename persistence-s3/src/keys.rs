//! Object names: how the official ASK SDKs' S3 adapters join a prefix and a key, and back.
//!
//! Both official adapters name a user's object by joining the prefix and the key as paths:
//! Python with `os.path.join(path_prefix, key)` (the prefix as given, a `/` added unless it is
//! empty or ends with one), Node.js with `path.join(pathPrefix, key)` (the same, then the path
//! normalised: `//` collapsed, `.` segments dropped, `..` applied). A leading `/` is kept by
//! both: `/skills/cafe` names objects `/skills/cafe/<key>`.
//!
//! For most prefixes the two agree. Where they do not (a prefix with `//`, `.` or `..`
//! segments), the adapter must be told which SDK's objects it reads ([`KeyLayout`]); until then
//! every operation fails with [`Error::NotConfigured`] rather than reading from the wrong names
//! (users would look new, and saves would write beside their old objects).

use persistence_core::{Error, RedactedKey, Result, validate_key};

use crate::MAX_OBJECT_KEY_BYTES;

/// Which official SDK's path joining names the objects (see the [module docs](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyLayout {
    /// Python's `ask-sdk-s3-persistence-adapter`: `os.path.join(prefix, key)`, no normalising.
    Python,
    /// Node.js's `ask-sdk-s3-persistence-adapter`: `path.join(prefix, key)`, normalised.
    Node,
}

impl KeyLayout {
    /// The layout named `python` or `node` (any case).
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "python" => Some(Self::Python),
            "node" | "nodejs" | "node.js" => Some(Self::Node),
            _ => None,
        }
    }

    /// The object name for `key` under `prefix`.
    ///
    /// ```
    /// use persistence_s3::KeyLayout;
    /// assert_eq!(KeyLayout::Python.join("/skills/cafe", "u1"), "/skills/cafe/u1");
    /// assert_eq!(KeyLayout::Node.join("/skills/cafe", "u1"), "/skills/cafe/u1");
    /// assert_eq!(KeyLayout::Python.join("a//b/", "u1"), "a//b/u1");
    /// assert_eq!(KeyLayout::Node.join("a//b/", "u1"), "a/b/u1");
    /// assert_eq!(KeyLayout::Node.join("./a", "u1"), "a/u1");
    /// assert_eq!(KeyLayout::Python.join("", "u1"), "u1");
    /// ```
    pub fn join(self, prefix: &str, key: &str) -> String {
        format!("{}{key}", self.directory(prefix))
    }

    /// What every object name under `prefix` starts with (empty for the bucket's root).
    pub fn directory(self, prefix: &str) -> String {
        match self {
            Self::Python => {
                if prefix.is_empty() || prefix.ends_with('/') {
                    prefix.to_owned()
                } else {
                    format!("{prefix}/")
                }
            }
            Self::Node => match normalize(prefix).as_str() {
                "" | "." => String::new(),
                "/" => "/".to_owned(),
                p => format!("{p}/"),
            },
        }
    }
}

/// Node.js's `path.posix.normalize`: `//` collapsed, `.` segments dropped, `..` applied (kept at
/// the start of a relative path, dropped at the root of an absolute one); a trailing `/` is
/// dropped here, as `path.join` with a key after it makes it irrelevant.
fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                _ if absolute => {}
                _ => out.push(".."),
            },
            s => out.push(s),
        }
    }
    let joined = out.join("/");
    if absolute {
        format!("/{joined}")
    } else if joined.is_empty() {
        ".".to_owned()
    } else {
        joined
    }
}

/// How an adapter names objects: the prefix and, when the SDKs disagree on it, the layout.
#[derive(Clone, Debug)]
pub(crate) struct ObjectNames {
    prefix: String,
    layout: Option<KeyLayout>,
}

impl ObjectNames {
    pub(crate) fn new(prefix: String, layout: Option<KeyLayout>) -> Self {
        Self { prefix, layout }
    }

    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The directory objects live in, or an error when the two SDKs name them differently and
    /// no layout was chosen.
    pub(crate) fn directory(&self) -> Result<String> {
        let python = KeyLayout::Python.directory(&self.prefix);
        match self.layout {
            Some(layout) => Ok(layout.directory(&self.prefix)),
            None if python == KeyLayout::Node.directory(&self.prefix) => Ok(python),
            None => Err(Error::NotConfigured {
                what: format!(
                    "the S3 prefix {:?} names objects differently in the Python ({python:?}) and \
                     Node.js ({:?}) ASK SDKs; say which SDK wrote the data with \
                     S3AdapterBuilder::key_layout (or S3_PERSISTENCE_KEY_LAYOUT=python|node)",
                    self.prefix,
                    KeyLayout::Node.directory(&self.prefix)
                ),
            }),
        }
    }

    /// The object name a storage key maps to, after checking the key cannot leave the prefix.
    pub(crate) fn object_key(&self, key: &str) -> Result<String> {
        let directory = self.directory()?;
        validate_key(key, MAX_OBJECT_KEY_BYTES.saturating_sub(directory.len()))?;
        check_path(key)?;
        Ok(format!("{directory}{key}"))
    }

    /// The storage key an object name maps back to: `None` outside the prefix, an
    /// [`Error::InvalidKey`] for a name under it that no key maps to (a "folder" marker such
    /// as `prefix/a/`, or a name with `.`/`..` or empty segments).
    pub(crate) fn storage_key(&self, object_key: &str) -> Option<Result<String>> {
        let directory = self.directory().ok()?;
        let key = object_key.strip_prefix(directory.as_str())?;
        Some(
            validate_key(key, MAX_OBJECT_KEY_BYTES)
                .and_then(|()| check_path(key))
                .map(|()| key.to_owned()),
        )
    }
}

/// Refuses keys that would name another object once joined as a path.
fn check_path(key: &str) -> Result<()> {
    let invalid = |reason: &str| {
        Err(Error::InvalidKey {
            key: RedactedKey::new(key),
            reason: reason.to_owned(),
        })
    };
    if key.starts_with('/') {
        return invalid("an S3 key may not start with '/'");
    }
    if key.contains('\\') {
        return invalid("an S3 key may not contain a backslash");
    }
    if key
        .split('/')
        .any(|seg| seg == "." || seg == ".." || seg.is_empty())
    {
        return invalid("an S3 key may not have '.', '..' or empty path segments");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(prefix: &str, layout: Option<KeyLayout>) -> ObjectNames {
        ObjectNames::new(prefix.to_owned(), layout)
    }

    #[test]
    fn both_sdks_agree_on_ordinary_prefixes() {
        for (prefix, dir) in [
            ("", ""),
            ("skills/cafe", "skills/cafe/"),
            ("skills/cafe/", "skills/cafe/"),
            ("/skills/cafe", "/skills/cafe/"),
            ("/", "/"),
        ] {
            assert_eq!(KeyLayout::Python.directory(prefix), dir, "{prefix:?}");
            assert_eq!(KeyLayout::Node.directory(prefix), dir, "{prefix:?}");
            assert_eq!(names(prefix, None).directory().unwrap(), dir);
        }
    }

    #[test]
    fn where_they_differ_a_layout_must_be_chosen() {
        for (prefix, python, node) in [
            ("a//b", "a//b/", "a/b/"),
            ("./a", "./a/", "a/"),
            ("a/./b", "a/./b/", "a/b/"),
            ("a/../b", "a/../b/", "b/"),
            ("..", "../", "../"),
            ("/../a", "/../a/", "/a/"),
            (".", "./", ""),
            ("skills//", "skills//", "skills/"),
        ] {
            assert_eq!(KeyLayout::Python.directory(prefix), python, "{prefix:?}");
            assert_eq!(KeyLayout::Node.directory(prefix), node, "{prefix:?}");
            if python != node {
                assert!(matches!(
                    names(prefix, None).object_key("u"),
                    Err(Error::NotConfigured { .. })
                ));
            }
            assert_eq!(
                names(prefix, Some(KeyLayout::Node))
                    .object_key("u")
                    .unwrap(),
                format!("{node}u")
            );
        }
    }

    #[test]
    fn keys_cannot_leave_the_prefix() {
        let n = names("skills/cafe", None);
        for bad in [
            "../other/u1",
            "a/../../x",
            "./u",
            "/abs",
            "a\\b",
            "a//b",
            "a/",
            ".",
            "..",
        ] {
            assert!(
                matches!(n.object_key(bad), Err(Error::InvalidKey { .. })),
                "{bad}"
            );
        }
        assert!(n.object_key("amzn1.ask.account.X").is_ok());
        assert!(n.object_key("a..b").is_ok());
    }

    #[test]
    fn object_names_map_back_to_keys_and_strays_are_told_apart() {
        let n = names("/skills/cafe", None);
        assert_eq!(n.storage_key("/skills/cafe/u1").unwrap().unwrap(), "u1");
        assert_eq!(n.storage_key("/skills/cafe/a/b").unwrap().unwrap(), "a/b");
        assert!(n.storage_key("skills/cafe/u1").is_none());
        assert!(n.storage_key("/skills/cafeX/u1").is_none());
        // A folder marker and a name no key maps to: under the prefix, but not keys.
        assert!(n.storage_key("/skills/cafe/").unwrap().is_err());
        assert!(n.storage_key("/skills/cafe/a/").unwrap().is_err());
        assert!(n.storage_key("/skills/cafe/a//b").unwrap().is_err());
        assert_eq!(names("", None).storage_key("u1").unwrap().unwrap(), "u1");
    }

    #[test]
    fn the_key_limit_counts_the_prefix() {
        let n = names("p", None);
        assert!(n.object_key(&"k".repeat(MAX_OBJECT_KEY_BYTES - 2)).is_ok());
        assert!(n.object_key(&"k".repeat(MAX_OBJECT_KEY_BYTES - 1)).is_err());
    }
}
