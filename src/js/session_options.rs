//! The options of `openAppender` as a JS caller passes them, as plain Rust: the append options
//! (creation headers, see [`AppenderOptions::options`]), `computeContentMd5`, and `retry` in
//! milliseconds. [`JsAppenderOptions::into_options`] turns them into [`AppenderOptions`]; the
//! retry limits themselves are [`RetryPolicy::validate`]'s.

use std::time::Duration;

use crate::js::append_options::JsAppendOptions;
use crate::js::numbers;
use crate::protocol::error::{Error, Result};
use crate::protocol::options::ContentMd5;
use crate::session::retry::RetryPolicy;
use crate::session::AppenderOptions;

/// `openAppender(bucket, key, options?, retry?)`'s arguments, field by field.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsAppenderOptions {
    pub bucket: String,
    pub key: String,
    /// The `appendObject` options (absent: none).
    pub options: JsAppendOptions,
    /// `computeContentMd5`: send each body's MD5, computed by the session.
    pub compute_content_md5: Option<bool>,
    /// `retry` (absent: the default policy).
    pub retry: JsRetryOptions,
}

/// `retry`: `{ maxRetries, initialBackoff, maxBackoff, deadline }`, the durations in
/// milliseconds; an absent field keeps the default.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsRetryOptions {
    pub max_retries: Option<f64>,
    pub initial_backoff_ms: Option<f64>,
    pub max_backoff_ms: Option<f64>,
    pub deadline_ms: Option<f64>,
}

impl JsAppenderOptions {
    /// The session's options. A fixed `contentMd5` cannot come with `computeContentMd5`: a
    /// session computes one digest per body (and refuses a fixed one alone when it opens).
    pub fn into_options(self) -> Result<AppenderOptions> {
        let mut options = self.options.into_options()?;
        if self.compute_content_md5 == Some(true) {
            if options.content_md5.is_some() {
                return Err(Error::invalid(
                    "contentMd5",
                    "cannot be combined with computeContentMd5 (a session computes one digest \
                     per body)",
                ));
            }
            options.content_md5 = Some(ContentMd5::Compute);
        }
        Ok(AppenderOptions::new(self.bucket, self.key)
            .with_options(options)
            .with_retry(self.retry.into_policy()?))
    }
}

impl JsRetryOptions {
    /// The retry policy: every field a non-negative integer, then [`RetryPolicy::validate`]'s
    /// limits, so a bad retry option is refused with the other arguments, before the session
    /// opens.
    pub fn into_policy(self) -> Result<RetryPolicy> {
        let mut policy = RetryPolicy::default();
        if let Some(n) = self.max_retries {
            let n = numbers::non_negative_integer("retry.maxRetries", n)?;
            // Beyond u32 is far beyond the limit, which `validate` reports.
            policy.max_retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        let ms = |field: &'static str, ms: f64| {
            numbers::non_negative_integer(field, ms).map(Duration::from_millis)
        };
        if let Some(v) = self.initial_backoff_ms {
            policy.initial_backoff = ms("retry.initialBackoff", v)?;
        }
        if let Some(v) = self.max_backoff_ms {
            policy.max_backoff = ms("retry.maxBackoff", v)?;
        }
        if let Some(v) = self.deadline_ms {
            policy.deadline = ms("retry.deadline", v)?;
        }
        policy.validate()?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::js::test_support::refusal;

    fn refused(options: JsAppenderOptions) -> (&'static str, String) {
        refusal(options.into_options())
    }

    fn session() -> JsAppenderOptions {
        JsAppenderOptions {
            bucket: "b".into(),
            key: "k".into(),
            ..JsAppenderOptions::default()
        }
    }

    #[test]
    fn defaults_are_the_sessions_defaults() {
        let out = session().into_options().unwrap();
        assert_eq!((out.bucket.as_str(), out.key.as_str()), ("b", "k"));
        assert_eq!(out.options, Default::default());
        assert_eq!(out.retry, RetryPolicy::default());
    }

    #[test]
    fn compute_content_md5_asks_for_a_digest_per_body() {
        let out = JsAppenderOptions {
            compute_content_md5: Some(true),
            ..session()
        }
        .into_options()
        .unwrap();
        assert_eq!(out.options.content_md5, Some(ContentMd5::Compute));
        let out = JsAppenderOptions {
            compute_content_md5: Some(false),
            ..session()
        }
        .into_options()
        .unwrap();
        assert_eq!(out.options.content_md5, None);
    }

    #[test]
    fn a_fixed_content_md5_cannot_come_with_compute_content_md5() {
        let (field, rule) = refused(JsAppenderOptions {
            options: JsAppendOptions {
                content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
                ..JsAppendOptions::default()
            },
            compute_content_md5: Some(true),
            ..session()
        });
        assert_eq!(field, "contentMd5");
        assert!(
            rule.contains("cannot be combined with computeContentMd5"),
            "{rule}"
        );
    }

    #[test]
    fn retry_fields_are_milliseconds_within_the_policys_limits() {
        let out = JsAppenderOptions {
            retry: JsRetryOptions {
                max_retries: Some(3.0),
                initial_backoff_ms: Some(5.0),
                max_backoff_ms: Some(20.0),
                deadline_ms: Some(10_000.0),
            },
            ..session()
        }
        .into_options()
        .unwrap();
        assert_eq!(out.retry.max_retries, 3);
        assert_eq!(out.retry.initial_backoff, Duration::from_millis(5));
        assert_eq!(out.retry.max_backoff, Duration::from_millis(20));
        assert_eq!(out.retry.deadline, Duration::from_secs(10));
        let with = |retry: JsRetryOptions| JsAppenderOptions { retry, ..session() };
        for (field, retry) in [
            (
                "retry.maxRetries",
                JsRetryOptions {
                    max_retries: Some(2.5),
                    ..JsRetryOptions::default()
                },
            ),
            (
                "retry.maxRetries",
                JsRetryOptions {
                    max_retries: Some(1e12),
                    ..JsRetryOptions::default()
                },
            ),
            (
                "retry.initialBackoff",
                JsRetryOptions {
                    initial_backoff_ms: Some(f64::NAN),
                    ..JsRetryOptions::default()
                },
            ),
            (
                "retry.deadline",
                JsRetryOptions {
                    deadline_ms: Some(0.0),
                    ..JsRetryOptions::default()
                },
            ),
            (
                "retry.deadline",
                JsRetryOptions {
                    deadline_ms: Some(86_400_001.0),
                    ..JsRetryOptions::default()
                },
            ),
        ] {
            assert_eq!(refused(with(retry)).0, field);
        }
    }
}
