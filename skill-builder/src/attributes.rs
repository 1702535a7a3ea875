//! [`AttributesManager`]: request, session and persistent attributes for one turn.

use std::fmt;
use std::sync::Arc;

use persistence_core::merge::three_way;
use persistence_core::{
    Attributes, Error, KeyGenerator, PersistenceAdapter, PersistenceAdapterExt, RedactedKey,
    RetryPolicy, SaveMode, Version,
};

use crate::envelope::RequestEnvelope;

/// The three scopes of attributes a handler can keep, as in the ASK SDKs.
///
/// - **Request attributes** live for this turn only: interceptors and handlers share them.
/// - **Session attributes** start as the request's `session.attributes` and are returned in the
///   response's `sessionAttributes`, so Alexa sends them back on the next turn of the session.
/// - **Persistent attributes** live in the skill's [`PersistenceAdapter`] under the key its
///   [`KeyGenerator`] makes from the request (the user ID by default). They are loaded lazily,
///   at most once per turn, when a handler first asks for them. Saving writes only when they
///   differ from what was loaded, so a turn that only reads them costs no write, and the save is
///   conditional on the version loaded ([`SaveMode::expecting`]): if another device or Lambda
///   wrote in between, the save fails with [`Error::Conflict`] instead of losing its update.
///
/// Save explicitly with [`save_persistent_attributes`](AttributesManager::save_persistent_attributes)
/// (ASK style), or build the skill with
/// [`SkillBuilder::with_save_on_response`](crate::SkillBuilder::with_save_on_response) to save after
/// the response interceptors of every successful turn.
///
/// When another writer got in first, the save does not simply fail: it reads the fresh copy
/// and, if this turn and the other writer changed different top-level attributes, merges
/// (three-way: what was loaded, this turn's result, the fresh copy) and saves again,
/// conditionally, so two devices changing different things both keep their change. Only
/// changes to the same attributes (or a delete by the other writer) reach the exception
/// handlers as [`Error::Conflict`]. [`reload_persistent_attributes`](AttributesManager::reload_persistent_attributes)
/// and [`update_persistent_attributes`](AttributesManager::update_persistent_attributes) finish a
/// turn after such a conflict.
///
/// ```
/// use std::sync::Arc;
/// use persistence_core::PersistenceAdapter;
/// use persistence_memory::MemoryAdapter;
/// use skill_builder::{HandlerInput, envelope::RequestEnvelope};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let store = MemoryAdapter::new();
/// let envelope: RequestEnvelope = serde_json::from_str(r#"{"version":"1.0",
///     "context":{"System":{"user":{"userId":"amzn1.ask.account.A"}}},
///     "request":{"type":"LaunchRequest"}}"#)?;
/// let mut input = HandlerInput::new(envelope).with_persistence(Arc::new(store.clone()), persistence_core::UserIdKey);
/// let attrs = &mut input.attributes_manager;
///
/// let visits = attrs.persistent_attributes().await?.get_as::<u32>("visits")?.unwrap_or(0);
/// attrs.persistent_attributes_mut().await?.set("visits", &(visits + 1))?;
/// assert!(attrs.save_persistent_attributes().await?, "changed, so written");
/// assert!(!attrs.save_persistent_attributes().await?, "unchanged since, so no write");
/// assert_eq!(store.attributes("amzn1.ask.account.A").unwrap()["visits"], 1);
/// # Ok(()) }
/// ```
pub struct AttributesManager {
    envelope: Arc<RequestEnvelope>,
    request: Attributes,
    session: Attributes,
    adapter: Option<Arc<dyn PersistenceAdapter>>,
    key_generator: Arc<dyn KeyGenerator>,
    persistent: Option<Persistent>,
    merge_on_conflict: bool,
    key_override: Option<String>,
}

/// How many times a save merges with a fresher copy before it gives up with the conflict.
const MAX_MERGES: u32 = 5;

/// Persistent attributes as loaded for this turn.
struct Persistent {
    key: String,
    /// The stored version: loaded, or written by this turn's last save. `None`: nothing stored.
    version: Option<Version>,
    /// What is stored at `version` (empty when nothing is).
    baseline: Attributes,
    /// What the handlers made of it.
    current: Attributes,
}

impl fmt::Debug for AttributesManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttributesManager")
            .field("request", &self.request)
            .field("session", &self.session)
            .field("adapter", &self.adapter.as_ref().map(|a| a.describe()))
            .field(
                "persistent",
                &self.persistent.as_ref().map(|p| {
                    (
                        RedactedKey::new(&p.key),
                        p.version.clone(),
                        p.current != p.baseline,
                    )
                }),
            )
            .finish()
    }
}

fn not_configured() -> Error {
    Error::NotConfigured {
        what: "persistent attributes are used but the skill has no persistence adapter \
               (call SkillBuilder::with_persistence_adapter)"
            .into(),
    }
}

impl AttributesManager {
    pub(crate) fn new(
        envelope: Arc<RequestEnvelope>,
        adapter: Option<Arc<dyn PersistenceAdapter>>,
        key_generator: Arc<dyn KeyGenerator>,
    ) -> Self {
        let session = envelope.session_attributes().cloned().unwrap_or_default();
        Self {
            envelope,
            request: Attributes::new(),
            session,
            adapter,
            key_generator,
            persistent: None,
            merge_on_conflict: true,
            key_override: None,
        }
    }

    pub(crate) fn set_merge_on_conflict(&mut self, on: bool) {
        self.merge_on_conflict = on;
    }

    /// Puts the session attributes back to what the request brought (after a turn whose
    /// persistent save lost a conflict: its session changes were computed from stale data).
    pub(crate) fn reset_session_attributes(&mut self) {
        self.session = self
            .envelope
            .session_attributes()
            .cloned()
            .unwrap_or_default();
    }

    /// This turn's request attributes.
    pub fn request_attributes(&self) -> &Attributes {
        &self.request
    }

    /// This turn's request attributes, to change.
    pub fn request_attributes_mut(&mut self) -> &mut Attributes {
        &mut self.request
    }

    /// The session attributes (as the request brought them, plus this turn's changes).
    pub fn session_attributes(&self) -> &Attributes {
        &self.session
    }

    /// The session attributes, to change. They are returned in the response.
    pub fn session_attributes_mut(&mut self) -> &mut Attributes {
        &mut self.session
    }

    /// Replaces the session attributes.
    pub fn set_session_attributes(&mut self, attributes: Attributes) {
        self.session = attributes;
    }

    pub(crate) fn take_session_attributes(&mut self) -> Attributes {
        std::mem::take(&mut self.session)
    }

    /// The skill's persistence adapter, if it has one.
    pub fn adapter(&self) -> Option<&Arc<dyn PersistenceAdapter>> {
        self.adapter.as_ref()
    }

    /// The storage key of this request's persistent attributes.
    ///
    /// # Errors
    /// [`Error::MissingKeySource`] when the request lacks the ID the key generator reads.
    pub fn persistence_key(&self) -> Result<String, Error> {
        match &self.key_override {
            Some(key) => Ok(key.clone()),
            None => self.key_generator.key(self.envelope.as_ref()),
        }
    }

    /// Keys this turn's persistent attributes by `key` instead of the key generator's (e.g. a
    /// linked account's stable ID, which a request interceptor looked up). Only before they are
    /// loaded.
    ///
    /// # Errors
    /// [`Error::InvalidKey`] when they were already loaded this turn (under another key).
    pub fn use_persistence_key(&mut self, key: impl Into<String>) -> Result<(), Error> {
        let key = key.into();
        if let Some(p) = &self.persistent
            && p.key != key
        {
            return Err(Error::InvalidKey {
                key: RedactedKey::new(&key),
                reason: "the persistent attributes were already loaded this turn under another key"
                    .into(),
            });
        }
        self.key_override = Some(key);
        Ok(())
    }

    async fn load(&mut self) -> Result<&mut Persistent, Error> {
        // Two steps so that the borrow checker sees the early return does not overlap the load.
        if self.persistent.is_none() {
            let adapter = self.adapter.as_ref().ok_or_else(not_configured)?;
            let key = self.persistence_key()?;
            let stored = adapter.get(&key).await?;
            tracing::debug!(
                key = %RedactedKey::new(&key),
                found = stored.is_some(),
                resource = %adapter.describe(),
                "loaded persistent attributes"
            );
            let (version, baseline) = match stored {
                Some(s) => (Some(s.version), s.attributes),
                None => (None, Attributes::new()),
            };
            self.persistent = Some(Persistent {
                key,
                version,
                current: baseline.clone(),
                baseline,
            });
        }
        self.persistent.as_mut().ok_or_else(not_configured)
    }

    /// The persistent attributes, loaded from the adapter on the first call of the turn (empty
    /// when nothing is stored yet).
    ///
    /// # Errors
    /// [`Error::NotConfigured`] without an adapter, [`Error::MissingKeySource`] when the request
    /// has no ID to key by, or the adapter's error.
    pub async fn persistent_attributes(&mut self) -> Result<&Attributes, Error> {
        Ok(&self.load().await?.current)
    }

    /// The persistent attributes, to change; loaded on first use like
    /// [`persistent_attributes`](AttributesManager::persistent_attributes). Changes are written
    /// by the next save.
    ///
    /// # Errors
    /// As [`persistent_attributes`](AttributesManager::persistent_attributes).
    pub async fn persistent_attributes_mut(&mut self) -> Result<&mut Attributes, Error> {
        Ok(&mut self.load().await?.current)
    }

    /// Replaces the persistent attributes (loading them first if needed, so that the save is
    /// still conditional on the version stored).
    ///
    /// # Errors
    /// As [`persistent_attributes`](AttributesManager::persistent_attributes).
    pub async fn set_persistent_attributes(&mut self, attributes: Attributes) -> Result<(), Error> {
        self.load().await?.current = attributes;
        Ok(())
    }

    /// The persistent attributes if this turn loaded them already; never loads. For `can_handle`
    /// checks that run after an interceptor loaded them.
    pub fn loaded_persistent_attributes(&self) -> Option<&Attributes> {
        self.persistent.as_ref().map(|p| &p.current)
    }

    /// True when the persistent attributes were loaded and differ from what is stored.
    pub fn persistent_attributes_changed(&self) -> bool {
        self.persistent
            .as_ref()
            .is_some_and(|p| p.current != p.baseline)
    }

    /// Writes the persistent attributes if they changed since they were loaded (or last saved),
    /// on condition that nobody else wrote them in between. Returns whether it wrote.
    ///
    /// Not loaded this turn, or unchanged: no write, `Ok(false)`.
    ///
    /// If another writer got in first, it merges: when the other writer changed only top-level
    /// attributes this turn did not change, the fresh copy with this turn's changes on top is
    /// saved (again conditionally, up to five rounds), and the loaded copy becomes that.
    ///
    /// # Errors
    /// [`Error::Conflict`] when another writer changed an attribute this turn changed too (to
    /// another value), or deleted the attributes, since they were loaded: nothing is written,
    /// and the loaded copy stays as it was. [`Error::NotConfigured`] without an adapter, or the
    /// adapter's error.
    pub async fn save_persistent_attributes(&mut self) -> Result<bool, Error> {
        let adapter = self.adapter.clone().ok_or_else(not_configured)?;
        let merge = self.merge_on_conflict;
        let Some(p) = self.persistent.as_mut() else {
            return Ok(false);
        };
        if p.current == p.baseline {
            return Ok(false);
        }
        // Work on a copy, so that a save that fails leaves the loaded copy as it was.
        let (mut version, mut baseline, mut current) =
            (p.version.clone(), p.baseline.clone(), p.current.clone());
        let mut merges = 0;
        loop {
            let mode = SaveMode::expecting(version.as_ref());
            let conflict = match adapter.save(&p.key, &current, mode).await {
                Ok(v) => {
                    tracing::debug!(key = %RedactedKey::new(&p.key), version = %v, merges, "saved persistent attributes");
                    p.version = Some(v);
                    p.baseline = current.clone();
                    p.current = current;
                    return Ok(true);
                }
                Err(e) if e.is_conflict() && merge && merges < MAX_MERGES => e,
                Err(e) => return Err(e),
            };
            merges += 1;
            let fresh = adapter.get(&p.key).await?;
            let (fresh_version, fresh_attrs) = match fresh {
                Some(s) => (Some(s.version), s.attributes),
                None => (None, Attributes::new()),
            };
            if fresh_version.is_none() && version.is_some() {
                // Deleted meanwhile ("start over" on another device): merging would bring
                // back part of what the user discarded.
                return Err(conflict);
            }
            match three_way(&baseline, &current, &fresh_attrs) {
                Ok(merged) => {
                    tracing::debug!(key = %RedactedKey::new(&p.key), merges, "merging with another writer's changes");
                    version = fresh_version;
                    baseline = fresh_attrs;
                    current = merged;
                }
                Err(overlap) => {
                    let names: Vec<&str> = overlap.names.iter().map(String::as_str).collect();
                    return Err(Error::Conflict {
                        operation: "save",
                        resource: adapter.describe(),
                        key: RedactedKey::new(&p.key),
                        reason: format!(
                            "another writer changed the same attributes since they were loaded: {}",
                            names.join(", ")
                        ),
                    });
                }
            }
        }
    }

    /// Discards this turn's changes to the persistent attributes and reads them again from
    /// storage: after a [`Error::Conflict`], to see what the other writer stored.
    ///
    /// # Errors
    /// As [`persistent_attributes`](AttributesManager::persistent_attributes).
    pub async fn reload_persistent_attributes(&mut self) -> Result<&Attributes, Error> {
        self.persistent = None;
        Ok(&self.load().await?.current)
    }

    /// Read-modify-write of the persistent attributes that loses no concurrent update: reads
    /// the stored attributes, applies `change`, saves on condition nobody wrote meanwhile, and
    /// on a conflict starts over with fresh data (see
    /// [`PersistenceAdapterExt::update_with`]). Changes this turn made before and has not saved
    /// are saved first (as [`save_persistent_attributes`](AttributesManager::save_persistent_attributes)
    /// does). Afterwards the loaded copy is what was written. Returns what `change` returned on
    /// the attempt that was saved; `change` may run more than once.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use persistence_memory::MemoryAdapter;
    /// # use skill_builder::{HandlerInput, envelope::RequestEnvelope};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let envelope: RequestEnvelope = serde_json::from_str(r#"{"version":"1.0",
    /// #     "context":{"System":{"user":{"userId":"amzn1.ask.account.A"}}},
    /// #     "request":{"type":"LaunchRequest"}}"#)?;
    /// # let mut input = HandlerInput::new(envelope).with_persistence(Arc::new(MemoryAdapter::new()), persistence_core::UserIdKey);
    /// let streak = input.attributes_manager.update_persistent_attributes(|attrs| {
    ///     let streak = attrs.get_as::<u32>("streak").ok().flatten().unwrap_or(0) + 1;
    ///     attrs.insert("streak".into(), streak.into());
    ///     streak
    /// }).await?;
    /// assert_eq!(streak, 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Conflict`] when it still conflicts after the retries, or the errors of
    /// [`save_persistent_attributes`](AttributesManager::save_persistent_attributes).
    pub async fn update_persistent_attributes<F, T>(&mut self, mut change: F) -> Result<T, Error>
    where
        F: FnMut(&mut Attributes) -> T + Send,
        T: Send,
    {
        self.save_persistent_attributes().await?;
        let adapter = self.adapter.clone().ok_or_else(not_configured)?;
        let key = self.persistence_key()?;
        let mut written = Attributes::new();
        let out = adapter
            .update_with(&key, &RetryPolicy::default(), |attrs| {
                let value = change(attrs);
                written = attrs.clone();
                value
            })
            .await?;
        self.persistent = Some(Persistent {
            key,
            version: Some(out.version),
            baseline: written.clone(),
            current: written,
        });
        Ok(out.value)
    }

    /// Deletes the stored persistent attributes now. Afterwards they read as empty, and a later
    /// save creates them anew (only if nobody else has meanwhile).
    ///
    /// When they were loaded this turn, the delete is conditional on the version loaded
    /// ([`PersistenceAdapter::delete_if`]): if another device saved since, nothing is deleted
    /// and the result is [`Error::Conflict`]. Not loaded: deleted whatever they hold.
    ///
    /// # Errors
    /// [`Error::Conflict`] as above, [`Error::NotConfigured`] without an adapter,
    /// [`Error::MissingKeySource`], or the adapter's error.
    pub async fn delete_persistent_attributes(&mut self) -> Result<(), Error> {
        let adapter = self.adapter.as_ref().ok_or_else(not_configured)?;
        let key = self.persistence_key()?;
        match self.persistent.as_ref().and_then(|p| p.version.as_ref()) {
            Some(version) => adapter.delete_if(&key, version).await?,
            None => adapter.delete(&key).await?,
        }
        tracing::debug!(key = %RedactedKey::new(&key), "deleted persistent attributes");
        self.persistent = Some(Persistent {
            key,
            version: None,
            baseline: Attributes::new(),
            current: Attributes::new(),
        });
        Ok(())
    }
}
