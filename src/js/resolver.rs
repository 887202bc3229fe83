//! What a JS `resolver` callback may answer, as plain Rust: the N-API layer reads the answer
//! (an array of address strings, or `null`/`undefined`/`[]` for "ask the system's DNS") and
//! [`addresses`] applies the rules.

use std::net::IpAddr;

/// Most entries read from a resolver's answer (the first
/// [`crate::protocol::resolver::MAX_ADDRESSES_PER_HOST`] are used).
pub const MAX_ANSWER_ENTRIES: usize = 64;

/// The addresses of a resolver's answer: IPv4 or IPv6 literals without a port (the URL gives
/// the port). `None` (null, undefined) or an empty list falls back to the system's DNS. The
/// error text names the bad entry; the transport reports it as the resolver's failure.
pub fn addresses(answer: Option<Vec<String>>) -> Result<Vec<IpAddr>, String> {
    let entries = answer.unwrap_or_default();
    if entries.len() > MAX_ANSWER_ENTRIES {
        return Err(format!(
            "answered {} addresses; at most {MAX_ANSWER_ENTRIES}",
            entries.len()
        ));
    }
    entries
        .iter()
        .map(|text| {
            text.trim().parse::<IpAddr>().map_err(|_| {
                format!(
                    "answered {:?}, which is not an IP address (e.g. '1.2.3.4' or '::1', no port)",
                    text.chars().take(80).collect::<String>()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_literals_are_addresses_and_nothing_means_the_system_dns() {
        let ok = addresses(Some(vec!["10.0.0.1".into(), " ::1 ".into()])).unwrap();
        assert_eq!(
            ok,
            [
                "10.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(addresses(None).unwrap().is_empty());
        assert!(addresses(Some(vec![])).unwrap().is_empty());
    }

    #[test]
    fn anything_else_is_refused_naming_the_entry() {
        for bad in ["oss.example.com", "10.0.0.1:443", "", "[::1]"] {
            let e = addresses(Some(vec!["10.0.0.1".into(), bad.into()])).unwrap_err();
            assert!(e.contains("not an IP address"), "{bad:?}: {e}");
        }
        let many = vec!["10.0.0.1".to_owned(); MAX_ANSWER_ENTRIES + 1];
        assert!(addresses(Some(many)).unwrap_err().contains("at most"));
    }
}
