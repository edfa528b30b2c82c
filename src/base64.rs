//! Base64, standard and URL-safe, written for this crate's needs in a few hundred bytes of wasm
//! (the general-purpose crate cost about 4 KB). Decoding is branch-free per character, with no
//! table indexed by the input, so secrets (`whsec_…`, `whsk_…`) decode in constant time.

/// Encodes `bytes`; `url` picks the URL-safe alphabet, `pad` the trailing `=`.
pub(crate) fn encode(bytes: &[u8], url: bool, pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(encode_char((n >> (18 - 6 * i)) as u8 & 63, url)));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// One 6-bit value as its character, without branching on it (base64ct's technique): the
/// offset from the value to its character, adjusted at each range boundary.
fn encode_char(v: u8, url: bool) -> u8 {
    let v = i16::from(v);
    let (to_62, to_63) = if url { (-13, 49) } else { (-15, 3) };
    let mut diff = 0x41;
    diff += ((25 - v) >> 8) & 6;
    diff -= ((51 - v) >> 8) & 75;
    diff += ((61 - v) >> 8) & to_62;
    diff += ((62 - v) >> 8) & to_63;
    (v + diff) as u8
}

/// One character's 6-bit value, or -1; branch-free (the libsodium technique).
fn decode_char(c: u8, url: bool) -> i16 {
    let c = i16::from(c);
    let in_range = |lo: i16, hi: i16| ((lo - 1 - c) & (c - hi - 1)) >> 8;
    let (plus, slash) = if url { (b'-', b'_') } else { (b'+', b'/') };
    let mut v: i16 = -1;
    v += in_range(0x41, 0x5a) & (c - 64);
    v += in_range(0x61, 0x7a) & (c - 70);
    v += in_range(0x30, 0x39) & (c + 5);
    v += in_range(i16::from(plus), i16::from(plus)) & 63;
    v += in_range(i16::from(slash), i16::from(slash)) & 64;
    v
}

/// Decodes `src` into `dst`: padding optional, and refused when the bits after the last byte
/// are not zero (so each byte string has exactly one encoding). `None` for anything else that
/// is not base64 of the given alphabet, or a `dst` too small.
pub(crate) fn decode<'d>(src: &[u8], url: bool, dst: &'d mut [u8]) -> Option<&'d [u8]> {
    decode_with(src, url, false, dst)
}

/// As [`decode`], but bits after the last byte may be set, as Python's `base64.b64decode`
/// allows (keys are trusted configuration: a key its reference library takes works here too;
/// signatures stay strict).
pub(crate) fn decode_lenient<'d>(src: &[u8], dst: &'d mut [u8]) -> Option<&'d [u8]> {
    decode_with(src, false, true, dst)
}

fn decode_with<'d>(src: &[u8], url: bool, spare_bits: bool, dst: &'d mut [u8]) -> Option<&'d [u8]> {
    let src = src
        .strip_suffix(b"==")
        .or_else(|| src.strip_suffix(b"="))
        .unwrap_or(src);
    if src.len() % 4 == 1 {
        return None;
    }
    let len = src.len() * 3 / 4;
    let out = dst.get_mut(..len)?;
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut bad: i16 = 0;
    let mut at = 0;
    for &c in src {
        let v = decode_char(c, url);
        bad |= v;
        acc = acc << 6 | u32::from(v as u8 & 63);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            if let Some(o) = out.get_mut(at) {
                *o = (acc >> bits) as u8;
            }
            at += 1;
        }
    }
    // Leftover bits must be zero (unless `spare_bits`); a negative value marked an invalid
    // character.
    let leftover = acc & ((1 << bits) - 1);
    (bad >= 0 && (spare_bits || leftover == 0) && at == len).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    #[test]
    fn every_character_maps_as_the_alphabet_says() {
        for (alphabet, url) in [(STD, false), (URL, true)] {
            for c in 0..=255u8 {
                let want = alphabet
                    .iter()
                    .position(|&a| a == c)
                    .map_or(-1, |p| p as i16);
                assert_eq!(decode_char(c, url), want, "{c}");
            }
            for v in 0..64u8 {
                assert_eq!(encode_char(v, url), alphabet[usize::from(v)], "{v}");
            }
        }
    }

    #[test]
    fn round_trips_and_rfc_4648_vectors() {
        for (plain, b64) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(encode(plain.as_bytes(), false, true), b64);
            let mut buf = [0u8; 8];
            assert_eq!(
                decode(b64.as_bytes(), false, &mut buf),
                Some(plain.as_bytes())
            );
            let unpadded = b64.trim_end_matches('=');
            assert_eq!(encode(plain.as_bytes(), true, false), unpadded);
            assert_eq!(
                decode(unpadded.as_bytes(), true, &mut buf),
                Some(plain.as_bytes())
            );
        }
        let all: Vec<u8> = (0..=255).collect();
        let mut buf = [0u8; 256];
        assert_eq!(
            decode(encode(&all, false, true).as_bytes(), false, &mut buf),
            Some(&all[..])
        );
        assert_eq!(
            decode(encode(&all, true, false).as_bytes(), true, &mut buf),
            Some(&all[..])
        );
    }

    #[test]
    fn keys_may_carry_spare_bits_as_python_decodes_them() {
        let mut buf = [0u8; 8];
        assert_eq!(decode(b"Zh==", false, &mut buf), None);
        assert_eq!(decode_lenient(b"Zh==", &mut buf), Some(&b"f"[..]));
        assert_eq!(decode_lenient(b"Zm9=", &mut buf), Some(&b"fo"[..]));
        assert_eq!(decode_lenient(b"Z", &mut buf), None);
        assert_eq!(decode_lenient(b"Zm9v!A==", &mut buf), None);
    }

    #[test]
    fn refuses_what_is_not_canonical_base64() {
        let mut buf = [0u8; 8];
        for bad in ["Zh==", "Zm9=", "Z", "Zm9v!A==", "-_8", "Zm9v===", "Zg=a"] {
            assert_eq!(decode(bad.as_bytes(), false, &mut buf), None, "{bad}");
        }
        assert_eq!(decode(b"+/8", true, &mut buf), None);
        // Too long for the buffer.
        assert_eq!(decode(b"Zm9vYmFyYmF6", false, &mut buf[..8]), None);
    }
}
