//! Typed values for the OSS headers an append can carry. Each parses from the exact string OSS
//! uses, so the JS binding and Rust callers share one set of rules.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::protocol::error::Error;

macro_rules! string_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            /// Every value, in the order OSS documents them.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The header value OSS expects.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let allowed: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    Error::invalid($field, format!("must be one of {}", allowed.join(", ")))
                })
            }
        }
    };
}

string_enum!(
    /// `x-oss-object-acl`.
    ObjectAcl, "objectAcl", {
        /// Inherit the bucket's ACL.
        Default = "default",
        /// Owner only.
        Private = "private",
        /// Anyone may read.
        PublicRead = "public-read",
        /// Anyone may read and write.
        PublicReadWrite = "public-read-write",
    }
);

string_enum!(
    /// `x-oss-storage-class`.
    StorageClass, "storageClass", {
        /// Standard.
        Standard = "Standard",
        /// Infrequent Access.
        Ia = "IA",
        /// Archive.
        Archive = "Archive",
        /// Cold Archive.
        ColdArchive = "ColdArchive",
        /// Deep Cold Archive.
        DeepColdArchive = "DeepColdArchive",
    }
);

string_enum!(
    /// `x-oss-server-side-encryption`.
    ServerSideEncryption, "serverSideEncryption", {
        /// OSS-managed AES-256.
        Aes256 = "AES256",
        /// KMS-managed keys.
        Kms = "KMS",
        /// SM4.
        Sm4 = "SM4",
    }
);

string_enum!(
    /// `x-oss-server-side-data-encryption` (with KMS).
    DataEncryption, "serverSideDataEncryption", {
        /// SM4 data encryption.
        Sm4 = "SM4",
    }
);

/// `Content-MD5` of this request's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContentMd5 {
    /// The base64 MD5 the caller computed.
    Given(String),
    /// Compute it from the body before sending (reads a file body one extra time).
    Compute,
}

/// The headers of an append. Only the first append (which creates the object) applies the
/// object's metadata, ACL, storage class, encryption and tags; OSS ignores them later.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendOptions {
    /// `Content-Type`; guessed from the key's extension when absent.
    pub content_type: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Expires`.
    pub expires: Option<String>,
    /// `Content-MD5` of this request's body.
    pub content_md5: Option<ContentMd5>,
    /// `x-oss-object-acl`.
    pub object_acl: Option<ObjectAcl>,
    /// `x-oss-storage-class`.
    pub storage_class: Option<StorageClass>,
    /// `x-oss-server-side-encryption`.
    pub server_side_encryption: Option<ServerSideEncryption>,
    /// `x-oss-server-side-data-encryption`.
    pub server_side_data_encryption: Option<DataEncryption>,
    /// `x-oss-server-side-encryption-key-id`.
    pub server_side_encryption_key_id: Option<String>,
    /// `x-oss-tagging`: `k1=v1&k2=v2`, URL-encoded.
    pub tagging: Option<String>,
    /// User metadata, sent as `x-oss-meta-<name>`.
    pub metadata: BTreeMap<String, String>,
    /// `x-oss-traffic-limit` in bit/s (245760 ..= 838860800).
    pub traffic_limit: Option<u64>,
    /// `x-oss-request-payer: requester` for requester-pays buckets.
    pub request_payer_is_requester: bool,
    /// `x-oss-forbid-overwrite`.
    pub forbid_overwrite: Option<bool>,
    /// Further `x-oss-*` headers no option covers, sent (and signed, by V1 and V4 alike) as
    /// given, after the options' own.
    pub extra_headers: Vec<(String, String)>,
}

/// The headers the options above send, lower case, with the option that sets each: an extra
/// header may not stand in for one of them (`x-oss-meta-*` is `meta`; the text options are in
/// [`TEXT_OPTIONS`]).
pub const OPTION_HEADERS: [(&str, &str); 8] = [
    ("content-md5", "contentMd5"),
    ("x-oss-object-acl", "objectAcl"),
    ("x-oss-storage-class", "storageClass"),
    ("x-oss-server-side-encryption", "serverSideEncryption"),
    (
        "x-oss-server-side-data-encryption",
        "serverSideDataEncryption",
    ),
    ("x-oss-traffic-limit", "trafficLimit"),
    ("x-oss-request-payer", "requestPayer"),
    ("x-oss-forbid-overwrite", "forbidOverwrite"),
];

/// The option that sends header `name` (any case), if one does.
pub fn option_for_header(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("x-oss-meta-") {
        return Some("meta");
    }
    TEXT_OPTIONS
        .iter()
        .find(|o| o.header.eq_ignore_ascii_case(&lower))
        .map(|o| o.name)
        .or_else(|| {
            OPTION_HEADERS
                .iter()
                .find(|(header, _)| *header == lower)
                .map(|(_, option)| *option)
        })
}

/// An option whose value is the caller's text, sent as its header unchanged.
#[derive(Debug)]
pub struct TextOption {
    /// The option's name in JS (the facade's request field) and in error messages.
    pub name: &'static str,
    /// The header it is sent as.
    pub header: &'static str,
    /// The option's value in [`AppendOptions`].
    pub value: fn(&AppendOptions) -> Option<&str>,
    /// Where the option is kept in [`AppendOptions`].
    pub slot: fn(&mut AppendOptions) -> &mut Option<String>,
}

macro_rules! text_options {
    ($($field:ident: $name:literal => $header:literal),+ $(,)?) => {
        [$(TextOption {
            name: $name,
            header: $header,
            value: |options| options.$field.as_deref(),
            slot: |options| &mut options.$field,
        }),+]
    };
}

/// Every text option, in the order their headers go on the wire (after `Content-Length`;
/// `Content-Type` is followed by `Content-MD5`, as `src/protocol/request.rs` writes them).
/// Request building, validation and the JS mapping all read this one table.
pub const TEXT_OPTIONS: [TextOption; 7] = text_options![
    content_type: "contentType" => "Content-Type",
    cache_control: "cacheControl" => "Cache-Control",
    content_disposition: "contentDisposition" => "Content-Disposition",
    content_encoding: "contentEncoding" => "Content-Encoding",
    expires: "expires" => "Expires",
    server_side_encryption_key_id: "serverSideEncryptionKeyId" => "x-oss-server-side-encryption-key-id",
    tagging: "tagging" => "x-oss-tagging",
];

/// `x-oss-request-payer`: the only value OSS defines is `requester` (any case), meaning the
/// requester pays for a requester-pays bucket. Returns whether to send the header.
pub fn request_payer(value: &str) -> Result<bool, Error> {
    if value.eq_ignore_ascii_case("requester") {
        Ok(true)
    } else {
        Err(Error::invalid(
            "requestPayer",
            format!("must be 'requester', got {value:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_their_oss_strings() {
        for acl in ObjectAcl::ALL {
            assert_eq!(acl.as_str().parse::<ObjectAcl>().unwrap(), *acl);
        }
        assert_eq!("IA".parse::<StorageClass>().unwrap(), StorageClass::Ia);
        assert_eq!(
            "AES256".parse::<ServerSideEncryption>().unwrap().as_str(),
            "AES256"
        );
    }

    #[test]
    fn unknown_enum_value_names_field_and_choices() {
        let err = "public".parse::<ObjectAcl>().unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("objectAcl") && text.contains("public-read-write"),
            "{text}"
        );
        let err = "standard".parse::<StorageClass>().unwrap_err();
        assert!(err.to_string().contains("storageClass"));
    }

    #[test]
    fn each_text_option_reads_and_writes_its_own_field() {
        for option in &TEXT_OPTIONS {
            let mut options = AppendOptions::default();
            *(option.slot)(&mut options) = Some(option.header.to_owned());
            assert_eq!((option.value)(&options), Some(option.header));
            let set: Vec<&str> = TEXT_OPTIONS
                .iter()
                .filter_map(|o| (o.value)(&options))
                .collect();
            assert_eq!(set, [option.header], "{} touches one field", option.name);
        }
        assert_eq!(TEXT_OPTIONS[0].header, "Content-Type");
    }

    #[test]
    fn request_payer_accepts_only_requester() {
        assert!(request_payer("requester").unwrap());
        assert!(request_payer("Requester").unwrap());
        let err = request_payer("bucketowner").unwrap_err();
        assert!(err.to_string().contains("requestPayer"), "{err}");
    }
}
