#![doc = include_str!("../README.md")]
//!
//! The chapters are the modules below; each is one Markdown file in `docs/guide/chapters/`,
//! readable on its own, and every Rust example in it is a doctest of this crate.

/// The repository's README, included so that its examples compile and run as doctests too.
#[doc = include_str!("../../../README.md")]
pub mod readme {}

/// Writing a skill: handlers, routes, typed and session state, merges and reruns, session carry,
/// prefetch, account linking, testing.
#[doc = include_str!("../chapters/writing-a-skill.md")]
pub mod writing_a_skill {}

/// The HTTP front: request verification, limits, shutdown.
#[doc = include_str!("../chapters/web-front.md")]
pub mod web_front {}

/// The backends: DynamoDB, S3, SQLite, files, memory, the cache layer.
#[doc = include_str!("../chapters/backends.md")]
pub mod backends {}

/// Operating a skill's data with the `alexa-persistence` tool.
#[doc = include_str!("../chapters/operating.md")]
pub mod operating {}

/// Reliability: each guarantee, its test and figures.
#[doc = include_str!("../chapters/reliability.md")]
pub mod reliability {}

/// Benchmarks: what a turn costs.
#[doc = include_str!("../chapters/benchmarks.md")]
pub mod benchmarks {}

/// Deploying: IAM, AWS SAM and the ASK CLI, the Home Assistant relay, what is tested.
#[doc = include_str!("../chapters/deploying.md")]
pub mod deploying {}

/// Migrating from the official ASK SDKs and from this crate's previous API.
#[doc = include_str!("../chapters/migrating.md")]
pub mod migrating {}

/// Design notes.
#[doc = include_str!("../chapters/design-notes.md")]
pub mod design_notes {}
