//! Case-insensitive matching for the regex engine's `i` flag. Two characters are the same but
//! for case when their lower-case forms (the first character of `char::to_lowercase`) are equal:
//! `k`, `K` and the Kelvin sign `K` are one letter, as are `σ` and `Σ` (but not `ς`, whose
//! lower case is itself).
//!
//! The lower-case mapping comes from a table 12 times smaller than the standard library's
//! (1.5 KB against 24 KB of the npm module): a sorted list of runs `(packed, delta)`, `packed`
//! holding the run's first code point (bits 0–20), its step less one (bit 21: every character,
//! or every other one) and its length (bits 22–28); every character of a run lower-cases to
//! itself plus `delta`, and a character in no run to itself. The table is generated from the
//! pinned toolchain's standard library and checked against it for every character by the test
//! below, which prints it anew when it differs (after a toolchain update that moves Unicode).

/// The first character of `c`'s lower-case form.
pub(crate) fn lower(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    let u = c as u32;
    // The last run starting at or before `c`: runs do not overlap.
    let i = LOWER.partition_point(|&(packed, _)| packed & 0x1f_ffff <= u);
    match i.checked_sub(1).and_then(|i| LOWER.get(i)) {
        Some(&(packed, delta)) if in_run(packed, u) => shifted(u, delta).unwrap_or(c),
        _ => c,
    }
}

/// Whether `hit` holds for `c` or for any character that is `c` but for case.
pub(crate) fn any_case(c: char, mut hit: impl FnMut(char) -> bool) -> bool {
    let low = lower(c);
    if hit(c) || hit(low) {
        return true;
    }
    let l = low as u32;
    if low.is_ascii_lowercase() && hit(low.to_ascii_uppercase()) {
        return true;
    }
    // Every character whose lower case is `low`: one per run that maps onto it.
    LOWER.iter().any(|&(packed, delta)| {
        shifted(l, -delta).is_some_and(|x| in_run(packed, x as u32) && x != c && hit(x))
    })
}

fn in_run(packed: u32, u: u32) -> bool {
    let start = packed & 0x1f_ffff;
    let step = 1 + ((packed >> 21) & 1);
    let len = packed >> 22;
    u.checked_sub(start)
        .is_some_and(|offset| offset % step == 0 && offset / step < len)
}

fn shifted(u: u32, delta: i32) -> Option<char> {
    u.checked_add_signed(delta).and_then(char::from_u32)
}

#[rustfmt::skip]
static LOWER: [(u32, i32); 185] = [
    (0x05c000c0, 32), (0x01c000d8, 32), (0x06200100, 1), (0x00400130, -199), (0x00e00132, 1),
    (0x02200139, 1), (0x05e0014a, 1), (0x00400178, -121), (0x00e00179, 1), (0x00400181, 210),
    (0x00a00182, 1), (0x00400186, 206), (0x00400187, 1), (0x00800189, 205), (0x0040018b, 1),
    (0x0040018e, 79), (0x0040018f, 202), (0x00400190, 203), (0x00400191, 1), (0x00400193, 205),
    (0x00400194, 207), (0x00400196, 211), (0x00400197, 209), (0x00400198, 1), (0x0040019c, 211),
    (0x0040019d, 213), (0x0040019f, 214), (0x00e001a0, 1), (0x004001a6, 218), (0x004001a7, 1),
    (0x004001a9, 218), (0x004001ac, 1), (0x004001ae, 218), (0x004001af, 1), (0x008001b1, 217),
    (0x00a001b3, 1), (0x004001b7, 219), (0x004001b8, 1), (0x004001bc, 1), (0x004001c4, 2),
    (0x004001c5, 1), (0x004001c7, 2), (0x004001c8, 1), (0x004001ca, 2), (0x026001cb, 1),
    (0x026001de, 1), (0x004001f1, 2), (0x00a001f2, 1), (0x004001f6, -97), (0x004001f7, -56),
    (0x052001f8, 1), (0x00400220, -130), (0x02600222, 1), (0x0040023a, 10795), (0x0040023b, 1),
    (0x0040023d, -163), (0x0040023e, 10792), (0x00400241, 1), (0x00400243, -195), (0x00400244, 69),
    (0x00400245, 71), (0x01600246, 1), (0x00a00370, 1), (0x00400376, 1), (0x0040037f, 116),
    (0x00400386, 38), (0x00c00388, 37), (0x0040038c, 64), (0x0080038e, 63), (0x04400391, 32),
    (0x024003a3, 32), (0x004003cf, 8), (0x032003d8, 1), (0x004003f4, -60), (0x004003f7, 1),
    (0x004003f9, -7), (0x004003fa, 1), (0x00c003fd, -130), (0x04000400, 80), (0x08000410, 32),
    (0x04600460, 1), (0x06e0048a, 1), (0x004004c0, 15), (0x01e004c1, 1), (0x0c2004d0, 1),
    (0x09800531, 48), (0x098010a0, 7264), (0x004010c7, 7264), (0x004010cd, 7264),
    (0x140013a0, 38864), (0x018013f0, 8), (0x00401c89, 1), (0x0ac01c90, -3008),
    (0x00c01cbd, -3008), (0x12e01e00, 1), (0x00401e9e, -7615), (0x0c201ea0, 1), (0x02001f08, -8),
    (0x01801f18, -8), (0x02001f28, -8), (0x02001f38, -8), (0x01801f48, -8), (0x01201f59, -8),
    (0x02001f68, -8), (0x02001f88, -8), (0x02001f98, -8), (0x02001fa8, -8), (0x00801fb8, -8),
    (0x00801fba, -74), (0x00401fbc, -9), (0x01001fc8, -86), (0x00401fcc, -9), (0x00801fd8, -8),
    (0x00801fda, -100), (0x00801fe8, -8), (0x00801fea, -112), (0x00401fec, -7), (0x00801ff8, -128),
    (0x00801ffa, -126), (0x00401ffc, -9), (0x00402126, -7517), (0x0040212a, -8383),
    (0x0040212b, -8262), (0x00402132, 28), (0x04002160, 16), (0x00402183, 1), (0x068024b6, 26),
    (0x0c002c00, 48), (0x00402c60, 1), (0x00402c62, -10743), (0x00402c63, -3814),
    (0x00402c64, -10727), (0x00e02c67, 1), (0x00402c6d, -10780), (0x00402c6e, -10749),
    (0x00402c6f, -10783), (0x00402c70, -10782), (0x00402c72, 1), (0x00402c75, 1),
    (0x00802c7e, -10815), (0x0ca02c80, 1), (0x00a02ceb, 1), (0x00402cf2, 1), (0x05e0a640, 1),
    (0x03a0a680, 1), (0x01e0a722, 1), (0x07e0a732, 1), (0x00a0a779, 1), (0x0040a77d, -35332),
    (0x0160a77e, 1), (0x0040a78b, 1), (0x0040a78d, -42280), (0x00a0a790, 1), (0x02a0a796, 1),
    (0x0040a7aa, -42308), (0x0040a7ab, -42319), (0x0040a7ac, -42315), (0x0040a7ad, -42305),
    (0x0040a7ae, -42308), (0x0040a7b0, -42258), (0x0040a7b1, -42282), (0x0040a7b2, -42261),
    (0x0040a7b3, 928), (0x0220a7b4, 1), (0x0040a7c4, -48), (0x0040a7c5, -42307),
    (0x0040a7c6, -35384), (0x00a0a7c7, 1), (0x0040a7cb, -42343), (0x0220a7cc, 1),
    (0x0040a7dc, -42561), (0x0040a7f5, 1), (0x0680ff21, 32), (0x0a010400, 40), (0x090104b0, 40),
    (0x02c10570, 39), (0x03c1057c, 39), (0x01c1058c, 39), (0x00810594, 39), (0x0cc10c80, 64),
    (0x05810d50, 32), (0x080118a0, 32), (0x08016e40, 32), (0x06416ea0, 27), (0x0881e900, 34),
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn lower_std(c: char) -> char {
        c.to_lowercase().next().unwrap_or(c)
    }

    /// The runs of non-ASCII characters whose lower case differs, as the table holds them.
    fn runs() -> Vec<(u32, i32)> {
        let changed: Vec<(u32, i32)> = (0x80..=0x10_ffff_u32)
            .filter_map(char::from_u32)
            .filter(|&c| lower_std(c) != c)
            .map(|c| (c as u32, lower_std(c) as i32 - c as i32))
            .collect();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(&(start, delta)) = changed.get(i) {
            let (mut step, mut len) = (1, 1);
            for s in [1, 2] {
                let mut n = 1;
                while n < 127 && changed.get(i + n as usize) == Some(&(start + s * n, delta)) {
                    n += 1;
                }
                if n > len {
                    (step, len) = (s, n);
                }
            }
            out.push((start | ((step - 1) << 21) | (len << 22), delta));
            i += len as usize;
        }
        out
    }

    #[test]
    fn the_table_is_the_standard_librarys() {
        let want = runs();
        let items: Vec<String> = want
            .iter()
            .map(|(p, d)| format!("(0x{p:08x}, {d}),"))
            .collect();
        assert!(
            LOWER[..] == want[..],
            "the toolchain's Unicode moved: replace the table with\n\
             static LOWER: [(u32, i32); {}] = [\n{}\n];",
            want.len(),
            items.join(" ")
        );
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            assert_eq!(lower(c), lower_std(c), "{c:?}");
        }
    }

    #[test]
    fn any_case_reaches_every_character_with_the_same_lower_case() {
        let mut orbits: BTreeMap<char, BTreeSet<char>> = BTreeMap::new();
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            orbits.entry(lower_std(c)).or_default().insert(c);
        }
        for c in (0..=0x10_ffff_u32).filter_map(char::from_u32) {
            let low = lower_std(c);
            let mut want: BTreeSet<char> = orbits.get(&low).cloned().unwrap_or_default();
            want.insert(c);
            want.insert(low);
            let mut got = BTreeSet::new();
            assert!(!any_case(c, |x| {
                got.insert(x);
                false
            }));
            assert_eq!(got, want, "{c:?}");
        }
        assert!(any_case('k', |x| x == '\u{212a}'));
        assert!(any_case('\u{3c3}', |x| x == '\u{3a3}'));
        assert!(!any_case('\u{3c2}', |x| x == '\u{3a3}')); // ς lower-cases to itself
        assert!(!any_case('a', |x| x == 'b'));
    }
}
