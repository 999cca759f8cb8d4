//! Converts the built-in rule files (`rules/*.toml`) to JSON at build time. A run reads the
//! JSON with serde_json, several times cheaper than parsing the TOML on every start-up, which
//! took a fifth of a pre-commit run. The TOML stays the source people read, edit and override.

use std::path::Path;

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo::rerun-if-changed=rules");
    let dir = std::fs::read_dir("rules").unwrap_or_else(|e| panic!("rules: {e}"));
    for entry in dir {
        let src = entry.unwrap_or_else(|e| panic!("rules: {e}")).path();
        let (Some(name), Some("toml")) = (
            src.file_stem().and_then(|s| s.to_str()),
            src.extension().and_then(|e| e.to_str()),
        ) else {
            continue;
        };
        let text =
            std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let table: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", src.display()));
        let json = serde_json::to_string(&table).expect("a TOML table is JSON");
        let dest = Path::new(&out).join(format!("{name}.json"));
        std::fs::write(&dest, json).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    }
}
