//! Reading a request's raw body within a limit, without ever holding more than the limit.

use futures_util::StreamExt;
use worker::Request;

use crate::failure::Failure;

/// A sender still writing an oversized body is read on (and the rest dropped) up to this many
/// times the limit before the answer: closing the connection instead of answering `413` would
/// have it retry for a day.
const DRAIN_FACTOR: u64 = 16;

/// The body, at most `max` bytes: `413 body_too_large` past that, `400 unreadable_body` when the
/// stream fails.
pub async fn read(req: &mut Request, max: u64) -> Result<Vec<u8>, Failure> {
    let too_large = || {
        Failure::new(
            "body_too_large",
            format!("the body is larger than {max} bytes"),
        )
    };
    let unreadable =
        |e: worker::Error| Failure::new("unreadable_body", "the body stream failed").detail(e);
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<u64>().ok());
    // A declared length within the limit (most deliveries): the body in one read, not chunk by
    // chunk through a stream (each chunk a trip across the boundary).
    if let Some(n) = declared
        && n <= max
    {
        let body = req.bytes().await.map_err(unreadable)?;
        return if body.len() as u64 > max {
            Err(too_large())
        } else {
            Ok(body)
        };
    }
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new()); // no body at all
    };
    let mut body = Vec::new();
    let mut seen: u64 = 0;
    let mut over = declared.is_some_and(|n| n > max);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(unreadable)?;
        seen += chunk.len() as u64;
        if over || seen > max {
            over = true;
            if seen > max.saturating_mul(DRAIN_FACTOR) {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    if over { Err(too_large()) } else { Ok(body) }
}
