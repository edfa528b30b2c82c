//! Routing, and every answer: a route's `Failure` becomes its status and
//! `{"error": code, "message": …}` here, in one place (the detail goes to the log only). Admin
//! answers and console files are private: `Cache-Control: no-store`, `nosniff`.
//!
//! | route | room |
//! |---|---|
//! | `POST /webhooks/{source}` | `ingest` |
//! | `GET /webhooks/{source}` | `handshake` (Meta's) |
//! | `GET /health` | here: up or not; with the admin token, every source, destination and problem |
//! | `GET /media/{key}?exp=&sig=` | `media`: archived media, behind a signed link |
//! | `/admin/…` | `admin` |

use std::rc::Rc;

use serde_json::{Value, json};
use worker::{
    Context, EncodeBody, Env, Method, Request, Response, ResponseBody, Result, js_sys,
    wasm_bindgen, web_sys,
};

use crate::admin;
use crate::config::{self, Config};
use crate::failure::Failure;
use crate::handshake;
use crate::ingest;
use crate::log;
use crate::media;
use crate::store;
use crate::tally;

/// Routes a request.
pub async fn route(mut req: Request, env: &Env, ctx: &Context, now: u64) -> Result<Response> {
    let path = req.path();
    let cfg = match config::load(env) {
        Ok(c) => c,
        Err(e) => {
            let f = Failure::config(e);
            return if path == "/health" {
                json(503, &json!({ "up": false }), false)
            } else {
                failure(&f, path.starts_with("/admin"))
            };
        }
    };
    if path == "/admin" {
        return Response::redirect_with_status(req.url()?.join("/admin/")?, 301);
    }
    if let Some(rest) = path.strip_prefix("/admin/") {
        let rest = rest.to_owned();
        if req.method() == Method::Get
            && let Some((content_type, body)) = admin::console_file(&rest)
        {
            return console(&req, content_type, body);
        }
        return answer(admin::route(&mut req, env, &cfg, &rest, now).await, true);
    }
    let source = path
        .strip_prefix("/webhooks/")
        .filter(|s| !s.is_empty() && !s.contains('/'))
        .map(str::to_owned);
    match (req.method(), source) {
        (Method::Post, Some(name)) => {
            let result = ingest::handle(&mut req, env, ctx, &cfg, &name, now).await;
            answer(
                result.map(|a| {
                    let status = if a.accepted.is_empty() && !a.duplicates.is_empty() { 200 } else { 202 };
                    (status, json!({ "accepted": a.accepted.len(), "duplicates": a.duplicates.len(), "filtered": a.filtered }))
                }),
                false,
            )
        }
        (Method::Get, Some(name)) => match handshake::answer(&req, &cfg, &name) {
            Ok(challenge) => Response::ok(challenge),
            Err(f) => failure(&f, false),
        },
        (Method::Get, None) if path == "/health" => health(&req, env, &cfg).await,
        (Method::Get, None) if path.starts_with("/media/") => {
            let key = path.trim_start_matches("/media/").to_owned();
            match media::serve(env, &cfg, &req.url()?, &key, now).await {
                Ok(res) => Ok(res),
                Err(f) => failure(&f, false),
            }
        }
        _ => failure(&Failure::new("not_found", "no such route"), false),
    }
}

/// A route's result as its answer.
pub fn answer(
    result: std::result::Result<(u16, Value), Failure>,
    private: bool,
) -> Result<Response> {
    match result {
        Ok((status, body)) => json(status, &body, private),
        Err(f) => failure(&f, private),
    }
}

/// A failure's answer; its detail (a store's error, a configuration problem) is logged only.
pub fn failure(f: &Failure, private: bool) -> Result<Response> {
    if let Some(detail) = &f.detail
        && f.status() >= 500
    {
        log::line("failure", json!({ "code": f.code, "detail": detail }));
    }
    json(
        f.status(),
        &json!({ "error": f.code, "message": f.message }),
        private,
    )
}

fn json(status: u16, body: &Value, private: bool) -> Result<Response> {
    let mut res = Response::from_json(body)?.with_status(status);
    if private {
        let h = res.headers_mut();
        h.set("cache-control", "no-store")?;
        h.set("x-content-type-options", "nosniff")?;
        h.set("referrer-policy", "no-referrer")?;
    }
    Ok(res)
}

/// A console file: gzipped as built, or unzipped on the way for a client that does not take
/// gzip (a script without `--compressed`).
fn console(req: &Request, content_type: &str, body: admin::ConsoleBody) -> Result<Response> {
    let takes_gzip = req
        .headers()
        .get("accept-encoding")
        .ok()
        .flatten()
        .is_some_and(|v| v.contains("gzip"));
    let mut res = match body {
        admin::ConsoleBody::Gzip(gz) if takes_gzip => {
            let mut res = Response::from_bytes(gz.to_vec())?.with_encode_body(EncodeBody::Manual);
            res.headers_mut().set("content-encoding", "gzip")?;
            res
        }
        admin::ConsoleBody::Gzip(gz) => Response::from_body(ResponseBody::Stream(gunzip(gz)?))?,
        admin::ConsoleBody::Text(text) => Response::ok(text)?,
    };
    let h = res.headers_mut();
    h.set("content-type", content_type)?;
    h.set("content-security-policy", admin::console_csp())?;
    h.set("x-content-type-options", "nosniff")?;
    h.set("referrer-policy", "no-referrer")?;
    h.set("cache-control", "no-store")?;
    Ok(res)
}

/// The bytes, unzipped by the runtime's `DecompressionStream` as they are read.
fn gunzip(gz: &[u8]) -> Result<web_sys::ReadableStream> {
    use js_sys::{Array, Function, Reflect};
    use wasm_bindgen::JsCast;
    let stream = web_sys::Response::new_with_opt_u8_array(Some(&mut gz.to_vec()))?
        .body()
        .ok_or_else(|| worker::Error::RustError("no body".into()))?;
    let ctor: Function =
        Reflect::get(&js_sys::global(), &"DecompressionStream".into())?.dyn_into()?;
    let unzip = Reflect::construct(&ctor, &Array::of1(&"gzip".into()))?;
    let pipe: Function = Reflect::get(&stream, &"pipeThrough".into())?.dyn_into()?;
    Ok(pipe.call1(&stream, &unzip)?.unchecked_into())
}

/// `GET /health`: without the admin token, only whether the Worker is up (and, when the admin
/// API is closed for a short token, that); with it, every source, destination and problem.
async fn health(req: &Request, env: &Env, cfg: &Rc<Config>) -> Result<Response> {
    let token = match &cfg.admin_token {
        Ok(t) if admin::authorized(req, t) => t,
        Ok(_) => return json(200, &json!({ "up": true }), true),
        Err(why) => {
            let out = if why.contains("fewer than") {
                json!({ "up": true, "adminApi": format!("closed: {why}") })
            } else {
                json!({ "up": true })
            };
            return json(200, &out, true);
        }
    };
    let _ = token;
    let problems = cfg.problems();
    let logs: Vec<Value> = cfg
        .logs()
        .into_iter()
        .map(|name| json!({ "binding": name, "on": store::open(env, &name).is_some() }))
        .collect();
    let event_log = if store::open(env, config::binding::EVENT_LOG).is_some() {
        "on"
    } else {
        "off"
    };
    let body = json!({
        "up": true,
        "ok": problems.is_empty(),
        "sources": cfg.sources.keys().collect::<Vec<_>>(),
        "destinations": cfg.destinations.keys().collect::<Vec<_>>(),
        "problems": problems,
        "eventLog": event_log,
        "logs": logs,
        "adminApi": "on",
        "dedup": if event_log == "on" {
            json!({ "by": "the event log (D1)" })
        } else {
            json!({
                "by": "KV marks",
                "marksFailedInThisIsolate": tally::marks_failed(),
                "note": "without the event log, a mark KV could not write (KV's Free plan takes 1,000 writes a day) lets a sender's retry of that event through: destinations should stay idempotent on webhook-id",
            })
        },
    });
    json(if problems.is_empty() { 200 } else { 500 }, &body, true)
}
