//! The one engine behind every scheme: [`Verifier`] and [`Signer`].

use core::fmt;
use std::borrow::Cow;

use crate::error::{ConfigProblem, Error, SecretProblem, SignatureProblem, sanitise};
use crate::event::Event;
use crate::headers::{HeaderName, Headers, value};
use crate::mac::{Algorithm, MAX_TAG, PreparedKey, Tag};
use crate::scheme::Scheme;
use crate::secret::key_bytes;
use crate::spec::{HeaderSet, Layout, Part, Spec, TimestampUnit, Tolerance};
use sha2::Digest as _;

/// A verifier takes at most this many secrets (each costs one HMAC per request).
pub const MAX_SECRETS: usize = 8;

/// At most this many signatures in one header are looked at.
pub const MAX_SIGNATURES: usize = 16;

/// An incoming webhook request: the raw body bytes exactly as received, and its headers.
///
/// Schemes that sign the URL (Twilio, Bird, HubSpot v3, a generic template with `{url}`) also
/// need [`with_url`](Request::with_url); a scheme that signs the method (HubSpot v3, `{method}`)
/// takes `POST` unless [`with_target`](Request::with_target) says otherwise.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    body: &'a [u8],
    headers: &'a dyn Headers,
    method: Option<&'a str>,
    url: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request with this raw body and these headers.
    #[must_use]
    pub fn new(body: &'a [u8], headers: &'a dyn Headers) -> Self {
        Self {
            body,
            headers,
            method: None,
            url: None,
        }
    }

    /// Adds the request method and the full URL the sender posted to (scheme, host, path and
    /// query), for schemes that sign them.
    #[must_use]
    pub fn with_target(mut self, method: &'a str, url: &'a str) -> Self {
        self.method = Some(method);
        self.url = Some(url);
        self
    }

    /// Adds the full URL the sender posted to (scheme, host, path and query), for schemes that
    /// sign it; the method, where signed, is then `POST`.
    #[must_use]
    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }

    /// Adds the request method, for schemes that sign it (`POST` when not given).
    #[must_use]
    pub fn with_method(mut self, method: &'a str) -> Self {
        self.method = Some(method);
        self
    }

    /// The raw body.
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.body
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("body_len", &self.body.len())
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// What a successful verification established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified<'a> {
    /// The delivery id, when the scheme signs one (`webhook-id`, `svix-id`, a generic
    /// template's `{id}`), trimmed. An id header the signature does not cover never appears
    /// here.
    pub id: Option<&'a str>,
    /// The signed timestamp in unix seconds, when the scheme signs one.
    pub timestamp: Option<i64>,
    /// Which secret matched (its index in the list the verifier was built with): tells when an
    /// old secret in a rotation stops being used.
    pub secret_index: usize,
}

/// What [`Signer::sign`] signs.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct SignInput<'a> {
    /// The body to send.
    pub body: &'a [u8],
    /// The time of signing, unix seconds (written in milliseconds for HubSpot).
    pub timestamp: i64,
    /// The delivery id, for schemes that carry one (required by Standard Webhooks and Svix).
    pub id: Option<&'a str>,
    /// The request method, for schemes that sign it (HubSpot); `POST` when not given.
    pub method: Option<&'a str>,
    /// The full URL, for schemes that sign it (HubSpot).
    pub url: Option<&'a str>,
}

impl<'a> SignInput<'a> {
    /// Signs `body` at `timestamp` (unix seconds).
    #[must_use]
    pub fn new(body: &'a [u8], timestamp: i64) -> Self {
        Self {
            body,
            timestamp,
            ..Self::default()
        }
    }

    /// With a delivery id.
    #[must_use]
    pub fn with_id(mut self, id: &'a str) -> Self {
        self.id = Some(id);
        self
    }

    /// With the request method and URL.
    #[must_use]
    pub fn with_target(mut self, method: &'a str, url: &'a str) -> Self {
        self.method = Some(method);
        self.url = Some(url);
        self
    }

    /// With the URL (the method, where signed, is then `POST`).
    #[must_use]
    pub fn with_url(mut self, url: &'a str) -> Self {
        self.url = Some(url);
        self
    }
}

/// Verifies webhooks of one scheme against one or more secrets.
///
/// Build it once (at start-up, per source) and call [`verify`](Verifier::verify) per request:
/// the keyed HMAC states are prepared once and reused. During a rotation give both secrets;
/// a request signed with either passes.
///
/// ```
/// use hookseal::{Request, Scheme, Signer, Verifier};
/// let verifier = Verifier::new(Scheme::from_name("mossmoon")?, ["old-secret", "new-secret"])?;
/// # let body = br#"{"event":"line.ready","id":"evt_1"}"#;
/// # let headers = Signer::new(Scheme::from_name("mossmoon")?, "new-secret")?.sign(&hookseal::SignInput::new(body, 0))?;
/// let verified = verifier.verify(&Request::new(body, &headers), 1_700_000_000)?;
/// assert_eq!(verified.secret_index, 1);
/// # Ok::<(), hookseal::Error>(())
/// ```
#[derive(Clone)]
pub struct Verifier {
    spec: Spec,
    keys: Vec<PreparedKey>,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("scheme", &self.spec.name)
            .field("secrets", &format_args!("<{} redacted>", self.keys.len()))
            .field("tolerance", &self.spec.tolerance)
            .finish()
    }
}

impl Verifier {
    /// A verifier for `scheme` accepting any of `secrets` (1 to [`MAX_SECRETS`]).
    pub fn new<I, S>(scheme: Scheme, secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let spec = scheme.compile()?;
        let mut keys = Vec::new();
        let mut given = 0usize;
        for s in secrets {
            given += 1;
            if given > MAX_SECRETS {
                continue;
            }
            keys.push(prepare(&spec, s.as_ref())?);
        }
        if given == 0 {
            return Err(Error::InvalidConfig(ConfigProblem::NoSecrets));
        }
        if given > MAX_SECRETS {
            return Err(Error::InvalidConfig(ConfigProblem::TooManySecrets {
                given,
                max: MAX_SECRETS,
            }));
        }
        Ok(Self { spec, keys })
    }

    /// Replaces the replay window (see [`Scheme::default_tolerance`] for the defaults).
    #[must_use]
    pub fn with_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.spec.tolerance = tolerance;
        self
    }

    /// The replay window in force.
    #[must_use]
    pub fn tolerance(&self) -> Tolerance {
        self.spec.tolerance
    }

    /// The scheme's canonical name.
    #[must_use]
    pub fn scheme_name(&self) -> &'static str {
        self.spec.name
    }

    /// Whether the scheme signs a timestamp (so `now` matters to [`verify`](Self::verify)).
    #[must_use]
    pub fn uses_timestamp(&self) -> bool {
        matches!(self.spec.layout, Layout::Stripe | Layout::Jwt)
            || self.spec.sets.iter().any(|s| s.timestamp.is_some())
    }

    /// The default body limit for this scheme, in bytes: the largest payload the provider
    /// documents, rounded up (4 MiB for most, Meta's 3 MB included; 25 MiB for GitHub).
    #[must_use]
    pub fn max_body_bytes(&self) -> u64 {
        self.spec.max_body
    }

    /// Whether the scheme signs a delivery id (so [`Verified::id`] can be set).
    #[must_use]
    pub fn signs_id(&self) -> bool {
        self.spec.uses(&Part::Id)
    }

    /// Whether the scheme signs the request's method or URL (Twilio, HubSpot, Bird, a generic
    /// template with `{method}` or `{url}`).
    #[must_use]
    pub fn signs_request_target(&self) -> bool {
        self.spec.uses(&Part::Method) || needs_url(&self.spec)
    }

    /// Whether the scheme signs the URL (Twilio, HubSpot, Bird, a generic template with
    /// `{url}`): verification then needs [`Request::with_url`].
    #[must_use]
    pub fn signs_url(&self) -> bool {
        needs_url(&self.spec)
    }

    /// Every header [`verify`](Self::verify) and [`parse`](Self::parse) may read, in the
    /// provider's spelling. A binding that copies headers out of a foreign map (a JS object, a
    /// Fetch `Headers`) needs only these.
    #[must_use]
    pub fn header_names(&self) -> Vec<&str> {
        let spec = &self.spec;
        let mut names: Vec<&str> = Vec::new();
        for set in spec.sets.iter() {
            names.push(&set.signature);
            names.extend(set.id.as_deref());
            names.extend(set.timestamp.as_deref());
        }
        names.extend(spec.algorithm_header.as_deref());
        names.extend(spec.events.headers.iter().copied());
        names
    }

    /// Verifies `request` at time `now` (unix seconds). The body is checked byte for byte as
    /// given; parse it only after this returns `Ok`.
    ///
    /// Checks, in order: the headers are there and well formed, the signature matches one of the
    /// secrets (in constant time), then the timestamp is inside the tolerance.
    pub fn verify<'r>(&self, request: &Request<'r>, now: i64) -> Result<Verified<'r>, Error> {
        let spec = &self.spec;
        let h = request.headers;
        let set = pick_set(spec, h);
        let sig_value =
            value(h, &set.signature).ok_or_else(|| Error::MissingHeader(set.signature.clone()))?;

        if let Some(name) = &spec.algorithm_header
            && let Some(got) = value(h, name)
            && Algorithm::from_name(got) != Some(spec.algorithm)
        {
            return Err(Error::AlgorithmMismatch {
                expected: spec.algorithm,
                got: sanitise(got),
            });
        }

        if matches!(spec.layout, Layout::Jwt) {
            return self.verify_jwt(sig_value, request.body, now);
        }
        // HMAC signatures on the stack; Ed25519 ones (`v1a,`) on the heap, and only when a key
        // can check them: a second stack array would cost every other verification its zeroing.
        let mut candidates = Candidates::default();
        let mut asymmetric: Vec<[u8; 64]> = Vec::new();
        let kinds = Kinds {
            hmac: self.keys.iter().any(|k| k.ed25519_public().is_none()),
            ed25519: self.keys.iter().any(|k| k.ed25519_public().is_some()),
        };
        let stripe_ts = parse_signatures(spec, sig_value, kinds, &mut candidates, &mut asymmetric)?;

        let (id, ts_str, timestamp) = signed_parts(spec, set, h, stripe_ts)?;
        let target = Target::new(spec, request.method, request.url)?;
        let derived = Derived::new(spec, request.body, target.url);
        let fields = Fields {
            id: id.unwrap_or(""),
            timestamp: ts_str.unwrap_or(""),
            body: request.body,
            target,
            derived: &derived,
        };
        // Twilio: the same request under its other URL (with or without the port).
        let other_url = match target.url {
            Some(url) if spec.uses(&Part::TwilioUrl) => twilio_other_url(url),
            _ => None,
        };
        let other = other_url.as_deref().map(|url| Fields {
            target: Target {
                url: Some(url),
                ..target
            },
            ..fields
        });

        let secret_index = self
            .matching_key(&fields, other.as_ref(), &candidates, &asymmetric)
            .ok_or(Error::SignatureMismatch)?;
        // Twilio signs a JSON body through the `bodySHA256` in its URL.
        if spec.uses(&Part::TwilioUrl) && twilio_body_mismatch(target.url, request.body) {
            return Err(Error::SignatureMismatch);
        }

        if let Some(ts) = timestamp {
            check_window(ts, now, spec.tolerance)?;
        }
        Ok(Verified {
            id,
            timestamp,
            secret_index,
        })
    }
}

impl Verifier {
    /// The index of the first key that signed the request: an HMAC key whose tag is one of the
    /// `candidates` (under the request's URL or, for Twilio, its other form), or an Ed25519 key
    /// that one of the `asymmetric` signatures verifies under, strictly.
    fn matching_key(
        &self,
        fields: &Fields<'_>,
        other: Option<&Fields<'_>>,
        candidates: &Candidates,
        asymmetric: &[[u8; 64]],
    ) -> Option<usize> {
        let spec = &self.spec;
        // The signed message in one piece, for Ed25519 (built once, on first need).
        let mut message: Option<Vec<u8>> = None;
        self.keys.iter().position(|key| match key.ed25519_public() {
            None => [Some(fields), other].into_iter().flatten().any(|f| {
                let tag = tag(spec, key, f);
                candidates.iter().any(|c| tag.matches(c))
            }),
            Some(public) => {
                let msg = message.get_or_insert_with(|| {
                    let mut m = Vec::new();
                    feed(spec, fields, &mut |chunk| m.extend_from_slice(chunk));
                    m
                });
                // Strict verification: small-order keys (refused when the key was read, too)
                // and small-order or non-canonical `R` are refused, so that no signature
                // verifies for a key that would take any.
                asymmetric.iter().any(|sig| {
                    let sig = ed25519_dalek::Signature::from_bytes(sig);
                    public.verify_strict(msg, &sig).is_ok()
                })
            }
        })
    }

    /// Vonage: the token's MAC, then its claims (the body's hash), then `iat`'s window.
    fn verify_jwt<'r>(
        &self,
        authorization: &str,
        body: &[u8],
        now: i64,
    ) -> Result<Verified<'r>, Error> {
        let token = crate::jwt::Token::parse(authorization)?;
        let secret_index = self
            .keys
            .iter()
            .position(|key| token.signed_by(key))
            .ok_or(Error::SignatureMismatch)?;
        let iat = token.claims(body)?;
        check_window(iat, now, self.spec.tolerance)?;
        Ok(Verified {
            id: None,
            timestamp: Some(iat),
            secret_index,
        })
    }
}

impl Scheme {
    /// Parses a body that has already been verified into events, reading the delivery id and
    /// timestamp from the scheme's headers. Prefer [`Verifier::verify_and_parse`], which
    /// cannot be called on an unverified body.
    pub fn parse_events(&self, body: &[u8], headers: &dyn Headers) -> Result<Vec<Event>, Error> {
        let spec = self.compile()?;
        // The same header family and timestamp reading as verification.
        let set = pick_set(&spec, headers);
        let read = |name: Option<&HeaderName>| name.and_then(|n| value(headers, n));
        let id = read(set.id.as_ref());
        let ts =
            read(set.timestamp.as_ref()).and_then(|t| parse_timestamp(t, spec.timestamp_unit).ok());
        crate::event::parse(spec.name, spec.events, body, headers, id, ts)
    }
}

impl Verifier {
    /// Parses the body of a request this verifier has verified into events (see
    /// [`crate::event`]).
    pub fn parse(
        &self,
        request: &Request<'_>,
        verified: &Verified<'_>,
    ) -> Result<Vec<Event>, Error> {
        crate::event::parse(
            self.spec.name,
            self.spec.events,
            request.body,
            request.headers,
            verified.id,
            verified.timestamp,
        )
    }

    /// An event for a body that verified but could not be parsed (`err` is the parse error):
    /// type `hookseal.unparsed`, dedup key from a hash of the body, and as data the error and
    /// the body itself (as text when it is UTF-8, else base64), so that nothing is lost.
    #[must_use]
    pub fn unparsed_event(&self, body: &[u8], err: &Error) -> Event {
        crate::event::unparsed(self.spec.name, body, err)
    }

    /// Verifies, then parses. A parse error (`invalid_utf8`, `malformed_json`, `invalid_event`)
    /// means the signature was good: see [`Error::signature_verified`].
    pub fn verify_and_parse<'r>(
        &self,
        request: &Request<'r>,
        now: i64,
    ) -> Result<Delivery<'r>, Error> {
        let verified = self.verify(request, now)?;
        let events = self.parse(request, &verified)?;
        Ok(Delivery { verified, events })
    }
}

impl Delivery<'_> {
    /// The delivery as JSON: `{"verified":{"id"?,"timestamp"?,"secretIndex"},"events":[…]}`
    /// (see [`Event::to_json`]).
    #[must_use]
    pub fn to_json(&self) -> String {
        use crate::event::WriteJson;
        let mut w = crate::json::Writer::default();
        w.begin_object();
        w.key("verified");
        w.begin_object();
        if let Some(id) = self.verified.id {
            w.key("id");
            w.str(id);
        }
        if let Some(t) = self.verified.timestamp {
            w.key("timestamp");
            w.int(t);
        }
        w.key("secretIndex");
        w.int(i64::try_from(self.verified.secret_index).unwrap_or(i64::MAX));
        w.end_object();
        w.key("events");
        self.events.write_json(&mut w);
        w.end_object();
        w.finish()
    }
}

/// A verified delivery and the events in it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Delivery<'a> {
    /// What verification established.
    pub verified: Verified<'a>,
    /// The events (one for most providers; one per message and status for Meta).
    pub events: Vec<Event>,
}

/// Signs webhooks the way a sender of one scheme does: for tests, sample events, and forwarding.
#[derive(Clone)]
pub struct Signer {
    spec: Spec,
    key: PreparedKey,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("scheme", &self.spec.name)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// A signer for `scheme` with `secret`.
    pub fn new(scheme: Scheme, secret: impl AsRef<[u8]>) -> Result<Self, Error> {
        let spec = scheme.compile()?;
        let key = prepare(&spec, secret.as_ref())?;
        if matches!(key, PreparedKey::Ed25519Public(_)) {
            return Err(Error::InvalidSecret(SecretProblem::PublicKeyCannotSign));
        }
        Ok(Self { spec, key })
    }

    /// The headers a sender would send with `input.body`, in a fixed order, names in the
    /// provider's own spelling.
    pub fn sign(&self, input: &SignInput<'_>) -> Result<Vec<(HeaderName, String)>, Error> {
        let spec = &self.spec;
        let set = spec.sets.first().ok_or(Error::MissingRequestTarget)?;
        if spec.uses(&Part::Id) && input.id.is_none() {
            return Err(Error::MissingInput("id"));
        }
        let target = Target::new(spec, input.method, input.url)?;
        // A negative or overflowing time would be written as a header no verifier parses.
        let ts = match spec.timestamp_unit {
            TimestampUnit::Seconds => Some(input.timestamp),
            TimestampUnit::Milliseconds => input.timestamp.checked_mul(1000),
        }
        .filter(|t| *t >= 0)
        .ok_or(Error::MalformedTimestamp)?
        .to_string();
        // Twilio: a URL whose bodySHA256 is not this body's would make a request no verifier
        // accepts.
        if spec.uses(&Part::TwilioUrl) && twilio_body_mismatch(input.url, input.body) {
            return Err(Error::MissingInput(
                "the body's SHA-256 as the URL's bodySHA256",
            ));
        }
        let derived = Derived::new(spec, input.body, input.url);
        let fields = Fields {
            id: input.id.unwrap_or(""),
            timestamp: &ts,
            body: input.body,
            target,
            derived: &derived,
        };
        // Computed by the layouts that use it (a JWT signs its own claims).
        let sig = || {
            spec.encoding
                .encode(tag(spec, &self.key, &fields).as_slice())
        };
        let mut out = Vec::with_capacity(4);
        if let (Some(name), Some(id)) = (&set.id, input.id) {
            out.push((name.clone(), id.to_owned()));
        }
        let signs_ts = spec.uses(&Part::Timestamp);
        match &spec.layout {
            Layout::Jwt => {
                let token = crate::jwt::sign(&self.key, input.body, input.timestamp, input.id);
                out.push((set.signature.clone(), token));
            }
            Layout::Stripe => {
                out.push((set.signature.clone(), format!("t={ts},v1={}", sig())));
            }
            Layout::Tokens { prefix } => {
                if let (Some(name), true) = (&set.timestamp, signs_ts) {
                    out.push((name.clone(), ts.clone()));
                }
                // An Ed25519 secret key signs `v1a,`.
                let prefix = match (&self.key, spec.asymmetric) {
                    (PreparedKey::Ed25519Secret(_), Some(asym)) => asym,
                    _ => prefix,
                };
                out.push((set.signature.clone(), format!("{prefix}{}", sig())));
            }
        }
        if let Some(name) = &spec.algorithm_header {
            out.push((name.clone(), spec.algorithm.name().to_owned()));
        }
        Ok(out)
    }
}

/// A signer keyed with raw key bytes, none of the secret checks applied: for the fuzz target
/// that proves no accepted secret verifies what the empty key signs. Not part of the API.
#[doc(hidden)]
pub fn signer_with_raw_key(scheme: &Scheme, key: &[u8]) -> Result<Signer, Error> {
    let spec = scheme.compile()?;
    let key =
        PreparedKey::new(spec.algorithm, key).ok_or(Error::InvalidSecret(SecretProblem::Empty))?;
    Ok(Signer { spec, key })
}

fn prepare(spec: &Spec, secret: &[u8]) -> Result<PreparedKey, Error> {
    // Standard Webhooks names the key kind in the secret: `whpk_`/`whsk_` are Ed25519.
    if spec.asymmetric.is_some() {
        for (prefix, public) in [(&b"whpk_"[..], true), (&b"whsk_"[..], false)] {
            if let Some(b64) = secret.strip_prefix(prefix) {
                let mut buf = [0u8; 66];
                let bytes = crate::mac::decode_base64(b64, &mut buf)
                    .ok_or(Error::InvalidSecret(SecretProblem::BadEd25519Key))?;
                return PreparedKey::ed25519(public, bytes).map_err(Error::InvalidSecret);
            }
        }
    }
    let key = key_bytes(secret, spec.secret)?;
    PreparedKey::new(spec.algorithm, &key).ok_or(Error::InvalidSecret(SecretProblem::Empty))
}

/// The signed id (only a signed one is read: anything else is the sender's to rewrite), the
/// timestamp's text (Stripe's from its signature header) and its value in seconds; a missing one
/// the scheme signs is `missing_header`.
#[allow(clippy::type_complexity)]
fn signed_parts<'r>(
    spec: &Spec,
    set: &HeaderSet,
    h: &'r dyn Headers,
    stripe_ts: Option<&'r str>,
) -> Result<(Option<&'r str>, Option<&'r str>, Option<i64>), Error> {
    let id = match &set.id {
        Some(name) if spec.uses(&Part::Id) => value(h, name),
        _ => None,
    };
    if spec.uses(&Part::Id) && id.is_none() {
        return Err(Error::MissingHeader(id_name(set)));
    }
    let ts_str = match (stripe_ts, &set.timestamp) {
        (Some(t), _) => Some(t),
        (None, Some(name)) => value(h, name),
        (None, None) => None,
    };
    let timestamp = match ts_str {
        Some(t) => Some(parse_timestamp(t, spec.timestamp_unit)?),
        None if spec.uses(&Part::Timestamp) => return Err(Error::MissingHeader(ts_name(set))),
        None => None,
    };
    Ok((id, ts_str, timestamp))
}

/// The header family in use: the first whose signature header is present, else the first.
pub(crate) fn pick_set<'s>(spec: &'s Spec, h: &dyn Headers) -> &'s HeaderSet {
    spec.sets
        .iter()
        .find(|s| value(h, &s.signature).is_some())
        .or_else(|| spec.sets.first())
        .unwrap_or(&EMPTY_SET)
}

static EMPTY_SET: HeaderSet = HeaderSet {
    signature: Cow::Borrowed("signature"),
    id: None,
    timestamp: None,
};

fn id_name(set: &HeaderSet) -> HeaderName {
    set.id.clone().unwrap_or(Cow::Borrowed("id"))
}

fn ts_name(set: &HeaderSet) -> HeaderName {
    set.timestamp.clone().unwrap_or(Cow::Borrowed("timestamp"))
}

/// Whether the scheme signs the URL, which only the caller knows.
fn needs_url(spec: &Spec) -> bool {
    spec.message
        .iter()
        .any(|p| matches!(p, Part::Url | Part::HubSpotUri | Part::TwilioUrl))
}

#[derive(Clone, Copy)]
struct Target<'a> {
    method: &'a str,
    url: Option<&'a str>,
}

impl<'a> Target<'a> {
    /// The request line as signed: the URL where the scheme signs it (required), the method
    /// `POST` unless given (webhooks are POSTs).
    fn new(spec: &Spec, method: Option<&'a str>, url: Option<&'a str>) -> Result<Self, Error> {
        if url.is_none() && needs_url(spec) {
            return Err(Error::MissingRequestTarget);
        }
        Ok(Self {
            method: method.unwrap_or("POST"),
            url,
        })
    }
}

#[derive(Clone, Copy)]
struct Fields<'a> {
    id: &'a str,
    timestamp: &'a str,
    body: &'a [u8],
    target: Target<'a>,
    /// What the provider-specific parts sign, computed once per request.
    derived: &'a Derived,
}

/// The signed values some schemes derive from the body and URL, computed once per request (not
/// once per secret): Bird's body digest, Twilio's sorted form parameters.
#[derive(Default)]
struct Derived {
    body_sha256: [u8; 32],
    twilio_params: Vec<(String, String)>,
}

impl Derived {
    fn new(spec: &Spec, body: &[u8], url: Option<&str>) -> Self {
        let mut d = Self::default();
        if spec.uses(&Part::BodySha256) {
            d.body_sha256 = sha2::Sha256::digest(body).into();
        }
        // A JSON body's URL carries `bodySHA256`: the parameters are then not signed.
        if spec.uses(&Part::TwilioParams) && twilio_body_hash(url.unwrap_or("")).is_none() {
            d.twilio_params = crate::form::twilio_sorted(crate::form::parse(body));
        }
        d
    }
}

/// The `bodySHA256` query parameter of a Twilio URL (JSON bodies), as twilio-node reads it.
fn twilio_body_hash(url: &str) -> Option<&str> {
    let end = url.find('#').unwrap_or(url.len());
    let query = url.get(url.find('?')? + 1..end)?;
    query.split('&').find_map(|p| p.strip_prefix("bodySHA256="))
}

/// Whether a Twilio URL's `bodySHA256` (a JSON body's) is not `body`'s SHA-256, compared in
/// constant time; `false` for a URL without one. Verification refuses such a request, and
/// signing refuses to make one.
fn twilio_body_mismatch(url: Option<&str>, body: &[u8]) -> bool {
    twilio_body_hash(url.unwrap_or("")).is_some_and(|want| {
        let got = crate::event::sha256_hex(body);
        !bool::from(subtle::ConstantTimeEq::ct_eq(
            got.as_bytes(),
            want.as_bytes(),
        ))
    })
}

/// The URL Twilio may have signed besides the one requested: twilio-node accepts both with and
/// without the port, since Twilio's own signing has included the default port at times. A URL
/// with a port gives the same without it; one without gives the same with the scheme's default.
/// (Written over bytes: string searching would bring panicking slices into the module.)
fn twilio_other_url(url: &str) -> Option<String> {
    let bytes = url.as_bytes();
    let colon = bytes.iter().position(|&b| b == b':')?;
    if bytes.get(colon + 1..colon + 3) != Some(b"//") {
        return None;
    }
    let scheme = url.get(..colon)?;
    let default = if scheme.eq_ignore_ascii_case("https") {
        "443"
    } else if scheme.eq_ignore_ascii_case("http") {
        "80"
    } else {
        return None;
    };
    let start = colon + 3;
    let rest = bytes.get(start..)?;
    let end = start
        + rest
            .iter()
            .position(|b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(rest.len());
    let authority = bytes.get(start..end)?;
    let host_at = start
        + authority
            .iter()
            .rposition(|&b| b == b'@')
            .map_or(0, |i| i + 1);
    // A colon after an IPv6 literal's `]`, or in a plain host, starts the port.
    let host_port = bytes.get(host_at..end)?;
    let port_at = host_port
        .iter()
        .rposition(|&b| b == b':')
        .filter(|&i| !host_port.get(i..).is_some_and(|p| p.contains(&b']')));
    let (head, tail) = (url.get(..host_at)?, url.get(end..)?);
    let host_port = url.get(host_at..end)?;
    Some(match port_at {
        Some(i) => format!("{head}{}{tail}", host_port.get(..i)?),
        None => format!("{head}{host_port}:{default}{tail}"),
    })
}

fn tag(spec: &Spec, key: &PreparedKey, f: &Fields<'_>) -> Tag {
    key.tag(|update| feed(spec, f, update))
}

/// Hands the signed message to `update`, part by part.
fn feed(spec: &Spec, f: &Fields<'_>, update: &mut dyn FnMut(&[u8])) {
    {
        for part in spec.message.iter() {
            match part {
                Part::Lit(l) => update(l),
                Part::Id => update(f.id.as_bytes()),
                Part::Timestamp => update(f.timestamp.as_bytes()),
                Part::Body => update(f.body),
                Part::Method => update(f.target.method.as_bytes()),
                Part::Url => update(f.target.url.unwrap_or("").as_bytes()),
                Part::HubSpotUri => hubspot_uri(f.target.url.unwrap_or(""), update),
                Part::BodySha256 => update(&f.derived.body_sha256),
                Part::TwilioUrl => update(f.target.url.unwrap_or("").as_bytes()),
                Part::TwilioParams => {
                    for (name, value) in &f.derived.twilio_params {
                        update(name.as_bytes());
                        update(value.as_bytes());
                    }
                }
            }
        }
    }
}

/// HubSpot decodes these percent-escapes in the URI before signing; every other byte, and every
/// other escape, is signed as it is.
fn hubspot_uri(url: &str, update: &mut dyn FnMut(&[u8])) {
    const DECODED: &[(&[u8; 2], u8)] = &[
        (b"3A", b':'),
        (b"2F", b'/'),
        (b"3F", b'?'),
        (b"40", b'@'),
        (b"21", b'!'),
        (b"24", b'$'),
        (b"27", b'\''),
        (b"28", b'('),
        (b"29", b')'),
        (b"2A", b'*'),
        (b"2C", b','),
        (b"3B", b';'),
    ];
    let bytes = url.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3);
        let hit = match (bytes.get(i), hex) {
            (Some(b'%'), Some(hex)) => DECODED
                .iter()
                .find(|(esc, _)| esc.eq_ignore_ascii_case(hex))
                .map(|(_, b)| *b),
            _ => None,
        };
        if let Some(b) = hit {
            update(bytes.get(start..i).unwrap_or(&[]));
            update(&[b]);
            i += 3;
            start = i;
        } else {
            i += 1;
        }
    }
    update(bytes.get(start..).unwrap_or(&[]));
}

/// Decoded signature candidates, on the stack.
struct Candidates {
    bufs: [[u8; MAX_TAG]; MAX_SIGNATURES],
    lens: [usize; MAX_SIGNATURES],
    n: usize,
}

impl Default for Candidates {
    fn default() -> Self {
        Self {
            bufs: [[0; MAX_TAG]; MAX_SIGNATURES],
            lens: [0; MAX_SIGNATURES],
            n: 0,
        }
    }
}

impl Candidates {
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.bufs
            .iter()
            .zip(self.lens)
            .take(self.n)
            .map(|(b, l)| b.get(..l).unwrap_or(&[]))
    }
}

/// Which kinds of signature the verifier's keys can check.
#[derive(Clone, Copy)]
struct Kinds {
    hmac: bool,
    ed25519: bool,
}

/// Parses the signature header into candidates; returns Stripe's `t=` when the layout has it.
///
/// Undecodable entries are skipped as long as one decodable entry of the right length remains
/// (a list may mix versions or carry a stale entry); when none does, the first problem seen is
/// reported. Entries of a kind no key can check (`v1a,` without a `whpk_` key, `v1,` with only
/// `whpk_` keys) are passed over.
fn parse_signatures<'v>(
    spec: &Spec,
    header: &'v str,
    kinds: Kinds,
    out: &mut Candidates,
    asymmetric: &mut Vec<[u8; 64]>,
) -> Result<Option<&'v str>, Error> {
    let expected = spec.algorithm.tag_len();
    let mut problem = SignatureProblem::NoSupportedSignature;
    let mut add = |sig: &str, problem: &mut SignatureProblem| -> Result<(), Error> {
        let first = matches!(*problem, SignatureProblem::NoSupportedSignature);
        let i = out.n;
        let (Some(buf), Some(len)) = (out.bufs.get_mut(i), out.lens.get_mut(i)) else {
            return Err(Error::MalformedSignature(SignatureProblem::TooMany));
        };
        match spec.encoding.decode(sig, buf) {
            Some(d) if d.len() == expected => {
                *len = expected;
                out.n += 1;
            }
            Some(d) if first => {
                *problem = SignatureProblem::WrongLength {
                    got: d.len(),
                    expected,
                };
            }
            None if first => {
                let hint = spec.encoding.decoded_len_hint(sig);
                *problem = if hint > MAX_TAG {
                    SignatureProblem::WrongLength {
                        got: hint,
                        expected,
                    }
                } else {
                    SignatureProblem::BadEncoding
                };
            }
            _ => {}
        }
        Ok(())
    };
    let mut stripe_ts = None;
    match &spec.layout {
        Layout::Tokens { prefix } => {
            for token in header.split_ascii_whitespace() {
                // Tolerate a list joined with ", " by a proxy or the Fetch `Headers` API.
                let token = token.strip_suffix(',').unwrap_or(token);
                if let Some(asym) = spec.asymmetric
                    && let Some(sig) = strip_prefix_ci(token, asym)
                {
                    if kinds.ed25519 {
                        add_ed25519(sig, asymmetric)?;
                    }
                    continue;
                }
                let Some(sig) = strip_prefix_ci(token, prefix) else {
                    continue;
                };
                if kinds.hmac {
                    add(sig, &mut problem)?;
                }
            }
        }
        // Verified on its own path (`verify_jwt`): no list of signatures to read.
        Layout::Jwt => {}
        Layout::Stripe => {
            for item in header.split(',') {
                let Some((k, v)) = item.trim().split_once('=') else {
                    return Err(Error::MalformedSignature(SignatureProblem::BadStructure));
                };
                match k {
                    "t" if stripe_ts.is_some() => {
                        return Err(Error::MalformedSignature(SignatureProblem::BadStructure));
                    }
                    "t" => stripe_ts = Some(v),
                    "v1" => add(v, &mut problem)?,
                    _ => {}
                }
            }
            if stripe_ts.is_none() {
                return Err(Error::MalformedSignature(SignatureProblem::BadStructure));
            }
        }
    }
    if out.n == 0 && asymmetric.is_empty() {
        return Err(Error::MalformedSignature(problem));
    }
    Ok(stripe_ts)
}

/// An Ed25519 signature (64 bytes of base64) into `out`; one that does not decode is skipped.
fn add_ed25519(sig: &str, out: &mut Vec<[u8; 64]>) -> Result<(), Error> {
    if out.len() >= MAX_SIGNATURES {
        return Err(Error::MalformedSignature(SignatureProblem::TooMany));
    }
    let mut buf = [0u8; 64];
    if crate::mac::Encoding::Base64
        .decode(sig, &mut buf)
        .is_some_and(|d| d.len() == 64)
    {
        out.push(buf);
    }
    Ok(())
}

fn strip_prefix_ci<'t>(token: &'t str, prefix: &str) -> Option<&'t str> {
    let head = token.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| token.get(prefix.len()..))
        .flatten()
}

/// Parses a timestamp: 1 to 19 ASCII digits, nothing else. Returns unix seconds.
pub(crate) fn parse_timestamp(t: &str, unit: TimestampUnit) -> Result<i64, Error> {
    if t.is_empty() || t.len() > 19 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::MalformedTimestamp);
    }
    let v: i64 = t.parse().map_err(|_| Error::MalformedTimestamp)?;
    Ok(match unit {
        TimestampUnit::Seconds => v,
        TimestampUnit::Milliseconds => v / 1000,
    })
}

fn check_window(timestamp: i64, now: i64, tol: Tolerance) -> Result<(), Error> {
    let age = i128::from(now) - i128::from(timestamp);
    if let Some(past) = tol.past
        && age > i128::from(past)
    {
        return Err(Error::TimestampTooOld {
            timestamp,
            now,
            tolerance: past,
        });
    }
    if let Some(future) = tol.future
        && -age > i128::from(future)
    {
        return Err(Error::TimestampInFuture {
            timestamp,
            now,
            tolerance: future,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(url: &str) -> Vec<u8> {
        let mut out = Vec::new();
        hubspot_uri(url, &mut |c| out.extend_from_slice(c));
        out
    }

    #[test]
    fn twilio_signs_a_json_body_only_under_its_own_bodysha256() {
        let signer = Signer::new(Scheme::from_name("twilio").unwrap(), "token").unwrap();
        let body = b"{}";
        let hash = crate::event::sha256_hex(body);
        let good = format!("https://x.io/h?bodySHA256={hash}");
        let input = SignInput::new(body, 0).with_target("POST", &good);
        assert!(signer.sign(&input).is_ok());
        for bad in ["https://x.io/h?bodySHA256=", "https://x.io/h?bodySHA256=00"] {
            let input = SignInput::new(body, 0).with_target("POST", bad);
            assert!(
                matches!(signer.sign(&input), Err(Error::MissingInput(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn twilio_urls_with_and_without_the_port() {
        let other = |u| twilio_other_url(u);
        assert_eq!(
            other("https://example.com/sms?x=1").as_deref(),
            Some("https://example.com:443/sms?x=1")
        );
        assert_eq!(
            other("https://example.com:443/sms").as_deref(),
            Some("https://example.com/sms")
        );
        assert_eq!(
            other("http://u:p@example.com:8080?q#f").as_deref(),
            Some("http://u:p@example.com?q#f")
        );
        assert_eq!(
            other("HTTP://example.com").as_deref(),
            Some("HTTP://example.com:80")
        );
        assert_eq!(
            other("https://[::1]/x").as_deref(),
            Some("https://[::1]:443/x")
        );
        assert_eq!(
            other("https://[::1]:8443/x").as_deref(),
            Some("https://[::1]/x")
        );
        for none in ["ftp://example.com/", "example.com/x", "", "https:/x"] {
            assert_eq!(other(none), None, "{none}");
        }
        assert_eq!(
            twilio_body_hash("https://x/y?a=1&bodySHA256=abc#f"),
            Some("abc")
        );
        assert_eq!(twilio_body_hash("https://x/y#bodySHA256=abc"), None);
    }

    #[test]
    fn hubspot_decodes_only_its_escapes() {
        assert_eq!(
            collect("https://x.io/a%3Ab%2fc?q=%20%40%2C"),
            b"https://x.io/a:b/c?q=%20@,".to_vec()
        );
        assert_eq!(collect("%"), b"%".to_vec());
        assert_eq!(collect("%3"), b"%3".to_vec());
        assert_eq!(collect("é%3A"), "é:".as_bytes().to_vec());
    }

    #[test]
    fn timestamps_are_strict_digits() {
        let p = |t| parse_timestamp(t, TimestampUnit::Seconds);
        assert_eq!(p("1614265330"), Ok(1_614_265_330));
        assert_eq!(p("0"), Ok(0));
        for bad in [
            "",
            "-1",
            "+1",
            "1.5",
            " 1",
            "1e9",
            "99999999999999999999",
            "١٢",
        ] {
            assert_eq!(p(bad), Err(Error::MalformedTimestamp), "{bad:?}");
        }
        assert_eq!(p("9999999999999999999"), Err(Error::MalformedTimestamp));
        assert_eq!(
            parse_timestamp("1700000000999", TimestampUnit::Milliseconds),
            Ok(1_700_000_000)
        );
    }

    #[test]
    fn window_bounds_are_inclusive_and_overflow_free() {
        let t = Tolerance::symmetric(300);
        assert_eq!(check_window(1000, 1300, t), Ok(()));
        assert!(matches!(
            check_window(1000, 1301, t),
            Err(Error::TimestampTooOld { .. })
        ));
        assert_eq!(check_window(1300, 1000, t), Ok(()));
        assert!(matches!(
            check_window(1301, 1000, t),
            Err(Error::TimestampInFuture { .. })
        ));
        assert!(check_window(i64::MAX, i64::MIN, t).is_err());
        assert_eq!(
            check_window(i64::MAX, i64::MIN, Tolerance::DISABLED),
            Ok(())
        );
    }
}
