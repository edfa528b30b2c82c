//! Mossmoon: `{event, id, line_id, …}` envelopes; every event has an `evt_…` id.

use super::json::{Obj, Parsed, own};
use super::message::{InboundMessage, MediaRef, MessageKind, address};
use super::{Ctx, Event, EventData, WriteJson, object};
use crate::error::FieldProblem;
use crate::json::{Json, Writer};

/// Mossmoon `line.ready` / `line.disconnected`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MossmoonLine {
    /// The line (WhatsApp number) concerned.
    pub line_id: String,
    /// The line's phone number, when sent.
    pub phone: Option<String>,
    /// Why it disconnected, when sent.
    pub reason: Option<String>,
}

/// Mossmoon `message.received`: text, or media (image, video, voice, document) with a signed URL
/// valid for 24 hours.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MossmoonMessage {
    /// The line that received it.
    pub line_id: Option<String>,
    /// Mossmoon's message id (`msg_…`).
    pub message_id: String,
    /// The sender (`+15559876543`).
    pub from: String,
    /// `text`, `image`, `video`, `voice`, `document`, ... as Mossmoon names it.
    pub kind: String,
    /// The text of a text message.
    pub text: Option<String>,
    /// The caption of a media message.
    pub caption: Option<String>,
    /// The media of a media message.
    pub media: Option<MediaRef>,
    /// When Mossmoon received it, unix seconds.
    pub received_at: Option<i64>,
}

/// Mossmoon `message.delivered`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MossmoonDelivery {
    /// The line that sent it.
    pub line_id: Option<String>,
    /// The delivered message.
    pub message_id: String,
    /// The recipient.
    pub to: Option<String>,
    /// When it was delivered, unix seconds.
    pub delivered_at: Option<i64>,
}

impl WriteJson for MossmoonLine {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "lineId" => self.line_id, "phone" => self.phone, "reason" => self.reason);
    }
}

impl WriteJson for MossmoonMessage {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "lineId" => self.line_id,
            "messageId" => self.message_id,
            "from" => self.from,
            "type" => self.kind,
            "text" => self.text,
            "caption" => self.caption,
            "media" => self.media,
            "receivedAt" => self.received_at,
        );
    }
}

impl WriteJson for MossmoonDelivery {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "lineId" => self.line_id,
            "messageId" => self.message_id,
            "to" => self.to,
            "deliveredAt" => self.delivered_at,
        );
    }
}

/// A media object's fields (Mossmoon's `message.media`, Meta's `image`/`audio`/…), borrowed.
pub(crate) struct MediaFields<'j> {
    id: Option<&'j str>,
    url: Option<&'j str>,
    mime_type: Option<&'j str>,
    sha256: Option<&'j str>,
    filename: Option<&'j str>,
}

impl<'j> MediaFields<'j> {
    pub(crate) fn read(o: &Obj<'j, '_>) -> Parsed<Self> {
        Ok(Self {
            id: o.opt_id("id")?,
            url: o.opt_str("url")?,
            mime_type: o.opt_str("mime_type")?,
            sha256: o.opt_str("sha256")?,
            filename: o.opt_str("filename")?,
        })
    }

    pub(crate) fn owned(&self) -> MediaRef {
        MediaRef {
            id: own(self.id),
            url: own(self.url),
            mime_type: own(self.mime_type),
            sha256: own(self.sha256),
            filename: own(self.filename),
        }
    }
}

/// The row of the scheme table that reads mossmoon events.
pub(crate) static EVENTS: super::Events = super::Events {
    parse: |ctx| Ok(vec![parse(ctx, &super::document(ctx.body)?)?]),
    headers: &[],
};

pub(crate) fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Parsed<Event> {
    // Every fallible read first, borrowing; owned values are built only once nothing can fail.
    let root = Obj::root(doc)?;
    let event = root.str("event")?;
    let id = root.id("id")?;
    let line_id = root.opt_id("line_id")?;
    let mut occurred_at = None;
    let mut message = None;
    let data = match event {
        "line.ready" | "line.disconnected" => {
            let line = line_id.ok_or_else(|| root.error("line_id", FieldProblem::Missing))?;
            let (phone, reason) = (root.opt_id("phone")?, root.opt_str("reason")?);
            EventData::MossmoonLine(MossmoonLine {
                line_id: line.to_owned(),
                phone: own(phone),
                reason: own(reason),
            })
        }
        "message.received" => {
            let m = root.obj("message", "message")?;
            let media = m
                .opt_obj("media", "message.media")?
                .map(|o| MediaFields::read(&o))
                .transpose()?;
            let text = match m.opt_str("text") {
                Ok(t) => t,
                // Tolerate Meta's `{"body": …}` shape.
                Err(_) => m.obj("text", "message.text")?.opt_str("body")?,
            }
            .or(m.opt_str("body")?);
            let (message_id, from, kind) = (m.id("id")?, m.id("from")?, m.str("type")?);
            let (caption, received_at) = (m.opt_str("caption")?, m.opt_rfc3339("received_at")?);
            let chat_id = m.opt_str("chat_id")?;
            occurred_at = received_at;
            let (sender, _) = address(from);
            let (chat, is_group) = match chat_id {
                Some(c) => address(c),
                None => (sender.clone(), false),
            };
            let media = media.map(|f| f.owned());
            message = Some(InboundMessage {
                provider_message_id: message_id.to_owned(),
                sender,
                sender_name: None,
                chat,
                is_group,
                kind: MessageKind::from_name(kind),
                text: own(text.or(caption)),
                media: media.clone(),
                received_at,
            });
            EventData::MossmoonMessage(MossmoonMessage {
                line_id: own(line_id),
                message_id: message_id.to_owned(),
                from: from.to_owned(),
                kind: kind.to_owned(),
                text: own(text),
                caption: own(caption),
                media,
                received_at,
            })
        }
        "message.delivered" => {
            let m = root.opt_obj("message", "message")?;
            let at = m.unwrap_or(root);
            let message_id = match m {
                Some(m) => m.id("id")?,
                None => root.id("message_id")?,
            };
            let (to, delivered_at) = (at.opt_id("to")?, at.opt_rfc3339("delivered_at")?);
            occurred_at = delivered_at;
            EventData::MossmoonDelivery(MossmoonDelivery {
                line_id: own(line_id),
                message_id: message_id.to_owned(),
                to: own(to),
                delivered_at,
            })
        }
        _ => EventData::Unknown(doc.raw().into_owned()),
    };
    Ok(Event {
        provider: ctx.provider,
        event_type: event.to_owned(),
        dedup_key: ctx.key(&[id]),
        id: Some(id.to_owned()),
        occurred_at,
        data,
        message,
    })
}
