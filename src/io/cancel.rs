//! Cancellation: a [`CancellationToken`] (tokio-util's) stops a call at once — while the body is
//! being sent, while the answer is awaited, or while an append session waits between tries —
//! and the call fails with [`TransportErrorKind::Cancelled`] (`ClientCancelled` in JS).
//!
//! What a cancelled append leaves behind:
//!
//! * cancelled **before every byte of the body was handed to the connection**
//!   (`request_sent == false`): OSS commits an append only after receiving its whole
//!   `Content-Length`, so it was not applied; the object is unchanged;
//! * cancelled **after** that (`request_sent == true`, e.g. while waiting for the answer): OSS
//!   may have applied it. A plain `Client::append_object` caller finds out with a HEAD; an
//!   append session (`Appender::append_cancellable`) does that by itself on its next call.
//!
//! ```no_run
//! use std::time::Duration;
//! use oss_append::{AppendObjectRequest, CancellationToken, Client, ClientConfig, Credentials};
//!
//! # async fn run() -> Result<(), oss_append::Error> {
//! let client = Client::new(ClientConfig::new(Credentials::new("ak", "sk", None)?, "cn-hangzhou")?)?;
//! let token = CancellationToken::new();
//! let cancel = token.clone();
//! tokio::spawn(async move {
//!     tokio::time::sleep(Duration::from_secs(5)).await;
//!     cancel.cancel(); // from anywhere: another task, a UI callback, a signal handler
//! });
//! let request = AppendObjectRequest::new("my-bucket", "big.bin", vec![0u8; 64 << 20])
//!     .with_cancellation(token);
//! match client.append_object(request).await {
//!     Ok(out) => println!("appended, next position {}", out.next_append_position),
//!     Err(e) if e.is_cancelled() => println!("cancelled: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```

use std::future::Future;

#[cfg(doc)]
use crate::protocol::error::TransportErrorKind;
pub use tokio_util::sync::CancellationToken;

use crate::protocol::error::{Error, Result};

/// Runs `work` unless `token` fires first; then fails with a cancellation error saying nothing
/// was sent (for steps before a request goes out: opening a file, hashing it).
pub(crate) async fn unless_cancelled<T>(
    token: Option<&CancellationToken>,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let Some(token) = token else {
        return work.await;
    };
    tokio::select! {
        biased;
        () = token.cancelled() => Err(Error::cancelled(false, "before the request was sent")),
        r = work => r,
    }
}
