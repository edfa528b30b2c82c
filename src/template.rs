//! Body templates: a JSON value in which strings name values of the event, so that a CRM,
//! Discord, Telegram or a support desk gets the body it expects from a few lines of
//! configuration.
//!
//! - A string that is exactly `"{{ path }}"` becomes the value at that path, keeping its JSON
//!   type (an object stays an object, a number a number); a missing path is `null`.
//! - `{{ path }}` inside a longer string is replaced by the value as text: a string as it is,
//!   a number or boolean as written, an object or array as its JSON; `null` or a missing path
//!   is empty.
//! - Paths are `a.b[0].c` (see `path.rs`). Keys are never templated. A `{{` without its `}}`, or
//!   a malformed path, is refused when the template is read.

use crate::error::{ConfigProblem, Error};
use crate::filter::Document;
use crate::json::{Json, Writer};
use crate::path::Path;

/// Templates nested deeper than this are refused.
const MAX_DEPTH: usize = 32;

/// A compiled template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    root: Node,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Path),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Node {
    /// Any JSON without a placeholder, as its text.
    Raw(String),
    /// `"{{ path }}"`: the value itself.
    Value(Path),
    /// A string with placeholders.
    Text(Vec<Part>),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

fn problem(at: &str, why: &str) -> Error {
    let at = if at.is_empty() { "the body" } else { at };
    Error::InvalidConfig(ConfigProblem::BadBodyTemplate(format!("{at}: {why}")))
}

impl Template {
    /// Reads a template from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let json = Json::parse(text).map_err(|_| problem("", "not JSON"))?;
        Ok(Self {
            root: compile(&json, "", 0)?,
        })
    }

    /// The body for `doc`, as JSON text.
    #[must_use]
    pub fn render(&self, doc: &Document<'_>) -> String {
        let mut w = Writer::default();
        render(&self.root, &doc.0, &mut w);
        w.finish()
    }

    /// Every path the template reads.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        let mut out = Vec::new();
        collect(&self.root, &mut out);
        out.into_iter()
    }
}

fn collect<'t>(n: &'t Node, out: &mut Vec<&'t Path>) {
    match n {
        Node::Raw(_) => {}
        Node::Value(p) => out.push(p),
        Node::Text(parts) => out.extend(parts.iter().filter_map(|p| match p {
            Part::Value(p) => Some(p),
            Part::Text(_) => None,
        })),
        Node::Arr(items) => items.iter().for_each(|i| collect(i, out)),
        Node::Obj(members) => members.iter().for_each(|(_, v)| collect(v, out)),
    }
}

/// The parts of a string with placeholders.
fn parts(s: &str, at: &str) -> Result<Vec<Part>, Error> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        if open > 0 {
            out.push(Part::Text(rest.get(..open).unwrap_or("").to_owned()));
        }
        let after = rest.get(open + 2..).unwrap_or("");
        let close = after
            .find("}}")
            .ok_or_else(|| problem(at, "a `{{` without its `}}`"))?;
        let path = Path::parse(after.get(..close).unwrap_or(""))
            .map_err(|e| problem(at, &format!("bad path in `{{{{ }}}}`: {}", e.why())))?;
        out.push(Part::Value(path));
        rest = after.get(close + 2..).unwrap_or("");
    }
    if !rest.is_empty() {
        out.push(Part::Text(rest.to_owned()));
    }
    Ok(out)
}

fn compile(v: &Json<'_>, at: &str, depth: usize) -> Result<Node, Error> {
    if depth > MAX_DEPTH {
        return Err(problem(at, "nested too deeply"));
    }
    Ok(match v {
        Json::Str(s) if s.contains("{{") => {
            let mut p = parts(s, at)?;
            match p.as_mut_slice() {
                [Part::Value(path)] => Node::Value(path.clone()),
                _ => Node::Text(p),
            }
        }
        Json::Arr(items, _) => Node::Arr(
            items
                .iter()
                .enumerate()
                .map(|(i, x)| compile(x, &format!("{at}[{i}]"), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        Json::Obj(members, _) => Node::Obj(
            members
                .iter()
                .map(|(k, x)| {
                    let here = if at.is_empty() {
                        k.to_string()
                    } else {
                        format!("{at}.{k}")
                    };
                    Ok((k.to_string(), compile(x, &here, depth + 1)?))
                })
                .collect::<Result<_, Error>>()?,
        ),
        other => Node::Raw(other.raw().into_owned()),
    })
}

fn render(n: &Node, doc: &Json<'_>, w: &mut Writer) {
    match n {
        Node::Raw(text) => w.raw(text),
        Node::Value(path) => match path.get(doc) {
            Some(v) => w.value(v),
            None => w.null(),
        },
        Node::Text(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    Part::Text(t) => s.push_str(t),
                    Part::Value(path) => match path.get(doc) {
                        None | Some(Json::Null) => {}
                        Some(Json::Str(v)) => s.push_str(v),
                        Some(v) => s.push_str(&v.raw()),
                    },
                }
            }
            w.str(&s);
        }
        Node::Arr(items) => {
            w.begin_array();
            for i in items {
                render(i, doc, w);
            }
            w.end_array();
        }
        Node::Obj(members) => {
            w.begin_object();
            for (k, v) in members {
                w.key(k);
                render(v, doc, w);
            }
            w.end_object();
        }
    }
}
