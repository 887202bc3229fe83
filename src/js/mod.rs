//! JS shapes to core types and back, as plain Rust: how JS numbers and strings become positions,
//! timeouts and options, and how errors look to JS (`RequestError` fields, the `Client…` codes).
//! The N-API layer above only reads JS values, calls these, and builds JS objects.

pub mod numbers;
pub mod request_error;
