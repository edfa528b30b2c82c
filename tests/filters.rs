#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The filter vectors (`tests/filters/cases.json`), shared with the JS suite: every case
//! matches (or not) as it says, every error case is refused with its message, and every case
//! inverted by `$not` at the top gives the opposite answer.

use hookseal::Filter;
use serde_json::Value;

fn cases() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/filters/cases.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_case_matches_as_the_vectors_say() {
    let all = cases();
    let cases = all["cases"].as_array().unwrap();
    assert!(cases.len() >= 60, "{} cases", cases.len());
    let mut failures = Vec::new();
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let filter = Filter::from_json(&c["filter"].to_string())
            .unwrap_or_else(|e| panic!("{name}: the filter is refused: {e}"));
        let event = c["event"].to_string();
        if let Some(raw) = c["eventJson"].as_str() {
            assert_eq!(
                serde_json::from_str::<Value>(raw).unwrap(),
                c["event"],
                "{name}: eventJson"
            );
        }
        let want = c["matches"].as_bool().unwrap();
        let got = filter.matches_json(&event).unwrap();
        if got != want {
            failures.push(format!("{name}: got {got}, want {want}"));
        }
        // `$not` at the top always inverts.
        let not = Filter::from_json(&format!(r#"{{"$not":{}}}"#, c["filter"])).unwrap();
        if not.matches_json(&event).unwrap() == want {
            failures.push(format!("{name}, under $not: not inverted"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn every_error_case_is_refused_with_its_message() {
    let all = cases();
    for c in all["errors"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let err = Filter::from_json(&c["filter"].to_string())
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted"));
        assert_eq!(err.code(), "invalid_filter", "{name}");
        let msg = err.to_string();
        assert!(msg.contains(c["error"].as_str().unwrap()), "{name}: {msg}");
    }
}

#[test]
fn a_document_that_is_not_json_is_an_error_not_a_non_match() {
    let f = Filter::from_json(r#"{"a":1}"#).unwrap();
    assert_eq!(f.matches_json("{").unwrap_err().code(), "malformed_json");
    assert_eq!(Filter::from_json("{").unwrap_err().code(), "invalid_filter");
}
