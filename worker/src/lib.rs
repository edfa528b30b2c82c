//! The hookseal Cloudflare Worker: verify at the edge, deduplicate through KV, forward through
//! Queues, and deliver onward with retries.
//!
//! - `POST /webhooks/{source}`: read the raw body (capped), verify it with the source's scheme,
//!   parse it into events, skip events whose dedup key KV has already seen, enqueue the rest,
//!   then mark them seen, and answer `202` within milliseconds. A KV or Queue failure answers
//!   `503` so the sender retries, and no mark is written for an event that was not enqueued.
//! - `GET /webhooks/{source}`: Meta's verification handshake, for Meta sources.
//! - `GET /health`: the configured sources and any configuration problem.
//! - The queue consumer delivers each event to its source's destination, re-signed with Standard
//!   Webhooks (`webhook-id` = the dedup key), with exponential backoff on 5xx, 408, 429 and
//!   network errors, straight to the dead-letter queue on other 4xx or after the last attempt.
//!
//! KV is eventually consistent across locations: two copies of one event arriving at two
//! locations within about a minute can both pass. The destination therefore gets the dedup key as
//! `webhook-id` and must stay idempotent too.

mod config;
mod deliver;
mod ingest;
mod log;

use worker::{Context, Env, MessageBatch, Request, Response, Result, event};

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    ingest::route(req, &env).await
}

#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    deliver::batch(&batch, &env).await;
    Ok(())
}
