//! The signature schemes: one table of the built-in ones, and [`Scheme`], which names either a
//! row of it or a [`GenericScheme`].
//!
//! Adding a built-in scheme means one [`Builtin`] row in [`BUILTINS`] (its name, aliases,
//! headers, signed bytes, key encoding, body limit and event parser) and, when its events have
//! a typed form, an event module under `event/`. Everything else (name lookup, the replay window,
//! which headers to read, the list of names in errors and in the TypeScript types) is derived
//! from the row.

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;
use crate::event::{self, Events};
use crate::mac::{Algorithm, Encoding};
use crate::secret::SecretEncoding;
use crate::spec::{
    DEFAULT_MAX_BODY, GenericScheme, HeaderSet, Layout, Part, Spec, TimestampUnit, Tolerance,
    compile_generic, parse_template,
};

/// A signature scheme: one of the built-in providers, or a [`GenericScheme`] configured by data.
///
/// ```
/// use hookseal::Scheme;
/// let meta = Scheme::from_name("meta")?;
/// assert_eq!(meta.name(), "meta");
/// assert_eq!(Scheme::from_name("whatsapp-cloud")?, meta);
/// # Ok::<(), hookseal::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// A built-in scheme: a row of [`BUILTINS`].
    Builtin(&'static Builtin),
    /// A scheme described by data, for a provider hookseal does not ship.
    Generic(Box<GenericScheme>),
}

/// A built-in scheme: everything hookseal knows about one provider's signatures, in one row.
///
/// The signed bytes are a template, as for a [`GenericScheme`]: `{body}`, `{id}`, `{timestamp}`,
/// `{method}`, `{url}`, literal text, and the provider-specific parts (`{hubspot-uri}`,
/// `{body-sha256}`, `{twilio-url}`, `{twilio-params}`; see `Part` in `spec.rs`). The
/// replay window applies only when the template signs a timestamp.
#[derive(Clone, Copy)]
pub struct Builtin {
    /// The canonical name.
    pub name: &'static str,
    /// Other names [`Scheme::from_name`] accepts.
    pub aliases: &'static [&'static str],
    /// The header families, tried in order: the first whose signature header is present is
    /// used. Signing writes the first.
    pub(crate) headers: &'static [Family],
    /// How the signature header lists signatures.
    pub(crate) format: Format,
    /// The prefix of Ed25519 signatures in the list, when the scheme also takes Ed25519 keys.
    pub(crate) asymmetric: Option<&'static str>,
    pub(crate) algorithm: Algorithm,
    pub(crate) encoding: Encoding,
    /// The signed bytes, as a template.
    pub(crate) signed: &'static str,
    pub(crate) timestamp_unit: TimestampUnit,
    /// A header that, when present, must name the algorithm (MoltFlow).
    pub(crate) algorithm_header: Option<&'static str>,
    pub(crate) secret: SecretEncoding,
    /// The default replay window.
    pub(crate) tolerance: Tolerance,
    /// The largest body the provider documents sending, rounded up.
    pub(crate) max_body: u64,
    /// How verified bodies become events.
    pub(crate) events: &'static Events,
}

/// The headers of one naming family.
#[derive(Clone, Copy)]
pub(crate) struct Family {
    pub signature: &'static str,
    pub id: Option<&'static str>,
    pub timestamp: Option<&'static str>,
}

/// How a signature header lists its signatures.
#[derive(Clone, Copy)]
pub(crate) enum Format {
    /// Space-separated, each starting with this prefix (ASCII case-insensitive); tokens with
    /// other prefixes (other versions) are ignored.
    Tokens(&'static str),
    /// Stripe's `t=…,v1=…,v1=…,v0=…`.
    Stripe,
    /// `Authorization: Bearer <JWT>` (Vonage): the token's `iat` is the signed timestamp.
    Jwt,
}

const fn sig(signature: &'static str) -> Family {
    Family {
        signature,
        id: None,
        timestamp: None,
    }
}

const WEBHOOK: Family = Family {
    signature: "webhook-signature",
    id: Some("webhook-id"),
    timestamp: Some("webhook-timestamp"),
};
const SVIX: Family = Family {
    signature: "svix-signature",
    id: Some("svix-id"),
    timestamp: Some("svix-timestamp"),
};

/// What a row leaves out: the raw body signed with HMAC-SHA256 in hex, a UTF-8 key, a 5-minute
/// window (should it sign a timestamp) and the default body limit.
const DEFAULTS: Builtin = Builtin {
    name: "",
    aliases: &[],
    headers: &[],
    format: Format::Tokens(""),
    asymmetric: None,
    algorithm: Algorithm::Sha256,
    encoding: Encoding::Hex,
    signed: "{body}",
    timestamp_unit: TimestampUnit::Seconds,
    algorithm_header: None,
    secret: SecretEncoding::Utf8,
    tolerance: Tolerance::symmetric(300),
    max_body: DEFAULT_MAX_BODY,
    events: &event::other::SIGNED_ID,
};

/// Standard Webhooks, as Svix also sends it: the header families differ in order only. `v1,`
/// signatures are HMAC-SHA256 with a `whsec_` secret; `v1a,` signatures are Ed25519, verified
/// with a `whpk_` public key and made with a `whsk_` secret key; a header may carry both, and a
/// verifier may hold both kinds of key (rotation from one to the other). Checked against the
/// spec (standard-webhooks/standard-webhooks, `spec/standard-webhooks.md`: "base64 encoded,
/// prefixed with `whsk_` for the secret key, and `whpk_` for the public key") and, on every
/// test run, against Node's own Ed25519.
const STANDARD: Builtin = Builtin {
    format: Format::Tokens("v1,"),
    asymmetric: Some("v1a,"),
    encoding: Encoding::Base64,
    signed: "{id}.{timestamp}.{body}",
    secret: SecretEncoding::Whsec,
    ..DEFAULTS
};

/// MoltFlow: HMAC-SHA512 of the raw body, hex, `X-Webhook-Hmac`; `X-Webhook-Hmac-Algorithm`
/// (always `sha512`) is checked as an assertion, never obeyed.
const MOLTFLOW: Builtin = Builtin {
    name: "moltflow",
    headers: &[sig("X-Webhook-Hmac")],
    algorithm: Algorithm::Sha512,
    algorithm_header: Some("X-Webhook-Hmac-Algorithm"),
    events: &event::moltflow::EVENTS,
    ..DEFAULTS
};

/// For senders whose retries carry the original timestamp (Bird) or whose re-signing is not
/// documented (Vonage): a day and two hours back, the Worker's own delivery horizon, so that no
/// retry of a real message is refused; dedup removes the repeats. Five minutes ahead.
const RETRY_HORIZON: Tolerance = Tolerance {
    past: Some(26 * 3600),
    future: Some(300),
};

/// Every built-in scheme. The order is the order names are listed in.
pub static BUILTINS: &[Builtin] = &[
    MOLTFLOW,
    // WAHA (self-hosted WhatsApp HTTP API) signs exactly as MoltFlow does (its HMAC option:
    // SHA-512 of the raw body, hex, `X-Webhook-Hmac`); its events are WAHA's own shape, kept
    // untyped, each keyed by the body's hash.
    Builtin {
        name: "waha",
        events: &event::other::SIGNED_ID,
        ..MOLTFLOW
    },
    // Mossmoon: HMAC-SHA256 of the raw body, hex, `X-Mossmoon-Signature`.
    Builtin {
        name: "mossmoon",
        headers: &[sig("X-Mossmoon-Signature")],
        events: &event::mossmoon::EVENTS,
        ..DEFAULTS
    },
    // Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`
    // list) over `{id}.{timestamp}.{body}`, key = base64 after `whsec_`. Also accepts the
    // `svix-` headers. Signing writes the `webhook-` headers.
    Builtin {
        name: "standard-webhooks",
        aliases: &["standardwebhooks"],
        headers: &[WEBHOOK, SVIX],
        ..STANDARD
    },
    // Svix: Standard Webhooks with `svix-` headers (the `webhook-` ones are accepted too).
    Builtin {
        name: "svix",
        headers: &[SVIX, WEBHOOK],
        ..STANDARD
    },
    // Meta WhatsApp Cloud API: `X-Hub-Signature-256: sha256=<hex>` of the raw body, keyed with
    // the app secret. Meta documents payloads up to 3 MB.
    Builtin {
        name: "meta",
        aliases: &["whatsapp", "whatsapp-cloud"],
        headers: &[sig("X-Hub-Signature-256")],
        format: Format::Tokens("sha256="),
        events: &event::meta::EVENTS,
        ..DEFAULTS
    },
    // GitHub: `X-Hub-Signature-256: sha256=<hex>` of the raw body; payloads up to 25 MB.
    // `X-GitHub-Delivery` and `X-GitHub-Event` are not signed: events report them, dedup keys
    // never use them.
    Builtin {
        name: "github",
        headers: &[sig("X-Hub-Signature-256")],
        format: Format::Tokens("sha256="),
        max_body: 25 * 1024 * 1024,
        events: &event::other::GITHUB,
        ..DEFAULTS
    },
    // Stripe: `Stripe-Signature: t=<ts>,v1=<hex>…` over `{t}.{body}`; the key is the whole
    // `whsec_…` string as UTF-8. Stripe's own libraries bound only the age of a timestamp.
    Builtin {
        name: "stripe",
        headers: &[sig("Stripe-Signature")],
        format: Format::Stripe,
        signed: "{timestamp}.{body}",
        tolerance: Tolerance {
            past: Some(300),
            future: None,
        },
        events: &event::other::STRIPE,
        ..DEFAULTS
    },
    // Slack: `X-Slack-Signature: v0=<hex>` over `v0:{ts}:{body}`, `X-Slack-Request-Timestamp`.
    Builtin {
        name: "slack",
        headers: &[Family {
            timestamp: Some("X-Slack-Request-Timestamp"),
            ..sig("X-Slack-Signature")
        }],
        format: Format::Tokens("v0="),
        signed: "v0:{timestamp}:{body}",
        events: &event::other::SLACK,
        ..DEFAULTS
    },
    // Shopify: `X-Shopify-Hmac-Sha256`, base64 of the raw body. `X-Shopify-Webhook-Id` and
    // `X-Shopify-Topic` are not signed: events report them, dedup keys never use them.
    Builtin {
        name: "shopify",
        headers: &[sig("X-Shopify-Hmac-Sha256")],
        encoding: Encoding::Base64,
        events: &event::other::SHOPIFY,
        ..DEFAULTS
    },
    // HubSpot v3: `X-HubSpot-Signature-v3`, base64 over `{method}{uri}{body}{timestamp}`,
    // `X-HubSpot-Request-Timestamp` in milliseconds. Needs the request method and URL.
    Builtin {
        name: "hubspot",
        aliases: &["hubspot-v3"],
        headers: &[Family {
            timestamp: Some("X-HubSpot-Request-Timestamp"),
            ..sig("X-HubSpot-Signature-v3")
        }],
        encoding: Encoding::Base64,
        signed: "{method}{hubspot-uri}{body}{timestamp}",
        timestamp_unit: TimestampUnit::Milliseconds,
        events: &event::other::HUBSPOT,
        ..DEFAULTS
    },
    // Twilio (Programmable Messaging, WhatsApp included), as twilio-node's `validateRequest` and
    // `validateRequestWithBody` check it: `X-Twilio-Signature`, base64 HMAC-SHA1 keyed with the
    // Auth Token, over the full URL Twilio requested and then, for a form body, every parameter
    // sorted by name as name+value (a repeated name: each distinct value, sorted). A JSON body
    // is signed through its URL: `bodySHA256` in the query is the body's hex SHA-256, and the
    // signature covers the URL alone. The URL is accepted with and without its port (Twilio has
    // signed both ways). No timestamp: dedup on the MessageSid.
    Builtin {
        name: "twilio",
        headers: &[sig("X-Twilio-Signature")],
        algorithm: Algorithm::Sha1,
        encoding: Encoding::Base64,
        signed: "{twilio-url}{twilio-params}",
        events: &event::twilio::EVENTS,
        ..DEFAULTS
    },
    // Vonage Messages API signed webhooks, per Vonage's "Signed webhooks" docs and checked
    // against @vonage/jwt's `verifySignature` (which also takes RS256; hookseal takes HS256
    // alone): `Authorization: Bearer <JWT>`, HS256 keyed with the signature secret as UTF-8; the
    // `payload_hash` claim must be the body's hex SHA-256, and `iat` is held to a window. Vonage
    // does not document whether a retry is signed afresh, so the window reaches back 26 hours
    // and dedup (on `message_uuid`) does the rest.
    Builtin {
        name: "vonage",
        headers: &[sig("Authorization")],
        format: Format::Jwt,
        tolerance: RETRY_HORIZON,
        events: &event::vonage::EVENTS,
        ..DEFAULTS
    },
    // Bird (the new MessageBird), per its "Verifying a webhook" docs: `messagebird-signature`,
    // base64 HMAC-SHA256 over the `messagebird-request-timestamp` header, a newline, the request
    // URL, a newline, and the raw SHA-256 digest of the body. Bird's retries re-send the original
    // timestamp (seen 3–4 h late), so the window reaches back 26 h; dedup does the rest.
    // `messagebird-request-id` is not signed and never keys anything.
    Builtin {
        name: "bird",
        aliases: &["messagebird"],
        headers: &[Family {
            timestamp: Some("messagebird-request-timestamp"),
            ..sig("messagebird-signature")
        }],
        encoding: Encoding::Base64,
        signed: "{timestamp}\n{url}\n{body-sha256}",
        tolerance: RETRY_HORIZON,
        ..DEFAULTS
    },
];

impl Builtin {
    /// The compiled form the engine runs (a built-in row always compiles: a test checks each).
    fn compile(&'static self) -> Result<Spec, Error> {
        let message = parse_template(self.signed, true)?;
        let signs_timestamp =
            message.contains(&Part::Timestamp) || matches!(self.format, Format::Jwt);
        Ok(Spec {
            name: self.name,
            events: self.events,
            sets: Cow::Owned(
                self.headers
                    .iter()
                    .map(|f| HeaderSet {
                        signature: Cow::Borrowed(f.signature),
                        id: f.id.map(Cow::Borrowed),
                        timestamp: f.timestamp.map(Cow::Borrowed),
                    })
                    .collect(),
            ),
            layout: match self.format {
                Format::Tokens(prefix) => Layout::Tokens {
                    prefix: Cow::Borrowed(prefix),
                },
                Format::Stripe => Layout::Stripe,
                Format::Jwt => Layout::Jwt,
            },
            asymmetric: self.asymmetric,
            algorithm: self.algorithm,
            encoding: self.encoding,
            message: Cow::Owned(message),
            timestamp_unit: self.timestamp_unit,
            algorithm_header: self.algorithm_header.map(Cow::Borrowed),
            secret: self.secret,
            tolerance: if signs_timestamp {
                self.tolerance
            } else {
                Tolerance::DISABLED
            },
            max_body: self.max_body,
        })
    }
}

impl fmt::Debug for Builtin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl PartialEq for Builtin {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for Builtin {}

/// The names of the built-in schemes, as [`Scheme::from_name`] accepts them.
pub fn scheme_names() -> impl Iterator<Item = &'static str> {
    BUILTINS.iter().map(|b| b.name)
}

impl Scheme {
    /// The built-in scheme with this name or alias (case-insensitive, `_` and `-` alike).
    pub fn from_name(name: &str) -> Result<Self, Error> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        BUILTINS
            .iter()
            .find(|b| b.name == n || b.aliases.contains(&n.as_str()))
            .map(Self::Builtin)
            .ok_or(Error::UnknownScheme {
                len: name
                    .bytes()
                    .filter(|&b| crate::json::starts_char(b))
                    .count(),
            })
    }

    /// The canonical name (`generic` for a generic scheme).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Builtin(b) => b.name,
            Self::Generic(_) => "generic",
        }
    }

    /// Every built-in scheme.
    pub fn builtins() -> impl Iterator<Item = Self> {
        BUILTINS.iter().map(Self::Builtin)
    }

    /// The replay window this scheme uses unless told otherwise.
    #[must_use]
    pub fn default_tolerance(&self) -> Tolerance {
        self.compile().map_or(Tolerance::DISABLED, |s| s.tolerance)
    }

    /// Compiles the scheme, validating a generic configuration.
    pub(crate) fn compile(&self) -> Result<Spec, Error> {
        match self {
            Self::Builtin(b) => b.compile(),
            Self::Generic(g) => compile_generic(g),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_compiles_and_its_names_find_it() {
        for b in BUILTINS {
            let s = Scheme::Builtin(b);
            let spec = s.compile().unwrap();
            assert_eq!(spec.name, b.name);
            assert_eq!(Scheme::from_name(b.name), Ok(s.clone()));
            for alias in b.aliases {
                assert_eq!(Scheme::from_name(alias), Ok(s.clone()), "{alias}");
            }
            // A window exists exactly where a timestamp is signed.
            let signs_ts = spec.uses(&Part::Timestamp) || matches!(spec.layout, Layout::Jwt);
            assert_eq!(
                spec.tolerance != Tolerance::DISABLED,
                signs_ts,
                "{}",
                b.name
            );
        }
        let mut names: Vec<_> = scheme_names().collect();
        names.extend(BUILTINS.iter().flat_map(|b| b.aliases.iter().copied()));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a name or alias is used twice");
    }

    #[test]
    fn names_are_forgiving_and_never_echoed() {
        let std = Scheme::from_name("standard-webhooks").unwrap();
        assert_eq!(Scheme::from_name(" Standard_Webhooks "), Ok(std));
        assert_eq!(
            Scheme::from_name("nope"),
            Err(Error::UnknownScheme { len: 4 })
        );
        // The name is never echoed: it may be a secret given in the scheme's place.
        let swapped = "9f86d081884c7d659a2feaa0c55ad015";
        let err = Scheme::from_name(swapped).unwrap_err();
        assert!(!err.to_string().contains("9f86"), "{err}");
        assert!(!format!("{err:?}").contains("9f86"), "{err:?}");
        assert!(err.to_string().contains("32 characters"), "{err}");
        assert!(
            err.to_string().contains("moltflow, waha, mossmoon"),
            "{err}"
        );
    }

    #[test]
    fn windows_come_from_the_rows() {
        let window = |n| Scheme::from_name(n).unwrap().default_tolerance();
        assert_eq!(window("slack"), Tolerance::symmetric(300));
        assert_eq!(window("meta"), Tolerance::DISABLED);
        assert_eq!(
            window("stripe"),
            Tolerance {
                past: Some(300),
                future: None
            }
        );
    }
}
