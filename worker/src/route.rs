//! Routing: each event's envelope, and the destinations whose routes take it. No I/O: a
//! filter reads the event as delivered, with `source` and `receivedAt` added.

use hookseal::{Document, Event};

use crate::config::Source;
use crate::failure::Failure;
use crate::outbound;

/// KV's value limit (25 MiB), less a margin: a larger envelope cannot be kept.
const STORED_MAX_BYTES: usize = 25 * 1024 * 1024 - 64 * 1024;

/// An event on its way: its envelope, and the destinations its routes chose.
pub struct Routed {
    pub event: Event,
    pub envelope: String,
    pub routes: Vec<String>,
}

impl Routed {
    /// A bit for each destination it owes a first attempt to.
    pub fn owed(&self) -> u64 {
        (0..self.routes.len()).fold(0, |bits, i| bits | (1u64 << i))
    }
}

/// Each event's envelope and the destinations whose routes take it: every route without a
/// filter, and those whose filter matches the event (with `source` and `receivedAt`).
pub fn route(src: &Source, events: Vec<Event>, now: u64) -> Result<Vec<Routed>, Failure> {
    let filtered = src.routes.iter().any(|r| r.filter.is_some());
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let envelope = event.to_json();
        if envelope.len() > STORED_MAX_BYTES {
            return Err(Failure::new(
                "event_too_large",
                format!(
                    "an event's envelope is {} bytes, more than can be stored ({STORED_MAX_BYTES})",
                    envelope.len()
                ),
            ));
        }
        let routes = if filtered {
            let ctx = outbound::context(&src.name, now, &envelope);
            let doc = Document::parse(&ctx).map_err(Failure::config)?;
            src.routes
                .iter()
                .filter(|r| r.filter.as_ref().is_none_or(|f| f.matches(&doc)))
                .map(|r| r.to.clone())
                .collect()
        } else {
            src.routes.iter().map(|r| r.to.clone()).collect()
        };
        out.push(Routed {
            event,
            envelope,
            routes,
        });
    }
    Ok(out)
}
