//! The compiled form every scheme shares, and the generic schemes configured by data.
//!
//! Every scheme, built-in (`scheme.rs`) or generic, compiles to one [`Spec`]: which headers carry
//! what, how the signature is written, which bytes are signed, how the secret becomes a key, and
//! the replay window. One engine (`verify.rs`) then serves them all.

use std::borrow::Cow;

use crate::error::{ConfigProblem, Error};
use crate::event::Events;
use crate::headers::{HeaderName, is_valid_name};
use crate::mac::{Algorithm, Encoding};
use crate::secret::SecretEncoding;

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
    /// The raw SHA-256 digest of the body (Bird).
    BodySha256,
    /// Twilio's URL: the request URL, tried with and without the scheme's default port. When
    /// its query has `bodySHA256` (JSON bodies), that must be the body's hex SHA-256.
    TwilioUrl,
    /// Twilio's form parameters, sorted, as name and value with nothing between (nothing for a
    /// JSON body: its URL carries `bodySHA256`).
    TwilioParams,
}

/// How the signature header is laid out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Space-separated signatures; those starting with `prefix` (ASCII case-insensitive) are
    /// candidates, others (other versions) are ignored.
    Tokens { prefix: Cow<'static, str> },
    /// Stripe's `t=…,v1=…,v1=…,v0=…`.
    Stripe,
    /// `Bearer <JWT>`, HS256, whose claims bind the body (`payload_hash`) and the time (`iat`):
    /// Vonage. The template is not used.
    Jwt,
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
    /// The scheme's canonical name (`generic` for a generic scheme).
    pub name: &'static str,
    /// How verified bodies become events, and the unsigned headers that reading needs.
    pub events: &'static Events,
    /// Tried in order; the first whose signature header is present is used. Signing writes the
    /// first.
    pub sets: Cow<'static, [HeaderSet]>,
    pub layout: Layout,
    /// The prefix of Ed25519 signatures in a token list (Standard Webhooks' `v1a,`), for
    /// schemes that take `whpk_`/`whsk_` keys beside their HMAC secrets.
    pub asymmetric: Option<&'static str>,
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

impl Spec {
    pub(crate) fn uses(&self, part: &Part) -> bool {
        self.message.contains(part)
    }
}

pub(crate) fn header(name: &str) -> Result<HeaderName, Error> {
    if is_valid_name(name) {
        Ok(Cow::Owned(name.to_owned()))
    } else {
        Err(Error::InvalidConfig(ConfigProblem::BadHeaderName(
            name.to_owned(),
        )))
    }
}

pub(crate) fn compile_generic(g: &GenericScheme) -> Result<Spec, Error> {
    let message = parse_template(&g.signed, false)?;
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
        events: &crate::event::other::GENERIC,
        asymmetric: None,
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

/// Parses a signed-content template into parts. The built-in schemes' templates may also name
/// the parts only a provider's own rules produce (`{hubspot-uri}`).
pub(crate) fn parse_template(t: &str, builtin: bool) -> Result<Vec<Part>, Error> {
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
                Some("hubspot-uri") if builtin => Part::HubSpotUri,
                Some("body-sha256") if builtin => Part::BodySha256,
                Some("twilio-url") if builtin => Part::TwilioUrl,
                Some("twilio-params") if builtin => Part::TwilioParams,
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
    use crate::mac::{Algorithm, Encoding};

    #[test]
    fn templates_parse() {
        assert_eq!(
            parse_template("v0:{timestamp}:{body}", false).unwrap(),
            vec![
                Part::Lit(Cow::Borrowed(b"v0:")),
                Part::Timestamp,
                Part::Lit(Cow::Borrowed(b":")),
                Part::Body
            ]
        );
        assert_eq!(
            parse_template("{{x}}{body}", false).unwrap(),
            vec![Part::Lit(Cow::Borrowed(b"{x}")), Part::Body]
        );
        // `{hubspot-uri}` is a built-in's part, not one a generic template may name.
        for bad in [
            "{nope}",
            "{body",
            "}",
            "{body}}",
            "é{",
            "{hubspot-uri}{body}",
        ] {
            assert!(
                matches!(
                    parse_template(bad, false),
                    Err(Error::InvalidConfig(ConfigProblem::BadTemplate(_)))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn generic_configs_are_checked() {
        let base = GenericScheme::new("X-Sig", Algorithm::Sha256, Encoding::Hex);
        compile_generic(&base).unwrap();
        let check = |f: &dyn Fn(&mut GenericScheme), want: ConfigProblem| {
            let mut g = base.clone();
            f(&mut g);
            assert_eq!(compile_generic(&g), Err(Error::InvalidConfig(want)));
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
