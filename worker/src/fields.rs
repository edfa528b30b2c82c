//! A JSON object's fields read by name: the settings (strictly: an unknown field is refused,
//! with the nearest known one suggested) and the queues' messages.
//!
//! Written by hand rather than derived: a derived `Deserialize` per settings type and serde's
//! buffering for the queues' tagged jobs cost the Worker's wasm tens of KB for a handful of
//! fields, and say less ("invalid type: string, expected u64" names no field; these do).

use serde_json::{Map, Value};

/// An object's fields.
pub struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// Any object.
    pub fn of(v: &'a Value) -> Result<Self, String> {
        v.as_object()
            .map(Fields)
            .ok_or_else(|| "not an object".to_owned())
    }

    /// An object with no field outside `known`.
    pub fn strict(v: &'a Value, known: &[&str]) -> Result<Self, String> {
        let f = Self::of(v)?;
        if let Some(k) = f.0.keys().find(|k| !known.contains(&k.as_str())) {
            // A short name is near too much to suggest (`to` is two edits from any two letters).
            let near = known.iter().find(|n| n.len() > 3 && distance(n, k) <= 2);
            return Err(match near {
                Some(n) => format!("unknown field `{k}`: did you mean `{n}`?"),
                None => format!(
                    "unknown field `{k}`, expected one of {}",
                    known
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        Ok(f)
    }

    /// A field's value; `None` when absent or null.
    pub fn opt(&self, k: &str) -> Option<&'a Value> {
        self.0.get(k).filter(|v| !v.is_null())
    }

    /// A field that must be there.
    pub fn get(&self, k: &str) -> Result<&'a Value, String> {
        self.opt(k).ok_or_else(|| format!("missing field `{k}`"))
    }

    pub fn text(&self, k: &str) -> Result<String, String> {
        self.get(k)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("`{k}` must be a string"))
    }

    pub fn opt_text(&self, k: &str) -> Result<Option<String>, String> {
        self.opt(k).map(|_| self.text(k)).transpose()
    }

    /// A whole number that fits `T`.
    pub fn int<T: TryFrom<i64>>(&self, k: &str) -> Result<T, String> {
        self.get(k)?
            .as_i64()
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| format!("`{k}` must be a whole number in range"))
    }

    pub fn opt_int<T: TryFrom<i64>>(&self, k: &str) -> Result<Option<T>, String> {
        self.opt(k).map(|_| self.int(k)).transpose()
    }

    /// A boolean; absent is `false`.
    pub fn flag(&self, k: &str) -> Result<bool, String> {
        match self.opt(k) {
            None => Ok(false),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| format!("`{k}` must be true or false")),
        }
    }

    /// A list, each item read by `item` (`None`: not the right kind).
    pub fn list<T>(
        &self,
        k: &str,
        item: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Vec<T>, String> {
        self.get(k)?
            .as_array()
            .and_then(|a| a.iter().map(item).collect())
            .ok_or_else(|| format!("`{k}` must be a list of the right items"))
    }

    pub fn opt_list<T>(
        &self,
        k: &str,
        item: impl Fn(&'a Value) -> Option<T>,
    ) -> Result<Option<Vec<T>>, String> {
        self.opt(k).map(|_| self.list(k, item)).transpose()
    }

    /// A list of strings.
    pub fn texts(&self, k: &str) -> Result<Vec<String>, String> {
        self.list(k, |v| v.as_str().map(str::to_owned))
    }
}

/// The edit distance of two ASCII names, at most 3 (more is "far").
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > 2 {
        return 3;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            if let Some(c) = cur.get_mut(j + 1) {
                *c = sub.min(del).min(ins);
            }
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0).min(3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_unknown_field_is_named_with_the_nearest_known_one() {
        let v = json!({ "acessToken": "x" });
        let e = Fields::strict(&v, &["archive", "accessToken"])
            .err()
            .unwrap();
        assert_eq!(e, "unknown field `acessToken`: did you mean `accessToken`?");
        let v = json!({ "colour": 1 });
        let e = Fields::strict(&v, &["archive", "hosts"]).err().unwrap();
        assert_eq!(
            e,
            "unknown field `colour`, expected one of `archive`, `hosts`"
        );
        let v = json!({ "xy": 1 });
        let e = Fields::strict(&v, &["to", "filter"]).err().unwrap();
        assert_eq!(e, "unknown field `xy`, expected one of `to`, `filter`");
    }

    #[test]
    fn each_kind_of_field_is_read_or_refused_by_name() {
        let v = json!({ "s": "a", "n": 7, "neg": -1, "b": true, "l": ["x", "y"], "z": null });
        let f = Fields::of(&v).unwrap();
        assert_eq!(f.text("s"), Ok("a".into()));
        assert_eq!(f.int::<u32>("n"), Ok(7));
        assert_eq!(f.opt_text("z"), Ok(None));
        assert_eq!(f.opt_int::<u64>("absent"), Ok(None));
        assert_eq!(f.flag("b"), Ok(true));
        assert_eq!(f.flag("absent"), Ok(false));
        assert_eq!(f.texts("l"), Ok(vec!["x".into(), "y".into()]));
        assert_eq!(f.text("n").unwrap_err(), "`n` must be a string");
        assert_eq!(
            f.int::<u64>("neg").unwrap_err(),
            "`neg` must be a whole number in range"
        );
        assert_eq!(
            f.int::<u8>("s").unwrap_err(),
            "`s` must be a whole number in range"
        );
        assert_eq!(f.flag("s").unwrap_err(), "`s` must be true or false");
        assert_eq!(f.text("z").unwrap_err(), "missing field `z`");
        assert!(f.texts("n").unwrap_err().contains("`n`"));
        assert!(Fields::of(&json!([1])).is_err());
    }

    #[test]
    fn near_misses_are_near() {
        assert_eq!(
            distance("DELIVERY_BACKOFF_SECONDS", "DELIVERY_BACKOF_SECONDS"),
            1
        );
        assert_eq!(distance("LOG_LEVEL", "LOG_LEVLE"), 2);
        assert_eq!(distance("SOURCES", "SOURCE"), 1);
        assert_eq!(distance("MOSSMOON_SECRET", "DELIVERY_SECRET"), 3);
    }
}
