//! What the cron sweeps read and write: first attempts whose claim lapsed, retries whose job was
//! lost, the hourly counts, and retention in bounded, set-based batches.
//!
//! Two cursors (table `cursors`) keep every sweep's reading bounded by what is new: `owed`, the
//! lowest id that may still owe a first attempt (below it every event is settled and counted),
//! and `retained`, up to which retention has looked.

use worker::Result;

use super::{Id, Log, ids_json, int, num, status, text};
use crate::row::{self, from_row};
use crate::state::DeliveryStatus;

pub const CURSOR: &str = "SELECT value FROM cursors WHERE name = ?1";
pub const SET_CURSOR: &str = "INSERT INTO cursors (name, value) VALUES (?1, ?2) \
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";

/// Events from the cursor on whose first attempts are owed and unclaimed.
pub const OWED_DUE: &str = "SELECT id FROM events WHERE id >= ?1 AND owed <> 0 \
     AND lease_until < ?2 ORDER BY id LIMIT ?3";
/// Claims them for the sweep's job (so that a later sweep leaves them until `?2`).
pub const CLAIM_OWED: &str = "UPDATE events SET lease_until = ?2 WHERE id IN \
     (SELECT value FROM json_each(?1)) AND owed <> 0 AND lease_until < ?3 RETURNING id";
/// Where the `owed` cursor can move: the lowest owed id from it, else past the newest.
pub const LOWEST_OWED: &str = "SELECT COALESCE((SELECT MIN(id) FROM events WHERE id >= ?1 \
     AND owed <> 0), (SELECT MAX(id) FROM events) + 1, ?1) AS w";
/// The events between two cursors, counted per source and hour.
pub const COUNT_SOURCES: &str = "SELECT source, (received_at / 3600000) * 3600000 AS hour, \
     COUNT(*) AS accepted, SUM(routes = '[]') AS filtered FROM events \
     WHERE id >= ?1 AND id < ?2 AND type <> '' GROUP BY source, hour";
/// Their first attempts that delivered, per source, destination and hour.
pub const COUNT_DESTINATIONS: &str = "SELECT e.source AS source, r.value AS destination, \
     (e.received_at / 3600000) * 3600000 AS hour, COUNT(*) AS n \
     FROM events e, json_each(e.routes) r WHERE e.id >= ?1 AND e.id < ?2 \
     AND (e.first_ok >> r.key) & 1 = 1 GROUP BY e.source, r.value, hour";
/// Their last first attempt that delivered, per source and destination.
pub const LATEST_OF_RANGE: &str = "SELECT e.source AS source, r.value AS destination, \
     MAX(e.settled_at) AS at, json_extract(e.first_status, '$.\"' || r.value || '\"') AS status \
     FROM events e, json_each(e.routes) r WHERE e.id >= ?1 AND e.id < ?2 \
     AND (e.first_ok >> r.key) & 1 = 1 GROUP BY e.source, r.value";
/// Adds counts to the hourly tallies (rows from one JSON parameter).
pub const ADD_TALLIES: &str = "INSERT INTO tallies (hour, source, destination, kind, count) \
     SELECT value ->> '$[0]', value ->> '$[1]', value ->> '$[2]', value ->> '$[3]', \
     value ->> '$[4]' FROM json_each(?1) WHERE true \
     ON CONFLICT (hour, source, destination, kind) DO UPDATE SET count = count + excluded.count";
/// Deliveries whose next attempt is overdue (its job lost, or its claim lapsed).
pub const DUE_RETRIES: &str = "SELECT event_id AS id, destination, attempts FROM deliveries \
     WHERE next_at < ?1 ORDER BY next_at LIMIT ?2";
/// Moves an overdue delivery's time on while its new job runs.
pub const BUMP_DUE: &str = "UPDATE deliveries SET next_at = ?4 WHERE event_id = ?1 \
     AND destination = ?2 AND attempts = ?3";
/// The oldest events after the retention cursor, never the newest row.
pub const EXPIRED: &str = "SELECT id, received_at AS receivedAt, owed, \
     envelope_ref AS envelopeRef FROM events WHERE id > ?1 AND id < ?2 ORDER BY id LIMIT ?3";
/// Of some events, those a delivery keeps (not delivered: dead ones stay until replayed).
pub const KEPT: &str = "SELECT DISTINCT event_id AS id FROM deliveries \
     WHERE event_id IN (SELECT value FROM json_each(?1)) AND status <> ?2";
pub const DELETE_ATTEMPTS: &str =
    "DELETE FROM attempts WHERE event_id IN (SELECT value FROM json_each(?1))";
pub const DELETE_DELIVERIES: &str =
    "DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?1))";
pub const DELETE_EVENTS: &str = "DELETE FROM events WHERE id IN \
     (SELECT value FROM json_each(?1)) AND id < (SELECT MAX(id) FROM events)";
/// Events retention passed over (dead then) that a replay has since delivered.
pub const REDELIVERED: &str = "SELECT DISTINCT event_id AS id FROM deliveries \
     WHERE status = ?1 AND updated_at < ?2 AND event_id <= ?3 LIMIT ?4";
pub const OLD_TALLIES: &str = "DELETE FROM tallies WHERE hour < ?1";

/// One row of the hourly tallies: hour, source, destination, kind, count.
pub type TallyRow = (u64, String, String, String, u64);

struct Value {
    value: i64,
}

from_row!(Value {
    value: int("value")
});

/// A delivery whose next attempt is overdue.
#[derive(Debug)]
pub struct Due {
    pub id: i64,
    pub destination: String,
    pub attempts: u32,
}

from_row!(Due {
    id: int("id"),
    destination: text("destination"),
    attempts: uint("attempts"),
});

/// An event retention looks at.
#[derive(Debug)]
pub struct Aged {
    pub id: i64,
    pub received_at: u64,
    pub owed: u64,
    pub envelope_ref: Option<String>,
}

from_row!(Aged {
    id: int("id"),
    received_at: uint("receivedAt"),
    owed: uint("owed"),
    envelope_ref: opt_text("envelopeRef"),
});

/// Counts of events between two cursors.
#[derive(Debug)]
pub struct SourceCount {
    pub source: String,
    pub hour: u64,
    pub accepted: u64,
    pub filtered: u64,
}

from_row!(SourceCount {
    source: text("source"),
    hour: uint("hour"),
    accepted: uint("accepted"),
    filtered: uint("filtered"),
});

impl SourceCount {
    /// Whether its hour reaches `since`.
    pub fn received_at_or_after(&self, since: u64) -> bool {
        self.hour + 3_600_000 > since
    }
}

#[derive(Debug)]
pub struct DestinationCount {
    pub source: String,
    pub destination: String,
    pub hour: u64,
    pub n: u64,
}

from_row!(DestinationCount {
    source: text("source"),
    destination: text("destination"),
    hour: uint("hour"),
    n: uint("n"),
});

#[derive(Debug)]
pub struct LatestOk {
    pub source: String,
    pub destination: String,
    pub at: Option<u64>,
    pub status: Option<u64>,
}

from_row!(LatestOk {
    source: text("source"),
    destination: text("destination"),
    at: opt_uint("at"),
    status: opt_uint("status"),
});

fn ids(rows: Vec<Id>) -> Vec<i64> {
    rows.into_iter().map(|r| r.id).collect()
}

impl Log {
    pub async fn cursor(&self, name: &str) -> Result<Option<i64>> {
        let statement = self.db.prepare(CURSOR).bind(&[text(name)])?;
        Ok(row::first::<Value>(&statement).await?.map(|v| v.value))
    }

    pub async fn set_cursor(&self, name: &str, value: i64) -> Result<()> {
        self.db
            .prepare(SET_CURSOR)
            .bind(&[text(name), int(value)])?
            .run()
            .await?;
        Ok(())
    }

    /// Claims up to `limit` events from `from` on whose first attempts are owed and unclaimed
    /// at `now`, until `lease_until`. Returns their ids.
    pub async fn claim_owed(
        &self,
        from: i64,
        now: u64,
        lease_until: u64,
        limit: u32,
    ) -> Result<Vec<i64>> {
        let statement =
            self.db
                .prepare(OWED_DUE)
                .bind(&[int(from), num(now), num(u64::from(limit))])?;
        let due = ids(row::all(&statement).await?);
        if due.is_empty() {
            return Ok(due);
        }
        let statement =
            self.db
                .prepare(CLAIM_OWED)
                .bind(&[ids_json(&due), num(lease_until), num(now)])?;
        Ok(ids(row::all(&statement).await?))
    }

    /// Where the `owed` cursor may move from `from`.
    pub async fn lowest_owed(&self, from: i64) -> Result<i64> {
        struct W {
            w: i64,
        }
        from_row!(W { w: int("w") });
        let statement = self.db.prepare(LOWEST_OWED).bind(&[int(from)])?;
        Ok(row::first::<W>(&statement).await?.map_or(from, |r| r.w))
    }

    /// The counts of the events in `[from, to)`.
    pub async fn count_range(
        &self,
        from: i64,
        to: i64,
    ) -> Result<(Vec<SourceCount>, Vec<DestinationCount>, Vec<LatestOk>)> {
        let mut r = row::batch(
            &self.db,
            vec![
                self.db.prepare(COUNT_SOURCES).bind(&[int(from), int(to)])?,
                self.db
                    .prepare(COUNT_DESTINATIONS)
                    .bind(&[int(from), int(to)])?,
                self.db
                    .prepare(LATEST_OF_RANGE)
                    .bind(&[int(from), int(to)])?,
            ],
        )
        .await?;
        Ok((r.next()?, r.next()?, r.next()?))
    }

    /// Adds `(hour, source, destination, kind, count)` rows to the tallies.
    pub fn add_tallies(&self, rows: &[TallyRow]) -> Result<Option<worker::D1PreparedStatement>> {
        if rows.is_empty() {
            return Ok(None);
        }
        let json = serde_json::to_string(rows).unwrap_or_else(|_| "[]".to_owned());
        Ok(Some(self.db.prepare(ADD_TALLIES).bind(&[text(&json)])?))
    }

    /// Up to `limit` deliveries whose next attempt was due before `before`.
    pub async fn due(&self, before: u64, limit: u32) -> Result<Vec<Due>> {
        let statement = self
            .db
            .prepare(DUE_RETRIES)
            .bind(&[num(before), num(u64::from(limit))])?;
        row::all(&statement).await
    }

    pub fn bump_due(&self, d: &Due, next_at: u64) -> Result<worker::D1PreparedStatement> {
        self.db.prepare(BUMP_DUE).bind(&[
            int(d.id),
            text(&d.destination),
            num(u64::from(d.attempts)),
            num(next_at),
        ])
    }

    /// The oldest events after `after` (never the newest), at most `limit`.
    pub async fn aged(&self, after: i64, newest: i64, limit: u32) -> Result<Vec<Aged>> {
        let statement =
            self.db
                .prepare(EXPIRED)
                .bind(&[int(after), int(newest), num(u64::from(limit))])?;
        row::all(&statement).await
    }

    /// Of `ids`, those a delivery not yet delivered keeps.
    pub async fn kept(&self, ids: &[i64]) -> Result<Vec<i64>> {
        let statement = self
            .db
            .prepare(KEPT)
            .bind(&[ids_json(ids), status(DeliveryStatus::Delivered)])?;
        Ok(self::ids(row::all(&statement).await?))
    }

    /// Deletes events with their deliveries and attempts, in one transaction.
    pub async fn delete(&self, ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let list = ids_json(ids);
        let statements = vec![
            self.db
                .prepare(DELETE_ATTEMPTS)
                .bind(std::slice::from_ref(&list))?,
            self.db
                .prepare(DELETE_DELIVERIES)
                .bind(std::slice::from_ref(&list))?,
            self.db.prepare(DELETE_EVENTS).bind(&[list])?,
        ];
        self.batch(statements).await
    }

    /// Events up to `upto` that a replay delivered before `before`, at most `limit`.
    pub async fn redelivered(&self, before: u64, upto: i64, limit: u32) -> Result<Vec<i64>> {
        let statement = self.db.prepare(REDELIVERED).bind(&[
            status(DeliveryStatus::Delivered),
            num(before),
            int(upto),
            num(u64::from(limit)),
        ])?;
        Ok(ids(row::all(&statement).await?))
    }

    pub async fn drop_tallies(&self, before: u64) -> Result<()> {
        self.db
            .prepare(OLD_TALLIES)
            .bind(&[num(before)])?
            .run()
            .await?;
        Ok(())
    }
}
