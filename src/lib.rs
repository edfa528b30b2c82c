#![doc = include_str!("../README.md")]
//!
//! # Crate layout
//!
//! This crate is the pure core: bytes and header strings in, `Result` out. It has no
//! wasm-bindgen, no clock and no I/O; "now" is always a parameter. The npm package and the
//! Cloudflare Worker are thin layers over it.

mod base64;
mod case;
mod config;
mod error;
pub mod event;
mod filter;
mod form;
mod handshake;
mod headers;
mod json;
mod jwt;
mod mac;
mod path;
mod regex;
mod scheme;
mod secret;
mod spec;
mod template;
mod verify;

pub use error::{
    ConfigProblem, ERROR_CODES, Error, ErrorCode, FieldProblem, HandshakeProblem, Raiser,
    SecretProblem, SignatureProblem, status_of,
};
pub use event::{Event, EventData, InboundMessage, MessageKind, Provider};
pub use filter::{Document, Filter};
pub use handshake::meta_handshake;
pub use headers::{HeaderName, Headers};
pub use mac::{Algorithm, Encoding};
pub use path::Path;
pub use scheme::{BUILTINS, Builtin, Scheme, scheme_names};
pub use secret::SecretEncoding;
pub use spec::{DEFAULT_MAX_BODY, GenericScheme, TimestampUnit, Tolerance};
pub use template::Template;
pub use verify::{
    Delivery, MAX_SECRETS, MAX_SIGNATURES, Request, SignInput, Signer, Verified, Verifier,
};

/// Not part of the API: entry points for the fuzz targets.
#[doc(hidden)]
pub mod __private {
    pub use crate::json::canonical as json_canonical;

    /// Whether `pattern` (as a filter's `$regex` reads it) occurs in `text`; `None` when the
    /// pattern is refused.
    #[must_use]
    pub fn regex_is_match(pattern: &str, text: &str) -> Option<bool> {
        crate::regex::Regex::new(pattern)
            .ok()
            .map(|r| r.is_match(text))
    }
    pub use crate::verify::signer_with_raw_key;
}
