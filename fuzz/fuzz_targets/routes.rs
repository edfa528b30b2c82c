//! Routes: filters, their `$regex` and body templates, on arbitrary input.
//!
//! - Reading a filter or a template never panics, whatever the text; matching and rendering
//!   never panic, whatever the event.
//! - `$not` at the top always inverts a filter's answer.
//! - A rendered template is valid JSON.
//! - `$regex` agrees with the `regex` crate on ASCII patterns and texts that both accept
//!   (hookseal's `\d \w \s \b` are ASCII, so the reference gets their ASCII spelling).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input<'a> {
    filter: &'a str,
    event: &'a str,
    template: &'a str,
    pattern: &'a str,
    text: &'a str,
}

/// The pattern spelt for the `regex` crate with hookseal's ASCII classes.
fn for_reference(p: &str) -> String {
    p.replace(r"\d", "[0-9]")
        .replace(r"\D", "[^0-9]")
        .replace(r"\w", "[0-9A-Za-z_]")
        .replace(r"\W", "[^0-9A-Za-z_]")
        .replace(r"\s", r"[\t\n\x0B\x0C\r ]")
        .replace(r"\S", r"[^\t\n\x0B\x0C\r ]")
        .replace(r"\b", r"(?-u:\b)")
        .replace(r"\B", r"(?-u:\B)")
}

fuzz_target!(|input: Input<'_>| {
    if let Ok(filter) = hookseal::Filter::from_json(input.filter) {
        if let Ok(doc) = hookseal::Document::parse(input.event) {
            let yes = filter.matches(&doc);
            let not = hookseal::Filter::from_json(&format!(r#"{{"$not":{}}}"#, input.filter))
                .expect("a valid filter under $not is valid");
            assert_eq!(not.matches(&doc), !yes, "$not does not invert");
        }
    }
    if let (Ok(t), Ok(doc)) = (
        hookseal::Template::from_json(input.template),
        hookseal::Document::parse(input.event),
    ) {
        let out = t.render(&doc);
        serde_json::from_str::<serde_json::Value>(&out).expect("a rendered template is JSON");
    }
    let ascii = input.pattern.is_ascii()
        && input.text.is_ascii()
        && !input.pattern.contains("\\x")
        && !input.pattern.contains("\\u");
    if let Some(ours) = hookseal::__private::regex_is_match(input.pattern, input.text) {
        if ascii {
            // The common syntax: where the reference accepts the pattern, the answers agree.
            if let Ok(reference) = regex::Regex::new(&for_reference(input.pattern)) {
                assert_eq!(
                    ours,
                    reference.is_match(input.text),
                    "{:?} on {:?}",
                    input.pattern,
                    input.text
                );
            }
        }
    }
});
