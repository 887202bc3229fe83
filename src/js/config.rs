//! The client config a JS caller passes to `createClient`, as plain Rust: [`JsClientConfig`]
//! holds the fields as JS gave them (strings, booleans, numbers of milliseconds), and
//! [`JsClientConfig::into_config`] applies the rules that turn them into a [`ClientConfig`].
//! The N-API layer only reads the JS object's properties into the struct.

use crate::js::numbers;
use crate::protocol::config::ClientConfig;
use crate::protocol::credentials::Credentials;
use crate::protocol::error::{Error, Result};
use crate::protocol::resolver::parse_address;

/// The facade's config object, field by field; `None` is an absent (or `undefined`/`null`)
/// property.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsClientConfig {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    pub security_token: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub cname: Option<bool>,
    pub path_style: Option<bool>,
    /// `secure`: HTTPS (the default); `false` is needed for plain HTTP to a non-loopback host.
    pub secure: Option<bool>,
    /// `v1` or `v4`, either case.
    pub signature_version: Option<String>,
    /// `timeout`: the read/write timeout in milliseconds.
    pub timeout_ms: Option<f64>,
    /// `connectTimeout` in milliseconds.
    pub connect_timeout_ms: Option<f64>,
    /// `operationTimeout`: the longest a whole request may take, in milliseconds.
    pub operation_timeout_ms: Option<f64>,
    pub user_agent: Option<String>,
    /// `caCerts`: PEM text of extra trusted CA certificates.
    pub ca_certs: Option<String>,
    /// `trustUserCaCerts`: on OpenHarmony, trust user-installed CA certificates (default true).
    pub trust_user_ca_certs: Option<bool>,
    /// `resolve`: host name → addresses (`1.2.3.4`, `1.2.3.4:443`, `::1`, `[::1]:443`), in the
    /// object's order.
    pub resolve: Option<Vec<HostAddresses>>,
    /// A `credentialsProvider` function was given (the N-API layer keeps the function itself):
    /// then the keys must not be given, and requests are signed with what it resolves with.
    pub credentials_provider: bool,
    /// `credentialsRefreshThreshold`, ms (see [`crate::js::credentials::refresh`]).
    pub credentials_refresh_threshold_ms: Option<f64>,
    /// `credentialsProviderTimeout`, ms.
    pub credentials_provider_timeout_ms: Option<f64>,
}

/// One entry of `resolve`: a host name and its addresses as JS wrote them.
pub type HostAddresses = (String, Vec<String>);

impl JsClientConfig {
    /// The client's configuration. The access keys and the region are required; the timeouts
    /// are positive integers of milliseconds and default to the client's own.
    pub fn into_config(self) -> Result<ClientConfig> {
        let required = |field: &'static str, value: Option<String>| {
            value.ok_or_else(|| Error::invalid(field, "is required"))
        };
        let credentials = if self.credentials_provider {
            provider_without_keys(&self)?;
            Credentials::unset()
        } else {
            Credentials::new(
                required("accessKeyId", self.access_key_id)?,
                required("accessKeySecret", self.access_key_secret)?,
                self.security_token,
            )?
        };
        let mut config = ClientConfig::new(credentials, &required("region", self.region)?)?;
        if let Some(endpoint) = self.endpoint {
            config = config.with_endpoint(endpoint);
        }
        if let Some(cname) = self.cname {
            config = config.with_cname(cname);
        }
        if let Some(path_style) = self.path_style {
            config = config.with_path_style(path_style);
        }
        if let Some(secure) = self.secure {
            config = config.with_secure(secure);
        }
        if let Some(version) = self.signature_version {
            config = config.with_signature_version(version.parse()?);
        }
        let connect = match self.connect_timeout_ms {
            Some(ms) => numbers::timeout_ms("connectTimeout", ms)?,
            None => config.connect_timeout,
        };
        let read_write = match self.timeout_ms {
            Some(ms) => numbers::timeout_ms("timeout", ms)?,
            None => config.read_write_timeout,
        };
        config = config.with_timeouts(connect, read_write);
        if let Some(ms) = self.operation_timeout_ms {
            config = config.with_operation_timeout(numbers::timeout_ms("operationTimeout", ms)?);
        }
        if let Some(user_agent) = self.user_agent {
            config = config.with_user_agent(user_agent);
        }
        if let Some(pem) = self.ca_certs {
            config = config.with_ca_certs(pem);
        }
        if let Some(trust) = self.trust_user_ca_certs {
            config = config.with_user_ca_certs(trust);
        }
        for (host, addresses) in self.resolve.unwrap_or_default() {
            let host_key = host.trim().to_ascii_lowercase();
            if config.dns_overrides.contains_key(&host_key) {
                return Err(Error::invalid(
                    "resolve",
                    format!("names {host_key:?} twice (host names are not case-sensitive)"),
                ));
            }
            let addresses = addresses
                .iter()
                .map(|a| parse_address(a))
                .collect::<Result<Vec<_>>>()?;
            config = config.with_dns_override(&host_key, addresses);
        }
        Ok(config)
    }
}

/// With a `credentialsProvider`, the keys come from it alone.
fn provider_without_keys(config: &JsClientConfig) -> Result<()> {
    for (field, given) in [
        ("accessKeyId", config.access_key_id.is_some()),
        ("accessKeySecret", config.access_key_secret.is_some()),
        ("securityToken", config.security_token.is_some()),
    ] {
        if given {
            return Err(Error::invalid(
                field,
                "must not be given with credentialsProvider (the provider supplies the keys)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::js::test_support::refusal;
    use crate::protocol::config::{
        SignatureVersion, DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_WRITE_TIMEOUT,
    };

    fn minimal() -> JsClientConfig {
        JsClientConfig {
            access_key_id: Some("AK".into()),
            access_key_secret: Some("SK".into()),
            region: Some("oss-cn-hangzhou".into()),
            ..JsClientConfig::default()
        }
    }

    fn refused_field(config: JsClientConfig) -> &'static str {
        refusal(config.into_config()).0
    }

    #[test]
    fn the_keys_and_the_region_are_enough() {
        let config = minimal().into_config().unwrap();
        assert_eq!(config.region, "cn-hangzhou");
        assert_eq!(config.credentials.access_key_id(), "AK");
        assert_eq!(config.endpoint, None);
        assert_eq!(config.signature_version, SignatureVersion::V4);
        assert_eq!(
            (config.connect_timeout, config.read_write_timeout),
            (DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_WRITE_TIMEOUT)
        );
    }

    #[test]
    fn every_field_reaches_the_config() {
        let config = JsClientConfig {
            security_token: Some("STS".into()),
            endpoint: Some("http://127.0.0.1:9000".into()),
            cname: Some(true),
            path_style: Some(true),
            signature_version: Some("V1".into()),
            timeout_ms: Some(1500.0),
            connect_timeout_ms: Some(250.0),
            operation_timeout_ms: Some(30_000.0),
            user_agent: Some("app/1".into()),
            ..minimal()
        }
        .into_config()
        .unwrap();
        assert_eq!(config.operation_timeout, Some(Duration::from_secs(30)));
        assert_eq!(config.credentials.security_token(), Some("STS"));
        assert_eq!(config.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(config.use_cname && config.use_path_style);
        assert_eq!(config.signature_version, SignatureVersion::V1);
        assert_eq!(config.read_write_timeout, Duration::from_millis(1500));
        assert_eq!(config.connect_timeout, Duration::from_millis(250));
        assert_eq!(config.user_agent.as_deref(), Some("app/1"));
    }

    #[test]
    fn secure_reaches_the_config_and_decides_plain_http() {
        assert_eq!(minimal().into_config().unwrap().secure, None);
        for secure in [true, false] {
            let config = JsClientConfig {
                secure: Some(secure),
                ..minimal()
            }
            .into_config()
            .unwrap();
            assert_eq!(config.secure, Some(secure));
        }
        // Plain HTTP to a host that is not loopback: refused unless `secure: false` is given.
        let plain = |secure| JsClientConfig {
            endpoint: Some("http://oss.example.internal".into()),
            secure,
            ..minimal()
        };
        let resolved = |config: JsClientConfig| config.into_config().and_then(|c| c.resolve());
        assert_eq!(refusal(resolved(plain(None))).0, "secure");
        assert_eq!(refusal(resolved(plain(Some(true)))).0, "secure");
        assert!(resolved(plain(Some(false))).is_ok());
    }

    #[test]
    fn trust_and_resolve_reach_the_config() {
        let config = JsClientConfig {
            ca_certs: Some("PEM".into()),
            trust_user_ca_certs: Some(false),
            resolve: Some(vec![
                (
                    "Bucket.OSS-cn-hangzhou.aliyuncs.com".into(),
                    vec!["127.0.0.1:8443".into(), "::1".into()],
                ),
                ("other.example.com".into(), vec!["10.0.0.1".into()]),
            ]),
            ..minimal()
        }
        .into_config()
        .unwrap();
        assert_eq!(config.ca_certs.as_deref(), Some("PEM"));
        assert!(!config.trust_user_ca_certs);
        let hosts: Vec<_> = config.dns_overrides.keys().cloned().collect();
        assert_eq!(
            hosts,
            ["bucket.oss-cn-hangzhou.aliyuncs.com", "other.example.com"]
        );
        assert_eq!(
            config.dns_overrides["bucket.oss-cn-hangzhou.aliyuncs.com"],
            vec![
                "127.0.0.1:8443".parse().unwrap(),
                "[::1]:0".parse().unwrap()
            ]
        );
        assert!(minimal().into_config().unwrap().trust_user_ca_certs);
        // Bad entries are named `resolve`, at conversion or when the client checks the config.
        for entries in [
            vec![("a.com".to_owned(), vec!["not-an-ip".to_owned()])],
            vec![
                ("a.com".to_owned(), vec!["10.0.0.1".to_owned()]),
                ("A.com".to_owned(), vec!["10.0.0.2".to_owned()]),
            ],
        ] {
            let config = JsClientConfig {
                resolve: Some(entries),
                ..minimal()
            };
            assert_eq!(refusal(config.into_config()).0, "resolve");
        }
        let empty = JsClientConfig {
            resolve: Some(vec![("a.com".to_owned(), vec![])]),
            ..minimal()
        };
        assert_eq!(
            refusal(empty.into_config().and_then(|c| c.resolve())).0,
            "resolve"
        );
    }

    #[test]
    fn missing_and_bad_fields_are_named() {
        for (field, config) in [
            (
                "accessKeyId",
                JsClientConfig {
                    access_key_id: None,
                    ..minimal()
                },
            ),
            (
                "accessKeySecret",
                JsClientConfig {
                    access_key_secret: None,
                    ..minimal()
                },
            ),
            (
                "region",
                JsClientConfig {
                    region: None,
                    ..minimal()
                },
            ),
            (
                "signatureVersion",
                JsClientConfig {
                    signature_version: Some("v3".into()),
                    ..minimal()
                },
            ),
            (
                "timeout",
                JsClientConfig {
                    timeout_ms: Some(1.5),
                    ..minimal()
                },
            ),
            (
                "connectTimeout",
                JsClientConfig {
                    connect_timeout_ms: Some(0.0),
                    ..minimal()
                },
            ),
        ] {
            assert_eq!(refused_field(config), field);
        }
        let message = JsClientConfig {
            access_key_secret: None,
            ..minimal()
        }
        .into_config()
        .unwrap_err()
        .to_string();
        assert!(message.contains("is required"), "{message}");
    }

    #[test]
    fn a_credentials_provider_replaces_the_keys() {
        let with_provider = JsClientConfig {
            access_key_id: None,
            access_key_secret: None,
            credentials_provider: true,
            ..minimal()
        };
        let config = with_provider.clone().into_config().unwrap();
        assert!(config.credentials.is_unset());
        for (field, config) in [
            (
                "accessKeyId",
                JsClientConfig {
                    access_key_id: Some("AK".into()),
                    ..with_provider.clone()
                },
            ),
            (
                "securityToken",
                JsClientConfig {
                    security_token: Some("T".into()),
                    ..with_provider.clone()
                },
            ),
        ] {
            assert_eq!(refused_field(config), field);
        }
    }
}
