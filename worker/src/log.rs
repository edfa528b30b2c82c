//! One JSON line per request and per delivery: source, event type, dedup key, outcome, latency.
//! Never a secret, never a body.

use serde_json::{Map, Value, json};

/// Milliseconds since the epoch, from the Workers clock.
pub fn now_ms() -> u64 {
    worker::Date::now().as_millis()
}

/// Writes one log line.
pub fn line(at: &str, fields: Value) {
    let mut out = Map::new();
    out.insert("at".into(), json!(at));
    if let Value::Object(f) = fields {
        out.extend(f);
    }
    worker::console_log!("{}", Value::Object(out));
}
