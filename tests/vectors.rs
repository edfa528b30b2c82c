#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The shared test vectors in `tests/vectors/`, run through the public Rust API.
//! (The JS suite runs the same files through the npm package.)

mod common;

use std::path::Path;

fn vectors(name: &str) -> Vec<common::Case> {
    common::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors")
            .join(name),
    )
}

#[test]
fn published_vectors() {
    let cases = vectors("published.json");
    assert!(cases.len() >= 19);
    common::run_all(&cases);
}

#[test]
fn per_scheme_vectors() {
    let cases = vectors("schemes.json");
    common::run_all(&cases);
    // Every built-in scheme is covered, with both outcomes and a re-signing check.
    for scheme in hookseal::Scheme::builtins() {
        let mine: Vec<_> = cases
            .iter()
            .filter(|c| c.scheme.as_str() == Some(scheme.name()))
            .collect();
        assert!(
            mine.iter().any(|c| c.resign),
            "{}: no re-sign case",
            scheme.name()
        );
        assert!(
            mine.iter()
                .filter(|c| matches!(c.expect, common::Expect::Error(_)))
                .count()
                >= 8,
            "{}: too few rejections",
            scheme.name()
        );
    }
}
