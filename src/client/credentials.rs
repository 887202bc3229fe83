//! Credentials that change while a client lives: STS tokens expire (15 minutes to 12 hours),
//! so a long-running client asks a [`CredentialsProvider`] for new ones.
//!
//! The client keeps the current credentials in a cache and signs each request with them. The
//! rules:
//!
//! * **First use.** A client built with [`crate::Client::with_credentials_provider`] asks the
//!   provider when its first request is signed (building the client sends nothing).
//! * **Before expiry.** Credentials with an expiration are refreshed once they come within the
//!   refresh threshold of it ([`CredentialsRefresh::threshold`], default
//!   [`DEFAULT_REFRESH_THRESHOLD`], 5 minutes) — or, for credentials that live shorter than
//!   twice the threshold, once half their lifetime has passed, so that short-lived tokens are
//!   not fetched again for every request. Credentials without an expiration are kept until OSS
//!   refuses them.
//! * **Single flight.** One refresh at a time: requests that need credentials while a refresh
//!   runs wait for it and use its result; when it fails, they all get its error (and the next
//!   request asks again). So 50 concurrent appends during a refresh make one provider call.
//! * **Never knowingly expired.** A request is never signed with credentials whose expiration
//!   has passed. When a refresh fails but the current credentials have not expired yet, they
//!   are still used (a warning is logged); once expired, the request fails with
//!   [`Error::Credentials`] and nothing is sent.
//! * **Refused by OSS.** When OSS answers 403 with a code that says the key or token is no
//!   longer good ([`is_credentials_rejection`]), the client — if it has a provider — marks the
//!   credentials it used as rejected, refreshes once and sends the request once more. A
//!   request refused with 403 was not applied, so the retry is safe even for an append.
//! * **Pushed by the app.** [`crate::Client::update_credentials`] replaces the credentials at
//!   once (with or without a provider).
//!
//! A provider's failure or bad data is an [`Error::Credentials`] with the provider's message
//! (nothing is sent). Secrets never appear in `Debug`, logs or errors: [`ProvidedCredentials`]
//! redacts them like [`Credentials`], and refreshes are logged with their expiration only.
//!
//! ```no_run
//! use std::time::{Duration, SystemTime};
//! use oss_append::{Client, ClientConfig, Credentials, ProvidedCredentials};
//!
//! # fn run() -> Result<(), oss_append::Error> {
//! let client = Client::with_credentials_provider(
//!     ClientConfig::without_credentials("cn-hangzhou")?,
//!     || async {
//!         // e.g. ask the app's own server for an STS token
//!         let credentials = Credentials::new("STS.id", "secret", Some("token".into()))?;
//!         let expiration = SystemTime::now() + Duration::from_secs(900);
//!         Ok(ProvidedCredentials::new(credentials, Some(expiration)))
//!     },
//! )?;
//! # Ok(()) }
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::protocol::credentials::Credentials;
use crate::protocol::error::{Error, Result, ServiceError};

/// Default of [`CredentialsRefresh::threshold`]: refresh 5 minutes before the expiration.
pub const DEFAULT_REFRESH_THRESHOLD: Duration = Duration::from_secs(5 * 60);
/// Default of [`CredentialsRefresh::timeout`]: the longest one provider call may take.
pub const DEFAULT_PROVIDER_TIMEOUT: Duration = Duration::from_secs(60);

/// What a provider's failure is: any error (its `Display` becomes the message).
pub type ProviderError = Box<dyn std::error::Error + Send + Sync>;

/// What [`CredentialsProvider::fetch`] returns.
pub type CredentialsFuture =
    Pin<Box<dyn Future<Output = std::result::Result<ProvidedCredentials, ProviderError>> + Send>>;

/// Credentials from a provider, with their expiration (`None`: not known to expire).
#[derive(Clone)]
pub struct ProvidedCredentials {
    /// The keys (and STS token) to sign with.
    pub credentials: Credentials,
    /// When they stop working.
    pub expiration: Option<SystemTime>,
}

impl ProvidedCredentials {
    /// Credentials that stop working at `expiration` (`None`: not known to expire).
    pub fn new(credentials: Credentials, expiration: Option<SystemTime>) -> Self {
        Self {
            credentials,
            expiration,
        }
    }
}

impl fmt::Debug for ProvidedCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProvidedCredentials")
            .field("credentials", &self.credentials)
            .field(
                "expiration",
                &self.expiration.map(humantime::format_rfc3339),
            )
            .finish()
    }
}

/// Where a client gets new credentials: an app's token server, an STS call, a command (the
/// CLI's `--credentials-command`), a JS function (`credentialsProvider`). Called on first
/// use, before the current credentials expire, and when OSS refuses them; never twice at
/// once for one client.
///
/// Any `Fn() -> impl Future<Output = Result<ProvidedCredentials, ProviderError>>` closure is a
/// provider.
pub trait CredentialsProvider: Send + Sync {
    /// Fetches fresh credentials.
    fn fetch(&self) -> CredentialsFuture;
}

impl<F, Fut> CredentialsProvider for F
where
    F: Fn() -> Fut + Send + Sync,
    Fut: Future<Output = std::result::Result<ProvidedCredentials, ProviderError>> + Send + 'static,
{
    fn fetch(&self) -> CredentialsFuture {
        Box::pin(self())
    }
}

/// When and how a client with a provider refreshes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialsRefresh {
    /// Refresh once the credentials expire within this long (see the module docs for
    /// short-lived credentials).
    pub threshold: Duration,
    /// The longest one provider call may take; then it counts as failed.
    pub timeout: Duration,
}

impl Default for CredentialsRefresh {
    fn default() -> Self {
        Self {
            threshold: DEFAULT_REFRESH_THRESHOLD,
            timeout: DEFAULT_PROVIDER_TIMEOUT,
        }
    }
}

/// Whether an OSS answer says the access key or STS token it was signed with is no longer
/// (or not) good, so that new credentials may succeed: 403 with `SecurityTokenExpired`
/// (EC 0002-00000007), `InvalidSecurityToken` (0002-00000006/8), `InvalidAccessKeyId`
/// (0002-00000902 and others; also what OSS answers a temporary key without its token) or
/// `AccessKeyIdAndSecurityTokenNotMatch`.
pub fn is_credentials_rejection(error: &ServiceError) -> bool {
    error.status == 403
        && matches!(
            error.code.as_str(),
            "SecurityTokenExpired"
                | "InvalidSecurityToken"
                | "InvalidAccessKeyId"
                | "AccessKeyIdAndSecurityTokenNotMatch"
        )
}

/// The credentials one request is signed with, and which version of the cache they are.
#[derive(Clone)]
pub(crate) struct Current {
    pub credentials: Arc<Credentials>,
    /// Bumped by every change; names the credentials a 403 refused.
    pub generation: u64,
    expiration: Option<SystemTime>,
    /// When to ask the provider again (before `expiration`).
    refresh_at: Option<SystemTime>,
    /// OSS refused them: never used again.
    rejected: bool,
}

impl Current {
    /// Good to sign with, and not yet due for a refresh.
    fn fresh(&self, now: SystemTime) -> bool {
        !self.rejected && self.refresh_at.is_none_or(|at| now < at)
    }

    /// Good to sign with (perhaps due for a refresh).
    fn usable(&self, now: SystemTime) -> bool {
        !self.rejected && self.expiration.is_none_or(|at| now < at)
    }
}

#[derive(Default)]
struct State {
    current: Option<Current>,
    generation: u64,
    /// Provider calls finished so far, and the error of the last one if it failed: a request
    /// that waited for a refresh which failed gets its error instead of calling again.
    attempts: u64,
    last_failure: Option<String>,
}

/// The current credentials of a client and, when it has one, the provider that renews them.
pub(crate) struct CredentialsCache {
    provider: Option<Arc<dyn CredentialsProvider>>,
    refresh: CredentialsRefresh,
    state: Mutex<State>,
    /// Held while the provider is called: the single flight.
    flight: tokio::sync::Mutex<()>,
}

impl fmt::Debug for CredentialsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("CredentialsCache")
            .field("provider", &self.provider.as_ref().map(|_| "<provider>"))
            .field("refresh", &self.refresh)
            .field(
                "access_key_id",
                &state
                    .current
                    .as_ref()
                    .map(|c| c.credentials.access_key_id().to_owned()),
            )
            .field("generation", &state.generation)
            .finish()
    }
}

impl CredentialsCache {
    /// Fixed credentials (they change only through [`CredentialsCache::update`]).
    pub(crate) fn fixed(credentials: Credentials) -> Self {
        let cache = Self {
            provider: None,
            refresh: CredentialsRefresh::default(),
            state: Mutex::new(State::default()),
            flight: tokio::sync::Mutex::new(()),
        };
        cache.store(&mut cache.lock(), credentials, None);
        cache
    }

    /// Credentials from `provider`, fetched on first use.
    pub(crate) fn provided(
        provider: Arc<dyn CredentialsProvider>,
        refresh: CredentialsRefresh,
    ) -> Result<Self> {
        if refresh.timeout.is_zero() {
            return Err(Error::invalid(
                "credentialsProviderTimeout",
                "must be greater than 0",
            ));
        }
        Ok(Self {
            provider: Some(provider),
            refresh,
            state: Mutex::new(State::default()),
            flight: tokio::sync::Mutex::new(()),
        })
    }

    /// Whether new credentials can be had after OSS refused the current ones.
    pub(crate) fn can_refresh(&self) -> bool {
        self.provider.is_some()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the credentials (`Client::update_credentials`).
    pub(crate) fn update(&self, provided: ProvidedCredentials) -> Result<()> {
        if provided.credentials.is_unset() {
            return Err(Error::invalid("accessKeyId", "must not be empty"));
        }
        if provided
            .expiration
            .is_some_and(|at| at <= SystemTime::now())
        {
            return Err(Error::invalid("expiration", "must be in the future"));
        }
        self.store(&mut self.lock(), provided.credentials, provided.expiration);
        log::info!(
            target: LOG_TARGET,
            "credentials updated by the caller{}",
            expiring(provided.expiration)
        );
        Ok(())
    }

    fn store(&self, state: &mut State, credentials: Credentials, expiration: Option<SystemTime>) {
        let now = SystemTime::now();
        let refresh_at = expiration.map(|at| {
            let lifetime = at.duration_since(now).unwrap_or_default();
            let early = at
                .checked_sub(self.refresh.threshold)
                .unwrap_or(SystemTime::UNIX_EPOCH);
            early.max(now + lifetime / 2)
        });
        state.generation += 1;
        state.current = Some(Current {
            credentials: Arc::new(credentials),
            generation: state.generation,
            expiration,
            refresh_at,
            rejected: false,
        });
    }

    /// The credentials to sign a request with: the current ones while fresh, else those of a
    /// refresh (this call's own, or the one running).
    pub(crate) async fn get(&self) -> Result<Current> {
        let seen = {
            let state = self.lock();
            match &state.current {
                Some(current) if current.fresh(SystemTime::now()) => return Ok(current.clone()),
                _ => state.attempts,
            }
        };
        self.refresh_after(seen, None).await
    }

    /// After OSS refused the credentials of `generation`: new ones (fetched once however many
    /// requests were refused).
    pub(crate) async fn rejected(&self, generation: u64) -> Result<Current> {
        let seen = {
            let mut state = self.lock();
            if let Some(current) = state.current.as_mut() {
                if current.generation == generation {
                    current.rejected = true;
                }
            }
            state.attempts
        };
        self.refresh_after(seen, Some(generation)).await
    }

    /// Refreshes unless a refresh that ended while this call waited already did (or failed).
    async fn refresh_after(&self, seen_attempts: u64, rejected: Option<u64>) -> Result<Current> {
        let Some(provider) = &self.provider else {
            // Nothing to refresh from: the current credentials unless they expired.
            let state = self.lock();
            return match &state.current {
                Some(current) if current.usable(SystemTime::now()) => Ok(current.clone()),
                Some(_) => Err(Error::credentials(
                    "the credentials expired and there is no credentials provider to renew \
                     them (update them with updateCredentials)",
                )),
                None => Err(Error::credentials("no credentials")),
            };
        };
        let _flight = self.flight.lock().await;
        {
            let state = self.lock();
            let now = SystemTime::now();
            if let Some(current) = &state.current {
                let newer = rejected.is_none_or(|g| current.generation != g);
                if newer && current.fresh(now) {
                    return Ok(current.clone());
                }
            }
            if state.attempts != seen_attempts {
                if let Some(failure) = &state.last_failure {
                    // The refresh this call waited for failed: share its outcome.
                    return fallback(&state, failure);
                }
            }
        }
        log::debug!(target: LOG_TARGET, "asking the credentials provider");
        let fetched = tokio::time::timeout(self.refresh.timeout, provider.fetch()).await;
        let outcome = match fetched {
            Err(_) => Err(format!(
                "the credentials provider did not answer within {:?}",
                self.refresh.timeout
            )),
            Ok(Err(e)) => Err(format!("the credentials provider failed: {e}")),
            Ok(Ok(provided)) => check_provided(provided),
        };
        let mut state = self.lock();
        state.attempts += 1;
        match outcome {
            Ok(provided) => {
                state.last_failure = None;
                self.store(&mut state, provided.credentials, provided.expiration);
                log::info!(
                    target: LOG_TARGET,
                    "credentials refreshed{}",
                    expiring(provided.expiration)
                );
                Ok(state.current.clone().expect("just stored"))
            }
            Err(failure) => {
                let result = fallback(&state, &failure);
                state.last_failure = Some(failure);
                result
            }
        }
    }
}

pub(crate) const LOG_TARGET: &str = "oss_append::credentials";

/// After a failed refresh: the current credentials while they work, else the failure.
fn fallback(state: &State, failure: &str) -> Result<Current> {
    match &state.current {
        Some(current) if current.usable(SystemTime::now()) => {
            log::warn!(
                target: LOG_TARGET,
                "{failure}; signing with the current credentials until they expire"
            );
            Ok(current.clone())
        }
        _ => {
            log::warn!(target: LOG_TARGET, "{failure}");
            Err(Error::credentials(failure))
        }
    }
}

/// A provider's answer that cannot be used: already expired, or without a key.
fn check_provided(
    provided: ProvidedCredentials,
) -> std::result::Result<ProvidedCredentials, String> {
    if provided.credentials.is_unset() {
        return Err("the credentials provider returned no accessKeyId".to_owned());
    }
    if let Some(at) = provided.expiration {
        if at <= SystemTime::now() {
            return Err(format!(
                "the credentials provider returned credentials that expired at {}",
                humantime::format_rfc3339_seconds(at)
            ));
        }
    }
    Ok(provided)
}

fn expiring(expiration: Option<SystemTime>) -> String {
    match expiration {
        Some(at) => format!(", expiring at {}", humantime::format_rfc3339_millis(at)),
        None => " (no expiration)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn creds(n: u32) -> Credentials {
        Credentials::new(
            format!("STS.{n}"),
            format!("secret-{n}"),
            Some(format!("tok-{n}")),
        )
        .unwrap()
    }

    /// A provider counting its calls; `lifetime` None = no expiration.
    fn counting(
        lifetime: Option<Duration>,
        fail_first: u32,
    ) -> (Arc<AtomicU32>, Arc<dyn CredentialsProvider>) {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let provider = move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                tokio::task::yield_now().await;
                if n <= fail_first {
                    return Err::<ProvidedCredentials, ProviderError>(
                        format!("token server down ({n})").into(),
                    );
                }
                Ok(ProvidedCredentials::new(
                    creds(n),
                    lifetime.map(|l| SystemTime::now() + l),
                ))
            }
        };
        (calls, Arc::new(provider))
    }

    #[tokio::test]
    async fn first_use_fetches_once_and_fresh_credentials_are_kept() {
        let (calls, provider) = counting(Some(Duration::from_secs(3600)), 0);
        let cache = CredentialsCache::provided(provider, CredentialsRefresh::default()).unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "nothing fetched before use"
        );
        let a = cache.get().await.unwrap();
        let b = cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(a.generation, b.generation);
        assert_eq!(a.credentials.access_key_id(), "STS.1");
    }

    #[tokio::test]
    async fn within_the_threshold_the_provider_is_asked_again() {
        // A 1-hour lifetime under a 2-hour threshold: due after half its life (not yet).
        let (calls, provider) = counting(Some(Duration::from_secs(3600)), 0);
        let refresh = CredentialsRefresh {
            threshold: Duration::from_secs(7200),
            ..CredentialsRefresh::default()
        };
        let cache = CredentialsCache::provided(provider, refresh).unwrap();
        cache.get().await.unwrap();
        cache.get().await.unwrap();
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "not due before half its life"
        );
        // Pretend the refresh time has come.
        cache.lock().current.as_mut().unwrap().refresh_at = Some(SystemTime::UNIX_EPOCH);
        let c = cache.get().await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(c.credentials.access_key_id(), "STS.2");
    }

    #[tokio::test]
    async fn concurrent_requests_share_one_refresh() {
        let (calls, provider) = counting(Some(Duration::from_secs(3600)), 0);
        let cache =
            Arc::new(CredentialsCache::provided(provider, CredentialsRefresh::default()).unwrap());
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.get().await.map(|c| c.generation) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 1);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // 50 requests refused with the same credentials: one more call.
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.rejected(1).await.map(|c| c.generation) })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), 2);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failure_is_a_credentials_error_shared_by_waiters_then_recovers() {
        let (calls, provider) = counting(None, 1);
        let cache = CredentialsCache::provided(provider, CredentialsRefresh::default()).unwrap();
        let err = match cache.get().await {
            Err(e) => e,
            Ok(_) => panic!("the first call fails"),
        };
        assert!(matches!(err, Error::Credentials { .. }), "{err:?}");
        assert!(err.to_string().contains("token server down (1)"), "{err}");
        let c = cache.get().await.unwrap();
        assert_eq!(c.credentials.access_key_id(), "STS.2");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn expired_or_empty_answers_are_refused() {
        let provider = || async {
            Ok::<_, ProviderError>(ProvidedCredentials::new(
                creds(1),
                Some(SystemTime::now() - Duration::from_secs(1)),
            ))
        };
        let cache =
            CredentialsCache::provided(Arc::new(provider), CredentialsRefresh::default()).unwrap();
        let err = cache.get().await.err().unwrap();
        assert!(err.to_string().contains("expired at"), "{err}");
        let provider = || async {
            Ok::<_, ProviderError>(ProvidedCredentials::new(Credentials::unset(), None))
        };
        let cache =
            CredentialsCache::provided(Arc::new(provider), CredentialsRefresh::default()).unwrap();
        let err = cache.get().await.err().unwrap();
        assert!(err.to_string().contains("no accessKeyId"), "{err}");
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_unexpired_credentials_but_never_expired_ones() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let provider = move || {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            async move {
                if n == 0 {
                    Ok(ProvidedCredentials::new(
                        creds(1),
                        Some(SystemTime::now() + Duration::from_secs(3600)),
                    ))
                } else {
                    Err::<ProvidedCredentials, ProviderError>("down".into())
                }
            }
        };
        let cache =
            CredentialsCache::provided(Arc::new(provider), CredentialsRefresh::default()).unwrap();
        cache.get().await.unwrap();
        cache.lock().current.as_mut().unwrap().refresh_at = Some(SystemTime::UNIX_EPOCH);
        let c = cache.get().await.unwrap();
        assert_eq!(
            c.generation, 1,
            "still valid: used despite the failed refresh"
        );
        cache.lock().current.as_mut().unwrap().expiration = Some(SystemTime::UNIX_EPOCH);
        assert!(matches!(cache.get().await, Err(Error::Credentials { .. })));
        // Rejected credentials are never used again either.
        let fixed = CredentialsCache::fixed(creds(9));
        assert!(fixed.get().await.is_ok());
        assert!(!fixed.can_refresh());
    }

    #[tokio::test]
    async fn update_replaces_and_checks() {
        let cache = CredentialsCache::fixed(creds(1));
        cache
            .update(ProvidedCredentials::new(creds(2), None))
            .unwrap();
        assert_eq!(
            cache.get().await.unwrap().credentials.access_key_id(),
            "STS.2"
        );
        let err = cache
            .update(ProvidedCredentials::new(
                creds(3),
                Some(SystemTime::UNIX_EPOCH),
            ))
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                field: "expiration",
                ..
            }
        ));
    }

    #[test]
    fn debug_and_errors_hold_no_secret() {
        let p = ProvidedCredentials::new(creds(7), Some(SystemTime::now()));
        let shown = format!("{p:?}");
        assert!(shown.contains("STS.7"));
        assert!(
            !shown.contains("secret-7") && !shown.contains("tok-7"),
            "{shown}"
        );
        let cache = CredentialsCache::fixed(creds(7));
        let shown = format!("{cache:?}");
        assert!(
            !shown.contains("secret-7") && !shown.contains("tok-7"),
            "{shown}"
        );
    }

    #[test]
    fn rejection_codes() {
        let e = |status, code: &str| ServiceError {
            status,
            code: code.into(),
            ..ServiceError::default()
        };
        assert!(is_credentials_rejection(&e(403, "SecurityTokenExpired")));
        assert!(is_credentials_rejection(&e(403, "InvalidSecurityToken")));
        assert!(is_credentials_rejection(&e(403, "InvalidAccessKeyId")));
        assert!(!is_credentials_rejection(&e(403, "AccessDenied")));
        assert!(!is_credentials_rejection(&e(403, "SignatureDoesNotMatch")));
        assert!(!is_credentials_rejection(&e(400, "InvalidSecurityToken")));
    }
}
