//! The queue consumer: each message's job, a few at once (one slow destination does not hold a
//! batch back). It dispatches on the message's shape, never on the queue's name: a `dead` letter
//! is recorded, never sent on, so no renamed queue can make letters go round.
//!
//! With the event log every job's outcome is recorded in it, and a job whose work was lost is
//! sent again by the sweep, so a message is acknowledged once its job ran. Without the log the
//! message is the only copy: it is acknowledged only once its event is delivered, scheduled
//! again, or kept as a dead letter.

use std::cell::Cell;

use futures_util::StreamExt;
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use worker::{Env, MessageBatch, MessageExt, RawMessage};

use crate::config::{self, Config};
use crate::deliver::{self, Disposition};
use crate::kv;
use crate::log;
use crate::queue::Job;
use crate::store;

/// The most dedup marks one batch writes (an invocation may make 1,000 calls to KV and the
/// other services): `mark` jobs past it wait for a later batch.
const MARKS_PER_INVOCATION: usize = 500;

/// Handles a batch from any of this Worker's queues.
pub async fn batch(batch: &MessageBatch<Value>, env: &Env, now: u64) {
    let cfg = match config::load(env) {
        Ok(c) => c,
        Err(e) => {
            // Nothing can be delivered until the configuration is fixed: the queue keeps them.
            log::line("consumer_config_error", json!({ "problem": e.0 }));
            batch.retry_all();
            return;
        }
    };
    let messages: Vec<RawMessage> = batch.raw_iter().collect();
    let cfg = &cfg;
    let marks_left = &Cell::new(MARKS_PER_INVOCATION);
    futures_util::stream::iter(messages)
        .map(|raw| async move {
            match job(env, cfg, raw.body(), now, marks_left).await {
                Disposition::Ack => raw.ack(),
                Disposition::Retry => raw.retry(),
            }
        })
        .buffer_unordered(deliver::PARALLEL)
        .collect::<Vec<()>>()
        .await;
}

async fn job(
    env: &Env,
    cfg: &Config,
    body: JsValue,
    now: u64,
    marks_left: &Cell<usize>,
) -> Disposition {
    let job = match Job::from_js(&body) {
        Ok(j) => j,
        Err(why) => return foreign(env, cfg, &body, &why, now).await,
    };
    match job {
        Job::Dead { reason, at, job } => match *job {
            Job::Carry(c) => {
                if deliver::keep_dead(env, cfg, &c, &reason, at).await {
                    crate::alert::dead(env, cfg, &c.source, 1, &reason, now).await;
                    Disposition::Ack
                } else {
                    Disposition::Retry
                }
            }
            // The log keeps its own dead; anything else in a letter is work to do.
            other => Box::pin(run(env, cfg, other, now, marks_left)).await,
        },
        other => run(env, cfg, other, now, marks_left).await,
    }
}

async fn run(env: &Env, cfg: &Config, job: Job, now: u64, marks_left: &Cell<usize>) -> Disposition {
    match job {
        Job::First { log, ids, lease } => {
            let Some(l) = store::open(env, &log) else {
                log::line("no_log", json!({ "log": log }));
                return Disposition::Retry;
            };
            match l.events(&ids).await {
                Ok(mut rows) => {
                    // Still owed and still held by this job's claim.
                    rows.retain(|r| r.owed != 0 && r.lease_until == lease);
                    deliver::first(env, cfg, &l, &rows, now, None).await;
                    Disposition::Ack
                }
                Err(e) => {
                    log::line(
                        "first_failed",
                        json!({ "log": log, "error": e.to_string() }),
                    );
                    Disposition::Retry
                }
            }
        }
        Job::Retry {
            log,
            id,
            destination,
            attempt,
        } => {
            let Some(l) = store::open(env, &log) else {
                return Disposition::Retry;
            };
            match deliver::retry(env, cfg, &l, id, &destination, attempt, now).await {
                Ok(()) => Disposition::Ack,
                Err(e) => {
                    log::line("retry_failed", json!({ "log": log, "id": id, "error": e }));
                    Disposition::Retry
                }
            }
        }
        Job::Carry(c) => deliver::carried(env, cfg, c, now).await,
        Job::Mark { keys, at } => {
            // Within this batch's share of calls, or left for a later batch.
            let Some(left) = marks_left.get().checked_sub(keys.len()) else {
                return Disposition::Retry;
            };
            marks_left.set(left);
            marks(env, cfg, keys, at).await
        }
        Job::Dead { .. } => Disposition::Ack,
    }
}

/// Writes dedup marks a large body's ingest handed over; the job is tried again until every
/// one is written (a mark is the same whenever it is written).
async fn marks(env: &Env, cfg: &Config, keys: Vec<String>, at: u64) -> Disposition {
    let Ok(store) = kv::open(env) else {
        return Disposition::Retry;
    };
    match kv::mark(&store, keys, at, cfg.settings.dedup_ttl).await {
        (0, _) => Disposition::Ack,
        (failed, why) => {
            crate::tally::marks_not_written(failed, None, why.as_deref());
            Disposition::Retry
        }
    }
}

/// A message that is no job of ours: kept in KV with the reason, then acknowledged.
async fn foreign(env: &Env, cfg: &Config, body: &JsValue, why: &str, now: u64) -> Disposition {
    let text = js_sys::JSON::stringify(body)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default();
    log::line("foreign_message", json!({ "reason": why }));
    let Ok(store) = kv::open(env) else {
        return Disposition::Retry;
    };
    let key = kv::dead_key("unknown", "unknown", &now.to_string());
    let value = json!({ "reason": why, "at": now, "letter": text }).to_string();
    if kv::put_all(
        &store,
        &[(key, value)],
        Some(cfg.settings.dead_letter_kv_ttl),
    )
    .await
    .is_empty()
    {
        Disposition::Ack
    } else {
        Disposition::Retry
    }
}
