//! JS shapes to core types and back, as plain Rust: how JS numbers and strings become positions,
//! timeouts and options, how errors look to JS (`RequestError` fields, the `Client…` codes), and
//! the rules of a call's control and of a session's call order. The N-API layer above only
//! reads JS values into these types, calls them, and builds JS objects.

pub mod append_options;
pub mod call_queue;
pub mod config;
pub mod control;
pub mod credentials;
pub mod data;
pub mod numbers;
pub mod request_error;
pub mod resolver;
pub mod session_options;
pub mod stream_options;
pub mod stream_state;
#[cfg(test)]
mod test_support;
