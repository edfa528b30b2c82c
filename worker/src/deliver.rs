//! The queue consumer: deliver each event to its source's destination, signed with Standard
//! Webhooks, retrying with exponential backoff; what cannot be delivered goes to the dead-letter
//! queue.
//!
//! Attempts are counted in the message itself: a retry is the same message sent again with
//! `attempt + 1` and a delay, and the original is acknowledged. The platform's own retries
//! (`max_retries`, `dead_letter_queue` in `wrangler.toml`) remain as the safety net should the
//! consumer itself fail.

use hookseal::{Scheme, SignInput, Signer};
use serde_json::json;
use wasm_bindgen::JsValue;
use worker::{
    Env, Fetch, Headers, MessageBatch, MessageExt, Method, RawMessage, RawMessageBuilder, Request,
    RequestInit,
};

use crate::config::{self, DEAD_LETTER_QUEUE, DEDUP_KV, DELIVERY_SECRET, EVENTS_QUEUE};
use crate::ingest::QueueMessage;
use crate::log::{self, now_ms};

const MAX_ATTEMPTS: u64 = 8;
const BACKOFF_SECONDS: u64 = 30;
/// The longest delay between attempts.
const MAX_DELAY_SECONDS: u64 = 3600;

/// What happened to one delivery attempt.
enum Outcome {
    Delivered(u16),
    /// 5xx, 408, 429, a network error, or a configuration problem that may be fixed.
    Retry(String),
    /// Any other 4xx: retrying will not help.
    GiveUp(String),
}

pub async fn batch(batch: &MessageBatch<serde_json::Value>, env: &Env) {
    for raw in batch.raw_iter() {
        match serde_wasm_bindgen::from_value::<QueueMessage>(raw.body()) {
            Ok(msg) => one(&raw, msg, env).await,
            Err(e) => {
                let why = format!("not a hookseal message: {e}");
                dead_letter(&raw, env, None, Some(raw.body()), &why, "malformed").await;
            }
        }
    }
}

/// The body delivered to the destination: the source, when it was received, and the event.
fn delivery_body(msg: &QueueMessage, event: &str) -> String {
    format!(
        r#"{{"source":{},"receivedAt":{},"attempt":{},"event":{}}}"#,
        json!(msg.source),
        msg.received_at,
        msg.attempt + 1,
        event
    )
}

/// The envelope: in the message, or, for a large event, in KV under `event_ref`. Not found yet
/// is retried: a KV write can take a while to be seen at another location.
async fn envelope(msg: &QueueMessage, env: &Env) -> Result<String, String> {
    let Some(key) = msg.event_ref.as_deref() else {
        return Ok(msg.event.clone());
    };
    let kv = env.kv(DEDUP_KV).map_err(|e| format!("KV: {e}"))?;
    match kv.get(key).text().await {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err("the stored envelope is not visible yet".to_owned()),
        Err(e) => Err(format!("KV: {e}")),
    }
}

async fn attempt(msg: &QueueMessage, env: &Env) -> Outcome {
    let sources = match config::sources(env) {
        Ok(s) => s,
        Err(e) => return Outcome::Retry(e.0),
    };
    let Some(source) = sources.get(&msg.source) else {
        return Outcome::GiveUp(format!("source `{}` is no longer configured", msg.source));
    };
    let Some(destination) = source.destination.as_deref() else {
        return Outcome::GiveUp(format!("source `{}` has no destination", msg.source));
    };
    let secret_name = source.delivery_secret.as_deref().unwrap_or(DELIVERY_SECRET);
    let Some(secret) = config::secret(env, secret_name) else {
        return Outcome::Retry(format!("the delivery secret `{secret_name}` is not set"));
    };
    let signer = match Signer::new(Scheme::StandardWebhooks, &secret) {
        Ok(s) => s,
        Err(e) => return Outcome::Retry(format!("`{secret_name}`: {e}")),
    };
    let event = match envelope(msg, env).await {
        Ok(e) => e,
        Err(why) => return Outcome::Retry(why),
    };
    let body = delivery_body(msg, &event);
    let now = i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX);
    let signed = match signer.sign(&SignInput::new(body.as_bytes(), now).with_id(&msg.dedup_key)) {
        Ok(h) => h,
        Err(e) => return Outcome::GiveUp(e.to_string()),
    };
    let send = async {
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        headers.set("user-agent", "hookseal")?;
        for (k, v) in &signed {
            headers.set(k, v)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(JsValue::from_str(&body)));
        let req = Request::new_with_init(destination, &init)?;
        Fetch::Request(req).send().await
    };
    match send.await {
        Ok(res) => match res.status_code() {
            s @ 200..=299 => Outcome::Delivered(s),
            s @ (408 | 429 | 500..=599) => Outcome::Retry(format!("HTTP {s}")),
            s => Outcome::GiveUp(format!("HTTP {s}")),
        },
        Err(e) => Outcome::Retry(format!("network: {e}")),
    }
}

async fn one(raw: &RawMessage, msg: QueueMessage, env: &Env) {
    let started = now_ms();
    let outcome = attempt(&msg, env).await;
    let max_attempts =
        config::number(env, "DELIVERY_MAX_ATTEMPTS", MAX_ATTEMPTS).unwrap_or(MAX_ATTEMPTS);
    let backoff =
        config::number(env, "DELIVERY_BACKOFF_SECONDS", BACKOFF_SECONDS).unwrap_or(BACKOFF_SECONDS);
    // A delivery is logged at `info`; retries and dead letters always.
    let quiet = matches!(log::level(env), Ok(log::Level::Warn));
    let log = |outcome: &str, detail: serde_json::Value| {
        if quiet && outcome == "delivered" {
            return;
        }
        log::line(
            "deliver",
            json!({
                "source": msg.source, "type": msg.event_type, "dedupKey": msg.dedup_key,
                "attempt": msg.attempt + 1, "outcome": outcome, "detail": detail,
                "latencyMs": now_ms().saturating_sub(started),
            }),
        );
    };
    match outcome {
        Outcome::Delivered(status) => {
            log("delivered", json!(status));
            raw.ack();
        }
        Outcome::Retry(why) if u64::from(msg.attempt) + 1 < max_attempts => {
            let delay = backoff
                .saturating_mul(1u64 << msg.attempt.min(20))
                .min(MAX_DELAY_SECONDS);
            let next = QueueMessage {
                attempt: msg.attempt + 1,
                ..msg.clone()
            };
            let requeued = async {
                let body = serde_wasm_bindgen::to_value(&next)?;
                let message = RawMessageBuilder::new(body)
                    .delay_seconds(u32::try_from(delay).unwrap_or(u32::MAX))
                    .build_with_content_type(worker::QueueContentType::V8);
                env.queue(EVENTS_QUEUE)?.send_raw(message).await
            };
            match requeued.await {
                Ok(()) => {
                    log("retry", json!({ "reason": why, "delaySeconds": delay }));
                    raw.ack();
                }
                Err(e) => {
                    // Could not schedule our own retry: let the platform retry the original.
                    log(
                        "platform_retry",
                        json!({ "reason": why, "error": e.to_string() }),
                    );
                    raw.retry();
                }
            }
        }
        Outcome::Retry(why) | Outcome::GiveUp(why) => {
            log("dead_letter", json!(why));
            dead_letter(raw, env, Some(&msg), None, &why, "undeliverable").await;
        }
    }
}

/// What the dead-letter queue receives.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct DeadLetter<'a> {
    /// `undeliverable` (the destination refused or kept failing) or `malformed`.
    kind: &'a str,
    reason: &'a str,
    /// When, ms since the epoch.
    at: u64,
    /// The message, when it was a hookseal message.
    message: Option<&'a QueueMessage>,
}

/// Sends the message to the dead-letter queue with the reason, then acknowledges it; if even that
/// fails, leaves it to the platform's retries (and its own dead-letter queue). A message that is
/// not hookseal's travels as `raw`.
async fn dead_letter(
    raw: &RawMessage,
    env: &Env,
    message: Option<&QueueMessage>,
    foreign: Option<JsValue>,
    reason: &str,
    kind: &str,
) {
    let sent = async {
        // A struct serializes to a plain object (a serde_json map would become a JS Map, which
        // the queue's structured clone empties).
        let letter = DeadLetter {
            kind,
            reason,
            at: now_ms(),
            message,
        };
        let body = serde_wasm_bindgen::to_value(&letter)?;
        if let Some(foreign) = foreign {
            js_sys::Reflect::set(&body, &"raw".into(), &foreign)
                .map_err(|_| worker::Error::RustError("cannot build the dead letter".into()))?;
        }
        let message =
            RawMessageBuilder::new(body).build_with_content_type(worker::QueueContentType::V8);
        env.queue(DEAD_LETTER_QUEUE)?.send_raw(message).await
    };
    match sent.await {
        Ok(()) => raw.ack(),
        Err(e) => {
            log::line(
                "dead_letter_failed",
                json!({ "reason": reason, "error": e.to_string() }),
            );
            raw.retry();
        }
    }
}
