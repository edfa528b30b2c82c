//! A short signed notice to `ALERT_URL` when deliveries go dead: at most one per source per
//! `ALERT_INTERVAL_SECONDS` (default 1 h), with the count and the last reason. Signed with
//! Standard Webhooks under `ALERT_SECRET`, a key of its own: whoever verifies alerts cannot
//! forge deliveries. Never a body or a secret.

use serde_json::json;
use worker::Env;

use crate::config::Config;
use crate::kv;
use crate::log;
use crate::outbound::{self, Delivery};
use crate::state::Outcome;
use crate::store;

/// `count` deliveries of `source` just went dead, the last for `reason`.
pub async fn dead(env: &Env, cfg: &Config, source: &str, count: u64, reason: &str, now: u64) {
    let Some(dest) = &cfg.alert else {
        return;
    };
    let interval = cfg.settings.alert_interval;
    let Ok(store_kv) = kv::open(env) else { return };
    let gate = kv::alert_key(source);
    if matches!(store_kv.get(&gate).text().await, Ok(Some(_))) {
        log::line(
            "alert_suppressed",
            json!({ "source": source, "count": count }),
        );
        return;
    }
    // With the log, the count covers the whole interval, not only this invocation's.
    let log_name = cfg.source(source).and_then(Result::ok).map_or_else(
        || crate::config::binding::EVENT_LOG.to_owned(),
        |s| s.log.clone(),
    );
    let count = match store::open(env, &log_name) {
        Some(log) => log
            .dead_since(source, now.saturating_sub(interval * 1000))
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
    let id = format!("alert:{source}:{now}");
    let d = Delivery {
        source,
        received_at: now,
        attempt: 1,
        webhook_id: &id,
        envelope: "{}",
    };
    let now_s = i64::try_from(now / 1000).unwrap_or(i64::MAX);
    match outbound::post(dest, &d, &body, now_s, dest.timeout).await {
        Outcome::Delivered { http } => {
            log::line(
                "alert",
                json!({ "source": source, "count": count, "status": http }),
            );
            let _ = kv::put_all(&store_kv, &[(gate, now.to_string())], Some(interval)).await;
        }
        other => log::line(
            "alert_failed",
            json!({ "source": source, "error": other.error(), "status": other.http() }),
        ),
    }
}
