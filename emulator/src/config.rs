//! Emulator configuration.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::faults::Fault;
use crate::tls::TlsIdentity;

/// How an emulator instance behaves. Secrets in here are never logged.
#[derive(Clone)]
pub struct EmulatorConfig {
    /// Where to listen. Must be a loopback address; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The buckets that exist. Every other bucket name answers NoSuchBucket.
    pub buckets: Vec<String>,
    pub access_key_id: String,
    pub access_key_secret: String,
    /// When set, the access key is an STS key: every request must carry this token in
    /// `x-oss-security-token`.
    pub security_token: Option<String>,
    /// Region id without the `oss-` prefix; V4 scopes must name it.
    pub region: String,
    /// Where objects are kept durably. `None` keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Added to the server clock (seconds), to provoke RequestTimeTooSkewed.
    pub clock_skew_seconds: i64,
    /// Answer SecurityTokenExpired to every request that carries a security token.
    pub security_token_expired: bool,
    /// Serve the unsigned fault admin endpoint (`/__faults`, `/__restart`) on the same port.
    /// Off by default: a test server must not take orders from unauthenticated requests
    /// unless asked to. Admin requests need [`crate::ADMIN_HEADER`]`: 1` and no `Origin`.
    pub enable_fault_admin: bool,
    /// Faults queued at start (see [`crate::faults`]).
    pub faults: Vec<Fault>,
    /// How long a connection may take to send a request's header, counted from when the
    /// emulator starts waiting for it (so an idle keep-alive connection is closed after this
    /// long too). Stalled or half-sent requests must not hold a connection forever.
    pub header_read_timeout: Duration,
    /// Connections served at once. At the cap the emulator stops accepting until one ends;
    /// new connections wait in the kernel's listen backlog (they are not refused). With the
    /// header timeout, a connection that sends nothing useful frees its place within that time.
    pub max_connections: usize,
    /// Request records kept (the most recent ones); older records are forgotten.
    pub request_log_limit: usize,
    /// Serve HTTPS with this certificate chain and key (see [`crate::tls`]): every accepted
    /// connection does a TLS handshake (within [`header_read_timeout`](Self::header_read_timeout))
    /// before HTTP/1.1. `None` serves plain HTTP.
    pub tls: Option<TlsIdentity>,
}

/// Default of [`EmulatorConfig::header_read_timeout`].
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest [`EmulatorConfig::header_read_timeout`] (a longer one is as good as none).
pub const MAX_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(3600);
/// Default of [`EmulatorConfig::max_connections`].
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// Largest [`EmulatorConfig::max_connections`].
pub const MAX_CONNECTIONS_LIMIT: usize = 100_000;
/// Default of [`EmulatorConfig::request_log_limit`].
pub const DEFAULT_REQUEST_LOG_LIMIT: usize = 10_000;

impl EmulatorConfig {
    /// One bucket `test-bucket`, region `cn-hangzhou`, in memory, on 127.0.0.1 with a free port.
    pub fn new(access_key_id: impl Into<String>, access_key_secret: impl Into<String>) -> Self {
        EmulatorConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            buckets: vec!["test-bucket".to_string()],
            access_key_id: access_key_id.into(),
            access_key_secret: access_key_secret.into(),
            security_token: None,
            region: "cn-hangzhou".to_string(),
            data_dir: None,
            clock_skew_seconds: 0,
            security_token_expired: false,
            enable_fault_admin: false,
            faults: Vec::new(),
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            request_log_limit: DEFAULT_REQUEST_LOG_LIMIT,
            tls: None,
        }
    }

    /// Checks what `start` relies on: loopback listen address, valid bucket names, a region.
    pub(crate) fn validate(&self) -> Result<(), String> {
        if !self.listen.ip().is_loopback() {
            return Err(format!(
                "listen address {} is not a loopback address",
                self.listen.ip()
            ));
        }
        if self.buckets.is_empty() {
            return Err("at least one bucket is required".to_string());
        }
        for bucket in &self.buckets {
            if !is_valid_bucket_name(bucket) {
                return Err(format!(
                    "invalid bucket name {bucket:?}: 3-63 characters, lower-case letters, digits and '-', \
                     not starting or ending with '-'"
                ));
            }
        }
        if self.access_key_id.is_empty() || self.access_key_secret.is_empty() {
            return Err("access key id and secret must not be empty".to_string());
        }
        if self.region.is_empty() || self.region.starts_with("oss-") {
            return Err(format!(
                "region {:?} must be a region id such as cn-hangzhou (no oss- prefix)",
                self.region
            ));
        }
        if self.header_read_timeout.is_zero() || self.header_read_timeout > MAX_HEADER_READ_TIMEOUT
        {
            return Err(format!(
                "header read timeout must be more than 0 and at most {MAX_HEADER_READ_TIMEOUT:?}, got {:?}",
                self.header_read_timeout
            ));
        }
        if !(1..=MAX_CONNECTIONS_LIMIT).contains(&self.max_connections) {
            return Err(format!(
                "max connections must be 1 to {MAX_CONNECTIONS_LIMIT}, got {}",
                self.max_connections
            ));
        }
        if self.request_log_limit == 0 {
            return Err("request log limit must be at least 1".to_string());
        }
        if let Some(identity) = &self.tls {
            crate::tls::server_config(identity).map_err(|e| format!("tls: {e}"))?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for EmulatorConfig {
    // Hand-written so that the secret and the token never end up in logs or panic messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("listen", &self.listen)
            .field("buckets", &self.buckets)
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("region", &self.region)
            .field("data_dir", &self.data_dir)
            .field("clock_skew_seconds", &self.clock_skew_seconds)
            .field("security_token_expired", &self.security_token_expired)
            .field("enable_fault_admin", &self.enable_fault_admin)
            .field("faults", &self.faults)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("request_log_limit", &self.request_log_limit)
            .field("tls", &self.tls)
            .finish()
    }
}

/// OSS bucket naming rules.
pub(crate) fn is_valid_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        let c = EmulatorConfig::new("ak", "sk");
        assert_eq!(c.buckets, ["test-bucket"]);
        assert_eq!(c.region, "cn-hangzhou");
        assert!(c.validate().is_ok());
    }

    #[test]
    fn rejects_non_loopback_and_bad_buckets() {
        let mut c = EmulatorConfig::new("ak", "sk");
        c.listen = "0.0.0.0:0".parse().unwrap();
        assert!(c.validate().is_err());
        let mut c = EmulatorConfig::new("ak", "sk");
        c.buckets = vec!["Bad_Name".into()];
        assert!(c.validate().is_err());
        let mut c = EmulatorConfig::new("ak", "sk");
        c.listen = "[::1]:0".parse().unwrap();
        assert!(c.validate().is_ok());
    }

    #[test]
    fn rejects_zero_limits() {
        let mut c = EmulatorConfig::new("ak", "sk");
        c.header_read_timeout = Duration::ZERO;
        assert!(c.validate().unwrap_err().contains("header read timeout"));
        c.header_read_timeout = MAX_HEADER_READ_TIMEOUT + Duration::from_millis(1);
        assert!(c.validate().unwrap_err().contains("header read timeout"));
        let mut c = EmulatorConfig::new("ak", "sk");
        c.max_connections = 0;
        assert!(c.validate().unwrap_err().contains("max connections"));
        c.max_connections = MAX_CONNECTIONS_LIMIT + 1;
        assert!(c.validate().unwrap_err().contains("max connections"));
        let mut c = EmulatorConfig::new("ak", "sk");
        c.request_log_limit = 0;
        assert!(c.validate().unwrap_err().contains("request log limit"));
    }

    #[test]
    fn debug_hides_secrets() {
        let mut c = EmulatorConfig::new("ak", "very-secret");
        c.security_token = Some("tok-secret".into());
        c.tls = Some(TlsIdentity::new("chain", "key-secret"));
        let s = format!("{c:?}");
        assert!(!s.contains("very-secret") && !s.contains("tok-secret"));
        assert!(!s.contains("key-secret"));
    }

    #[test]
    fn an_unusable_tls_identity_is_refused_at_start() {
        let mut c = EmulatorConfig::new("ak", "sk");
        c.tls = Some(TlsIdentity::new("not pem", "not pem"));
        let e = c.validate().unwrap_err();
        assert!(e.starts_with("tls: TLS certificate chain"), "{e}");
        let pki = crate::tls::generate(&["127.0.0.1"], crate::tls::Validity::Current).unwrap();
        c.tls = Some(pki.identity());
        assert!(c.validate().is_ok());
    }
}
