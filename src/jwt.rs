//! Vonage's signed webhooks: an HS256 JWT in `Authorization: Bearer`, whose `payload_hash`
//! claim is the body's hex SHA-256 and whose `iat` is the signing time.
//!
//! Only HS256 is accepted, decided from the token's header before any MAC is computed: `none`,
//! RS256 (the public-key confusion) and anything else are refused outright.

use crate::error::{Error, SignatureProblem};
use crate::json::{Json, Writer};
use subtle::ConstantTimeEq;

use crate::mac::{Encoding, PreparedKey};

/// A token's parts, split and decoded; nothing in it is trusted until [`Token::signed_by`].
pub(crate) struct Token<'t> {
    /// `<header>.<payload>`, the bytes the MAC covers.
    signing_input: &'t str,
    payload: Vec<u8>,
    signature: [u8; 32],
}

fn bad() -> Error {
    Error::MalformedSignature(SignatureProblem::BadToken)
}

/// Base64url (no padding) into bytes.
fn decode(part: &str) -> Result<Vec<u8>, Error> {
    crate::mac::decode_base64url(part).ok_or_else(bad)
}

impl<'t> Token<'t> {
    /// Splits `Bearer <token>` and checks its header names HS256.
    pub(crate) fn parse(authorization: &'t str) -> Result<Self, Error> {
        let value = authorization.trim();
        let token = match value.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("bearer ") => value.get(7..).unwrap_or(""),
            _ => return Err(bad()),
        }
        .trim();
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let header_json = decode(header)?;
        let header_text = core::str::from_utf8(&header_json).map_err(|_| bad())?;
        let header_doc = Json::parse(header_text).map_err(|_| bad())?;
        if header_doc.get("alg").and_then(Json::as_str) != Some("HS256") {
            return Err(Error::MalformedSignature(
                SignatureProblem::UnsupportedAlgorithm,
            ));
        }
        let sig = decode(signature)?;
        let signature: [u8; 32] = sig.as_slice().try_into().map_err(|_| {
            Error::MalformedSignature(SignatureProblem::WrongLength {
                got: sig.len(),
                expected: 32,
            })
        })?;
        let end = header.len() + 1 + payload.len();
        Ok(Self {
            signing_input: token.get(..end).ok_or_else(bad)?,
            payload: decode(payload)?,
            signature,
        })
    }

    /// Whether `key` made this token's signature (constant time).
    pub(crate) fn signed_by(&self, key: &PreparedKey) -> bool {
        key.tag(|update| update(self.signing_input.as_bytes()))
            .matches(&self.signature)
    }

    /// The verified claims: `iat` (unix seconds), after checking `payload_hash` against the
    /// body's SHA-256. Call only once [`signed_by`](Self::signed_by) held. (Vonage sends no
    /// `exp`: freshness is `iat`'s window, which the verifier checks.)
    pub(crate) fn claims(&self, body: &[u8]) -> Result<i64, Error> {
        let text = core::str::from_utf8(&self.payload).map_err(|_| bad())?;
        let claims = Json::parse(text).map_err(|_| bad())?;
        let hash = claims
            .get("payload_hash")
            .and_then(Json::as_str)
            .ok_or_else(bad)?;
        let want = crate::event::sha256_hex(body);
        let same = want.as_bytes().ct_eq(hash.to_ascii_lowercase().as_bytes());
        if !bool::from(same) {
            // The token is Vonage's, but for another body.
            return Err(Error::SignatureMismatch);
        }
        let iat = claims.get("iat").ok_or_else(bad)?;
        iat.as_i64().ok_or(Error::MalformedTimestamp)
    }
}

/// `Bearer <JWT>` for `body`, as Vonage signs it: HS256 over the claims `iat`, `jti` and
/// `payload_hash`. The token id is `jti`, else one made from the time and the body's hash.
pub(crate) fn sign(key: &PreparedKey, body: &[u8], iat: i64, jti: Option<&str>) -> String {
    // `{"alg":"HS256","typ":"JWT"}`, encoded.
    let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    let hash = crate::event::sha256_hex(body);
    let made = format!("{iat}-{hash}");
    let mut w = Writer::default();
    w.begin_object();
    w.key("iat");
    w.int(iat);
    w.key("jti");
    w.str(jti.unwrap_or(made.get(..32).unwrap_or(&made)));
    w.key("payload_hash");
    w.str(&hash);
    w.end_object();
    let payload = Encoding::Base64Url.encode(w.finish().as_bytes());
    let input = format!("{header}.{payload}");
    let tag = key.tag(|update| update(input.as_bytes()));
    format!(
        "Bearer {input}.{}",
        Encoding::Base64Url.encode(tag.as_slice())
    )
}
