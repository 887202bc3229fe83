//! Request building: URL, headers and signature for each operation. Pure functions of the
//! configuration, the arguments and the clock reading, so tests can pin every byte.

use crate::protocol::config::{ClientConfig, Endpoint};
use crate::protocol::credentials::Credentials;
use crate::protocol::encoding::encode_component;
use crate::protocol::options::{AppendOptions, TEXT_OPTIONS};
use crate::protocol::signing::{self, SignableRequest, SigningParams};

/// A request ready for the transport: everything but the body. `Debug` leaves out the values
/// of `Authorization` and `x-oss-security-token`.
#[derive(Clone, PartialEq, Eq)]
pub struct PreparedRequest {
    /// The OSS operation (`AppendObject`, `HeadObject`, …), for logs.
    pub operation: &'static str,
    /// Bucket name, for logs.
    pub bucket: String,
    /// Object key, for logs.
    pub key: String,
    /// HTTP method.
    pub method: &'static str,
    /// Full URL with query.
    pub url: String,
    /// Headers in the order they are sent, `Authorization` included.
    pub headers: Vec<(String, String)>,
}

impl std::fmt::Debug for PreparedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = name.eq_ignore_ascii_case("authorization")
                    || name.eq_ignore_ascii_case("x-oss-security-token");
                (
                    name.as_str(),
                    if secret { "<redacted>" } else { value.as_str() },
                )
            })
            .collect();
        f.debug_struct("PreparedRequest")
            .field("operation", &self.operation)
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .finish()
    }
}

/// Where an operation is aimed and what it carries, before signing.
#[derive(Clone)]
pub(crate) struct Operation<'a> {
    pub method: &'static str,
    pub bucket: &'a str,
    pub key: &'a str,
    pub query: Vec<(String, Option<String>)>,
    pub headers: Vec<(String, String)>,
}

impl Operation<'_> {
    /// Adds the date, token and signature headers and builds the URL. `unix_now` is the signing
    /// time in seconds.
    #[cfg(test)]
    pub(crate) fn sign(
        self,
        config: &ClientConfig,
        endpoint: &Endpoint,
        unix_now: u64,
    ) -> PreparedRequest {
        self.sign_with(&config.credentials, config, endpoint, unix_now)
    }

    /// [`Operation::sign`] with `credentials` instead of the configuration's (credentials
    /// that change while the client lives).
    pub(crate) fn sign_with(
        mut self,
        credentials: &Credentials,
        config: &ClientConfig,
        endpoint: &Endpoint,
        unix_now: u64,
    ) -> PreparedRequest {
        let params = SigningParams {
            credentials,
            version: config.signature_version,
            region: &config.region,
            unix_time: unix_now,
        };
        let signed = signing::sign(&self.signable(), &params);
        self.headers.extend(signed.headers);
        self.headers
            .push(("Authorization".into(), signed.authorization.into_inner()));
        let mut url = endpoint.object_url(self.bucket, self.key);
        for (i, (name, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode_component(name));
            if let Some(v) = value {
                url.push('=');
                url.push_str(&encode_component(v));
            }
        }
        PreparedRequest {
            operation: operation_name(self.method, &self.query),
            bucket: self.bucket.to_owned(),
            key: self.key.to_owned(),
            method: self.method,
            url,
            headers: self.headers,
        }
    }

    fn signable(&self) -> SignableRequest<'_> {
        SignableRequest {
            method: self.method,
            bucket: Some(self.bucket),
            key: Some(self.key),
            query: &self.query,
            headers: &self.headers,
        }
    }
}

/// The OSS operation a request performs, from its method and first query parameter.
fn operation_name(method: &str, query: &[(String, Option<String>)]) -> &'static str {
    let first = query.first().map(|(name, _)| name.as_str());
    match (method, first) {
        ("POST", Some("append")) => "AppendObject",
        ("POST", Some("seal")) => "SealAppendObject",
        ("PUT", _) => "PutObject",
        ("HEAD", _) => "HeadObject",
        ("GET", _) => "GetObject",
        ("DELETE", _) => "DeleteObject",
        _ => "Request",
    }
}

/// `POST /<key>?append&position=N` with the append's headers. `content_md5` is the body's
/// base64 MD5 when it is to be sent.
pub(crate) fn append<'a>(
    bucket: &'a str,
    key: &'a str,
    position: u64,
    options: &AppendOptions,
    content_length: u64,
    content_md5: Option<String>,
) -> Operation<'a> {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut add = |name: &str, value: String| headers.push((name.to_owned(), value));
    add("Content-Length", content_length.to_string());
    // The table starts with Content-Type, which has a default and is followed by Content-MD5.
    let [content_type, other_texts @ ..] = &TEXT_OPTIONS;
    let content_type_value = (content_type.value)(options).map_or_else(
        || {
            // As the official SDKs do: the key's extension decides, else a neutral type.
            mime_guess::from_path(key)
                .first_raw()
                .unwrap_or("application/octet-stream")
                .to_owned()
        },
        str::to_owned,
    );
    add(content_type.header, content_type_value);
    if let Some(md5) = content_md5 {
        add("Content-MD5", md5);
    }
    for option in other_texts {
        if let Some(value) = (option.value)(options) {
            add(option.header, value.to_owned());
        }
    }
    if let Some(acl) = options.object_acl {
        add("x-oss-object-acl", acl.as_str().into());
    }
    if let Some(class) = options.storage_class {
        add("x-oss-storage-class", class.as_str().into());
    }
    if let Some(sse) = options.server_side_encryption {
        add("x-oss-server-side-encryption", sse.as_str().into());
    }
    if let Some(data) = options.server_side_data_encryption {
        add("x-oss-server-side-data-encryption", data.as_str().into());
    }
    if let Some(limit) = options.traffic_limit {
        add("x-oss-traffic-limit", limit.to_string());
    }
    if options.request_payer_is_requester {
        add("x-oss-request-payer", "requester".into());
    }
    if let Some(forbid) = options.forbid_overwrite {
        add("x-oss-forbid-overwrite", forbid.to_string());
    }
    for (name, value) in &options.metadata {
        add(
            &format!("x-oss-meta-{}", name.to_ascii_lowercase()),
            value.clone(),
        );
    }
    for (name, value) in &options.extra_headers {
        add(name, value.clone());
    }
    Operation {
        method: "POST",
        bucket,
        key,
        query: vec![
            ("append".into(), None),
            ("position".into(), Some(position.to_string())),
        ],
        headers,
    }
}

/// `POST /<key>?seal&position=N` (SealAppendObject): no body, common headers only.
pub(crate) fn seal<'a>(bucket: &'a str, key: &'a str, position: u64) -> Operation<'a> {
    Operation {
        method: "POST",
        bucket,
        key,
        query: vec![
            ("seal".into(), None),
            ("position".into(), Some(position.to_string())),
        ],
        headers: vec![("Content-Length".to_owned(), "0".to_owned())],
    }
}

/// `PUT /<key>`: a whole object, typed from its key.
pub(crate) fn put<'a>(bucket: &'a str, key: &'a str, content_length: u64) -> Operation<'a> {
    let content_type = mime_guess::from_path(key)
        .first_raw()
        .unwrap_or("application/octet-stream");
    Operation {
        method: "PUT",
        bucket,
        key,
        query: Vec::new(),
        headers: vec![
            ("Content-Length".to_owned(), content_length.to_string()),
            ("Content-Type".to_owned(), content_type.to_owned()),
        ],
    }
}

/// `HEAD /<key>` or `GET /<key>` (with an optional `Range`).
pub(crate) fn read<'a>(
    method: &'static str,
    bucket: &'a str,
    key: &'a str,
    range: Option<String>,
) -> Operation<'a> {
    let mut headers = Vec::new();
    if let Some(r) = range {
        headers.push(("Range".to_owned(), r));
    }
    Operation {
        method,
        bucket,
        key,
        query: Vec::new(),
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::config::SignatureVersion;
    use crate::protocol::credentials::Credentials;
    use crate::protocol::options::{ObjectAcl, StorageClass};

    fn header<'a>(p: &'a PreparedRequest, name: &str) -> Option<&'a str> {
        p.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn config(version: SignatureVersion, token: Option<&str>) -> ClientConfig {
        ClientConfig::new(
            Credentials::new("ak", "sk", token.map(str::to_owned)).unwrap(),
            "cn-hangzhou",
        )
        .unwrap()
        .with_endpoint("http://examplebucket.oss-cn-hangzhou.aliyuncs.com")
        // The reference vectors are plain HTTP requests to a public host.
        .with_secure(false)
        .with_cname(true)
        .with_signature_version(version)
    }

    /// §4.2 a): the V1 AppendObject vector, built by our request code end to end.
    #[test]
    fn v1_append_matches_reference_vector() {
        let cfg = config(SignatureVersion::V1, None);
        let endpoint = cfg.resolve().unwrap();
        let options = AppendOptions {
            content_type: Some("application/octet-stream".into()),
            ..Default::default()
        };
        // Wed, 28 Dec 2022 10:27:41 GMT
        let p = append("examplebucket", "test.log", 0, &options, 5, None)
            .sign(&cfg, &endpoint, 1672223261);
        assert_eq!(header(&p, "Date"), Some("Wed, 28 Dec 2022 10:27:41 GMT"));
        assert_eq!(
            header(&p, "Authorization"),
            Some("OSS ak:d4e7Lm6LeP+bRGQRBofzFXsW0SI=")
        );
        assert_eq!(
            p.url,
            "http://examplebucket.oss-cn-hangzhou.aliyuncs.com/test.log?append&position=0"
        );
        assert_eq!(p.method, "POST");
    }

    /// §4.2 b): with Content-MD5, metadata and an STS token.
    #[test]
    fn v1_append_with_md5_meta_and_token_matches_reference_vector() {
        let cfg = config(SignatureVersion::V1, Some("token"));
        let endpoint = cfg.resolve().unwrap();
        let mut options = AppendOptions {
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        options.metadata.insert("author".into(), "alice".into());
        let p = append(
            "examplebucket",
            "test.log",
            5,
            &options,
            5,
            Some("XUFAKrxLKna5cZ2REBfFkg==".into()),
        )
        .sign(&cfg, &endpoint, 1672223261);
        assert_eq!(
            header(&p, "Authorization"),
            Some("OSS ak:nfTxbLVCGSEkzIgDeGZ29Jddi18=")
        );
        assert_eq!(header(&p, "x-oss-security-token"), Some("token"));
    }

    /// §5.2: the V4 AppendObject vectors (without and with STS token).
    #[test]
    fn v4_append_matches_reference_vectors() {
        let options = AppendOptions {
            content_type: Some("application/octet-stream".into()),
            ..Default::default()
        };
        let cfg = config(SignatureVersion::V4, None);
        let endpoint = cfg.resolve().unwrap();
        let p = append("examplebucket", "test.log", 0, &options, 5, None)
            .sign(&cfg, &endpoint, 1702743657);
        assert_eq!(header(&p, "x-oss-date"), Some("20231216T162057Z"));
        assert_eq!(header(&p, "x-oss-content-sha256"), Some("UNSIGNED-PAYLOAD"));
        assert_eq!(
            header(&p, "Authorization"),
            Some("OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=d1592e84c8c3f5ecb4d7542bacf77f8217c512c401202b72bdffd599e61e613f")
        );
        let cfg = config(SignatureVersion::V4, Some("token"));
        let p = append("examplebucket", "test.log", 5, &options, 5, None)
            .sign(&cfg, &endpoint, 1702743657);
        assert!(header(&p, "Authorization").unwrap().ends_with(
            "Signature=2776b83fd69a0b8d2ca8c30520958e9ff064e4d827b55f01b020e529eb46af03"
        ));
    }

    #[test]
    fn content_type_is_guessed_from_the_key() {
        let o = AppendOptions::default();
        let p = append("b", "logs/app.txt", 0, &o, 0, None);
        assert_eq!(
            p.headers
                .iter()
                .find(|(n, _)| n == "Content-Type")
                .unwrap()
                .1,
            "text/plain"
        );
        let p = append("b", "logs/app.unknownext", 0, &o, 0, None);
        assert_eq!(
            p.headers
                .iter()
                .find(|(n, _)| n == "Content-Type")
                .unwrap()
                .1,
            "application/octet-stream"
        );
    }

    #[test]
    fn creation_headers_are_sent() {
        let mut o = AppendOptions {
            object_acl: Some(ObjectAcl::Private),
            storage_class: Some(StorageClass::Ia),
            cache_control: Some("no-cache".into()),
            traffic_limit: Some(819200),
            forbid_overwrite: Some(true),
            request_payer_is_requester: true,
            ..Default::default()
        };
        o.metadata.insert("Author".into(), "alice".into());
        let op = append("b", "k", 0, &o, 3, None);
        let h: std::collections::BTreeMap<_, _> = op.headers.iter().cloned().collect();
        assert_eq!(h["x-oss-object-acl"], "private");
        assert_eq!(h["x-oss-storage-class"], "IA");
        assert_eq!(h["Cache-Control"], "no-cache");
        assert_eq!(h["x-oss-traffic-limit"], "819200");
        assert_eq!(h["x-oss-forbid-overwrite"], "true");
        assert_eq!(h["x-oss-request-payer"], "requester");
        assert_eq!(h["x-oss-meta-author"], "alice");
        assert_eq!(h["Content-Length"], "3");
    }

    #[test]
    fn prepared_requests_name_their_operation_bucket_and_key() {
        let cfg = config(SignatureVersion::V4, None);
        let endpoint = cfg.resolve().unwrap();
        let options = AppendOptions::default();
        let names: Vec<(&str, String, String)> = [
            append("b1", "k/1", 0, &options, 1, None),
            seal("b1", "k/1", 1),
            put("b1", "k/1", 1),
            read("HEAD", "b1", "k/1", None),
            read("GET", "b1", "k/1", None),
        ]
        .into_iter()
        .map(|op| op.sign(&cfg, &endpoint, 1_700_000_000))
        .map(|p| (p.operation, p.bucket, p.key))
        .collect();
        let expected = [
            "AppendObject",
            "SealAppendObject",
            "PutObject",
            "HeadObject",
            "GetObject",
        ];
        for ((op, bucket, key), want) in names.iter().zip(expected) {
            assert_eq!((*op, bucket.as_str(), key.as_str()), (want, "b1", "k/1"));
        }
    }

    #[test]
    fn seal_is_a_signed_post_with_position() {
        let cfg = config(SignatureVersion::V1, None);
        let endpoint = cfg.resolve().unwrap();
        let p = seal("examplebucket", "test.jpg", 344606).sign(&cfg, &endpoint, 1672223261);
        assert_eq!(p.method, "POST");
        assert_eq!(
            p.url,
            "http://examplebucket.oss-cn-hangzhou.aliyuncs.com/test.jpg?seal&position=344606"
        );
        assert_eq!(header(&p, "Content-Length"), Some("0"));
        // `seal` is a V1 sub-resource: the signature covers it and the position.
        let sts = crate::protocol::signing::v1::string_to_sign(
            &SignableRequest {
                method: "POST",
                bucket: Some("examplebucket"),
                key: Some("test.jpg"),
                query: &[
                    ("seal".into(), None),
                    ("position".into(), Some("344606".into())),
                ],
                headers: &[("Date".into(), "Wed, 28 Dec 2022 10:27:41 GMT".into())],
            },
            "Wed, 28 Dec 2022 10:27:41 GMT",
        );
        assert!(
            sts.ends_with("/examplebucket/test.jpg?position=344606&seal"),
            "{sts}"
        );
    }

    #[test]
    fn keys_are_percent_encoded_keeping_slashes() {
        assert_eq!(
            crate::protocol::encoding::encode_key("a b/c+d/日.txt"),
            "a%20b/c%2Bd/%E6%97%A5.txt"
        );
        assert_eq!(
            crate::protocol::encoding::encode_key("x?y#z%"),
            "x%3Fy%23z%25"
        );
    }
}

#[cfg(test)]
mod debug_tests {
    use super::*;
    use crate::protocol::credentials::Credentials;

    #[test]
    fn debug_hides_the_authorization_and_the_token() {
        let creds = Credentials::new("ak", "sk", Some("the-sts-token".into())).unwrap();
        let config = ClientConfig::new(creds, "cn-hangzhou").unwrap();
        let endpoint = config.resolve().unwrap();
        let prepared = read("HEAD", "b", "k", None).sign(&config, &endpoint, 1_702_743_657);
        let shown = format!("{prepared:?}");
        assert!(!shown.contains("the-sts-token"), "{shown}");
        assert!(!shown.contains("Signature="), "{shown}");
        assert!(shown.contains("x-oss-date"), "{shown}");
    }
}
