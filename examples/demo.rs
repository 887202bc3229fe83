//! The main job, end to end: append a string, a file and a chain of blocks to one object, print
//! each next position and CRC-64, then read the object back and verify it byte for byte.
//!
//! By default it starts the embedded emulator on 127.0.0.1 and takes the production path to it:
//! HTTPS to `https://demo-bucket.oss-cn-hangzhou.aliyuncs.com` (the default endpoint,
//! virtual-hosted), the emulator serving a certificate from a throwaway CA that the client
//! trusts through `ca_certs`, and the host name resolved to 127.0.0.1 by the client's own
//! `resolve` map, so SNI and the certificate check are real. To use real OSS instead, set
//! `OSS_BUCKET`, `OSS_REGION`, `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` (and optionally
//! `OSS_SESSION_TOKEN`, `OSS_ENDPOINT`).
//!
//! ```text
//! cargo run --example demo
//! ```

use std::io::Write;

use oss_append::{crc64, AppendObjectRequest, Body, Client, ClientConfig, Credentials};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let _emulator; // kept alive until the end of main
    let mut scratch = None; // the emulator's data directory, removed at the end
    let (client, bucket) = match env("OSS_BUCKET") {
        Some(bucket) => {
            let credentials = Credentials::new(
                env("OSS_ACCESS_KEY_ID").ok_or("OSS_ACCESS_KEY_ID is not set")?,
                env("OSS_ACCESS_KEY_SECRET").ok_or("OSS_ACCESS_KEY_SECRET is not set")?,
                env("OSS_SESSION_TOKEN"),
            )?;
            let mut config = ClientConfig::new(
                credentials,
                &env("OSS_REGION").ok_or("OSS_REGION is not set")?,
            )?;
            if let Some(endpoint) = env("OSS_ENDPOINT") {
                config = config.with_endpoint(endpoint);
            }
            println!("target: OSS bucket {bucket} in {}", config.region);
            (Client::new(config)?, bucket)
        }
        None => {
            let dir = std::env::temp_dir().join(format!("oss-append-demo-{}", std::process::id()));
            let mut config = oss_emulator::EmulatorConfig::new("demo-ak", "demo-secret");
            config.buckets = vec!["demo-bucket".into()];
            config.data_dir = Some(dir.clone());
            scratch = Some(dir);
            let host = "demo-bucket.oss-cn-hangzhou.aliyuncs.com";
            let pki = oss_emulator::tls::generate(
                &[
                    "*.oss-cn-hangzhou.aliyuncs.com",
                    "oss-cn-hangzhou.aliyuncs.com",
                ],
                oss_emulator::Validity::Current,
            )?;
            config.tls = Some(pki.identity());
            let emulator = oss_emulator::start(config).await?;
            println!(
                "target: embedded emulator at {}, as https://{host} (throwaway CA, resolved by the client)",
                emulator.endpoint()
            );
            let config = ClientConfig::new(
                Credentials::new("demo-ak", "demo-secret", None)?,
                "oss-cn-hangzhou",
            )?
            .with_ca_certs(pki.ca_pem)
            .with_dns_override(host, vec![emulator.local_addr()]);
            _emulator = emulator;
            (Client::new(config)?, "demo-bucket".to_owned())
        }
    };

    let key = format!("demo/append-{}.log", std::process::id());
    let mut chain = Chain::default();

    // 1. A string.
    let text = "hello, append upload\n";
    chain
        .append(
            &client,
            &bucket,
            &key,
            text.into(),
            text.as_bytes(),
            "string",
        )
        .await?;

    // 2. A file, streamed from disk.
    let path = std::env::temp_dir().join(format!("oss-append-demo-{}.bin", std::process::id()));
    let file_bytes: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::File::create(&path)?.write_all(&file_bytes)?;
    chain
        .append(
            &client,
            &bucket,
            &key,
            Body::from_path(&path),
            &file_bytes,
            "file",
        )
        .await?;
    std::fs::remove_file(&path)?;

    // 3. Chained blocks, each at the position the previous answer gave.
    for i in 0..5 {
        let block = format!("block {i}: {}\n", "x".repeat(1000 * (i + 1)));
        let label = format!("block {i}");
        chain
            .append(
                &client,
                &bucket,
                &key,
                block.clone().into(),
                block.as_bytes(),
                &label,
            )
            .await?;
    }
    let Chain {
        expected,
        position,
        crc,
    } = chain;

    // Read back and verify.
    let got = client.get_object(&bucket, &key, None).await?;
    let ok = got.body[..] == expected[..] && crc64::checksum(&got.body) == crc;
    println!(
        "read back {} bytes (expected {}), content {}, crc64 {}",
        got.body.len(),
        position,
        if got.body[..] == expected[..] {
            "identical"
        } else {
            "DIFFERENT"
        },
        if crc64::checksum(&got.body) == crc {
            "matches"
        } else {
            "DIFFERS"
        },
    );
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    if !ok {
        return Err("verification failed".into());
    }
    println!("OK");
    Ok(())
}

/// What has been appended so far, and where the next append goes.
#[derive(Default)]
struct Chain {
    expected: Vec<u8>,
    position: u64,
    crc: u64,
}

impl Chain {
    async fn append(
        &mut self,
        client: &Client,
        bucket: &str,
        key: &str,
        body: Body,
        bytes: &[u8],
        label: &str,
    ) -> Result<(), oss_append::Error> {
        let request = AppendObjectRequest::new(bucket, key, body)
            .with_position(self.position)
            .with_init_crc64(self.crc);
        let out = client.append_object(request).await?;
        println!(
            "{label:<8} next position {:>9}  crc64 {:>20}  request id {}",
            out.next_append_position,
            out.hash_crc64ecma.unwrap_or_default(),
            out.request_id
        );
        self.expected.extend_from_slice(bytes);
        self.position = out.next_append_position;
        self.crc = out.hash_crc64ecma.unwrap_or_default();
        Ok(())
    }
}
