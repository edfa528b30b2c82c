//! The wire format of the queues, and sending within their limits.
//!
//! The `EVENTS` queue carries [`Job`]s for this Worker's consumer, tagged by `kind`:
//!
//! | kind | fields | sent by |
//! |---|---|---|
//! | `first` | `log`, `ids`, `lease` | ingest (a bulk body, media to archive) and the sweep (a first attempt whose claim lapsed): attempt each event's owed deliveries |
//! | `retry` | `log`, `id`, `destination`, `attempt` | a failed attempt: the next one, with a delay |
//! | `carry` | the event itself (`source`, `destination`, `attempt`, `receivedAt`, `horizonFrom`, `dedupKey`, `type`, `event`, `eventRef`) | the event log off: each event travels to each destination in its message |
//! | `mark` | `keys`, `at` | the event log off, a body of more events than one invocation may mark: write their dedup marks |
//!
//! The `DEAD_LETTER` queue carries `{"kind":"dead","reason","at","job"}`; the consumer records
//! each (the log's delivery goes `dead`; without the log, KV keeps the letter). The consumer
//! dispatches on a message's shape, never on the queue's name, so a renamed queue cannot make
//! letters go round: a `dead` letter is recorded, never sent on.
//!
//! The `OUTBOX` queue carries [`OutboxMessage`] for the user's own consumer.

use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use worker::{Env, QueueContentType, RawMessageBuilder, Result};

use crate::fields::Fields;

/// Cloudflare Queues' limits: 100 messages and 256 KB per `sendBatch`, 128 KB per message. The
/// sizes below are estimates of a message's serialized size (see [`wire_size`]) with a margin.
const BATCH_MAX_MESSAGES: usize = 100;
const BATCH_MAX_BYTES: usize = 240_000;
/// An envelope larger than this does not travel in a message: it is stored and named.
pub const INLINE_MAX_BYTES: usize = 100_000;
/// Events per `first` job: what one consumer invocation attempts for it.
pub const FIRST_PER_JOB: usize = 20;
/// Dedup marks per `mark` job (KV writes one consumer invocation makes for it).
pub const MARKS_PER_JOB: usize = 100;

/// What this Worker's consumer is asked to do.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Job {
    /// Attempt the owed first deliveries of these logged events, still held by the claim that
    /// sent the job (`lease`: the claim's end, as the events' rows hold it; an event claimed
    /// again since is left to its newer job).
    First {
        log: String,
        ids: Vec<i64>,
        lease: u64,
    },
    /// The next attempt of one logged delivery (`attempt`: the attempt to make, 1-based).
    Retry {
        log: String,
        id: i64,
        destination: String,
        attempt: u32,
    },
    /// The event log off: the event itself, to one destination.
    Carry(Carried),
    /// The event log off: the dedup marks of events already on their way, written by the
    /// consumer because their body had more events than one invocation may mark (`at`: when
    /// they were received, the marks' value).
    Mark { keys: Vec<String>, at: u64 },
    /// A delivery that cannot succeed: recorded as dead.
    Dead {
        reason: String,
        at: u64,
        job: Box<Job>,
    },
}

/// An event travelling in its message (the event log off).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Carried {
    pub source: String,
    pub destination: String,
    /// The attempt to make, 1-based.
    pub attempt: u32,
    pub received_at: u64,
    /// When the delivery horizon started: the receipt, or the last replay.
    pub horizon_from: u64,
    pub dedup_key: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// The envelope's JSON text; empty when it is stored in KV under `event_ref`.
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ref: Option<String>,
}

/// What the `OUTBOX` queue carries: an event for your own consumer. `event` is the envelope's
/// JSON text; a large one is stored in KV under `eventRef` and `event` is empty.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OutboxMessage {
    pub source: String,
    pub attempt: u32,
    pub received_at: u64,
    pub dedup_key: String,
    #[serde(rename = "type")]
    pub event_type: String,
    pub event: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_ref: Option<String>,
    /// The event's row in the event log, when the log is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<i64>,
}

/// A message as it goes on a queue. One that carries an envelope (JSON text, often a few KB)
/// is written without it, and the envelope is set on the message's JS object as a string:
/// the same object as if it had been in the JSON, without escaping it into the JSON and parsing
/// it out again (for a body of 1,000 events, most of the time spent sending them).
pub trait Wire: Serialize + Sized {
    /// The message without its envelope, and the envelope; `None` when it carries none.
    fn split(&self) -> Option<(Self, &str)> {
        None
    }
}

impl Carried {
    /// The same event, its envelope left empty. (Every field is named, so that one added later
    /// cannot be left out of the message without a compile error.)
    fn head(&self) -> Self {
        let Self {
            source,
            destination,
            attempt,
            received_at,
            horizon_from,
            dedup_key,
            event_type,
            event: _,
            event_ref,
        } = self;
        Self {
            source: source.clone(),
            destination: destination.clone(),
            attempt: *attempt,
            received_at: *received_at,
            horizon_from: *horizon_from,
            dedup_key: dedup_key.clone(),
            event_type: event_type.clone(),
            event: String::new(),
            event_ref: event_ref.clone(),
        }
    }
}

impl OutboxMessage {
    /// The same message, its envelope left empty (every field named, as in [`Carried::head`]).
    fn head(&self) -> Self {
        let Self {
            source,
            attempt,
            received_at,
            dedup_key,
            event_type,
            event: _,
            event_ref,
            log_id,
        } = self;
        Self {
            source: source.clone(),
            attempt: *attempt,
            received_at: *received_at,
            dedup_key: dedup_key.clone(),
            event_type: event_type.clone(),
            event: String::new(),
            event_ref: event_ref.clone(),
            log_id: *log_id,
        }
    }
}

impl Wire for Job {
    fn split(&self) -> Option<(Self, &str)> {
        match self {
            Self::Carry(c) if !c.event.is_empty() => Some((Self::Carry(c.head()), &c.event)),
            _ => None,
        }
    }
}

impl Wire for OutboxMessage {
    fn split(&self) -> Option<(Self, &str)> {
        (!self.event.is_empty()).then(|| (self.head(), self.event.as_str()))
    }
}

impl Job {
    /// A job from a message body: this version's, or an earlier version's (one message per
    /// event, no `kind`: read during an upgrade, so that nothing in flight is lost).
    pub fn from_js(body: &JsValue) -> std::result::Result<Self, String> {
        let text = js_sys::JSON::stringify(body)
            .ok()
            .and_then(|s| s.as_string())
            .ok_or_else(|| "not a hookseal message: not JSON".to_owned())?;
        let value: Value =
            serde_json::from_str(&text).map_err(|e| format!("not a hookseal message: {e}"))?;
        Self::from_value(&value).map_err(|e| format!("not a hookseal message: {e}"))
    }

    /// A job from a message's JSON (tagged by `kind`, see the table above; a derived
    /// `Deserialize` would bring serde's buffering of tagged enums, about 28 KB of wasm).
    pub fn from_value(v: &Value) -> std::result::Result<Self, String> {
        let f = Fields::of(v)?;
        let Some(kind) = f.opt("kind") else {
            return Self::legacy(&f);
        };
        Ok(match kind.as_str().unwrap_or_default() {
            "first" => Self::First {
                log: f.text("log")?,
                ids: f.list("ids", Value::as_i64)?,
                lease: f.int("lease")?,
            },
            "retry" => Self::Retry {
                log: f.text("log")?,
                id: f.int("id")?,
                destination: f.text("destination")?,
                attempt: f.int("attempt")?,
            },
            "carry" => Self::Carry(Carried {
                source: f.text("source")?,
                destination: f.text("destination")?,
                attempt: f.int("attempt")?,
                received_at: f.int("receivedAt")?,
                horizon_from: f.int("horizonFrom")?,
                dedup_key: f.text("dedupKey")?,
                event_type: f.text("type")?,
                event: f.text("event")?,
                event_ref: f.opt_text("eventRef")?,
            }),
            "mark" => Self::Mark {
                keys: f.list("keys", |k| k.as_str().map(str::to_owned))?,
                at: f.int("at")?,
            },
            "dead" => Self::Dead {
                reason: f.text("reason")?,
                at: f.int("at")?,
                job: Box::new(Self::from_value(f.opt("job").unwrap_or(&Value::Null))?),
            },
            other => return Err(format!("unknown kind `{other}`")),
        })
    }

    /// The message an earlier version put on `EVENTS`; its destination was named after its
    /// source.
    fn legacy(f: &Fields<'_>) -> std::result::Result<Self, String> {
        let source = f.text("source")?;
        let attempt = f.int::<u32>("attempt")?.saturating_add(1);
        Ok(match f.opt_int("logId")? {
            Some(id) => Self::Retry {
                log: crate::config::binding::EVENT_LOG.to_owned(),
                id,
                destination: source,
                attempt,
            },
            None => {
                let received_at = f.int("receivedAt")?;
                Self::Carry(Carried {
                    destination: source.clone(),
                    source,
                    attempt,
                    received_at,
                    horizon_from: f.opt_int("horizonFrom")?.unwrap_or(received_at),
                    dedup_key: f.text("dedupKey")?,
                    event_type: f.text("type")?,
                    event: f.text("event")?,
                    event_ref: f.opt_text("eventRef")?,
                })
            }
        })
    }
}

/// A conservative estimate of a message's size on the queue: V8 serializes a string one byte a
/// character when it is Latin-1, else two bytes a UTF-16 unit (at most two per UTF-8 byte).
fn wire_size(text_len: usize, ascii: bool) -> usize {
    96 + if ascii { text_len } else { 2 * text_len }
}

/// Sends `messages` to `queue` in chunks within Queues' limits, after `delay` seconds. Returns how many of the first messages were sent (a prefix: the chunks go
/// in order and the first failure stops it), and that failure.
pub async fn send<T: Wire>(
    env: &Env,
    queue: &str,
    messages: &[T],
    delay: Option<u32>,
) -> (usize, Option<String>) {
    let q = match env.queue(queue) {
        Ok(q) => q,
        Err(e) => return (0, Some(e.to_string())),
    };
    let build = |body: JsValue| {
        let b = RawMessageBuilder::new(body);
        match delay {
            Some(d) => b.delay_seconds(d),
            None => b,
        }
        .build_with_content_type(QueueContentType::V8)
    };
    let (chunks, unwritable) = chunked(messages);
    let mut sent = 0;
    for mut chunk in chunks {
        let n = chunk.len();
        let result = if n == 1 {
            // One message: a plain send, the cheapest call.
            match chunk.pop() {
                Some(one) => q.send_raw(build(one)).await,
                None => Ok(()),
            }
        } else {
            q.send_raw_batch(chunk.into_iter().map(build).collect::<Vec<_>>())
                .await
        };
        if let Err(e) = result {
            return (sent, Some(e.to_string()));
        }
        sent += n;
    }
    (sent, unwritable)
}

/// The messages as JS values, in chunks within Queues' batch limits (messages and bytes); up to
/// the first that cannot be written, with why. Each message is written as JSON once (its size
/// is its text's and its envelope's), and each chunk becomes JS values in one `JSON.parse`:
/// plain objects (a serde map would become a JS `Map`, which the queue's structured clone
/// empties), and one crossing a chunk, not one a message, but for the envelopes set on them.
fn chunked<T: Wire>(messages: &[T]) -> (Vec<Vec<JsValue>>, Option<String>) {
    let mut chunks = Vec::new();
    let mut open = Chunk::default();
    let mut failure = None;
    for m in messages {
        let split = m.split();
        let written = match &split {
            Some((head, _)) => serde_json::to_string(head),
            None => serde_json::to_string(m),
        };
        let text = match written {
            Ok(t) => t,
            Err(e) => {
                failure = Some(format!("queue message: {e}"));
                break;
            }
        };
        let envelope = split.map(|(_, e)| e);
        let envelope_len = envelope.map_or(0, str::len);
        let ascii = text.is_ascii() && envelope.is_none_or(str::is_ascii);
        let size = wire_size(text.len() + envelope_len, ascii);
        if open.n > 0 && (open.n >= BATCH_MAX_MESSAGES || open.bytes + size > BATCH_MAX_BYTES) {
            chunks.push(std::mem::take(&mut open));
        }
        open.push(&text, envelope, size);
    }
    if open.n > 0 {
        chunks.push(open);
    }
    let mut out = Vec::with_capacity(chunks.len());
    for c in chunks {
        match c.values() {
            Ok(v) => out.push(v),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, failure)
}

/// A chunk of messages as one JSON array's text, and the envelopes to set on them.
#[derive(Default)]
struct Chunk<'a> {
    text: String,
    envelopes: Vec<(usize, &'a str)>,
    n: usize,
    bytes: usize,
}

impl<'a> Chunk<'a> {
    fn push(&mut self, message: &str, envelope: Option<&'a str>, size: usize) {
        self.text.push(if self.n == 0 { '[' } else { ',' });
        self.text.push_str(message);
        if let Some(e) = envelope {
            self.envelopes.push((self.n, e));
        }
        self.n += 1;
        self.bytes += size;
    }

    fn values(mut self) -> std::result::Result<Vec<JsValue>, String> {
        self.text.push(']');
        let array: js_sys::Array = js_sys::JSON::parse(&self.text)
            .map_err(|e| format!("queue message: {e:?}"))?
            .dyn_into()
            .map_err(|_| "queue message: not an array".to_owned())?;
        let event = JsValue::from_str("event");
        for (i, envelope) in self.envelopes {
            let set = u32::try_from(i).ok().and_then(|i| {
                js_sys::Reflect::set(&array.get(i), &event, &JsValue::from_str(envelope)).ok()
            });
            if set != Some(true) {
                return Err("queue message: its envelope could not be set".to_owned());
            }
        }
        Ok(array.iter().collect())
    }
}

/// `first` jobs for these events' owed first attempts, [`FIRST_PER_JOB`] events a job, holding
/// the claim `lease`.
pub fn first_jobs(log: &str, ids: &[i64], lease: u64) -> Vec<Job> {
    ids.chunks(FIRST_PER_JOB)
        .map(|c| Job::First {
            log: log.to_owned(),
            ids: c.to_vec(),
            lease,
        })
        .collect()
}

/// Sends one message, after `delay` seconds.
pub async fn send_one<T: Wire>(
    env: &Env,
    queue: &str,
    message: &T,
    delay: Option<u32>,
) -> Result<()> {
    match send(env, queue, std::slice::from_ref(message), delay).await {
        (1, _) => Ok(()),
        (_, e) => Err(worker::Error::RustError(
            e.unwrap_or_else(|| "not sent".to_owned()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_read_back_as_written() {
        let job = Job::Retry {
            log: "EVENT_LOG".into(),
            id: 7,
            destination: "crm".into(),
            attempt: 2,
        };
        let text = serde_json::to_string(&job).unwrap();
        assert_eq!(
            text,
            r#"{"kind":"retry","log":"EVENT_LOG","id":7,"destination":"crm","attempt":2}"#
        );
        assert_eq!(read(&text), Ok(job.clone()));
        let dead = Job::Dead {
            reason: "HTTP 410".into(),
            at: 1,
            job: Box::new(job),
        };
        let text = serde_json::to_string(&dead).unwrap();
        assert!(
            text.starts_with(r#"{"kind":"dead","reason":"HTTP 410","at":1,"job":{"kind":"retry""#),
            "{text}"
        );
    }

    fn read(text: &str) -> Result<Job, String> {
        Job::from_value(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn every_kind_reads_back_as_written() {
        let carried = Carried {
            source: "moltflow".into(),
            destination: "crm".into(),
            attempt: 3,
            received_at: 1_700_000_000_000,
            horizon_from: 1_700_000_000_500,
            dedup_key: "moltflow:abc".into(),
            event_type: "message.received".into(),
            event: r#"{"a":1}"#.into(),
            event_ref: Some("hookseal:event:x".into()),
        };
        let jobs = [
            Job::First {
                log: "EVENT_LOG".into(),
                ids: vec![1, 2, 9_007_199_254_740_991],
                lease: 5,
            },
            Job::Carry(carried.clone()),
            Job::Carry(Carried {
                event_ref: None,
                ..carried
            }),
            Job::Mark {
                keys: vec!["k1".into(), "k2".into()],
                at: 7,
            },
            Job::Dead {
                reason: "HTTP 410".into(),
                at: 1,
                job: Box::new(Job::Mark {
                    keys: vec![],
                    at: 0,
                }),
            },
        ];
        for job in jobs {
            let text = serde_json::to_string(&job).unwrap();
            assert_eq!(read(&text), Ok(job), "{text}");
        }
    }

    #[test]
    fn an_earlier_versions_message_reads_as_its_next_attempt() {
        let logged = r#"{"source":"moltflow","attempt":1,"receivedAt":5,"dedupKey":"k",
            "type":"message.received","event":"","logId":42}"#;
        assert_eq!(
            read(logged),
            Ok(Job::Retry {
                log: crate::config::binding::EVENT_LOG.into(),
                id: 42,
                destination: "moltflow".into(),
                attempt: 2,
            })
        );
        let carried = r#"{"source":"moltflow","attempt":2,"receivedAt":5,"dedupKey":"k",
            "type":"message.received","event":"{}"}"#;
        assert_eq!(
            read(carried),
            Ok(Job::Carry(Carried {
                source: "moltflow".into(),
                destination: "moltflow".into(),
                attempt: 3,
                received_at: 5,
                horizon_from: 5,
                dedup_key: "k".into(),
                event_type: "message.received".into(),
                event: "{}".into(),
                event_ref: None,
            }))
        );
    }

    #[test]
    fn a_foreign_message_is_refused_with_why() {
        for (text, why) in [
            (r#""hello""#, "not an object"),
            (r#"{"kind":"explode"}"#, "unknown kind `explode`"),
            (
                r#"{"kind":"retry","log":"L","id":"7","destination":"d","attempt":1}"#,
                "`id`",
            ),
            (
                r#"{"kind":"first","log":"L","ids":[1,"2"],"lease":1}"#,
                "`ids`",
            ),
            (r#"{"kind":"mark","keys":["a"],"at":-1}"#, "`at`"),
            (r#"{"kind":"dead","reason":"r","at":1}"#, "not an object"),
            (r#"{"hello":"world"}"#, "`source`"),
        ] {
            let e = read(text).unwrap_err();
            assert!(e.contains(why), "{text}: {e}");
        }
    }

    #[test]
    fn a_message_split_from_its_envelope_is_the_same_message_once_it_is_set_back() {
        let carried = Carried {
            source: "meta".into(),
            destination: "crm".into(),
            attempt: 1,
            received_at: 5,
            horizon_from: 5,
            dedup_key: "meta:wamid.1".into(),
            event_type: "message.status".into(),
            event: r#"{"type":"message.status","text":"a \"quoted\" café"}"#.into(),
            event_ref: Some("hookseal:event:y".into()),
        };
        let outbox = OutboxMessage {
            source: "meta".into(),
            attempt: 0,
            received_at: 5,
            dedup_key: "meta:wamid.1".into(),
            event_type: "message.status".into(),
            event: carried.event.clone(),
            event_ref: None,
            log_id: Some(3),
        };
        fn joined<T: Wire>(m: &T) -> serde_json::Value {
            let (head, envelope) = m.split().unwrap();
            let mut v = serde_json::to_value(&head).unwrap();
            assert_eq!(v["event"], "", "the head carries no envelope");
            v["event"] = envelope.into();
            v
        }
        let job = Job::Carry(carried);
        assert_eq!(joined(&job), serde_json::to_value(&job).unwrap());
        assert_eq!(joined(&outbox), serde_json::to_value(&outbox).unwrap());
        // Nothing to split: a job without an envelope, a large event stored under its ref.
        assert!(
            Job::Mark {
                keys: vec![],
                at: 0
            }
            .split()
            .is_none()
        );
        let stored = OutboxMessage {
            event: String::new(),
            event_ref: Some("hookseal:event:x".into()),
            ..outbox
        };
        assert!(stored.split().is_none());
    }

    #[test]
    fn sizes_count_non_ascii_double() {
        assert_eq!(wire_size(10, true) + 10, wire_size(10, false));
    }
}
