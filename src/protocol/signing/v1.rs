//! Signature V1: `Authorization: OSS <AccessKeyId>:<base64(HMAC-SHA1(secret, StringToSign))>`.

use base64::Engine as _;
use hmac::{KeyInit, Mac};

use super::SignableRequest;

/// Query parameters that are signed sub-resources (Go SDK v2 `requiredSignedParametersMap`),
/// plus the per-operation extras `resourceGroup` and `seal`. Matched case-sensitively.
const SIGNED_SUBRESOURCES: &[&str] = &[
    "acl",
    "bucketInfo",
    "location",
    "stat",
    "delete",
    "append",
    "tagging",
    "objectMeta",
    "uploads",
    "uploadId",
    "partNumber",
    "security-token",
    "position",
    "response-content-type",
    "response-content-language",
    "response-expires",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "restore",
    "callback",
    "callback-var",
    "versions",
    "versioning",
    "versionId",
    "sequential",
    "continuation-token",
    "regionList",
    "cloudboxes",
    "symlink",
    "resourceGroup",
    "seal",
];

/// Whether a query parameter is a signed sub-resource in V1 (it then appears in the
/// CanonicalizedResource). Parameters starting with `x-oss-` always are.
pub fn is_signed_subresource(name: &str) -> bool {
    name.starts_with("x-oss-") || SIGNED_SUBRESOURCES.contains(&name)
}

/// CanonicalizedOSSHeaders: every `x-oss-*` header (name matched case-insensitively, written
/// lower-case), value trimmed, repeated names joined with `,`, sorted by name, each line
/// `name:value\n`. Empty when there are none.
pub fn canonicalized_oss_headers(headers: &[(String, String)]) -> String {
    super::canonical_header_block(headers, |name| name.starts_with("x-oss-"))
}

/// CanonicalizedResource: `/bucket/key` (raw key, not percent-encoded), `/bucket/` without a key,
/// `/` without a bucket (an empty name counts as absent), then `?` and the signed sub-resources
/// sorted by name (byte order), `k=v` with the decoded value or bare `k` when the value is absent
/// or empty. A repeated sub-resource appears once, with its first value (as the Go SDK v2 does).
pub fn canonical_resource(
    bucket: Option<&str>,
    key: Option<&str>,
    query: &[(String, Option<String>)],
) -> String {
    let mut out = String::from("/");
    if let Some(bucket) = bucket.filter(|b| !b.is_empty()) {
        out.push_str(bucket);
        out.push('/');
        if let Some(key) = key {
            out.push_str(key);
        }
    }

    let mut params: Vec<(&str, &str)> = Vec::new();
    for (name, value) in query {
        if is_signed_subresource(name) && !params.iter().any(|(n, _)| *n == name.as_str()) {
            params.push((name.as_str(), value.as_deref().unwrap_or("")));
        }
    }
    params.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for (i, (name, value)) in params.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        if !value.is_empty() {
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// The V1 StringToSign. `date` is the value that goes on the date line (the `Date` header of a
/// header-signed request).
pub fn string_to_sign(request: &SignableRequest<'_>, date: &str) -> String {
    let content_md5 = request.header("content-md5").map_or("", str::trim);
    let content_type = request.header("content-type").map_or("", str::trim);
    format!(
        "{}\n{}\n{}\n{}\n{}{}",
        request.method,
        content_md5,
        content_type,
        date,
        canonicalized_oss_headers(request.headers),
        canonical_resource(request.bucket, request.key, request.query),
    )
}

/// base64(HMAC-SHA1(secret, string_to_sign)).
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(access_key_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// `OSS <access_key_id>:<signature>`.
pub fn authorization(access_key_id: &str, signature: &str) -> String {
    format!("OSS {access_key_id}:{signature}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Wed, 28 Dec 2022 10:27:41 GMT";

    fn headers(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn query(list: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect()
    }

    fn sign(ak: &str, sk: &str, request: &SignableRequest<'_>, date: &str) -> (String, String) {
        let sts = string_to_sign(request, date);
        let auth = authorization(ak, &signature(sk, &sts));
        (sts, auth)
    }

    fn sdk_case_headers() -> Vec<(String, String)> {
        headers(&[
            ("Content-MD5", "eB5eJF1ptWaXm4bijSPyxw=="),
            ("Content-Type", "text/html"),
            ("x-oss-meta-author", "alice"),
            ("x-oss-meta-magic", "abracadabra"),
            ("x-oss-date", DATE),
        ])
    }

    #[test]
    fn sdk_case1_put_object() {
        let h = sdk_case_headers();
        let req = SignableRequest {
            method: "PUT",
            bucket: Some("examplebucket"),
            key: Some("nelson"),
            query: &[],
            headers: &h,
        };
        let (sts, auth) = sign("ak", "sk", &req, DATE);
        assert_eq!(
            sts,
            "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n\
             x-oss-meta-magic:abracadabra\n/examplebucket/nelson"
        );
        assert_eq!(auth, "OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=");
    }

    #[test]
    fn sdk_case2_acl() {
        let h = sdk_case_headers();
        let q = query(&[("acl", None)]);
        let req = SignableRequest {
            method: "PUT",
            bucket: Some("examplebucket"),
            key: Some("nelson"),
            query: &q,
            headers: &h,
        };
        let (sts, auth) = sign("ak", "sk", &req, DATE);
        assert_eq!(
            sts,
            "PUT\neB5eJF1ptWaXm4bijSPyxw==\ntext/html\nWed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\nx-oss-meta-author:alice\n\
             x-oss-meta-magic:abracadabra\n/examplebucket/nelson?acl"
        );
        assert_eq!(auth, "OSS ak:/afkugFbmWDQ967j1vr6zygBLQk=");

        // `?acl=` (empty value) signs the same as bare `?acl`.
        let q = query(&[("acl", Some(""))]);
        let req = SignableRequest { query: &q, ..req };
        assert_eq!(sign("ak", "sk", &req, DATE).1, auth);
    }

    #[test]
    fn sdk_case3_resource_group_excludes_unknown_params() {
        let h = headers(&[("x-oss-date", DATE)]);
        let q = query(&[("resourceGroup", None), ("non-resousce", Some("null"))]);
        let req = SignableRequest {
            method: "GET",
            bucket: Some("examplebucket"),
            key: None,
            query: &q,
            headers: &h,
        };
        let (sts, auth) = sign("ak", "sk", &req, DATE);
        assert_eq!(
            sts,
            "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?resourceGroup"
        );
        assert_eq!(auth, "OSS ak:vkQmfuUDyi1uDi3bKt67oemssIs=");
    }

    #[test]
    fn sdk_case4_subresources_sorted() {
        let h = headers(&[("x-oss-date", DATE)]);
        let q = query(&[("resourceGroup", None), ("acl", None)]);
        let req = SignableRequest {
            method: "GET",
            bucket: Some("examplebucket"),
            key: None,
            query: &q,
            headers: &h,
        };
        let (sts, auth) = sign("ak", "sk", &req, DATE);
        assert_eq!(
            sts,
            "GET\n\n\nWed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-date:Wed, 28 Dec 2022 10:27:41 GMT\n/examplebucket/?acl&resourceGroup"
        );
        assert_eq!(auth, "OSS ak:x3E5TgOvl/i7PN618s5mEvpJDYk=");
    }

    #[test]
    fn official_doc_example() {
        // Header names in mixed case, as in the doc's request: matched case-insensitively.
        let h = headers(&[
            (
                "Content-Md5",
                "ODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=",
            ),
            ("Content-Type", "text/html"),
            ("Date", "Thu, 17 Nov 2005 18:49:58 GMT"),
            ("Host", "oss-example.oss-cn-hangzhou.aliyuncs.com"),
            ("X-OSS-Meta-Author", "foo@bar.com"),
            ("X-OSS-Magic", "abracadabra"),
        ]);
        let req = SignableRequest {
            method: "PUT",
            bucket: Some("oss-example"),
            key: Some("nelson"),
            query: &[],
            headers: &h,
        };
        let (sts, auth) = sign(
            "44CF9590006BF252F707",
            "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV",
            &req,
            "Thu, 17 Nov 2005 18:49:58 GMT",
        );
        assert_eq!(
            sts,
            "PUT\nODBGOERFMDMzQTczRUY3NUE3NzA5QzdFNUYzMDQxNEM=\ntext/html\n\
             Thu, 17 Nov 2005 18:49:58 GMT\nx-oss-magic:abracadabra\n\
             x-oss-meta-author:foo@bar.com\n/oss-example/nelson"
        );
        assert_eq!(
            auth,
            "OSS 44CF9590006BF252F707:26NBxoKdsyly4EDv6inkoDft/yA="
        );

        // The MD5 the doc's request actually shows gives a different signature.
        let mut h2 = h.clone();
        h2[0].1 = "eB5eJF1ptWaXm4bijSPyxw==".to_string();
        let req = SignableRequest {
            headers: &h2,
            ..req
        };
        let (_, auth) = sign(
            "44CF9590006BF252F707",
            "OtxrzxIsfpFjA7SwPzILwy8Bw21TLhquhboDYROV",
            &req,
            "Thu, 17 Nov 2005 18:49:58 GMT",
        );
        assert_eq!(
            auth,
            "OSS 44CF9590006BF252F707:hD208RWMpg77svXkQRwWXS+V5KQ="
        );
    }

    #[test]
    fn append_object_a() {
        let h = headers(&[
            ("Content-Type", "application/octet-stream"),
            ("Content-Length", "5"),
            ("Date", DATE),
        ]);
        let q = query(&[("append", None), ("position", Some("0"))]);
        let req = SignableRequest {
            method: "POST",
            bucket: Some("examplebucket"),
            key: Some("test.log"),
            query: &q,
            headers: &h,
        };
        let (sts, auth) = sign("ak", "sk", &req, DATE);
        assert_eq!(
            sts,
            "POST\n\napplication/octet-stream\nWed, 28 Dec 2022 10:27:41 GMT\n\
             /examplebucket/test.log?append&position=0"
        );
        assert_eq!(auth, "OSS ak:d4e7Lm6LeP+bRGQRBofzFXsW0SI=");

        // Wire order of the query does not matter.
        let q = query(&[("position", Some("0")), ("append", Some(""))]);
        let req = SignableRequest { query: &q, ..req };
        assert_eq!(sign("ak", "sk", &req, DATE), (sts, auth));
    }

    #[test]
    fn append_object_b() {
        let h = headers(&[
            ("Content-Type", "text/plain"),
            ("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg=="),
            ("x-oss-security-token", "token"),
            ("X-Oss-Meta-Author", "alice"),
        ]);
        let q = query(&[("append", None), ("position", Some("5"))]);
        let req = SignableRequest {
            method: "POST",
            bucket: Some("examplebucket"),
            key: Some("test.log"),
            query: &q,
            headers: &h,
        };
        let (sts, auth) = sign("ak", "sk", &req, DATE);
        assert_eq!(
            sts,
            "POST\nXUFAKrxLKna5cZ2REBfFkg==\ntext/plain\nWed, 28 Dec 2022 10:27:41 GMT\n\
             x-oss-meta-author:alice\nx-oss-security-token:token\n\
             /examplebucket/test.log?append&position=5"
        );
        assert_eq!(auth, "OSS ak:nfTxbLVCGSEkzIgDeGZ29Jddi18=");
    }

    #[test]
    fn presign_string_to_sign() {
        // Go SDK v2 `TestV1AuthQuery`: the Expires value takes the date slot; raw key.
        let q = query(&[("versionId", Some("versionId"))]);
        let req = SignableRequest {
            method: "GET",
            bucket: Some("bucket"),
            key: Some("key"),
            query: &q,
            headers: &[],
        };
        assert_eq!(
            string_to_sign(&req, "1699807420"),
            "GET\n\n\n1699807420\n/bucket/key?versionId=versionId"
        );
        assert_eq!(
            signature("sk", &string_to_sign(&req, "1699807420")),
            "dcLTea+Yh9ApirQ8o8dOPqtvJXQ="
        );

        let q = query(&[
            ("versionId", Some("versionId")),
            ("security-token", Some("token")),
        ]);
        let req = SignableRequest {
            key: Some("key+123"),
            query: &q,
            ..req
        };
        assert_eq!(
            string_to_sign(&req, "1699808204"),
            "GET\n\n\n1699808204\n/bucket/key+123?security-token=token&versionId=versionId"
        );
        assert_eq!(
            signature("sk", &string_to_sign(&req, "1699808204")),
            "jzKYRrM5y6Br0dRFPaTGOsbrDhY="
        );
    }

    #[test]
    fn canonical_resource_shapes() {
        assert_eq!(canonical_resource(None, None, &[]), "/");
        assert_eq!(canonical_resource(Some(""), None, &[]), "/");
        assert_eq!(canonical_resource(Some("b"), None, &[]), "/b/");
        assert_eq!(
            canonical_resource(Some("b"), Some("a/ü b+c"), &[]),
            "/b/a/ü b+c"
        );
        let q = query(&[
            ("uploadId", Some("a/b c")),
            ("x-oss-process", Some("image/resize")),
            ("partNumber", Some("3")),
            ("foo", Some("bar")),
            ("seal", None),
            ("partNumber", Some("4")),
        ]);
        assert_eq!(
            canonical_resource(Some("b"), Some("k"), &q),
            "/b/k?partNumber=3&seal&uploadId=a/b c&x-oss-process=image/resize"
        );
    }

    #[test]
    fn subresource_list() {
        for name in [
            "append",
            "position",
            "acl",
            "resourceGroup",
            "seal",
            "x-oss-anything",
        ] {
            assert!(is_signed_subresource(name), "{name}");
        }
        for name in [
            "Append",
            "cors",
            "website",
            "non-resousce",
            "X-OSS-process",
            "",
        ] {
            assert!(!is_signed_subresource(name), "{name}");
        }
    }

    #[test]
    fn oss_headers_repeated_and_trimmed() {
        let h = headers(&[
            ("X-Oss-Meta-B", "  2 "),
            ("x-oss-meta-a", "1"),
            ("x-oss-meta-b", "3"),
            ("Content-Length", "9"),
        ]);
        assert_eq!(
            canonicalized_oss_headers(&h),
            "x-oss-meta-a:1\nx-oss-meta-b:2,3\n"
        );
        assert_eq!(canonicalized_oss_headers(&[]), "");
    }
}
