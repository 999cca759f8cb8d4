//! The rule files embedded in the binary, as JSON: `build.rs` converts each `rules/*.toml` at
//! build time, so a run never parses TOML for them.

use serde::de::DeserializeOwned;

/// One built-in rule file: its path in the repository and its contents as JSON.
pub struct RuleFile {
    pub path: &'static str,
    json: &'static str,
    /// The TOML it was converted from (for the test that compares them).
    #[cfg(test)]
    toml: &'static str,
}

impl RuleFile {
    /// Reads (part of) the file into `T`; an error names the file.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(self.json).map_err(|e| format!("{}: {e}", self.path))
    }
}

macro_rules! rule_file {
    ($name:literal) => {
        RuleFile {
            path: concat!("rules/", $name, ".toml"),
            json: include_str!(concat!(env!("OUT_DIR"), "/", $name, ".json")),
            #[cfg(test)]
            toml: include_str!(concat!("../../rules/", $name, ".toml")),
        }
    };
}

pub const PII: RuleFile = rule_file!("pii");
pub const CACHE: RuleFile = rule_file!("cache");
pub const REGISTRY: RuleFile = rule_file!("registry");
pub const CONTRADICTION: RuleFile = rule_file!("contradiction");
/// The prompt spec (`extract`), not a pack.
pub const PROMPTS: RuleFile = rule_file!("prompts");

/// Literals one of which every match of a built-in contradiction value's `patterns` (or
/// `negative-patterns`) holds, worked out by `build.rs`; `None` for other patterns (a user's
/// vocabulary) and for patterns without such a set.
pub fn value_keys(patterns: &[String]) -> Option<&'static [String]> {
    static KEYS: std::sync::LazyLock<std::collections::HashMap<String, Vec<String>>> =
        std::sync::LazyLock::new(|| {
            serde_json::from_str(include_str!(concat!(env!("OUT_DIR"), "/value_keys.json")))
                .unwrap_or_default()
        });
    KEYS.get(&patterns.join("\n")).map(Vec::as_slice)
}

/// Every built-in pack, in display order.
pub const BUILTIN_PACKS: [RuleFile; 4] = [PII, CACHE, REGISTRY, CONTRADICTION];

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON holds what the TOML holds: every table, array, string and number.
    #[test]
    fn the_json_is_the_toml() {
        for file in [PII, CACHE, REGISTRY, CONTRADICTION, PROMPTS] {
            let from_toml: toml::Table = toml::from_str(file.toml).unwrap();
            let from_json: toml::Table = file.parse().unwrap();
            assert_eq!(from_json, from_toml, "{}", file.path);
        }
    }
}
