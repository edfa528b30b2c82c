//! The fetch path: route, read the raw body (capped), verify, parse, deduplicate, enqueue, answer.

use std::collections::HashSet;

use futures_util::StreamExt;
use hookseal::Event;
use serde::{Deserialize, Serialize};
use serde_json::json;
use worker::{Env, Method, QueueContentType, RawMessageBuilder, Request, Response, Result};

use crate::config::{self, DEDUP_KV, EVENTS_QUEUE, OUTBOX_QUEUE, Source};
use crate::log::{self, now_ms};

/// Default body cap.
const MAX_BODY_BYTES: u64 = 1024 * 1024;
/// Default dedup window: longer than the senders' 24 h retry horizon.
const DEDUP_TTL_SECONDS: u64 = 72 * 3600;

/// What is enqueued for one event.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct QueueMessage {
    /// The source name.
    pub source: String,
    /// Delivery attempts made so far.
    pub attempt: u32,
    /// When the webhook was received, ms since the epoch.
    pub received_at: u64,
    /// The event's dedup key (also the `webhook-id` of the delivery).
    pub dedup_key: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The event envelope as JSON text (exactly as hookseal wrote it).
    pub event: String,
}

fn json_response(status: u16, body: serde_json::Value) -> Result<Response> {
    Ok(Response::from_json(&body)?.with_status(status))
}

/// Routes a request.
pub async fn route(req: Request, env: &Env) -> Result<Response> {
    let path = req.path();
    let source = path
        .strip_prefix("/webhooks/")
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .map(str::to_owned);
    match (req.method(), source) {
        (Method::Post, Some(source)) => ingest(req, env, &source).await,
        (Method::Get, Some(source)) => handshake(&req, env, &source),
        (Method::Get, None) if path == "/health" => health(env),
        _ => json_response(404, json!({ "error": "not_found" })),
    }
}

fn health(env: &Env) -> Result<Response> {
    match config::sources(env) {
        Ok(sources) => {
            let mut problems = Vec::new();
            for name in sources.keys() {
                if let Err(e) = config::source(env, name) {
                    problems.push(e.0);
                }
            }
            let ok = problems.is_empty();
            json_response(
                if ok { 200 } else { 500 },
                json!({ "ok": ok, "sources": sources.keys().collect::<Vec<_>>(), "problems": problems }),
            )
        }
        Err(e) => json_response(500, json!({ "ok": false, "problems": [e.0] })),
    }
}

/// Meta's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
fn handshake(req: &Request, env: &Env, name: &str) -> Result<Response> {
    let Ok(Some(src)) = config::source(env, name) else {
        return json_response(404, json!({ "error": "unknown_source" }));
    };
    let Some(token) = src
        .config
        .verify_token
        .as_deref()
        .and_then(|t| config::secret(env, t))
    else {
        return json_response(
            404,
            json!({ "error": "no_handshake", "message": "this source has no verifyToken" }),
        );
    };
    let url = req.url()?;
    let param = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    let (mode, given, challenge) = (
        param("hub.mode"),
        param("hub.verify_token"),
        param("hub.challenge"),
    );
    let result = hookseal::meta_handshake(
        mode.as_deref(),
        given.as_deref(),
        challenge.as_deref(),
        &token,
    );
    log::line(
        "handshake",
        json!({ "source": name, "outcome": if result.is_ok() { "answered" } else { "refused" } }),
    );
    match result {
        Ok(challenge) => Response::ok(challenge),
        Err(e) => json_response(403, json!({ "error": e.code(), "message": e.to_string() })),
    }
}

enum BodyError {
    TooLarge,
    Unreadable(String),
}

/// Reads the body as a stream, keeping at most `max` bytes. Past that, the rest is read and
/// discarded up to `DRAIN_FACTOR` times `max` before answering: a sender still writing its body
/// would otherwise see the connection closed instead of the 413 (and retry for a day).
async fn read_capped(req: &mut Request, max: u64) -> std::result::Result<Vec<u8>, BodyError> {
    const DRAIN_FACTOR: u64 = 16;
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut stream = match req.stream() {
        Ok(s) => s,
        // No body at all.
        Err(_) => return Ok(Vec::new()),
    };
    let mut body = Vec::new();
    let mut seen: u64 = 0;
    let mut too_large = declared.is_some_and(|n| n > max);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| BodyError::Unreadable(e.to_string()))?;
        seen += chunk.len() as u64;
        if too_large || seen > max {
            too_large = true;
            if seen > max.saturating_mul(DRAIN_FACTOR) {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    if too_large {
        return Err(BodyError::TooLarge);
    }
    Ok(body)
}

async fn ingest(mut req: Request, env: &Env, name: &str) -> Result<Response> {
    let started = now_ms();
    let level = log::level(env);
    let quiet = matches!(level, Ok(log::Level::Warn));
    let done = |status: u16, body: serde_json::Value, log_fields: serde_json::Value| {
        // Accepted and duplicate deliveries are logged at `info`; everything else always.
        if !(quiet && status < 300) {
            let mut fields = log_fields;
            if let Some(o) = fields.as_object_mut() {
                o.insert("source".into(), json!(name));
                o.insert("status".into(), json!(status));
                o.insert("latencyMs".into(), json!(now_ms().saturating_sub(started)));
            }
            log::line("ingest", fields);
        }
        json_response(status, body)
    };
    if let Err(e) = level {
        return done(
            500,
            json!({ "error": "invalid_config", "message": e.0 }),
            json!({ "outcome": "config_error", "problem": e.0 }),
        );
    }
    let src: std::rc::Rc<Source> = match config::source(env, name) {
        Ok(Some(s)) => s,
        Ok(None) => {
            return done(
                404,
                json!({ "error": "unknown_source" }),
                json!({ "outcome": "unknown_source" }),
            );
        }
        Err(e) => {
            return done(
                500,
                json!({ "error": "invalid_config", "message": e.0 }),
                json!({ "outcome": "config_error", "problem": e.0 }),
            );
        }
    };
    let limits = config::number(env, "MAX_BODY_BYTES", MAX_BODY_BYTES).and_then(|max| {
        Ok((
            max,
            config::number(env, "DEDUP_TTL_SECONDS", DEDUP_TTL_SECONDS)?,
        ))
    });
    let (max, ttl) = match limits {
        Ok(l) => l,
        Err(e) => {
            return done(
                500,
                json!({ "error": "invalid_config", "message": e.0 }),
                json!({ "outcome": "config_error", "problem": e.0 }),
            );
        }
    };
    let body = match read_capped(&mut req, max).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => {
            let msg = format!("the body is larger than {max} bytes");
            return done(
                413,
                json!({ "error": "body_too_large", "message": msg }),
                json!({ "outcome": "rejected", "code": "body_too_large" }),
            );
        }
        Err(BodyError::Unreadable(e)) => {
            return done(
                400,
                json!({ "error": "unreadable_body", "message": e }),
                json!({ "outcome": "rejected", "code": "unreadable_body" }),
            );
        }
    };

    // Only the headers verification reads are copied out of the request.
    let headers: Vec<(String, String)> = src
        .verifier
        .header_names()
        .into_iter()
        .filter_map(|n| {
            req.headers()
                .get(n)
                .ok()
                .flatten()
                .map(|v| (n.to_owned(), v))
        })
        .collect();
    let url = req.url()?.to_string();
    let method = req.method().to_string();
    let now = i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX);
    let request = hookseal::Request::new(&body, &headers).with_target(&method, &url);
    let events: Vec<Event> = match src.verifier.verify_and_parse(&request, now) {
        Ok(delivery) => delivery.events,
        // Authentic but not the documented event: kept, so nothing is lost.
        Err(e) if e.signature_verified() => vec![src.verifier.unparsed_event(&body, &e)],
        Err(e) if e.is_rejection() => {
            return done(
                401,
                json!({ "error": e.code(), "message": e.to_string() }),
                json!({ "outcome": "rejected", "code": e.code() }),
            );
        }
        Err(e) => {
            return done(
                500,
                json!({ "error": e.code(), "message": e.to_string() }),
                json!({ "outcome": "config_error", "code": e.code() }),
            );
        }
    };

    let kv = match env.kv(DEDUP_KV) {
        Ok(kv) => kv,
        Err(e) => return unavailable(&done, "dedup_unavailable", &e.to_string()),
    };
    // Events already seen, in KV or earlier in this same delivery, are skipped.
    let mut seen_here = HashSet::new();
    let mut fresh: Vec<(String, Event)> = Vec::new();
    let mut duplicates = Vec::new();
    for event in events {
        let key = format!("{name}/{}", event.dedup_key);
        if !seen_here.insert(key.clone()) {
            duplicates.push(event.dedup_key);
            continue;
        }
        match kv.get(&key).text().await {
            Ok(Some(_)) => duplicates.push(event.dedup_key),
            Ok(None) => fresh.push((key, event)),
            Err(e) => return unavailable(&done, "dedup_unavailable", &e.to_string()),
        }
    }

    let received_at = now_ms();
    if !fresh.is_empty() {
        let queue_name = if src.config.destination.is_some() {
            EVENTS_QUEUE
        } else {
            OUTBOX_QUEUE
        };
        let sent = async {
            let queue = env.queue(queue_name)?;
            let messages = fresh
                .iter()
                .map(|(_, e)| {
                    let m = QueueMessage {
                        source: name.to_owned(),
                        attempt: 0,
                        received_at,
                        dedup_key: e.dedup_key.clone(),
                        event_type: e.event_type.clone(),
                        event: e.to_json(),
                    };
                    let body = serde_wasm_bindgen::to_value(&m).map_err(worker::Error::from)?;
                    Ok(RawMessageBuilder::new(body).build_with_content_type(QueueContentType::V8))
                })
                .collect::<Result<Vec<_>>>()?;
            queue.send_raw_batch(messages).await
        };
        if let Err(e) = sent.await {
            // Nothing was marked: the sender's retry will enqueue these events.
            return unavailable(&done, "queue_unavailable", &e.to_string());
        }
        // Marks are written only for enqueued events. A failed mark is logged and tolerated: the
        // event is safe, and at worst a retry delivers it twice (the destination is idempotent).
        for (key, event) in &fresh {
            let put = match kv.put(key, received_at.to_string()) {
                Ok(p) => p.expiration_ttl(ttl.max(60)).execute().await,
                Err(e) => Err(e),
            };
            if let Err(e) = put {
                log::line(
                    "dedup_mark_failed",
                    json!({ "source": name, "dedupKey": event.dedup_key, "error": e.to_string() }),
                );
            }
        }
    }

    let accepted: Vec<_> = fresh
        .iter()
        .map(|(_, e)| json!({ "type": e.event_type, "dedupKey": e.dedup_key }))
        .collect();
    let status = if accepted.is_empty() && !duplicates.is_empty() {
        200
    } else {
        202
    };
    done(
        status,
        json!({ "accepted": accepted.len(), "duplicates": duplicates.len() }),
        json!({ "outcome": if status == 200 { "duplicate" } else { "accepted" }, "events": accepted, "duplicateKeys": duplicates }),
    )
}

/// 503 so the sender retries.
fn unavailable(
    done: &dyn Fn(u16, serde_json::Value, serde_json::Value) -> Result<Response>,
    code: &str,
    detail: &str,
) -> Result<Response> {
    done(
        503,
        json!({ "error": code, "message": "temporarily unavailable, retry later" }),
        json!({ "outcome": "unavailable", "code": code, "detail": detail }),
    )
}
