//! The one failure contract of every route: a code from hookseal's table of codes (which gives
//! the HTTP status), a message safe to show whoever asked, and a detail for the log only.
//! `http` turns a `Failure` into `{"error": code, "message": …}` with its status.

/// Why a route could not do what it was asked.
#[derive(Debug)]
pub struct Failure {
    pub code: &'static str,
    /// Shown to the caller: never a secret, a source's secret names, or a store's error text.
    pub message: String,
    /// Logged, never answered.
    pub detail: Option<String>,
}

impl Failure {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            detail: None,
        }
    }

    /// With a detail for the log.
    #[must_use]
    pub fn detail(mut self, detail: impl ToString) -> Self {
        self.detail = Some(detail.to_string());
        self
    }

    /// A store (KV, D1, Queues, R2) failed: `503` so that the caller retries.
    pub fn unavailable(code: &'static str, detail: impl ToString) -> Self {
        Self::new(code, "temporarily unavailable, retry later").detail(detail)
    }

    /// The event log (D1) failed.
    pub fn log(detail: impl ToString) -> Self {
        Self::unavailable("log_unavailable", detail)
    }

    /// Queues failed.
    pub fn queue(detail: impl ToString) -> Self {
        Self::unavailable("queue_unavailable", detail)
    }

    /// Our own configuration is wrong: the caller learns only that (the details name sources
    /// and secrets, so they go to the log and to `/health` behind the admin token).
    pub fn config(detail: impl ToString) -> Self {
        Self::new(
            "invalid_config",
            "the Worker's configuration has a problem: its log and /health (with the admin \
             token) say which",
        )
        .detail(detail)
    }

    /// The HTTP status, from hookseal's table of codes.
    pub fn status(&self) -> u16 {
        hookseal::status_of(self.code).unwrap_or(500)
    }
}
