//! The states a delivery and an event go through, and what one attempt came to: typed here,
//! turned into strings in one place ([`DeliveryStatus::as_str`] for SQL, JSON, the console and the
//! CLI, which takes the list from the Worker).

use serde::{Deserialize, Serialize};

/// Where one event's delivery to one destination stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Owed, not attempted yet (or replayed and waiting).
    Queued,
    /// An attempt failed; another is scheduled.
    Retrying,
    /// The destination answered 2xx.
    Delivered,
    /// Given up: the destination refused it, or the retries ran out. Replayable.
    Dead,
}

impl DeliveryStatus {
    /// Every status, in the order a delivery goes through them.
    pub const ALL: [Self; 4] = [Self::Queued, Self::Retrying, Self::Delivered, Self::Dead];

    /// The name in SQL, JSON and the UIs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Where an event stands, derived from its deliveries: `delivered` when all are, `dead` when
/// any is, else `retrying` or `queued`; `filtered` when no route took it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    Queued,
    Retrying,
    Delivered,
    Dead,
    Filtered,
}

impl EventStatus {
    pub const ALL: [Self; 5] = [
        Self::Queued,
        Self::Retrying,
        Self::Delivered,
        Self::Dead,
        Self::Filtered,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Retrying => "retrying",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
            Self::Filtered => "filtered",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The event's status from its deliveries' (none: filtered).
    pub fn of(deliveries: impl IntoIterator<Item = DeliveryStatus>) -> Self {
        let (mut any, mut dead, mut retrying, mut queued) = (false, false, false, false);
        for d in deliveries {
            any = true;
            match d {
                DeliveryStatus::Dead => dead = true,
                DeliveryStatus::Retrying => retrying = true,
                DeliveryStatus::Queued => queued = true,
                DeliveryStatus::Delivered => {}
            }
        }
        match (any, dead, retrying, queued) {
            (false, ..) => Self::Filtered,
            (_, true, ..) => Self::Dead,
            (_, _, true, _) => Self::Retrying,
            (_, _, _, true) => Self::Queued,
            _ => Self::Delivered,
        }
    }
}

/// What one delivery attempt came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// 2xx.
    Delivered { http: u16 },
    /// Worth trying again: 5xx, 408, 429, a network error or timeout, or a problem of ours that
    /// may be fixed (a secret not set yet, the archive's provider down). `after`: the least
    /// delay the destination asked for (`Retry-After`), seconds.
    Retry {
        http: Option<u16>,
        error: String,
        after: Option<u64>,
    },
    /// Retrying will not help: any other 4xx, a redirect (deliveries never follow one), a
    /// destination no longer configured, or a permanent archive failure of a required media.
    GiveUp { http: Option<u16>, error: String },
}

impl Outcome {
    /// From the destination's HTTP answer (`location` for a redirect, `retry_after` seconds).
    pub fn of_http(status: u16, location: Option<&str>, retry_after: Option<u64>) -> Self {
        match status {
            200..=299 => Self::Delivered { http: status },
            300..=399 => Self::GiveUp {
                http: Some(status),
                error: format!(
                    "HTTP {status}: a redirect to {} (deliveries never follow redirects: \
                     configure the final URL)",
                    location.map_or_else(|| "nowhere".to_owned(), crate::redact::url)
                ),
            },
            408 | 429 | 500..=599 => Self::Retry {
                http: Some(status),
                error: format!("HTTP {status}"),
                after: retry_after,
            },
            _ => Self::GiveUp {
                http: Some(status),
                error: format!("HTTP {status}"),
            },
        }
    }

    /// The destination's HTTP status, when it answered.
    pub fn http(&self) -> Option<u16> {
        match self {
            Self::Delivered { http } => Some(*http),
            Self::Retry { http, .. } | Self::GiveUp { http, .. } => *http,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Delivered { .. } => None,
            Self::Retry { error, .. } | Self::GiveUp { error, .. } => Some(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_events_derive_their_status() {
        for s in DeliveryStatus::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in EventStatus::ALL {
            assert_eq!(EventStatus::parse(s.as_str()), Some(s));
        }
        use DeliveryStatus::*;
        assert_eq!(EventStatus::of([]), EventStatus::Filtered);
        assert_eq!(
            EventStatus::of([Delivered, Delivered]),
            EventStatus::Delivered
        );
        assert_eq!(
            EventStatus::of([Delivered, Dead, Retrying]),
            EventStatus::Dead
        );
        assert_eq!(
            EventStatus::of([Delivered, Retrying, Queued]),
            EventStatus::Retrying
        );
        assert_eq!(EventStatus::of([Delivered, Queued]), EventStatus::Queued);
    }

    #[test]
    fn http_answers_classify() {
        assert_eq!(
            Outcome::of_http(204, None, None),
            Outcome::Delivered { http: 204 }
        );
        assert!(matches!(
            Outcome::of_http(503, None, Some(2)),
            Outcome::Retry { after: Some(2), .. }
        ));
        assert!(matches!(
            Outcome::of_http(429, None, None),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            Outcome::of_http(410, None, None),
            Outcome::GiveUp { .. }
        ));
        let moved = Outcome::of_http(
            301,
            Some("https://elsewhere.example/a/secret?token=1"),
            None,
        );
        assert_eq!(moved.http(), Some(301));
        let e = moved.error().unwrap();
        assert!(e.contains("https://elsewhere.example"), "{e}");
        assert!(!e.contains("secret") && !e.contains("token"), "{e}");
    }
}
