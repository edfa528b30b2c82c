//! Filters: which events a route takes, in the JSON match language of Hookdeck's connection
//! filters, Outpost's destination filters and Convoy's subscription filters, so a filter written
//! for one of them reads the same here.
//!
//! A filter is a JSON value matched against the event (the envelope hookseal writes, with
//! `source` added):
//!
//! - a string, number, boolean or `null` matches an equal value (numbers by value: `1` and `1.0`
//!   are equal; no conversion between types: `"1"` is not `1`), or an array containing one;
//! - an array matches an array that contains a match for each of its items;
//! - an object matches an object whose fields match its fields (an array matches when one of
//!   its elements does); fields it does not name are ignored;
//! - operators, in an object: `$eq` `$neq` (deep equality), `$gt` `$gte` `$lt` `$lte` (numbers,
//!   or strings by code point), `$in` `$nin` (in an array of values; for a string, a substring;
//!   for an array value, any element), `$startsWith` `$endsWith` (a string, or an array of
//!   them: any), `$exist` (`true`/`false`), `$regex` (see `regex.rs`: linear time, the common
//!   syntax of JavaScript, Go and Rust), and `$and` `$or` (arrays of filters) and `$not` (a
//!   filter). Everything in one object must hold.
//!
//! A field that is missing matches only `{ "$exist": false }` (and a `$not` or `$or` built on
//! it). A filter that cannot mean anything (an unknown operator, `$gt` with an array, a
//! malformed `$regex`, an empty `$or`) is refused when it is read, with the path of the problem:
//! it is never a filter that silently matches nothing. Where this differs from Hookdeck's
//! `simple-json-match` (which coerces `"1" == 1`, and answers "no match" for what is refused
//! here), hookseal's rule is listed in `tests/filters/cases.json`.

use core::cmp::Ordering;

use crate::error::{ConfigProblem, Error};
use crate::json::Json;
use crate::regex::Regex;

/// Filters nested deeper than this are refused.
const MAX_DEPTH: usize = 32;

/// A compiled filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    root: Schema,
}

/// An event (or any JSON document) parsed once, to be matched by several filters and rendered
/// by templates.
#[derive(Clone, Debug)]
pub struct Document<'a>(pub(crate) Json<'a>);

impl<'a> Document<'a> {
    /// Parses a JSON document.
    pub fn parse(text: &'a str) -> Result<Self, Error> {
        Self::from_bytes(text.as_bytes())
    }

    /// Parses a JSON document from its bytes (`invalid_utf8` when they are not UTF-8).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, Error> {
        crate::event::document(bytes).map(Self)
    }

    /// Where the object or array at `path` sits in `text`, the text this document was parsed
    /// from, as a byte range (`None` for a missing path, another kind of value, or another
    /// text): lets a caller add a member to an object without rewriting the rest of the text.
    #[must_use]
    pub fn span_at(&self, text: &str, path: &crate::path::Path) -> Option<core::ops::Range<usize>> {
        let raw = match path.get(&self.0)? {
            Json::Obj(_, raw) | Json::Arr(_, raw) => *raw,
            _ => return None,
        };
        let start = (raw.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
        let end = start.checked_add(raw.len())?;
        (text.get(start..end) == Some(raw)).then_some(start..end)
    }

    /// The value at `path` as text (a string as it is, anything else as its JSON), or `None`
    /// when the path is missing.
    #[must_use]
    pub fn text_at(&self, path: &crate::path::Path) -> Option<String> {
        Some(match path.get(&self.0)? {
            Json::Str(s) => s.to_string(),
            other => other.raw().into_owned(),
        })
    }
}

/// A literal value of a filter, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Lit {
    Null,
    Bool(bool),
    /// A number, as its JSON text.
    Num(String),
    Str(String),
    Arr(Vec<Lit>),
    Obj(Vec<(String, Lit)>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Schema {
    /// A string, number, boolean or `null`.
    Prim(Lit),
    /// Each item is matched by some element.
    Arr(Vec<Schema>),
    /// Everything must hold.
    Obj {
        fields: Vec<(String, Schema)>,
        ops: Vec<Op>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Eq(Lit),
    Neq(Lit),
    Cmp(Ordering, bool, Lit),
    In(bool, Lit),
    StartsWith(Vec<String>),
    EndsWith(Vec<String>),
    Exist(bool),
    Regex(Regex),
    And(Vec<Schema>),
    Or(Vec<Schema>),
    Not(Box<Schema>),
}

const OPERATORS: &str = "$eq, $neq, $gt, $gte, $lt, $lte, $in, $nin, $startsWith, $endsWith, \
                         $exist, $regex, $and, $or, $not";

/// Where in a filter: written out only for an error (`data.kind`, `$or[1]`).
#[derive(Clone, Copy)]
enum At<'a> {
    Root,
    Key(&'a At<'a>, &'a str),
    Index(&'a At<'a>, usize),
}

impl core::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Root => Ok(()),
            Self::Key(At::Root, k) => f.write_str(k),
            Self::Key(parent, k) => write!(f, "{parent}.{k}"),
            Self::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn problem(at: &At<'_>, why: impl core::fmt::Display) -> Error {
    let message = match at {
        At::Root => format!("the filter: {why}"),
        _ => format!("{at}: {why}"),
    };
    Error::InvalidConfig(ConfigProblem::BadFilter(message))
}

impl Filter {
    /// Reads a filter from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let json = Json::parse(text).map_err(|e| {
            let (line, column) = e.line_column(text);
            problem(
                &At::Root,
                format_args!("not JSON (line {line}, column {column})"),
            )
        })?;
        Ok(Self {
            root: compile(&json, &At::Root, 0)?,
        })
    }

    /// Whether the event (its JSON text) matches. A document that is not JSON is an error.
    pub fn matches_json(&self, event: &str) -> Result<bool, Error> {
        Ok(self.matches(&Document::parse(event)?))
    }

    /// Whether the document matches.
    #[must_use]
    pub fn matches(&self, doc: &Document<'_>) -> bool {
        matches(Some(&doc.0), &self.root)
    }
}

fn lit(v: &Json<'_>) -> Lit {
    match v {
        Json::Null => Lit::Null,
        Json::Bool(b) => Lit::Bool(*b),
        Json::Num(n) => Lit::Num((*n).to_owned()),
        Json::Str(s) => Lit::Str(s.to_string()),
        Json::Arr(items, _) => Lit::Arr(items.iter().map(lit).collect()),
        Json::Obj(members, _) => {
            // The last of a repeated key, as lookups see it.
            let mut out: Vec<(String, Lit)> = Vec::new();
            for (k, v) in members {
                out.retain(|(seen, _)| seen != k);
                out.push((k.to_string(), lit(v)));
            }
            Lit::Obj(out)
        }
    }
}

fn compile(v: &Json<'_>, at: &At<'_>, depth: usize) -> Result<Schema, Error> {
    if depth > MAX_DEPTH {
        return Err(problem(at, "nested too deeply"));
    }
    let list = |items: &[Json<'_>], at: &At<'_>| {
        items
            .iter()
            .enumerate()
            .map(|(i, s)| compile(s, &At::Index(at, i), depth + 1))
            .collect::<Result<Vec<_>, _>>()
    };
    match v {
        Json::Arr(items, _) => Ok(Schema::Arr(list(items, at)?)),
        Json::Obj(members, _) => {
            let (mut fields, mut ops) = (Vec::new(), Vec::new());
            for (k, v) in members {
                let here = At::Key(at, k);
                match &**k {
                    "$and" | "$or" => {
                        let Json::Arr(items, _) = v else {
                            return Err(problem(&here, "must be an array of filters"));
                        };
                        if items.is_empty() {
                            return Err(problem(&here, "must not be empty"));
                        }
                        let list = list(items, &here)?;
                        ops.push(if &**k == "$and" {
                            Op::And(list)
                        } else {
                            Op::Or(list)
                        });
                    }
                    "$not" => ops.push(Op::Not(Box::new(compile(v, &here, depth + 1)?))),
                    op if op.starts_with('$') => ops.push(operator(op, v, &here)?),
                    _ => fields.push((k.to_string(), compile(v, &here, depth + 1)?)),
                }
            }
            Ok(Schema::Obj { fields, ops })
        }
        prim => Ok(Schema::Prim(lit(prim))),
    }
}

fn strings(v: &Json<'_>, at: &At<'_>) -> Result<Vec<String>, Error> {
    let bad = || problem(at, "must be a string or a non-empty array of strings");
    match v {
        Json::Str(s) => Ok(vec![s.to_string()]),
        Json::Arr(items, _) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

fn operator(op: &str, v: &Json<'_>, at: &At<'_>) -> Result<Op, Error> {
    let comparable = || match v {
        Json::Num(_) | Json::Str(_) => Ok(lit(v)),
        _ => Err(problem(at, "compares with a number or a string")),
    };
    Ok(match op {
        "$eq" => Op::Eq(lit(v)),
        "$neq" => Op::Neq(lit(v)),
        "$gt" => Op::Cmp(Ordering::Greater, false, comparable()?),
        "$gte" => Op::Cmp(Ordering::Greater, true, comparable()?),
        "$lt" => Op::Cmp(Ordering::Less, false, comparable()?),
        "$lte" => Op::Cmp(Ordering::Less, true, comparable()?),
        "$in" | "$nin" => match v {
            Json::Arr(..) | Json::Str(_) => Op::In(op == "$in", lit(v)),
            _ => return Err(problem(at, "must be an array of values or a string")),
        },
        "$startsWith" => Op::StartsWith(strings(v, at)?),
        "$endsWith" => Op::EndsWith(strings(v, at)?),
        "$exist" => match v {
            Json::Bool(b) => Op::Exist(*b),
            _ => return Err(problem(at, "must be true or false")),
        },
        "$regex" => {
            let pattern = v
                .as_str()
                .ok_or_else(|| problem(at, "must be a string (the pattern)"))?;
            Op::Regex(Regex::new(pattern).map_err(|e| {
                problem(
                    at,
                    format_args!("{} (at character {} of the pattern)", e.why, e.at),
                )
            })?)
        }
        "$ref" => return Err(problem(at, "`$ref` is not supported")),
        other => {
            return Err(problem(
                at,
                format_args!("unknown operator `{other}` (known: {OPERATORS})"),
            ));
        }
    })
}

/// Whether `v` (`None`: missing) matches `s`.
fn matches(v: Option<&Json<'_>>, s: &Schema) -> bool {
    match s {
        Schema::Prim(p) => match v {
            Some(Json::Arr(items, _)) => items.iter().any(|e| matches(Some(e), s)),
            Some(x) => prim_eq(x, p),
            None => false,
        },
        Schema::Arr(subs) => match v {
            Some(Json::Arr(items, _)) => subs
                .iter()
                .all(|sub| items.iter().any(|e| matches(Some(e), sub))),
            _ => false,
        },
        Schema::Obj { fields, ops } => {
            ops.iter().all(|op| apply(op, v))
                // A bare object pattern (or one with fields) needs an object.
                && (fields.is_empty() && !ops.is_empty() || fields_match(fields, v))
        }
    }
}

/// An object whose fields match (an array: one of its elements).
fn fields_match(fields: &[(String, Schema)], v: Option<&Json<'_>>) -> bool {
    match v {
        Some(obj @ Json::Obj(..)) => fields.iter().all(|(k, s)| matches(obj.get(k), s)),
        Some(Json::Arr(items, _)) => items.iter().any(|e| fields_match(fields, Some(e))),
        _ => false,
    }
}

/// Primitive equality: same type, numbers by value.
fn prim_eq(v: &Json<'_>, p: &Lit) -> bool {
    match (v, p) {
        (Json::Null, Lit::Null) => true,
        (Json::Bool(a), Lit::Bool(b)) => a == b,
        (Json::Num(a), Lit::Num(b)) => num_cmp(a, b) == Ordering::Equal,
        (Json::Str(a), Lit::Str(b)) => **a == **b,
        _ => false,
    }
}

/// Deep equality: arrays item by item, objects by their keys whatever the order.
fn deep_eq(v: &Json<'_>, p: &Lit) -> bool {
    match (v, p) {
        (Json::Arr(items, _), Lit::Arr(lits)) => {
            items.len() == lits.len() && items.iter().zip(lits).all(|(a, b)| deep_eq(a, b))
        }
        (Json::Obj(members, _), Lit::Obj(lits)) => {
            // As many distinct keys (a repeated key counts once, its last value looked up).
            let distinct = members
                .iter()
                .enumerate()
                .filter(|(i, (k, _))| !members.iter().skip(i + 1).any(|(later, _)| later == k))
                .count();
            distinct == lits.len()
                && lits
                    .iter()
                    .all(|(k, l)| v.get(k).is_some_and(|x| deep_eq(x, l)))
        }
        _ => prim_eq(v, p),
    }
}

fn apply(op: &Op, v: Option<&Json<'_>>) -> bool {
    let Some(x) = v else {
        // A missing field: only what is said of missing fields holds.
        return match op {
            Op::Exist(want) => !*want,
            Op::And(list) => list.iter().all(|s| matches(None, s)),
            Op::Or(list) => list.iter().any(|s| matches(None, s)),
            Op::Not(s) => !matches(None, s),
            _ => false,
        };
    };
    match op {
        Op::Eq(l) => deep_eq(x, l),
        Op::Neq(l) => !deep_eq(x, l),
        Op::Cmp(dir, or_equal, l) => {
            let ord = match (x, l) {
                (Json::Num(a), Lit::Num(b)) => num_cmp(a, b),
                (Json::Str(a), Lit::Str(b)) => (**a).cmp(b.as_str()),
                _ => return false,
            };
            ord == *dir || (*or_equal && ord == Ordering::Equal)
        }
        Op::In(yes, l) => in_(x, l) == *yes,
        Op::StartsWith(list) => x
            .as_str()
            .is_some_and(|s| list.iter().any(|p| s.starts_with(p.as_str()))),
        Op::EndsWith(list) => x
            .as_str()
            .is_some_and(|s| list.iter().any(|p| s.ends_with(p.as_str()))),
        Op::Regex(re) => x.as_str().is_some_and(|s| re.is_match(s)),
        Op::Exist(want) => *want,
        Op::And(list) => list.iter().all(|s| matches(v, s)),
        Op::Or(list) => list.iter().any(|s| matches(v, s)),
        Op::Not(s) => !matches(v, s),
    }
}

/// Whether `needle` occurs in `hay`, in time linear in both (Knuth–Morris–Pratt): the standard
/// library's `str::contains` costs the npm module 4 KB more, its panic paths included.
fn occurs(needle: &[u8], hay: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    // fail[i]: the length of the longest proper border of needle[..=i].
    let mut fail = vec![0usize; needle.len()];
    let mut k = 0;
    for (i, &b) in needle.iter().enumerate().skip(1) {
        while k > 0 && needle.get(k) != Some(&b) {
            k = fail.get(k - 1).copied().unwrap_or(0);
        }
        if needle.get(k) == Some(&b) {
            k += 1;
        }
        if let Some(f) = fail.get_mut(i) {
            *f = k;
        }
    }
    let mut k = 0;
    for &b in hay {
        while k > 0 && needle.get(k) != Some(&b) {
            k = fail.get(k - 1).copied().unwrap_or(0);
        }
        if needle.get(k) == Some(&b) {
            k += 1;
            if k == needle.len() {
                return true;
            }
        }
    }
    false
}

/// `$in`: a value in a list; a substring of a string; an array with an element that is either.
fn in_(v: &Json<'_>, l: &Lit) -> bool {
    match (v, l) {
        (Json::Str(s), Lit::Str(sub)) => occurs(sub.as_bytes(), s.as_bytes()),
        (Json::Arr(items, _), Lit::Str(_)) => items.iter().any(|e| prim_eq(e, l)),
        (Json::Arr(items, _), Lit::Arr(list)) => {
            items.iter().any(|e| list.iter().any(|x| deep_eq(e, x)))
        }
        (Json::Obj(..), _) => false,
        (_, Lit::Arr(list)) => list.iter().any(|x| deep_eq(v, x)),
        _ => false,
    }
}

/// A JSON number as sign, significant digits (no leading or trailing zeros; empty for zero)
/// and the power of ten of its first digit: the value is `0.{digits} × 10^power`.
fn decimal(n: &str) -> (bool, String, i64) {
    let (negative, n) = match n.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, n),
    };
    let (mantissa, exp) = match n.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.trim_start_matches('+').parse::<i64>().unwrap_or(0)),
        None => (n, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = format!("{int}{frac}");
    let significant = digits.trim_start_matches('0');
    let lead = digits.len() - significant.len();
    let power = i64::try_from(int.len())
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(lead).unwrap_or(i64::MAX))
        .saturating_add(exp);
    (
        negative,
        significant.trim_end_matches('0').to_owned(),
        power,
    )
}

/// Compares two JSON numbers exactly (no rounding through floats).
fn num_cmp(a: &str, b: &str) -> Ordering {
    let (na, da, pa) = decimal(a);
    let (nb, db, pb) = decimal(b);
    // -1, 0 or 1; zero has no sign.
    let sign = |negative: bool, digits: &str| match (digits.is_empty(), negative) {
        (true, _) => 0,
        (false, true) => -1,
        (false, false) => 1,
    };
    let (sa, sb) = (sign(na, &da), sign(nb, &db));
    if sa != sb || sa == 0 {
        return sa.cmp(&sb);
    }
    let magnitude = pa.cmp(&pb).then_with(|| da.cmp(&db));
    if sa < 0 {
        magnitude.reverse()
    } else {
        magnitude
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_into_the_text_they_were_parsed_from() {
        let text = r#"{"message":{"media":{"id":"1"},"list":[1,2]},"n":1}"#;
        let doc = Document::parse(text).unwrap();
        let at = |p: &str| doc.span_at(text, &crate::path::Path::from_config(p).unwrap());
        assert_eq!(at("message.media").map(|r| &text[r]), Some(r#"{"id":"1"}"#));
        assert_eq!(at("message.list").map(|r| &text[r]), Some("[1,2]"));
        assert_eq!(at("n"), None);
        assert_eq!(at("message.nothing"), None);
        let other = text.to_owned();
        let path = crate::path::Path::from_config("message").unwrap();
        assert_eq!(doc.span_at(&other, &path), None);
    }

    #[test]
    fn substrings_are_found_as_the_standard_library_finds_them() {
        // Every needle and haystack over a two-letter alphabet up to length 7 (borders and
        // overlaps of every shape), and a few longer ones.
        let words: Vec<String> = (0..8u32)
            .flat_map(|len| {
                (0..1u32 << len).map(move |bits| {
                    (0..len)
                        .map(|i| if bits >> i & 1 == 1 { 'b' } else { 'a' })
                        .collect()
                })
            })
            .collect();
        for hay in &words {
            for needle in words.iter().filter(|n| n.len() <= 5) {
                assert_eq!(
                    occurs(needle.as_bytes(), hay.as_bytes()),
                    hay.contains(needle.as_str()),
                    "{needle} in {hay}"
                );
            }
        }
        let long = "ab".repeat(5000) + "abc";
        assert!(occurs(b"ababc", long.as_bytes()));
        assert!(!occurs(b"abd", long.as_bytes()));
        assert!(occurs("é".as_bytes(), "café".as_bytes()));
    }

    #[test]
    fn numbers_compare_exactly() {
        use Ordering::*;
        for (a, b, want) in [
            ("1", "1.0", Equal),
            ("1", "1e0", Equal),
            ("10", "1e1", Equal),
            ("0.5", "5e-1", Equal),
            ("-0", "0", Equal),
            ("0.000", "0", Equal),
            ("2", "10", Less),
            ("-2", "-10", Greater),
            ("-1", "1", Less),
            ("0", "-0.1", Greater),
            ("9007199254740993", "9007199254740992", Greater),
            ("1.25", "1.3", Less),
            ("100", "99.999", Greater),
            ("1e400", "1e399", Greater),
            ("0.01", "0.1", Less),
            ("120", "12e1", Equal),
        ] {
            assert_eq!(num_cmp(a, b), want, "{a} vs {b}");
            assert_eq!(num_cmp(b, a), want.reverse(), "{b} vs {a}");
        }
    }
}
