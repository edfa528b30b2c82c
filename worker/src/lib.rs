//! The hookseal Cloudflare Worker: verify at the edge, deduplicate through KV, forward through
//! Queues, and deliver onward with retries.
//!
//! - `POST /webhooks/{source}`: read the raw body (capped), verify it with the source's scheme,
//!   parse it into events, skip events whose dedup key KV has already seen, enqueue the rest,
//!   then mark them seen, and answer `202` within milliseconds. A KV or Queue failure answers
//!   `503` so the sender retries, and no mark is written for an event that was not enqueued.
//! - `GET /webhooks/{source}`: Meta's verification handshake, for Meta sources.
//! - `GET /health`: the configured sources, any configuration problem, and whether the event
//!   log and the admin API are on.
//! - `/admin/…`: the admin API over the event log (see `admin`).
//! - The queue consumer delivers each event to its source's destination, re-signed with Standard
//!   Webhooks (`webhook-id` = the dedup key), with exponential backoff on 5xx, 408, 429 and
//!   network errors, straight to the dead-letter queue on other 4xx or after the last attempt.
//!
//! KV is eventually consistent across locations: two copies of one event arriving at two
//! locations within about a minute can both pass. The destination therefore gets the dedup key as
//! `webhook-id` and must stay idempotent too.

mod admin;
mod alert;
mod config;
mod deliver;
mod eventlog;
mod ingest;
mod log;

use serde_json::json;
use worker::{
    Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent, event,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    ingest::route(req, &env).await
}

/// The events queue is delivered; the dead-letter queue is recorded (see `deliver`).
#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    let dead_letter_queue = env
        .var("DEAD_LETTER_QUEUE_NAME")
        .map(|v| v.to_string())
        .unwrap_or_else(|_| "hookseal-dead-letter".to_owned());
    if batch.queue() == dead_letter_queue {
        deliver::dead_letters(&batch, &env).await;
    } else {
        deliver::batch(&batch, &env).await;
    }
    Ok(())
}

/// The cron trigger: delivered events older than `EVENT_RETENTION_DAYS` (30) leave the log.
/// Dead ones stay until replayed or purged.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let Some(db) = eventlog::open(&env) else {
        return;
    };
    let days = config::number(&env, "EVENT_RETENTION_DAYS", 30).unwrap_or(30);
    let before = log::now_ms().saturating_sub(days.saturating_mul(86_400_000));
    match eventlog::retain(&db, before).await {
        Ok(n) => log::line("retention", json!({ "deleted": n, "days": days })),
        Err(e) => log::line("retention_failed", json!({ "error": e.to_string() })),
    }
}
