//! A small, strict JSON (RFC 8259) reader and writer for webhook bodies and configuration.
//!
//! Why not serde_json here: in the wasm module serde_json with its float parsing and formatting
//! costs about 40 KB, a third of the size budget. Webhook parsing needs far less: a borrowed
//! document, numbers kept as their exact source text (a timestamp is read as an integer when
//! asked; a coordinate is passed on verbatim, never rounded through a float), and the raw text
//! of any value (unknown events carry the provider's JSON as sent). The reader is fuzzed
//! against serde_json (`fuzz/fuzz_targets/json.rs`): both accept and reject the same documents
//! and read the same values, except that numbers out of f64 range are kept here as text.

use std::borrow::Cow;

/// Documents nested deeper than this are refused (as serde_json does), so hostile nesting
/// cannot exhaust the stack.
pub(crate) const MAX_DEPTH: usize = 128;

/// A parsed JSON value, borrowing from the source text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// A number, as its source text (already checked against the JSON grammar).
    Num(&'a str),
    Str(Cow<'a, str>),
    /// The elements, and the raw text of the whole array.
    Arr(Vec<Json<'a>>, &'a str),
    /// The members in source order (a repeated key: the last one wins on lookup), and the raw
    /// text of the whole object.
    Obj(Vec<(Cow<'a, str>, Json<'a>)>, &'a str),
}

/// Where and why a document is not JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct JsonError {
    /// Byte offset of the problem.
    pub at: usize,
    /// Nesting deeper than [`MAX_DEPTH`].
    pub too_deep: bool,
}

impl JsonError {
    /// 1-based line and column (in characters) of the problem in `src`.
    pub fn line_column(&self, src: &str) -> (usize, usize) {
        let before = src.get(..self.at).unwrap_or(src);
        // Counted over bytes (see `starts_char`).
        let (mut line, mut column) = (1, 1);
        for b in before.bytes() {
            if b == b'\n' {
                (line, column) = (line + 1, 1);
            } else if starts_char(b) {
                column += 1;
            }
        }
        (line, column)
    }
}

/// Whether a byte of UTF-8 starts a character (it is no continuation byte, `10xxxxxx`).
/// Counting these counts characters without `str::chars().count()`, whose routine would add to
/// the module (it and `rsplit` were about 1 KB when the JSON error's column dropped them).
pub(crate) const fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
}

impl<'a> Json<'a> {
    /// Parses a complete document.
    pub fn parse(src: &'a str) -> Result<Self, JsonError> {
        let mut p = Parser { src, pos: 0 };
        p.ws();
        let v = p.value(0)?;
        p.ws();
        if p.pos != src.len() {
            return Err(p.err());
        }
        Ok(v)
    }

    /// The member `key` of an object (the last, if repeated).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Obj(members, _) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an `i64`, if it is an integer number in range.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Num(n) => n.parse().ok(),
            _ => None,
        }
    }

    /// The raw source text of an object or array (other values are written out).
    pub fn raw(&self) -> Cow<'a, str> {
        match self {
            Json::Arr(_, raw) | Json::Obj(_, raw) => Cow::Borrowed(raw),
            Json::Num(n) => Cow::Borrowed(n),
            other => {
                let mut w = Writer::default();
                w.value(other);
                Cow::Owned(w.finish())
            }
        }
    }
}

/// The document re-written member by member (a repeated key: only the last, as lookups see it),
/// or `None` when it is not JSON. For the differential fuzz target only.
#[doc(hidden)]
pub fn canonical(src: &str) -> Option<String> {
    fn write(w: &mut Writer, v: &Json<'_>) {
        match v {
            Json::Arr(items, _) => {
                w.begin_array();
                for i in items {
                    write(w, i);
                }
                w.end_array();
            }
            Json::Obj(members, _) => {
                w.begin_object();
                for (i, (k, v)) in members.iter().enumerate() {
                    if members.iter().skip(i + 1).any(|(later, _)| later == k) {
                        continue;
                    }
                    w.key(k);
                    write(w, v);
                }
                w.end_object();
            }
            other => w.value(other),
        }
    }
    let v = Json::parse(src).ok()?;
    let mut w = Writer::default();
    write(&mut w, &v);
    Some(w.finish())
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

/// The length of the prefix of `bytes` that a JSON string holds as is: up to the first `"`,
/// `\\` or control byte. Eight bytes at a time (SWAR), as string contents dominate real events;
/// the release build optimises for size, so this is written out rather than left to the compiler.
#[inline(always)]
fn plain_run(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Non-zero when some byte of `w` is zero (exact as a yes/no).
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & HIGH;
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let Ok(eight) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let w = u64::from_le_bytes(eight);
        let special = zero_byte(w ^ (ONES * u64::from(b'"')))
            | zero_byte(w ^ (ONES * u64::from(b'\\')))
            // Some byte below 0x20.
            | (w.wrapping_sub(ONES * 0x20) & !w & HIGH);
        if special != 0 {
            break;
        }
        i += 8;
    }
    while let Some(&b) = bytes.get(i) {
        if b == b'"' || b == b'\\' || b < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

impl<'a> Parser<'a> {
    fn err(&self) -> JsonError {
        JsonError {
            at: self.pos,
            too_deep: false,
        }
    }

    // Called per byte: inlined by hand (the release build optimises for size).
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.src.as_bytes().get(self.pos).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, word: &str) -> Result<(), JsonError> {
        if self
            .src
            .get(self.pos..)
            .is_some_and(|r| r.starts_with(word))
        {
            self.pos += word.len();
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        match self.peek() {
            Some(b'n') => self.eat("null").map(|()| Json::Null),
            Some(b't') => self.eat("true").map(|()| Json::Bool(true)),
            Some(b'f') => self.eat("false").map(|()| Json::Bool(false)),
            Some(b'"') => self.string().map(Json::Str),
            Some(b'-' | b'0'..=b'9') => self.number().map(Json::Num),
            Some(b'[' | b'{') if depth >= MAX_DEPTH => Err(JsonError {
                at: self.pos,
                too_deep: true,
            }),
            Some(b'[') => self.array(depth + 1),
            Some(b'{') => self.object(depth + 1),
            _ => Err(self.err()),
        }
    }

    /// The items of a `[...]` or `{...}` (the opening bracket is at `pos`): none, or `item`s
    /// separated by commas, up to `close`.
    fn list(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.pos += 1;
        self.ws();
        if self.peek() == Some(close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            item(self)?;
            self.ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err()),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        let start = self.pos;
        let mut items = Vec::new();
        self.list(b']', |p| {
            items.push(p.value(depth)?);
            Ok(())
        })?;
        Ok(Json::Arr(
            items,
            self.src.get(start..self.pos).unwrap_or(""),
        ))
    }

    fn object(&mut self, depth: usize) -> Result<Json<'a>, JsonError> {
        let start = self.pos;
        let mut members = Vec::new();
        self.list(b'}', |p| {
            if p.peek() != Some(b'"') {
                return Err(p.err());
            }
            let key = p.string()?;
            p.ws();
            p.eat(":")?;
            p.ws();
            members.push((key, p.value(depth)?));
            Ok(())
        })?;
        Ok(Json::Obj(
            members,
            self.src.get(start..self.pos).unwrap_or(""),
        ))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.err()),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err());
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err());
            }
        }
        Ok(self.src.get(start..self.pos).unwrap_or(""))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let hex = self
            .src
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.err())?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.err());
        }
        self.pos += 4;
        u32::from_str_radix(hex, 16).map_err(|_| self.err())
    }

    fn string(&mut self) -> Result<Cow<'a, str>, JsonError> {
        self.pos += 1;
        let start = self.pos;
        // Fast path: no escapes, borrow the source. One tight scan to the first byte that
        // ends the run.
        self.pos = start + plain_run(self.src.as_bytes().get(start..).unwrap_or(&[]));
        match self.peek() {
            None => return Err(self.err()),
            Some(b'"') => {
                let s = self.src.get(start..self.pos).unwrap_or("");
                self.pos += 1;
                return Ok(Cow::Borrowed(s));
            }
            Some(b'\\') => {}
            Some(_) => return Err(self.err()),
        }
        let mut out = String::from(self.src.get(start..self.pos).unwrap_or(""));
        loop {
            match self.peek() {
                None => return Err(self.err()),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let esc = self.peek().ok_or_else(|| self.err())?;
                    self.pos += 1;
                    let c = match esc {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return Err(self.err()),
                    };
                    out.push(c);
                }
                Some(b) if b < 0x20 => return Err(self.err()),
                Some(_) => {
                    // Copy up to the next quote or backslash in one go.
                    let rest = self.src.get(self.pos..).unwrap_or("");
                    let n = rest.find(['"', '\\']).unwrap_or(rest.len());
                    let chunk = rest.get(..n).unwrap_or("");
                    if chunk.bytes().any(|b| b < 0x20) {
                        let bad = chunk.bytes().position(|b| b < 0x20).unwrap_or(0);
                        self.pos += bad;
                        return Err(self.err());
                    }
                    out.push_str(chunk);
                    self.pos += n;
                }
            }
        }
    }

    /// After `\u`: one code point, joining a surrogate pair; lone surrogates are refused.
    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        let code = match hi {
            0xD800..=0xDBFF => {
                self.eat("\\u")?;
                let lo = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    return Err(self.err());
                }
                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
            }
            0xDC00..=0xDFFF => return Err(self.err()),
            c => c,
        };
        char::from_u32(code).ok_or_else(|| self.err())
    }
}

/// Writes compact JSON.
#[derive(Default)]
pub(crate) struct Writer {
    out: String,
    /// Whether the next item at the current level needs a comma first.
    comma: bool,
}

impl Writer {
    /// Punctuation, appended as a slice (a `char` push costs a UTF-8 encoding step per call).
    fn punct(&mut self, p: &'static str) {
        self.out.push_str(p);
    }

    fn sep(&mut self) {
        if self.comma {
            self.punct(",");
        }
        self.comma = true;
    }

    pub fn begin_object(&mut self) {
        self.sep();
        self.punct("{");
        self.comma = false;
    }

    pub fn end_object(&mut self) {
        self.punct("}");
        self.comma = true;
    }

    pub fn begin_array(&mut self) {
        self.sep();
        self.punct("[");
        self.comma = false;
    }

    pub fn end_array(&mut self) {
        self.punct("]");
        self.comma = true;
    }

    /// A member key; the value written next belongs to it.
    pub fn key(&mut self, k: &str) {
        self.sep();
        self.escaped(k);
        self.punct(":");
        self.comma = false;
    }

    pub fn null(&mut self) {
        self.sep();
        self.out.push_str("null");
    }

    pub fn bool(&mut self, b: bool) {
        self.sep();
        self.out.push_str(if b { "true" } else { "false" });
    }

    pub fn int(&mut self, n: i64) {
        self.sep();
        self.out.push_str(&n.to_string());
    }

    pub fn str(&mut self, s: &str) {
        self.sep();
        self.escaped(s);
    }

    /// Already valid JSON text, written as is.
    pub fn raw(&mut self, json: &str) {
        self.sep();
        self.out.push_str(json);
    }

    pub fn value(&mut self, v: &Json<'_>) {
        match v {
            Json::Null => self.null(),
            Json::Bool(b) => self.bool(*b),
            Json::Num(n) => self.raw(n),
            Json::Str(s) => self.str(s),
            Json::Arr(_, raw) | Json::Obj(_, raw) => self.raw(raw),
        }
    }

    fn escaped(&mut self, s: &str) {
        self.punct("\"");
        let bytes = s.as_bytes();
        let mut start = 0;
        loop {
            let i = start + plain_run(bytes.get(start..).unwrap_or(&[]));
            let Some(&b) = bytes.get(i) else {
                break;
            };
            let esc = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                _ => "",
            };
            self.out.push_str(s.get(start..i).unwrap_or(""));
            if esc.is_empty() {
                // A control character (below 0x20): \u00XX.
                let hex = |n: u8| char::from(if n < 10 { b'0' + n } else { b'a' + n - 10 });
                self.out.push_str("\\u00");
                self.out.push(hex(b >> 4));
                self.out.push(hex(b & 15));
            } else {
                self.out.push_str(esc);
            }
            start = i + 1;
        }
        self.out.push_str(s.get(start..).unwrap_or(""));
        self.punct("\"");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time scan agrees with the byte-at-a-time definition: every special byte
    /// (and a harmless neighbour of each) at every position of buffers that also hold
    /// non-ASCII bytes, which must never stop the scan.
    #[test]
    fn plain_run_stops_exactly_at_the_first_special_byte() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)
                .unwrap_or(b.len())
        };
        let fillers: [&[u8]; 3] = [
            b"abcdefgh",
            "é€😀ü".as_bytes(),
            &[0x7f, 0x80, 0xff, 0x21, 0x5b, 0x5d],
        ];
        let probes = [
            b'"',
            b'\\',
            0x00,
            0x1f,
            0x0a,
            0x20,
            0x21,
            0x5c ^ 1,
            0x22 ^ 1,
            0x80,
        ];
        for filler in fillers {
            for len in 0..40 {
                let base: Vec<u8> = filler.iter().copied().cycle().take(len).collect();
                assert_eq!(plain_run(&base), naive(&base));
                for at in 0..len {
                    for p in probes {
                        let mut b = base.clone();
                        b[at] = p;
                        assert_eq!(plain_run(&b), naive(&b), "{b:?}");
                    }
                }
            }
        }
    }

    fn ok(s: &str) -> Json<'_> {
        Json::parse(s).unwrap_or_else(|e| panic!("{s:?}: {e:?}"))
    }

    #[test]
    fn parses_documents() {
        assert_eq!(ok(" null "), Json::Null);
        assert_eq!(
            ok("[true,false]"),
            Json::Arr(vec![Json::Bool(true), Json::Bool(false)], "[true,false]")
        );
        assert_eq!(ok("-0.5e+10"), Json::Num("-0.5e+10"));
        assert_eq!(ok("1e400"), Json::Num("1e400"));
        assert_eq!(
            ok(r#""a\"\\\/\b\f\n\r\tÿ""#),
            Json::Str("a\"\\/\u{8}\u{c}\n\r\tÿ".into())
        );
        assert_eq!(ok(r#""\ud83d\udc99""#), Json::Str("💙".into()));
        let o = ok(r#"{"a":1,"b":{"c":[]},"a":2}"#);
        assert_eq!(o.get("a"), Some(&Json::Num("2")));
        assert_eq!(o.get("b").unwrap().raw(), r#"{"c":[]}"#);
        assert_eq!(o.get("a").unwrap().as_i64(), Some(2));
        assert_eq!(ok("12345678901234567890").as_i64(), None);
    }

    #[test]
    fn refuses_what_is_not_json() {
        for bad in [
            "",
            " ",
            "nul",
            "tru",
            "[1,]",
            "[,1]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{a:1}",
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "+1",
            "\"abc",
            "\"\\x\"",
            "\"\\ud83d\"",
            "\"\\udc99\"",
            "\"\\u12\"",
            "\"a\tb\"",
            "[1] 2",
            "NaN",
            "Infinity",
            "'a'",
            "[\"\n\"]",
            "\u{feff}1",
        ] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep = |n| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert!(Json::parse(&deep(MAX_DEPTH)).is_ok());
        let e = Json::parse(&deep(MAX_DEPTH + 1)).unwrap_err();
        assert!(e.too_deep);
        assert!(Json::parse(&deep(1_000_000)).unwrap_err().too_deep);
    }

    #[test]
    fn errors_point_at_the_problem() {
        let src = "{\n  \"a\": tru\n}";
        let e = Json::parse(src).unwrap_err();
        assert_eq!(e.line_column(src), (2, 8));
    }

    #[test]
    fn writes_compact_escaped_json() {
        let mut w = Writer::default();
        w.begin_object();
        w.key("s");
        w.str("q\"\\\n\u{1}é💙");
        w.key("n");
        w.int(-3);
        w.key("x");
        w.null();
        w.key("a");
        w.begin_array();
        w.bool(true);
        w.raw("{\"k\":1}");
        w.end_array();
        w.end_object();
        assert_eq!(
            w.finish(),
            r#"{"s":"q\"\\\n\u0001é💙","n":-3,"x":null,"a":[true,{"k":1}]}"#
        );
    }
}
