-- 0002: the event log for routes and fan-out, written lean (README: What an event costs).
--
-- An event costs one written row at ingest (and its dedup index entry), one when its first
-- attempts settle, and one when retention deletes it. A delivery that succeeds at its first
-- attempt is recorded on its event's row (`first_ok`, `first_status`); a delivery row is
-- written only for one that needed more: retried, dead, or replayed. No AUTOINCREMENT (it costs
-- a read and a write per insert): ids only grow because retention and purge never remove the
-- newest row.
--
-- Existing rows are carried over: a source's old destination becomes the destination named
-- after the source (the `destination = "…"` shorthand), the OUTBOX's becomes `outbox`.

CREATE TABLE events_next (
  id INTEGER PRIMARY KEY,                -- chronological
  source TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  type TEXT NOT NULL,
  received_at INTEGER NOT NULL,          -- ms since the epoch
  envelope TEXT,                         -- the event's JSON; NULL when it is stored in KV
  envelope_ref TEXT,                     -- the KV key of an envelope too large for a row
  routes TEXT NOT NULL DEFAULT '[]',     -- the destinations chosen at ingest, a JSON array
  owed INTEGER NOT NULL DEFAULT 0,       -- bit i: the first attempt to routes[i] is not settled
  first_ok INTEGER NOT NULL DEFAULT 0,   -- bit i: routes[i] took it at the first attempt
  first_status TEXT,                     -- those first attempts' HTTP statuses, {"name": 200}
  lease_until INTEGER NOT NULL DEFAULT 0,-- ms: the sweep leaves owed attempts alone until then
  settled_at INTEGER,                    -- ms: when the first attempts settled
  UNIQUE (dedup_key, source)
);
INSERT INTO events_next (id, source, dedup_key, type, received_at, envelope, envelope_ref, routes, settled_at)
  SELECT e.id, e.source, e.dedup_key, e.type, e.received_at, e.envelope, e.envelope_ref,
         json_array(CASE WHEN d.destination = '' THEN 'outbox' ELSE e.source END), d.delivered_at
  FROM events e LEFT JOIN deliveries d ON d.event_id = e.id;

-- One row per delivery that needed more than its first attempt. status: see worker/src/state.rs.
CREATE TABLE deliveries_next (
  event_id INTEGER NOT NULL,
  destination TEXT NOT NULL,             -- a destination's name
  status TEXT NOT NULL CHECK (status IN ('queued', 'retrying', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER,                       -- ms: when the next attempt is due; NULL when final
  horizon_from INTEGER NOT NULL,         -- ms: retries go on until the horizon after this
  horizon_attempts INTEGER NOT NULL DEFAULT 0, -- attempts made before it (a replay's start)
  last_attempt_at INTEGER,
  last_status INTEGER,                   -- the destination's last HTTP status
  last_error TEXT,
  delivered_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, destination)
) WITHOUT ROWID;
INSERT INTO deliveries_next (event_id, destination, status, attempts, next_at, horizon_from,
    last_attempt_at, last_status, last_error, delivered_at, updated_at)
  SELECT d.event_id, CASE WHEN d.destination = '' THEN 'outbox' ELSE e.source END, d.status,
         d.attempts, CASE WHEN d.status IN ('queued', 'retrying') THEN d.updated_at END,
         e.received_at, d.last_attempt_at, d.last_status, d.last_error, d.delivered_at, d.updated_at
  FROM deliveries d JOIN events e ON e.id = d.event_id;

CREATE TABLE attempts_next (
  event_id INTEGER NOT NULL,
  destination TEXT NOT NULL,
  attempt INTEGER NOT NULL,              -- 1-based, counted across replays
  at INTEGER NOT NULL,
  status INTEGER,                        -- the destination's HTTP status, if it answered
  error TEXT,
  PRIMARY KEY (event_id, destination, attempt)
) WITHOUT ROWID;
INSERT INTO attempts_next (event_id, destination, attempt, at, status, error)
  SELECT a.event_id, CASE WHEN a.destination = '' THEN 'outbox' ELSE e.source END,
         ROW_NUMBER() OVER (PARTITION BY a.event_id ORDER BY a.rowid), a.at, a.status, a.error
  FROM attempts a JOIN events e ON e.id = a.event_id;

-- Counts per hour, source and destination ('' for the source's own): accepted, filtered,
-- duplicate, delivered and each refusal code. The console reads the last 24 rows of each.
CREATE TABLE tallies_next (
  hour INTEGER NOT NULL,                 -- ms since the epoch, floored to the hour
  source TEXT NOT NULL,
  destination TEXT NOT NULL,
  kind TEXT NOT NULL,
  count INTEGER NOT NULL,
  PRIMARY KEY (hour, source, destination, kind)
) WITHOUT ROWID;
INSERT INTO tallies_next (hour, source, destination, kind, count)
  SELECT hour, source, '', kind, count FROM tallies;

-- Each destination's last attempt per source, for the console.
CREATE TABLE latest (
  source TEXT NOT NULL,
  destination TEXT NOT NULL,
  at INTEGER NOT NULL,
  ok INTEGER NOT NULL,                   -- 1 when it was delivered
  status INTEGER,
  error TEXT,
  PRIMARY KEY (source, destination)
) WITHOUT ROWID;

-- Where the sweeps stand: `owed` (the lowest event id that may still owe a first attempt;
-- counted events lie below it) and `retained` (retention has looked at every id up to it).
CREATE TABLE cursors (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;

DROP TABLE attempts;
DROP TABLE deliveries;
DROP TABLE events;
DROP TABLE tallies;
ALTER TABLE events_next RENAME TO events;
ALTER TABLE deliveries_next RENAME TO deliveries;
ALTER TABLE attempts_next RENAME TO attempts;
ALTER TABLE tallies_next RENAME TO tallies;
CREATE INDEX deliveries_due ON deliveries (next_at);
CREATE INDEX deliveries_by_status ON deliveries (status, event_id);
CREATE INDEX deliveries_by_update ON deliveries (status, updated_at);
INSERT INTO cursors (name, value) SELECT 'owed', COALESCE(MAX(id), 0) + 1 FROM events;
INSERT INTO cursors (name, value) SELECT 'retained', 0;
