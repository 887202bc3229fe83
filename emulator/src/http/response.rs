//! Response rendering common to every OSS answer: the headers all of them carry, and errors
//! as OSS renders them.

use super::body::{empty_body, full_body, Body};
use crate::clock;
use crate::errors::OssError;
use base64::Engine as _;
use hyper::Response;

/// Headers every OSS response carries.
pub(crate) fn add_common_headers(
    response: &mut Response<Body>,
    request_id: &str,
    now: std::time::SystemTime,
    close: bool,
) {
    let headers = response.headers_mut();
    headers.insert(
        "x-oss-request-id",
        request_id.parse().expect("hex is a valid header"),
    );
    headers.insert(
        "date",
        clock::http_date(now)
            .parse()
            .expect("date is a valid header"),
    );
    headers.insert("server", "AliyunOSS".parse().expect("valid header"));
    if close {
        headers.insert("connection", "close".parse().expect("valid header"));
    }
}

/// The error as an HTTP response: XML body, or for HEAD (which has no body) the XML
/// base64-encoded in `x-oss-err`, as OSS does.
pub(crate) fn error_response(
    err: &OssError,
    request_id: &str,
    host: &str,
    head: bool,
) -> Response<Body> {
    let xml = err.to_xml(request_id, host);
    let mut builder = Response::builder()
        .status(err.status)
        .header("content-type", "application/xml")
        .header("x-oss-ec", err.ec);
    for (name, value) in &err.headers {
        builder = builder.header(*name, value.as_str());
    }
    let body = if head {
        builder = builder
            .header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            )
            .header("content-length", "0");
        empty_body()
    } else {
        builder = builder.header("content-length", xml.len().to_string());
        full_body(xml)
    };
    builder.body(body).expect("valid error response")
}
