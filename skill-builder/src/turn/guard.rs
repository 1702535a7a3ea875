//! Guards: what a turn lends a handler, owned, and takes back when it is dropped.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use persistence_core::Attributes;

use super::state::{Scope, TurnShared};

/// Mutable access to this turn's typed state (persistent or session), a `T` the guard owns
/// while it lives. Its changes are written back when it is dropped; asking the turn for the same
/// attributes again while it lives is an error at once ([`SkillError::StateBorrowed`](crate::SkillError::StateBorrowed)),
/// never a wait.
pub struct StateMut<T: Send + 'static> {
    value: Option<Box<T>>,
    home: Arc<TurnShared>,
    scope: Scope,
}

impl<T: Send + 'static> StateMut<T> {
    pub(crate) fn new(value: Box<T>, home: Arc<TurnShared>, scope: Scope) -> Self {
        Self {
            value: Some(value),
            home,
            scope,
        }
    }
}

impl<T: Send + 'static> Deref for StateMut<T> {
    type Target = T;
    fn deref(&self) -> &T {
        match &self.value {
            Some(v) => v,
            // The value is only taken in `drop`.
            None => unreachable!("a state guard is used after it was dropped"),
        }
    }
}

impl<T: Send + 'static> DerefMut for StateMut<T> {
    fn deref_mut(&mut self) -> &mut T {
        match &mut self.value {
            Some(v) => v,
            None => unreachable!("a state guard is used after it was dropped"),
        }
    }
}

impl<T: Send + fmt::Debug + 'static> fmt::Debug for StateMut<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StateMut").field(&self.value).finish()
    }
}

impl<T: Send + 'static> Drop for StateMut<T> {
    fn drop(&mut self) {
        if let Some(value) = self.value.take() {
            self.home.give_typed(self.scope, value);
        }
    }
}

/// Mutable access to this turn's attributes (persistent or session) as a JSON map, owned while
/// it lives and given back when dropped; see [`StateMut`].
pub struct AttributesMut {
    attributes: Option<Attributes>,
    home: Arc<TurnShared>,
    scope: Scope,
}

impl AttributesMut {
    pub(crate) fn new(attributes: Attributes, home: Arc<TurnShared>, scope: Scope) -> Self {
        Self {
            attributes: Some(attributes),
            home,
            scope,
        }
    }
}

impl Deref for AttributesMut {
    type Target = Attributes;
    fn deref(&self) -> &Attributes {
        match &self.attributes {
            Some(a) => a,
            None => unreachable!("an attributes guard is used after it was dropped"),
        }
    }
}

impl DerefMut for AttributesMut {
    fn deref_mut(&mut self) -> &mut Attributes {
        match &mut self.attributes {
            Some(a) => a,
            None => unreachable!("an attributes guard is used after it was dropped"),
        }
    }
}

impl fmt::Debug for AttributesMut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AttributesMut")
            .field(&self.attributes)
            .finish()
    }
}

impl Drop for AttributesMut {
    fn drop(&mut self) {
        if let Some(a) = self.attributes.take() {
            self.home.give_untyped(self.scope, a);
        }
    }
}
