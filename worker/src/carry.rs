//! Without the event log: dedupe with KV marks, and put each event on the queue for each
//! destination (the outbox's straight on `OUTBOX`), each message carrying its event.

use worker::{Env, KvStore};

use crate::config::{Config, OUTBOX, Source, binding};
use crate::failure::Failure;
use crate::kv;
use crate::queue::{self, Carried, Job, OutboxMessage};
use crate::route::Routed;
use crate::tally;

/// The most dedup marks ingest writes itself; a body with more events hands its marks to the
/// consumer in `mark` jobs (a Worker invocation may make 1,000 calls to KV and the other
/// services, and each mark is one).
pub const MARKS_INLINE: usize = 100;

/// Without the event log: dedupe with KV marks, put each event on the queue for each
/// destination (the outbox's straight on `OUTBOX`), then mark them. Answered `2xx` only once
/// every event is on its way; when only some could be sent, those are marked (a duplicate on
/// the sender's retry) and the answer is `503`. A failed mark is counted (`/health`): a
/// sender's retry of that event may then be delivered again.
pub async fn carry(
    env: &Env,
    cfg: &Config,
    src: &Source,
    routed: Vec<Routed>,
    now: u64,
) -> Result<(Vec<(String, String)>, Vec<String>, usize), Failure> {
    let store = kv::open(env).map_err(|e| Failure::unavailable("dedup_unavailable", e))?;
    let (mut fresh, duplicates, body_key) = unseen(&store, src, routed).await?;
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
    let (sent, failure) = send_carried(env, src, &fresh, now).await;
    // The body's own mark only once all of it went: a retry must send the rest.
    let whole = body_key.filter(|_| sent == fresh.len());
    let sent_ones = fresh.get(..sent).unwrap_or_default();
    if !sent_ones.is_empty() {
        mark(env, cfg, &store, src, sent_ones, whole, now).await;
    }
    if sent < fresh.len() {
        return Err(Failure::queue(
            failure.unwrap_or_else(|| "not every event could be sent".to_owned()),
        ));
    }
    let filtered = fresh.iter().filter(|r| r.routes.is_empty()).count();
    let accepted = fresh
        .into_iter()
        .map(|r| (r.event.event_type, r.event.dedup_key))
        .collect();
    Ok((accepted, duplicates, filtered))
}

/// The events not marked yet, the dedup keys of those that are, and the body's own key (of its
/// events' dedup keys) when the consumer writes its events' marks (more than [`MARKS_INLINE`]):
/// that mark, written at ingest, makes the sender's retry of the body a duplicate before the
/// consumer has got to its events.
async fn unseen(
    store: &KvStore,
    src: &Source,
    routed: Vec<Routed>,
) -> Result<(Vec<Routed>, Vec<String>, Option<String>), Failure> {
    let mut keys: Vec<String> = routed
        .iter()
        .map(|r| kv::seen_key(&src.name, &r.event.dedup_key))
        .collect();
    let body_key = (routed.len() > MARKS_INLINE)
        .then(|| kv::body_key(&src.name, routed.iter().map(|r| r.event.dedup_key.as_str())));
    keys.extend(body_key.clone());
    let mut seen = kv::are_set(store, &keys)
        .await
        .map_err(|e| Failure::unavailable("dedup_unavailable", e))?;
    let body_seen = body_key.is_some() && seen.pop() == Some(true);
    let (mut fresh, mut duplicates) = (Vec::new(), Vec::new());
    for (r, seen) in routed.into_iter().zip(seen) {
        if seen || body_seen {
            duplicates.push(r.event.dedup_key);
        } else {
            fresh.push(r);
        }
    }
    Ok((fresh, duplicates, body_key))
}

/// Marks the events sent: here for a few; for many, the body's own mark here (`body_key`, when
/// it all went) and the events' by `mark` jobs. Marks that cannot be written (or handed over)
/// are counted and logged.
async fn mark(
    env: &Env,
    cfg: &Config,
    store: &KvStore,
    src: &Source,
    sent: &[Routed],
    body_key: Option<String>,
    now: u64,
) {
    let keys: Vec<String> = sent
        .iter()
        .map(|r| kv::seen_key(&src.name, &r.event.dedup_key))
        .collect();
    let ttl = cfg.settings.dedup_ttl;
    let (failed, why) = if keys.len() <= MARKS_INLINE {
        kv::mark(store, keys.into_iter().chain(body_key).collect(), now, ttl).await
    } else {
        let (body_failed, body_why) =
            kv::mark(store, body_key.into_iter().collect(), now, ttl).await;
        let jobs: Vec<Job> = keys
            .chunks(queue::MARKS_PER_JOB)
            .map(|c| Job::Mark {
                keys: c.to_vec(),
                at: now,
            })
            .collect();
        let (handed, why) = queue::send(env, binding::EVENTS, &jobs, None).await;
        let lost = keys.len().saturating_sub(handed * queue::MARKS_PER_JOB);
        (lost + body_failed, why.or(body_why))
    };
    if failed > 0 {
        tally::marks_not_written(failed, Some(&src.name), why.as_deref());
    }
}

/// Sends every event's messages, in as few calls as Queues' batches allow. Returns how many
/// events went whole (a prefix of `fresh`: each list goes in order, and stops at its first
/// failure), and that failure.
async fn send_carried(
    env: &Env,
    src: &Source,
    fresh: &[Routed],
    now: u64,
) -> (usize, Option<String>) {
    let mut jobs = Vec::new();
    let mut outbox = Vec::new();
    // Where each event's messages end in each list.
    let mut ends = Vec::with_capacity(fresh.len());
    for r in fresh {
        let envelope_ref = r
            .envelope
            .is_empty()
            .then(|| kv::envelope_key(&src.name, &r.event.dedup_key));
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
        ends.push((outbox.len(), jobs.len()));
    }
    let (outbox_sent, outbox_failed) = queue::send(env, binding::OUTBOX, &outbox, None).await;
    let (jobs_sent, jobs_failed) = queue::send(env, binding::EVENTS, &jobs, None).await;
    let whole = ends
        .iter()
        .take_while(|(o, j)| *o <= outbox_sent && *j <= jobs_sent)
        .count();
    (whole, outbox_failed.or(jobs_failed))
}
