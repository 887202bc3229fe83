//! oss-append: Alibaba Cloud OSS append upload, as a plain Rust core with an N-API binding for
//! HarmonyOS (ArkTS).
//!
//! Data flows one way: [`AppendObjectRequest`] → [`validate`] → [`request`] (headers, URL,
//! [`signing`]) → [`transport`] (with a [`body`] that checksums what it sends, [`crc64`]) →
//! [`response`] → [`AppendObjectOutput`] or [`Error`].

pub mod body;
pub mod client;
pub mod config;
pub mod crc64;
pub mod credentials;
pub mod error;
pub mod options;
pub mod request;
pub mod response;
pub mod signing;
pub mod transport;
pub mod validate;
#[cfg(feature = "napi")]
mod napi;

pub use body::Body;
pub use client::Client;
pub use config::{ClientConfig, SignatureVersion, UrlStyle};
pub use credentials::Credentials;
pub use error::{Error, ServiceError, TransportErrorKind};
pub use options::{
    AppendOptions, ContentMd5, DataEncryption, ObjectAcl, ServerSideEncryption, StorageClass,
};
pub use request::AppendObjectRequest;
pub use response::AppendObjectOutput;
