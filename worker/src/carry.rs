//! Without the event log: dedupe with KV marks, and put each event on the queue for each
//! destination (the outbox's straight on `OUTBOX`), each message carrying its event.

use serde_json::json;
use worker::Env;

use crate::config::{Config, OUTBOX, Source, binding};
use crate::failure::Failure;
use crate::kv;
use crate::log;
use crate::queue::{self, Carried, Job, OutboxMessage};
use crate::route::Routed;
use crate::tally;

/// Without the event log: dedupe with KV marks, put each event on the queue for each
/// destination (the outbox's straight on `OUTBOX`), then mark them. A failed mark is counted
/// (`/health`): a sender's retry of that event may then be delivered again.
pub async fn carry(
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
