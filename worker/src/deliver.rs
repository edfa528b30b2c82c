//! Delivering an event to a destination, and what each attempt leaves: the first attempts of
//! logged events (straight after ingest's answer, or from a `first` job), the retries of logged
//! deliveries (a `retry` job), and events that carry themselves when the log is off (a `carry`
//! job). Every attempt's outcome is recorded before anything else is sent, so that the log (or,
//! without it, the queue) always says what is owed.

use futures_util::StreamExt;
use serde_json::json;
use worker::Env;

use crate::config::{Config, Destination, Kind, binding};
use crate::kv;
use crate::log;
use crate::media::{self, Step};
use crate::outbound::{self, Delivery};
use crate::queue::{self, Carried, Job, OutboxMessage};
use crate::state::{DeliveryStatus, Outcome};
use crate::store::{EventRow, Log, Recorded};

/// Attempts in flight at once from one invocation: one slow destination does not hold the
/// others back.
pub const PARALLEL: usize = 6;

/// The envelope of a logged event: in its row, or in KV when it was too large for one.
pub async fn envelope(env: &Env, row: &EventRow) -> Result<String, String> {
    if let Some(e) = &row.envelope {
        return Ok(e.clone());
    }
    let key = row
        .envelope_ref
        .as_deref()
        .ok_or("the event has no envelope")?;
    stored_envelope(env, key).await
}

/// An envelope stored in KV. Not found yet is retried: a KV write can take a while to be seen
/// elsewhere.
pub async fn stored_envelope(env: &Env, key: &str) -> Result<String, String> {
    let kv = kv::open(env).map_err(|e| format!("KV: {e}"))?;
    match kv.get(key).text().await {
        Ok(Some(text)) => Ok(text),
        Ok(None) => Err("the stored envelope is not visible yet".to_owned()),
        Err(e) => Err(format!("KV: {e}")),
    }
}

/// The envelope once its media is archived (`media.rs`), written back to the log (`store`) so
/// that no later attempt downloads it again. `Err` is what every destination's attempt comes to
/// for now: a later try, or dead.
async fn media_ready(
    env: &Env,
    cfg: &Config,
    source: &str,
    envelope: String,
    received_at: u64,
    now: u64,
    store: Option<(&Log, &EventRow)>,
) -> Result<String, Outcome> {
    let Some(Ok(src)) = cfg.source(source) else {
        return Ok(envelope);
    };
    match media::prepare(env, &src, &envelope, received_at, now).await {
        Step::Keep => Ok(envelope),
        Step::Updated(updated) => {
            if let Some((log, row)) = store {
                keep_envelope(env, log, row, &updated).await;
            }
            Ok(updated)
        }
        Step::Later(error) => Err(Outcome::Retry {
            http: None,
            error,
            after: None,
        }),
        Step::Dead(error) => Err(Outcome::GiveUp { http: None, error }),
    }
}

/// Writes an event's envelope back where it lives (its row, or KV for a large one). A write
/// that fails costs only a look in R2 on the next attempt.
async fn keep_envelope(env: &Env, log: &Log, row: &EventRow, envelope: &str) {
    let failed = match &row.envelope_ref {
        Some(key) => match kv::open(env) {
            Ok(store) => kv::put_all(
                &store,
                &[(key.clone(), envelope.to_owned())],
                Some(kv::ENVELOPE_TTL),
            )
            .await
            .first()
            .map(|(_, e)| e.clone()),
            Err(e) => Some(e.to_string()),
        },
        None => log
            .set_envelope(row.id, envelope)
            .await
            .err()
            .map(|e| e.to_string()),
    };
    if let Some(e) = failed {
        log::line("envelope_unsaved", json!({ "id": row.id, "error": e }));
    }
}

/// One attempt: the body in the destination's kind (an archived file's link minted now), sent.
/// The outbox destination puts the event on the `OUTBOX` queue.
#[allow(clippy::too_many_arguments)]
pub async fn attempt(
    env: &Env,
    cfg: &Config,
    dest: &Destination,
    d: &Delivery<'_>,
    dedup_key: &str,
    event_type: &str,
    log_id: Option<i64>,
    now: u64,
    timeout: u64,
) -> Outcome {
    let linked = media::with_link(cfg, d.envelope, now);
    let d = &Delivery {
        envelope: &linked,
        ..*d
    };
    if let Kind::Outbox = dest.kind {
        let m = OutboxMessage {
            source: d.source.to_owned(),
            attempt: d.attempt.saturating_sub(1),
            received_at: d.received_at,
            dedup_key: dedup_key.to_owned(),
            event_type: event_type.to_owned(),
            event: d.envelope.to_owned(),
            event_ref: None,
            log_id,
        };
        return match queue::send_one(env, binding::OUTBOX, &outbox_sized(env, m).await, None).await
        {
            Ok(()) => Outcome::Delivered { http: 202 },
            Err(e) => Outcome::Retry {
                http: None,
                error: format!("the OUTBOX queue: {e}"),
                after: None,
            },
        };
    }
    let body = match outbound::body(&dest.kind, d) {
        Ok(b) => b,
        Err(e) => {
            return Outcome::GiveUp {
                http: None,
                error: e,
            };
        }
    };
    let now_s = i64::try_from(now / 1000).unwrap_or(i64::MAX);
    outbound::post(dest, d, &body, now_s, timeout).await
}

/// An outbox message too large for a queue message travels with its envelope in KV.
async fn outbox_sized(env: &Env, mut m: OutboxMessage) -> OutboxMessage {
    if m.event.len() > queue::INLINE_MAX_BYTES {
        let key = kv::envelope_key(&m.source, &m.dedup_key);
        if let Ok(store) = kv::open(env) {
            let failed = kv::put_all(
                &store,
                &[(key.clone(), m.event.clone())],
                Some(kv::ENVELOPE_TTL),
            )
            .await;
            if failed.is_empty() {
                m.event = String::new();
                m.event_ref = Some(key);
            }
        }
    }
    m
}

/// What comes after a failed attempt: the next one's delay in seconds, or `None` (dead).
pub fn next_delay(
    dest: &Destination,
    outcome: &Outcome,
    attempts_made: u32,
    elapsed_s: u64,
) -> Option<u64> {
    match outcome {
        Outcome::Retry { after, .. } => dest
            .schedule
            .next_delay(attempts_made, elapsed_s)
            .map(|d| d.max(after.unwrap_or(0))),
        _ => None,
    }
}

/// One owed first attempt of a logged event.
struct Owed {
    /// Index into the rows.
    row: usize,
    bit: u64,
    destination: String,
}

/// The first attempts of logged events: each owed destination of each row, then one
/// transaction that settles them (the delivered on the events' rows; the failed as delivery
/// rows, retrying or dead), then the retries' jobs.
pub async fn first(
    env: &Env,
    cfg: &Config,
    log: &Log,
    rows: &[EventRow],
    now: u64,
    timeout_cap: Option<u64>,
) {
    let Prepared {
        envelopes,
        settled,
        owed,
    } = prepare(env, cfg, log, rows, now).await;
    // Deliveries to gated destinations are handed to their gates (one call per destination);
    // the rest are attempted here.
    let (gated, owed): (Vec<Owed>, Vec<Owed>) = owed.into_iter().partition(|o| {
        settled.get(o.row).is_some_and(Option::is_none)
            && cfg
                .destination(&o.destination)
                .is_ok_and(|d| crate::gate::on(env, &d))
    });
    let (handed, mut refused) = to_gates(env, cfg, log, rows, &envelopes, gated).await;
    let mut outcomes: Vec<(Owed, Outcome)> = futures_util::stream::iter(owed)
        .map(|o| {
            let row = rows.get(o.row);
            let envelope = envelopes.get(o.row).cloned().flatten();
            let preset = settled.get(o.row).cloned().flatten();
            async move {
                let outcome = match (row, envelope, preset) {
                    (_, _, Some(outcome)) => outcome,
                    (Some(row), Some(envelope), None) => {
                        first_one(env, cfg, row, &o.destination, &envelope, now, timeout_cap).await
                    }
                    _ => Outcome::Retry {
                        http: None,
                        error: "the event is gone".to_owned(),
                        after: None,
                    },
                };
                (o, outcome)
            }
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    outcomes.append(&mut refused);
    let waiting: Vec<bool> = settled.iter().map(Option::is_some).collect();
    settle(env, cfg, log, rows, outcomes, &handed, &waiting, now).await;
}

/// Rows made ready for their first attempts: each one's envelope (`None`: unreadable now, it
/// stays owed and the sweep tries again), the outcome its media imposes on every destination
/// (`Some`: not archived yet, or dead), and its owed deliveries.
struct Prepared {
    envelopes: Vec<Option<String>>,
    settled: Vec<Option<Outcome>>,
    owed: Vec<Owed>,
}

async fn prepare(env: &Env, cfg: &Config, log: &Log, rows: &[EventRow], now: u64) -> Prepared {
    let mut p = Prepared {
        envelopes: Vec::with_capacity(rows.len()),
        settled: Vec::with_capacity(rows.len()),
        owed: Vec::new(),
    };
    for (i, row) in rows.iter().enumerate() {
        let (envelope, preset) = match envelope(env, row).await {
            Err(_) => (None, None),
            // Its media archived first, once for all its destinations.
            Ok(text) => {
                let store = Some((log, row));
                match media_ready(env, cfg, &row.source, text, row.received_at, now, store).await {
                    Ok(ready) => (Some(ready), None),
                    Err(outcome) => (Some(String::new()), Some(outcome)),
                }
            }
        };
        if envelope.is_some() {
            for (j, name) in row.routes().into_iter().enumerate() {
                let bit = 1u64 << j;
                if row.owed & bit != 0 {
                    p.owed.push(Owed {
                        row: i,
                        bit,
                        destination: name,
                    });
                }
            }
        }
        p.envelopes.push(envelope);
        p.settled.push(preset);
    }
    p
}

/// Hands owed first attempts to their destinations' gates: those handed, and an outcome (to be
/// retried) for those a gate could not take.
async fn to_gates(
    env: &Env,
    cfg: &Config,
    log: &Log,
    rows: &[EventRow],
    envelopes: &[Option<String>],
    gated: Vec<Owed>,
) -> (Vec<Owed>, Vec<(Owed, Outcome)>) {
    let mut by_destination: std::collections::BTreeMap<String, Vec<Owed>> = Default::default();
    for o in gated {
        by_destination
            .entry(o.destination.clone())
            .or_default()
            .push(o);
    }
    let (mut handed, mut refused) = (Vec::new(), Vec::new());
    for (name, list) in by_destination {
        let Ok(dest) = cfg.destination(&name) else {
            continue;
        };
        let items: Vec<crate::gate::Item> = list
            .iter()
            .filter_map(|o| {
                let row = rows.get(o.row)?;
                let envelope = envelopes.get(o.row)?.as_deref()?;
                Some(crate::gate::Item {
                    log: log.name.clone(),
                    id: row.id,
                    received_at: row.received_at,
                    attempt: 1,
                    horizon_from: row.received_at,
                    horizon_attempts: 0,
                    key: crate::gate::key_of(&dest.protect, &row.source, row.received_at, envelope),
                })
            })
            .collect();
        match crate::gate::hand(env, &name, &items).await {
            Ok(()) => handed.extend(list),
            Err(error) => refused.extend(list.into_iter().map(|o| {
                (
                    o,
                    Outcome::Retry {
                        http: None,
                        error: error.clone(),
                        after: None,
                    },
                )
            })),
        }
    }
    (handed, refused)
}

/// How long a first attempt handed to a gate is left to it before the sweep hands it again (a
/// gate keeps one delivery once, so a second hand-off costs a request, never a delivery).
const GATE_LEASE_MS: u64 = 24 * 3_600_000;

/// After a failed media archive, each further destination's retry waits this much longer than
/// the one before: the first archives, and the others find it done rather than download again.
const MEDIA_STAGGER_S: u64 = 10;

async fn first_one(
    env: &Env,
    cfg: &Config,
    row: &EventRow,
    destination: &str,
    envelope: &str,
    now: u64,
    timeout_cap: Option<u64>,
) -> Outcome {
    let dest = match cfg.destination(destination) {
        Ok(d) => d,
        Err(e) => {
            return Outcome::GiveUp {
                http: None,
                error: e.0,
            };
        }
    };
    let id = outbound::webhook_id(&row.source, &row.dedup_key);
    let d = Delivery {
        source: &row.source,
        received_at: row.received_at,
        attempt: 1,
        webhook_id: &id,
        envelope,
    };
    let timeout = timeout_cap.map_or(dest.timeout, |cap| dest.timeout.min(cap));
    let outcome = attempt(
        env,
        cfg,
        &dest,
        &d,
        &row.dedup_key,
        &row.event_type,
        Some(row.id),
        now,
        timeout,
    )
    .await;
    line(
        &row.source,
        &row.event_type,
        &row.dedup_key,
        destination,
        1,
        &outcome,
        cfg,
        now,
    );
    outcome
}

/// One log line per attempt (delivered ones at `info` only).
#[allow(clippy::too_many_arguments)]
pub fn line(
    source: &str,
    event_type: &str,
    dedup_key: &str,
    destination: &str,
    attempt: u32,
    outcome: &Outcome,
    cfg: &Config,
    now: u64,
) {
    let (what, detail) = match outcome {
        Outcome::Delivered { http } => ("delivered", json!(http)),
        Outcome::Retry { error, .. } => ("failed", json!(error)),
        Outcome::GiveUp { error, .. } => ("refused", json!(error)),
    };
    if what == "delivered" && cfg.settings.log_level == log::Level::Warn {
        return;
    }
    log::line(
        "deliver",
        json!({
            "source": source, "type": event_type, "dedupKey": dedup_key, "destination": destination,
            "attempt": attempt, "outcome": what, "detail": detail,
            "latencyMs": log::now_ms().saturating_sub(now),
        }),
    );
}

/// Records the first attempts' outcomes, and the deliveries `handed` to gates, in one
/// transaction, then sends the retries' jobs (staggered for a row `waiting` for its media).
#[allow(clippy::too_many_arguments)]
async fn settle(
    env: &Env,
    cfg: &Config,
    log: &Log,
    rows: &[EventRow],
    outcomes: Vec<(Owed, Outcome)>,
    handed: &[Owed],
    waiting: &[bool],
    now: u64,
) {
    let mut s = Settling::default();
    for (i, row) in rows.iter().enumerate() {
        let mine: Vec<&(Owed, Outcome)> = outcomes.iter().filter(|(o, _)| o.row == i).collect();
        let gone = handed.iter().any(|o| o.row == i);
        let stagger = if waiting.get(i).copied().unwrap_or(false) {
            MEDIA_STAGGER_S
        } else {
            0
        };
        s.row(cfg, log, row, &mine, gone, stagger, now);
    }
    commit(log, s.statements).await;
    for (job, delay) in s.retries {
        schedule(env, &job, delay).await;
    }
    // One alert per source, with the count.
    let mut by_source: std::collections::BTreeMap<String, (u64, String)> = Default::default();
    for (source, reason) in s.dead {
        let e = by_source.entry(source).or_default();
        e.0 += 1;
        e.1 = reason;
    }
    for (source, (count, reason)) in by_source {
        crate::alert::dead(env, cfg, &source, count, &reason, now).await;
    }
}

/// What settling first attempts writes and sends: the statements, the retries' jobs with their
/// delays, and the dead (source, reason) to announce.
#[derive(Default)]
struct Settling {
    statements: Vec<worker::D1PreparedStatement>,
    retries: Vec<(Job, u64)>,
    dead: Vec<(String, String)>,
}

impl Settling {
    /// One event's first attempts: its row settled (the delivered), each failure recorded as a
    /// delivery row; handed to gates (`gone`), held by a long lease so that the sweep leaves it
    /// to the gates (one written row, however many).
    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        cfg: &Config,
        log: &Log,
        row: &EventRow,
        mine: &[&(Owed, Outcome)],
        gone: bool,
        stagger: u64,
        now: u64,
    ) {
        if gone {
            self.push(log.lease(row.id, now + GATE_LEASE_MS).map(|s| vec![s]));
        }
        let (mut done, mut ok) = (0u64, 0u64);
        let mut statuses = serde_json::Map::new();
        for (n, (o, outcome)) in mine.iter().enumerate() {
            done |= o.bit;
            if let Outcome::Delivered { http } = outcome {
                ok |= o.bit;
                statuses.insert(o.destination.clone(), json!(http));
            } else {
                self.failed(cfg, log, row, o, outcome, stagger * n as u64, now);
            }
        }
        if done != 0 {
            let statuses = serde_json::Value::Object(statuses).to_string();
            self.push(
                log.settle(row.id, done, ok, &statuses, now)
                    .map(|s| vec![s]),
            );
        }
    }

    /// A first attempt that failed: its delivery row, and its retry (`extra` seconds later) or
    /// its dead letter.
    #[allow(clippy::too_many_arguments)]
    fn failed(
        &mut self,
        cfg: &Config,
        log: &Log,
        row: &EventRow,
        o: &Owed,
        outcome: &Outcome,
        extra: u64,
        now: u64,
    ) {
        let next = cfg.destination(&o.destination).ok().and_then(|d| {
            next_delay(&d, outcome, 1, now.saturating_sub(row.received_at) / 1000)
                .map(|delay| delay + extra)
        });
        let status = if next.is_some() {
            DeliveryStatus::Retrying
        } else {
            DeliveryStatus::Dead
        };
        self.push(log.record(&Recorded {
            id: row.id,
            source: &row.source,
            destination: &o.destination,
            attempt: 1,
            at: now,
            http: outcome.http(),
            error: outcome.error(),
            status,
            next_at: next.map(|s| now + s * 1000),
            horizon_from: row.received_at,
        }));
        match next {
            Some(delay) => self.retries.push((
                Job::Retry {
                    log: log.name.clone(),
                    id: row.id,
                    destination: o.destination.clone(),
                    attempt: 2,
                },
                delay,
            )),
            None => self
                .dead
                .push((row.source.clone(), outcome.error().unwrap_or("").to_owned())),
        }
    }

    fn push(&mut self, statements: worker::Result<Vec<worker::D1PreparedStatement>>) {
        match statements {
            Ok(s) => self.statements.extend(s),
            Err(e) => log::line("record_failed", json!({ "error": e.to_string() })),
        }
    }
}

/// Writes the statements, trying twice: a record that cannot be written leaves the delivery
/// owed, and the sweep sends it again (the destination may then see its `webhook-id` twice).
async fn commit(log: &Log, statements: Vec<worker::D1PreparedStatement>) {
    if statements.is_empty() {
        return;
    }
    let copies: Vec<worker::D1PreparedStatement> = statements.to_vec();
    if let Err(first) = log.batch(statements).await
        && let Err(e) = log.batch(copies).await
    {
        log::line(
            "record_failed",
            json!({ "log": log.name, "error": e.to_string(), "first": first.to_string() }),
        );
    }
}

/// Sends a retry's job with its delay. A job that cannot be sent is not lost: its delivery's row
/// is due, and the sweep sends it.
async fn schedule(env: &Env, job: &Job, delay: u64) {
    let delay = u32::try_from(delay).unwrap_or(u32::MAX);
    if let Err(e) = queue::send_one(env, binding::EVENTS, job, Some(delay)).await {
        log::line(
            "retry_unscheduled",
            json!({ "error": e.to_string(), "note": "the sweep sends it when due" }),
        );
    }
}

/// A `retry` job: claims the attempt (another copy of the job, or a replay pressed twice, makes
/// none), makes it, records it, and schedules the next or gives up. `Err` asks the queue to try
/// the job again (the log could not be reached).
pub async fn retry(
    env: &Env,
    cfg: &Config,
    log: &Log,
    id: i64,
    destination: &str,
    attempt: u32,
    now: u64,
) -> Result<(), String> {
    if let Ok(dest) = cfg.destination(destination)
        && crate::gate::on(env, &dest)
        && let Some(done) =
            retry_through_gate(env, cfg, log, id, &dest, destination, attempt, now).await?
    {
        return Ok(done);
    }
    let lease_until = now + cfg.settings.job_lease_ms;
    let Some(claimed) = log
        .claim(id, destination, attempt.saturating_sub(1), lease_until, now)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(()); // another copy has it, or it is final
    };
    let Some(row) = log.event(id).await.map_err(|e| e.to_string())? else {
        return Ok(()); // purged
    };
    let dest = cfg.destination(destination);
    let outcome = match &dest {
        Err(e) => Outcome::GiveUp {
            http: None,
            error: e.0.clone(),
        },
        Ok(d) => claimed_attempt(env, cfg, log, &row, d, claimed.attempts, now).await,
    };
    line(
        &row.source,
        &row.event_type,
        &row.dedup_key,
        destination,
        claimed.attempts,
        &outcome,
        cfg,
        now,
    );
    record_retry(
        env,
        cfg,
        log,
        &row,
        destination,
        dest.ok(),
        &claimed,
        &outcome,
        now,
    )
    .await
}

/// A claimed retry's attempt: the event made ready (its media), then sent.
async fn claimed_attempt(
    env: &Env,
    cfg: &Config,
    log: &Log,
    row: &EventRow,
    dest: &Destination,
    attempt: u32,
    now: u64,
) -> Outcome {
    let ready = match envelope(env, row).await {
        Ok(e) => {
            let store = Some((log, row));
            media_ready(env, cfg, &row.source, e, row.received_at, now, store).await
        }
        Err(error) => Err(Outcome::Retry {
            http: None,
            error,
            after: None,
        }),
    };
    match ready {
        Err(outcome) => outcome,
        Ok(envelope) => {
            let wid = outbound::webhook_id(&row.source, &row.dedup_key);
            let delivery = Delivery {
                source: &row.source,
                received_at: row.received_at,
                attempt,
                webhook_id: &wid,
                envelope: &envelope,
            };
            attempt_logged(env, cfg, dest, &delivery, row, now).await
        }
    }
}

/// Records a retry's outcome, then schedules the next attempt or announces the dead one. The
/// schedule counts the attempts since the horizon started (a replay's, or the receipt).
#[allow(clippy::too_many_arguments)]
async fn record_retry(
    env: &Env,
    cfg: &Config,
    log: &Log,
    row: &EventRow,
    destination: &str,
    dest: Option<std::rc::Rc<Destination>>,
    claimed: &crate::store::Claimed,
    outcome: &Outcome,
    now: u64,
) -> Result<(), String> {
    let attempt = claimed.attempts;
    let elapsed = now.saturating_sub(claimed.horizon_from) / 1000;
    let since_horizon = attempt.saturating_sub(claimed.horizon_attempts);
    let next = dest.and_then(|d| next_delay(&d, outcome, since_horizon, elapsed));
    let status = match (outcome, next) {
        (Outcome::Delivered { .. }, _) => DeliveryStatus::Delivered,
        (_, Some(_)) => DeliveryStatus::Retrying,
        _ => DeliveryStatus::Dead,
    };
    let statements = log
        .record(&Recorded {
            id: row.id,
            source: &row.source,
            destination,
            attempt,
            at: now,
            http: outcome.http(),
            error: outcome.error(),
            status,
            next_at: next.map(|s| now + s * 1000),
            horizon_from: claimed.horizon_from,
        })
        .map_err(|e| e.to_string())?;
    commit(log, statements).await;
    if let Some(delay) = next {
        let job = Job::Retry {
            log: log.name.clone(),
            id: row.id,
            destination: destination.to_owned(),
            attempt: attempt + 1,
        };
        schedule(env, &job, delay).await;
    } else if status == DeliveryStatus::Dead {
        crate::alert::dead(env, cfg, &row.source, 1, outcome.error().unwrap_or(""), now).await;
    }
    Ok(())
}

/// A retry (a replay, or a job from before the gate) of a gated destination: its event made
/// ready (the media), then the delivery taken from the queue's care and handed to the gate.
/// `None` when the event's media is not ready: the retry goes on the queue's way.
#[allow(clippy::too_many_arguments)]
async fn retry_through_gate(
    env: &Env,
    cfg: &Config,
    log: &Log,
    id: i64,
    dest: &Destination,
    destination: &str,
    attempt: u32,
    now: u64,
) -> Result<Option<()>, String> {
    let Some(row) = log.event(id).await.map_err(|e| e.to_string())? else {
        return Ok(Some(())); // purged
    };
    let Ok(envelope) = envelope(env, &row).await else {
        return Ok(None);
    };
    let Ok(envelope) = media_ready(
        env,
        cfg,
        &row.source,
        envelope,
        row.received_at,
        now,
        Some((log, &row)),
    )
    .await
    else {
        return Ok(None);
    };
    let Some(taken) = log
        .gate_take(id, destination, attempt.saturating_sub(1), now)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(Some(())); // another copy has it, or it is final
    };
    let item = crate::gate::Item {
        log: log.name.clone(),
        id,
        received_at: row.received_at,
        attempt: taken.attempts + 1,
        horizon_from: taken.horizon_from,
        horizon_attempts: taken.horizon_attempts,
        key: crate::gate::key_of(&dest.protect, &row.source, row.received_at, &envelope),
    };
    if let Err(e) = crate::gate::hand(env, destination, &[item]).await {
        // Due again: the sweep sends it back here.
        let _ = log.due_again(id, destination, now + 30_000).await;
        return Err(e);
    }
    Ok(Some(()))
}

async fn attempt_logged(
    env: &Env,
    cfg: &Config,
    dest: &Destination,
    d: &Delivery<'_>,
    row: &EventRow,
    now: u64,
) -> Outcome {
    attempt(
        env,
        cfg,
        dest,
        d,
        &row.dedup_key,
        &row.event_type,
        Some(row.id),
        now,
        dest.timeout,
    )
    .await
}

/// What the consumer does with a message after a `carry` job.
pub enum Disposition {
    Ack,
    /// The queue tries the message again (nothing could take it on).
    Retry,
}

/// A `carry` job (the log off): the event travels in the message, and so do its retries. A dead
/// one is kept in KV (`hookseal:dead/…`, `DEAD_LETTER_KV_DAYS`).
pub async fn carried(env: &Env, cfg: &Config, c: Carried, now: u64) -> Disposition {
    let dest = cfg.destination(&c.destination);
    let outcome = match &dest {
        Err(e) => Outcome::GiveUp {
            http: None,
            error: e.0.clone(),
        },
        Ok(d) => carried_attempt(env, cfg, d, &c, now).await,
    };
    line(
        &c.source,
        &c.event_type,
        &c.dedup_key,
        &c.destination,
        c.attempt,
        &outcome,
        cfg,
        now,
    );
    let elapsed = now.saturating_sub(c.horizon_from) / 1000;
    let next = dest
        .as_ref()
        .ok()
        .and_then(|d| next_delay(d, &outcome, c.attempt, elapsed));
    match (&outcome, next) {
        (Outcome::Delivered { .. }, _) => Disposition::Ack,
        (_, Some(delay)) => {
            let again = Job::Carry(Carried {
                attempt: c.attempt + 1,
                ..c
            });
            let delay = u32::try_from(delay).unwrap_or(u32::MAX);
            match queue::send_one(env, binding::EVENTS, &again, Some(delay)).await {
                Ok(()) => Disposition::Ack,
                Err(_) => Disposition::Retry,
            }
        }
        _ => carried_dead(env, cfg, c, outcome.error().unwrap_or("").to_owned(), now).await,
    }
}

/// A carried event's attempt: its envelope (from KV when large), its media archived (each
/// destination's job does it: R2 holds one copy, the others find it), then sent.
async fn carried_attempt(
    env: &Env,
    cfg: &Config,
    d: &Destination,
    c: &Carried,
    now: u64,
) -> Outcome {
    let envelope = match &c.event_ref {
        Some(key) if c.event.is_empty() => stored_envelope(env, key).await,
        _ => Ok(c.event.clone()),
    };
    let ready = match envelope {
        Ok(e) => media_ready(env, cfg, &c.source, e, c.received_at, now, None).await,
        Err(error) => Err(Outcome::Retry {
            http: None,
            error,
            after: None,
        }),
    };
    let envelope = match ready {
        Ok(e) => e,
        Err(outcome) => return outcome,
    };
    let wid = outbound::webhook_id(&c.source, &c.dedup_key);
    let delivery = Delivery {
        source: &c.source,
        received_at: c.received_at,
        attempt: c.attempt,
        webhook_id: &wid,
        envelope: &envelope,
    };
    let (key, kind) = (&c.dedup_key, &c.event_type);
    attempt(env, cfg, d, &delivery, key, kind, None, now, d.timeout).await
}

/// A carried event gone dead: kept in KV, or else through the dead-letter queue, whose consumer
/// keeps it.
async fn carried_dead(
    env: &Env,
    cfg: &Config,
    c: Carried,
    reason: String,
    now: u64,
) -> Disposition {
    if keep_dead(env, cfg, &c, &reason, now).await {
        crate::alert::dead(env, cfg, &c.source, 1, &reason, now).await;
        return Disposition::Ack;
    }
    let job = Job::Dead {
        reason,
        at: now,
        job: Box::new(Job::Carry(c)),
    };
    match queue::send_one(env, binding::DEAD_LETTER, &job, None).await {
        Ok(()) => Disposition::Ack,
        Err(_) => Disposition::Retry,
    }
}

/// Keeps a dead letter of the log-less path in KV; `false` when KV would not take it.
pub async fn keep_dead(env: &Env, cfg: &Config, c: &Carried, reason: &str, now: u64) -> bool {
    let Ok(store) = kv::open(env) else {
        return false;
    };
    let key = kv::dead_key(&c.source, &c.destination, &c.dedup_key);
    let value = json!({ "reason": reason, "at": now, "letter": c }).to_string();
    kv::put_all(
        &store,
        &[(key, value)],
        Some(cfg.settings.dead_letter_kv_ttl),
    )
    .await
    .is_empty()
}
