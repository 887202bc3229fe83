//! oss-append: Alibaba Cloud OSS append upload, as a plain Rust core with an N-API binding for
//! HarmonyOS (ArkTS).

pub mod crc64;
pub mod signing;
