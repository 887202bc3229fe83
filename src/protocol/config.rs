//! Client configuration and endpoint resolution: which host a request goes to, and how the
//! bucket is addressed (virtual-hosted, path-style or CNAME).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::credentials::Credentials;
use crate::protocol::error::{Error, Result};
use crate::protocol::resolver::{check_static_map, Resolver, SharedResolver};

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
    /// The longest a whole request may take, from sending it to the end of its answer, however
    /// steadily bytes trickle (the read/write timeout only bounds each wait for progress).
    /// `None`: no bound beyond the read/write timeout.
    pub operation_timeout: Option<Duration>,
    /// `User-Agent` header; `None` means `oss-append/<version>`.
    pub user_agent: Option<String>,
    /// The Harmony SDK's `secure`: `None` or `Some(true)` mean HTTPS (a bare host gets
    /// `https://`, and plain HTTP is refused except to a loopback host); `Some(false)` spelled
    /// out allows plain HTTP to any host (a bare host gets `http://`), and the client warns once.
    pub secure: Option<bool>,
    /// Certificates (PEM text, one or more `CERTIFICATE` blocks) trusted for HTTPS besides the
    /// bundled Mozilla roots and, on OpenHarmony, the device's system store: for private OSS
    /// deployments and enterprise proxies. Never a way to skip verification.
    pub ca_certs: Option<String>,
    /// On OpenHarmony, also trust the CA certificates the device's user (or an MDM app)
    /// installed. On by default, as the system's own HTTP stack does; turn it off to make
    /// user-installed interception proxies fail the handshake.
    pub trust_user_ca_certs: bool,
    /// Static name resolution (JS `resolve`): host name → addresses, tried before any resolver
    /// or the system's DNS. An address with port 0 uses the URL's port.
    pub dns_overrides: BTreeMap<String, Vec<SocketAddr>>,
    /// The app's resolver for the hosts the static map does not name (JS `resolver`).
    pub resolver: Option<SharedResolver>,
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
            operation_timeout: None,
            user_agent: None,
            secure: None,
            ca_certs: None,
            trust_user_ca_certs: true,
            dns_overrides: BTreeMap::new(),
            resolver: None,
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

    /// Sets the overall deadline of each request (see [`ClientConfig::operation_timeout`]).
    pub fn with_operation_timeout(mut self, timeout: Duration) -> Self {
        self.operation_timeout = Some(timeout);
        self
    }

    /// Sets `secure` (see [`ClientConfig::secure`]).
    pub fn with_secure(mut self, secure: bool) -> Self {
        self.secure = Some(secure);
        self
    }

    /// Trusts the certificates in `pem` too (see [`ClientConfig::ca_certs`]).
    pub fn with_ca_certs(mut self, pem: impl Into<String>) -> Self {
        self.ca_certs = Some(pem.into());
        self
    }

    /// Whether to trust user-installed CA certificates on OpenHarmony (see
    /// [`ClientConfig::trust_user_ca_certs`]).
    pub fn with_user_ca_certs(mut self, trust: bool) -> Self {
        self.trust_user_ca_certs = trust;
        self
    }

    /// Resolves `host` to `addresses` without asking any DNS (see
    /// [`ClientConfig::dns_overrides`]). The host name is lowercased.
    pub fn with_dns_override(mut self, host: &str, addresses: Vec<SocketAddr>) -> Self {
        self.dns_overrides
            .insert(host.trim().to_ascii_lowercase(), addresses);
        self
    }

    /// Asks `resolver` for host names the static map does not cover.
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> Self {
        self.resolver = Some(SharedResolver(resolver));
        self
    }

    /// Sets the `User-Agent`.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// A configuration without credentials, for a client whose credentials come from a
    /// provider (`Client::with_credentials_provider`); `Client::new` refuses it.
    pub fn without_credentials(region: &str) -> Result<Self> {
        Self::new(Credentials::unset(), region)
    }

    /// Checks the whole configuration and works out where requests go.
    pub(crate) fn resolve(&self) -> Result<Endpoint> {
        if self.connect_timeout.is_zero() {
            return Err(Error::invalid("connectTimeout", "must be greater than 0"));
        }
        if self.read_write_timeout.is_zero() {
            return Err(Error::invalid("timeout", "must be greater than 0"));
        }
        if self.operation_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid("operationTimeout", "must be greater than 0"));
        }
        if let Some(ua) = &self.user_agent {
            crate::protocol::validate::header_value("userAgent", ua)?;
        }
        check_static_map(&self.dns_overrides)?;
        let raw = match &self.endpoint {
            Some(e) => e.trim().to_string(),
            None => format!("https://oss-{}.aliyuncs.com", self.region),
        };
        let endpoint = Endpoint::parse(&raw, self.use_path_style, self.use_cname, self.secure)?;
        if endpoint.scheme == "http" {
            if self.secure == Some(true) {
                return Err(Error::invalid(
                    "secure",
                    format!("is true, but the endpoint {raw:?} is plain http://"),
                ));
            }
            if self.secure.is_none() && !endpoint.is_loopback() {
                return Err(Error::invalid(
                    "secure",
                    format!(
                        "must be false, spelled out, to send requests to {} over plain HTTP: \
                         the signature and the STS token would travel unencrypted (use an \
                         https:// endpoint instead)",
                        endpoint.host
                    ),
                ));
            }
        }
        Ok(endpoint)
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
    /// Parses the endpoint once, strictly: a scheme (`http`/`https`, or none: then `secure`
    /// decides), a host (a DNS name, an IPv4 address or a bracketed IPv6 address) and an optional
    /// port — nothing else. URL parsers rewrite what they do not expect (`\` becomes `/`, tabs
    /// and newlines vanish), which would send a signed request somewhere else than validated; so
    /// anything beyond those parts is refused here, by name.
    fn parse(raw: &str, path_style: bool, cname: bool, secure: Option<bool>) -> Result<Self> {
        let bad = |rule: &str| Error::invalid("endpoint", format!("{rule}, got {raw:?}"));
        if let Some(c) = raw
            .chars()
            .find(|c| c.is_control() || c.is_whitespace() || *c == '\\')
        {
            return Err(bad(&format!(
                "must not contain {} (control characters, white space and '\\' are refused)",
                c.escape_default()
            )));
        }
        let (scheme, rest) = if let Some(rest) = raw.strip_prefix("https://") {
            ("https", rest)
        } else if let Some(rest) = raw.strip_prefix("http://") {
            ("http", rest)
        } else if raw.contains("://") {
            return Err(bad("scheme must be http or https"));
        } else if secure == Some(false) {
            ("http", raw)
        } else {
            ("https", raw)
        };
        // One trailing '/' is the empty path; anything after the authority is not.
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if authority.contains(['/', '?', '#']) {
            return Err(bad(
                "must be a scheme, a host and an optional port, without path, query or fragment \
                 (e.g. https://oss-cn-hangzhou.aliyuncs.com)",
            ));
        }
        if authority.contains('@') {
            return Err(bad("must not carry user info ('user@host')"));
        }
        let host = parse_authority(authority).map_err(|rule| bad(&rule))?;
        let style = if cname {
            UrlStyle::Cname
        } else if path_style || is_ip_host(&host) {
            // Buckets cannot be subdomains of an IP address: SDK v2 switches to path-style too.
            UrlStyle::Path
        } else {
            UrlStyle::VirtualHosted
        };
        Ok(Self {
            scheme,
            host,
            style,
        })
    }

    /// Whether the host is this machine (`localhost`, `127.0.0.0/8`, `[::1]`): plain HTTP to it
    /// never leaves the device.
    pub fn is_loopback(&self) -> bool {
        let host = match self.host.rsplit_once(':') {
            Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
            _ => self.host.as_str(),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        host.eq_ignore_ascii_case("localhost")
            || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
    }

    /// The request URL (without query) for an object.
    pub fn object_url(&self, bucket: &str, key: &str) -> String {
        let key = crate::protocol::encoding::encode_key_path(key);
        match self.style {
            UrlStyle::VirtualHosted => {
                format!("{}://{}.{}/{}", self.scheme, bucket, self.host, key)
            }
            UrlStyle::Path => format!("{}://{}/{}/{}", self.scheme, self.host, bucket, key),
            UrlStyle::Cname => format!("{}://{}/{}", self.scheme, self.host, key),
        }
    }
}

/// `host[:port]` as it goes into URLs, or the rule it breaks. A bare IPv6 address (`::1`) is
/// bracketed.
fn parse_authority(authority: &str) -> std::result::Result<String, String> {
    if authority.is_empty() {
        return Err("must name a host".into());
    }
    if authority.parse::<std::net::Ipv6Addr>().is_ok() {
        return Ok(format!("[{authority}]"));
    }
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (ip, after) = inner
            .split_once(']')
            .ok_or("has an IPv6 address without its closing ']'")?;
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("has {ip:?} in brackets, which is no IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or("has text after the IPv6 address")?,
            ),
        };
        (&authority[..ip.len() + 2], port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if !host.starts_with('[') {
        let labels_ok = host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
        if !labels_ok || host.len() > 253 {
            return Err(format!(
                "has host {host:?}: a host is dot-separated labels of letters, digits and '-'"
            ));
        }
    }
    match port {
        None => Ok(host.to_owned()),
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            match p.parse::<u16>() {
                Ok(n) if n > 0 => Ok(format!("{host}:{p}")),
                _ => Err(format!("has port {p}, outside 1..=65535")),
            }
        }
        Some(p) => Err(format!("has port {p:?}, which is not a number")),
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
        // From "http://localhost…" on: what a URL parser would rewrite, sending the signed request
        // elsewhere, and what is no host or port.
        for ep in [
            "ftp://x",
            "http://h/path",
            "",
            "http://",
            "http://localhost:9000\\.oss-cn-hangzhou.aliyuncs.com",
            "https://oss-cn-hangzhou\t.aliyuncs.com",
            "https://oss-cn-\nhangzhou.aliyuncs.com",
            "https://user:pw@oss-cn-hangzhou.aliyuncs.com",
            "https://oss-cn-hangzhou.aliyuncs.com/path",
            "https://oss-cn-hangzhou.aliyuncs.com?q=1",
            "https://oss-cn-hangzhou.aliyuncs.com#frag",
            "https://oss-cn-hangzhou.aliyuncs.com:0",
            "https://oss-cn-hangzhou.aliyuncs.com:65536",
            "https://oss-cn-hangzhou.aliyuncs.com:http",
            "https://-bad-.aliyuncs.com",
            "https://a..b",
            "https://[::1",
            "https://[nope]:80",
        ] {
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

    #[test]
    fn endpoints_keep_their_port_and_bracket_ipv6() {
        let ok = config("cn-hangzhou")
            .with_endpoint("https://oss-cn-hangzhou.aliyuncs.com:443/")
            .resolve()
            .unwrap();
        assert_eq!(ok.host, "oss-cn-hangzhou.aliyuncs.com:443");
        let bare_v6 = config("cn-hangzhou")
            .with_endpoint("http://::1")
            .resolve()
            .unwrap();
        assert_eq!(bare_v6.object_url("b", "k"), "http://[::1]/b/k");
    }

    #[test]
    fn plain_http_leaves_the_device_only_with_secure_false() {
        let field = |r: Result<Endpoint>| match r {
            Err(Error::InvalidArgument { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        // Loopback needs nothing; a public host needs `secure: false` spelled out.
        for ep in [
            "http://127.0.0.1:9000",
            "http://localhost:1",
            "http://[::1]:80",
        ] {
            let e = config("cn-hangzhou").with_endpoint(ep).resolve().unwrap();
            assert!(e.is_loopback(), "{ep}");
        }
        let public = || config("cn-hangzhou").with_endpoint("http://oss-cn-hangzhou.aliyuncs.com");
        assert_eq!(field(public().resolve()), "secure");
        assert_eq!(field(public().with_secure(true).resolve()), "secure");
        let allowed = public().with_secure(false).resolve().unwrap();
        assert_eq!((allowed.scheme, allowed.is_loopback()), ("http", false));
        // A bare host follows `secure`.
        let bare = |secure| {
            config("cn-hangzhou")
                .with_endpoint("oss-cn-hangzhou.aliyuncs.com")
                .with_secure(secure)
                .resolve()
                .unwrap()
                .scheme
        };
        assert_eq!((bare(true), bare(false)), ("https", "http"));
        assert_eq!(config("cn-hangzhou").resolve().unwrap().scheme, "https");
    }
}
