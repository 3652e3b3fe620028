//! Handshake messages: reassembled from records of one direction, and read for what
//! decryption and provenance need (randoms, version, suite, SNI, ALPN, resumption).
//!
//! ClientHello and ServerHello are parsed by tls-parser; EncryptedExtensions (TLS 1.3, which
//! carries the server's ALPN answer) is not in its message enum, so only its extension list
//! is handed to it. Messages may span records and records may hold several messages
//! (RFC 8446 §5.1), hence the buffer.

use tls_parser::{
    TlsExtension, TlsMessage, TlsMessageHandshake, parse_tls_extensions,
    parse_tls_message_handshake, parse_tls_server_hello_extensions,
};

/// Largest handshake message kept for parsing (certificate chains are the big ones and are
/// skipped without being kept).
pub const MAX_HANDSHAKE_MESSAGE_BYTES: usize = 1 << 16;

/// `supported_versions` value of TLS 1.3.
pub const TLS13: u16 = 0x0304;

/// The random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest".
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// What a ClientHello says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// The 32-byte random: the key log's index.
    pub random: Vec<u8>,
    /// The legacy session id (TLS 1.2 resumption offers it).
    pub session_id: Vec<u8>,
    /// `server_name`.
    pub sni: Option<String>,
    /// Offers a session ticket or a TLS 1.3 pre-shared key.
    pub offers_resumption: bool,
    /// Sends early data (0-RTT).
    pub early_data: bool,
    /// The session ticket offered (RFC 5077), empty when none.
    pub ticket: Vec<u8>,
}

/// What a ServerHello says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerHello {
    /// The 32-byte random.
    pub random: Vec<u8>,
    /// The negotiated version (`supported_versions` when present).
    pub version: u16,
    /// The chosen suite.
    pub suite: u16,
    /// The echoed session id.
    pub session_id: Vec<u8>,
    /// ALPN (TLS 1.2; in TLS 1.3 it comes in EncryptedExtensions).
    pub alpn: Option<String>,
    /// A TLS 1.3 pre-shared key was accepted (a resumed session).
    pub psk: bool,
    /// This is a HelloRetryRequest: another ClientHello and ServerHello follow.
    pub retry: bool,
}

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
    match ty {
        1 | 2 => match parse_tls_message_handshake(msg) {
            Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(c)))) => {
                let mut hello = ClientHello {
                    random: c.random.to_vec(),
                    session_id: c.session_id.unwrap_or_default().to_vec(),
                    ..ClientHello::default()
                };
                for ext in extensions(c.ext, false) {
                    match ext {
                        TlsExtension::SNI(names) => {
                            hello.sni = names
                                .iter()
                                .find(|(t, _)| t.0 == 0)
                                .and_then(|(_, n)| std::str::from_utf8(n).ok())
                                .map(str::to_owned);
                        }
                        TlsExtension::SessionTicket(t) if !t.is_empty() => {
                            hello.offers_resumption = true;
                            hello.ticket = t.to_vec();
                        }
                        TlsExtension::PreSharedKey(_) => hello.offers_resumption = true,
                        TlsExtension::EarlyData(_) => hello.early_data = true,
                        _ => {}
                    }
                }
                Message::ClientHello(hello)
            }
            Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ServerHello(s)))) => {
                let mut hello = ServerHello {
                    random: s.random.to_vec(),
                    version: s.version.0,
                    suite: s.cipher.0,
                    session_id: s.session_id.unwrap_or_default().to_vec(),
                    retry: s.random == HELLO_RETRY_RANDOM,
                    ..ServerHello::default()
                };
                for ext in extensions(s.ext, true) {
                    match ext {
                        TlsExtension::SupportedVersions(v) => {
                            if let Some(v) = v.first() {
                                hello.version = v.0;
                            }
                        }
                        TlsExtension::ALPN(p) => hello.alpn = first_protocol(&p),
                        TlsExtension::PreSharedKey(_) => hello.psk = true,
                        _ => {}
                    }
                }
                Message::ServerHello(hello)
            }
            _ => Message::Other,
        },
        8 => {
            // EncryptedExtensions: a 2-byte length, then extensions.
            let alpn = msg.get(6..).and_then(|exts| {
                extensions(Some(exts), false)
                    .into_iter()
                    .find_map(|e| match e {
                        TlsExtension::ALPN(p) => first_protocol(&p),
                        _ => None,
                    })
            });
            Message::EncryptedExtensions { alpn }
        }
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

fn extensions(ext: Option<&[u8]>, server: bool) -> Vec<TlsExtension<'_>> {
    let Some(ext) = ext else { return Vec::new() };
    let parsed = if server {
        parse_tls_server_hello_extensions(ext)
    } else {
        parse_tls_extensions(ext)
    };
    parsed.map(|(_, v)| v).unwrap_or_default()
}

fn first_protocol(p: &[&[u8]]) -> Option<String> {
    p.first()
        .and_then(|p| std::str::from_utf8(p).ok())
        .map(str::to_owned)
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
