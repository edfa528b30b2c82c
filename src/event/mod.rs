//! Typed events, one normalized envelope, one normalized inbound-message view, and dedup keys.
//!
//! Parse only after the signature verified, from the same raw bytes. Every delivery becomes one
//! or more [`Event`]s (a Meta delivery can carry several messages and statuses). An event type or
//! field hookseal does not know is kept: its data is [`EventData::Unknown`] with the raw JSON.
//!
//! # Dedup keys
//!
//! A key stays the same across a sender's retries and differs between distinct events. Keys are
//! prefixed with the provider; a key longer than [`MAX_KEY_LEN`], or with a character outside
//! printable ASCII, is replaced by a hash of it, so every key is a valid HTTP header value (the
//! Worker sends it as `webhook-id`) and KV key.
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
//! | Standard Webhooks, Svix | `{scheme}:{webhook-id}` (signed) |
//! | GitHub, Shopify | `{provider}:sha256:{hash of the raw body}` (their delivery id headers are not signed) |
//! | Stripe | `stripe:{body.id}` (`evt_…`) |
//! | Slack | `slack:{body.event_id}` |
//! | Twilio message | `twilio:message:{MessageSid}` |
//! | Twilio status | `twilio:status:{MessageSid}:{MessageStatus}` (each status a distinct event) |
//! | Vonage message | `vonage:message:{message_uuid}` |
//! | Vonage status | `vonage:status:{message_uuid}:{status}` |
//! | generic with `{id}` signed | `generic:{id}` |
//! | anything without a signed id | `{provider}:sha256:{hash of the raw body}` |
//!
//! Every part comes from signed bytes, and `%` and `:` inside a part are escaped (`%25`, `%3A`),
//! so two different events cannot be made to share a key.

mod json;
mod message;
pub(crate) mod meta;
pub(crate) mod moltflow;
pub(crate) mod mossmoon;
pub(crate) mod other;
pub(crate) mod time;
pub(crate) mod twilio;
pub(crate) mod vonage;

use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::headers::Headers;
use crate::json::{Json, Writer};

pub use message::{InboundMessage, Location, MediaRef, MessageKind};
pub use meta::{MetaError, MetaMessage, MetaStatus};
pub use moltflow::{MoltFlowLead, MoltFlowMessage, MoltFlowSession, MoltFlowTest};
pub use mossmoon::{MossmoonDelivery, MossmoonLine, MossmoonMessage};
pub use twilio::{TwilioButton, TwilioLocation, TwilioMessage, TwilioStatus};
pub use vonage::{VonageError, VonageMessage, VonageStatus};

/// Dedup keys longer than this (or with a character outside printable ASCII) are replaced by
/// `{provider}:sha256:{hash of the key}`.
pub const MAX_KEY_LEN: usize = 256;

/// Who sent an event: the scheme's canonical name (`generic` for a generic scheme), as in
/// dedup keys and the JSON `provider` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Provider(pub(crate) &'static str);

impl Provider {
    /// The canonical name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.0
    }
}

/// How one provider's verified bodies become events: its parser, and the headers it reads
/// beyond the scheme's own (none of them signed). A row of the scheme table points at one.
pub(crate) struct Events {
    pub parse: fn(&Ctx<'_>) -> Result<Vec<Event>, Error>,
    pub headers: &'static [&'static str],
}

impl PartialEq for Events {
    fn eq(&self, other: &Self) -> bool {
        core::ptr::eq(self, other)
    }
}

impl Eq for Events {}

impl core::fmt::Debug for Events {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Events")
    }
}

/// One event, in the envelope every provider shares.
///
/// [`to_json`](Event::to_json) writes it as JSON with camelCase keys, the form the npm package
/// returns and the worker enqueues.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Who sent it.
    pub provider: Provider,
    /// The event type in the provider's naming (`message.received`, `line.ready`,
    /// `session.status_changed`, ...). Meta statuses are `message.sent`, `message.delivered`,
    /// `message.read`, `message.failed`; Meta messages are `message.received`.
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// A Twilio inbound message.
    TwilioMessage(Box<TwilioMessage>),
    /// A Twilio status callback.
    TwilioStatus(TwilioStatus),
    /// A Vonage inbound message.
    VonageMessage(Box<VonageMessage>),
    /// A Vonage message status.
    VonageStatus(VonageStatus),
    /// An event hookseal has no type for: its JSON exactly as the provider sent it (for Meta,
    /// the change's `value`), or `null` when the body is not JSON (Slack slash commands, some
    /// generic senders).
    Unknown(String),
}

/// Writes a value as JSON.
pub(crate) trait WriteJson {
    fn write_json(&self, w: &mut Writer);
}

impl<T: WriteJson> WriteJson for Option<T> {
    fn write_json(&self, w: &mut Writer) {
        match self {
            Some(v) => v.write_json(w),
            None => w.null(),
        }
    }
}

impl<T: WriteJson> WriteJson for Box<T> {
    fn write_json(&self, w: &mut Writer) {
        (**self).write_json(w);
    }
}

/// `object!(w, "key" => value, …)` writes an object whose values implement [`WriteJson`] or
/// are written by a closure.
macro_rules! object {
    ($w:expr, $($key:literal => $value:expr),* $(,)?) => {{
        let w: &mut $crate::json::Writer = $w;
        w.begin_object();
        $( w.key($key); $crate::event::WriteJson::write_json(&$value, w); )*
        w.end_object();
    }};
}
pub(crate) use object;

impl WriteJson for String {
    fn write_json(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl WriteJson for &str {
    fn write_json(&self, w: &mut Writer) {
        w.str(self);
    }
}

impl WriteJson for i64 {
    fn write_json(&self, w: &mut Writer) {
        w.int(*self);
    }
}

impl WriteJson for bool {
    fn write_json(&self, w: &mut Writer) {
        w.bool(*self);
    }
}

impl<T: WriteJson> WriteJson for Vec<T> {
    fn write_json(&self, w: &mut Writer) {
        w.begin_array();
        for v in self {
            v.write_json(w);
        }
        w.end_array();
    }
}

/// Raw JSON text, written as is.
pub(crate) struct Raw<'a>(pub &'a str);

impl WriteJson for Raw<'_> {
    fn write_json(&self, w: &mut Writer) {
        w.raw(self.0);
    }
}

impl WriteJson for Provider {
    fn write_json(&self, w: &mut Writer) {
        w.str(self.name());
    }
}

impl WriteJson for EventData {
    fn write_json(&self, w: &mut Writer) {
        match self {
            Self::MoltFlowMessage(d) => d.write_json(w),
            Self::MoltFlowSession(d) => d.write_json(w),
            Self::MoltFlowLead(d) => d.write_json(w),
            Self::MoltFlowTest(d) => d.write_json(w),
            Self::MossmoonLine(d) => d.write_json(w),
            Self::MossmoonMessage(d) => d.write_json(w),
            Self::MossmoonDelivery(d) => d.write_json(w),
            Self::MetaMessage(d) => d.write_json(w),
            Self::MetaStatus(d) => d.write_json(w),
            Self::TwilioMessage(d) => d.write_json(w),
            Self::TwilioStatus(d) => d.write_json(w),
            Self::VonageMessage(d) => d.write_json(w),
            Self::VonageStatus(d) => d.write_json(w),
            Self::Unknown(raw) => w.raw(raw),
        }
    }
}

impl WriteJson for Event {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "provider" => self.provider,
            "type" => self.event_type,
            "id" => self.id,
            "occurredAt" => self.occurred_at,
            "dedupKey" => self.dedup_key,
            "data" => self.data,
            "message" => self.message,
        );
    }
}

impl Event {
    /// The event as JSON, camelCase keys:
    /// `{"provider","type","id","occurredAt","dedupKey","data","message"}`.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut w = Writer::default();
        self.write_json(&mut w);
        w.finish()
    }
}

/// Parses a verified body into events, with the parser of the scheme `name`; the verifier
/// passes the delivery id and timestamp it established.
pub(crate) fn parse(
    name: &'static str,
    events: &Events,
    body: &[u8],
    headers: &dyn Headers,
    verified_id: Option<&str>,
    verified_ts: Option<i64>,
) -> Result<Vec<Event>, Error> {
    (events.parse)(&Ctx {
        provider: Provider(name),
        body,
        headers,
        header_id: verified_id,
        header_ts: verified_ts,
    })
}

/// See [`crate::Verifier::unparsed_event`].
pub(crate) fn unparsed(name: &'static str, body: &[u8], err: &Error) -> Event {
    let provider = Provider(name);
    let ctx = Ctx {
        provider,
        body,
        headers: &[("", "")],
        header_id: None,
        header_ts: None,
    };
    let mut w = Writer::default();
    w.begin_object();
    w.key("error");
    w.str(err.code());
    w.key("message");
    w.str(&err.to_string());
    match core::str::from_utf8(body) {
        Ok(text) => {
            w.key("body");
            w.str(text);
            w.key("bodyEncoding");
            w.str("utf8");
        }
        Err(_) => {
            w.key("body");
            w.str(&crate::mac::Encoding::Base64.encode(body));
            w.key("bodyEncoding");
            w.str("base64");
        }
    }
    w.end_object();
    Event {
        provider,
        event_type: "hookseal.unparsed".to_owned(),
        id: None,
        occurred_at: None,
        dedup_key: ctx.body_key(),
        data: EventData::Unknown(w.finish()),
        message: None,
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
    /// `{provider}:{parts joined by ':'}`, hashed when too long. Within a part, `%` and `:` are
    /// written `%25` and `%3A`, so distinct parts never join into the same key (`s1:working` +
    /// `failed` and `s1` + `working:failed` stay apart).
    pub fn key(&self, parts: &[&str]) -> String {
        let mut key = String::from(self.provider.name());
        for p in parts {
            key.push(':');
            let mut rest = *p;
            while let Some(at) = rest.find(['%', ':']) {
                key.push_str(rest.get(..at).unwrap_or(""));
                key.push_str(if rest.as_bytes().get(at) == Some(&b'%') {
                    "%25"
                } else {
                    "%3A"
                });
                rest = rest.get(at + 1..).unwrap_or("");
            }
            key.push_str(rest);
        }
        if key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
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

/// Parses the body as JSON: UTF-8 first (a clear error for a wrong charset), then JSON with a
/// nesting limit (128), which turns a deeply nested body into an error, not a stack overflow.
pub(crate) fn document(body: &[u8]) -> Result<Json<'_>, Error> {
    let text = core::str::from_utf8(body).map_err(|e| Error::InvalidUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    Json::parse(text).map_err(|e| {
        let (line, column) = e.line_column(text);
        Error::MalformedJson { line, column }
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
            document(b"{\"t\": 1e999,}").unwrap_err().code(),
            "malformed_json"
        );
        // A huge number is kept as text, not refused: a field hookseal never reads must not
        // make a delivery fail.
        assert!(document(b"{\"t\": 1e999}").is_ok());
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            document(deep.as_bytes()).unwrap_err().code(),
            "malformed_json"
        );
    }

    #[test]
    fn unparsed_bodies_are_kept() {
        let err = document(b"{").unwrap_err();
        let e = unparsed("moltflow", b"{", &err);
        assert_eq!(e.event_type, "hookseal.unparsed");
        assert!(e.dedup_key.starts_with("moltflow:sha256:"));
        let json = e.to_json();
        assert!(json.contains(r#""error":"malformed_json""#), "{json}");
        assert!(
            json.contains(r#""body":"{","bodyEncoding":"utf8""#),
            "{json}"
        );
        let bin = unparsed(
            "mossmoon",
            b"\xff\x00",
            &Error::InvalidUtf8 { valid_up_to: 0 },
        );
        assert!(
            bin.to_json()
                .contains(r#""body":"/wA=","bodyEncoding":"base64""#)
        );
    }

    #[test]
    fn long_keys_and_keys_that_cannot_be_header_values_are_hashed() {
        let ctx = Ctx {
            provider: Provider("mossmoon"),
            body: b"",
            headers: &[("a", "b")],
            header_id: None,
            header_ts: None,
        };
        assert_eq!(ctx.key(&["evt_1"]), "mossmoon:evt_1");
        let long = "x".repeat(300);
        for id in [long.as_str(), "evt\n1", "evt 1", "évt_1", "evt\u{0}1"] {
            let k = ctx.key(&[id]);
            assert!(
                k.starts_with("mossmoon:sha256:") && k.len() == 16 + 64,
                "{k}"
            );
            assert_eq!(k, ctx.key(&[id]), "the same id, the same key");
        }
        assert_ne!(ctx.key(&["evt\n1"]), ctx.key(&["evt\n2"]));
        // Parts are escaped, so no two lists of parts give one key.
        assert_eq!(
            ctx.key(&["s1:working", "failed"]),
            "mossmoon:s1%3Aworking:failed"
        );
        assert_ne!(
            ctx.key(&["s1:working", "failed"]),
            ctx.key(&["s1", "working:failed"])
        );
        assert_ne!(ctx.key(&["a%3Ab"]), ctx.key(&["a:b"]));
        assert_ne!(ctx.key(&["sha256", "x"]), ctx.key(&["sha256:x"]));
        assert_eq!(ctx.key(&["wamid.HBgL+/=="]), "mossmoon:wamid.HBgL+/==");
        assert_eq!(
            ctx.body_key(),
            "mossmoon:sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
