//! One view of an inbound WhatsApp message, whichever provider delivered it.

use super::{WriteJson, object};
use crate::json::Writer;

/// An inbound WhatsApp message, normalized across MoltFlow, Mossmoon and the Meta Cloud API.
///
/// A handler written against this type works unchanged whichever provider sends the message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InboundMessage {
    /// The provider's id for the message (`wamid.…`, `msg_…`).
    pub provider_message_id: String,
    /// The sender's number, digits only (`+1 555-987-6543` and `15559876543@c.us` both become
    /// `15559876543`).
    pub sender: String,
    /// The sender's display name, when the provider sends one (Mossmoon's documented payload
    /// has none).
    pub sender_name: Option<String>,
    /// The conversation: the sender's digits for a one-to-one chat, the group id as sent for a
    /// group.
    pub chat: String,
    /// Whether the chat is a group.
    pub is_group: bool,
    /// What kind of message.
    pub kind: MessageKind,
    /// The text, or a media caption.
    pub text: Option<String>,
    /// The attached media, for media messages.
    pub media: Option<MediaRef>,
    /// When the provider received it, unix seconds.
    pub received_at: Option<i64>,
}

/// A reference to media: a signed URL (Mossmoon), or a media id to fetch (Meta).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MediaRef {
    /// The provider's media id (Meta: fetch it from the Graph API).
    pub id: Option<String>,
    /// A URL to fetch it from (Mossmoon: signed, valid 24 h).
    pub url: Option<String>,
    /// The MIME type.
    pub mime_type: Option<String>,
    /// The SHA-256 the provider gives for the file.
    pub sha256: Option<String>,
    /// The file name (documents).
    pub filename: Option<String>,
}

/// A shared location (Meta, Vonage): the coordinates exactly as sent, never rounded through a
/// float.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Location {
    /// Latitude in degrees, the JSON number's text.
    pub latitude: String,
    /// Longitude in degrees, the JSON number's text.
    pub longitude: String,
    /// The place's name.
    pub name: Option<String>,
    /// The place's address.
    pub address: Option<String>,
}

impl WriteJson for Location {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "latitude" => super::Raw(&self.latitude),
            "longitude" => super::Raw(&self.longitude),
            "name" => self.name,
            "address" => self.address,
        );
    }
}

/// What kind of message. Provider spellings are folded (`voice` is [`Audio`](Self::Audio)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageKind {
    /// Text.
    Text,
    /// An image.
    Image,
    /// A video.
    Video,
    /// Audio or a voice note.
    Audio,
    /// A document.
    Document,
    /// A sticker.
    Sticker,
    /// A location.
    Location,
    /// Contact cards.
    Contacts,
    /// A reply to an interactive message (button or list).
    Interactive,
    /// A quick-reply button press.
    Button,
    /// A reaction.
    Reaction,
    /// Any other kind, as the provider names it.
    Other(String),
}

impl MessageKind {
    /// From a provider's type name.
    #[must_use]
    pub fn from_name(name: &str) -> Self {
        match name {
            "text" | "chat" => Self::Text,
            "image" => Self::Image,
            "video" => Self::Video,
            "audio" | "voice" | "ptt" => Self::Audio,
            "document" | "file" => Self::Document,
            "sticker" => Self::Sticker,
            "location" => Self::Location,
            "contacts" | "contact" => Self::Contacts,
            "interactive" => Self::Interactive,
            "button" => Self::Button,
            "reaction" => Self::Reaction,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The normalized name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text => "text",
            Self::Image => "image",
            Self::Video => "video",
            Self::Audio => "audio",
            Self::Document => "document",
            Self::Sticker => "sticker",
            Self::Location => "location",
            Self::Contacts => "contacts",
            Self::Interactive => "interactive",
            Self::Button => "button",
            Self::Reaction => "reaction",
            Self::Other(s) => s,
        }
    }

    /// Whether messages of this kind carry media.
    #[must_use]
    pub fn has_media(&self) -> bool {
        matches!(
            self,
            Self::Image | Self::Video | Self::Audio | Self::Document | Self::Sticker
        )
    }
}

impl WriteJson for MessageKind {
    fn write_json(&self, w: &mut Writer) {
        w.str(self.as_str());
    }
}

impl WriteJson for MediaRef {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "id" => self.id,
            "url" => self.url,
            "mimeType" => self.mime_type,
            "sha256" => self.sha256,
            "filename" => self.filename,
        );
    }
}

impl WriteJson for InboundMessage {
    fn write_json(&self, w: &mut Writer) {
        object!(w,
            "providerMessageId" => self.provider_message_id,
            "sender" => self.sender,
            "senderName" => self.sender_name,
            "chat" => self.chat,
            "isGroup" => self.is_group,
            "kind" => self.kind,
            "text" => self.text,
            "media" => self.media,
            "receivedAt" => self.received_at,
        );
    }
}

/// Normalizes a WhatsApp address: `(digits, is_group)`. Group ids (`…@g.us`) are kept whole;
/// anything else keeps only its digits (before any `@`), unless it has none, when it is kept.
pub(crate) fn address(raw: &str) -> (String, bool) {
    let raw = raw.trim();
    if raw.ends_with("@g.us") {
        return (raw.to_owned(), true);
    }
    let local = raw.split('@').next().unwrap_or(raw);
    let digits: String = local.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        (raw.to_owned(), false)
    } else {
        (digits, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_normalize() {
        assert_eq!(address("+1 555-987-6543"), ("15559876543".into(), false));
        assert_eq!(address("15559876543@c.us"), ("15559876543".into(), false));
        assert_eq!(
            address("15559876543@s.whatsapp.net"),
            ("15559876543".into(), false)
        );
        assert_eq!(address("1203630@g.us"), ("1203630@g.us".into(), true));
        assert_eq!(address("anon"), ("anon".into(), false));
    }

    #[test]
    fn kinds_fold() {
        assert_eq!(MessageKind::from_name("voice"), MessageKind::Audio);
        assert_eq!(MessageKind::from_name("poll").as_str(), "poll");
        assert!(MessageKind::Image.has_media() && !MessageKind::Text.has_media());
    }
}
