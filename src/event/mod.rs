//! Typed events, one normalized envelope, one normalized inbound-message view, and dedup keys.
//!
//! Parse only after the signature verified, from the same raw bytes. Every delivery becomes one
//! or more [`Event`]s (a Meta delivery can carry several messages and statuses). An event type or
//! field hookseal does not know is kept: its data is [`EventData::Unknown`] with the raw JSON.
//!
//! # Dedup keys
//!
//! A key stays the same across a sender's retries and differs between distinct events. Keys are
//! prefixed with the provider; a key longer than [`MAX_KEY_LEN`] is replaced by a hash of it.
//!
//! | provider | key |
//! |---|---|
//! | Mossmoon | `mossmoon:{id}` (the `evt_…` id) |
//! | MoltFlow `message.*` | `moltflow:{event}:{data.message_id}` |
//! | MoltFlow `session.status_changed` | `moltflow:session.status_changed:{session_id}:{new_status}:{timestamp}` |
//! | MoltFlow `lead.captured` | `moltflow:lead.captured:{session_id}:{group_id}:{phone}:{captured_at or timestamp}` |
//! | MoltFlow other (`webhook.test`, unknown) | `moltflow:sha256:{hash of the raw body}` |
//! | Meta message | `meta:message:{wamid}` |
//! | Meta status | `meta:status:{wamid}:{status}` (sent, delivered, read, failed are distinct events) |
//! | Meta other change | `meta:sha256:{hash of the raw body}:{entry}.{change}` |
//! | Standard Webhooks, Svix | `{scheme}:{webhook-id}` |
//! | GitHub | `github:{X-GitHub-Delivery}` |
//! | Shopify | `shopify:{X-Shopify-Webhook-Id}` |
//! | Stripe | `stripe:{body.id}` (`evt_…`) |
//! | Slack | `slack:{body.event_id}` |
//! | anything without an id | `{provider}:sha256:{hash of the raw body}` |

mod json;
mod message;
mod meta;
mod moltflow;
mod mossmoon;
mod other;
pub(crate) mod time;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::headers::Headers;

pub use message::{InboundMessage, MediaRef, MessageKind};
pub use meta::{MetaError, MetaMessage, MetaStatus};
pub use moltflow::{MoltFlowLead, MoltFlowMessage, MoltFlowSession, MoltFlowTest};
pub use mossmoon::{MossmoonDelivery, MossmoonLine, MossmoonMessage};

/// Dedup keys longer than this are replaced by `{provider}:sha256:{hash of the key}`.
pub const MAX_KEY_LEN: usize = 256;

/// Who sent an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Provider {
    /// MoltFlow.
    #[serde(rename = "moltflow")]
    MoltFlow,
    /// Mossmoon.
    Mossmoon,
    /// Meta WhatsApp Cloud API.
    Meta,
    /// Standard Webhooks.
    StandardWebhooks,
    /// Svix.
    Svix,
    /// GitHub.
    #[serde(rename = "github")]
    GitHub,
    /// Stripe.
    Stripe,
    /// Slack.
    Slack,
    /// Shopify.
    Shopify,
    /// HubSpot.
    #[serde(rename = "hubspot")]
    HubSpot,
    /// A generic scheme.
    Generic,
}

impl Provider {
    /// The provider of a scheme's canonical name.
    pub(crate) fn of_scheme(name: &str) -> Self {
        match name {
            "moltflow" => Self::MoltFlow,
            "mossmoon" => Self::Mossmoon,
            "meta" => Self::Meta,
            "standard-webhooks" => Self::StandardWebhooks,
            "svix" => Self::Svix,
            "github" => Self::GitHub,
            "stripe" => Self::Stripe,
            "slack" => Self::Slack,
            "shopify" => Self::Shopify,
            "hubspot" => Self::HubSpot,
            _ => Self::Generic,
        }
    }

    /// The canonical name (as in dedup keys).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::MoltFlow => "moltflow",
            Self::Mossmoon => "mossmoon",
            Self::Meta => "meta",
            Self::StandardWebhooks => "standard-webhooks",
            Self::Svix => "svix",
            Self::GitHub => "github",
            Self::Stripe => "stripe",
            Self::Slack => "slack",
            Self::Shopify => "shopify",
            Self::HubSpot => "hubspot",
            Self::Generic => "generic",
        }
    }
}

/// One event, in the envelope every provider shares.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Event {
    /// Who sent it.
    pub provider: Provider,
    /// The event type in the provider's naming (`message.received`, `line.ready`,
    /// `session.status_changed`, ...). Meta statuses are `message.sent`, `message.delivered`,
    /// `message.read`, `message.failed`; Meta messages are `message.received`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The provider's id for the event, when it gives one.
    pub id: Option<String>,
    /// When it happened, unix seconds, when the provider says.
    pub occurred_at: Option<i64>,
    /// Stays the same across retries of this event; differs between events.
    pub dedup_key: String,
    /// The typed data.
    pub data: EventData,
    /// The normalized view, when the event is an inbound WhatsApp message.
    pub message: Option<InboundMessage>,
}

/// The typed data of an event.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum EventData {
    /// MoltFlow `message.received` / `message.sent`.
    MoltFlowMessage(MoltFlowMessage),
    /// MoltFlow `session.status_changed`.
    MoltFlowSession(MoltFlowSession),
    /// MoltFlow `lead.captured`.
    MoltFlowLead(MoltFlowLead),
    /// MoltFlow `webhook.test`.
    MoltFlowTest(MoltFlowTest),
    /// Mossmoon `line.ready` / `line.disconnected`.
    MossmoonLine(MossmoonLine),
    /// Mossmoon `message.received`.
    MossmoonMessage(MossmoonMessage),
    /// Mossmoon `message.delivered`.
    MossmoonDelivery(MossmoonDelivery),
    /// A Meta message (`entry[].changes[].value.messages[]`).
    MetaMessage(Box<MetaMessage>),
    /// A Meta status (`entry[].changes[].value.statuses[]`).
    MetaStatus(MetaStatus),
    /// An event hookseal has no type for: the raw JSON (for Meta, the change's `value`), or
    /// `null` when the body is not JSON (Slack slash commands, some generic senders).
    Unknown(Value),
}

/// Parses a verified body into events. `scheme_name` is [`crate::Scheme::name`]; the headers
/// give the delivery id for schemes that send one there.
pub(crate) fn parse(
    scheme_name: &str,
    body: &[u8],
    headers: &dyn Headers,
    verified_id: Option<&str>,
    verified_ts: Option<i64>,
) -> Result<Vec<Event>, Error> {
    let provider = Provider::of_scheme(scheme_name);
    let ctx = Ctx {
        provider,
        body,
        headers,
        header_id: verified_id,
        header_ts: verified_ts,
    };
    match provider {
        Provider::MoltFlow => moltflow::parse(&ctx, &document(body)?).map(|e| vec![e]),
        Provider::Mossmoon => mossmoon::parse(&ctx, &document(body)?).map(|e| vec![e]),
        Provider::Meta => meta::parse(&ctx, &document(body)?),
        _ => other::parse(&ctx).map(|e| vec![e]),
    }
}

/// Headers the event parsers read beyond the scheme's own.
pub(crate) fn extra_headers(scheme_name: &str) -> &'static [&'static str] {
    match scheme_name {
        "github" => &["X-GitHub-Event"],
        "shopify" => &["X-Shopify-Topic"],
        _ => &[],
    }
}

/// What a parser needs beyond the JSON.
pub(crate) struct Ctx<'a> {
    pub provider: Provider,
    pub body: &'a [u8],
    pub headers: &'a dyn Headers,
    /// The id the verifier read from the scheme's id header.
    pub header_id: Option<&'a str>,
    /// The signed timestamp, unix seconds.
    pub header_ts: Option<i64>,
}

impl Ctx<'_> {
    /// `{provider}:{parts joined by ':'}`, hashed when too long.
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = String::from(self.provider.name());
        for p in parts {
            key.push(':');
            key.push_str(p);
        }
        if key.len() > MAX_KEY_LEN {
            return format!(
                "{}:sha256:{}",
                self.provider.name(),
                sha256_hex(key.as_bytes())
            );
        }
        key
    }

    /// `{provider}:sha256:{hash of the raw body}`.
    pub fn body_key(&self) -> String {
        format!("{}:sha256:{}", self.provider.name(), sha256_hex(self.body))
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(&Sha256::digest(bytes))
}

/// Parses the body as JSON: UTF-8 first (a clear error for a wrong charset), then JSON with
/// serde_json's nesting limit (128), which turns a deeply nested body into an error, not a
/// stack overflow.
pub(crate) fn document(body: &[u8]) -> Result<Value, Error> {
    let text = core::str::from_utf8(body).map_err(|e| Error::InvalidUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    serde_json::from_str(text).map_err(|e| Error::MalformedJson {
        line: e.line(),
        column: e.column(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_documents_get_their_codes() {
        assert_eq!(document(b"\xff{}").unwrap_err().code(), "invalid_utf8");
        assert_eq!(document(b"{").unwrap_err().code(), "malformed_json");
        assert_eq!(document(b"").unwrap_err().code(), "malformed_json");
        assert_eq!(
            document(b"{\"t\": 1e999}").unwrap_err().code(),
            "malformed_json"
        );
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            document(deep.as_bytes()).unwrap_err().code(),
            "malformed_json"
        );
    }

    #[test]
    fn long_keys_are_hashed() {
        let ctx = Ctx {
            provider: Provider::Mossmoon,
            body: b"",
            headers: &[("a", "b")],
            header_id: None,
            header_ts: None,
        };
        assert_eq!(ctx.key(&["evt_1"]), "mossmoon:evt_1");
        let long = "x".repeat(300);
        let k = ctx.key(&[&long]);
        assert!(
            k.starts_with("mossmoon:sha256:") && k.len() == 16 + 64,
            "{k}"
        );
        assert_eq!(
            ctx.body_key(),
            "mossmoon:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
