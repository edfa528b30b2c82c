//! JSON strings written fast. The event log's insert carries each event's envelope (JSON text)
//! as a string inside one JSON parameter, so a body of 1,000 events escapes about 0.7 MB of
//! text. Most of it needs no escaping: it is scanned eight bytes at a time and copied in runs.
//! (serde_json's escaper, generic over its writer, is compiled with the Worker at its size-first
//! level and looks at one byte at a time: about 1.4 ms of such a body in the handler.)
//!
//! The output is serde_json's, byte for byte (a test holds the two together).

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of eight bytes is a quote, a backslash or a control character (below 0x20).
/// (A byte of zero in `v` shows as a high bit in `v - ONES & !v & HIGHS`; one below `n` in
/// `v - n * ONES & !v & HIGHS`, for `n` up to 128.)
const fn special(word: u64) -> bool {
    const fn zero(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGHS
    }
    let control = word.wrapping_sub(ONES * 0x20) & !word & HIGHS;
    (control | zero(word ^ (ONES * b'"' as u64)) | zero(word ^ (ONES * b'\\' as u64))) != 0
}

/// How a byte is written inside a JSON string, when it is not written as it is.
fn escaped(b: u8) -> Option<&'static str> {
    Some(match b {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        0x08 => "\\b",
        0x0c => "\\f",
        0x00..=0x1f => "",
        _ => return None,
    })
}

/// Appends `s` to `out` as a JSON string, its quotes included.
pub fn string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(s.len() + 2);
    out.push('"');
    // `copied`: where the bytes not yet written start. Every escaped byte is ASCII, so the runs
    // between them start and end on character boundaries.
    let (mut copied, mut i) = (0, 0);
    while i < bytes.len() {
        if let Some(word) = bytes.get(i..i + 8).and_then(|w| w.try_into().ok())
            && !special(u64::from_le_bytes(word))
        {
            i += 8;
            continue;
        }
        let Some(&b) = bytes.get(i) else { break };
        i += 1;
        let Some(text) = escaped(b) else { continue };
        out.push_str(s.get(copied..i - 1).unwrap_or_default());
        copied = i;
        if text.is_empty() {
            let hex = |n: u8| char::from(HEX.get(usize::from(n & 0xf)).copied().unwrap_or(b'0'));
            out.push_str("\\u00");
            out.push(hex(b >> 4));
            out.push(hex(b));
        } else {
            out.push_str(text);
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(s: &str) -> String {
        let mut out = String::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn strings_are_written_as_serde_json_writes_them() {
        // Every control character, the two escapes, ASCII, and characters of two to four bytes,
        // at every offset into a word and in runs longer than one.
        let alphabet: Vec<char> = (0u8..0x20)
            .map(char::from)
            .chain([
                '"', '\\', '/', 'a', 'Z', ' ', '~', '\u{7f}', 'é', '€', '😀', '\u{2028}',
            ])
            .collect();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            usize::try_from(seed >> 33).unwrap() % n
        };
        for _ in 0..20_000 {
            let len = next(40);
            let s: String = (0..len)
                .map(|_| {
                    // Mostly plain letters, as envelopes are, so that whole words pass.
                    if next(4) == 0 {
                        alphabet[next(alphabet.len())]
                    } else {
                        'x'
                    }
                })
                .collect();
            assert_eq!(written(&s), serde_json::to_string(&s).unwrap(), "{s:?}");
        }
        let envelope = r#"{"id":"wamid.1","text":"a \"quoted\"\nline","emoji":"😀"}"#.repeat(50);
        assert_eq!(
            written(&envelope),
            serde_json::to_string(&envelope).unwrap()
        );
        assert_eq!(written(""), "\"\"");
    }

    #[test]
    fn a_word_is_special_exactly_when_one_of_its_bytes_is() {
        for b in 0..=255u8 {
            for at in 0..8 {
                let mut word = *b"abcdefgh";
                word[at] = b;
                let want = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(
                    special(u64::from_le_bytes(word)),
                    want,
                    "byte {b:#x} at {at}"
                );
            }
        }
    }
}
