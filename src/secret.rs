//! Turning a secret string into HMAC key bytes, per scheme. Nothing here keeps, prints or
//! returns the secret: errors say what is wrong with it, never what it is.

use crate::error::{Error, SecretProblem};

/// How a secret string becomes the HMAC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes (most providers, and Stripe's whole `whsec_…` string).
    #[default]
    Utf8,
    /// Standard Webhooks: an optional `whsec_` prefix, then base64; at least 16 bytes decoded.
    Whsec,
    /// Base64 (standard alphabet, padding optional).
    Base64,
    /// Hexadecimal.
    Hex,
}

impl SecretEncoding {
    /// Parses a configuration name (`utf8`, `whsec`, `base64`, `hex`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" | "raw" => Some(Self::Utf8),
            "whsec" | "standard-webhooks" => Some(Self::Whsec),
            "base64" => Some(Self::Base64),
            "hex" => Some(Self::Hex),
            _ => None,
        }
    }
}

/// Standard Webhooks keys must decode to at least this many bytes: a lenient base64 decoder
/// turns a mistyped secret into a near-empty key otherwise.
pub(crate) const MIN_WHSEC_LEN: usize = 16;

/// The key bytes for `secret` under `encoding`.
///
/// Whatever the encoding, a key that decodes to nothing, or to zero bytes only, is refused: HMAC
/// pads its key with zeros, so such a key is the empty key, and anyone can sign with it.
pub(crate) fn key_bytes(secret: &[u8], encoding: SecretEncoding) -> Result<Vec<u8>, Error> {
    let key = decode(secret, encoding)?;
    if key.is_empty() {
        return Err(Error::InvalidSecret(SecretProblem::Empty));
    }
    if key.iter().all(|&b| b == 0) {
        return Err(Error::InvalidSecret(SecretProblem::AllZero));
    }
    Ok(key)
}

fn decode(secret: &[u8], encoding: SecretEncoding) -> Result<Vec<u8>, Error> {
    let bad = |p| Err(Error::InvalidSecret(p));
    if secret.is_empty() {
        return bad(SecretProblem::Empty);
    }
    if secret.first().is_some_and(u8::is_ascii_whitespace)
        || secret.last().is_some_and(u8::is_ascii_whitespace)
    {
        return bad(SecretProblem::SurroundingWhitespace);
    }
    if looks_like_signature(secret) {
        return bad(SecretProblem::LooksLikeSignature);
    }
    match encoding {
        SecretEncoding::Utf8 => Ok(secret.to_vec()),
        SecretEncoding::Whsec => {
            let b64 = secret.strip_prefix(b"whsec_").unwrap_or(secret);
            let key = decode_base64(b64).ok_or(Error::InvalidSecret(SecretProblem::NotBase64))?;
            if key.len() < MIN_WHSEC_LEN {
                return bad(SecretProblem::TooShort {
                    len: key.len(),
                    min: MIN_WHSEC_LEN,
                });
            }
            Ok(key)
        }
        SecretEncoding::Base64 => {
            decode_base64(secret).ok_or(Error::InvalidSecret(SecretProblem::NotBase64))
        }
        SecretEncoding::Hex => base16ct::mixed::decode_vec(secret)
            .map_err(|_| Error::InvalidSecret(SecretProblem::NotHex)),
    }
}

fn decode_base64(b64: &[u8]) -> Option<Vec<u8>> {
    let mut key = vec![0u8; b64.len() * 3 / 4 + 3];
    let len = crate::mac::decode_base64(b64, &mut key)?.len();
    key.truncate(len);
    Some(key)
}

/// Header values people paste into the secret field by mistake.
fn looks_like_signature(s: &[u8]) -> bool {
    let lower =
        |p: &[u8]| s.len() > p.len() && s.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    lower(b"sha256=")
        || lower(b"sha512=")
        || lower(b"v0=")
        || lower(b"v1,")
        || (lower(b"t=") && s.windows(4).any(|w| w == b",v1="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whsec_decodes_with_or_without_prefix() {
        let with = key_bytes(
            b"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            SecretEncoding::Whsec,
        );
        let without = key_bytes(b"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", SecretEncoding::Whsec);
        assert_eq!(with, without);
        assert_eq!(with.unwrap().len(), 24);
    }

    #[test]
    fn short_and_garbage_whsec_keys_are_refused() {
        assert_eq!(
            key_bytes(b"whsec_c2hvcnQ=", SecretEncoding::Whsec),
            Err(Error::InvalidSecret(SecretProblem::TooShort {
                len: 5,
                min: 16
            }))
        );
        assert_eq!(
            key_bytes(b"whsec_not base64!", SecretEncoding::Whsec),
            Err(Error::InvalidSecret(SecretProblem::NotBase64))
        );
    }

    #[test]
    fn keys_that_decode_to_nothing_or_zeros_are_refused_in_every_encoding() {
        let empty = Err(Error::InvalidSecret(SecretProblem::Empty));
        let zero = Err(Error::InvalidSecret(SecretProblem::AllZero));
        assert_eq!(key_bytes(b"==", SecretEncoding::Base64), empty);
        assert_eq!(key_bytes(b"AA==", SecretEncoding::Base64), zero);
        assert_eq!(key_bytes(b"00", SecretEncoding::Hex), zero);
        assert_eq!(key_bytes(&[0, 0, 0], SecretEncoding::Utf8), zero);
        assert_eq!(key_bytes(b"\0", SecretEncoding::Utf8), zero);
        assert_eq!(
            key_bytes(b"whsec_AAAAAAAAAAAAAAAAAAAAAA==", SecretEncoding::Whsec),
            zero
        );
        assert_eq!(
            key_bytes(b"AAAAAAAAAAAAAAAAAAAAAA==", SecretEncoding::Whsec),
            zero
        );
        // One byte that is not zero makes a key.
        assert!(key_bytes(b"AAAAAAAAAAAAAAAAAAAAAQ==", SecretEncoding::Whsec).is_ok());
        assert!(key_bytes(b"0001", SecretEncoding::Hex).is_ok());
    }

    #[test]
    fn utf8_keys_are_the_whole_string() {
        // Stripe: the `whsec_` prefix is part of the key.
        assert_eq!(
            key_bytes(b"whsec_abc", SecretEncoding::Utf8).unwrap(),
            b"whsec_abc".to_vec()
        );
    }

    #[test]
    fn common_mistakes_are_named() {
        let p = |s: &[u8]| key_bytes(s, SecretEncoding::Utf8).unwrap_err();
        assert_eq!(p(b""), Error::InvalidSecret(SecretProblem::Empty));
        assert_eq!(
            p(b"secret\n"),
            Error::InvalidSecret(SecretProblem::SurroundingWhitespace)
        );
        assert_eq!(
            p(b" secret"),
            Error::InvalidSecret(SecretProblem::SurroundingWhitespace)
        );
        assert_eq!(
            p(b"sha256=abcdef"),
            Error::InvalidSecret(SecretProblem::LooksLikeSignature)
        );
        assert_eq!(
            p(b"v1,abcdef"),
            Error::InvalidSecret(SecretProblem::LooksLikeSignature)
        );
        assert_eq!(
            p(b"t=1,v1=ab"),
            Error::InvalidSecret(SecretProblem::LooksLikeSignature)
        );
        // A hex secret (`openssl rand -hex 64`) is a perfectly good secret.
        assert!(key_bytes("ab".repeat(64).as_bytes(), SecretEncoding::Utf8).is_ok());
        assert_eq!(
            key_bytes(b"zz", SecretEncoding::Hex),
            Err(Error::InvalidSecret(SecretProblem::NotHex))
        );
    }
}
