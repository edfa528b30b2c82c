//! Arbitrary bodies (and id/timestamp headers) through every provider's event parser: an error
//! or events, never a panic; events always serialize and have a non-empty, bounded dedup key.
#![no_main]

use hookseal::{BUILTINS, Scheme};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    let scheme = &Scheme::Builtin(&BUILTINS[usize::from(selector) % BUILTINS.len()]);
    let headers = [
        ("webhook-id", "msg_1"),
        ("webhook-timestamp", "1700000000"),
        ("X-GitHub-Event", "push"),
        ("X-GitHub-Delivery", "d-1"),
        ("X-Shopify-Topic", "orders/create"),
        ("X-Shopify-Webhook-Id", "s-1"),
        ("X-HubSpot-Request-Timestamp", "1700000000000"),
    ];
    match scheme.parse_events(body, &headers) {
        Ok(events) => {
            for e in events {
                assert!(!e.dedup_key.is_empty());
                assert!(e.dedup_key.len() <= hookseal::event::MAX_KEY_LEN + 80);
                // What hookseal writes is JSON every other parser reads.
                let json = e.to_json();
                serde_json::from_str::<serde_json::Value>(&json).expect("events serialize to JSON");
            }
        }
        Err(e) => {
            assert!(e.signature_verified() || e.code() == "unknown_scheme", "{e:?}");
            let _ = e.to_string();
        }
    }
});
