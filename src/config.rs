//! Configuration from JSON, read by hand: one parser for the npm package, the worker and the
//! tests, and no derived deserializers in the wasm module (they cost more than this file).

use crate::error::{ConfigProblem, Error};
use crate::json::Json;
use crate::mac::{Algorithm, Encoding};
use crate::scheme::Scheme;
use crate::secret::SecretEncoding;
use crate::spec::{GenericScheme, TimestampUnit, Tolerance};

/// What is wrong, named; it becomes a [`ConfigProblem`] where reading returns. A small value
/// travels through the `?`s here, not a whole [`Error`].
enum Bad {
    Name(String),
    Incomplete,
}

impl From<Bad> for Error {
    fn from(b: Bad) -> Self {
        Error::InvalidConfig(match b {
            Bad::Name(n) => ConfigProblem::UnknownName(n),
            Bad::Incomplete => ConfigProblem::IncompleteTolerance,
        })
    }
}

fn bad(what: impl Into<String>) -> Bad {
    Bad::Name(what.into())
}

fn string<'a>(o: &'a Json<'_>, key: &str) -> Result<Option<&'a str>, Bad> {
    match o.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => Ok(Some(s)),
        Some(_) => Err(bad(format!("{key} (expected a string)"))),
    }
}

fn required<'a>(o: &'a Json<'_>, key: &str) -> Result<&'a str, Bad> {
    string(o, key)?.ok_or_else(|| bad(format!("{key} (required)")))
}

fn keys<'j>(o: &'j Json<'_>) -> impl Iterator<Item = &'j str> {
    let members: &[_] = match o {
        Json::Obj(m, _) => m,
        _ => &[],
    };
    members.iter().map(|(k, _)| k.as_ref())
}

fn seconds(v: &Json<'_>, key: &str) -> Result<Option<u64>, Bad> {
    match v {
        Json::Null => Ok(None),
        Json::Num(n) => n
            .parse()
            .map(Some)
            .map_err(|_| bad(format!("{key} (expected whole seconds)"))),
        _ => Err(bad(format!("{key} (expected seconds or null)"))),
    }
}

impl Tolerance {
    /// Reads a tolerance: whole seconds (both ways), `false` (disabled), or
    /// `{ "past": s | null, "future": s | null }` with both sides given (`null` is unbounded;
    /// a missing side is refused, so a typo cannot switch a bound off).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let v = Json::parse(text).map_err(|_| bad("tolerance (not JSON)"))?;
        Ok(Self::from_parsed(&v)?)
    }

    fn from_parsed(v: &Json<'_>) -> Result<Self, Bad> {
        match v {
            Json::Bool(false) => Ok(Self::DISABLED),
            Json::Num(_) => Ok(seconds(v, "tolerance")?.map_or(Self::DISABLED, Self::symmetric)),
            Json::Obj(..) => {
                if let Some(k) = keys(v).find(|k| *k != "past" && *k != "future") {
                    return Err(bad(format!("tolerance.{k}")));
                }
                // A forgotten side must not quietly mean "unbounded": `null` says that.
                let (Some(past), Some(future)) = (v.get("past"), v.get("future")) else {
                    return Err(Bad::Incomplete);
                };
                let side = |x, k| seconds(x, k);
                Ok(Self {
                    past: side(past, "past")?,
                    future: side(future, "future")?,
                })
            }
            _ => Err(bad(
                "tolerance (expected seconds, false or { past, future })",
            )),
        }
    }
}

const FIELDS: &[&str] = &[
    "signatureHeader",
    "algorithm",
    "encoding",
    "prefix",
    "signed",
    "idHeader",
    "timestampHeader",
    "timestampUnit",
    "secretEncoding",
    "tolerance",
];

impl GenericScheme {
    /// Reads a generic scheme from JSON text (see [`GenericScheme`] for the fields).
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let v = Json::parse(text).map_err(|_| bad("generic scheme (not JSON)"))?;
        Ok(Self::from_parsed(&v)?)
    }

    fn from_parsed(o: &Json<'_>) -> Result<Self, Bad> {
        if !matches!(o, Json::Obj(..)) {
            return Err(bad("generic scheme (expected an object)"));
        }
        if let Some(k) = keys(o).find(|k| !FIELDS.contains(k)) {
            return Err(bad(k));
        }
        let name = |key: &str, parse: fn(&str) -> bool| -> Result<(), Bad> {
            match string(o, key)? {
                Some(s) if !parse(s) => Err(bad(format!("{key}: {s}"))),
                _ => Ok(()),
            }
        };
        name("algorithm", |s| Algorithm::from_name(s).is_some())?;
        name("encoding", |s| Encoding::from_name(s).is_some())?;
        name("secretEncoding", |s| SecretEncoding::from_name(s).is_some())?;
        name("timestampUnit", |s| TimestampUnit::from_name(s).is_some())?;
        let algorithm =
            Algorithm::from_name(required(o, "algorithm")?).ok_or_else(|| bad("algorithm"))?;
        let encoding =
            Encoding::from_name(required(o, "encoding")?).ok_or_else(|| bad("encoding"))?;
        let mut g = Self::new(required(o, "signatureHeader")?, algorithm, encoding);
        if let Some(p) = string(o, "prefix")? {
            p.clone_into(&mut g.prefix);
        }
        if let Some(s) = string(o, "signed")? {
            s.clone_into(&mut g.signed);
        }
        g.id_header = string(o, "idHeader")?.map(str::to_owned);
        g.timestamp_header = string(o, "timestampHeader")?.map(str::to_owned);
        if let Some(u) = string(o, "timestampUnit")?.and_then(TimestampUnit::from_name) {
            g.timestamp_unit = u;
        }
        if let Some(e) = string(o, "secretEncoding")?.and_then(SecretEncoding::from_name) {
            g.secret_encoding = e;
        }
        if let Some(t) = o.get("tolerance") {
            g.tolerance = Tolerance::from_parsed(t)?;
        }
        Ok(g)
    }
}

impl TimestampUnit {
    /// Parses `seconds` / `milliseconds`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "seconds" | "s" => Some(Self::Seconds),
            "milliseconds" | "ms" => Some(Self::Milliseconds),
            _ => None,
        }
    }
}

impl Scheme {
    /// A scheme as configuration gives it: a built-in name as a JSON string (`"meta"`), or
    /// `{"generic": {…}}` (see [`GenericScheme::from_json`]). The npm package, the Worker's
    /// `SOURCES` and the test vectors all read schemes this way.
    pub fn from_config_json(text: &str) -> Result<Self, Error> {
        let v = Json::parse(text).map_err(|_| bad("scheme (not JSON)"))?;
        match &v {
            Json::Str(name) => Self::from_name(name),
            Json::Obj(members, _) if members.len() == 1 => match v.get("generic") {
                Some(g) => Ok(Self::Generic(Box::new(GenericScheme::from_parsed(g)?))),
                None => Err(bad("scheme (expected a name or { \"generic\": { … } })").into()),
            },
            _ => Err(bad("scheme (expected a name or { \"generic\": { … } })").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_read_from_config_json() {
        assert_eq!(
            Scheme::from_config_json(r#""whatsapp""#),
            Scheme::from_name("meta")
        );
        let g = Scheme::from_config_json(
            r#"{"generic":{"signatureHeader":"X-Sig","algorithm":"sha256","encoding":"hex"}}"#,
        )
        .unwrap();
        assert_eq!(g.name(), "generic");
        for bad in [
            "3",
            "{}",
            r#"{"generic":{},"x":1}"#,
            r#"{"other":{}}"#,
            "not json",
        ] {
            assert!(
                matches!(
                    Scheme::from_config_json(bad),
                    Err(Error::InvalidConfig(ConfigProblem::UnknownName(_)))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            Scheme::from_config_json(r#""nope""#),
            Err(Error::UnknownScheme { len: 4 })
        ));
    }

    #[test]
    fn reads_a_full_generic_scheme() {
        let g = GenericScheme::from_json(
            r#"{"signatureHeader":"X-Sig","algorithm":"sha512","encoding":"base64url",
                "prefix":"v1=","signed":"{timestamp}.{body}","timestampHeader":"X-Ts",
                "timestampUnit":"milliseconds","secretEncoding":"hex",
                "tolerance":{"past":60,"future":null}}"#,
        )
        .unwrap();
        assert_eq!(g.algorithm, Algorithm::Sha512);
        assert_eq!(g.encoding, Encoding::Base64Url);
        assert_eq!(g.prefix, "v1=");
        assert_eq!(g.timestamp_unit, TimestampUnit::Milliseconds);
        assert_eq!(g.secret_encoding, SecretEncoding::Hex);
        assert_eq!(
            g.tolerance,
            Tolerance {
                past: Some(60),
                future: None
            }
        );
        let d = GenericScheme::from_json(
            r#"{"signatureHeader":"X-Sig","algorithm":"sha256","encoding":"hex"}"#,
        )
        .unwrap();
        assert_eq!(
            d,
            GenericScheme::new("X-Sig", Algorithm::Sha256, Encoding::Hex)
        );
    }

    #[test]
    fn refuses_what_it_does_not_know() {
        for bad in [
            r#"{"signatureHeader":"X","algorithm":"md5","encoding":"hex"}"#,
            r#"{"signatureHeader":"X","algorithm":"sha256","encoding":"rot13"}"#,
            r#"{"signatureHeader":"X","algorithm":"sha256","encoding":"hex","extra":1}"#,
            r#"{"algorithm":"sha256","encoding":"hex"}"#,
            r#"{"signatureHeader":7,"algorithm":"sha256","encoding":"hex"}"#,
            r#"{"signatureHeader":"X","algorithm":"sha256","encoding":"hex","tolerance":-1}"#,
            r#"{"signatureHeader":"X","algorithm":"sha256","encoding":"hex","tolerance":{"x":1}}"#,
            r#"[]"#,
            r#"{"#,
        ] {
            assert_eq!(
                GenericScheme::from_json(bad).unwrap_err().code(),
                "invalid_config",
                "{bad}"
            );
        }
    }

    #[test]
    fn tolerances() {
        let t = Tolerance::from_json;
        assert_eq!(t("300"), Ok(Tolerance::symmetric(300)));
        assert_eq!(t("false"), Ok(Tolerance::DISABLED));
        assert_eq!(
            t(r#"{"past":5,"future":null}"#),
            Ok(Tolerance {
                past: Some(5),
                future: None
            })
        );
        for half in [r#"{"past":5}"#, r#"{"future":5}"#, "{}"] {
            assert_eq!(
                t(half),
                Err(Error::InvalidConfig(ConfigProblem::IncompleteTolerance)),
                "{half}"
            );
        }
        assert!(t("true").is_err());
        assert!(t("1.5").is_err());
    }
}
