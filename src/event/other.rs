//! Envelopes for the non-WhatsApp schemes: type, id and dedup key from the places each provider
//! puts them; the data is the raw JSON. A dedup key is built only from signed bytes: a signed id
//! (`webhook-id`, Stripe's and Slack's ids in the body) or the body's hash.

use super::{Ctx, Event, EventData, Events, document};
use crate::error::Error;
use crate::headers::value;
use crate::json::Json;

fn str_at<'v>(doc: &'v Json<'_>, path: &[&str]) -> Option<&'v str> {
    path.iter()
        .try_fold(doc, |v, k| v.get(k))
        .and_then(Json::as_str)
}

/// Where a provider puts an event's type, id and time: read from the JSON document (`Null` when
/// the body is not JSON and the provider allows that) and the request.
type Fields = fn(&Ctx<'_>, &Json<'_>) -> (String, Option<String>, Option<i64>);

/// An untyped event: the raw JSON as data, the type, id and time from `fields`, and the dedup key
/// from the id when `id_signed`, else from the body's hash.
fn event(
    ctx: &Ctx<'_>,
    json_only: bool,
    id_signed: bool,
    fields: Fields,
) -> Result<Vec<Event>, Error> {
    // Slack slash commands and interactions are form-encoded, and a generic sender may send
    // anything: for them a body that is not JSON is data, not an error.
    let doc = match document(ctx.body) {
        Ok(doc) => doc,
        Err(_) if !json_only => Json::Null,
        Err(e) => return Err(e),
    };
    let (event_type, id, occurred_at) = fields(ctx, &doc);
    let dedup_key = match &id {
        Some(id) if id_signed => ctx.key(&[id]),
        _ => ctx.body_key(),
    };
    Ok(vec![Event {
        provider: ctx.provider,
        event_type,
        id,
        occurred_at,
        dedup_key,
        data: EventData::Unknown(doc.raw().into_owned()),
        message: None,
    }])
}

fn type_or_unknown(t: Option<&str>) -> String {
    t.unwrap_or("unknown").to_owned()
}

/// Standard Webhooks, Svix and generic schemes: `type` (or `event`) from the body, the signed
/// `webhook-id` (or generic `{id}`) as id.
fn signed_id(ctx: &Ctx<'_>, doc: &Json<'_>) -> (String, Option<String>, Option<i64>) {
    (
        type_or_unknown(str_at(doc, &["type"]).or(str_at(doc, &["event"]))),
        ctx.header_id.map(str::to_owned),
        ctx.header_ts,
    )
}

/// A JSON body without typed events: `type` (or `event`) from the body, the signed id (when the
/// scheme signs one) as id.
pub(crate) fn untyped_json(ctx: &Ctx<'_>) -> Result<Vec<Event>, Error> {
    event(ctx, true, true, signed_id)
}

/// Standard Webhooks, Svix, and any built-in scheme without typed events.
pub(crate) static SIGNED_ID: Events = Events {
    parse: untyped_json,
    headers: &[],
};

/// A generic scheme: any body, JSON or not.
pub(crate) static GENERIC: Events = Events {
    parse: |ctx| event(ctx, false, true, signed_id),
    headers: &[],
};

// GitHub and Shopify sign the body only: the event name, topic and delivery id travel in headers
// nobody signed. They are reported (as `type` and `id`) but the dedup key comes from the signed
// bytes, so a replayed body with a fresh id is still a duplicate.

/// GitHub: `X-GitHub-Event` and the body's `action`, `X-GitHub-Delivery`.
pub(crate) static GITHUB: Events = Events {
    parse: |ctx| {
        event(ctx, true, false, |ctx, doc| {
            let event = value(ctx.headers, "X-GitHub-Event").unwrap_or("unknown");
            let t = match str_at(doc, &["action"]) {
                Some(action) => format!("{event}.{action}"),
                None => event.to_owned(),
            };
            (
                t,
                value(ctx.headers, "X-GitHub-Delivery").map(str::to_owned),
                None,
            )
        })
    },
    headers: &["X-GitHub-Event", "X-GitHub-Delivery"],
};

/// Shopify: `X-Shopify-Topic`, `X-Shopify-Webhook-Id`.
pub(crate) static SHOPIFY: Events = Events {
    parse: |ctx| {
        event(ctx, true, false, |ctx, _| {
            (
                type_or_unknown(value(ctx.headers, "X-Shopify-Topic")),
                value(ctx.headers, "X-Shopify-Webhook-Id").map(str::to_owned),
                None,
            )
        })
    },
    headers: &["X-Shopify-Topic", "X-Shopify-Webhook-Id"],
};

/// Stripe: the body's `type`, `id` (`evt_…`) and `created`.
pub(crate) static STRIPE: Events = Events {
    parse: |ctx| {
        event(ctx, true, true, |_, doc| {
            (
                type_or_unknown(str_at(doc, &["type"])),
                str_at(doc, &["id"]).map(str::to_owned),
                doc.get("created").and_then(Json::as_i64),
            )
        })
    },
    headers: &[],
};

/// Slack: `event.type` (or `type`) and `event_id`; form-encoded bodies are data.
pub(crate) static SLACK: Events = Events {
    parse: |ctx| {
        event(ctx, false, true, |ctx, doc| {
            (
                type_or_unknown(str_at(doc, &["event", "type"]).or(str_at(doc, &["type"]))),
                str_at(doc, &["event_id"]).map(str::to_owned),
                ctx.header_ts,
            )
        })
    },
    headers: &[],
};

/// HubSpot: the first notification's `subscriptionType`; no id (the body's hash keys it).
pub(crate) static HUBSPOT: Events = Events {
    parse: |ctx| {
        event(ctx, true, true, |ctx, doc| {
            let first = match doc {
                Json::Arr(items, _) => items.first().unwrap_or(doc),
                _ => doc,
            };
            (
                type_or_unknown(str_at(first, &["subscriptionType"])),
                None,
                ctx.header_ts,
            )
        })
    },
    headers: &[],
};
