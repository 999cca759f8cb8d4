//! The rule files embedded in the binary, as JSON: `build.rs` converts each `rules/*.toml` at
//! build time, so a run never parses TOML for them.

use serde::de::DeserializeOwned;

macro_rules! rules_json {
    ($name:literal) => {
        include_str!(concat!(env!("OUT_DIR"), "/", $name, ".json"))
    };
}

/// `(file name, contents as JSON)` of every built-in pack, in display order.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("rules/pii.toml", rules_json!("pii")),
    ("rules/cache.toml", rules_json!("cache")),
    ("rules/registry.toml", rules_json!("registry")),
    ("rules/contradiction.toml", rules_json!("contradiction")),
];

/// `rules/prompts.toml`, as JSON.
pub const PROMPTS: &str = rules_json!("prompts");
/// `rules/cache.toml`, as JSON.
pub const CACHE: &str = rules_json!("cache");
/// `rules/registry.toml`, as JSON.
pub const REGISTRY: &str = rules_json!("registry");

/// Reads (part of) the built-in rule file `file` into `T`; an error names the file.
pub fn parse<T: DeserializeOwned>(file: &str, json: &str) -> Result<T, String> {
    serde_json::from_str(json).map_err(|e| format!("{file}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON holds what the TOML holds: every table, array, string and number.
    #[test]
    fn the_json_is_the_toml() {
        let sources = [
            ("pii", include_str!("../../rules/pii.toml")),
            ("cache", include_str!("../../rules/cache.toml")),
            ("registry", include_str!("../../rules/registry.toml")),
            (
                "contradiction",
                include_str!("../../rules/contradiction.toml"),
            ),
            ("prompts", include_str!("../../rules/prompts.toml")),
        ];
        let embedded = BUILTIN_PACKS
            .iter()
            .map(|(f, j)| (f.trim_start_matches("rules/").trim_end_matches(".toml"), *j))
            .chain([
                ("prompts", PROMPTS),
                ("cache", CACHE),
                ("registry", REGISTRY),
            ]);
        for (name, json) in embedded {
            let (_, toml_text) = sources.iter().find(|(n, _)| *n == name).unwrap();
            let from_toml: toml::Table = toml::from_str(toml_text).unwrap();
            let from_json: toml::Table = parse(name, json).unwrap();
            assert_eq!(from_json, from_toml, "rules/{name}.toml");
        }
    }
}
