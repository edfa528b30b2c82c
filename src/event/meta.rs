//! Meta WhatsApp Cloud API: `{object, entry[].changes[].value}` with `messages[]` and
//! `statuses[]`. One delivery becomes one event per message and per status.

use super::json::{Obj, Parsed, element, own};
use super::message::{InboundMessage, Location, MediaRef, MessageKind, address};
use super::mossmoon::MediaFields;
use super::{Ctx, Event, EventData, WriteJson, object};
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
    pub location: Option<Location>,
    /// The chosen button or list row of an interactive reply, or a quick-reply payload.
    pub reply: Option<MetaReply>,
    /// A reaction.
    pub reaction: Option<MetaReaction>,
    /// The message this one replies to (`context.id`).
    pub context_id: Option<String>,
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

/// The row of the scheme table that reads meta events.
pub(crate) static EVENTS: super::Events = super::Events {
    parse: |ctx| Ok(parse(ctx, &super::document(ctx.body)?)?),
    headers: &[],
};

pub(crate) fn parse(ctx: &Ctx<'_>, doc: &Json<'_>) -> Parsed<Vec<Event>> {
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

fn parse_value(ctx: &Ctx<'_>, value: Obj<'_, '_>, events: &mut Vec<Event>) -> Parsed<()> {
    let (phone_number_id, display) = match value.opt_obj("metadata", "value.metadata")? {
        Some(m) => (
            m.opt_id("phone_number_id")?,
            m.opt_id("display_phone_number")?,
        ),
        None => (None, None),
    };
    let contacts = value.opt_array("contacts")?;

    for m in value.opt_array("messages")? {
        let m = element(m, "messages[]")?;
        let msg = message(m, phone_number_id, display, contacts)?;
        let (sender, _) = address(&msg.from);
        let view = InboundMessage {
            provider_message_id: msg.id.clone(),
            chat: sender.clone(),
            sender,
            sender_name: msg.contact_name.clone(),
            is_group: false,
            text: msg.text.clone().or_else(|| msg.caption.clone()),
            media: msg.media.clone(),
            received_at: msg.timestamp,
            kind: MessageKind::from_name(&msg.kind),
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
            let (code, title, message) = (
                e.opt_int("code")?,
                e.opt_str("title")?,
                e.opt_str("message")?,
            );
            errors.push(MetaError {
                code,
                title: own(title),
                message: own(message),
            });
        }
        let (id, status) = (s.id("id")?, s.str("status")?);
        let (timestamp, recipient) = (s.opt_unix("timestamp")?, s.opt_id("recipient_id")?);
        events.push(Event {
            provider: ctx.provider,
            event_type: format!("message.{status}"),
            id: Some(id.to_owned()),
            occurred_at: timestamp,
            dedup_key: ctx.key(&["status", id, status]),
            data: EventData::MetaStatus(MetaStatus {
                phone_number_id: own(phone_number_id),
                id: id.to_owned(),
                status: status.to_owned(),
                timestamp,
                recipient_id: own(recipient),
                errors,
            }),
            message: None,
        });
    }
    Ok(())
}

/// The profile name of `wa_id` in `contacts[]`; none when that sender is not listed (another
/// contact's name is never borrowed).
fn contact_name<'j>(contacts: &'j [Json<'_>], wa_id: &str) -> Option<&'j str> {
    contacts
        .iter()
        .find(|c| c.get("wa_id").and_then(Json::as_str) == Some(wa_id))
        .and_then(|c| c.get("profile")?.get("name")?.as_str())
}

fn message(
    m: Obj<'_, '_>,
    phone_number_id: Option<&str>,
    display_phone_number: Option<&str>,
    contacts: &[Json<'_>],
) -> Parsed<MetaMessage> {
    // Every fallible read first, borrowing; owned values are built only once nothing can fail.
    let (kind, from, id) = (m.str("type")?, m.id("from")?, m.id("id")?);
    let timestamp = m.opt_unix("timestamp")?;
    let body = m.opt_obj(kind, "messages[].<type>").ok().flatten();
    let media = match body {
        Some(b) if MessageKind::from_name(kind).has_media() => Some(MediaFields::read(&b)?),
        _ => None,
    };
    let caption = match body {
        Some(b) => b.opt_str("caption")?,
        None => None,
    };
    let location = match (kind, body) {
        ("location", Some(b)) => Some((
            b.number("latitude")?,
            b.number("longitude")?,
            b.opt_str("name")?,
            b.opt_str("address")?,
        )),
        _ => None,
    };
    // (type, id, title) of an interactive reply or a quick-reply button.
    let reply = match (kind, body) {
        ("interactive", Some(b)) => {
            let t = b.opt_str("type")?.unwrap_or("interactive");
            match b.opt_obj(t, "messages[].interactive.<type>")? {
                Some(r) => Some((t, r.opt_id("id")?, r.opt_str("title")?)),
                None => Some((t, None, None)),
            }
        }
        ("button", Some(b)) => Some(("button", b.opt_str("payload")?, b.opt_str("text")?)),
        _ => None,
    };
    let reaction = match (kind, body) {
        ("reaction", Some(b)) => Some((b.opt_str("message_id")?, b.opt_str("emoji")?)),
        _ => None,
    };
    let text = match (kind, body) {
        ("text", Some(b)) => b.opt_str("body")?,
        _ => reply.and_then(|(_, _, title)| title),
    };
    let context_id = match m.opt_obj("context", "messages[].context")? {
        Some(c) => c.opt_str("id")?,
        None => None,
    };
    Ok(MetaMessage {
        phone_number_id: own(phone_number_id),
        display_phone_number: own(display_phone_number),
        contact_name: own(contact_name(contacts, from)),
        from: from.to_owned(),
        id: id.to_owned(),
        timestamp,
        kind: kind.to_owned(),
        text: own(text),
        caption: own(caption),
        media: media.map(|f| f.owned()),
        location: location.map(|(latitude, longitude, name, address)| Location {
            latitude: latitude.to_owned(),
            longitude: longitude.to_owned(),
            name: own(name),
            address: own(address),
        }),
        reply: reply.map(|(kind, id, title)| MetaReply {
            kind: kind.to_owned(),
            id: own(id),
            title: own(title),
        }),
        reaction: reaction.map(|(message_id, emoji)| MetaReaction {
            message_id: own(message_id),
            emoji: own(emoji),
        }),
        context_id: own(context_id),
    })
}
