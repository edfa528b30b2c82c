//! Envelopes for the non-WhatsApp schemes: type, id and dedup key from the places each provider
//! puts them; the data is the raw JSON. A dedup key is built only from signed bytes: a signed id
//! (`webhook-id`, Stripe's and Slack's ids in the body) or the body's hash.

use super::{Ctx, Event, EventData, Provider, document};
use crate::error::Error;
use crate::headers::value;
use crate::json::Json;

fn str_at<'v>(doc: &'v Json<'_>, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(doc, |v, k| v.get(k))
        .and_then(Json::as_str)
}

pub(crate) fn parse(ctx: &Ctx<'_>) -> Result<Event, Error> {
    // Slack slash commands and interactions are form-encoded, and a generic sender may send
    // anything: for them a body that is not JSON is data, not an error.
    let doc = match document(ctx.body) {
        Ok(doc) => doc,
        Err(_) if matches!(ctx.provider, Provider::Slack | Provider::Generic) => Json::Null,
        Err(e) => return Err(e),
    };
    let h = |name| value(ctx.headers, name);
    let (event_type, id, occurred_at) = match ctx.provider {
        // GitHub and Shopify sign the body only: the event name, topic and delivery id travel in
        // headers nobody signed. They are reported (as `type` and `id`) but the dedup key comes
        // from the signed bytes, so a replayed body with a fresh id is still a duplicate.
        Provider::GitHub => {
            let event = h("X-GitHub-Event").unwrap_or("unknown");
            let t = match str_at(&doc, &["action"]) {
                Some(action) => format!("{event}.{action}"),
                None => event.to_owned(),
            };
            (t, h("X-GitHub-Delivery").map(str::to_owned), None)
        }
        Provider::Shopify => (
            h("X-Shopify-Topic").unwrap_or("unknown").to_owned(),
            h("X-Shopify-Webhook-Id").map(str::to_owned),
            None,
        ),
        Provider::Stripe => (
            str_at(&doc, &["type"]).unwrap_or("unknown").to_owned(),
            str_at(&doc, &["id"]).map(str::to_owned),
            doc.get("created").and_then(Json::as_i64),
        ),
        Provider::Slack => (
            str_at(&doc, &["event", "type"])
                .or(str_at(&doc, &["type"]))
                .unwrap_or("unknown")
                .to_owned(),
            str_at(&doc, &["event_id"]).map(str::to_owned),
            ctx.header_ts,
        ),
        Provider::HubSpot => {
            let first = match &doc {
                Json::Arr(items, _) => items.first().unwrap_or(&doc),
                _ => &doc,
            };
            (
                str_at(first, &["subscriptionType"])
                    .unwrap_or("unknown")
                    .to_owned(),
                None,
                ctx.header_ts,
            )
        }
        _ => (
            str_at(&doc, &["type"])
                .or(str_at(&doc, &["event"]))
                .unwrap_or("unknown")
                .to_owned(),
            ctx.header_id.map(str::to_owned),
            ctx.header_ts,
        ),
    };
    let dedup_key = match &id {
        Some(id) if !matches!(ctx.provider, Provider::GitHub | Provider::Shopify) => ctx.key(&[id]),
        _ => ctx.body_key(),
    };
    Ok(Event {
        provider: ctx.provider,
        event_type,
        id,
        occurred_at,
        dedup_key,
        data: EventData::Unknown(doc.raw().into_owned()),
        message: None,
    })
}
