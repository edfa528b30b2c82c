//! Every setting, read from the Worker's vars and secrets once per isolate and validated then:
//! the scalar settings, `SOURCES` (with their routes and filters) and `DESTINATIONS`. A source or
//! destination that cannot work carries its problem, reported at its requests, in the log and on
//! `/health`, while every other keeps working. A misspelt key in a table is a problem, never
//! ignored; a var whose name is one or two letters from a setting's is reported as a likely typo.
//!
//! A Worker isolate's vars and secrets cannot change while it lives (a deployment or a new secret
//! starts new isolates), so the parsed configuration, the verifiers with their keyed HMAC states,
//! and the delivery signers are built once and serve every request.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use hookseal::{Filter, Scheme, SignInput, Signer, Template, Tolerance, Verifier};
use serde_json::Value;

use crate::fields::{Fields, distance};
use worker::Env;

use crate::log::Level;

/// Binding names, as declared in `wrangler.toml`.
pub mod binding {
    /// KV: dedup marks (event log off), large envelopes, dead letters (log off), alert gates.
    pub const KV: &str = "DEDUP";
    /// The queue this Worker consumes: first attempts of bulk events, retries, carried events.
    pub const EVENTS: &str = "EVENTS";
    /// Events for the user's own consumer (the `outbox` destination).
    pub const OUTBOX: &str = "OUTBOX";
    /// Where deliveries that cannot succeed go, with the reason; consumed by this Worker.
    pub const DEAD_LETTER: &str = "DEAD_LETTER";
    /// The D1 event log (optional). A source may name another (`log`).
    pub const EVENT_LOG: &str = "EVENT_LOG";
    /// The Rate Limiting binding that throttles failed admin sign-ins (optional).
    pub const ADMIN_LIMIT: &str = "ADMIN_LIMIT";
    /// The R2 bucket media is archived into (optional).
    pub const MEDIA: &str = "MEDIA";
    /// The Durable Objects that gate each destination (optional: pace, breaker, pause, order).
    pub const GATE: &str = "GATE";
}

/// Secrets the Worker reads by these names.
pub mod secret_name {
    /// Opens the admin API: at least [`super::ADMIN_TOKEN_MIN`] characters.
    pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
    /// Signs deliveries (Standard Webhooks, `whsec_…`) unless a destination names its own.
    pub const DELIVERY_SECRET: &str = "DELIVERY_SECRET";
    /// Signs alerts to `ALERT_URL` (its own key: whoever verifies alerts cannot forge deliveries).
    pub const ALERT_SECRET: &str = "ALERT_SECRET";
    /// Signs the media links the Worker serves.
    pub const MEDIA_LINK_SECRET: &str = "MEDIA_LINK_SECRET";
}

/// The admin API stays closed with a shorter token.
pub const ADMIN_TOKEN_MIN: usize = 32;
/// The destination that puts events on the `OUTBOX` queue; a source without routes uses it.
pub const OUTBOX: &str = "outbox";
/// Routes per source at most (each a bit of the event's row).
pub const MAX_ROUTES: usize = 32;

/// Every scalar setting, with what it is.
const SETTINGS: &[&str] = &[
    "SOURCES",
    "DESTINATIONS",
    "MAX_BODY_BYTES",
    "DEDUP_TTL_SECONDS",
    "DELIVERY_BACKOFF_SECONDS",
    "DELIVERY_MAX_DELAY_SECONDS",
    "DELIVERY_HORIZON_SECONDS",
    "DELIVERY_MAX_ATTEMPTS",
    "DELIVERY_TIMEOUT_SECONDS",
    "EVENT_RETENTION_DAYS",
    "ALERT_URL",
    "ALERT_INTERVAL_SECONDS",
    "LOG_LEVEL",
    "LEASE_SECONDS",
    "JOB_LEASE_SECONDS",
    "INLINE_DELIVERIES",
    "DEAD_LETTER_KV_DAYS",
    "MEDIA_LINK_SECONDS",
    "PUBLIC_URL",
    secret_name::ADMIN_TOKEN,
    secret_name::DELIVERY_SECRET,
    secret_name::ALERT_SECRET,
    secret_name::MEDIA_LINK_SECRET,
];

/// A configuration problem, reported at the request (as a code), in the log and on `/health`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl ConfigError {
    fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

impl core::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The retry schedule of a destination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// The first retry's delay; each next one doubles, up to `max_delay`.
    pub backoff: u64,
    pub max_delay: u64,
    /// Attempts go on until this long after receipt (or the last replay).
    pub horizon: u64,
    /// An optional cap on attempts, on top of the horizon.
    pub max_attempts: Option<u64>,
}

/// Queues delay a message by at most 12 h.
const QUEUES_MAX_DELAY: u64 = 12 * 3600;

impl Default for Schedule {
    fn default() -> Self {
        Self {
            backoff: 60,
            max_delay: 6 * 3600,
            horizon: 26 * 3600,
            max_attempts: None,
        }
    }
}

impl Schedule {
    /// The delay before the attempt after `attempts_made` failed ones, or `None` when the
    /// horizon (`elapsed` seconds since it started) or the attempt cap is reached.
    pub fn next_delay(&self, attempts_made: u32, elapsed: u64) -> Option<u64> {
        if elapsed >= self.horizon {
            return None;
        }
        if self
            .max_attempts
            .is_some_and(|max| u64::from(attempts_made) >= max)
        {
            return None;
        }
        let exp = attempts_made.saturating_sub(1).min(30);
        Some(self.backoff.saturating_mul(1u64 << exp).min(self.max_delay))
    }
}

/// The Worker's scalar settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub log_level: Level,
    /// `MAX_BODY_BYTES`, when set (otherwise each scheme's documented maximum).
    pub max_body: Option<u64>,
    /// How long a dedup mark lives in KV (the event log off).
    pub dedup_ttl: u64,
    /// The default retry schedule (`DELIVERY_*`).
    pub schedule: Schedule,
    /// `DELIVERY_TIMEOUT_SECONDS`: how long an attempt may take by default.
    pub timeout: u64,
    pub retention_days: u64,
    pub alert_url: Option<String>,
    pub alert_interval: u64,
    /// How long a first attempt after the answer holds its claim before the sweep takes it, ms.
    pub lease_ms: u64,
    /// How long work handed to the queue holds its claim (its attempts may take a destination's
    /// whole timeout, its media a download), ms.
    pub job_lease_ms: u64,
    /// How many deliveries a request attempts itself after answering; more go to the queue.
    pub inline_deliveries: usize,
    /// How long a dead letter is kept in KV when the event log is off, seconds.
    pub dead_letter_kv_ttl: u64,
    /// How long a media link the Worker mints stays valid, seconds.
    pub media_link_seconds: u64,
    /// `PUBLIC_URL`: the Worker's own origin, for the media links it writes into deliveries.
    pub public_url: Option<String>,
}

/// A header a destination gets, its value literal or from a secret.
pub struct HeaderValue {
    pub name: String,
    /// The value, resolved from its secret when the configuration was read.
    pub value: String,
}

/// How a destination wants its body.
pub enum Kind {
    /// The delivery body `{"source","receivedAt","attempt","event"}`, signed with Standard
    /// Webhooks.
    Webhook { signer: Box<Signer> },
    /// A Slack incoming webhook's `{"text", "blocks"}`.
    Slack,
    /// A JSON template rendered from the event.
    Template(Box<Template>),
    /// The `OUTBOX` queue, for the user's own consumer.
    Outbox,
}

impl Kind {
    pub const fn name(&self) -> &'static str {
        match self {
            Self::Webhook { .. } => "webhook",
            Self::Slack => "slack",
            Self::Template(_) => "template",
            Self::Outbox => "outbox",
        }
    }
}

/// One destination, ready to deliver to. Holds secrets (its URL may be one): it has no `Debug`.
pub struct Destination {
    pub kind: Kind,
    /// Resolved from its secret when the configuration was read; empty for the outbox.
    pub url: String,
    pub headers: Vec<HeaderValue>,
    /// Seconds an attempt may take.
    pub timeout: u64,
    pub schedule: Schedule,
    /// Its pace and health, kept by its gate (a Durable Object) when `GATE` is bound.
    pub protect: Protection,
}

/// How a destination protects itself (`rate`, `maxInFlight`, `breakAfter`, `orderBy`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protection {
    /// At most `count` attempts started per `per_ms`.
    pub rate: Option<Rate>,
    /// Attempts in flight at once.
    pub max_in_flight: u32,
    /// Consecutive failures that open the circuit breaker.
    pub break_after: u32,
    /// The event path whose value is a conversation: one delivery of each in flight, in order.
    pub order_by: Option<String>,
    /// How long an open breaker waits before its first probe.
    pub probe_seconds: u64,
}

impl Default for Protection {
    fn default() -> Self {
        Self {
            rate: None,
            max_in_flight: 8,
            break_after: 10,
            order_by: None,
            probe_seconds: 30,
        }
    }
}

/// A rate: `count` per `per_ms` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub per_ms: u64,
}

impl Rate {
    /// `20/s`, `100/min`, `1000/h` (also `second`, `minute`, `hour`).
    pub fn parse(text: &str) -> Option<Self> {
        let (count, unit) = text.trim().split_once('/')?;
        let count: u32 = count.trim().parse().ok().filter(|n| *n > 0)?;
        let per_ms = match unit.trim() {
            "s" | "sec" | "second" => 1000,
            "min" | "minute" => 60_000,
            "h" | "hour" => 3_600_000,
            _ => return None,
        };
        Some(Self { count, per_ms })
    }

    /// As written: `20/s`.
    pub fn shown(&self) -> String {
        let unit = match self.per_ms {
            1000 => "s",
            60_000 => "min",
            _ => "h",
        };
        format!("{}/{unit}", self.count)
    }
}

impl Destination {
    /// What may be shown of the URL: its scheme and host.
    pub fn shown_url(&self) -> String {
        if self.url.is_empty() {
            "the OUTBOX queue".to_owned()
        } else {
            crate::redact::url(&self.url)
        }
    }
}

/// One route of a source: a destination, and the filter an event must match to take it.
pub struct Route {
    pub to: String,
    pub filter: Option<Filter>,
}

/// How a source archives media (`media = { … }`).
#[derive(Clone)]
pub struct Media {
    /// The provider's credential, resolved from its secret: Meta's access token (a bearer),
    /// Twilio's auth token (the source's own unless named), any other's bearer token.
    pub access_token: Option<String>,
    pub graph_url: String,
    /// Origins media may be fetched from (`https://host`): `hosts`, or the provider's own.
    pub hosts: Vec<String>,
    pub max_bytes: u64,
    /// Whether an event goes dead when its media cannot be archived.
    pub required: bool,
}

impl core::fmt::Debug for Media {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Media")
            .field("graph_url", &self.graph_url)
            .field("hosts", &self.hosts)
            .field("max_bytes", &self.max_bytes)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

/// The key media links are signed with (`MEDIA_LINK_SECRET`), and where they point.
pub struct MediaLinks {
    pub secret: String,
    /// `PUBLIC_URL`, without a trailing `/`.
    pub base: String,
    pub seconds: u64,
}

/// A source ready to verify and route.
pub struct Source {
    pub name: String,
    pub verifier: Verifier,
    /// The Meta handshake's verify token, resolved from its secret.
    pub verify_token: Option<String>,
    pub max_body: Option<u64>,
    /// In order; a source without routes has one, to the outbox.
    pub routes: Vec<Route>,
    /// The D1 binding of its event log.
    pub log: String,
    /// How it archives media into R2, when it does.
    pub media: Option<Media>,
}

/// The whole configuration.
pub struct Config {
    pub settings: Settings,
    /// Each source, or why it cannot work.
    pub sources: BTreeMap<String, Result<Rc<Source>, ConfigError>>,
    /// Each destination, or why it cannot work.
    pub destinations: BTreeMap<String, Result<Rc<Destination>, ConfigError>>,
    /// Problems of the whole configuration that stop nothing (a likely typo in a var's name).
    pub warnings: Vec<String>,
    /// The admin token, when it is set and long enough.
    pub admin_token: Result<String, String>,
    /// Where dead letters are announced (`ALERT_URL`, signed with `ALERT_SECRET`), if anywhere.
    pub alert: Option<Rc<Destination>>,
    /// How media links are signed, when `MEDIA_LINK_SECRET` and `PUBLIC_URL` are set.
    pub media_links: Option<MediaLinks>,
}

impl Config {
    /// The source `name`: `None` if there is none; its problem if it cannot work.
    pub fn source(&self, name: &str) -> Option<Result<Rc<Source>, ConfigError>> {
        self.sources.get(name).cloned()
    }

    pub fn destination(&self, name: &str) -> Result<Rc<Destination>, ConfigError> {
        self.destinations.get(name).cloned().unwrap_or_else(|| {
            Err(ConfigError::new(format!(
                "destination `{name}` is no longer configured"
            )))
        })
    }

    /// Every problem: the sources', the destinations' and the warnings.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .sources
            .values()
            .filter_map(|s| s.as_ref().err().map(|e| e.0.clone()))
            .collect();
        out.extend(
            self.destinations
                .values()
                .filter_map(|d| d.as_ref().err().map(|e| e.0.clone())),
        );
        out.extend(self.warnings.iter().cloned());
        out
    }

    /// The D1 bindings that hold event logs: `EVENT_LOG` and every source's own.
    pub fn logs(&self) -> Vec<String> {
        let mut out = vec![binding::EVENT_LOG.to_owned()];
        for s in self.sources.values().flatten() {
            if !out.contains(&s.log) {
                out.push(s.log.clone());
            }
        }
        out
    }
}

thread_local! {
    static LOADED: RefCell<Option<Rc<Config>>> = const { RefCell::new(None) };
}

/// The configuration, read on first use in this isolate. `Err` only when nothing can work (the
/// settings or a table is malformed); a broken source or destination is kept as its problem.
pub fn load(env: &Env) -> Result<Rc<Config>, ConfigError> {
    if let Some(c) = LOADED.with(|l| l.borrow().clone()) {
        return Ok(c);
    }
    let config = Rc::new(read(env)?);
    LOADED.with(|l| *l.borrow_mut() = Some(Rc::clone(&config)));
    Ok(config)
}

/// A secret (or var) `name`, if it is set and not empty.
pub fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

/// A var that holds a table (`SOURCES`), as JSON: `None` when unset.
fn table(env: &Env, name: &str) -> Result<Option<Value>, ConfigError> {
    let raw = js_sys::Reflect::get(env.as_ref(), &name.into()).unwrap_or_default();
    if raw.is_undefined() || raw.is_null() {
        return Ok(None);
    }
    let text = js_sys::JSON::stringify(&raw)
        .ok()
        .and_then(|s| s.as_string())
        .ok_or_else(|| ConfigError::new(format!("`{name}` is not a table")))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| ConfigError::new(format!("`{name}` is malformed: {e}")))?;
    if !value.is_object() {
        return Err(ConfigError::new(format!(
            "`{name}` must be a table (`[vars.{name}.<name>]` in wrangler.toml)"
        )));
    }
    Ok(Some(value))
}

/// A whole-number var, or its default when unset.
fn number(env: &Env, name: &str, default: u64) -> Result<u64, ConfigError> {
    match env.var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .to_string()
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(format!("`{name}` must be a whole number"))),
    }
}

fn settings(env: &Env) -> Result<Settings, ConfigError> {
    let d = Schedule::default();
    let max_body = match env.var("MAX_BODY_BYTES") {
        Err(_) => None,
        Ok(_) => Some(number(env, "MAX_BODY_BYTES", 0)?),
    };
    let log_level = match env.var("LOG_LEVEL") {
        Err(_) => Level::Info,
        Ok(v) => Level::parse(&v.to_string())
            .ok_or_else(|| ConfigError::new("`LOG_LEVEL` must be \"info\" or \"warn\""))?,
    };
    Ok(Settings {
        log_level,
        max_body,
        dedup_ttl: number(env, "DEDUP_TTL_SECONDS", 72 * 3600)?.max(60),
        schedule: Schedule {
            backoff: number(env, "DELIVERY_BACKOFF_SECONDS", d.backoff)?,
            max_delay: number(env, "DELIVERY_MAX_DELAY_SECONDS", d.max_delay)?
                .min(QUEUES_MAX_DELAY),
            horizon: number(env, "DELIVERY_HORIZON_SECONDS", d.horizon)?,
            max_attempts: Some(number(env, "DELIVERY_MAX_ATTEMPTS", 0)?).filter(|n| *n > 0),
        },
        timeout: number(env, "DELIVERY_TIMEOUT_SECONDS", 30)?.clamp(1, 900),
        retention_days: number(env, "EVENT_RETENTION_DAYS", 30)?,
        alert_url: secret(env, "ALERT_URL"),
        alert_interval: number(env, "ALERT_INTERVAL_SECONDS", 3600)?.max(60),
        lease_ms: number(env, "LEASE_SECONDS", 60)?.saturating_mul(1000),
        job_lease_ms: number(env, "JOB_LEASE_SECONDS", 960)?.saturating_mul(1000),
        inline_deliveries: usize::try_from(number(env, "INLINE_DELIVERIES", 8)?)
            .unwrap_or(usize::MAX),
        dead_letter_kv_ttl: number(env, "DEAD_LETTER_KV_DAYS", 30)?
            .max(1)
            .saturating_mul(86_400),
        media_link_seconds: number(env, "MEDIA_LINK_SECONDS", 7 * 86_400)?.max(60),
        public_url: secret(env, "PUBLIC_URL").map(|u| u.trim_end_matches('/').to_owned()),
    })
}

fn read(env: &Env) -> Result<Config, ConfigError> {
    let settings = settings(env)?;
    let (sources, destinations) = tables(env, &settings)?;
    let mut warnings = typos(env);
    let alert = match &settings.alert_url {
        None => None,
        Some(url) => match alert(env, &settings, url) {
            Ok(d) => Some(d),
            Err(e) => {
                warnings.push(e.0);
                None
            }
        },
    };
    let media_links = match (
        secret(env, secret_name::MEDIA_LINK_SECRET),
        &settings.public_url,
    ) {
        (Some(secret), Some(base)) => Some(MediaLinks {
            secret,
            base: base.clone(),
            seconds: settings.media_link_seconds,
        }),
        _ => None,
    };
    Ok(Config {
        settings,
        sources,
        destinations,
        warnings,
        admin_token: admin_token(env),
        alert,
        media_links,
    })
}

/// Each source and destination, or its problem (a broken one stops nothing else).
#[allow(clippy::type_complexity)]
fn tables(
    env: &Env,
    settings: &Settings,
) -> Result<
    (
        BTreeMap<String, Result<Rc<Source>, ConfigError>>,
        BTreeMap<String, Result<Rc<Destination>, ConfigError>>,
    ),
    ConfigError,
> {
    let sources_table = table(env, "SOURCES")?.ok_or_else(|| {
        ConfigError::new("`SOURCES` is not set: add `[vars.SOURCES.<name>]` to wrangler.toml")
    })?;
    let mut destinations = BTreeMap::new();
    if let Some(Value::Object(map)) = table(env, "DESTINATIONS")? {
        for (name, v) in &map {
            destinations.insert(name.clone(), destination(env, settings, name, v));
        }
    }
    let mut sources = BTreeMap::new();
    if let Value::Object(map) = &sources_table {
        for (name, v) in map {
            sources.insert(
                name.clone(),
                source(env, settings, name, v, &mut destinations),
            );
        }
    }
    Ok((sources, destinations))
}

/// The admin token, when it is set and long enough; why not otherwise.
fn admin_token(env: &Env) -> Result<String, String> {
    match secret(env, secret_name::ADMIN_TOKEN) {
        None => Err("ADMIN_TOKEN is not set".to_owned()),
        Some(t) if t.chars().count() < ADMIN_TOKEN_MIN => Err(format!(
            "ADMIN_TOKEN has fewer than {ADMIN_TOKEN_MIN} characters: the admin API stays \
             closed (`openssl rand -hex 32` makes a good one)"
        )),
        Some(t) => Ok(t),
    }
}

/// The alert destination: `ALERT_URL`, signed with its own key, `ALERT_SECRET`.
fn alert(env: &Env, settings: &Settings, url: &str) -> Result<Rc<Destination>, ConfigError> {
    let what = "ALERT_URL";
    check_url(url, what)?;
    Ok(Rc::new(Destination {
        kind: Kind::Webhook {
            signer: Box::new(signer(env, secret_name::ALERT_SECRET, what)?),
        },
        url: url.to_owned(),
        headers: Vec::new(),
        timeout: settings.timeout,
        schedule: settings.schedule,
        protect: Protection::default(),
    }))
}

/// Vars whose name is one or two letters from a setting's: almost always a typo, which would
/// otherwise leave the setting at its default without a word.
fn typos(env: &Env) -> Vec<String> {
    let env_obj: &wasm_bindgen::JsValue = env.as_ref();
    let keys = js_sys::Object::keys(&js_sys::Object::from(env_obj.clone()));
    let mut out = Vec::new();
    for k in keys.iter().filter_map(|k| k.as_string()) {
        if SETTINGS.contains(&k.as_str()) || k.len() < 6 {
            continue;
        }
        if let Some(near) = SETTINGS
            .iter()
            .find(|s| distance(s, &k) <= 2 && s.len() > 6)
        {
            out.push(format!(
                "unknown setting `{k}`: did you mean `{near}`? (it is ignored)"
            ));
        }
    }
    out
}

/// A source's settings as written (`SOURCES`).
struct SourceConfig {
    scheme: Value,
    secrets: Vec<String>,
    tolerance: Option<Value>,
    destination: Option<String>,
    delivery_secret: Option<String>,
    verify_token: Option<String>,
    max_body_bytes: Option<u64>,
    routes: Option<Vec<RouteConfig>>,
    log: Option<String>,
    media: Option<MediaConfig>,
}

impl SourceConfig {
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::strict(
            v,
            &[
                "scheme",
                "secrets",
                "tolerance",
                "destination",
                "deliverySecret",
                "verifyToken",
                "maxBodyBytes",
                "routes",
                "log",
                "media",
            ],
        )?;
        Ok(Self {
            scheme: f.get("scheme")?.clone(),
            secrets: f.texts("secrets")?,
            tolerance: f.opt("tolerance").cloned(),
            destination: f.opt_text("destination")?,
            delivery_secret: f.opt_text("deliverySecret")?,
            verify_token: f.opt_text("verifyToken")?,
            max_body_bytes: f.opt_int("maxBodyBytes")?,
            routes: match f.opt("routes") {
                None => None,
                Some(Value::Array(routes)) => Some(
                    routes
                        .iter()
                        .enumerate()
                        .map(|(i, r)| RouteConfig::read(r).map_err(|e| format!("routes[{i}]: {e}")))
                        .collect::<Result<_, _>>()?,
                ),
                Some(_) => return Err("`routes` must be a list".to_owned()),
            },
            log: f.opt_text("log")?,
            media: f
                .opt("media")
                .map(|m| MediaConfig::read(m).map_err(|e| format!("media: {e}")))
                .transpose()?,
        })
    }
}

/// One of a source's routes.
struct RouteConfig {
    to: String,
    filter: Option<Value>,
}

impl RouteConfig {
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::strict(v, &["to", "filter"])?;
        Ok(Self {
            to: f.text("to")?,
            filter: f.opt("filter").cloned(),
        })
    }
}

/// A source's media settings.
struct MediaConfig {
    archive: bool,
    access_token: Option<String>,
    graph_url: Option<String>,
    hosts: Option<Vec<String>>,
    max_bytes: Option<u64>,
    required: bool,
}

impl MediaConfig {
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::strict(
            v,
            &[
                "archive",
                "accessToken",
                "graphUrl",
                "hosts",
                "maxBytes",
                "required",
            ],
        )?;
        Ok(Self {
            archive: match f.opt("archive") {
                Some(_) => f.flag("archive")?,
                None => return Err("missing field `archive`".to_owned()),
            },
            access_token: f.opt_text("accessToken")?,
            graph_url: f.opt_text("graphUrl")?,
            hosts: f.opt_list("hosts", |h| h.as_str().map(str::to_owned))?,
            max_bytes: f.opt_int("maxBytes")?,
            required: f.flag("required")?,
        })
    }
}

/// A destination's settings as written (`DESTINATIONS`).
struct DestinationConfig {
    kind: Option<String>,
    url: Option<String>,
    url_secret: Option<String>,
    secret: Option<String>,
    headers: BTreeMap<String, Value>,
    body: Option<Value>,
    timeout_seconds: Option<u64>,
    backoff_seconds: Option<u64>,
    max_delay_seconds: Option<u64>,
    horizon_seconds: Option<u64>,
    max_attempts: Option<u64>,
    rate: Option<String>,
    max_in_flight: Option<u32>,
    break_after: Option<u32>,
    order_by: Option<String>,
    probe_seconds: Option<u64>,
}

impl DestinationConfig {
    fn read(v: &Value) -> Result<Self, String> {
        let f = Fields::strict(
            v,
            &[
                "kind",
                "url",
                "urlSecret",
                "secret",
                "headers",
                "body",
                "timeoutSeconds",
                "backoffSeconds",
                "maxDelaySeconds",
                "horizonSeconds",
                "maxAttempts",
                "rate",
                "maxInFlight",
                "breakAfter",
                "orderBy",
                "probeSeconds",
            ],
        )?;
        Ok(Self {
            kind: f.opt_text("kind")?,
            url: f.opt_text("url")?,
            url_secret: f.opt_text("urlSecret")?,
            secret: f.opt_text("secret")?,
            headers: match f.opt("headers") {
                None => BTreeMap::new(),
                Some(Value::Object(h)) => h.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                Some(_) => return Err("`headers` must be an object".to_owned()),
            },
            body: f.opt("body").cloned(),
            timeout_seconds: f.opt_int("timeoutSeconds")?,
            backoff_seconds: f.opt_int("backoffSeconds")?,
            max_delay_seconds: f.opt_int("maxDelaySeconds")?,
            horizon_seconds: f.opt_int("horizonSeconds")?,
            max_attempts: f.opt_int("maxAttempts")?,
            rate: f.opt_text("rate")?,
            max_in_flight: f.opt_int("maxInFlight")?,
            break_after: f.opt_int("breakAfter")?,
            order_by: f.opt_text("orderBy")?,
            probe_seconds: f.opt_int("probeSeconds")?,
        })
    }
}

/// A required secret's value, or a problem naming it and how to set it.
fn required_secret(env: &Env, name: &str, what: &str) -> Result<String, ConfigError> {
    secret(env, name).ok_or_else(|| {
        ConfigError::new(format!(
            "{what}: the secret `{name}` is not set: `wrangler secret put {name}` (or .dev.vars \
             locally)"
        ))
    })
}

fn check_url(url: &str, what: &str) -> Result<(), ConfigError> {
    let parsed = worker::Url::parse(url)
        .map_err(|_| ConfigError::new(format!("{what}: the URL is not a valid URL")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(ConfigError::new(format!(
            "{what}: the URL must be http or https"
        )));
    }
    Ok(())
}

/// A webhook destination's signer under the secret `name`.
fn signer(env: &Env, name: &str, what: &str) -> Result<Signer, ConfigError> {
    let secret = required_secret(env, name, what)?;
    let scheme = Scheme::from_name("standard-webhooks")
        .map_err(|e| ConfigError::new(format!("{what}: {e}")))?;
    let s = Signer::new(scheme, &secret)
        .map_err(|e| ConfigError::new(format!("{what}: `{name}`: {e}")))?;
    // Signing needs an id: checked once here rather than at each delivery.
    s.sign(&SignInput::new(b"{}", 0).with_id("check"))
        .map_err(|e| ConfigError::new(format!("{what}: `{name}`: {e}")))?;
    Ok(s)
}

fn destination(
    env: &Env,
    settings: &Settings,
    name: &str,
    v: &Value,
) -> Result<Rc<Destination>, ConfigError> {
    let what = format!("destination `{name}`");
    if name == OUTBOX {
        return Err(ConfigError::new(format!(
            "{what}: the name `{OUTBOX}` is reserved (a source without routes delivers to the \
             OUTBOX queue)"
        )));
    }
    let c = DestinationConfig::read(v).map_err(|e| ConfigError::new(format!("{what}: {e}")))?;
    let url = match (&c.url, &c.url_secret) {
        (Some(u), None) => u.clone(),
        (None, Some(s)) => required_secret(env, s, &what)?,
        _ => {
            return Err(ConfigError::new(format!(
                "{what}: give `url` or `urlSecret` (one of the two)"
            )));
        }
    };
    check_url(&url, &what)?;
    let kind = kind(env, &what, &c)?;
    let mut headers = Vec::new();
    for (h, v) in &c.headers {
        headers.push(header(env, &what, h, v)?);
    }
    let d = settings.schedule;
    Ok(Rc::new(Destination {
        kind,
        url,
        headers,
        timeout: c.timeout_seconds.unwrap_or(settings.timeout).clamp(1, 900),
        schedule: Schedule {
            backoff: c.backoff_seconds.unwrap_or(d.backoff),
            max_delay: c
                .max_delay_seconds
                .unwrap_or(d.max_delay)
                .min(QUEUES_MAX_DELAY),
            horizon: c.horizon_seconds.unwrap_or(d.horizon),
            max_attempts: c.max_attempts.or(d.max_attempts).filter(|n| *n > 0),
        },
        protect: protection(&what, &c)?,
    }))
}

/// A destination's kind, with what it needs (`secret`, `body`) and nothing it does not.
fn kind(env: &Env, what: &str, c: &DestinationConfig) -> Result<Kind, ConfigError> {
    let kind = match c.kind.as_deref().unwrap_or("webhook") {
        "webhook" => {
            let secret = c.secret.as_deref().unwrap_or(secret_name::DELIVERY_SECRET);
            Kind::Webhook {
                signer: Box::new(signer(env, secret, what)?),
            }
        }
        "slack" => Kind::Slack,
        "template" => {
            let body = c.body.as_ref().ok_or_else(|| {
                ConfigError::new(format!("{what}: a template destination needs `body`"))
            })?;
            Kind::Template(Box::new(
                Template::from_json(&body.to_string())
                    .map_err(|e| ConfigError::new(format!("{what}: {e}")))?,
            ))
        }
        other => {
            return Err(ConfigError::new(format!(
                "{what}: unknown kind `{other}` (webhook, slack or template)"
            )));
        }
    };
    if c.body.is_some() && !matches!(kind, Kind::Template(_)) {
        return Err(ConfigError::new(format!(
            "{what}: `body` is for template destinations"
        )));
    }
    if c.secret.is_some() && !matches!(kind, Kind::Webhook { .. }) {
        return Err(ConfigError::new(format!(
            "{what}: `secret` signs webhook destinations only"
        )));
    }
    Ok(kind)
}

/// A destination's `rate`, `maxInFlight`, `breakAfter` and `orderBy`.
fn protection(what: &str, c: &DestinationConfig) -> Result<Protection, ConfigError> {
    let d = Protection::default();
    let rate = match &c.rate {
        None => None,
        Some(r) => Some(Rate::parse(r).ok_or_else(|| {
            ConfigError::new(format!(
                "{what}: `rate = \"{r}\"`: write a whole number per s, min or h (`20/s`)"
            ))
        })?),
    };
    if let Some(p) = &c.order_by {
        hookseal::Path::from_config(p)
            .map_err(|e| ConfigError::new(format!("{what}: orderBy {e}")))?;
    }
    let max_in_flight = c.max_in_flight.unwrap_or(d.max_in_flight);
    let break_after = c.break_after.unwrap_or(d.break_after);
    if max_in_flight == 0 || break_after == 0 {
        return Err(ConfigError::new(format!(
            "{what}: `maxInFlight` and `breakAfter` are at least 1"
        )));
    }
    Ok(Protection {
        rate,
        max_in_flight: max_in_flight.min(64),
        break_after,
        order_by: c.order_by.clone(),
        probe_seconds: c.probe_seconds.unwrap_or(d.probe_seconds).max(1),
    })
}

/// `Name = "value"` or `Name = { secret = "NAME", prefix = "Bearer " }`.
fn header(env: &Env, what: &str, name: &str, v: &Value) -> Result<HeaderValue, ConfigError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !valid {
        return Err(ConfigError::new(format!(
            "{what}: `{name}` is not a header name"
        )));
    }
    let lower = name.to_ascii_lowercase();
    if lower.starts_with("webhook-") || lower == "content-type" || lower == "content-length" {
        return Err(ConfigError::new(format!(
            "{what}: the header `{name}` is set by hookseal"
        )));
    }
    let value = match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let unknown: Vec<&String> = o
                .keys()
                .filter(|k| *k != "secret" && *k != "prefix")
                .collect();
            if let Some(k) = unknown.first() {
                return Err(ConfigError::new(format!(
                    "{what}: header `{name}`: unknown field `{k}`, expected `secret` or `prefix`"
                )));
            }
            let secret = o.get("secret").and_then(Value::as_str).ok_or_else(|| {
                ConfigError::new(format!(
                    "{what}: header `{name}`: `secret` (a secret's name) is required"
                ))
            })?;
            let prefix = match o.get("prefix") {
                None => "",
                Some(Value::String(p)) => p,
                Some(_) => {
                    return Err(ConfigError::new(format!(
                        "{what}: header `{name}`: `prefix` must be text"
                    )));
                }
            };
            format!("{prefix}{}", required_secret(env, secret, what)?)
        }
        _ => {
            return Err(ConfigError::new(format!(
                "{what}: header `{name}` must be text or {{ secret, prefix }}"
            )));
        }
    };
    if value.contains(['\r', '\n']) {
        return Err(ConfigError::new(format!(
            "{what}: header `{name}` holds a line break"
        )));
    }
    Ok(HeaderValue {
        name: name.to_owned(),
        value,
    })
}

fn source(
    env: &Env,
    settings: &Settings,
    name: &str,
    v: &Value,
    destinations: &mut BTreeMap<String, Result<Rc<Destination>, ConfigError>>,
) -> Result<Rc<Source>, ConfigError> {
    let what = format!("source `{name}`");
    let c = SourceConfig::read(v).map_err(|e| ConfigError::new(format!("{what}: {e}")))?;
    let (verifier, secrets) = verifier(env, &what, &c)?;
    let verify_token = match &c.verify_token {
        Some(n) => Some(required_secret(env, n, &format!("{what}'s verifyToken"))?),
        None => None,
    };
    let routes = routes(env, settings, &what, name, &c, destinations)?;
    let log = c
        .log
        .clone()
        .unwrap_or_else(|| binding::EVENT_LOG.to_owned());
    if c.log.is_some() && env.d1(&log).is_err() {
        return Err(ConfigError::new(format!(
            "{what}: `log = \"{log}\"` names no D1 binding: add a [[d1_databases]] with \
             binding = \"{log}\" to wrangler.toml"
        )));
    }
    let media = match c.media {
        None => None,
        Some(m) if !m.archive => None,
        Some(m) => Some(media(
            env,
            settings,
            &what,
            m,
            verifier.scheme_name(),
            &secrets,
        )?),
    };
    Ok(Rc::new(Source {
        name: name.to_owned(),
        verifier,
        verify_token,
        max_body: c.max_body_bytes,
        routes,
        log,
        media,
    }))
}

/// A source's verifier, and its secrets' values (Twilio's media needs the auth token).
fn verifier(
    env: &Env,
    what: &str,
    c: &SourceConfig,
) -> Result<(Verifier, Vec<String>), ConfigError> {
    let scheme = Scheme::from_config_json(&c.scheme.to_string())
        .map_err(|e| ConfigError::new(format!("{what}: {e}")))?;
    let secrets: Vec<String> = c.secrets.iter().filter_map(|s| secret(env, s)).collect();
    if secrets.is_empty() {
        return Err(ConfigError::new(format!(
            "{what}: none of its secrets ({}) is set: `wrangler secret put {}` (or .dev.vars locally)",
            c.secrets.join(", "),
            c.secrets.first().map_or("NAME", String::as_str),
        )));
    }
    let mut verifier =
        Verifier::new(scheme, &secrets).map_err(|e| ConfigError::new(format!("{what}: {e}")))?;
    if let Some(t) = &c.tolerance {
        let t = Tolerance::from_json(&t.to_string())
            .map_err(|e| ConfigError::new(format!("{what}: {e}")))?;
        verifier = verifier.with_tolerance(t);
    }
    Ok((verifier, secrets))
}

/// A source's routes: `routes`, or the `destination` shorthand, or the outbox.
fn routes(
    env: &Env,
    settings: &Settings,
    what: &str,
    name: &str,
    c: &SourceConfig,
    destinations: &mut BTreeMap<String, Result<Rc<Destination>, ConfigError>>,
) -> Result<Vec<Route>, ConfigError> {
    if c.destination.is_some() && c.routes.is_some() {
        return Err(ConfigError::new(format!(
            "{what}: give `destination` (one URL) or `routes`, not both"
        )));
    }
    if c.delivery_secret.is_some() && c.destination.is_none() {
        return Err(ConfigError::new(format!(
            "{what}: `deliverySecret` goes with `destination`; a named destination has `secret`"
        )));
    }
    let only = |to: &str| {
        vec![Route {
            to: to.to_owned(),
            filter: None,
        }]
    };
    if let Some(url) = &c.destination {
        // The shorthand: one webhook destination named after the source.
        if destinations.contains_key(name) {
            return Err(ConfigError::new(format!(
                "{what}: its `destination` shorthand makes a destination named `{name}`, and \
                 DESTINATIONS has one: use `routes = [{{ to = \"{name}\" }}]`"
            )));
        }
        let secret = c.delivery_secret.as_deref();
        destinations.insert(name.to_owned(), shorthand(env, settings, what, url, secret));
        return Ok(only(name));
    }
    let Some(list) = &c.routes else {
        destinations.entry(OUTBOX.to_owned()).or_insert_with(outbox);
        return Ok(only(OUTBOX));
    };
    if list.len() > MAX_ROUTES {
        return Err(ConfigError::new(format!(
            "{what}: {} routes, at most {MAX_ROUTES}",
            list.len()
        )));
    }
    let mut out = Vec::with_capacity(list.len());
    for (i, r) in list.iter().enumerate() {
        out.push(route(what, i, r, &out, destinations)?);
    }
    Ok(out)
}

/// The outbox: the `OUTBOX` queue, for the user's own consumer.
#[allow(clippy::unnecessary_wraps)]
fn outbox() -> Result<Rc<Destination>, ConfigError> {
    Ok(Rc::new(Destination {
        kind: Kind::Outbox,
        url: String::new(),
        headers: Vec::new(),
        timeout: 30,
        schedule: Schedule::default(),
        protect: Protection::default(),
    }))
}

/// The `destination` shorthand's webhook destination.
fn shorthand(
    env: &Env,
    settings: &Settings,
    what: &str,
    url: &str,
    secret: Option<&str>,
) -> Result<Rc<Destination>, ConfigError> {
    check_url(url, what)?;
    let secret = secret.unwrap_or(secret_name::DELIVERY_SECRET);
    Ok(Rc::new(Destination {
        kind: Kind::Webhook {
            signer: Box::new(signer(env, secret, what)?),
        },
        url: url.to_owned(),
        headers: Vec::new(),
        timeout: settings.timeout,
        schedule: settings.schedule,
        protect: Protection::default(),
    }))
}

/// Route `i` of a source (its destination known, not a second route to it, its filter read).
fn route(
    what: &str,
    i: usize,
    r: &RouteConfig,
    before: &[Route],
    destinations: &BTreeMap<String, Result<Rc<Destination>, ConfigError>>,
) -> Result<Route, ConfigError> {
    if !destinations.contains_key(&r.to) {
        return Err(ConfigError::new(format!(
            "{what}: route {} goes to `{}`, which DESTINATIONS does not have",
            i + 1,
            r.to
        )));
    }
    if before.iter().any(|o| o.to == r.to) {
        return Err(ConfigError::new(format!(
            "{what}: two routes go to `{}`: join their filters with $or",
            r.to
        )));
    }
    let filter = match &r.filter {
        None => None,
        Some(f) => Some(Filter::from_json(&f.to_string()).map_err(|e| {
            ConfigError::new(format!("{what}: route {} (to `{}`): {e}", i + 1, r.to))
        })?),
    };
    Ok(Route {
        to: r.to.clone(),
        filter,
    })
}

/// Each URL's origin (`https://host[:port]`), each checked.
fn origins(urls: &[String], what: &str) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::new();
    for u in urls {
        check_url(u, what)?;
        if let Ok(parsed) = worker::Url::parse(u) {
            out.push(parsed.origin().ascii_serialization());
        }
    }
    Ok(out)
}

/// The origins each provider documents for its media (`hosts` replaces them).
fn default_hosts(scheme: &str, graph_url: &str) -> Vec<String> {
    let origin = |u: &str| {
        worker::Url::parse(u)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    };
    match scheme {
        "meta" => [
            origin(graph_url),
            Some("https://lookaside.fbsbx.com".to_owned()),
        ]
        .into_iter()
        .flatten()
        .collect(),
        "mossmoon" => vec!["https://media.mossmoon.app".to_owned()],
        "twilio" => vec!["https://api.twilio.com".to_owned()],
        "vonage" => [
            "https://api.nexmo.com",
            "https://api-us.nexmo.com",
            "https://api-eu.nexmo.com",
            "https://api-ap.nexmo.com",
        ]
        .map(str::to_owned)
        .to_vec(),
        _ => Vec::new(),
    }
}

fn media(
    env: &Env,
    settings: &Settings,
    what: &str,
    m: MediaConfig,
    scheme: &str,
    secrets: &[String],
) -> Result<Media, ConfigError> {
    if env.bucket(binding::MEDIA).is_err() {
        return Err(ConfigError::new(format!(
            "{what}: media archiving needs the R2 bucket `{}`: add [[r2_buckets]] with binding = \
             \"{}\" to wrangler.toml",
            binding::MEDIA,
            binding::MEDIA
        )));
    }
    if secret(env, secret_name::MEDIA_LINK_SECRET).is_none() || settings.public_url.is_none() {
        return Err(ConfigError::new(format!(
            "{what}: media archiving writes links to the media: set `PUBLIC_URL` (the Worker's \
             own https origin) and the secret `{}`",
            secret_name::MEDIA_LINK_SECRET
        )));
    }
    let access_token = match &m.access_token {
        Some(n) => Some(required_secret(env, n, &format!("{what}'s media"))?),
        None if scheme == "meta" => {
            return Err(ConfigError::new(format!(
                "{what}: Meta media needs `accessToken` (the secret with the business's access \
                 token)"
            )));
        }
        // Twilio's media answers to the account's auth token: the source's own.
        None if scheme == "twilio" => secrets.first().cloned(),
        None => None,
    };
    let graph_url = m
        .graph_url
        .unwrap_or_else(|| "https://graph.facebook.com/v21.0".to_owned());
    check_url(&graph_url, &format!("{what}'s media graphUrl"))?;
    let graph_url = graph_url.trim_end_matches('/').to_owned();
    let hosts = match m.hosts {
        Some(hosts) => origins(&hosts, &format!("{what}'s media hosts"))?,
        None => default_hosts(scheme, &graph_url),
    };
    if hosts.is_empty() {
        return Err(ConfigError::new(format!(
            "{what}: hookseal knows no media host for `{scheme}`: list the origins its media \
             comes from in `hosts`"
        )));
    }
    Ok(Media {
        access_token,
        graph_url,
        hosts,
        max_bytes: m.max_bytes.unwrap_or(100 * 1024 * 1024),
        required: m.required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_outlasts_the_senders() {
        let s = Schedule::default();
        let (mut at, mut attempts) = (0u64, 1u32);
        while let Some(d) = s.next_delay(attempts, at) {
            at += d;
            attempts += 1;
        }
        assert!(at >= 26 * 3600, "last attempt at {at} s");
        assert!(at < 26 * 3600 + s.max_delay);
        assert_eq!(s.next_delay(1, 0), Some(60));
        assert_eq!(s.next_delay(2, 60), Some(120));
        assert_eq!(s.next_delay(20, 3600), Some(s.max_delay));
        let capped = Schedule {
            max_attempts: Some(4),
            ..s
        };
        assert_eq!(capped.next_delay(3, 0), Some(240));
        assert_eq!(capped.next_delay(4, 0), None);
    }
}
