//! The queue consumer: deliver each event to its source's destination, signed with Standard
//! Webhooks, retrying with exponential backoff for longer than the senders would have (26 h by
//! default); what cannot be delivered goes to the dead-letter queue, which this Worker also
//! consumes: each letter is recorded in the event log as `dead` (or, without the log, kept in
//! KV), and `ALERT_URL` hears of it.
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

use crate::alert;
use crate::config::{self, DEAD_LETTER_QUEUE, DEDUP_KV, DELIVERY_SECRET, EVENTS_QUEUE};
use crate::eventlog;
use crate::ingest::QueueMessage;
use crate::log::{self, now_ms};

/// The first retry's delay; each next one doubles, up to [`MAX_DELAY_SECONDS`].
const BACKOFF_SECONDS: u64 = 60;
/// The longest delay between attempts (Queues allow at most 12 h).
const MAX_DELAY_SECONDS: u64 = 6 * 3600;
const QUEUES_MAX_DELAY: u64 = 12 * 3600;
/// Attempts go on until this long after receipt (or the last replay): longer than the senders'
/// own 24 h.
const HORIZON_SECONDS: u64 = 26 * 3600;

/// The retry schedule, from the `DELIVERY_*` vars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub backoff: u64,
    pub max_delay: u64,
    pub horizon: u64,
    /// An optional cap on attempts, on top of the horizon.
    pub max_attempts: Option<u64>,
}

impl Default for Schedule {
    fn default() -> Self {
        Self {
            backoff: BACKOFF_SECONDS,
            max_delay: MAX_DELAY_SECONDS,
            horizon: HORIZON_SECONDS,
            max_attempts: None,
        }
    }
}

impl Schedule {
    /// From the `DELIVERY_*` vars; a malformed one is a configuration error.
    pub fn from_env(env: &Env) -> Result<Self, config::ConfigError> {
        let d = Self::default();
        let n = |name, default| config::number(env, name, default);
        Ok(Self {
            backoff: n("DELIVERY_BACKOFF_SECONDS", d.backoff)?,
            max_delay: n("DELIVERY_MAX_DELAY_SECONDS", d.max_delay)?.min(QUEUES_MAX_DELAY),
            horizon: n("DELIVERY_HORIZON_SECONDS", d.horizon)?,
            max_attempts: Some(n("DELIVERY_MAX_ATTEMPTS", 0)?).filter(|n| *n > 0),
        })
    }

    /// The delay before the attempt after `attempts_made` failed ones, or `None` when the
    /// horizon (`elapsed` seconds since it started) or the attempt cap is reached.
    pub fn next_delay(&self, attempts_made: u32, elapsed: u64) -> Option<u64> {
        if elapsed >= self.horizon {
            return None;
        }
        if self
            .max_attempts
            .is_some_and(|max| u64::from(attempts_made) >= max)
        {
            return None;
        }
        let exp = attempts_made.saturating_sub(1).min(30);
        Some(self.backoff.saturating_mul(1u64 << exp).min(self.max_delay))
    }
}

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

/// The envelope: in the message; for a large event, in KV under `event_ref` or in the event
/// log's row. Not found yet is retried: a KV write can take a while to be seen elsewhere.
pub async fn envelope(msg: &QueueMessage, env: &Env) -> Result<String, String> {
    if !msg.event.is_empty() {
        return Ok(msg.event.clone());
    }
    let kv_key = match (&msg.event_ref, msg.log_id) {
        (Some(key), _) => key.clone(),
        (None, Some(id)) => {
            let db = eventlog::open(env).ok_or("the event log is not bound")?;
            match eventlog::envelope(&db, id).await {
                Ok(Some(eventlog::Stored {
                    envelope: Some(text),
                    ..
                })) => return Ok(text),
                Ok(Some(eventlog::Stored {
                    envelope_ref: Some(key),
                    ..
                })) => key,
                Ok(_) => return Err(format!("event {id} is not in the log")),
                Err(e) => return Err(format!("D1: {e}")),
            }
        }
        (None, None) => return Ok(msg.event.clone()),
    };
    let kv = env.kv(DEDUP_KV).map_err(|e| format!("KV: {e}"))?;
    match kv.get(&kv_key).text().await {
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
    let event = match envelope(msg, env).await {
        Ok(e) => e,
        Err(why) => return Outcome::Retry(why),
    };
    let body = delivery_body(msg, &event);
    let send = post_signed(env, secret_name, destination, &body, &msg.dedup_key);
    match send.await {
        Ok(s @ 200..=299) => Outcome::Delivered(s),
        Ok(s @ (408 | 429 | 500..=599)) => Outcome::Retry(format!("HTTP {s}")),
        Ok(s) => Outcome::GiveUp(format!("HTTP {s}")),
        // The secret may yet be set or fixed: retried.
        Err(PostError::Config(why)) => Outcome::Retry(why),
        Err(PostError::Network(why)) => Outcome::Retry(format!("network: {why}")),
    }
}

/// Why a signed POST did not get an answer.
pub enum PostError {
    /// The signing secret is missing or unusable.
    Config(String),
    /// The request could not be made or got no response.
    Network(String),
}

/// POSTs `body` (JSON) to `url`, signed with Standard Webhooks under the secret named
/// `secret_name` (`webhook-id` = `id`): deliveries and alerts. Returns the HTTP status.
pub async fn post_signed(
    env: &Env,
    secret_name: &str,
    url: &str,
    body: &str,
    id: &str,
) -> Result<u16, PostError> {
    let secret = config::secret(env, secret_name)
        .ok_or_else(|| PostError::Config(format!("the secret `{secret_name}` is not set")))?;
    let now = i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX);
    let signed = Scheme::from_name("standard-webhooks")
        .and_then(|scheme| Signer::new(scheme, &secret))
        .and_then(|s| s.sign(&SignInput::new(body.as_bytes(), now).with_id(id)))
        .map_err(|e| PostError::Config(format!("`{secret_name}`: {e}")))?;
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
            .with_body(Some(JsValue::from_str(body)));
        let req = Request::new_with_init(url, &init)?;
        Fetch::Request(req).send().await
    };
    send.await
        .map(|res| res.status_code())
        .map_err(|e| PostError::Network(e.to_string()))
}

async fn one(raw: &RawMessage, msg: QueueMessage, env: &Env) {
    let started = now_ms();
    let outcome = attempt(&msg, env).await;
    // A configuration problem never stops a delivery: the defaults apply, and every request
    // reports the problem until it is fixed.
    let (schedule, quiet) = match config::settings(env) {
        Ok(s) => (s.schedule, s.log_level == log::Level::Warn),
        Err(_) => (Schedule::default(), false),
    };
    // A delivery is logged at `info`; retries and dead letters always.
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
    let attempts_made = msg.attempt + 1;
    let elapsed = now_ms().saturating_sub(msg.horizon_from.unwrap_or(msg.received_at)) / 1000;
    let (status, error, next) = match &outcome {
        Outcome::Delivered(s) => (Some(*s), None, None),
        Outcome::Retry(why) => (
            status_of(why),
            Some(why.as_str()),
            schedule.next_delay(attempts_made, elapsed),
        ),
        Outcome::GiveUp(why) => (status_of(why), Some(why.as_str()), None),
    };
    let state = match (&outcome, next) {
        (Outcome::Delivered(_), _) => "delivered",
        (Outcome::Retry(_), Some(_)) => "retrying",
        _ => "failed",
    };
    // The attempt goes into the log first. A failure to record is logged, never a reason to
    // deliver again: the destination already has the event.
    if let (Some(id), Some(db)) = (msg.log_id, eventlog::open(env)) {
        let recorded = eventlog::record(
            &db,
            &eventlog::Attempt {
                id,
                destination: destination_of(env, &msg.source).as_deref().unwrap_or(""),
                attempt: attempts_made,
                at: now_ms(),
                http_status: status,
                error,
                // A last failure stays `retrying` until its dead letter is recorded.
                status: if state == "failed" { "retrying" } else { state },
            },
        )
        .await;
        if let Err(e) = recorded {
            log::line(
                "log_record_failed",
                json!({ "source": msg.source, "dedupKey": msg.dedup_key, "error": e.to_string() }),
            );
        }
    }
    match (outcome, next) {
        (Outcome::Delivered(status), _) => {
            log("delivered", json!(status));
            raw.ack();
        }
        (Outcome::Retry(why), Some(delay)) => {
            let next = QueueMessage {
                attempt: msg.attempt + 1,
                ..msg.clone()
            };
            let requeued = async {
                let body = next.to_js(true)?;
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
        (Outcome::Retry(why) | Outcome::GiveUp(why), _) => {
            log("dead_letter", json!(why));
            dead_letter(raw, env, Some(&msg), None, &why, "undeliverable").await;
        }
    }
}

/// `HTTP 503` → 503.
fn status_of(why: &str) -> Option<u16> {
    why.strip_prefix("HTTP ")?.parse().ok()
}

fn destination_of(env: &Env, source: &str) -> Option<String> {
    config::sources(env)
        .ok()?
        .get(source)
        .and_then(|s| s.destination.clone())
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

/// A dead letter as read back from the queue.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Letter {
    kind: String,
    reason: String,
    at: u64,
    message: Option<QueueMessage>,
}

/// The dead-letter queue's consumer: each letter is recorded, then acknowledged. With the event
/// log, the event's delivery becomes `dead` with the reason (replayable from the admin API);
/// without it, the letter is kept in KV (`hookseal:dead/…`, no expiry). A letter the platform
/// moved here itself (the consumer failed outright) is a bare message. What cannot be recorded
/// is retried, so nothing is dropped.
pub async fn dead_letters(batch: &MessageBatch<serde_json::Value>, env: &Env) {
    let mut by_source: std::collections::BTreeMap<String, (u64, String)> = Default::default();
    for raw in batch.raw_iter() {
        let body = raw.body();
        let (reason, at, message) = match serde_wasm_bindgen::from_value::<Letter>(body.clone()) {
            Ok(l) => (format!("{}: {}", l.kind, l.reason), l.at, l.message),
            Err(_) => match serde_wasm_bindgen::from_value::<QueueMessage>(body.clone()) {
                Ok(m) => (
                    "the platform's retries ran out (the consumer failed)".to_owned(),
                    now_ms(),
                    Some(m),
                ),
                Err(_) => ("not a hookseal message".to_owned(), now_ms(), None),
            },
        };
        let recorded = record_dead(env, &body, message.as_ref(), &reason, at).await;
        match recorded {
            Ok(()) => {
                raw.ack();
                if let Some(m) = &message {
                    let entry = by_source.entry(m.source.clone()).or_default();
                    entry.0 += 1;
                    entry.1.clone_from(&reason);
                }
            }
            Err(e) => {
                log::line(
                    "dead_letter_record_failed",
                    json!({ "reason": reason, "error": e.to_string() }),
                );
                raw.retry();
            }
        }
    }
    for (source, (count, reason)) in by_source {
        alert::dead(env, &source, count, &reason).await;
    }
}

async fn record_dead(
    env: &Env,
    body: &JsValue,
    message: Option<&QueueMessage>,
    reason: &str,
    at: u64,
) -> worker::Result<()> {
    if let (Some(m), Some(id), Some(db)) =
        (message, message.and_then(|m| m.log_id), eventlog::open(env))
    {
        let destination = destination_of(env, &m.source).unwrap_or_default();
        return eventlog::mark_dead(&db, id, &destination, reason, at).await;
    }
    // No log: the letter itself is kept, as JSON.
    let text = js_sys::JSON::stringify(body)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    let key = match message {
        Some(m) => format!("hookseal:dead/{}/{}", m.source, m.dedup_key),
        None => format!("hookseal:dead/unknown/{at}"),
    };
    let record = json!({ "reason": reason, "at": at, "letter": text }).to_string();
    env.kv(DEDUP_KV)?.put(&key, record)?.execute().await?;
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_outlasts_the_senders() {
        let s = Schedule::default();
        let (mut at, mut attempts) = (0u64, 1u32);
        while let Some(d) = s.next_delay(attempts, at) {
            at += d;
            attempts += 1;
        }
        assert!(at >= 26 * 3600, "last attempt at {at} s");
        assert!(at < 26 * 3600 + MAX_DELAY_SECONDS);
        assert_eq!(s.next_delay(1, 0), Some(60));
        assert_eq!(s.next_delay(2, 60), Some(120));
        assert_eq!(s.next_delay(20, 3600), Some(MAX_DELAY_SECONDS));
        let capped = Schedule {
            max_attempts: Some(4),
            ..s
        };
        assert_eq!(capped.next_delay(3, 0), Some(240));
        assert_eq!(capped.next_delay(4, 0), None);
    }
}
