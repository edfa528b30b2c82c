//! One JSON line per request, per delivery and per sweep: source, event type, dedup key,
//! outcome, latency. Never a secret, never a body. And the clock: entry points read it once and
//! pass `now` on.

use serde_json::{Map, Value, json};

/// Which lines are written, from the `LOG_LEVEL` variable: `info` (the default) logs every
/// request and delivery; `warn` only refusals, failures and errors (at high volume, or where
/// each log line costs, as under `wrangler dev`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Warn,
    Info,
}

impl Level {
    pub fn parse(v: &str) -> Option<Self> {
        match v.trim() {
            "info" => Some(Self::Info),
            "warn" => Some(Self::Warn),
            _ => None,
        }
    }
}

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
