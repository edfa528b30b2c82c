//! RFC 3339 timestamps (`2026-02-13T10:30:00Z`, `…T10:30:00.123+02:00`) to unix seconds.

/// Days from 1970-01-01 to the civil date (proleptic Gregorian), after H. Hinnant's
/// `days_from_civil`.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn digits(b: &[u8], from: usize, n: usize) -> Option<i64> {
    let s = b.get(from..from + n)?;
    s.iter().try_fold(0i64, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

/// Parses an RFC 3339 date-time (`T`/`t`/space separator, optional fraction, `Z` or a numeric
/// offset). Fractions are dropped. `None` for anything else, including impossible dates.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b.len() > 40 {
        return None;
    }
    let (year, month, day) = (digits(b, 0, 4)?, digits(b, 5, 2)?, digits(b, 8, 2)?);
    let (hour, min, sec) = (digits(b, 11, 2)?, digits(b, 14, 2)?, digits(b, 17, 2)?);
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b't' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let month_days = [
        31,
        if is_leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(month - 1).ok()?)?;
    // Second 60 is a leap second; it is kept as :59 + 1, i.e. the next minute's :00.
    if !(1..=max_day).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    let offset = match b.get(i..)? {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] if b.len() == i + 6 && b.get(i + 3) == Some(&b':') => {
            let (oh, om) = (digits(b, i + 1, 2)?, digits(b, i + 4, 2)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset)
}

#[cfg(test)]
mod tests {
    use super::parse_rfc3339 as p;

    #[test]
    fn parses_the_forms_senders_use() {
        assert_eq!(p("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(p("2026-02-13T10:30:00Z"), Some(1_770_978_600));
        assert_eq!(p("2026-06-12T14:42:11Z"), Some(1_781_275_331));
        assert_eq!(p("2026-06-12T14:42:11.123456Z"), Some(1_781_275_331));
        assert_eq!(p("2026-06-12T16:42:11+02:00"), Some(1_781_275_331));
        assert_eq!(p("2026-06-12t14:42:11z"), Some(1_781_275_331));
        assert_eq!(p("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        assert_eq!(p("1969-12-31T23:59:59Z"), Some(-1));
    }

    #[test]
    fn refuses_everything_else() {
        for bad in [
            "",
            "2026-02-13",
            "2026-02-13T10:30:00",
            "2026-02-30T10:30:00Z",
            "2025-02-29T10:30:00Z",
            "2026-13-01T10:30:00Z",
            "2026-00-01T10:30:00Z",
            "2026-02-13T24:00:00Z",
            "2026-02-13T10:30:00.Z",
            "2026-02-13T10:30:00+0200",
            "2026-02-13T10:30:00+02:00x",
            "2026-02-13T10:30:00ZZ",
            "+026-02-13T10:30:00Z",
            "2026-02-13T10:30:00+24:00",
            "२०२६-02-13T10:30:00Z",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
    }
}
