//! ClientHello and ServerHello (RFC 8446 §4.1.2-4.1.3, RFC 5246 §7.4.1), read for the
//! fields decryption and provenance need. Every read is bounds-checked: a short or malformed
//! hello gives `None`, and a malformed extension ends the list where it starts.

/// The random of a HelloRetryRequest (RFC 8446 §4.1.3): SHA-256 of "HelloRetryRequest".
const HELLO_RETRY_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

// Extension types (IANA TLS ExtensionType registry).
const SERVER_NAME: u16 = 0;
const ALPN: u16 = 16;
const SESSION_TICKET: u16 = 35;
const PRE_SHARED_KEY: u16 = 41;
const EARLY_DATA: u16 = 42;
const SUPPORTED_VERSIONS: u16 = 43;

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

/// Reads a ClientHello's body (after the 4-byte handshake header).
pub fn client(body: &[u8]) -> Option<ClientHello> {
    let mut r = Reader(body);
    r.take(2)?; // legacy_version
    let mut hello = ClientHello {
        random: r.take(32)?.to_vec(),
        session_id: r.vec8()?.to_vec(),
        ..ClientHello::default()
    };
    r.vec16()?; // cipher_suites
    r.vec8()?; // legacy_compression_methods
    for e in Extensions::after(r) {
        match e.kind {
            SERVER_NAME => hello.sni = e.server_name(),
            SESSION_TICKET if !e.data.is_empty() => {
                hello.offers_resumption = true;
                hello.ticket = e.data.to_vec();
            }
            PRE_SHARED_KEY => hello.offers_resumption = true,
            EARLY_DATA => hello.early_data = true,
            _ => {}
        }
    }
    Some(hello)
}

/// Reads a ServerHello's (or HelloRetryRequest's) body.
pub fn server(body: &[u8]) -> Option<ServerHello> {
    let mut r = Reader(body);
    let version = r.u16()?;
    let random = r.take(32)?;
    let mut hello = ServerHello {
        random: random.to_vec(),
        version,
        retry: random == HELLO_RETRY_RANDOM,
        session_id: r.vec8()?.to_vec(),
        suite: r.u16()?,
        ..ServerHello::default()
    };
    r.u8()?; // legacy_compression_method
    for e in Extensions::after(r) {
        match e.kind {
            SUPPORTED_VERSIONS => {
                if let Some(v) = Reader(e.data).u16() {
                    hello.version = v;
                }
            }
            ALPN => hello.alpn = e.alpn(),
            PRE_SHARED_KEY => hello.psk = true,
            _ => {}
        }
    }
    Some(hello)
}

/// One extension: its type and its data.
pub struct Extension<'a> {
    kind: u16,
    data: &'a [u8],
}

impl Extension<'_> {
    /// The first protocol of an `application_layer_protocol_negotiation` list.
    pub fn alpn(&self) -> Option<String> {
        if self.kind != ALPN {
            return None;
        }
        let mut list = Reader(Reader(self.data).vec16()?);
        text(list.vec8()?)
    }

    /// The host name of a `server_name` list (name type 0).
    fn server_name(&self) -> Option<String> {
        let mut list = Reader(Reader(self.data).vec16()?);
        while !list.0.is_empty() {
            let kind = list.u8()?;
            let name = list.vec16()?;
            if kind == 0 {
                return text(name);
            }
        }
        None
    }
}

/// The extensions of a hello or of EncryptedExtensions, in order.
pub struct Extensions<'a>(Reader<'a>);

impl<'a> Extensions<'a> {
    /// The extension block (a 2-byte length, then the extensions) that starts `block`.
    pub fn of_block(block: &'a [u8]) -> Self {
        Self::after(Reader(block))
    }

    /// What follows the hello's fixed fields: a TLS 1.2 hello may end before the block.
    fn after(mut r: Reader<'a>) -> Self {
        Extensions(Reader(r.vec16().unwrap_or_default()))
    }
}

impl<'a> Iterator for Extensions<'a> {
    type Item = Extension<'a>;

    fn next(&mut self) -> Option<Extension<'a>> {
        let kind = self.0.u16()?;
        match self.0.vec16() {
            Some(data) => Some(Extension { kind, data }),
            None => {
                self.0 = Reader(&[]);
                None
            }
        }
    }
}

fn text(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_owned)
}

/// A cursor over big-endian TLS fields (RFC 8446 §3).
#[derive(Clone, Copy)]
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// A vector with a 1-byte length.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(n.into())
    }

    /// A vector with a 2-byte length.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(n.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
        [
            &kind.to_be_bytes()[..],
            &(data.len() as u16).to_be_bytes(),
            data,
        ]
        .concat()
    }

    fn block(exts: &[Vec<u8>]) -> Vec<u8> {
        let all = exts.concat();
        [&(all.len() as u16).to_be_bytes()[..], &all].concat()
    }

    fn server_hello(exts: &[Vec<u8>]) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend([5u8; 32]);
        body.extend([2, 0xaa, 0xbb, 0x13, 0x02, 0]);
        body.extend(block(exts));
        body
    }

    #[test]
    fn a_tls13_server_hello_gives_its_real_version_suite_and_psk() {
        let h = server(&server_hello(&[
            ext(SUPPORTED_VERSIONS, &[0x03, 0x04]),
            ext(PRE_SHARED_KEY, &[0, 0]),
        ]))
        .unwrap();
        assert_eq!(
            (h.version, h.suite, h.session_id, h.psk, h.retry),
            (0x0304, 0x1302, vec![0xaa, 0xbb], true, false)
        );
    }

    #[test]
    fn a_tls12_server_hello_may_end_before_its_extensions() {
        let mut body = server_hello(&[]);
        body.truncate(body.len() - 2);
        let h = server(&body).unwrap();
        assert_eq!((h.version, h.alpn), (0x0303, None));
    }

    #[test]
    fn a_hello_retry_request_is_recognised_by_its_random() {
        let mut body = server_hello(&[]);
        body[2..34].copy_from_slice(&HELLO_RETRY_RANDOM);
        assert!(server(&body).unwrap().retry);
    }

    #[test]
    fn a_client_hello_gives_server_name_and_ticket() {
        let mut body = vec![0x03, 0x03];
        body.extend([7u8; 32]);
        body.extend([0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend(block(&[
            ext(
                SERVER_NAME,
                &[0, 9, 0, 0, 6, b'a', b'.', b't', b'e', b's', b't'],
            ),
            ext(SESSION_TICKET, &[1, 2, 3]),
            ext(EARLY_DATA, &[]),
        ]));
        let h = client(&body).unwrap();
        assert_eq!(h.sni.as_deref(), Some("a.test"));
        assert_eq!(
            (h.ticket, h.offers_resumption, h.early_data),
            (vec![1, 2, 3], true, true)
        );
    }

    #[test]
    fn every_cut_of_a_hello_is_read_without_panicking() {
        let body = server_hello(&[ext(ALPN, &[0, 3, 2, b'h', b'2'])]);
        assert_eq!(server(&body).unwrap().alpn.as_deref(), Some("h2"));
        for cut in 0..body.len() {
            let short = server(&body[..cut]);
            assert!(cut >= 40 || short.is_none(), "cut {cut}");
            let _ = client(&body[..cut]);
        }
    }

    #[test]
    fn a_malformed_extension_ends_the_list_but_keeps_those_before_it() {
        let exts = [ext(ALPN, &[0, 3, 2, b'h', b'2']), vec![0, 16, 0, 9, 1]].concat();
        let mut r = Extensions(Reader(&exts));
        assert_eq!(r.next().and_then(|e| e.alpn()).as_deref(), Some("h2"));
        assert!(r.next().is_none());
    }
}
