//! MoltFlow: `{event, timestamp, data}` envelopes.

use super::json::Obj;
use super::message::{InboundMessage, MessageKind, address};
use super::{Ctx, Event, EventData, WriteJson, object};
use crate::error::Error;
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

pub(crate) fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Result<Event, Error> {
    let root = Obj::root(doc)?;
    let event = root.str("event")?;
    let timestamp = root.str("timestamp")?;
    let occurred_at = root.opt_rfc3339("timestamp")?;
    let data = root.opt_obj("data", "data")?;
    let missing_data = || root.error("data", crate::FieldProblem::Missing);
    let mut message = None;
    let (data, key) = match event {
        "message.received" | "message.sent" => {
            let d = data.ok_or_else(missing_data)?;
            let m = MoltFlowMessage {
                session_id: d.opt_id("session_id")?,
                from: d.opt_id("from")?,
                from_name: d.opt_str("from_name")?.map(str::to_owned),
                to: d.opt_id("to")?,
                body: d.opt_str("body")?.map(str::to_owned),
                message_id: d.id("message_id")?,
                chat_id: d.opt_str("chat_id")?.map(str::to_owned),
            };
            if event == "message.received" {
                let from = m
                    .from
                    .as_deref()
                    .ok_or_else(|| d.error("from", crate::FieldProblem::Missing))?;
                let (sender, _) = address(from);
                let (chat, is_group) = address(m.chat_id.as_deref().unwrap_or(from));
                message = Some(InboundMessage {
                    provider_message_id: m.message_id.clone(),
                    sender,
                    sender_name: m.from_name.clone(),
                    chat,
                    is_group,
                    kind: MessageKind::Text,
                    text: m.body.clone(),
                    media: None,
                    received_at: occurred_at,
                });
            }
            let key = ctx.key(&[event, &m.message_id]);
            (EventData::MoltFlowMessage(m), key)
        }
        "session.status_changed" => {
            let d = data.ok_or_else(missing_data)?;
            let s = MoltFlowSession {
                session_id: d.id("session_id")?,
                old_status: d.opt_str("old_status")?.map(str::to_owned),
                new_status: d.str("new_status")?.to_owned(),
                reason: d.opt_str("reason")?.map(str::to_owned),
            };
            let key = ctx.key(&[event, &s.session_id, &s.new_status, timestamp]);
            (EventData::MoltFlowSession(s), key)
        }
        "lead.captured" => {
            let d = data.ok_or_else(missing_data)?;
            let l = MoltFlowLead {
                session_id: d.opt_id("session_id")?,
                group_id: d.opt_str("group_id")?.map(str::to_owned),
                phone: d.id("phone")?,
                name: d.opt_str("name")?.map(str::to_owned),
                message_preview: d.opt_str("message_preview")?.map(str::to_owned),
                captured_at: d.opt_rfc3339("captured_at")?,
            };
            let when = d.opt_str("captured_at")?.unwrap_or(timestamp);
            let key = ctx.key(&[
                event,
                l.session_id.as_deref().unwrap_or(""),
                l.group_id.as_deref().unwrap_or(""),
                &l.phone,
                when,
            ]);
            (EventData::MoltFlowLead(l), key)
        }
        "webhook.test" => {
            let message = match data {
                Some(d) => d.opt_str("message")?.map(str::to_owned),
                None => None,
            };
            (
                EventData::MoltFlowTest(MoltFlowTest { message }),
                ctx.body_key(),
            )
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
