//! The event log in D1 (schema in `worker/migrations/`): all of the Worker's SQL lives in this
//! room. `mod.rs` writes what ingest and deliveries write; `read.rs` what the admin API reads;
//! `sweep.rs` what the cron sweeps run. Every statement is a constant listed in
//! [`STATEMENTS`], so that a test checks each one's query plan for a scan of a growing table.
//!
//! The insert is the authoritative dedup (`UNIQUE (dedup_key, source)`): a copy of an event
//! already logged inserts nothing and writes no row. Statuses are bound as parameters, from
//! [`DeliveryStatus`](crate::state::DeliveryStatus); the schema's CHECK is their one list in SQL.

pub mod read;
pub mod sweep;

use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env, Result};

use crate::escape;
use crate::row::{self, from_row};
use crate::state::DeliveryStatus;

/// One event log: a D1 database and the binding it is reached by.
pub struct Log {
    pub name: String,
    pub(crate) db: D1Database,
}

/// The log bound as `name`, when it is.
pub fn open(env: &Env, name: &str) -> Option<Log> {
    env.d1(name).ok().map(|db| Log {
        name: name.to_owned(),
        db,
    })
}

#[allow(clippy::cast_precision_loss)] // ms timestamps, ids and counts, far below 2^53
pub(crate) fn num(n: u64) -> JsValue {
    JsValue::from_f64(n as f64)
}

#[allow(clippy::cast_precision_loss)]
pub(crate) fn int(n: i64) -> JsValue {
    JsValue::from_f64(n as f64)
}

pub(crate) fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

pub(crate) fn opt_text(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

pub(crate) fn opt_num(n: Option<u64>) -> JsValue {
    n.map_or(JsValue::NULL, num)
}

pub(crate) fn status(s: DeliveryStatus) -> JsValue {
    text(s.as_str())
}

/// A list of ids as the JSON array `json_each` reads.
pub(crate) fn ids_json(ids: &[i64]) -> JsValue {
    text(&serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned()))
}

/// Inserts events, at most this many bytes of their JSON per statement (a D1 value holds at
/// most 2,000,000).
const INSERT_CHUNK_BYTES: usize = 1_500_000;

/// Many events in one statement, their columns read from one JSON parameter; a copy of a logged
/// event (same source and dedup key) inserts nothing. Returns the new rows.
pub const INSERT_EVENTS: &str = "INSERT INTO events (source, dedup_key, type, received_at, \
     envelope, envelope_ref, routes, owed, lease_until) \
     SELECT ?1, value ->> '$[0]', value ->> '$[1]', ?2, value ->> '$[2]', value ->> '$[3]', \
     value ->> '$[4]', value ->> '$[5]', ?3 FROM json_each(?4) WHERE true \
     ON CONFLICT (dedup_key, source) DO NOTHING RETURNING id, dedup_key AS dedupKey";

/// The first attempts of an event settled: their bits leave `owed`; those delivered join
/// `first_ok` with their HTTP status.
pub const SETTLE: &str = "UPDATE events SET owed = owed & ~?2, first_ok = first_ok | ?3, \
     first_status = json_patch(COALESCE(first_status, '{}'), ?4), \
     settled_at = CASE WHEN (owed & ~?2) = 0 THEN ?5 ELSE settled_at END WHERE id = ?1";

/// A delivery that needs more than its first attempt (or was replayed), written or rewritten.
pub const PUT_DELIVERY: &str = "INSERT INTO deliveries (event_id, destination, status, attempts, \
     next_at, horizon_from, last_attempt_at, last_status, last_error, delivered_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?7) \
     ON CONFLICT (event_id, destination) DO UPDATE SET status = excluded.status, \
     attempts = excluded.attempts, next_at = excluded.next_at, last_attempt_at = \
     excluded.last_attempt_at, last_status = excluded.last_status, last_error = \
     excluded.last_error, delivered_at = COALESCE(excluded.delivered_at, delivered_at), \
     updated_at = excluded.updated_at";

/// One attempt, for the event's history.
pub const PUT_ATTEMPT: &str = "INSERT INTO attempts (event_id, destination, attempt, at, status, \
     error) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING";

/// Claims a delivery's next attempt: only when it has made `?3` attempts and is owed, so two
/// copies of one job (a retry and the sweep's, a replay pressed twice) make one attempt.
pub const CLAIM: &str = "UPDATE deliveries SET attempts = attempts + 1, next_at = ?4, \
     updated_at = ?5 WHERE event_id = ?1 AND destination = ?2 AND attempts = ?3 \
     AND status IN (?6, ?7) RETURNING attempts, horizon_from AS horizonFrom, \
     horizon_attempts AS horizonAttempts";

/// An event's first attempts held (handed to gates) until `?2`: the sweep leaves them till then.
pub const LEASE: &str = "UPDATE events SET lease_until = ?2 WHERE id = ?1";

/// A delivery taken by its gate from the sweep's care (its due time cleared), when it has made
/// `?3` attempts and is owed: two copies of one retry job take it once.
pub const GATE_TAKE: &str = "UPDATE deliveries SET next_at = NULL, status = ?5, \
     updated_at = ?4 WHERE event_id = ?1 AND destination = ?2 AND attempts = ?3 \
     AND status IN (?5, ?6) RETURNING attempts, horizon_from AS horizonFrom, \
     horizon_attempts AS horizonAttempts";

/// A delivery due again (its gate could not take it).
pub const DUE_AGAIN: &str = "UPDATE deliveries SET next_at = ?3 WHERE event_id = ?1 \
     AND destination = ?2 AND next_at IS NULL AND status IN (?4, ?5)";

/// A destination's last attempt for a source, for the console.
pub const PUT_LATEST: &str = "INSERT INTO latest (source, destination, at, ok, status, error) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (source, destination) DO UPDATE SET \
     at = excluded.at, ok = excluded.ok, status = excluded.status, error = excluded.error \
     WHERE excluded.at >= latest.at";

/// An event's row, for a delivery.
pub const GET_EVENT: &str = "SELECT id, source, dedup_key AS dedupKey, type, \
     received_at AS receivedAt, envelope, envelope_ref AS envelopeRef, routes, owed, \
     first_ok AS firstOk, first_status AS firstStatus, settled_at AS settledAt, \
     lease_until AS leaseUntil FROM events WHERE id = ?1";

/// Several events' rows (a `first` job's).
pub const GET_EVENTS: &str = "SELECT id, source, dedup_key AS dedupKey, type, \
     received_at AS receivedAt, envelope, envelope_ref AS envelopeRef, routes, owed, \
     first_ok AS firstOk, first_status AS firstStatus, settled_at AS settledAt, \
     lease_until AS leaseUntil FROM events WHERE id IN (SELECT value FROM json_each(?1))";

/// The envelope of an event whose archived media changed it.
pub const SET_ENVELOPE: &str = "UPDATE events SET envelope = ?2 WHERE id = ?1";

/// An event as a delivery reads it.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub id: i64,
    pub source: String,
    pub dedup_key: String,
    pub event_type: String,
    pub received_at: u64,
    pub envelope: Option<String>,
    pub envelope_ref: Option<String>,
    /// A JSON array of names.
    pub routes: String,
    pub owed: u64,
    pub first_ok: u64,
    pub first_status: Option<String>,
    pub settled_at: Option<u64>,
    pub lease_until: u64,
}

from_row!(EventRow {
    id: int("id"),
    source: text("source"),
    dedup_key: text("dedupKey"),
    event_type: text("type"),
    received_at: uint("receivedAt"),
    envelope: opt_text("envelope"),
    envelope_ref: opt_text("envelopeRef"),
    routes: text("routes"),
    owed: uint("owed"),
    first_ok: uint("firstOk"),
    first_status: opt_text("firstStatus"),
    settled_at: opt_uint("settledAt"),
    lease_until: uint("leaseUntil"),
});

impl EventRow {
    /// The destinations chosen at ingest, in route order (bit `i` of `owed` is the i-th).
    pub fn routes(&self) -> Vec<String> {
        serde_json::from_str(&self.routes).unwrap_or_default()
    }
}

/// One event about to be logged.
pub struct NewEvent {
    pub dedup_key: String,
    pub event_type: String,
    /// `None` when it is stored in KV under `envelope_ref`.
    pub envelope: Option<String>,
    pub envelope_ref: Option<String>,
    /// The destinations its routes chose.
    pub routes: Vec<String>,
    /// Which of them are owed a first attempt (all of them, at ingest).
    pub owed: u64,
}

/// A row's id.
pub(crate) struct Id {
    pub id: i64,
}

from_row!(Id { id: int("id") });

struct Inserted {
    id: i64,
    dedup_key: String,
}

from_row!(Inserted {
    id: int("id"),
    dedup_key: text("dedupKey"),
});

/// The events as the insert's parameter: JSON arrays of `[dedupKey, type, envelope,
/// envelopeRef, routes, owed]`, each chunk within [`INSERT_CHUNK_BYTES`], written straight from
/// the events (no `Value` tree: a 1,000-status body is 0.5 MB of it), the envelopes escaped by
/// [`escape::string`] (most of the time of a large body, were it serde_json's).
fn chunks(events: &[NewEvent]) -> Vec<String> {
    let mut out = Vec::new();
    let mut chunk = String::new();
    let mut row = String::new();
    for e in events {
        row.clear();
        row.push('[');
        escape::string(&mut row, &e.dedup_key);
        row.push(',');
        escape::string(&mut row, &e.event_type);
        for text in [e.envelope.as_deref(), e.envelope_ref.as_deref()] {
            row.push(',');
            match text {
                Some(t) => escape::string(&mut row, t),
                None => row.push_str("null"),
            }
        }
        row.push(',');
        let routes = serde_json::to_string(&e.routes).unwrap_or_else(|_| "[]".to_owned());
        escape::string(&mut row, &routes);
        row.push(',');
        row.push_str(&e.owed.to_string());
        row.push(']');
        if !chunk.is_empty() && chunk.len() + row.len() + 1 > INSERT_CHUNK_BYTES {
            chunk.push(']');
            out.push(std::mem::take(&mut chunk));
        }
        chunk.push(if chunk.is_empty() { '[' } else { ',' });
        chunk.push_str(&row);
    }
    if !chunk.is_empty() {
        chunk.push(']');
        out.push(chunk);
    }
    out
}

impl Log {
    /// Logs a source's events in as few statements as their size allows, in one transaction.
    /// Returns, per event, its new row id, or `None` for a copy of a logged one (a duplicate).
    pub async fn insert(
        &self,
        source: &str,
        received_at: u64,
        lease_until: u64,
        events: &[NewEvent],
    ) -> Result<Vec<Option<i64>>> {
        let statements = chunks(events)
            .iter()
            .map(|json| {
                self.db.prepare(INSERT_EVENTS).bind(&[
                    text(source),
                    num(received_at),
                    num(lease_until),
                    text(json),
                ])
            })
            .collect::<Result<Vec<_>>>()?;
        let n = statements.len();
        let mut results = row::batch(&self.db, statements).await?;
        let mut inserted = std::collections::HashMap::new();
        for _ in 0..n {
            for row in results.next::<Inserted>()? {
                inserted.insert(row.dedup_key, row.id);
            }
        }
        Ok(events
            .iter()
            .map(|e| inserted.get(&e.dedup_key).copied())
            .collect())
    }

    /// An event's row.
    pub async fn event(&self, id: i64) -> Result<Option<EventRow>> {
        row::first(&self.db.prepare(GET_EVENT).bind(&[int(id)])?).await
    }

    /// Several events' rows (those that still exist).
    pub async fn events(&self, ids: &[i64]) -> Result<Vec<EventRow>> {
        row::all(&self.db.prepare(GET_EVENTS).bind(&[ids_json(ids)])?).await
    }

    /// Replaces an event's envelope (its archived media added).
    pub async fn set_envelope(&self, id: i64, envelope: &str) -> Result<()> {
        self.db
            .prepare(SET_ENVELOPE)
            .bind(&[int(id), text(envelope)])?
            .run()
            .await?;
        Ok(())
    }

    /// Runs statements as one transaction.
    pub async fn batch(&self, statements: Vec<D1PreparedStatement>) -> Result<()> {
        if !statements.is_empty() {
            self.db.batch(statements).await?;
        }
        Ok(())
    }

    /// Claims a delivery's attempt number `attempts_made + 1`; `None` when another copy of the
    /// job has it (or the delivery is final).
    pub async fn claim(
        &self,
        id: i64,
        destination: &str,
        attempts_made: u32,
        lease_until: u64,
        now: u64,
    ) -> Result<Option<Claimed>> {
        let statement = self.db.prepare(CLAIM).bind(&[
            int(id),
            text(destination),
            num(u64::from(attempts_made)),
            num(lease_until),
            num(now),
            status(DeliveryStatus::Queued),
            status(DeliveryStatus::Retrying),
        ])?;
        row::first(&statement).await
    }
}

impl Log {
    /// The statement that holds an event's owed first attempts until `until` (handed to gates).
    pub fn lease(&self, id: i64, until: u64) -> Result<D1PreparedStatement> {
        self.db.prepare(LEASE).bind(&[int(id), num(until)])
    }

    /// Takes an owed delivery for its gate (see [`GATE_TAKE`]).
    pub async fn gate_take(
        &self,
        id: i64,
        destination: &str,
        attempts_made: u32,
        now: u64,
    ) -> Result<Option<Claimed>> {
        let statement = self.db.prepare(GATE_TAKE).bind(&[
            int(id),
            text(destination),
            num(u64::from(attempts_made)),
            num(now),
            status(DeliveryStatus::Queued),
            status(DeliveryStatus::Retrying),
        ])?;
        row::first(&statement).await
    }

    /// Makes a delivery due again at `at` (its gate could not take it).
    pub async fn due_again(&self, id: i64, destination: &str, at: u64) -> Result<()> {
        self.db
            .prepare(DUE_AGAIN)
            .bind(&[
                int(id),
                text(destination),
                num(at),
                status(DeliveryStatus::Queued),
                status(DeliveryStatus::Retrying),
            ])?
            .run()
            .await?;
        Ok(())
    }
}

/// A claimed attempt: its number, and where its horizon started (a replay starts one afresh).
pub struct Claimed {
    /// The attempt claimed, 1-based, counted across replays.
    pub attempts: u32,
    /// ms.
    pub horizon_from: u64,
    /// Attempts made before the horizon started.
    pub horizon_attempts: u32,
}

from_row!(Claimed {
    attempts: uint("attempts"),
    horizon_from: uint("horizonFrom"),
    horizon_attempts: uint("horizonAttempts"),
});

/// What one delivery's attempt leaves in the log.
pub struct Recorded<'a> {
    pub id: i64,
    pub source: &'a str,
    pub destination: &'a str,
    /// 1-based.
    pub attempt: u32,
    pub at: u64,
    pub http: Option<u16>,
    pub error: Option<&'a str>,
    /// The delivery's status after it.
    pub status: DeliveryStatus,
    /// When the next attempt is due (retrying).
    pub next_at: Option<u64>,
    pub horizon_from: u64,
}

impl Log {
    /// The statements that record an attempt: the delivery's row, the attempt in the history,
    /// and the destination's latest.
    pub fn record(&self, r: &Recorded<'_>) -> Result<Vec<D1PreparedStatement>> {
        let http = r.http.map(u64::from);
        let delivered = r.status == DeliveryStatus::Delivered;
        let mut out = Vec::with_capacity(4);
        // A delivery made by a retry is counted here (the first attempts' by the sweep).
        if delivered
            && let Some(s) = self.add_tallies(&[(
                r.at - r.at % 3_600_000,
                r.source.to_owned(),
                r.destination.to_owned(),
                "delivered".to_owned(),
                1,
            )])?
        {
            out.push(s);
        }
        out.extend([
            self.db.prepare(PUT_DELIVERY).bind(&[
                int(r.id),
                text(r.destination),
                status(r.status),
                num(u64::from(r.attempt)),
                opt_num(r.next_at),
                num(r.horizon_from),
                num(r.at),
                opt_num(http),
                opt_text(r.error),
                if delivered { num(r.at) } else { JsValue::NULL },
            ])?,
            self.db.prepare(PUT_ATTEMPT).bind(&[
                int(r.id),
                text(r.destination),
                num(u64::from(r.attempt)),
                num(r.at),
                opt_num(http),
                opt_text(r.error),
            ])?,
            self.latest(r.source, r.destination, r.at, delivered, http, r.error)?,
        ]);
        Ok(out)
    }

    /// The statement that makes `destination` the last one attempted for `source`.
    pub fn latest(
        &self,
        source: &str,
        destination: &str,
        at: u64,
        ok: bool,
        http: Option<u64>,
        error: Option<&str>,
    ) -> Result<D1PreparedStatement> {
        self.db.prepare(PUT_LATEST).bind(&[
            text(source),
            text(destination),
            num(at),
            num(u64::from(ok)),
            opt_num(http),
            opt_text(error),
        ])
    }

    /// The statement that settles an event's first attempts: `done` their bits, `ok` those
    /// delivered with `statuses` (`{"name": 200}`).
    pub fn settle(
        &self,
        id: i64,
        done: u64,
        ok: u64,
        statuses: &str,
        now: u64,
    ) -> Result<D1PreparedStatement> {
        self.db
            .prepare(SETTLE)
            .bind(&[int(id), num(done), num(ok), text(statuses), num(now)])
    }
}

/// Every statement, by name, for the query-plan check (`cargo run -p hookseal-worker --example
/// sql` prints them).
pub const STATEMENTS: &[(&str, &str)] = &[
    ("INSERT_EVENTS", INSERT_EVENTS),
    ("SETTLE", SETTLE),
    ("PUT_DELIVERY", PUT_DELIVERY),
    ("PUT_ATTEMPT", PUT_ATTEMPT),
    ("CLAIM", CLAIM),
    ("PUT_LATEST", PUT_LATEST),
    ("GET_EVENT", GET_EVENT),
    ("GET_EVENTS", GET_EVENTS),
    ("SET_ENVELOPE", SET_ENVELOPE),
    ("LEASE", LEASE),
    ("GATE_TAKE", GATE_TAKE),
    ("DUE_AGAIN", DUE_AGAIN),
    ("LIST_WINDOW", read::LIST_WINDOW),
    ("LIST_BY_STATUS", read::LIST_BY_STATUS),
    ("LIST_BY_KEY", read::LIST_BY_KEY),
    ("BOUNDS", read::BOUNDS),
    ("DELIVERIES_OF", read::DELIVERIES_OF),
    ("HISTORY", read::HISTORY),
    ("SUMMARY_TALLIES", read::SUMMARY_TALLIES),
    ("SUMMARY_STATES", read::SUMMARY_STATES),
    ("SUMMARY_OWED", read::SUMMARY_OWED),
    ("LATEST", read::LATEST),
    ("DEAD_SINCE", read::DEAD_SINCE),
    ("REPLAY", read::REPLAY),
    ("PURGE_ATTEMPTS", read::PURGE_ATTEMPTS),
    ("PURGE_DELIVERIES", read::PURGE_DELIVERIES),
    ("PURGE_EVENT", read::PURGE_EVENT),
    ("PURGE_NEWEST", read::PURGE_NEWEST),
    ("CURSOR", sweep::CURSOR),
    ("SET_CURSOR", sweep::SET_CURSOR),
    ("OWED_DUE", sweep::OWED_DUE),
    ("CLAIM_OWED", sweep::CLAIM_OWED),
    ("LOWEST_OWED", sweep::LOWEST_OWED),
    ("COUNT_SOURCES", sweep::COUNT_SOURCES),
    ("COUNT_DESTINATIONS", sweep::COUNT_DESTINATIONS),
    ("LATEST_OF_RANGE", sweep::LATEST_OF_RANGE),
    ("ADD_TALLIES", sweep::ADD_TALLIES),
    ("DUE_RETRIES", sweep::DUE_RETRIES),
    ("BUMP_DUE", sweep::BUMP_DUE),
    ("EXPIRED", sweep::EXPIRED),
    ("KEPT", sweep::KEPT),
    ("DELETE_ATTEMPTS", sweep::DELETE_ATTEMPTS),
    ("DELETE_DELIVERIES", sweep::DELETE_DELIVERIES),
    ("DELETE_EVENTS", sweep::DELETE_EVENTS),
    ("REDELIVERED", sweep::REDELIVERED),
    ("OLD_TALLIES", sweep::OLD_TALLIES),
];

#[cfg(test)]
mod tests {
    use super::*;

    /// The insert's parameter as serde_json writes the same rows.
    fn as_serde_writes(events: &[NewEvent]) -> String {
        let rows: Vec<_> = events
            .iter()
            .map(|e| {
                (
                    &e.dedup_key,
                    &e.event_type,
                    &e.envelope,
                    &e.envelope_ref,
                    serde_json::to_string(&e.routes).unwrap(),
                    e.owed,
                )
            })
            .collect();
        serde_json::to_string(&rows).unwrap()
    }

    fn event(i: usize, envelope_bytes: usize) -> NewEvent {
        let text = format!(r#"{{"id":"wamid.{i}","text":"caf\u00e9 \"{i}\"\n😀"}}"#);
        NewEvent {
            dedup_key: format!("meta:wamid.{i}"),
            event_type: "message.status".into(),
            envelope: (i % 7 != 3).then(|| text.repeat(envelope_bytes / text.len() + 1)),
            envelope_ref: (i % 7 == 3).then(|| format!("hookseal:event:{i}")),
            routes: vec!["crm".into(), "slack \"ops\"".into()],
            owed: (1 << (i % 3)) | 1,
        }
    }

    #[test]
    fn the_insert_parameter_is_the_rows_as_json_in_chunks_within_the_limit() {
        let events: Vec<NewEvent> = (0..40).map(|i| event(i, 100)).collect();
        assert_eq!(chunks(&events), vec![as_serde_writes(&events)]);
        // Large envelopes: several chunks, each under the limit, together every event in order.
        let big: Vec<NewEvent> = (0..12).map(|i| event(i, 300_000)).collect();
        let written = chunks(&big);
        assert!(written.len() > 1, "{} chunks", written.len());
        let mut from = 0;
        for chunk in &written {
            assert!(chunk.len() <= INSERT_CHUNK_BYTES, "{}", chunk.len());
            let n = serde_json::from_str::<Vec<serde_json::Value>>(chunk)
                .unwrap()
                .len();
            assert_eq!(chunk, &as_serde_writes(&big[from..from + n]));
            from += n;
        }
        assert_eq!(from, big.len());
        assert!(chunks(&[]).is_empty());
    }
}
