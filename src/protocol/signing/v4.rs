//! Signature V4: `OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=<h;h>],Signature=<hex>`.

use crate::protocol::encoding::{encode_component, encode_key};
use hmac::{KeyInit, Mac};
use sha2::{Digest as _, Sha256};

use super::SignableRequest;

/// The algorithm name on the first line of the StringToSign and in `Authorization`.
pub const ALGORITHM: &str = "OSS4-HMAC-SHA256";
/// The only payload hash OSS accepts in `x-oss-content-sha256`.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The credential scope `<YYYYMMDD>/<region>/<product>/aliyun_v4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// `YYYYMMDD` (UTC).
    pub date: String,
    /// Region id without the `oss-` prefix (`cn-hangzhou`).
    pub region: String,
    /// `oss` (or `oss-cloudbox`).
    pub product: String,
}

impl Scope {
    /// The scope for a signing time (Unix seconds, UTC), e.g. `Scope::new(t, "cn-hangzhou", "oss")`.
    /// `region` is used as given (it must not carry the `oss-` prefix).
    pub fn new(unix_seconds: u64, region: &str, product: &str) -> Self {
        Self {
            date: format_date(unix_seconds),
            region: region.to_string(),
            product: product.to_string(),
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/aliyun_v4_request",
            self.date, self.region, self.product
        )
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Whether a (lower-cased) header name is signed without being listed in AdditionalHeaders.
pub fn is_default_signed_header(lower_name: &str) -> bool {
    lower_name.starts_with("x-oss-") || lower_name == "content-type" || lower_name == "content-md5"
}

/// Lower-cases, sorts and de-duplicates `names`, keeping only headers that are present in the
/// request and not signed by default (`x-oss-*`, `content-type`, `content-md5`).
pub fn additional_headers(request: &SignableRequest<'_>, names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = names
        .iter()
        .map(|name| name.trim().to_ascii_lowercase())
        .filter(|name| !name.is_empty() && !is_default_signed_header(name))
        .filter(|name| {
            // Present = sent with a non-empty value (an empty header is as good as absent).
            request
                .headers
                .iter()
                .any(|(n, v)| n.eq_ignore_ascii_case(name) && !v.trim().is_empty())
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// CanonicalURI: percent-encoded `/bucket/key` (unreserved characters and `/` kept, upper-case
/// hex); `/bucket/` without a key, `/` without a bucket (an empty name counts as absent).
pub fn canonical_uri(bucket: Option<&str>, key: Option<&str>) -> String {
    let mut raw = String::from("/");
    if let Some(bucket) = bucket.filter(|b| !b.is_empty()) {
        raw.push_str(bucket);
        raw.push('/');
        if let Some(key) = key {
            raw.push_str(key);
        }
    }
    encode_key(&raw)
}

/// CanonicalQueryString: every parameter, name and value (decoded) re-encoded with the
/// unreserved set (so `/` → `%2F`, space → `%20`), sorted by encoded name then encoded value,
/// `k=v` or bare `k` when the value is absent or empty, joined by `&`.
pub fn canonical_query(query: &[(String, Option<String>)]) -> String {
    let mut params: Vec<(String, String)> = query
        .iter()
        .map(|(name, value)| {
            (
                encode_component(name),
                encode_component(value.as_deref().unwrap_or("")),
            )
        })
        .collect();
    params.sort_unstable();
    let mut out = String::new();
    for (name, value) in &params {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// CanonicalHeaders: the default-signed headers plus those named in `additional_headers`
/// (compared case-insensitively), each `name:trimmed value\n` with the name lower-cased,
/// repeated names joined by `,`, sorted by name.
pub fn canonical_headers(headers: &[(String, String)], additional_headers: &[String]) -> String {
    super::canonical_header_block(headers, |name| {
        is_default_signed_header(name)
            || additional_headers
                .iter()
                .any(|a| a.eq_ignore_ascii_case(name))
    })
}

/// The HashedPayload line: the request's `x-oss-content-sha256` value, or `UNSIGNED-PAYLOAD`
/// when it is absent or empty (as for presigned URLs).
pub fn payload_hash<'a>(request: &SignableRequest<'a>) -> &'a str {
    request
        .header("x-oss-content-sha256")
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .unwrap_or(UNSIGNED_PAYLOAD)
}

/// The canonical request. `additional_headers` must already be normalised by
/// [`additional_headers`]. The payload hash is the request's `x-oss-content-sha256` value.
pub fn canonical_request(request: &SignableRequest<'_>, additional_headers: &[String]) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        request.method,
        canonical_uri(request.bucket, request.key),
        canonical_query(request.query),
        canonical_headers(request.headers, additional_headers),
        additional_headers.join(";"),
        payload_hash(request),
    )
}

/// `OSS4-HMAC-SHA256\n<datetime>\n<scope>\n<hex sha256(canonical_request)>`; `datetime` is the
/// `x-oss-date` value (`YYYYMMDDTHHMMSSZ`).
pub fn string_to_sign(datetime: &str, scope: &Scope, canonical_request: &str) -> String {
    let hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{datetime}\n{scope}\n{hash}")
}

/// The derived signing key for a scope.
pub fn signing_key(access_key_secret: &str, scope: &Scope) -> [u8; 32] {
    let k_date = hmac_sha256(
        format!("aliyun_v4{access_key_secret}").as_bytes(),
        scope.date.as_bytes(),
    );
    let k_region = hmac_sha256(&k_date, scope.region.as_bytes());
    let k_product = hmac_sha256(&k_region, scope.product.as_bytes());
    hmac_sha256(&k_product, b"aliyun_v4_request")
}

/// hex(HMAC-SHA256(signing_key, string_to_sign)).
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac_sha256(signing_key, string_to_sign.as_bytes()))
}

/// The `Authorization` header value, in the form the official SDK v2 emits (no spaces after
/// commas, `AdditionalHeaders` omitted when empty).
pub fn authorization(
    access_key_id: &str,
    scope: &Scope,
    additional_headers: &[String],
    signature: &str,
) -> String {
    let mut out = format!("{ALGORITHM} Credential={access_key_id}/{scope}");
    if !additional_headers.is_empty() {
        out.push_str(",AdditionalHeaders=");
        out.push_str(&additional_headers.join(";"));
    }
    out.push_str(",Signature=");
    out.push_str(signature);
    out
}

/// `YYYYMMDD` for a Unix time in seconds (UTC): the date of the credential scope.
pub fn format_date(unix_seconds: u64) -> String {
    format_datetime(unix_seconds)[..8].to_owned()
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time in seconds (UTC): RFC 3339 (humantime's, the same
/// formatter the logger uses) without its `-` and `:` separators.
pub fn format_datetime(unix_seconds: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds);
    humantime::format_rfc3339_seconds(time)
        .to_string()
        .replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned_headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn owned_query(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    /// The query of the SDK test vectors (§5.1), decoded.
    fn sdk_query() -> Vec<(String, Option<String>)> {
        owned_query(&[
            ("param1", Some("value1")),
            ("+param1", Some("value3")),
            ("|param1", Some("value4")),
            ("+param2", Some("")),
            ("|param2", Some("")),
            ("param2", Some("")),
        ])
    }

    const SDK_CANONICAL_QUERY: &str =
        "%2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2";

    /// Headers of the header-signed SDK vectors, with what the signer adds.
    fn sdk_headers(datetime: &str, token: Option<&str>) -> Vec<(String, String)> {
        let mut h = owned_headers(&[
            ("x-oss-head1", "value"),
            ("abc", "value"),
            ("ZAbc", "value"),
            ("XYZ", "value"),
            ("content-type", "text/plain"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-oss-date", datetime),
        ]);
        if let Some(token) = token {
            h.push(("x-oss-security-token".into(), token.into()));
        }
        h
    }

    struct Signed {
        canonical_request: String,
        string_to_sign: String,
        signature: String,
        authorization: String,
    }

    /// Signs a header-authenticated request end to end with the public functions.
    fn sign_header(
        ak: &str,
        sk: &str,
        request: &SignableRequest<'_>,
        unix: u64,
        region: &str,
        product: &str,
        additional: &[&str],
    ) -> Signed {
        let scope = Scope::new(unix, region, product);
        let additional = additional_headers(request, additional);
        let canonical_request = canonical_request(request, &additional);
        let string_to_sign = string_to_sign(&format_datetime(unix), &scope, &canonical_request);
        let signature = signature(&signing_key(sk, &scope), &string_to_sign);
        let authorization = authorization(ak, &scope, &additional, &signature);
        Signed {
            canonical_request,
            string_to_sign,
            signature,
            authorization,
        }
    }

    fn sdk_request<'a>(
        headers: &'a [(String, String)],
        query: &'a [(String, Option<String>)],
    ) -> SignableRequest<'a> {
        SignableRequest {
            method: "PUT",
            bucket: Some("bucket"),
            key: Some("1234+-/123/1.txt"),
            query,
            headers,
        }
    }

    #[test]
    fn vector_a_header() {
        let h = sdk_headers("20231216T162057Z", None);
        let q = sdk_query();
        let req = sdk_request(&h, &q);
        let s = sign_header("ak", "sk", &req, 1702743657, "cn-hangzhou", "oss", &[]);
        assert_eq!(
            s.canonical_request,
            "PUT\n/bucket/1234%2B-/123/1.txt\n\
             %2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n\
             content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n\
             x-oss-date:20231216T162057Z\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
        );
        assert_eq!(
            s.string_to_sign,
            "OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\n\
             f4613657f1b108998e8dbd10a1aa5da621dc2c6e02c9ddec0f163664848704c4"
        );
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,\
             Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
        );
    }

    #[test]
    fn vector_b_header_token() {
        let h = sdk_headers("20231217T034736Z", Some("token"));
        let q = sdk_query();
        let req = sdk_request(&h, &q);
        let s = sign_header("ak", "sk", &req, 1702784856, "cn-hangzhou", "oss", &[]);
        assert_eq!(
            canonical_headers(&h, &[]),
            "content-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n\
             x-oss-date:20231217T034736Z\nx-oss-head1:value\nx-oss-security-token:token\n"
        );
        assert!(s
            .string_to_sign
            .ends_with("\n69494678fb11579d4ee12996e2796d9e2ba43c34aa4c723c4aec018f3d6b86b8"));
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=ak/20231217/cn-hangzhou/oss/aliyun_v4_request,\
             Signature=b94a3f999cf85bcdc00d332fbd3734ba03e48382c36fa4d5af5df817395bd9ea"
        );
    }

    #[test]
    fn vector_c_additional_headers() {
        let h = sdk_headers("20231216T172512Z", None);
        let q = sdk_query();
        let req = sdk_request(&h, &q);
        let expected_cr = "PUT\n/bucket/1234%2B-/123/1.txt\n\
             %2Bparam1=value3&%2Bparam2&%7Cparam1=value4&%7Cparam2&param1=value1&param2\n\
             abc:value\ncontent-type:text/plain\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n\
             x-oss-date:20231216T172512Z\nx-oss-head1:value\nzabc:value\n\n\
             abc;zabc\nUNSIGNED-PAYLOAD";
        let expected_auth =
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,\
             AdditionalHeaders=abc;zabc,\
             Signature=4a4183c187c07c8947db7620deb0a6b38d9fbdd34187b6dbaccb316fa251212f";

        for names in [
            &["ZAbc", "abc"][..],
            &["x-oss-no-exist", "ZAbc", "x-oss-head1", "abc"][..],
        ] {
            assert_eq!(additional_headers(&req, names), ["abc", "zabc"]);
            let s = sign_header("ak", "sk", &req, 1702747512, "cn-hangzhou", "oss", names);
            assert_eq!(s.canonical_request, expected_cr, "{names:?}");
            assert!(s
                .string_to_sign
                .ends_with("\n16b86004ed2cc3406dd7a13081bd940ef6a5ad49e508da2d4fdf84e8a5dd2145"));
            assert_eq!(s.authorization, expected_auth, "{names:?}");
        }
    }

    #[test]
    fn vector_d_cloudbox() {
        let h = sdk_headers("20231216T162057Z", None);
        let q = sdk_query();
        let req = sdk_request(&h, &q);
        let s = sign_header("ak", "sk", &req, 1702743657, "cb-123", "oss-cloudbox", &[]);
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cb-123/oss-cloudbox/aliyun_v4_request,\
             Signature=94ce1f12c17d148ea681030275a94449d3357f5b5b21133996eec80af3e08a43"
        );
    }

    #[test]
    fn vector_j_golden() {
        let h = owned_headers(&[
            ("Content-Disposition", "attachment"),
            ("Content-Length", "3"),
            ("Content-MD5", "ICy5YqxZB1uWSwcVLSNLcA=="),
            ("Content-Type", "text/plain"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-oss-date", "20250411T064124Z"),
        ]);
        let req = SignableRequest {
            method: "PUT",
            bucket: Some("examplebucket"),
            key: Some("exampleobject"),
            query: &[],
            headers: &h,
        };
        let s = sign_header(
            "testid",
            "yourAccessKeySecret",
            &req,
            1744353684,
            "cn-hangzhou",
            "oss",
            &["content-disposition", "content-length"],
        );
        assert_eq!(
            s.canonical_request,
            "PUT\n/examplebucket/exampleobject\n\n\
             content-disposition:attachment\ncontent-length:3\n\
             content-md5:ICy5YqxZB1uWSwcVLSNLcA==\ncontent-type:text/plain\n\
             x-oss-content-sha256:UNSIGNED-PAYLOAD\nx-oss-date:20250411T064124Z\n\n\
             content-disposition;content-length\nUNSIGNED-PAYLOAD"
        );
        assert_eq!(
            s.string_to_sign,
            "OSS4-HMAC-SHA256\n20250411T064124Z\n20250411/cn-hangzhou/oss/aliyun_v4_request\n\
             c46d96390bdbc2d739ac9363293ae9d710b14e48081fcb22cd8ad54b63136eca"
        );
        assert_eq!(
            s.signature,
            "d3694c2dfc5371ee6acd35e88c4871ac95a7ba01d3a2f476768fe61218590097"
        );
        // The doc prints ", " separators; we emit the SDK v2 form.
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=testid/20250411/cn-hangzhou/oss/aliyun_v4_request,\
             AdditionalHeaders=content-disposition;content-length,\
             Signature=d3694c2dfc5371ee6acd35e88c4871ac95a7ba01d3a2f476768fe61218590097"
        );
    }

    #[test]
    fn append_object_position_0() {
        let h = owned_headers(&[
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", "5"),
            ("Date", "Sat, 16 Dec 2023 16:20:57 GMT"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-oss-date", "20231216T162057Z"),
        ]);
        let q = owned_query(&[("append", None), ("position", Some("0"))]);
        let req = SignableRequest {
            method: "POST",
            bucket: Some("examplebucket"),
            key: Some("test.log"),
            query: &q,
            headers: &h,
        };
        let s = sign_header("ak", "sk", &req, 1702743657, "cn-hangzhou", "oss", &[]);
        assert_eq!(
            s.canonical_request,
            "POST\n/examplebucket/test.log\nappend&position=0\n\
             content-type:application/octet-stream\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n\
             x-oss-date:20231216T162057Z\n\n\nUNSIGNED-PAYLOAD"
        );
        assert_eq!(
            s.string_to_sign,
            "OSS4-HMAC-SHA256\n20231216T162057Z\n20231216/cn-hangzhou/oss/aliyun_v4_request\n\
             35d28a2a518201e4afe3fd5873564d20321d10364c1a1c9d3da36703685da95a"
        );
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,\
             Signature=d1592e84c8c3f5ecb4d7542bacf77f8217c512c401202b72bdffd599e61e613f"
        );
    }

    #[test]
    fn append_object_position_5_sts() {
        let h = owned_headers(&[
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", "5"),
            ("x-oss-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-oss-date", "20231216T162057Z"),
            ("x-oss-security-token", "token"),
        ]);
        let q = owned_query(&[("position", Some("5")), ("append", Some(""))]);
        let req = SignableRequest {
            method: "POST",
            bucket: Some("examplebucket"),
            key: Some("test.log"),
            query: &q,
            headers: &h,
        };
        let s = sign_header("ak", "sk", &req, 1702743657, "cn-hangzhou", "oss", &[]);
        assert_eq!(
            s.canonical_request,
            "POST\n/examplebucket/test.log\nappend&position=5\n\
             content-type:application/octet-stream\nx-oss-content-sha256:UNSIGNED-PAYLOAD\n\
             x-oss-date:20231216T162057Z\nx-oss-security-token:token\n\n\nUNSIGNED-PAYLOAD"
        );
        assert!(s
            .string_to_sign
            .ends_with("\n0455f6beb2871fcc22912a6bf100cd3c61845103e86d710a98584b4eccd17cba"));
        assert_eq!(
            s.authorization,
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,\
             Signature=2776b83fd69a0b8d2ca8c30520958e9ff064e4d827b55f01b020e529eb46af03"
        );
    }

    /// Presigned (query-signed) V4: the signer adds its `x-oss-*` parameters to the query before
    /// canonicalising; there is no `x-oss-content-sha256` header. Returns the signature.
    #[allow(clippy::too_many_arguments)]
    fn sign_query(
        method: &str,
        ak: &str,
        sk: &str,
        token: Option<&str>,
        request_headers: &[(String, String)],
        bucket: &str,
        key: Option<&str>,
        base_query: &[(String, Option<String>)],
        sign_time: u64,
        expires: u64,
        region: &str,
        product: &str,
        additional: &[&str],
    ) -> (String, String) {
        let scope = Scope::new(sign_time, region, product);
        let datetime = format_datetime(sign_time);
        let probe = SignableRequest {
            method,
            bucket: Some(bucket),
            key,
            query: &[],
            headers: request_headers,
        };
        let additional = additional_headers(&probe, additional);
        let mut q = base_query.to_vec();
        if let Some(token) = token {
            q.push(("x-oss-security-token".into(), Some(token.into())));
        }
        q.push(("x-oss-signature-version".into(), Some(ALGORITHM.into())));
        q.push(("x-oss-date".into(), Some(datetime.clone())));
        q.push(("x-oss-expires".into(), Some(expires.to_string())));
        q.push(("x-oss-credential".into(), Some(format!("{ak}/{scope}"))));
        if !additional.is_empty() {
            q.push((
                "x-oss-additional-headers".into(),
                Some(additional.join(";")),
            ));
        }
        let req = SignableRequest { query: &q, ..probe };
        let cr = canonical_request(&req, &additional);
        let sts = string_to_sign(&datetime, &scope, &cr);
        (cr, signature(&signing_key(sk, &scope), &sts))
    }

    fn presign_headers() -> Vec<(String, String)> {
        owned_headers(&[
            ("x-oss-head1", "value"),
            ("abc", "value"),
            ("ZAbc", "value"),
            ("XYZ", "value"),
            ("content-type", "application/octet-stream"),
        ])
    }

    #[test]
    fn presign_vectors_e_to_i() {
        let h = presign_headers();
        let q = sdk_query();
        let key = Some("1234+-/123/1.txt");
        let (cr, sig) = sign_query(
            "PUT",
            "ak",
            "sk",
            None,
            &h,
            "bucket",
            key,
            &q,
            1702781677,
            599,
            "cn-hangzhou",
            "oss",
            &[],
        );
        assert_eq!(
            cr,
            format!(
                "PUT\n/bucket/1234%2B-/123/1.txt\n{SDK_CANONICAL_QUERY}\
                 &x-oss-credential=ak%2F20231217%2Fcn-hangzhou%2Foss%2Faliyun_v4_request\
                 &x-oss-date=20231217T025437Z&x-oss-expires=599\
                 &x-oss-signature-version=OSS4-HMAC-SHA256\n\
                 content-type:application/octet-stream\nx-oss-head1:value\n\n\nUNSIGNED-PAYLOAD"
            )
        );
        assert_eq!(
            sig,
            "a39966c61718be0d5b14e668088b3fa07601033f6518ac7b523100014269c0fe"
        );

        // (F) STS token in the query.
        let (_, sig) = sign_query(
            "PUT",
            "ak",
            "sk",
            Some("token"),
            &h,
            "bucket",
            key,
            &q,
            1702785388,
            1702785987 - 1702785388,
            "cn-hangzhou",
            "oss",
            &[],
        );
        assert_eq!(
            sig,
            "3817ac9d206cd6dfc90f1c09c00be45005602e55898f26f5ddb06d7892e1f8b5"
        );

        // (G) additional headers.
        let (cr, sig) = sign_query(
            "PUT",
            "ak",
            "sk",
            None,
            &h,
            "bucket",
            key,
            &q,
            1702783809,
            1702784408 - 1702783809,
            "cn-hangzhou",
            "oss",
            &["ZAbc", "abc"],
        );
        assert!(cr.contains("&x-oss-additional-headers=abc%3Bzabc&"));
        assert!(cr.ends_with("\n\nabc;zabc\nUNSIGNED-PAYLOAD"));
        assert_eq!(
            sig,
            "6bd984bfe531afb6db1f7550983a741b103a8c58e5e14f83ea474c2322dfa2b7"
        );

        // (H) CloudBox, twice.
        for (t, expiry, expected) in [
            (
                1702781677,
                1702782276,
                "07284191b9b4978ac3520cd39ee2dea2747eda454089359371ff463a6c7ba20f",
            ),
            (
                1702783809,
                1702784408,
                "16782cc8a7a554523db055eb804b508522e7e370073108ad88ee2f47496701dd",
            ),
        ] {
            let (_, sig) = sign_query(
                "PUT",
                "ak",
                "sk",
                None,
                &h,
                "bucket",
                key,
                &q,
                t,
                expiry - t,
                "cb-123",
                "oss-cloudbox",
                &["ZAbc", "abc"],
            );
            assert_eq!(sig, expected, "sign time {t}");
        }

        // (I) 5-day expiry.
        let (_, sig) = sign_query(
            "PUT",
            "ak",
            "sk",
            None,
            &h,
            "bucket",
            key,
            &q,
            1702781677,
            432000,
            "cn-hangzhou",
            "oss",
            &[],
        );
        assert_eq!(
            sig,
            "31029123dc7732d2d2cfd4006ea4fdb6cf86da6478f813e2bf8f87877c7b9fec"
        );
    }

    #[test]
    fn presign_golden_host() {
        let h = owned_headers(&[("Host", "examplebucket.oss-cn-hangzhou.aliyuncs.com")]);
        let (cr, sig) = sign_query(
            "GET",
            "testid",
            "yourAccessKeySecret",
            None,
            &h,
            "examplebucket",
            Some("exampleobject"),
            &[],
            1733196187,
            86400,
            "cn-hangzhou",
            "oss",
            &["host"],
        );
        assert_eq!(
            cr,
            "GET\n/examplebucket/exampleobject\n\
             x-oss-additional-headers=host\
             &x-oss-credential=testid%2F20241203%2Fcn-hangzhou%2Foss%2Faliyun_v4_request\
             &x-oss-date=20241203T032307Z&x-oss-expires=86400\
             &x-oss-signature-version=OSS4-HMAC-SHA256\n\
             host:examplebucket.oss-cn-hangzhou.aliyuncs.com\n\nhost\nUNSIGNED-PAYLOAD"
        );
        assert_eq!(
            sig,
            "a9ad2ce702a93c7c36ace35dd4e1b80cb76a999c890d7dfe78ff342a23dac8e0"
        );
    }

    #[test]
    fn canonical_uri_shapes() {
        assert_eq!(canonical_uri(None, None), "/");
        assert_eq!(canonical_uri(Some(""), Some("k")), "/");
        assert_eq!(canonical_uri(Some("bucket"), None), "/bucket/");
        assert_eq!(
            canonical_uri(Some("bucket"), Some("1234+-/123/1.txt")),
            "/bucket/1234%2B-/123/1.txt"
        );
        assert_eq!(
            canonical_uri(Some("b"), Some("a b/ü~_.-!*'()")),
            "/b/a%20b/%C3%BC~_.-%21%2A%27%28%29"
        );
    }

    #[test]
    fn canonical_query_encoding_and_order() {
        assert_eq!(canonical_query(&[]), "");
        assert_eq!(canonical_query(&sdk_query()), SDK_CANONICAL_QUERY);
        let q = owned_query(&[
            ("k", Some("b/c d+e")),
            ("k", Some("a")),
            ("a b", None),
            ("ü", Some("~")),
        ]);
        assert_eq!(canonical_query(&q), "%C3%BC=~&a%20b&k=a&k=b%2Fc%20d%2Be");
    }

    #[test]
    fn canonical_headers_rules() {
        let h = owned_headers(&[
            ("X-OSS-Meta-A", " 1 "),
            ("Content-MD5", "m"),
            ("Host", "h"),
            ("x-oss-meta-a", "2"),
            ("Range", "bytes=0-1"),
            ("content-length", "3"),
        ]);
        assert_eq!(
            canonical_headers(&h, &[]),
            "content-md5:m\nx-oss-meta-a:1,2\n"
        );
        assert_eq!(
            canonical_headers(&h, &["host".into(), "range".into()]),
            "content-md5:m\nhost:h\nrange:bytes=0-1\nx-oss-meta-a:1,2\n"
        );
    }

    #[test]
    fn additional_headers_normalised() {
        let h = owned_headers(&[
            ("Host", "h"),
            ("Range", "r"),
            ("Empty", " "),
            ("content-type", "t"),
        ]);
        let req = SignableRequest {
            method: "GET",
            bucket: None,
            key: None,
            query: &[],
            headers: &h,
        };
        assert_eq!(
            additional_headers(
                &req,
                &["range", "HOST", "host", "empty", "absent", "Content-Type"]
            ),
            ["host", "range"]
        );
        assert!(additional_headers(&req, &[]).is_empty());
    }

    #[test]
    fn payload_hash_default() {
        let h = owned_headers(&[("X-Oss-Content-Sha256", "abc")]);
        let mut req = SignableRequest {
            method: "GET",
            bucket: None,
            key: None,
            query: &[],
            headers: &h,
        };
        assert_eq!(payload_hash(&req), "abc");
        req.headers = &[];
        assert_eq!(payload_hash(&req), UNSIGNED_PAYLOAD);
    }

    #[test]
    fn authorization_forms() {
        let scope = Scope::new(1702743657, "cn-hangzhou", "oss");
        assert_eq!(
            scope.to_string(),
            "20231216/cn-hangzhou/oss/aliyun_v4_request"
        );
        assert_eq!(
            authorization("ak", &scope, &[], "sig"),
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=sig"
        );
        assert_eq!(
            authorization("ak", &scope, &["a".into(), "b".into()], "sig"),
            "OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,\
             AdditionalHeaders=a;b,Signature=sig"
        );
    }

    #[test]
    fn datetime_formatting() {
        for (t, expected) in [
            (0, "19700101T000000Z"),
            (1702743657, "20231216T162057Z"),
            (1744353684, "20250411T064124Z"),
            (951782400, "20000229T000000Z"),
            (951868800, "20000301T000000Z"),
            (1709164800, "20240229T000000Z"),
            (1709251199, "20240229T235959Z"),
            (1704067199, "20231231T235959Z"),
            (1704067200, "20240101T000000Z"),
            (4107456000, "21000228T000000Z"),
            (4107542400, "21000301T000000Z"),
            (253402300799, "99991231T235959Z"),
        ] {
            assert_eq!(format_datetime(t), expected, "{t}");
            assert_eq!(format_date(t), expected[..8], "{t}");
        }
    }

    #[test]
    fn datetime_matches_day_count_across_four_centuries() {
        // Walk day by day from 1970 to 2400 and check the calendar advances consistently.
        let civil = |day: u64| {
            let date = format_date(day * 86_400);
            let number = |range: std::ops::Range<usize>| date[range].parse::<u64>().unwrap();
            (number(0..4), number(4..6), number(6..8))
        };
        let mut prev = civil(0);
        assert_eq!(prev, (1970, 1, 1));
        for day in 1..(430 * 366) {
            let cur = civil(day);
            let (py, pm, pd) = prev;
            let leap = (py % 4 == 0 && py % 100 != 0) || py % 400 == 0;
            let month_len = match pm {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if pd < month_len {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!(cur, expected, "day {day}");
            prev = cur;
        }
    }
}
