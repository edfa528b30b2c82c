//! One JSON line per request and per delivery: source, event type, dedup key, outcome, latency.
//! Never a secret, never a body.

use serde_json::{Map, Value, json};

/// Which lines are written, from the `LOG_LEVEL` variable: `info` (the default) logs every
/// request and delivery; `warn` only refusals, failures and errors (at high volume, or where
/// each log line costs, as under `wrangler dev`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Warn,
    Info,
}

/// The configured level. An unknown value is a configuration error, reported like the others.
pub fn level(env: &worker::Env) -> Result<Level, crate::config::ConfigError> {
    let Ok(v) = env.var("LOG_LEVEL") else {
        return Ok(Level::Info);
    };
    match v.to_string().trim() {
        "info" => Ok(Level::Info),
        "warn" => Ok(Level::Warn),
        _ => Err(crate::config::ConfigError(
            "`LOG_LEVEL` must be \"info\" or \"warn\"".to_owned(),
        )),
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
