//! [`AppenderOptions`]: what an append session is opened with.

use crate::protocol::options::AppendOptions;
use crate::session::retry::RetryPolicy;

/// How to open an append session.
#[derive(Debug, Clone)]
pub struct AppenderOptions {
    /// Bucket name.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Headers. All of them go with the append that creates the object (content type, cache
    /// headers, metadata, ACL, storage class, encryption, tagging, `forbid_overwrite`); later
    /// appends carry only the per-request ones: `traffic_limit`, `request_payer_is_requester`,
    /// `content_type` and `content_md5`. When the object already exists, the creation headers
    /// are never sent. `content_md5` may only be `Compute` (one digest per body).
    pub options: AppendOptions,
    /// Retries and recovery budget.
    pub retry: RetryPolicy,
}

impl AppenderOptions {
    /// A session on `bucket`/`key` with default options and retry policy.
    pub fn new(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        Self {
            bucket: bucket.into(),
            key: key.into(),
            options: AppendOptions::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// Sets the headers.
    pub fn with_options(mut self, options: AppendOptions) -> Self {
        self.options = options;
        self
    }

    /// Sets the retry policy.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}
