//! A short signed notice to `ALERT_URL` when events go dead: at most one per source per
//! `ALERT_INTERVAL_SECONDS` (default 1 h), with the count and the last reason. Signed with
//! Standard Webhooks and `DELIVERY_SECRET`, like deliveries. Never a body or a secret.

use serde_json::json;
use worker::Env;

use crate::config::{self, DEDUP_KV, DELIVERY_SECRET};
use crate::deliver::{PostError, post_signed};
use crate::eventlog;
use crate::log::{self, now_ms};

const INTERVAL_SECONDS: u64 = 3600;

/// `count` events of `source` just went dead, the last for `reason`.
pub async fn dead(env: &Env, source: &str, count: u64, reason: &str) {
    let Some(url) = config::secret(env, "ALERT_URL").or_else(|| {
        env.var("ALERT_URL")
            .ok()
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
    }) else {
        return;
    };
    let interval = config::number(env, "ALERT_INTERVAL_SECONDS", INTERVAL_SECONDS)
        .unwrap_or(INTERVAL_SECONDS)
        .max(60);
    let Ok(kv) = env.kv(DEDUP_KV) else { return };
    let gate = format!("hookseal:alert/{source}");
    if matches!(kv.get(&gate).text().await, Ok(Some(_))) {
        log::line(
            "alert_suppressed",
            json!({ "source": source, "count": count }),
        );
        return;
    }
    let now = now_ms();
    // With the log, the count covers the whole interval, not only this batch.
    let count = match eventlog::open(env) {
        Some(db) => eventlog::dead_since(&db, source, now.saturating_sub(interval * 1000))
            .await
            .unwrap_or(count)
            .max(count),
        None => count,
    };
    let body = json!({
        "type": "hookseal.dead_letters", "source": source, "count": count,
        "lastReason": reason, "at": now,
    })
    .to_string();
    let sent = post_signed(
        env,
        DELIVERY_SECRET,
        &url,
        &body,
        &format!("alert:{source}:{now}"),
    )
    .await;
    match sent {
        Ok(status) => {
            log::line(
                "alert",
                json!({ "source": source, "count": count, "status": status }),
            );
            if let Ok(put) = kv.put(&gate, now.to_string()) {
                let _ = put.expiration_ttl(interval).execute().await;
            }
        }
        Err(PostError::Config(e) | PostError::Network(e)) => {
            log::line("alert_failed", json!({ "source": source, "error": e }));
        }
    }
}
