//! `application/x-www-form-urlencoded` bodies (Twilio's webhooks): decoding, and the sorted
//! parameter list Twilio signs.

/// The body's parameters in order, decoded as Express's `urlencoded()` parser (qs) decodes them,
/// since that is what twilio-node's validation sees (see [`decode`]). Empty pieces (`a=1&&b=2`)
/// are skipped, and a piece without `=` is a name with an empty value.
pub(crate) fn parse(body: &[u8]) -> Vec<(String, String)> {
    body.split(|&b| b == b'&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = match piece.iter().position(|&b| b == b'=') {
                Some(at) => (
                    piece.get(..at).unwrap_or(&[]),
                    piece.get(at + 1..).unwrap_or(&[]),
                ),
                None => (piece, &[][..]),
            };
            (decode(name), decode(value))
        })
        .collect()
}

/// One form-encoded component, decoded as Express's parser (qs) decodes it: `+` is a space,
/// then `%XX` escapes are decoded; a malformed escape, or escapes that are not UTF-8, leave the
/// component as it was (with `+` still a space), as `decodeURIComponent` failing does there.
fn decode(s: &[u8]) -> String {
    let spaced: Vec<u8> = s
        .iter()
        .map(|&b| if b == b'+' { b' ' } else { b })
        .collect();
    let mut out = Vec::with_capacity(spaced.len());
    let mut i = 0;
    while let Some(&b) = spaced.get(i) {
        if b == b'%' {
            match (
                spaced.get(i + 1).and_then(hex),
                spaced.get(i + 2).and_then(hex),
            ) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                    continue;
                }
                _ => return String::from_utf8(spaced).unwrap_or_default(),
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8(out)
        .or_else(|_| String::from_utf8(spaced))
        .unwrap_or_default()
}

fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The parameters as Twilio signs them: sorted by name, and for a repeated name each distinct
/// value once, the values sorted; both orders are JavaScript's (UTF-16 code units), as
/// twilio-node sorts.
pub(crate) fn twilio_sorted(mut params: Vec<(String, String)>) -> Vec<(String, String)> {
    heap_sort(&mut params, &|a, b| {
        a.0.encode_utf16()
            .cmp(b.0.encode_utf16())
            .then_with(|| a.1.encode_utf16().cmp(b.1.encode_utf16()))
            .is_lt()
    });
    params.dedup();
    params
}

/// A heapsort: O(n log n) however the input is ordered, in place, and a few hundred bytes of
/// wasm where the standard library's sorts cost several kilobytes. `lt` is "less than".
fn heap_sort<T>(v: &mut [T], lt: &dyn Fn(&T, &T) -> bool) {
    // Whether v[a] < v[b] (false for an index out of range, which the loop never makes).
    let less = |v: &[T], a: usize, b: usize| match (v.get(a), v.get(b)) {
        (Some(x), Some(y)) => lt(x, y),
        _ => false,
    };
    // Moves v[i] down the heap of the first `end` elements.
    let sift = |v: &mut [T], mut i: usize, end: usize| loop {
        let mut child = 2 * i + 1;
        if child >= end {
            return;
        }
        if child + 1 < end && less(v, child, child + 1) {
            child += 1;
        }
        if !less(v, i, child) {
            return;
        }
        v.swap(i, child);
        i = child;
    };
    for i in (0..v.len() / 2).rev() {
        sift(v, i, v.len());
    }
    for end in (1..v.len()).rev() {
        v.swap(0, end);
        sift(v, 0, end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn decodes_like_a_form_parser() {
        assert_eq!(
            parse(b"Body=Hello+w%C3%B6rld%21&From=whatsapp%3A%2B14155238886&&Empty=&Flag"),
            pairs(&[
                ("Body", "Hello wörld!"),
                ("From", "whatsapp:+14155238886"),
                ("Empty", ""),
                ("Flag", ""),
            ])
        );
        // A broken escape, or escapes that are not UTF-8, leave the component as sent (but
        // `+` is still a space), as qs does when decodeURIComponent throws.
        assert_eq!(
            parse(b"a=%41%zz+b&b=%ff%41&c=%C3%A9"),
            pairs(&[("a", "%41%zz b"), ("b", "%ff%41"), ("c", "é")])
        );
        assert_eq!(parse(b""), pairs(&[]));
        assert_eq!(parse(b"a==b"), pairs(&[("a", "=b")]));
    }

    #[test]
    fn heap_sort_sorts() {
        let mut seed = 7u32;
        for n in [0usize, 1, 2, 3, 10, 257] {
            let v: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    seed >> 20
                })
                .collect();
            let mut want = v.clone();
            want.sort_unstable();
            let mut got = v;
            heap_sort(&mut got, &|a, b| a < b);
            assert_eq!(got, want);
        }
    }

    #[test]
    fn twilio_order_is_by_name_then_distinct_values() {
        let got = twilio_sorted(pairs(&[
            ("b", "2"),
            ("a", "z"),
            ("b", "1"),
            ("a", "z"),
            ("B", "0"),
        ]));
        assert_eq!(
            got,
            pairs(&[("B", "0"), ("a", "z"), ("b", "1"), ("b", "2")])
        );
        // JavaScript's order: U+1F600 (surrogates D83D DE00) before U+FF5E, unlike code points.
        let got = twilio_sorted(pairs(&[("😀", ""), ("～", "")]));
        assert_eq!(got, pairs(&[("😀", ""), ("～", "")]));
    }
}
