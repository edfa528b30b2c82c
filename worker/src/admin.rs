//! The admin API over the event log, behind `Authorization: Bearer <ADMIN_TOKEN>`.
//!
//! - `GET /admin/`: the operator console (static; it calls the routes below).
//! - `GET /admin/sources`: each source's scheme, destination host, health and last 24 h.
//! - `GET /admin/events?source=&status=&type=&key=&since=&limit=&cursor=`: newest first,
//!   `{ "events": [...], "cursor": id | null }`.
//! - `GET /admin/events/{id}`: one event, its envelope and its attempt history.
//! - `POST /admin/events/{id}/replay`: enqueue it again now (`202`), whatever its status.
//! - `POST /admin/replay` with `{ "source"?, "status"?: "dead", "since"? }`: replays up to
//!   1,000 matching events per call, `{ "replayed": n, "more": bool }`.
//! - `DELETE /admin/events/{id}`: purges one event.
//!
//! Without the `ADMIN_TOKEN` secret every admin route answers 404. The token is compared in
//! constant time; a wrong, missing or differently long token is `401`. Bodies and tokens are
//! never logged.

use serde::Deserialize;
use serde_json::{Value, json};
use subtle::ConstantTimeEq;
use worker::{D1Database, Env, Method, Request, Response, Result};

use crate::config::{self, ADMIN_TOKEN, EVENTS_QUEUE, OUTBOX_QUEUE};
use crate::eventlog::{self, Filter};
use crate::ingest::{QueueMessage, error_response, json_response, send_chunks};
use crate::log::{self, now_ms};

/// Events per page at most, and per bulk replay call.
const PAGE_MAX: u32 = 200;
const REPLAY_MAX: usize = 1000;

/// Whether the admin API is on (the token is set).
pub fn enabled(env: &Env) -> bool {
    config::secret(env, ADMIN_TOKEN).is_some()
}

fn authorized(req: &Request, token: &str) -> bool {
    let given = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let Some(given) = given.strip_prefix("Bearer ") else {
        return false;
    };
    // Only the length may short-circuit.
    given.len() == token.len() && bool::from(given.as_bytes().ct_eq(token.as_bytes()))
}

/// The operator console: static files built into the Worker. They hold no data: everything
/// shown comes from this API as JSON and is put into the page as text.
const CONSOLE: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("../console/index.html"),
    ),
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../console/console.css"),
    ),
    (
        "console.js",
        "text/javascript; charset=utf-8",
        include_str!("../console/console.js"),
    ),
];

/// No inline script or style, nothing from elsewhere, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; \
                   img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn console_file(rest: &str) -> Option<Result<Response>> {
    let (_, content_type, body) = CONSOLE.iter().find(|(name, _, _)| *name == rest)?;
    Some((|| {
        let mut res = Response::ok(*body)?;
        let h = res.headers_mut();
        h.set("content-type", content_type)?;
        h.set("content-security-policy", CSP)?;
        h.set("x-content-type-options", "nosniff")?;
        h.set("referrer-policy", "no-referrer")?;
        h.set("cache-control", "no-cache")?;
        Ok(res)
    })())
}

/// Routes `/admin/…` (`rest` is what follows `/admin/`).
pub async fn route(mut req: Request, env: &Env, rest: &str) -> Result<Response> {
    let Some(token) = config::secret(env, ADMIN_TOKEN) else {
        return error_response("not_found", "no such admin route");
    };
    if req.method() == Method::Get
        && let Some(file) = console_file(rest)
    {
        return file;
    }
    if !authorized(&req, &token) {
        log::line(
            "admin",
            json!({ "outcome": "unauthorized", "path": req.path() }),
        );
        return error_response(
            "unauthorized",
            "a valid `Authorization: Bearer <ADMIN_TOKEN>` is required",
        );
    }
    let Some(db) = eventlog::open(env) else {
        return error_response(
            "log_off",
            "the event log is off: bind a D1 database as EVENT_LOG (README: Operate the Worker)",
        );
    };
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    match (req.method(), parts.as_slice()) {
        (Method::Get, ["sources"]) => sources(env, &db).await,
        (Method::Get, ["events"]) => list(&req, &db).await,
        (Method::Get, ["events", id]) => match id.parse() {
            Ok(id) => one(env, &db, id).await,
            Err(_) => error_response("not_found", "no such event"),
        },
        (Method::Post, ["events", id, "replay"]) => match id.parse() {
            Ok(id) => replay_one(env, &db, id).await,
            Err(_) => error_response("not_found", "no such event"),
        },
        (Method::Delete, ["events", id]) => match id.parse::<i64>() {
            Ok(id) => match eventlog::get(&db, id).await? {
                Some(_) => {
                    eventlog::remove(&db, &[id]).await?;
                    log::line("admin", json!({ "outcome": "purged", "id": id }));
                    json_response(200, json!({ "deleted": 1 }))
                }
                None => error_response("not_found", "no such event"),
            },
            Err(_) => error_response("not_found", "no such event"),
        },
        (Method::Post, ["replay"]) => {
            let body = req.text().await.unwrap_or_default();
            replay_many(env, &db, &body).await
        }
        _ => error_response("not_found", "no such admin route"),
    }
}

/// Every configured source: its scheme, where it delivers (the host only), its health, and the
/// last 24 h in counts.
async fn sources(env: &Env, db: &D1Database) -> Result<Response> {
    let configured = match config::sources(env) {
        Ok(s) => s,
        Err(e) => return json_response(200, json!({ "sources": [], "problem": e.0 })),
    };
    let since = now_ms().saturating_sub(24 * 3_600_000);
    let mut summaries = eventlog::summaries(db, since).await?;
    let mut out = Vec::new();
    for (name, cfg) in configured.iter() {
        let health = match config::source(env, name) {
            Ok(_) => Value::Null,
            Err(e) => Value::String(e.0),
        };
        let destination = cfg
            .destination
            .as_deref()
            .and_then(|d| worker::Url::parse(d).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        let scheme = match &cfg.scheme {
            Value::String(s) => s.clone(),
            _ => "generic".to_owned(),
        };
        out.push(json!({
            "name": name, "scheme": scheme, "destination": destination, "problem": health,
            "last24h": summaries.remove(name).unwrap_or_default(),
        }));
    }
    json_response(200, json!({ "sources": out }))
}

async fn list(req: &Request, db: &D1Database) -> Result<Response> {
    let url = req.url()?;
    let q = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
            .filter(|v| !v.is_empty())
    };
    let (source, status, event_type, key) = (q("source"), q("status"), q("type"), q("key"));
    let number = |k: &str| -> std::result::Result<Option<u64>, String> {
        q(k).map(|v| {
            v.parse::<u64>()
                .map_err(|_| format!("`{k}` must be a whole number"))
        })
        .transpose()
    };
    let (since, limit, cursor) = match (number("since"), number("limit"), number("cursor")) {
        (Ok(s), Ok(l), Ok(c)) => (s, l, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return error_response("invalid_query", &e);
        }
    };
    let limit = u32::try_from(limit.unwrap_or(50))
        .unwrap_or(PAGE_MAX)
        .clamp(1, PAGE_MAX);
    let filter = Filter {
        source: source.as_deref(),
        status: status.as_deref(),
        event_type: event_type.as_deref(),
        dedup_key: key.as_deref(),
        since,
        before: cursor.and_then(|c| i64::try_from(c).ok()),
    };
    let events = eventlog::list(db, &filter, limit).await?;
    let cursor = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    json_response(200, json!({ "events": events, "cursor": cursor }))
}

async fn one(env: &Env, db: &D1Database, id: i64) -> Result<Response> {
    let Some(row) = eventlog::get(db, id).await? else {
        return error_response("not_found", "no such event");
    };
    let light = light_message(&row, now_ms());
    let envelope = match crate::deliver::envelope(&light, env).await {
        Ok(text) => serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
        Err(e) => json!({ "unavailable": e }),
    };
    let history = eventlog::history(db, id).await?;
    let mut out =
        serde_json::to_value(&row).map_err(|e| worker::Error::RustError(e.to_string()))?;
    if let Some(o) = out.as_object_mut() {
        o.insert("envelope".into(), envelope);
        o.insert("history".into(), json!(history));
    }
    json_response(200, out)
}

/// A message for a logged event: without the envelope, which the consumer reads from the log
/// (or from KV, where the row says so). The horizon starts now.
fn light_message(row: &eventlog::Row, now: u64) -> QueueMessage {
    QueueMessage {
        source: row.source.clone(),
        attempt: 0,
        received_at: u64::try_from(row.received_at).unwrap_or(0),
        dedup_key: row.dedup_key.clone(),
        event_type: row.event_type.clone(),
        event: String::new(),
        event_ref: None,
        log_id: Some(row.id),
        horizon_from: Some(now),
    }
}

/// Enqueues the rows again, each on its source's queue. Returns how many were sent.
async fn replay(env: &Env, db: &D1Database, rows: &[eventlog::Row]) -> Result<usize> {
    let now = now_ms();
    let sources = config::sources(env).map_err(|e| worker::Error::RustError(e.0))?;
    let (mut events, mut outbox) = (Vec::new(), Vec::new());
    for row in rows {
        let mut m = light_message(row, now);
        let has_destination = sources
            .get(&row.source)
            .is_some_and(|s| s.destination.is_some());
        if has_destination {
            events.push(m);
        } else {
            // The outbox's consumer is the user's: it gets the envelope inline, or the KV key a
            // large one is stored under (an outbox source's large envelopes are always in KV).
            if let Some(stored) = eventlog::envelope(db, row.id).await? {
                m.event = stored.envelope.unwrap_or_default();
                m.event_ref = stored.envelope_ref;
            }
            outbox.push(m);
        }
    }
    let mut sent_ids = Vec::new();
    let mut failure = None;
    for (queue, messages) in [(EVENTS_QUEUE, &events), (OUTBOX_QUEUE, &outbox)] {
        if messages.is_empty() {
            continue;
        }
        let (sent, failed) = send_chunks(env, queue, messages).await;
        sent_ids.extend(
            messages
                .iter()
                .filter(|m| sent.contains(&m.dedup_key))
                .filter_map(|m| m.log_id),
        );
        failure = failure.or(failed);
    }
    eventlog::requeued(db, &sent_ids, now).await?;
    match failure {
        Some(e) if sent_ids.is_empty() => Err(worker::Error::RustError(e)),
        _ => Ok(sent_ids.len()),
    }
}

async fn replay_one(env: &Env, db: &D1Database, id: i64) -> Result<Response> {
    let Some(row) = eventlog::get(db, id).await? else {
        return error_response("not_found", "no such event");
    };
    match replay(env, db, std::slice::from_ref(&row)).await {
        Ok(n) => {
            log::line(
                "admin",
                json!({ "outcome": "replayed", "id": id, "source": row.source }),
            );
            json_response(202, json!({ "replayed": n }))
        }
        Err(e) => error_response("queue_unavailable", &e.to_string()),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReplayRequest {
    source: Option<String>,
    status: Option<String>,
    since: Option<u64>,
}

async fn replay_many(env: &Env, db: &D1Database, body: &str) -> Result<Response> {
    let request: ReplayRequest = if body.trim().is_empty() {
        ReplayRequest::default()
    } else {
        match serde_json::from_str(body) {
            Ok(r) => r,
            Err(e) => {
                return error_response(
                    "invalid_body",
                    &format!("expected {{ source?, status?, since? }}: {e}"),
                );
            }
        }
    };
    let status = request.status.as_deref().unwrap_or("dead");
    let mut replayed = 0;
    let mut before = None;
    let mut more = false;
    while replayed < REPLAY_MAX {
        let filter = Filter {
            source: request.source.as_deref(),
            status: Some(status),
            since: request.since,
            before,
            ..Filter::default()
        };
        let page = eventlog::list(db, &filter, 100).await?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        match replay(env, db, &page).await {
            Ok(n) => replayed += n,
            Err(e) => return error_response("queue_unavailable", &e.to_string()),
        }
        if page.len() < 100 {
            break;
        }
        more = replayed >= REPLAY_MAX;
    }
    log::line(
        "admin",
        json!({ "outcome": "replayed", "count": replayed, "source": request.source, "status": status }),
    );
    json_response(200, json!({ "replayed": replayed, "more": more }))
}
