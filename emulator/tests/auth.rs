//! Authentication against an in-process emulator: V1, V4, request time, STS.

mod common;

use common::*;
use oss_append::protocol::signing::{v1, v4};

async fn client_and_emulator(
    cfg: oss_emulator::EmulatorConfig,
) -> (reqwest::Client, oss_emulator::RunningEmulator) {
    (http_client(), oss_emulator::start(cfg).await.unwrap())
}

#[tokio::test]
async fn anonymous_and_presigned_requests_are_denied() {
    let (client, emu) = client_and_emulator(config()).await;
    let r = send(&client, &emu.endpoint(), &Req::append("a.log", 0, b"x")).await;
    r.assert_error(403, "AccessDenied", "0003-00000001");
    let r = send(
        &client,
        &emu.endpoint(),
        &Req::new("GET", "a.log")
            .query("OSSAccessKeyId", Some(AK))
            .query("Expires", Some("1"))
            .query("Signature", Some("x")),
    )
    .await;
    assert_eq!((r.status, r.code().as_deref()), (403, Some("AccessDenied")));
    assert!(emu.object(BUCKET, "a.log").is_none());
    emu.shutdown().await;
}

#[tokio::test]
async fn malformed_authorization_is_400() {
    let (client, emu) = client_and_emulator(config()).await;
    for value in [
        "OSS nocolon",
        "Bearer abc",
        "OSS4-HMAC-SHA256 Credential=x",
        "OSS4-HMAC-SHA256 Credential=a/b/c/oss/aliyun_v4_request,Signature=1,Bogus=2",
    ] {
        let mut req = Req::append("a.log", 0, b"x");
        req.headers.push(("Authorization".into(), value.into()));
        req.headers.push((
            "Date".into(),
            httpdate::fmt_http_date(std::time::SystemTime::now()),
        ));
        let r = send(&client, &emu.endpoint(), &req).await;
        assert_eq!(
            (r.status, r.code().as_deref()),
            (400, Some("InvalidArgument")),
            "{value}: {}",
            r.text()
        );
        r.assert_common_headers();
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn unknown_access_key() {
    let (client, emu) = client_and_emulator(config()).await;
    for version in [Version::V1, Version::V4] {
        let mut signer = Signer::new(version);
        signer.ak = "LTAI5tSomebodyElse".into();
        let r = signer
            .call(&client, &emu.endpoint(), Req::append("a.log", 0, b"x"))
            .await;
        r.assert_error(403, "InvalidAccessKeyId", "0002-00000902");
        assert_eq!(
            r.element("OSSAccessKeyId").as_deref(),
            Some("LTAI5tSomebodyElse")
        );
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn v1_signature_mismatch_reports_what_the_server_signed() {
    let (client, emu) = client_and_emulator(config()).await;
    let mut signer = Signer::new(Version::V1);
    signer.sk = "wrong-secret".into();
    let req = Req::append("dir/a b.log", 0, b"x")
        .header("Content-Type", "text/plain")
        .header("x-oss-meta-z", "1");
    let signed = req.clone().signed(&signer);
    let date = signed
        .headers
        .iter()
        .find(|(n, _)| n == "Date")
        .unwrap()
        .1
        .clone();
    let expected_sts = v1::string_to_sign(&signed.signable(), &date);
    let r = send(&client, &emu.endpoint(), &signed).await;
    r.assert_error(403, "SignatureDoesNotMatch", "0002-00000040");
    assert_eq!(
        r.element("StringToSign").as_deref(),
        Some(expected_sts.as_str())
    );
    assert!(
        expected_sts.ends_with("\n/test-bucket/dir/a b.log?append&position=0"),
        "{expected_sts:?}"
    );
    let bytes: String = expected_sts.bytes().map(|b| format!("{b:02X} ")).collect();
    assert_eq!(
        r.element("StringToSignBytes").as_deref(),
        Some(bytes.as_str())
    );
    assert_eq!(r.element("OSSAccessKeyId").as_deref(), Some(AK));
    let provided = signed
        .headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .unwrap()
        .1
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        r.element("SignatureProvided").as_deref(),
        Some(provided.as_str())
    );

    // A signed header changed after signing, or an unsigned query parameter added, also fails;
    // the right secret with the untouched request succeeds.
    let good = Signer::new(Version::V1);
    let mut tampered = req.clone().signed(&good);
    tampered
        .headers
        .iter_mut()
        .find(|(n, _)| n == "x-oss-meta-z")
        .unwrap()
        .1 = "2".into();
    let r = send(&client, &emu.endpoint(), &tampered).await;
    r.assert_error(403, "SignatureDoesNotMatch", "0002-00000040");
    let tampered = req.clone().signed(&good).query("acl", None);
    let r = send(&client, &emu.endpoint(), &tampered).await;
    r.assert_error(403, "SignatureDoesNotMatch", "0002-00000040");
    let r = send(&client, &emu.endpoint(), &req.signed(&good)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    emu.shutdown().await;
}

#[tokio::test]
async fn v1_accepts_x_oss_date_in_place_of_date() {
    // What ali-oss sends: no Date header, x-oss-date signed on the date line.
    let (client, emu) = client_and_emulator(config()).await;
    let now = httpdate::fmt_http_date(std::time::SystemTime::now());
    let mut req = Req::append("xdate.log", 0, b"x").header("x-oss-date", &now);
    let sts = v1::string_to_sign(&req.signable(), &now);
    req.headers.push((
        "Authorization".into(),
        v1::authorization(AK, &v1::signature(SK, &sts)),
    ));
    let r = send(&client, &emu.endpoint(), &req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    emu.shutdown().await;
}

#[tokio::test]
async fn v4_signatures() {
    let (client, emu) = client_and_emulator(config()).await;
    // Plain, with AdditionalHeaders, and with a doc-style ", " separated Authorization.
    let r = Signer::new(Version::V4)
        .call(&client, &emu.endpoint(), Req::append("v4.log", 0, b"abc"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut with_additional = Signer::new(Version::V4);
    with_additional.additional = vec!["Content-Disposition".into(), "x-oss-absent".into()];
    let r = with_additional
        .call(
            &client,
            &emu.endpoint(),
            Req::append("v4.log", 3, b"def").header("Content-Disposition", "inline"),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut req = Req::append("v4.log", 6, b"ghi").signed(&Signer::new(Version::V4));
    let auth = req
        .headers
        .iter_mut()
        .find(|(n, _)| n == "Authorization")
        .unwrap();
    auth.1 = auth.1.replace(",Signature=", ", Signature=");
    let r = send(&client, &emu.endpoint(), &req).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(emu.object(BUCKET, "v4.log").unwrap().data, b"abcdefghi");

    // Wrong secret: 0002-00000201 with the V4 StringToSign and CanonicalRequest.
    let mut bad = Signer::new(Version::V4);
    bad.sk = "nope".into();
    let r = bad
        .call(&client, &emu.endpoint(), Req::append("v4.log", 9, b"x"))
        .await;
    r.assert_error(403, "SignatureDoesNotMatch", "0002-00000201");
    let sts = r.element("StringToSign").unwrap();
    assert!(sts.starts_with("OSS4-HMAC-SHA256\n"), "{sts:?}");
    let cr = r.element("CanonicalRequest").unwrap();
    assert!(
        cr.starts_with("POST\n/test-bucket/v4.log\nappend&position=9\n"),
        "{cr:?}"
    );

    // A header listed in AdditionalHeaders and changed after signing fails.
    let mut req = Req::append("v4.log", 9, b"x")
        .header("Content-Disposition", "a")
        .signed(&with_additional);
    req.headers
        .iter_mut()
        .find(|(n, _)| n == "Content-Disposition")
        .unwrap()
        .1 = "b".into();
    let r = send(&client, &emu.endpoint(), &req).await;
    r.assert_error(403, "SignatureDoesNotMatch", "0002-00000201");
    emu.shutdown().await;
}

/// Builds a V4 request with a hand-written Authorization value.
fn v4_with_authorization(auth: &str, datetime: Option<&str>, content_sha: Option<&str>) -> Req {
    let mut req = Req::append("f.log", 0, b"x");
    if let Some(dt) = datetime {
        req.headers.push(("x-oss-date".into(), dt.into()));
    }
    if let Some(sha) = content_sha {
        req.headers
            .push(("x-oss-content-sha256".into(), sha.into()));
    }
    req.headers.push(("Authorization".into(), auth.into()));
    req
}

#[tokio::test]
async fn v4_format_errors() {
    let (client, emu) = client_and_emulator(config()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let dt = v4::format_datetime(now);
    let day = &dt[..8];
    let cred = |region: &str, tail: &str| {
        format!("OSS4-HMAC-SHA256 Credential={AK}/{day}/{region}/oss/{tail},Signature=00")
    };
    let ok_cred = cred("cn-hangzhou", "aliyun_v4_request");
    // (Authorization, x-oss-date, x-oss-content-sha256, status, Code, EC)
    type Case<'a> = (
        String,
        Option<&'a str>,
        Option<&'a str>,
        u16,
        &'a str,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (cred("cn-hangzhou", "abc"), Some(&dt), Some("UNSIGNED-PAYLOAD"), 400, "InvalidArgument", "0002-00000213"),
        (
            format!("OSS4-HMAC-SHA256 Credential={AK}/{day}/cn-hangzhou,Signature=00"),
            Some(&dt),
            Some("UNSIGNED-PAYLOAD"),
            400,
            "InvalidArgument",
            "0002-00000213",
        ),
        (
            format!("OSS4-HMAC-SHA256 Credential={AK}/{day}/cn-hangzhou/oss/aliyun_v4_request,AdditionalHeaders=,Signature=00"),
            Some(&dt),
            Some("UNSIGNED-PAYLOAD"),
            400,
            "InvalidArgument",
            "0002-00000209",
        ),
        (ok_cred.clone(), Some(&dt), None, 400, "InvalidArgument", "0002-00000214"),
        (ok_cred.clone(), Some(&dt), Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"), 400, "InvalidArgument", "0002-00000214"),
        (cred("oss-cn-hangzhou", "aliyun_v4_request"), Some(&dt), Some("UNSIGNED-PAYLOAD"), 400, "InvalidArgument", "0002-00000226"),
        (cred("cn-beijing", "aliyun_v4_request"), Some(&dt), Some("UNSIGNED-PAYLOAD"), 400, "InvalidArgument", "0002-00000228"),
        (ok_cred.clone(), None, Some("UNSIGNED-PAYLOAD"), 403, "AccessDenied", "0002-00000503"),
        (ok_cred.clone(), Some("2023-12-16T16:20:57Z"), Some("UNSIGNED-PAYLOAD"), 403, "AccessDenied", "0002-00000502"),
    ];
    for (auth, datetime, sha, status, code, ec) in cases {
        let r = send(
            &client,
            &emu.endpoint(),
            &v4_with_authorization(&auth, datetime, sha),
        )
        .await;
        r.assert_error(status, code, ec);
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn v1_date_errors() {
    let (client, emu) = client_and_emulator(config()).await;
    // Missing: signed with an empty date line and no Date header.
    let mut req = Req::append("d.log", 0, b"x");
    req.skip_date = true;
    let r = send(
        &client,
        &emu.endpoint(),
        &req.signed(&Signer::new(Version::V1)),
    )
    .await;
    r.assert_error(403, "AccessDenied", "0002-00000503");
    // Malformed.
    for bad in [
        "20231216T162057Z",
        "yesterday",
        "Wednesday, 28-Dec-22 10:27:41 GMT",
    ] {
        let mut req = Req::append("d.log", 0, b"x").header("Date", bad);
        let sts = v1::string_to_sign(&req.signable(), bad);
        req.headers.push((
            "Authorization".into(),
            v1::authorization(AK, &v1::signature(SK, &sts)),
        ));
        let r = send(&client, &emu.endpoint(), &req).await;
        r.assert_error(403, "AccessDenied", "0002-00000502");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn request_time_too_skewed() {
    // The server clock is 20 minutes ahead: correctly signed requests are refused…
    let mut cfg = config();
    cfg.clock_skew_seconds = 20 * 60;
    let (client, emu) = client_and_emulator(cfg).await;
    for version in [Version::V1, Version::V4] {
        let r = Signer::new(version)
            .call(&client, &emu.endpoint(), Req::append("s.log", 0, b"x"))
            .await;
        r.assert_error(403, "RequestTimeTooSkewed", "0002-00000504");
        // …and a client that corrects its clock from the response Date gets through.
        let server_date = httpdate::parse_http_date(r.header("date").unwrap()).unwrap();
        let offset = server_date
            .duration_since(std::time::SystemTime::now())
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        assert!((offset - 1200).abs() <= 2, "{offset}");
        let mut signer = Signer::new(version);
        signer.time_offset = offset;
        let key = format!("s-{version:?}.log");
        let r = signer
            .call(&client, &emu.endpoint(), Req::append(&key, 0, b"x"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    emu.shutdown().await;

    // Within 15 minutes is fine, both directions.
    let (client, emu) = client_and_emulator(config()).await;
    for offset in [-14 * 60, 14 * 60] {
        let mut signer = Signer::new(Version::V4);
        signer.time_offset = offset;
        let r = signer
            .call(
                &client,
                &emu.endpoint(),
                Req::append(&format!("w{offset}"), 0, b"x"),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text());
        signer.time_offset = offset * 2;
        let r = signer
            .call(
                &client,
                &emu.endpoint(),
                Req::append(&format!("w{offset}"), 1, b"x"),
            )
            .await;
        r.assert_error(403, "RequestTimeTooSkewed", "0002-00000504");
    }
    emu.shutdown().await;
}

#[tokio::test]
async fn sts_tokens() {
    let mut cfg = config();
    cfg.access_key_id = "STS.NTemporaryKey".into();
    cfg.access_key_secret = "TemporarySecret".into();
    cfg.security_token = Some("CAIS+token/with=chars".into());
    let (client, emu) = client_and_emulator(cfg.clone()).await;
    for version in [Version::V1, Version::V4] {
        let mut signer = Signer::new(version);
        signer.ak = cfg.access_key_id.clone();
        signer.sk = cfg.access_key_secret.clone();
        signer.token = cfg.security_token.clone();
        let key = format!("sts-{version:?}.log");
        let r = signer
            .call(&client, &emu.endpoint(), Req::append(&key, 0, b"ok"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());

        let mut missing = signer.clone();
        missing.token = None;
        let r = missing
            .call(&client, &emu.endpoint(), Req::append(&key, 2, b"x"))
            .await;
        r.assert_error(403, "InvalidAccessKeyId", "0002-00000003");

        let mut wrong = signer.clone();
        wrong.token = Some("CAIS+other".into());
        let r = wrong
            .call(&client, &emu.endpoint(), Req::append(&key, 2, b"x"))
            .await;
        r.assert_error(403, "InvalidSecurityToken", "0002-00000006");
    }
    emu.shutdown().await;

    cfg.security_token_expired = true;
    let (client, emu) = client_and_emulator(cfg.clone()).await;
    let mut signer = Signer::new(Version::V4);
    signer.ak = cfg.access_key_id.clone();
    signer.sk = cfg.access_key_secret.clone();
    signer.token = cfg.security_token.clone();
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("e.log", 0, b"x"))
        .await;
    r.assert_error(403, "SecurityTokenExpired", "0002-00000007");
    emu.shutdown().await;

    // A token sent with a permanent key is not accepted either.
    let (client, emu) = client_and_emulator(config()).await;
    let mut signer = Signer::new(Version::V4);
    signer.token = Some("stray".into());
    let r = signer
        .call(&client, &emu.endpoint(), Req::append("t.log", 0, b"x"))
        .await;
    r.assert_error(403, "InvalidSecurityToken", "0002-00000006");
    emu.shutdown().await;
}

#[tokio::test]
async fn head_errors_are_in_x_oss_err() {
    let (client, emu) = client_and_emulator(config()).await;
    let mut signer = Signer::new(Version::V4);
    signer.sk = "bad".into();
    let r = signer
        .call(&client, &emu.endpoint(), Req::new("HEAD", "x"))
        .await;
    assert_eq!(r.status, 403);
    assert!(r.body.is_empty());
    assert_eq!(r.header("x-oss-ec"), Some("0002-00000201"));
    assert_eq!(r.code().as_deref(), Some("SignatureDoesNotMatch"));
    assert_eq!(
        r.element("RequestId").as_deref(),
        r.header("x-oss-request-id")
    );
    emu.shutdown().await;
}

#[tokio::test]
async fn every_request_id_is_unique() {
    let (client, emu) = client_and_emulator(config()).await;
    let mut ids = std::collections::HashSet::new();
    for _ in 0..20 {
        let r = send(&client, &emu.endpoint(), &Req::new("GET", "k")).await;
        assert!(ids.insert(r.header("x-oss-request-id").unwrap().to_string()));
    }
    let logged: std::collections::HashSet<String> =
        emu.requests().into_iter().map(|r| r.request_id).collect();
    assert_eq!(logged, ids);
    emu.shutdown().await;
}
