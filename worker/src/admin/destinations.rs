//! The admin API's views of sources and destinations (their health and last 24 h, from the
//! hourly tallies), and the filter tester.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use hookseal::{Document, Filter};
use serde::Deserialize;
use serde_json::{Value, json};
use worker::{Env, Request};

use super::{Answer, body, log_of};
use crate::config::Config;
use crate::failure::Failure;
use crate::outbound;
use crate::store::{self, read::Summary};

/// Counts of the last 24 h, per source and per destination.
#[derive(Default, serde::Serialize, Clone)]
#[serde(rename_all = "camelCase")]
struct Counts {
    accepted: u64,
    duplicates: u64,
    refused: BTreeMap<String, u64>,
    filtered: u64,
    delivered: u64,
    retrying: u64,
    queued: u64,
    dead: u64,
    last_delivery: Option<Value>,
}

/// Counts per source and per destination, and the states whose counts are lower bounds.
struct AllCounts {
    by_source: BTreeMap<String, Counts>,
    by_dest: BTreeMap<String, Counts>,
    at_least: BTreeSet<&'static str>,
}

/// Every log's summary, merged into counts per source and per destination.
async fn counts(env: &Env, cfg: &Config, now: u64) -> Result<AllCounts, Failure> {
    let since = now.saturating_sub(24 * 3_600_000);
    let (mut by_source, mut by_dest): (BTreeMap<String, Counts>, BTreeMap<String, Counts>) =
        Default::default();
    let mut at_least = BTreeSet::new();
    let mut any = false;
    for name in cfg.logs() {
        let Some(log) = store::open(env, &name) else {
            continue;
        };
        any = true;
        let s = log.summary(since).await.map_err(Failure::log)?;
        merge(&s, &mut by_source, &mut by_dest);
        at_least.extend(s.capped());
    }
    if !any {
        return Err(Failure::new(
            "log_off",
            "the event log is off: bind a D1 database as EVENT_LOG (README: Operate the Worker)",
        ));
    }
    Ok(AllCounts {
        by_source,
        by_dest,
        at_least,
    })
}

fn merge(
    s: &Summary,
    by_source: &mut BTreeMap<String, Counts>,
    by_dest: &mut BTreeMap<String, Counts>,
) {
    for t in &s.tallies {
        let c = by_source.entry(t.source.clone()).or_default();
        match t.kind.as_str() {
            "accepted" => c.accepted += t.n,
            "filtered" => c.filtered += t.n,
            "duplicate" => c.duplicates += t.n,
            "delivered" => {
                c.delivered += t.n;
                by_dest.entry(t.destination.clone()).or_default().delivered += t.n;
            }
            code => *c.refused.entry(code.to_owned()).or_default() += t.n,
        }
    }
    for (list, pick) in [
        (&s.retrying, 0u8),
        (&s.queued, 1),
        (&s.dead, 2),
        (&s.owed, 1),
    ] {
        for x in list {
            bump(by_source.entry(x.source.clone()).or_default(), pick, x.n);
            if !x.destination.is_empty() {
                bump(by_dest.entry(x.destination.clone()).or_default(), pick, x.n);
            }
        }
    }
    for l in &s.latest {
        let shown = json!({
            "status": if l.ok == 1 { "delivered" } else { "failed" }, "at": l.at,
            "httpStatus": l.status, "error": l.error, "destination": l.destination,
            "source": l.source,
        });
        for c in [
            by_source.entry(l.source.clone()).or_default(),
            by_dest.entry(l.destination.clone()).or_default(),
        ] {
            let newer = c
                .last_delivery
                .as_ref()
                .and_then(|v| v.get("at").and_then(Value::as_u64))
                .is_none_or(|at| at <= l.at);
            if newer {
                c.last_delivery = Some(shown.clone());
            }
        }
    }
}

fn bump(c: &mut Counts, pick: u8, n: u64) {
    match pick {
        0 => c.retrying += n,
        1 => c.queued += n,
        _ => c.dead += n,
    }
}

/// `GET /admin/sources`.
pub async fn sources(env: &Env, cfg: &Rc<Config>, now: u64) -> Answer {
    let AllCounts {
        by_source: mut counts,
        at_least,
        ..
    } = counts(env, cfg, now).await?;
    let out: Vec<Value> = cfg
        .sources
        .iter()
        .map(|(name, s)| {
            let (scheme, routes, problem) = match s {
                Ok(s) => (
                    s.verifier.scheme_name().to_owned(),
                    s.routes
                        .iter()
                        .map(|r| json!({ "to": r.to, "filtered": r.filter.is_some() }))
                        .collect::<Vec<_>>(),
                    None,
                ),
                Err(e) => ("?".to_owned(), Vec::new(), Some(e.0.clone())),
            };
            let first = routes
                .first()
                .and_then(|r| r.get("to").and_then(Value::as_str))
                .map(str::to_owned);
            let destination = first
                .as_deref()
                .and_then(|d| cfg.destination(d).ok())
                .map(|d| d.shown_url());
            json!({
                "name": name, "scheme": scheme, "routes": routes, "destination": destination,
                "problem": problem, "last24h": counts.remove(name).unwrap_or_default(),
            })
        })
        .collect();
    Ok((200, json!({ "sources": out, "atLeast": at_least })))
}

/// `GET /admin/destinations`: each with its kind, host (never a path or query), last 24 h, last
/// delivery, and its gate (state, in flight, waiting and parked counts, rate) when it has one.
pub async fn list(env: &Env, cfg: &Rc<Config>, now: u64) -> Answer {
    let AllCounts {
        by_dest: mut counts,
        at_least,
        ..
    } = counts(env, cfg, now).await?;
    let mut out: Vec<Value> = Vec::with_capacity(cfg.destinations.len());
    for (name, d) in &cfg.destinations {
        let (kind, host, problem) = match d {
            Ok(d) => (d.kind.name(), Some(d.shown_url()), None),
            Err(e) => ("?", None, Some(e.0.clone())),
        };
        let gate = match d {
            Ok(d) if crate::gate::on(env, d) => Some(
                crate::gate::state(env, name)
                    .await
                    .unwrap_or_else(|e| json!({ "state": "unknown", "error": e })),
            ),
            _ => None,
        };
        let sources: Vec<&String> = cfg
            .sources
            .iter()
            .filter(|(_, s)| {
                s.as_ref()
                    .is_ok_and(|s| s.routes.iter().any(|r| &r.to == name))
            })
            .map(|(n, _)| n)
            .collect();
        let c = counts.remove(name).unwrap_or_default();
        out.push(json!({
            "name": name, "kind": kind, "host": host, "problem": problem, "sources": sources,
            "lastDelivery": c.last_delivery, "gate": gate,
            "last24h": { "delivered": c.delivered, "retrying": c.retrying, "queued": c.queued, "dead": c.dead },
        }));
    }
    Ok((200, json!({ "destinations": out, "atLeast": at_least })))
}

/// `POST /admin/destinations/{name}/pause` and `/resume`: the destination's gate holds its
/// deliveries (parked, kept) or lets them go again, oldest first.
pub async fn pause(env: &Env, cfg: &Rc<Config>, name: &str, paused: bool) -> Answer {
    let dest = cfg
        .destinations
        .get(name)
        .ok_or_else(|| Failure::new("not_found", "no such destination"))?
        .as_ref()
        .map_err(|e| Failure::config(e.0.clone()))?;
    if !crate::gate::on(env, dest) {
        return Err(Failure::new(
            "gate_off",
            "pausing needs the destination gates: bind the Durable Object GATE (README: \
             Destinations that protect themselves)",
        ));
    }
    let state = crate::gate::pause(env, name, paused)
        .await
        .map_err(|e| Failure::unavailable("gate_unavailable", e))?;
    crate::log::line(
        "admin",
        json!({ "outcome": if paused { "paused" } else { "resumed" }, "destination": name }),
    );
    Ok((200, json!({ "destination": name, "gate": state })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FilterTest {
    filter: Value,
    #[serde(default)]
    event_id: Option<i64>,
    #[serde(default)]
    event: Option<Value>,
}

/// `POST /admin/filters/test`: whether a filter takes a logged event (`eventId`, read as routes
/// read it: with `source` and `receivedAt`) or a given one (`event`, as given).
pub async fn test_filter(req: &mut Request, env: &Env, cfg: &Rc<Config>) -> Answer {
    let ask: FilterTest = body(req, "{ filter, eventId | event }").await?;
    let filter = Filter::from_json(&ask.filter.to_string())
        .map_err(|e| Failure::new("invalid_filter", e.to_string()))?;
    let text = match (ask.event_id, ask.event) {
        (Some(id), None) => {
            let log = log_of(req, env, cfg)?;
            let row = log
                .event(id)
                .await
                .map_err(Failure::log)?
                .filter(|r| !r.event_type.is_empty())
                .ok_or_else(|| Failure::new("not_found", "no such event"))?;
            let envelope = crate::deliver::envelope(env, &row)
                .await
                .map_err(|e| Failure::unavailable("log_unavailable", e))?;
            outbound::context(&row.source, row.received_at, &envelope)
        }
        (None, Some(event)) => event.to_string(),
        _ => {
            return Err(Failure::new(
                "invalid_body",
                "give `eventId` or `event`, one of the two",
            ));
        }
    };
    let doc = Document::parse(&text).map_err(|e| Failure::new("invalid_body", e.to_string()))?;
    Ok((200, json!({ "matches": filter.matches(&doc) })))
}
