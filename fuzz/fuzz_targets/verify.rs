//! Arbitrary schemes (built-in or generic with arbitrary configuration), secrets, headers,
//! bodies, times and tolerances: nothing panics, whatever signs must verify, and what the empty
//! key signs never verifies under any secret a verifier accepted (HMAC pads keys with zeros, so
//! the all-zero keys are the empty key too).
#![no_main]

use arbitrary::Arbitrary;
use hookseal::{
    Algorithm, BUILTINS, Encoding, GenericScheme, Request, Scheme, SecretEncoding, SignInput, Signer,
    TimestampUnit, Tolerance, Verifier,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Generic {
    header: String,
    sha512: bool,
    encoding: u8,
    prefix: String,
    signed: String,
    id_header: Option<String>,
    timestamp_header: Option<String>,
    millis: bool,
    secret_encoding: u8,
}

#[derive(Arbitrary, Debug)]
struct Input {
    builtin: u8,
    generic: Option<Generic>,
    secrets: Vec<Vec<u8>>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    now: i64,
    past: Option<u64>,
    future: Option<u64>,
    method: Option<String>,
    url: Option<String>,
    id: Option<String>,
}

fn scheme(input: &Input) -> Scheme {
    match &input.generic {
        None => {
            Scheme::Builtin(&BUILTINS[usize::from(input.builtin) % BUILTINS.len()])
        }
        Some(g) => {
            let mut s = GenericScheme::new(
                &g.header,
                if g.sha512 { Algorithm::Sha512 } else { Algorithm::Sha256 },
                [Encoding::Hex, Encoding::Base64, Encoding::Base64Url][usize::from(g.encoding % 3)],
            );
            s.prefix = g.prefix.clone();
            s.signed = g.signed.clone();
            s.id_header = g.id_header.clone();
            s.timestamp_header = g.timestamp_header.clone();
            s.timestamp_unit = if g.millis { TimestampUnit::Milliseconds } else { TimestampUnit::Seconds };
            s.secret_encoding = [SecretEncoding::Utf8, SecretEncoding::Whsec, SecretEncoding::Base64, SecretEncoding::Hex]
                [usize::from(g.secret_encoding % 4)];
            Scheme::Generic(Box::new(s))
        }
    }
}

fuzz_target!(|input: Input| {
    let scheme = scheme(&input);
    let tolerance = Tolerance { past: input.past, future: input.future };

    // 1. Arbitrary requests: no panic, and every error renders.
    if let Ok(v) = Verifier::new(scheme.clone(), &input.secrets) {
        let v = v.with_tolerance(tolerance);
        let mut req = Request::new(&input.body, &input.headers);
        if let (Some(m), Some(u)) = (&input.method, &input.url) {
            req = req.with_target(m, u);
        }
        if let Err(e) = v.verify(&req, input.now) {
            let _ = (e.code(), e.to_string());
        }

        // 1b. A forgery under the empty key never verifies, whatever secrets were accepted.
        if let Ok(forger) = hookseal::__private::signer_with_raw_key(&scheme, &[]) {
            let mut sign = SignInput::new(&input.body, input.now);
            if let Some(id) = &input.id {
                sign = sign.with_id(id);
            }
            if let (Some(m), Some(u)) = (&input.method, &input.url) {
                sign = sign.with_target(m, u);
            }
            if let Ok(forged) = forger.sign(&sign) {
                let mut req = Request::new(&input.body, &forged);
                if let (Some(m), Some(u)) = (&input.method, &input.url) {
                    req = req.with_target(m, u);
                }
                let got = v.with_tolerance(Tolerance::DISABLED).verify(&req, input.now);
                assert!(got.is_err(), "the empty key's signature verified: {forged:?}");
            }
        }
    }

    // 2. Round trip: what the signer signs, the verifier accepts at the signing time.
    let Some(secret) = input.secrets.first() else { return };
    let Ok(signer) = Signer::new(scheme.clone(), secret) else { return };
    let mut sign = SignInput::new(&input.body, input.now);
    if let Some(id) = &input.id {
        sign = sign.with_id(id);
    }
    if let (Some(m), Some(u)) = (&input.method, &input.url) {
        sign = sign.with_target(m, u);
    }
    let Ok(headers) = signer.sign(&sign) else { return };
    // Header values are trimmed of spaces and tabs on reading, as HTTP does; an id with such
    // edges cannot survive a real HTTP hop either.
    if input.id.as_deref().is_some_and(|id| id.trim_matches([' ', '\t']) != id || id.is_empty()) {
        return;
    }
    let verifier = Verifier::new(scheme, [secret]).expect("signer accepted the secret");
    let mut req = Request::new(&input.body, &headers);
    if let (Some(m), Some(u)) = (&input.method, &input.url) {
        req = req.with_target(m, u);
    }
    let verified = verifier.verify(&req, input.now);
    assert!(verified.is_ok(), "round trip failed: {verified:?} for {headers:?}");
});
