//! Differential: hookseal's JSON reader against serde_json (with arbitrary_precision, so numbers
//! compare as text). Both accept the same documents and read the same values; nesting deeper
//! than 128 is refused by both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // serde_json's arbitrary_precision reads an object with this private key as a number (its
    // internal token), so it is no reference for such documents.
    if text.contains("$serde_json::private::Number") {
        return;
    }
    let ours = hookseal::__private::json_canonical(text);
    let theirs = serde_json::from_str::<Value>(text);
    match (ours, theirs) {
        (Some(ours), Ok(theirs)) => {
            let ours: Value = serde_json::from_str(&ours).expect("hookseal writes valid JSON");
            assert_eq!(ours, theirs, "different values for {text:?}");
        }
        (None, Err(_)) => {}
        (Some(_), Err(e)) => panic!("hookseal accepted what serde_json refused ({e}): {text:?}"),
        (None, Ok(_)) => panic!("hookseal refused what serde_json accepted: {text:?}"),
    }
});
