//! `POST /webhooks/{source}`, as the guides have it: verify, dedupe, record, answer, then
//! deliver. Each step is one function whose name says what it does; what its failure leaves is
//! the README's failure table, row for row:
//!
//! 1. [`read`](crate::body::read) the raw body within the limit: `413`/`400`, nothing kept.
//! 2. [`verify`] it and parse its events: `401` (counted after the answer, no binding touched
//!    before it), or `400`-free: an authentic body that does not parse is kept as a
//!    `hookseal.unparsed` event.
//! 3. [`route`] each event: the destinations whose filters it matches (no I/O).
//! 4. With the event log: [`record`] the events, owed to their destinations, in one
//!    transaction (a copy of a logged event inserts nothing: a duplicate). Its failure answers
//!    `503` and leaves nothing. Once recorded, an event is safe: its first attempts follow the
//!    answer, and if the isolate dies first, the sweep sends them when their claim lapses.
//!    Without the log: [`carry`] the events on the queue (dedup by KV marks).
//! 5. Answer `202` (`200` when every event was a duplicate).
//! 6. After the answer: [`deliver_after_answer`] the first attempts, or hand them to the queue
//!    when there are many (a bulk body) or media to archive.

use std::rc::Rc;

use hookseal::{Document, Event};
use serde_json::json;
use worker::{Context, Env, Request};

use crate::body;
use crate::config::{Config, OUTBOX, Source, binding};
use crate::deliver;
use crate::failure::Failure;
use crate::kv;
use crate::log;
use crate::outbound;
use crate::queue::{self, Carried, FIRST_PER_JOB, Job, OutboxMessage};
use crate::store::{self, EventRow, Log, NewEvent};
use crate::tally;

/// An envelope larger than this goes to KV, and the log's row names it (D1 rows hold 2 MB).
const ROW_MAX_BYTES: usize = 1_000_000;
/// An attempt after the answer takes at most this long, seconds: Workers keep an invocation
/// alive about 30 s after its answer. A slower destination gets its retries from the queue,
/// with its own timeout.
const INLINE_TIMEOUT: u64 = 25;
/// KV's value limit (25 MiB), less a margin: a larger envelope cannot be kept.
const STORED_MAX_BYTES: usize = 25 * 1024 * 1024 - 64 * 1024;

/// What an accepted request answers.
pub struct Accepted {
    /// `(type, dedup key)` of each new event.
    pub accepted: Vec<(String, String)>,
    pub duplicates: Vec<String>,
    /// New events no route took.
    pub filtered: usize,
}

/// An event on its way: its envelope, and the destinations its routes chose.
pub struct Routed {
    pub event: Event,
    pub envelope: String,
    pub routes: Vec<String>,
}

impl Routed {
    fn owed(&self) -> u64 {
        (0..self.routes.len()).fold(0, |bits, i| bits | (1u64 << i))
    }
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

/// Each event's envelope and the destinations whose routes take it: every route without a
/// filter, and those whose filter matches the event (with `source` and `receivedAt`).
pub fn route(src: &Source, events: Vec<Event>, now: u64) -> Result<Vec<Routed>, Failure> {
    let filtered = src.routes.iter().any(|r| r.filter.is_some());
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let envelope = event.to_json();
        if envelope.len() > STORED_MAX_BYTES {
            return Err(Failure::new(
                "event_too_large",
                format!(
                    "an event's envelope is {} bytes, more than can be stored ({STORED_MAX_BYTES})",
                    envelope.len()
                ),
            ));
        }
        let routes = if filtered {
            let ctx = outbound::context(&src.name, now, &envelope);
            let doc = Document::parse(&ctx).map_err(Failure::config)?;
            src.routes
                .iter()
                .filter(|r| r.filter.as_ref().is_none_or(|f| f.matches(&doc)))
                .map(|r| r.to.clone())
                .collect()
        } else {
            src.routes.iter().map(|r| r.to.clone()).collect()
        };
        out.push(Routed {
            event,
            envelope,
            routes,
        });
    }
    Ok(out)
}

/// Logs the events, owed to their destinations, in one transaction: large envelopes go to KV
/// first (kept as long as their row). Returns the new events' rows and the duplicates' keys.
async fn record(
    env: &Env,
    log: &Log,
    src: &Source,
    routed: Vec<Routed>,
    now: u64,
    lease_until: u64,
) -> Result<(Vec<EventRow>, Vec<String>), Failure> {
    let mut large = Vec::new();
    let rows: Vec<NewEvent> = routed
        .iter()
        .map(|r| {
            let owed = r.owed();
            let (envelope, envelope_ref) = if r.envelope.len() > ROW_MAX_BYTES {
                let key = kv::envelope_key(&src.name, &r.event.dedup_key);
                large.push((key.clone(), r.envelope.clone()));
                (None, Some(key))
            } else {
                (Some(r.envelope.clone()), None)
            };
            NewEvent {
                dedup_key: r.event.dedup_key.clone(),
                event_type: r.event.event_type.clone(),
                envelope,
                envelope_ref,
                routes: r.routes.clone(),
                owed,
            }
        })
        .collect();
    if !large.is_empty() {
        let store = kv::open(env).map_err(|e| Failure::unavailable("dedup_unavailable", e))?;
        if let Some((_, e)) = kv::put_all(&store, &large, None).await.first() {
            return Err(Failure::unavailable("dedup_unavailable", e));
        }
    }
    let ids = log
        .insert(&src.name, now, lease_until, &rows)
        .await
        .map_err(Failure::log)?;
    let mut fresh = Vec::new();
    let mut duplicates = Vec::new();
    for ((new, id), r) in rows.into_iter().zip(ids).zip(&routed) {
        match id {
            None => duplicates.push(new.dedup_key),
            Some(id) => fresh.push(EventRow {
                id,
                source: src.name.clone(),
                dedup_key: new.dedup_key,
                event_type: new.event_type,
                received_at: now,
                // The envelope in memory, for the attempts after the answer.
                envelope: Some(r.envelope.clone()),
                envelope_ref: new.envelope_ref,
                routes: serde_json::to_string(&new.routes).unwrap_or_else(|_| "[]".to_owned()),
                owed: new.owed,
                first_ok: 0,
                first_status: None,
                settled_at: None,
                lease_until,
            }),
        }
    }
    Ok((fresh, duplicates))
}

/// After the answer: the first attempts, made here when they are few; otherwise (a bulk body)
/// handed to the queue in `first` jobs. Nothing is lost if this never runs: the events are
/// owed in the log and the sweep sends them once their claim lapses.
fn deliver_after_answer(
    ctx: &Context,
    env: &Env,
    cfg: &Rc<Config>,
    log: Log,
    fresh: Vec<EventRow>,
    inline: bool,
    now: u64,
) {
    if fresh.iter().all(|r| r.owed == 0) {
        return;
    }
    let (env, cfg) = (env.clone(), Rc::clone(cfg));
    ctx.wait_until(async move {
        if inline {
            deliver::first(&env, &cfg, &log, &fresh, now, Some(INLINE_TIMEOUT)).await;
            return;
        }
        let ids: Vec<i64> = fresh.iter().filter(|r| r.owed != 0).map(|r| r.id).collect();
        let lease = fresh.first().map_or(0, |r| r.lease_until);
        let jobs: Vec<Job> = ids
            .chunks(FIRST_PER_JOB)
            .map(|c| Job::First {
                log: log.name.clone(),
                ids: c.to_vec(),
                lease,
            })
            .collect();
        if let (_, Some(e)) = queue::send(&env, binding::EVENTS, &jobs, None).await {
            log::line(
                "first_unqueued",
                json!({ "error": e, "note": "the sweep sends them when their claim lapses" }),
            );
        }
    });
}

/// Without the event log: dedupe with KV marks, put each event on the queue for each
/// destination (the outbox's straight on `OUTBOX`), then mark them. A failed mark is counted
/// (`/health`): a sender's retry of that event may then be delivered again.
async fn carry(
    env: &Env,
    cfg: &Config,
    src: &Source,
    routed: Vec<Routed>,
    now: u64,
) -> Result<(Vec<(String, String)>, Vec<String>, usize), Failure> {
    let store = kv::open(env).map_err(|e| Failure::unavailable("dedup_unavailable", e))?;
    let keys: Vec<String> = routed
        .iter()
        .map(|r| kv::seen_key(&src.name, &r.event.dedup_key))
        .collect();
    let seen = kv::are_set(&store, &keys)
        .await
        .map_err(|e| Failure::unavailable("dedup_unavailable", e))?;
    let (mut fresh, mut duplicates) = (Vec::new(), Vec::new());
    for (r, seen) in routed.into_iter().zip(seen) {
        if seen {
            duplicates.push(r.event.dedup_key);
        } else {
            fresh.push(r);
        }
    }
    // Envelopes too large for a message travel by reference.
    let mut large = Vec::new();
    for r in &mut fresh {
        if r.envelope.len() > queue::INLINE_MAX_BYTES {
            let key = kv::envelope_key(&src.name, &r.event.dedup_key);
            large.push((key, std::mem::take(&mut r.envelope)));
        }
    }
    if let Some((_, e)) = kv::put_all(&store, &large, Some(kv::ENVELOPE_TTL))
        .await
        .first()
    {
        return Err(Failure::unavailable("dedup_unavailable", e));
    }
    let sent = send_carried(env, src, &fresh, now).await?;
    let marks: Vec<(String, String)> = fresh
        .iter()
        .take(sent)
        .map(|r| (kv::seen_key(&src.name, &r.event.dedup_key), now.to_string()))
        .collect();
    let failed = kv::put_all(&store, &marks, Some(cfg.settings.dedup_ttl)).await;
    if !failed.is_empty() {
        tally::mark_failed(failed.len() as u64);
        log::line(
            "dedup_mark_failed",
            json!({ "source": src.name, "events": failed.len(), "error": failed.first().map(|f| &f.1) }),
        );
    }
    let filtered = fresh.iter().filter(|r| r.routes.is_empty()).count();
    let accepted = fresh
        .into_iter()
        .map(|r| (r.event.event_type, r.event.dedup_key))
        .collect();
    Ok((accepted, duplicates, filtered))
}

/// Sends each event's messages; returns how many events were sent whole (a prefix), or `503`
/// when the first could not be.
async fn send_carried(
    env: &Env,
    src: &Source,
    fresh: &[Routed],
    now: u64,
) -> Result<usize, Failure> {
    let mut done = 0;
    for r in fresh {
        let envelope_ref = r
            .envelope
            .is_empty()
            .then(|| kv::envelope_key(&src.name, &r.event.dedup_key));
        let mut jobs = Vec::new();
        let mut outbox = Vec::new();
        for d in &r.routes {
            if d == OUTBOX {
                outbox.push(OutboxMessage {
                    source: src.name.clone(),
                    attempt: 0,
                    received_at: now,
                    dedup_key: r.event.dedup_key.clone(),
                    event_type: r.event.event_type.clone(),
                    event: r.envelope.clone(),
                    event_ref: envelope_ref.clone(),
                    log_id: None,
                });
            } else {
                jobs.push(Job::Carry(Carried {
                    source: src.name.clone(),
                    destination: d.clone(),
                    attempt: 1,
                    received_at: now,
                    horizon_from: now,
                    dedup_key: r.event.dedup_key.clone(),
                    event_type: r.event.event_type.clone(),
                    event: r.envelope.clone(),
                    event_ref: envelope_ref.clone(),
                }));
            }
        }
        let failure = match (
            queue::send(env, binding::OUTBOX, &outbox, None).await,
            queue::send(env, binding::EVENTS, &jobs, None).await,
        ) {
            ((_, Some(e)), _) | (_, (_, Some(e))) => Some(e),
            _ => None,
        };
        if let Some(e) = failure {
            if done == 0 {
                return Err(Failure::queue(e));
            }
            break;
        }
        done += 1;
    }
    Ok(done)
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
