//! What the fuzz targets share: turning one input into the chunks of a connection, and
//! reading a whole stream of exchanges.

use wirecap::capture::connection::{FlowInfo, Role};
use wirecap::capture::tcp_reassembly::{Chunk, Origin};
use wirecap::formats::{self, Format, Input, ReadOptions};
use wirecap::model::Timestamp;

/// Splits `data` into a connection's chunks: a byte 0xfe switches direction, 0xfd marks a gap
/// whose length is the next byte. Packet numbers and times rise by one per chunk.
pub fn chunks(data: &[u8]) -> Vec<(Role, Option<&[u8]>, u64, Origin)> {
    let mut out = Vec::new();
    let mut role = Role::Request;
    let mut rest = data;
    let mut n = 0u64;
    while !rest.is_empty() {
        n += 1;
        let origin = Origin {
            ts: Timestamp::from_unix(1_700_000_000 + n as i64, 0),
            packet: n,
        };
        let end = rest
            .iter()
            .position(|&b| b == 0xfe || b == 0xfd)
            .unwrap_or(rest.len());
        if end > 0 {
            out.push((role, Some(&rest[..end]), 0, origin));
        }
        match rest.get(end) {
            Some(0xfe) => {
                role = match role {
                    Role::Request => Role::Response,
                    Role::Response => Role::Request,
                };
                rest = &rest[end + 1..];
            }
            Some(_) => {
                let gap = u64::from(rest.get(end + 1).copied().unwrap_or(1));
                out.push((role, None, gap, origin));
                rest = rest.get(end + 2..).unwrap_or_default();
            }
            None => rest = &[],
        }
    }
    out
}

/// Feeds the chunks of `data` to `feed` as [`Chunk`]s.
pub fn feed_chunks(data: &[u8], mut feed: impl FnMut(Role, Chunk<'_>)) {
    for (role, bytes, gap, origin) in chunks(data) {
        match bytes {
            Some(b) => feed(role, Chunk::Data(b, origin)),
            None => feed(role, Chunk::Gap(gap)),
        }
    }
}

/// A cleartext flow's stamp.
pub fn flow_info() -> FlowInfo {
    FlowInfo {
        file: "fuzz".into(),
        label: "c -> s".into(),
        server: "10.0.0.2:80".parse().expect("a socket address"),
        tls: None,
    }
}

/// Reads every exchange (and error) of `data` as `format`; the reader must end on its own.
pub fn read_all(format: Format, data: &[u8]) {
    let input = Input {
        name: "fuzz".into(),
        reader: Box::new(std::io::Cursor::new(data.to_vec())),
    };
    if let Ok(exchanges) = formats::read(format, input, &ReadOptions::default()) {
        for ex in exchanges {
            let _ = ex;
        }
    }
}
