//! The app's resolver (see [`crate::protocol::resolver::Resolver`]) as the HTTP client's DNS:
//! asked for every host the static `resolve` map does not name (the map is applied before it),
//! falling back to the system's DNS when it answers with no address. Its answer is bounded, and
//! the port always comes from the URL.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::resolver::{Resolver, MAX_ADDRESSES_PER_HOST};

/// Adapts an app's [`Resolver`] to reqwest.
pub(crate) struct AppResolver {
    resolver: Arc<dyn Resolver>,
    /// Longest wait for the resolver's answer (the client's connect timeout): a callback that
    /// never answers must not hold a request forever.
    timeout: Duration,
}

impl AppResolver {
    pub(crate) fn new(resolver: Arc<dyn Resolver>, timeout: Duration) -> Self {
        Self { resolver, timeout }
    }
}

/// Why the app's resolver gave no address (a connect error: nothing was sent).
#[derive(Debug, thiserror::Error)]
#[error("the app's resolver failed for {host}: {message}")]
struct ResolverFailed {
    host: String,
    message: String,
}

impl reqwest::dns::Resolve for AppResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_ascii_lowercase();
        let asked = self.resolver.resolve(&host);
        let timeout = self.timeout;
        Box::pin(async move {
            let answer = match tokio::time::timeout(timeout, asked).await {
                Ok(answer) => answer,
                Err(_) => Err(format!("no answer within {timeout:?}")),
            };
            let addresses = match answer {
                Ok(ips) if !ips.is_empty() => ips
                    .into_iter()
                    .take(MAX_ADDRESSES_PER_HOST)
                    // Port 0: the connector puts in the URL's port.
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>(),
                Ok(_) => {
                    log::debug!(
                        target: crate::io::logging::TRANSPORT_LOG_TARGET,
                        "the app's resolver had no address for {host}: asking the system"
                    );
                    tokio::net::lookup_host((host.as_str(), 0))
                        .await?
                        .take(MAX_ADDRESSES_PER_HOST)
                        .collect()
                }
                Err(message) => {
                    return Err(Box::new(ResolverFailed { host, message }) as _);
                }
            };
            Ok(Box::new(addresses.into_iter()) as reqwest::dns::Addrs)
        })
    }
}
