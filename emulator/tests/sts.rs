//! Issued STS credentials: accepted until their expiration, then answered as OSS answers an
//! expired token (403 SecurityTokenExpired, EC 0002-00000007, the usual error XML); the wrong
//! or a missing token, V1 and V4, and the admin endpoint that issues them.

mod common;

use common::*;
use oss_emulator::StsCredentials;
use std::time::Duration;

fn signer(version: Version, c: &StsCredentials) -> Signer {
    Signer {
        ak: c.access_key_id.clone(),
        sk: c.access_key_secret.clone(),
        token: Some(c.security_token.clone()),
        ..Signer::new(version)
    }
}

#[tokio::test]
async fn issued_credentials_work_until_they_expire_then_answer_security_token_expired() {
    let emu = start().await;
    let client = http_client();
    for version in [Version::V1, Version::V4] {
        let issued = emu.issue_sts(Duration::from_secs(600));
        let key = format!("sts-{version:?}.log");
        let s = signer(version, &issued);
        let r = s
            .call(&client, &emu.endpoint(), Req::append(&key, 0, b"abc"))
            .await;
        assert_eq!(r.status, 200, "{}", r.text());

        let mut wrong = s.clone();
        wrong.token = Some(format!("{}x", issued.security_token));
        wrong
            .call(&client, &emu.endpoint(), Req::append(&key, 3, b"d"))
            .await
            .assert_error(403, "InvalidSecurityToken", "0002-00000006");
        let mut missing = s.clone();
        missing.token = None;
        missing
            .call(&client, &emu.endpoint(), Req::append(&key, 3, b"d"))
            .await
            .assert_error(403, "InvalidAccessKeyId", "0002-00000003");

        assert!(emu.expire_sts(&issued.access_key_id));
        let r = s
            .call(&client, &emu.endpoint(), Req::append(&key, 3, b"d"))
            .await;
        r.assert_error(403, "SecurityTokenExpired", "0002-00000007");
        assert_eq!(
            r.element("Message").as_deref(),
            Some("The security token you provided has expired.")
        );
        assert_eq!(
            emu.object(BUCKET, &key).unwrap().data,
            b"abc",
            "not applied"
        );
    }
    // A key that was never issued.
    let mut unknown = Signer::new(Version::V4);
    unknown.ak = "STS.neverissued".into();
    unknown.token = Some("t".into());
    unknown
        .call(&client, &emu.endpoint(), Req::append("x", 0, b"1"))
        .await
        .assert_error(403, "InvalidAccessKeyId", "0002-00000902");
    // The configured key still works.
    let r = Signer::new(Version::V4)
        .call(&client, &emu.endpoint(), Req::append("x", 0, b"1"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

fn json_field(json: &str, name: &str) -> String {
    let start = json.find(&format!("\"{name}\":\"")).expect(name) + name.len() + 4;
    json[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_admin_endpoint_issues_and_expires_credentials() {
    let mut config = config();
    config.enable_fault_admin = true;
    let emu = oss_emulator::start(config).await.unwrap();
    let client = http_client();
    let url = format!("{}/__sts", emu.endpoint());
    let admin = |url: &str, body: &str| {
        client
            .post(url)
            .header("x-oss-emulator-admin", "1")
            .body(body.to_owned())
            .send()
    };
    let r = client
        .post(&url)
        .body("lifetime-ms=1000")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "the admin header is required");
    let r = admin(&url, "lifetime-ms=0").await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("lifetime-ms"));
    let r = admin(&url, "lifetime=5").await.unwrap();
    assert_eq!(r.status(), 400);

    let r = admin(&url, "lifetime-ms=600000").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers().get("content-type").unwrap().to_str().unwrap(),
        "application/json"
    );
    let json = r.text().await.unwrap();
    let issued = StsCredentials {
        access_key_id: json_field(&json, "accessKeyId"),
        access_key_secret: json_field(&json, "accessKeySecret"),
        security_token: json_field(&json, "securityToken"),
        expiration: humantime::parse_rfc3339(&json_field(&json, "expiration")).unwrap(),
    };
    let left = issued
        .expiration
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!(left > Duration::from_secs(500), "{left:?}");
    let s = signer(Version::V4, &issued);
    let r = s
        .call(&client, &emu.endpoint(), Req::append("a", 0, b"1"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let expire = format!("{}/__sts/expire", emu.endpoint());
    let r = admin(&expire, "access-key-id=STS.unknown").await.unwrap();
    assert_eq!(r.status(), 404);
    let r = admin(&expire, &format!("access-key-id={}", issued.access_key_id))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    s.call(&client, &emu.endpoint(), Req::append("a", 1, b"2"))
        .await
        .assert_error(403, "SecurityTokenExpired", "0002-00000007");
}
