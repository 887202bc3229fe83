//! oss-append: Alibaba Cloud OSS append upload, as a plain Rust core with an N-API binding for
//! HarmonyOS (ArkTS).
//!
//! # Layers
//!
//! Lowest first, each a folder; a module imports only from its own layer or lower ones
//! (`tests/layers.rs` checks it): `protocol` → `io` → `client` → `session` → `stream` → `js` → `napi`.
//!
//! - [`protocol`]: pure functions and types, no I/O — options and their validation, request
//!   building, [`protocol::signing`], response parsing, [`Error`], [`crc64`].
//! - `io`: bodies ([`Body`], CRC-64 computed as they are sent), [`progress`], cancellation
//!   ([`CancellationToken`]), the HTTP transport, [`logging`].
//! - [`client`]: [`Client`], one request per call.
//! - [`session`]: [`Appender`], appends that survive lost answers and cancellation.
//! - [`stream`]: [`AppendStream`], writes spooled on disk and uploaded exactly once across
//!   crashes and outages.
//! - `js` and `napi` (feature `napi`): JS values to core types as plain Rust, then the N-API glue.
//!
//! Data flows one way: an [`AppendObjectRequest`] is checked (`protocol::validate`), built and
//! signed (`protocol::request`, [`protocol::signing::sign`]), sent with a body that checksums what goes
//! out (`io`), and its answer parsed (`protocol::response`) into an [`AppendObjectOutput`] or an
//! [`Error`].
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

pub mod client;
pub(crate) mod io;
#[cfg(feature = "napi")]
pub(crate) mod js;
#[cfg(feature = "napi")]
mod napi;
pub mod protocol;
pub mod session;
pub mod stream;

pub use client::credentials::{
    CredentialsProvider, CredentialsRefresh, ProvidedCredentials, ProviderError,
};
pub use client::{AppendObjectRequest, Client};
pub use io::body::Body;
pub use io::cancel::CancellationToken;
pub use io::logging;
pub use io::progress::{self, ProgressObserver};
pub use protocol::config::{ClientConfig, SignatureVersion, UrlStyle};
pub use protocol::crc64;
pub use protocol::credentials::Credentials;
pub use protocol::error::{Error, ServiceError, TlsFailure, TransportErrorKind};
pub use protocol::options::{
    AppendOptions, ContentMd5, DataEncryption, ObjectAcl, ServerSideEncryption, StorageClass,
};
pub use protocol::response::{AppendObjectOutput, HeadObjectOutput, SealAppendObjectOutput};
pub use session::retry::RetryPolicy;
pub use session::{Appended, Appender, AppenderOptions, SessionError, SessionStats};
pub use stream::{AppendStream, StreamError, StreamOptions, StreamState};
