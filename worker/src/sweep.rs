//! The cron sweep (every minute): what makes "recorded" mean "on its way".
//!
//! For each event log:
//! 1. first attempts whose claim lapsed (the isolate that answered died before making them, or
//!    their job was lost) are claimed again and handed to the queue;
//! 2. deliveries whose next attempt is overdue (a retry's job lost) get a new job;
//! 3. the events settled since the last sweep are counted into the hourly tallies, and each
//!    destination's latest delivery noted: the console's counts come from there;
//! 4. retention deletes expired events in set-based batches, as many as a run allows, and goes
//!    on at the next run until nothing expired is left. Dead events stay until replayed or
//!    purged.
//!
//! Every read is bounded by what is new since the last run (the `owed` cursor) or by a batch.

use std::collections::BTreeMap;

use serde_json::json;
use worker::Env;

use crate::config::{Config, binding};
use crate::kv;
use crate::log;
use crate::queue::{self, Job};
use crate::store::{self, Log};

/// Events claimed again per run, at most.
const CLAIM_MAX: u32 = 500;
/// Overdue retries given a new job per run, at most.
const DUE_MAX: u32 = 200;
/// Events counted per run, at most (the cursor catches up over later runs).
const COUNT_MAX: i64 = 50_000;
/// Retention's batch, and batches per run.
const RETAIN_BATCH: u32 = 1000;
const RETAIN_BATCHES: usize = 6;
/// Tallies are kept this long, ms.
const TALLIES_KEPT_MS: u64 = 8 * 86_400_000;

/// What one run did, for its log line.
#[derive(Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Swept {
    pub reclaimed: usize,
    pub overdue: usize,
    pub counted: i64,
    pub deleted: usize,
    pub errors: Vec<String>,
}

/// Sweeps every event log.
pub async fn run(env: &Env, cfg: &Config, now: u64) -> Swept {
    let mut swept = Swept::default();
    for name in cfg.logs() {
        let Some(log) = store::open(env, &name) else {
            continue;
        };
        if let Err(e) = one(env, cfg, &log, now, &mut swept).await {
            swept.errors.push(format!("{name}: {e}"));
        }
    }
    log::line("sweep", json!(swept));
    swept
}

async fn one(
    env: &Env,
    cfg: &Config,
    log: &Log,
    now: u64,
    swept: &mut Swept,
) -> worker::Result<()> {
    let from = log.cursor("owed").await?.unwrap_or(0);
    swept.reclaimed += reclaim(env, cfg, log, from, now).await?;
    swept.overdue += overdue(env, cfg, log, now).await?;
    swept.counted += count(log, from).await?;
    swept.deleted += retain(env, cfg, log, now).await?;
    Ok(())
}

/// First attempts whose claim lapsed: claimed again, handed to the queue.
async fn reclaim(env: &Env, cfg: &Config, log: &Log, from: i64, now: u64) -> worker::Result<usize> {
    let lease = now + cfg.settings.job_lease_ms;
    let ids = log.claim_owed(from, now, lease, CLAIM_MAX).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let jobs = queue::first_jobs(&log.name, &ids, lease);
    // Not sent: the claims lapse, and a later run tries again.
    if let (_, Some(e)) = queue::send(env, binding::EVENTS, &jobs, None).await {
        return Err(worker::Error::RustError(format!("queue: {e}")));
    }
    Ok(ids.len())
}

/// Deliveries whose next attempt is overdue: a new job each (its claim makes one attempt of
/// the two, should the first job turn up after all).
async fn overdue(env: &Env, cfg: &Config, log: &Log, now: u64) -> worker::Result<usize> {
    // A job more than a lease late is taken for lost.
    let due = log
        .due(now.saturating_sub(cfg.settings.lease_ms), DUE_MAX)
        .await?;
    if due.is_empty() {
        return Ok(0);
    }
    let next_at = now + cfg.settings.job_lease_ms;
    let bumps = due
        .iter()
        .map(|d| log.bump_due(d, next_at))
        .collect::<worker::Result<Vec<_>>>()?;
    log.batch(bumps).await?;
    let jobs: Vec<Job> = due
        .iter()
        .map(|d| Job::Retry {
            log: log.name.clone(),
            id: d.id,
            destination: d.destination.clone(),
            attempt: d.attempts + 1,
        })
        .collect();
    if let (_, Some(e)) = queue::send(env, binding::EVENTS, &jobs, None).await {
        return Err(worker::Error::RustError(format!("queue: {e}")));
    }
    Ok(due.len())
}

/// Counts the events settled since the last run, and moves the cursor past them.
async fn count(log: &Log, from: i64) -> worker::Result<i64> {
    let to = log.lowest_owed(from).await?.min(from + COUNT_MAX);
    if to <= from {
        return Ok(0);
    }
    let (sources, destinations, latest) = log.count_range(from, to).await?;
    let mut rows: BTreeMap<(u64, String, String, String), u64> = BTreeMap::new();
    for s in sources {
        *rows
            .entry((
                s.hour,
                s.source.clone(),
                String::new(),
                "accepted".to_owned(),
            ))
            .or_default() += s.accepted;
        if s.filtered > 0 {
            *rows
                .entry((s.hour, s.source, String::new(), "filtered".to_owned()))
                .or_default() += s.filtered;
        }
    }
    for d in destinations {
        *rows
            .entry((d.hour, d.source, d.destination, "delivered".to_owned()))
            .or_default() += d.n;
    }
    let rows: Vec<store::sweep::TallyRow> = rows
        .into_iter()
        .map(|((h, s, d, k), n)| (h, s, d, k, n))
        .collect();
    let mut statements = Vec::new();
    if let Some(s) = log.add_tallies(&rows)? {
        statements.push(s);
    }
    for l in latest {
        if let Some(at) = l.at {
            statements.push(log.latest(&l.source, &l.destination, at, true, l.status, None)?);
        }
    }
    statements.push(cursor_statement(log, "owed", to)?);
    log.batch(statements).await?;
    Ok(to - from)
}

fn cursor_statement(
    log: &Log,
    name: &str,
    value: i64,
) -> worker::Result<worker::D1PreparedStatement> {
    log.db
        .prepare(store::sweep::SET_CURSOR)
        .bind(&[store::text(name), store::int(value)])
}

/// Deletes expired events in batches, the newest row never; dead events stay.
async fn retain(env: &Env, cfg: &Config, log: &Log, now: u64) -> worker::Result<usize> {
    let cutoff = now.saturating_sub(cfg.settings.retention_days.saturating_mul(86_400_000));
    let (newest, _) = log.bounds().await?;
    let mut after = log.cursor("retained").await?.unwrap_or(0);
    let mut deleted = 0;
    for _ in 0..RETAIN_BATCHES {
        // One row first: most runs find nothing expired and read no more.
        let peek = log.aged(after, newest, 1).await?;
        if peek.first().is_none_or(|a| a.received_at >= cutoff) {
            break;
        }
        let batch = log.aged(after, newest, RETAIN_BATCH).await?;
        let expired: Vec<_> = batch
            .iter()
            .take_while(|a| a.received_at < cutoff && a.owed == 0)
            .collect();
        let Some(last) = expired.last().map(|a| a.id) else {
            break;
        };
        let ids: Vec<i64> = expired.iter().map(|a| a.id).collect();
        let kept = log.kept(&ids).await?;
        let gone: Vec<&&store::sweep::Aged> =
            expired.iter().filter(|a| !kept.contains(&a.id)).collect();
        let refs: Vec<String> = gone.iter().filter_map(|a| a.envelope_ref.clone()).collect();
        log.delete(&gone.iter().map(|a| a.id).collect::<Vec<_>>())
            .await?;
        drop_envelopes(env, &refs).await;
        deleted += gone.len();
        after = last;
        log.set_cursor("retained", after).await?;
    }
    deleted += redelivered(env, log, cutoff, after).await?;
    log.drop_tallies(now.saturating_sub(TALLIES_KEPT_MS))
        .await?;
    Ok(deleted)
}

/// Events retention passed over while dead, since delivered by a replay.
async fn redelivered(env: &Env, log: &Log, cutoff: u64, upto: i64) -> worker::Result<usize> {
    let ids = log.redelivered(cutoff, upto, RETAIN_BATCH).await?;
    if ids.is_empty() {
        return Ok(0);
    }
    let kept = log.kept(&ids).await?;
    let gone: Vec<i64> = ids.into_iter().filter(|i| !kept.contains(i)).collect();
    let refs: Vec<String> = log
        .events(&gone)
        .await?
        .into_iter()
        .filter_map(|r| r.envelope_ref)
        .collect();
    log.delete(&gone).await?;
    drop_envelopes(env, &refs).await;
    Ok(gone.len())
}

/// Deletes large envelopes' KV copies (a failure leaves a copy that nothing reads).
pub async fn drop_envelopes(env: &Env, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    let Ok(store) = kv::open(env) else { return };
    for k in keys {
        if let Err(e) = store.delete(k).await {
            log::line("envelope_delete_failed", json!({ "error": e.to_string() }));
        }
    }
}
