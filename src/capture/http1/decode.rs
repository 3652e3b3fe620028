//! Content decoding (RFC 9110 §8.4): undoes the `Content-Encoding` of finished bodies, after
//! pairing, in parallel across exchanges, with a memo for the same compressed page seen again.

use super::MAX_DECODED_BYTES;
use crate::capture::{Note, Notes};
use crate::memo::Memo;
use crate::model::{Body, Bytes, Exchange, Headers};
use std::io::Read;

/// Undoes the `Content-Encoding` of both bodies of `ex` (see [`decode_body`]); returns the
/// nanoseconds it took. Connections hand bodies over as sent and the pipeline decodes them
/// afterwards, exchange by exchange in parallel: a few long keep-alive connections would
/// otherwise leave the cores unevenly loaded.
pub fn decode_bodies(ex: &mut Exchange, notes: &mut Notes, memo: &Decoded) -> u64 {
    let started = std::time::Instant::now();
    let label = ex.source.flow.as_deref().unwrap_or("");
    let req = &mut ex.request;
    let resp = ex.response.as_mut();
    let bodies = std::iter::once((&mut req.body, &req.headers))
        .chain(resp.map(|r| (&mut r.body, &r.headers)))
        // A cut body stays as it arrived: its coding cannot be undone on a part.
        .filter(|(body, _)| body.cut.is_none());
    for (body, headers) in bodies {
        *body = decode_body(std::mem::take(&mut body.bytes), headers, notes, label, memo);
    }
    started.elapsed().as_nanos() as u64
}

/// Decoded bodies by their codings and encoded bytes: servers send the same compressed page
/// again and again, and inflating it is most of the decoding cost.
pub type Decoded = Memo<Result<Bytes, String>>;

/// A memo for [`decode_bodies`]; even small inputs are worth it, as each inflate sets up
/// tens of kilobytes of state.
pub fn decoded_memo() -> Decoded {
    Memo::new(64)
}

/// Undoes `Content-Encoding` (gzip, deflate, br, in reverse order of application). On failure
/// or a limit, the bytes stay as sent and a note says why.
fn decode_body(
    bytes: Bytes,
    headers: &Headers,
    notes: &mut Notes,
    label: &str,
    memo: &Decoded,
) -> Body {
    let Some(encoding) = headers.first("content-encoding") else {
        return Body::from_bytes(bytes);
    };
    let codings = codings(headers);
    if codings.is_empty() || bytes.is_empty() {
        return Body::from_bytes(bytes);
    }
    let decoded = memo.get(&codings.join(","), &bytes, |bytes| {
        decode_all(&codings, bytes).map(Bytes::from)
    });
    match decoded.into_owned() {
        Ok(data) => Body {
            bytes: data,
            decoded_from: Some(encoding.to_owned()),
            cut: None,
        },
        Err(why) => {
            notes.record(Note::DecodeFailed, || format!("{label}: {why}"));
            Body::from_bytes(bytes)
        }
    }
}

/// The content codings `headers` name, in the order they were applied (`identity` left out).
fn codings(headers: &Headers) -> Vec<&str> {
    headers
        .all("content-encoding")
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
        .collect()
}

/// Undoes `codings` (in reverse order of application), up to [`MAX_DECODED_BYTES`].
fn decode_all(codings: &[&str], bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut data: Option<Vec<u8>> = None;
    for coding in codings.iter().rev() {
        let input = data.as_deref().unwrap_or(bytes);
        match decode(coding, input, MAX_DECODED_BYTES) {
            Ok(decoded) => data = Some(decoded),
            Err(why) => return Err(format!("{coding}: {why}")),
        }
    }
    Ok(data.unwrap_or_default())
}

/// The body a message's `Content-Encoding` hides, for a body still encoded (kept as sent);
/// `None` when there is no coding or it does not decode.
pub(crate) fn decode_content(headers: &Headers, bytes: &[u8]) -> Option<Vec<u8>> {
    let codings = codings(headers);
    if codings.is_empty() || bytes.is_empty() {
        return None;
    }
    decode_all(&codings, bytes).ok()
}

/// Decodes one content coding (RFC 9110 §8.4.1).
fn decode(coding: &str, data: &[u8], limit: usize) -> Result<Vec<u8>, String> {
    use flate2::bufread::{DeflateDecoder, MultiGzDecoder, ZlibDecoder};
    // A first guess at the decoded size saves regrowing the output: gzip records it (mod 2^32)
    // in its last four bytes (RFC 1952 §2.3.1 ISIZE); otherwise assume 4:1.
    let guess = match coding.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" if data.len() >= 18 => {
            let tail: [u8; 4] = data[data.len() - 4..].try_into().expect("4 bytes");
            u32::from_le_bytes(tail) as usize
        }
        _ => data.len().saturating_mul(4),
    };
    let capacity = guess.min(limit).min(data.len().saturating_mul(64)) + 1;
    match coding.to_ascii_lowercase().as_str() {
        "gzip" | "x-gzip" => read_limited(MultiGzDecoder::new(data), limit, capacity),
        // "deflate" is zlib-wrapped (RFC 9110 §8.4.1.2), but some servers send it raw.
        "deflate" => read_limited(ZlibDecoder::new(data), limit, capacity)
            .or_else(|_| read_limited(DeflateDecoder::new(data), limit, capacity)),
        "br" => read_limited(
            brotli_decompressor::Decompressor::new(data, 64 << 10),
            limit,
            capacity,
        ),
        other => Err(format!("unsupported content coding {other:?}")),
    }
}

/// Reads a whole decoder, stopping past `limit`.
fn read_limited(mut r: impl Read, limit: usize, capacity: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(capacity);
    let n = r
        .by_ref()
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    if n > limit {
        return Err(format!("decoded body over {limit} bytes"));
    }
    Ok(out)
}
