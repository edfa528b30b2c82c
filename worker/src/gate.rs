//! Destinations that protect themselves: with the Durable Object binding `GATE`, each
//! destination has a gate (one object, named after it) that owns its deliveries once their
//! event is ready (logged, its media archived) and sends them at its pace:
//!
//! - **rate** (`rate = "20/s"`) and **concurrency** (`maxInFlight`): excess waits its turn, it
//!   never fails for it; a `Retry-After` slows the destination down without spending an attempt;
//! - a **circuit breaker**: after `breakAfter` consecutive failures it opens, and deliveries are
//!   parked (kept, counted) while one probe is tried every `probeSeconds`, doubling up to 10
//!   minutes; the probe's success closes it and the parked flow again, oldest first. Time held
//!   does not count against a delivery's retry horizon;
//! - **pause and resume** from the admin API: a paused destination parks, as an open one does;
//! - **order per conversation** (`orderBy = "message.chat"`): one delivery of each conversation
//!   at a time, in the order received; one that goes dead moves aside and the next goes.
//!
//! The Worker hands a delivery over (`hand`) and marks it `queued` in the log with no due time
//! (so the sweep leaves it to the gate); the gate keeps it in its own SQLite storage until its
//! outcome is recorded in the log, so nothing handed over is lost. Retries wait in the gate's
//! storage and its alarm, not in the queue. Alerts (`ALERT_URL`) tell when a destination opens
//! and when it recovers.
//!
//! This room is the Worker's side (what a gate is asked); `keeper` is the gate itself.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use worker::{Env, Method, Request, RequestInit};

use crate::config::{Destination, Kind, Protection, binding};
use crate::outbound;

/// Whether `dest` is gated: the `GATE` binding is there, and it is a destination of ours (the
/// outbox is a queue).
pub fn on(env: &Env, dest: &Destination) -> bool {
    !matches!(dest.kind, Kind::Outbox) && env.durable_object(binding::GATE).is_ok()
}

/// One delivery handed to a gate.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub log: String,
    pub id: i64,
    pub received_at: u64,
    /// The next attempt's number (1-based, counted across replays).
    pub attempt: u32,
    pub horizon_from: u64,
    pub horizon_attempts: u32,
    /// Its conversation, when the destination orders by one.
    pub key: Option<String>,
}

/// The conversation an event belongs to for `protect.order_by`, from its envelope as routes see
/// it (with `source` and `receivedAt`).
pub fn key_of(
    protect: &Protection,
    source: &str,
    received_at: u64,
    envelope: &str,
) -> Option<String> {
    let path = hookseal::Path::from_config(protect.order_by.as_deref()?).ok()?;
    let ctx = outbound::context(source, received_at, envelope);
    hookseal::Document::parse(&ctx).ok()?.text_at(&path)
}

/// Calls `destination`'s gate: a POST of `{ name, body }` (the gate learns its name so).
async fn call(
    env: &Env,
    destination: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> std::result::Result<Value, String> {
    let stub = env
        .durable_object(binding::GATE)
        .and_then(|ns| ns.id_from_name(destination).and_then(|id| id.get_stub()))
        .map_err(|e| format!("the gate: {e}"))?;
    let mut init = RequestInit::new();
    init.with_method(method);
    let body = json!({ "name": destination, "body": body }).to_string();
    init.with_body(Some(wasm_bindgen::JsValue::from_str(&body)));
    let req =
        Request::new_with_init(&format!("https://gate{path}"), &init).map_err(|e| e.to_string())?;
    let mut res = stub
        .fetch_with_request(req)
        .await
        .map_err(|e| format!("the gate: {e}"))?;
    let value: Value = res
        .json()
        .await
        .map_err(|e| format!("the gate's answer: {e}"))?;
    if res.status_code() >= 300 {
        return Err(format!("the gate: {value}"));
    }
    Ok(value)
}

/// Hands deliveries to `destination`'s gate (a delivery handed twice is kept once).
pub async fn hand(env: &Env, destination: &str, items: &[Item]) -> std::result::Result<(), String> {
    call(
        env,
        destination,
        Method::Post,
        "/enqueue",
        Some(json!(items)),
    )
    .await
    .map(|_| ())
}

/// `destination`'s gate: its state, counts and rate.
pub async fn state(env: &Env, destination: &str) -> std::result::Result<Value, String> {
    call(env, destination, Method::Post, "/state", None).await
}

/// Pauses (`true`) or resumes `destination`.
pub async fn pause(
    env: &Env,
    destination: &str,
    paused: bool,
) -> std::result::Result<Value, String> {
    let path = if paused { "/pause" } else { "/resume" };
    call(env, destination, Method::Post, path, None).await
}
