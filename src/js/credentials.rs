//! Credentials as JS gives them, plain Rust: what a `credentialsProvider` resolves with and what
//! `client.updateCredentials(...)` takes, `{ accessKeyId, accessKeySecret, securityToken?,
//! expiration? }`, and the refresh options of the config.
//!
//! `expiration` (decided here, documented in `ohos-package/README.md`):
//! * a string: an RFC 3339 / ISO 8601 UTC time, as STS returns it (`2026-05-01T12:00:00Z`,
//!   fractions of a second allowed); a time without `Z` is read as UTC;
//! * a number: milliseconds since the Unix epoch, as `Date.now()` and `Date.getTime()` count
//!   (the facade turns a `Date` into this number);
//! * absent, `undefined` or `null`: not known to expire (refreshed only when OSS refuses it).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client::credentials::{CredentialsRefresh, ProvidedCredentials};
use crate::js::numbers;
use crate::protocol::credentials::Credentials;
use crate::protocol::error::{Error, Result};

/// `expiration` as JS gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum JsExpiration {
    /// An RFC 3339 time.
    Text(String),
    /// Milliseconds since the Unix epoch.
    UnixMs(f64),
}

/// The credentials object, field by field; `None` is an absent (or `undefined`/`null`)
/// property. `Debug` redacts the secret and the token.
#[derive(Clone, Default, PartialEq)]
pub struct JsCredentials {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub expiration: Option<JsExpiration>,
}

impl std::fmt::Debug for JsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field(
                "access_key_secret",
                &self.access_key_secret.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

impl JsCredentials {
    /// The credentials and their expiration (`updateCredentials`): each broken rule is an
    /// `InvalidArgument` naming the field.
    pub fn into_provided(self) -> Result<ProvidedCredentials> {
        let required = |field: &'static str, value: Option<String>| {
            value.ok_or_else(|| Error::invalid(field, "is required"))
        };
        let credentials = Credentials::new(
            required("accessKeyId", self.access_key_id)?,
            required("accessKeySecret", self.access_key_secret)?,
            self.security_token,
        )?;
        let expiration = self.expiration.map(expiration).transpose()?;
        Ok(ProvidedCredentials::new(credentials, expiration))
    }

    /// What a `credentialsProvider` resolved with: as [`JsCredentials::into_provided`], but a
    /// broken rule is the provider's fault, so the error says so (the client turns it into
    /// `ClientCredentialsError`).
    pub fn provider_answer(self) -> std::result::Result<ProvidedCredentials, String> {
        self.into_provided()
            .map_err(|e| format!("credentialsProvider returned unusable credentials: {e}"))
    }
}

/// `expiration` as a time (see the module docs).
pub fn expiration(value: JsExpiration) -> Result<SystemTime> {
    match value {
        JsExpiration::UnixMs(ms) => {
            let ms = numbers::non_negative_integer("expiration", ms)?;
            Ok(UNIX_EPOCH + Duration::from_millis(ms))
        }
        JsExpiration::Text(text) => {
            let trimmed = text.trim();
            humantime::parse_rfc3339_weak(trimmed.strip_suffix('Z').unwrap_or(trimmed)).map_err(
                |_| {
                    Error::invalid(
                        "expiration",
                        format!(
                            "must be an ISO 8601 UTC time such as 2026-05-01T12:00:00Z (or \
                             milliseconds since 1970 as a number, or a Date), got {text:?}"
                        ),
                    )
                },
            )
        }
    }
}

/// `credentialsRefreshThreshold` (ms before the expiration, default 5 minutes) and
/// `credentialsProviderTimeout` (ms, default 60 s) of the config.
pub fn refresh(threshold_ms: Option<f64>, timeout_ms: Option<f64>) -> Result<CredentialsRefresh> {
    let mut refresh = CredentialsRefresh::default();
    if let Some(ms) = threshold_ms {
        refresh.threshold = Duration::from_millis(numbers::non_negative_integer(
            "credentialsRefreshThreshold",
            ms,
        )?);
    }
    if let Some(ms) = timeout_ms {
        refresh.timeout = numbers::timeout_ms("credentialsProviderTimeout", ms)?;
    }
    Ok(refresh)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::js::test_support::refusal;

    fn full() -> JsCredentials {
        JsCredentials {
            access_key_id: Some("STS.id".into()),
            access_key_secret: Some("secret-value".into()),
            security_token: Some("token-value".into()),
            expiration: Some(JsExpiration::Text("2030-01-02T03:04:05Z".into())),
        }
    }

    #[test]
    fn every_form_of_expiration() {
        let at = |e| expiration(e).unwrap();
        let expected = UNIX_EPOCH + Duration::from_secs(1_893_553_445);
        assert_eq!(
            at(JsExpiration::Text("2030-01-02T03:04:05Z".into())),
            expected
        );
        assert_eq!(
            at(JsExpiration::Text(" 2030-01-02T03:04:05 ".into())),
            expected
        );
        assert_eq!(
            at(JsExpiration::Text("2030-01-02T03:04:05.250Z".into())),
            expected + Duration::from_millis(250)
        );
        assert_eq!(at(JsExpiration::UnixMs(1_893_553_445_000.0)), expected);
        for bad in [
            JsExpiration::Text("tomorrow".into()),
            JsExpiration::Text("2030-01-02T03:04:05+08:00".into()),
            JsExpiration::UnixMs(-1.0),
            JsExpiration::UnixMs(1.5),
            JsExpiration::UnixMs(f64::NAN),
        ] {
            assert_eq!(refusal(expiration(bad)).0, "expiration");
        }
    }

    #[test]
    fn credentials_convert_and_missing_fields_are_named() {
        let p = full().into_provided().unwrap();
        assert_eq!(p.credentials.access_key_id(), "STS.id");
        assert!(p.expiration.is_some());
        let p = JsCredentials {
            expiration: None,
            security_token: None,
            ..full()
        }
        .into_provided()
        .unwrap();
        assert_eq!(p.expiration, None);
        let missing = JsCredentials {
            access_key_secret: None,
            ..full()
        };
        assert_eq!(
            refusal(missing.clone().into_provided()).0,
            "accessKeySecret"
        );
        let message = missing.provider_answer().unwrap_err();
        assert!(message.starts_with("credentialsProvider returned unusable credentials"));
        assert!(message.contains("accessKeySecret"), "{message}");
    }

    #[test]
    fn secrets_never_shown() {
        let c = full();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("secret-value") && !shown.contains("token-value"),
            "{shown}"
        );
        let bad = JsCredentials {
            access_key_secret: Some("secret\nvalue".into()),
            ..full()
        };
        let message = bad.provider_answer().unwrap_err();
        assert!(!message.contains("\nvalue"), "{message}");
    }

    #[test]
    fn refresh_options() {
        assert_eq!(refresh(None, None).unwrap(), CredentialsRefresh::default());
        let r = refresh(Some(0.0), Some(5000.0)).unwrap();
        assert_eq!(r.threshold, Duration::ZERO);
        assert_eq!(r.timeout, Duration::from_secs(5));
        assert_eq!(
            refusal(refresh(Some(-1.0), None)).0,
            "credentialsRefreshThreshold"
        );
        assert_eq!(
            refusal(refresh(None, Some(0.0))).0,
            "credentialsProviderTimeout"
        );
    }
}
