//! Extraction: from a `SourceFile` to the prompts it holds.
//!
//! What counts as a prompt is data: `rules/prompts.toml` (embedded, extendable from config)
//! names the Python call sites, keyword arguments and variable-name patterns, the prompt
//! directories and the YAML keys. This module compiles that data once into `PromptSpec`,
//! classifies paths into `FileKind`s, and dispatches each file to its extractor. Extractors
//! build text and offset maps; `segment` and volatility classification run after them, here,
//! so every format gets the same treatment.

pub mod notebook;
pub mod prompt_file;
pub mod python;
pub mod yaml;

use std::path::Path;

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::Regex;
use serde::Deserialize;

use crate::prompt::{Prompt, PromptFormat};
use crate::source::{FileKind, SourceFile};
use crate::volatility::VolatilitySpec;

/// The embedded `rules/prompts.toml`.
pub const BUILTIN_PROMPTS_TOML: &str = include_str!("../../rules/prompts.toml");

/// `rules/prompts.toml` as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPromptsSpec {
    #[serde(default)]
    pub python: RawPython,
    #[serde(default)]
    pub files: RawFiles,
    #[serde(default)]
    pub yaml: RawYaml,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawPython {
    /// A `.py` file is parsed only when it contains one of these byte strings.
    #[serde(default)]
    pub prefilter: Vec<String>,
    /// Names (variables, attributes, keywords) whose string value is a prompt.
    #[serde(default)]
    pub name_patterns: Vec<String>,
    /// Names matching these are not prompts even if they match `name-patterns`.
    #[serde(default)]
    pub name_exclude_patterns: Vec<String>,
    /// Minimum characters for a string bound to a prompt-like name.
    #[serde(default)]
    pub min_name_chars: Option<usize>,
    /// Minimum characters for a string at a call site.
    #[serde(default)]
    pub min_call_chars: Option<usize>,
    /// Callees whose arguments are never prompts (logging, print, exceptions).
    #[serde(default)]
    pub ignore_callees: Vec<String>,
    /// Text that marks a literal as not a prompt (SQL, HTML...).
    #[serde(default)]
    pub not_prompt_patterns: Vec<String>,
    #[serde(default)]
    pub call: Vec<RawCallSite>,
}

/// One family of call sites.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawCallSite {
    /// Dotted callee suffixes (`chat.completions.create`, `PromptTemplate`); `*` matches any.
    pub callee: Vec<String>,
    /// Role given to `text` keywords and positional arguments.
    #[serde(default)]
    pub role: Option<String>,
    /// Keywords holding prompt text.
    #[serde(default)]
    pub text: Vec<String>,
    /// Keywords holding system text.
    #[serde(default)]
    pub system: Vec<String>,
    /// Keywords holding user text.
    #[serde(default)]
    pub user: Vec<String>,
    /// 0-based positional arguments holding prompt text.
    #[serde(default)]
    pub positional: Vec<usize>,
    /// Keywords (or positional `0`) holding a list of `{role, content}` dicts or `(role, text)` tuples.
    #[serde(default)]
    pub messages: Vec<String>,
    /// Positional arguments holding a messages list.
    #[serde(default)]
    pub messages_positional: Vec<usize>,
    /// Keywords holding few-shot example lists (`examples=[{...}]`).
    #[serde(default)]
    pub examples: Vec<String>,
    /// Only when the module imports one of these (top-level package names).
    #[serde(default)]
    pub requires_import: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawFiles {
    /// Directory names whose text files are prompt files.
    #[serde(default)]
    pub prompt_dirs: Vec<String>,
    /// Globs of prompt files (matched against the path relative to the scan root).
    #[serde(default)]
    pub prompt_globs: Vec<String>,
    /// Globs of coding-assistant instruction files.
    #[serde(default)]
    pub instruction_globs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawYaml {
    /// Keys whose string value is prompt text.
    #[serde(default)]
    pub keys: Vec<String>,
    /// A YAML file is parsed only when it contains one of these byte strings.
    #[serde(default)]
    pub prefilter: Vec<String>,
}

/// The compiled spec every extractor reads.
#[derive(Debug)]
pub struct PromptSpec {
    pub python: PythonSpec,
    pub prompt_dirs: Vec<String>,
    prompt_globs: GlobSet,
    instruction_globs: GlobSet,
    user_prompt_globs: GlobSet,
    pub yaml_keys: Vec<String>,
    pub yaml_prefilter: aho_corasick::AhoCorasick,
    pub volatility: VolatilitySpec,
}

#[derive(Debug)]
pub struct PythonSpec {
    pub prefilter: aho_corasick::AhoCorasick,
    pub name_pattern: Regex,
    pub name_exclude: Option<Regex>,
    pub min_name_chars: usize,
    pub min_call_chars: usize,
    pub ignore_callees: Vec<String>,
    pub not_prompt: Option<Regex>,
    pub calls: Vec<RawCallSite>,
}

impl PythonSpec {
    /// Call-site families whose callee suffix matches `callee` (a dotted name).
    pub fn sites_for<'a>(&'a self, callee: &'a str) -> impl Iterator<Item = &'a RawCallSite> + 'a {
        self.calls.iter().filter(move |c| c.callee.iter().any(|pat| callee_matches(pat, callee)))
    }

    pub fn is_prompt_name(&self, name: &str) -> bool {
        self.name_pattern.is_match(name) && !self.name_exclude.as_ref().is_some_and(|r| r.is_match(name))
    }

    pub fn is_ignored_callee(&self, callee: &str) -> bool {
        self.ignore_callees.iter().any(|pat| callee_matches(pat, callee))
    }
}

/// `pat` matches when it equals the dotted callee or a dotted suffix of it.
pub fn callee_matches(pat: &str, callee: &str) -> bool {
    pat == "*" || callee == pat || (callee.len() > pat.len() && callee.ends_with(pat) && callee.as_bytes()[callee.len() - pat.len() - 1] == b'.')
}

/// An error in `rules/prompts.toml` or in config that extends it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl PromptSpec {
    /// Compiles the built-in spec extended by config additions.
    pub fn compile(extra: &RawPromptsSpec, user_prompt_globs: &[String]) -> Result<PromptSpec, SpecError> {
        let builtin: RawPromptsSpec =
            toml::from_str(BUILTIN_PROMPTS_TOML).map_err(|e| SpecError(format!("rules/prompts.toml: {e}")))?;
        let mut raw = builtin;
        raw.python.prefilter.extend(extra.python.prefilter.iter().cloned());
        raw.python.name_patterns.extend(extra.python.name_patterns.iter().cloned());
        raw.python.name_exclude_patterns.extend(extra.python.name_exclude_patterns.iter().cloned());
        raw.python.ignore_callees.extend(extra.python.ignore_callees.iter().cloned());
        raw.python.not_prompt_patterns.extend(extra.python.not_prompt_patterns.iter().cloned());
        raw.python.call.extend(extra.python.call.iter().cloned());
        raw.files.prompt_dirs.extend(extra.files.prompt_dirs.iter().cloned());
        raw.files.prompt_globs.extend(extra.files.prompt_globs.iter().cloned());
        raw.files.instruction_globs.extend(extra.files.instruction_globs.iter().cloned());
        raw.yaml.keys.extend(extra.yaml.keys.iter().cloned());
        raw.yaml.prefilter.extend(extra.yaml.prefilter.iter().cloned());
        // Every custom callee is also a reason to parse a file.
        for site in &extra.python.call {
            for c in &site.callee {
                if let Some(last) = c.rsplit('.').next().filter(|s| *s != "*") {
                    raw.python.prefilter.push(last.to_string());
                }
            }
        }
        let py = &raw.python;
        let join = |pats: &[String], what: &str| -> Result<Option<Regex>, SpecError> {
            if pats.is_empty() {
                return Ok(None);
            }
            let alt = pats.iter().map(|p| format!("(?:{p})")).collect::<Vec<_>>().join("|");
            Regex::new(&alt).map(Some).map_err(|e| SpecError(format!("prompts spec: invalid {what} regex: {e}")))
        };
        let python = PythonSpec {
            prefilter: aho_corasick::AhoCorasick::new(&py.prefilter)
                .map_err(|e| SpecError(format!("prompts spec: python prefilter: {e}")))?,
            name_pattern: join(&py.name_patterns, "name-patterns")?.unwrap_or_else(|| Regex::new("$^").expect("empty regex")),
            name_exclude: join(&py.name_exclude_patterns, "name-exclude-patterns")?,
            min_name_chars: py.min_name_chars.unwrap_or(20),
            min_call_chars: py.min_call_chars.unwrap_or(1),
            ignore_callees: py.ignore_callees.clone(),
            not_prompt: join(&py.not_prompt_patterns, "not-prompt-patterns")?,
            calls: py.call.clone(),
        };
        Ok(PromptSpec {
            python,
            prompt_dirs: raw.files.prompt_dirs.clone(),
            prompt_globs: globset(&raw.files.prompt_globs)?,
            instruction_globs: globset(&raw.files.instruction_globs)?,
            user_prompt_globs: globset(user_prompt_globs)?,
            yaml_keys: raw.yaml.keys.clone(),
            yaml_prefilter: aho_corasick::AhoCorasick::new(&raw.yaml.prefilter)
                .map_err(|e| SpecError(format!("prompts spec: yaml prefilter: {e}")))?,
            volatility: VolatilitySpec::builtin().map_err(SpecError)?,
        })
    }

    /// What kind of file `rel` (a `/`-separated path) is, or `None` when it holds no prompts.
    pub fn classify(&self, rel: &str) -> Option<FileKind> {
        let rel = rel.trim_start_matches("./");
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let ext = match name.rfind('.') {
            Some(i) if i > 0 => name[i + 1..].to_ascii_lowercase(),
            _ => String::new(),
        };
        let in_prompt_dir = rel.split('/').rev().skip(1).any(|d| {
            let d = d.to_ascii_lowercase();
            self.prompt_dirs.iter().any(|p| *p == d)
        });
        let explicit = self.user_prompt_globs.is_match(rel) || self.prompt_globs.is_match(rel);
        match ext.as_str() {
            "py" | "pyi" => return (ext == "py").then_some(FileKind::Python),
            "ipynb" => return Some(FileKind::Notebook),
            "prompt" => return Some(FileKind::PromptFile(PromptFormat::Dotprompt)),
            "prompty" => return Some(FileKind::PromptFile(PromptFormat::Prompty)),
            "j2" | "jinja" | "jinja2" => return Some(FileKind::PromptFile(PromptFormat::Jinja)),
            "mustache" | "hbs" => {
                return (in_prompt_dir || explicit).then_some(FileKind::PromptFile(PromptFormat::Mustache));
            }
            "yaml" | "yml" => return Some(FileKind::Yaml),
            _ => {}
        }
        if self.instruction_globs.is_match(rel) {
            return Some(FileKind::PromptFile(if ext == "mdc" || ext == "md" { PromptFormat::Markdown } else { PromptFormat::Text }));
        }
        if name == "skprompt.txt" {
            return Some(FileKind::PromptFile(PromptFormat::Text));
        }
        let texty = matches!(ext.as_str(), "md" | "txt" | "markdown" | "tmpl" | "tpl" | "xml") || ext.is_empty();
        if (in_prompt_dir && texty) || explicit {
            return Some(FileKind::PromptFile(match ext.as_str() {
                "md" | "markdown" => PromptFormat::Markdown,
                "json" => return Some(FileKind::Json),
                _ => PromptFormat::Text,
            }));
        }
        None
    }
}

fn globset(globs: &[String]) -> Result<GlobSet, SpecError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        let glob = Glob::new(g).map_err(|e| SpecError(format!("invalid glob `{g}`: {e}")))?;
        b.add(glob);
    }
    b.build().map_err(|e| SpecError(format!("invalid globs: {e}")))
}

/// Per-thread extraction state: a reusable tree-sitter parser.
pub struct Extractor<'a> {
    pub spec: &'a PromptSpec,
    python: Option<python::PythonExtractor>,
}

impl<'a> Extractor<'a> {
    pub fn new(spec: &'a PromptSpec) -> Self {
        Self { spec, python: None }
    }

    /// All prompts in `file`, segmented, with placeholder volatility decided. Errors are
    /// per-file messages (a notebook that is not JSON); partial results are still returned.
    pub fn extract(&mut self, file: &SourceFile) -> (Vec<Prompt>, Option<String>) {
        let (mut prompts, error) = match file.kind {
            FileKind::Python => {
                if !self.spec.python.prefilter.is_match(file.text.as_bytes()) {
                    return (Vec::new(), None);
                }
                let py = self.python.get_or_insert_with(python::PythonExtractor::new);
                (py.extract(&file.text, &file.path, self.spec, PromptFormat::Python), None)
            }
            FileKind::Notebook => {
                let py = self.python.get_or_insert_with(python::PythonExtractor::new);
                notebook::extract(file, py, self.spec)
            }
            FileKind::PromptFile(format) => (prompt_file::extract(file, format, self.spec), None),
            FileKind::Yaml => {
                if !self.spec.yaml_prefilter.is_match(file.text.as_bytes()) {
                    return (Vec::new(), None);
                }
                yaml::extract(file, self.spec)
            }
            FileKind::Json => (prompt_file::extract(file, PromptFormat::Json, self.spec), None),
        };
        for p in &mut prompts {
            crate::segment::segment(p);
            self.spec.volatility.classify(p);
        }
        (prompts, error)
    }
}

/// Whether `path` has a Python extension (used by callers that only have a path).
pub fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}
