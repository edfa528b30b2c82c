#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The body-template vectors (`tests/templates/cases.json`): each template renders the body it
//! says for the shared event, and each error case is refused with its message.

use hookseal::{Document, Template};
use serde_json::Value;

fn cases() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/templates/cases.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_template_renders_its_body() {
    let all = cases();
    let event = all["event"].to_string();
    let doc = Document::parse(&event).unwrap();
    for c in all["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let text = match c.get("templateText") {
            Some(t) => t.as_str().unwrap().to_owned(),
            None => c["template"].to_string(),
        };
        let t = Template::from_json(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let out = t.render(&doc);
        let got: Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{name}: {e}: {out}"));
        if let Some(text) = c.get("text") {
            assert_eq!(out, text.as_str().unwrap(), "{name}");
        } else {
            assert_eq!(got, c["body"], "{name}");
        }
    }
}

#[test]
fn every_error_case_is_refused_with_its_message() {
    let all = cases();
    for c in all["errors"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let err = Template::from_json(&c["template"].to_string())
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert_eq!(err.code(), "invalid_config");
        let msg = err.to_string();
        assert!(msg.contains(c["error"].as_str().unwrap()), "{name}: {msg}");
    }
}
