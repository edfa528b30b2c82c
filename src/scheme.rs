//! The signature schemes, public and compiled.
//!
//! Every scheme, built-in or generic, compiles to one [`Spec`]: which headers carry what, how the
//! signature is written, which bytes are signed, how the secret becomes a key, and the replay
//! window. One engine (`verify.rs`) then serves them all.

use std::borrow::Cow;

use crate::error::{ConfigProblem, Error};
use crate::headers::{HeaderName, is_valid_name};
use crate::mac::{Algorithm, Encoding};

/// A signature scheme: one of the built-in providers, or a [`GenericScheme`] configured by data.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Scheme {
    /// MoltFlow: HMAC-SHA512 of the raw body, hex, `X-Webhook-Hmac`; `X-Webhook-Hmac-Algorithm`
    /// (always `sha512`) is checked as an assertion.
    MoltFlow,
    /// Mossmoon: HMAC-SHA256 of the raw body, hex, `X-Mossmoon-Signature`.
    Mossmoon,
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`
    /// list) over `{id}.{timestamp}.{body}`, key = base64 after `whsec_`. Also accepts the
    /// `svix-` headers. Signing writes the `webhook-` headers.
    StandardWebhooks,
    /// Svix: Standard Webhooks with `svix-` headers (the `webhook-` ones are accepted too).
    /// Signing writes the `svix-` headers.
    Svix,
    /// Meta WhatsApp Cloud API: `X-Hub-Signature-256: sha256=<hex>` of the raw body, keyed with
    /// the app secret.
    Meta,
    /// GitHub: `X-Hub-Signature-256: sha256=<hex>` of the raw body. `X-GitHub-Delivery` and
    /// `X-GitHub-Event` are not signed: events report them, dedup keys never use them.
    GitHub,
    /// Stripe: `Stripe-Signature: t=<ts>,v1=<hex>…` over `{t}.{body}`; the key is the whole
    /// `whsec_…` string as UTF-8.
    Stripe,
    /// Slack: `X-Slack-Signature: v0=<hex>` over `v0:{ts}:{body}`, `X-Slack-Request-Timestamp`.
    Slack,
    /// Shopify: `X-Shopify-Hmac-Sha256`, base64 of the raw body. `X-Shopify-Webhook-Id` and
    /// `X-Shopify-Topic` are not signed: events report them, dedup keys never use them.
    Shopify,
    /// HubSpot v3: `X-HubSpot-Signature-v3`, base64 over `{method}{uri}{body}{timestamp}`,
    /// `X-HubSpot-Request-Timestamp` in milliseconds. Needs the request method and URL.
    HubSpot,
    /// A scheme described by data, for a provider hookseal does not ship.
    Generic(Box<GenericScheme>),
}

/// The names of the built-in schemes, as [`Scheme::from_name`] accepts them.
pub const SCHEME_NAMES: &[&str] = &[
    "moltflow",
    "mossmoon",
    "standard-webhooks",
    "svix",
    "meta",
    "github",
    "stripe",
    "slack",
    "shopify",
    "hubspot",
];

impl Scheme {
    /// The built-in scheme with this name (see [`SCHEME_NAMES`]; case-insensitive, `_` and `-`
    /// alike).
    pub fn from_name(name: &str) -> Result<Self, Error> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        Ok(match n.as_str() {
            "moltflow" => Self::MoltFlow,
            "mossmoon" => Self::Mossmoon,
            "standard-webhooks" | "standardwebhooks" => Self::StandardWebhooks,
            "svix" => Self::Svix,
            "meta" | "whatsapp" | "whatsapp-cloud" => Self::Meta,
            "github" => Self::GitHub,
            "stripe" => Self::Stripe,
            "slack" => Self::Slack,
            "shopify" => Self::Shopify,
            "hubspot" | "hubspot-v3" => Self::HubSpot,
            _ => {
                return Err(Error::UnknownScheme {
                    len: name.chars().count(),
                });
            }
        })
    }

    /// The canonical name (`generic` for a generic scheme).
    #[must_use]
    pub const fn name(&self) -> &'static str {
        match self {
            Self::MoltFlow => "moltflow",
            Self::Mossmoon => "mossmoon",
            Self::StandardWebhooks => "standard-webhooks",
            Self::Svix => "svix",
            Self::Meta => "meta",
            Self::GitHub => "github",
            Self::Stripe => "stripe",
            Self::Slack => "slack",
            Self::Shopify => "shopify",
            Self::HubSpot => "hubspot",
            Self::Generic(_) => "generic",
        }
    }

    /// Every built-in scheme.
    #[must_use]
    pub fn builtins() -> [Self; 10] {
        [
            Self::MoltFlow,
            Self::Mossmoon,
            Self::StandardWebhooks,
            Self::Svix,
            Self::Meta,
            Self::GitHub,
            Self::Stripe,
            Self::Slack,
            Self::Shopify,
            Self::HubSpot,
        ]
    }

    /// Parses a body that has already been verified into events, reading the delivery id and
    /// timestamp from the scheme's headers. Prefer [`crate::Verifier::verify_and_parse`], which
    /// cannot be called on an unverified body.
    pub fn parse_events(
        &self,
        body: &[u8],
        headers: &dyn crate::Headers,
    ) -> Result<Vec<crate::Event>, Error> {
        let spec = self.compile()?;
        // The same header family and timestamp reading as verification.
        let set = crate::verify::pick_set(&spec, headers);
        let read = |name: Option<&HeaderName>| name.and_then(|n| crate::headers::value(headers, n));
        let id = read(set.id.as_ref());
        let ts = read(set.timestamp.as_ref())
            .and_then(|t| crate::verify::parse_timestamp(t, spec.timestamp_unit).ok());
        crate::event::parse(spec.name, body, headers, id, ts)
    }

    /// The replay window this scheme uses unless told otherwise.
    #[must_use]
    pub fn default_tolerance(&self) -> Tolerance {
        match self {
            Self::StandardWebhooks | Self::Svix | Self::Slack | Self::HubSpot => {
                Tolerance::symmetric(300)
            }
            // Stripe's own libraries bound only the age of a timestamp.
            Self::Stripe => Tolerance {
                past: Some(300),
                future: None,
            },
            Self::Generic(g) => g.tolerance,
            Self::MoltFlow | Self::Mossmoon | Self::Meta | Self::GitHub | Self::Shopify => {
                Tolerance::DISABLED
            }
        }
    }
}

/// How far a signed timestamp may be from "now", in seconds, each way. `None` is unbounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Tolerance {
    /// How old a timestamp may be.
    pub past: Option<u64>,
    /// How far in the future a timestamp may be (clock skew).
    pub future: Option<u64>,
}

impl Tolerance {
    /// No replay window at all: timestamps are still signed and parsed, but never refused.
    pub const DISABLED: Self = Self {
        past: None,
        future: None,
    };

    /// The same bound both ways.
    #[must_use]
    pub const fn symmetric(secs: u64) -> Self {
        Self {
            past: Some(secs),
            future: Some(secs),
        }
    }
}

/// The unit of a timestamp header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum TimestampUnit {
    /// Unix seconds.
    #[default]
    Seconds,
    /// Unix milliseconds.
    Milliseconds,
}

/// How a secret string becomes the HMAC key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SecretEncoding {
    /// The secret's UTF-8 bytes (most providers, and Stripe's whole `whsec_…` string).
    #[default]
    Utf8,
    /// Standard Webhooks: an optional `whsec_` prefix, then base64; at least 16 bytes decoded.
    Whsec,
    /// Base64 (standard alphabet, padding optional).
    Base64,
    /// Hexadecimal.
    Hex,
}

impl SecretEncoding {
    /// Parses a configuration name (`utf8`, `whsec`, `base64`, `hex`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "utf8" | "utf-8" | "raw" => Some(Self::Utf8),
            "whsec" | "standard-webhooks" => Some(Self::Whsec),
            "base64" => Some(Self::Base64),
            "hex" => Some(Self::Hex),
            _ => None,
        }
    }
}

/// A scheme configured by data: enough to add most HMAC-signing providers without a release.
///
/// ```
/// use hookseal::{Algorithm, Encoding, GenericScheme, Scheme};
/// // A provider that sends `X-Acme-Signature: sha512=<hex>` over `{timestamp}.{body}`.
/// let mut acme = GenericScheme::new("X-Acme-Signature", Algorithm::Sha512, Encoding::Hex);
/// acme.prefix = "sha512=".into();
/// acme.signed = "{timestamp}.{body}".into();
/// acme.timestamp_header = Some("X-Acme-Timestamp".into());
/// let scheme = Scheme::Generic(Box::new(acme));
/// # let _ = scheme;
/// ```
///
/// [`GenericScheme::from_json`] reads it from camelCase JSON (`signatureHeader`, `algorithm`,
/// `encoding`, and optionally `prefix`, `signed`, `idHeader`, `timestampHeader`,
/// `timestampUnit`, `secretEncoding`, `tolerance`); unknown fields are refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenericScheme {
    /// The header that carries the signature.
    pub signature_header: String,
    /// The hash behind the HMAC.
    pub algorithm: Algorithm,
    /// How the signature is written.
    pub encoding: Encoding,
    /// A prefix before each signature, such as `sha256=` or `v1,` (matched ignoring ASCII case).
    /// The header may carry several signatures separated by spaces; only those with the prefix
    /// are tried.
    pub prefix: String,
    /// What is signed: a template over `{body}` (required), `{id}`, `{timestamp}`, `{method}` and
    /// `{url}`, with literal text between (`{{` and `}}` for braces). Default `{body}`.
    pub signed: String,
    /// The header with the delivery id: required when the template uses `{id}`, refused when it
    /// does not (an unsigned id would make the dedup key the sender's choice).
    pub id_header: Option<String>,
    /// The header with the timestamp: required when the template uses `{timestamp}`, refused
    /// when it does not (a replay window on an unsigned header holds nothing back).
    pub timestamp_header: Option<String>,
    /// The unit of the timestamp header.
    pub timestamp_unit: TimestampUnit,
    /// How the secret becomes the key.
    pub secret_encoding: SecretEncoding,
    /// The replay window (used only when a timestamp header is set).
    pub tolerance: Tolerance,
}

impl GenericScheme {
    /// A scheme signing the raw body, with no prefix, id or timestamp, and a 5-minute window
    /// should a timestamp header be added.
    #[must_use]
    pub fn new(signature_header: &str, algorithm: Algorithm, encoding: Encoding) -> Self {
        Self {
            signature_header: signature_header.to_owned(),
            algorithm,
            encoding,
            prefix: String::new(),
            signed: "{body}".to_owned(),
            id_header: None,
            timestamp_header: None,
            timestamp_unit: TimestampUnit::Seconds,
            secret_encoding: SecretEncoding::Utf8,
            tolerance: Tolerance::symmetric(300),
        }
    }
}

/// One piece of the signed message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Lit(Cow<'static, [u8]>),
    Id,
    Timestamp,
    Body,
    Method,
    Url,
    /// HubSpot's URI: the URL with a fixed set of percent-escapes decoded.
    HubSpotUri,
}

/// How the signature header is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Space-separated signatures; those starting with `prefix` (ASCII case-insensitive) are
    /// candidates, others (other versions) are ignored.
    Tokens { prefix: Cow<'static, str> },
    /// Stripe's `t=…,v1=…,v1=…,v0=…`.
    Stripe,
}

/// The headers of one naming family (Standard Webhooks has two: `webhook-` and `svix-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct HeaderSet {
    pub signature: HeaderName,
    pub id: Option<HeaderName>,
    pub timestamp: Option<HeaderName>,
}

/// A compiled scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Spec {
    pub name: &'static str,
    /// Tried in order; the first whose signature header is present is used. Signing writes the
    /// first.
    pub sets: Cow<'static, [HeaderSet]>,
    pub layout: Layout,
    pub algorithm: Algorithm,
    pub encoding: Encoding,
    pub message: Cow<'static, [Part]>,
    pub timestamp_unit: TimestampUnit,
    /// A header that, when present, must name the configured algorithm (MoltFlow).
    pub algorithm_header: Option<HeaderName>,
    pub secret: SecretEncoding,
    pub tolerance: Tolerance,
    /// The largest body the provider documents sending, rounded up: the default body limit of
    /// every receiver built on this scheme.
    pub max_body: u64,
}

/// The default body limit: 4 MiB, above Meta's documented 3 MB (the largest of the WhatsApp
/// providers; the others document less or nothing).
pub const DEFAULT_MAX_BODY: u64 = 4 * 1024 * 1024;
/// GitHub caps webhook payloads at 25 MB.
const GITHUB_MAX_BODY: u64 = 25 * 1024 * 1024;

impl Spec {
    pub(crate) fn uses(&self, part: &Part) -> bool {
        self.message.contains(part)
    }
}

const fn lit(s: &'static str) -> Part {
    Part::Lit(Cow::Borrowed(s.as_bytes()))
}

const fn set(
    signature: &'static str,
    id: Option<&'static str>,
    ts: Option<&'static str>,
) -> HeaderSet {
    HeaderSet {
        signature: Cow::Borrowed(signature),
        id: match id {
            Some(i) => Some(Cow::Borrowed(i)),
            None => None,
        },
        timestamp: match ts {
            Some(t) => Some(Cow::Borrowed(t)),
            None => None,
        },
    }
}

const fn tokens(prefix: &'static str) -> Layout {
    Layout::Tokens {
        prefix: Cow::Borrowed(prefix),
    }
}

/// A built-in scheme, field by field (a `const fn` cannot drop the fields struct-update syntax
/// would replace).
#[allow(clippy::too_many_arguments)]
const fn spec(
    name: &'static str,
    sets: &'static [HeaderSet],
    layout: Layout,
    algorithm: Algorithm,
    encoding: Encoding,
    message: &'static [Part],
    timestamp_unit: TimestampUnit,
    tolerance: Tolerance,
) -> Spec {
    Spec {
        name,
        sets: Cow::Borrowed(sets),
        layout,
        algorithm,
        encoding,
        message: Cow::Borrowed(message),
        timestamp_unit,
        algorithm_header: None,
        secret: SecretEncoding::Utf8,
        tolerance,
        max_body: DEFAULT_MAX_BODY,
    }
}

const fn with_secret(mut s: Spec, secret: SecretEncoding) -> Spec {
    s.secret = secret;
    s
}

const fn with_max_body(mut s: Spec, max_body: u64) -> Spec {
    s.max_body = max_body;
    s
}

// The built-in schemes are data: compiling one copies two borrowed slices.
const BODY: &[Part] = &[Part::Body];
const STD_MESSAGE: &[Part] = &[Part::Id, lit("."), Part::Timestamp, lit("."), Part::Body];
const STRIPE_MESSAGE: &[Part] = &[Part::Timestamp, lit("."), Part::Body];
const SLACK_MESSAGE: &[Part] = &[lit("v0:"), Part::Timestamp, lit(":"), Part::Body];
const HUBSPOT_MESSAGE: &[Part] = &[Part::Method, Part::HubSpotUri, Part::Body, Part::Timestamp];
const WEBHOOK: HeaderSet = set(
    "webhook-signature",
    Some("webhook-id"),
    Some("webhook-timestamp"),
);
const SVIX: HeaderSet = set("svix-signature", Some("svix-id"), Some("svix-timestamp"));
const MOLTFLOW_SETS: &[HeaderSet] = &[set("X-Webhook-Hmac", None, None)];
const MOSSMOON_SETS: &[HeaderSet] = &[set("X-Mossmoon-Signature", None, None)];
const META_SETS: &[HeaderSet] = &[set("X-Hub-Signature-256", None, None)];
// GitHub's `X-GitHub-Delivery` and Shopify's `X-Shopify-Webhook-Id` are not signed: they are not
// the scheme's id (the event parsers report them, see `event::extra_headers`).
const GITHUB_SETS: &[HeaderSet] = &[set("X-Hub-Signature-256", None, None)];
const SHOPIFY_SETS: &[HeaderSet] = &[set("X-Shopify-Hmac-Sha256", None, None)];
const STANDARD_SETS: &[HeaderSet] = &[WEBHOOK, SVIX];
const SVIX_SETS: &[HeaderSet] = &[SVIX, WEBHOOK];
const STRIPE_SETS: &[HeaderSet] = &[set("Stripe-Signature", None, None)];
const SLACK_SETS: &[HeaderSet] = &[set(
    "X-Slack-Signature",
    None,
    Some("X-Slack-Request-Timestamp"),
)];
const HUBSPOT_SETS: &[HeaderSet] = &[set(
    "X-HubSpot-Signature-v3",
    None,
    Some("X-HubSpot-Request-Timestamp"),
)];
const S: TimestampUnit = TimestampUnit::Seconds;
const OFF: Tolerance = Tolerance::DISABLED;
const FIVE_MINUTES: Tolerance = Tolerance::symmetric(300);
const SHA256: Algorithm = Algorithm::Sha256;

static MOLTFLOW: Spec = Spec {
    name: "moltflow",
    sets: Cow::Borrowed(MOLTFLOW_SETS),
    layout: tokens(""),
    algorithm: Algorithm::Sha512,
    encoding: Encoding::Hex,
    message: Cow::Borrowed(BODY),
    timestamp_unit: S,
    algorithm_header: Some(Cow::Borrowed("X-Webhook-Hmac-Algorithm")),
    secret: SecretEncoding::Utf8,
    tolerance: OFF,
    max_body: DEFAULT_MAX_BODY,
};
static MOSSMOON: Spec = spec(
    "mossmoon",
    MOSSMOON_SETS,
    tokens(""),
    SHA256,
    Encoding::Hex,
    BODY,
    S,
    OFF,
);
static META: Spec = spec(
    "meta",
    META_SETS,
    tokens("sha256="),
    SHA256,
    Encoding::Hex,
    BODY,
    S,
    OFF,
);
static GITHUB: Spec = with_max_body(
    spec(
        "github",
        GITHUB_SETS,
        tokens("sha256="),
        SHA256,
        Encoding::Hex,
        BODY,
        S,
        OFF,
    ),
    GITHUB_MAX_BODY,
);
static SHOPIFY: Spec = spec(
    "shopify",
    SHOPIFY_SETS,
    tokens(""),
    SHA256,
    Encoding::Base64,
    BODY,
    S,
    OFF,
);
/// Standard Webhooks and Svix: one scheme, the header families tried in another order.
const fn standard(name: &'static str, sets: &'static [HeaderSet]) -> Spec {
    with_secret(
        spec(
            name,
            sets,
            tokens("v1,"),
            SHA256,
            Encoding::Base64,
            STD_MESSAGE,
            S,
            FIVE_MINUTES,
        ),
        SecretEncoding::Whsec,
    )
}
static STANDARD_WEBHOOKS: Spec = standard("standard-webhooks", STANDARD_SETS);
static SVIX_SPEC: Spec = standard("svix", SVIX_SETS);
// Stripe's own libraries bound only the age of a timestamp.
static STRIPE: Spec = spec(
    "stripe",
    STRIPE_SETS,
    Layout::Stripe,
    SHA256,
    Encoding::Hex,
    STRIPE_MESSAGE,
    S,
    Tolerance {
        past: Some(300),
        future: None,
    },
);
static SLACK: Spec = spec(
    "slack",
    SLACK_SETS,
    tokens("v0="),
    SHA256,
    Encoding::Hex,
    SLACK_MESSAGE,
    S,
    FIVE_MINUTES,
);
static HUBSPOT: Spec = spec(
    "hubspot",
    HUBSPOT_SETS,
    tokens(""),
    SHA256,
    Encoding::Base64,
    HUBSPOT_MESSAGE,
    TimestampUnit::Milliseconds,
    FIVE_MINUTES,
);

impl Scheme {
    /// Compiles the scheme, validating a generic configuration.
    pub(crate) fn compile(&self) -> Result<Spec, Error> {
        Ok(match self {
            Self::MoltFlow => MOLTFLOW.clone(),
            Self::Mossmoon => MOSSMOON.clone(),
            Self::Meta => META.clone(),
            Self::GitHub => GITHUB.clone(),
            Self::Shopify => SHOPIFY.clone(),
            Self::StandardWebhooks => STANDARD_WEBHOOKS.clone(),
            Self::Svix => SVIX_SPEC.clone(),
            Self::Stripe => STRIPE.clone(),
            Self::Slack => SLACK.clone(),
            Self::HubSpot => HUBSPOT.clone(),
            Self::Generic(g) => compile_generic(g)?,
        })
    }
}

fn header(name: &str) -> Result<HeaderName, Error> {
    if is_valid_name(name) {
        Ok(Cow::Owned(name.to_owned()))
    } else {
        Err(Error::InvalidConfig(ConfigProblem::BadHeaderName(
            name.to_owned(),
        )))
    }
}

fn compile_generic(g: &GenericScheme) -> Result<Spec, Error> {
    let message = parse_template(&g.signed)?;
    if !message.contains(&Part::Body) {
        return Err(Error::InvalidConfig(ConfigProblem::TemplateWithoutBody));
    }
    if message.contains(&Part::Id) && g.id_header.is_none() {
        return Err(Error::InvalidConfig(ConfigProblem::IdWithoutHeader));
    }
    if message.contains(&Part::Timestamp) && g.timestamp_header.is_none() {
        return Err(Error::InvalidConfig(ConfigProblem::TimestampWithoutHeader));
    }
    // A header the signature does not cover is the sender's to rewrite: a replay window on it
    // holds nothing back, and an id from it makes the dedup key the attacker's choice.
    if g.timestamp_header.is_some() && !message.contains(&Part::Timestamp) {
        return Err(Error::InvalidConfig(ConfigProblem::UnsignedHeader(
            "timestamp",
        )));
    }
    if g.id_header.is_some() && !message.contains(&Part::Id) {
        return Err(Error::InvalidConfig(ConfigProblem::UnsignedHeader("id")));
    }
    let prefix = g.prefix.trim();
    if prefix.chars().any(char::is_whitespace) {
        return Err(Error::InvalidConfig(ConfigProblem::BadTemplate(
            g.prefix.clone(),
        )));
    }
    let set = HeaderSet {
        signature: header(&g.signature_header)?,
        id: g.id_header.as_deref().map(header).transpose()?,
        timestamp: g.timestamp_header.as_deref().map(header).transpose()?,
    };
    let names = [
        Some(&set.signature),
        set.id.as_ref(),
        set.timestamp.as_ref(),
    ];
    for (i, a) in names.iter().enumerate() {
        for b in names.iter().skip(i + 1) {
            if let (Some(a), Some(b)) = (a, b)
                && a.eq_ignore_ascii_case(b)
            {
                return Err(Error::InvalidConfig(ConfigProblem::DuplicateHeader(
                    a.to_string(),
                )));
            }
        }
    }
    Ok(Spec {
        name: "generic",
        sets: Cow::Owned(vec![set]),
        layout: Layout::Tokens {
            prefix: Cow::Owned(prefix.to_owned()),
        },
        algorithm: g.algorithm,
        encoding: g.encoding,
        message: Cow::Owned(message),
        timestamp_unit: g.timestamp_unit,
        algorithm_header: None,
        secret: g.secret_encoding,
        tolerance: g.tolerance,
        max_body: DEFAULT_MAX_BODY,
    })
}

/// Parses a signed-content template into parts.
fn parse_template(t: &str) -> Result<Vec<Part>, Error> {
    let bad = |at: &str| Error::InvalidConfig(ConfigProblem::BadTemplate(at.to_owned()));
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = t;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("{{") {
            literal.push('{');
            rest = r;
        } else if let Some(r) = rest.strip_prefix("}}") {
            literal.push('}');
            rest = r;
        } else if c == '}' {
            return Err(bad(rest));
        } else if c == '{' {
            let end = rest.find('}').ok_or_else(|| bad(rest))?;
            let part = match rest.get(1..end) {
                Some("body") => Part::Body,
                Some("id") => Part::Id,
                Some("timestamp") => Part::Timestamp,
                Some("method") => Part::Method,
                Some("url") => Part::Url,
                _ => return Err(bad(rest)),
            };
            if !literal.is_empty() {
                parts.push(Part::Lit(Cow::Owned(
                    std::mem::take(&mut literal).into_bytes(),
                )));
            }
            parts.push(part);
            rest = rest.get(end + 1..).unwrap_or("");
        } else {
            literal.push(c);
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
    }
    if !literal.is_empty() {
        parts.push(Part::Lit(Cow::Owned(literal.into_bytes())));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in Scheme::builtins() {
            assert_eq!(Scheme::from_name(s.name()), Ok(s.clone()));
            assert!(SCHEME_NAMES.contains(&s.name()));
            s.compile().unwrap();
        }
        assert_eq!(
            Scheme::from_name("Standard_Webhooks"),
            Ok(Scheme::StandardWebhooks)
        );
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
    }

    #[test]
    fn templates_parse() {
        assert_eq!(
            parse_template("v0:{timestamp}:{body}").unwrap(),
            vec![
                Part::Lit(Cow::Borrowed(b"v0:")),
                Part::Timestamp,
                Part::Lit(Cow::Borrowed(b":")),
                Part::Body
            ]
        );
        assert_eq!(
            parse_template("{{x}}{body}").unwrap(),
            vec![Part::Lit(Cow::Borrowed(b"{x}")), Part::Body]
        );
        for bad in ["{nope}", "{body", "}", "{body}}", "é{"] {
            assert!(
                matches!(
                    parse_template(bad),
                    Err(Error::InvalidConfig(ConfigProblem::BadTemplate(_)))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn generic_configs_are_checked() {
        let base = GenericScheme::new("X-Sig", Algorithm::Sha256, Encoding::Hex);
        Scheme::Generic(Box::new(base.clone())).compile().unwrap();
        let check = |f: &dyn Fn(&mut GenericScheme), want: ConfigProblem| {
            let mut g = base.clone();
            f(&mut g);
            assert_eq!(
                Scheme::Generic(Box::new(g)).compile(),
                Err(Error::InvalidConfig(want))
            );
        };
        check(
            &|g| g.signed = "{timestamp}".into(),
            ConfigProblem::TemplateWithoutBody,
        );
        check(
            &|g| g.signed = "{id}.{body}".into(),
            ConfigProblem::IdWithoutHeader,
        );
        check(
            &|g| g.signed = "{timestamp}.{body}".into(),
            ConfigProblem::TimestampWithoutHeader,
        );
        check(
            &|g| {
                g.signed = "{id}{body}".into();
                g.id_header = Some("x-sig".into());
            },
            ConfigProblem::DuplicateHeader("X-Sig".into()),
        );
        check(
            &|g| g.timestamp_header = Some("X-Ts".into()),
            ConfigProblem::UnsignedHeader("timestamp"),
        );
        check(
            &|g| g.id_header = Some("X-Id".into()),
            ConfigProblem::UnsignedHeader("id"),
        );
        check(
            &|g| {
                g.signed = "{id}.{body}".into();
                g.id_header = Some("X-Id".into());
                g.timestamp_header = Some("X-Ts".into());
            },
            ConfigProblem::UnsignedHeader("timestamp"),
        );
        check(
            &|g| g.signature_header = "bad header".into(),
            ConfigProblem::BadHeaderName("bad header".into()),
        );
    }
}
