//! Converts the built-in rule files (`rules/*.toml`) to JSON at build time. A run reads the
//! JSON with serde_json, several times cheaper than parsing the TOML on every start-up, which
//! took a fifth of a pre-commit run. The TOML stays the source people read, edit and override.
//!
//! It also works out, for each contradiction axis value's `patterns` and `negative-patterns`,
//! literals every match holds (`value_keys.json`): a run builds such a regex only for a text
//! holding one, and parsing the patterns to find them at run time costs more than it saves.

use std::collections::BTreeMap;
use std::path::Path;

use regex_syntax::hir::literal::{ExtractKind, Extractor};

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
        if name == "contradiction" {
            let keys = serde_json::to_string(&value_keys(&table)).expect("keys are JSON");
            let dest = Path::new(&out).join("value_keys.json");
            std::fs::write(&dest, keys).unwrap_or_else(|e| panic!("{}: {e}", dest.display()));
        }
    }
}

/// For each axis value's `patterns` and `negative-patterns` list, keyed by the list's strings
/// joined with newlines: the literals every match holds, when there is such a set.
fn value_keys(table: &toml::Table) -> BTreeMap<String, Vec<String>> {
    let strings = |v: &toml::Value, key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|a| a.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = BTreeMap::new();
    let axes = table
        .get("data")
        .and_then(|d| d.get("axis"))
        .and_then(|a| a.as_array());
    for value in axes.into_iter().flatten().flat_map(|axis| {
        axis.get("value")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
    }) {
        for key in ["patterns", "negative-patterns"] {
            let patterns = strings(value, key);
            if let Some(literals) = required_literals(&patterns) {
                out.insert(patterns.join("\n"), literals);
            }
        }
    }
    out
}

/// Literals one of which every match of any of `patterns` holds: the prefix or the suffix
/// literals, whichever set's shortest member is longer; none when neither set is finite.
fn required_literals(patterns: &[String]) -> Option<Vec<String>> {
    if patterns.is_empty() {
        return None;
    }
    let alternation = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    let hir = regex_syntax::Parser::new().parse(&alternation).ok()?;
    [ExtractKind::Suffix, ExtractKind::Prefix]
        .into_iter()
        .filter_map(|kind| {
            let seq = Extractor::new().kind(kind).extract(&hir);
            let literals = seq
                .literals()?
                .iter()
                .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok())
                .collect::<Option<Vec<String>>>()?;
            let shortest = literals.iter().map(|l| l.trim().len()).min()?;
            (shortest > 0).then_some((shortest, literals))
        })
        .max_by_key(|(shortest, _)| *shortest)
        .map(|(_, mut literals)| {
            literals.sort();
            literals.dedup();
            literals
        })
}
