//! TLS for the transport: which roots the client trusts, the rustls configuration, and what a
//! failed handshake means.
//!
//! Trusted, in this order: the Mozilla roots bundled in the library (`webpki-roots`, so checks
//! never depend on a device's store layout alone); on OpenHarmony the device's system store and,
//! unless turned off, the CA certificates the user or an MDM app installed; and the app's own
//! `caCerts`. There is no way to skip verification. The OpenHarmony locations are the ones its
//! own network stack (netstack's HTTP and WebSocket clients) reads:
//!
//! - system: every PEM file in `/etc/security/certificates`, and the bundle
//!   `/etc/ssl/certs/cacert.pem`;
//! - user-installed: `/data/certificates/user_cacerts/<user id>/` (the user id is the uid divided
//!   by 200,000, as OpenHarmony numbers app uids per user) and `/data/certificates/user_cacerts/0/`
//!   (certificates for all users).
//!
//! A location the app's sandbox cannot read is skipped (logged at debug level): the bundled
//! roots still apply.
//!
//! TLS 1.2 and 1.3 with ring's cipher suites, ALPN `http/1.1`. No 0-RTT early data: an append
//! is not idempotent, and early data can be replayed.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, RootCertStore};

use crate::protocol::config::ClientConfig;
use crate::protocol::error::{Error, Result, TlsFailure};

/// Largest PEM file read from a certificate directory.
const MAX_CA_FILE_BYTES: u64 = 256 * 1024;
/// Largest PEM bundle read.
const MAX_CA_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;
/// Most files read from one directory.
const MAX_CA_FILES_PER_DIR: usize = 2048;
/// Largest `caCerts` text accepted.
pub const MAX_CA_CERTS_BYTES: usize = 1024 * 1024;

/// A place certificates are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CaSource {
    /// Every regular file in the directory (PEM; other files are skipped).
    Directory(PathBuf),
    /// One PEM file with any number of certificates.
    Bundle(PathBuf),
}

/// The device's system store (OpenHarmony only; empty elsewhere).
fn system_sources() -> Vec<CaSource> {
    if cfg!(target_env = "ohos") {
        vec![
            CaSource::Directory("/etc/security/certificates".into()),
            CaSource::Bundle("/etc/ssl/certs/cacert.pem".into()),
        ]
    } else {
        Vec::new()
    }
}

/// The user-installed CA certificates (OpenHarmony only; empty elsewhere).
fn user_sources() -> Vec<CaSource> {
    if cfg!(target_env = "ohos") {
        // SAFETY: getuid has no preconditions and cannot fail.
        let user_id = unsafe { libc::getuid() } / 200_000;
        let base = Path::new("/data/certificates/user_cacerts");
        let mut sources = vec![CaSource::Directory(base.join(user_id.to_string()))];
        if user_id != 0 {
            sources.push(CaSource::Directory(base.join("0")));
        }
        sources
    } else {
        Vec::new()
    }
}

/// The system store's certificates, read once per process (it changes only with the OS).
fn system_certificates() -> &'static [CertificateDer<'static>] {
    static SYSTEM: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    SYSTEM.get_or_init(|| read_sources(&system_sources()))
}

/// Every certificate found in `sources`, skipping what cannot be read or parsed.
pub(crate) fn read_sources(sources: &[CaSource]) -> Vec<CertificateDer<'static>> {
    let mut found = Vec::new();
    for source in sources {
        let before = found.len();
        match source {
            CaSource::Directory(dir) => read_directory(dir, &mut found),
            CaSource::Bundle(file) => read_pem_file(file, MAX_CA_BUNDLE_BYTES, &mut found),
        }
        log::debug!(
            target: crate::io::logging::TRANSPORT_LOG_TARGET,
            "{} CA certificates from {source:?}",
            found.len() - before
        );
    }
    found
}

fn read_directory(dir: &Path, found: &mut Vec<CertificateDer<'static>>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            log::debug!(target: crate::io::logging::TRANSPORT_LOG_TARGET, "cannot list {dir:?}: {e}");
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .take(MAX_CA_FILES_PER_DIR)
        .collect();
    paths.sort();
    for path in paths {
        read_pem_file(&path, MAX_CA_FILE_BYTES, found);
    }
}

fn read_pem_file(path: &Path, limit: u64, found: &mut Vec<CertificateDer<'static>>) {
    let readable = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() <= limit);
    if !readable {
        return;
    }
    let Ok(text) = std::fs::read(path) else {
        return;
    };
    found.extend(CertificateDer::pem_slice_iter(&text).filter_map(|c| c.ok()));
}

/// The certificates of `caCerts`: PEM text with at least one `CERTIFICATE` block, each of which
/// must parse as X.509.
pub(crate) fn parse_ca_certs(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    if pem.len() > MAX_CA_CERTS_BYTES {
        return Err(Error::invalid(
            "caCerts",
            format!("is over {MAX_CA_CERTS_BYTES} bytes"),
        ));
    }
    let mut certificates = Vec::new();
    for (index, item) in CertificateDer::pem_slice_iter(pem.as_bytes()).enumerate() {
        let der = item.map_err(|e| {
            Error::invalid(
                "caCerts",
                format!("block {} is not valid PEM: {e}", index + 1),
            )
        })?;
        // Parse it now, so a damaged certificate is refused here and not silently ignored.
        RootCertStore::empty().add(der.clone()).map_err(|e| {
            Error::invalid(
                "caCerts",
                format!(
                    "certificate {} is not a valid X.509 certificate: {e}",
                    index + 1
                ),
            )
        })?;
        certificates.push(der);
    }
    if certificates.is_empty() {
        return Err(Error::invalid(
            "caCerts",
            "must be PEM text with at least one -----BEGIN CERTIFICATE----- block",
        ));
    }
    Ok(certificates)
}

/// The roots a client with `config` trusts (see the module docs for the order).
pub(crate) fn root_store(config: &ClientConfig) -> Result<RootCertStore> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let (added, ignored) = roots.add_parsable_certificates(system_certificates().iter().cloned());
    if added + ignored > 0 {
        log::debug!(
            target: crate::io::logging::TRANSPORT_LOG_TARGET,
            "system store: {added} CA certificates trusted, {ignored} unusable"
        );
    }
    if config.trust_user_ca_certs {
        roots.add_parsable_certificates(read_sources(&user_sources()));
    }
    if let Some(pem) = &config.ca_certs {
        roots.add_parsable_certificates(parse_ca_certs(pem)?);
    }
    Ok(roots)
}

/// The rustls configuration of a client: ring (it builds with clang for OpenHarmony), TLS 1.2
/// and 1.3, the roots of [`root_store`], HTTP/1.1 by ALPN, in-memory session resumption.
pub(crate) fn client_config(config: &ClientConfig) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(root_store(config)?)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    tls.enable_early_data = false;
    Ok(tls)
}

/// The TLS failure behind `error`, if a handshake failed: looks through the whole chain of
/// causes. rustls' error sits inside `io::Error`s (tokio-rustls wraps it, hyper-rustls wraps
/// that again) inside the HTTP client's errors, and an `io::Error`'s `source()` skips the error
/// it wraps, so those are opened with `get_ref()`.
pub(crate) fn failure_of(error: &(dyn std::error::Error + 'static)) -> Option<TlsFailure> {
    let mut current = Some(error);
    // Bounded: a cause chain is short, and a cycle must not hang the client.
    for _ in 0..32 {
        let e = current?;
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(classify(tls));
        }
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// What a rustls error means for the caller.
fn classify(error: &rustls::Error) -> TlsFailure {
    match error {
        rustls::Error::InvalidCertificate(certificate) => match certificate {
            CertificateError::UnknownIssuer => TlsFailure::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::NameMismatch
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsFailure::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsFailure::NotYetValid
            }
            _ => TlsFailure::BadCertificate,
        },
        _ => TlsFailure::Protocol,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A throwaway self-signed CA certificate, PEM.
    fn test_certificate_pem() -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    fn field_and_rule(r: Result<Vec<CertificateDer<'static>>>) -> (&'static str, String) {
        match r {
            Err(Error::InvalidArgument { field, rule }) => (field, rule),
            other => panic!(
                "expected a refusal, got {} certificates",
                other.map_or(0, |c| c.len())
            ),
        }
    }

    #[test]
    fn ca_certs_must_hold_well_formed_certificates() {
        let pem = test_certificate_pem();
        assert_eq!(parse_ca_certs(&pem).unwrap().len(), 1);
        assert_eq!(parse_ca_certs(&format!("{pem}\n{pem}")).unwrap().len(), 2);
        let (field, rule) = field_and_rule(parse_ca_certs("not a certificate"));
        assert_eq!(field, "caCerts");
        assert!(rule.contains("at least one"), "{rule}");
        let damaged = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let (field, rule) = field_and_rule(parse_ca_certs(damaged));
        assert_eq!(field, "caCerts");
        assert!(rule.contains("certificate 1"), "{rule}");
        let (_, rule) = field_and_rule(parse_ca_certs(&" ".repeat(MAX_CA_CERTS_BYTES + 1)));
        assert!(rule.contains("bytes"), "{rule}");
    }

    #[test]
    fn directories_and_bundles_are_read_within_bounds() {
        let pem = test_certificate_pem();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.0"), &pem).unwrap();
        std::fs::write(dir.path().join("b.pem"), format!("{pem}{pem}")).unwrap();
        std::fs::write(dir.path().join("junk.txt"), "hello").unwrap();
        std::fs::write(
            dir.path().join("huge.pem"),
            " ".repeat(MAX_CA_FILE_BYTES as usize + 1) + &pem,
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let from_dir = read_sources(&[CaSource::Directory(dir.path().to_owned())]);
        assert_eq!(
            from_dir.len(),
            3,
            "a.0 and b.pem; junk, the oversized file and a dir skipped"
        );
        let bundle = read_sources(&[CaSource::Bundle(dir.path().join("b.pem"))]);
        assert_eq!(bundle.len(), 2);
        let missing = read_sources(&[
            CaSource::Directory(dir.path().join("absent")),
            CaSource::Bundle(dir.path().join("absent.pem")),
        ]);
        assert!(missing.is_empty());
    }

    #[test]
    fn the_device_stores_are_only_read_on_openharmony() {
        if cfg!(target_env = "ohos") {
            assert!(!system_sources().is_empty());
        } else {
            assert!(system_sources().is_empty());
            assert!(user_sources().is_empty());
        }
    }

    #[test]
    fn rustls_errors_map_to_named_failures() {
        use rustls::Error as E;
        let cases = [
            (
                E::InvalidCertificate(CertificateError::UnknownIssuer),
                TlsFailure::UnknownIssuer,
            ),
            (
                E::InvalidCertificate(CertificateError::NotValidForName),
                TlsFailure::NameMismatch,
            ),
            (
                E::InvalidCertificate(CertificateError::Expired),
                TlsFailure::Expired,
            ),
            (
                E::InvalidCertificate(CertificateError::NotValidYet),
                TlsFailure::NotYetValid,
            ),
            (
                E::InvalidCertificate(CertificateError::Revoked),
                TlsFailure::BadCertificate,
            ),
            (
                E::AlertReceived(rustls::AlertDescription::HandshakeFailure),
                TlsFailure::Protocol,
            ),
            (
                E::PeerIncompatible(rustls::PeerIncompatible::Tls12NotOffered),
                TlsFailure::Protocol,
            ),
        ];
        for (error, expected) in cases {
            // As the HTTP client reports it: in an io::Error, in another, in another error.
            let io = std::io::Error::new(std::io::ErrorKind::InvalidData, error);
            let outer = Wrapped(std::io::Error::other(io));
            assert_eq!(failure_of(&outer), Some(expected));
        }
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(failure_of(&plain), None);
    }

    #[derive(Debug)]
    struct Wrapped(std::io::Error);
    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
}
