//! What one turn holds: the persistent and session attributes with their typed views, the key,
//! the read in flight, extensions. Behind a `std` mutex that is never held across an `.await`:
//! a guard owns what it lends, and asking for something a live guard holds is an error at once,
//! never a wait.

use std::any::{Any, TypeId};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use persistence_core::{Attributes, Error, PersistenceAdapter, RedactedKey, Stored, Version};
use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use super::typed::TypedView;
use crate::carry::Carried;
use crate::envelope::RequestEnvelope;
use crate::error::SkillError;
use crate::keys::KeyGenerator;

/// What every turn of a skill shares: where attributes live and how they are keyed.
pub(crate) struct TurnConfig {
    pub(crate) adapter: Option<Arc<dyn PersistenceAdapter>>,
    pub(crate) key_generator: Arc<dyn KeyGenerator>,
    pub(crate) prefetch: bool,
    pub(crate) merge_on_conflict: bool,
    /// The key comes from a `before` interceptor (`use_persistence_key`): nothing is read for
    /// the key generator's key.
    pub(crate) key_from_interceptor: bool,
}

/// Which attributes: the user's persistent ones, or the session's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Persistent,
    Session,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Persistent => "persistent",
            Scope::Session => "session",
        }
    }
}

/// A map of attributes with, at most, one typed view over it and one guard out.
pub(crate) struct View {
    /// The attributes (empty while an untyped guard holds them).
    attributes: Attributes,
    typed: Option<TypedView>,
    /// What a live guard holds, if one does.
    out: Option<Out>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Out {
    Typed,
    Untyped,
}

impl View {
    fn new(attributes: Attributes) -> Self {
        Self {
            attributes,
            typed: None,
            out: None,
        }
    }

    /// Writes a typed view's changes into the attributes and drops the view.
    fn fold(&mut self) -> Result<(), SkillError> {
        if let Some(typed) = self.typed.take() {
            let mut map = std::mem::take(&mut self.attributes);
            typed.apply(&mut map)?;
            self.attributes = map;
        }
        Ok(())
    }

    /// The attributes with every change made so far (a typed view's included).
    fn current(&mut self) -> Result<Attributes, SkillError> {
        self.fold()?;
        Ok(self.attributes.clone())
    }
}

/// The persistent attributes as this turn read them.
pub(crate) struct Loaded {
    pub(crate) key: String,
    /// `None`: nothing was stored.
    pub(crate) version: Option<Version>,
    /// What was read.
    pub(crate) base: Attributes,
    view: View,
    /// The handler asked for them to be deleted.
    deleted: bool,
}

enum Persistent {
    Unloaded,
    Loaded(Box<Loaded>),
}

/// A read started before it was needed, for one key.
struct Prefetch {
    key: String,
    task: JoinHandle<persistence_core::Result<Option<Stored>>>,
}

/// What a turn hands on when its handler runs again (after a conflict): what the `before`
/// interceptors established.
#[derive(Default)]
pub(crate) struct Seed {
    pub(crate) key_override: Option<String>,
    pub(crate) extensions: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    pub(crate) carried: Option<Carried>,
}

struct State {
    key_override: Option<String>,
    prefetch: Option<Prefetch>,
    carried: Option<Carried>,
    persistent: Persistent,
    session: View,
    extensions: HashMap<TypeId, Box<dyn Any + Send + Sync>>,
    slots_read: BTreeSet<String>,
}

/// One turn's state, shared by the [`Turn`](super::Turn) handles and guards of that turn.
pub(crate) struct TurnShared {
    pub(crate) envelope: Arc<RequestEnvelope>,
    pub(crate) config: Arc<TurnConfig>,
    state: Mutex<State>,
}

/// What the end of a turn writes.
pub(crate) enum PendingWrite {
    Save {
        key: String,
        version: Option<Version>,
        base: Attributes,
        current: Attributes,
    },
    Delete {
        key: String,
        version: Version,
    },
}

impl Drop for TurnShared {
    fn drop(&mut self) {
        // A read nobody awaited is not needed any more.
        if let Some(p) = self.lock().prefetch.take() {
            p.task.abort();
        }
    }
}

fn busy(scope: Scope) -> SkillError {
    SkillError::StateBorrowed { what: scope.name() }
}

fn not_configured() -> SkillError {
    SkillError::Persistence(Error::NotConfigured {
        what: "persistent attributes are used but the skill has no persistence adapter \
               (call SkillBuilder::with_persistence_adapter)"
            .into(),
    })
}

impl TurnShared {
    pub(crate) fn new(
        envelope: Arc<RequestEnvelope>,
        config: Arc<TurnConfig>,
        seed: Seed,
        session: Map<String, Value>,
    ) -> Arc<Self> {
        Arc::new(Self {
            envelope,
            config,
            state: Mutex::new(State {
                key_override: seed.key_override,
                prefetch: None,
                carried: seed.carried,
                persistent: Persistent::Unloaded,
                session: View::new(Attributes::from(session)),
                extensions: seed.extensions,
                slots_read: BTreeSet::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is a whole replacement; a panic elsewhere cannot leave a
        // half-made state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key the persistent attributes are stored under this turn.
    pub(crate) fn key(&self) -> Result<String, SkillError> {
        let st = self.lock();
        Self::key_of(&self.envelope, &self.config, &st)
    }

    fn key_of(
        envelope: &RequestEnvelope,
        config: &TurnConfig,
        st: &State,
    ) -> Result<String, SkillError> {
        match &st.key_override {
            Some(k) => Ok(k.clone()),
            None => config.key_generator.key(envelope),
        }
    }

    /// Starts reading the persistent attributes now, if they will come from storage.
    pub(crate) fn prefetch(self: &Arc<Self>) {
        let Some(adapter) = self.config.adapter.clone() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let mut st = self.lock();
        if !matches!(st.persistent, Persistent::Unloaded) || st.prefetch.is_some() {
            return;
        }
        if st.key_override.is_none() && self.config.key_from_interceptor {
            return;
        }
        let Ok(key) = Self::key_of(&self.envelope, &self.config, &st) else {
            return;
        };
        if st.carried.as_ref().is_some_and(|c| c.is_for(&key)) {
            return;
        }
        let k = key.clone();
        let task = runtime.spawn(async move { adapter.get(&k).await });
        st.prefetch = Some(Prefetch { key, task });
    }

    /// Keys this turn's persistent attributes by `key`; see [`Turn::use_persistence_key`].
    pub(crate) fn use_key(self: &Arc<Self>, key: String) -> Result<(), SkillError> {
        {
            let mut st = self.lock();
            if let Persistent::Loaded(l) = &st.persistent {
                if l.key == key {
                    return Ok(());
                }
                return Err(SkillError::Persistence(Error::InvalidKey {
                    key: RedactedKey::new(&key),
                    reason: "the persistent attributes were already loaded this turn under \
                             another key"
                        .into(),
                }));
            }
            if let Some(p) = st.prefetch.take_if(|p| p.key != key) {
                p.task.abort();
            }
            st.key_override = Some(key);
        }
        if self.config.prefetch {
            self.prefetch();
        }
        Ok(())
    }

    /// Reads the persistent attributes, unless this turn has them: from the copy the session
    /// carried, the read started early, or storage.
    pub(crate) async fn ensure_loaded(&self) -> Result<(), SkillError> {
        let (key, prefetch) = {
            let mut st = self.lock();
            if matches!(st.persistent, Persistent::Loaded(_)) {
                return Ok(());
            }
            let key = Self::key_of(&self.envelope, &self.config, &st)?;
            if let Some(carried) = st.carried.take_if(|c| c.is_for(&key)) {
                let (version, base) = carried.into_parts();
                st.persistent = Persistent::Loaded(Box::new(Loaded {
                    key,
                    version,
                    view: View::new(base.clone()),
                    base,
                    deleted: false,
                }));
                return Ok(());
            }
            let prefetch = st.prefetch.take();
            (key, prefetch)
        };
        let adapter = self.config.adapter.clone().ok_or_else(not_configured)?;
        let stored = match prefetch {
            Some(p) if p.key == key => match p.task.await {
                Ok(got) => got,
                Err(_) => adapter.get(&key).await,
            },
            other => {
                if let Some(p) = other {
                    p.task.abort();
                }
                adapter.get(&key).await
            }
        }?;
        tracing::debug!(
            key = %RedactedKey::new(&key),
            found = stored.is_some(),
            resource = %adapter.describe(),
            "loaded persistent attributes"
        );
        let mut st = self.lock();
        let still_wanted = matches!(st.persistent, Persistent::Unloaded)
            && Self::key_of(&self.envelope, &self.config, &st).is_ok_and(|k| k == key);
        if still_wanted {
            let (version, base) = match stored {
                Some(s) => (Some(s.version), s.attributes),
                None => (None, Attributes::new()),
            };
            st.persistent = Persistent::Loaded(Box::new(Loaded {
                key,
                version,
                view: View::new(base.clone()),
                base,
                deleted: false,
            }));
        }
        Ok(())
    }

    /// Forgets what was loaded and read again from storage (not from a carried copy).
    pub(crate) fn forget_persistent(&self) -> Result<(), SkillError> {
        let mut st = self.lock();
        if let Persistent::Loaded(l) = &st.persistent
            && l.view.out.is_some()
        {
            return Err(busy(Scope::Persistent));
        }
        st.persistent = Persistent::Unloaded;
        st.carried = None;
        Ok(())
    }

    fn with_view<R>(
        &self,
        scope: Scope,
        f: impl FnOnce(&mut View) -> Result<R, SkillError>,
    ) -> Result<R, SkillError> {
        let mut st = self.lock();
        let view = match scope {
            Scope::Session => &mut st.session,
            Scope::Persistent => match &mut st.persistent {
                Persistent::Loaded(l) => &mut l.view,
                Persistent::Unloaded => {
                    return Err(SkillError::other(
                        "the persistent attributes are not loaded",
                    ));
                }
            },
        };
        f(view)
    }

    /// Lends out the attributes of `scope` as a `T`.
    pub(crate) fn take_typed<T>(&self, scope: Scope) -> Result<Box<T>, SkillError>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + Default + Send + 'static,
    {
        self.with_view(scope, |view| {
            if view.out.is_some() {
                return Err(busy(scope));
            }
            if view
                .typed
                .as_ref()
                .is_some_and(|t| t.type_id != TypeId::of::<T>())
            {
                view.fold()?;
            }
            if view.typed.is_none() {
                view.typed = Some(TypedView::load::<T>(&view.attributes, scope.name())?);
            }
            let typed = view.typed.as_mut().ok_or_else(|| busy(scope))?;
            let value = typed.value.take().ok_or_else(|| busy(scope))?;
            match value.downcast::<T>() {
                Ok(t) => {
                    view.out = Some(Out::Typed);
                    Ok(t)
                }
                Err(other) => {
                    typed.value = Some(other);
                    Err(busy(scope))
                }
            }
        })
    }

    /// Takes back a typed value a guard lent out.
    pub(crate) fn give_typed(&self, scope: Scope, value: Box<dyn Any + Send>) {
        let _ = self.with_view(scope, |view| {
            if let Some(typed) = view.typed.as_mut() {
                typed.value = Some(value);
            }
            view.out = None;
            Ok(())
        });
    }

    /// Lends out the attributes of `scope` as a map.
    pub(crate) fn take_untyped(&self, scope: Scope) -> Result<Attributes, SkillError> {
        self.with_view(scope, |view| {
            if view.out.is_some() {
                return Err(busy(scope));
            }
            view.fold()?;
            view.out = Some(Out::Untyped);
            Ok(std::mem::take(&mut view.attributes))
        })
    }

    /// Takes back attributes a guard lent out.
    pub(crate) fn give_untyped(&self, scope: Scope, attributes: Attributes) {
        let _ = self.with_view(scope, |view| {
            view.attributes = attributes;
            view.out = None;
            Ok(())
        });
    }

    /// Marks the persistent attributes deleted (from now on they read as empty).
    pub(crate) fn mark_deleted(&self) -> Result<(), SkillError> {
        let mut st = self.lock();
        match &mut st.persistent {
            Persistent::Loaded(l) if l.view.out.is_some() => Err(busy(Scope::Persistent)),
            Persistent::Loaded(l) => {
                l.deleted = true;
                l.view = View::new(Attributes::new());
                Ok(())
            }
            Persistent::Unloaded => Err(SkillError::other(
                "the persistent attributes are not loaded",
            )),
        }
    }

    /// What the turn changed and must write, if anything; the attributes must not be lent out.
    pub(crate) fn pending_write(&self) -> Result<Option<PendingWrite>, SkillError> {
        let mut st = self.lock();
        let Persistent::Loaded(l) = &mut st.persistent else {
            return Ok(None);
        };
        if l.view.out.is_some() {
            return Err(SkillError::StateBorrowed { what: "persistent" });
        }
        if l.deleted {
            // Nothing was stored when read: nothing to delete (deleting now could remove what
            // another device created since).
            return Ok(l.version.clone().map(|version| PendingWrite::Delete {
                key: l.key.clone(),
                version,
            }));
        }
        let current = l.view.current()?;
        if current == l.base {
            return Ok(None);
        }
        Ok(Some(PendingWrite::Save {
            key: l.key.clone(),
            version: l.version.clone(),
            base: l.base.clone(),
            current,
        }))
    }

    /// Records what a write made: the stored state is now `version` (or nothing).
    pub(crate) fn committed(&self, key: &str, version: Option<Version>, attributes: Attributes) {
        let mut st = self.lock();
        st.persistent = Persistent::Loaded(Box::new(Loaded {
            key: key.to_owned(),
            version,
            view: View::new(attributes.clone()),
            base: attributes,
            deleted: false,
        }));
    }

    /// The loaded state, as a session can carry it to the next turn.
    pub(crate) fn loaded_state(&self) -> Option<(String, Option<Version>, Attributes)> {
        let st = self.lock();
        match &st.persistent {
            Persistent::Loaded(l) if !l.deleted && l.view.out.is_none() => {
                Some((l.key.clone(), l.version.clone(), l.base.clone()))
            }
            _ => None,
        }
    }

    /// The session attributes with every change made this turn; they must not be lent out.
    pub(crate) fn session_attributes(&self) -> Result<Map<String, Value>, SkillError> {
        let mut st = self.lock();
        if st.session.out.is_some() {
            return Err(SkillError::StateBorrowed { what: "session" });
        }
        Ok(st.session.current()?.into_inner())
    }

    /// Discards the handler's changes (after it failed): persistent ones back to what was read,
    /// session ones back to what the request brought.
    pub(crate) fn discard_changes(&self, session: Map<String, Value>) {
        let mut st = self.lock();
        if let Persistent::Loaded(l) = &mut st.persistent {
            l.view = View::new(l.base.clone());
            l.deleted = false;
        }
        st.session = View::new(Attributes::from(session));
    }

    /// What the handler's next run starts from.
    pub(crate) fn seed(&self) -> Seed {
        let mut st = self.lock();
        Seed {
            key_override: st.key_override.clone(),
            extensions: std::mem::take(&mut st.extensions),
            carried: None,
        }
    }

    pub(crate) fn insert_extension<T: Send + Sync + 'static>(&self, value: T) {
        self.lock()
            .extensions
            .insert(TypeId::of::<T>(), Box::new(value));
    }

    pub(crate) fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.lock()
            .extensions
            .get(&TypeId::of::<T>())
            .and_then(|b| b.downcast_ref::<T>())
            .cloned()
    }

    pub(crate) fn note_slot(&self, name: &str) {
        self.lock().slots_read.insert(name.to_owned());
    }

    pub(crate) fn slots_read(&self) -> BTreeSet<String> {
        self.lock().slots_read.clone()
    }
}
