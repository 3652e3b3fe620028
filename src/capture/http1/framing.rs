//! How an HTTP/1.x message's body ends (RFC 9112 §6.3), decided from its head alone.

use crate::model::Headers;

/// How a message's body ends, decided once its head is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    Empty,
    /// Exactly this many bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes.
    Close,
    /// Not HTTP any more (upgrade, tunnel): stop parsing.
    Stop,
}

/// Whether the last transfer coding is chunked, and whether any is present.
fn transfer_coding(headers: &Headers) -> Option<bool> {
    let mut last = None;
    for v in headers.all("transfer-encoding") {
        for coding in v.split(',') {
            let c = coding.trim();
            if !c.is_empty() {
                last = Some(c.eq_ignore_ascii_case("chunked"));
            }
        }
    }
    last
}

fn content_length(headers: &Headers) -> Result<Option<u64>, String> {
    let mut found: Option<u64> = None;
    for v in headers.all("content-length") {
        for part in v.split(',') {
            let n: u64 = part
                .trim()
                .parse()
                .map_err(|_| format!("bad Content-Length {v:?}"))?;
            if let Some(f) = found.filter(|&f| f != n) {
                return Err(format!("Content-Length {n} conflicts with {f}"));
            }
            found = Some(n);
        }
    }
    Ok(found)
}

/// RFC 9112 §6.3 for requests: chunked, else Content-Length, else no body.
pub(super) fn request_framing(headers: &Headers) -> Result<Framing, String> {
    match transfer_coding(headers) {
        Some(true) => Ok(Framing::Chunked),
        Some(false) => Err("request with a transfer coding other than chunked".into()),
        None => Ok(content_length(headers)?.map_or(Framing::Empty, Framing::Length)),
    }
}

/// RFC 9112 §6.3 for responses, given the request method when known. An invalid
/// Content-Length (§6.3 item 5) is `Err` with why: a user agent must close the connection
/// and discard the response, so its body has no end a reader could trust. (Reading to the
/// close, as this did before, took every later response on the connection for its body.)
pub(super) fn response_framing(
    method: Option<&str>,
    status: u16,
    headers: &Headers,
) -> Result<Framing, String> {
    let is = |m: &str| method.is_some_and(|x| x.eq_ignore_ascii_case(m));
    if status == 101 || (is("CONNECT") && (200..300).contains(&status)) {
        return Ok(Framing::Stop);
    }
    if is("HEAD") || (100..200).contains(&status) || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    Ok(match transfer_coding(headers) {
        Some(true) => Framing::Chunked,
        Some(false) => Framing::Close,
        None => content_length(headers)?.map_or(Framing::Close, Framing::Length),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(fields: &[(&str, &str)]) -> Headers {
        fields
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    macro_rules! response {
        ($method:expr, $status:expr, [$($f:expr),*] => $want:expr) => {
            assert_eq!(response_framing($method, $status, &headers(&[$($f),*])), Ok($want))
        };
    }

    #[test]
    fn response_bodies_end_as_rfc_9112_section_6_3_says() {
        response!(Some("GET"), 200, [("Content-Length", "5")] => Framing::Length(5));
        response!(Some("HEAD"), 200, [("Content-Length", "5")] => Framing::Empty);
        response!(None, 304, [("Content-Length", "5")] => Framing::Empty);
        response!(None, 204, [] => Framing::Empty);
        response!(None, 100, [] => Framing::Empty);
        response!(None, 101, [] => Framing::Stop);
        response!(Some("CONNECT"), 200, [] => Framing::Stop);
        response!(Some("CONNECT"), 407, [("Content-Length", "0")] => Framing::Length(0));
        response!(None, 200, [("Transfer-Encoding", "gzip, chunked")] => Framing::Chunked);
        response!(None, 200, [("Transfer-Encoding", "chunked, gzip")] => Framing::Close);
        response!(None, 200, [("Content-Length", "2, 2")] => Framing::Length(2));
        response!(None, 200, [] => Framing::Close);
        // RFC 9112 §6.3 item 5: invalid, not "read to the close".
        for bad in ["1, 2", "1x8", "18446744073709551616", ""] {
            let got = response_framing(None, 200, &headers(&[("Content-Length", bad)]));
            assert!(got.is_err(), "{bad:?}: {got:?}");
        }
        // Transfer-Encoding overrides Content-Length (§6.3 item 3), even an invalid one.
        response!(None, 200, [("Transfer-Encoding", "chunked"), ("Content-Length", "x")] => Framing::Chunked);
    }

    #[test]
    fn requests_without_a_length_have_no_body() {
        let framing = |f: &[(&str, &str)]| request_framing(&headers(f));
        assert_eq!(framing(&[]), Ok(Framing::Empty));
        assert_eq!(
            framing(&[("Content-Length", "3, 3")]),
            Ok(Framing::Length(3))
        );
        assert_eq!(
            framing(&[("Transfer-Encoding", "chunked")]),
            Ok(Framing::Chunked)
        );
        assert!(framing(&[("Transfer-Encoding", "gzip")]).is_err());
        assert!(framing(&[("Content-Length", "3"), ("Content-Length", "4")]).is_err());
    }
}
