//! Typed reads from a parsed JSON object, each failure naming the field path.

use crate::error::{Error, FieldProblem};
use crate::json::Json;

/// A JSON object and its path from the root (for error messages).
#[derive(Clone, Copy)]
pub(crate) struct Obj<'j, 'a> {
    pub json: &'j Json<'a>,
    pub path: &'j str,
}

/// A field that is not as documented: its path and the problem. Boxed, so that the hundred `?`
/// in the parsers each move one pointer rather than a whole [`Error`]; it becomes
/// [`Error::InvalidEvent`] once, where parsing returns.
#[derive(Debug)]
pub(crate) struct Invalid(Box<(String, FieldProblem)>);

impl From<Invalid> for Error {
    fn from(e: Invalid) -> Self {
        let (field, problem) = *e.0;
        Error::InvalidEvent { field, problem }
    }
}

/// The result of a read from an event.
pub(crate) type Parsed<T> = Result<T, Invalid>;

fn field_error(path: &str, key: &str, problem: FieldProblem) -> Invalid {
    let field = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    Invalid(Box::new((field, problem)))
}

impl<'j, 'a> Obj<'j, 'a> {
    /// The root object of a document.
    pub fn root(v: &'j Json<'a>) -> Parsed<Self> {
        element(v, "$").map(|o| Self { path: "", ..o })
    }

    /// A member, `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'j Json<'a>> {
        self.json.get(key).filter(|v| **v != Json::Null)
    }

    /// An optional string field; present with another type is an error.
    pub fn opt_str(&self, key: &str) -> Parsed<Option<&'j str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s)),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// A required string field.
    pub fn str(&self, key: &str) -> Parsed<&'j str> {
        self.opt_str(key)?
            .ok_or_else(|| field_error(self.path, key, FieldProblem::Missing))
    }

    /// An optional identifier: a string, or an integer (some senders send numeric ids),
    /// as text.
    pub fn opt_id(&self, key: &str) -> Parsed<Option<&'j str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s)),
            Some(Json::Num(n)) if n.bytes().all(|b| b.is_ascii_digit() || b == b'-') => Ok(Some(n)),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// A required identifier (see [`opt_id`](Self::opt_id)).
    pub fn id(&self, key: &str) -> Parsed<&'j str> {
        self.opt_id(key)?
            .ok_or_else(|| field_error(self.path, key, FieldProblem::Missing))
    }

    /// An optional nested object.
    pub fn opt_obj(&self, key: &str, path: &'j str) -> Parsed<Option<Obj<'j, 'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(v @ Json::Obj(..)) => Ok(Some(Obj { json: v, path })),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// A required nested object.
    pub fn obj(&self, key: &str, path: &'j str) -> Parsed<Obj<'j, 'a>> {
        self.opt_obj(key, path)?
            .ok_or_else(|| field_error(self.path, key, FieldProblem::Missing))
    }

    /// An optional array (absent is empty).
    pub fn opt_array(&self, key: &str) -> Parsed<&'j [Json<'a>]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Json::Arr(items, _)) => Ok(items),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// An optional RFC 3339 time, as unix seconds.
    pub fn opt_rfc3339(&self, key: &str) -> Parsed<Option<i64>> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => super::time::parse_rfc3339(s)
                .map(Some)
                .ok_or_else(|| field_error(self.path, key, FieldProblem::Invalid)),
        }
    }

    /// An optional unix-seconds time written as a decimal string or an integer (Meta).
    pub fn opt_unix(&self, key: &str) -> Parsed<Option<i64>> {
        let bad = || field_error(self.path, key, FieldProblem::Invalid);
        let text = match self.get(key) {
            None => return Ok(None),
            Some(Json::Str(s)) => s.as_ref(),
            Some(Json::Num(n)) => n,
            Some(_) => return Err(field_error(self.path, key, FieldProblem::WrongType)),
        };
        if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        text.parse().map(Some).map_err(|_| bad())
    }

    /// A required number, as its JSON text (coordinates: never rounded through a float).
    pub fn number(&self, key: &str) -> Parsed<&'a str> {
        match self.get(key) {
            Some(Json::Num(n)) => Ok(n),
            None => Err(field_error(self.path, key, FieldProblem::Missing)),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// An optional integer (Meta error codes).
    pub fn opt_int(&self, key: &str) -> Parsed<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// An error about `key` in this object.
    pub fn error(&self, key: &str, problem: FieldProblem) -> Invalid {
        field_error(self.path, key, problem)
    }
}

/// An owned copy of an optional borrowed string (after all fallible reads are done).
pub(crate) fn own(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

/// An element of an array (or the root) as an object.
pub(crate) fn element<'j, 'a>(v: &'j Json<'a>, path: &'j str) -> Parsed<Obj<'j, 'a>> {
    match v {
        Json::Obj(..) => Ok(Obj { json: v, path }),
        _ => Err(Invalid(Box::new((
            path.to_owned(),
            FieldProblem::WrongType,
        )))),
    }
}
