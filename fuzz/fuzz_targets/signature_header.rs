//! Arbitrary bytes as the signature header (and timestamp/id headers) of every built-in scheme:
//! verification must return, never panic, and must never accept a signature made without the
//! secret.
#![no_main]

use hookseal::{BUILTINS, Request, Scheme, Verifier};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    // Split the input three ways so timestamps and ids get arbitrary content too.
    let mut parts = text.splitn(3, '\u{1}');
    let sig = parts.next().unwrap_or("");
    let ts = parts.next().unwrap_or("1700000000");
    let id = parts.next().unwrap_or("msg_1");
    let scheme = Scheme::Builtin(&BUILTINS[usize::from(selector) % BUILTINS.len()]);
    let names = [
        "X-Webhook-Hmac",
        "X-Webhook-Hmac-Algorithm",
        "X-Mossmoon-Signature",
        "webhook-signature",
        "svix-signature",
        "X-Hub-Signature-256",
        "Stripe-Signature",
        "X-Slack-Signature",
        "X-Shopify-Hmac-Sha256",
        "X-HubSpot-Signature-v3",
    ];
    let mut headers: Vec<(&str, &str)> = names.iter().map(|n| (*n, sig)).collect();
    for n in ["webhook-timestamp", "svix-timestamp", "X-Slack-Request-Timestamp", "X-HubSpot-Request-Timestamp"] {
        headers.push((n, ts));
    }
    for n in ["webhook-id", "svix-id", "X-GitHub-Delivery", "X-Shopify-Webhook-Id"] {
        headers.push((n, id));
    }
    let secret = if matches!(scheme.name(), "standard-webhooks" | "svix") {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    } else {
        "fuzz-secret"
    };
    let verifier = Verifier::new(scheme, [secret]).expect("valid secret");
    let req = Request::new(b"{\"event\":\"x\"}", &headers).with_target("POST", "https://h/x%3A");
    let result = verifier.verify(&req, 1_700_000_000);
    // Without the secret the fuzzer cannot produce a valid MAC (2^-256): acceptance is a bug.
    assert!(result.is_err(), "accepted a forged signature: {sig:?}");
    let _ = result.map_err(|e| e.to_string());
});
