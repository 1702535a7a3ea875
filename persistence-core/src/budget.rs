//! Time budgets for a caller that must answer within a fixed time (a voice assistant's turn: 8
//! seconds) and makes at most one read and one write per answer. Cloud backends build their clients' retry and timeout settings from
//! these, so that even a turn whose read and write both exhaust their retries answers in time.
//!
//! ```
//! use persistence_core::budget;
//! // One read plus one write, each at its worst, still leaves time to answer.
//! assert!(budget::OPERATION_TIMEOUT * 2 < budget::RESPONSE_BUDGET);
//! assert!(budget::ATTEMPT_TIMEOUT * budget::MAX_ATTEMPTS >= budget::OPERATION_TIMEOUT);
//! ```

use std::time::Duration;

/// How long the caller may take to answer, one read and one write included (8 s: a voice
/// assistant's turn).
pub const RESPONSE_BUDGET: Duration = Duration::from_secs(8);

/// The most one adapter call (get, save or delete) may take, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_millis(2_500);

/// The most one attempt of a call may take before it is abandoned and retried.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_millis(1_000);

/// The most opening a connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_millis(1_000);

/// Attempts per call in all (the first included) for throttling, 5xx and network faults.
pub const MAX_ATTEMPTS: u32 = 3;

/// First back-off between attempts (it grows exponentially, with jitter).
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(50);

/// Longest back-off between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_millis(500);
