//! Meta WhatsApp Cloud API: `{object, entry[].changes[].value}` with `messages[]` and
//! `statuses[]`. One delivery becomes one event per message and per status.

use super::json::{Obj, element};
use super::message::{InboundMessage, MediaRef, MessageKind, address};
use super::{Ctx, Event, EventData, Raw, WriteJson, object};
use crate::error::Error;
use crate::json::{Json, Writer};

/// A message from `value.messages[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaMessage {
    /// The business number's id (`metadata.phone_number_id`).
    pub phone_number_id: Option<String>,
    /// The business number (`metadata.display_phone_number`).
    pub display_phone_number: Option<String>,
    /// The sender's WhatsApp id.
    pub from: String,
    /// The sender's profile name (`contacts[].profile.name`).
    pub contact_name: Option<String>,
    /// The message id (`wamid.…`).
    pub id: String,
    /// When it was sent, unix seconds.
    pub timestamp: Option<i64>,
    /// `text`, `image`, `audio`, `video`, `document`, `sticker`, `location`, `contacts`,
    /// `interactive`, `button`, `reaction`, ... as Meta names it.
    pub kind: String,
    /// The text (`text.body`), a button's text, or the title of the chosen reply.
    pub text: Option<String>,
    /// A media caption.
    pub caption: Option<String>,
    /// The media of an image, audio, video, document or sticker message.
    pub media: Option<MediaRef>,
    /// A shared location.
    pub location: Option<MetaLocation>,
    /// The chosen button or list row of an interactive reply, or a quick-reply payload.
    pub reply: Option<MetaReply>,
    /// A reaction.
    pub reaction: Option<MetaReaction>,
    /// The message this one replies to (`context.id`).
    pub context_id: Option<String>,
}

/// A shared location.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaLocation {
    /// Latitude in degrees, the number exactly as sent (never rounded through a float).
    pub latitude: String,
    /// Longitude in degrees, exactly as sent.
    pub longitude: String,
    /// The place's name.
    pub name: Option<String>,
    /// The place's address.
    pub address: Option<String>,
}

/// A reply to an interactive message (`button_reply`, `list_reply`) or a quick-reply button.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaReply {
    /// `button_reply`, `list_reply` or `button`.
    pub kind: String,
    /// The id (or quick-reply payload) the business set.
    pub id: Option<String>,
    /// The title the user saw.
    pub title: Option<String>,
}

/// A reaction to a message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaReaction {
    /// The message reacted to.
    pub message_id: Option<String>,
    /// The emoji (absent when a reaction is removed).
    pub emoji: Option<String>,
}

/// A status from `value.statuses[]`: the fate of a message the business sent.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaStatus {
    /// The business number's id.
    pub phone_number_id: Option<String>,
    /// The message's id (`wamid.…`).
    pub id: String,
    /// `sent`, `delivered`, `read`, `failed` (or a newer one).
    pub status: String,
    /// When, unix seconds.
    pub timestamp: Option<i64>,
    /// The recipient's WhatsApp id.
    pub recipient_id: Option<String>,
    /// Why it failed.
    pub errors: Vec<MetaError>,
}

/// An error attached to a failed status.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MetaError {
    /// Meta's error code (for example 131047).
    pub code: Option<i64>,
    /// A short title.
    pub title: Option<String>,
    /// A longer message.
    pub message: Option<String>,
}

impl WriteJson for MetaLocation {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "latitude" => Raw(&self.latitude),
            "longitude" => Raw(&self.longitude),
            "name" => self.name,
            "address" => self.address,
        );
    }
}

impl WriteJson for MetaReply {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "type" => self.kind, "id" => self.id, "title" => self.title);
    }
}

impl WriteJson for MetaReaction {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "messageId" => self.message_id, "emoji" => self.emoji);
    }
}

impl WriteJson for MetaError {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "code" => self.code, "title" => self.title, "message" => self.message);
    }
}

impl WriteJson for MetaMessage {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "phoneNumberId" => self.phone_number_id,
            "displayPhoneNumber" => self.display_phone_number,
            "from" => self.from,
            "contactName" => self.contact_name,
            "id" => self.id,
            "timestamp" => self.timestamp,
            "type" => self.kind,
            "text" => self.text,
            "caption" => self.caption,
            "media" => self.media,
            "location" => self.location,
            "reply" => self.reply,
            "reaction" => self.reaction,
            "contextId" => self.context_id,
        );
    }
}

impl WriteJson for MetaStatus {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "phoneNumberId" => self.phone_number_id,
            "id" => self.id,
            "status" => self.status,
            "timestamp" => self.timestamp,
            "recipientId" => self.recipient_id,
            "errors" => self.errors,
        );
    }
}

pub(crate) fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Result<Vec<Event>, Error> {
    let root = Obj::root(doc)?;
    let object = root.str("object")?;
    if object != "whatsapp_business_account" {
        return Ok(vec![unknown(ctx, object, doc, "0")]);
    }
    let mut events = Vec::new();
    for (i, entry) in root.opt_array("entry")?.iter().enumerate() {
        let entry = element(entry, "entry[]")?;
        for (j, change) in entry.opt_array("changes")?.iter().enumerate() {
            let change = element(change, "entry[].changes[]")?;
            let field = change.opt_str("field")?.unwrap_or("unknown");
            let Some(value) = change.opt_obj("value", "entry[].changes[].value")? else {
                continue;
            };
            let before = events.len();
            if field == "messages" {
                parse_value(ctx, value, &mut events)?;
            }
            if events.len() == before {
                events.push(unknown(ctx, field, value.json, &format!("{i}.{j}")));
            }
        }
    }
    Ok(events)
}

fn unknown(ctx: &Ctx<'_>, event_type: &str, raw: &Json<'_>, at: &str) -> Event {
    Event {
        provider: ctx.provider,
        event_type: event_type.to_owned(),
        id: None,
        occurred_at: None,
        dedup_key: format!("{}:{at}", ctx.body_key()),
        data: EventData::Unknown(raw.raw().into_owned()),
        message: None,
    }
}

fn parse_value(ctx: &Ctx<'_>, value: Obj<'_, '_>, events: &mut Vec<Event>) -> Result<(), Error> {
    let (phone_number_id, display) = match value.opt_obj("metadata", "value.metadata")? {
        Some(m) => (
            m.opt_id("phone_number_id")?,
            m.opt_id("display_phone_number")?,
        ),
        None => (None, None),
    };
    let contacts = value.opt_array("contacts")?;
    let contact_name = |wa_id: &str| -> Option<String> {
        let named = |c: &Json<'_>| -> Option<(Option<String>, String)> {
            let name = c.get("profile")?.get("name")?.as_str()?;
            let wa_id = c.get("wa_id").and_then(Json::as_str).map(str::to_owned);
            Some((wa_id, name.to_owned()))
        };
        let all: Vec<_> = contacts.iter().filter_map(named).collect();
        all.iter()
            .find(|(id, _)| id.as_deref() == Some(wa_id))
            .or(all.first())
            .map(|(_, n)| n.clone())
    };

    for m in value.opt_array("messages")? {
        let m = element(m, "messages[]")?;
        let msg = message(m, phone_number_id.clone(), display.clone(), &contact_name)?;
        let (sender, _) = address(&msg.from);
        let kind = MessageKind::from_name(&msg.kind);
        let view = InboundMessage {
            provider_message_id: msg.id.clone(),
            chat: sender.clone(),
            sender,
            sender_name: msg.contact_name.clone(),
            is_group: false,
            text: msg.text.clone().or_else(|| msg.caption.clone()),
            media: msg.media.clone(),
            received_at: msg.timestamp,
            kind,
        };
        events.push(Event {
            provider: ctx.provider,
            event_type: "message.received".to_owned(),
            id: Some(msg.id.clone()),
            occurred_at: msg.timestamp,
            dedup_key: ctx.key(&["message", &msg.id]),
            data: EventData::MetaMessage(Box::new(msg)),
            message: Some(view),
        });
    }

    for s in value.opt_array("statuses")? {
        let s = element(s, "statuses[]")?;
        let mut errors = Vec::new();
        for e in s.opt_array("errors")? {
            let e = element(e, "statuses[].errors[]")?;
            errors.push(MetaError {
                code: e.opt_int("code")?,
                title: e.opt_str("title")?.map(str::to_owned),
                message: e.opt_str("message")?.map(str::to_owned),
            });
        }
        let status = MetaStatus {
            phone_number_id: phone_number_id.clone(),
            id: s.id("id")?,
            status: s.str("status")?.to_owned(),
            timestamp: s.opt_unix("timestamp")?,
            recipient_id: s.opt_id("recipient_id")?,
            errors,
        };
        events.push(Event {
            provider: ctx.provider,
            event_type: format!("message.{}", status.status),
            id: Some(status.id.clone()),
            occurred_at: status.timestamp,
            dedup_key: ctx.key(&["status", &status.id, &status.status]),
            data: EventData::MetaStatus(status),
            message: None,
        });
    }
    Ok(())
}

fn message(
    m: Obj<'_, '_>,
    phone_number_id: Option<String>,
    display_phone_number: Option<String>,
    contact_name: &dyn Fn(&str) -> Option<String>,
) -> Result<MetaMessage, Error> {
    let kind = m.str("type")?;
    let from = m.id("from")?;
    let body = m.opt_obj(kind, "messages[].<type>").ok().flatten();
    let media: Option<MediaRef> = match body {
        Some(b) if MessageKind::from_name(kind).has_media() => Some(super::mossmoon::media(&b)?),
        _ => None,
    };
    let caption = match body {
        Some(b) => b.opt_str("caption")?.map(str::to_owned),
        None => None,
    };
    let location = match (kind, body) {
        ("location", Some(b)) => {
            let coord = |k: &str| match b.get(k) {
                Some(Json::Num(n)) => Ok((*n).to_owned()),
                None => Err(b.error(k, crate::FieldProblem::Missing)),
                Some(_) => Err(b.error(k, crate::FieldProblem::WrongType)),
            };
            Some(MetaLocation {
                latitude: coord("latitude")?,
                longitude: coord("longitude")?,
                name: b.opt_str("name")?.map(str::to_owned),
                address: b.opt_str("address")?.map(str::to_owned),
            })
        }
        _ => None,
    };
    let reply = match (kind, body) {
        ("interactive", Some(b)) => {
            let t = b.opt_str("type")?.unwrap_or("interactive");
            let r = b.opt_obj(t, "messages[].interactive.<type>")?;
            Some(MetaReply {
                kind: t.to_owned(),
                id: r.map(|r| r.opt_id("id")).transpose()?.flatten(),
                title: r
                    .map(|r| r.opt_str("title"))
                    .transpose()?
                    .flatten()
                    .map(str::to_owned),
            })
        }
        ("button", Some(b)) => Some(MetaReply {
            kind: "button".to_owned(),
            id: b.opt_str("payload")?.map(str::to_owned),
            title: b.opt_str("text")?.map(str::to_owned),
        }),
        _ => None,
    };
    let reaction = match (kind, body) {
        ("reaction", Some(b)) => Some(MetaReaction {
            message_id: b.opt_str("message_id")?.map(str::to_owned),
            emoji: b.opt_str("emoji")?.map(str::to_owned),
        }),
        _ => None,
    };
    let text = match (kind, body) {
        ("text", Some(b)) => b.opt_str("body")?.map(str::to_owned),
        _ => reply.as_ref().and_then(|r| r.title.clone()),
    };
    let context_id = match m.opt_obj("context", "messages[].context")? {
        Some(c) => c.opt_str("id")?.map(str::to_owned),
        None => None,
    };
    Ok(MetaMessage {
        phone_number_id,
        display_phone_number,
        contact_name: contact_name(&from),
        from,
        id: m.id("id")?,
        timestamp: m.opt_unix("timestamp")?,
        kind: kind.to_owned(),
        text,
        caption,
        media,
        location,
        reply,
        reaction,
        context_id,
    })
}
