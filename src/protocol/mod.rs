//! The OSS protocol as pure functions, no I/O: what a request must look like (options,
//! validation, headers, URL, signature) and what an answer means (outputs, service errors,
//! CRC-64). Everything here is a function of its arguments and, where a signature needs one, a
//! clock reading passed in, so tests pin every byte.

pub mod config;
pub mod crc64;
pub mod credentials;
pub(crate) mod encoding;
pub mod error;
pub mod headers;
pub mod limits;
pub mod options;
pub(crate) mod request;
pub mod resolver;
pub mod response;
pub mod signing;
pub mod validate;
