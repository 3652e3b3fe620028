//! The HPACK Huffman code (RFC 7541 §5.2, Appendix B), decoded by table.
//!
//! loona-hpack decodes Huffman strings bit by bit through hash maps it builds anew for every
//! string: on a real HTTP/2 capture that was over half of the whole conversion. Here a 16-bit
//! lookahead table, built once, decodes every code of up to 16 bits in one step (all of
//! printable ASCII); the few longer codes are matched by length. [`super::hpack`] uses it to
//! hand loona-hpack blocks whose strings are already plain.

use std::sync::OnceLock;

/// `(code, bit length)` of each symbol 0..=255 and EOS (256), RFC 7541 Appendix B.
const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

/// Bits looked up at once.
const LOOKAHEAD: u32 = 16;

/// Why a Huffman string did not decode (RFC 7541 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The EOS symbol inside the string.
    #[error("EOS symbol inside a Huffman string")]
    Eos,
    /// Padding longer than 7 bits, or not the most significant bits of EOS.
    #[error("bad Huffman padding")]
    Padding,
}

struct Tables {
    /// By the next 16 bits: `symbol << 8 | length` of a code of up to 16 bits, or 0.
    short: Vec<u32>,
    /// Longer codes, shortest first: (code, length, symbol).
    long: Vec<(u32, u32, u16)>,
}

fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let mut short = vec![0u32; 1 << LOOKAHEAD];
        let mut long = Vec::new();
        for (symbol, &(code, len)) in CODES.iter().enumerate() {
            let len = u32::from(len);
            if len <= LOOKAHEAD && symbol < 256 {
                let first = (code << (LOOKAHEAD - len)) as usize;
                let entry = (symbol as u32) << 8 | len;
                short[first..first + (1 << (LOOKAHEAD - len))].fill(entry);
            } else {
                long.push((code, len, symbol as u16));
            }
        }
        long.sort_by_key(|&(_, len, _)| len);
        Tables { short, long }
    })
}

/// Appends the decoding of `input` to `out`.
pub fn decode(input: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
    let t = tables();
    out.reserve(input.len() * 8 / 5);
    // Bits, most significant first, left-aligned in `bits`.
    let (mut bits, mut have, mut next) = (0u64, 0u32, 0usize);
    loop {
        while have <= 56 {
            let Some(&b) = input.get(next) else { break };
            bits |= u64::from(b) << (56 - have);
            have += 8;
            next += 1;
        }
        if have == 0 {
            return Ok(());
        }
        let entry = t.short[(bits >> (64 - LOOKAHEAD)) as usize];
        let len = entry & 0xff;
        if entry != 0 && len <= have {
            out.push((entry >> 8) as u8);
            bits <<= len;
            have -= len;
            continue;
        }
        let found = t
            .long
            .iter()
            .take_while(|&&(_, l, _)| l <= have)
            .find(|&&(code, l, _)| (bits >> (64 - l)) as u32 == code);
        match found {
            Some(&(_, _, 256)) => return Err(Error::Eos),
            Some(&(_, l, symbol)) => {
                out.push(symbol as u8);
                bits <<= l;
                have -= l;
            }
            None => {
                // What is left must be padding: under 8 bits, all ones (a prefix of EOS).
                let rest = bits >> (64 - have);
                return if have < 8 && rest == (1 << have) - 1 && next == input.len() {
                    Ok(())
                } else {
                    Err(Error::Padding)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::test_support::hex;

    fn text(s: &str) -> Result<String, Error> {
        let mut out = Vec::new();
        decode(&hex(s), &mut out).map(|()| String::from_utf8_lossy(&out).into_owned())
    }

    /// The Huffman strings of RFC 7541 Appendix C.4 and C.6.
    #[test]
    fn rfc7541_examples_decode() {
        assert_eq!(
            text("f1e3 c2e5 f23a 6ba0 ab90 f4ff").as_deref(),
            Ok("www.example.com")
        );
        assert_eq!(text("a8eb 1064 9cbf").as_deref(), Ok("no-cache"));
        assert_eq!(text("25a8 49e9 5ba9 7d7f").as_deref(), Ok("custom-key"));
        assert_eq!(
            text("25a8 49e9 5bb8 e8b4 bf").as_deref(),
            Ok("custom-value")
        );
        assert_eq!(text("6402").as_deref(), Ok("302"));
        assert_eq!(text("aec3 771a 4b").as_deref(), Ok("private"));
        assert_eq!(
            text("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff").as_deref(),
            Ok("Mon, 21 Oct 2013 20:13:21 GMT")
        );
        assert_eq!(
            text("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3").as_deref(),
            Ok("https://www.example.com")
        );
        assert_eq!(
            text("94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07").as_deref(),
            Ok("foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")
        );
        assert_eq!(text("").as_deref(), Ok(""));
    }

    /// Every byte value, alone and in a run, through the long codes too.
    #[test]
    fn every_symbol_round_trips_through_the_code_table() {
        for symbol in 0..=255u8 {
            let (code, len) = CODES[usize::from(symbol)];
            // Two copies, then padding with ones to a byte boundary.
            let total = 2 * u32::from(len);
            let pad = (8 - total % 8) % 8;
            let mut acc: u128 = (u128::from(code) << len | u128::from(code)) << pad;
            acc |= (1u128 << pad) - 1;
            let bytes = ((total + pad) / 8) as usize;
            let encoded: Vec<u8> = (0..bytes)
                .map(|i| (acc >> (8 * (bytes - 1 - i))) as u8)
                .collect();
            let mut out = Vec::new();
            assert_eq!(decode(&encoded, &mut out), Ok(()), "symbol {symbol}");
            assert_eq!(out, [symbol, symbol], "symbol {symbol}");
        }
    }

    #[test]
    fn eos_and_bad_padding_are_errors() {
        // EOS (30 ones) padded with two ones.
        assert_eq!(text("ffff ffff"), Err(Error::Eos));
        // 'a' (00011) padded with zeros instead of ones.
        assert_eq!(text("18"), Err(Error::Padding));
        // 'a' then a whole byte of padding.
        assert_eq!(text("1f ff"), Err(Error::Padding));
    }
}
