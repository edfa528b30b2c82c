//! The event fixtures in `tests/events/`: every event parses into its typed form and envelope
//! with the expected field values, dedup keys behave, bad bodies get their codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hookseal::{Request, Scheme, SignInput, Signer, Verifier};
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixtures {
    cases: Vec<Case>,
    errors: Vec<ErrorCase>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Case {
    name: String,
    scheme: String,
    file: String,
    #[serde(default)]
    headers: Vec<(String, String)>,
    events: Vec<Value>,
    #[serde(default)]
    retry_of: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ErrorCase {
    name: String,
    scheme: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    body_hex: Option<String>,
    error: String,
    #[serde(default)]
    field: Option<String>,
    /// `false` when the body must be refused rather than kept as an unparsed event.
    #[serde(default)]
    kept: Option<bool>,
}

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/events")
}

fn fixtures() -> Fixtures {
    serde_json::from_str(&std::fs::read_to_string(dir().join("cases.json")).unwrap()).unwrap()
}

fn body(file: &str) -> Vec<u8> {
    std::fs::read(dir().join(file)).unwrap()
}

fn parse(scheme: &str, body: &[u8], headers: &[(String, String)]) -> Vec<Value> {
    Scheme::from_name(scheme)
        .unwrap()
        .parse_events(body, &headers)
        .unwrap_or_else(|e| panic!("{e}"))
        .iter()
        .map(|e| serde_json::from_str(&e.to_json()).unwrap())
        .collect()
}

/// `want` is a subset of `got`: every key of an expected object is in the actual one (`null`
/// also matches an absent key), arrays match element by element, scalars are equal.
fn subset(want: &Value, got: &Value, path: &str, errs: &mut Vec<String>) {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let gv = g.get(k).unwrap_or(&Value::Null);
                subset(wv, gv, &format!("{path}.{k}"), errs);
            }
        }
        (Value::Array(w), Value::Array(g)) if w.len() == g.len() => {
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                subset(wv, gv, &format!("{path}[{i}]"), errs);
            }
        }
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => {}
        (w, g) if w == g => {}
        (w, g) => errs.push(format!("{path}: want {w}, got {g}")),
    }
}

#[test]
fn every_fixture_parses_to_its_expected_events() {
    let f = fixtures();
    assert!(f.cases.len() >= 40);
    let mut errs = Vec::new();
    for c in &f.cases {
        let got = parse(&c.scheme, &body(&c.file), &c.headers);
        if got.len() != c.events.len() {
            errs.push(format!(
                "{}: {} events, want {}",
                c.name,
                got.len(),
                c.events.len()
            ));
            continue;
        }
        for (i, (w, g)) in c.events.iter().zip(&got).enumerate() {
            subset(w, g, &format!("{}[{i}]", c.name), &mut errs);
        }
    }
    assert!(errs.is_empty(), "{}", errs.join("\n"));
}

#[test]
fn every_documented_event_type_is_covered() {
    let f = fixtures();
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for c in &f.cases {
        for e in parse(&c.scheme, &body(&c.file), &c.headers) {
            let t = e["type"].as_str().unwrap().to_owned();
            *seen.entry((c.scheme.clone(), t)).or_default() += 1;
        }
    }
    let want = [
        ("moltflow", "message.received"),
        ("moltflow", "message.sent"),
        ("moltflow", "session.status_changed"),
        ("moltflow", "lead.captured"),
        ("moltflow", "webhook.test"),
        ("mossmoon", "line.ready"),
        ("mossmoon", "line.disconnected"),
        ("mossmoon", "message.received"),
        ("mossmoon", "message.delivered"),
        ("meta", "message.received"),
        ("meta", "message.sent"),
        ("meta", "message.delivered"),
        ("meta", "message.read"),
        ("meta", "message.failed"),
        ("twilio", "message.received"),
        ("twilio", "message.delivered"),
        ("twilio", "message.failed"),
        ("vonage", "message.received"),
        ("vonage", "message.delivered"),
        ("vonage", "message.rejected"),
    ];
    for (s, t) in want {
        assert!(
            seen.contains_key(&(s.to_owned(), t.to_owned())),
            "{s} {t} not covered"
        );
    }
}

#[test]
fn the_same_message_from_five_providers_has_one_normalized_view() {
    let view = |scheme: &str, file: &str| {
        let mut events = parse(scheme, &body(file), &[]);
        assert_eq!(events.len(), 1);
        events.remove(0)["message"].clone()
    };
    let moltflow = view("moltflow", "moltflow/same_text.json");
    let mossmoon = view("mossmoon", "mossmoon/message_received_text.json");
    let meta = view("meta", "meta/text.json");
    let vonage = view("vonage", "vonage/message_text.json");
    let mut twilio = view("twilio", "twilio/message_text.txt");
    // Provider-specific: the message ids; Mossmoon's documented payload has no sender name, and
    // Twilio sends no time, so its receivedAt is null.
    for named in [&meta, &vonage, &twilio] {
        assert_eq!(moltflow["senderName"], named["senderName"]);
    }
    assert_eq!(twilio["receivedAt"], Value::Null);
    twilio["receivedAt"] = moltflow["receivedAt"].clone();
    let strip = |mut v: Value| {
        let o = v.as_object_mut().unwrap();
        assert!(o.remove("providerMessageId").unwrap().is_string());
        o.remove("senderName");
        v
    };
    let a = strip(moltflow);
    let others = [
        ("Mossmoon", mossmoon),
        ("Meta", meta),
        ("Vonage", vonage),
        ("Twilio", twilio),
    ];
    for (who, v) in others {
        assert_eq!(a, strip(v), "MoltFlow vs {who}");
    }
    assert_eq!(a["text"], "Do you have this in blue? 💙");
    assert_eq!(a["sender"], "15559876543");
}

#[test]
fn dedup_keys_survive_retries_and_never_collide() {
    let f = fixtures();
    let mut owner: HashMap<String, String> = HashMap::new();
    let mut keys_of: HashMap<String, Vec<String>> = HashMap::new();
    let mut events = 0;
    for c in &f.cases {
        let b = body(&c.file);
        let keys: Vec<String> = parse(&c.scheme, &b, &c.headers)
            .iter()
            .map(|e| e["dedupKey"].as_str().unwrap().to_owned())
            .collect();
        // A byte-identical retry.
        let again: Vec<String> = parse(&c.scheme, &b, &c.headers)
            .iter()
            .map(|e| e["dedupKey"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(keys, again, "{}", c.name);
        // A retry the sender re-serialised (other whitespace): keys from ids must not change.
        if let Ok(doc) = serde_json::from_slice::<Value>(&b) {
            let pretty = serde_json::to_vec_pretty(&doc).unwrap();
            let reformatted: Vec<String> = parse(&c.scheme, &pretty, &c.headers)
                .iter()
                .map(|e| e["dedupKey"].as_str().unwrap().to_owned())
                .collect();
            for (k, r) in keys.iter().zip(&reformatted) {
                if !k.contains(":sha256:") {
                    assert_eq!(k, r, "{}: re-serialised retry changed the key", c.name);
                }
            }
        }
        keys_of.insert(c.file.clone(), keys.clone());
        if let Some(orig) = &c.retry_of {
            continue_if_retry(&keys, &keys_of, orig, &c.name);
            continue;
        }
        events += keys.len();
        for k in keys {
            if let Some(prev) = owner.insert(k.clone(), c.name.clone()) {
                panic!("{} and {prev} share the dedup key {k}", c.name);
            }
        }
    }
    assert_eq!(owner.len(), events);
    assert!(events >= 40);
}

fn continue_if_retry(
    keys: &[String],
    keys_of: &HashMap<String, Vec<String>>,
    orig: &str,
    name: &str,
) {
    let orig_keys = keys_of
        .get(orig)
        .unwrap_or_else(|| panic!("{name}: {orig} not seen yet"));
    assert_eq!(
        keys,
        orig_keys.as_slice(),
        "{name}: a retry must keep its original's keys"
    );
}

#[test]
fn bad_bodies_get_clear_codes() {
    let f = fixtures();
    assert!(f.errors.len() >= 20);
    for e in &f.errors {
        let b = match (&e.body, &e.body_hex) {
            (Some(b), None) => b.as_bytes().to_vec(),
            (None, Some(h)) => (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect(),
            _ => panic!("{}: body or bodyHex", e.name),
        };
        let err = Scheme::from_name(&e.scheme)
            .unwrap()
            .parse_events(&b, &[("a", "b")])
            .expect_err(&e.name);
        assert_eq!(err.code(), e.error, "{}: {err}", e.name);
        assert!(err.signature_verified(), "{}", e.name);
        assert_eq!(
            err.keeps_as_unparsed(),
            e.kept.unwrap_or(true),
            "{}",
            e.name
        );
        if let Some(field) = &e.field {
            match &err {
                hookseal::Error::InvalidEvent { field: got, .. } => {
                    assert_eq!(got, field, "{}", e.name);
                }
                other => panic!("{}: {other:?}", e.name),
            }
        }
        assert!(
            err.to_string().starts_with("the signature is valid"),
            "{}",
            e.name
        );
    }
}

/// Through the real path: sign each fixture, verify_and_parse it, get the same events.
#[test]
fn verify_and_parse_gives_the_same_events() {
    let f = fixtures();
    for c in &f.cases {
        let scheme = Scheme::from_name(&c.scheme).unwrap();
        let secret = match c.scheme.as_str() {
            "standard-webhooks" | "svix" => "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            _ => "fixture-secret",
        };
        let b = body(&c.file);
        let id = c
            .headers
            .iter()
            .find(|(k, _)| k.ends_with("-id") || k.ends_with("-Delivery"))
            .map(|(_, v)| v.as_str());
        // Schemes that sign the request line (Twilio) get one; the others ignore it.
        let url = "https://hooks.example.com/webhooks/fixture";
        let mut input = SignInput::new(&b, 1_781_275_331).with_target("POST", url);
        if let Some(id) = id {
            input = input.with_id(id);
        }
        let mut headers: Vec<(String, String)> = Signer::new(scheme.clone(), secret)
            .unwrap()
            .sign(&input)
            .unwrap()
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v))
            .collect();
        for (k, v) in &c.headers {
            if !headers.iter().any(|(hk, _)| hk.eq_ignore_ascii_case(k)) {
                headers.push((k.clone(), v.clone()));
            }
        }
        let delivery = Verifier::new(scheme, [secret])
            .unwrap()
            .verify_and_parse(
                &Request::new(&b, &headers).with_target("POST", url),
                1_781_275_331,
            )
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let via_verify: Vec<Value> = delivery
            .events
            .iter()
            .map(|e| serde_json::from_str(&e.to_json()).unwrap())
            .collect();
        // The whole delivery serializes too, with the same events.
        let whole: Value = serde_json::from_str(&delivery.to_json()).unwrap();
        assert_eq!(
            whole["events"],
            Value::Array(via_verify.clone()),
            "{}",
            c.name
        );
        assert_eq!(whole["verified"]["secretIndex"], 0);
        let direct = parse(&c.scheme, &b, &headers);
        assert_eq!(via_verify, direct, "{}", c.name);
    }
}

/// Twilio signs its parameters joined without separators: a captured body re-split into other
/// parameters carries the same signature. Its signature verifies; its events are refused, so it
/// never becomes a "new" event with a new dedup key.
#[test]
fn a_resplit_twilio_body_verifies_but_is_refused() {
    use hookseal::{Request, SignInput, Signer, Verifier};
    let url = "https://hooks.example.com/webhooks/twilio";
    let sid = "SM1f0e7d1a2b3c4d5e6f708192a3b4c5d6";
    let original = format!("Body=Hi&From=whatsapp%3A%2B15559876543&MessageSid={sid}&NumMedia=0");
    let resplit = format!("Body=Hi&From=whatsapp%3A%2B15559876543&MessageSid={sid}NumMedia0");
    let scheme = Scheme::from_name("twilio").unwrap();
    let headers = Signer::new(scheme.clone(), "twilio-auth-token-0123")
        .unwrap()
        .sign(&SignInput::new(original.as_bytes(), 0).with_target("POST", url))
        .unwrap();
    let v = Verifier::new(scheme, ["twilio-auth-token-0123"]).unwrap();
    let ok = v
        .verify_and_parse(
            &Request::new(original.as_bytes(), &headers).with_target("POST", url),
            0,
        )
        .unwrap();
    assert_eq!(ok.events[0].dedup_key, format!("twilio:message:{sid}"));
    let forged = Request::new(resplit.as_bytes(), &headers).with_target("POST", url);
    assert!(
        v.verify(&forged, 0).is_ok(),
        "the same signature covers the re-split body"
    );
    let err = v.verify_and_parse(&forged, 0).unwrap_err();
    assert_eq!(err.code(), "invalid_event");
    assert!(!err.keeps_as_unparsed());
}
