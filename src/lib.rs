//! oss-append: Alibaba Cloud OSS append upload, as a plain Rust core with an N-API binding for
//! HarmonyOS (ArkTS).
//!
//! Data flows one way: [`AppendObjectRequest`] → [`validate`] → [`request`] (headers, URL,
//! [`signing`]) → [`transport`] (with a [`body`] that checksums what it sends, [`crc64`]) →
//! [`response`] → [`AppendObjectOutput`] or [`Error`].
//!
//! ```no_run
//! use oss_append::{AppendObjectRequest, Body, Client, ClientConfig, Credentials};
//!
//! # async fn run() -> Result<(), oss_append::Error> {
//! let credentials = Credentials::new("<access key id>", "<access key secret>", None)?;
//! let client = Client::new(ClientConfig::new(credentials, "oss-cn-hangzhou")?)?;
//!
//! // The first append creates the object (position 0).
//! let first = client
//!     .append_object(AppendObjectRequest::new("my-bucket", "logs/app.log", "hello\n"))
//!     .await?;
//! // Each later append starts where the previous answer says; passing the previous CRC-64
//! // makes the client check the whole object's CRC-64 that OSS reports.
//! let second = client
//!     .append_object(
//!         AppendObjectRequest::new("my-bucket", "logs/app.log", Body::from_path("/tmp/part.bin"))
//!             .with_position(first.next_append_position)
//!             .with_init_crc64(first.hash_crc64ecma.unwrap_or(0)),
//!     )
//!     .await?;
//! println!("the object is now {} bytes", second.next_append_position);
//! # Ok(()) }
//! ```
//!
//! `append_object` sends each append once. For appends that survive lost answers, resets and
//! 5xx without losing or duplicating data, use an append session: [`Client::appender`] returns
//! an [`Appender`] that tracks positions and the CRC-64 chain, retries what certainly did not
//! land and checks with HEAD what might have ([`session`], `docs/reliability.md`).

pub mod body;
pub mod cancel;
pub mod client;
pub mod config;
pub mod crc64;
pub mod credentials;
pub mod error;
pub mod logging;
#[cfg(feature = "napi")]
mod napi;
pub mod options;
pub mod progress;
pub mod request;
pub mod request_error;
pub mod response;
pub mod retry;
pub mod session;
pub mod signing;
pub mod transport;
pub mod validate;

pub use body::Body;
pub use cancel::{CancellableAppender, CancellationToken};
pub use client::Client;
pub use config::{ClientConfig, SignatureVersion, UrlStyle};
pub use credentials::Credentials;
pub use error::{Error, ServiceError, TransportErrorKind};
pub use options::{
    AppendOptions, ContentMd5, DataEncryption, ObjectAcl, ServerSideEncryption, StorageClass,
};
pub use progress::ProgressObserver;
pub use request::AppendObjectRequest;
pub use response::{AppendObjectOutput, HeadObjectOutput, SealAppendObjectOutput};
pub use retry::RetryPolicy;
pub use session::{Appended, Appender, AppenderOptions, SessionError, SessionStats};
