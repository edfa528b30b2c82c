//! The event log in D1 (binding `EVENT_LOG`, schema in `worker/migrations/`): one row per
//! accepted event, its delivery per destination, and every attempt. The insert is the
//! authoritative dedup (`UNIQUE (source, dedup_key)`): KV stays in front as the fast check, D1
//! settles races. Without the binding the Worker runs as before, with KV alone.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env, Result};

use crate::config::EVENT_LOG;

/// The log, when the binding is there.
pub fn open(env: &Env) -> Option<D1Database> {
    env.d1(EVENT_LOG).ok()
}

fn num(n: u64) -> JsValue {
    #[allow(clippy::cast_precision_loss)] // ms timestamps and counts, far below 2^53
    JsValue::from_f64(n as f64)
}

fn int(n: i64) -> JsValue {
    #[allow(clippy::cast_precision_loss)]
    JsValue::from_f64(n as f64)
}

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

fn opt_text(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

/// One accepted event about to be logged.
pub struct NewEvent<'a> {
    pub source: &'a str,
    pub dedup_key: &'a str,
    pub event_type: &'a str,
    pub received_at: u64,
    /// The envelope, or `None` when it is too large for a row and stored in KV under `envelope_ref`.
    pub envelope: Option<&'a str>,
    pub envelope_ref: Option<&'a str>,
    /// The destination URL, or `""` for a source without one.
    pub destination: &'a str,
}

#[derive(Deserialize)]
struct IdRow {
    id: i64,
}

/// Inserts the events and their deliveries (`queued`) in one transaction. Returns, per event,
/// its new row id, or `None` when (source, dedup key) was already logged: a duplicate.
pub async fn insert(db: &D1Database, events: &[NewEvent<'_>]) -> Result<Vec<Option<i64>>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let insert_event = "INSERT INTO events (source, dedup_key, type, received_at, envelope, envelope_ref) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, dedup_key) DO NOTHING RETURNING id";
    // A delivery row for the event's row; a duplicate's existing delivery is left alone.
    let insert_delivery = "INSERT INTO deliveries (event_id, destination, status, attempts, updated_at) \
         SELECT id, ?3, 'queued', 0, ?4 FROM events WHERE source = ?1 AND dedup_key = ?2 \
         ON CONFLICT (event_id, destination) DO NOTHING";
    let mut statements = Vec::with_capacity(events.len() * 2);
    for e in events {
        statements.push(db.prepare(insert_event).bind(&[
            text(e.source),
            text(e.dedup_key),
            text(e.event_type),
            num(e.received_at),
            opt_text(e.envelope),
            opt_text(e.envelope_ref),
        ])?);
        statements.push(db.prepare(insert_delivery).bind(&[
            text(e.source),
            text(e.dedup_key),
            text(e.destination),
            num(e.received_at),
        ])?);
    }
    let results = db.batch(statements).await?;
    let mut out = Vec::with_capacity(events.len());
    for r in results.iter().step_by(2) {
        out.push(r.results::<IdRow>()?.first().map(|row| row.id));
    }
    Ok(out)
}

/// Removes events (and their deliveries and attempts): the compensation when an event was logged
/// but could not be enqueued, so that the sender's retry is not taken for a duplicate.
pub async fn remove(db: &D1Database, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut statements = Vec::new();
    for id in ids {
        for sql in [
            "DELETE FROM attempts WHERE event_id = ?1",
            "DELETE FROM deliveries WHERE event_id = ?1",
            "DELETE FROM events WHERE id = ?1",
        ] {
            statements.push(db.prepare(sql).bind(&[int(*id)])?);
        }
    }
    db.batch(statements).await?;
    Ok(())
}

/// What one delivery attempt came to.
pub struct Attempt<'a> {
    pub id: i64,
    pub destination: &'a str,
    /// 1-based.
    pub attempt: u32,
    pub at: u64,
    pub http_status: Option<u16>,
    pub error: Option<&'a str>,
    /// The delivery's status after it: `delivered`, `retrying` or `dead`.
    pub status: &'a str,
}

/// Records an attempt and the delivery's new status, in one transaction.
pub async fn record(db: &D1Database, a: &Attempt<'_>) -> Result<()> {
    let status = a.http_status.map_or(JsValue::NULL, |s| num(u64::from(s)));
    let delivered_at = if a.status == "delivered" {
        num(a.at)
    } else {
        JsValue::NULL
    };
    let statements = vec![
        db.prepare(
            "INSERT INTO attempts (event_id, destination, attempt, at, status, error) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            int(a.id),
            text(a.destination),
            num(u64::from(a.attempt)),
            num(a.at),
            status.clone(),
            opt_text(a.error),
        ])?,
        db.prepare(
            "UPDATE deliveries SET status = ?3, attempts = attempts + 1, last_attempt_at = ?4, \
             last_status = ?5, last_error = ?6, delivered_at = COALESCE(?7, delivered_at), \
             updated_at = ?4 WHERE event_id = ?1 AND destination = ?2",
        )
        .bind(&[
            int(a.id),
            text(a.destination),
            text(a.status),
            num(a.at),
            status,
            opt_text(a.error),
            delivered_at,
        ])?,
    ];
    db.batch(statements).await?;
    Ok(())
}

/// Marks a delivery dead with the reason (from the dead-letter queue).
pub async fn mark_dead(
    db: &D1Database,
    id: i64,
    destination: &str,
    reason: &str,
    at: u64,
) -> Result<()> {
    db.prepare(
        "UPDATE deliveries SET status = 'dead', last_error = ?3, updated_at = ?4 \
         WHERE event_id = ?1 AND destination = ?2",
    )
    .bind(&[int(id), text(destination), text(reason), num(at)])?
    .run()
    .await?;
    Ok(())
}

/// Sets deliveries back to `queued` (a replay).
pub async fn requeued(db: &D1Database, ids: &[i64], at: u64) -> Result<()> {
    let statements = ids
        .iter()
        .map(|id| {
            db.prepare(
                "UPDATE deliveries SET status = 'queued', last_error = NULL, updated_at = ?2 \
                 WHERE event_id = ?1",
            )
            .bind(&[int(*id), num(at)])
        })
        .collect::<Result<Vec<D1PreparedStatement>>>()?;
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(())
}

/// Counts `n` duplicates or refusals (`kind`: `duplicate` or an error code) for the console's
/// per-hour tallies (never a body).
pub async fn tally(db: &D1Database, source: &str, kind: &str, n: u64, at: u64) -> Result<()> {
    let hour = at - at % 3_600_000;
    db.prepare(
        "INSERT INTO tallies (source, kind, hour, count) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (source, kind, hour) DO UPDATE SET count = count + ?4",
    )
    .bind(&[text(source), text(kind), num(hour), num(n)])?
    .run()
    .await?;
    Ok(())
}

/// One source's last 24 h, for the console.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub accepted: u64,
    pub duplicates: u64,
    /// Refusals by error code.
    pub refused: std::collections::BTreeMap<String, u64>,
    pub delivered: u64,
    pub retrying: u64,
    pub queued: u64,
    pub dead: u64,
    pub last_delivery: Option<LastDelivery>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastDelivery {
    pub status: String,
    pub at: i64,
    pub http_status: Option<i64>,
    pub error: Option<String>,
}

#[derive(Deserialize)]
struct StatusCount {
    source: String,
    status: String,
    n: u64,
}

#[derive(Deserialize)]
struct KindCount {
    source: String,
    kind: String,
    n: u64,
}

#[derive(Deserialize)]
struct Last {
    source: String,
    status: String,
    at: i64,
    #[serde(rename = "httpStatus")]
    http_status: Option<i64>,
    error: Option<String>,
}

/// Every source's last 24 h (from `since`, ms): accepted events by delivery status, duplicates
/// and refusals by code, and the last delivery attempt.
pub async fn summaries(
    db: &D1Database,
    since: u64,
) -> Result<std::collections::BTreeMap<String, Summary>> {
    let results = db
        .batch(vec![
            db.prepare(
                "SELECT e.source AS source, d.status AS status, COUNT(*) AS n FROM events e \
                 JOIN deliveries d ON d.event_id = e.id WHERE e.received_at >= ?1 \
                 GROUP BY e.source, d.status",
            )
            .bind(&[num(since)])?,
            db.prepare(
                "SELECT source, kind, SUM(count) AS n FROM tallies WHERE hour >= ?1 \
                 GROUP BY source, kind",
            )
            .bind(&[num(since - since % 3_600_000)])?,
            db.prepare(
                "SELECT e.source AS source, d.status AS status, d.last_attempt_at AS at, \
                 d.last_status AS httpStatus, d.last_error AS error FROM deliveries d \
                 JOIN events e ON e.id = d.event_id WHERE d.last_attempt_at = \
                 (SELECT MAX(d2.last_attempt_at) FROM deliveries d2 JOIN events e2 \
                  ON e2.id = d2.event_id WHERE e2.source = e.source)",
            ),
        ])
        .await?;
    let mut out: std::collections::BTreeMap<String, Summary> = Default::default();
    let mut rows = results.into_iter();
    if let Some(r) = rows.next() {
        for c in r.results::<StatusCount>()? {
            let s = out.entry(c.source).or_default();
            s.accepted += c.n;
            match c.status.as_str() {
                "delivered" => s.delivered += c.n,
                "retrying" => s.retrying += c.n,
                "dead" => s.dead += c.n,
                _ => s.queued += c.n,
            }
        }
    }
    if let Some(r) = rows.next() {
        for c in r.results::<KindCount>()? {
            let s = out.entry(c.source).or_default();
            if c.kind == "duplicate" {
                s.duplicates += c.n;
            } else {
                s.refused.insert(c.kind, c.n);
            }
        }
    }
    if let Some(r) = rows.next() {
        for l in r.results::<Last>()? {
            out.entry(l.source).or_default().last_delivery = Some(LastDelivery {
                status: l.status,
                at: l.at,
                http_status: l.http_status,
                error: l.error,
            });
        }
    }
    Ok(out)
}

/// An event as the admin API lists it.
#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct Row {
    pub id: i64,
    pub source: String,
    pub dedup_key: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub status: String,
    pub attempts: i64,
    pub received_at: i64,
    pub delivered_at: Option<i64>,
    pub last_attempt_at: Option<i64>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub destination: String,
}

const ROW_COLUMNS: &str = "e.id AS id, e.source AS source, e.dedup_key AS dedupKey, e.type AS type, \
     d.status AS status, d.attempts AS attempts, e.received_at AS receivedAt, \
     d.delivered_at AS deliveredAt, d.last_attempt_at AS lastAttemptAt, \
     d.last_status AS lastStatus, d.last_error AS lastError, d.destination AS destination";

/// The filters of a listing; `None` is "any".
#[derive(Default)]
pub struct Filter<'a> {
    pub source: Option<&'a str>,
    pub status: Option<&'a str>,
    pub event_type: Option<&'a str>,
    pub dedup_key: Option<&'a str>,
    /// Received at or after, ms.
    pub since: Option<u64>,
    /// Row ids below this one (the cursor of the previous page).
    pub before: Option<i64>,
}

/// Newest first, at most `limit`.
pub async fn list(db: &D1Database, f: &Filter<'_>, limit: u32) -> Result<Vec<Row>> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM events e JOIN deliveries d ON d.event_id = e.id \
         WHERE (?1 IS NULL OR e.source = ?1) AND (?2 IS NULL OR d.status = ?2) \
         AND (?3 IS NULL OR e.type = ?3) AND (?4 IS NULL OR e.dedup_key = ?4) \
         AND (?5 IS NULL OR e.received_at >= ?5) AND (?6 IS NULL OR e.id < ?6) \
         ORDER BY e.id DESC LIMIT ?7"
    );
    db.prepare(sql)
        .bind(&[
            opt_text(f.source),
            opt_text(f.status),
            opt_text(f.event_type),
            opt_text(f.dedup_key),
            f.since.map_or(JsValue::NULL, num),
            f.before.map_or(JsValue::NULL, int),
            num(u64::from(limit)),
        ])?
        .all()
        .await?
        .results::<Row>()
}

/// One event by row id.
pub async fn get(db: &D1Database, id: i64) -> Result<Option<Row>> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM events e JOIN deliveries d ON d.event_id = e.id WHERE e.id = ?1"
    );
    db.prepare(sql).bind(&[int(id)])?.first::<Row>(None).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stored {
    pub envelope: Option<String>,
    pub envelope_ref: Option<String>,
}

/// Where an event's envelope is: in its row, or in KV.
pub async fn envelope(db: &D1Database, id: i64) -> Result<Option<Stored>> {
    db.prepare("SELECT envelope, envelope_ref AS envelopeRef FROM events WHERE id = ?1")
        .bind(&[int(id)])?
        .first::<Stored>(None)
        .await
}

/// One attempt, for an event's history.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRow {
    pub attempt: i64,
    pub at: i64,
    pub status: Option<i64>,
    pub error: Option<String>,
}

pub async fn history(db: &D1Database, id: i64) -> Result<Vec<AttemptRow>> {
    db.prepare("SELECT attempt, at, status, error FROM attempts WHERE event_id = ?1 ORDER BY rowid")
        .bind(&[int(id)])?
        .all()
        .await?
        .results::<AttemptRow>()
}

/// Deletes delivered events received before `before` (ms). Dead ones are never deleted here:
/// only a replay or an explicit purge removes those. Returns how many went.
pub async fn retain(db: &D1Database, before: u64) -> Result<usize> {
    let old = "SELECT e.id FROM events e WHERE e.received_at < ?1 \
               AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status <> 'delivered')";
    let ids: Vec<IdRow> = db
        .prepare(format!("{old} LIMIT 5000"))
        .bind(&[num(before)])?
        .all()
        .await?
        .results()?;
    let ids: Vec<i64> = ids.into_iter().map(|r| r.id).collect();
    for chunk in ids.chunks(100) {
        remove(db, chunk).await?;
    }
    Ok(ids.len())
}

#[derive(Deserialize)]
struct CountRow {
    n: u64,
}

/// How many of `source`'s deliveries went dead since `since` (ms).
pub async fn dead_since(db: &D1Database, source: &str, since: u64) -> Result<u64> {
    let row = db
        .prepare(
            "SELECT COUNT(*) AS n FROM deliveries d JOIN events e ON e.id = d.event_id \
             WHERE e.source = ?1 AND d.status = 'dead' AND d.updated_at >= ?2",
        )
        .bind(&[text(source), num(since)])?
        .first::<CountRow>(None)
        .await?;
    Ok(row.map_or(0, |r| r.n))
}
