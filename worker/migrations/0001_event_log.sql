-- The event log: one row per accepted event, its delivery to each destination, and every attempt.
-- Applied by `make dev` (wrangler d1 migrations apply --local) and by the deploy commands in the
-- README. The unique (source, dedup_key) makes the insert the authoritative dedup.

CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source TEXT NOT NULL,
  dedup_key TEXT NOT NULL,
  type TEXT NOT NULL,
  received_at INTEGER NOT NULL,          -- ms since the epoch
  envelope TEXT,                         -- the event's JSON; NULL when it is stored in KV
  envelope_ref TEXT,                     -- the KV key of an envelope too large for a row
  UNIQUE (source, dedup_key)
);
CREATE INDEX events_by_source ON events (source, id);
CREATE INDEX events_by_type ON events (type, id);

-- One row per event and destination ('' for a source without one: its events go to OUTBOX).
-- status: queued, retrying, delivered, dead.
CREATE TABLE deliveries (
  event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  destination TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_attempt_at INTEGER,
  last_status INTEGER,                   -- the destination's HTTP status
  last_error TEXT,
  delivered_at INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (event_id, destination)
);
CREATE INDEX deliveries_by_status ON deliveries (status, updated_at);

CREATE TABLE attempts (
  event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
  destination TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  at INTEGER NOT NULL,
  status INTEGER,
  error TEXT
);
CREATE INDEX attempts_by_event ON attempts (event_id, attempt);

-- What is not an accepted event, counted per source, kind and hour (never a body): duplicates
-- ('duplicate') and refusals (their error code). The console's per-source counts.
CREATE TABLE tallies (
  source TEXT NOT NULL,
  kind TEXT NOT NULL,
  hour INTEGER NOT NULL,                 -- ms since the epoch, floored to the hour
  count INTEGER NOT NULL,
  PRIMARY KEY (source, kind, hour)
);
