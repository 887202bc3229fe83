//! Client configuration and endpoint resolution: which host a request goes to, and how the
//! bucket is addressed (virtual-hosted, path-style or CNAME).

use std::net::IpAddr;
use std::time::Duration;

use crate::protocol::credentials::Credentials;
use crate::protocol::error::{Error, Result};

/// Which signature algorithm signs requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureVersion {
    /// `OSS ak:signature` (HMAC-SHA1). Older, still accepted by OSS.
    V1,
    /// `OSS4-HMAC-SHA256` (the default of every current official SDK).
    #[default]
    V4,
}

impl std::str::FromStr for SignatureVersion {
    type Err = Error;

    /// `v1` or `v4` (either case), as the OSS JS SDKs spell it.
    fn from_str(name: &str) -> Result<Self> {
        match name.to_ascii_lowercase().as_str() {
            "v1" => Ok(Self::V1),
            "v4" => Ok(Self::V4),
            _ => Err(Error::invalid(
                "signatureVersion",
                format!("must be 'v1' or 'v4', got {name:?}"),
            )),
        }
    }
}

/// How the bucket appears in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlStyle {
    /// `https://bucket.endpoint/key` (OSS's default).
    VirtualHosted,
    /// `https://endpoint/bucket/key` (used automatically for IP endpoints, as SDK v2 does).
    Path,
    /// `https://custom-domain/key`: the endpoint is a domain bound to the bucket.
    Cname,
}

/// Default connect timeout (the official SDK v2's default).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default read/write timeout: longest wait for progress while sending or receiving.
pub const DEFAULT_READ_WRITE_TIMEOUT: Duration = Duration::from_secs(20);

/// Everything a [`crate::Client`] needs. Build it with [`ClientConfig::new`] and the `with_*`
/// methods.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Keys used to sign every request.
    pub credentials: Credentials,
    /// Region id without the `oss-` prefix (`cn-hangzhou`), as V4 scopes need it.
    pub region: String,
    /// Endpoint URL; `None` means `https://oss-<region>.aliyuncs.com`.
    pub endpoint: Option<String>,
    /// Address buckets path-style even on a domain endpoint.
    pub use_path_style: bool,
    /// The endpoint is a CNAME bound to the bucket.
    pub use_cname: bool,
    /// Signature algorithm.
    pub signature_version: SignatureVersion,
    /// Longest wait for a TCP/TLS connection.
    pub connect_timeout: Duration,
    /// Longest wait for progress while sending the body or reading the response.
    pub read_write_timeout: Duration,
    /// `User-Agent` header; `None` means `oss-append/<version>`.
    pub user_agent: Option<String>,
}

impl ClientConfig {
    /// A configuration with the defaults. `region` may be given as `cn-hangzhou` or, as the
    /// Harmony SDK's examples do, `oss-cn-hangzhou`.
    pub fn new(credentials: Credentials, region: &str) -> Result<Self> {
        Ok(Self {
            credentials,
            region: normalize_region(region)?,
            endpoint: None,
            use_path_style: false,
            use_cname: false,
            signature_version: SignatureVersion::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_write_timeout: DEFAULT_READ_WRITE_TIMEOUT,
            user_agent: None,
        })
    }

    /// Sets the endpoint (`https://oss-cn-hangzhou.aliyuncs.com`, `http://127.0.0.1:9000`, or a
    /// bare host, which gets `https://`).
    pub fn with_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Selects the signature algorithm.
    pub fn with_signature_version(mut self, version: SignatureVersion) -> Self {
        self.signature_version = version;
        self
    }

    /// Forces path-style addressing.
    pub fn with_path_style(mut self, on: bool) -> Self {
        self.use_path_style = on;
        self
    }

    /// Declares the endpoint a CNAME of the bucket.
    pub fn with_cname(mut self, on: bool) -> Self {
        self.use_cname = on;
        self
    }

    /// Sets the connect and read/write timeouts.
    pub fn with_timeouts(mut self, connect: Duration, read_write: Duration) -> Self {
        self.connect_timeout = connect;
        self.read_write_timeout = read_write;
        self
    }

    /// Sets the `User-Agent`.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Checks the whole configuration and works out where requests go.
    pub(crate) fn resolve(&self) -> Result<Endpoint> {
        if self.connect_timeout.is_zero() {
            return Err(Error::invalid("connectTimeout", "must be greater than 0"));
        }
        if self.read_write_timeout.is_zero() {
            return Err(Error::invalid("timeout", "must be greater than 0"));
        }
        if let Some(ua) = &self.user_agent {
            crate::protocol::validate::header_value("userAgent", ua)?;
        }
        let raw = match &self.endpoint {
            Some(e) => e.trim().to_string(),
            None => format!("https://oss-{}.aliyuncs.com", self.region),
        };
        Endpoint::parse(&raw, self.use_path_style, self.use_cname)
    }
}

/// Accepts `cn-hangzhou` and `oss-cn-hangzhou`; returns the form without `oss-`.
pub fn normalize_region(region: &str) -> Result<String> {
    let region = region.trim();
    let bare = region.strip_prefix("oss-").unwrap_or(region);
    if bare.is_empty() {
        return Err(Error::invalid(
            "region",
            "must not be empty (e.g. cn-hangzhou)",
        ));
    }
    if !bare
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(Error::invalid(
            "region",
            "must be a region id of lower-case letters, digits and '-' (e.g. cn-hangzhou)",
        ));
    }
    Ok(bare.to_string())
}

/// A resolved endpoint: scheme, host (with port) and addressing style.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// Host with optional `:port`, as it goes into URLs.
    pub host: String,
    /// Addressing style for buckets.
    pub style: UrlStyle,
}

impl Endpoint {
    fn parse(raw: &str, path_style: bool, cname: bool) -> Result<Self> {
        let (scheme, rest) = if let Some(rest) = raw.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = raw.strip_prefix("http://") {
            ("http", rest)
        } else if raw.contains("://") {
            return Err(Error::invalid("endpoint", "scheme must be http or https"));
        } else {
            ("https", raw)
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains(['/', '?', '#', '@', ' ']) {
            return Err(Error::invalid(
                "endpoint",
                "must be a host with an optional port and scheme, without path or query \
                 (e.g. https://oss-cn-hangzhou.aliyuncs.com)",
            ));
        }
        let style = if cname {
            UrlStyle::Cname
        } else if path_style || is_ip_host(host) {
            // Buckets cannot be subdomains of an IP address: SDK v2 switches to path-style too.
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHosted
        };
        Ok(Self {
            scheme,
            host: host.to_string(),
            style,
        })
    }

    /// The request URL (without query) for an object.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let key = crate::protocol::encoding::encode_key(key);
        match self.style {
            UrlStyle::VirtualHosted => {
                format!("{}://{}.{}/{}", self.scheme, bucket, self.host, key)
            }
            UrlStyle::Path => format!("{}://{}/{}/{}", self.scheme, self.host, bucket, key),
            UrlStyle::Cname => format!("{}://{}/{}", self.scheme, self.host, key),
        }
    }
}

/// `127.0.0.1`, `127.0.0.1:80`, `[::1]:9000`, `::1` are IP hosts.
fn is_ip_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[') {
        return inner
            .split(']')
            .next()
            .is_some_and(|ip| ip.parse::<IpAddr>().is_ok());
    }
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    host.rsplit_once(':')
        .is_some_and(|(h, port)| port.parse::<u16>().is_ok() && h.parse::<IpAddr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(region: &str) -> ClientConfig {
        ClientConfig::new(Credentials::new("ak", "sk", None).unwrap(), region).unwrap()
    }

    #[test]
    fn region_accepts_both_forms() {
        assert_eq!(config("oss-cn-hangzhou").region, "cn-hangzhou");
        assert_eq!(config("cn-hangzhou").region, "cn-hangzhou");
        assert!(normalize_region("oss-").is_err());
        assert!(normalize_region("CN_Hangzhou").is_err());
    }

    #[test]
    fn default_endpoint_is_public_https_virtual_hosted() {
        let e = config("oss-cn-hangzhou").resolve().unwrap();
        assert_eq!(e.scheme, "https");
        assert_eq!(e.host, "oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(
            e.object_url("bkt", "a/b c+d.txt"),
            "https://bkt.oss-cn-hangzhou.aliyuncs.com/a/b%20c%2Bd.txt"
        );
    }

    #[test]
    fn ip_endpoint_switches_to_path_style() {
        for ep in ["http://127.0.0.1:9000", "http://[::1]:80/", "10.0.0.1"] {
            let e = config("cn-hangzhou").with_endpoint(ep).resolve().unwrap();
            assert_eq!(e.style, UrlStyle::Path, "{ep}");
        }
        let e = config("cn-hangzhou")
            .with_endpoint("http://127.0.0.1:9000")
            .resolve()
            .unwrap();
        assert_eq!(e.object_url("b", "k"), "http://127.0.0.1:9000/b/k");
    }

    #[test]
    fn path_style_and_cname_switches() {
        let e = config("cn-hangzhou")
            .with_endpoint("oss-cn-hangzhou.aliyuncs.com")
            .with_path_style(true)
            .resolve()
            .unwrap();
        assert_eq!(
            e.object_url("b", "k"),
            "https://oss-cn-hangzhou.aliyuncs.com/b/k"
        );
        let e = config("cn-hangzhou")
            .with_endpoint("https://files.example.com")
            .with_cname(true)
            .resolve()
            .unwrap();
        assert_eq!(e.object_url("b", "k"), "https://files.example.com/k");
    }

    #[test]
    fn bad_endpoints_are_named() {
        for ep in ["ftp://x", "http://h/path", "", "http://"] {
            let err = config("cn-hangzhou")
                .with_endpoint(ep)
                .resolve()
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::InvalidArgument {
                        field: "endpoint",
                        ..
                    }
                ),
                "{ep}: {err}"
            );
        }
    }
}
