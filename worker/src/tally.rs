//! Counts of what is not an accepted event (duplicates, and refusals by code), kept in the
//! isolate and written to the log's hourly `tallies` at most once every [`FLUSH_MS`], after the
//! answer: a flood of forgeries costs no write of its own, and a refused request touches no
//! binding before it is answered. Only configured sources are counted (a name from the URL
//! could otherwise make a row of its own).
//!
//! Also the isolate's count of dedup marks that could not be written (the event log off), which
//! `/health` shows: a sender's retry of such an event may be delivered again.

use std::cell::RefCell;
use std::collections::BTreeMap;

use serde_json::json;
use worker::Env;

use crate::log;
use crate::store;

/// The least time between two writes of the counts from one isolate, ms.
pub const FLUSH_MS: u64 = 30_000;

/// `(log, hour, source, kind)` → count.
type Key = (String, u64, String, String);

#[derive(Default)]
struct Pending {
    counts: BTreeMap<Key, u64>,
    last_flush: u64,
    marks_failed: u64,
}

thread_local! {
    static PENDING: RefCell<Pending> = RefCell::new(Pending::default());
}

/// Counts `n` of `kind` (`duplicate`, or a refusal's code) for `source`, whose log is `log`.
pub fn count(log: &str, source: &str, kind: &str, n: u64, now: u64) {
    let hour = now - now % 3_600_000;
    PENDING.with(|p| {
        *p.borrow_mut()
            .counts
            .entry((log.to_owned(), hour, source.to_owned(), kind.to_owned()))
            .or_default() += n;
    });
}

/// Dedup marks that could not be written (the event log off): counted for `/health` and
/// logged, with the source when it is known and why.
pub fn marks_not_written(n: usize, source: Option<&str>, error: Option<&str>) {
    PENDING.with(|p| p.borrow_mut().marks_failed += n as u64);
    log::line(
        "dedup_mark_failed",
        json!({ "source": source, "events": n, "error": error }),
    );
}

/// Dedup marks that could not be written since this isolate started.
pub fn marks_failed() -> u64 {
    PENDING.with(|p| p.borrow().marks_failed)
}

/// Whether there are counts to write and the last write is old enough.
pub fn due(now: u64) -> bool {
    PENDING.with(|p| {
        let p = p.borrow();
        !p.counts.is_empty() && now.saturating_sub(p.last_flush) >= FLUSH_MS
    })
}

/// Writes the counts, if due. Counts that cannot be written are kept for the next time.
pub async fn flush(env: Env, now: u64) {
    if !due(now) {
        return;
    }
    let taken = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        p.last_flush = now;
        std::mem::take(&mut p.counts)
    });
    let mut by_log: BTreeMap<String, Vec<store::sweep::TallyRow>> = BTreeMap::new();
    for ((log, hour, source, kind), n) in &taken {
        by_log.entry(log.clone()).or_default().push((
            *hour,
            source.clone(),
            String::new(),
            kind.clone(),
            *n,
        ));
    }
    for (name, rows) in by_log {
        let Some(db) = store::open(&env, &name) else {
            continue;
        };
        let written = match db.add_tallies(&rows) {
            Ok(Some(s)) => db.batch(vec![s]).await,
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            log::line(
                "tally_failed",
                json!({ "log": name, "error": e.to_string() }),
            );
            PENDING.with(|p| {
                let mut p = p.borrow_mut();
                for ((l, hour, source, kind), n) in &taken {
                    if *l == name {
                        *p.counts
                            .entry((l.clone(), *hour, source.clone(), kind.clone()))
                            .or_default() += n;
                    }
                }
            });
        }
    }
}
