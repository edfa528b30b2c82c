//! What may be shown of a URL or a sender's text: in answers, logs, the console and the CLI.
//! A URL is shown as its scheme and host only (a path or query can hold a token); text from a
//! sender has its control characters replaced.

/// `https://host[:port]` of a URL, or `(an invalid URL)`.
pub fn url(u: &str) -> String {
    match worker::Url::parse(u) {
        Ok(parsed) => {
            let host = parsed.host_str().unwrap_or("");
            match parsed.port() {
                Some(port) => format!("{}://{host}:{port}", parsed.scheme()),
                None => format!("{}://{host}", parsed.scheme()),
            }
        }
        Err(_) => "(an invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scheme_and_host_remain() {
        assert_eq!(
            url("https://hooks.slack.com/services/T0/B0/secret"),
            "https://hooks.slack.com"
        );
        assert_eq!(
            url("http://127.0.0.1:8788/x?token=1"),
            "http://127.0.0.1:8788"
        );
        assert_eq!(url("not a url"), "(an invalid URL)");
    }
}
