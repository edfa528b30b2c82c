//! The wire format between the package's JS and this module: one encoding, written down once.
//! Its JS half is `pkg-templates/dist/abi.js`; both have round-trip tests.
//!
//! Bytes (bodies) cross as `Uint8Array`s (a string body is encoded by the JS first:
//! `TextEncoder` is faster than wasm-bindgen's string copy, which goes a character at a time;
//! a small one into a buffer the JS reuses, which the call copies before any user code runs),
//! numbers as numbers. Everything else is a **field list**: a string of fields, one after
//! another, each either
//!
//! - `-`: absent (an option not given, a header not sent), or
//! - `<n>:<text>`: present, `n` being the text's length in UTF-16 code units (as JS counts,
//!   so the JS side never measures UTF-8).
//!
//! Any text fits, line breaks and separators included, and nothing is implied by position
//! beyond the order the call documents. The lists that cross:
//!
//! | call | direction | fields |
//! |---|---|---|
//! | `new Core` | in | the secrets |
//! | `info` | out | scheme name, body limit, signs a timestamp (`1`/`0`), signs an id (`1`/`0`), then the header names |
//! | `run`, `check` | in | the header values in `info`'s order, then method and URL, as UTF-8 bytes (an ASCII list written by the JS a character at a time, anything else by `TextEncoder`) |
//! | `run` (verify) | out | secret index, timestamp, id (to parse, the delivery as JSON text) |
//! | `sign` | in | id, method, URL |
//! | `sign` | out | name, value, name, value, … |
//! | `filterMatches` | in | the filter's JSON text, the event's JSON as UTF-8 bytes, none to check only the filter (answers a boolean) |
//! | any error | out | code, whether the signature verified (`1`/`0`), message |
//!
//! `check` verifies for a scheme that signs neither a timestamp nor an id and returns the
//! secret index as a number: no field list to write or decode on the hot path.

use hookseal::Error;
use wasm_bindgen::JsValue;

/// Appends fields to a list.
#[derive(Default)]
pub struct Writer(String);

impl Writer {
    /// Appends a present field.
    pub fn text(&mut self, text: &str) -> &mut Self {
        let units = if text.is_ascii() {
            text.len()
        } else {
            text.encode_utf16().count()
        };
        self.0.push_str(&units.to_string());
        self.0.push(':');
        self.0.push_str(text);
        self
    }

    /// Appends a field, absent when `None`.
    pub fn opt(&mut self, text: Option<&str>) -> &mut Self {
        match text {
            Some(t) => self.text(t),
            None => {
                self.0.push('-');
                self
            }
        }
    }

    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

/// Reads the fields of a list, in order.
pub struct Reader<'t> {
    rest: &'t str,
}

/// A field list that does not follow the format: only a bug in the package's JS (or a caller
/// of the internal API) can produce one.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed;

impl From<Malformed> for JsValue {
    fn from(_: Malformed) -> Self {
        invalid_input("internal: malformed field list")
    }
}

impl<'t> Reader<'t> {
    pub fn new(text: &'t str) -> Self {
        Self { rest: text }
    }

    /// The next field: `Ok(None)` when absent (or when the list has ended).
    pub fn next(&mut self) -> Result<Option<&'t str>, Malformed> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        if let Some(rest) = self.rest.strip_prefix('-') {
            self.rest = rest;
            return Ok(None);
        }
        let (len, tail) = self.rest.split_once(':').ok_or(Malformed)?;
        let units: usize = len.parse().map_err(|_| Malformed)?;
        let end = utf8_len(tail, units).ok_or(Malformed)?;
        // `get`, not slicing: utf8_len ends on a character, and a slice would bring the panic
        // machinery (and its 4 KB of formatting) into the module.
        let (field, rest) = (tail.get(..end), tail.get(end..));
        self.rest = rest.ok_or(Malformed)?;
        field.ok_or(Malformed).map(Some)
    }

    /// The fields left, every one present.
    pub fn rest(mut self) -> Result<Vec<&'t str>, Malformed> {
        let mut out = Vec::new();
        while !self.rest.is_empty() {
            out.push(self.next()?.ok_or(Malformed)?);
        }
        Ok(out)
    }

    /// Refuses fields left over.
    pub fn end(self) -> Result<(), Malformed> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(Malformed)
        }
    }
}

/// The UTF-8 length of the first `units` UTF-16 code units of `s`, if they end on a character.
fn utf8_len(s: &str, units: usize) -> Option<usize> {
    if let Some(head) = s.as_bytes().get(..units)
        && head.is_ascii()
    {
        return Some(units);
    }
    let (mut seen, mut end) = (0, 0);
    for c in s.chars() {
        if seen >= units {
            break;
        }
        seen += c.len_utf16();
        end += c.len_utf8();
    }
    (seen == units).then_some(end)
}

/// A core error for JS: code, whether the signature verified, message. (Its HTTP status
/// follows from the code: the package has the core's table of codes, generated at build.)
pub fn error(e: &Error) -> JsValue {
    error_fields(e.code(), e.signature_verified(), &e.to_string())
}

/// An `invalid_input` error for JS (a value the package's JS could not have sent).
pub fn invalid_input(message: &str) -> JsValue {
    error_fields("invalid_input", false, message)
}

fn error_fields(code: &str, verified: bool, message: &str) -> JsValue {
    JsValue::from_str(
        &Writer::default()
            .text(code)
            .text(if verified { "1" } else { "0" })
            .text(message)
            .finish(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let fields = [
            Some("sha256=abc"),
            None,
            Some(""),
            Some("line\nbreak, colon: and -dash"),
            Some("émoji 😀 and ü"),
            None,
            Some("12:34"),
        ];
        let mut w = Writer::default();
        for f in fields {
            w.opt(f);
        }
        let text = w.finish();
        // UTF-16 lengths, as JS counts: the emoji is two units.
        assert!(text.contains("14:émoji 😀 and ü"), "{text}");
        let mut r = Reader::new(&text);
        for f in fields {
            assert_eq!(r.next(), Ok(f));
        }
        assert_eq!(r.end(), Ok(()));
    }

    #[test]
    fn a_list_that_ended_reads_as_absent() {
        let mut r = Reader::new("1:a");
        assert_eq!(r.next(), Ok(Some("a")));
        assert_eq!(r.next(), Ok(None));
        assert_eq!(Reader::new("").rest(), Ok(vec![]));
        assert_eq!(Reader::new("1:a2:bc").rest(), Ok(vec!["a", "bc"]));
    }

    #[test]
    fn malformed_lists_are_refused() {
        for bad in ["x", "3:ab", "a:b", "1", "1:😀"] {
            let mut r = Reader::new(bad);
            assert_eq!(r.next(), Err(Malformed), "{bad}");
        }
        let mut r = Reader::new("1:a1:b");
        assert_eq!(r.next(), Ok(Some("a")));
        assert_eq!(r.end(), Err(Malformed));
        assert_eq!(Reader::new("1:a-").rest(), Err(Malformed));
    }

    #[test]
    fn lengths_are_utf16_units() {
        assert_eq!(utf8_len("abc", 2), Some(2));
        assert_eq!(utf8_len("😀x", 2), Some(4));
        // Half a surrogate pair, or past the end, is not a field.
        assert_eq!(utf8_len("😀x", 1), None);
        assert_eq!(utf8_len("ab", 3), None);
    }
}
