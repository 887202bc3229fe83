//! Name resolution the app controls: the interface of a resolver callback (for example
//! Alibaba Cloud's HTTPDNS, which Alibaba recommends for OSS on HarmonyOS) and the rules of the
//! static `resolve` map. Only the interface lives here; the transport calls it, and the
//! certificate is still checked against the host name whatever address a resolver gives.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

use crate::protocol::error::{Error, Result};

/// Most addresses one host may map to, in the static map or from a resolver (more are cut).
pub const MAX_ADDRESSES_PER_HOST: usize = 16;

/// Most host names in the static map.
pub const MAX_STATIC_HOSTS: usize = 256;

/// What a resolver answers: the host's addresses (an empty list means "use the system's DNS"),
/// or why it could not resolve the host.
pub type ResolveFuture =
    Pin<Box<dyn Future<Output = std::result::Result<Vec<IpAddr>, String>> + Send>>;

/// An app's resolver, asked for every host name the client connects to that the static map
/// does not cover. Called on the client's I/O threads; it may take its time (the connect
/// timeout bounds it).
pub trait Resolver: Send + Sync + 'static {
    /// The addresses of `host` (lowercase, no port). An empty list falls back to the system's
    /// DNS; an error fails the request as a connect error that names the host (nothing sent).
    fn resolve(&self, host: &str) -> ResolveFuture;
}

/// A shared resolver in a [`crate::ClientConfig`]: cheap to clone; `Debug` shows only that
/// there is one.
#[derive(Clone)]
pub struct SharedResolver(pub Arc<dyn Resolver>);

impl fmt::Debug for SharedResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SharedResolver(<callback>)")
    }
}

/// Checks the static map (`resolve` in JS): host names are DNS names (lowercased here), each
/// with 1 to [`MAX_ADDRESSES_PER_HOST`] addresses.
pub fn check_static_map(map: &BTreeMap<String, Vec<SocketAddr>>) -> Result<()> {
    if map.len() > MAX_STATIC_HOSTS {
        return Err(Error::invalid(
            "resolve",
            format!(
                "may name at most {MAX_STATIC_HOSTS} hosts (got {})",
                map.len()
            ),
        ));
    }
    for (host, addresses) in map {
        check_host_name(host)?;
        if addresses.is_empty() {
            return Err(Error::invalid(
                "resolve",
                format!("{host:?} needs at least one address"),
            ));
        }
        if addresses.len() > MAX_ADDRESSES_PER_HOST {
            return Err(Error::invalid(
                "resolve",
                format!(
                    "{host:?} has {} addresses; at most {MAX_ADDRESSES_PER_HOST}",
                    addresses.len()
                ),
            ));
        }
    }
    Ok(())
}

/// A host name as the static map keys it: lowercase letters, digits, `-` and `.`, labels of 1
/// to 63 characters, at most 253 in all. IP addresses need no entry, and are refused.
fn check_host_name(host: &str) -> Result<()> {
    let bad = |rule: &str| Err(Error::invalid("resolve", format!("host {host:?} {rule}")));
    if host.is_empty() || host.len() > 253 {
        return bad("must be 1 to 253 characters");
    }
    if host.parse::<IpAddr>().is_ok() {
        return bad("is an IP address: only host names are resolved");
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 {
            return bad("has an empty label or one over 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return bad("may contain only lowercase letters, digits, '-' and '.'");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("has a label starting or ending with '-'");
        }
    }
    Ok(())
}

/// Parses one address of the static map as JS gives it: `1.2.3.4`, `1.2.3.4:8443`, `::1` or
/// `[::1]:8443`. Without a port the connection uses the URL's (443 for `https://`): the port
/// is 0 then.
pub fn parse_address(text: &str) -> Result<SocketAddr> {
    let text = text.trim();
    if let Ok(addr) = text.parse::<SocketAddr>() {
        if addr.port() == 0 {
            return Err(Error::invalid(
                "resolve",
                format!("address {text:?} has port 0; leave the port out for the URL's"),
            ));
        }
        return Ok(addr);
    }
    match text.parse::<IpAddr>() {
        Ok(ip) => Ok(SocketAddr::new(ip, 0)),
        Err(_) => Err(Error::invalid(
            "resolve",
            format!("{text:?} is not an IP address (`1.2.3.4`, `1.2.3.4:443`, `::1`, `[::1]:443`)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_and_rule(r: Result<()>) -> (String, String) {
        match r {
            Err(Error::InvalidArgument { field, rule }) => (field.to_owned(), rule),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn addresses_parse_with_and_without_ports() {
        assert_eq!(
            parse_address("127.0.0.1").unwrap(),
            "127.0.0.1:0".parse().unwrap()
        );
        assert_eq!(
            parse_address(" 10.0.0.1:8443 ").unwrap(),
            "10.0.0.1:8443".parse().unwrap()
        );
        assert_eq!(parse_address("::1").unwrap(), "[::1]:0".parse().unwrap());
        assert_eq!(
            parse_address("[::1]:443").unwrap(),
            "[::1]:443".parse().unwrap()
        );
        for bad in [
            "",
            "localhost",
            "1.2.3",
            "1.2.3.4:",
            "1.2.3.4:0",
            "[::1]",
            "1.2.3.4:70000",
        ] {
            let (field, rule) = field_and_rule(parse_address(bad).map(|_| ()));
            assert_eq!(field, "resolve", "{bad:?}");
            assert!(
                rule.contains("address") || rule.contains("port"),
                "{bad:?}: {rule}"
            );
        }
    }

    #[test]
    fn the_static_map_takes_dns_names_with_some_addresses() {
        let one: Vec<SocketAddr> = vec!["127.0.0.1:0".parse().unwrap()];
        let map = |host: &str, addrs: Vec<SocketAddr>| BTreeMap::from([(host.to_owned(), addrs)]);
        check_static_map(&map("bucket.oss-cn-hangzhou.aliyuncs.com", one.clone())).unwrap();
        for (host, addrs, says) in [
            ("Bucket.example.com", one.clone(), "lowercase"),
            ("a..b", one.clone(), "empty label"),
            ("-a.b", one.clone(), "'-'"),
            ("a_b.com", one.clone(), "lowercase"),
            ("10.0.0.1", one.clone(), "IP address"),
            ("", one.clone(), "1 to 253"),
            ("ok.com", vec![], "at least one"),
            (
                "ok.com",
                vec![one[0]; MAX_ADDRESSES_PER_HOST + 1],
                "at most",
            ),
        ] {
            let (field, rule) = field_and_rule(check_static_map(&map(host, addrs)));
            assert_eq!(field, "resolve");
            assert!(rule.contains(says), "{host:?}: {rule}");
        }
        let many: BTreeMap<_, _> = (0..=MAX_STATIC_HOSTS)
            .map(|i| (format!("h{i}.com"), one.clone()))
            .collect();
        assert!(field_and_rule(check_static_map(&many))
            .1
            .contains("at most"));
    }
}
