//! `GET /webhooks/{source}`: Meta's verification handshake
//! (`?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`), for sources with a `verifyToken`.

use serde_json::json;
use worker::Request;

use crate::config::Config;
use crate::failure::Failure;
use crate::log;

/// The challenge to echo, or why not.
pub fn answer(req: &Request, cfg: &Config, name: &str) -> Result<String, Failure> {
    let src = match cfg.source(name) {
        Some(Ok(s)) => s,
        Some(Err(e)) => return Err(Failure::config(e)),
        None => return Err(Failure::new("unknown_source", "no source of this name")),
    };
    let Some(token) = src.verify_token.as_deref() else {
        return Err(Failure::new(
            "no_handshake",
            "this source has no verifyToken",
        ));
    };
    let url = req
        .url()
        .map_err(|e| Failure::new("not_found", "no such route").detail(e))?;
    let param = |k: &str| {
        url.query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    let (mode, given, challenge) = (
        param("hub.mode"),
        param("hub.verify_token"),
        param("hub.challenge"),
    );
    let result = hookseal::meta_handshake(
        mode.as_deref(),
        given.as_deref(),
        challenge.as_deref(),
        token,
    );
    log::line(
        "handshake",
        json!({ "source": name, "outcome": if result.is_ok() { "answered" } else { "refused" } }),
    );
    result
        .map(str::to_owned)
        .map_err(|e| Failure::new(e.code(), e.to_string()))
}
