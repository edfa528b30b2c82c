//! Runs test-vector cases (the JSON format of `tests/vectors/*.json`, also produced by the
//! cross-library signers in `tests/xlib/`) through the public API.

#![allow(dead_code)]

use std::path::Path;

use hookseal::{Request, Scheme, SignInput, Signer, Tolerance, Verifier};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct File {
    pub cases: Vec<Case>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Case {
    pub name: String,
    /// A built-in name or `{ "generic": … }`, as configuration gives it.
    pub scheme: serde_json::Value,
    pub secrets: Vec<String>,
    pub now: i64,
    #[serde(default)]
    pub tolerance: Option<serde_json::Value>,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    pub headers: Vec<(String, String)>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub body_hex: Option<String>,
    pub expect: Expect,
    #[serde(default)]
    pub resign: bool,
    /// The key `resign` signs with, where it is not the first secret (a `whsk_` key whose
    /// `whpk_` public key is what verifies).
    #[serde(default)]
    pub signing_secret: Option<String>,
    /// Cross-library cases: which header carries the signature (for the tampered twin).
    #[serde(default)]
    pub signature_header: Option<String>,
}

#[derive(Deserialize, Clone, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum Expect {
    Ok(OkExpect),
    Error(String),
}

#[derive(Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OkExpect {
    pub secret_index: usize,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub timestamp: Option<i64>,
}

pub fn load(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: File =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(!file.cases.is_empty(), "{}: no cases", path.display());
    file.cases
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

impl Case {
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_hex) {
            (Some(b), None) => b.as_bytes().to_vec(),
            (None, Some(h)) => unhex(h),
            _ => panic!("{}: exactly one of body/bodyHex", self.name),
        }
    }

    pub fn scheme(&self) -> Result<Scheme, hookseal::Error> {
        Scheme::from_config_json(&self.scheme.to_string())
    }

    /// Runs the case; `Err` describes how the outcome differs from `expect`.
    pub fn run(&self) -> Result<(), String> {
        let got = self.outcome();
        if got != self.expect {
            return Err(format!("expected {:?}, got {:?}", self.expect, got));
        }
        if self.resign {
            self.check_resign()?;
        }
        Ok(())
    }

    pub fn outcome(&self) -> Expect {
        let body = self.body_bytes();
        self.outcome_for(&body, &self.headers)
    }

    pub fn outcome_for(&self, body: &[u8], headers: &[(String, String)]) -> Expect {
        let verifier = match self.scheme().and_then(|s| Verifier::new(s, &self.secrets)) {
            Ok(v) => v,
            Err(e) => return Expect::Error(e.code().to_owned()),
        };
        let verifier = match &self.tolerance {
            Some(t) => {
                verifier.with_tolerance(Tolerance::from_json(&t.to_string()).expect("tolerance"))
            }
            None => verifier,
        };
        let mut req = Request::new(body, &headers);
        if let Some(m) = &self.method {
            req = req.with_method(m);
        }
        if let Some(u) = &self.url {
            req = req.with_url(u);
        }
        match verifier.verify(&req, self.now) {
            Ok(v) => Expect::Ok(OkExpect {
                secret_index: v.secret_index,
                id: v.id.map(str::to_owned),
                timestamp: v.timestamp,
            }),
            Err(e) => {
                // Every refusal must also render a message without panicking.
                assert!(!e.to_string().is_empty());
                Expect::Error(e.code().to_owned())
            }
        }
    }

    /// Signing with the first secret (or `signingSecret`) at the same time and id reproduces the
    /// headers exactly.
    fn check_resign(&self) -> Result<(), String> {
        let Expect::Ok(ok) = &self.expect else {
            return Err("resign on a failing case".into());
        };
        let scheme = self.scheme().map_err(|e| e.to_string())?;
        let key = self.signing_secret.as_ref().unwrap_or(&self.secrets[0]);
        let signer = Signer::new(scheme, key).map_err(|e| e.to_string())?;
        let body = self.body_bytes();
        let mut input = SignInput::new(&body, ok.timestamp.unwrap_or(self.now));
        if let Some(id) = &ok.id {
            input = input.with_id(id);
        }
        input.method = self.method.as_deref();
        input.url = self.url.as_deref();
        let signed: Vec<(String, String)> = signer
            .sign(&input)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect();
        let want: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        if signed != want {
            return Err(format!(
                "re-signing gave {signed:?}, the vector has {want:?}"
            ));
        }
        Ok(())
    }
}

/// Runs every case, then fails once listing every case that went wrong.
pub fn run_all(cases: &[Case]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| c.run().err().map(|e| format!("{}: {e}", c.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
