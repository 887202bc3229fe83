//! I/O under the client: request bodies (bytes or a streamed file, CRC-64 computed as they are
//! sent), progress reporting, cancellation, the HTTP transport, and the logger.

pub mod body;
pub mod cancel;
pub(crate) mod dns;
pub mod logging;
pub mod progress;
pub(crate) mod tls;
pub(crate) mod transport;
