//! The client: configuration, endpoint and connection pool, and the operations built on them.

mod append_request;
pub mod credentials;

pub use append_request::AppendObjectRequest;

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::io::body::OpenedBody;
use crate::io::cancel::unless_cancelled;
use crate::io::transport::{Call, Transport};
use crate::protocol::config::{ClientConfig, Endpoint};
use crate::protocol::credentials::Credentials;
use crate::protocol::error::{Error, Result};
use crate::protocol::options::{AppendOptions, ContentMd5};
use crate::protocol::request::{self, Operation};
use crate::protocol::response::{
    self, AppendObjectOutput, HeadObjectOutput, RawResponse, SealAppendObjectOutput,
};
use crate::protocol::validate;
use credentials::{
    is_credentials_rejection, CredentialsCache, CredentialsProvider, CredentialsRefresh, Current,
    ProvidedCredentials,
};

/// An OSS client. Cheap to clone; clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: ClientConfig,
    endpoint: Endpoint,
    transport: Transport,
    /// What each request is signed with (see [`credentials`]).
    credentials: CredentialsCache,
}

impl Client {
    /// Checks the configuration and sets up the connection pool (no network traffic yet).
    /// Every request is signed with `config.credentials` (until
    /// [`Client::update_credentials`] replaces them).
    pub fn new(config: ClientConfig) -> Result<Self> {
        if config.credentials.is_unset() {
            return Err(Error::invalid(
                "accessKeyId",
                "is required (or give a credentials provider)",
            ));
        }
        let credentials = CredentialsCache::fixed(config.credentials.clone());
        Self::build(config, credentials)
    }

    /// A client whose credentials come from `provider` (see [`credentials`]): fetched when the
    /// first request is signed, refreshed 5 minutes before they expire, and after OSS refuses
    /// them as expired or invalid (then the refused request is sent once more).
    /// `config.credentials` are not used (build the configuration with
    /// [`ClientConfig::without_credentials`]).
    pub fn with_credentials_provider(
        config: ClientConfig,
        provider: impl CredentialsProvider + 'static,
    ) -> Result<Self> {
        Self::with_credentials_refresh(config, Arc::new(provider), CredentialsRefresh::default())
    }

    /// [`Client::with_credentials_provider`] with the refresh threshold and provider timeout
    /// given.
    pub fn with_credentials_refresh(
        config: ClientConfig,
        provider: Arc<dyn CredentialsProvider>,
        refresh: CredentialsRefresh,
    ) -> Result<Self> {
        let credentials = CredentialsCache::provided(provider, refresh)?;
        Self::build(config, credentials)
    }

    /// Replaces the credentials every later request is signed with (an app that pushes new
    /// STS tokens itself). With a provider, it is asked again when these come near their
    /// `expiration` or OSS refuses them. Requests already sent keep theirs.
    pub fn update_credentials(
        &self,
        credentials: Credentials,
        expiration: Option<std::time::SystemTime>,
    ) -> Result<()> {
        self.inner
            .credentials
            .update(ProvidedCredentials::new(credentials, expiration))
    }

    fn build(config: ClientConfig, credentials: CredentialsCache) -> Result<Self> {
        let endpoint = config.resolve()?;
        if endpoint.scheme == "http" && !endpoint.is_loopback() {
            // Allowed only with `secure: false` spelled out (see `ClientConfig::secure`).
            log::warn!(
                "plain HTTP to {}: request signatures and the STS token travel unencrypted",
                endpoint.host
            );
        }
        let transport = Transport::new(&config)?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                endpoint,
                transport,
                credentials,
            }),
        })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// Appends data to an appendable object (creating it at position 0).
    ///
    /// Every argument is checked before anything is sent. The request is sent once: an append is
    /// not idempotent, so a failure is returned, never retried here. When the CRC-64 of the
    /// object before the append is known (`init_crc64`, or position 0), the whole-object CRC OSS
    /// reports must match the client's, else [`Error::CrcMismatch`]. For retries and recovery
    /// from lost answers, use an append session ([`Client::appender`]).
    ///
    /// The request may carry a progress observer ([`AppendObjectRequest::with_progress`]), a
    /// cancellation token ([`AppendObjectRequest::with_cancellation`], see [`crate::CancellationToken`])
    /// and its own read/write timeout ([`AppendObjectRequest::with_timeout`]).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use oss_append::{AppendObjectRequest, Body, CancellationToken, Client, ClientConfig,
    ///                  Credentials, TransportErrorKind};
    ///
    /// # async fn run() -> Result<(), oss_append::Error> {
    /// let config = ClientConfig::new(Credentials::new("ak", "sk", Some("sts-token".into()))?,
    ///                                "oss-cn-hangzhou")?;
    /// let client = Client::new(config)?;
    /// let first = client
    ///     .append_object(AppendObjectRequest::new("my-bucket", "logs/app.log", "hello\n"))
    ///     .await?;
    /// let token = CancellationToken::new();
    /// let second = client
    ///     .append_object(
    ///         AppendObjectRequest::new("my-bucket", "logs/app.log", Body::from_path("/tmp/big.bin"))
    ///             .with_position(first.next_append_position)
    ///             .with_init_crc64(first.hash_crc64ecma.unwrap_or(0))
    ///             .with_progress(|sent, total| println!("{sent} of {total} bytes"))
    ///             .with_cancellation(token.clone())
    ///             .with_timeout(Duration::from_secs(60)),
    ///     )
    ///     .await;
    /// match second {
    ///     Ok(out) => println!("next position {}", out.next_append_position),
    ///     Err(oss_append::Error::Transport { kind: TransportErrorKind::Cancelled, request_sent, .. }) => {
    ///         // request_sent: the whole body went out, so OSS may have applied it (HEAD tells)
    ///         println!("cancelled (may have been applied: {request_sent})");
    ///     }
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn append_object(&self, request: AppendObjectRequest) -> Result<AppendObjectOutput> {
        let AppendObjectRequest {
            bucket,
            key,
            body,
            position,
            init_crc64,
            options,
            cancellation,
            timeout,
            operation_timeout,
        } = request;
        let position = position.unwrap_or(0);
        validate::bucket(&bucket)?;
        validate::key(&key)?;
        validate::options(&options)?;
        validate::previous_crc(position, init_crc64)?;
        validate::position_and_length(position, 0)?;
        if let Some(timeout) = timeout {
            if timeout.is_zero() {
                return Err(Error::invalid("timeout", "must be greater than 0"));
            }
        }
        if operation_timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid("operationTimeout", "must be greater than 0"));
        }
        let cancel = cancellation.as_ref();
        if cancel.is_some_and(|t| t.is_cancelled()) {
            return Err(Error::cancelled(false, "before the request was sent"));
        }
        let body = unless_cancelled(cancel, body.open()).await?;
        validate::position_and_length(position, body.len())?;
        let call = Call {
            timeout,
            operation_timeout,
            cancel,
        };
        self.send_append(&bucket, &key, position, init_crc64, &options, body, call)
            .await
            .0
    }

    /// Sends one append whose arguments have been checked. Besides the outcome, says how far
    /// the body got: only when all of it went out can OSS have applied the append, and then
    /// `SentBody::crc64` is the CRC-64 the whole object has if it did.
    /// `call` carries the per-call settings (timeout, cancellation).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_append(
        &self,
        bucket: &str,
        key: &str,
        position: u64,
        init_crc64: Option<u64>,
        options: &AppendOptions,
        body: OpenedBody,
        call: Call<'_>,
    ) -> (Result<AppendObjectOutput>, SentBody) {
        let not_sent = SentBody {
            whole_body_sent: false,
            crc64: 0,
        };
        let content_md5 = match &options.content_md5 {
            None => None,
            Some(ContentMd5::Given(md5)) => Some(md5.clone()),
            Some(ContentMd5::Compute) => {
                match unless_cancelled(call.cancel, body.md5_base64()).await {
                    Ok(md5) => Some(md5),
                    Err(e) => return (Err(e), not_sent),
                }
            }
        };
        let expected_previous_crc = if position == 0 { Some(0) } else { init_crc64 };
        let signing = match unless_cancelled(call.cancel, self.inner.credentials.get()).await {
            Ok(signing) => signing,
            Err(e) => return (Err(e), not_sent),
        };
        // One try, signed with the credentials given; every other argument is this call's.
        let content_md5 = &content_md5;
        let send = |body, credentials| {
            self.send_append_once(
                bucket,
                key,
                position,
                options,
                content_md5,
                expected_previous_crc,
                body,
                credentials,
                call,
            )
        };
        // Kept for one more try when OSS refuses the credentials (cheap: bytes or a shared file).
        let spare = self.inner.credentials.can_refresh().then(|| body.clone());
        let once = send(body, &signing.credentials).await;
        let (Some(body), (Err(Error::Service(refused)), _)) = (spare, &once) else {
            return once;
        };
        if !is_credentials_rejection(refused) {
            return once;
        }
        // A 403 was not applied: the append may go again, once, with new credentials.
        log::info!(
            target: credentials::LOG_TARGET,
            "OSS refused the credentials ({}); refreshing them and sending the append again",
            refused.code
        );
        let signing = match unless_cancelled(
            call.cancel,
            self.inner.credentials.rejected(signing.generation),
        )
        .await
        {
            Ok(signing) => signing,
            Err(e) => return (Err(e), not_sent),
        };
        send(body, &signing.credentials).await
    }

    /// One try of [`Client::send_append`], signed with `credentials`.
    #[allow(clippy::too_many_arguments)]
    async fn send_append_once(
        &self,
        bucket: &str,
        key: &str,
        position: u64,
        options: &AppendOptions,
        content_md5: &Option<String>,
        expected_previous_crc: Option<u64>,
        body: OpenedBody,
        credentials: &Credentials,
        call: Call<'_>,
    ) -> (Result<AppendObjectOutput>, SentBody) {
        let prepared = request::append(
            bucket,
            key,
            position,
            options,
            body.len(),
            content_md5.clone(),
        )
        .sign_with(
            credentials,
            &self.inner.config,
            &self.inner.endpoint,
            unix_now(),
        );
        let (tracked, progress) = body.into_tracked(expected_previous_crc.unwrap_or(0));
        let result = self
            .inner
            .transport
            .send(prepared, Some((tracked, progress.clone())), call)
            .await;
        let sent = SentBody {
            whole_body_sent: progress.finished() && progress.failure().is_none(),
            crc64: progress.crc(),
        };
        let raw = match result {
            Ok(raw) => raw,
            Err(e) => return (Err(e), sent),
        };
        if !(200..300).contains(&raw.status) {
            return (Err(service_error(&raw, credentials)), sent);
        }
        let output = match AppendObjectOutput::from_response(&raw) {
            Ok(output) => output,
            Err(e) => return (Err(e), sent),
        };
        if let (Some(_), Some(server)) = (expected_previous_crc, output.hash_crc64ecma) {
            let client = progress.crc();
            if client != server {
                return (
                    Err(Error::CrcMismatch {
                        client,
                        server,
                        request_id: output.request_id,
                    }),
                    sent,
                );
            }
        }
        (Ok(output), sent)
    }

    /// `HEAD` an object, parsed: type, size, next append position, CRC-64, sealed time.
    pub async fn head_object_output(&self, bucket: &str, key: &str) -> Result<HeadObjectOutput> {
        let raw = self.head_object(bucket, key).await?;
        HeadObjectOutput::from_response(&raw)
    }

    /// Seals an appendable object (`SealAppendObject`): it accepts no more appends.
    /// `position` must be the object's current length, else OSS answers 409
    /// `PositionNotEqualToLength`. Sent once; sealing again at the same position succeeds and
    /// reports the original sealed time.
    pub async fn seal_append_object(
        &self,
        bucket: &str,
        key: &str,
        position: u64,
    ) -> Result<SealAppendObjectOutput> {
        validate::position_and_length(position, 0)?;
        let raw = self
            .exchange(request::seal(bucket, key, position), None)
            .await?;
        SealAppendObjectOutput::from_response(&raw)
    }

    /// `HEAD` an object: its headers (`x-oss-object-type`, `x-oss-next-append-position`,
    /// `x-oss-hash-crc64ecma`, …).
    pub async fn head_object(&self, bucket: &str, key: &str) -> Result<RawResponse> {
        self.exchange(request::read("HEAD", bucket, key, None), None)
            .await
    }

    /// `GET` an object, or the byte range `range` of it (`Some((start, end_inclusive))`). The
    /// body is held in memory: meant for checks and small objects.
    pub async fn get_object(
        &self,
        bucket: &str,
        key: &str,
        range: Option<(u64, u64)>,
    ) -> Result<RawResponse> {
        let range = range.map(|(a, b)| format!("bytes={a}-{b}"));
        self.exchange(request::read("GET", bucket, key, range), None)
            .await
    }

    /// `PUT` a whole (normal, non-appendable) object from memory.
    pub async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        data: impl Into<bytes::Bytes>,
    ) -> Result<RawResponse> {
        let body = crate::io::body::Body::from_bytes(data).open().await?;
        self.exchange(request::put(bucket, key, body.len()), Some(body))
            .await
    }

    /// One plain request (no append bookkeeping): checks bucket and key, signs, sends `body`,
    /// and turns an answer other than 2xx into the service error.
    async fn exchange(&self, op: Operation<'_>, body: Option<OpenedBody>) -> Result<RawResponse> {
        validate::bucket(op.bucket)?;
        validate::key(op.key)?;
        let signing = self.inner.credentials.get().await?;
        let spare = self
            .inner
            .credentials
            .can_refresh()
            .then(|| (op.clone(), body.clone()));
        let refused = match self.exchange_once(op, body, &signing).await {
            Err(Error::Service(refused))
                if spare.is_some() && is_credentials_rejection(&refused) =>
            {
                refused
            }
            other => return other,
        };
        let Some((op, body)) = spare else {
            return Err(Error::Service(refused));
        };
        log::info!(
            target: credentials::LOG_TARGET,
            "OSS refused the credentials ({}); refreshing them and sending the request again",
            refused.code
        );
        let signing = self.inner.credentials.rejected(signing.generation).await?;
        self.exchange_once(op, body, &signing).await
    }

    async fn exchange_once(
        &self,
        op: Operation<'_>,
        body: Option<OpenedBody>,
        signing: &Current,
    ) -> Result<RawResponse> {
        let prepared = op.sign_with(
            &signing.credentials,
            &self.inner.config,
            &self.inner.endpoint,
            unix_now(),
        );
        let raw = self
            .inner
            .transport
            .send(prepared, body.map(|b| b.into_tracked(0)), Call::default())
            .await?;
        if !(200..300).contains(&raw.status) {
            return Err(service_error(&raw, &signing.credentials));
        }
        Ok(raw)
    }
}

/// How far one append's body got.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentBody {
    /// Every byte was handed to the connection (OSS may have applied the append).
    pub whole_body_sent: bool,
    /// CRC-64 of the previous object followed by the bytes sent.
    pub crc64: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The service error of an answer, with the access key secret and the security token
/// blanked out wherever OSS echoes them: a `SignatureDoesNotMatch` carries the string it
/// signed, which holds the `x-oss-security-token` header, also as hex bytes.
fn service_error(raw: &RawResponse, credentials: &Credentials) -> Error {
    let mut e = response::service_error(raw);
    for secret in [
        Some(credentials.access_key_secret()),
        credentials.security_token(),
    ]
    .into_iter()
    .flatten()
    .filter(|s| s.len() >= 4)
    {
        let hex: Vec<String> = secret.bytes().map(|b| format!("{b:02X}")).collect();
        let forms = [secret.to_owned(), hex.join(" ")];
        let scrub = |text: &mut String| {
            for form in &forms {
                if text.contains(form.as_str()) {
                    *text = text.replace(form.as_str(), "<redacted>");
                }
            }
        };
        scrub(&mut e.message);
        scrub(&mut e.host_id);
        scrub(&mut e.recommend_doc);
        e.details.values_mut().for_each(scrub);
        e.headers.values_mut().for_each(scrub);
    }
    Error::Service(Box::new(e))
}
