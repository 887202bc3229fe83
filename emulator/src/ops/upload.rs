//! Limits and the last steps of storing an object's data: the Content-MD5 check and the
//! commit.

use crate::errors::{self, storage_error, OssError};
use crate::store::{ObjectMeta, SlotGuard, Upload};
use base64::Engine as _;
use md5::{Digest, Md5};

/// Largest object AppendObject may produce and largest PutObject body: 5 GiB.
pub(crate) const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024;

pub(super) async fn check_md5(
    upload: Upload,
    expected: Option<[u8; 16]>,
    md5: Md5,
) -> Result<Upload, OssError> {
    let Some(expected) = expected else {
        return Ok(upload);
    };
    let actual: [u8; 16] = md5.finalize().into();
    if actual != expected {
        upload.abort().await;
        return Err(errors::invalid_digest(
            &base64::engine::general_purpose::STANDARD.encode(actual),
        ));
    }
    Ok(upload)
}

pub(super) async fn commit(
    guard: &SlotGuard,
    upload: Upload,
    meta: ObjectMeta,
) -> Result<(), OssError> {
    guard.commit(upload, meta).await.map_err(storage_error)
}
