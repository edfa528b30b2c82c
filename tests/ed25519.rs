//! Standard Webhooks `v1a` (Ed25519): `whpk_` public keys verify, `whsk_` secret keys sign, and
//! a header or a rotation may mix them with `v1`/`whsec_`. The signatures here are made by
//! ed25519-dalek directly, over the message the spec defines; Node's own Ed25519 signs them in
//! the cross-library suite (tests/xlib).

use base64ct::{Base64, Encoding as _};
use ed25519_dalek::{Signer as _, SigningKey};
use hookseal::{
    Error, Request, Scheme, SecretProblem, SignInput, SignatureProblem, Signer, Verifier,
};

const NOW: i64 = 1_760_000_000;
const BODY: &[u8] = br#"{"type":"message.received","data":{"text":"Ol\u00e1 \ud83d\udc4d"}}"#;
const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn whpk(k: &SigningKey) -> String {
    format!(
        "whpk_{}",
        Base64::encode_string(k.verifying_key().as_bytes())
    )
}

fn whsk(k: &SigningKey) -> String {
    format!("whsk_{}", Base64::encode_string(&k.to_bytes()))
}

/// `v1a,<base64>` over `{id}.{timestamp}.{body}`.
fn v1a(k: &SigningKey, id: &str, ts: i64, body: &[u8]) -> String {
    let mut msg = format!("{id}.{ts}.").into_bytes();
    msg.extend_from_slice(body);
    format!("v1a,{}", Base64::encode_string(&k.sign(&msg).to_bytes()))
}

fn headers(sig: &str) -> Vec<(String, String)> {
    vec![
        ("webhook-id".into(), "msg_1".into()),
        ("webhook-timestamp".into(), NOW.to_string()),
        ("webhook-signature".into(), sig.into()),
    ]
}

fn verify(secrets: &[String], sig: &str, body: &[u8]) -> Result<usize, Error> {
    let std = Scheme::from_name("standard-webhooks")?;
    let v = Verifier::new(std, secrets)?;
    let h = headers(sig);
    v.verify(&Request::new(body, &h), NOW)
        .map(|ok| ok.secret_index)
}

#[test]
fn a_public_key_verifies_its_secret_keys_signature() {
    let k = key(7);
    assert_eq!(
        verify(&[whpk(&k)], &v1a(&k, "msg_1", NOW, BODY), BODY),
        Ok(0)
    );
    // The secret key verifies too (with its public half).
    assert_eq!(
        verify(&[whsk(&k)], &v1a(&k, "msg_1", NOW, BODY), BODY),
        Ok(0)
    );
}

#[test]
fn hookseal_signs_v1a_with_a_secret_key() {
    let k = key(9);
    let signer = Signer::new(Scheme::from_name("standard-webhooks").unwrap(), whsk(&k)).unwrap();
    let signed = signer
        .sign(&SignInput::new(BODY, NOW).with_id("msg_1"))
        .unwrap();
    let sig = &signed
        .iter()
        .find(|(n, _)| n == "webhook-signature")
        .unwrap()
        .1;
    assert_eq!(sig, &v1a(&k, "msg_1", NOW, BODY));
    // A 64-byte secret key (seed and public key, libsodium's layout) signs the same.
    let mut pair = k.to_bytes().to_vec();
    pair.extend_from_slice(k.verifying_key().as_bytes());
    let long = format!("whsk_{}", Base64::encode_string(&pair));
    assert_eq!(verify(&[long], sig, BODY), Ok(0));
}

#[test]
fn headers_and_rotations_mix_v1_and_v1a() {
    let k = key(3);
    let hmac = Signer::new(Scheme::from_name("standard-webhooks").unwrap(), WHSEC)
        .unwrap()
        .sign(&SignInput::new(BODY, NOW).with_id("msg_1"))
        .unwrap();
    let v1 = hmac
        .iter()
        .find(|(n, _)| n == "webhook-signature")
        .unwrap()
        .1
        .clone();
    let both = format!("{v1} {}", v1a(&k, "msg_1", NOW, BODY));
    let secrets = [WHSEC.to_owned(), whpk(&k)];
    assert_eq!(verify(&secrets, &both, BODY), Ok(0));
    assert_eq!(verify(&secrets, &v1a(&k, "msg_1", NOW, BODY), BODY), Ok(1));
    assert_eq!(verify(&[whpk(&k)], &both, BODY), Ok(0));
    assert_eq!(verify(&[WHSEC.to_owned()], &both, BODY), Ok(0));
}

#[test]
fn refusals() {
    let (k, other) = (key(1), key(2));
    let good = v1a(&k, "msg_1", NOW, BODY);
    // Made with another key; a tampered body; another id.
    assert_eq!(
        verify(&[whpk(&k)], &v1a(&other, "msg_1", NOW, BODY), BODY),
        Err(Error::SignatureMismatch)
    );
    assert_eq!(
        verify(&[whpk(&k)], &good, b"{}"),
        Err(Error::SignatureMismatch)
    );
    assert_eq!(
        verify(&[whpk(&k)], &v1a(&k, "msg_2", NOW, BODY), BODY),
        Err(Error::SignatureMismatch)
    );
    // Only HMAC keys: a v1a entry is a version this verifier cannot check.
    assert_eq!(
        verify(&[WHSEC.to_owned()], &good, BODY),
        Err(Error::MalformedSignature(
            SignatureProblem::NoSupportedSignature
        ))
    );
    // A v1a entry that is not 64 bytes of base64 is skipped.
    assert_eq!(
        verify(&[whpk(&k)], "v1a,AAAA", BODY),
        Err(Error::MalformedSignature(
            SignatureProblem::NoSupportedSignature
        ))
    );
}

#[test]
fn keys_are_checked() {
    let bad = Err(Error::InvalidSecret(SecretProblem::BadEd25519Key));
    let good = v1a(&key(1), "msg_1", NOW, BODY);
    assert_eq!(verify(&["whpk_AAAA".into()], &good, BODY), bad);
    assert_eq!(verify(&["whpk_not base64".into()], &good, BODY), bad);
    // 64 bytes whose second half is not the first half's public key.
    let mut pair = key(1).to_bytes().to_vec();
    pair.extend_from_slice(key(2).verifying_key().as_bytes());
    let mismatched = format!("whsk_{}", Base64::encode_string(&pair));
    assert_eq!(verify(&[mismatched], &good, BODY), bad);
    // A public key cannot sign.
    assert_eq!(
        Signer::new(Scheme::from_name("svix").unwrap(), whpk(&key(1))).err(),
        Some(Error::InvalidSecret(SecretProblem::PublicKeyCannotSign))
    );
}
