//! Why a TLS connection was not decrypted, as the notes say it.

use super::handshake::TLS13;
use super::keys;

/// Why a TLS connection was not (or not wholly) decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The capture has no ClientHello or ServerHello for it (it started mid-connection).
    NoHandshake,
    /// The key log has no secret for its client random.
    NoKey {
        /// Hex of the client random.
        random: String,
    },
    /// A resumed session whose secrets are not in the key log.
    ResumedWithoutKey {
        /// Hex of the client random.
        random: String,
    },
    /// A protocol version other than TLS 1.2 and 1.3.
    UnsupportedVersion(u16),
    /// A cipher suite wirecap does not decrypt.
    UnsupportedSuite(u16),
    /// The key log has the handshake secrets of a TLS 1.3 connection but not this side's
    /// application traffic secret.
    NoTrafficSecret {
        /// `client` or `server`.
        side: &'static str,
    },
    /// Records that fail authentication: wrong keys, or corrupt ciphertext.
    AuthFailed {
        /// `client` or `server`.
        side: &'static str,
        /// 0-based record sequence number.
        seq: u64,
    },
    /// Bytes missing from the record stream, and no later record could be found.
    RecordGap {
        /// `client` or `server`.
        side: &'static str,
    },
    /// Bytes that are not TLS records where records were expected.
    Malformed {
        /// `client` or `server`.
        side: &'static str,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::NoHandshake => write!(f, "no handshake in the capture"),
            Failure::NoKey { random } => write!(f, "no key for client random {random}"),
            Failure::ResumedWithoutKey { random } => {
                write!(f, "resumed session, no key for client random {random}")
            }
            Failure::NoTrafficSecret { side } => write!(
                f,
                "no {} in the key log",
                if *side == "client" {
                    "CLIENT_TRAFFIC_SECRET_0"
                } else {
                    "SERVER_TRAFFIC_SECRET_0"
                }
            ),
            Failure::UnsupportedVersion(v) => write!(f, "version {}", version_name(*v)),
            Failure::UnsupportedSuite(s) => write!(f, "cipher suite {}", keys::suite_name(*s)),
            Failure::AuthFailed { side, seq } => {
                write!(f, "{side} record {seq} failed authentication")
            }
            Failure::RecordGap { side } => write!(f, "{side} records lost in a gap"),
            Failure::Malformed { side } => write!(f, "{side} bytes are not TLS records"),
        }
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSLv3".into(),
        0x0301 => "TLSv1.0".into(),
        0x0302 => "TLSv1.1".into(),
        0x0303 => "TLSv1.2".into(),
        TLS13 => "TLSv1.3".into(),
        v => format!("0x{v:04x}"),
    }
}
