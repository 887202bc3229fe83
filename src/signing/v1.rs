//! Signature V1: `Authorization: OSS <AccessKeyId>:<base64(HMAC-SHA1(secret, StringToSign))>`.

use super::SignableRequest;

/// Whether a query parameter is a signed sub-resource in V1 (it then appears in the
/// CanonicalizedResource). Parameters starting with `x-oss-` always are.
pub fn is_signed_subresource(name: &str) -> bool {
    let _ = name;
    todo!()
}

/// The V1 StringToSign. `date` is the value that goes on the date line (the `Date` header of a
/// header-signed request).
pub fn string_to_sign(request: &SignableRequest<'_>, date: &str) -> String {
    let _ = (request, date);
    todo!()
}

/// base64(HMAC-SHA1(secret, string_to_sign)).
pub fn signature(access_key_secret: &str, string_to_sign: &str) -> String {
    let _ = (access_key_secret, string_to_sign);
    todo!()
}

/// `OSS <access_key_id>:<signature>`.
pub fn authorization(access_key_id: &str, signature: &str) -> String {
    format!("OSS {access_key_id}:{signature}")
}
