//! Saves and deletes: conditional PUTs, the latest write tokens, and recognising a write whose
//! answer was lost.

use std::sync::atomic::Ordering;
use std::time::SystemTime;

use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::put_object::PutObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use persistence_aws::{AttemptLog, ambiguous};
use persistence_core::clock::{epoch_seconds, from_epoch_seconds};
use persistence_core::limits::{MAX_JSON_DEPTH, check_depth};
use persistence_core::{
    Attributes, Error, RECENT_TOKENS, RedactedKey, Result, SaveMode, SaveOptions, Version,
    is_expired, write_token,
};

use crate::body::{self, S3Version, parse_tokens, short};
use crate::{EXPIRES_AT_METADATA, RECENT_TOKENS_METADATA, S3Adapter, WRITE_TOKEN_METADATA, errors};

/// What a HEAD tells about an object.
pub(crate) struct Head {
    pub(crate) etag: String,
    pub(crate) token: Option<String>,
    pub(crate) tokens: Vec<String>,
    pub(crate) expires_at: Option<SystemTime>,
}

/// The condition of one PUT.
enum Condition {
    None,
    Absent,
    Etag(String),
}

type PutError = SdkError<PutObjectError, HttpResponse>;

impl S3Adapter {
    pub(crate) fn expiry_from(
        metadata: Option<&std::collections::HashMap<String, String>>,
    ) -> Option<SystemTime> {
        metadata?
            .get(EXPIRES_AT_METADATA)?
            .parse::<u64>()
            .ok()
            .map(from_epoch_seconds)
    }

    pub(crate) fn tokens_from(
        metadata: Option<&std::collections::HashMap<String, String>>,
    ) -> Option<Vec<String>> {
        metadata
            .and_then(|m| m.get(RECENT_TOKENS_METADATA))
            .and_then(|t| parse_tokens(t))
    }

    /// HEAD of the object: `None` when it does not exist.
    pub(crate) async fn head(
        &self,
        operation: &'static str,
        key: &str,
        object_key: &str,
    ) -> Result<Option<Head>> {
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(object_key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(Head {
                etag: out.e_tag().unwrap_or_default().to_owned(),
                token: out
                    .metadata()
                    .and_then(|m| m.get(WRITE_TOKEN_METADATA))
                    .cloned(),
                tokens: Self::tokens_from(out.metadata()).unwrap_or_default(),
                expires_at: Self::expiry_from(out.metadata()),
            })),
            Err(e) => match errors::map(operation, &self.resource, key, object_key, e, None) {
                errors::Mapped::Missing => Ok(None),
                errors::Mapped::Error(e) => Err(e),
            },
        }
    }

    /// One PUT of a save; its ETag.
    #[allow(clippy::too_many_arguments)]
    async fn put(
        &self,
        object_key: &str,
        body: &[u8],
        token: &str,
        tokens: &[String],
        expires: Option<SystemTime>,
        condition: &Condition,
        log: &AttemptLog,
    ) -> std::result::Result<String, PutError> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(object_key)
            .content_type("application/json")
            .metadata(WRITE_TOKEN_METADATA, token)
            .metadata(RECENT_TOKENS_METADATA, tokens.join(","))
            .body(ByteStream::from(body.to_vec()));
        if let Some(at) = expires {
            req = req.metadata(EXPIRES_AT_METADATA, epoch_seconds(at).to_string());
        }
        req = match condition {
            Condition::None => req,
            Condition::Absent => req.if_none_match("*"),
            Condition::Etag(e) => req.if_match(e),
        };
        let out = req.customize().interceptor(log.clone()).send().await?;
        Ok(out.e_tag().unwrap_or_default().to_owned())
    }

    fn unknown(&self, key: &str) -> Error {
        Error::OutcomeUnknown {
            operation: "save",
            resource: self.resource.clone(),
            key: RedactedKey::new(key),
            detail: format!(
                "an attempt's answer was lost and the object no longer shows whether it landed \
                 (more than {RECENT_TOKENS} writes since, or it was deleted or overwritten)"
            ),
        }
    }

    pub(crate) async fn save_object(
        &self,
        key: &str,
        attributes: &Attributes,
        options: &SaveOptions,
    ) -> Result<Version> {
        let object_key = self.names.object_key(key)?;
        let token = write_token(options, "save", &self.resource, key)?;
        check_depth(
            &attributes.to_exact(),
            MAX_JSON_DEPTH,
            "save",
            &self.resource,
            key,
        )?;
        let body = body::encode(attributes, &token);
        let now = self.clock.now();
        let expires = options.expiry.resolve(self.default_expiry, now);
        // The condition, the token list this write keeps, what a failed condition means, and
        // the token of the version it replaces.
        let (condition, tokens, expectation, replaced) = match &options.mode {
            SaveMode::Overwrite => (Condition::None, vec![short(&token).to_owned()], None, None),
            SaveMode::CreateOnly => (
                Condition::Absent,
                vec![short(&token).to_owned()],
                Some("the object already exists".to_owned()),
                None,
            ),
            SaveMode::IfVersion(v) => {
                let parsed = self.version("save", key, v)?;
                let replaced = parsed.tokens.as_ref().and_then(|t| t.last().cloned());
                (
                    Condition::Etag(parsed.etag.clone()),
                    parsed.next_tokens(&token),
                    Some(format!(
                        "the object is no longer at version {} (changed or deleted since it was read)",
                        parsed.etag
                    )),
                    replaced,
                )
            }
        };
        let version = |etag: String| {
            Version::new(
                S3Version {
                    etag,
                    tokens: Some(tokens.clone()),
                }
                .text(),
            )
        };
        // A PUT conditional on an ETag can only fail when sent again after it landed, so the
        // SDK may retry it; a create-only or blind PUT sent again after it landed could undo
        // another client's change made in between, so it is never sent again once an attempt's
        // answer was lost: what is stored settles it instead.
        let log = match options.mode {
            SaveMode::IfVersion(_) => AttemptLog::new(),
            _ => AttemptLog::no_retry_after_unknown(),
        };
        let first = self
            .put(
                &object_key,
                &body,
                &token,
                &tokens,
                expires,
                &condition,
                &log,
            )
            .await;
        let e = match first {
            Ok(etag) => return Ok(version(etag)),
            Err(e) => e,
        };
        let map = |e: PutError, expectation: Option<&str>| {
            errors::map("save", &self.resource, key, &object_key, e, expectation)
                .into_error(|| self.conflict("save", key, "the object vanished"))
        };
        let precondition = expectation.is_some() && errors::is_precondition_failure(&e);
        let create_only = matches!(options.mode, SaveMode::CreateOnly);
        let unsettled = log.possibly_applied() || ambiguous(&e);
        // A caller that gives its own token may be saving again after a lost answer of its own.
        let retried_by_caller = options.token.is_some();
        if !unsettled && !(precondition && (create_only || retried_by_caller)) {
            return Err(map(e, expectation.as_deref()));
        }
        // The answer of an attempt was lost, or create-only met an object that may have
        // expired: look at what is stored.
        let head = match self.head("save", key, &object_key).await {
            Ok(head) => head,
            // The read that would settle it failed: an attempt may still have landed.
            Err(_) if unsettled || retried_by_caller => return Err(self.unknown(key)),
            Err(e) => return Err(e),
        };
        match &head {
            // This very write, still the current one.
            Some(h) if h.token.as_deref() == Some(token.as_str()) => {
                tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write");
                return Ok(version(h.etag.clone()));
            }
            // This write, with others on top of it since: the version it made is stale already
            // (its ETag is the MD5 of its body, as S3 gives single-part writes without KMS).
            Some(h) if h.tokens.iter().any(|t| t == short(&token)) => {
                tracing::debug!(key = %RedactedKey::new(key), "a retried save found its own write under later ones");
                return Ok(version(body::etag_of(&body)));
            }
            // Create-only over an expired object: replace exactly that object.
            Some(h) if create_only && is_expired(h.expires_at, now) => {
                let etag = Condition::Etag(h.etag.clone());
                return self
                    .put(&object_key, &body, &token, &tokens, expires, &etag, &log)
                    .await
                    .map(version)
                    .map_err(|e| map(e, expectation.as_deref()));
            }
            _ => {}
        }
        // Not there. Can the object prove it never landed? Only for a write conditional on a
        // version whose token the object still keeps: then the object descends from that
        // version and keeps every write since, and a landed write would be among them. (A
        // create-only or blind write may have landed and been deleted or overwritten since.)
        let proven = match (&options.mode, &head) {
            (SaveMode::IfVersion(_), Some(h)) => {
                replaced.as_ref().is_some_and(|r| h.tokens.contains(r))
            }
            _ => false,
        };
        if unsettled && !proven {
            return Err(self.unknown(key));
        }
        if precondition {
            return Err(self.conflict(
                "save",
                key,
                expectation.unwrap_or_else(|| "a precondition failed".into()),
            ));
        }
        Err(map(e, expectation.as_deref()))
    }

    pub(crate) async fn delete_object(&self, key: &str) -> Result<()> {
        let object_key = self.names.object_key(key)?;
        // Blind: never sent again after an attempt's answer was lost (it could delete what
        // another client wrote in between); what is stored settles it instead.
        let log = AttemptLog::no_retry_after_unknown();
        let sent = self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(&object_key)
            .customize()
            .interceptor(log.clone())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) if log.possibly_applied() || ambiguous(&e) => {
                match self.head("delete", key, &object_key).await {
                    Ok(None) => Ok(()),
                    _ => Err(Error::OutcomeUnknown {
                        operation: "delete",
                        resource: self.resource.clone(),
                        key: RedactedKey::new(key),
                        detail: "an attempt's answer was lost and the object is still there \
                                 (written again since, or the delete never landed)"
                            .into(),
                    }),
                }
            }
            Err(e) => match errors::map("delete", &self.resource, key, &object_key, e, None) {
                errors::Mapped::Missing => Ok(()),
                errors::Mapped::Error(e) => Err(e),
            },
        }
    }

    pub(crate) async fn delete_object_if(&self, key: &str, expected: &Version) -> Result<()> {
        let object_key = self.names.object_key(key)?;
        let etag = self.version("delete", key, expected)?.etag;
        let stale = || {
            self.conflict(
                "delete",
                key,
                format!("the object is no longer at version {etag}"),
            )
        };
        if !self.no_conditional_delete.load(Ordering::Relaxed) {
            // Conditional on the ETag, so the SDK may send it again: a second attempt after the
            // first landed can only find the object gone or changed.
            let log = AttemptLog::new();
            let sent = self
                .client
                .delete_object()
                .bucket(&self.bucket)
                .key(&object_key)
                .if_match(&etag)
                .customize()
                .interceptor(log.clone())
                .send()
                .await;
            match sent {
                Ok(_) => return Ok(()),
                Err(e) if errors::is_not_implemented(&e) => {
                    self.no_conditional_delete.store(true, Ordering::Relaxed);
                    tracing::warn!(
                        bucket = %self.bucket,
                        "this S3 endpoint does not implement conditional deletes (If-Match \
                         on DeleteObject); falling back to check-then-delete, which a write \
                         between the check and the delete can still lose"
                    );
                }
                // An attempt may have landed without its answer: only what is stored can say.
                Err(e) if log.possibly_applied() || ambiguous(&e) => {
                    return match self.head("delete", key, &object_key).await {
                        Ok(None) => Ok(()),
                        // Still the version it was to delete: the delete never landed.
                        Ok(Some(h)) if h.etag == etag => {
                            match errors::map("delete", &self.resource, key, &object_key, e, None) {
                                errors::Mapped::Missing => Ok(()),
                                errors::Mapped::Error(e) => Err(e),
                            }
                        }
                        // Written again since (after this delete landed, or instead of it), or
                        // the read failed.
                        _ => Err(Error::OutcomeUnknown {
                            operation: "delete",
                            resource: self.resource.clone(),
                            key: RedactedKey::new(key),
                            detail: "an attempt's answer was lost and the object does not show \
                                     whether the delete landed (written again since, or \
                                     unreadable)"
                                .into(),
                        }),
                    };
                }
                Err(e) if errors::is_precondition_failure(&e) => {
                    // Gone already is fine; anything else is a newer version.
                    return match self.head("delete", key, &object_key).await? {
                        None => Ok(()),
                        Some(_) => Err(stale()),
                    };
                }
                Err(e) => {
                    return match errors::map("delete", &self.resource, key, &object_key, e, None) {
                        errors::Mapped::Missing => Ok(()),
                        errors::Mapped::Error(e) => Err(e),
                    };
                }
            }
        }
        match self.head("delete", key, &object_key).await? {
            None => Ok(()),
            Some(h) if h.etag == etag => self.delete_object(key).await,
            Some(_) => Err(stale()),
        }
    }
}
