//! The JavaScript bindings of hookseal: one thin wasm-bindgen module over the core.
//!
//! Everything here converts between JS values and the core's types; the core does the work.
//! Errors reach JS as instances of the `HooksealError` class the package entry registers (a real
//! `Error` subclass with a stable `code`), or as plain `Error`s with the same fields if it was
//! never registered.

use std::cell::RefCell;

use hookseal::{
    Error, GenericScheme, Request, Scheme, SignInput, Signer, Tolerance, Verified, Verifier,
};
use js_sys::{Array, ArrayBuffer, Function, JsString, Object, Reflect, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// The TypeScript declarations of the data types (written to `hookseal.d.ts`). On the host only
/// the tests read it.
#[allow(dead_code)]
const TYPES_TEXT: &str = r#"
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

/** A replay window in seconds each way; `null` is unbounded. */
export interface Tolerance { past?: number | null; future?: number | null }

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
  /** The delivery id header, when the scheme has one. */
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

#[wasm_bindgen]
extern "C" {
    /// The union of accepted bodies.
    #[wasm_bindgen(typescript_type = "Body")]
    pub type BodyInput;
    /// The union of accepted header maps.
    #[wasm_bindgen(typescript_type = "HeadersInput")]
    pub type HeadersInput;
    /// `SchemeName | { generic: GenericScheme }`.
    #[wasm_bindgen(typescript_type = "SchemeName | { generic: GenericScheme }")]
    pub type SchemeInput;
    /// One secret or several (rotation).
    #[wasm_bindgen(typescript_type = "string | string[]")]
    pub type SecretsInput;
    /// Constructor options.
    #[wasm_bindgen(typescript_type = "WebhookOptions")]
    pub type WebhookOptions;
    /// Per-call options.
    #[wasm_bindgen(typescript_type = "VerifyOptions")]
    pub type VerifyOptions;
    /// Signing options.
    #[wasm_bindgen(typescript_type = "SignOptions")]
    pub type SignOptions;
}

thread_local! {
    static ERROR_CLASS: RefCell<Option<Function>> = const { RefCell::new(None) };
    /// Property names used on every call, made into JS strings once: creating a JS string from
    /// Rust decodes UTF-8 each time, which costs more than the rest of a small verification.
    static KEYS: Keys = Keys::new();
    /// Frozen `{ secretIndex: i }` results, by index.
    static PLAIN_RESULTS: RefCell<Vec<JsValue>> = const { RefCell::new(Vec::new()) };
}

struct Keys {
    get: JsValue,
    secret_index: JsValue,
    id: JsValue,
    timestamp: JsValue,
    now: JsValue,
    method: JsValue,
    url: JsValue,
}

impl Keys {
    fn new() -> Self {
        Self {
            get: JsValue::from_str("get"),
            secret_index: JsValue::from_str("secretIndex"),
            id: JsValue::from_str("id"),
            timestamp: JsValue::from_str("timestamp"),
            now: JsValue::from_str("now"),
            method: JsValue::from_str("method"),
            url: JsValue::from_str("url"),
        }
    }
}

/// Called once by the package entry with its `HooksealError` class.
#[doc(hidden)]
#[wasm_bindgen(js_name = "__registerErrorClass", skip_typescript)]
pub fn register_error_class(class: Function) {
    ERROR_CLASS.with(|c| *c.borrow_mut() = Some(class));
}

/// A `HooksealError(code, message, signatureVerified)`.
fn error(code: &str, message: &str, signature_verified: bool) -> JsValue {
    let args = Array::of3(
        &JsValue::from_str(code),
        &JsValue::from_str(message),
        &JsValue::from_bool(signature_verified),
    );
    let registered = ERROR_CLASS.with(|c| {
        c.borrow()
            .as_ref()
            .and_then(|class| Reflect::construct(class, &args).ok())
    });
    registered.unwrap_or_else(|| {
        let e = js_sys::Error::new(message);
        e.set_name("HooksealError");
        let _ = Reflect::set(&e, &"code".into(), &code.into());
        let _ = Reflect::set(&e, &"signatureVerified".into(), &signature_verified.into());
        e.into()
    })
}

fn core_error(e: &Error) -> JsValue {
    error(e.code(), &e.to_string(), e.signature_verified())
}

fn invalid_input(message: &str) -> JsValue {
    error("invalid_input", message, false)
}

/// The bytes of a body given as `Uint8Array` (and Node `Buffer`), another typed array or
/// `DataView`, `ArrayBuffer`, or a string (encoded as UTF-8, as it was sent).
fn body_bytes(body: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(s) = body.as_string() {
        return Ok(s.into_bytes());
    }
    if let Some(u) = body.dyn_ref::<Uint8Array>() {
        return Ok(u.to_vec());
    }
    if let Some(b) = body.dyn_ref::<ArrayBuffer>() {
        return Ok(Uint8Array::new(b).to_vec());
    }
    if ArrayBuffer::is_view(body) {
        let buffer = Reflect::get(body, &"buffer".into())?;
        let offset = Reflect::get(body, &"byteOffset".into())?
            .as_f64()
            .unwrap_or(0.0);
        let len = Reflect::get(body, &"byteLength".into())?
            .as_f64()
            .unwrap_or(0.0);
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let view = Uint8Array::new_with_byte_offset_and_length(&buffer, offset as u32, len as u32);
        return Ok(view.to_vec());
    }
    Err(invalid_input(
        "the body must be a Uint8Array, Buffer, ArrayBuffer, typed array or string: pass the raw \
         body as received, before any JSON parsing",
    ))
}

/// A header value from a JS value: a string, or an array of strings (Node joins repeated
/// headers into arrays; Fetch joins them with ", ").
fn header_value(v: JsValue) -> Option<String> {
    if let Some(s) = v.as_string() {
        return Some(s);
    }
    let arr = v.dyn_into::<Array>().ok()?;
    let parts: Vec<String> = arr.iter().filter_map(|x| x.as_string()).collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A header name verification reads: as the provider spells it, and as JS strings (lower case,
/// and as spelled) made once.
struct Name {
    name: String,
    lower_js: JsValue,
    exact_js: JsValue,
}

/// Copies the headers in `names` out of a JS header map: a plain object or Node's
/// `IncomingHttpHeaders` (looked up directly, the common case in Node), a Fetch `Headers` or a
/// `Map` (through their `get`).
fn read_headers(h: &JsValue, names: &[Name]) -> Result<Vec<(String, String)>, JsValue> {
    let invalid = || invalid_input("headers must be a Fetch Headers, a Map or a plain object");
    let mut out = Vec::with_capacity(names.len());
    let mut missing = Vec::new();
    for (i, n) in names.iter().enumerate() {
        match header_value(Reflect::get(h, &n.lower_js).map_err(|_| invalid())?) {
            Some(v) => out.push((n.name.clone(), v)),
            None => missing.push(i),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    if !h.is_object() {
        return Err(invalid());
    }
    let get = KEYS.with(|k| Reflect::get(h, &k.get))?;
    if let Some(get) = get.dyn_ref::<Function>() {
        // Fetch `Headers` (case-insensitive) or a `Map` (exact keys: lower case, then as written).
        for n in missing.iter().filter_map(|&i| names.get(i)) {
            let mut v = header_value(get.call1(h, &n.lower_js)?);
            if v.is_none() {
                v = header_value(get.call1(h, &n.exact_js)?);
            }
            if let Some(v) = v {
                out.push((n.name.clone(), v));
            }
        }
        return Ok(out);
    }
    // A plain object with other casing: scan its keys once.
    let keys: Vec<String> = Object::keys(h.unchecked_ref::<Object>())
        .iter()
        .filter_map(|k| k.as_string())
        .collect();
    for n in missing.iter().filter_map(|&i| names.get(i)) {
        if let Some(k) = keys.iter().find(|k| k.eq_ignore_ascii_case(&n.name))
            && let Some(v) = header_value(Reflect::get(h, &JsValue::from_str(k))?)
        {
            out.push((n.name.clone(), v));
        }
    }
    Ok(out)
}

/// Option `key` of an options object; `None` when the object or the option is absent or null.
/// The option names the bindings read are cached JS strings.
fn option(obj: &JsValue, key: &str) -> Result<Option<JsValue>, JsValue> {
    if obj.is_undefined() || obj.is_null() {
        return Ok(None);
    }
    let v = KEYS.with(|k| match key {
        "method" => Reflect::get(obj, &k.method),
        "url" => Reflect::get(obj, &k.url),
        "id" => Reflect::get(obj, &k.id),
        "now" => Reflect::get(obj, &k.now),
        "timestamp" => Reflect::get(obj, &k.timestamp),
        _ => Reflect::get(obj, &JsValue::from_str(key)),
    })?;
    Ok((!v.is_undefined() && !v.is_null()).then_some(v))
}

fn opt_string(obj: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let Some(v) = option(obj, key)? else {
        return Ok(None);
    };
    v.as_string()
        .map(Some)
        .ok_or_else(|| invalid_input(&format!("option `{key}` must be a string")))
}

fn opt_number(obj: &JsValue, key: &str) -> Result<Option<f64>, JsValue> {
    let Some(v) = option(obj, key)? else {
        return Ok(None);
    };
    match v.as_f64() {
        Some(n) if n.is_finite() => Ok(Some(n)),
        _ => Err(invalid_input(&format!(
            "option `{key}` must be a finite number"
        ))),
    }
}

/// "Now" in unix seconds: the caller's, else the clock's (read only when the scheme signs a
/// timestamp; without one, "now" is never used).
#[allow(clippy::cast_possible_truncation)]
fn now_or(options: &JsValue, verifier: &Verifier) -> Result<i64, JsValue> {
    Ok(match opt_number(options, "now")? {
        Some(n) => n.floor() as i64,
        None if verifier.uses_timestamp() => (js_sys::Date::now() / 1000.0).floor() as i64,
        None => 0,
    })
}

/// A JS value as JSON text, for the core's configuration parser.
fn json(v: &JsValue) -> Result<String, JsValue> {
    js_sys::JSON::stringify(v)?
        .as_string()
        .ok_or_else(|| invalid_input("options must be JSON-like"))
}

fn scheme(input: &JsValue) -> Result<Scheme, JsValue> {
    if let Some(name) = input.as_string() {
        return Scheme::from_name(&name).map_err(|e| core_error(&e));
    }
    let keys = Object::keys(input.unchecked_ref::<Object>());
    let generic = Reflect::get(input, &"generic".into())?;
    if keys.length() != 1 || !generic.is_object() {
        return Err(invalid_input(
            "the scheme must be a name or { generic: { ... } }",
        ));
    }
    GenericScheme::from_json(&json(&generic)?)
        .map(|g| Scheme::Generic(Box::new(g)))
        .map_err(|e| core_error(&e))
}

fn secrets(input: &JsValue) -> Result<Vec<String>, JsValue> {
    if let Some(s) = input.as_string() {
        return Ok(vec![s]);
    }
    if Array::is_array(input) {
        let arr: &Array = input.unchecked_ref();
        return arr
            .iter()
            .map(|v| {
                v.as_string()
                    .ok_or_else(|| invalid_input("every secret must be a string"))
            })
            .collect();
    }
    if input.is_undefined() || input.is_null() {
        // Reported by the core as "no secrets", with its stable code.
        return Ok(Vec::new());
    }
    Err(invalid_input(
        "secrets must be a string or an array of strings",
    ))
}

/// Verifies (and signs) webhooks of one scheme.
///
/// ```js
/// const wh = new Webhook("mossmoon", process.env.MOSSMOON_SECRET);
/// const { events } = wh.parse(rawBody, request.headers);
/// ```
#[wasm_bindgen]
pub struct Webhook {
    verifier: Verifier,
    signer: Signer,
    /// Every header verification reads.
    names: Vec<Name>,
}

#[wasm_bindgen]
impl Webhook {
    /// A webhook verifier for `scheme`, accepting any of `secrets` (rotation: give the old and
    /// the new). Signing uses the first secret.
    #[wasm_bindgen(constructor)]
    pub fn new(
        scheme_input: SchemeInput,
        secrets_input: SecretsInput,
        options: Option<WebhookOptions>,
    ) -> Result<Webhook, JsValue> {
        let scheme = scheme(&scheme_input)?;
        let secrets = secrets(&secrets_input)?;
        let mut verifier = Verifier::new(scheme.clone(), &secrets).map_err(|e| core_error(&e))?;
        let first = secrets.first().map_or("", String::as_str);
        let signer = Signer::new(scheme, first).map_err(|e| core_error(&e))?;
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        if !options.is_undefined() && !options.is_null() {
            let t = Reflect::get(&options, &"tolerance".into())?;
            // `true` keeps the scheme's window; anything else is read by the core.
            if !t.is_undefined() && t.as_bool() != Some(true) {
                let tolerance = Tolerance::from_json(&json(&t)?).map_err(|e| core_error(&e))?;
                verifier = verifier.with_tolerance(tolerance);
            }
        }
        let names = verifier
            .header_names()
            .into_iter()
            .map(|n| Name {
                name: n.to_owned(),
                lower_js: JsValue::from_str(&n.to_ascii_lowercase()),
                exact_js: JsValue::from_str(n),
            })
            .collect();
        Ok(Webhook {
            verifier,
            signer,
            names,
        })
    }

    /// The scheme's canonical name.
    #[wasm_bindgen(getter)]
    pub fn scheme(&self) -> String {
        self.verifier.scheme_name().to_owned()
    }

    /// Verifies the raw body against the headers. Throws a `HooksealError` when the request is
    /// not authentic or not fresh; returns what verification established (a frozen object,
    /// shared between calls when it carries no id or timestamp).
    #[wasm_bindgen(unchecked_return_type = "Verified")]
    pub fn verify(
        &self,
        body: BodyInput,
        headers: HeadersInput,
        options: Option<VerifyOptions>,
    ) -> Result<JsValue, JsValue> {
        self.with_request(&body, &headers, options, |req, now| {
            self.verifier.verify(req, now).map(|v| verified_object(&v))
        })
    }

    /// Verifies, then parses the body into events. A `HooksealError` whose `signatureVerified` is
    /// true means the signature was good but the body is not the documented event.
    #[wasm_bindgen(unchecked_return_type = "Delivery")]
    pub fn parse(
        &self,
        body: BodyInput,
        headers: HeadersInput,
        options: Option<VerifyOptions>,
    ) -> Result<JsValue, JsValue> {
        let json = self.with_request(&body, &headers, options, |req, now| {
            self.verifier
                .verify_and_parse(req, now)
                .map(|d| d.to_json())
        })?;
        js_sys::JSON::parse(&json)
    }

    /// The headers a sender would send with `body` (signed with the first secret).
    #[wasm_bindgen(unchecked_return_type = "Record<string, string>")]
    pub fn sign(&self, body: BodyInput, options: Option<SignOptions>) -> Result<JsValue, JsValue> {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let body = body_bytes(&body)?;
        #[allow(clippy::cast_possible_truncation)]
        let timestamp = opt_number(&options, "timestamp")?
            .unwrap_or_else(|| js_sys::Date::now() / 1000.0)
            .floor() as i64;
        let id = opt_string(&options, "id")?;
        let (method, url) = (
            opt_string(&options, "method")?,
            opt_string(&options, "url")?,
        );
        let mut input = SignInput::new(&body, timestamp);
        if let Some(id) = &id {
            input = input.with_id(id);
        }
        if let (Some(m), Some(u)) = (&method, &url) {
            input = input.with_target(m, u);
        }
        let headers = self.signer.sign(&input).map_err(|e| core_error(&e))?;
        let out = Object::new();
        for (k, v) in headers {
            Reflect::set(&out, &JsValue::from_str(&k), &JsValue::from_str(&v))?;
        }
        Ok(out.into())
    }
}

impl Webhook {
    /// Reads the JS arguments of `verify`/`parse` into a core request and "now", runs `f`, and
    /// turns its error into a `HooksealError`.
    fn with_request<T>(
        &self,
        body: &JsValue,
        headers: &JsValue,
        options: Option<VerifyOptions>,
        f: impl FnOnce(&Request<'_>, i64) -> Result<T, Error>,
    ) -> Result<T, JsValue> {
        let options: JsValue = options.map_or(JsValue::UNDEFINED, Into::into);
        let body = body_bytes(body)?;
        let headers = read_headers(headers, &self.names)?;
        let (method, url) = (
            opt_string(&options, "method")?,
            opt_string(&options, "url")?,
        );
        let req = request(&body, &headers, method.as_deref(), url.as_deref());
        f(&req, now_or(&options, &self.verifier)?).map_err(|e| core_error(&e))
    }
}

// A `Vec` rather than a slice: `&dyn Headers` needs a sized type behind the reference.
#[allow(clippy::ptr_arg)]
fn request<'a>(
    body: &'a [u8],
    headers: &'a Vec<(String, String)>,
    method: Option<&'a str>,
    url: Option<&'a str>,
) -> Request<'a> {
    let req = Request::new(body, headers);
    match (method, url) {
        (Some(m), Some(u)) => req.with_target(m, u),
        _ => req,
    }
}

#[allow(clippy::cast_precision_loss)]
fn verified_object(v: &Verified<'_>) -> JsValue {
    if v.id.is_none() && v.timestamp.is_none() {
        // The common result of the schemes without id or timestamp: one frozen object per
        // secret index, made once.
        let cached = PLAIN_RESULTS.with(|r| r.borrow().get(v.secret_index).cloned());
        if let Some(o) = cached.filter(|o| !o.is_undefined()) {
            return o;
        }
    }
    let o = Object::new();
    KEYS.with(|k| {
        let _ = Reflect::set(&o, &k.secret_index, &(v.secret_index as f64).into());
        if let Some(id) = v.id {
            let _ = Reflect::set(&o, &k.id, &JsString::from(id));
        }
        if let Some(t) = v.timestamp {
            let _ = Reflect::set(&o, &k.timestamp, &(t as f64).into());
        }
    });
    if v.id.is_none() && v.timestamp.is_none() {
        let frozen: JsValue = Object::freeze(&o).into();
        PLAIN_RESULTS.with(|r| {
            let mut r = r.borrow_mut();
            while r.len() <= v.secret_index {
                r.push(JsValue::UNDEFINED);
            }
            if let Some(slot) = r.get_mut(v.secret_index) {
                *slot = frozen.clone();
            }
        });
        return frozen;
    }
    o.into()
}

/// Answers Meta's subscription handshake: pass the request's query (a `URLSearchParams`, a query
/// string, or a plain object) and your verify token. Returns the challenge to send back as the
/// body with status 200; throws `HooksealError` (`handshake_rejected`) otherwise.
#[wasm_bindgen(js_name = metaHandshake)]
pub fn meta_handshake(
    #[wasm_bindgen(unchecked_param_type = "URLSearchParams | string | Record<string, string>")]
    query: JsValue,
    verify_token: &str,
) -> Result<String, JsValue> {
    let params = if let Some(s) = query.as_string() {
        let ctor = Reflect::get(&js_sys::global(), &"URLSearchParams".into())?;
        let ctor: Function = ctor
            .dyn_into()
            .map_err(|_| invalid_input("URLSearchParams is not available"))?;
        Reflect::construct(&ctor, &Array::of1(&s.trim_start_matches('?').into()))?
    } else {
        query
    };
    let field = |k: &str| -> Result<Option<String>, JsValue> {
        let get = Reflect::get(&params, &"get".into())?;
        let v = match get.dyn_ref::<Function>() {
            Some(get) => get.call1(&params, &k.into())?,
            None => Reflect::get(&params, &k.into())?,
        };
        Ok(v.as_string())
    };
    let (mode, token, challenge) = (
        field("hub.mode")?,
        field("hub.verify_token")?,
        field("hub.challenge")?,
    );
    hookseal::meta_handshake(
        mode.as_deref(),
        token.as_deref(),
        challenge.as_deref(),
        verify_token,
    )
    .map(str::to_owned)
    .map_err(|e| core_error(&e))
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
