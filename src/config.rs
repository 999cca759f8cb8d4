//! Configuration: `promptlint.toml`, or `[tool.promptlint]` in `pyproject.toml`.
//!
//! Discovery walks from the current directory upward and takes the first `promptlint.toml`,
//! `.promptlint.toml`, or `pyproject.toml` that has a `[tool.promptlint]` table; `--config`
//! names one explicitly. Keys are kebab-case and unknown keys are errors that name the key and
//! its line (toml's own error carries the position). Raw structs mirror the file; `Settings`
//! is what the rest of the program reads after merging with command-line flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::extract::RawPromptsSpec;

/// The config file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawConfig {
    #[serde(default)]
    pub files: RawFilesConfig,
    #[serde(default)]
    pub rules: RawRulesConfig,
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub registry: RawRegistryConfig,
    #[serde(default)]
    pub pii: RawPiiConfig,
    #[serde(default)]
    pub cache: RawCacheConfig,
    /// Extensions of `rules/prompts.toml`: in-house call sites, name patterns, prompt dirs.
    #[serde(default)]
    pub prompts: RawPromptsSpec,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawFilesConfig {
    #[serde(default)]
    pub prompt_globs: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub max_file_size: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRulesConfig {
    #[serde(default)]
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub severity: BTreeMap<String, String>,
    #[serde(default)]
    pub fail_on: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawRegistryConfig {
    #[serde(default)]
    pub dirs: Vec<String>,
    #[serde(default)]
    pub loaders: Vec<String>,
    #[serde(default)]
    pub lockfile: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPiiConfig {
    #[serde(default)]
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCacheConfig {
    #[serde(default)]
    pub min_static_chars: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct RawPyproject {
    #[serde(default)]
    tool: Option<RawTool>,
}

#[derive(Debug, Deserialize)]
struct RawTool {
    #[serde(default)]
    promptlint: Option<RawConfig>,
}

/// A config file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

/// A loaded config and the directory it applies to (globs are relative to it).
#[derive(Debug, Clone, Default)]
pub struct LoadedConfig {
    pub raw: RawConfig,
    /// The file it came from; `None` when no config was found.
    pub path: Option<PathBuf>,
    pub root: PathBuf,
}

/// Finds and loads the config for `start` (usually the current directory).
pub fn discover(start: &Path) -> Result<LoadedConfig, ConfigError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        for name in ["promptlint.toml", ".promptlint.toml"] {
            let p = d.join(name);
            if p.is_file() {
                return load(&p);
            }
        }
        let py = d.join("pyproject.toml");
        if py.is_file() {
            let text = read(&py)?;
            if has_tool_table(&text) {
                return parse(&py, &text);
            }
        }
        dir = d.parent();
    }
    Ok(LoadedConfig { raw: RawConfig::default(), path: None, root: start.to_path_buf() })
}

/// Loads a named config file (`--config FILE`).
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = read(path)?;
    parse(path, &text)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError { path: path.display().to_string(), message: format!("cannot read config: {e}") })
}

fn has_tool_table(text: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim();
        l.starts_with("[tool.promptlint") || l.starts_with("tool.promptlint")
    })
}

fn parse(path: &Path, text: &str) -> Result<LoadedConfig, ConfigError> {
    let display = path.display().to_string();
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let raw = if is_pyproject {
        let py: RawPyproject = toml::from_str(text).map_err(|e| ConfigError { path: display.clone(), message: clean(&e) })?;
        py.tool.and_then(|t| t.promptlint).unwrap_or_default()
    } else {
        toml::from_str(text).map_err(|e| ConfigError { path: display.clone(), message: clean(&e) })?
    };
    let root = path.parent().map(Path::to_path_buf).filter(|p| !p.as_os_str().is_empty()).unwrap_or_else(|| PathBuf::from("."));
    Ok(LoadedConfig { raw, path: Some(path.to_path_buf()), root })
}

/// toml's errors start with "TOML parse error at line N, column M" and a source excerpt;
/// keep the position and the reason in one readable block.
fn clean(e: &toml::de::Error) -> String {
    let msg = e.to_string();
    let msg = msg.trim_end().replace("TOML parse error at ", "");
    format!("invalid config: {msg}")
}

/// Settings the rules read.
#[derive(Debug, Clone, Default)]
pub struct RuleSettings {
    /// Values known to be safe (`[pii] allow`).
    pub pii_allow: Vec<String>,
    /// Print matched values unredacted.
    pub show_pii: bool,
    /// `[cache] min-static-chars`.
    pub cache_min_static_chars: usize,
    /// `[registry]` as configured; `None` when no registry is declared.
    pub registry: Option<RawRegistryConfig>,
}

impl RuleSettings {
    pub fn from_config(raw: &RawConfig, show_pii: bool) -> Self {
        let registry = (!raw.registry.dirs.is_empty() || !raw.registry.loaders.is_empty() || raw.registry.lockfile.is_some())
            .then(|| raw.registry.clone());
        RuleSettings {
            pii_allow: raw.pii.allow.clone(),
            show_pii,
            cache_min_static_chars: raw.cache.min_static_chars.unwrap_or(1000),
            registry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse(Path::new("promptlint.toml"), "[rules]\nselect = [\"pii\"]\nsellect = 1\n").unwrap_err();
        assert!(err.message.contains("sellect"), "{}", err.message);
        assert!(err.message.contains("line 3"), "{}", err.message);
    }

    #[test]
    fn pyproject_table() {
        let cfg = parse(Path::new("pyproject.toml"), "[project]\nname='x'\n[tool.promptlint.pii]\nallow = [\"a@b.co\"]\n").unwrap();
        assert_eq!(cfg.raw.pii.allow, vec!["a@b.co"]);
        let err = parse(Path::new("pyproject.toml"), "[tool.promptlint]\nbogus = 1\n").unwrap_err();
        assert!(err.message.contains("bogus") && err.message.contains("line 2"), "{}", err.message);
    }
}
