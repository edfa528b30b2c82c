//! MoltFlow: `{event, timestamp, data}` envelopes.

use super::json::{Obj, Parsed, own};
use super::message::{InboundMessage, MessageKind, address};
use super::{Ctx, Event, EventData, WriteJson, object};
use crate::error::FieldProblem;
use crate::json::{Json, Writer};

/// MoltFlow `message.received` (a customer wrote) or `message.sent` (an outbound message was
/// confirmed delivered by WhatsApp).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoltFlowMessage {
    /// The MoltFlow session (WhatsApp number) it belongs to.
    pub session_id: Option<String>,
    /// The sender (received messages).
    pub from: Option<String>,
    /// The sender's display name (received messages).
    pub from_name: Option<String>,
    /// The recipient (sent messages).
    pub to: Option<String>,
    /// The text.
    pub body: Option<String>,
    /// WhatsApp's message id.
    pub message_id: String,
    /// The chat (`…@c.us`, or `…@g.us` for a group).
    pub chat_id: Option<String>,
}

/// MoltFlow `session.status_changed`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoltFlowSession {
    /// The session.
    pub session_id: String,
    /// The status before (`working`, `stopped`, ...).
    pub old_status: Option<String>,
    /// The status now (`failed`, `working`, ...).
    pub new_status: String,
    /// Why, when MoltFlow says.
    pub reason: Option<String>,
}

/// MoltFlow `lead.captured`: a lead from a monitored group.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoltFlowLead {
    /// The session.
    pub session_id: Option<String>,
    /// The group it was captured in.
    pub group_id: Option<String>,
    /// The lead's number.
    pub phone: String,
    /// The lead's name.
    pub name: Option<String>,
    /// The start of the message that made it a lead.
    pub message_preview: Option<String>,
    /// When it was captured, unix seconds.
    pub captured_at: Option<i64>,
}

/// MoltFlow `webhook.test`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MoltFlowTest {
    /// The test message.
    pub message: Option<String>,
}

impl WriteJson for MoltFlowMessage {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "sessionId" => self.session_id,
            "from" => self.from,
            "fromName" => self.from_name,
            "to" => self.to,
            "body" => self.body,
            "messageId" => self.message_id,
            "chatId" => self.chat_id,
        );
    }
}

impl WriteJson for MoltFlowSession {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "sessionId" => self.session_id,
            "oldStatus" => self.old_status,
            "newStatus" => self.new_status,
            "reason" => self.reason,
        );
    }
}

impl WriteJson for MoltFlowLead {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "sessionId" => self.session_id,
            "groupId" => self.group_id,
            "phone" => self.phone,
            "name" => self.name,
            "messagePreview" => self.message_preview,
            "capturedAt" => self.captured_at,
        );
    }
}

impl WriteJson for MoltFlowTest {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "message" => self.message);
    }
}

/// The row of the scheme table that reads moltflow events.
pub(crate) static EVENTS: super::Events = super::Events {
    parse: |ctx| Ok(vec![parse(ctx, &super::document(ctx.body)?)?]),
    headers: &[],
};

pub(crate) fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Parsed<Event> {
    // Every fallible read first, borrowing; owned values are built only once nothing can fail.
    let root = Obj::root(doc)?;
    let event = root.str("event")?;
    let timestamp = root.str("timestamp")?;
    let occurred_at = root.opt_rfc3339("timestamp")?;
    let data = root.opt_obj("data", "data")?;
    let missing_data = || root.error("data", FieldProblem::Missing);
    let mut message = None;
    let (data, key) = match event {
        "message.received" | "message.sent" => {
            let d = data.ok_or_else(missing_data)?;
            let (session_id, from, from_name, to) = (
                d.opt_id("session_id")?,
                d.opt_id("from")?,
                d.opt_str("from_name")?,
                d.opt_id("to")?,
            );
            let (body, message_id, chat_id) = (
                d.opt_str("body")?,
                d.id("message_id")?,
                d.opt_str("chat_id")?,
            );
            if event == "message.received" {
                let from = from.ok_or_else(|| d.error("from", FieldProblem::Missing))?;
                let (sender, _) = address(from);
                let (chat, is_group) = address(chat_id.unwrap_or(from));
                message = Some(InboundMessage {
                    provider_message_id: message_id.to_owned(),
                    sender,
                    sender_name: own(from_name),
                    chat,
                    is_group,
                    kind: MessageKind::Text,
                    text: own(body),
                    media: None,
                    received_at: occurred_at,
                });
            }
            let m = MoltFlowMessage {
                session_id: own(session_id),
                from: own(from),
                from_name: own(from_name),
                to: own(to),
                body: own(body),
                message_id: message_id.to_owned(),
                chat_id: own(chat_id),
            };
            (EventData::MoltFlowMessage(m), ctx.key(&[event, message_id]))
        }
        "session.status_changed" => {
            let d = data.ok_or_else(missing_data)?;
            let (session_id, old_status, new_status, reason) = (
                d.id("session_id")?,
                d.opt_str("old_status")?,
                d.str("new_status")?,
                d.opt_str("reason")?,
            );
            let s = MoltFlowSession {
                session_id: session_id.to_owned(),
                old_status: own(old_status),
                new_status: new_status.to_owned(),
                reason: own(reason),
            };
            let key = ctx.key(&[event, session_id, new_status, timestamp]);
            (EventData::MoltFlowSession(s), key)
        }
        "lead.captured" => {
            let d = data.ok_or_else(missing_data)?;
            let (session_id, group_id, phone, name) = (
                d.opt_id("session_id")?,
                d.opt_str("group_id")?,
                d.id("phone")?,
                d.opt_str("name")?,
            );
            let (preview, captured_at) =
                (d.opt_str("message_preview")?, d.opt_rfc3339("captured_at")?);
            let when = d.opt_str("captured_at")?.unwrap_or(timestamp);
            let key = ctx.key(&[
                event,
                session_id.unwrap_or(""),
                group_id.unwrap_or(""),
                phone,
                when,
            ]);
            let l = MoltFlowLead {
                session_id: own(session_id),
                group_id: own(group_id),
                phone: phone.to_owned(),
                name: own(name),
                message_preview: own(preview),
                captured_at,
            };
            (EventData::MoltFlowLead(l), key)
        }
        "webhook.test" => {
            let text = match data {
                Some(d) => d.opt_str("message")?,
                None => None,
            };
            let t = MoltFlowTest { message: own(text) };
            (EventData::MoltFlowTest(t), ctx.body_key())
        }
        _ => (EventData::Unknown(doc.raw().into_owned()), ctx.body_key()),
    };
    Ok(Event {
        provider: ctx.provider,
        event_type: event.to_owned(),
        id: None,
        occurred_at,
        dedup_key: key,
        data,
        message,
    })
}
