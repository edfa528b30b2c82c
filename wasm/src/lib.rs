//! The JavaScript bindings of hookseal: one thin wasm-bindgen module over the core.
//!
//! The package's JS (`pkg-templates/dist/helpers.js`) reads the caller's JS values (bodies in
//! their several forms, header maps, options) and calls in here with plain bytes, strings and
//! numbers, so a call crosses the JS/wasm boundary once. Everything here converts those into the
//! core's types and back; the core does the work. An error crosses as one string,
//! `code \n signatureVerified \n message`, which the JS turns into a `HooksealError`.

use hookseal::{
    Error, GenericScheme, Headers, Request, Scheme, SignInput, Signer, Tolerance, Verifier,
};
use wasm_bindgen::prelude::*;

/// The allocator: talc, smaller and faster than the default dlmalloc (the module is
/// single-threaded).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The TypeScript declarations of the package's API (written to `hookseal.d.ts`): the classes
/// and functions the package's JS implements over this module, and the data types. On the host
/// only the tests read it.
#[allow(dead_code)]
const TYPES_TEXT: &str = r#"
/**
 * Verifies (and signs) webhooks of one scheme.
 *
 * ```js
 * const wh = new Webhook("mossmoon", process.env.MOSSMOON_SECRET);
 * const { events } = wh.parse(rawBody, request.headers);
 * ```
 */
export declare class Webhook {
  /**
   * A webhook verifier for `scheme`, accepting any of `secrets` (rotation: give the old and the
   * new). Signing uses the first secret.
   */
  constructor(scheme: SchemeName | { generic: GenericScheme }, secrets: string | string[], options?: WebhookOptions);
  /** The scheme's canonical name. */
  readonly scheme: string;
  /**
   * The default body limit of the HTTP helpers for this scheme, in bytes: the largest payload the
   * provider documents, rounded up (4 MiB for most, Meta's 3 MB included; 25 MiB for GitHub).
   */
  readonly maxBodyBytes: number;
  /**
   * Verifies the raw body against the headers. Throws a `HooksealError` when the request is not
   * authentic or not fresh; returns what verification established (a frozen object, shared
   * between calls when it carries no id or timestamp).
   */
  verify(body: Body, headers: HeadersInput, options?: VerifyOptions): Verified;
  /**
   * Verifies, then parses the body into events. A `HooksealError` whose `signatureVerified` is
   * true means the signature was good but the body is not the documented event.
   */
  parse(body: Body, headers: HeadersInput, options?: VerifyOptions): Delivery;
  /** The headers a sender would send with `body` (signed with the first secret). */
  sign(body: Body, options?: SignOptions): Record<string, string>;
  /** Frees the keys now rather than at garbage collection. */
  free(): void;
  [Symbol.dispose](): void;
}

/**
 * Answers Meta's subscription handshake: pass the request's query (a `URLSearchParams`, a query
 * string, or a plain object) and your verify token. Returns the challenge to send back as the
 * body with status 200; throws `HooksealError` (`handshake_rejected`) otherwise.
 */
export declare function metaHandshake(
  query: URLSearchParams | string | Record<string, string>,
  verifyToken: string,
): string;

/** Every `code` a HooksealError can carry. */
export type HooksealErrorCode =
  | "missing_header" | "malformed_signature" | "signature_mismatch" | "algorithm_mismatch"
  | "malformed_timestamp" | "timestamp_too_old" | "timestamp_in_future" | "invalid_secret"
  | "missing_request_target" | "missing_input" | "unknown_scheme" | "invalid_config"
  | "handshake_rejected" | "invalid_utf8" | "malformed_json" | "invalid_event"
  | "invalid_input" | "body_too_large" | "body_already_parsed";

/** The built-in schemes. */
export type SchemeName =
  | "moltflow" | "mossmoon" | "standard-webhooks" | "svix" | "meta" | "github" | "stripe"
  | "slack" | "shopify" | "hubspot";

/** A scheme described by data, for a provider hookseal does not ship. */
export interface GenericScheme {
  signatureHeader: string;
  algorithm: "sha256" | "sha512";
  encoding: "hex" | "base64" | "base64url";
  /** Before each signature, e.g. `sha256=` or `v1,`. Default none. */
  prefix?: string;
  /** Template over `{body}` (required), `{id}`, `{timestamp}`, `{method}`, `{url}`. Default `{body}`. */
  signed?: string;
  idHeader?: string;
  timestampHeader?: string;
  timestampUnit?: "seconds" | "milliseconds";
  secretEncoding?: "utf8" | "whsec" | "base64" | "hex";
  tolerance?: Tolerance;
}

/** A replay window in seconds each way; `null` is unbounded. Both sides must be given. */
export interface Tolerance { past: number | null; future: number | null }

export interface WebhookOptions {
  /** Seconds both ways, `false` to disable, or a window. Default: the scheme's own. */
  tolerance?: number | false | Tolerance;
}

export interface VerifyOptions {
  /** "Now" in unix seconds. Default `Date.now() / 1000`. */
  now?: number;
  /** The request method, for schemes that sign it (HubSpot). */
  method?: string;
  /** The full request URL, for schemes that sign it (HubSpot). */
  url?: string;
}

export interface SignOptions {
  /** Unix seconds. Default now. */
  timestamp?: number;
  /** The delivery id (required by Standard Webhooks and Svix). */
  id?: string;
  method?: string;
  url?: string;
}

/** What verification established (frozen, and shared between calls when it has no id or timestamp). */
export interface Verified {
  /** The delivery id, when the scheme signs one (Standard Webhooks, Svix, a generic `{id}`). */
  id?: string;
  /** The signed timestamp, unix seconds, when the scheme signs one. */
  timestamp?: number;
  /** Which of the secrets matched. */
  secretIndex: number;
}

/** A body: bytes exactly as received, or the raw text. */
export type Body = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** Headers: a Fetch `Headers`, a `Map`, a plain object, or Node's `IncomingHttpHeaders`. */
export type HeadersInput =
  | { get(name: string): string | null | undefined }
  | Record<string, string | string[] | undefined>;

export type Provider = SchemeName | "generic";

export interface MediaRef {
  id: string | null; url: string | null; mimeType: string | null;
  sha256: string | null; filename: string | null;
}

export type MessageKind =
  | "text" | "image" | "video" | "audio" | "document" | "sticker" | "location" | "contacts"
  | "interactive" | "button" | "reaction" | (string & {});

/** One view of an inbound WhatsApp message, whichever provider delivered it. */
export interface InboundMessage {
  providerMessageId: string;
  /** Digits only. */
  sender: string;
  senderName: string | null;
  /** The sender's digits for a one-to-one chat; the group id for a group. */
  chat: string;
  isGroup: boolean;
  kind: MessageKind;
  /** Text, or a media caption. */
  text: string | null;
  media: MediaRef | null;
  receivedAt: number | null;
}

export interface MoltFlowMessage {
  sessionId: string | null; from: string | null; fromName: string | null; to: string | null;
  body: string | null; messageId: string; chatId: string | null;
}
export interface MoltFlowSession {
  sessionId: string; oldStatus: string | null; newStatus: string; reason: string | null;
}
export interface MoltFlowLead {
  sessionId: string | null; groupId: string | null; phone: string; name: string | null;
  messagePreview: string | null; capturedAt: number | null;
}
export interface MoltFlowTest { message: string | null }
export interface MossmoonLine { lineId: string; phone: string | null; reason: string | null }
export interface MossmoonMessage {
  lineId: string | null; messageId: string; from: string; type: string; text: string | null;
  caption: string | null; media: MediaRef | null; receivedAt: number | null;
}
export interface MossmoonDelivery {
  lineId: string | null; messageId: string; to: string | null; deliveredAt: number | null;
}
export interface MetaMessage {
  phoneNumberId: string | null; displayPhoneNumber: string | null; from: string;
  contactName: string | null; id: string; timestamp: number | null; type: string;
  text: string | null; caption: string | null; media: MediaRef | null;
  location: { latitude: number; longitude: number; name: string | null; address: string | null } | null;
  reply: { type: string; id: string | null; title: string | null } | null;
  reaction: { messageId: string | null; emoji: string | null } | null;
  contextId: string | null;
}
export interface MetaStatus {
  phoneNumberId: string | null; id: string; status: string; timestamp: number | null;
  recipientId: string | null;
  errors: { code: number | null; title: string | null; message: string | null }[];
}

interface EventBase<P extends Provider, T extends string, D> {
  provider: P;
  type: T;
  /** The provider's id for the event, when it gives one. */
  id: string | null;
  /** Unix seconds. */
  occurredAt: number | null;
  /** Stays the same across retries of this event; differs between events. */
  dedupKey: string;
  data: D;
  message: InboundMessage | null;
}

/**
 * An event. Known types narrow on `provider` and `type`; a type hookseal does not know keeps
 * the provider's name in `type` and the raw JSON in `data`.
 */
export type HooksealEvent =
  | EventBase<"moltflow", "message.received" | "message.sent", MoltFlowMessage>
  | EventBase<"moltflow", "session.status_changed", MoltFlowSession>
  | EventBase<"moltflow", "lead.captured", MoltFlowLead>
  | EventBase<"moltflow", "webhook.test", MoltFlowTest>
  | EventBase<"mossmoon", "line.ready" | "line.disconnected", MossmoonLine>
  | EventBase<"mossmoon", "message.received", MossmoonMessage>
  | EventBase<"mossmoon", "message.delivered", MossmoonDelivery>
  | EventBase<"meta", "message.received", MetaMessage>
  | EventBase<"meta", "message.sent" | "message.delivered" | "message.read" | "message.failed", MetaStatus>
  | EventBase<Exclude<Provider, "moltflow" | "mossmoon" | "meta">, string, unknown>;

/** A verified delivery and its events (one per Meta message and status). */
export interface Delivery { verified: Verified; events: HooksealEvent[] }
"#;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = TYPES_TEXT;

/// An error for JS: `code \n signatureVerified (0|1) \n message`.
fn error(e: &Error) -> JsValue {
    use std::fmt::Write as _;
    let mut text = String::from(e.code());
    text.push_str(if e.signature_verified() {
        "\n1\n"
    } else {
        "\n0\n"
    });
    let _ = write!(text, "{e}"); // writing to a String cannot fail
    JsValue::from_str(&text)
}

/// An `invalid_input` error for JS.
fn invalid_input(message: &str) -> JsValue {
    let mut text = String::from("invalid_input\n0\n");
    text.push_str(message);
    JsValue::from_str(&text)
}

/// The verifier and signer of one `Webhook`. Internal: the package's `Webhook` class wraps it.
#[wasm_bindgen(skip_typescript)]
pub struct Core {
    verifier: Verifier,
    signer: Signer,
    /// Every header verification and parsing read, in the provider's spelling.
    names: Vec<String>,
}

#[wasm_bindgen]
impl Core {
    /// `scheme` is a built-in name, or ignored when `generic` (a `GenericScheme` as JSON) is
    /// given; `tolerance` is the `tolerance` option as JSON.
    #[wasm_bindgen(constructor)]
    pub fn new(
        scheme: &str,
        generic: Option<String>,
        secrets: &str,
        tolerance: Option<String>,
    ) -> Result<Core, JsValue> {
        let secrets =
            split_secrets(secrets).ok_or_else(|| invalid_input("the secrets could not be read"))?;
        let scheme = match generic {
            Some(json) => GenericScheme::from_json(&json).map(|g| Scheme::Generic(Box::new(g))),
            None => Scheme::from_name(scheme),
        }
        .map_err(|e| error(&e))?;
        let mut verifier = Verifier::new(scheme.clone(), &secrets).map_err(|e| error(&e))?;
        if let Some(json) = tolerance {
            verifier = verifier.with_tolerance(Tolerance::from_json(&json).map_err(|e| error(&e))?);
        }
        let first = secrets.first().copied().unwrap_or("");
        let signer = Signer::new(scheme, first).map_err(|e| error(&e))?;
        let names = verifier
            .header_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        Ok(Core {
            verifier,
            signer,
            names,
        })
    }

    /// The scheme's canonical name.
    pub fn scheme(&self) -> String {
        self.verifier.scheme_name().to_owned()
    }

    /// The headers to read for `verify` and `parse`, in order, as the provider spells them,
    /// one per line.
    pub fn names(&self) -> String {
        self.names.join("\n")
    }

    /// The scheme's default body limit in bytes (the largest payload its provider documents).
    #[wasm_bindgen(js_name = maxBodyBytes)]
    #[allow(clippy::cast_precision_loss)] // at most 25 MiB
    pub fn max_body_bytes(&self) -> f64 {
        self.verifier.max_body_bytes() as f64
    }

    /// Whether "now" matters (the scheme signs a timestamp).
    #[wasm_bindgen(js_name = usesTimestamp)]
    pub fn uses_timestamp(&self) -> bool {
        self.verifier.uses_timestamp()
    }

    /// Whether `verify` establishes more than the secret index (the scheme signs an id or a
    /// timestamp): the JS then calls [`verify_detailed`](Self::verify_detailed).
    pub fn detailed(&self) -> bool {
        self.verifier.uses_timestamp() || self.verifier.signs_id()
    }

    /// Verifies `body` against the header values in `values`: the `names()` order, then the
    /// request method and URL (given for schemes that sign them), as [`Lines`]. Returns the
    /// secret index.
    pub fn verify(
        &self,
        body: &[u8],
        values: &str,
        present: u32,
        now: f64,
    ) -> Result<u32, JsValue> {
        #[allow(clippy::cast_possible_truncation)] // at most MAX_SECRETS
        self.verified(body, values, present, now, |v| v.secret_index as u32)
    }

    /// `verify`, returning everything verification established in one string:
    /// `secretIndex \n timestamp \n id`, the timestamp and id empty when absent (neither can
    /// contain a line feed: they came from single lines).
    #[wasm_bindgen(js_name = verifyDetailed)]
    pub fn verify_detailed(
        &self,
        body: &[u8],
        values: &str,
        present: u32,
        now: f64,
    ) -> Result<String, JsValue> {
        use std::fmt::Write as _;
        self.verified(body, values, present, now, |v| {
            let mut out = String::new();
            let _ = writeln!(out, "{}", v.secret_index); // writing to a String cannot fail
            if let Some(t) = v.timestamp {
                let _ = write!(out, "{t}");
            }
            out.push('\n');
            out.push_str(v.id.unwrap_or(""));
            out
        })
    }

    /// `verify` for a body given as text (its UTF-8 bytes are verified).
    #[wasm_bindgen(js_name = verifyText)]
    pub fn verify_text(
        &self,
        body: &str,
        values: &str,
        present: u32,
        now: f64,
    ) -> Result<u32, JsValue> {
        self.verify(body.as_bytes(), values, present, now)
    }

    /// `verify_detailed` for a body given as text.
    #[wasm_bindgen(js_name = verifyDetailedText)]
    pub fn verify_detailed_text(
        &self,
        body: &str,
        values: &str,
        present: u32,
        now: f64,
    ) -> Result<String, JsValue> {
        self.verify_detailed(body.as_bytes(), values, present, now)
    }

    /// Verifies, then parses: the delivery as JSON text (`{ verified, events }`).
    pub fn parse(
        &self,
        body: &[u8],
        values: &str,
        present: u32,
        now: f64,
    ) -> Result<String, JsValue> {
        self.with_request(body, values, present, |req| {
            self.verifier
                .verify_and_parse(req, seconds(now))
                .map(|d| d.to_json())
        })
    }

    /// `parse` for a body given as text.
    #[wasm_bindgen(js_name = parseText)]
    pub fn parse_text(
        &self,
        body: &str,
        values: &str,
        present: u32,
        now: f64,
    ) -> Result<String, JsValue> {
        self.parse(body.as_bytes(), values, present, now)
    }

    /// The headers to send with `body`: name and value on alternate lines (no value can have a
    /// line break: the JS refuses such an id). `options` are the id, method and URL as
    /// [`Lines`].
    pub fn sign(
        &self,
        body: &[u8],
        timestamp: f64,
        options: &str,
        present: u32,
    ) -> Result<String, JsValue> {
        let mut options = Lines::new(options, present);
        let (id, method, url) = (options.next(), options.next(), options.next());
        options.end()?;
        let mut input = SignInput::new(body, seconds(timestamp));
        if let Some(id) = id {
            input = input.with_id(id);
        }
        if let (Some(m), Some(u)) = (method, url) {
            input = input.with_target(m, u);
        }
        let headers = self.signer.sign(&input).map_err(|e| error(&e))?;
        let mut out = String::new();
        for (k, v) in &headers {
            for part in [k.as_ref(), "\n", v, "\n"] {
                out.push_str(part);
            }
        }
        out.pop();
        Ok(out)
    }
}

impl Core {
    /// Builds the request that `body`, `values` and `present` describe (see [`Lines`]) and runs
    /// `f` on it; the core's error becomes a JS one.
    fn with_request<T>(
        &self,
        body: &[u8],
        values: &str,
        present: u32,
        f: impl FnOnce(&Request<'_>) -> Result<T, Error>,
    ) -> Result<T, JsValue> {
        let (headers, target) = self.headers(values, present)?;
        f(&request(body, &headers, target)).map_err(|e| error(&e))
    }

    /// Verifies, then hands what verification established to `f`.
    fn verified<T>(
        &self,
        body: &[u8],
        values: &str,
        present: u32,
        now: f64,
        f: impl FnOnce(&hookseal::Verified<'_>) -> T,
    ) -> Result<T, JsValue> {
        self.with_request(body, values, present, |req| {
            self.verifier.verify(req, seconds(now)).map(|v| f(&v))
        })
    }

    /// The header pairs, and the request method and URL when given, that `values`/`present`
    /// describe (see [`Lines`]).
    #[allow(clippy::type_complexity)]
    fn headers<'v>(
        &self,
        values: &'v str,
        present: u32,
    ) -> Result<(Vec<(&str, &'v str)>, Option<(&'v str, &'v str)>), JsValue> {
        let mut lines = Lines::new(values, present);
        let mut headers = Vec::with_capacity(self.names.len());
        for name in &self.names {
            if let Some(value) = lines.next() {
                headers.push((name.as_str(), value));
            }
        }
        let target = match (lines.next(), lines.next()) {
            (Some(method), Some(url)) => Some((method, url)),
            _ => None,
        };
        lines.end()?;
        Ok((headers, target))
    }
}

/// The secrets as the JS sends them: each as `<length>:<secret>`, the length in UTF-16 code units
/// (as JS counts), one after the other. (Taking a JS array of strings costs the module 2 KB.)
fn split_secrets(mut rest: &str) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    while !rest.is_empty() {
        let (len, tail) = rest.split_once(':')?;
        let len: usize = len.parse().ok()?;
        let (mut units, mut end) = (0, 0);
        for c in tail.chars() {
            if units >= len {
                break;
            }
            units += c.len_utf16();
            end += c.len_utf8();
        }
        if units != len {
            return None;
        }
        out.push(tail.get(..end)?);
        rest = tail.get(end..)?;
    }
    Some(out)
}

/// Unix seconds from a JS number (already checked finite by the caller).
#[allow(clippy::cast_possible_truncation)]
fn seconds(t: f64) -> i64 {
    t.floor() as i64
}

fn request<'a>(
    body: &'a [u8],
    headers: &'a dyn Headers,
    target: Option<(&'a str, &'a str)>,
) -> Request<'a> {
    let req = Request::new(body, headers);
    match target {
        Some((method, url)) => req.with_target(method, url),
        None => req,
    }
}

/// Meta's subscription handshake over the three query fields the JS read (`hub.mode`,
/// `hub.verify_token`, `hub.challenge`, as [`Lines`]).
#[wasm_bindgen(js_name = metaHandshake, skip_typescript)]
pub fn meta_handshake(query: &str, present: u32, verify_token: &str) -> Result<String, JsValue> {
    let mut query = Lines::new(query, present);
    let (mode, token, challenge) = (query.next(), query.next(), query.next());
    query.end()?;
    hookseal::meta_handshake(mode, token, challenge, verify_token)
        .map(str::to_owned)
        .map_err(|e| error(&e))
}

/// Optional values as the JS sends them (header values, options, query fields): value `i` is
/// line `i` of the text, and bit `i` of `present` says whether it was given. No value may
/// contain a line feed: [`end`](Self::end) refuses lines left over.
struct Lines<'v> {
    /// The lines not read yet; `None` once the last has been.
    rest: Option<&'v str>,
    present: u32,
    index: u32,
}

impl<'v> Lines<'v> {
    fn new(text: &'v str, present: u32) -> Self {
        Self {
            rest: Some(text),
            present,
            index: 0,
        }
    }

    /// The next value, `None` when it was not given.
    fn next(&mut self) -> Option<&'v str> {
        let line = match self.rest.map(|r| r.split_once('\n').ok_or(r)) {
            Some(Ok((line, rest))) => {
                self.rest = Some(rest);
                line
            }
            Some(Err(last)) => {
                self.rest = None;
                last
            }
            None => "",
        };
        let given = self.index < 32 && self.present & (1 << self.index) != 0;
        self.index += 1;
        given.then_some(line)
    }

    fn end(self) -> Result<(), JsValue> {
        match self.rest {
            Some(_) => Err(invalid_input(
                "a header value or option contains a line feed",
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    /// The `HooksealErrorCode` union in the TypeScript section lists exactly the core's codes
    /// plus the binding's own: the types come from here and cannot drift from the enum.
    #[test]
    fn typescript_error_codes_match_the_core() {
        let section = super::TYPES_TEXT;
        let start = section.find("export type HooksealErrorCode =").unwrap();
        let end = start + section[start..].find(';').unwrap();
        let union = &section[start..end];
        let listed: Vec<&str> = union.split('"').skip(1).step_by(2).collect();
        let mut want: Vec<&str> = hookseal::Error::CODES.to_vec();
        want.extend(["invalid_input", "body_too_large", "body_already_parsed"]);
        assert_eq!(listed, want);
    }

    #[test]
    fn typescript_scheme_names_match_the_core() {
        let section = super::TYPES_TEXT;
        let start = section.find("export type SchemeName =").unwrap();
        let end = start + section[start..].find(';').unwrap();
        let listed: Vec<&str> = section[start..end].split('"').skip(1).step_by(2).collect();
        assert_eq!(listed, hookseal::SCHEME_NAMES);
    }
}
