//! The parsers the WhatsApp providers brought: Twilio's form bodies and URLs, Vonage's JWTs and
//! Standard Webhooks' `v1a` entries. Arbitrary input as each: verification must return, never
//! panic, and never accept what was not signed with the key; the event parsers must return on
//! any body; and signing then verifying arbitrary form bodies and URLs must round-trip.
#![no_main]

use hookseal::{Request, Scheme, SignInput, Signer, Verifier};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000;
const WHPK: &str = "whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

fn scheme(name: &str) -> Scheme {
    Scheme::from_name(name).expect("built-in")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Four parts: a header value, a URL, a body, a spare.
    let mut parts = text.splitn(4, '\u{1}');
    let header = parts.next().unwrap_or("");
    let url = parts.next().unwrap_or("https://h.example/x");
    let body = parts.next().unwrap_or("").as_bytes();

    // Twilio: arbitrary signature, URL (port variants, bodySHA256) and form body.
    let twilio = Verifier::new(scheme("twilio"), ["fuzz-auth-token"]).expect("secret");
    let h = [("X-Twilio-Signature", header)];
    let req = Request::new(body, &h).with_target("POST", url);
    assert!(twilio.verify(&req, NOW).is_err(), "Twilio accepted a forged signature");
    let _ = twilio.verify_and_parse(&req, NOW);
    let _ = scheme("twilio").parse_events(body, &h);
    // Signed here, it verifies: the sorted parameters and the URL are read the same both ways.
    let signer = Signer::new(scheme("twilio"), "fuzz-auth-token").expect("secret");
    if let Ok(signed) = signer.sign(&SignInput::new(body, NOW).with_target("POST", url)) {
        let h: Vec<(String, String)> = signed.into_iter().map(|(k, v)| (k.into(), v)).collect();
        let req = Request::new(body, &h).with_target("POST", url);
        assert!(twilio.verify(&req, NOW).is_ok(), "Twilio round trip failed");
    }

    // Vonage: arbitrary `Authorization`.
    let vonage = Verifier::new(scheme("vonage"), ["fuzz-signature-secret"]).expect("secret");
    let h = [("Authorization", header)];
    assert!(
        vonage.verify(&Request::new(body, &h), NOW).is_err(),
        "Vonage accepted a forged token"
    );
    let _ = scheme("vonage").parse_events(body, &h);

    // Standard Webhooks with an Ed25519 public key: arbitrary signature list.
    let std = Verifier::new(scheme("standard-webhooks"), [WHPK]).expect("key");
    let h = [
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", "1700000000"),
        ("webhook-signature", header),
    ];
    assert!(
        std.verify(&Request::new(body, &h), NOW).is_err(),
        "v1a accepted a forged signature"
    );
});
