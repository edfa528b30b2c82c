//! Prints the core's tables as JSON, for the npm package's build (scripts/codes.mjs writes them
//! into dist/codes.js and dist/codes.d.ts): every error code with its HTTP status, and the
//! built-in scheme names.

fn main() {
    let codes: Vec<String> = hookseal::ERROR_CODES
        .iter()
        .map(|c| format!("[\"{}\",{}]", c.code, c.status))
        .collect();
    let names: Vec<String> = hookseal::scheme_names()
        .map(|n| format!("\"{n}\""))
        .collect();
    println!(
        "{{\"codes\":[{}],\"schemes\":[{}]}}",
        codes.join(","),
        names.join(",")
    );
}
