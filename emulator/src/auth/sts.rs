//! Temporary (STS) credentials the emulator issues, each with its own lifetime, as STS
//! `AssumeRole` hands them out: an access key id `STS.…`, a secret and a security token that
//! stop working at their expiration. A request signed with an issued key is checked like real
//! OSS checks one: without its token `InvalidAccessKeyId` (EC 0002-00000003), with another
//! token `InvalidSecurityToken` (0002-00000006), after the expiration `SecurityTokenExpired`
//! (403, EC 0002-00000007, "The security token you provided has expired.").
//!
//! Issued with [`crate::RunningEmulator::issue_sts`] or the admin endpoint (`POST /__sts`, see
//! `admin.rs`). The configured permanent key keeps working beside them.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// Issued credentials kept (the oldest are forgotten beyond this; a forgotten key answers
/// `InvalidAccessKeyId`).
pub const MAX_ISSUED: usize = 10_000;

/// One set of issued temporary credentials. `Debug` redacts the secret and the token.
#[derive(Clone, PartialEq, Eq)]
pub struct StsCredentials {
    pub access_key_id: String,
    pub access_key_secret: String,
    pub security_token: String,
    /// When the token stops working.
    pub expiration: SystemTime,
}

impl fmt::Debug for StsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("security_token", &"<redacted>")
            .field(
                "expiration",
                &humantime::format_rfc3339_millis(self.expiration),
            )
            .finish()
    }
}

impl StsCredentials {
    /// The JSON a credentials provider returns (`accessKeyId`, `accessKeySecret`,
    /// `securityToken`, `expiration` as an RFC 3339 UTC time with milliseconds), as the admin
    /// endpoint answers it. Every value is `[A-Za-z0-9.:-]`, so nothing needs escaping.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"accessKeyId\":\"{}\",\"accessKeySecret\":\"{}\",\"securityToken\":\"{}\",\"expiration\":\"{}\"}}",
            self.access_key_id,
            self.access_key_secret,
            self.security_token,
            humantime::format_rfc3339_millis(self.expiration)
        )
    }
}

/// The issued credentials of one emulator.
#[derive(Default)]
pub(crate) struct StsRegistry {
    inner: Mutex<Issued>,
}

#[derive(Default)]
struct Issued {
    by_key: HashMap<String, StsCredentials>,
    order: VecDeque<String>,
}

impl StsRegistry {
    /// New credentials valid for `lifetime` from now.
    pub(crate) fn issue(&self, lifetime: Duration) -> StsCredentials {
        let credentials = StsCredentials {
            access_key_id: format!("STS.{}", hex::encode(rand::random::<[u8; 10]>())),
            access_key_secret: hex::encode(rand::random::<[u8; 20]>()),
            security_token: format!("CAIS{}", hex::encode(rand::random::<[u8; 48]>())),
            expiration: SystemTime::now() + lifetime,
        };
        let mut issued = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        issued.order.push_back(credentials.access_key_id.clone());
        issued
            .by_key
            .insert(credentials.access_key_id.clone(), credentials.clone());
        while issued.order.len() > MAX_ISSUED {
            if let Some(old) = issued.order.pop_front() {
                issued.by_key.remove(&old);
            }
        }
        credentials
    }

    /// Ends the lifetime of the credentials of `access_key_id` now. Whether they exist.
    pub(crate) fn expire(&self, access_key_id: &str) -> bool {
        let mut issued = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match issued.by_key.get_mut(access_key_id) {
            Some(c) => {
                c.expiration = SystemTime::now();
                true
            }
            None => false,
        }
    }

    /// The issued credentials of `access_key_id`, if any.
    pub(crate) fn lookup(&self, access_key_id: &str) -> Option<StsCredentials> {
        if !access_key_id.starts_with("STS.") {
            return None;
        }
        let issued = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        issued.by_key.get(access_key_id).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_lookup_expire() {
        let registry = StsRegistry::default();
        let c = registry.issue(Duration::from_secs(60));
        assert!(c.access_key_id.starts_with("STS."));
        assert_eq!(registry.lookup(&c.access_key_id), Some(c.clone()));
        assert!(c.expiration > SystemTime::now());
        assert!(registry.expire(&c.access_key_id));
        assert!(registry.lookup(&c.access_key_id).unwrap().expiration <= SystemTime::now());
        assert!(!registry.expire("STS.nope"));
        assert_ne!(registry.issue(Duration::from_secs(1)), c);
    }

    #[test]
    fn debug_redacts_and_json_has_every_field() {
        let c = StsRegistry::default().issue(Duration::from_secs(60));
        let shown = format!("{c:?}");
        assert!(!shown.contains(&c.access_key_secret) && !shown.contains(&c.security_token));
        let json = c.to_json();
        for value in [&c.access_key_id, &c.access_key_secret, &c.security_token] {
            assert!(json.contains(value.as_str()));
        }
        assert!(json.contains("\"expiration\":\"20"), "{json}");
    }

    #[test]
    fn the_registry_is_bounded() {
        let registry = StsRegistry::default();
        let first = registry.issue(Duration::from_secs(60));
        for _ in 0..MAX_ISSUED {
            registry.issue(Duration::from_secs(60));
        }
        assert!(registry.lookup(&first.access_key_id).is_none());
        assert_eq!(registry.inner.lock().unwrap().by_key.len(), MAX_ISSUED);
    }
}
