//! Twilio (Programmable Messaging, WhatsApp): form-encoded inbound messages and status
//! callbacks. A JSON body (Twilio signs those through `bodySHA256`) is kept untyped.

use super::message::{InboundMessage, MediaRef, MessageKind, address};
use super::{Ctx, Event, EventData, Events, WriteJson, object};
use crate::error::{Error, FieldProblem};
use crate::json::Writer;

/// A Twilio inbound message (`message.received`): the form parameters Twilio documents for
/// WhatsApp, camelCased.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TwilioMessage {
    /// `MessageSid` (`SM…`/`MM…`).
    pub message_sid: String,
    /// `AccountSid`.
    pub account_sid: Option<String>,
    /// `From`, as sent (`whatsapp:+14155238886`).
    pub from: String,
    /// `To`, as sent.
    pub to: Option<String>,
    /// `Body`.
    pub body: Option<String>,
    /// `ProfileName`: the sender's WhatsApp profile name.
    pub profile_name: Option<String>,
    /// `WaId`: the sender's WhatsApp id (digits).
    pub wa_id: Option<String>,
    /// `MessageType` (`text`, `image`, `location`, `button`, `interactive`, …), when sent.
    pub message_type: Option<String>,
    /// `MediaUrl{n}` and `MediaContentType{n}` for each of the `NumMedia` attachments.
    pub media: Vec<MediaRef>,
    /// `Latitude`, `Longitude`, `Address`, `Label` of a shared location (as sent: decimal text).
    pub location: Option<TwilioLocation>,
    /// `ButtonText` and `ButtonPayload` of a quick-reply button press.
    pub button: Option<TwilioButton>,
    /// `OriginalRepliedMessageSid`: the message this one replies to.
    pub replied_to: Option<String>,
}

/// A location Twilio forwarded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TwilioLocation {
    /// `Latitude`, as sent.
    pub latitude: String,
    /// `Longitude`, as sent.
    pub longitude: String,
    /// `Address`.
    pub address: Option<String>,
    /// `Label`.
    pub label: Option<String>,
}

/// A quick-reply button press.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TwilioButton {
    /// `ButtonText`.
    pub text: Option<String>,
    /// `ButtonPayload`.
    pub payload: Option<String>,
}

/// A Twilio status callback (`message.sent`, `message.delivered`, `message.read`,
/// `message.failed`, `message.undelivered`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TwilioStatus {
    /// `MessageSid`.
    pub message_sid: String,
    /// `MessageStatus`.
    pub status: String,
    /// `ErrorCode`, when the message failed.
    pub error_code: Option<i64>,
    /// `ErrorMessage`, when sent.
    pub error_message: Option<String>,
    /// `AccountSid`.
    pub account_sid: Option<String>,
    /// `From`, as sent.
    pub from: Option<String>,
    /// `To`, as sent.
    pub to: Option<String>,
}

/// The row of the scheme table that reads Twilio events.
pub(crate) static EVENTS: Events = Events {
    parse: |ctx| {
        let first = ctx.body.iter().find(|b| !b.is_ascii_whitespace());
        if matches!(first, Some(b'{' | b'[')) {
            return super::other::untyped_json(ctx);
        }
        let params = crate::form::parse(ctx.body);
        check_shape(&params)?;
        Ok(vec![parse(ctx, &params)])
    },
    headers: &[],
};

/// The statuses Twilio documents for `MessageStatus`.
const STATUSES: &[&str] = &[
    "accepted",
    "scheduled",
    "canceled",
    "queued",
    "sending",
    "sent",
    "failed",
    "delivered",
    "undelivered",
    "receiving",
    "received",
    "read",
    "partially_delivered",
];

/// Whether `v` has a Twilio SID's shape: two capital letters and 32 lower-case hex digits.
fn is_sid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 34
        && b.iter().take(2).all(u8::is_ascii_uppercase)
        && b.iter()
            .skip(2)
            .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Twilio signs the parameters joined without separators, so a captured body can be re-split
/// into other parameters with the same signature (`MessageSid=SM…NumMedia0` for
/// `MessageSid=SM…&NumMedia=0`). What the dedup key is made of must therefore have its
/// documented shape, or the body is refused: every `…Sid` a SID, `MessageSid` present, and
/// `MessageStatus` one of Twilio's statuses.
fn check_shape(params: &[(String, String)]) -> Result<(), Error> {
    let reshaped = |field: &str| {
        Err(Error::InvalidEvent {
            field: field.to_owned(),
            problem: FieldProblem::Reshaped,
        })
    };
    for (k, v) in params {
        if k.ends_with("Sid") && !v.is_empty() && !is_sid(v) {
            return reshaped(k);
        }
    }
    if get(params, "MessageSid").is_none() {
        return reshaped("MessageSid");
    }
    if let Some(status) = get(params, "MessageStatus")
        && !STATUSES.contains(&status.to_ascii_lowercase().as_str())
    {
        return reshaped("MessageStatus");
    }
    Ok(())
}

/// The first value of the parameter `name`, when not empty.
fn get<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn own(v: Option<&str>) -> Option<String> {
    v.map(str::to_owned)
}

fn parse(ctx: &Ctx<'_>, params: &[(String, String)]) -> Event {
    let p = |name| get(params, name);
    let sid = p("MessageSid").unwrap_or("");
    let from = p("From").unwrap_or("");
    if let Some(status) = p("MessageStatus") {
        let status = status.to_ascii_lowercase();
        return Event {
            provider: ctx.provider,
            event_type: format!("message.{status}"),
            id: Some(sid.to_owned()),
            occurred_at: None,
            dedup_key: ctx.key(&["status", sid, &status]),
            data: EventData::TwilioStatus(TwilioStatus {
                message_sid: sid.to_owned(),
                error_code: p("ErrorCode").and_then(|c| c.parse().ok()),
                error_message: own(p("ErrorMessage")),
                account_sid: own(p("AccountSid")),
                from: Some(from.to_owned()),
                to: own(p("To")),
                status,
            }),
            message: None,
        };
    }
    let count: usize = p("NumMedia").and_then(|n| n.parse().ok()).unwrap_or(0);
    // Twilio sends at most 10 attachments, `MediaUrl0` to `MediaUrl9`.
    let media: Vec<MediaRef> = (0..count.min(10))
        .map(|i| MediaRef {
            url: own(get(params, &format!("MediaUrl{i}"))),
            mime_type: own(get(params, &format!("MediaContentType{i}"))),
            ..MediaRef::default()
        })
        .collect();
    let location = match (p("Latitude"), p("Longitude")) {
        (Some(latitude), Some(longitude)) => Some(TwilioLocation {
            latitude: latitude.to_owned(),
            longitude: longitude.to_owned(),
            address: own(p("Address")),
            label: own(p("Label")),
        }),
        _ => None,
    };
    let button =
        (p("ButtonText").is_some() || p("ButtonPayload").is_some()).then(|| TwilioButton {
            text: own(p("ButtonText")),
            payload: own(p("ButtonPayload")),
        });
    // Twilio names the kind for WhatsApp (`MessageType`); without it, the parameters tell.
    let kind = match p("MessageType") {
        Some(t) => MessageKind::from_name(t),
        None if location.is_some() => MessageKind::Location,
        None if button.is_some() => MessageKind::Button,
        None => match media.first().and_then(|m| m.mime_type.as_deref()) {
            // `image/jpeg` is an image; a type that is not image, video or audio, a document.
            Some(t) => match MessageKind::from_name(t.split('/').next().unwrap_or(t)) {
                k @ (MessageKind::Image | MessageKind::Video | MessageKind::Audio) => k,
                _ => MessageKind::Document,
            },
            None => MessageKind::Text,
        },
    };
    let (sender, _) = address(p("WaId").unwrap_or(from));
    let text = p("Body").or(button.as_ref().and_then(|b| b.text.as_deref()));
    let message = InboundMessage {
        provider_message_id: sid.to_owned(),
        chat: sender.clone(),
        sender,
        sender_name: own(p("ProfileName")),
        is_group: false,
        kind,
        text: own(text),
        media: media.first().cloned(),
        received_at: None,
    };
    Event {
        provider: ctx.provider,
        event_type: "message.received".to_owned(),
        id: Some(sid.to_owned()),
        occurred_at: None,
        dedup_key: ctx.key(&["message", sid]),
        data: EventData::TwilioMessage(Box::new(TwilioMessage {
            message_sid: sid.to_owned(),
            account_sid: own(p("AccountSid")),
            from: from.to_owned(),
            to: own(p("To")),
            body: own(p("Body")),
            profile_name: own(p("ProfileName")),
            wa_id: own(p("WaId")),
            message_type: own(p("MessageType")),
            media,
            location,
            button,
            replied_to: own(p("OriginalRepliedMessageSid")),
        })),
        message: Some(message),
    }
}

impl WriteJson for TwilioMessage {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "messageSid" => self.message_sid,
            "accountSid" => self.account_sid,
            "from" => self.from,
            "to" => self.to,
            "body" => self.body,
            "profileName" => self.profile_name,
            "waId" => self.wa_id,
            "messageType" => self.message_type,
            "media" => self.media,
            "location" => self.location,
            "button" => self.button,
            "repliedTo" => self.replied_to,
        );
    }
}

impl WriteJson for TwilioLocation {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "latitude" => self.latitude,
            "longitude" => self.longitude,
            "address" => self.address,
            "label" => self.label,
        );
    }
}

impl WriteJson for TwilioButton {
    fn write_json(&self, w: &mut Writer) {
        object!(w, "text" => self.text, "payload" => self.payload);
    }
}

impl WriteJson for TwilioStatus {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "messageSid" => self.message_sid,
            "status" => self.status,
            "errorCode" => self.error_code,
            "errorMessage" => self.error_message,
            "accountSid" => self.account_sid,
            "from" => self.from,
            "to" => self.to,
        );
    }
}
