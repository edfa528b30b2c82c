//! Paths into a JSON value, as templates (`{{ message.text }}`) and per-conversation ordering
//! (`orderBy = "message.chat"`) name them: keys joined by `.`, array elements as `[n]` (or a
//! numeric segment, `items.0.id`).

use crate::json::Json;

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A parsed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    steps: Vec<Step>,
}

/// Why a path was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PathError(pub &'static str);

impl PathError {
    pub(crate) const fn why(&self) -> &'static str {
        self.0
    }
}

impl Path {
    /// Parses `a.b[0].c` (a configuration value: an error is `invalid_config`).
    pub fn from_config(text: &str) -> Result<Self, crate::Error> {
        Self::parse(text).map_err(|e| {
            crate::Error::InvalidConfig(crate::ConfigProblem::BadPath(format!(
                "`{}`: {}",
                crate::error::sanitise(text),
                e.why()
            )))
        })
    }

    /// Parses `a.b[0].c`. Spaces around the whole path are ignored.
    pub(crate) fn parse(text: &str) -> Result<Self, PathError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(PathError("an empty path"));
        }
        let mut steps = Vec::new();
        let mut rest = text;
        let mut expect_key = true;
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix('[') {
                let end = after.find(']').ok_or(PathError("an unclosed `[`"))?;
                let index = after
                    .get(..end)
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or(PathError("`[…]` must hold an index (a whole number)"))?;
                steps.push(Step::Index(index));
                rest = after.get(end + 1..).unwrap_or("");
                expect_key = false;
                continue;
            }
            if !expect_key {
                rest = rest
                    .strip_prefix('.')
                    .ok_or(PathError("expected `.` or `[` between steps"))?;
            }
            let end = rest.find(['.', '[', ']']).unwrap_or(rest.len());
            let key = rest.get(..end).unwrap_or("");
            if key.is_empty() || key.chars().any(char::is_whitespace) {
                return Err(PathError("an empty step or a space inside the path"));
            }
            steps.push(Step::Key(key.to_owned()));
            rest = rest.get(end..).unwrap_or("");
            if rest.starts_with(']') {
                return Err(PathError("a `]` without its `[`"));
            }
            expect_key = false;
        }
        Ok(Self { steps })
    }

    /// The value at this path in `root`, if there is one.
    pub(crate) fn get<'v, 'a>(&self, root: &'v Json<'a>) -> Option<&'v Json<'a>> {
        let mut at = root;
        for step in &self.steps {
            at = match (step, at) {
                (Step::Key(k), Json::Obj(..)) => at.get(k)?,
                (Step::Key(k), Json::Arr(items, _)) => items.get(k.parse::<usize>().ok()?)?,
                (Step::Index(i), Json::Arr(items, _)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_resolve() {
        let doc = Json::parse(r#"{"a":{"b":[{"c":1},{"c":"two"}]},"x.y":3}"#).unwrap();
        let get = |p: &str| {
            Path::parse(p)
                .unwrap()
                .get(&doc)
                .map(|v| v.raw().into_owned())
        };
        assert_eq!(get("a.b[1].c").as_deref(), Some("\"two\""));
        assert_eq!(get("a.b.0.c").as_deref(), Some("1"));
        assert_eq!(get(" a.b[0] ").as_deref(), Some(r#"{"c":1}"#));
        assert_eq!(get("a.b[2].c"), None);
        assert_eq!(get("a.zz"), None);
        assert_eq!(get("a.b.c"), None);
        for bad in ["", "a..b", "a.", ".a", "a[x]", "a[1", "a]", "a b", "a[0]b"] {
            assert!(Path::parse(bad).is_err(), "{bad}");
        }
    }
}
