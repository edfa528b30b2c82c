//! The event log's path: the events recorded, owed to their destinations, in one transaction
//! (a copy of a logged event inserts nothing: the log's unique key is the dedup), then after
//! the answer their first attempts, made here when few, handed to the queue when many (a bulk
//! body) or when media waits to be archived. Once recorded, an event is safe: if the isolate
//! dies before its first attempts, the sweep sends them when their claim lapses.

use std::rc::Rc;

use serde_json::json;
use worker::{Context, Env};

use crate::config::{Config, Source, binding};
use crate::deliver;
use crate::failure::Failure;
use crate::kv;
use crate::log;
use crate::queue;
use crate::route::Routed;
use crate::store::{EventRow, Log, NewEvent};

/// An envelope larger than this goes to KV, and the log's row names it (D1 rows hold 2 MB).
const ROW_MAX_BYTES: usize = 1_000_000;
/// An attempt after the answer takes at most this long, seconds: Workers keep an invocation
/// alive about 30 s after its answer. A slower destination gets its retries from the queue,
/// with its own timeout.
const INLINE_TIMEOUT: u64 = 25;

/// Logs the events, owed to their destinations, in one transaction: large envelopes go to KV
/// first (kept as long as their row). Returns the new events' rows and the duplicates' keys.
pub async fn record(
    env: &Env,
    log: &Log,
    src: &Source,
    routed: Vec<Routed>,
    now: u64,
    lease_until: u64,
) -> Result<(Vec<EventRow>, Vec<String>), Failure> {
    let (rows, large) = new_rows(&src.name, &routed);
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

/// The rows to insert, and the large envelopes to keep in KV first (their rows name them).
fn new_rows(source: &str, routed: &[Routed]) -> (Vec<NewEvent>, Vec<(String, String)>) {
    let mut large = Vec::new();
    let rows = routed
        .iter()
        .map(|r| {
            let (envelope, envelope_ref) = if r.envelope.len() > ROW_MAX_BYTES {
                let key = kv::envelope_key(source, &r.event.dedup_key);
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
                owed: r.owed(),
            }
        })
        .collect();
    (rows, large)
}

/// After the answer: the first attempts, made here when they are few; otherwise (a bulk body)
/// handed to the queue in `first` jobs. Nothing is lost if this never runs: the events are
/// owed in the log and the sweep sends them once their claim lapses.
pub fn deliver_after_answer(
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
        let jobs = queue::first_jobs(&log.name, &ids, lease);
        if let (_, Some(e)) = queue::send(&env, binding::EVENTS, &jobs, None).await {
            log::line(
                "first_unqueued",
                json!({ "error": e, "note": "the sweep sends them when their claim lapses" }),
            );
        }
    });
}
