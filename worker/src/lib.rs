//! The hookseal Cloudflare Worker: a webhook gateway on your own account.
//!
//! Its rooms, dependencies pointing down (ARCHITECTURE.md has the map):
//!
//! ```text
//! lib (entry points) → http (routes, answers) → ingest · handshake · admin · consumer · sweep
//!                    → route · record · carry (ingest's steps)
//!                    → keeper (each destination's gate, a Durable Object)
//!                    → deliver · alert → gate · media · outbound → queue · kv · store · tally · body
//!                    → config → state · failure · redact · log · row · fields · escape
//! ```

mod admin;
mod alert;
mod body;
mod carry;
mod config;
mod consumer;
mod deliver;
mod escape;
mod failure;
mod fields;
mod gate;
mod handshake;
mod http;
mod ingest;
mod keeper;
mod kv;
mod log;
mod media;
mod outbound;
mod queue;
mod record;
mod redact;
mod route;
mod row;
mod state;
mod store;
mod sweep;
mod tally;

/// Every SQL statement the Worker runs, by name: the query-plan check reads them
/// (`cargo run -p hookseal-worker --example sql`).
pub use store::STATEMENTS;

use serde_json::json;
use worker::{
    Context, Env, MessageBatch, Request, Response, Result, ScheduleContext, ScheduledEvent, event,
};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> Result<Response> {
    http::route(req, &env, &ctx, log::now_ms()).await
}

/// Jobs on the events queue, letters on the dead-letter queue: told apart by their shape.
#[event(queue)]
async fn queue(batch: MessageBatch<serde_json::Value>, env: Env, _ctx: Context) -> Result<()> {
    consumer::batch(&batch, &env, log::now_ms()).await;
    Ok(())
}

/// The cron trigger, every minute: what was recorded gets sent, counts and retention.
#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match config::load(&env) {
        Ok(cfg) => {
            sweep::run(&env, &cfg, log::now_ms()).await;
        }
        Err(e) => log::line("sweep_config_error", json!({ "problem": e.0 })),
    }
}
