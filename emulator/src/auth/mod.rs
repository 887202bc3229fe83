//! Request authentication: V1 (`OSS ak:sig`) and V4 (`OSS4-HMAC-SHA256 …`) header signatures,
//! the request clock check, and STS security tokens.
//!
//! The server rebuilds exactly what the client signed from what it received (decoded query
//! pairs, raw headers, bucket and key from the path or Host) and recomputes the signature with
//! the same pure functions the client uses (`oss_append::protocol::signing`). Nothing the client claims is
//! trusted: a wrong secret, date, region, header or query parameter changes the signature.

pub mod parse;
pub mod sts;

use crate::clock;
use crate::config::EmulatorConfig;
use crate::errors::{self, OssError, SignatureMismatch};
use oss_append::protocol::signing::{v1, v4, SignableRequest};
use parse::{Authorization, CredentialScope, V1Authorization, V4Authorization};
use sts::{StsCredentials, StsRegistry};

/// Largest accepted difference between the request time and the server clock (15 minutes).
pub(crate) const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// Everything authentication looks at.
pub(crate) struct AuthRequest<'a> {
    pub method: &'a str,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub query: &'a [(String, Option<String>)],
    /// Headers as received, in order; names in any case.
    pub headers: &'a [(String, String)],
    /// The server clock, Unix seconds (already skewed by the configuration).
    pub now_unix: i64,
}

impl AuthRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: self.method,
            bucket: self.bucket,
            key: self.key,
            query: self.query,
            headers: self.headers,
        }
    }
}

/// Query parameters that mark a presigned URL (V1 or V4).
const PRESIGN_PARAMS: &[&str] = &[
    "OSSAccessKeyId",
    "Signature",
    "Expires",
    "x-oss-signature",
    "x-oss-credential",
    "x-oss-signature-version",
];

/// The key a request names: the configured one, or temporary credentials issued by `sts`.
enum Key<'a> {
    Configured(&'a EmulatorConfig),
    Issued(StsCredentials),
}

impl Key<'_> {
    fn secret(&self) -> &str {
        match self {
            Key::Configured(config) => &config.access_key_secret,
            Key::Issued(c) => &c.access_key_secret,
        }
    }
}

/// The key of `access_key_id`, else `InvalidAccessKeyId`.
fn key<'a>(
    config: &'a EmulatorConfig,
    sts: &StsRegistry,
    access_key_id: &str,
) -> Result<Key<'a>, OssError> {
    if access_key_id == config.access_key_id {
        return Ok(Key::Configured(config));
    }
    sts.lookup(access_key_id)
        .map(Key::Issued)
        .ok_or_else(|| errors::invalid_access_key_id(access_key_id))
}

/// Authenticates a request against the configured credentials and those `sts` issued.
pub(crate) fn authenticate(
    config: &EmulatorConfig,
    sts: &StsRegistry,
    req: &AuthRequest<'_>,
) -> Result<(), OssError> {
    let Some(value) = req.header("authorization") else {
        if req
            .query
            .iter()
            .any(|(k, _)| PRESIGN_PARAMS.contains(&k.as_str()))
        {
            return Err(errors::access_denied_presigned());
        }
        return Err(errors::access_denied_anonymous());
    };
    if req.header_count("authorization") > 1 {
        return Err(errors::invalid_authorization(
            "more than one Authorization header",
        ));
    }
    match parse::parse_authorization(value) {
        Ok(Authorization::V1(auth)) => verify_v1(config, sts, req, &auth),
        Ok(Authorization::V4(auth)) => verify_v4(config, sts, req, &auth),
        Err(e) => Err(errors::invalid_authorization(&e.to_string())),
    }
}

fn verify_v1(
    config: &EmulatorConfig,
    sts: &StsRegistry,
    req: &AuthRequest<'_>,
    auth: &V1Authorization,
) -> Result<(), OssError> {
    let key = key(config, sts, &auth.access_key_id)?;
    // The request time and the signed date line: `x-oss-date` (RFC 1123) when the request has
    // it, else `Date`. Browsers cannot set `Date`, so ali-oss sends only `x-oss-date` and signs
    // its value, and alibabacloud-oss-v2's V1 signer does the same; OSS accepts both.
    let date_value = req
        .header("x-oss-date")
        .or(req.header("date"))
        .ok_or_else(|| errors::date_missing(false))?;
    let request_time =
        clock::parse_http_date(date_value).ok_or_else(|| errors::date_malformed(false))?;
    check_skew(clock::unix_seconds(request_time), req.now_unix, date_value)?;
    check_security_token(&key, req, &auth.access_key_id)?;

    let string_to_sign = v1::string_to_sign(&req.signable(), date_value);
    let expected = v1::signature(key.secret(), &string_to_sign);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(errors::signature_does_not_match(SignatureMismatch {
            v4: false,
            access_key_id: &auth.access_key_id,
            signature_provided: &auth.signature,
            string_to_sign: &string_to_sign,
            canonical_request: None,
        }));
    }
    Ok(())
}

fn verify_v4(
    config: &EmulatorConfig,
    sts: &StsRegistry,
    req: &AuthRequest<'_>,
    auth: &V4Authorization,
) -> Result<(), OssError> {
    // The order matters: a request with several problems gets the error of the first one.
    let scope = check_v4_form(req, auth)?;
    check_v4_scope(config, auth, scope)?;
    let key = key(config, sts, &scope.access_key_id)?;
    let datetime = check_v4_time(req, auth, scope)?;
    check_security_token(&key, req, &scope.access_key_id)?;
    check_v4_signature(&key, req, auth, scope, datetime)
}

/// The form of a V4 Authorization: a complete credential scope, non-empty AdditionalHeaders,
/// and an unsigned payload.
fn check_v4_form<'a>(
    req: &AuthRequest<'_>,
    auth: &'a V4Authorization,
) -> Result<&'a CredentialScope, OssError> {
    let invalid_credential = || {
        errors::v4_invalid(
            "0002-00000213",
            "Invalid credential in Authorization header, it must be <AccessKeyId>/<SignDate>/<Region>/oss/aliyun_v4_request.",
            "Credential",
            &auth.credential,
        )
    };
    let scope = auth.scope.as_ref().ok_or_else(invalid_credential)?;
    if scope.terminator != "aliyun_v4_request" {
        return Err(invalid_credential());
    }
    if auth.additional_headers.as_deref() == Some("") {
        return Err(errors::v4_invalid(
            "0002-00000209",
            "AdditionalHeaders in Authorization header must not be empty.",
            "AdditionalHeaders",
            "",
        ));
    }
    let content_sha = req.header("x-oss-content-sha256");
    if content_sha != Some(v4::UNSIGNED_PAYLOAD) {
        return Err(errors::v4_invalid(
            "0002-00000214",
            "Invalid x-oss-content-sha256 header, it must be UNSIGNED-PAYLOAD.",
            "x-oss-content-sha256",
            content_sha.unwrap_or(""),
        ));
    }
    Ok(scope)
}

/// The credential scope against this server: its region, the product, the access key.
fn check_v4_scope(
    config: &EmulatorConfig,
    auth: &V4Authorization,
    scope: &CredentialScope,
) -> Result<(), OssError> {
    if scope.region.starts_with("oss-") {
        return Err(errors::v4_invalid(
            "0002-00000226",
            "Invalid signing region in Authorization header: use the region id without the oss- prefix.",
            "Credential",
            &auth.credential,
        ));
    }
    if scope.region != config.region {
        return Err(errors::v4_invalid(
            "0002-00000228",
            &format!(
                "Invalid signing region in Authorization header: the bucket is in {}.",
                config.region
            ),
            "Credential",
            &auth.credential,
        ));
    }
    if scope.product != "oss" {
        return Err(errors::v4_invalid(
            "0002-00000227",
            "Invalid signing product in Authorization header.",
            "Credential",
            &auth.credential,
        ));
    }
    Ok(())
}

/// The request time (`x-oss-date`): present, well-formed, on the scope's date, and close to the
/// server clock. Returns the value, which is part of what was signed.
fn check_v4_time<'a>(
    req: &'a AuthRequest<'_>,
    auth: &V4Authorization,
    scope: &CredentialScope,
) -> Result<&'a str, OssError> {
    let datetime = req
        .header("x-oss-date")
        .ok_or_else(|| errors::date_missing(true))?;
    let request_time =
        clock::parse_v4_datetime(datetime).ok_or_else(|| errors::date_malformed(true))?;
    if !datetime.starts_with(scope.date.as_str()) || scope.date.len() != 8 {
        return Err(errors::v4_invalid(
            "0002-00000212",
            "Invalid signing date in Authorization header: it must be the date of x-oss-date.",
            "Credential",
            &auth.credential,
        ));
    }
    check_skew(request_time, req.now_unix, datetime)?;
    Ok(datetime)
}

/// Recomputes the V4 signature over what was received and compares it with the one sent.
fn check_v4_signature(
    key: &Key<'_>,
    req: &AuthRequest<'_>,
    auth: &V4Authorization,
    scope: &CredentialScope,
    datetime: &str,
) -> Result<(), OssError> {
    let signable = req.signable();
    let names: Vec<&str> = auth
        .additional_headers
        .as_deref()
        .map(|h| h.split(';').collect())
        .unwrap_or_default();
    let additional = v4::additional_headers(&signable, &names);
    let canonical_request = v4::canonical_request(&signable, &additional);
    let sign_scope = v4::Scope {
        date: scope.date.clone(),
        region: scope.region.clone(),
        product: scope.product.clone(),
    };
    let string_to_sign = v4::string_to_sign(datetime, &sign_scope, &canonical_request);
    let signing_key = v4::signing_key(key.secret(), &sign_scope);
    let expected = v4::signature(&signing_key, &string_to_sign);
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(errors::signature_does_not_match(SignatureMismatch {
            v4: true,
            access_key_id: &scope.access_key_id,
            signature_provided: &auth.signature,
            string_to_sign: &string_to_sign,
            canonical_request: Some(&canonical_request),
        }));
    }
    Ok(())
}

fn check_skew(request_unix: i64, now_unix: i64, request_value: &str) -> Result<(), OssError> {
    if (request_unix - now_unix).abs() > MAX_SKEW_SECONDS {
        let server = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now_unix.max(0) as u64);
        return Err(errors::request_time_too_skewed(
            request_value,
            &clock::http_date(server),
        ));
    }
    Ok(())
}

/// STS rules. With a configured token the access key is temporary: the token must come along
/// and match. Without one, a token on the request cannot belong to the permanent key. Issued
/// credentials need their own token, until their expiration.
fn check_security_token(
    key: &Key<'_>,
    req: &AuthRequest<'_>,
    access_key_id: &str,
) -> Result<(), OssError> {
    let sent = req.header("x-oss-security-token");
    let config = match key {
        Key::Configured(config) => config,
        Key::Issued(issued) => {
            return match sent {
                None => Err(errors::security_token_missing(access_key_id)),
                Some(sent)
                    if !constant_time_eq(sent.as_bytes(), issued.security_token.as_bytes()) =>
                {
                    Err(errors::invalid_security_token())
                }
                Some(_) if std::time::SystemTime::now() >= issued.expiration => {
                    Err(errors::security_token_expired())
                }
                Some(_) => Ok(()),
            }
        }
    };
    match (sent, &config.security_token) {
        (None, Some(_)) => Err(errors::security_token_missing(access_key_id)),
        (None, None) => Ok(()),
        (Some(_), _) if config.security_token_expired => Err(errors::security_token_expired()),
        (Some(sent), Some(expected)) if constant_time_eq(sent.as_bytes(), expected.as_bytes()) => {
            Ok(())
        }
        (Some(_), _) => Err(errors::invalid_security_token()),
    }
}

/// Comparison whose time does not depend on where the inputs first differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    //! The official/derived vectors of oss-protocol.md §4.2, §5.1 (J) and §5.2, verified by the
    //! server side: what the SDKs send must be accepted, and any change must be refused.
    use super::*;

    fn config(ak: &str, sk: &str, token: Option<&str>) -> EmulatorConfig {
        let mut c = EmulatorConfig::new(ak, sk);
        c.security_token = token.map(str::to_string);
        c
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn append_query(position: &str) -> Vec<(String, Option<String>)> {
        vec![
            ("append".into(), None),
            ("position".into(), Some(position.into())),
        ]
    }

    fn check(
        config: &EmulatorConfig,
        (method, bucket, key): (&str, &str, &str),
        query: &[(String, Option<String>)],
        headers: &[(String, String)],
        now: i64,
    ) -> Result<(), OssError> {
        authenticate(
            config,
            &StsRegistry::default(),
            &AuthRequest {
                method,
                bucket: Some(bucket),
                key: Some(key),
                query,
                headers,
                now_unix: now,
            },
        )
    }

    /// Accepts the request, and refuses it once the Authorization's last signature character
    /// is changed.
    fn accepted_and_tamper_refused(
        config: &EmulatorConfig,
        target: (&str, &str, &str),
        query: &[(String, Option<String>)],
        headers: Vec<(String, String)>,
        now: i64,
        ec: &str,
    ) {
        assert_eq!(check(config, target, query, &headers, now), Ok(()));
        let mut tampered = headers;
        let auth = tampered
            .iter_mut()
            .find(|(n, _)| n == "Authorization")
            .unwrap();
        let last = auth.1.pop().unwrap();
        auth.1.push(if last == '0' { '1' } else { '0' });
        let err = check(config, target, query, &tampered, now).unwrap_err();
        assert_eq!((err.code, err.ec), ("SignatureDoesNotMatch", ec));
    }

    const DEC_28_2022: i64 = 1_672_223_261; // Wed, 28 Dec 2022 10:27:41 GMT

    #[test]
    fn v1_append_vectors() {
        let h = headers(&[
            ("Content-Type", "application/octet-stream"),
            ("Date", "Wed, 28 Dec 2022 10:27:41 GMT"),
            ("Authorization", "OSS ak:d4e7Lm6LeP+bRGQRBofzFXsW0SI="),
        ]);
        accepted_and_tamper_refused(
            &config("ak", "sk", None),
            ("POST", "examplebucket", "test.log"),
            &append_query("0"),
            h,
            DEC_28_2022,
            "0002-00000040",
        );

        let h = headers(&[
            ("Content-Type", "text/plain"),
            ("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="),
            ("x-oss-meta-author", "alice"),
            ("x-oss-security-token", "token"),
            ("Date", "Wed, 28 Dec 2022 10:27:41 GMT"),
            ("Authorization", "OSS ak:nfTxbLVCGSEkzIgDeGZ29Jddi18="),
        ]);
        accepted_and_tamper_refused(
            &config("ak", "sk", Some("token")),
            ("POST", "examplebucket", "test.log"),
            &append_query("5"),
            h,
            DEC_28_2022,
            "0002-00000040",
        );
    }

    #[test]
    fn v1_string_to_sign_is_reported() {
        let h = headers(&[
            ("Date", "Wed, 28 Dec 2022 10:27:41 GMT"),
            ("Authorization", "OSS ak:AAAA"),
        ]);
        let err = check(
            &config("ak", "sk", None),
            ("POST", "examplebucket", "test.log"),
            &append_query("0"),
            &h,
            DEC_28_2022,
        )
        .unwrap_err();
        let sts = &err
            .extra
            .iter()
            .find(|(n, _)| *n == "StringToSign")
            .unwrap()
            .1;
        assert_eq!(
            sts,
            "POST\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/test.log?append&position=0"
        );
    }

    #[test]
    fn v4_append_vectors() {
        let now = 1_702_743_657; // 20231216T162057Z
        let h = headers(&[
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", "5"),
            ("x-oss-date", "20231216T162057Z"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("Authorization", "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=d1592e84c8c3f5ecb4d7542bacf77f8217c512c401202b72bdffd599e61e613f"),
        ]);
        accepted_and_tamper_refused(
            &config("ak", "sk", None),
            ("POST", "examplebucket", "test.log"),
            &append_query("0"),
            h,
            now,
            "0002-00000201",
        );

        let h = headers(&[
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", "5"),
            ("x-oss-date", "20231216T162057Z"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-oss-security-token", "token"),
            ("Authorization", "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=2776b83fd69a0b8d2ca8c30520958e9ff064e4d827b55f01b020e529eb46af03"),
        ]);
        accepted_and_tamper_refused(
            &config("ak", "sk", Some("token")),
            ("POST", "examplebucket", "test.log"),
            &append_query("5"),
            h,
            now,
            "0002-00000201",
        );
    }

    #[test]
    fn v4_golden_vector_with_additional_headers_and_spaces() {
        let now = 1_744_353_684; // 20250411T064124Z
        let h = headers(&[
            ("Content-Disposition", "attachment"),
            ("Content-Length", "3"),
            ("Content-MD5", "ICy5YqxZB1uWSwcVLSNLcA=="),
            ("Content-Type", "text/plain"),
            ("x-oss-date", "20250411T064124Z"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("Authorization", "OSS4-HMAC-SHA256 Credential=testid/20250411/cn-hangzhou/oss/aliyun_v4_request, AdditionalHeaders=content-disposition;content-length, Signature=d3694c2dfc5371ee6acd35e88c4871ac95a7ba01d3a2f476768fe61218590097"),
        ]);
        accepted_and_tamper_refused(
            &config("testid", "yourAccessKeySecret", None),
            ("PUT", "examplebucket", "exampleobject"),
            &[],
            h,
            now,
            "0002-00000201",
        );
    }

    #[test]
    fn skew_is_checked_against_the_signed_time() {
        let h = headers(&[
            ("Date", "Wed, 28 Dec 2022 10:27:41 GMT"),
            ("Authorization", "OSS ak:d4e7Lm6LeP+bRGQRBofzFXsW0SI="),
            ("Content-Type", "application/octet-stream"),
        ]);
        let c = config("ak", "sk", None);
        assert_eq!(
            check(
                &c,
                ("POST", "examplebucket", "test.log"),
                &append_query("0"),
                &h,
                DEC_28_2022 + 900
            ),
            Ok(())
        );
        let err = check(
            &c,
            ("POST", "examplebucket", "test.log"),
            &append_query("0"),
            &h,
            DEC_28_2022 + 901,
        )
        .unwrap_err();
        assert_eq!(err.ec, "0002-00000504");
        let err = check(
            &c,
            ("POST", "examplebucket", "test.log"),
            &append_query("0"),
            &h,
            DEC_28_2022 - 901,
        )
        .unwrap_err();
        assert_eq!(err.ec, "0002-00000504");
    }
}
