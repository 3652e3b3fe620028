//! Message heads from httparse's view of them, and the lenient second reading of a response
//! head that httparse refuses (RFC 9112 §5.1 lets a recorder, in a proxy's place, mend it);
//! and whether a line starts a message, for resynchronising.

use super::parser::{Head, METHODS};
use super::{MAX_HEADERS, Role};
use crate::model::Headers;

pub(super) fn response_head(resp: &httparse::Response<'_, '_>) -> Head {
    Head::Response {
        status: resp.code.unwrap_or_default(),
        reason: resp.reason.unwrap_or_default().to_owned(),
        version: format!("HTTP/1.{}", resp.version.unwrap_or(1)),
        headers: to_headers(resp.headers),
    }
}

/// Room for `limit` header fields: the stack array up to [`MAX_HEADERS`], else `heap`.
pub(super) fn header_room<'a, 'h>(
    stack: &'a mut [httparse::Header<'h>; MAX_HEADERS],
    heap: &'a mut Vec<httparse::Header<'h>>,
    limit: usize,
) -> &'a mut [httparse::Header<'h>] {
    if limit <= MAX_HEADERS {
        &mut stack[..limit]
    } else {
        heap.resize(limit, httparse::EMPTY_HEADER);
        heap
    }
}

/// What a message over the field count limit is noted with.
pub(super) fn too_many_headers(limit: usize, what: &str) -> String {
    format!("more than {limit} {what} fields (raise it with --max-headers)")
}

/// A response head that only a lenient reading accepts, as a proxy must read it: whitespace
/// between a field name and its colon is removed (RFC 9112 §5.1: "a proxy MUST remove any
/// such whitespace from a response message before forwarding"), and an obs-fold line is joined
/// to the field before it (§5.2). Express servers send `Access-Control-Allow-Credentials :
/// true`; browsers accept it.
pub(super) fn lenient_response(data: &[u8], max_headers: usize) -> Option<(usize, Head)> {
    let mut stack = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut heap = Vec::new();
    let mut resp = httparse::Response::new(header_room(&mut stack, &mut heap, max_headers));
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    match config.parse_response(&mut resp, data) {
        Ok(httparse::Status::Complete(n)) => Some((n, response_head(&resp))),
        _ => None,
    }
}

pub(super) fn to_headers(fields: &[httparse::Header<'_>]) -> Headers {
    fields
        .iter()
        .map(|f| {
            (
                f.name.to_owned(),
                String::from_utf8_lossy(f.value).into_owned(),
            )
        })
        .collect()
}

/// Whether `line` starts a message: `Some(true)` yes, `Some(false)` no, `None` not enough
/// bytes to tell.
pub(in crate::capture) fn looks_like_start(role: Role, line: &[u8]) -> Option<bool> {
    const LONGEST_LINE: usize = 8192;
    let eol = line.iter().take(LONGEST_LINE).position(|&b| b == b'\n');
    match role {
        Role::Response => {
            let want = b"HTTP/1.";
            let n = line.len().min(12);
            let ok = line[..n.min(7)] == want[..n.min(7)]
                && line.get(7).is_none_or(u8::is_ascii_digit)
                && line.get(8).is_none_or(|&b| b == b' ')
                && line[9.min(n)..n].iter().all(u8::is_ascii_digit);
            if !ok {
                Some(false)
            } else if n < 12 {
                None
            } else {
                Some(true)
            }
        }
        Role::Request => {
            let space = line.iter().take(12).position(|&b| b == b' ');
            let Some(space) = space else {
                let prefix = METHODS.iter().any(|m| m.as_bytes().starts_with(line));
                return if prefix && line.len() < 12 {
                    None
                } else {
                    Some(false)
                };
            };
            if !METHODS.iter().any(|m| m.as_bytes() == &line[..space]) {
                return Some(false);
            }
            match eol {
                None if line.len() < LONGEST_LINE => None,
                None => Some(false),
                Some(eol) => {
                    let l = line[..eol].strip_suffix(b"\r").unwrap_or(&line[..eol]);
                    Some(l.len() > 9 && l[l.len() - 9..l.len() - 1] == *b" HTTP/1.")
                }
            }
        }
    }
}
