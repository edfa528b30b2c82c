//! The fetch path: route, read the raw body (capped), verify, parse, deduplicate, enqueue, answer.

use std::collections::HashSet;

use futures_util::StreamExt;
use hookseal::Event;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use worker::kv::KvStore;
use worker::wasm_bindgen_futures;
use worker::{Env, Method, QueueContentType, RawMessageBuilder, Request, Response, Result};

use crate::config::{self, DEDUP_KV, EVENTS_QUEUE, OUTBOX_QUEUE, Source};
use crate::eventlog;
use crate::log::{self, now_ms};

/// Cloudflare Queues' limits: 100 messages and 256 KB per `sendBatch`, 128 KB per message. The
/// sizes below are estimates of a message's serialized size (see [`wire_size`]) with a margin.
const BATCH_MAX_MESSAGES: usize = 100;
const BATCH_MAX_BYTES: usize = 240_000;
/// An event whose message would be larger than this travels by reference: its envelope is
/// stored in KV and the message carries the key.
const INLINE_MAX_BYTES: usize = 100_000;
/// KV's value limit (25 MiB), less a margin: an envelope larger than this cannot be stored.
const STORED_MAX_BYTES: usize = 25 * 1024 * 1024 - 64 * 1024;
/// D1's row limit (2,000,000 bytes), less a margin: a larger envelope is kept in KV and its row
/// names the key.
const ROW_MAX_BYTES: usize = 1_900_000;
/// How long a stored envelope is kept: the longest a message can live on a queue (14 days),
/// so it outlives every retry and dead letter that refers to it.
const STORED_TTL_SECONDS: u64 = 14 * 24 * 3600;
/// KV's bulk read takes at most this many keys.
const KV_BULK_GET: usize = 100;
/// At most this many KV writes in flight at once from one request.
const KV_PARALLEL: usize = 32;

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
    /// The event envelope as JSON text (exactly as hookseal wrote it); empty when the event
    /// travels by reference.
    pub event: String,
    /// For an event too large for a queue message: the KV key its envelope is stored under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ref: Option<String>,
    /// The event's row in the D1 event log, when the log is on (a large envelope is then read
    /// from there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<i64>,
    /// When the delivery horizon started, ms: the receipt, or the last replay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_from: Option<u64>,
}

impl QueueMessage {
    /// This message without its envelope text.
    fn light(&self) -> Self {
        Self {
            source: self.source.clone(),
            attempt: self.attempt,
            received_at: self.received_at,
            dedup_key: self.dedup_key.clone(),
            event_type: self.event_type.clone(),
            event: String::new(),
            event_ref: self.event_ref.clone(),
            log_id: self.log_id,
            horizon_from: self.horizon_from,
        }
    }

    /// The message as the JS object the queue carries, with its envelope text or (`false`)
    /// without: the small fields as serde_json's text through `JSON.parse`, then the envelope
    /// set as it is (converting field by field would cross the boundary once a field; the
    /// envelope inside the JSON would be escaped and read back).
    pub fn to_js(&self, with_envelope: bool) -> Result<JsValue> {
        let fail = |e: String| worker::Error::RustError(format!("queue message: {e}"));
        let text = serde_json::to_string(&self.light()).map_err(|e| fail(e.to_string()))?;
        let value = js_sys::JSON::parse(&text).map_err(|e| fail(format!("{e:?}")))?;
        let event = if with_envelope {
            self.event.as_str()
        } else {
            ""
        };
        js_sys::Reflect::set(&value, &"event".into(), &JsValue::from_str(event))
            .map_err(|e| fail(format!("{e:?}")))?;
        Ok(value)
    }

    /// Whether the envelope stays out of the message: stored in KV, or too large for a message
    /// and in the event log.
    fn travels_light(&self) -> bool {
        self.event_ref.is_some() || (self.log_id.is_some() && wire_size(self) > INLINE_MAX_BYTES)
    }
}

/// The KV key a large event's envelope is stored under (dedup marks are `{source}/{key}`).
pub fn stored_event_key(source: &str, dedup_key: &str) -> String {
    format!("hookseal:event/{source}/{dedup_key}")
}

/// A conservative estimate of a message's size on the queue: V8 serializes a string one byte
/// a character when it is Latin-1, else two bytes a UTF-16 unit (at most two per UTF-8 byte).
fn wire_size(m: &QueueMessage) -> usize {
    let text = |s: &str| 8 + if s.is_ascii() { s.len() } else { 2 * s.len() };
    let refd = m.event_ref.as_deref().map_or(0, text);
    96 + text(&m.source) + text(&m.dedup_key) + text(&m.event_type) + text(&m.event) + refd
}

pub fn json_response(status: u16, body: serde_json::Value) -> Result<Response> {
    Ok(Response::from_json(&body)?.with_status(status))
}

/// `{ "error": code, "message": … }` with the code's status from hookseal's table of codes.
pub fn error_response(code: &str, message: &str) -> Result<Response> {
    json_response(
        hookseal::status_of(code).unwrap_or(500),
        json!({ "error": code, "message": message }),
    )
}

/// Routes a request.
pub async fn route(req: Request, env: &Env) -> Result<Response> {
    let path = req.path();
    let source = path
        .strip_prefix("/webhooks/")
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .map(str::to_owned);
    if path == "/admin" {
        return Response::redirect_with_status(req.url()?.join("/admin/")?, 301);
    }
    if let Some(rest) = path.strip_prefix("/admin/") {
        let rest = rest.to_owned();
        return crate::admin::route(req, env, &rest).await;
    }
    match (req.method(), source) {
        (Method::Post, Some(source)) => ingest(req, env, &source).await,
        (Method::Get, Some(source)) => handshake(&req, env, &source),
        (Method::Get, None) if path == "/health" => health(env),
        _ => error_response("not_found", "no such route"),
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
                json!({
                    "ok": ok, "sources": sources.keys().collect::<Vec<_>>(), "problems": problems,
                    "eventLog": if eventlog::open(env).is_some() { "on" } else { "off" },
                    "adminApi": if crate::admin::enabled(env) { "on" } else { "off" },
                }),
            )
        }
        Err(e) => json_response(500, json!({ "ok": false, "problems": [e.0] })),
    }
}

/// Meta's `GET ?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`.
fn handshake(req: &Request, env: &Env, name: &str) -> Result<Response> {
    let Ok(Some(src)) = config::source(env, name) else {
        return error_response("unknown_source", "no source of this name");
    };
    let Some(token) = src
        .config
        .verify_token
        .as_deref()
        .and_then(|t| config::secret(env, t))
    else {
        return error_response("no_handshake", "this source has no verifyToken");
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
        Err(e) => error_response(e.code(), &e.to_string()),
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
    // A declared length within the limit (most deliveries): the body in one read, not chunk by
    // chunk through a stream (each chunk a trip across the boundary and the async executor).
    if let Some(n) = declared
        && n <= max
    {
        let body = req
            .bytes()
            .await
            .map_err(|e| BodyError::Unreadable(e.to_string()))?;
        return if body.len() as u64 > max {
            Err(BodyError::TooLarge)
        } else {
            Ok(body)
        };
    }
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

/// How an ingest ended. Every step returns one on the way out, and [`answer`] turns it into the
/// response and the log line, in one place.
enum Outcome {
    /// The events were enqueued (202), or all were duplicates (200).
    Accepted {
        /// `(type, dedup key)` of each event enqueued.
        accepted: Vec<(String, String)>,
        /// The dedup keys of the duplicates skipped.
        duplicates: Vec<String>,
    },
    /// Refused for good: the status comes from the code (hookseal's table of codes).
    Refused {
        code: &'static str,
        message: String,
        /// `rejected` (the sender's fault) or `config_error` (ours).
        outcome: &'static str,
    },
    /// A store was unavailable: 503, so that the sender retries.
    Unavailable { code: &'static str, detail: String },
}

impl Outcome {
    fn refused(code: &'static str, message: impl Into<String>, outcome: &'static str) -> Self {
        Self::Refused {
            code,
            message: message.into(),
            outcome,
        }
    }

    fn config(problem: impl Into<String>) -> Self {
        Self::refused("invalid_config", problem, "config_error")
    }

    fn unavailable(code: &'static str, detail: impl ToString) -> Self {
        Self::Unavailable {
            code,
            detail: detail.to_string(),
        }
    }
}

/// A step's result: its value, or how the ingest ended.
type Step<T> = std::result::Result<T, Outcome>;

/// The ingest path, as the guides have it: read, verify, dedupe, enqueue (with the log), answer.
async fn ingest(mut req: Request, env: &Env, name: &str) -> Result<Response> {
    let started = now_ms();
    let quiet = matches!(config::settings(env), Ok(s) if s.log_level == log::Level::Warn);
    let outcome = match receive(&mut req, env, name).await {
        Ok(outcome) | Err(outcome) => outcome,
    };
    answer(name, started, quiet, outcome)
}

async fn receive(req: &mut Request, env: &Env, name: &str) -> Step<Outcome> {
    let settings = config::settings(env).map_err(|e| Outcome::config(e.0))?;
    let src = match config::source(env, name) {
        Ok(Some(src)) => src,
        Ok(None) => return Err(Outcome::refused("unknown_source", "", "unknown_source")),
        Err(e) => return Err(Outcome::config(e.0)),
    };
    // The body limit: the source's own, else MAX_BODY_BYTES, else the largest payload the
    // scheme's provider documents (4 MiB for most, Meta's 3 MB included; 25 MiB for GitHub).
    let max = src
        .config
        .max_body_bytes
        .or(settings.max_body)
        .unwrap_or_else(|| src.verifier.max_body_bytes());
    let body = read(req, max).await?;
    let events = verify(req, env, name, &src, &body).await?;
    // One handle on KV for the request (each opening reads the binding's methods anew).
    let kv = env
        .kv(DEDUP_KV)
        .map_err(|e| Outcome::unavailable("dedup_unavailable", e))?;
    let (fresh, duplicates) = dedupe(env, &kv, name, events)
        .await
        .map_err(|e| Outcome::unavailable("dedup_unavailable", e))?;
    let (fresh, duplicates) =
        enqueue(env, &kv, name, &src, settings.dedup_ttl, fresh, duplicates).await?;
    Ok(Outcome::Accepted {
        accepted: fresh
            .into_iter()
            .map(|e| (e.event_type, e.dedup_key))
            .collect(),
        duplicates,
    })
}

/// The response and the log line for an outcome. Accepted and duplicate deliveries are logged at
/// `info`; everything else always. The log line is only built when it is written.
fn answer(name: &str, started: u64, quiet: bool, outcome: Outcome) -> Result<Response> {
    let (status, body) = match &outcome {
        Outcome::Accepted {
            accepted,
            duplicates,
        } => {
            let status = if accepted.is_empty() && !duplicates.is_empty() {
                200
            } else {
                202
            };
            let body = json!({ "accepted": accepted.len(), "duplicates": duplicates.len() });
            (status, body)
        }
        Outcome::Refused { code, message, .. } => {
            let body = if message.is_empty() {
                json!({ "error": code })
            } else {
                json!({ "error": code, "message": message })
            };
            (hookseal::status_of(code).unwrap_or(500), body)
        }
        Outcome::Unavailable { code, .. } => (
            503,
            json!({ "error": code, "message": "temporarily unavailable, retry later" }),
        ),
    };
    if !(quiet && status < 300) {
        let mut fields = match outcome {
            Outcome::Accepted {
                accepted,
                duplicates,
            } => {
                let events: Vec<_> = accepted
                    .iter()
                    .map(|(t, k)| json!({ "type": t, "dedupKey": k }))
                    .collect();
                json!({ "outcome": if status == 200 { "duplicate" } else { "accepted" }, "events": events, "duplicateKeys": duplicates })
            }
            Outcome::Refused {
                code,
                message,
                outcome,
            } => {
                if outcome == "config_error" {
                    json!({ "outcome": outcome, "code": code, "problem": message })
                } else {
                    json!({ "outcome": outcome, "code": code })
                }
            }
            Outcome::Unavailable { code, detail } => {
                json!({ "outcome": "unavailable", "code": code, "detail": detail })
            }
        };
        if let Some(o) = fields.as_object_mut() {
            o.insert("source".into(), json!(name));
            o.insert("status".into(), json!(status));
            o.insert("latencyMs".into(), json!(now_ms().saturating_sub(started)));
        }
        log::line("ingest", fields);
    }
    json_response(status, body)
}

/// Reads the body within the limit.
async fn read(req: &mut Request, max: u64) -> Step<Vec<u8>> {
    read_capped(req, max).await.map_err(|e| match e {
        BodyError::TooLarge => Outcome::refused(
            "body_too_large",
            format!("the body is larger than {max} bytes"),
            "rejected",
        ),
        BodyError::Unreadable(e) => Outcome::refused("unreadable_body", e, "rejected"),
    })
}

/// Verifies and parses. An authentic body that is not the documented event is kept as a
/// `hookseal.unparsed` event, so nothing authentic is lost; a rejection is counted in the log.
async fn verify(
    req: &Request,
    env: &Env,
    name: &str,
    src: &Source,
    body: &[u8],
) -> Step<Vec<Event>> {
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
    // The method and URL only for a scheme that signs them (parsing the URL has a cost).
    let target = if src.verifier.signs_request_target() {
        let url = req.url().map_err(|e| Outcome::config(e.to_string()))?;
        Some((req.method().to_string(), url.to_string()))
    } else {
        None
    };
    let now = i64::try_from(now_ms() / 1000).unwrap_or(i64::MAX);
    let mut request = hookseal::Request::new(body, &headers);
    if let Some((method, url)) = &target {
        request = request.with_target(method, url);
    }
    match src.verifier.verify_and_parse(&request, now) {
        Ok(delivery) => Ok(delivery.events),
        Err(e) if e.signature_verified() => Ok(vec![src.verifier.unparsed_event(body, &e)]),
        Err(e) => {
            let outcome = if e.is_rejection() {
                if let Some(db) = eventlog::open(env) {
                    // Counted for the console; a failure to count changes nothing for the sender.
                    let _ = eventlog::tally(&db, name, e.code(), 1, now_ms()).await;
                }
                "rejected"
            } else {
                "config_error"
            };
            Err(Outcome::refused(e.code(), e.to_string(), outcome))
        }
    }
}

/// Logs, enqueues and marks the fresh events; returns the events enqueued and all duplicates
/// (the log may find more). Step by step, what a failure leaves behind (README: "What a failure
/// at each step leaves"):
/// - an envelope too large for a message is stored in KV first; a failed store answers 503 and
///   nothing is logged, enqueued or marked (a stored envelope without a message is harmless);
/// - the events go into the log in one transaction; a failure answers 503 and leaves nothing;
/// - the messages go in chunks within Queues' limits; each chunk that was sent has its events
///   marked, each that failed leaves the log again and is not marked, and any failure answers
///   503: the sender's retry then finds the sent events (duplicates) and enqueues the rest, so
///   every event is enqueued once;
/// - a failed mark is logged and tolerated: the event is safe, and the log (or, without it, the
///   destination's idempotence on `webhook-id`) catches the retry.
async fn enqueue(
    env: &Env,
    kv: &KvStore,
    name: &str,
    src: &Source,
    ttl: u64,
    mut fresh: Vec<Event>,
    mut duplicates: Vec<String>,
) -> Step<(Vec<Event>, Vec<String>)> {
    let log = eventlog::open(env);
    if !fresh.is_empty() {
        // The log keeps a large envelope for this Worker's own consumer; the outbox's consumer
        // is the user's, which reads a large envelope from KV.
        let log_keeps = log.is_some() && src.config.destination.is_some();
        let messages = messages(name, &fresh, now_ms(), log_keeps).map_err(|too_large| {
            Outcome::refused(
                "event_too_large",
                format!("an event's envelope is {too_large} bytes, more than can be stored ({STORED_MAX_BYTES})"),
                "rejected",
            )
        })?;
        store_large(kv, &messages)
            .await
            .map_err(|e| Outcome::unavailable("dedup_unavailable", e))?;
        let destination = src.config.destination.as_deref().unwrap_or("");
        // The event log settles what KV could not: a concurrent copy of the same event that
        // passed the KV check is a duplicate here. A failure answers 503 and leaves nothing.
        let messages = match &log {
            None => messages,
            Some(db) => {
                let (logged, dups) = log_events(db, name, destination, messages)
                    .await
                    .map_err(|e| Outcome::unavailable("log_unavailable", e))?;
                fresh.retain(|e| !dups.contains(&e.dedup_key));
                duplicates.extend(dups);
                logged
            }
        };
        let queue_name = if src.config.destination.is_some() {
            EVENTS_QUEUE
        } else {
            OUTBOX_QUEUE
        };
        let (sent, failure) = send_chunks(env, queue_name, &messages).await;
        if let Some(e) = failure {
            // The events that were not sent leave the log again, so that the sender's retry
            // is not taken for a duplicate; those sent are marked, so that it skips them.
            if let Some(db) = &log {
                let sent: HashSet<&String> = sent.iter().collect();
                let unsent: Vec<i64> = messages
                    .iter()
                    .filter(|m| !sent.contains(&m.dedup_key))
                    .filter_map(|m| m.log_id)
                    .collect();
                if let Err(err) = eventlog::remove(db, &unsent).await {
                    log::line(
                        "log_compensation_failed",
                        json!({ "source": name, "events": unsent.len(), "error": err.to_string() }),
                    );
                }
            }
            mark(kv, name, &sent, ttl).await;
            return Err(Outcome::unavailable("queue_unavailable", e));
        }
        mark(kv, name, &sent, ttl).await;
    }
    if !duplicates.is_empty()
        && let Some(db) = &log
    {
        let n = duplicates.len() as u64;
        let _ = eventlog::tally(db, name, "duplicate", n, now_ms()).await;
    }
    Ok((fresh, duplicates))
}

fn mark_key(source: &str, dedup_key: &str) -> String {
    format!("{source}/{dedup_key}")
}

/// Splits events into the fresh and the dedup keys of the duplicates: seen in KV, or earlier in
/// this same body. One bulk KV read per hundred keys, the reads concurrent.
async fn dedupe(
    env: &Env,
    kv: &KvStore,
    source: &str,
    events: Vec<Event>,
) -> Result<(Vec<Event>, Vec<String>)> {
    let mut seen_here = HashSet::new();
    let mut fresh = Vec::new();
    let mut duplicates = Vec::new();
    for event in events {
        if seen_here.insert(event.dedup_key.clone()) {
            fresh.push(event);
        } else {
            duplicates.push(event.dedup_key);
        }
    }
    let keys: Vec<String> = fresh
        .iter()
        .map(|e| mark_key(source, &e.dedup_key))
        .collect();
    // One event (most deliveries): a plain read, the cheapest call.
    if let [key] = keys.as_slice() {
        let seen = kv.get(key).text().await?.is_some();
        let (out, dups) = if seen {
            (Vec::new(), fresh.into_iter().map(|e| e.dedup_key).collect())
        } else {
            (fresh, Vec::new())
        };
        duplicates.extend(dups);
        return Ok((out, duplicates));
    }
    let binding = js_sys::Reflect::get(env.as_ref(), &DEDUP_KV.into())
        .map_err(|_| worker::Error::RustError("the DEDUP binding is missing".into()))?;
    let lookups = keys
        .chunks(KV_BULK_GET)
        .map(|chunk| bulk_seen(&binding, chunk));
    let seen: Vec<bool> = futures_util::future::try_join_all(lookups)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let mut out = Vec::with_capacity(fresh.len());
    for (event, seen) in fresh.into_iter().zip(seen) {
        if seen {
            duplicates.push(event.dedup_key);
        } else {
            out.push(event);
        }
    }
    Ok((out, duplicates))
}

/// KV's bulk read (`get([keys])`, a `Map` of key to value or null): whether each key is set.
async fn bulk_seen(kv: &JsValue, keys: &[String]) -> Result<Vec<bool>> {
    let fail = |what: &str| worker::Error::RustError(format!("KV bulk read: {what}"));
    let get: js_sys::Function = js_sys::Reflect::get(kv, &"get".into())
        .map_err(|_| fail("no get"))?
        .dyn_into()
        .map_err(|_| fail("get is not a function"))?;
    let list: js_sys::Array = keys.iter().map(|k| JsValue::from_str(k)).collect();
    let promise: js_sys::Promise = get
        .call1(kv, &list)
        .map_err(|e| fail(&format!("{e:?}")))?
        .dyn_into()
        .map_err(|_| fail("not a promise"))?;
    let map: js_sys::Map = wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|e| fail(&format!("{e:?}")))?
        .dyn_into()
        .map_err(|_| fail("not a Map"))?;
    Ok(keys
        .iter()
        .map(|k| {
            let v = map.get(&JsValue::from_str(k));
            !(v.is_null() || v.is_undefined())
        })
        .collect())
}

/// Logs the events; returns their messages with their row ids, less the duplicates the log
/// found (whose dedup keys come second).
async fn log_events(
    db: &worker::D1Database,
    source: &str,
    destination: &str,
    messages: Vec<QueueMessage>,
) -> Result<(Vec<QueueMessage>, Vec<String>)> {
    let rows: Vec<eventlog::NewEvent<'_>> = messages
        .iter()
        .map(|m| eventlog::NewEvent {
            source,
            dedup_key: &m.dedup_key,
            event_type: &m.event_type,
            received_at: m.received_at,
            envelope: m.event_ref.is_none().then_some(m.event.as_str()),
            envelope_ref: m.event_ref.as_deref(),
            destination,
        })
        .collect();
    let ids = eventlog::insert(db, &rows).await?;
    let mut logged = Vec::with_capacity(messages.len());
    let mut duplicates = Vec::new();
    for (mut m, id) in messages.into_iter().zip(ids) {
        match id {
            Some(id) => {
                m.log_id = Some(id);
                logged.push(m);
            }
            None => duplicates.push(m.dedup_key),
        }
    }
    Ok((logged, duplicates))
}

/// The queue message of each event. An envelope too large for a message is stored in KV
/// (`event_ref`), unless `log_keeps` it (and it fits a row). `Err` with the size when an
/// envelope is too large even for KV.
fn messages(
    source: &str,
    events: &[Event],
    received_at: u64,
    log_keeps: bool,
) -> std::result::Result<Vec<QueueMessage>, usize> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let mut m = QueueMessage {
            source: source.to_owned(),
            attempt: 0,
            received_at,
            dedup_key: e.dedup_key.clone(),
            event_type: e.event_type.clone(),
            event: e.to_json(),
            event_ref: None,
            log_id: None,
            horizon_from: None,
        };
        if m.event.len() > STORED_MAX_BYTES {
            return Err(m.event.len());
        }
        let in_kv = if log_keeps {
            m.event.len() > ROW_MAX_BYTES
        } else {
            wire_size(&m) > INLINE_MAX_BYTES
        };
        if in_kv {
            m.event_ref = Some(stored_event_key(source, &m.dedup_key));
        }
        out.push(m);
    }
    Ok(out)
}

/// Stores the envelopes of the events that travel by reference (concurrently). Their messages
/// keep the envelope text until here; it is dropped from the message when sent.
async fn store_large(kv: &KvStore, messages: &[QueueMessage]) -> Result<()> {
    let puts = messages.iter().filter_map(|m| {
        let key = m.event_ref.as_deref()?;
        Some(async move {
            kv.put(key, m.event.as_str())?
                .expiration_ttl(STORED_TTL_SECONDS)
                .execute()
                .await
                .map_err(worker::Error::from)
        })
    });
    futures_util::stream::iter(puts)
        .buffer_unordered(KV_PARALLEL)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Sends the messages in chunks within Queues' limits. Returns the dedup keys of every message
/// in a chunk that was sent, and the first failure.
pub async fn send_chunks(
    env: &Env,
    queue_name: &str,
    messages: &[QueueMessage],
) -> (Vec<String>, Option<String>) {
    let queue = match env.queue(queue_name) {
        Ok(q) => q,
        Err(e) => return (Vec::new(), Some(e.to_string())),
    };
    let mut sent = Vec::new();
    let mut failure = None;
    for chunk in chunks(messages) {
        let batch: Result<Vec<_>> = chunk
            .iter()
            .map(|m| {
                // Light: the envelope is in KV or the log, and the message names where.
                let body = m.to_js(!m.travels_light())?;
                Ok(RawMessageBuilder::new(body).build_with_content_type(QueueContentType::V8))
            })
            .collect();
        let sent_ok = match batch {
            // One message: a plain send, the cheapest call.
            Ok(mut batch) if batch.len() == 1 => match batch.pop() {
                Some(one) => queue.send_raw(one).await,
                None => Ok(()),
            },
            Ok(batch) => queue.send_raw_batch(batch).await,
            Err(e) => Err(e),
        };
        match sent_ok {
            Ok(()) => sent.extend(chunk.iter().map(|m| m.dedup_key.clone())),
            Err(e) => {
                failure.get_or_insert(e.to_string());
            }
        }
    }
    (sent, failure)
}

/// Groups messages into batches of at most [`BATCH_MAX_MESSAGES`] and [`BATCH_MAX_BYTES`]
/// (counting a message that travels by reference at its light size).
fn chunks(messages: &[QueueMessage]) -> Vec<Vec<&QueueMessage>> {
    let mut out: Vec<Vec<&QueueMessage>> = Vec::new();
    let mut bytes = 0;
    for m in messages {
        let size = if m.travels_light() {
            wire_size(m).saturating_sub(m.event.len() * 2)
        } else {
            wire_size(m)
        };
        let fits = out
            .last()
            .is_some_and(|c| c.len() < BATCH_MAX_MESSAGES && bytes + size <= BATCH_MAX_BYTES);
        if fits {
            if let Some(c) = out.last_mut() {
                c.push(m);
            }
            bytes += size;
        } else {
            out.push(vec![m]);
            bytes = size;
        }
    }
    out
}

/// Marks the events as seen (concurrently). A failed mark is logged, never fatal (see above).
async fn mark(kv: &KvStore, source: &str, dedup_keys: &[String], ttl: u64) {
    let value = now_ms().to_string();
    let puts = dedup_keys.iter().map(|k| {
        let value = value.as_str();
        async move {
            let key = mark_key(source, k);
            let put = match kv.put(&key, value) {
                Ok(p) => p.expiration_ttl(ttl.max(60)).execute().await,
                Err(e) => Err(e),
            };
            if let Err(e) = put {
                log::line(
                    "dedup_mark_failed",
                    json!({ "source": source, "dedupKey": k, "error": e.to_string() }),
                );
            }
        }
    });
    futures_util::stream::iter(puts)
        .buffer_unordered(KV_PARALLEL)
        .collect::<Vec<()>>()
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(event_len: usize, by_ref: bool) -> QueueMessage {
        QueueMessage {
            source: "s".into(),
            attempt: 0,
            received_at: 0,
            dedup_key: "k".into(),
            event_type: "t".into(),
            event: "x".repeat(event_len),
            event_ref: by_ref.then(|| "hookseal:event/s/k".into()),
            log_id: None,
            horizon_from: None,
        }
    }

    #[test]
    fn chunks_keep_within_queue_limits() {
        let many: Vec<_> = (0..1000).map(|_| msg(100, false)).collect();
        let c = chunks(&many);
        assert_eq!(c.len(), 10);
        assert!(c.iter().all(|c| c.len() == BATCH_MAX_MESSAGES));
        let big: Vec<_> = (0..7).map(|_| msg(90_000, false)).collect();
        let c = chunks(&big);
        assert!(
            c.iter()
                .all(|c| c.iter().map(|m| wire_size(m)).sum::<usize>() <= BATCH_MAX_BYTES)
        );
        assert_eq!(c.iter().map(Vec::len).sum::<usize>(), 7);
        // By reference, a huge envelope costs its light size.
        let refd: Vec<_> = (0..150).map(|_| msg(900_000, true)).collect();
        assert_eq!(chunks(&refd).len(), 2);
    }

    #[test]
    fn non_ascii_counts_double() {
        let mut m = msg(0, false);
        let ascii = wire_size(&m);
        m.event = "é".repeat(10);
        assert_eq!(wire_size(&m), ascii + 40);
    }
}
