//! Rows as the databases hand them over (D1's and a Durable Object's SQL), read field by field.
//!
//! A row is a plain JS object whose keys are the query's column names (the SQL aliases them
//! to camelCase). Each field is read through one small non-generic accessor, not through
//! `serde_wasm_bindgen` and a derived `Deserialize` per row type: no deserializer instantiated
//! for every row type (with [`fields`](crate::fields), which does the same for the settings and
//! the queues' jobs, 52 KB less wasm), and one crossing a field.
//!
//! A column that is missing or of the wrong type is an error naming the column: a row that does
//! not read is a schema out of step with the code, never a value made up.

use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use worker::{D1Database, D1PreparedStatement, Result};

use crate::state::DeliveryStatus;

/// One row: a JS object keyed by column name.
pub struct Row(JsValue);

/// A type read from one row.
pub trait FromRow: Sized {
    fn from_row(r: &Row) -> Result<Self>;
}

fn problem(column: &str, what: &str) -> worker::Error {
    worker::Error::RustError(format!("row: column `{column}` {what}"))
}

/// The largest integer a JS number holds exactly (2^53 - 1).
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

thread_local! {
    /// Each column name as a JS string, made once per isolate: a row's fields are read by name,
    /// and a body of 1,000 events reads 2,000 of them.
    static KEYS: std::cell::RefCell<Vec<(&'static str, JsValue)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// `object[column]`, the column's name made a JS string once (the names are the code's own
/// literals: a few dozen).
fn get(object: &JsValue, column: &'static str) -> JsValue {
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        let i = match keys.iter().position(|(c, _)| *c == column) {
            Some(i) => i,
            None => {
                keys.push((column, JsValue::from_str(column)));
                keys.len() - 1
            }
        };
        keys.get(i)
            .and_then(|(_, k)| Reflect::get(object, k).ok())
            .unwrap_or(JsValue::UNDEFINED)
    })
}

impl Row {
    pub fn new(value: JsValue) -> Self {
        Self(value)
    }

    /// The column's value; `undefined` when the row has no such column (read as null, as serde
    /// reads a missing `Option`).
    #[inline(never)]
    fn field(&self, column: &'static str) -> JsValue {
        get(&self.0, column)
    }

    /// A nullable text column.
    #[inline(never)]
    pub fn opt_text(&self, column: &'static str) -> Result<Option<String>> {
        let v = self.field(column);
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        v.as_string()
            .map(Some)
            .ok_or_else(|| problem(column, "is not text"))
    }

    /// A text column.
    #[inline(never)]
    pub fn text(&self, column: &'static str) -> Result<String> {
        self.opt_text(column)?
            .ok_or_else(|| problem(column, "is null or missing"))
    }

    /// A nullable integer column (D1 hands integers over as JS numbers; one beyond 2^53 would
    /// have lost its exactness on the way and is refused).
    #[inline(never)]
    pub fn opt_int(&self, column: &'static str) -> Result<Option<i64>> {
        let v = self.field(column);
        if v.is_null() || v.is_undefined() {
            return Ok(None);
        }
        if let Some(b) = v.as_bool() {
            return Ok(Some(i64::from(b)));
        }
        match v.as_f64() {
            #[allow(clippy::cast_possible_truncation)] // integral and within ±2^53, checked
            Some(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE => Ok(Some(n as i64)),
            Some(_) => Err(problem(column, "is not an integer")),
            None => Err(problem(column, "is not a number")),
        }
    }

    /// An integer column.
    #[inline(never)]
    pub fn int(&self, column: &'static str) -> Result<i64> {
        self.opt_int(column)?
            .ok_or_else(|| problem(column, "is null or missing"))
    }

    /// A nullable integer column of an unsigned type (`u64`, `u32`, `u16`, `u8`).
    pub fn opt_uint<T: TryFrom<i64>>(&self, column: &'static str) -> Result<Option<T>> {
        match self.opt_int(column)? {
            None => Ok(None),
            Some(n) => T::try_from(n)
                .map(Some)
                .map_err(|_| problem(column, "is out of range")),
        }
    }

    /// An integer column of an unsigned type.
    pub fn uint<T: TryFrom<i64>>(&self, column: &'static str) -> Result<T> {
        self.opt_uint(column)?
            .ok_or_else(|| problem(column, "is null or missing"))
    }

    /// A delivery's status column.
    pub fn status(&self, column: &'static str) -> Result<DeliveryStatus> {
        let s = self.text(column)?;
        DeliveryStatus::parse(&s).ok_or_else(|| problem(column, "is no delivery status"))
    }
}

/// [`FromRow`] for a struct whose fields are read by [`Row`]'s accessors, each from its column:
/// `from_row!(Bounds { hi: opt_int("hi"), lo: opt_int("lo") });`
macro_rules! from_row {
    ($t:ident { $($field:ident: $how:ident($column:literal)),* $(,)? }) => {
        impl $crate::row::FromRow for $t {
            fn from_row(r: &$crate::row::Row) -> worker::Result<Self> {
                Ok(Self { $($field: r.$how($column)?),* })
            }
        }
    };
}
pub(crate) use from_row;

/// A JS error from a database call, as workers-rs words it: D1's own errors by their cause.
fn db_error(e: JsValue) -> worker::Error {
    match e.dyn_into::<js_sys::Error>() {
        Ok(err) => {
            let message = String::from(err.message());
            let cause = err.cause();
            if message.starts_with("D1") && !cause.is_undefined() {
                worker::Error::RustError(String::from(js_sys::JsString::from(cause)))
            } else {
                worker::Error::RustError(message)
            }
        }
        Err(other) => worker::Error::from(other),
    }
}

/// The rows of a D1 result object (`{ results, meta, … }`).
fn rows_of(result: &JsValue) -> Result<Vec<Row>> {
    let results = Reflect::get(result, &JsValue::from_str("results")).map_err(db_error)?;
    if results.is_undefined() || results.is_null() {
        return Ok(Vec::new());
    }
    let array: Array = results
        .dyn_into()
        .map_err(|_| worker::Error::RustError("D1: results is not an array".into()))?;
    Ok(array.iter().map(Row::new).collect())
}

/// Each row read as a `T`: the only part of reading that is generic (the queries and the row
/// objects are handled by one copy of the code for every type).
fn read<T: FromRow>(rows: &[Row]) -> Result<Vec<T>> {
    rows.iter().map(T::from_row).collect()
}

/// Runs a statement: its row objects.
async fn query(statement: &D1PreparedStatement) -> Result<Vec<Row>> {
    let promise = statement.inner().all().map_err(db_error)?;
    let result = JsFuture::from(promise).await.map_err(db_error)?;
    rows_of(&result)
}

/// Runs a statement and reads its rows.
pub async fn all<T: FromRow>(statement: &D1PreparedStatement) -> Result<Vec<T>> {
    read(&query(statement).await?)
}

/// Runs a statement and reads its first row, if any.
pub async fn first<T: FromRow>(statement: &D1PreparedStatement) -> Result<Option<T>> {
    Ok(all(statement).await?.into_iter().next())
}

/// The results of statements run as one transaction, read in order.
pub struct Batch(std::vec::IntoIter<JsValue>);

impl Batch {
    /// The next statement's rows.
    pub fn next<T: FromRow>(&mut self) -> Result<Vec<T>> {
        let result = self
            .0
            .next()
            .ok_or_else(|| worker::Error::RustError("D1 batch: fewer results".into()))?;
        read(&rows_of(&result)?)
    }
}

/// Runs statements as one transaction (D1's `batch`), their results to be read in order.
pub async fn batch(db: &D1Database, statements: Vec<D1PreparedStatement>) -> Result<Batch> {
    let array: Array = statements
        .iter()
        .map(|s| JsValue::from(s.inner()))
        .collect();
    let sys: &worker_sys::D1Database = db.as_ref().unchecked_ref();
    let promise = sys.batch(array).map_err(db_error)?;
    let results = JsFuture::from(promise).await.map_err(db_error)?;
    let results: Array = results
        .dyn_into()
        .map_err(|_| worker::Error::RustError("D1 batch: not an array".into()))?;
    Ok(Batch(results.iter().collect::<Vec<_>>().into_iter()))
}

/// The rows of a Durable Object's SQL cursor.
pub fn cursor_rows<T: FromRow>(cursor: &mut worker::SqlCursor) -> Result<Vec<T>> {
    let rows = cursor
        .by_ref()
        .map(|v| v.map(Row::new))
        .collect::<Result<Vec<_>>>()?;
    read(&rows)
}
