//! [`AttributesManager`]: request, session and persistent attributes for one turn.

use std::fmt;
use std::sync::Arc;

use persistence_core::{
    Attributes, Error, KeyGenerator, PersistenceAdapter, RedactedKey, SaveMode, Version,
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
}

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
        }
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
        self.key_generator.key(self.envelope.as_ref())
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
    /// # Errors
    /// [`Error::Conflict`] when another writer changed (or created, or deleted) the attributes
    /// since they were loaded: the turn's changes are not written. [`Error::NotConfigured`]
    /// without an adapter, or the adapter's error.
    pub async fn save_persistent_attributes(&mut self) -> Result<bool, Error> {
        let adapter = self.adapter.as_ref().ok_or_else(not_configured)?;
        let Some(p) = self.persistent.as_mut() else {
            return Ok(false);
        };
        if p.current == p.baseline {
            return Ok(false);
        }
        let mode = SaveMode::expecting(p.version.as_ref());
        let version = adapter.save(&p.key, &p.current, mode).await?;
        tracing::debug!(key = %RedactedKey::new(&p.key), %version, "saved persistent attributes");
        p.version = Some(version);
        p.baseline = p.current.clone();
        Ok(true)
    }

    /// Deletes the stored persistent attributes now. Afterwards they read as empty, and a later
    /// save creates them anew (only if nobody else has meanwhile).
    ///
    /// # Errors
    /// [`Error::NotConfigured`] without an adapter, [`Error::MissingKeySource`], or the
    /// adapter's error.
    pub async fn delete_persistent_attributes(&mut self) -> Result<(), Error> {
        let adapter = self.adapter.as_ref().ok_or_else(not_configured)?;
        let key = self.persistence_key()?;
        adapter.delete(&key).await?;
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
