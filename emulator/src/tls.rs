//! HTTPS for the emulator: throwaway test PKI and the rustls server configuration.
//!
//! [`generate`] makes a fresh certificate authority on every call and a server certificate it
//! signs for the given DNS names (wildcards such as `*.oss-cn-hangzhou.aliyuncs.com` included)
//! and IP addresses. Clients trust [`TestPki::ca_pem`]; the emulator serves
//! [`TestPki::identity`]. [`Validity::Expired`] gives a leaf whose validity ended yesterday
//! (the CA stays valid), so a verifying client has an expired certificate to refuse; another
//! call's CA gives an unknown issuer, other names a name mismatch.
//!
//! [`server_config`] turns a PEM chain and key into a rustls server configuration: ring as the
//! crypto provider, TLS 1.2 and 1.3, ALPN `http/1.1` only (OSS speaks HTTP/1.1 over TLS), no
//! client certificates. Nothing here imports from the rest of the crate.
//!
//! Private keys never appear in errors or `Debug` output.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::IpAddr;
use std::sync::Arc;

/// A server's certificate chain and private key, both PEM. `Debug` leaves the key out.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsIdentity {
    /// The server certificate first, then any intermediates (`CERTIFICATE` blocks).
    pub cert_chain_pem: String,
    /// The private key of the first certificate (`PRIVATE KEY`, `RSA PRIVATE KEY` or
    /// `EC PRIVATE KEY`).
    pub key_pem: String,
}

impl TlsIdentity {
    pub fn new(cert_chain_pem: impl Into<String>, key_pem: impl Into<String>) -> TlsIdentity {
        TlsIdentity {
            cert_chain_pem: cert_chain_pem.into(),
            key_pem: key_pem.into(),
        }
    }
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field(
                "cert_chain_pem",
                &format!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Whether the generated server certificate is valid now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// Valid from a day ago for a year.
    Current,
    /// Valid from 30 days ago until yesterday: expired. The CA is still valid.
    Expired,
}

/// A throwaway CA and a server certificate signed by it, all PEM.
#[derive(Clone, PartialEq, Eq)]
pub struct TestPki {
    /// The CA certificate: what a client must trust.
    pub ca_pem: String,
    /// The server certificate alone (the CA is the trust anchor and is not sent).
    pub cert_chain_pem: String,
    /// The server certificate's private key (PKCS#8).
    pub key_pem: String,
}

impl TestPki {
    /// What the emulator serves: [`EmulatorConfig::tls`](crate::EmulatorConfig) takes it.
    pub fn identity(&self) -> TlsIdentity {
        TlsIdentity::new(self.cert_chain_pem.clone(), self.key_pem.clone())
    }
}

impl std::fmt::Debug for TestPki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestPki")
            .field("ca_pem", &format!("{} bytes", self.ca_pem.len()))
            .field(
                "cert_chain_pem",
                &format!("{} bytes", self.cert_chain_pem.len()),
            )
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// Why test PKI could not be made or a TLS identity not be used. The message names the input
/// at fault and never contains key material.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsError(String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

fn fail(message: impl Into<String>) -> TlsError {
    TlsError(message.into())
}

/// A fresh CA and a server certificate for `names` (DNS names, `*.`-wildcards, IP addresses),
/// valid or expired as asked. Every call makes a new CA, so certificates of two calls do not
/// trust each other.
pub fn generate(names: &[&str], validity: Validity) -> Result<TestPki, TlsError> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
        KeyPair, KeyUsagePurpose,
    };
    use time::{Duration, OffsetDateTime};

    if names.is_empty() {
        return Err(fail(
            "TLS names: at least one DNS name or IP address is required",
        ));
    }
    let mut sans = Vec::with_capacity(names.len());
    for name in names {
        sans.push(subject_alt_name(name)?);
    }
    let now = OffsetDateTime::now_utc();
    let tag = hex::encode(rand::random::<[u8; 4]>());

    let ca_key = KeyPair::generate().map_err(|e| fail(format!("CA key: {e}")))?;
    let mut ca = CertificateParams::default();
    ca.distinguished_name = rcgen::DistinguishedName::new();
    ca.distinguished_name
        .push(DnType::CommonName, format!("oss-emulator test CA {tag}"));
    ca.distinguished_name.push(
        DnType::OrganizationName,
        "oss-emulator (throwaway, tests only)",
    );
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = now - Duration::days(2);
    ca.not_after = now + Duration::days(3650);
    ca.serial_number = Some(serial());
    let ca_cert = ca
        .self_signed(&ca_key)
        .map_err(|e| fail(format!("CA certificate: {e}")))?;
    let issuer = Issuer::new(ca, ca_key);

    let leaf_key = KeyPair::generate().map_err(|e| fail(format!("server key: {e}")))?;
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = rcgen::DistinguishedName::new();
    leaf.distinguished_name.push(DnType::CommonName, names[0]);
    leaf.subject_alt_names = sans;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.serial_number = Some(serial());
    (leaf.not_before, leaf.not_after) = match validity {
        Validity::Current => (now - Duration::days(1), now + Duration::days(365)),
        Validity::Expired => (now - Duration::days(30), now - Duration::days(1)),
    };
    let leaf_cert = leaf
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| fail(format!("server certificate: {e}")))?;

    Ok(TestPki {
        ca_pem: ca_cert.pem(),
        cert_chain_pem: leaf_cert.pem(),
        key_pem: leaf_key.serialize_pem(),
    })
}

/// A name as a subjectAltName: an IP address, else a DNS name (a leading `*.` allowed).
fn subject_alt_name(name: &str) -> Result<rcgen::SanType, TlsError> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Ok(rcgen::SanType::IpAddress(ip));
    }
    let host = name.strip_prefix("*.").unwrap_or(name);
    let labels_ok = !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        });
    if !labels_ok {
        return Err(fail(format!(
            "TLS names: {name:?} is neither an IP address nor a DNS name (letters, digits, '-' \
             and dots, optionally starting with \"*.\")"
        )));
    }
    let dns = rcgen::string::Ia5String::try_from(name.to_ascii_lowercase())
        .map_err(|e| fail(format!("TLS names: {name:?}: {e}")))?;
    Ok(rcgen::SanType::DnsName(dns))
}

/// A positive random 16-byte serial number.
fn serial() -> rcgen::SerialNumber {
    let mut bytes = rand::random::<[u8; 16]>();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    rcgen::SerialNumber::from_slice(&bytes)
}

/// The rustls server configuration for an identity: ring, TLS 1.2 and 1.3, ALPN `http/1.1`,
/// no client certificates. Fails when the chain or the key cannot be read or do not belong
/// together.
pub fn server_config(identity: &TlsIdentity) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = CertificateDer::pem_slice_iter(identity.cert_chain_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("TLS certificate chain: not valid PEM: {e}")))?;
    if chain.is_empty() {
        return Err(fail(
            "TLS certificate chain: no CERTIFICATE block in the PEM text",
        ));
    }
    // The PEM parser's messages may quote the text; for a key they are left out.
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).map_err(|_| {
        fail(
            "TLS private key: no readable PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block \
             in the PEM text",
        )
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
        .map_err(|e| fail(format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| {
            fail(format!(
                "TLS certificate chain and private key cannot be used together: {}",
                describe(&e)
            ))
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A rustls error in words, without anything of the key.
fn describe(e: &rustls::Error) -> String {
    match e {
        rustls::Error::InconsistentKeys(_) => {
            "the private key does not belong to the first certificate".to_string()
        }
        rustls::Error::General(_) => "the private key is not usable".to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_pki_makes_a_server_config() {
        let pki = generate(
            &[
                "*.oss-cn-hangzhou.aliyuncs.com",
                "oss-cn-hangzhou.aliyuncs.com",
                "127.0.0.1",
            ],
            Validity::Current,
        )
        .unwrap();
        assert!(pki.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki
            .cert_chain_pem
            .starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(pki.key_pem.contains("PRIVATE KEY"));
        assert_ne!(pki.ca_pem, pki.cert_chain_pem);
        let config = server_config(&pki.identity()).unwrap();
        assert_eq!(config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }

    #[test]
    fn every_call_makes_a_new_ca() {
        let a = generate(&["localhost"], Validity::Current).unwrap();
        let b = generate(&["localhost"], Validity::Current).unwrap();
        assert_ne!(a.ca_pem, b.ca_pem);
        assert_ne!(a.key_pem, b.key_pem);
    }

    #[test]
    fn bad_names_are_refused_by_name() {
        assert!(generate(&[], Validity::Current)
            .unwrap_err()
            .to_string()
            .contains("at least one"));
        for bad in [
            "",
            "a..b",
            "-x.com",
            "ex ample.com",
            "*.",
            "a*.b.com",
            "ü.com",
        ] {
            let e = generate(&[bad], Validity::Current).unwrap_err().to_string();
            assert!(
                e.contains("TLS names") && e.contains(&format!("{bad:?}")),
                "{e}"
            );
        }
    }

    #[test]
    fn unusable_identities_are_refused_without_key_material() {
        let pki = generate(&["localhost"], Validity::Current).unwrap();
        let other = generate(&["localhost"], Validity::Current).unwrap();

        let e = server_config(&TlsIdentity::new("", pki.key_pem.clone())).unwrap_err();
        assert!(e.to_string().contains("no CERTIFICATE block"), "{e}");

        let e = server_config(&TlsIdentity::new(pki.cert_chain_pem.clone(), "")).unwrap_err();
        assert!(e.to_string().contains("TLS private key"), "{e}");

        // A key block whose base64 is broken: the error must not quote it.
        let broken = "-----BEGIN PRIVATE KEY-----\nSECRETSECRET!!\n-----END PRIVATE KEY-----\n";
        let e = server_config(&TlsIdentity::new(pki.cert_chain_pem.clone(), broken)).unwrap_err();
        assert!(!e.to_string().contains("SECRET"), "{e}");

        let e = server_config(&TlsIdentity::new(
            pki.cert_chain_pem.clone(),
            other.key_pem.clone(),
        ))
        .unwrap_err();
        assert!(e.to_string().contains("does not belong"), "{e}");
    }

    #[test]
    fn debug_hides_the_key() {
        let pki = generate(&["localhost"], Validity::Current).unwrap();
        let body = pki
            .key_pem
            .lines()
            .nth(1)
            .expect("a base64 line")
            .to_string();
        assert!(!format!("{pki:?}").contains(&body));
        assert!(!format!("{:?}", pki.identity()).contains(&body));
    }
}
