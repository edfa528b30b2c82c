//! Sources, read from the `SOURCES` variable (a table in `wrangler.toml`) and the Worker's
//! secrets. A source names its secrets; their values are Worker secrets, never plain vars.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use hookseal::{Scheme, Tolerance, Verifier};
use serde::Deserialize;
use worker::Env;

/// Binding names, as declared in `wrangler.toml`.
pub const SOURCES_VAR: &str = "SOURCES";
/// KV namespace for dedup marks.
pub const DEDUP_KV: &str = "DEDUP";
/// The queue this Worker consumes and delivers from.
pub const EVENTS_QUEUE: &str = "EVENTS";
/// The queue for sources without a destination: left for the user's own consumer.
pub const OUTBOX_QUEUE: &str = "OUTBOX";
/// Where deliveries that cannot succeed end up.
pub const DEAD_LETTER_QUEUE: &str = "DEAD_LETTER";
/// The D1 event log (optional: without it, dedup is KV alone and there is no admin API).
pub const EVENT_LOG: &str = "EVENT_LOG";
/// The Worker secret that opens the admin API (without it, the admin routes answer 404).
pub const ADMIN_TOKEN: &str = "ADMIN_TOKEN";
/// The default secret that signs deliveries (Standard Webhooks, `whsec_…`).
pub const DELIVERY_SECRET: &str = "DELIVERY_SECRET";

/// One source as configured.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SourceConfig {
    /// A built-in scheme name, or `{ "generic": { … } }`.
    pub scheme: serde_json::Value,
    /// Names of the Worker secrets that hold this source's signing secrets (two during a
    /// rotation). A name whose secret is not set is skipped; at least one must be set.
    pub secrets: Vec<String>,
    /// Seconds both ways, `false`, or `{ "past": s, "future": s }`; default: the scheme's own.
    #[serde(default)]
    pub tolerance: Option<serde_json::Value>,
    /// Where the queue consumer delivers events, re-signed with Standard Webhooks. Without one,
    /// events go to the OUTBOX queue for your own consumer.
    #[serde(default)]
    pub destination: Option<String>,
    /// The secret that signs deliveries to `destination` (default `DELIVERY_SECRET`).
    #[serde(default)]
    pub delivery_secret: Option<String>,
    /// For Meta sources: the name of the secret holding the verify token of the `GET` handshake.
    #[serde(default)]
    pub verify_token: Option<String>,
    /// This source's body limit in bytes, instead of `MAX_BODY_BYTES`.
    #[serde(default)]
    pub max_body_bytes: Option<u64>,
}

/// A source ready to verify.
pub struct Source {
    pub config: SourceConfig,
    pub verifier: Verifier,
}

/// A configuration problem, reported at the request and in the logs, never as a crash.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl ConfigError {
    fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// The Worker's settings from its vars.
pub struct Settings {
    pub log_level: crate::log::Level,
    /// `MAX_BODY_BYTES`, when set (otherwise each scheme's documented maximum).
    pub max_body: Option<u64>,
    pub dedup_ttl: u64,
    pub schedule: crate::deliver::Schedule,
}

/// Default dedup window: longer than the senders' 24 h retry horizon.
const DEDUP_TTL_SECONDS: u64 = 72 * 3600;

thread_local! {
    /// The settings, read once per isolate like `SOURCES` (see below); errors are not cached.
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
    /// The parsed `SOURCES`, and each source built once. A Worker isolate's vars and secrets
    /// cannot change while it lives (a new deployment or secret starts new isolates), so parsing
    /// the configuration and preparing the keyed HMAC states once serves every request. Errors
    /// are not cached: they are reported on every request until fixed.
    static SOURCES_CACHE: RefCell<Option<Rc<BTreeMap<String, SourceConfig>>>> = const { RefCell::new(None) };
    static BUILT: RefCell<BTreeMap<String, Rc<Source>>> = const { RefCell::new(BTreeMap::new()) };
}

/// All configured sources, by name.
pub fn sources(env: &Env) -> Result<Rc<BTreeMap<String, SourceConfig>>, ConfigError> {
    if let Some(cached) = SOURCES_CACHE.with(|c| c.borrow().clone()) {
        return Ok(cached);
    }
    let parsed = Rc::new(
        env.object_var::<BTreeMap<String, SourceConfig>>(SOURCES_VAR)
            .map_err(|e| {
                ConfigError::new(format!("`{SOURCES_VAR}` is missing or malformed: {e}"))
            })?,
    );
    SOURCES_CACHE.with(|c| *c.borrow_mut() = Some(Rc::clone(&parsed)));
    Ok(parsed)
}

/// The secret `name`, if it is set.
pub fn secret(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .ok()
        .map(|s| s.to_string())
        .filter(|s| !s.is_empty())
}

/// The source `name`, with its verifier (built on first use, then cached).
pub fn source(env: &Env, name: &str) -> Result<Option<Rc<Source>>, ConfigError> {
    if let Some(built) = BUILT.with(|b| b.borrow().get(name).cloned()) {
        return Ok(Some(built));
    }
    let Some(built) = build(env, name)? else {
        return Ok(None);
    };
    let built = Rc::new(built);
    BUILT.with(|b| b.borrow_mut().insert(name.to_owned(), Rc::clone(&built)));
    Ok(Some(built))
}

fn build(env: &Env, name: &str) -> Result<Option<Source>, ConfigError> {
    let Some(config) = sources(env)?.get(name).cloned() else {
        return Ok(None);
    };
    let scheme = Scheme::from_config_json(&config.scheme.to_string())
        .map_err(|e| ConfigError::new(format!("source `{name}`: {e}")))?;
    let secrets: Vec<String> = config
        .secrets
        .iter()
        .filter_map(|s| secret(env, s))
        .collect();
    if secrets.is_empty() {
        return Err(ConfigError::new(format!(
            "source `{name}`: none of its secrets ({}) is set: `wrangler secret put {}` (or .dev.vars locally)",
            config.secrets.join(", "),
            config.secrets.first().map_or("NAME", String::as_str),
        )));
    }
    let mut verifier = Verifier::new(scheme, &secrets)
        .map_err(|e| ConfigError::new(format!("source `{name}`: {e}")))?;
    if let Some(t) = &config.tolerance {
        let t = Tolerance::from_json(&t.to_string())
            .map_err(|e| ConfigError::new(format!("source `{name}`: {e}")))?;
        verifier = verifier.with_tolerance(t);
    }
    Ok(Some(Source { config, verifier }))
}

/// The settings, read from the vars on first use in this isolate.
pub fn settings(env: &Env) -> Result<Rc<Settings>, ConfigError> {
    if let Some(cached) = SETTINGS.with(|c| c.borrow().clone()) {
        return Ok(cached);
    }
    let max_body = match env.var("MAX_BODY_BYTES") {
        Err(_) => None,
        Ok(_) => Some(number(env, "MAX_BODY_BYTES", 0)?),
    };
    let settings = Rc::new(Settings {
        log_level: crate::log::level(env)?,
        max_body,
        dedup_ttl: number(env, "DEDUP_TTL_SECONDS", DEDUP_TTL_SECONDS)?,
        schedule: crate::deliver::Schedule::from_env(env)?,
    });
    SETTINGS.with(|c| *c.borrow_mut() = Some(Rc::clone(&settings)));
    Ok(settings)
}

/// A numeric variable, or its default when unset. A malformed value is a configuration error.
pub fn number(env: &Env, name: &str, default: u64) -> Result<u64, ConfigError> {
    match env.var(name) {
        Err(_) => Ok(default),
        Ok(v) => v
            .to_string()
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(format!("`{name}` must be a whole number"))),
    }
}
