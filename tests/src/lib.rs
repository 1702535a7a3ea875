//! Cross-backend integration tests live in `tests/`; this library holds their shared harness.
