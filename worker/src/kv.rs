//! The one key scheme of the KV namespace (`DEDUP`), every key under `hookseal:`:
//!
//! | key | what | kept |
//! |---|---|---|
//! | `hookseal:seen/{source}/{dedupKey}` | a dedup mark (the event log off) | `DEDUP_TTL_SECONDS` |
//! | `hookseal:event/{source}/{dedupKey}` | an envelope too large for a queue message or a D1 row | as long as its event (see [`ENVELOPE_TTL`]) |
//! | `hookseal:dead/{source}/{destination}/{dedupKey}` | a dead letter (the event log off) | `DEAD_LETTER_KV_DAYS` |
//! | `hookseal:alert/{source}` | the gate that holds alerts to one per interval | `ALERT_INTERVAL_SECONDS` |
//!
//! KV is eventually consistent across locations (a write takes up to a minute to be seen
//! elsewhere) and takes one write per key per second.

use futures_util::StreamExt;
use worker::kv::KvStore;
use worker::{Env, Result};

use crate::config::binding;

/// KV's bulk read takes at most this many keys.
const BULK_GET: usize = 100;
/// At most this many KV writes in flight at once from one invocation.
pub const PARALLEL: usize = 32;
/// A stored envelope of an event without the log lives as long as its queue messages can
/// (Queues keep a message 14 days at most); with the log, as long as its row (no expiry).
pub const ENVELOPE_TTL: u64 = 14 * 24 * 3600;

pub fn open(env: &Env) -> Result<KvStore> {
    env.kv(binding::KV)
}

pub fn seen_key(source: &str, dedup_key: &str) -> String {
    format!("hookseal:seen/{source}/{dedup_key}")
}

/// The mark of a whole body (the log off, a body of many events): the SHA-256 of its events'
/// dedup keys, so a retry of the same events is known at once.
pub fn body_key<'a>(source: &str, dedup_keys: impl Iterator<Item = &'a str>) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for k in dedup_keys {
        h.update(k.as_bytes());
        h.update(b"\n");
    }
    format!(
        "hookseal:seen-body/{source}/{}",
        base16ct::lower::encode_string(&h.finalize())
    )
}

pub fn envelope_key(source: &str, dedup_key: &str) -> String {
    format!("hookseal:event/{source}/{dedup_key}")
}

pub fn dead_key(source: &str, destination: &str, dedup_key: &str) -> String {
    format!("hookseal:dead/{source}/{destination}/{dedup_key}")
}

pub fn alert_key(source: &str) -> String {
    format!("hookseal:alert/{source}")
}

/// Whether each key is set: one plain read for one key, else bulk reads of a hundred keys, all
/// at once.
pub async fn are_set(kv: &KvStore, keys: &[String]) -> Result<Vec<bool>> {
    if let [key] = keys {
        return Ok(vec![kv.get(key).text().await?.is_some()]);
    }
    let reads = keys.chunks(BULK_GET).map(|chunk| async move {
        let found = kv.get_bulk(chunk).text().await?;
        Ok::<_, worker::Error>(
            chunk
                .iter()
                .map(|k| found.get(k).is_some_and(Option::is_some))
                .collect::<Vec<bool>>(),
        )
    });
    Ok(futures_util::future::try_join_all(reads)
        .await?
        .into_iter()
        .flatten()
        .collect())
}

/// Writes dedup marks for `ttl` seconds, each holding `at` (when its event was received).
/// Returns how many could not be written, and the first error.
pub async fn mark(kv: &KvStore, keys: Vec<String>, at: u64, ttl: u64) -> (usize, Option<String>) {
    let marks: Vec<(String, String)> = keys.into_iter().map(|k| (k, at.to_string())).collect();
    let failed = put_all(kv, &marks, Some(ttl)).await;
    (failed.len(), failed.into_iter().next().map(|(_, e)| e))
}

/// Puts each `(key, value)` with the TTL (none: kept), at most [`PARALLEL`] at once; the keys
/// whose write failed come back with the error.
pub async fn put_all(
    kv: &KvStore,
    items: &[(String, String)],
    ttl: Option<u64>,
) -> Vec<(String, String)> {
    let puts = items.iter().map(|(k, v)| async move {
        let put = match kv.put(k, v.as_str()) {
            Ok(p) => match ttl {
                Some(t) => p.expiration_ttl(t.max(60)).execute().await,
                None => p.execute().await,
            },
            Err(e) => Err(e),
        };
        put.err().map(|e| (k.clone(), e.to_string()))
    });
    futures_util::stream::iter(puts)
        .buffer_unordered(PARALLEL)
        .filter_map(|x| async move { x })
        .collect()
        .await
}
