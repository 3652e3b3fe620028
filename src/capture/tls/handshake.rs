//! Handshake messages: reassembled from records of one direction, and read for what
//! decryption and provenance need (randoms, version, suite, SNI, ALPN, resumption).
//!
//! Messages may span records and records may hold several messages (RFC 8446 §5.1), hence
//! the buffer. The hellos are read by hand (`hello.rs`): wirecap needs a dozen fields of them,
//! and tls-parser, which read them before, brought some 25 crates into the build (nom 7,
//! syn 1, a TOML parser for a derive macro) for that.

use super::hello::{self, Extensions};

/// Largest handshake message kept for parsing (certificate chains are the big ones and are
/// skipped without being kept).
pub const MAX_HANDSHAKE_MESSAGE_BYTES: usize = 1 << 16;

/// `supported_versions` value of TLS 1.3.
pub const TLS13: u16 = 0x0304;

pub use super::hello::{ClientHello, ServerHello};

/// A handshake message of interest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// ClientHello.
    ClientHello(ClientHello),
    /// ServerHello or HelloRetryRequest.
    ServerHello(ServerHello),
    /// EncryptedExtensions with the server's ALPN choice.
    EncryptedExtensions {
        /// The protocol.
        alpn: Option<String>,
    },
    /// NewSessionTicket in its TLS 1.2 form (RFC 5077 §3.3): the ticket.
    NewSessionTicket(Vec<u8>),
    /// Finished: the sender's next records use its application keys (TLS 1.3).
    Finished,
    /// KeyUpdate: the sender's next records use updated keys (TLS 1.3).
    KeyUpdate,
    /// Anything else, or a message that did not parse.
    Other,
}

/// Reassembles handshake messages of one direction.
#[derive(Debug, Default)]
pub struct Reassembler {
    buf: Vec<u8>,
    /// Bytes of an oversized message still to skip.
    skip: usize,
}

impl Reassembler {
    /// Adds a handshake record's plaintext and returns the messages it completed.
    pub fn push(&mut self, mut data: &[u8]) -> Vec<Message> {
        let mut out = Vec::new();
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            data = &data[n..];
        }
        self.buf.extend_from_slice(data);
        let mut at = 0;
        while let Some(head) = self.buf.get(at..at + 4) {
            let len = usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]);
            let ty = head[0];
            if len > MAX_HANDSHAKE_MESSAGE_BYTES {
                // A certificate chain or similar: nothing wirecap reads; skip it.
                let have = self.buf.len() - at - 4;
                out.push(Message::Other);
                if have >= len {
                    at += 4 + len;
                    continue;
                }
                self.skip = len - have;
                at = self.buf.len();
                break;
            }
            let Some(msg) = self.buf.get(at..at + 4 + len) else {
                break;
            };
            out.push(parse(ty, msg));
            at += 4 + len;
        }
        self.buf.drain(..at);
        out
    }
}

fn parse(ty: u8, msg: &[u8]) -> Message {
    let body = &msg[4..];
    match ty {
        1 => hello::client(body).map_or(Message::Other, Message::ClientHello),
        2 => hello::server(body).map_or(Message::Other, Message::ServerHello),
        // EncryptedExtensions: the extension block and nothing else.
        8 => Message::EncryptedExtensions {
            alpn: Extensions::of_block(body).find_map(|e| e.alpn()),
        },
        // A 4-byte lifetime hint, then the ticket with a 2-byte length.
        4 => match msg.get(8..10) {
            Some(&[hi, lo]) => msg
                .get(10..10 + (usize::from(hi) << 8 | usize::from(lo)))
                .map_or(Message::Other, |t| Message::NewSessionTicket(t.to_vec())),
            _ => Message::Other,
        },
        20 => Message::Finished,
        24 => Message::KeyUpdate,
        _ => Message::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ClientHello as curl 8 sends it, cut down: random, session id, one suite, SNI `a.test`,
    /// ALPN `h2`.
    fn client_hello() -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([7u8; 32]);
        body.extend([1, 9]); // session id
        body.extend([0, 2, 0x13, 0x01, 1, 0]);
        let sni = [
            0, 0, 0, 11, 0, 9, 0, 0, 6, b'a', b'.', b't', b'e', b's', b't',
        ];
        let alpn = [0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        let exts = [&sni[..], &alpn[..]].concat();
        body.extend((exts.len() as u16).to_be_bytes());
        body.extend(exts);
        let mut msg = vec![1, 0, 0, body.len() as u8];
        msg.extend(body);
        msg
    }

    #[test]
    fn a_client_hello_gives_random_and_server_name() {
        let msg = client_hello();
        let got = Reassembler::default().push(&msg);
        let Some(Message::ClientHello(h)) = got.first() else {
            panic!("{got:?}")
        };
        assert_eq!(
            (h.random.as_slice(), h.session_id.as_slice()),
            (&[7u8; 32][..], &[9u8][..])
        );
        assert_eq!(h.sni.as_deref(), Some("a.test"));
    }

    #[test]
    fn messages_split_across_records_are_joined_at_every_byte() {
        let msg = client_hello();
        for cut in 0..msg.len() {
            let mut r = Reassembler::default();
            let mut got = r.push(&msg[..cut]);
            got.extend(r.push(&msg[cut..]));
            assert!(
                matches!(got.as_slice(), [Message::ClientHello(_)]),
                "cut {cut}"
            );
        }
    }

    #[test]
    fn encrypted_extensions_give_the_alpn_answer() {
        let exts = [0, 16, 0, 5, 0, 3, 2, b'h', b'2'];
        let mut msg = vec![8, 0, 0, 11, 0, 9];
        msg.extend(exts);
        let got = Reassembler::default().push(&[&msg[..], &[20, 0, 0, 0]].concat());
        assert_eq!(
            got,
            [
                Message::EncryptedExtensions {
                    alpn: Some("h2".into())
                },
                Message::Finished
            ]
        );
    }

    #[test]
    fn oversized_messages_are_skipped_not_kept() {
        let mut r = Reassembler::default();
        let len = MAX_HANDSHAKE_MESSAGE_BYTES + 10;
        let head = [11, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        assert_eq!(r.push(&[&head[..], &[0; 100]].concat()), [Message::Other]);
        assert_eq!(r.push(&vec![0; len - 100]), []);
        assert_eq!(r.push(&[20, 0, 0, 0]), [Message::Finished]);
    }
}
