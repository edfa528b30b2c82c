//! The gate of one destination (see `gate`): a Durable Object with SQLite storage that keeps
//! the deliveries handed to it and sends them at the destination's pace, through its breaker,
//! its pause and its conversations' order; each attempt is made and recorded as `deliver` makes
//! and records a retry's.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use worker::{
    Delay, DurableObject, Env, Method, Request, Response, Result, SqlStorageValue, State,
    durable_object,
};

use crate::config::{self, Config, Destination};
use crate::deliver;
use crate::gate::Item;
use crate::log;
use crate::outbound::{self, Delivery};
use crate::row::{self, FromRow, from_row};
use crate::state::{DeliveryStatus, Outcome};
use crate::store::{self, Recorded};

/// The longest wait between probes.
const PROBE_MAX_MS: u64 = 600_000;
/// The gate waits in its alarm handler for a rate slot at most this long; beyond, it sets an
/// alarm.
const WAIT_IN_HANDLER_MS: u64 = 2_000;
/// Rows looked at per dispatch round.
const WINDOW: i64 = 1_000;

/// A gate's own state, one JSON row of its storage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    name: String,
    paused: bool,
    /// `closed`, `open` or `half-open`.
    breaker: String,
    failures: u32,
    /// Since when attempts were held (open or paused), ms; 0 when they are not.
    held_since: u64,
    probe_at: u64,
    probe_wait: u64,
    /// The earliest start of the next attempt (the rate, a `Retry-After`), ms.
    next_slot: u64,
}

#[derive(Clone, Debug)]
struct Pending {
    log: String,
    id: i64,
    received_at: u64,
    attempt: u32,
    horizon_from: u64,
    horizon_attempts: u32,
    key: Option<String>,
    not_before: u64,
}

from_row!(Pending {
    log: text("log"),
    id: int("id"),
    received_at: uint("receivedAt"),
    attempt: uint("attempt"),
    horizon_from: uint("horizonFrom"),
    horizon_attempts: uint("horizonAttempts"),
    key: opt_text("key"),
    not_before: uint("notBefore"),
});

#[derive(Deserialize)]
struct Call {
    name: String,
    #[serde(default)]
    body: Value,
}

/// Whether the gate lets deliveries through: the destination and how many may be in flight,
/// or when to look again (`None`: when something changes).
type Gateway = std::result::Result<(Rc<Destination>, usize), Option<u64>>;

/// What may start next.
enum Next {
    /// This delivery, at this slot (ms).
    Go(Pending, u64),
    /// Something, in this many ms.
    At(u64),
    /// Nothing until an attempt lands or a delivery arrives.
    Nothing,
}

/// What became of one attempt the gate made.
enum Done {
    /// Delivered, dead, or moved aside: gone from the gate.
    Gone { ok: bool },
    /// Retried later, counted as a failure of the destination.
    Failed,
    /// Waits `ms` (a `Retry-After`, or the event was not readable): no failure counted.
    Later,
}

/// The gate of one destination.
#[durable_object(alarm)]
pub struct Gate {
    state: State,
    env: Env,
    /// In memory: the conversations with a delivery in flight.
    busy: RefCell<BTreeSet<String>>,
    /// The deliveries in flight (id, log).
    flying: RefCell<BTreeSet<(i64, String)>>,
    /// Rows its storage read and wrote since it started (`/state` reports them).
    storage_rows: Cell<(u64, u64)>,
    /// Whether a dispatch loop runs now (one at a time).
    running: Cell<bool>,
}

impl DurableObject for Gate {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            busy: RefCell::new(BTreeSet::new()),
            flying: RefCell::new(BTreeSet::new()),
            storage_rows: Cell::new((0, 0)),
            running: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        self.schema()?;
        let call: Call = req.json().await?;
        let now = log::now_ms();
        let mut h = self.health(&call.name)?;
        let answer = match (req.method(), req.path().as_str()) {
            (Method::Post, "/enqueue") => {
                let items: Vec<Item> = serde_json::from_value(call.body)
                    .map_err(|e| worker::Error::RustError(e.to_string()))?;
                for i in &items {
                    self.run(
                        "INSERT OR IGNORE INTO waiting (received_at, id, log, attempt, \
                         horizon_from, horizon_attempts, key, not_before) VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                        vec![
                            big(i.received_at),
                            i.id.into(),
                            i.log.clone().into(),
                            i64::from(i.attempt).into(),
                            big(i.horizon_from),
                            i64::from(i.horizon_attempts).into(),
                            i.key.clone().map_or(SqlStorageValue::Null, SqlStorageValue::from),
                        ],
                    )?;
                }
                self.wake(0).await?;
                json!({ "accepted": items.len() })
            }
            (Method::Post, "/pause") => {
                if !h.paused {
                    h.paused = true;
                    if h.held_since == 0 {
                        h.held_since = now;
                    }
                    self.save(&h)?;
                }
                self.report(&h, now)?
            }
            (Method::Post, "/resume") => {
                if h.paused {
                    h.paused = false;
                    if h.breaker == "closed" {
                        self.release_held(&mut h, now)?;
                    }
                    self.save(&h)?;
                    self.wake(0).await?;
                }
                self.report(&h, now)?
            }
            (Method::Post, "/state") => self.report(&h, now)?,
            _ => return Response::error("no such route", 404),
        };
        Response::from_json(&answer)
    }

    async fn alarm(&self) -> Result<Response> {
        self.schema()?;
        if self.running.replace(true) {
            return Response::ok("running");
        }
        let result = self.dispatch().await;
        self.running.set(false);
        if let Err(e) = &result {
            log::line("gate_failed", json!({ "error": e.to_string() }));
            // Try again soon: what is pending stays pending.
            self.wake(5_000).await?;
        }
        Response::ok("done")
    }
}

/// A u64 as SQLite's integer (ms timestamps are far below 2^53).
fn big(n: u64) -> SqlStorageValue {
    SqlStorageValue::Integer(i64::try_from(n).unwrap_or(i64::MAX))
}

impl Gate {
    /// Runs a statement to its end, counting the rows it read and wrote (storage is billed by
    /// them, as D1 is).
    fn run(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<()> {
        let cursor = self.state.storage().sql().exec(query, bindings)?;
        for _ in cursor.raw() {}
        self.count(&cursor);
        Ok(())
    }

    /// A query's rows.
    fn rows<T: FromRow>(&self, query: &str, bindings: Vec<SqlStorageValue>) -> Result<Vec<T>> {
        let mut cursor = self.state.storage().sql().exec(query, bindings)?;
        let rows = row::cursor_rows(&mut cursor)?;
        self.count(&cursor);
        Ok(rows)
    }

    fn count(&self, cursor: &worker::SqlCursor) {
        let (r, w) = self.storage_rows.get();
        self.storage_rows.set((
            r + cursor.rows_read() as u64,
            w + cursor.rows_written() as u64,
        ));
    }

    fn schema(&self) -> Result<()> {
        self.run(
            // One b-tree, in the order deliveries go: a delivery handed over and sent writes two
            // rows (its insert and its delete).
            "CREATE TABLE IF NOT EXISTS waiting (received_at INTEGER NOT NULL, id INTEGER NOT NULL, \
             log TEXT NOT NULL, attempt INTEGER NOT NULL, horizon_from INTEGER NOT NULL, \
             horizon_attempts INTEGER NOT NULL, key TEXT, not_before INTEGER NOT NULL, \
             PRIMARY KEY (received_at, id, log)) WITHOUT ROWID",
            vec![],
        )?;
        self.run(
            "CREATE TABLE IF NOT EXISTS health (k INTEGER PRIMARY KEY, v TEXT NOT NULL)",
            vec![],
        )?;
        Ok(())
    }

    fn health(&self, name: &str) -> Result<Health> {
        struct V {
            v: String,
        }
        from_row!(V { v: text("v") });
        let rows: Vec<V> = self.rows("SELECT v FROM health WHERE k = 1", vec![])?;
        let mut h: Health = rows
            .first()
            .and_then(|r| serde_json::from_str(&r.v).ok())
            .unwrap_or_default();
        if h.breaker.is_empty() {
            h.breaker = "closed".to_owned();
        }
        if h.name.is_empty() && !name.is_empty() {
            h.name = name.to_owned();
            self.save(&h)?;
        }
        Ok(h)
    }

    fn save(&self, h: &Health) -> Result<()> {
        let v = serde_json::to_string(h).map_err(|e| worker::Error::RustError(e.to_string()))?;
        self.run(
            "INSERT INTO health (k, v) VALUES (1, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            vec![v.into()],
        )?;
        Ok(())
    }

    /// Counts for the admin API.
    fn report(&self, h: &Health, now: u64) -> Result<Value> {
        struct Count {
            n: i64,
            due: i64,
        }
        from_row!(Count {
            n: int("n"),
            due: int("due"),
        });
        let c: Vec<Count> = self.rows(
            "SELECT COUNT(*) AS n, COALESCE(SUM(not_before <= ?), 0) AS due FROM waiting",
            vec![big(now)],
        )?;
        let (n, due) = c.first().map_or((0, 0), |c| (c.n, c.due));
        let held = h.paused || h.breaker != "closed";
        let rate = config::load(&self.env)
            .ok()
            .and_then(|cfg| cfg.destination(&h.name).ok())
            .and_then(|d| d.protect.rate)
            .map(|r| r.shown());
        Ok(json!({
            "state": if h.paused { "paused" } else { h.breaker.as_str() },
            "inFlight": self.flying.borrow().len(),
            "waiting": n,
            "parked": if held { n } else { 0 },
            "due": due,
            "failures": h.failures,
            "probeAt": (h.breaker != "closed").then_some(h.probe_at),
            "rate": rate,
            "storageRows": { "read": self.storage_rows.get().0, "written": self.storage_rows.get().1 },
        }))
    }

    /// An alarm `after_ms` from now, unless one is due sooner.
    async fn wake(&self, after_ms: u64) -> Result<()> {
        let storage = self.state.storage();
        let now = log::now_ms();
        let at = now + after_ms;
        if let Some(current) = storage.get_alarm().await?
            && u64::try_from(current).unwrap_or(0) <= at
            && u64::try_from(current).unwrap_or(0) >= now
        {
            return Ok(());
        }
        storage
            .set_alarm(i64::try_from(after_ms).unwrap_or(i64::MAX))
            .await
    }

    /// Time held (open or paused) is given back to every waiting delivery's horizon.
    fn release_held(&self, h: &mut Health, now: u64) -> Result<()> {
        if h.held_since != 0 {
            let held = now.saturating_sub(h.held_since);
            self.run(
                "UPDATE waiting SET horizon_from = horizon_from + ?",
                vec![big(held)],
            )?;
            h.held_since = 0;
        }
        Ok(())
    }

    /// Sends what is due, at the destination's pace, until nothing more is; then sets the alarm
    /// for what comes next.
    async fn dispatch(&self) -> Result<()> {
        let cfg: Rc<Config> = config::load(&self.env).map_err(|e| worker::Error::RustError(e.0))?;
        let mut running = FuturesUnordered::new();
        let next_wake = loop {
            let (dest, limit) = match self.open_for(&cfg)? {
                Ok(open) => open,
                Err(wake) => break wake,
            };
            let now = log::now_ms();
            if running.len() < limit {
                match self.claim_next(&dest, now)? {
                    Next::Go(p, slot) => {
                        running.push(self.attempt(Rc::clone(&cfg), Rc::clone(&dest), p, slot));
                        continue;
                    }
                    Next::At(ms) if running.is_empty() => break Some(ms),
                    Next::At(_) | Next::Nothing => {}
                }
            }
            // Nothing more can start now: wait for one in flight, or stop.
            match running.next().await {
                Some((key, done)) => {
                    self.landed(key, &done.0);
                    self.settle(&cfg, &dest, done)?;
                }
                None => {
                    break self
                        .next_not_before()?
                        .map(|at| at.saturating_sub(now).max(1));
                }
            }
        };
        // Whatever is still in flight finishes before the handler returns.
        while let Some((key, done)) = running.next().await {
            self.landed(key, &done.0);
            let h = self.health("")?;
            if let Ok(dest) = cfg.destination(&h.name) {
                self.settle(&cfg, &dest, done)?;
            }
        }
        match next_wake {
            Some(ms) => self.wake(ms).await,
            None if self.next_not_before()?.is_some() => self.wake(1).await,
            None => Ok(()),
        }
    }

    /// Whether the gate lets anything through now.
    fn open_for(&self, cfg: &Config) -> Result<Gateway> {
        let mut h = self.health("")?;
        let dest = match cfg.destination(&h.name) {
            Ok(d) => d,
            Err(_) if h.name.is_empty() => return Ok(Err(None)),
            Err(e) => {
                // No longer configured: its deliveries wait (visible) until it is again.
                log::line(
                    "gate_no_destination",
                    json!({ "destination": h.name, "problem": e.0 }),
                );
                return Ok(Err(Some(60_000)));
            }
        };
        let now = log::now_ms();
        if h.paused {
            return Ok(Err(None));
        }
        if h.breaker == "open" {
            if now < h.probe_at {
                return Ok(Err(Some(h.probe_at - now)));
            }
            h.breaker = "half-open".to_owned();
            self.save(&h)?;
        }
        let limit = if h.breaker == "half-open" {
            1
        } else {
            dest.protect.max_in_flight as usize
        };
        Ok(Ok((dest, limit)))
    }

    /// The next delivery to start, its rate slot taken and it marked in flight; or when one can.
    fn claim_next(&self, dest: &Destination, now: u64) -> Result<Next> {
        let Some(p) = self.next_due(now)? else {
            return Ok(Next::Nothing);
        };
        let mut h = self.health("")?;
        let slot = h.next_slot.max(now);
        if slot > now + WAIT_IN_HANDLER_MS {
            return Ok(Next::At(slot - now));
        }
        if let Some(r) = dest.protect.rate {
            // A fifth over the minimum spacing: no window of `per` sees more than `count`, even
            // with some jitter on the way.
            h.next_slot = slot + r.per_ms * 12 / 10 / u64::from(r.count);
            self.save(&h)?;
        }
        if let Some(k) = &p.key {
            self.busy.borrow_mut().insert(k.clone());
        }
        // Held while it runs (in memory: a gate that restarts sends it again), so that the next
        // round does not pick it again.
        self.flying.borrow_mut().insert((p.id, p.log.clone()));
        Ok(Next::Go(p, slot))
    }

    /// The oldest delivery that may go now: due, and first of its conversation, which has none
    /// in flight.
    fn next_due(&self, now: u64) -> Result<Option<Pending>> {
        let rows: Vec<Pending> = self.rows(
            "SELECT log, id, received_at AS receivedAt, attempt, horizon_from AS horizonFrom, \
                 horizon_attempts AS horizonAttempts, key, not_before AS notBefore FROM waiting \
                 ORDER BY received_at, id LIMIT ?",
            vec![WINDOW.into()],
        )?;
        let busy = self.busy.borrow();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for p in &rows {
            if let Some(k) = &p.key {
                let first = seen.insert(k.as_str());
                if !first || busy.contains(k) {
                    continue;
                }
            }
            if p.not_before <= now && !self.flying.borrow().contains(&(p.id, p.log.clone())) {
                return Ok(Some(p.clone()));
            }
        }
        Ok(None)
    }

    /// An attempt came back: it and its conversation are free again.
    fn landed(&self, key: Option<String>, p: &Pending) {
        self.flying.borrow_mut().remove(&(p.id, p.log.clone()));
        if let Some(k) = key {
            self.busy.borrow_mut().remove(&k);
        }
    }

    fn next_not_before(&self) -> Result<Option<u64>> {
        struct Next {
            at: Option<u64>,
        }
        from_row!(Next { at: opt_uint("at") });
        let rows: Vec<Next> = self.rows("SELECT MIN(not_before) AS at FROM waiting", vec![])?;
        Ok(rows.first().and_then(|r| r.at))
    }

    /// One attempt at `slot`: the event read from its log, sent, and its outcome recorded there.
    async fn attempt(
        &self,
        cfg: Rc<Config>,
        dest: Rc<Destination>,
        p: Pending,
        slot: u64,
    ) -> (Option<String>, (Pending, Done)) {
        let done = self.attempt_at(&cfg, &dest, &p, slot).await;
        (p.key.clone(), (p, done))
    }

    /// Reads the event, waits for its slot, then sends it (the request leaves at the slot,
    /// whatever the reads took), and records what it came to.
    async fn attempt_at(&self, cfg: &Config, dest: &Destination, p: &Pending, slot: u64) -> Done {
        let env = &self.env;
        let name = self.health("").map(|h| h.name).unwrap_or_default();
        let (log, row, envelope) = match self.read(p).await {
            Ok(read) => read,
            Err(done) => return done,
        };
        let wid = outbound::webhook_id(&row.source, &row.dedup_key);
        let d = Delivery {
            source: &row.source,
            received_at: row.received_at,
            attempt: p.attempt,
            webhook_id: &wid,
            envelope: &envelope,
        };
        let wait = slot.saturating_sub(log::now_ms());
        if wait > 0 {
            Delay::from(Duration::from_millis(wait)).await;
        }
        let now = log::now_ms();
        let outcome = deliver::attempt(
            env,
            cfg,
            dest,
            &d,
            &row.dedup_key,
            &row.event_type,
            Some(row.id),
            now,
            dest.timeout,
        )
        .await;
        deliver::line(
            &row.source,
            &row.event_type,
            &row.dedup_key,
            &name,
            p.attempt,
            &outcome,
            cfg,
            now,
        );
        self.conclude(cfg, dest, p, &log, &row, &name, outcome, now)
            .await
    }

    /// What an attempt's outcome comes to: a `Retry-After` waits, a failed probe is the
    /// destination's, anything else is recorded and then leaves (delivered, dead) or waits for
    /// its next attempt.
    #[allow(clippy::too_many_arguments)]
    async fn conclude(
        &self,
        cfg: &Config,
        dest: &Destination,
        p: &Pending,
        log: &store::Log,
        row: &store::EventRow,
        name: &str,
        outcome: Outcome,
        now: u64,
    ) -> Done {
        if let Outcome::Retry { after: Some(s), .. } = &outcome {
            self.slow_down(p, *s);
            return Done::Later;
        }
        let probing = self.health("").is_ok_and(|h| h.breaker == "half-open");
        if probing && !matches!(outcome, Outcome::Delivered { .. }) {
            // A failed probe is the destination's, not the delivery's: no attempt spent.
            return Done::Failed;
        }
        let elapsed = now.saturating_sub(p.horizon_from) / 1000;
        let since_horizon = p.attempt.saturating_sub(p.horizon_attempts);
        let next = deliver::next_delay(dest, &outcome, since_horizon, elapsed);
        let status = match (&outcome, next) {
            (Outcome::Delivered { .. }, _) => DeliveryStatus::Delivered,
            (_, Some(_)) => DeliveryStatus::Retrying,
            _ => DeliveryStatus::Dead,
        };
        let written = record(log, row, name, p, &outcome, status, now);
        if written.await.is_err() {
            // Not recorded: try the delivery again rather than lose what it came to.
            return Done::Later;
        }
        match (status, next) {
            (DeliveryStatus::Delivered, _) => Done::Gone { ok: true },
            (DeliveryStatus::Retrying, Some(delay)) => {
                let _ = self.run(
                    "UPDATE waiting SET attempt = attempt + 1, not_before = ? \
                     WHERE received_at = ? AND id = ? AND log = ?",
                    vec![
                        big(now + delay * 1000),
                        big(p.received_at),
                        p.id.into(),
                        p.log.clone().into(),
                    ],
                );
                Done::Failed
            }
            _ => {
                // Dead: it moves aside (replayable), and its conversation goes on.
                let why = outcome.error().unwrap_or("");
                crate::alert::dead(&self.env, cfg, &row.source, 1, why, now).await;
                Done::Gone { ok: false }
            }
        }
    }

    /// The delivery's log, event row and envelope; or what the attempt comes to without them.
    async fn read(
        &self,
        p: &Pending,
    ) -> std::result::Result<(store::Log, store::EventRow, String), Done> {
        let log = store::open(&self.env, &p.log).ok_or(Done::Later)?;
        let row = match log.event(p.id).await {
            Ok(Some(row)) if !row.event_type.is_empty() => row,
            Ok(_) => return Err(Done::Gone { ok: false }), // purged
            Err(_) => return Err(Done::Later),
        };
        let envelope = deliver::envelope(&self.env, &row)
            .await
            .map_err(|_| Done::Later)?;
        Ok((log, row, envelope))
    }

    /// A `Retry-After` of `s` seconds: the destination slowed down, this delivery due after it
    /// (counted from when the answer came), no attempt spent.
    fn slow_down(&self, p: &Pending, s: u64) {
        let until = log::now_ms() + s * 1000;
        if let Ok(mut h) = self.health("") {
            h.next_slot = h.next_slot.max(until);
            let _ = self.save(&h);
        }
        let _ = self.run(
            "UPDATE waiting SET not_before = ? WHERE received_at = ? AND id = ? AND log = ?",
            vec![
                big(until),
                big(p.received_at),
                p.id.into(),
                p.log.clone().into(),
            ],
        );
    }

    /// What an attempt means for the gate: the delivery leaves or waits, and the breaker moves.
    fn settle(&self, cfg: &Config, dest: &Destination, (p, done): (Pending, Done)) -> Result<()> {
        let now = log::now_ms();
        let mut h = self.health("")?;
        let before = h.clone();
        match done {
            Done::Gone { ok } => {
                self.run(
                    "DELETE FROM waiting WHERE received_at = ? AND id = ? AND log = ?",
                    vec![big(p.received_at), p.id.into(), p.log.clone().into()],
                )?;
                if ok {
                    h.failures = 0;
                    if h.breaker != "closed" {
                        h.breaker = "closed".to_owned();
                        h.probe_wait = 0;
                        if !h.paused {
                            self.release_held(&mut h, now)?;
                        }
                        self.notify(cfg, &h.name, "recovered", now);
                    }
                }
            }
            Done::Later => {
                // In a second at the earliest (a `Retry-After` set a later time already).
                self.run(
                    "UPDATE waiting SET not_before = MAX(not_before, ?) WHERE received_at = ? \
                     AND id = ? AND log = ?",
                    vec![
                        big(now + 1_000),
                        big(p.received_at),
                        p.id.into(),
                        p.log.clone().into(),
                    ],
                )?;
            }
            Done::Failed => {
                // Its next try is written (a retry), or it is due again now (a failed probe).
                h.failures = h.failures.saturating_add(1);
                let probe = dest_probe_ms(dest);
                if h.breaker == "half-open" {
                    h.breaker = "open".to_owned();
                    h.probe_wait = (h.probe_wait * 2).clamp(probe, PROBE_MAX_MS);
                    h.probe_at = now + h.probe_wait;
                } else if h.breaker == "closed" && h.failures >= dest.protect.break_after {
                    h.breaker = "open".to_owned();
                    h.probe_wait = probe;
                    h.probe_at = now + probe;
                    if h.held_since == 0 {
                        h.held_since = now;
                    }
                    self.notify(cfg, &h.name, "opened", now);
                }
            }
        }
        if h == before {
            return Ok(()); // nothing changed: no row written
        }
        self.save(&h)
    }

    /// Tells `ALERT_URL` that a destination opened or recovered (after the handler: best effort).
    fn notify(&self, cfg: &Config, name: &str, what: &str, now: u64) {
        log::line("gate", json!({ "destination": name, "breaker": what }));
        let Some(alert) = cfg.alert.clone() else {
            return;
        };
        let body = json!({ "type": format!("hookseal.destination_{what}"), "destination": name, "at": now }).to_string();
        let id = format!("gate:{name}:{what}:{now}");
        self.state.wait_until(async move {
            let d = Delivery {
                source: "hookseal",
                received_at: now,
                attempt: 1,
                webhook_id: &id,
                envelope: "{}",
            };
            let now_s = i64::try_from(now / 1000).unwrap_or(i64::MAX);
            let outcome = outbound::post(&alert, &d, &body, now_s, alert.timeout).await;
            log::line(
                "gate_alert",
                json!({ "status": outcome.http(), "error": outcome.error() }),
            );
        });
    }
}

/// Writes an attempt's outcome to the log: a first attempt delivered is settled on the event's
/// row (as one made after ingest is); anything else is a delivery row and its history, the
/// event's bit cleared if it was still owed there.
async fn record(
    log: &store::Log,
    row: &store::EventRow,
    name: &str,
    p: &Pending,
    outcome: &Outcome,
    status: DeliveryStatus,
    now: u64,
) -> Result<()> {
    let bit = row
        .routes()
        .iter()
        .position(|r| r == name)
        .and_then(|j| u32::try_from(j).ok())
        .map(|j| 1u64 << j)
        .filter(|b| row.owed & b != 0);
    if let (Some(bit), DeliveryStatus::Delivered) = (bit, status) {
        let statuses = json!({ name: outcome.http() }).to_string();
        return log
            .batch(vec![log.settle(p.id, bit, bit, &statuses, now)?])
            .await
            .map(|_| ());
    }
    let mut statements = Vec::new();
    if let Some(bit) = bit {
        statements.push(log.settle(p.id, bit, 0, "{}", now)?);
    }
    statements.extend(log.record(&Recorded {
        id: p.id,
        source: &row.source,
        destination: name,
        attempt: p.attempt,
        at: now,
        http: outcome.http(),
        error: outcome.error(),
        status,
        // The gate holds it: the sweep must not send it again.
        next_at: None,
        horizon_from: p.horizon_from,
    })?);
    log.batch(statements).await.map(|_| ())
}

fn dest_probe_ms(dest: &Destination) -> u64 {
    dest.protect.probe_seconds.saturating_mul(1000).max(1000)
}
