//! The route table: which handler answers which request, declared as data.
//!
//! An `IntentRequest` goes to the route of its intent name; any other request to the route of
//! its type; a request no route takes (an unknown intent, `AMAZON.FallbackIntent` without its
//! own route, an unknown request type) to the fallback. Without a fallback such a request is
//! [`SkillError::Unhandled`](crate::SkillError::Unhandled), except `SessionEndedRequest`, which
//! gets the empty response Alexa expects. [`Skill::routes`](crate::Skill::routes) lists the table.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::envelope::RequestEnvelope;
use crate::handler::TurnHandler;
use crate::request::types;

/// One entry of a skill's route table.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Route {
    /// An `IntentRequest` for this intent.
    Intent(String),
    /// Any request of this type (`LaunchRequest`, `SessionEndedRequest`,
    /// `AlexaSkillEvent.SkillDisabled`, `Connections.Response`, ...).
    Request(String),
    /// Requests no other route takes.
    Fallback,
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Route::Intent(name) => write!(f, "intent {name}"),
            Route::Request(t) => write!(f, "request {t}"),
            Route::Fallback => f.write_str("fallback"),
        }
    }
}

/// The table.
#[derive(Default)]
pub(crate) struct Router {
    intents: BTreeMap<String, Arc<dyn TurnHandler>>,
    requests: BTreeMap<String, Arc<dyn TurnHandler>>,
    fallback: Option<Arc<dyn TurnHandler>>,
}

impl Router {
    /// Adds a route; true when it replaced one (the later registration wins).
    pub(crate) fn insert(&mut self, route: Route, handler: Arc<dyn TurnHandler>) -> bool {
        match route {
            Route::Intent(name) => self.intents.insert(name, handler).is_some(),
            Route::Request(t) => self.requests.insert(t, handler).is_some(),
            Route::Fallback => self.fallback.replace(handler).is_some(),
        }
    }

    /// The route and handler for a request, if any.
    pub(crate) fn find(&self, envelope: &RequestEnvelope) -> Option<(Route, Arc<dyn TurnHandler>)> {
        let request_type = envelope.request_type();
        let specific = match envelope.intent_name() {
            Some(name) if request_type == types::INTENT => self
                .intents
                .get(name)
                .map(|h| (Route::Intent(name.to_owned()), h.clone())),
            _ => None,
        };
        specific
            .or_else(|| {
                self.requests
                    .get(request_type)
                    .map(|h| (Route::Request(request_type.to_owned()), h.clone()))
            })
            .or_else(|| self.fallback.clone().map(|h| (Route::Fallback, h)))
    }

    /// Every route, intents first, then request types, then the fallback.
    pub(crate) fn list(&self) -> Vec<Route> {
        self.intents
            .keys()
            .map(|n| Route::Intent(n.clone()))
            .chain(self.requests.keys().map(|t| Route::Request(t.clone())))
            .chain(self.fallback.as_ref().map(|_| Route::Fallback))
            .collect()
    }
}
