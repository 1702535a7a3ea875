//! [`Turn`]: one turn of the conversation, as a plain async handler gets it.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use skill_builder::{SkillBuilder, Turn, TurnResult};
//!
//! /// What the skill remembers about a user.
//! #[derive(Default, Serialize, Deserialize)]
//! struct Visits {
//!     count: u32,
//! }
//!
//! async fn launch(turn: Turn) -> TurnResult {
//!     let mut visits = turn.state::<Visits>().await?; // loaded once, saved if changed
//!     visits.count += 1;
//!     Ok(turn.speak(format!("Visit number {}.", visits.count)).reprompt("What now?"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let skill = SkillBuilder::new()
//!     .skip_skill_id_check_for_local_testing()
//!     .with_persistence_adapter(std::sync::Arc::new(persistence_memory::MemoryAdapter::new()))
//!     .on_launch(launch)
//!     .build()?;
//! # Ok(()) }
//! ```
//!
//! **Typed state.** [`Turn::state`] reads the persistent attributes into your `T` (any serde
//! type with `Default`; fields missing in storage take their default) and lends it to the
//! handler ([`StateMut`]). Only the top-level fields the handler changed are written back; the
//! others, and attributes `T` does not know (written by an older or newer version of the skill,
//! or another skill), stay exactly as they were. A turn that only reads writes nothing. After
//! the response, the skill saves what changed, conditionally on the version read, merging with
//! another device's changes to other attributes; when another device changed the same
//! attributes meanwhile, the handler runs again on the fresh data (at most three times in all),
//! so a counter counts every visit. Keep side effects of a handler that changes state idempotent,
//! as with `update()`'s closure.
//!
//! **Nothing waits on a lock.** A guard owns what it lends; asking for attributes a live guard
//! holds (the same or another view of them) is [`SkillError::StateBorrowed`] at once. Drop the
//! guard first (or keep to one view per turn).

mod guard;
pub(crate) mod state;
mod typed;

use std::fmt;
use std::sync::Arc;

use persistence_core::{Attributes, PersistenceAdapter, PersistenceAdapterExt, RetryPolicy};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use guard::{AttributesMut, StateMut};
use state::{Scope, TurnShared};

use crate::envelope::{Request, RequestEnvelope, Slot};
use crate::error::SkillError;
use crate::reply::{HandlerError, Reply};

/// One turn of the conversation, as a plain async handler gets it: the request, typed state,
/// extensions, and what to answer.
///
/// Cheap to clone; every clone is the same turn.
#[derive(Clone)]
pub struct Turn {
    pub(crate) shared: Arc<TurnShared>,
}

impl fmt::Debug for Turn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn")
            .field("request_type", &self.shared.envelope.request_type())
            .finish_non_exhaustive()
    }
}

impl Turn {
    /// The whole request envelope.
    pub fn envelope(&self) -> &RequestEnvelope {
        &self.shared.envelope
    }

    /// The request (typed for launch, intents, session end and the skill events).
    pub fn request(&self) -> &Request {
        &self.shared.envelope.request
    }

    /// The request's type.
    pub fn request_type(&self) -> &str {
        self.shared.envelope.request_type()
    }

    /// The intent name, for an `IntentRequest`.
    pub fn intent_name(&self) -> Option<&str> {
        self.shared.envelope.intent_name()
    }

    /// Slot `name` of the intent.
    pub fn slot(&self, name: &str) -> Option<&Slot> {
        self.shared.note_slot(name);
        self.shared.envelope.slot(name)
    }

    /// The spoken value of slot `name`, when filled.
    pub fn slot_value(&self, name: &str) -> Option<&str> {
        self.shared.note_slot(name);
        self.shared.envelope.slot_value(name)
    }

    /// The value slot `name` resolved to in the slot type (its canonical name), or the spoken
    /// value when entity resolution found no match.
    pub fn resolved_slot_value(&self, name: &str) -> Option<&str> {
        self.shared.note_slot(name);
        self.shared.envelope.slot(name)?.resolved_or_spoken()
    }

    /// The Alexa user ID (`context.System.user.userId`).
    pub fn user_id(&self) -> Option<&str> {
        self.shared.envelope.user_id()
    }

    /// The request's locale, e.g. `en-US`.
    pub fn locale(&self) -> Option<&str> {
        self.shared.envelope.locale()
    }

    /// When Alexa sent the request, typed ([`Timestamp`](crate::Timestamp)): "today" is
    /// `turn.timestamp()?.date_at_offset(offset)` for a user at that UTC offset.
    pub fn timestamp(&self) -> Option<crate::Timestamp> {
        self.shared.envelope.timestamp()
    }

    /// True on the first request of a session.
    pub fn is_new_session(&self) -> bool {
        self.shared.envelope.is_new_session()
    }

    /// The persistence adapter the skill was built with.
    pub fn persistence_adapter(&self) -> Option<&Arc<dyn PersistenceAdapter>> {
        self.shared.config.adapter.as_ref()
    }

    /// The persistent attributes as a `T`, read on first use this turn (from a copy the
    /// session carried, a read started when the turn began, or storage), for reading and
    /// changing; see the [module docs](self).
    ///
    /// # Errors
    /// [`SkillError::StateBorrowed`] while another guard of the persistent attributes lives;
    /// no adapter or key; a storage failure; stored attributes that do not fit `T` (naming the
    /// field).
    pub async fn state<T>(&self) -> Result<StateMut<T>, HandlerError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        self.shared.ensure_loaded().await?;
        let value = self.shared.take_typed::<T>(Scope::Persistent)?;
        Ok(StateMut::new(value, self.shared.clone(), Scope::Persistent))
    }

    /// The persistent attributes as a JSON map, for what typed state does not cover.
    ///
    /// # Errors
    /// As [`Turn::state`].
    pub async fn attributes(&self) -> Result<AttributesMut, HandlerError> {
        self.shared.ensure_loaded().await?;
        let attributes = self.shared.take_untyped(Scope::Persistent)?;
        Ok(AttributesMut::new(
            attributes,
            self.shared.clone(),
            Scope::Persistent,
        ))
    }

    /// The session attributes as a `T` (default when the session has none), returned in the
    /// response. Top-level attributes `T` does not know are kept.
    ///
    /// # Errors
    /// [`SkillError::StateBorrowed`] while another guard of the session attributes lives; session
    /// attributes that do not fit `T`.
    pub fn session<T>(&self) -> Result<StateMut<T>, HandlerError>
    where
        T: Serialize + DeserializeOwned + Default + Send + 'static,
    {
        let value = self.shared.take_typed::<T>(Scope::Session)?;
        Ok(StateMut::new(value, self.shared.clone(), Scope::Session))
    }

    /// The session attributes as a JSON map.
    ///
    /// # Errors
    /// [`SkillError::StateBorrowed`] while another guard of the session attributes lives.
    pub fn session_attributes(&self) -> Result<AttributesMut, HandlerError> {
        let attributes = self.shared.take_untyped(Scope::Session)?;
        Ok(AttributesMut::new(
            attributes,
            self.shared.clone(),
            Scope::Session,
        ))
    }

    /// Deletes the user's persistent attributes when the turn ends, conditionally on the
    /// version this turn read (a user with nothing stored when read is left alone: deleting
    /// could remove what another device created since). From now on they read as empty.
    ///
    /// # Errors
    /// As [`Turn::state`].
    pub async fn delete_persistent_attributes(&self) -> Result<(), HandlerError> {
        self.shared.ensure_loaded().await?;
        Ok(self.shared.mark_deleted()?)
    }

    /// Forgets what this turn read or changed of the persistent attributes and reads them again
    /// from storage.
    ///
    /// # Errors
    /// As [`Turn::state`].
    pub async fn reload_persistent_attributes(&self) -> Result<(), HandlerError> {
        self.shared.forget_persistent()?;
        Ok(self.shared.ensure_loaded().await?)
    }

    /// Saves the persistent attributes' changes now rather than after the response (as the
    /// turn would), conditionally on the version read and merging as the end of the turn does.
    /// True when something was written.
    ///
    /// # Errors
    /// [`SkillError::StateBorrowed`] while a guard lives; a conflict with another device's
    /// change to the same attributes; a storage failure.
    pub async fn save_persistent_attributes(&self) -> Result<bool, HandlerError> {
        let Some(write) = self.shared.pending_write()? else {
            return Ok(false);
        };
        let adapter = self.persistence_adapter().cloned().ok_or_else(|| {
            SkillError::other("persistent attributes are used but the skill has no adapter")
        })?;
        crate::write::perform(&self.shared, adapter.as_ref(), write)
            .await
            .map_err(crate::write::Outcome::into_error)?;
        Ok(true)
    }

    /// Read-modify-write of the persistent attributes now, with retries on conflicting writers
    /// ([`PersistenceAdapterExt::update`]); this turn's unsaved changes are saved first. Returns
    /// what `change` returned on the attempt that was saved. `change` may run more than once.
    ///
    /// # Errors
    /// As [`Turn::save_persistent_attributes`].
    pub async fn update_persistent_attributes<F, T>(&self, mut change: F) -> Result<T, HandlerError>
    where
        F: FnMut(&mut Attributes) -> T + Send,
        T: Send,
    {
        self.save_persistent_attributes().await?;
        let adapter = self.persistence_adapter().cloned().ok_or_else(|| {
            SkillError::other("persistent attributes are used but the skill has no adapter")
        })?;
        let key = self.shared.key()?;
        let mut written = Attributes::new();
        let out = adapter
            .update_with(&key, &RetryPolicy::default(), |attrs| {
                let value = change(attrs);
                written = attrs.clone();
                value
            })
            .await
            .map_err(SkillError::from)?;
        self.shared.committed(&key, Some(out.version), written);
        Ok(out.value)
    }

    /// Keys this turn's persistent attributes by `key` instead of the key generator's (e.g. a
    /// linked account's stable ID, found by a `before` interceptor); a read starts for it at
    /// once. Only before they are loaded under another key.
    ///
    /// # Errors
    /// When the persistent attributes were already loaded this turn under another key.
    pub fn use_persistence_key(&self, key: impl Into<String>) -> Result<(), HandlerError> {
        Ok(self.shared.use_key(key.into())?)
    }

    /// Leaves `value` for the rest of this turn (one per type): what a `before` interceptor
    /// found out (a linked profile, say) for the handler.
    ///
    /// ```
    /// # use skill_builder::{SkillBuilder, Turn, HandlerError};
    /// #[derive(Clone)]
    /// struct Tier(&'static str);
    /// let skill = SkillBuilder::new()
    ///     .skip_skill_id_check_for_local_testing()
    ///     .before(|turn: Turn| async move {
    ///         turn.insert_extension(Tier("gold"));
    ///         Ok::<_, HandlerError>(())
    ///     })
    ///     .on_launch(|turn: Turn| async move {
    ///         let tier = turn.extension::<Tier>().map_or("none", |t| t.0);
    ///         Ok::<_, HandlerError>(turn.speak(format!("Your tier: {tier}.")))
    ///     })
    ///     .build();
    /// ```
    pub fn insert_extension<T: Send + Sync + 'static>(&self, value: T) {
        self.shared.insert_extension(value);
    }

    /// A copy of the value of type `T` left for this turn, if any.
    pub fn extension<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.shared.extension::<T>()
    }

    /// A reply that says `ssml`.
    pub fn speak(&self, ssml: impl Into<String>) -> Reply {
        Reply::speak(ssml)
    }

    /// A reply that says nothing.
    pub fn reply(&self) -> Reply {
        Reply::empty()
    }
}
