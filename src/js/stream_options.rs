//! The options of `appendStream` as a JS caller passes them, as plain Rust:
//! [`JsStreamOptions::into_options`] turns them into the core's [`StreamOptions`], refusing a
//! bad one with `ClientInvalidArgument` naming the JS field (`maxAppendBytes`,
//! `rollover.keyTemplate`, …). Sizes are byte counts, times milliseconds; an absent field keeps
//! the core's default (see [`crate::stream`]).

use std::time::Duration;

use crate::js::append_options::JsAppendOptions;
use crate::js::numbers;
use crate::js::session_options::JsRetryOptions;
use crate::protocol::error::{Error, Result};
use crate::stream::{
    Durability, FullPolicy, Rollover, StreamError, StreamOptions, DEFAULT_GROUP_COMMIT,
};

/// `appendStream(options)`'s fields; `None` is an absent (or `undefined`/`null`) property.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsStreamOptions {
    pub bucket: String,
    pub key: String,
    pub spool_dir: String,
    /// `durability`: `'each-write'` or `'group-commit'` (the default).
    pub durability: Option<String>,
    /// `groupCommitMs`: the shortest time between the starts of two group fsyncs (default 2).
    pub group_commit_ms: Option<f64>,
    pub max_append_bytes: Option<f64>,
    pub max_delay_ms: Option<f64>,
    pub max_spool_bytes: Option<f64>,
    /// `whenFull`: `'wait'` (the default) or `'reject'`.
    pub when_full: Option<String>,
    pub segment_bytes: Option<f64>,
    /// `rollover`: absent means no rollover.
    pub rollover: Option<JsRollover>,
    /// `reconnect`: the waits between failed upload rounds.
    pub reconnect: JsReconnect,
    /// `retry`: each upload round's retries (as `openAppender`'s).
    pub retry: JsRetryOptions,
    /// `appendOptions`: headers of the append creating the object.
    pub append_options: JsAppendOptions,
}

/// `rollover: { maxObjectBytes?, maxAgeMs?, seal?, keyTemplate?, nextKey? }` (the `nextKey`
/// function is attached by the N-API layer).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsRollover {
    pub max_object_bytes: Option<f64>,
    pub max_age_ms: Option<f64>,
    pub seal: Option<bool>,
    pub key_template: Option<String>,
}

/// `reconnect: { initialBackoffMs?, maxBackoffMs?, giveUpAfterMs? }`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsReconnect {
    pub initial_backoff_ms: Option<f64>,
    pub max_backoff_ms: Option<f64>,
    pub give_up_after_ms: Option<f64>,
}

/// The JS name of a [`StreamOptions`] field the core's [`StreamOptions::validate`] names.
pub fn js_field(core: &'static str) -> &'static str {
    match core {
        "spool_dir" => "spoolDir",
        "durability.interval" => "groupCommitMs",
        "max_append_bytes" => "maxAppendBytes",
        "max_spool_bytes" => "maxSpoolBytes",
        "max_delay" => "maxDelayMs",
        "segment_bytes" => "segmentBytes",
        "reconnect.max_backoff" => "reconnect.maxBackoffMs",
        "rollover.max_object_bytes" => "rollover.maxObjectBytes",
        "rollover.key_template" => "rollover.keyTemplate",
        // `bucket`, `key`, `retry`, `reconnect`, `data` are spelled alike.
        other => other,
    }
}

fn ms(field: &'static str, value: f64) -> Result<Duration> {
    numbers::non_negative_integer(field, value).map(Duration::from_millis)
}

impl JsStreamOptions {
    /// The core's options: every number a non-negative integer, the enums one of their words,
    /// then the core's own rules ([`StreamOptions::validate`]), reported under the JS names.
    pub fn into_options(self) -> Result<StreamOptions> {
        for (field, value) in [
            ("bucket", &self.bucket),
            ("key", &self.key),
            ("spoolDir", &self.spool_dir),
        ] {
            if value.is_empty() {
                return Err(Error::invalid(field, "must be a non-empty string"));
            }
        }
        let mut out = StreamOptions::new(self.bucket, self.key, self.spool_dir);
        let interval = match self.group_commit_ms {
            Some(v) => ms("groupCommitMs", v)?,
            None => DEFAULT_GROUP_COMMIT,
        };
        out.durability = match self.durability.as_deref() {
            None | Some("group-commit") => Durability::GroupCommit { interval },
            Some("each-write") if self.group_commit_ms.is_some() => {
                return Err(Error::invalid(
                    "groupCommitMs",
                    "applies to durability 'group-commit' only, not 'each-write'",
                ))
            }
            Some("each-write") => Durability::EachWrite,
            Some(other) => {
                return Err(Error::invalid(
                    "durability",
                    format!("must be 'each-write' or 'group-commit', got '{other}'"),
                ))
            }
        };
        out.full_policy = match self.when_full.as_deref() {
            None | Some("wait") => FullPolicy::Wait,
            Some("reject") => FullPolicy::Reject,
            Some(other) => {
                return Err(Error::invalid(
                    "whenFull",
                    format!("must be 'wait' or 'reject', got '{other}'"),
                ))
            }
        };
        if let Some(v) = self.max_append_bytes {
            out.max_append_bytes = numbers::non_negative_integer("maxAppendBytes", v)?;
        }
        if let Some(v) = self.max_delay_ms {
            out.max_delay = ms("maxDelayMs", v)?;
        }
        if let Some(v) = self.max_spool_bytes {
            out.max_spool_bytes = numbers::non_negative_integer("maxSpoolBytes", v)?;
        }
        if let Some(v) = self.segment_bytes {
            out.segment_bytes = numbers::non_negative_integer("segmentBytes", v)?;
        }
        if let Some(r) = self.rollover {
            let mut roll = Rollover::default();
            if let Some(v) = r.max_object_bytes {
                roll.max_object_bytes =
                    numbers::non_negative_integer("rollover.maxObjectBytes", v)?;
            }
            if let Some(ms) = r.max_age_ms {
                roll.max_age = Some(numbers::timeout_ms("rollover.maxAgeMs", ms)?);
            }
            if let Some(seal) = r.seal {
                roll.seal = seal;
            }
            if let Some(t) = r.key_template {
                roll.key_template = t;
            }
            out.rollover = Some(roll);
        }
        let r = self.reconnect;
        if let Some(v) = r.initial_backoff_ms {
            out.reconnect.initial_backoff = ms("reconnect.initialBackoffMs", v)?;
        }
        if let Some(v) = r.max_backoff_ms {
            out.reconnect.max_backoff = ms("reconnect.maxBackoffMs", v)?;
        }
        if let Some(v) = r.give_up_after_ms {
            out.reconnect.give_up_after = Some(ms("reconnect.giveUpAfterMs", v)?);
        }
        out.retry = self.retry.into_policy()?;
        out.append_options = self.append_options.into_options()?;
        out.validate().map_err(|e| match e {
            StreamError::InvalidOption { field, rule } => Error::invalid(js_field(field), rule),
            other => Error::invalid("options", other.to_string()),
        })?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::js::test_support::refusal;
    use crate::stream::{DEFAULT_MAX_APPEND_BYTES, DEFAULT_MAX_DELAY, DEFAULT_MAX_SPOOL_BYTES};

    fn stream() -> JsStreamOptions {
        JsStreamOptions {
            bucket: "logs-bucket".into(),
            key: "logs/app.log".into(),
            spool_dir: "/tmp/spool".into(),
            ..JsStreamOptions::default()
        }
    }

    fn field_of(options: JsStreamOptions) -> (&'static str, String) {
        refusal(options.into_options())
    }

    #[test]
    fn defaults_are_the_cores_defaults() {
        let out = stream().into_options().unwrap();
        assert_eq!(out.bucket, "logs-bucket");
        assert_eq!(out.key, "logs/app.log");
        assert_eq!(out.spool_dir.to_str(), Some("/tmp/spool"));
        assert_eq!(out.durability, Durability::default());
        assert_eq!(out.full_policy, FullPolicy::Wait);
        assert_eq!(out.max_append_bytes, DEFAULT_MAX_APPEND_BYTES);
        assert_eq!(out.max_delay, DEFAULT_MAX_DELAY);
        assert_eq!(out.max_spool_bytes, DEFAULT_MAX_SPOOL_BYTES);
        assert_eq!(out.rollover, None);
        assert_eq!(out.reconnect.give_up_after, None);
    }

    #[test]
    fn every_field_arrives_in_its_unit() {
        let out = JsStreamOptions {
            durability: Some("group-commit".into()),
            group_commit_ms: Some(5.0),
            max_append_bytes: Some(65536.0),
            max_delay_ms: Some(20.0),
            max_spool_bytes: Some(8.0 * 1024.0 * 1024.0),
            when_full: Some("reject".into()),
            segment_bytes: Some(1024.0 * 1024.0),
            rollover: Some(JsRollover {
                max_object_bytes: Some(1e6),
                max_age_ms: Some(3_600_000.0),
                seal: Some(true),
                key_template: Some("{key}-{n}".into()),
            }),
            reconnect: JsReconnect {
                initial_backoff_ms: Some(100.0),
                max_backoff_ms: Some(1000.0),
                give_up_after_ms: Some(60_000.0),
            },
            ..stream()
        }
        .into_options()
        .unwrap();
        assert_eq!(
            out.durability,
            Durability::GroupCommit {
                interval: Duration::from_millis(5)
            }
        );
        assert_eq!(out.max_append_bytes, 65536);
        assert_eq!(out.max_delay, Duration::from_millis(20));
        assert_eq!(out.max_spool_bytes, 8 << 20);
        assert_eq!(out.full_policy, FullPolicy::Reject);
        assert_eq!(out.segment_bytes, 1 << 20);
        let roll = out.rollover.unwrap();
        assert_eq!(
            (roll.max_object_bytes, roll.seal, roll.key_template.as_str()),
            (1_000_000, true, "{key}-{n}")
        );
        assert_eq!(roll.max_age, Some(Duration::from_secs(3600)));
        assert_eq!(out.reconnect.initial_backoff, Duration::from_millis(100));
        assert_eq!(out.reconnect.max_backoff, Duration::from_secs(1));
        assert_eq!(out.reconnect.give_up_after, Some(Duration::from_secs(60)));
        let each = JsStreamOptions {
            durability: Some("each-write".into()),
            ..stream()
        };
        assert_eq!(
            each.into_options().unwrap().durability,
            Durability::EachWrite
        );
    }

    #[test]
    fn a_bad_option_is_refused_under_its_js_name() {
        let cases: Vec<(&str, JsStreamOptions)> = vec![
            (
                "bucket",
                JsStreamOptions {
                    bucket: String::new(),
                    ..stream()
                },
            ),
            (
                "spoolDir",
                JsStreamOptions {
                    spool_dir: String::new(),
                    ..stream()
                },
            ),
            (
                "durability",
                JsStreamOptions {
                    durability: Some("sometimes".into()),
                    ..stream()
                },
            ),
            (
                "groupCommitMs",
                JsStreamOptions {
                    durability: Some("each-write".into()),
                    group_commit_ms: Some(2.0),
                    ..stream()
                },
            ),
            (
                "groupCommitMs",
                JsStreamOptions {
                    group_commit_ms: Some(1.5),
                    ..stream()
                },
            ),
            (
                "groupCommitMs",
                JsStreamOptions {
                    group_commit_ms: Some(5000.0),
                    ..stream()
                },
            ),
            (
                "whenFull",
                JsStreamOptions {
                    when_full: Some("drop".into()),
                    ..stream()
                },
            ),
            (
                "maxAppendBytes",
                JsStreamOptions {
                    max_append_bytes: Some(0.0),
                    ..stream()
                },
            ),
            (
                "maxAppendBytes",
                JsStreamOptions {
                    max_append_bytes: Some(-1.0),
                    ..stream()
                },
            ),
            (
                "maxDelayMs",
                JsStreamOptions {
                    max_delay_ms: Some(f64::NAN),
                    ..stream()
                },
            ),
            (
                "maxDelayMs",
                JsStreamOptions {
                    max_delay_ms: Some(4_000_000.0),
                    ..stream()
                },
            ),
            (
                "maxSpoolBytes",
                JsStreamOptions {
                    max_spool_bytes: Some(1000.0),
                    ..stream()
                },
            ),
            (
                "segmentBytes",
                JsStreamOptions {
                    segment_bytes: Some(10.0),
                    ..stream()
                },
            ),
            (
                "rollover.keyTemplate",
                JsStreamOptions {
                    rollover: Some(JsRollover {
                        key_template: Some("{key}.next".into()),
                        ..JsRollover::default()
                    }),
                    ..stream()
                },
            ),
            (
                "rollover.maxObjectBytes",
                JsStreamOptions {
                    rollover: Some(JsRollover {
                        max_object_bytes: Some(0.0),
                        ..JsRollover::default()
                    }),
                    ..stream()
                },
            ),
            (
                "reconnect.maxBackoffMs",
                JsStreamOptions {
                    reconnect: JsReconnect {
                        initial_backoff_ms: Some(1000.0),
                        max_backoff_ms: Some(10.0),
                        ..JsReconnect::default()
                    },
                    ..stream()
                },
            ),
            (
                "reconnect.giveUpAfterMs",
                JsStreamOptions {
                    reconnect: JsReconnect {
                        give_up_after_ms: Some(0.5),
                        ..JsReconnect::default()
                    },
                    ..stream()
                },
            ),
            (
                "retry.maxRetries",
                JsStreamOptions {
                    retry: JsRetryOptions {
                        max_retries: Some(-3.0),
                        ..JsRetryOptions::default()
                    },
                    ..stream()
                },
            ),
        ];
        for (field, options) in cases {
            let (got, rule) = field_of(options);
            assert_eq!(got, field, "{rule}");
            assert!(!rule.is_empty());
        }
    }

    #[test]
    fn every_core_field_name_has_a_js_name_without_underscores() {
        for core in [
            "bucket",
            "key",
            "spool_dir",
            "durability.interval",
            "max_append_bytes",
            "max_spool_bytes",
            "max_delay",
            "segment_bytes",
            "retry",
            "reconnect.max_backoff",
            "reconnect",
            "rollover.max_object_bytes",
            "rollover.key_template",
        ] {
            assert!(
                !js_field(core).contains('_'),
                "{core} -> {}",
                js_field(core)
            );
        }
    }
}
