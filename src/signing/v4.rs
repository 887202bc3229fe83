//! Signature V4: `OSS4-HMAC-SHA256 Credential=<ak>/<scope>[,AdditionalHeaders=<h;h>],Signature=<hex>`.

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

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/aliyun_v4_request",
            self.date, self.region, self.product
        )
    }
}

/// Lower-cases, sorts and de-duplicates `names`, keeping only headers that are present in the
/// request and not signed by default (`x-oss-*`, `content-type`, `content-md5`).
pub fn additional_headers(request: &SignableRequest<'_>, names: &[&str]) -> Vec<String> {
    let _ = (request, names);
    todo!()
}

/// The canonical request. `additional_headers` must already be normalised by
/// [`additional_headers`]. The payload hash is the request's `x-oss-content-sha256` value.
pub fn canonical_request(request: &SignableRequest<'_>, additional_headers: &[String]) -> String {
    let _ = (request, additional_headers);
    todo!()
}

/// `OSS4-HMAC-SHA256\n<datetime>\n<scope>\n<hex sha256(canonical_request)>`; `datetime` is the
/// `x-oss-date` value (`YYYYMMDDTHHMMSSZ`).
pub fn string_to_sign(datetime: &str, scope: &Scope, canonical_request: &str) -> String {
    let _ = (datetime, scope, canonical_request);
    todo!()
}

/// The derived signing key for a scope.
pub fn signing_key(access_key_secret: &str, scope: &Scope) -> [u8; 32] {
    let _ = (access_key_secret, scope);
    todo!()
}

/// hex(HMAC-SHA256(signing_key, string_to_sign)).
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    let _ = (signing_key, string_to_sign);
    todo!()
}

/// The `Authorization` header value, in the form the official SDK v2 emits (no spaces after
/// commas, `AdditionalHeaders` omitted when empty).
pub fn authorization(
    access_key_id: &str,
    scope: &Scope,
    additional_headers: &[String],
    signature: &str,
) -> String {
    let _ = (access_key_id, scope, additional_headers, signature);
    todo!()
}

/// `YYYYMMDDTHHMMSSZ` for a Unix time in seconds (UTC).
pub fn format_datetime(unix_seconds: u64) -> String {
    let _ = unix_seconds;
    todo!()
}
