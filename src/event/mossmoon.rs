//! Mossmoon: `{event, id, line_id, …}` envelopes; every event has an `evt_…` id.

use super::json::Obj;
use super::message::{InboundMessage, MediaRef, MessageKind, address};
use super::{Ctx, Event, EventData, WriteJson, object};
use crate::error::{Error, FieldProblem};
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

/// A media object (Mossmoon's `message.media`, Meta's `image`/`audio`/…).
pub(crate) fn media(o: &Obj<'_, '_>) -> Result<MediaRef, Error> {
    Ok(MediaRef {
        id: o.opt_id("id")?,
        url: o.opt_string("url")?,
        mime_type: o.opt_string("mime_type")?,
        sha256: o.opt_string("sha256")?,
        filename: o.opt_string("filename")?,
    })
}

pub(crate) fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Result<Event, Error> {
    let root = Obj::root(doc)?;
    let event = root.str("event")?;
    let id = root.id("id")?;
    let line_id = root.opt_id("line_id")?;
    let mut occurred_at = None;
    let mut message = None;
    let data = match event {
        "line.ready" | "line.disconnected" => EventData::MossmoonLine(MossmoonLine {
            line_id: line_id.ok_or_else(|| root.error("line_id", FieldProblem::Missing))?,
            phone: root.opt_id("phone")?,
            reason: root.opt_str("reason")?.map(str::to_owned),
        }),
        "message.received" => {
            let m = root.obj("message", "message")?;
            let media = m
                .opt_obj("media", "message.media")?
                .map(|o| media(&o))
                .transpose()?;
            let text = match m.opt_str("text") {
                Ok(t) => t,
                // Tolerate Meta's `{"body": …}` shape.
                Err(_) => m.obj("text", "message.text")?.opt_str("body")?,
            }
            .or(m.opt_str("body")?)
            .map(str::to_owned);
            let msg = MossmoonMessage {
                line_id: line_id.clone(),
                message_id: m.id("id")?,
                from: m.id("from")?,
                kind: m.str("type")?.to_owned(),
                text,
                caption: m.opt_str("caption")?.map(str::to_owned),
                media,
                received_at: m.opt_rfc3339("received_at")?,
            };
            occurred_at = msg.received_at;
            let (sender, _) = address(&msg.from);
            let (chat, is_group) = match m.opt_str("chat_id")? {
                Some(c) => address(c),
                None => (sender.clone(), false),
            };
            message = Some(InboundMessage {
                provider_message_id: msg.message_id.clone(),
                sender,
                sender_name: None,
                chat,
                is_group,
                kind: MessageKind::from_name(&msg.kind),
                text: msg.text.clone().or_else(|| msg.caption.clone()),
                media: msg.media.clone(),
                received_at: msg.received_at,
            });
            EventData::MossmoonMessage(msg)
        }
        "message.delivered" => {
            let m = root.opt_obj("message", "message")?;
            let message_id = match m {
                Some(m) => m.id("id")?,
                None => root.id("message_id")?,
            };
            let d = MossmoonDelivery {
                line_id: line_id.clone(),
                message_id,
                to: match m {
                    Some(m) => m.opt_id("to")?,
                    None => root.opt_id("to")?,
                },
                delivered_at: match m {
                    Some(m) => m.opt_rfc3339("delivered_at")?,
                    None => root.opt_rfc3339("delivered_at")?,
                },
            };
            occurred_at = d.delivered_at;
            EventData::MossmoonDelivery(d)
        }
        _ => EventData::Unknown(doc.raw().into_owned()),
    };
    Ok(Event {
        provider: ctx.provider,
        event_type: event.to_owned(),
        dedup_key: ctx.key(&[&id]),
        id: Some(id),
        occurred_at,
        data,
        message,
    })
}
