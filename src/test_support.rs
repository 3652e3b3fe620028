//! Helpers the library's unit tests share.

/// Bytes from hex digits, ignoring anything else (spaces, line breaks), as RFCs print them.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).expect("ascii"), 16).expect("hex"))
        .collect()
}

/// A `GET` of `target` on host `h`, with no headers, body or time.
pub fn request(target: &str) -> crate::model::Request {
    use crate::model::{Body, Headers, Request, Scheme};
    Request {
        method: "GET".into(),
        scheme: Scheme::Http,
        host: "h".into(),
        port: None,
        target: target.into(),
        version: None,
        headers: Headers::new(),
        body: Body::default(),
        trailers: Headers::new(),
        timestamp: None,
    }
}

/// A response with `status` and nothing else.
pub fn response(status: u16) -> crate::model::Response {
    use crate::model::{Body, Headers, Response};
    Response {
        status,
        reason: None,
        version: None,
        headers: Headers::new(),
        trailers: Headers::new(),
        body: Body::default(),
        timestamp: None,
        interim: Vec::new(),
    }
}
