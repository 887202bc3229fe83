//! [`AppendObjectRequest`]: one append as a caller describes it — where, what, and how — before
//! the client checks it and the protocol layer turns it into a signed request.

use std::time::Duration;

use crate::io::body::Body;
use crate::io::cancel::CancellationToken;
use crate::io::progress::ProgressObserver;
#[cfg(doc)]
use crate::protocol::config::ClientConfig;
use crate::protocol::options::AppendOptions;

/// One append: where, what, and how.
#[derive(Debug)]
pub struct AppendObjectRequest {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// The data to append.
    pub body: Body,
    /// Where the data goes: the object's current length. `None` means 0 (a new object).
    pub position: Option<u64>,
    /// CRC-64 of the object before this append (the previous append's `hash_crc64ecma`). When
    /// known (position 0 implies 0), the client checks the whole-object CRC OSS reports.
    pub init_crc64: Option<u64>,
    /// Headers: metadata and the like.
    pub options: AppendOptions,
    /// Cancels the call: sending stops at once and the call fails with
    /// [`crate::TransportErrorKind::Cancelled`].
    pub cancellation: Option<CancellationToken>,
    /// Read/write timeout of this call, instead of the client's
    /// ([`ClientConfig::read_write_timeout`]): the longest wait for progress while sending the
    /// body or waiting for and reading the answer.
    pub timeout: Option<Duration>,
    /// Overall deadline of this call, instead of the client's
    /// ([`ClientConfig::operation_timeout`]).
    pub operation_timeout: Option<Duration>,
}

impl AppendObjectRequest {
    /// An append of `body` to `bucket`/`key` at position 0.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>, body: impl Into<Body>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            body: body.into(),
            position: None,
            init_crc64: None,
            options: AppendOptions::default(),
            cancellation: None,
            timeout: None,
            operation_timeout: None,
        }
    }

    /// Appends at `position` (the previous `next_append_position`).
    pub fn with_position(mut self, position: u64) -> Self {
        self.position = Some(position);
        self
    }

    /// Declares the CRC-64 of the object before this append, to have the result checked.
    pub fn with_init_crc64(mut self, crc: u64) -> Self {
        self.init_crc64 = Some(crc);
        self
    }

    /// Sets the headers.
    pub fn with_options(mut self, options: AppendOptions) -> Self {
        self.options = options;
        self
    }

    /// Reports upload progress (see [`Body::with_progress`] and [`crate::io::progress`]).
    pub fn with_progress(mut self, observer: impl Into<ProgressObserver>) -> Self {
        self.body = self.body.with_progress(observer);
        self
    }

    /// Makes the call cancellable with `token` (see [`crate::CancellationToken`]).
    pub fn with_cancellation(mut self, token: CancellationToken) -> Self {
        self.cancellation = Some(token);
        self
    }

    /// Sets this call's overall deadline (the client's applies otherwise).
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Sets this call's read/write timeout (the client's applies otherwise).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
}
