//! Keyed HMAC state prepared once, tags, and the signature encodings.

use crate::error::SecretProblem;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The hash behind the HMAC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA1 (20-byte tags): Twilio's, and only for its built-in scheme (generic schemes
    /// take SHA-256 or SHA-512).
    Sha1,
    /// HMAC-SHA256 (32-byte tags).
    Sha256,
    /// HMAC-SHA512 (64-byte tags).
    Sha512,
}

impl Algorithm {
    /// Tag length in bytes.
    #[must_use]
    pub const fn tag_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha512 => 64,
        }
    }

    /// The lower-case name (`sha256`, `sha512`), as MoltFlow's algorithm header spells it.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Parses `sha256`/`sha512` (also `sha-256`, `SHA512`, ...).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        if n.eq_ignore_ascii_case("sha256") || n.eq_ignore_ascii_case("sha-256") {
            Some(Self::Sha256)
        } else if n.eq_ignore_ascii_case("sha512") || n.eq_ignore_ascii_case("sha-512") {
            Some(Self::Sha512)
        } else {
            None
        }
    }
}

/// How a signature is written in its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// Hexadecimal; either case is accepted, lower case is produced.
    Hex,
    /// Standard base64 (`+/`); padding is produced, and accepted with or without.
    Base64,
    /// URL-safe base64 (`-_`); produced without padding, accepted with or without.
    Base64Url,
}

impl Encoding {
    /// The configuration name (`hex`, `base64`, `base64url`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Hex => "hex",
            Self::Base64 => "base64",
            Self::Base64Url => "base64url",
        }
    }

    /// Parses a configuration name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Hex, Self::Base64, Self::Base64Url]
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(name.trim()))
    }

    /// Encodes bytes.
    pub(crate) fn encode(self, bytes: &[u8]) -> String {
        match self {
            Self::Hex => base16ct::lower::encode_string(bytes),
            Self::Base64 => crate::base64::encode(bytes, false, true),
            Self::Base64Url => crate::base64::encode(bytes, true, false),
        }
    }

    /// Decodes `src` into `dst`, returning the decoded bytes, or `None` when `src` is not in
    /// this encoding or does not fit. Base64 padding is optional.
    pub(crate) fn decode<'d>(self, src: &str, dst: &'d mut [u8]) -> Option<&'d [u8]> {
        match self {
            Self::Hex => decode_hex(src.as_bytes(), dst),
            Self::Base64 => decode_base64_padded(src.as_bytes(), dst),
            Self::Base64Url => crate::base64::decode(src.as_bytes(), true, dst),
        }
    }

    /// How many bytes `src` would decode to, if it were valid: lets a wrong-length signature be
    /// reported as such rather than as bad encoding.
    pub(crate) fn decoded_len_hint(self, src: &str) -> usize {
        match self {
            Self::Hex => src.len() / 2,
            Self::Base64 | Self::Base64Url => src.trim_end_matches('=').len() * 3 / 4,
        }
    }
}

/// Hex of either case. The signatures decoded here are public (they arrive in a header), so a
/// plain decoder is used; the comparison with the computed tag stays constant-time, and secrets
/// given as hex are decoded in constant time (base16ct) in `secret.rs`.
fn decode_hex<'d>(src: &[u8], dst: &'d mut [u8]) -> Option<&'d [u8]> {
    // Inlined by hand (the release build optimises for size, which would keep a call per digit
    // in the hot path of every verification).
    #[inline(always)]
    fn nibble(c: u8) -> Option<u8> {
        let digit = c.wrapping_sub(b'0');
        if digit < 10 {
            return Some(digit);
        }
        let letter = (c | 0x20).wrapping_sub(b'a');
        // `then`, not `then_some`: the sum must not be computed for a byte that is no letter
        // (it overflows; the fuzzer found it with a backtick).
        (letter < 6).then(|| letter + 10)
    }
    if !src.len().is_multiple_of(2) {
        return None;
    }
    let out = dst.get_mut(..src.len() / 2)?;
    let mut digits = src.iter();
    for o in out.iter_mut() {
        let (Some(&hi), Some(&lo)) = (digits.next(), digits.next()) else {
            return None;
        };
        *o = (nibble(hi)? << 4) | nibble(lo)?;
    }
    Some(out)
}

/// A key in standard-alphabet base64: padding optional, spare bits ignored (as Python's
/// reference library decodes keys). Signatures go through [`Encoding::decode`], strictly.
pub(crate) fn decode_base64<'d>(src: &[u8], dst: &'d mut [u8]) -> Option<&'d [u8]> {
    crate::base64::decode_lenient(src, dst)
}

/// Standard base64 with its padding, as senders write signatures: the reference libraries
/// compare the encoded strings, so a signature that lost its `=` verifies nowhere else and does
/// not here either. Keys (trusted configuration) may leave the padding out: `decode_base64`.
fn decode_base64_padded<'d>(src: &[u8], dst: &'d mut [u8]) -> Option<&'d [u8]> {
    if !src.len().is_multiple_of(4) {
        return None;
    }
    crate::base64::decode(src, false, dst)
}

/// URL-safe base64 of any length (JWT parts), padding optional.
pub(crate) fn decode_base64url(src: &str) -> Option<Vec<u8>> {
    let mut out = vec![0u8; src.len() * 3 / 4 + 3];
    let len = crate::base64::decode(src.as_bytes(), true, &mut out)?.len();
    out.truncate(len);
    Some(out)
}

/// The largest tag any supported algorithm produces.
pub(crate) const MAX_TAG: usize = 64;

/// A computed MAC tag.
#[derive(Clone, Copy)]
pub(crate) struct Tag {
    bytes: [u8; MAX_TAG],
    len: usize,
}

impl Tag {
    fn new(src: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_TAG];
        let len = src.len().min(MAX_TAG);
        if let (Some(d), Some(s)) = (bytes.get_mut(..len), src.get(..len)) {
            d.copy_from_slice(s);
        }
        Self { bytes, len }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }

    /// Constant-time comparison; only a length difference returns early.
    pub(crate) fn matches(&self, candidate: &[u8]) -> bool {
        self.as_slice().ct_eq(candidate).into()
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tag(..)")
    }
}

/// A key, prepared once: a keyed HMAC state (the key's inner and outer pads already absorbed,
/// cloned for each message: two compressions fewer per call than keying from scratch), or an
/// Ed25519 key (Standard Webhooks `v1a`).
#[derive(Clone)]
pub(crate) enum PreparedKey {
    /// A `whpk_` public key: verifies `v1a` signatures.
    Ed25519Public(Box<ed25519_dalek::VerifyingKey>),
    /// A `whsk_` secret key: signs `v1a`, and verifies with its public half.
    Ed25519Secret(Box<ed25519_dalek::SigningKey>),
    Sha1(Hmac<Sha1>),
    Sha256(Hmac<Sha256>),
    Sha512(Hmac<Sha512>),
}

impl PreparedKey {
    /// HMAC accepts keys of any length, so this cannot fail for the supported algorithms;
    /// `None` would only come from an implementation that refuses a length.
    pub(crate) fn new(algorithm: Algorithm, key: &[u8]) -> Option<Self> {
        Some(match algorithm {
            Algorithm::Sha1 => Self::Sha1(Hmac::new_from_slice(key).ok()?),
            Algorithm::Sha256 => Self::Sha256(Hmac::new_from_slice(key).ok()?),
            Algorithm::Sha512 => Self::Sha512(Hmac::new_from_slice(key).ok()?),
        })
    }

    /// An Ed25519 key from a `whpk_` (public) or `whsk_` (secret) key's decoded bytes.
    pub(crate) fn ed25519(public: bool, bytes: &[u8]) -> Result<Self, SecretProblem> {
        if public {
            let bytes: &[u8; 32] = bytes.try_into().map_err(|_| SecretProblem::BadEd25519Key)?;
            let key = ed25519_dalek::VerifyingKey::from_bytes(bytes)
                .map_err(|_| SecretProblem::BadEd25519Key)?;
            // A small-order key (the identity, the all-zero encoding, the other torsion points)
            // verifies forged signatures; a non-canonical encoding is another key's in disguise.
            if key.is_weak() || key.to_edwards().compress().to_bytes() != *bytes {
                return Err(SecretProblem::WeakEd25519Key);
            }
            return Ok(Self::Ed25519Public(Box::new(key)));
        }
        let bad = SecretProblem::BadEd25519Key;
        let (seed, public) = match bytes.len() {
            32 => (bytes, None),
            64 => (bytes.get(..32).ok_or(bad)?, bytes.get(32..)),
            _ => return Err(bad),
        };
        let key = ed25519_dalek::SigningKey::from_bytes(seed.try_into().map_err(|_| bad)?);
        // Seed and public key together must be one key pair.
        if public.is_some_and(|p| p != key.verifying_key().as_bytes()) {
            return Err(bad);
        }
        Ok(Self::Ed25519Secret(Box::new(key)))
    }

    /// The public key that checks this key's signatures, when it is an Ed25519 key.
    pub(crate) fn ed25519_public(&self) -> Option<ed25519_dalek::VerifyingKey> {
        match self {
            Self::Ed25519Public(k) => Some(**k),
            Self::Ed25519Secret(k) => Some(k.verifying_key()),
            _ => None,
        }
    }

    /// The tag of the concatenation of the chunks `feed` hands over: the HMAC, or for an
    /// Ed25519 secret key its signature (a public key produces nothing: it cannot sign).
    pub(crate) fn tag(&self, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Tag {
        match self {
            Self::Ed25519Public(_) => Tag::new(&[]),
            Self::Ed25519Secret(k) => {
                let mut message = Vec::new();
                feed(&mut |chunk| message.extend_from_slice(chunk));
                // `try_sign`: `sign` would bring a panic path (and its formatting) into the module.
                ed25519_dalek::Signer::try_sign(k.as_ref(), &message)
                    .map_or_else(|_| Tag::new(&[]), |s| Tag::new(&s.to_bytes()))
            }
            Self::Sha1(m) => run(m.clone(), feed),
            Self::Sha256(m) => run(m.clone(), feed),
            Self::Sha512(m) => run(m.clone(), feed),
        }
    }
}

fn run<M: Mac>(mut mac: M, feed: impl FnOnce(&mut dyn FnMut(&[u8]))) -> Tag {
    feed(&mut |chunk| mac.update(chunk));
    Tag::new(&mac.finalize().into_bytes())
}

impl fmt::Debug for PreparedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreparedKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_both_hex_cases_and_padded_base64() {
        let mut buf = [0u8; 8];
        assert_eq!(
            Encoding::Hex.decode("0aFf", &mut buf),
            Some(&[0x0a, 0xff][..])
        );
        assert_eq!(Encoding::Hex.decode("0g", &mut buf), None);
        // Bytes below `a` once lower-cased (a backtick) are no digit, and no overflow either.
        assert_eq!(Encoding::Hex.decode("`9", &mut buf), None);
        assert_eq!(Encoding::Hex.decode("9\u{7f}", &mut buf), None);
        assert_eq!(
            Encoding::Base64.decode("+/8=", &mut buf),
            Some(&[0xfb, 0xff][..])
        );
        // A signature keeps its padding (keys need not: `decode_base64`); JWT parts have none.
        assert_eq!(Encoding::Base64.decode("+/8", &mut buf), None);
        assert_eq!(Encoding::Base64.decode("+/8==", &mut buf), None);
        assert_eq!(decode_base64(b"+/8", &mut buf), Some(&[0xfb, 0xff][..]));
        // A signature's spare bits must be zero; a key's may not be (`/9` is `+/8` with one set).
        assert_eq!(Encoding::Base64.decode("+/9=", &mut buf), None);
        assert_eq!(decode_base64(b"+/9", &mut buf), Some(&[0xfb, 0xff][..]));
        assert_eq!(
            Encoding::Base64Url.decode("-_8", &mut buf),
            Some(&[0xfb, 0xff][..])
        );
        assert_eq!(Encoding::Base64.decode("-_8", &mut buf), None);
        // Too long for the buffer is a refusal, not a panic.
        assert_eq!(Encoding::Hex.decode(&"00".repeat(9), &mut buf), None);
    }

    #[test]
    fn tag_compare_is_exact() {
        let t = Tag::new(&[1, 2, 3]);
        assert!(t.matches(&[1, 2, 3]));
        assert!(!t.matches(&[1, 2, 4]));
        assert!(!t.matches(&[1, 2]));
        assert!(!t.matches(&[1, 2, 3, 0]));
    }
}
