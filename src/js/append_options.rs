//! The options of an append as a JS caller passes them (the facade's `appendObject` request and
//! `openAppender`), as plain Rust: [`JsAppendOptions`] holds the fields as JS gave them, and
//! [`JsAppendOptions::into_options`] turns them into [`AppendOptions`]. The text options come
//! from [`TEXT_OPTIONS`], the one table request building and validation use too.

use std::collections::BTreeMap;

use crate::js::numbers;
use crate::protocol::error::{Error, Result};
use crate::protocol::options::{self, AppendOptions, ContentMd5, TEXT_OPTIONS};

/// The facade's append options, field by field; `None` is an absent (or `undefined`/`null`)
/// property.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JsAppendOptions {
    /// The text options by their JS name (see [`TEXT_OPTIONS`]); they are sent as given.
    pub texts: BTreeMap<&'static str, String>,
    /// `contentMd5`: the base64 MD5 of the body.
    pub content_md5: Option<String>,
    /// `contentMD5`: the same, as the `@aliyun/oss` SDK spells it.
    pub content_md5_sdk: Option<String>,
    pub forbid_overwrite: Option<bool>,
    pub object_acl: Option<String>,
    pub storage_class: Option<String>,
    pub server_side_encryption: Option<String>,
    pub server_side_data_encryption: Option<String>,
    /// `trafficLimit` in bit/s.
    pub traffic_limit: Option<f64>,
    pub request_payer: Option<String>,
    /// `meta`: user metadata, `Record<string, string>`.
    pub meta: Option<BTreeMap<String, String>>,
    /// `headers`: extra request headers, `Record<string, string>` (the `@aliyun/oss` SDK's).
    pub headers: Option<BTreeMap<String, String>>,
}

/// One entry of `headers`, the way `@aliyun/oss` apps pass headers that have options here:
/// `Cache-Control` and the other text options, `Content-MD5` and `x-oss-meta-*` become those
/// options (unless the option is given too: then it is refused, naming both); anything else is
/// an extra header, whose rules validation applies.
fn header_into_options(out: &mut AppendOptions, name: String, value: String) -> Result<()> {
    let both = |option: &str| {
        Error::invalid(
            "headers",
            format!("{name:?} and the option {option} are both given: give one"),
        )
    };
    if let Some(option) = TEXT_OPTIONS
        .iter()
        .find(|o| o.header.eq_ignore_ascii_case(&name))
    {
        let slot = (option.slot)(out);
        if slot.is_some() {
            return Err(both(option.name));
        }
        *slot = Some(value);
    } else if name.eq_ignore_ascii_case("content-md5") {
        if out.content_md5.is_some() {
            return Err(both("contentMd5"));
        }
        out.content_md5 = Some(ContentMd5::Given(value));
    } else if let Some(meta) = name
        .get(..11)
        .filter(|p| p.eq_ignore_ascii_case("x-oss-meta-"))
        .map(|_| name[11..].to_owned())
    {
        if out.metadata.contains_key(&meta) {
            return Err(both("meta"));
        }
        out.metadata.insert(meta, value);
    } else {
        out.extra_headers.push((name, value));
    }
    Ok(())
}

impl JsAppendOptions {
    /// The headers of the append. Enumerated values must be spelled as OSS spells them;
    /// `trafficLimit` must be an exact integer. The values' own rules (header text, ranges)
    /// are checked when the request is validated.
    pub fn into_options(mut self) -> Result<AppendOptions> {
        let content_md5 = match (self.content_md5, self.content_md5_sdk) {
            (Some(ours), Some(sdk)) if ours != sdk => {
                return Err(Error::invalid(
                    "contentMD5",
                    format!(
                        "and contentMd5 are two spellings of one option, given different values \
                         ({sdk:?} and {ours:?}): give one"
                    ),
                ))
            }
            (ours, sdk) => ours.or(sdk),
        };
        let mut out = AppendOptions {
            content_md5: content_md5.map(ContentMd5::Given),
            forbid_overwrite: self.forbid_overwrite,
            metadata: self.meta.unwrap_or_default(),
            ..AppendOptions::default()
        };
        for option in &TEXT_OPTIONS {
            *(option.slot)(&mut out) = self.texts.remove(option.name);
        }
        for (name, value) in self.headers.unwrap_or_default() {
            header_into_options(&mut out, name, value)?;
        }
        if let Some(acl) = self.object_acl {
            out.object_acl = Some(acl.parse()?);
        }
        if let Some(class) = self.storage_class {
            out.storage_class = Some(class.parse()?);
        }
        if let Some(sse) = self.server_side_encryption {
            out.server_side_encryption = Some(sse.parse()?);
        }
        if let Some(data) = self.server_side_data_encryption {
            out.server_side_data_encryption = Some(data.parse()?);
        }
        if let Some(limit) = self.traffic_limit {
            out.traffic_limit = Some(numbers::non_negative_integer("trafficLimit", limit)?);
        }
        if let Some(payer) = self.request_payer {
            out.request_payer_is_requester = options::request_payer(&payer)?;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::js::test_support::refusal;
    use crate::protocol::options::{ObjectAcl, ServerSideEncryption, StorageClass};

    fn refused_field(options: JsAppendOptions) -> &'static str {
        refusal(options.into_options()).0
    }

    #[test]
    fn no_options_are_the_default_options() {
        assert_eq!(
            JsAppendOptions::default().into_options().unwrap(),
            AppendOptions::default()
        );
    }

    #[test]
    fn every_text_option_lands_in_its_field() {
        for option in &TEXT_OPTIONS {
            let js = JsAppendOptions {
                texts: BTreeMap::from([(option.name, format!("{} value", option.name))]),
                ..JsAppendOptions::default()
            };
            let out = js.into_options().unwrap();
            assert_eq!(
                (option.value)(&out),
                Some(format!("{} value", option.name).as_str())
            );
            let others = TEXT_OPTIONS
                .iter()
                .filter(|o| o.name != option.name)
                .filter_map(|o| (o.value)(&out));
            assert_eq!(others.count(), 0, "{} set only itself", option.name);
        }
    }

    #[test]
    fn typed_options_are_parsed() {
        let out = JsAppendOptions {
            content_md5: Some("1B2M2Y8AsgTpgAmY7PhCfg==".into()),
            forbid_overwrite: Some(true),
            object_acl: Some("public-read".into()),
            storage_class: Some("IA".into()),
            server_side_encryption: Some("KMS".into()),
            server_side_data_encryption: Some("SM4".into()),
            traffic_limit: Some(819_200.0),
            request_payer: Some("Requester".into()),
            meta: Some(BTreeMap::from([("owner".into(), "me".into())])),
            ..JsAppendOptions::default()
        }
        .into_options()
        .unwrap();
        assert_eq!(
            out.content_md5,
            Some(ContentMd5::Given("1B2M2Y8AsgTpgAmY7PhCfg==".into()))
        );
        assert_eq!(out.forbid_overwrite, Some(true));
        assert_eq!(out.object_acl, Some(ObjectAcl::PublicRead));
        assert_eq!(out.storage_class, Some(StorageClass::Ia));
        assert_eq!(out.server_side_encryption, Some(ServerSideEncryption::Kms));
        assert!(out.server_side_data_encryption.is_some());
        assert_eq!(out.traffic_limit, Some(819_200));
        assert!(out.request_payer_is_requester);
        assert_eq!(out.metadata.get("owner").map(String::as_str), Some("me"));
    }

    #[test]
    fn content_md5_takes_either_spelling_and_refuses_two_values() {
        const MD5: &str = "1B2M2Y8AsgTpgAmY7PhCfg==";
        let given = |ours: Option<&str>, sdk: Option<&str>| JsAppendOptions {
            content_md5: ours.map(Into::into),
            content_md5_sdk: sdk.map(Into::into),
            ..JsAppendOptions::default()
        };
        for (ours, sdk) in [(Some(MD5), None), (None, Some(MD5)), (Some(MD5), Some(MD5))] {
            assert_eq!(
                given(ours, sdk).into_options().unwrap().content_md5,
                Some(ContentMd5::Given(MD5.into()))
            );
        }
        let (field, rule) =
            refusal(given(Some(MD5), Some("XUFAKrxLKna5cZ2REBfFkg==")).into_options());
        assert_eq!(field, "contentMD5");
        assert!(rule.contains("contentMd5"), "{rule}");
    }

    #[test]
    fn bad_values_name_their_option() {
        let none = JsAppendOptions::default;
        assert_eq!(
            refused_field(JsAppendOptions {
                object_acl: Some("public".into()),
                ..none()
            }),
            "objectAcl"
        );
        assert_eq!(
            refused_field(JsAppendOptions {
                storage_class: Some("standard-ish".into()),
                ..none()
            }),
            "storageClass"
        );
        assert_eq!(
            refused_field(JsAppendOptions {
                traffic_limit: Some(1.5),
                ..none()
            }),
            "trafficLimit"
        );
        assert_eq!(
            refused_field(JsAppendOptions {
                request_payer: Some("bucketowner".into()),
                ..none()
            }),
            "requestPayer"
        );
    }

    #[test]
    fn sdk_headers_become_their_options_and_the_rest_extra_headers() {
        let headers: BTreeMap<String, String> = [
            ("Cache-Control", "no-cache"),
            ("content-md5", "XUFAKrxLKna5cZ2REBfFkg=="),
            ("x-oss-meta-Trace", "t1"),
            ("x-oss-callback-var", "v"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let out = JsAppendOptions {
            headers: Some(headers.clone()),
            ..JsAppendOptions::default()
        }
        .into_options()
        .unwrap();
        assert_eq!(out.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(
            out.content_md5,
            Some(ContentMd5::Given("XUFAKrxLKna5cZ2REBfFkg==".into()))
        );
        assert_eq!(out.metadata["Trace"], "t1");
        assert_eq!(
            out.extra_headers,
            [("x-oss-callback-var".to_owned(), "v".to_owned())]
        );
        // An option and its header both given: refused, naming headers.
        let mut texts = BTreeMap::new();
        texts.insert("cacheControl", "max-age=1".to_owned());
        let both = JsAppendOptions {
            texts,
            headers: Some(headers),
            ..JsAppendOptions::default()
        }
        .into_options();
        assert!(
            matches!(
                both,
                Err(Error::InvalidArgument {
                    field: "headers",
                    ..
                })
            ),
            "{both:?}"
        );
    }
}
