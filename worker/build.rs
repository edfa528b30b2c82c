//! Compresses the console's files (gzip, at the best level) into `OUT_DIR`: the Worker serves
//! them as they are, `Content-Encoding: gzip`, so its wasm carries about 7 KB of them, not 25 KB.

use std::error::Error;
use std::io::Write;

fn main() -> Result<(), Box<dyn Error>> {
    let out = std::env::var("OUT_DIR")?;
    for name in ["index.html", "console.css", "console.js"] {
        let path = format!("console/{name}");
        println!("cargo:rerun-if-changed={path}");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&std::fs::read(&path)?)?;
        std::fs::write(format!("{out}/{name}.gz"), gz.finish()?)?;
    }
    Ok(())
}
