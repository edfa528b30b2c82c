//! Typed reads from a parsed JSON object, each failure naming the field path.

use serde_json::{Map, Value};

use crate::error::{Error, FieldProblem};

/// A JSON object and its path from the root (for error messages).
#[derive(Clone, Copy)]
pub(crate) struct Obj<'a> {
    pub map: &'a Map<String, Value>,
    pub path: &'a str,
}

fn field_error(path: &str, key: &str, problem: FieldProblem) -> Error {
    let field = if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    };
    Error::InvalidEvent { field, problem }
}

impl<'a> Obj<'a> {
    /// The root object of a document.
    pub fn root(v: &'a Value) -> Result<Self, Error> {
        match v {
            Value::Object(map) => Ok(Self { map, path: "" }),
            _ => Err(Error::InvalidEvent {
                field: "$".to_owned(),
                problem: FieldProblem::WrongType,
            }),
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// An optional string field; present with another type is an error.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// A required string field.
    pub fn str(&self, key: &str) -> Result<&'a str, Error> {
        self.opt_str(key)?
            .ok_or_else(|| field_error(self.path, key, FieldProblem::Missing))
    }

    /// An optional identifier: a string, or an integer written as one (some senders send numeric
    /// ids). Returned as text.
    pub fn opt_id(&self, key: &str) -> Result<Option<String>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(Some(n.to_string())),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// A required identifier (see [`opt_id`](Self::opt_id)).
    pub fn id(&self, key: &str) -> Result<String, Error> {
        self.opt_id(key)?
            .ok_or_else(|| field_error(self.path, key, FieldProblem::Missing))
    }

    /// An optional nested object.
    pub fn opt_obj(&self, key: &str, path: &'a str) -> Result<Option<Obj<'a>>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Obj { map, path })),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// A required nested object.
    pub fn obj(&self, key: &str, path: &'a str) -> Result<Obj<'a>, Error> {
        self.opt_obj(key, path)?
            .ok_or_else(|| field_error(self.path, key, FieldProblem::Missing))
    }

    /// An optional array.
    pub fn opt_array(&self, key: &str) -> Result<&'a [Value], Error> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// An optional RFC 3339 time, as unix seconds.
    pub fn opt_rfc3339(&self, key: &str) -> Result<Option<i64>, Error> {
        match self.opt_str(key)? {
            None => Ok(None),
            Some(s) => super::time::parse_rfc3339(s)
                .map(Some)
                .ok_or_else(|| field_error(self.path, key, FieldProblem::Invalid)),
        }
    }

    /// An optional unix-seconds time written as a decimal string or an integer (Meta).
    pub fn opt_unix(&self, key: &str) -> Result<Option<i64>, Error> {
        let bad = || field_error(self.path, key, FieldProblem::Invalid);
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => {
                if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                s.parse().map(Some).map_err(|_| bad())
            }
            Some(Value::Number(n)) => n.as_i64().filter(|v| *v >= 0).map(Some).ok_or_else(bad),
            Some(_) => Err(field_error(self.path, key, FieldProblem::WrongType)),
        }
    }

    /// An error about `key` in this object.
    pub fn error(&self, key: &str, problem: FieldProblem) -> Error {
        field_error(self.path, key, problem)
    }
}

/// An element of an array as an object.
pub(crate) fn element<'a>(v: &'a Value, path: &'a str) -> Result<Obj<'a>, Error> {
    match v {
        Value::Object(map) => Ok(Obj { map, path }),
        _ => Err(Error::InvalidEvent {
            field: path.to_owned(),
            problem: FieldProblem::WrongType,
        }),
    }
}
