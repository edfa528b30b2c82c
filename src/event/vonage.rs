//! Vonage Messages API: inbound messages (`message_type`) and message statuses (`status`), as
//! its webhooks send them for WhatsApp (and the other channels, which share the shape).

use super::json::{Obj, Parsed, own};
use super::message::{InboundMessage, Location, MediaRef, MessageKind, address};
use super::{Ctx, Event, EventData, Events, WriteJson, object};
use crate::error::FieldProblem;
use crate::json::{Json, Writer};

/// A Vonage inbound message (`message.received`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VonageMessage {
    /// `message_uuid`.
    pub message_uuid: String,
    /// `channel` (`whatsapp`, `sms`, `mms`, `viber_service`, `messenger`).
    pub channel: Option<String>,
    /// `from`: the sender's number.
    pub from: String,
    /// `to`: your number.
    pub to: Option<String>,
    /// `profile.name`: the sender's WhatsApp profile name.
    pub profile_name: Option<String>,
    /// `message_type` (`text`, `image`, `audio`, `video`, `file`, `sticker`, `location`,
    /// `reply`, `button`, …).
    pub message_type: String,
    /// `text`, or the reply's or button's text.
    pub text: Option<String>,
    /// The media of a media message (its `url`, and `name` for a file).
    pub media: Option<MediaRef>,
    /// A media caption.
    pub caption: Option<String>,
    /// `location.lat`, `location.long` (the numbers exactly as sent), `name`, `address`.
    pub location: Option<Location>,
    /// `reply.id` or `button.payload`: what the user chose.
    pub reply_id: Option<String>,
    /// `context.message_uuid`: the message this one replies to.
    pub context_id: Option<String>,
    /// `timestamp`, unix seconds.
    pub timestamp: Option<i64>,
}

/// A Vonage message status (`message.submitted`, `message.delivered`, `message.read`,
/// `message.rejected`, `message.undeliverable`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VonageStatus {
    /// `message_uuid`.
    pub message_uuid: String,
    /// `status`.
    pub status: String,
    /// `channel`.
    pub channel: Option<String>,
    /// `to`.
    pub to: Option<String>,
    /// `from`.
    pub from: Option<String>,
    /// `timestamp`, unix seconds.
    pub timestamp: Option<i64>,
    /// `error.title` (Vonage's error code, a number or a string) and `error.detail`.
    pub error: Option<VonageError>,
    /// `client_ref`, as you set it when sending.
    pub client_ref: Option<String>,
}

/// Why a message failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VonageError {
    /// `error.title`, as text.
    pub code: Option<String>,
    /// `error.detail`.
    pub detail: Option<String>,
}

/// The row of the scheme table that reads Vonage events.
pub(crate) static EVENTS: Events = Events {
    parse: |ctx| Ok(vec![parse(ctx, &super::document(ctx.body)?)?]),
    headers: &[],
};

/// The media object of each media `message_type`.
const MEDIA: &[&str] = &["image", "audio", "video", "file", "sticker", "vcard"];

fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Parsed<Event> {
    let root = Obj::root(doc)?;
    let uuid = root.id("message_uuid")?;
    let (channel, from, to) = (
        root.opt_str("channel")?,
        root.opt_id("from")?,
        root.opt_id("to")?,
    );
    let timestamp = root.opt_rfc3339("timestamp")?;
    if let Some(status) = root.opt_str("status")? {
        let error = match root.opt_obj("error", "error")? {
            Some(e) => Some(VonageError {
                code: e.opt_id("title")?.map(str::to_owned),
                detail: own(e.opt_str("detail")?),
            }),
            None => None,
        };
        let client_ref = root.opt_str("client_ref")?;
        let status = status.to_ascii_lowercase();
        return Ok(Event {
            provider: ctx.provider,
            event_type: format!("message.{status}"),
            id: Some(uuid.to_owned()),
            occurred_at: timestamp,
            dedup_key: ctx.key(&["status", uuid, &status]),
            data: EventData::VonageStatus(VonageStatus {
                message_uuid: uuid.to_owned(),
                status,
                channel: own(channel),
                to: own(to),
                from: own(from),
                timestamp,
                error,
                client_ref: own(client_ref),
            }),
            message: None,
        });
    }
    let Some(kind) = root.opt_str("message_type")? else {
        return Ok(Event {
            provider: ctx.provider,
            event_type: "unknown".to_owned(),
            id: Some(uuid.to_owned()),
            occurred_at: timestamp,
            dedup_key: ctx.body_key(),
            data: EventData::Unknown(doc.raw().into_owned()),
            message: None,
        });
    };
    let from = from.ok_or_else(|| root.error("from", FieldProblem::Missing))?;
    let profile_name = match root.opt_obj("profile", "profile")? {
        Some(p) => p.opt_str("name")?,
        None => None,
    };
    let body = if MEDIA.contains(&kind) {
        root.opt_obj(kind, kind)?
    } else {
        None
    };
    let media = match body {
        Some(b) => Some(MediaRef {
            url: own(b.opt_str("url")?),
            filename: own(b.opt_str("name")?),
            ..MediaRef::default()
        }),
        None => None,
    };
    let caption = match body {
        Some(b) => b.opt_str("caption")?,
        None => None,
    };
    let location = match root.opt_obj("location", "location")? {
        Some(l) if kind == "location" => Some(Location {
            latitude: l.number("lat")?.to_owned(),
            longitude: l.number("long")?.to_owned(),
            name: own(l.opt_str("name")?),
            address: own(l.opt_str("address")?),
        }),
        _ => None,
    };
    // A reply to an interactive message, or a quick-reply button press.
    let (reply_id, reply_text) = match kind {
        "reply" => match root.opt_obj("reply", "reply")? {
            Some(r) => (r.opt_id("id")?, r.opt_str("title")?),
            None => (None, None),
        },
        "button" => match root.opt_obj("button", "button")? {
            Some(b) => (b.opt_str("payload")?, b.opt_str("text")?),
            None => (None, None),
        },
        _ => (None, None),
    };
    let text = root.opt_str("text")?.or(reply_text);
    let context_id = match root.opt_obj("context", "context")? {
        Some(c) => c.opt_id("message_uuid")?,
        None => None,
    };
    let (sender, _) = address(from);
    let message = InboundMessage {
        provider_message_id: uuid.to_owned(),
        chat: sender.clone(),
        sender,
        sender_name: own(profile_name),
        is_group: false,
        kind: match kind {
            "file" => MessageKind::Document,
            "reply" => MessageKind::Interactive,
            other => MessageKind::from_name(other),
        },
        text: own(text.or(caption)),
        media: media.clone(),
        received_at: timestamp,
    };
    Ok(Event {
        provider: ctx.provider,
        event_type: "message.received".to_owned(),
        id: Some(uuid.to_owned()),
        occurred_at: timestamp,
        dedup_key: ctx.key(&["message", uuid]),
        data: EventData::VonageMessage(Box::new(VonageMessage {
            message_uuid: uuid.to_owned(),
            channel: own(channel),
            from: from.to_owned(),
            to: own(to),
            profile_name: own(profile_name),
            message_type: kind.to_owned(),
            text: own(text),
            media,
            caption: own(caption),
            location,
            reply_id: own(reply_id),
            context_id: own(context_id),
            timestamp,
        })),
        message: Some(message),
    })
}

impl WriteJson for VonageMessage {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "messageUuid" => self.message_uuid,
            "channel" => self.channel,
            "from" => self.from,
            "to" => self.to,
            "profileName" => self.profile_name,
            "messageType" => self.message_type,
            "text" => self.text,
            "media" => self.media,
            "caption" => self.caption,
            "location" => self.location,
            "replyId" => self.reply_id,
            "contextId" => self.context_id,
            "timestamp" => self.timestamp,
        );
    }
}

impl WriteJson for VonageStatus {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "messageUuid" => self.message_uuid,
            "status" => self.status,
            "channel" => self.channel,
            "to" => self.to,
            "from" => self.from,
            "timestamp" => self.timestamp,
            "error" => self.error,
            "clientRef" => self.client_ref,
        );
    }
}

impl WriteJson for VonageError {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "code" => self.code, "detail" => self.detail);
    }
}
