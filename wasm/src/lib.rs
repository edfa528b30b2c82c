//! The JavaScript bindings of hookseal: one thin wasm-bindgen module over the core.
//!
//! The package's JS (`pkg-templates/dist/webhook.js`) reads the caller's JS values (bodies in
//! their several forms, header maps, options) and calls in here with plain bytes, strings and
//! numbers, so a call crosses the JS/wasm boundary once. Everything here converts those into the
//! core's types and back; the core does the work. Strings that carry several values are field
//! lists, the one encoding of [`abi`], which documents every crossing.
//!
//! The package's types are hand-written next to its JS (`pkg-templates/dist/*.d.ts`): this
//! module exports no TypeScript of its own.

mod abi;

use abi::{Reader, Writer, error};
use hookseal::{
    Document, Error, Filter, Headers, Request, Scheme, SecretProblem, SignInput, Signer, Tolerance,
    Verifier,
};
use wasm_bindgen::prelude::*;

/// The allocator: talc, smaller and faster than the default dlmalloc (the module is
/// single-threaded).
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// The verifier and signer of one `Webhook`. Internal: the package's `Webhook` class wraps it.
#[wasm_bindgen(skip_typescript)]
pub struct Core {
    verifier: Verifier,
    /// The signer of the first secret; `None` for a `whpk_` public key, which verifies but
    /// cannot sign (the only way a secret the verifier took can fail here): the error is the
    /// `sign` call's, not the constructor's.
    signer: Option<Signer>,
    /// Every header verification and parsing read, in the provider's spelling.
    names: Vec<String>,
}

#[wasm_bindgen]
impl Core {
    /// `scheme` is the scheme as configuration JSON (a name, or `{"generic": …}`), `secrets` a
    /// field list, `tolerance` the `tolerance` option as JSON.
    #[wasm_bindgen(constructor)]
    pub fn new(scheme: &str, secrets: &str, tolerance: Option<String>) -> Result<Core, JsValue> {
        let secrets = Reader::new(secrets).rest()?;
        let scheme = Scheme::from_config_json(scheme).map_err(|e| error(&e))?;
        let mut verifier = Verifier::new(scheme.clone(), &secrets).map_err(|e| error(&e))?;
        if let Some(json) = tolerance {
            verifier = verifier.with_tolerance(Tolerance::from_json(&json).map_err(|e| error(&e))?);
        }
        let first = secrets.first().copied().unwrap_or("");
        let signer = Signer::new(scheme, first).ok();
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

    /// What the JS needs to know of this core, read once, as a field list: the scheme's
    /// canonical name; its default body limit in bytes (the largest payload its provider
    /// documents); whether "now" matters (`1`: it signs a timestamp); whether it signs a
    /// delivery id (`1`; with neither, [`check`](Self::check) verifies); then the headers to
    /// read for `verify` and `parse`, in order, as the provider spells them.
    pub fn info(&self) -> String {
        let v = &self.verifier;
        let flag = |b: bool| if b { "1" } else { "0" };
        let mut w = Writer::default();
        w.text(v.scheme_name())
            .text(&v.max_body_bytes().to_string())
            .text(flag(v.uses_timestamp()))
            .text(flag(v.signs_id()));
        for n in &self.names {
            w.text(n);
        }
        w.finish()
    }

    /// Verifies `body` against `values`: the header values in `info()`'s order, then the request
    /// method and URL (given for schemes that sign them), as a field list in UTF-8. With `parse` false,
    /// returns everything verification established as a field list: secret index, timestamp,
    /// id (each absent when the scheme does not sign it); with `parse` true, verifies and parses,
    /// and returns the delivery as JSON text (`{ verified, events }`). One entry for both, so the
    /// request is read from the field list in one place.
    pub fn run(
        &self,
        parse: bool,
        body: &[u8],
        values: &[u8],
        now: f64,
    ) -> Result<String, JsValue> {
        let (headers, target) = self.request_fields(values)?;
        let req = request(body, &headers, target);
        let now = seconds(now);
        if parse {
            let delivery = self.verifier.verify_and_parse(&req, now);
            return delivery.map(|d| d.to_json()).map_err(|e| error(&e));
        }
        let v = self.verifier.verify(&req, now).map_err(|e| error(&e))?;
        let index = v.secret_index.to_string();
        let timestamp = v.timestamp.map(|t| t.to_string());
        Ok(Writer::default()
            .text(&index)
            .opt(timestamp.as_deref())
            .opt(v.id)
            .finish())
    }

    /// Verifies as `run` does, for a scheme that signs neither a timestamp nor an id (`info()`
    /// says which), where the secret's index is all verification establishes: it crosses back
    /// as a number, with no text to write or decode. The call of the hex HMAC schemes (MoltFlow,
    /// Mossmoon, Meta, GitHub, …), about a tenth of a small body's verification.
    pub fn check(&self, body: &[u8], values: &[u8], now: f64) -> Result<u32, JsValue> {
        let (headers, target) = self.request_fields(values)?;
        let req = request(body, &headers, target);
        let v = self
            .verifier
            .verify(&req, seconds(now))
            .map_err(|e| error(&e))?;
        Ok(u32::try_from(v.secret_index).unwrap_or(u32::MAX))
    }

    /// The headers to send with `body`, as a field list of names and values; `options` are the
    /// id, method and URL as a field list.
    pub fn sign(&self, body: &[u8], timestamp: f64, options: &str) -> Result<String, JsValue> {
        let mut options = Reader::new(options);
        let (id, method, url) = (options.next()?, options.next()?, options.next()?);
        options.end()?;
        let mut input = SignInput::new(body, seconds(timestamp));
        if let Some(id) = id {
            input = input.with_id(id);
        }
        input.method = method;
        input.url = url;
        let headers = self
            .signer
            .as_ref()
            .ok_or(Error::InvalidSecret(SecretProblem::PublicKeyCannotSign))
            .and_then(|s| s.sign(&input))
            .map_err(|e| error(&e))?;
        let mut out = Writer::default();
        for (name, value) in &headers {
            out.text(name).text(value);
        }
        Ok(out.finish())
    }
}

impl Core {
    /// The request's header values (named as `info()` lists them) and its method and URL, read
    /// from the field list of a `run` or `check` call.
    #[allow(clippy::type_complexity)]
    fn request_fields<'v>(
        &self,
        values: &'v [u8],
    ) -> Result<(Vec<(&str, &'v str)>, Target<'v>), JsValue> {
        let values = std::str::from_utf8(values).map_err(|_| abi::Malformed)?;
        let mut fields = Reader::new(values);
        let mut headers = Vec::with_capacity(self.names.len());
        for name in &self.names {
            if let Some(value) = fields.next()? {
                headers.push((name.as_str(), value));
            }
        }
        let target = (fields.next()?, fields.next()?);
        fields.end()?;
        Ok((headers, target))
    }
}

/// Unix seconds from a JS number (already checked finite by the caller).
#[allow(clippy::cast_possible_truncation)]
fn seconds(t: f64) -> i64 {
    t.floor() as i64
}

/// The request's method and URL, each given or not.
type Target<'a> = (Option<&'a str>, Option<&'a str>);

fn request<'a>(body: &'a [u8], headers: &'a dyn Headers, target: Target<'a>) -> Request<'a> {
    let (method, url) = target;
    let mut req = Request::new(body, headers);
    if let Some(method) = method {
        req = req.with_method(method);
    }
    if let Some(url) = url {
        req = req.with_url(url);
    }
    req
}

/// Whether the event (its JSON text as UTF-8 bytes) matches the filter (its JSON text); with no
/// bytes, only whether the filter is one (no JSON document is empty). One function rather than
/// a class: the filter is compiled per call, which costs the npm module 1 KB less than keeping
/// it.
#[wasm_bindgen(js_name = filterMatches, skip_typescript)]
pub fn filter_matches(filter: &str, event: &[u8]) -> Result<bool, JsValue> {
    let filter = Filter::from_json(filter).map_err(|e| error(&e))?;
    if event.is_empty() {
        return Ok(true);
    }
    let doc = Document::from_bytes(event).map_err(|e| error(&e))?;
    Ok(filter.matches(&doc))
}
