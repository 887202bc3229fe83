//! Build script: with the `napi` feature, napi-build-ohos sets up linking of the N-API module
//! (on OHOS it links `libace_napi.z.so` from `$OHOS_NDK_HOME`; on Linux hosts the `napi_*`
//! symbols are resolved when Node.js loads the `.node` file).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_NAPI").is_some() {
        napi_build_ohos::setup();
    }
}
