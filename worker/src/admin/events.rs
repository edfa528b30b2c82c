//! The admin API's events: listing, one event, replay (one, or dead ones in bulk), purge.

use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use worker::{Env, Request};

use super::{Answer, body, log_of, query};
use crate::config::{Config, binding};
use crate::failure::Failure;
use crate::log;
use crate::queue::{self, Job};
use crate::state::{DeliveryStatus, EventStatus};
use crate::store::Log;
use crate::store::read::{DeliveryRow, Filter, Listed};

/// Events per page at most, and per bulk replay call.
const PAGE_MAX: u32 = 200;
const REPLAY_MAX: usize = 1000;

/// An event as the admin API lists it: its deliveries, and (for tools written for one
/// destination) the fields of its most telling delivery.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Shown<'a> {
    id: i64,
    source: &'a str,
    dedup_key: &'a str,
    #[serde(rename = "type")]
    event_type: &'a str,
    status: EventStatus,
    received_at: u64,
    deliveries: &'a [DeliveryRow],
    attempts: u32,
    delivered_at: Option<u64>,
    last_attempt_at: Option<u64>,
    last_status: Option<u16>,
    last_error: Option<&'a str>,
    /// The destinations' names (the URL is never shown: it may hold a token).
    destination: Option<&'a str>,
}

fn shown(l: &Listed) -> Value {
    // The delivery that says most: a dead one, a retrying one, else the latest attempted.
    let main = l
        .deliveries
        .iter()
        .max_by_key(|d| (rank(d.status), d.last_attempt_at));
    let s = Shown {
        id: l.row.id,
        source: &l.row.source,
        dedup_key: &l.row.dedup_key,
        event_type: &l.row.event_type,
        status: l.status(),
        received_at: l.row.received_at,
        deliveries: &l.deliveries,
        attempts: l.deliveries.iter().map(|d| d.attempts).max().unwrap_or(0),
        delivered_at: if l.status() == EventStatus::Delivered {
            l.deliveries.iter().filter_map(|d| d.delivered_at).max()
        } else {
            None
        },
        last_attempt_at: l.deliveries.iter().filter_map(|d| d.last_attempt_at).max(),
        last_status: main.and_then(|d| d.last_status),
        last_error: main.and_then(|d| d.last_error.as_deref()),
        destination: main.map(|d| d.destination.as_str()),
    };
    serde_json::to_value(&s).unwrap_or(Value::Null)
}

const fn rank(s: DeliveryStatus) -> u8 {
    match s {
        DeliveryStatus::Dead => 3,
        DeliveryStatus::Retrying => 2,
        DeliveryStatus::Queued => 1,
        DeliveryStatus::Delivered => 0,
    }
}

fn number(req: &Request, k: &str) -> Result<Option<u64>, Failure> {
    query(req, k)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| Failure::new("invalid_query", format!("`{k}` must be a whole number")))
        })
        .transpose()
}

/// `GET /admin/events`.
pub async fn list(req: &Request, env: &Env, cfg: &Rc<Config>) -> Answer {
    let log = log_of(req, env, cfg)?;
    let status = match query(req, "status") {
        None => None,
        Some(s) => Some(EventStatus::parse(&s).ok_or_else(|| {
            let all: Vec<&str> = EventStatus::ALL.iter().map(|s| s.as_str()).collect();
            Failure::new(
                "invalid_query",
                format!("`status` must be one of {}", all.join(", ")),
            )
        })?),
    };
    let (source, event_type, key, destination) = (
        query(req, "source"),
        query(req, "type"),
        query(req, "key"),
        query(req, "destination"),
    );
    let limit = u32::try_from(number(req, "limit")?.unwrap_or(50))
        .unwrap_or(PAGE_MAX)
        .clamp(1, PAGE_MAX);
    let filter = Filter {
        source: source.as_deref(),
        status,
        event_type: event_type.as_deref(),
        dedup_key: key.as_deref(),
        destination: destination.as_deref(),
        since: number(req, "since")?,
        before: number(req, "cursor")?.and_then(|c| i64::try_from(c).ok()),
    };
    let (events, cursor) = log.list(&filter, limit).await.map_err(Failure::log)?;
    let events: Vec<Value> = events.iter().map(shown).collect();
    Ok((200, json!({ "events": events, "cursor": cursor })))
}

fn event_id(id: &str) -> Result<i64, Failure> {
    id.parse()
        .map_err(|_| Failure::new("not_found", "no such event"))
}

/// `GET /admin/events/{id}`.
pub async fn one(env: &Env, cfg: &Rc<Config>, req: &Request, id: &str) -> Answer {
    let log = log_of(req, env, cfg)?;
    let Some(l) = log.get(event_id(id)?).await.map_err(Failure::log)? else {
        return Err(Failure::new("not_found", "no such event"));
    };
    let envelope = match log.event(l.row.id).await.map_err(Failure::log)? {
        Some(row) => match crate::deliver::envelope(env, &row).await {
            Ok(text) => serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)),
            Err(e) => json!({ "unavailable": e }),
        },
        None => Value::Null,
    };
    let history = log.history(&l).await.map_err(Failure::log)?;
    let mut out = shown(&l);
    if let Some(o) = out.as_object_mut() {
        o.insert("envelope".into(), envelope);
        o.insert("history".into(), json!(history));
        o.insert(
            "routes".into(),
            json!(
                l.deliveries
                    .iter()
                    .map(|d| {
                        let shown = cfg.destination(&d.destination).map(|x| x.shown_url()).ok();
                        json!({ "destination": d.destination, "host": shown })
                    })
                    .collect::<Vec<_>>()
            ),
        );
    }
    Ok((200, out))
}

/// What replaying some deliveries came to.
#[derive(Default)]
struct Replayed {
    /// Owed again (recorded in the log).
    owed: usize,
    /// Their jobs sent; the rest the sweep sends within a few minutes.
    sent: usize,
    /// Already owed (queued or retrying): nothing added.
    in_flight: usize,
}

/// Owes each delivery again (unless it already is), then sends their jobs.
async fn replay(
    env: &Env,
    log: &Log,
    items: &[(i64, DeliveryRow)],
    now: u64,
) -> Result<Replayed, Failure> {
    let mut r = Replayed::default();
    let mut jobs = Vec::new();
    for (id, d) in items {
        match log
            .replay(*id, &d.destination, d.attempts, now)
            .await
            .map_err(Failure::log)?
        {
            Some(attempts) => {
                r.owed += 1;
                jobs.push(Job::Retry {
                    log: log.name.clone(),
                    id: *id,
                    destination: d.destination.clone(),
                    attempt: attempts + 1,
                });
            }
            None => r.in_flight += 1,
        }
    }
    let (sent, failure) = queue::send(env, binding::EVENTS, &jobs, None).await;
    r.sent = sent;
    if let Some(e) = failure {
        log::line(
            "replay_unqueued",
            json!({ "error": e, "note": "the sweep sends them" }),
        );
    }
    Ok(r)
}

fn replayed_answer(r: &Replayed, more: bool) -> Value {
    let mut out = json!({ "replayed": r.owed, "inFlight": r.in_flight, "more": more });
    if r.sent < r.owed
        && let Some(o) = out.as_object_mut()
    {
        o.insert("note".into(), json!(format!(
            "{} of them are owed in the log but their jobs could not be sent now: the sweep sends \
             them within a few minutes (replaying again adds nothing)",
            r.owed - r.sent
        )));
    }
    out
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ReplayOne {
    destination: Option<String>,
}

/// `POST /admin/events/{id}/replay` with an optional `{ "destination" }`.
pub async fn replay_one(
    req: &mut Request,
    env: &Env,
    cfg: &Rc<Config>,
    id: &str,
    now: u64,
) -> Answer {
    let log = log_of(req, env, cfg)?;
    let text = req.text().await.unwrap_or_default();
    let ask: ReplayOne = if text.trim().is_empty() {
        ReplayOne::default()
    } else {
        serde_json::from_str(&text).map_err(|e| {
            Failure::new("invalid_body", format!("expected {{ destination? }}: {e}"))
        })?
    };
    let Some(l) = log.get(event_id(id)?).await.map_err(Failure::log)? else {
        return Err(Failure::new("not_found", "no such event"));
    };
    let items: Vec<(i64, DeliveryRow)> = l
        .deliveries
        .iter()
        .filter(|d| {
            ask.destination
                .as_deref()
                .is_none_or(|x| d.destination == x)
        })
        .map(|d| (l.row.id, d.clone()))
        .collect();
    if let (Some(d), true) = (&ask.destination, items.is_empty()) {
        return Err(Failure::new(
            "not_found",
            format!("event {id} has no delivery to `{d}`"),
        ));
    }
    let r = replay(env, &log, &items, now).await?;
    log::line(
        "admin",
        json!({ "outcome": "replayed", "id": l.row.id, "source": l.row.source, "count": r.owed }),
    );
    Ok((
        if r.owed > 0 { 202 } else { 200 },
        replayed_answer(&r, false),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayMany {
    source: Option<String>,
    destination: Option<String>,
    status: Option<String>,
    since: Option<u64>,
    ids: Option<Vec<i64>>,
}

/// `POST /admin/replay`: the dead deliveries of a source (or of all), or the events of `ids`.
pub async fn replay_many(req: &mut Request, env: &Env, cfg: &Rc<Config>, now: u64) -> Answer {
    let log = log_of(req, env, cfg)?;
    let ask: ReplayMany = body(
        req,
        "{ source?, destination?, since?, status?: \"dead\" } or { ids: [...] }",
    )
    .await?;
    if let Some(ids) = &ask.ids {
        if ids.len() > REPLAY_MAX {
            return Err(Failure::new(
                "invalid_body",
                format!("at most {REPLAY_MAX} ids a call"),
            ));
        }
        let rows = log.events(ids).await.map_err(Failure::log)?;
        let listed = log.with_deliveries(rows).await.map_err(Failure::log)?;
        let items = deliveries(&listed, ask.destination.as_deref(), None);
        let r = replay(env, &log, &items, now).await?;
        return Ok((200, replayed_answer(&r, false)));
    }
    if ask
        .status
        .as_deref()
        .is_some_and(|s| s != DeliveryStatus::Dead.as_str())
    {
        return Err(Failure::new(
            "invalid_body",
            "bulk replay takes dead deliveries only: give `ids` to replay others",
        ));
    }
    let (total, more) = replay_dead(env, &log, &ask, now).await?;
    log::line(
        "admin",
        json!({ "outcome": "replayed", "count": total.owed, "source": ask.source }),
    );
    Ok((200, replayed_answer(&total, more)))
}

/// Every dead delivery the request names, a page at a time, up to [`REPLAY_MAX`] a call: what
/// was replayed, and whether more remain.
async fn replay_dead(
    env: &Env,
    log: &Log,
    ask: &ReplayMany,
    now: u64,
) -> Result<(Replayed, bool), Failure> {
    let mut total = Replayed::default();
    let mut before = None;
    loop {
        let filter = Filter {
            source: ask.source.as_deref(),
            status: Some(EventStatus::Dead),
            destination: ask.destination.as_deref(),
            since: ask.since,
            before,
            ..Filter::default()
        };
        let (page, next) = log.list(&filter, 100).await.map_err(Failure::log)?;
        let dead = Some(DeliveryStatus::Dead);
        let items = deliveries(&page, ask.destination.as_deref(), dead);
        let r = replay(env, log, &items, now).await?;
        total.owed += r.owed;
        total.sent += r.sent;
        total.in_flight += r.in_flight;
        before = next;
        if before.is_none() {
            return Ok((total, false));
        }
        if total.owed >= REPLAY_MAX {
            return Ok((total, true));
        }
    }
}

/// The deliveries of these events to replay: of one destination, in one status.
fn deliveries(
    listed: &[Listed],
    destination: Option<&str>,
    status: Option<DeliveryStatus>,
) -> Vec<(i64, DeliveryRow)> {
    listed
        .iter()
        .flat_map(|l| l.deliveries.iter().map(move |d| (l.row.id, d.clone())))
        .filter(|(_, d)| destination.is_none_or(|x| d.destination == x))
        .filter(|(_, d)| status.is_none_or(|s| d.status == s))
        .collect()
}

/// `DELETE /admin/events/{id}`: the event, its deliveries and attempts, its large envelope's KV
/// copy and its archived media.
pub async fn purge(env: &Env, cfg: &Rc<Config>, req: &Request, id: &str) -> Answer {
    let log = log_of(req, env, cfg)?;
    let id = event_id(id)?;
    let Some(row) = log.event(id).await.map_err(Failure::log)? else {
        return Err(Failure::new("not_found", "no such event"));
    };
    if row.event_type.is_empty() {
        return Err(Failure::new("not_found", "no such event"));
    }
    // Its media's key, read before the envelope goes.
    let media = crate::deliver::envelope(env, &row)
        .await
        .ok()
        .and_then(|e| crate::media::archived_key(&e));
    log.purge(id).await.map_err(Failure::log)?;
    if let Some(key) = &row.envelope_ref {
        crate::sweep::drop_envelopes(env, std::slice::from_ref(key)).await;
    }
    if let Some(key) = media {
        crate::media::forget(env, &[key]).await;
    }
    log::line("admin", json!({ "outcome": "purged", "id": id }));
    Ok((200, json!({ "deleted": 1 })))
}
