//! Converts the built-in rule files (`rules/*.toml`) to JSON at build time. A run reads the
//! JSON with serde_json, several times cheaper than parsing the TOML on every start-up, which
//! took a fifth of a pre-commit run. The TOML stays the source people read, edit and override.

use std::path::Path;

const RULE_FILES: [&str; 5] = ["pii", "cache", "registry", "contradiction", "prompts"];

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for name in RULE_FILES {
        let src = format!("rules/{name}.toml");
        println!("cargo::rerun-if-changed={src}");
        let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let table: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{src}: {e}"));
        let json = serde_json::to_string(&table).unwrap_or_else(|e| panic!("{src}: {e}"));
        let dest = Path::new(&out).join(format!("{name}.json"));
        std::fs::write(&dest, json).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
    }
}
