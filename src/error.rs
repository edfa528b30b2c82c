//! One error type for everything the core can refuse, each case with a stable machine code.

use core::fmt;

use crate::{Algorithm, HeaderName};

/// Why a webhook was refused, or why a verifier could not be built.
///
/// Every variant has a stable [`code`](Error::code) (`snake_case`, part of the public API) so
/// callers can `match` on it from Rust or `switch (err.code)` from JavaScript. Messages name
/// headers and lengths, never secrets, and never echo more than a short, sanitised prefix of
/// what the sender put in a header.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A header the scheme needs is absent (or empty).
    MissingHeader(HeaderName),
    /// The signature header is present but cannot be used.
    MalformedSignature(SignatureProblem),
    /// The signature is well formed but no configured secret produces it.
    SignatureMismatch,
    /// MoltFlow's `X-Webhook-Hmac-Algorithm` names another algorithm than the configured one.
    /// The header is an assertion, never a selector: hookseal never switches algorithm on it.
    AlgorithmMismatch {
        /// The configured algorithm.
        expected: Algorithm,
        /// What the header said, sanitised and cut to a few characters.
        got: String,
    },
    /// The timestamp header is not a plain non-negative decimal integer.
    MalformedTimestamp,
    /// The signed timestamp is older than the tolerance allows (a replay, or a very late retry).
    TimestampTooOld {
        /// The signed timestamp, unix seconds.
        timestamp: i64,
        /// The time the caller passed as "now", unix seconds.
        now: i64,
        /// The tolerance in seconds.
        tolerance: u64,
    },
    /// The signed timestamp is further in the future than the tolerance allows.
    TimestampInFuture {
        /// The signed timestamp, unix seconds.
        timestamp: i64,
        /// The time the caller passed as "now", unix seconds.
        now: i64,
        /// The tolerance in seconds.
        tolerance: u64,
    },
    /// A secret cannot be used for this scheme.
    InvalidSecret(SecretProblem),
    /// The scheme signs the request URL (Twilio, Bird, HubSpot v3, a generic template with
    /// `{url}`) but the caller did not pass it.
    MissingRequestTarget,
    /// Signing needs a value the caller did not give (for example a `webhook-id`).
    MissingInput(&'static str),
    /// A scheme name that hookseal does not know. The name itself is not kept: a secret passed
    /// where the scheme belongs (arguments swapped) must not reach an error message or a log.
    UnknownScheme {
        /// The length of the name given, in characters.
        len: usize,
    },
    /// A generic scheme (or verifier) configuration that cannot work.
    InvalidConfig(ConfigProblem),
    /// A Meta verification handshake (`GET ?hub.mode=subscribe&…`) that must not be answered.
    HandshakeRejected(HandshakeProblem),
    /// The body verified but is not UTF-8 (the signature was good; the sender sent bad bytes).
    InvalidUtf8 {
        /// Bytes of valid UTF-8 before the first bad one.
        valid_up_to: usize,
    },
    /// The body verified but is not JSON (or nests deeper than 128 levels, or has a number out of
    /// range).
    MalformedJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
    },
    /// The body verified and is JSON but not the event the provider documents.
    InvalidEvent {
        /// The path of the field, such as `data.message_id` or `entry[].changes[]`.
        field: String,
        /// What is wrong with it.
        problem: FieldProblem,
    },
}

/// Why a Meta verification handshake was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeProblem {
    /// `hub.mode` is not `subscribe`.
    NotSubscribe,
    /// `hub.verify_token` is not the configured token.
    TokenMismatch,
    /// `hub.challenge` is missing or empty.
    MissingChallenge,
}

/// What is wrong with a field of an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldProblem {
    /// A required field is absent (or `null`).
    Missing,
    /// The field has another JSON type than documented.
    WrongType,
    /// The field has the right type but an unusable value (a bad date, a time out of range).
    Invalid,
    /// The field is missing, or not in its documented shape, where that shape is what makes the
    /// body unambiguous: a signed form body re-split into other parameters (Twilio signs them
    /// joined without separators). Such a body is refused, never kept as an unparsed event.
    Reshaped,
}

/// What is wrong with a signature header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureProblem {
    /// The header holds no signature of the version this scheme verifies (for example only
    /// `v1a,` entries for Standard Webhooks, no `sha256=` prefix for GitHub, no `v1=` for Stripe).
    NoSupportedSignature,
    /// A signature is not valid hex / base64.
    BadEncoding,
    /// A signature decodes to the wrong number of bytes for the configured algorithm.
    WrongLength {
        /// Bytes the signature decodes (or would decode) to.
        got: usize,
        /// Bytes the configured algorithm produces.
        expected: usize,
    },
    /// More signatures in one header than hookseal will look at.
    TooMany,
    /// Stripe's header is not a list of `key=value` pairs with exactly one `t=`.
    BadStructure,
    /// A JWT (Vonage) is not `Bearer <header>.<payload>.<signature>` with JSON header and
    /// claims, or lacks a claim the scheme requires (`payload_hash`, `iat`).
    BadToken,
    /// A JWT names an algorithm other than HS256 (`none` included): refused before any MAC, so
    /// that no algorithm confusion is possible.
    UnsupportedAlgorithm,
}

/// What is wrong with a secret.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecretProblem {
    /// The secret is empty, or decodes to an empty key.
    Empty,
    /// The secret starts or ends with white space, almost always a copy-paste accident
    /// (a trailing newline from an env file). It is refused rather than trimmed silently.
    SurroundingWhitespace,
    /// The secret should be base64 (after an optional `whsec_` prefix) and is not.
    NotBase64,
    /// The secret should be hex and is not.
    NotHex,
    /// The decoded key is shorter than the scheme accepts.
    TooShort {
        /// Decoded key length in bytes.
        len: usize,
        /// Minimum accepted length in bytes.
        min: usize,
    },
    /// The key decodes to zero bytes only. HMAC pads a key with zeros, so this is the empty key
    /// and anyone could sign with it.
    AllZero,
    /// The secret looks like a signature header value (`sha256=…`, `v1,…`, `t=…,v1=…`), not a
    /// secret: it was probably pasted from a request instead of the provider's settings.
    LooksLikeSignature,
    /// A `whpk_` or `whsk_` key is not a valid Ed25519 key (32 bytes of a curve point for a
    /// public key; a 32-byte seed, or seed and public key in 64 bytes, for a secret key).
    BadEd25519Key,
    /// A `whpk_` public key was given to sign with: only its `whsk_` secret key can.
    PublicKeyCannotSign,
    /// A `whpk_` public key of small order (the identity, the all-zero encoding, another
    /// torsion point) or in a non-canonical encoding: with it, anyone could forge signatures.
    WeakEd25519Key,
}

/// What is wrong with a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigProblem {
    /// No secret was given.
    NoSecrets,
    /// More secrets than a verifier takes (each costs one HMAC per request).
    TooManySecrets {
        /// How many were given.
        given: usize,
        /// The most accepted.
        max: usize,
    },
    /// A header name is empty or not a valid HTTP token.
    BadHeaderName(String),
    /// One header is configured for two roles (signature, id, timestamp).
    DuplicateHeader(String),
    /// The signed-content template does not include `{body}`, which would leave the body
    /// unauthenticated.
    TemplateWithoutBody,
    /// The template has a placeholder hookseal does not know, or an unbalanced brace.
    BadTemplate(String),
    /// The template uses `{id}` but no `id_header` is configured.
    IdWithoutHeader,
    /// The template uses `{timestamp}` but no `timestamp_header` is configured.
    TimestampWithoutHeader,
    /// An algorithm, encoding or unit name that hookseal does not know.
    UnknownName(String),
    /// A timestamp or id header is configured but the template does not sign it: the sender
    /// could rewrite it at will, so a replay window or dedup key built on it would protect
    /// nothing.
    UnsignedHeader(&'static str),
    /// A tolerance that bounds one side and leaves the other out.
    IncompleteTolerance,
    /// A route's filter cannot mean anything (an unknown operator, a wrong type, a malformed
    /// `$regex`): where, and why.
    BadFilter(String),
    /// A destination's body template cannot be used: where, and why.
    BadBodyTemplate(String),
    /// A path into the event (`orderBy`, a template's `{{ … }}`) is malformed.
    BadPath(String),
}

impl Error {
    /// The stable machine code of this error.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MissingHeader(_) => "missing_header",
            Self::MalformedSignature(_) => "malformed_signature",
            Self::SignatureMismatch => "signature_mismatch",
            Self::AlgorithmMismatch { .. } => "algorithm_mismatch",
            Self::MalformedTimestamp => "malformed_timestamp",
            Self::TimestampTooOld { .. } => "timestamp_too_old",
            Self::TimestampInFuture { .. } => "timestamp_in_future",
            Self::InvalidSecret(_) => "invalid_secret",
            Self::MissingRequestTarget => "missing_request_target",
            Self::MissingInput(_) => "missing_input",
            Self::UnknownScheme { .. } => "unknown_scheme",
            Self::InvalidConfig(ConfigProblem::BadFilter(_)) => "invalid_filter",
            Self::InvalidConfig(_) => "invalid_config",
            Self::HandshakeRejected(_) => "handshake_rejected",
            Self::InvalidUtf8 { .. } => "invalid_utf8",
            Self::MalformedJson { .. } => "malformed_json",
            Self::InvalidEvent { .. } => "invalid_event",
        }
    }

    /// The HTTP status to answer this error with (see [`ERROR_CODES`]): 401 for a request that
    /// is not authentic or not fresh, 403 for a refused handshake, 400 for an authentic body
    /// that is not the documented event, 500 for the receiver's own configuration.
    #[must_use]
    pub fn http_status(&self) -> u16 {
        status_of(self.code()).unwrap_or(500)
    }

    /// Whether this error means "the request is not authentic or not fresh" (answer 401).
    /// Configuration problems on the receiving side and body problems found after the signature
    /// verified are not rejections.
    #[must_use]
    pub const fn is_rejection(&self) -> bool {
        matches!(
            self,
            Self::MissingHeader(_)
                | Self::MalformedSignature(_)
                | Self::SignatureMismatch
                | Self::AlgorithmMismatch { .. }
                | Self::MalformedTimestamp
                | Self::TimestampTooOld { .. }
                | Self::TimestampInFuture { .. }
                | Self::HandshakeRejected(_)
        )
    }

    /// Whether the signature had verified before this error: the body is authentic but could not
    /// be parsed (`invalid_utf8`, `malformed_json`, `invalid_event`). Such a delivery should not
    /// be answered with 401: the sender did nothing a retry would fix.
    #[must_use]
    pub const fn signature_verified(&self) -> bool {
        matches!(
            self,
            Self::InvalidUtf8 { .. } | Self::MalformedJson { .. } | Self::InvalidEvent { .. }
        )
    }

    /// Whether a receiver should keep the body as an unparsed event (it verified, and is only
    /// not the documented event), rather than refuse it: not when its shape is what was forged
    /// ([`FieldProblem::Reshaped`]), since keeping it would make a replayed body a "new" event.
    #[must_use]
    pub const fn keeps_as_unparsed(&self) -> bool {
        self.signature_verified()
            && !matches!(
                self,
                Self::InvalidEvent {
                    problem: FieldProblem::Reshaped,
                    ..
                }
            )
    }
}

/// Who raises an error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Raiser {
    /// The core ([`Error::code`]), and so every binding.
    Core,
    /// The npm package's JS (its input checks and HTTP helpers).
    Package,
    /// The Cloudflare Worker (ingest and admin API responses).
    Worker,
}

/// One error code hookseal can emit, and the HTTP status it is answered with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorCode {
    /// The stable machine code.
    pub code: &'static str,
    /// The HTTP status.
    pub status: u16,
    /// Who raises it.
    pub raised_by: Raiser,
}

const fn code(code: &'static str, status: u16, raised_by: Raiser) -> ErrorCode {
    ErrorCode {
        code,
        status,
        raised_by,
    }
}

/// Every error code the core, the npm package and the Worker can emit, each once, with its HTTP
/// status: the one list the bindings answer from and the TypeScript `HooksealErrorCode` union is
/// checked against.
pub const ERROR_CODES: &[ErrorCode] = &[
    // Not authentic or not fresh: the sender (or an attacker) sent something to refuse.
    code("missing_header", 401, Raiser::Core),
    code("malformed_signature", 401, Raiser::Core),
    code("signature_mismatch", 401, Raiser::Core),
    code("algorithm_mismatch", 401, Raiser::Core),
    code("malformed_timestamp", 401, Raiser::Core),
    code("timestamp_too_old", 401, Raiser::Core),
    code("timestamp_in_future", 401, Raiser::Core),
    // Meta asks for a 403 when the verify token does not match.
    code("handshake_rejected", 403, Raiser::Core),
    // The receiver's configuration.
    code("invalid_secret", 500, Raiser::Core),
    code("missing_request_target", 500, Raiser::Core),
    code("missing_input", 500, Raiser::Core),
    code("unknown_scheme", 500, Raiser::Core),
    code("invalid_config", 500, Raiser::Core),
    // Authentic, but not the documented event.
    code("invalid_utf8", 400, Raiser::Core),
    code("malformed_json", 400, Raiser::Core),
    code("invalid_event", 400, Raiser::Core),
    // A route filter that is not one (`matches`, the Worker's filter tester).
    code("invalid_filter", 400, Raiser::Core),
    // The package.
    code("invalid_input", 400, Raiser::Package),
    code("body_too_large", 413, Raiser::Package),
    code("body_already_parsed", 400, Raiser::Package),
    // The Worker.
    code("not_found", 404, Raiser::Worker),
    code("unknown_source", 404, Raiser::Worker),
    code("no_handshake", 404, Raiser::Worker),
    code("unreadable_body", 400, Raiser::Worker),
    code("event_too_large", 413, Raiser::Worker),
    code("dedup_unavailable", 503, Raiser::Worker),
    code("log_unavailable", 503, Raiser::Worker),
    code("queue_unavailable", 503, Raiser::Worker),
    code("unauthorized", 401, Raiser::Worker),
    code("log_off", 501, Raiser::Worker),
    code("media_off", 501, Raiser::Worker),
    code("media_unavailable", 503, Raiser::Worker),
    code("gate_off", 501, Raiser::Worker),
    code("gate_unavailable", 503, Raiser::Worker),
    code("invalid_query", 400, Raiser::Worker),
    code("invalid_body", 400, Raiser::Worker),
    code("too_many_requests", 429, Raiser::Worker),
    code("forbidden", 403, Raiser::Worker),
];

/// The HTTP status of an error code in [`ERROR_CODES`].
#[must_use]
pub fn status_of(code: &str) -> Option<u16> {
    ERROR_CODES
        .iter()
        .find(|c| c.code == code)
        .map(|c| c.status)
}

/// At most this many characters of sender-controlled text appear in an error.
const ECHO_MAX: usize = 16;

/// A short, printable rendering of sender-controlled text for error messages.
pub(crate) fn sanitise(s: &str) -> String {
    let mut out: String = s
        .chars()
        .take(ECHO_MAX)
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .collect();
    if s.chars().nth(ECHO_MAX).is_some() {
        out.push('…');
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingHeader(h) => write!(f, "missing header `{h}`"),
            Self::MalformedSignature(p) => write!(f, "malformed signature: {p}"),
            Self::SignatureMismatch => f.write_str(
                "signature mismatch: no configured secret produces this signature for these \
                 bytes (wrong secret, or the body was changed or re-serialised before verifying: \
                 verify the raw bytes as received)",
            ),
            Self::AlgorithmMismatch { expected, got } => write!(
                f,
                "algorithm mismatch: configured for {}, the request says `{got}`",
                expected.name()
            ),
            Self::MalformedTimestamp => {
                f.write_str("malformed timestamp: expected a non-negative decimal integer")
            }
            Self::TimestampTooOld {
                timestamp,
                now,
                tolerance,
            } => write!(
                f,
                "timestamp too old: signed at {timestamp}, now {now}, tolerance {tolerance} s"
            ),
            Self::TimestampInFuture {
                timestamp,
                now,
                tolerance,
            } => write!(
                f,
                "timestamp in the future: signed at {timestamp}, now {now}, tolerance {tolerance} s \
                 (is a clock wrong?)"
            ),
            Self::InvalidSecret(p) => write!(f, "invalid secret: {p}"),
            Self::MissingRequestTarget => f.write_str(
                "this scheme signs the request URL: pass the URL the sender posted to (and the method, \
                 if not POST) to verify/sign",
            ),
            Self::MissingInput(what) => write!(f, "signing needs `{what}`"),
            Self::UnknownScheme { len } => {
                write!(f, "unknown scheme ({len} characters; expected one of ")?;
                for (i, name) in crate::scheme_names().enumerate() {
                    f.write_str(if i == 0 { "" } else { ", " })?;
                    f.write_str(name)?;
                }
                f.write_str("; did you swap the scheme and the secret?)")
            }
            Self::InvalidConfig(ConfigProblem::BadFilter(why)) => {
                write!(f, "invalid filter: {}", cut(why))
            }
            Self::InvalidConfig(p) => write!(f, "invalid configuration: {p}"),
            Self::HandshakeRejected(p) => write!(f, "verification handshake refused: {p}"),
            Self::InvalidUtf8 { valid_up_to } => write!(
                f,
                "the signature is valid but the body is not UTF-8 (first bad byte at {valid_up_to})"
            ),
            Self::MalformedJson { line, column } => write!(
                f,
                "the signature is valid but the body is not JSON (line {line}, column {column})"
            ),
            Self::InvalidEvent { field, problem } => write!(
                f,
                "the signature is valid but field `{}` {problem}",
                sanitise_path(field)
            ),
        }
    }
}

impl fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSupportedSignature => {
                f.write_str("no signature of the version this scheme verifies")
            }
            Self::BadEncoding => f.write_str("not valid hex/base64"),
            Self::WrongLength { got, expected } => write!(
                f,
                "decodes to {got} bytes, the configured algorithm produces {expected} \
                 (is the algorithm configured right?)"
            ),
            Self::TooMany => f.write_str("too many signatures in one header"),
            Self::BadStructure => f.write_str("expected `t=<timestamp>,v1=<signature>`"),
            Self::BadToken => f.write_str("expected `Bearer <JWT>` with `payload_hash` and `iat`"),
            Self::UnsupportedAlgorithm => f.write_str("the JWT's `alg` is not HS256"),
        }
    }
}

impl fmt::Display for SecretProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the secret is empty, or decodes to no bytes"),
            Self::SurroundingWhitespace => {
                f.write_str("the secret starts or ends with white space (a stray newline?)")
            }
            Self::NotBase64 => f.write_str("expected base64, optionally after `whsec_`"),
            Self::NotHex => f.write_str("expected hex"),
            Self::TooShort { len, min } => {
                write!(
                    f,
                    "the key decodes to {len} bytes; at least {min} are required"
                )
            }
            Self::AllZero => {
                f.write_str("the key is all zero bytes: HMAC's empty key, anyone could sign")
            }
            Self::LooksLikeSignature => {
                f.write_str("this looks like a signature header, not the signing secret")
            }
            Self::BadEd25519Key => f.write_str("not an Ed25519 key (base64 of 32 bytes)"),
            Self::PublicKeyCannotSign => f.write_str("a `whpk_` key cannot sign: use `whsk_`"),
            Self::WeakEd25519Key => f.write_str(
                "a small-order or non-canonical Ed25519 public key: anyone could forge signatures \
                 it accepts",
            ),
        }
    }
}

impl fmt::Display for HandshakeProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotSubscribe => "hub.mode is not `subscribe`",
            Self::TokenMismatch => "hub.verify_token does not match",
            Self::MissingChallenge => "hub.challenge is missing",
        })
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Missing => "is missing",
            Self::WrongType => "has the wrong type",
            Self::Invalid => "has an invalid value",
            Self::Reshaped => {
                "is missing or not in its documented shape (a signed form body re-split into \
                 other parameters?)"
            }
        })
    }
}

/// A message built from configuration (never from a request), cut to a readable length.
fn cut(s: &str) -> &str {
    match s.char_indices().nth(400) {
        Some((at, _)) => s.get(..at).unwrap_or(s),
        None => s,
    }
}

/// Field paths come from the body (a Meta `type` names a key): keep them short and printable.
fn sanitise_path(p: &str) -> String {
    if p.len() <= 64 && p.bytes().all(|b| b.is_ascii_graphic()) {
        p.to_owned()
    } else {
        sanitise(p)
    }
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoSecrets => f.write_str("at least one secret is required"),
            Self::TooManySecrets { given, max } => {
                write!(f, "{given} secrets given, at most {max} are accepted")
            }
            Self::BadHeaderName(h) => write!(f, "bad header name `{}`", sanitise(h)),
            Self::DuplicateHeader(h) => {
                write!(f, "header `{}` is configured for two roles", sanitise(h))
            }
            Self::TemplateWithoutBody => f.write_str("the signed template must include `{body}`"),
            Self::BadTemplate(t) => write!(f, "bad template near `{}`", sanitise(t)),
            Self::IdWithoutHeader => f.write_str("`{id}` is used but no id_header is set"),
            Self::TimestampWithoutHeader => {
                f.write_str("`{timestamp}` is used but no timestamp_header is set")
            }
            Self::UnknownName(n) => write!(f, "unknown name `{}`", sanitise(n)),
            Self::UnsignedHeader(what) => write!(
                f,
                "a {what} header is set but the signed template has no `{{{what}}}`: an unsigned \
                 {what} can be rewritten by anyone, so add `{{{what}}}` to `signed` or drop the header"
            ),
            Self::IncompleteTolerance => f.write_str(
                "a tolerance object needs both `past` and `future` (seconds, or null for unbounded)",
            ),
            Self::BadFilter(why) => write!(f, "filter: {}", cut(why)),
            Self::BadBodyTemplate(why) => write!(f, "body template: {}", cut(why)),
            Self::BadPath(why) => write!(f, "path {}", cut(why)),
        }
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of every variant (the match below stops compiling when one is added).
    fn one_of_each() -> Vec<Error> {
        let all = vec![
            Error::MissingHeader("x".into()),
            Error::MalformedSignature(SignatureProblem::NoSupportedSignature),
            Error::SignatureMismatch,
            Error::AlgorithmMismatch {
                expected: crate::Algorithm::Sha512,
                got: "md5".into(),
            },
            Error::MalformedTimestamp,
            Error::TimestampTooOld {
                timestamp: 0,
                now: 1000,
                tolerance: 300,
            },
            Error::TimestampInFuture {
                timestamp: 1000,
                now: 0,
                tolerance: 300,
            },
            Error::InvalidSecret(SecretProblem::Empty),
            Error::MissingRequestTarget,
            Error::MissingInput("id"),
            Error::UnknownScheme { len: 3 },
            Error::InvalidConfig(ConfigProblem::NoSecrets),
            Error::InvalidConfig(ConfigProblem::BadFilter("x: unknown operator".into())),
            Error::HandshakeRejected(HandshakeProblem::TokenMismatch),
            Error::InvalidUtf8 { valid_up_to: 0 },
            Error::MalformedJson { line: 1, column: 1 },
            Error::InvalidEvent {
                field: "x".into(),
                problem: FieldProblem::Missing,
            },
        ];
        for e in &all {
            match e {
                Error::MissingHeader(_)
                | Error::MalformedSignature(_)
                | Error::SignatureMismatch
                | Error::AlgorithmMismatch { .. }
                | Error::MalformedTimestamp
                | Error::TimestampTooOld { .. }
                | Error::TimestampInFuture { .. }
                | Error::InvalidSecret(_)
                | Error::MissingRequestTarget
                | Error::MissingInput(_)
                | Error::UnknownScheme { .. }
                | Error::InvalidConfig(_)
                | Error::HandshakeRejected(_)
                | Error::InvalidUtf8 { .. }
                | Error::MalformedJson { .. }
                | Error::InvalidEvent { .. } => {}
            }
        }
        all
    }

    #[test]
    fn the_code_table_lists_each_code_once_and_every_core_code() {
        let mut codes: Vec<_> = ERROR_CODES.iter().map(|c| c.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), ERROR_CODES.len(), "a code is listed twice");
        let core: Vec<_> = ERROR_CODES
            .iter()
            .filter(|c| c.raised_by == Raiser::Core)
            .map(|c| c.code)
            .collect();
        let mut raised: Vec<_> = one_of_each().iter().map(Error::code).collect();
        raised.sort_unstable();
        let mut core = core;
        core.sort_unstable();
        assert_eq!(raised, core);
    }

    #[test]
    fn statuses_agree_with_the_classification() {
        for e in one_of_each() {
            let status = e.http_status();
            if e.is_rejection() {
                assert!(matches!(status, 401 | 403), "{}", e.code());
            } else if e.signature_verified() || e.code() == "invalid_filter" {
                // A filter is the caller's input (`matches`, the Worker's filter tester).
                assert_eq!(status, 400, "{}", e.code());
            } else {
                assert_eq!(status, 500, "{}", e.code());
            }
        }
        assert_eq!(status_of("body_too_large"), Some(413));
        assert_eq!(status_of("nope"), None);
    }

    #[test]
    fn sanitise_cuts_and_masks() {
        assert_eq!(sanitise("sha256"), "sha256");
        assert_eq!(sanitise("a\nb\u{1F600}"), "a?b?");
        assert_eq!(sanitise("0123456789abcdefXYZ"), "0123456789abcdef…");
    }
}
