//! Listed entries a bulk command skips instead of stopping: an object whose name is no key (a
//! "folder" marker `prefix/a/` the S3 console makes, `prefix/x//y`) and an entry whose data
//! cannot be read (a body that is not a JSON object).
//!
//! Adapters yield each such entry as an `Err` item of its own in a listing and go on
//! ([`Error::InvalidKey`], [`Error::CorruptData`]; `persistence_core::listing`); any other error
//! ends the listing, and the command with it. Reading a listed key is per key: an unreadable one
//! is skipped too. Every bulk command (`ls`, `export`, `copy`, `verify`, `purge-expired`)
//! completes, counts what it skipped by reason, names the first [`MAX_SKIPS_KEPT`] (redacted
//! as keys are), and exits 1 ("done, but not everything").

use persistence_core::Error;

use crate::output::Keys;

/// Why an entry was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SkipReason {
    /// Its name is not a key (a folder marker, a name with empty, `.` or `..` segments).
    NotAKey,
    /// What is stored cannot be read as attributes.
    Unreadable,
}

impl SkipReason {
    /// The reason a listing error stands for, or `None` for an error that ends the listing.
    pub fn of(error: &Error) -> Option<Self> {
        match error {
            Error::InvalidKey { .. } => Some(SkipReason::NotAKey),
            Error::CorruptData { .. } => Some(SkipReason::Unreadable),
            _ => None,
        }
    }

    fn text(self) -> &'static str {
        match self {
            SkipReason::NotAKey => "not a key",
            SkipReason::Unreadable => "unreadable",
        }
    }
}

/// One listed entry that could not be handled: the per-entry error, and the key when the tool
/// knows it (it read the key itself and the read failed).
#[derive(Debug)]
pub struct Skip {
    /// Why.
    pub reason: SkipReason,
    /// The key, when known in full (only ever shown with `--show-keys`).
    pub key: Option<String>,
    /// The adapter's error (its key already redacted).
    pub error: Error,
}

impl Skip {
    /// The skip `error` stands for (met listing, or reading `key`), or the error back when it
    /// is not a per-entry one (the listing is over: the command stops).
    pub fn from_error(error: Error, key: Option<&str>) -> Result<Self, Error> {
        match SkipReason::of(&error) {
            Some(reason) => Ok(Self {
                reason,
                key: key.map(str::to_owned),
                error,
            }),
            None => Err(error),
        }
    }

    /// The skip a listing error stands for (the listing goes on past it), or the error back
    /// when it ends the listing (and the command with it).
    pub fn from_listing(error: Error) -> Result<Self, Error> {
        Self::from_error(error, None)
    }

    /// The name shown: the key as `keys` shows keys when it is known, else the name the
    /// adapter gave, always redacted.
    fn name(&self, keys: Keys) -> String {
        if let Some(k) = &self.key {
            return keys.show(k);
        }
        match &self.error {
            Error::InvalidKey { key, .. } | Error::CorruptData { key, .. } => key.to_string(),
            other => other.to_string(),
        }
    }

    /// What is wrong, without the name.
    fn detail(&self) -> String {
        match &self.error {
            Error::InvalidKey { reason, .. } => reason.clone(),
            Error::CorruptData {
                resource, detail, ..
            } => format!("{detail} (in {resource})"),
            other => other.to_string(),
        }
    }
}

/// One skipped entry, as reports list it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SkippedEntry {
    /// The object or key name (redacted unless `--show-keys` and the tool read the key itself).
    pub name: String,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// What is wrong with it.
    pub detail: String,
}

/// Skipped entries kept by name in a report (all are counted).
pub const MAX_SKIPS_KEPT: usize = 100;

/// What a bulk command skipped, flattened into its JSON report: `skipped` (the count),
/// `skipped_not_a_key`, `skipped_unreadable`, and `skipped_entries` (the first
/// [`MAX_SKIPS_KEPT`], each with `name`, `reason` (`not-a-key` or `unreadable`) and `detail`).
///
/// ```
/// use persistence_cli::output::Keys;
/// use persistence_cli::skip::{Skip, Skipped};
/// use persistence_core::{Error, RedactedKey};
///
/// let mut skipped = Skipped::default();
/// let marker = Error::InvalidKey { key: RedactedKey::new("a/"), reason: "empty segment".into() };
/// skipped.add(Skip::from_error(marker, None).unwrap(), Keys::default(), None);
/// assert_eq!((skipped.skipped, skipped.skipped_not_a_key), (1, 1));
/// assert!(skipped.render().starts_with("skipped 1 object that is not a key / unreadable"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Skipped {
    /// Entries skipped.
    pub skipped: u64,
    /// ... of which names that are not keys.
    pub skipped_not_a_key: u64,
    /// ... of which unreadable entries.
    pub skipped_unreadable: u64,
    /// The first ones, named.
    pub skipped_entries: Vec<SkippedEntry>,
}

impl Skipped {
    /// Counts `skip` (met in the store `side` names, when a command reads two), keeps its name
    /// and reason, and says so on stderr.
    pub fn add(&mut self, skip: Skip, keys: Keys, side: Option<&str>) {
        self.skipped += 1;
        match skip.reason {
            SkipReason::NotAKey => self.skipped_not_a_key += 1,
            SkipReason::Unreadable => self.skipped_unreadable += 1,
        }
        let name = skip.name(keys);
        let detail = match side {
            Some(s) => format!("in the {s}: {}", skip.detail()),
            None => skip.detail(),
        };
        crate::output::eprintln_above(&format!("skipped {name}: {}: {detail}", skip.reason.text()));
        if self.skipped_entries.len() < MAX_SKIPS_KEPT {
            self.skipped_entries.push(SkippedEntry {
                name,
                reason: skip.reason,
                detail,
            });
        }
    }

    /// Nothing was skipped.
    pub fn is_empty(&self) -> bool {
        self.skipped == 0
    }

    /// The summary line (empty when nothing was skipped): `skipped N objects that are not keys
    /// / unreadable (...)`.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        let (objects, are, keys) = if self.skipped == 1 {
            ("object", "is", "a key")
        } else {
            ("objects", "are", "keys")
        };
        format!(
            "skipped {} {objects} that {are} not {keys} / unreadable ({} not a key, {} \
             unreadable): left as they are; repair or remove them and run again\n",
            self.skipped, self.skipped_not_a_key, self.skipped_unreadable
        )
    }

    /// Human-readable lines (none when nothing was skipped): the [`summary`](Self::summary),
    /// then one line per entry kept.
    pub fn render(&self) -> String {
        let mut out = self.summary();
        for e in &self.skipped_entries {
            out.push_str(&format!(
                "  skipped {}: {}: {}\n",
                e.name,
                e.reason.text(),
                e.detail
            ));
        }
        if self.skipped > self.skipped_entries.len() as u64 {
            out.push_str(&format!(
                "  ... and {} more\n",
                self.skipped - self.skipped_entries.len() as u64
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use persistence_core::RedactedKey;

    fn not_a_key(name: &str) -> Error {
        Error::InvalidKey {
            key: RedactedKey::new(name),
            reason: "an S3 key may not have empty segments".into(),
        }
    }

    #[test]
    fn per_entry_errors_are_skips_and_others_are_not() {
        assert!(Skip::from_error(not_a_key("a/"), None).is_ok());
        let corrupt = Error::corrupt("S3 bucket 'b'", "amzn1.ask.account.X", "not JSON");
        assert_eq!(
            Skip::from_error(corrupt, None).unwrap().reason,
            SkipReason::Unreadable
        );
        let gone = Error::NotFound {
            operation: "list",
            resource: "S3 bucket 'b'".into(),
        };
        assert!(matches!(
            Skip::from_error(gone, None),
            Err(Error::NotFound { .. })
        ));
    }

    #[test]
    fn names_are_redacted_unless_the_key_is_known_and_shown() {
        let secret = "amzn1.ask.account.SECRETSECRETSECRETSECRET";
        let mut s = Skipped::default();
        let corrupt = || Error::corrupt("S3 bucket 'b'", secret, "not JSON");
        s.add(
            Skip::from_error(corrupt(), Some(secret)).unwrap(),
            Keys::default(),
            None,
        );
        s.add(
            Skip::from_error(corrupt(), None).unwrap(),
            Keys { show: true },
            Some("destination"),
        );
        s.add(
            Skip::from_error(corrupt(), Some(secret)).unwrap(),
            Keys { show: true },
            None,
        );
        s.add(
            Skip::from_error(not_a_key("x//y"), None).unwrap(),
            Keys::default(),
            None,
        );
        assert_eq!(
            (s.skipped, s.skipped_unreadable, s.skipped_not_a_key),
            (4, 3, 1)
        );
        assert!(!s.skipped_entries[0].name.contains("SECRETSECRET"));
        assert!(
            !s.skipped_entries[1].name.contains("SECRETSECRET"),
            "an adapter's name stays redacted"
        );
        assert!(
            s.skipped_entries[1]
                .detail
                .starts_with("in the destination: ")
        );
        assert_eq!(s.skipped_entries[2].name, secret, "--show-keys");
        let text = s.render();
        assert!(
            text.starts_with(
                "skipped 4 objects that are not keys / unreadable (1 not a key, 3 unreadable)"
            ),
            "{text}"
        );
        assert_eq!(text.lines().count(), 5);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["skipped"], 4);
        assert_eq!(json["skipped_entries"][3]["reason"], "not-a-key");
    }

    #[test]
    fn only_the_first_are_named() {
        let mut s = Skipped::default();
        for i in 0..(MAX_SKIPS_KEPT + 5) {
            s.add(
                Skip::from_error(not_a_key(&format!("d{i}/")), None).unwrap(),
                Keys::default(),
                None,
            );
        }
        assert_eq!(s.skipped, MAX_SKIPS_KEPT as u64 + 5);
        assert_eq!(s.skipped_entries.len(), MAX_SKIPS_KEPT);
        assert!(s.render().ends_with("  ... and 5 more\n"));
    }
}
