//! The request to a destination: its body in the destination's kind (a signed webhook, a Slack
//! message, a rendered template), its headers, a timeout, and never a redirect followed (the
//! signed body goes only to the configured URL). Every answer becomes an [`Outcome`].

use std::time::Duration;

use futures_util::future::{Either, select};
use hookseal::{Document, SignInput};
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use worker::{
    AbortController, Delay, Fetch, Headers, Method, Request, RequestInit, RequestRedirect,
};

use crate::config::{Destination, Kind};
use crate::state::Outcome;

/// One delivery of one event.
pub struct Delivery<'a> {
    pub source: &'a str,
    pub received_at: u64,
    /// 1-based.
    pub attempt: u32,
    /// `webhook-id`: the source and the dedup key, so two sources' events never share one.
    pub webhook_id: &'a str,
    /// The event's envelope, as JSON text.
    pub envelope: &'a str,
}

/// The `webhook-id` of an event of `source`.
pub fn webhook_id(source: &str, dedup_key: &str) -> String {
    format!("{source}:{dedup_key}")
}

/// The webhook body: `{"source","receivedAt","attempt","event"}`.
pub fn webhook_body(d: &Delivery<'_>) -> String {
    format!(
        r#"{{"source":{},"receivedAt":{},"attempt":{},"event":{}}}"#,
        json!(d.source),
        d.received_at,
        d.attempt,
        d.envelope
    )
}

/// What filters match and templates read: the envelope with `source` and `receivedAt`.
pub fn context(source: &str, received_at: u64, envelope: &str) -> String {
    let rest = envelope.strip_prefix('{').unwrap_or("}");
    let sep = if rest.starts_with('}') { "" } else { "," };
    format!(
        r#"{{"source":{},"receivedAt":{received_at}{sep}{rest}"#,
        json!(source)
    )
}

/// The body for a destination of this kind.
pub fn body(kind: &Kind, d: &Delivery<'_>) -> Result<String, String> {
    match kind {
        Kind::Webhook { .. } | Kind::Outbox => Ok(webhook_body(d)),
        Kind::Slack => Ok(slack(d)),
        Kind::Template(t) => {
            let ctx = context(d.source, d.received_at, d.envelope);
            let doc = Document::parse(&ctx).map_err(|e| format!("the event: {e}"))?;
            Ok(t.render(&doc))
        }
    }
}

/// Slack's mrkdwn escapes `&`, `<` and `>`.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A member of a JSON object, or `null`.
fn at<'a>(v: &'a Value, k: &str) -> &'a Value {
    v.get(k).unwrap_or(&Value::Null)
}

/// A Slack incoming webhook's body: who wrote and what, from which source and provider, the
/// media as a link; any other event (a status) as one line.
pub fn slack(d: &Delivery<'_>) -> String {
    let e: Value = serde_json::from_str(d.envelope).unwrap_or_default();
    let s = |v: &Value| v.as_str().map(escape);
    let provider = s(at(&e, "provider")).unwrap_or_default();
    let source = escape(d.source);
    let m = at(&e, "message");
    let text = if m.is_object() {
        let sender = s(at(m, "sender")).unwrap_or_default();
        let who = match s(at(m, "senderName")) {
            Some(name) => format!("*{name}* (+{sender})"),
            None => format!("*+{sender}*"),
        };
        let mut lines = vec![format!("{who} via {source} ({provider})")];
        if at(m, "isGroup").as_bool() == Some(true)
            && let Some(first) = lines.first_mut()
        {
            first.push_str(&format!(
                " in group {}",
                s(at(m, "chat")).unwrap_or_default()
            ));
        }
        if let Some(t) = s(at(m, "text")).filter(|t| !t.is_empty()) {
            lines.extend(t.lines().map(|l| format!("> {l}")));
        }
        let media = at(m, "media");
        if media.is_object() {
            let kind = s(at(m, "kind")).unwrap_or_else(|| "media".to_owned());
            let label = s(at(media, "filename")).unwrap_or_else(|| kind.clone());
            let url = at(at(media, "archived"), "url")
                .as_str()
                .or_else(|| at(media, "url").as_str());
            lines.push(match url {
                Some(u) => format!("{kind}: <{}|{label}>", escape(u)),
                None => format!(
                    "{kind}: media id {}",
                    s(at(media, "id")).unwrap_or_else(|| "unknown".to_owned())
                ),
            });
        }
        lines.join("\n")
    } else {
        let kind = s(at(&e, "type")).unwrap_or_default();
        match s(at(&e, "id")) {
            Some(id) => format!("{source} ({provider}): `{kind}` {id}"),
            None => format!("{source} ({provider}): `{kind}`"),
        }
    };
    json!({ "text": text }).to_string()
}

/// `Retry-After` in seconds (a date is not honoured: its clock may differ).
fn retry_after(h: &Headers) -> Option<u64> {
    h.get("retry-after")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// POSTs `body` to the destination, signed if it is a webhook, within `timeout` seconds; never
/// following a redirect.
pub async fn post(
    dest: &Destination,
    d: &Delivery<'_>,
    body: &str,
    now_s: i64,
    timeout: u64,
) -> Outcome {
    // A request that cannot be made is our side's: a configuration change may fix it, so it
    // is retried.
    let ours = |error: String| Outcome::Retry {
        http: None,
        error,
        after: None,
    };
    let headers = match headers_for(dest, d, body, now_s) {
        Ok(h) => h,
        Err(e) => return ours(format!("preparing the request: {e}")),
    };
    let controller = AbortController::default();
    let signal = controller.signal();
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual)
        .with_body(Some(JsValue::from_str(body)));
    let request = match Request::new_with_init(&dest.url, &init) {
        Ok(r) => r,
        Err(e) => return ours(format!("building the request: {e}")),
    };
    let fetch = Fetch::Request(request);
    let send = Box::pin(fetch.send_with_signal(&signal));
    let timer = Box::pin(Delay::from(Duration::from_secs(timeout)));
    match select(send, timer).await {
        Either::Left((Ok(res), _)) => {
            let location = res.headers().get("location").ok().flatten();
            Outcome::of_http(
                res.status_code(),
                location.as_deref(),
                retry_after(res.headers()),
            )
        }
        Either::Left((Err(e), _)) => Outcome::Retry {
            http: None,
            error: format!("network: {e}"),
            after: None,
        },
        Either::Right(((), _)) => {
            controller.abort();
            Outcome::Retry {
                http: None,
                error: format!("timed out after {timeout} s"),
                after: None,
            }
        }
    }
}

/// A delivery's headers: JSON, the destination's own, and for a webhook its signature.
fn headers_for(
    dest: &Destination,
    d: &Delivery<'_>,
    body: &str,
    now_s: i64,
) -> Result<Headers, String> {
    let headers = Headers::new();
    let set = |k: &str, v: &str| headers.set(k, v).map_err(|e| e.to_string());
    set("content-type", "application/json")?;
    set("user-agent", "hookseal")?;
    for h in &dest.headers {
        set(&h.name, &h.value)?;
    }
    if let Kind::Webhook { signer } = &dest.kind {
        let signed = signer
            .sign(&SignInput::new(body.as_bytes(), now_s).with_id(d.webhook_id))
            .map_err(|e| e.to_string())?;
        for (k, v) in &signed {
            set(k, v)?;
        }
    }
    Ok(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_adds_source_and_receipt() {
        assert_eq!(
            context("m", 5, r#"{"type":"x"}"#),
            r#"{"source":"m","receivedAt":5,"type":"x"}"#
        );
        assert_eq!(context("m", 5, "{}"), r#"{"source":"m","receivedAt":5}"#);
    }

    #[test]
    fn slack_messages_say_who_what_and_where() {
        let d = |envelope: &'static str| Delivery {
            source: "shop",
            received_at: 1,
            attempt: 1,
            webhook_id: "shop:x",
            envelope,
        };
        let msg = slack(&d(
            r#"{"provider":"meta","type":"message.received","message":{"sender":"15559876543","senderName":"Ana <3","kind":"image","text":"Tem?\nAzul","isGroup":false,"media":{"url":"https://cdn.example/a.jpg"}}}"#,
        ));
        assert_eq!(
            msg,
            r#"{"text":"*Ana &lt;3* (+15559876543) via shop (meta)\n> Tem?\n> Azul\nimage: <https://cdn.example/a.jpg|image>"}"#
        );
        let status = slack(&d(
            r#"{"provider":"meta","type":"message.read","id":"wamid.1","message":null}"#,
        ));
        assert_eq!(status, r#"{"text":"shop (meta): `message.read` wamid.1"}"#);
    }
}
