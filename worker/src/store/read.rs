//! What the admin API and the console read, and the admin API's own writes (replay, purge).
//!
//! No query reads more than it answers, whatever the log's size: a listing reads a window of at
//! most [`WINDOW`] ids below its cursor (a filter that matches nothing in it answers an empty
//! page with the cursor to look further), a dedup key is found through its unique index, a
//! delivery status through its index, and the console's counts come from the hourly `tallies`.

use serde::Serialize;
use worker::{D1PreparedStatement, Result};

use super::{EventRow, Id, Log, int, num, opt_num, opt_text, status, text};
use crate::row::{self, FromRow, Row, from_row};
use crate::state::{DeliveryStatus, EventStatus};

/// Ids one page of a listing looks at, at most.
pub const WINDOW: i64 = 2000;
/// The console counts at most this many of the newest events the sweep has not counted (more
/// means the cron trigger is not running: `/health` says so).
pub const UNCOUNTED_MAX: i64 = 10_000;

/// Events in a window of ids, newest first, by source, type, time and destination; `?7`..`?9`
/// pick the events that may be filtered, delivered or queued (the derived status is checked on
/// the rows read).
pub const LIST_WINDOW: &str = "SELECT id, source, dedup_key AS dedupKey, type, \
     received_at AS receivedAt, NULL AS envelope, NULL AS envelopeRef, routes, owed, \
     first_ok AS firstOk, first_status AS firstStatus, settled_at AS settledAt, \
     lease_until AS leaseUntil FROM events e WHERE id < ?1 AND id >= ?2 AND type <> '' \
     AND (?3 IS NULL OR source = ?3) AND (?4 IS NULL OR type = ?4) \
     AND (?5 IS NULL OR received_at >= ?5) \
     AND (?6 IS NULL OR EXISTS (SELECT 1 FROM json_each(e.routes) WHERE value = ?6)) \
     AND (?7 = 0 OR routes = '[]') \
     AND (?8 = 0 OR (owed = 0 AND routes <> '[]' AND NOT EXISTS (SELECT 1 FROM deliveries d \
          WHERE d.event_id = e.id AND d.status <> ?10))) \
     AND (?9 = 0 OR owed <> 0 OR EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id \
          AND d.status = ?11)) \
     ORDER BY id DESC LIMIT ?12";

/// Events with a delivery in a status (dead, retrying), newest first, through its index.
pub const LIST_BY_STATUS: &str = "SELECT DISTINCT event_id AS id FROM deliveries \
     WHERE status = ?1 AND event_id < ?2 ORDER BY event_id DESC LIMIT ?3";

/// Events with a dedup key (of a source), through the unique index.
pub const LIST_BY_KEY: &str = "SELECT id, source, dedup_key AS dedupKey, type, \
     received_at AS receivedAt, NULL AS envelope, NULL AS envelopeRef, routes, owed, \
     first_ok AS firstOk, first_status AS firstStatus, settled_at AS settledAt, \
     lease_until AS leaseUntil FROM events WHERE dedup_key = ?1 \
     AND (?2 IS NULL OR source = ?2) AND id < ?3 ORDER BY id DESC LIMIT ?4";

/// The newest and oldest ids.
pub const BOUNDS: &str = "SELECT (SELECT MAX(id) FROM events) AS hi, \
     (SELECT MIN(id) FROM events) AS lo";

/// The delivery rows of some events.
pub const DELIVERIES_OF: &str = "SELECT event_id AS eventId, destination, status, attempts, \
     last_attempt_at AS lastAttemptAt, \
     last_status AS lastStatus, last_error AS lastError, delivered_at AS deliveredAt \
     FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?1))";

/// An event's attempts.
pub const HISTORY: &str = "SELECT destination, attempt, at, status, error FROM attempts \
     WHERE event_id = ?1 ORDER BY at, attempt";

/// The console's counts: the tallies of the last hours.
pub const SUMMARY_TALLIES: &str = "SELECT source, destination, kind, SUM(count) AS n \
     FROM tallies WHERE hour >= ?1 GROUP BY source, destination, kind";

/// Deliveries in a status updated since a time, per source and destination: at most
/// [`STATE_COUNT_MAX`] of them (`?3`), so that an outage's backlog does not make every poll of
/// the console read it whole.
pub const SUMMARY_STATES: &str = "SELECT source, destination, COUNT(*) AS n FROM \
     (SELECT e.source AS source, d.destination AS destination FROM deliveries d \
     JOIN events e ON e.id = d.event_id WHERE d.status = ?1 AND d.updated_at >= ?2 LIMIT ?3) \
     GROUP BY source, destination";

/// The console counts at most this many deliveries in each state (retrying, queued, dead in
/// the last 24 h) per log; past it, the count is a lower bound (`atLeast` in the answer).
pub const STATE_COUNT_MAX: u64 = 1_000;

/// First attempts still owed, per source.
pub const SUMMARY_OWED: &str = "SELECT source, COUNT(*) AS n FROM events \
     WHERE id >= ?1 AND owed <> 0 GROUP BY source";

/// Each destination's last attempt per source (a table of sources × destinations).
pub const LATEST: &str = "SELECT source, destination, at, ok, status, error FROM latest";

/// How many of a source's deliveries went dead since a time.
pub const DEAD_SINCE: &str = "SELECT COUNT(*) AS n FROM deliveries d JOIN events e \
     ON e.id = d.event_id WHERE d.status = ?1 AND d.updated_at >= ?2 AND e.source = ?3";

/// Owes a delivery again (a replay) unless it is already owed (queued or retrying): a second
/// press, or a replay of an event in flight, adds no copy. Returns the attempts made.
pub const REPLAY: &str = "INSERT INTO deliveries (event_id, destination, status, attempts, \
     next_at, horizon_from, horizon_attempts, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?4, ?5) \
     ON CONFLICT (event_id, destination) DO UPDATE SET status = excluded.status, \
     next_at = excluded.next_at, horizon_from = excluded.horizon_from, \
     horizon_attempts = deliveries.attempts, last_error = NULL, \
     updated_at = excluded.updated_at WHERE deliveries.status NOT IN (?6, ?7) \
     RETURNING attempts";

pub const PURGE_ATTEMPTS: &str = "DELETE FROM attempts WHERE event_id = ?1";
pub const PURGE_DELIVERIES: &str = "DELETE FROM deliveries WHERE event_id = ?1";
/// The newest row is never deleted (ids would be reused): it is emptied instead.
pub const PURGE_EVENT: &str =
    "DELETE FROM events WHERE id = ?1 AND id < (SELECT MAX(id) FROM events)";
pub const PURGE_NEWEST: &str = "UPDATE events SET dedup_key = 'purged:' || id, type = '', \
     envelope = NULL, envelope_ref = NULL, routes = '[]', owed = 0, first_status = NULL \
     WHERE id = ?1 AND id = (SELECT MAX(id) FROM events)";

/// One delivery row.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryRow {
    #[serde(skip_serializing)]
    pub event_id: i64,
    pub destination: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub last_attempt_at: Option<u64>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<u64>,
}

from_row!(DeliveryRow {
    event_id: int("eventId"),
    destination: text("destination"),
    status: status("status"),
    attempts: uint("attempts"),
    last_attempt_at: opt_uint("lastAttemptAt"),
    last_status: opt_uint("lastStatus"),
    last_error: opt_text("lastError"),
    delivered_at: opt_uint("deliveredAt"),
});

/// One attempt of an event's history.
#[derive(Serialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRow {
    pub destination: String,
    pub attempt: u32,
    pub at: u64,
    pub status: Option<u16>,
    pub error: Option<String>,
}

from_row!(AttemptRow {
    destination: text("destination"),
    attempt: uint("attempt"),
    at: uint("at"),
    status: opt_uint("status"),
    error: opt_text("error"),
});

/// What a listing asks for; `None` is "any".
#[derive(Default)]
pub struct Filter<'a> {
    pub source: Option<&'a str>,
    pub status: Option<EventStatus>,
    pub event_type: Option<&'a str>,
    pub dedup_key: Option<&'a str>,
    pub destination: Option<&'a str>,
    /// Received at or after, ms.
    pub since: Option<u64>,
    /// Ids below this one (the cursor of the previous page).
    pub before: Option<i64>,
}

/// An event with its deliveries, each destination's state derived.
pub struct Listed {
    pub row: EventRow,
    pub deliveries: Vec<DeliveryRow>,
}

impl Listed {
    /// Each routed destination's delivery: its row, or what the event's row says (owed: queued;
    /// taken at the first attempt: delivered).
    pub fn derive(row: EventRow, rows: Vec<DeliveryRow>) -> Self {
        let statuses = first_statuses(&row);
        let mut deliveries = Vec::new();
        for (i, name) in row.routes().into_iter().enumerate() {
            if let Some(d) = rows.iter().find(|d| d.destination == name) {
                deliveries.push(d.clone());
                continue;
            }
            let ok = row.first_ok & (1u64 << i) != 0;
            deliveries.push(DeliveryRow {
                event_id: row.id,
                status: if ok {
                    DeliveryStatus::Delivered
                } else {
                    DeliveryStatus::Queued
                },
                attempts: u32::from(ok),
                last_attempt_at: row.settled_at.filter(|_| ok),
                last_status: statuses.get(&name).copied().filter(|_| ok),
                last_error: None,
                delivered_at: row.settled_at.filter(|_| ok),
                destination: name,
            });
        }
        Self { row, deliveries }
    }

    /// The first attempts that delivered, as the event's row records them.
    pub fn first_attempts(&self) -> Vec<AttemptRow> {
        let statuses = first_statuses(&self.row);
        self.row
            .routes()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.row.first_ok & (1u64 << i) != 0)
            .map(|(_, name)| AttemptRow {
                attempt: 1,
                at: self.row.settled_at.unwrap_or(self.row.received_at),
                status: statuses.get(&name).copied(),
                error: None,
                destination: name,
            })
            .collect()
    }

    pub fn status(&self) -> EventStatus {
        EventStatus::of(self.deliveries.iter().map(|d| d.status))
    }
}

/// `first_status` read: each destination's HTTP status at its first attempt.
fn first_statuses(row: &EventRow) -> std::collections::BTreeMap<String, u16> {
    row.first_status
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default()
}

struct Bounds {
    hi: Option<i64>,
    lo: Option<i64>,
}

from_row!(Bounds {
    hi: opt_int("hi"),
    lo: opt_int("lo"),
});

/// Counts by source and destination.
#[derive(Debug)]
pub struct Count {
    pub source: String,
    /// Empty when the query counts by source only.
    pub destination: String,
    /// Empty when the query counts one kind.
    pub kind: String,
    pub n: u64,
}

impl FromRow for Count {
    fn from_row(r: &Row) -> Result<Self> {
        Ok(Self {
            source: r.text("source")?,
            destination: r.opt_text("destination")?.unwrap_or_default(),
            kind: r.opt_text("kind")?.unwrap_or_default(),
            n: r.uint("n")?,
        })
    }
}

/// A destination's last attempt for a source.
#[derive(Serialize, Clone, Debug)]
pub struct Latest {
    pub source: String,
    pub destination: String,
    pub at: u64,
    pub ok: u8,
    pub status: Option<u16>,
    pub error: Option<String>,
}

from_row!(Latest {
    source: text("source"),
    destination: text("destination"),
    at: uint("at"),
    ok: uint("ok"),
    status: opt_uint("status"),
    error: opt_text("error"),
});

impl Log {
    /// The newest id and the oldest.
    pub async fn bounds(&self) -> Result<(i64, i64)> {
        let b = row::first(&self.db.prepare(BOUNDS))
            .await?
            .unwrap_or(Bounds { hi: None, lo: None });
        Ok((b.hi.unwrap_or(0), b.lo.unwrap_or(0)))
    }

    /// A page of events newest first, at most `limit`, and the cursor to the next page (`None`:
    /// nothing older).
    pub async fn list(&self, f: &Filter<'_>, limit: u32) -> Result<(Vec<Listed>, Option<i64>)> {
        let (hi, lo) = self.bounds().await?;
        let before = f.before.unwrap_or(hi + 1).min(hi + 1);
        let (rows, next) = if let Some(key) = f.dedup_key {
            let rows: Vec<EventRow> = row::all(&self.db.prepare(LIST_BY_KEY).bind(&[
                text(key),
                opt_text(f.source),
                int(before),
                num(u64::from(limit)),
            ])?)
            .await?;
            (rows, None)
        } else if let Some(s @ (EventStatus::Dead | EventStatus::Retrying)) = f.status {
            self.list_by_status(s, f, before, limit).await?
        } else {
            self.list_window(f, before, lo, limit).await?
        };
        let mut listed = self.with_deliveries(rows).await?;
        listed.retain(|l| f.status.is_none_or(|s| l.status() == s));
        Ok((listed, next))
    }

    async fn list_window(
        &self,
        f: &Filter<'_>,
        before: i64,
        lo: i64,
        limit: u32,
    ) -> Result<(Vec<EventRow>, Option<i64>)> {
        let low = (before - WINDOW).max(lo);
        let flag = |s: EventStatus| num(u64::from(f.status == Some(s)));
        let statement = self.db.prepare(LIST_WINDOW).bind(&[
            int(before),
            int(low),
            opt_text(f.source),
            opt_text(f.event_type),
            opt_num(f.since),
            opt_text(f.destination),
            flag(EventStatus::Filtered),
            flag(EventStatus::Delivered),
            flag(EventStatus::Queued),
            status(DeliveryStatus::Delivered),
            status(DeliveryStatus::Queued),
            num(u64::from(limit)),
        ])?;
        let rows: Vec<EventRow> = row::all(&statement).await?;
        let full = rows.len() >= limit as usize;
        // Received in order: past `since`, nothing older can match.
        let past_since = f
            .since
            .is_some_and(|s| rows.last().is_some_and(|r| r.received_at < s));
        let next = if full {
            rows.last().map(|r| r.id)
        } else if low > lo && !past_since {
            Some(low)
        } else {
            None
        };
        Ok((rows, next))
    }

    async fn list_by_status(
        &self,
        s: EventStatus,
        f: &Filter<'_>,
        before: i64,
        limit: u32,
    ) -> Result<(Vec<EventRow>, Option<i64>)> {
        let d = if s == EventStatus::Dead {
            DeliveryStatus::Dead
        } else {
            DeliveryStatus::Retrying
        };
        let statement = self.db.prepare(LIST_BY_STATUS).bind(&[
            status(d),
            int(before),
            num(u64::from(limit)),
        ])?;
        let ids: Vec<i64> = row::all::<Id>(&statement)
            .await?
            .into_iter()
            .map(|r| r.id)
            .collect();
        let next = (ids.len() >= limit as usize)
            .then(|| ids.last().copied())
            .flatten();
        let mut rows = self.events(&ids).await?;
        rows.retain(|r| {
            !r.event_type.is_empty()
                && f.source.is_none_or(|x| r.source == x)
                && f.event_type.is_none_or(|x| r.event_type == x)
                && f.since.is_none_or(|x| r.received_at >= x)
                && f.destination
                    .is_none_or(|x| r.routes().iter().any(|n| n == x))
        });
        rows.sort_by_key(|r| std::cmp::Reverse(r.id));
        for r in &mut rows {
            r.envelope = None;
        }
        Ok((rows, next))
    }

    /// The rows with their deliveries.
    pub async fn with_deliveries(&self, rows: Vec<EventRow>) -> Result<Vec<Listed>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let all = self.deliveries_of(&ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let mine = all.iter().filter(|d| d.event_id == r.id).cloned().collect();
                Listed::derive(r, mine)
            })
            .collect())
    }

    pub async fn deliveries_of(&self, ids: &[i64]) -> Result<Vec<DeliveryRow>> {
        row::all(
            &self
                .db
                .prepare(DELIVERIES_OF)
                .bind(&[super::ids_json(ids)])?,
        )
        .await
    }

    /// One event, with its deliveries.
    pub async fn get(&self, id: i64) -> Result<Option<Listed>> {
        let Some(row) = self.event(id).await? else {
            return Ok(None);
        };
        if row.event_type.is_empty() {
            return Ok(None);
        }
        Ok(self.with_deliveries(vec![row]).await?.pop())
    }

    /// An event's attempts: those recorded, and the first attempts that delivered (recorded on
    /// the event's row).
    pub async fn history(&self, l: &Listed) -> Result<Vec<AttemptRow>> {
        let mut out: Vec<AttemptRow> =
            row::all(&self.db.prepare(HISTORY).bind(&[int(l.row.id)])?).await?;
        // A delivery taken at its first attempt has no attempt row: the event's row says when.
        for a in l.first_attempts() {
            if !out
                .iter()
                .any(|x| x.destination == a.destination && x.attempt == 1)
            {
                out.push(a);
            }
        }
        out.sort_by_key(|a| (a.at, a.attempt));
        Ok(out)
    }

    /// The console's counts since `since`: the tallies, the events the sweep has not counted
    /// yet (at most [`UNCOUNTED_MAX`] of the newest), deliveries now retrying or queued, dead
    /// since `since`, first attempts owed, and each destination's latest.
    pub async fn summary(&self, since: u64) -> Result<Summary> {
        let hour = since - since % 3_600_000;
        let counted = self.cursor("owed").await?.unwrap_or(0);
        let (hi, _) = self.bounds().await?;
        let from = counted.max(hi + 1 - UNCOUNTED_MAX);
        let (sources, destinations, latest) = self.count_range(from, hi + 1).await?;
        let mut results = row::batch(
            &self.db,
            vec![
                self.db.prepare(SUMMARY_TALLIES).bind(&[num(hour)])?,
                self.states(DeliveryStatus::Retrying, 0)?,
                self.states(DeliveryStatus::Queued, 0)?,
                self.states(DeliveryStatus::Dead, since)?,
                self.db.prepare(SUMMARY_OWED).bind(&[int(from)])?,
                self.db.prepare(LATEST),
            ],
        )
        .await?;
        let mut summary = Summary {
            tallies: results.next()?,
            retrying: results.next()?,
            queued: results.next()?,
            dead: results.next()?,
            owed: results.next()?,
            latest: results.next()?,
        };
        summary.add_uncounted(sources, destinations, latest, since);
        Ok(summary)
    }

    /// Deliveries in `s` updated since `since`, at most [`STATE_COUNT_MAX`].
    fn states(&self, s: DeliveryStatus, since: u64) -> Result<D1PreparedStatement> {
        self.db
            .prepare(SUMMARY_STATES)
            .bind(&[status(s), num(since), num(STATE_COUNT_MAX)])
    }

    /// How many of `source`'s deliveries went dead since `since`.
    pub async fn dead_since(&self, source: &str, since: u64) -> Result<u64> {
        struct N {
            n: u64,
        }
        from_row!(N { n: uint("n") });
        let statement = self.db.prepare(DEAD_SINCE).bind(&[
            status(DeliveryStatus::Dead),
            num(since),
            text(source),
        ])?;
        Ok(row::first::<N>(&statement).await?.map_or(0, |r| r.n))
    }

    /// Owes `destination`'s delivery of event `id` again, from now; `Some(attempts made)` when
    /// it was owed anew, `None` when it already was (nothing to add).
    pub async fn replay(
        &self,
        id: i64,
        destination: &str,
        attempts_made: u32,
        now: u64,
    ) -> Result<Option<u32>> {
        struct A {
            attempts: u32,
        }
        from_row!(A {
            attempts: uint("attempts")
        });
        let statement = self.db.prepare(REPLAY).bind(&[
            int(id),
            text(destination),
            status(DeliveryStatus::Queued),
            num(u64::from(attempts_made)),
            num(now),
            status(DeliveryStatus::Queued),
            status(DeliveryStatus::Retrying),
        ])?;
        Ok(row::first::<A>(&statement).await?.map(|a| a.attempts))
    }

    /// Removes an event and its deliveries and attempts (the newest row is emptied instead).
    pub async fn purge(&self, id: i64) -> Result<()> {
        let statements = vec![
            self.db.prepare(PURGE_ATTEMPTS).bind(&[int(id)])?,
            self.db.prepare(PURGE_DELIVERIES).bind(&[int(id)])?,
            self.db.prepare(PURGE_NEWEST).bind(&[int(id)])?,
            self.db.prepare(PURGE_EVENT).bind(&[int(id)])?,
        ];
        self.batch(statements).await
    }
}

/// The console's counts, as read.
pub struct Summary {
    pub tallies: Vec<Count>,
    pub retrying: Vec<Count>,
    pub queued: Vec<Count>,
    pub dead: Vec<Count>,
    /// Per source (`destination` empty).
    pub owed: Vec<Count>,
    pub latest: Vec<Latest>,
}

impl Summary {
    /// The states whose count stopped at [`STATE_COUNT_MAX`]: there are at least as many.
    pub fn capped(&self) -> Vec<&'static str> {
        [
            ("retrying", &self.retrying),
            ("queued", &self.queued),
            ("dead", &self.dead),
        ]
        .into_iter()
        .filter(|(_, list)| list.iter().map(|c| c.n).sum::<u64>() >= STATE_COUNT_MAX)
        .map(|(name, _)| name)
        .collect()
    }

    /// The events the sweep has not counted yet, as the tallies would count them.
    fn add_uncounted(
        &mut self,
        sources: Vec<super::sweep::SourceCount>,
        destinations: Vec<super::sweep::DestinationCount>,
        latest: Vec<super::sweep::LatestOk>,
        since: u64,
    ) {
        let count = |source: String, destination: String, kind: &str, n: u64| Count {
            source,
            destination,
            kind: kind.into(),
            n,
        };
        for s in sources
            .into_iter()
            .filter(|s| s.received_at_or_after(since))
        {
            self.tallies.push(count(
                s.source.clone(),
                String::new(),
                "accepted",
                s.accepted,
            ));
            self.tallies
                .push(count(s.source, String::new(), "filtered", s.filtered));
        }
        for d in destinations {
            self.tallies
                .push(count(d.source, d.destination, "delivered", d.n));
        }
        for l in latest {
            if let Some(at) = l.at {
                self.latest.push(Latest {
                    source: l.source,
                    destination: l.destination,
                    at,
                    ok: 1,
                    status: l.status.and_then(|s| u16::try_from(s).ok()),
                    error: None,
                });
            }
        }
    }
}
