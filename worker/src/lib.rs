//! The hookseal Cloudflare Worker (workers-rs). Until the worker lands this crate only
//! proves the core builds as a dependency of it.

pub use hookseal;
