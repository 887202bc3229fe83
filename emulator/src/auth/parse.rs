//! Parsing the `Authorization` header. Pure: no I/O, no clock, no configuration, so it can be
//! fuzzed on its own. Semantic checks (known access key, credential terminator, region,
//! signature) belong to the verifier in `auth::verify`; this module only splits the value.
//!
//! Accepted forms:
//! * V1: `OSS <AccessKeyId>:<Signature>`
//! * V4: `OSS4-HMAC-SHA256 Credential=<ak>/<date>/<region>/<product>/<terminator>`
//!   `[,AdditionalHeaders=<h1;h2>],Signature=<hex>`, with optional whitespace around commas
//!   and `=` (the SDKs write `,` and the docs write `, `).

/// A parsed `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authorization {
    V1(V1Authorization),
    V4(V4Authorization),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Authorization {
    pub access_key_id: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Authorization {
    /// The whole `Credential=` value, as sent.
    pub credential: String,
    /// `Credential` split on `/`, exactly five parts when it has the documented shape;
    /// `None` when it does not (the verifier reports that as an invalid credential).
    pub scope: Option<CredentialScope>,
    /// `AdditionalHeaders=` as sent (`None` when the parameter is absent). May be empty, which
    /// OSS rejects (EC 0002-00000209); the verifier decides.
    pub additional_headers: Option<String>,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key_id: String,
    pub date: String,
    pub region: String,
    pub product: String,
    /// Must be `aliyun_v4_request`.
    pub terminator: String,
}

impl V4Authorization {
    /// The access key id for error messages, even when the credential is malformed.
    pub fn access_key_id(&self) -> &str {
        match &self.scope {
            Some(s) => &s.access_key_id,
            None => self.credential.split('/').next().unwrap_or(""),
        }
    }
}

/// Why an Authorization value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Neither `OSS ` nor `OSS4-HMAC-SHA256 `.
    UnknownScheme,
    /// V1 value without `:` or with an empty access key id / signature.
    MalformedV1,
    /// A V4 parameter without `=`, an unknown or repeated parameter, or one missing.
    MalformedV4(&'static str),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::UnknownScheme => f.write_str("unknown authorization scheme"),
            ParseError::MalformedV1 => f.write_str("expected \"OSS <AccessKeyId>:<Signature>\""),
            ParseError::MalformedV4(what) => write!(f, "malformed OSS4-HMAC-SHA256 value: {what}"),
        }
    }
}

impl std::error::Error for ParseError {}

const V1_PREFIX: &str = "OSS ";
const V4_ALGORITHM: &str = "OSS4-HMAC-SHA256";

/// Parses an `Authorization` header value.
pub fn parse_authorization(value: &str) -> Result<Authorization, ParseError> {
    if let Some(rest) = value.strip_prefix(V4_ALGORITHM) {
        if rest.is_empty() {
            return Err(ParseError::MalformedV4("missing parameters"));
        }
        // The algorithm must be followed by whitespace ("OSS4-HMAC-SHA256Credential=" is not it).
        if !rest.starts_with([' ', '\t']) {
            return Err(ParseError::UnknownScheme);
        }
        return parse_v4(rest).map(Authorization::V4);
    }
    if let Some(rest) = value.strip_prefix(V1_PREFIX) {
        return parse_v1(rest).map(Authorization::V1);
    }
    Err(ParseError::UnknownScheme)
}

fn parse_v1(rest: &str) -> Result<V1Authorization, ParseError> {
    let (ak, sig) = rest.split_once(':').ok_or(ParseError::MalformedV1)?;
    // No whitespace is allowed inside: OSS compares the exact bytes.
    let valid = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if !valid(ak) || !valid(sig) || sig.contains(':') {
        return Err(ParseError::MalformedV1);
    }
    Ok(V1Authorization {
        access_key_id: ak.to_string(),
        signature: sig.to_string(),
    })
}

fn parse_v4(rest: &str) -> Result<V4Authorization, ParseError> {
    let mut credential = None;
    let mut additional = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim_matches([' ', '\t']);
        if part.is_empty() {
            return Err(ParseError::MalformedV4("empty parameter"));
        }
        let (name, val) = part
            .split_once('=')
            .ok_or(ParseError::MalformedV4("parameter without '='"))?;
        let name = name.trim_end_matches([' ', '\t']);
        let val = val.trim_start_matches([' ', '\t']).to_string();
        let slot = match name {
            "Credential" => &mut credential,
            "AdditionalHeaders" => &mut additional,
            "Signature" => &mut signature,
            _ => return Err(ParseError::MalformedV4("unknown parameter")),
        };
        if slot.replace(val).is_some() {
            return Err(ParseError::MalformedV4("repeated parameter"));
        }
    }
    let credential = credential.ok_or(ParseError::MalformedV4("missing Credential"))?;
    let signature = signature.ok_or(ParseError::MalformedV4("missing Signature"))?;
    if credential.is_empty() {
        return Err(ParseError::MalformedV4("empty Credential"));
    }
    if signature.is_empty() {
        return Err(ParseError::MalformedV4("empty Signature"));
    }
    let scope = split_credential(&credential);
    Ok(V4Authorization {
        credential,
        scope,
        additional_headers: additional,
        signature,
    })
}

fn split_credential(credential: &str) -> Option<CredentialScope> {
    let parts: Vec<&str> = credential.split('/').collect();
    if parts.len() != 5 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    Some(CredentialScope {
        access_key_id: parts[0].to_string(),
        date: parts[1].to_string(),
        region: parts[2].to_string(),
        product: parts[3].to_string(),
        terminator: parts[4].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(value: &str) -> V4Authorization {
        match parse_authorization(value) {
            Ok(Authorization::V4(a)) => a,
            other => panic!("expected V4, got {other:?}"),
        }
    }

    #[test]
    fn v1() {
        assert_eq!(
            parse_authorization("OSS ak:kSHKmLxlyEAKtZPkJhG9bZb5k7M=").unwrap(),
            Authorization::V1(V1Authorization {
                access_key_id: "ak".into(),
                signature: "kSHKmLxlyEAKtZPkJhG9bZb5k7M=".into()
            })
        );
    }

    #[test]
    fn v1_malformed() {
        for bad in [
            "OSS ak",
            "OSS :sig",
            "OSS ak:",
            "OSS  ak:sig",
            "OSS ak:si g",
            "OSS ak:a:b",
            "OSS ",
        ] {
            assert_eq!(
                parse_authorization(bad),
                Err(ParseError::MalformedV1),
                "{bad:?}"
            );
        }
        for bad in [
            "",
            "oss ak:sig",
            "OSSak:sig",
            "Bearer x",
            "OSS2 AccessKeyId:ak,Signature:x",
            "AWS ak:sig",
        ] {
            assert_eq!(
                parse_authorization(bad),
                Err(ParseError::UnknownScheme),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn v4_sdk_form() {
        let a = v4("OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,Signature=e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe");
        let s = a.scope.clone().unwrap();
        assert_eq!(s.access_key_id, "ak");
        assert_eq!(s.date, "20231216");
        assert_eq!(s.region, "cn-hangzhou");
        assert_eq!(s.product, "oss");
        assert_eq!(s.terminator, "aliyun_v4_request");
        assert_eq!(a.additional_headers, None);
        assert_eq!(
            a.signature,
            "e21d18daa82167720f9b1047ae7e7f1ce7cb77a31e8203a7d5f4624fa0284afe"
        );
    }

    #[test]
    fn v4_doc_form_with_spaces_and_additional_headers() {
        let a = v4("OSS4-HMAC-SHA256 Credential=testid/20250411/cn-hangzhou/oss/aliyun_v4_request, AdditionalHeaders=content-disposition;content-length, Signature=d3694c2d");
        assert_eq!(
            a.additional_headers.as_deref(),
            Some("content-disposition;content-length")
        );
        assert_eq!(a.signature, "d3694c2d");
        assert_eq!(a.access_key_id(), "testid");
        // Order of parameters does not matter, and tabs/multiple spaces are tolerated.
        let b = v4("OSS4-HMAC-SHA256  Signature=d3694c2d ,\tAdditionalHeaders=content-disposition;content-length,Credential=testid/20250411/cn-hangzhou/oss/aliyun_v4_request");
        assert_eq!(a, b);
    }

    #[test]
    fn v4_empty_additional_headers_is_kept_for_the_verifier() {
        let a = v4("OSS4-HMAC-SHA256 Credential=ak/20231216/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=,Signature=ab");
        assert_eq!(a.additional_headers.as_deref(), Some(""));
    }

    #[test]
    fn v4_bad_credential_shape_is_kept_for_the_verifier() {
        let a = v4("OSS4-HMAC-SHA256 Credential=ak/20221220/us-east-1/oss/abc,Signature=18");
        assert_eq!(a.scope.unwrap().terminator, "abc");
        let a = v4("OSS4-HMAC-SHA256 Credential=ak/20221220/cn-hangzhou,Signature=18");
        assert!(a.scope.is_none());
        assert_eq!(a.access_key_id(), "ak");
    }

    #[test]
    fn v4_malformed() {
        let cases = [
            "OSS4-HMAC-SHA256",
            "OSS4-HMAC-SHA256 ",
            "OSS4-HMAC-SHA256 Credential=ak/d/r/oss/aliyun_v4_request",
            "OSS4-HMAC-SHA256 Signature=abc",
            "OSS4-HMAC-SHA256 Credential=ak/d/r/oss/aliyun_v4_request,,Signature=abc",
            "OSS4-HMAC-SHA256 Credential=ak/d/r/oss/aliyun_v4_request,Signature",
            "OSS4-HMAC-SHA256 Credential=ak/d/r/oss/aliyun_v4_request,Signature=",
            "OSS4-HMAC-SHA256 Credential=,Signature=abc",
            "OSS4-HMAC-SHA256 Credential=a/d/r/oss/aliyun_v4_request,Signature=a,Signature=b",
            "OSS4-HMAC-SHA256 Credential=a/d/r/oss/aliyun_v4_request,SignedHeaders=host,Signature=a",
        ];
        for bad in cases {
            assert!(
                matches!(parse_authorization(bad), Err(ParseError::MalformedV4(_))),
                "{bad:?}"
            );
        }
        assert_eq!(
            parse_authorization("OSS4-HMAC-SHA256Credential=x,Signature=y"),
            Err(ParseError::UnknownScheme)
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        for s in [
            "OSS4-HMAC-SHA256 =",
            "OSS4-HMAC-SHA256 ,",
            "OSS :",
            "OSS ::",
            "OSS4-HMAC-SHA256 \u{0}=\u{0}",
            "OSS é:ü",
        ] {
            let _ = parse_authorization(s);
        }
    }
}
