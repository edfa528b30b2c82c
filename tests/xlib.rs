//! Signatures made by other ecosystems' reference libraries verify with hookseal, and their
//! tampered twins do not.
//!
//! The signers run as child processes: `tests/xlib/sign.mjs` (the npm packages
//! `standardwebhooks`, `svix`, `stripe` and `@octokit/webhooks-methods`) and
//! `tests/xlib/sign.py` (Python's `hmac`, for every hex/base64 scheme). They need the npm
//! packages installed and Node >= 22 on PATH, which `make test` provides; a bare `cargo test`
//! skips them (they are `#[ignore]`d).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::process::Command;

use common::{Case, Expect};

fn signed_by(program: &str, script: &str) -> Vec<Case> {
    let root = env!("CARGO_MANIFEST_DIR");
    let out = Command::new(program)
        .arg(format!("{root}/tests/xlib/{script}"))
        .arg("40")
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} {script}: {e} (run `make test`)"));
    assert!(
        out.status.success(),
        "{script} failed (run `make test`, which installs the npm packages):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file: common::File = serde_json::from_slice(&out.stdout).expect("signer output");
    file.cases
}

/// Accepts every case, and rejects its twins: one body byte changed, one signature character
/// changed.
fn check(cases: &[Case]) {
    assert!(cases.len() >= 40, "too few cases: {}", cases.len());
    common::run_all(cases);
    for c in cases {
        let mut body = c.body_bytes();
        match body.last_mut() {
            Some(b) => *b ^= 0x01,
            None => body.push(b' '),
        }
        assert_eq!(
            c.outcome_for(&body, &c.headers),
            Expect::Error("signature_mismatch".into()),
            "{}: tampered body accepted",
            c.name
        );

        let sig_header = c.signature_header.as_deref().expect("signatureHeader");
        let headers: Vec<(String, String)> = c
            .headers
            .iter()
            .map(|(k, v)| {
                if k.eq_ignore_ascii_case(sig_header) {
                    (k.clone(), tamper_last_signature_char(v))
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect();
        assert_ne!(headers, c.headers);
        assert!(
            matches!(c.outcome_for(&c.body_bytes(), &headers), Expect::Error(_)),
            "{}: tampered signature accepted",
            c.name
        );
    }
}

/// Changes one character of the signature (the 10th from the end, clear of base64 padding)
/// to another of the same alphabet.
fn tamper_last_signature_char(v: &str) -> String {
    let mut chars: Vec<char> = v.chars().collect();
    let i = chars.len() - 10;
    chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
    chars.into_iter().collect()
}

#[test]
#[ignore = "needs Node >= 22 and the npm packages: run by `make test`"]
fn npm_reference_libraries() {
    let cases = signed_by("node", "sign.mjs");
    for lib in [
        "standardwebhooks",
        "svix",
        "stripe",
        "@octokit/webhooks-methods",
        "twilio",
        "jose",
        "node:crypto ed25519",
    ] {
        assert!(
            cases.iter().any(|c| c.name.starts_with(lib)),
            "{lib} missing"
        );
    }
    check(&cases);
}

#[test]
#[ignore = "needs python3: run by `make test`"]
fn python_hmac() {
    check(&signed_by("python3", "sign.py"));
}
