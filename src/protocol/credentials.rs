//! Access keys. The secret and the STS token never leave this module in text form except to the
//! signer: `Debug` redacts them, and no error message carries them.

use std::fmt;

use crate::protocol::error::{Error, Result};

/// An AccessKey pair, optionally with an STS security token.
#[derive(Clone)]
pub struct Credentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: Option<String>,
}

impl Credentials {
    /// Long-term or STS credentials. Empty strings and control characters are refused here, so
    /// that a bad key fails before any request is built.
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
        security_token: Option<String>,
    ) -> Result<Self> {
        let access_key_id = access_key_id.into();
        let access_key_secret = access_key_secret.into();
        check_credential("accessKeyId", &access_key_id)?;
        check_credential("accessKeySecret", &access_key_secret)?;
        // An empty token is what JS callers pass for "none"; treat it as absent.
        let security_token = security_token.filter(|t| !t.is_empty());
        if let Some(token) = &security_token {
            check_credential("securityToken", token)?;
        }
        if access_key_id.contains(':') {
            return Err(Error::invalid(
                "accessKeyId",
                "must not contain ':' (it separates the id from the signature in V1)",
            ));
        }
        Ok(Self {
            access_key_id,
            access_key_secret,
            security_token,
        })
    }

    /// No credentials: what a configuration holds whose requests are signed with credentials
    /// from a provider (`ClientConfig::without_credentials`). Never used to sign.
    pub(crate) fn unset() -> Self {
        Self {
            access_key_id: String::new(),
            access_key_secret: String::new(),
            security_token: None,
        }
    }

    /// Whether these are [`Credentials::unset`] (built without going through `new`).
    pub(crate) fn is_unset(&self) -> bool {
        self.access_key_id.is_empty()
    }

    /// The AccessKey id (not secret: it is sent in every request).
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    pub(crate) fn access_key_secret(&self) -> &str {
        &self.access_key_secret
    }

    pub(crate) fn security_token(&self) -> Option<&str> {
        self.security_token.as_deref()
    }
}

fn check_credential(field: &'static str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    // The value goes into an HTTP header; no need to echo it in the error.
    if value.chars().any(|c| !c.is_ascii_graphic()) {
        return Err(Error::invalid(
            field,
            "must be printable ASCII without spaces (check for a stray newline)",
        ));
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secret_or_token() {
        let c = Credentials::new("AKID", "s3cr3t-value", Some("tok3n-value".into())).unwrap();
        let shown = format!("{c:?} {c:#?}");
        assert!(shown.contains("AKID"));
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(!shown.contains("tok3n-value"), "{shown}");
    }

    #[test]
    fn empty_values_are_named() {
        let err = Credentials::new("", "sk", None).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                field: "accessKeyId",
                ..
            }
        ));
        let err = Credentials::new("ak", "", None).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                field: "accessKeySecret",
                ..
            }
        ));
    }

    #[test]
    fn empty_token_means_none() {
        let c = Credentials::new("ak", "sk", Some(String::new())).unwrap();
        assert!(c.security_token().is_none());
    }

    #[test]
    fn secret_with_newline_is_refused_without_echoing_it() {
        let err = Credentials::new("ak", "abc\n", None).unwrap_err();
        assert!(!err.to_string().contains("abc"));
        assert!(matches!(
            err,
            Error::InvalidArgument {
                field: "accessKeySecret",
                ..
            }
        ));
    }
}
