//! The admin API, behind `Authorization: Bearer <ADMIN_TOKEN>`, and the console it serves.
//!
//! - `GET /admin/` and its files: the operator console (static; it calls the routes below).
//! - `GET /admin/sources`: each source, its routes, its health and its last 24 h.
//! - `GET /admin/destinations`: each destination, its host, its last 24 h and last delivery, and
//!   its gate (state, in flight, waiting and parked, rate) when `GATE` is bound.
//! - `POST /admin/destinations/{name}/pause`, `/resume`: hold its deliveries, or let them go.
//! - `GET /admin/events?source=&status=&type=&key=&destination=&since=&limit=&cursor=&log=`:
//!   newest first, `{ "events": [...], "cursor": id | null }`.
//! - `GET /admin/events/{id}`: one event, its envelope, its deliveries and attempts.
//! - `POST /admin/events/{id}/replay` with an optional `{ "destination" }`: that delivery, or
//!   each of the event's, owed again now.
//! - `POST /admin/replay` with `{ "source"?, "destination"?, "since"?, "status"?: "dead" }` or
//!   `{ "ids": [...] }`: bulk replay of dead deliveries (others only by id), up to 1,000 a call.
//! - `DELETE /admin/events/{id}`: purges one event (its large envelope's KV copy and its archived
//!   media too).
//! - `GET /admin/media/{key}`: a fresh link to archived media, `{ "url", "size", "contentType" }`.
//! - `POST /admin/filters/test` with `{ "filter", "eventId" | "event" }`: `{ "matches" }`.
//!
//! The admin API is closed (every route `404`) without an `ADMIN_TOKEN` of at least 32
//! characters. The token is compared in constant time (through hashes, so not even its length
//! shows); failed attempts are throttled per client (`ADMIN_LIMIT`, a Rate Limiting binding, or
//! else the isolate's own count) with `429`. Every answer is `Cache-Control: no-store`.

mod console;
mod destinations;
mod events;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use worker::{Env, Method, Request};

use crate::config::{Config, binding};
use crate::failure::Failure;
use crate::log;
use crate::store::{self, Log};

pub use console::{Body as ConsoleBody, file as console_file};

/// The console's Content-Security-Policy.
pub const fn console_csp() -> &'static str {
    console::CSP
}

/// Failed sign-ins per client per minute before `429` (without the Rate Limiting binding).
const FAILURES_PER_MINUTE: u32 = 10;

/// An admin answer: status and JSON.
pub type Answer = Result<(u16, Value), Failure>;

thread_local! {
    /// Failed sign-ins per client in this isolate: (count, window start ms).
    static FAILED: RefCell<BTreeMap<String, (u32, u64)>> = const { RefCell::new(BTreeMap::new()) };
}

/// Whether the request carries the admin token (compared in constant time through hashes).
pub fn authorized(req: &Request, token: &str) -> bool {
    let given = req.headers().get("authorization").ok().flatten();
    let Some(given) = given.as_deref().and_then(|g| g.strip_prefix("Bearer ")) else {
        return false;
    };
    let (a, b) = (
        Sha256::digest(given.as_bytes()),
        Sha256::digest(token.as_bytes()),
    );
    bool::from(a.as_slice().ct_eq(b.as_slice()))
}

fn client(req: &Request) -> String {
    req.headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether this client is throttled in this isolate.
fn throttled_here(ip: &str, now: u64) -> bool {
    FAILED.with(|f| {
        f.borrow().get(ip).is_some_and(|(n, start)| {
            now.saturating_sub(*start) < 60_000 && *n >= FAILURES_PER_MINUTE
        })
    })
}

/// Counts a failed sign-in; `true` when the client is now over the limit.
async fn failed(env: &Env, ip: &str, now: u64) -> bool {
    let here = FAILED.with(|f| {
        let mut f = f.borrow_mut();
        if f.len() > 10_000 {
            f.clear(); // a flood of addresses: start over rather than grow
        }
        let e = f.entry(ip.to_owned()).or_insert((0, now));
        if now.saturating_sub(e.1) >= 60_000 {
            *e = (0, now);
        }
        e.0 += 1;
        e.0 > FAILURES_PER_MINUTE
    });
    match env.rate_limiter(binding::ADMIN_LIMIT) {
        Ok(limiter) => match limiter.limit(format!("admin:{ip}")).await {
            Ok(outcome) => here || !outcome.success,
            Err(_) => here,
        },
        Err(_) => here,
    }
}

/// Routes `/admin/…` (`rest` is what follows `/admin/`).
pub async fn route(req: &mut Request, env: &Env, cfg: &Rc<Config>, rest: &str, now: u64) -> Answer {
    signed_in(req, env, cfg, now).await?;
    let parts: Vec<String> = rest
        .trim_end_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    match (req.method(), parts.as_slice()) {
        (Method::Get, ["sources"]) => destinations::sources(env, cfg, now).await,
        (Method::Get, ["destinations"]) => destinations::list(env, cfg, now).await,
        (Method::Post, ["destinations", name, "pause"]) => {
            destinations::pause(env, cfg, name, true).await
        }
        (Method::Post, ["destinations", name, "resume"]) => {
            destinations::pause(env, cfg, name, false).await
        }
        (Method::Post, ["filters", "test"]) => destinations::test_filter(req, env, cfg).await,
        (Method::Get, ["events"]) => events::list(req, env, cfg).await,
        (Method::Get, ["events", id]) => events::one(env, cfg, req, id).await,
        (Method::Post, ["events", id, "replay"]) => {
            events::replay_one(req, env, cfg, id, now).await
        }
        (Method::Delete, ["events", id]) => events::purge(env, cfg, req, id).await,
        (Method::Post, ["replay"]) => events::replay_many(req, env, cfg, now).await,
        (Method::Get, ["media", key @ ..]) if !key.is_empty() => {
            crate::media::fresh_link(env, cfg, &key.join("/"), now)
                .await
                .map(|v| (200, v))
        }
        _ => Err(Failure::new("not_found", "no such admin route")),
    }
}

/// Whether the request may use the admin API: the API open (a long enough token), the client
/// not throttled, the token right (a failure counted).
async fn signed_in(req: &Request, env: &Env, cfg: &Config, now: u64) -> Result<(), Failure> {
    let token = match &cfg.admin_token {
        Ok(t) => t.clone(),
        Err(why) => {
            log::line("admin", json!({ "outcome": "closed", "why": why }));
            return Err(Failure::new("not_found", "no such admin route"));
        }
    };
    let ip = client(req);
    let throttled = || {
        Failure::new(
            "too_many_requests",
            "too many failed sign-ins: wait a minute",
        )
    };
    if throttled_here(&ip, now) {
        return Err(throttled());
    }
    if authorized(req, &token) {
        return Ok(());
    }
    log::line(
        "admin",
        json!({ "outcome": "unauthorized", "path": req.path() }),
    );
    if failed(env, &ip, now).await {
        return Err(throttled());
    }
    Err(Failure::new(
        "unauthorized",
        "a valid `Authorization: Bearer <ADMIN_TOKEN>` is required",
    ))
}

/// The log an admin request reads: `?log=NAME` (one of the bound logs), else `EVENT_LOG`.
pub fn log_of(req: &Request, env: &Env, cfg: &Config) -> Result<Log, Failure> {
    let name = query(req, "log").unwrap_or_else(|| binding::EVENT_LOG.to_owned());
    if !cfg.logs().contains(&name) {
        return Err(Failure::new(
            "invalid_query",
            format!("`log`: no event log named `{name}`"),
        ));
    }
    store::open(env, &name).ok_or_else(|| {
        Failure::new(
            "log_off",
            "the event log is off: bind a D1 database as EVENT_LOG (README: Operate the Worker)",
        )
    })
}

/// A query parameter, when present and not empty.
pub fn query(req: &Request, k: &str) -> Option<String> {
    let url = req.url().ok()?;
    url.query_pairs()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// A JSON request body: `400 invalid_body` when it is not the object `T` describes.
pub async fn body<T: serde::de::DeserializeOwned>(
    req: &mut Request,
    expected: &str,
) -> Result<T, Failure> {
    let text = req.text().await.map_err(|e| {
        Failure::new("invalid_body", "the request body could not be read").detail(e)
    })?;
    serde_json::from_str(&text)
        .map_err(|e| Failure::new("invalid_body", format!("expected {expected}: {e}")))
}
