//! The NSS key log format: the secrets that `SSLKEYLOGFILE` makes curl, Firefox, Chromium,
//! Python's ssl module and Go write, one line per secret, keyed by the ClientHello's random.
//!
//! Format (NSS "Key Log Format", also draft-ietf-tls-keylogfile): `LABEL <client random hex>
//! <secret hex>`; `#` starts a comment. TLS 1.2 logs `CLIENT_RANDOM` (the master secret);
//! TLS 1.3 logs the handshake and first application traffic secrets of each side. The same
//! text is what pcapng Decryption Secrets Blocks carry (`editcap --inject-secrets`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The key log a capture's connections share: secrets from pcapng Decryption Secrets Blocks
/// are added while the capture is read, and a connection looks its keys up at its ServerHello.
pub type SharedKeys = Arc<RwLock<KeyLog>>;

/// Longest secret accepted (SHA-384 secrets are 48 bytes; the TLS 1.2 master secret too).
pub const MAX_SECRET_BYTES: usize = 64;

/// The secrets logged for one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// TLS 1.2 (and earlier) master secret: `CLIENT_RANDOM`.
    pub master: Option<Vec<u8>>,
    /// TLS 1.3 `CLIENT_HANDSHAKE_TRAFFIC_SECRET`.
    pub client_handshake: Option<Vec<u8>>,
    /// TLS 1.3 `SERVER_HANDSHAKE_TRAFFIC_SECRET`.
    pub server_handshake: Option<Vec<u8>>,
    /// TLS 1.3 `CLIENT_TRAFFIC_SECRET_0`.
    pub client_traffic: Option<Vec<u8>>,
    /// TLS 1.3 `SERVER_TRAFFIC_SECRET_0`.
    pub server_traffic: Option<Vec<u8>>,
}

/// A line of a key log that is not a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A line without the three space-separated fields.
    #[error("line {line}: expected `LABEL CLIENT_RANDOM SECRET`")]
    Fields {
        /// 1-based line number.
        line: u64,
    },
    /// A client random or secret that is not hex of the right length.
    #[error("line {line}: {what} is not {expected}")]
    Hex {
        /// 1-based line number.
        line: u64,
        /// `client random` or `secret`.
        what: &'static str,
        /// What was expected.
        expected: &'static str,
    },
}

/// TLS 1.2 sessions remembered for resumption within one capture.
pub const MAX_SESSIONS: usize = 1 << 16;

/// What a TLS 1.2 session is resumed by (RFC 5246 §7.4.1.2, RFC 5077 §3.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Resumption {
    /// The session id the server gave.
    Id(Vec<u8>),
    /// The session ticket the server gave.
    Ticket(Vec<u8>),
}

/// Secrets by client random.
#[derive(Debug, Clone, Default)]
pub struct KeyLog {
    by_random: HashMap<[u8; 32], Secrets>,
    /// TLS 1.2 master secrets of the capture's earlier connections, by what resumes them.
    sessions: HashMap<Resumption, Vec<u8>>,
    /// Lines with a label wirecap does not use (early traffic, exporter secrets, RSA keys).
    pub ignored_lines: u64,
}

impl KeyLog {
    /// Adds every secret in `text`; a malformed line stops with its number. Later lines for
    /// the same client random and label replace earlier ones.
    pub fn add_text(&mut self, text: &[u8]) -> Result<(), Error> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = i as u64 + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let trimmed = raw.trim_ascii();
            if trimmed.is_empty() || trimmed.starts_with(b"#") {
                continue;
            }
            let mut fields = trimmed
                .split(|b| b.is_ascii_whitespace())
                .filter(|f| !f.is_empty());
            let (Some(label), Some(random), Some(secret), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(Error::Fields { line });
            };
            if slot(&mut Secrets::default(), label).is_none() {
                self.ignored_lines += 1;
                continue;
            }
            let random: [u8; 32] =
                decode_hex(random)
                    .and_then(|v| v.try_into().ok())
                    .ok_or(Error::Hex {
                        line,
                        what: "client random",
                        expected: "64 hex digits",
                    })?;
            let secret = decode_hex(secret)
                .filter(|s| !s.is_empty() && s.len() <= MAX_SECRET_BYTES)
                .ok_or(Error::Hex {
                    line,
                    what: "secret",
                    expected: "hex of at most 64 bytes",
                })?;
            let entry = self.by_random.entry(random).or_default();
            if let Some(field) = slot(entry, label) {
                *field = Some(secret);
            }
        }
        Ok(())
    }

    /// The secrets logged for the connection whose ClientHello carried `random`.
    pub fn get(&self, random: &[u8]) -> Option<&Secrets> {
        let random: [u8; 32] = random.try_into().ok()?;
        self.by_random.get(&random)
    }

    /// The master secret of the TLS 1.2 session `by` resumes, when an earlier connection of
    /// the capture established it.
    pub fn resumed(&self, by: &Resumption) -> Option<&[u8]> {
        self.sessions.get(by).map(Vec::as_slice)
    }

    /// Remembers a session for connections that resume it; past [`MAX_SESSIONS`] new ones
    /// are not kept.
    pub fn learn(&mut self, by: Resumption, master: Vec<u8>) {
        if self.sessions.len() < MAX_SESSIONS || self.sessions.contains_key(&by) {
            self.sessions.insert(by, master);
        }
    }

    /// Connections with at least one secret.
    pub fn len(&self) -> usize {
        self.by_random.len()
    }

    /// Whether no secret was given.
    pub fn is_empty(&self) -> bool {
        self.by_random.is_empty()
    }
}

fn slot<'a>(s: &'a mut Secrets, label: &[u8]) -> Option<&'a mut Option<Vec<u8>>> {
    Some(match label {
        b"CLIENT_RANDOM" => &mut s.master,
        b"CLIENT_HANDSHAKE_TRAFFIC_SECRET" => &mut s.client_handshake,
        b"SERVER_HANDSHAKE_TRAFFIC_SECRET" => &mut s.server_handshake,
        b"CLIENT_TRAFFIC_SECRET_0" => &mut s.client_traffic,
        b"SERVER_TRAFFIC_SECRET_0" => &mut s.server_traffic,
        _ => return None,
    })
}

fn decode_hex(s: &[u8]) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.chunks_exact(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: &str = "5f0ba8e6e6d3b8c6a5b0f1e1d2c3b4a5968778695a4b3c2d1e0f00112233aabb";

    fn log(text: &str) -> Result<KeyLog, Error> {
        let mut k = KeyLog::default();
        k.add_text(text.as_bytes()).map(|()| k)
    }

    fn random() -> Vec<u8> {
        decode_hex(RANDOM.as_bytes()).expect("hex")
    }

    #[test]
    fn secrets_are_found_by_client_random() {
        let k = log(&format!(
            "# comment\n\nCLIENT_RANDOM {RANDOM} 0102\r\nSERVER_TRAFFIC_SECRET_0 {RANDOM} AAbb\n"
        ))
        .expect("parses");
        let s = k.get(&random()).expect("found");
        assert_eq!(s.master.as_deref(), Some(&[1u8, 2][..]));
        assert_eq!(s.server_traffic.as_deref(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(s.client_traffic, None);
        assert!(k.get(&[0; 32]).is_none());
    }

    #[test]
    fn labels_wirecap_does_not_use_are_counted_not_refused() {
        let k = log(&format!("EXPORTER_SECRET {RANDOM} 00\nRSA abc def\n")).expect("parses");
        assert_eq!((k.len(), k.ignored_lines), (0, 2));
    }

    #[test]
    fn malformed_lines_name_their_number() {
        assert_eq!(
            log("CLIENT_RANDOM abc").err(),
            Some(Error::Fields { line: 1 })
        );
        assert!(matches!(
            log(&format!("\nCLIENT_RANDOM {RANDOM} 0g")),
            Err(Error::Hex {
                line: 2,
                what: "secret",
                ..
            })
        ));
        assert!(matches!(
            log("CLIENT_RANDOM 00ff 00"),
            Err(Error::Hex {
                line: 1,
                what: "client random",
                ..
            })
        ));
    }
}
