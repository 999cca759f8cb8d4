//! Extraction: from a `SourceFile` to the prompts it holds.
//!
//! What counts as a prompt is data: `rules/prompts.toml` (embedded, extendable from config)
//! names the Python call sites, keyword arguments and variable-name patterns, the prompt
//! directories and the YAML keys. This module compiles that data once into `PromptSpec`,
//! classifies paths into `FileKind`s, and dispatches each file to its extractor. Extractors
//! build text and offset maps; `segment` and volatility classification run after them, here,
//! so every format gets the same treatment.

pub mod loaders;
pub mod notebook;
pub mod prompt_file;
pub mod python;
pub mod yaml;
// Kept apart from the sorted list above so parallel branches adding modules merge cleanly.
pub mod json;

use std::path::Path;
use std::sync::OnceLock;

use crate::lazy_regex::{lazy_any_of, LazyRegex};
use globset::{GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::prompt::{Prompt, PromptFormat};
use crate::source::{FileKind, SourceFile};
use crate::volatility::VolatilitySpec;

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
    /// Minimum literal characters for a role dict found outside any call site.
    #[serde(default)]
    pub min_message_chars: Option<usize>,
    /// Callees whose arguments are never prompts (logging, print, exceptions).
    #[serde(default)]
    pub ignore_callees: Vec<String>,
    /// Text that marks a literal as not a prompt (SQL, HTML...).
    #[serde(default)]
    pub not_prompt_patterns: Vec<String>,
    #[serde(default)]
    pub call: Vec<RawCallSite>,
    /// Last attribute of decorators whose function returns a prompt (`@agent.system_prompt`).
    #[serde(default)]
    pub prompt_decorators: Vec<String>,
    /// Base classes whose subclasses' docstrings are prompts (DSPy `Signature`).
    #[serde(default)]
    pub docstring_bases: Vec<String>,
    /// Field constructors in such classes whose `desc=` text joins the prompt.
    #[serde(default)]
    pub docstring_field_callees: Vec<String>,
    /// Names of constants holding few-shot example lists (`FEW_SHOT_EXAMPLES`).
    #[serde(default)]
    pub examples_name_patterns: Vec<String>,
    /// Keys of an example dict holding its input (lower case).
    #[serde(default)]
    pub example_input_keys: Vec<String>,
    /// Keys of an example dict holding its output (lower case).
    #[serde(default)]
    pub example_output_keys: Vec<String>,
    /// Callees that dedent their argument like `textwrap.dedent`.
    #[serde(default)]
    pub dedent_callees: Vec<String>,
    /// Callees that clean their argument like `inspect.cleandoc`.
    #[serde(default)]
    pub cleandoc_callees: Vec<String>,
    /// Keywords naming the model of a call (`model="gpt-4o"`).
    #[serde(default)]
    pub model_keywords: Vec<String>,
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
    /// Template syntax of the text: `format` (`{x}` fields, `{{` is a brace) or `jinja`.
    #[serde(default)]
    pub syntax: Option<String>,
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
    /// Keys that are prompts without further evidence (`system_prompt`, `backstory`).
    #[serde(default)]
    pub strong_keys: Vec<String>,
    /// Regexes over key names that are never prompts (`confirmation_prompt`).
    #[serde(default)]
    pub exclude_keys: Vec<String>,
    /// Words (ASCII case-insensitive) that show a file is about LLMs; other prompt keys count
    /// only in such files or when the value holds a template placeholder.
    #[serde(default)]
    pub llm_signals: Vec<String>,
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
    pub yaml_prefilter: FilePrefilter,
    pub yaml_strong_keys: Vec<String>,
    pub yaml_exclude_keys: Option<LazyRegex>,
    pub yaml_llm_signals: aho_corasick::AhoCorasick,
    pub volatility: &'static VolatilitySpec,
}

/// Words one of which a file of a kind must hold to be parsed. The automaton (a DFA: it scans
/// every such file) is built when the first file of its kind comes, so a run over prompt files
/// alone never builds the Python one.
#[derive(Debug)]
pub struct FilePrefilter {
    words: Vec<String>,
    automaton: OnceLock<Option<aho_corasick::AhoCorasick>>,
}

impl FilePrefilter {
    fn new(words: Vec<String>) -> FilePrefilter {
        FilePrefilter {
            words,
            automaton: OnceLock::new(),
        }
    }

    /// Whether `text` holds one of the words (always, for an automaton too large to build).
    pub fn is_match(&self, text: &[u8]) -> bool {
        // Leftmost-first finds a match wherever standard semantics does, and only it lets
        // aho-corasick search with its vectorised prefilter (Teddy): most files are scanned
        // whole, most bytes are no word's start.
        self.automaton
            .get_or_init(|| {
                aho_corasick::AhoCorasick::builder()
                    .match_kind(aho_corasick::MatchKind::LeftmostFirst)
                    .build(&self.words)
                    .ok()
            })
            .as_ref()
            .is_none_or(|a| a.is_match(text))
    }
}

#[derive(Debug)]
pub struct PythonSpec {
    pub prefilter: FilePrefilter,
    pub name_pattern: LazyRegex,
    pub name_exclude: Option<LazyRegex>,
    pub min_name_chars: usize,
    pub min_call_chars: usize,
    pub min_message_chars: usize,
    pub ignore_callees: Vec<String>,
    ignore_index: CalleeIndex,
    pub not_prompt: Option<LazyRegex>,
    pub calls: Vec<RawCallSite>,
    calls_index: CalleeIndex,
    /// Every keyword a `*` call site reads: with no other site for a callee, a call without one
    /// of these or a prompt-like keyword holds no prompt part.
    any_callee_keywords: foldhash::HashSet<String>,
    pub prompt_decorators: Vec<String>,
    pub docstring_bases: Vec<String>,
    pub docstring_field_callees: Vec<String>,
    pub examples_name: Option<LazyRegex>,
    pub example_input_keys: Vec<String>,
    pub example_output_keys: Vec<String>,
    pub dedent_callees: Vec<String>,
    pub cleandoc_callees: Vec<String>,
    pub model_keywords: Vec<String>,
}

impl PythonSpec {
    /// Whether a Python module holds a prompt word (`prefilter`): one without any is not
    /// searched for prompts.
    pub fn has_prompt_word(&self, source: &str) -> bool {
        self.prefilter.is_match(source.as_bytes())
    }

    /// Whether a name reads as few-shot examples (`FEW_SHOT_EXAMPLES`).
    pub fn is_examples_name(&self, name: &str) -> bool {
        self.examples_name
            .as_ref()
            .is_some_and(|r| r.is_match(name))
    }

    /// Call-site families whose callee suffix matches `callee` (a dotted name).
    pub fn sites_for<'a>(&'a self, callee: &'a str) -> impl Iterator<Item = &'a RawCallSite> + 'a {
        self.calls_index
            .candidates(callee)
            .iter()
            .map(|&i| &self.calls[i])
            .filter(move |c| c.callee.iter().any(|pat| callee_matches(pat, callee)))
    }

    /// Whether a call whose callee ends in `last_segment` may hold a prompt given its keywords'
    /// names: it has call sites of its own (any argument may count), or a keyword a `*` site
    /// reads or that is prompt-like. Needs only the callee's last segment.
    pub fn call_may_hold_prompt<'k>(
        &self,
        last_segment: &str,
        mut keywords: impl Iterator<Item = &'k str>,
    ) -> bool {
        self.calls_index.names(last_segment)
            || keywords.any(|k| self.any_callee_keywords.contains(k) || self.is_prompt_name(k))
    }

    pub fn is_prompt_name(&self, name: &str) -> bool {
        self.name_pattern.is_match(name)
            && !self.name_exclude.as_ref().is_some_and(|r| r.is_match(name))
    }

    pub fn is_ignored_callee(&self, callee: &str) -> bool {
        self.ignore_index
            .candidates(callee)
            .iter()
            .any(|&i| callee_matches(&self.ignore_callees[i], callee))
    }
}

/// Which entries of a list of callee patterns can match a callee. `callee_matches` holds only
/// when the callee's last dotted segment equals the pattern's (or the pattern is `*`), so a
/// call is tried against those entries alone instead of every pattern of every call site.
#[derive(Debug, Default)]
struct CalleeIndex {
    /// Last segment -> entries (in list order) with a pattern ending in it, plus the `*` ones.
    by_last: foldhash::HashMap<String, Vec<usize>>,
    /// Entries with a `*` pattern.
    star: Vec<usize>,
}

impl CalleeIndex {
    /// `entries[i]` lists the patterns of entry `i`.
    fn new<'p, P: IntoIterator<Item = &'p String>>(entries: impl IntoIterator<Item = P>) -> Self {
        let mut index = CalleeIndex::default();
        for (i, patterns) in entries.into_iter().enumerate() {
            for pat in patterns {
                let list = if pat == "*" {
                    &mut index.star
                } else {
                    index
                        .by_last
                        .entry(last_segment(pat).to_string())
                        .or_default()
                };
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        for list in index.by_last.values_mut() {
            list.extend(&index.star);
            list.sort_unstable();
            list.dedup();
        }
        index
    }

    /// Whether an entry other than a `*` one has a pattern ending in `last_segment`.
    fn names(&self, last_segment: &str) -> bool {
        self.by_last.contains_key(last_segment)
    }

    /// The entries that may match `callee`, in list order.
    fn candidates(&self, callee: &str) -> &[usize] {
        self.by_last
            .get(last_segment(callee))
            .map_or(&self.star, |v| v)
    }
}

pub(crate) fn last_segment(dotted: &str) -> &str {
    dotted.rsplit('.').next().unwrap_or(dotted)
}

/// `pat` matches when it equals the dotted callee or a dotted suffix of it.
pub fn callee_matches(pat: &str, callee: &str) -> bool {
    pat == "*"
        || callee == pat
        || (callee.len() > pat.len()
            && callee.ends_with(pat)
            && callee.as_bytes()[callee.len() - pat.len() - 1] == b'.')
}

/// An error in `rules/prompts.toml` or in config that extends it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

impl PromptSpec {
    /// Compiles the built-in spec extended by config additions.
    pub fn compile(
        extra: &RawPromptsSpec,
        user_prompt_globs: &[String],
    ) -> Result<PromptSpec, SpecError> {
        let builtin: RawPromptsSpec = crate::packs::builtin::PROMPTS.parse().map_err(SpecError)?;
        let mut raw = builtin;
        raw.python
            .prefilter
            .extend(extra.python.prefilter.iter().cloned());
        raw.python
            .name_patterns
            .extend(extra.python.name_patterns.iter().cloned());
        raw.python
            .name_exclude_patterns
            .extend(extra.python.name_exclude_patterns.iter().cloned());
        raw.python
            .ignore_callees
            .extend(extra.python.ignore_callees.iter().cloned());
        raw.python
            .not_prompt_patterns
            .extend(extra.python.not_prompt_patterns.iter().cloned());
        raw.python.call.extend(extra.python.call.iter().cloned());
        raw.python
            .prompt_decorators
            .extend(extra.python.prompt_decorators.iter().cloned());
        raw.python
            .docstring_bases
            .extend(extra.python.docstring_bases.iter().cloned());
        raw.python
            .docstring_field_callees
            .extend(extra.python.docstring_field_callees.iter().cloned());
        raw.python
            .examples_name_patterns
            .extend(extra.python.examples_name_patterns.iter().cloned());
        raw.python
            .example_input_keys
            .extend(extra.python.example_input_keys.iter().cloned());
        raw.python
            .example_output_keys
            .extend(extra.python.example_output_keys.iter().cloned());
        raw.python
            .dedent_callees
            .extend(extra.python.dedent_callees.iter().cloned());
        raw.python
            .cleandoc_callees
            .extend(extra.python.cleandoc_callees.iter().cloned());
        raw.python
            .model_keywords
            .extend(extra.python.model_keywords.iter().cloned());
        raw.files
            .prompt_dirs
            .extend(extra.files.prompt_dirs.iter().cloned());
        raw.files
            .prompt_globs
            .extend(extra.files.prompt_globs.iter().cloned());
        raw.files
            .instruction_globs
            .extend(extra.files.instruction_globs.iter().cloned());
        raw.yaml.keys.extend(extra.yaml.keys.iter().cloned());
        raw.yaml
            .strong_keys
            .extend(extra.yaml.strong_keys.iter().cloned());
        raw.yaml
            .exclude_keys
            .extend(extra.yaml.exclude_keys.iter().cloned());
        raw.yaml
            .llm_signals
            .extend(extra.yaml.llm_signals.iter().cloned());
        raw.yaml
            .prefilter
            .extend(extra.yaml.prefilter.iter().cloned());
        // Every custom callee is also a reason to parse a file.
        for site in &extra.python.call {
            for c in &site.callee {
                if let Some(last) = c.rsplit('.').next().filter(|s| *s != "*") {
                    raw.python.prefilter.push(last.to_string());
                }
            }
        }
        let py = &raw.python;
        // Built on first use; config additions are syntax-checked now, the built-in patterns by
        // the tests (`PromptSpec::force`).
        let join = |pats: &[String], extra: &[String], what: &str| {
            for p in extra {
                LazyRegex::new(p)
                    .map_err(|e| SpecError(format!("prompts spec: invalid {what} regex: {e}")))?;
            }
            Ok::<_, SpecError>((!pats.is_empty()).then(|| lazy_any_of(pats)))
        };
        let ex = &extra.python;
        let python = PythonSpec {
            prefilter: FilePrefilter::new(py.prefilter.clone()),
            name_pattern: join(&py.name_patterns, &ex.name_patterns, "name-patterns")?
                .unwrap_or_else(|| LazyRegex::unchecked("$^".into())),
            name_exclude: join(
                &py.name_exclude_patterns,
                &ex.name_exclude_patterns,
                "name-exclude-patterns",
            )?,
            min_name_chars: py.min_name_chars.unwrap_or(20),
            min_call_chars: py.min_call_chars.unwrap_or(1),
            min_message_chars: py.min_message_chars.unwrap_or(8),
            ignore_callees: py.ignore_callees.clone(),
            ignore_index: CalleeIndex::new(py.ignore_callees.iter().map(std::slice::from_ref)),
            not_prompt: join(
                &py.not_prompt_patterns,
                &ex.not_prompt_patterns,
                "not-prompt-patterns",
            )?,
            calls: py.call.clone(),
            calls_index: CalleeIndex::new(py.call.iter().map(|c| &c.callee)),
            any_callee_keywords: py
                .call
                .iter()
                .filter(|c| c.callee.iter().any(|p| p == "*"))
                .flat_map(|c| [&c.text, &c.system, &c.user, &c.messages, &c.examples])
                .flatten()
                .cloned()
                .collect(),
            prompt_decorators: py.prompt_decorators.clone(),
            docstring_bases: py.docstring_bases.clone(),
            docstring_field_callees: py.docstring_field_callees.clone(),
            examples_name: join(
                &py.examples_name_patterns,
                &ex.examples_name_patterns,
                "examples-name-patterns",
            )?,
            example_input_keys: py
                .example_input_keys
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            example_output_keys: py
                .example_output_keys
                .iter()
                .map(|k| k.to_ascii_lowercase())
                .collect(),
            dedent_callees: py.dedent_callees.clone(),
            cleandoc_callees: py.cleandoc_callees.clone(),
            model_keywords: py.model_keywords.clone(),
        };
        Ok(PromptSpec {
            python,
            prompt_dirs: raw.files.prompt_dirs.clone(),
            prompt_globs: globset(&raw.files.prompt_globs)?,
            instruction_globs: globset(&raw.files.instruction_globs)?,
            user_prompt_globs: globset(user_prompt_globs)?,
            yaml_keys: raw.yaml.keys.clone(),
            yaml_prefilter: FilePrefilter::new(raw.yaml.prefilter.clone()),
            yaml_strong_keys: raw.yaml.strong_keys.clone(),
            yaml_exclude_keys: join(
                &raw.yaml.exclude_keys,
                &extra.yaml.exclude_keys,
                "yaml exclude-keys",
            )?,
            // Run on the few YAML files with prompt keys: cheaper to build than a DFA.
            yaml_llm_signals: aho_corasick::AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
                .build(&raw.yaml.llm_signals)
                .map_err(|e| SpecError(format!("prompts spec: yaml llm-signals: {e}")))?,
            volatility: VolatilitySpec::builtin().map_err(SpecError)?,
        })
    }

    /// Builds every lazily built regex now and reports a failure (for tests).
    pub fn force(&self) -> Result<(), String> {
        let py = &self.python;
        [
            Some(&py.name_pattern),
            py.name_exclude.as_ref(),
            py.not_prompt.as_ref(),
            py.examples_name.as_ref(),
            self.yaml_exclude_keys.as_ref(),
        ]
        .into_iter()
        .flatten()
        .try_for_each(LazyRegex::force)?;
        self.volatility.force()
    }

    /// What kind of file `rel` (a `/`-separated path) is, or `None` when it holds no prompts.
    ///
    /// By extension: `.py`, `.ipynb`, `.prompt` (Dotprompt), `.prompty`, Jinja (except
    /// `x.html.j2`-style templates of other files outside prompt directories), YAML (except
    /// lockfiles and recorded cassettes), Mustache/Handlebars and JSON only in prompt
    /// directories or under prompt globs. Then instruction files for coding assistants,
    /// `skprompt.txt`, and text files (Markdown, `.txt`, `.tmpl`, extensionless...) in a
    /// directory named like `prompts` or matching a prompt glob. READMEs and licenses in prompt
    /// directories are documentation, not prompts.
    pub fn classify(&self, rel: &str) -> Option<FileKind> {
        let rel = rel.trim_start_matches("./");
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let ext = match name.rfind('.') {
            Some(i) if i > 0 => name[i + 1..].to_ascii_lowercase(),
            _ => String::new(),
        };
        // The extension before the last one (`index.html.j2` -> `html`).
        let inner_ext = name
            .rsplit('.')
            .nth(1)
            .filter(|_| name.matches('.').count() >= 2)
            .map(str::to_ascii_lowercase);
        let dirs = || rel.split('/').rev().skip(1);
        // Worked out only where the kind depends on them: most files are Python.
        let in_prompt_dir = || dirs().any(|d| self.is_prompt_dir(d));
        let explicit = || self.user_prompt_globs.is_match(rel) || self.prompt_globs.is_match(rel);
        match ext.as_str() {
            "py" | "pyi" => return (ext == "py").then_some(FileKind::Python),
            "ipynb" => return Some(FileKind::Notebook),
            "prompt" => return Some(FileKind::PromptFile(PromptFormat::Dotprompt)),
            "prompty" => return Some(FileKind::PromptFile(PromptFormat::Prompty)),
            "j2" | "jinja" | "jinja2" => {
                const OTHER_FILES: &[&str] = &[
                    "html", "htm", "xml", "css", "js", "ts", "sh", "py", "yaml", "yml", "json",
                    "toml", "conf", "cfg", "ini", "sql", "rs", "go", "service", "env",
                ];
                let templated_file = inner_ext
                    .as_deref()
                    .is_some_and(|e| OTHER_FILES.contains(&e));
                return (!templated_file || in_prompt_dir() || explicit())
                    .then_some(FileKind::PromptFile(PromptFormat::Jinja));
            }
            "mustache" | "hbs" | "handlebars" => {
                return (in_prompt_dir() || explicit())
                    .then_some(FileKind::PromptFile(PromptFormat::Mustache));
            }
            "yaml" | "yml" => {
                let lockfile = name.ends_with("-lock.yaml")
                    || name.ends_with(".lock.yaml")
                    || name.ends_with(".lock.yml");
                let recorded =
                    dirs().any(|d| d.eq_ignore_ascii_case("cassettes") || d == "__snapshots__");
                return (!lockfile && !recorded).then_some(FileKind::Yaml);
            }
            "json" => {
                let prompt_json = name.to_ascii_lowercase().ends_with(".prompt.json");
                return (prompt_json || in_prompt_dir() || explicit()).then_some(FileKind::Json);
            }
            _ => {}
        }
        if self.instruction_globs.is_match(rel) {
            return Some(FileKind::PromptFile(if ext == "mdc" || ext == "md" {
                PromptFormat::Markdown
            } else {
                PromptFormat::Text
            }));
        }
        // gpt-engineer style `projects/x/prompt`: an extensionless file named `prompt`.
        if name == "skprompt.txt" || name == "prompt" {
            return Some(FileKind::PromptFile(PromptFormat::Text));
        }
        let upper = name.to_ascii_uppercase();
        let documentation = [
            "README",
            "LICENSE",
            "LICENCE",
            "CHANGELOG",
            "CONTRIBUTING",
            "NOTICE",
            "CODEOWNERS",
            "MAKEFILE",
            "DOCKERFILE",
        ]
        .iter()
        .any(|d| {
            upper
                .strip_prefix(d)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        });
        let texty = matches!(
            ext.as_str(),
            "md" | "txt" | "markdown" | "tmpl" | "tpl" | "xml" | "text"
        ) || ext.is_empty();
        if (texty && !documentation && !name.starts_with('.') && in_prompt_dir()) || explicit() {
            return Some(FileKind::PromptFile(match ext.as_str() {
                "md" | "markdown" => PromptFormat::Markdown,
                _ => PromptFormat::Text,
            }));
        }
        None
    }

    /// A directory named like a prompt directory: one of `[files] prompt-dirs`, or any name
    /// ending in `prompts` (`preprompts`, `agent_prompts`, `llm-prompts`).
    fn is_prompt_dir(&self, dir: &str) -> bool {
        let d = dir.to_ascii_lowercase();
        self.prompt_dirs.contains(&d) || d.ends_with("prompts")
    }
}

fn globset(globs: &[String]) -> Result<GlobSet, SpecError> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        // `*` stops at `/`, as in .gitignore: `**/*prompt*.md` must not match `prompts/README.md`.
        let glob = globset::GlobBuilder::new(g)
            .literal_separator(true)
            .build()
            .map_err(|e| SpecError(format!("invalid glob `{g}`: {e}")))?;
        b.add(glob);
    }
    b.build()
        .map_err(|e| SpecError(format!("invalid globs: {e}")))
}

/// Per-thread extraction state: the Python extractor (and the last tree it parsed).
pub struct Extractor<'a> {
    pub spec: &'a PromptSpec,
    python: Option<python::PythonExtractor>,
}

impl<'a> Extractor<'a> {
    pub fn new(spec: &'a PromptSpec) -> Self {
        Self { spec, python: None }
    }

    /// Registry loader calls in a Python file, reusing the parse `extract` made of it.
    pub fn loader_calls(
        &mut self,
        source: &str,
        loaders: &loaders::LoaderSpec,
    ) -> Vec<loaders::LoaderCall> {
        self.python
            .get_or_insert_with(python::PythonExtractor::new)
            .loader_calls(source, loaders)
    }

    /// All prompts in `file`, segmented, with placeholder volatility decided. Errors are
    /// per-file messages (a notebook that is not JSON); partial results are still returned.
    pub fn extract(&mut self, file: &SourceFile) -> (Vec<Prompt>, Option<String>) {
        self.extract_then(file, || {})
    }

    /// `extract`, calling `found` once the file's prompts are found, before their segmentation
    /// and volatility (which build regexes of their own on a run's first prompts).
    pub fn extract_then(
        &mut self,
        file: &SourceFile,
        found: impl FnOnce(),
    ) -> (Vec<Prompt>, Option<String>) {
        let (mut prompts, error) = match file.kind {
            FileKind::Python => {
                if !self.spec.python.has_prompt_word(&file.text) {
                    return (Vec::new(), None);
                }
                let py = self.python.get_or_insert_with(python::PythonExtractor::new);
                let found = py.extract(&file.text, &file.path, self.spec, PromptFormat::Python);
                (found, None)
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
            FileKind::Json => yaml::extract_as(file, self.spec, PromptFormat::Json),
        };
        if !prompts.is_empty() {
            found();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A file holds a word wherever it is: at the end, inside a longer word, overlapping a
    /// longer word that shares its start, or only as a later part of a longer candidate.
    #[test]
    fn the_file_prefilter_finds_any_word_anywhere() {
        let words: Vec<String> = ["prompt", "system_", "role=", "SYSTEM"]
            .iter()
            .map(|w| w.to_string())
            .collect();
        let pre = FilePrefilter::new(words);
        for text in [
            "x = 1\nsystem_",
            "def build_prompts(): pass",
            "promp t = sys; role=1",
            "SYSTEMS = []",
            "system_prompt",
            "sys prom role= ",
        ] {
            assert!(pre.is_match(text.as_bytes()), "{text:?}");
        }
        for text in ["", "Prompt", "system-", "role = 1", "promp"] {
            assert!(!pre.is_match(text.as_bytes()), "{text:?}");
        }
    }

    #[test]
    fn callee_index_finds_what_a_scan_of_every_pattern_finds() {
        let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap();
        let py = &spec.python;
        let mut callees: Vec<String> = vec!["x".into(), "".into(), "f()".into(), "a.b.".into()];
        for pat in py
            .calls
            .iter()
            .flat_map(|c| &c.callee)
            .chain(&py.ignore_callees)
        {
            for variant in [
                pat.clone(),
                format!("client.{pat}"),
                format!("OpenAI().{pat}"),
                format!("x{pat}"),
                format!("{pat}.more"),
                pat.rsplit('.').next().unwrap().to_string(),
            ] {
                callees.push(variant);
            }
        }
        for callee in &callees {
            let scanned: Vec<*const RawCallSite> = py
                .calls
                .iter()
                .filter(|c| c.callee.iter().any(|p| callee_matches(p, callee)))
                .map(|c| c as *const _)
                .collect();
            let indexed: Vec<*const RawCallSite> =
                py.sites_for(callee).map(|c| c as *const _).collect();
            assert_eq!(scanned, indexed, "call sites for {callee:?}");
            let ignored = py.ignore_callees.iter().any(|p| callee_matches(p, callee));
            assert_eq!(ignored, py.is_ignored_callee(callee), "ignored {callee:?}");
        }
    }

    fn kind(rel: &str) -> Option<FileKind> {
        let spec =
            PromptSpec::compile(&RawPromptsSpec::default(), &["custom/**/*.txt".to_string()])
                .unwrap();
        spec.classify(rel)
    }

    #[test]
    fn built_in_patterns_build_and_config_additions_are_checked_at_load() {
        let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap();
        spec.force().unwrap();
        let mut extra = RawPromptsSpec::default();
        extra.python.not_prompt_patterns.push("(unclosed".into());
        let err = PromptSpec::compile(&extra, &[]).unwrap_err();
        assert!(err.0.contains("not-prompt-patterns"), "{}", err.0);
    }

    #[test]
    fn prompt_formats_by_extension() {
        assert_eq!(kind("app/main.py"), Some(FileKind::Python));
        assert_eq!(kind("app/types.pyi"), None);
        assert_eq!(kind("nb/demo.ipynb"), Some(FileKind::Notebook));
        assert_eq!(
            kind("./src/trip.prompt"),
            Some(FileKind::PromptFile(PromptFormat::Dotprompt))
        );
        assert_eq!(
            kind("chat.prompty"),
            Some(FileKind::PromptFile(PromptFormat::Prompty))
        );
        assert_eq!(
            kind("flows/qa.jinja2"),
            Some(FileKind::PromptFile(PromptFormat::Jinja))
        );
        assert_eq!(kind("config.yaml"), Some(FileKind::Yaml));
        assert_eq!(kind("gen/summarize.prompt.yml"), Some(FileKind::Yaml));
    }

    #[test]
    fn templates_of_other_files_are_not_prompts() {
        assert_eq!(kind("roles/web/templates/nginx.conf.j2"), None);
        assert_eq!(kind("site/index.html.jinja"), None);
        assert_eq!(
            kind("prompts/answer.md.j2"),
            Some(FileKind::PromptFile(PromptFormat::Jinja))
        );
        assert_eq!(kind("web/partials/card.hbs"), None);
        assert_eq!(
            kind("prompts/card.hbs"),
            Some(FileKind::PromptFile(PromptFormat::Mustache))
        );
    }

    #[test]
    fn prompt_directories_and_globs() {
        assert_eq!(
            kind("app/prompts/summary.md"),
            Some(FileKind::PromptFile(PromptFormat::Markdown))
        );
        assert_eq!(
            kind("app/Prompts/qa/system.txt"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(
            kind("gpt_engineer/preprompts/philosophy"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(
            kind("src/agent_prompts/planner.tmpl"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(kind("app/prompts/README.md"), None);
        assert_eq!(kind("app/prompts/.gitkeep"), None);
        assert_eq!(kind("app/prompts/loader.rs"), None);
        assert_eq!(kind("docs/guide.md"), None);
        assert_eq!(
            kind("custom/deep/x.txt"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(
            kind("plugins/Summarize/skprompt.txt"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(
            kind("projects/example/prompt"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(kind("prompts/chain/prompt.json"), Some(FileKind::Json));
        assert_eq!(kind("package.json"), None);
        assert_eq!(kind("src/ask.prompt.json"), Some(FileKind::Json));
    }

    #[test]
    fn instruction_files() {
        assert_eq!(
            kind("AGENTS.md"),
            Some(FileKind::PromptFile(PromptFormat::Markdown))
        );
        assert_eq!(
            kind("sub/CLAUDE.md"),
            Some(FileKind::PromptFile(PromptFormat::Markdown))
        );
        assert_eq!(
            kind(".cursorrules"),
            Some(FileKind::PromptFile(PromptFormat::Text))
        );
        assert_eq!(
            kind(".cursor/rules/rust.mdc"),
            Some(FileKind::PromptFile(PromptFormat::Markdown))
        );
        assert_eq!(
            kind(".github/copilot-instructions.md"),
            Some(FileKind::PromptFile(PromptFormat::Markdown))
        );
    }

    #[test]
    fn lockfiles_and_cassettes_are_skipped() {
        assert_eq!(kind("pnpm-lock.yaml"), None);
        assert_eq!(kind("tests/cassettes/test_agent.yaml"), None);
    }
}
