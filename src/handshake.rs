//! Meta's subscription handshake: a `GET` with `hub.mode=subscribe`, `hub.verify_token` and
//! `hub.challenge`; the receiver answers the challenge as the body when the token is its own.

use subtle::ConstantTimeEq;

use crate::error::{Error, HandshakeProblem};

/// Checks a Meta verification request and returns the challenge to answer with (status 200,
/// body = the challenge). The token is compared in constant time.
///
/// ```
/// let answer = hookseal::meta_handshake(Some("subscribe"), Some("my-token"), Some("1158201444"), "my-token");
/// assert_eq!(answer, Ok("1158201444"));
/// ```
pub fn meta_handshake<'q>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'q str>,
    verify_token: &str,
) -> Result<&'q str, Error> {
    let reject = |p| Err(Error::HandshakeRejected(p));
    if verify_token.is_empty() {
        return Err(Error::InvalidSecret(crate::SecretProblem::Empty));
    }
    if mode != Some("subscribe") {
        return reject(HandshakeProblem::NotSubscribe);
    }
    let Some(challenge) = challenge.filter(|c| !c.is_empty()) else {
        return reject(HandshakeProblem::MissingChallenge);
    };
    let ok: bool = token
        .unwrap_or("")
        .as_bytes()
        .ct_eq(verify_token.as_bytes())
        .into();
    if !ok {
        return reject(HandshakeProblem::TokenMismatch);
    }
    Ok(challenge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshake() {
        let h = |m, t, c| meta_handshake(m, t, c, "tok");
        assert_eq!(h(Some("subscribe"), Some("tok"), Some("42")), Ok("42"));
        let no = |p| Err(Error::HandshakeRejected(p));
        assert_eq!(
            h(Some("subscribe"), Some("tok2"), Some("42")),
            no(HandshakeProblem::TokenMismatch)
        );
        assert_eq!(
            h(Some("subscribe"), None, Some("42")),
            no(HandshakeProblem::TokenMismatch)
        );
        assert_eq!(
            h(Some("unsubscribe"), Some("tok"), Some("42")),
            no(HandshakeProblem::NotSubscribe)
        );
        assert_eq!(
            h(Some("subscribe"), Some("tok"), Some("")),
            no(HandshakeProblem::MissingChallenge)
        );
        assert_eq!(h(None, None, None), no(HandshakeProblem::NotSubscribe));
        assert!(meta_handshake(Some("subscribe"), Some(""), Some("1"), "").is_err());
    }
}
