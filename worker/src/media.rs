//! Media kept before the link dies: an event's `message.media` downloaded from its provider into
//! the user's R2 bucket (`MEDIA`) before the event's first delivery, once whatever its number of
//! destinations, and the delivered event told where it is now (`message.media.archived`, with a
//! link the Worker serves and signs).
//!
//! - Meta: the media id resolved (`GET {graphUrl}/{id}` with the access token), then the file
//!   fetched with the same token. Twilio: `MediaUrl0` with basic auth (the body's `AccountSid`
//!   and the auth token), following Twilio's redirect to its storage. Mossmoon and the others:
//!   the URL in the event (with the source's `accessToken` as a bearer, when one is named).
//! - Only from the source's media hosts; a redirect goes to an https origin (or a listed one),
//!   and the credential is sent to the first origin only.
//! - Streamed into R2 chunk by chunk (never the whole file in memory), hashed on the way; a
//!   provider's `sha256` that does not match deletes the object and fails the archive.
//! - Idempotent: the key is the provider's media id (or the file's hash, or the URL's), and an
//!   object already under it is not downloaded again.
//! - A failure is retried with the delivery schedule while the provider's window can still be
//!   met; a permanent one (`404`, `410`, too large, a hash mismatch, the window gone) delivers
//!   the event with `archived: null` and `archiveError`, or with `required` makes it dead.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::future::{Either, select};
use hookseal::{Document, Path};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use worker::{
    AbortController, Bucket, Data, Delay, Env, Fetch, FixedLengthStream, Headers, HttpMetadata,
    Method, Request, RequestInit, RequestRedirect, Response, Url,
};

use crate::config::{Config, Media, MediaLinks, Source, binding};
use crate::failure::Failure;

/// Redirects a download follows at most (Twilio answers with one).
const MAX_REDIRECTS: usize = 3;
/// A download without a `Content-Length` is read into memory up to this size (R2 takes a stream
/// only of a known length).
const UNSIZED_MAX: u64 = 32 * 1024 * 1024;
/// How long resolving or downloading one file may take, seconds.
const TIMEOUT: u64 = 600;

/// What the archive did to an event's envelope.
pub enum Step {
    /// Nothing to do: no media, a source that does not archive, or done before.
    Keep,
    /// The envelope with `message.media.archived` (or `archived: null` and `archiveError`).
    Updated(String),
    /// Failed for now (the provider or R2): try again on the delivery schedule.
    Later(String),
    /// Failed for good, and the source requires its media: the event goes dead with this.
    Dead(String),
}

/// Why an archive failed, and whether trying again can help.
struct Failed {
    permanent: bool,
    why: String,
}

fn later(why: impl Into<String>) -> Failed {
    Failed {
        permanent: false,
        why: why.into(),
    }
}

fn permanent(code: &str, why: impl core::fmt::Display) -> Failed {
    Failed {
        permanent: true,
        why: format!("{code}: {why}"),
    }
}

/// What is stored, as the delivered event reads it (`url` is added per delivery).
struct Archived {
    key: String,
    size: u64,
    sha256: String,
    content_type: String,
}

/// The media an event refers to, read from its envelope.
struct Wanted {
    provider: String,
    id: Option<String>,
    url: Option<String>,
    mime_type: Option<String>,
    sha256: Option<[u8; 32]>,
    account_sid: Option<String>,
}

fn path(p: &str) -> Option<Path> {
    Path::from_config(p).ok()
}

fn text(doc: &Document<'_>, p: &str) -> Option<String> {
    path(p)
        .and_then(|p| doc.text_at(&p))
        .filter(|t| t != "null" && !t.is_empty())
}

/// Archives the event's media if its source archives and it has not been done: `Keep` when
/// there is nothing to do.
pub async fn prepare(env: &Env, src: &Source, envelope: &str, received_at: u64, now: u64) -> Step {
    let Some(media) = &src.media else {
        return Step::Keep;
    };
    let Ok(doc) = Document::parse(envelope) else {
        return Step::Keep;
    };
    let Some(span) = path("message.media").and_then(|p| doc.span_at(envelope, &p)) else {
        return Step::Keep; // no media (or `null`)
    };
    if path("message.media.archived")
        .and_then(|p| doc.text_at(&p))
        .is_some()
    {
        return Step::Keep; // archived, or given up on, before
    }
    let wanted = Wanted {
        provider: text(&doc, "provider").unwrap_or_default(),
        id: text(&doc, "message.media.id"),
        url: text(&doc, "message.media.url"),
        mime_type: text(&doc, "message.media.mimeType"),
        sha256: text(&doc, "message.media.sha256").and_then(|s| digest_of(&s)),
        account_sid: text(&doc, "data.accountSid"),
    };
    if wanted.id.is_none() && wanted.url.is_none() {
        return Step::Keep;
    }
    let member = match archive(env, &src.name, media, &wanted).await {
        Ok(a) => {
            crate::log::line(
                "media_archived",
                json!({ "source": src.name, "key": a.key, "size": a.size }),
            );
            format!(
                r#""archived":{}"#,
                json!({ "key": a.key, "size": a.size, "sha256": a.sha256, "contentType": a.content_type })
            )
        }
        Err(f) => {
            let age_s = now.saturating_sub(received_at) / 1000;
            if !f.permanent && age_s < window(&wanted.provider) {
                return Step::Later(format!("media: {}", f.why));
            }
            let why = if f.permanent {
                f.why
            } else {
                format!("expired: the provider's window closed ({})", f.why)
            };
            crate::log::line("media_failed", json!({ "source": src.name, "error": why }));
            if media.required {
                return Step::Dead(format!("media: {why}"));
            }
            format!(r#""archived":null,"archiveError":{}"#, json!(why))
        }
    };
    Step::Updated(with_member(envelope, span, &member))
}

/// How long after receipt a provider's media can still be fetched, seconds: Meta's ids live 30
/// days, Vonage keeps media 48 hours, Mossmoon's links (and, to be safe, any other's) 24 hours.
fn window(provider: &str) -> u64 {
    match provider {
        "meta" => 30 * 86_400,
        "vonage" => 48 * 3600,
        _ => 24 * 3600,
    }
}

/// `text` with `member` added to the object at `span` (its last member, or its only one).
fn with_member(text: &str, span: core::ops::Range<usize>, member: &str) -> String {
    let object = text.get(span.clone()).unwrap_or("{}");
    let sep = if object.trim_start_matches('{').trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    let close = span.end.saturating_sub(1);
    format!(
        "{}{sep}{member}{}",
        text.get(..close).unwrap_or(text),
        text.get(close..).unwrap_or("")
    )
}

/// A provider's SHA-256: hex (Mossmoon) or base64 (Meta has sent both); `None` if neither.
fn digest_of(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    let mut out = [0u8; 32];
    if s.len() == 64 {
        base16ct::mixed::decode(s, &mut out).ok()?;
        return Some(out);
    }
    let bytes = hookseal_base64(s)?;
    (bytes.len() == 32).then(|| {
        out.copy_from_slice(&bytes);
        out
    })
}

/// Standard base64 (padded or not).
fn hookseal_base64(s: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)?;
        acc = (acc << 6) | u32::try_from(v).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The R2 key of a source's media: the provider's media id, else the file's hash, else the
/// URL's path hashed (so one file has one key, whoever asks for it).
fn key_of(source: &str, w: &Wanted) -> String {
    let safe = |s: &str| {
        !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    };
    // Twilio's media SID is the URL's last segment.
    let twilio_sid = w
        .url
        .as_deref()
        .filter(|_| w.provider == "twilio")
        .and_then(|u| u.split('?').next())
        .and_then(|u| u.rsplit('/').next());
    let name = match (&w.id, twilio_sid, &w.sha256) {
        (Some(id), _, _) if safe(id) => id.clone(),
        (_, Some(sid), _) if safe(sid) => sid.to_owned(),
        (_, _, Some(digest)) => hex(digest),
        _ => hex(&Sha256::digest(w.url.as_deref().unwrap_or("").as_bytes())),
    };
    format!("{source}/{name}")
}

/// The Worker's linear memory now, bytes (it grows to its peak and stays): what a file held
/// whole would show.
fn wasm_memory() -> f64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| {
            m.buffer()
                .dyn_into::<js_sys::ArrayBuffer>()
                .map_or(0.0, |b| f64::from(b.byte_length()))
        })
        .unwrap_or(0.0)
}

fn hex(bytes: &[u8]) -> String {
    base16ct::lower::encode_string(bytes)
}

async fn archive(env: &Env, source: &str, media: &Media, w: &Wanted) -> Result<Archived, Failed> {
    let bucket = env
        .bucket(binding::MEDIA)
        .map_err(|e| later(format!("R2: {e}")))?;
    let key = key_of(source, w);
    if let Some(done) = stored(&bucket, &key).await? {
        return Ok(done);
    }
    let (url, auth, expected) = origin_of(media, w).await?;
    let mut res = fetch(&url, auth.as_deref(), &media.hosts).await?;
    let content_type = header(res.headers(), "content-type")
        .or_else(|| w.mime_type.clone())
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let length = header(res.headers(), "content-length").and_then(|l| l.trim().parse::<u64>().ok());
    if length.is_some_and(|n| n > media.max_bytes) {
        return Err(permanent(
            "too_large",
            format!(
                "{} bytes, more than maxBytes ({})",
                length.unwrap_or(0),
                media.max_bytes
            ),
        ));
    }
    let body = res
        .stream()
        .map_err(|e| later(format!("the download: {e}")))?;
    let put = upload(
        &bucket,
        &key,
        body,
        length,
        media.max_bytes,
        &content_type,
        expected,
    )
    .await?;
    Ok(Archived {
        key,
        size: put.0,
        sha256: put.1,
        content_type,
    })
}

/// Where the file is, the credential to fetch it with, and the SHA-256 it must have: Meta's
/// resolved from its id with the access token; Twilio's with basic auth (the body's
/// `AccountSid` and the auth token); any other's as the event says, with a bearer when named.
async fn origin_of(
    media: &Media,
    w: &Wanted,
) -> Result<(String, Option<String>, Option<[u8; 32]>), Failed> {
    let token = media.access_token.as_deref();
    let bearer = token.map(|t| format!("Bearer {t}"));
    let url = w.url.clone().unwrap_or_default();
    Ok(match w.provider.as_str() {
        "meta" => {
            let id =
                w.id.as_deref()
                    .ok_or_else(|| permanent("no_media", "no media id"))?;
            let (url, sha) = resolve_meta(media, id, token).await?;
            (url, bearer, sha.or(w.sha256))
        }
        "twilio" => {
            let auth = match (&w.account_sid, token) {
                (Some(sid), Some(t)) => Some(format!("Basic {}", base64(&format!("{sid}:{t}")))),
                _ => None,
            };
            (url, auth, w.sha256)
        }
        _ => (url, bearer, w.sha256),
    })
}

/// What is stored under `key` already (a retry, a replay, another destination's job), with its
/// hash: from its metadata, or read back when it has none.
async fn stored(bucket: &Bucket, key: &str) -> Result<Option<Archived>, Failed> {
    let Some(obj) = bucket
        .head(key)
        .await
        .map_err(|e| later(format!("R2: {e}")))?
    else {
        return Ok(None);
    };
    let content_type = obj
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let sha256 = match obj
        .custom_metadata()
        .ok()
        .and_then(|m| m.get("sha256").cloned())
    {
        Some(s) => s,
        None => {
            let Some(full) = bucket
                .get(key)
                .execute()
                .await
                .map_err(|e| later(format!("R2: {e}")))?
            else {
                return Ok(None);
            };
            let mut hasher = Sha256::new();
            if let Some(body) = full.body() {
                let mut s = body.stream().map_err(|e| later(format!("R2: {e}")))?;
                while let Some(chunk) = s.next().await {
                    hasher.update(chunk.map_err(|e| later(format!("R2: {e}")))?);
                }
            }
            hex(&hasher.finalize())
        }
    };
    Ok(Some(Archived {
        key: key.to_owned(),
        size: obj.size(),
        sha256,
        content_type,
    }))
}

/// Streams `body` into R2 under `key`, counting and hashing it on the way: its size and
/// SHA-256. A file past `max` bytes, or whose hash is not `expected`, is not kept.
async fn upload(
    bucket: &Bucket,
    key: &str,
    body: worker::ByteStream,
    length: Option<u64>,
    max: u64,
    content_type: &str,
    expected: Option<[u8; 32]>,
) -> Result<(u64, String), Failed> {
    let tally = Tally::default();
    let data = tally.data(body, length, max).await?;
    let mut metadata = HashMap::new();
    if let Some(e) = expected {
        // Known before the upload: kept with the object, so a later look needs no read.
        metadata.insert("sha256".to_owned(), hex(&e));
    }
    let put = bucket
        .put(key, data)
        .http_metadata(HttpMetadata {
            content_type: Some(content_type.to_owned()),
            ..HttpMetadata::default()
        })
        .custom_metadata(metadata)
        .execute()
        .await;
    let size = tally.seen.get();
    if let Err(e) = put {
        return Err(if size > max {
            permanent("too_large", format!("more than maxBytes ({max})"))
        } else {
            later(format!("storing it in R2: {e}"))
        });
    }
    let digest: [u8; 32] = tally.hasher.borrow_mut().finalize_reset().into();
    if let Some(e) = expected.filter(|e| *e != digest) {
        // Never kept under its name: a mismatch is not the provider's file.
        let _ = bucket.delete(key).await;
        let why = format!(
            "the file's SHA-256 is {}, the provider's {}",
            hex(&digest),
            hex(&e)
        );
        return Err(permanent("sha256_mismatch", why));
    }
    crate::log::line(
        "media_stored",
        json!({ "key": key, "size": size, "largestChunk": tally.largest.get(), "wasmMemory": wasm_memory() }),
    );
    Ok((size, hex(&digest)))
}

/// What passes through on the way to R2: its size, its largest chunk and its SHA-256.
#[derive(Default)]
struct Tally {
    hasher: Rc<RefCell<Sha256>>,
    seen: Rc<Cell<u64>>,
    largest: Rc<Cell<usize>>,
}

impl Tally {
    /// The body as R2 takes it: a stream of its known length, counted and hashed chunk by chunk
    /// (more than `max` bytes ends it); without a length, read into memory up to 32 MiB.
    async fn data(
        &self,
        body: worker::ByteStream,
        length: Option<u64>,
        max: u64,
    ) -> Result<Data, Failed> {
        let (h, n, big) = (
            Rc::clone(&self.hasher),
            Rc::clone(&self.seen),
            Rc::clone(&self.largest),
        );
        let counted = body.map(move |chunk| {
            let chunk = chunk?;
            n.set(n.get() + chunk.len() as u64);
            if n.get() > max {
                return Err(worker::Error::RustError(format!(
                    "more than maxBytes ({max})"
                )));
            }
            big.set(big.get().max(chunk.len()));
            h.borrow_mut().update(&chunk);
            Ok(chunk)
        });
        if let Some(len) = length {
            return Ok(Data::Stream(FixedLengthStream::wrap(counted, len)));
        }
        let cap = max.min(UNSIZED_MAX);
        let mut all = Vec::new();
        let mut s = Box::pin(counted);
        while let Some(chunk) = s.next().await {
            let chunk = chunk.map_err(|e| permanent("too_large", e))?;
            if all.len() as u64 + chunk.len() as u64 > cap {
                let why = format!("no Content-Length and more than {cap} bytes");
                return Err(permanent("too_large", why));
            }
            all.extend_from_slice(&chunk);
        }
        Ok(Data::Bytes(all))
    }
}

/// Meta: the media id's download URL (and SHA-256, when it gives one).
async fn resolve_meta(
    media: &Media,
    id: &str,
    token: Option<&str>,
) -> Result<(String, Option<[u8; 32]>), Failed> {
    if !id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(permanent(
            "bad_media_id",
            "the media id has characters no id has",
        ));
    }
    let auth = token.map(|t| format!("Bearer {t}"));
    let url = format!("{}/{id}", media.graph_url);
    let mut res = fetch(&url, auth.as_deref(), &media.hosts).await?;
    let info: Value = res
        .json()
        .await
        .map_err(|e| later(format!("the Graph API's answer: {e}")))?;
    let download = info
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| later("the Graph API's answer has no `url`"))?;
    let sha = info
        .get("sha256")
        .and_then(Value::as_str)
        .and_then(digest_of);
    Ok((download.to_owned(), sha))
}

fn header(h: &Headers, name: &str) -> Option<String> {
    h.get(name).ok().flatten()
}

fn base64(s: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                let v = usize::try_from((n >> (18 - 6 * i)) & 63).unwrap_or(0);
                out.push(char::from(ALPHABET.get(v).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// GETs `url` (one of `hosts`), following redirects to https origins (or listed ones); the
/// credential goes to the first origin only. A 2xx answer, or why not.
async fn fetch(url: &str, auth: Option<&str>, hosts: &[String]) -> Result<Response, Failed> {
    let mut url = Url::parse(url).map_err(|_| permanent("bad_media_url", "not a URL"))?;
    let first = origin(&url);
    if !hosts.contains(&first) {
        return Err(permanent(
            "host_not_allowed",
            format!("{first} is not one of the source's media hosts"),
        ));
    }
    for _ in 0..=MAX_REDIRECTS {
        let res = get(&url, auth.filter(|_| origin(&url) == first)).await?;
        let status = res.status_code();
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            let next = header(res.headers(), "location")
                .and_then(|l| url.join(&l).ok())
                .ok_or_else(|| later(format!("a {status} without a Location")))?;
            if next.scheme() != "https" && !hosts.contains(&origin(&next)) {
                return Err(permanent(
                    "host_not_allowed",
                    format!(
                        "a redirect to {}, neither https nor a media host",
                        origin(&next)
                    ),
                ));
            }
            url = next;
            continue;
        }
        return answered(res, &url);
    }
    Err(later(format!("more than {MAX_REDIRECTS} redirects")))
}

/// One GET of `url` (with `auth`, when given), within [`TIMEOUT`], never following a redirect.
async fn get(url: &Url, auth: Option<&str>) -> Result<Response, Failed> {
    let headers = Headers::new();
    let _ = headers.set("user-agent", "hookseal");
    if let Some(a) = auth {
        let _ = headers.set("authorization", a);
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get)
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    let req = Request::new_with_init(url.as_str(), &init)
        .map_err(|e| later(format!("building the request: {e}")))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let fetch = Fetch::Request(req);
    let send = Box::pin(fetch.send_with_signal(&signal));
    let timer = Box::pin(Delay::from(Duration::from_secs(TIMEOUT)));
    match select(send, timer).await {
        Either::Left((Ok(res), _)) => Ok(res),
        Either::Left((Err(e), _)) => Err(later(format!("network: {e}"))),
        Either::Right(((), _)) => {
            controller.abort();
            Err(later(format!("timed out after {TIMEOUT} s")))
        }
    }
}

/// A final answer (not a redirect): the file, or why not (a 404, 410 or 400 for good).
fn answered(res: Response, url: &Url) -> Result<Response, Failed> {
    let status = res.status_code();
    let at = origin(url);
    match status {
        200..=299 => Ok(res),
        404 => Err(permanent("not_found", format!("{at} answered 404"))),
        410 => Err(permanent("gone", format!("{at} answered 410"))),
        400 => Err(permanent("refused", format!("{at} answered 400"))),
        _ => Err(later(format!("{at} answered {status}"))),
    }
}

/// The link that serves `key` until `now + links.seconds`: `{PUBLIC_URL}/media/{key}?exp=&sig=`.
pub fn link(links: &MediaLinks, key: &str, now: u64) -> String {
    let exp = now / 1000 + links.seconds;
    format!(
        "{}/media/{key}?exp={exp}&sig={}",
        links.base,
        signature(&links.secret, key, exp)
    )
}

/// HMAC-SHA256 of `{key}\n{exp}` under `MEDIA_LINK_SECRET`, hex (the core's Mossmoon signer is
/// exactly that MAC).
fn signature(secret: &str, key: &str, exp: u64) -> String {
    let message = format!("{key}\n{exp}");
    hookseal::Scheme::from_name("mossmoon")
        .ok()
        .and_then(|scheme| hookseal::Signer::new(scheme, secret).ok())
        .and_then(|signer| {
            signer
                .sign(&hookseal::SignInput::new(message.as_bytes(), 0))
                .ok()
        })
        .and_then(|headers| headers.into_iter().next().map(|(_, v)| v))
        .unwrap_or_default()
}

/// Whether `sig` signs `key` until `exp`, and `exp` is still ahead (compared in constant time).
pub fn valid_link(links: &MediaLinks, key: &str, exp: u64, sig: &str, now: u64) -> bool {
    use subtle::ConstantTimeEq;
    let want = signature(&links.secret, key, exp);
    exp > now / 1000 && !want.is_empty() && bool::from(want.as_bytes().ct_eq(sig.as_bytes()))
}

/// The envelope as a delivery sends it: an archived file's `url`, minted now, added.
pub fn with_link(cfg: &Config, envelope: &str, now: u64) -> String {
    let Some(links) = &cfg.media_links else {
        return envelope.to_owned();
    };
    if !envelope.contains(r#""archived":{"#) {
        return envelope.to_owned();
    }
    let Ok(doc) = Document::parse(envelope) else {
        return envelope.to_owned();
    };
    let (Some(span), Some(key)) = (
        path("message.media.archived").and_then(|p| doc.span_at(envelope, &p)),
        text(&doc, "message.media.archived.key"),
    ) else {
        return envelope.to_owned();
    };
    let member = format!(r#""url":{}"#, json!(link(links, &key, now)));
    with_member(envelope, span, &member)
}

/// Types a browser may show from the Worker's own origin; anything else (HTML, SVG, …) is served
/// as a download, so a file a sender chose cannot run in the console's origin.
const INLINE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "audio/",
    "video/",
    "application/pdf",
];

/// `GET /media/{key}?exp=&sig=`: the stored file, when the link is valid (`403` otherwise).
pub async fn serve(
    env: &Env,
    cfg: &Config,
    url: &Url,
    key: &str,
    now: u64,
) -> Result<Response, Failure> {
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let exp = query
        .get("exp")
        .and_then(|e| e.parse::<u64>().ok())
        .unwrap_or(0);
    let sig = query.get("sig").map_or("", String::as_str);
    let ok = cfg
        .media_links
        .as_ref()
        .is_some_and(|l| valid_link(l, key, exp, sig, now));
    if !ok {
        return Err(Failure::new(
            "forbidden",
            "the link is not valid, or has expired",
        ));
    }
    let unavailable = |e: worker::Error| Failure::unavailable("media_unavailable", e);
    let obj = env
        .bucket(binding::MEDIA)
        .map_err(unavailable)?
        .get(key)
        .execute()
        .await
        .map_err(unavailable)?
        .ok_or_else(|| Failure::new("not_found", "no such media"))?;
    let content_type = obj
        .http_metadata()
        .content_type
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let size = obj.size();
    let body = obj
        .body()
        .ok_or_else(|| Failure::new("not_found", "no such media"))?
        .response_body()
        .map_err(unavailable)?;
    let headers =
        served(content_type, size, exp.saturating_sub(now / 1000)).map_err(unavailable)?;
    Response::from_body(body)
        .map(|r| r.with_headers(headers))
        .map_err(unavailable)
}

/// The headers served media goes with: its type and size, `nosniff`, a sandboxing policy, kept
/// privately until its link expires, and anything a browser could run as a download.
fn served(content_type: String, size: u64, max_age: u64) -> worker::Result<Headers> {
    let inline = INLINE_TYPES.iter().any(|t| content_type.starts_with(t));
    let headers = Headers::new();
    headers.set("content-type", &content_type)?;
    headers.set("content-length", &size.to_string())?;
    headers.set("x-content-type-options", "nosniff")?;
    headers.set("content-security-policy", "default-src 'none'; sandbox")?;
    headers.set("cache-control", &format!("private, max-age={max_age}"))?;
    if !inline {
        headers.set("content-disposition", "attachment")?;
    }
    Ok(headers)
}

/// `GET /admin/media/{key}`: a fresh link to stored media.
pub async fn fresh_link(env: &Env, cfg: &Config, key: &str, now: u64) -> Result<Value, Failure> {
    let links = cfg.media_links.as_ref().ok_or_else(|| {
        Failure::new(
            "media_off",
            "media links are off: set PUBLIC_URL and the secret MEDIA_LINK_SECRET",
        )
    })?;
    let unavailable = |e: worker::Error| Failure::unavailable("media_unavailable", e);
    let found = env
        .bucket(binding::MEDIA)
        .map_err(unavailable)?
        .head(key)
        .await
        .map_err(unavailable)?;
    let obj = found.ok_or_else(|| Failure::new("not_found", "no such media"))?;
    Ok(json!({
        "key": key,
        "url": link(links, key, now),
        "size": obj.size(),
        "contentType": obj.http_metadata().content_type,
    }))
}

/// Deletes stored media (a purged event's). Best effort: a failure is logged.
pub async fn forget(env: &Env, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    let Ok(bucket) = env.bucket(binding::MEDIA) else {
        return;
    };
    if let Err(e) = bucket.delete_multiple(keys.to_vec()).await {
        crate::log::line("media_forget_failed", json!({ "error": e.to_string() }));
    }
}

/// The key of the media an envelope says is archived, if any.
pub fn archived_key(envelope: &str) -> Option<String> {
    if !envelope.contains(r#""archived":{"#) {
        return None;
    }
    let doc = Document::parse(envelope).ok()?;
    text(&doc, "message.media.archived.key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_are_added_to_the_object_in_place() {
        let t = r#"{"message":{"media":{"id":"1"},"x":2}}"#;
        let doc = Document::parse(t).unwrap();
        let span = doc.span_at(t, &path("message.media").unwrap()).unwrap();
        assert_eq!(
            with_member(t, span, r#""archived":null"#),
            r#"{"message":{"media":{"id":"1","archived":null},"x":2}}"#
        );
        let t = r#"{"message":{"media":{ }}}"#;
        let doc = Document::parse(t).unwrap();
        let span = doc.span_at(t, &path("message.media").unwrap()).unwrap();
        assert_eq!(
            with_member(t, span, r#""a":1"#),
            r#"{"message":{"media":{ "a":1}}}"#
        );
    }

    #[test]
    fn digests_in_hex_or_base64() {
        let hex64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        let d = digest_of(hex64).unwrap();
        assert_eq!(hex(&d), hex64);
        let b64 = "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=";
        assert_eq!(digest_of(b64), Some(d));
        assert_eq!(digest_of("0a1b2c"), None);
        assert_eq!(base64("AC1:tok"), "QUMxOnRvaw==");
        assert_eq!(base64("ab"), "YWI=");
    }

    #[test]
    fn keys_are_the_providers_ids_or_hashes() {
        let w = |provider: &str, id: Option<&str>, url: Option<&str>| Wanted {
            provider: provider.to_owned(),
            id: id.map(str::to_owned),
            url: url.map(str::to_owned),
            mime_type: None,
            sha256: None,
            account_sid: None,
        };
        assert_eq!(
            key_of("wa", &w("meta", Some("1479537139650973"), None)),
            "wa/1479537139650973"
        );
        assert_eq!(
            key_of(
                "tw",
                &w(
                    "twilio",
                    None,
                    Some("https://api.twilio.com/x/Media/ME0123?a=1")
                )
            ),
            "tw/ME0123"
        );
        let hashed = key_of(
            "m",
            &w(
                "mossmoon",
                Some("../../etc"),
                Some("https://media.mossmoon.app/v?sig=1"),
            ),
        );
        assert!(
            hashed.starts_with("m/") && hashed.len() == 2 + 64,
            "{hashed}"
        );
    }

    #[test]
    fn links_expire_and_cannot_be_moved_to_another_key() {
        let links = MediaLinks {
            secret: "s".repeat(32),
            base: "https://h.example".into(),
            seconds: 60,
        };
        let url = link(&links, "wa/1", 1_000_000);
        let q: HashMap<String, String> = Url::parse(&url)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        let (exp, sig) = (q["exp"].parse::<u64>().unwrap(), q["sig"].clone());
        assert!(valid_link(&links, "wa/1", exp, &sig, 1_000_000));
        assert!(!valid_link(&links, "wa/2", exp, &sig, 1_000_000));
        assert!(!valid_link(&links, "wa/1", exp + 1, &sig, 1_000_000));
        assert!(!valid_link(&links, "wa/1", exp, &sig, (exp + 1) * 1000));
        assert!(!valid_link(&links, "wa/1", exp, "", 1_000_000));
    }
}
