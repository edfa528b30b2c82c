//! `POST /webhooks/{source}`, as the guides have it: verify, dedupe, record, answer, then
//! deliver. Each step is one function whose name says what it does; what its failure leaves is
//! the README's failure table, row for row:
//!
//! 1. [`read`](crate::body::read) the raw body within the limit: `413`/`400`, nothing kept.
//! 2. [`verify`] it and parse its events: `401` (counted after the answer, no binding touched
//!    before it), or `400`-free: an authentic body that does not parse is kept as a
//!    `hookseal.unparsed` event.
//! 3. [`route`](crate::route::route) each event: the destinations whose filters it matches
//!    (no I/O).
//! 4. With the event log: [`record`](crate::record::record) the events, owed to their
//!    destinations, in one transaction (a copy of a logged event inserts nothing: a
//!    duplicate). Its failure answers `503` and leaves nothing. Once recorded, an event is
//!    safe: its first attempts follow the answer, and if the isolate dies first, the sweep
//!    sends them when their claim lapses. Without the log:
//!    [`carry`](crate::carry::carry) the events on the queue (dedup by KV marks).
//! 5. Answer `202` (`200` when every event was a duplicate).
//! 6. After the answer: [`deliver_after_answer`](crate::record::deliver_after_answer) the first
//!    attempts, or hand them to the queue when there are many (a bulk body) or media to
//!    archive.

use std::rc::Rc;

use hookseal::Event;
use serde_json::json;
use worker::{Context, Env, Request};

use crate::body;
use crate::carry::carry;
use crate::config::{Config, Source};
use crate::failure::Failure;
use crate::log;
use crate::record::{deliver_after_answer, record};
use crate::route::route;
use crate::store::{self, EventRow};
use crate::tally;

/// What an accepted request answers.
pub struct Accepted {
    /// `(type, dedup key)` of each new event.
    pub accepted: Vec<(String, String)>,
    pub duplicates: Vec<String>,
    /// New events no route took.
    pub filtered: usize,
}

/// Handles one delivery from a sender, and logs it.
pub async fn handle(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    cfg: &Rc<Config>,
    name: &str,
    now: u64,
) -> Result<Accepted, Failure> {
    let result = steps(req, env, ctx, cfg, name, now).await;
    log_line(cfg, name, &result, now);
    // The counts of duplicates and refusals, off the answer's path.
    if tally::due(now) {
        ctx.wait_until(tally::flush(env.clone(), now));
    }
    result
}

async fn steps(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    cfg: &Rc<Config>,
    name: &str,
    now: u64,
) -> Result<Accepted, Failure> {
    let src = match cfg.source(name) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(Failure::config(e)),
        None => return Err(Failure::new("unknown_source", "no source of this name")),
    };
    let limit = src
        .max_body
        .or(cfg.settings.max_body)
        .unwrap_or_else(|| src.verifier.max_body_bytes());
    let body = body::read(req, limit).await?;
    let events = verify(req, &src, &body, now)?;
    let (events, repeated) = distinct(events);
    let routed = route(&src, events, now)?;
    let (mut accepted, mut duplicates, filtered) = match store::open(env, &src.log) {
        Some(log) => {
            // A few deliveries are attempted here after the answer, more by the queue; each
            // holds its claim for as long as its attempts may take.
            // Media to archive goes to the queue, whose consumer has the time to download it.
            let owed: u32 = routed.iter().map(|r| r.owed().count_ones()).sum();
            let media = src.media.is_some()
                && routed.iter().any(|r| {
                    r.owed() != 0 && r.event.message.as_ref().is_some_and(|m| m.media.is_some())
                });
            let inline = owed as usize <= cfg.settings.inline_deliveries && !media;
            let lease = if inline {
                cfg.settings.lease_ms
            } else {
                cfg.settings.job_lease_ms
            };
            let (fresh, dups) = record(env, &log, &src, routed, now, now + lease).await?;
            let out = summarize(&fresh);
            deliver_after_answer(ctx, env, cfg, log, fresh, inline, now);
            (out.0, dups, out.1)
        }
        None => carry(env, cfg, &src, routed, now).await?,
    };
    duplicates.extend(repeated);
    if !duplicates.is_empty() {
        tally::count(&src.log, name, "duplicate", duplicates.len() as u64, now);
    }
    accepted.shrink_to_fit();
    Ok(Accepted {
        accepted,
        duplicates,
        filtered,
    })
}

fn summarize(fresh: &[EventRow]) -> (Vec<(String, String)>, usize) {
    let accepted = fresh
        .iter()
        .map(|r| (r.event_type.clone(), r.dedup_key.clone()))
        .collect();
    let filtered = fresh.iter().filter(|r| r.routes == "[]").count();
    (accepted, filtered)
}

/// Verifies the body and parses its events. An authentic body that is not the documented event
/// is kept as a `hookseal.unparsed` event; a refusal is counted after the answer.
fn verify(req: &Request, src: &Source, body: &[u8], now: u64) -> Result<Vec<Event>, Failure> {
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
        let url = req.url().map_err(Failure::config)?;
        Some((req.method().to_string(), url.to_string()))
    } else {
        None
    };
    let mut request = hookseal::Request::new(body, &headers);
    if let Some((method, url)) = &target {
        request = request.with_target(method, url);
    }
    let now_s = i64::try_from(now / 1000).unwrap_or(i64::MAX);
    match src.verifier.verify_and_parse(&request, now_s) {
        Ok(delivery) => Ok(delivery.events),
        Err(e) if e.keeps_as_unparsed() => Ok(vec![src.verifier.unparsed_event(body, &e)]),
        Err(e) if e.is_rejection() || e.signature_verified() => {
            tally::count(&src.log, &src.name, e.code(), 1, now);
            Err(Failure::new(e.code(), e.to_string()))
        }
        Err(e) => Err(Failure::config(e)),
    }
}

/// The events, each dedup key once; the keys seen again in the same body.
fn distinct(events: Vec<Event>) -> (Vec<Event>, Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(events.len());
    let mut repeated = Vec::new();
    for e in events {
        if seen.insert(e.dedup_key.clone()) {
            out.push(e);
        } else {
            repeated.push(e.dedup_key);
        }
    }
    (out, repeated)
}

/// One line per request (accepted and duplicates at `info` only).
fn log_line(cfg: &Config, name: &str, result: &Result<Accepted, Failure>, now: u64) {
    let latency = log::now_ms().saturating_sub(now);
    let line = match result {
        Ok(a) => {
            if cfg.settings.log_level == log::Level::Warn {
                return;
            }
            let events: Vec<_> = a
                .accepted
                .iter()
                .map(|(t, k)| json!({ "type": t, "dedupKey": k }))
                .collect();
            let outcome = if a.accepted.is_empty() && !a.duplicates.is_empty() {
                "duplicate"
            } else {
                "accepted"
            };
            json!({ "outcome": outcome, "status": if outcome == "duplicate" { 200 } else { 202 },
                    "events": events, "duplicateKeys": a.duplicates, "filtered": a.filtered })
        }
        Err(f) => {
            let outcome = match (f.code, f.status()) {
                ("unknown_source", _) => "unknown_source",
                ("invalid_config", _) => "config_error",
                (_, 503) => "unavailable",
                _ => "rejected",
            };
            json!({ "outcome": outcome, "status": f.status(), "code": f.code, "problem": f.detail })
        }
    };
    let mut line = line;
    if let Some(o) = line.as_object_mut() {
        o.insert("source".into(), json!(name));
        o.insert("latencyMs".into(), json!(latency));
    }
    log::line("ingest", line);
}
