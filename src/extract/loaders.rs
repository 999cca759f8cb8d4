//! Registry loader calls in Python: `load_prompt("support/triage")`, `hub.pull("o/n:abc123")`.
//!
//! Which calls load a prompt by id is data: `[[data.loader]]` families in `rules/registry.toml`
//! (in-house loaders and the hosted registries' SDK calls), extended by `[registry] loaders` in
//! config. This module compiles that data into a `LoaderSpec` and walks an already parsed
//! tree-sitter tree for calls whose dotted callee ends in a loader name, recording the literal
//! id (first positional string or an id keyword, as configured per family), whether a version
//! or label is pinned, and where the id sits in the file. It does not decide whether the id
//! exists: that is the registry analysis (`crate::registry`), which sees every file.

use regex::Regex;
use serde::Deserialize;

use crate::extract::callee_matches;
use crate::extract::python::tree::{Node, Tree};
use crate::span::{FileSpan, LineCol, LineIndex};

/// One `[[data.loader]]` family as written in `rules/registry.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RawLoader {
    /// Registry name (`in-house`, `langfuse`, `langchain-hub`...).
    pub name: String,
    /// Dotted callee suffixes, as in `rules/prompts.toml`.
    pub callee: Vec<String>,
    /// 0-based positional argument holding the id; `-1` for none.
    #[serde(default)]
    pub id_positional: Option<i64>,
    /// Keywords holding the id.
    #[serde(default)]
    pub id_keywords: Vec<String>,
    /// Keywords (or keys of a dict argument) that pin a version or label.
    #[serde(default)]
    pub version_keywords: Vec<String>,
    /// Regex over the literal: `(?P<id>...)` is the registry id, `(?P<version>...)` a pin.
    #[serde(default)]
    pub id_pattern: Option<String>,
    /// A hosted registry: ids name remote prompts, so an id with no local file is not by
    /// itself an error (see `crate::registry`).
    #[serde(default)]
    pub hosted: bool,
    /// Calls that name a prompt file without being registry loaders (Jinja's
    /// `get_template`): references for `unused-prompt`, never unknown ids.
    #[serde(default)]
    pub reference_only: bool,
}

/// A compiled loader family.
#[derive(Debug, Clone)]
pub struct LoaderFamily {
    pub name: String,
    pub callees: Vec<String>,
    pub id_positional: Option<usize>,
    pub id_keywords: Vec<String>,
    pub version_keywords: Vec<String>,
    pub id_pattern: Option<Regex>,
    pub hosted: bool,
    pub reference_only: bool,
}

/// Every loader family: built-in data plus config additions.
#[derive(Debug, Clone, Default)]
pub struct LoaderSpec {
    pub families: Vec<LoaderFamily>,
    /// String literals that name a prompt file (`"prompts/triage.md"`): recorded as mentions.
    pub mention: Option<Regex>,
    /// Id-like string literals (`"triage"`), recorded as mentions only in a file that also has
    /// a loader call with a computed id (`load_prompt(name)`): they are likely its ids.
    pub id_mention: Option<Regex>,
}

/// The family name of a string literal that names a prompt file outside any loader call
/// (`open("prompts/triage.md")`): a reference for `unused-prompt`, never an unknown id.
pub const MENTION_FAMILY: &str = "mention";

/// The family name given to loaders named in config (`[registry] loaders`).
pub const CONFIG_FAMILY: &str = "config";

/// Id keywords of loaders named in config (`[registry] loaders`), which carry no data of their own.
const CONFIG_ID_KEYWORDS: &[&str] = &[
    "name",
    "prompt_name",
    "id",
    "prompt_id",
    "slug",
    "path",
    "key",
];
const CONFIG_VERSION_KEYWORDS: &[&str] = &["version", "label", "tag"];
/// `support/triage@v2`, `support/triage:production`: the pin is not part of the id.
const CONFIG_ID_PATTERN: &str = r"^(?P<id>[^@:]+)(?:[@:](?P<version>[A-Za-z0-9_.\-]+))?$";

impl LoaderSpec {
    /// Compiles raw families, then adds one in-house family for the config's `loaders`.
    pub fn compile(raw: &[RawLoader], config_loaders: &[String]) -> Result<LoaderSpec, String> {
        let mut families = Vec::new();
        for r in raw {
            let id_pattern = r
                .id_pattern
                .as_deref()
                .map(|p| {
                    Regex::new(p)
                        .map_err(|e| format!("loader `{}`: invalid id-pattern: {e}", r.name))
                })
                .transpose()?;
            families.push(LoaderFamily {
                name: r.name.clone(),
                callees: r.callee.clone(),
                id_positional: match r.id_positional {
                    None => Some(0),
                    Some(n) => usize::try_from(n).ok(),
                },
                id_keywords: r.id_keywords.clone(),
                version_keywords: r.version_keywords.clone(),
                id_pattern,
                hosted: r.hosted,
                reference_only: r.reference_only,
            });
        }
        if !config_loaders.is_empty() {
            families.push(LoaderFamily {
                name: CONFIG_FAMILY.into(),
                callees: config_loaders.to_vec(),
                id_positional: Some(0),
                id_keywords: CONFIG_ID_KEYWORDS.iter().map(|s| s.to_string()).collect(),
                version_keywords: CONFIG_VERSION_KEYWORDS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                id_pattern: Regex::new(CONFIG_ID_PATTERN).ok(),
                hosted: false,
                reference_only: false,
            });
        }
        Ok(LoaderSpec {
            families,
            mention: None,
            id_mention: None,
        })
    }

    /// Also records string literals matching `file` (always) or `id` (in files with a computed
    /// loader id) as mentions.
    pub fn with_mentions(mut self, file: Option<Regex>, id: Option<Regex>) -> Self {
        self.mention = file;
        self.id_mention = id;
        self
    }

    /// The family a dotted callee belongs to: the one with the longest matching callee
    /// pattern, so `langfuse.get_prompt` beats the in-house `get_prompt`, and a loader named
    /// in config beats a built-in one of the same length.
    pub fn family_of(&self, callee: &str) -> Option<usize> {
        let mut best: Option<(usize, usize)> = None;
        for (i, f) in self.families.iter().enumerate() {
            for pat in &f.callees {
                if pat != "*"
                    && callee_matches(pat, callee)
                    && best.is_none_or(|(_, len)| pat.len() >= len)
                {
                    best = Some((i, pat.len()));
                }
            }
        }
        best.map(|(i, _)| i)
    }

    /// The last segment of every callee, for a cheap byte prefilter before parsing.
    pub fn prefilter_words(&self) -> Vec<String> {
        let mut words: Vec<String> = self
            .families
            .iter()
            .flat_map(|f| f.callees.iter())
            .filter_map(|c| c.rsplit('.').next())
            .map(str::to_string)
            .collect();
        words.sort();
        words.dedup();
        words
    }
}

/// One loader call found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoaderCall {
    /// The callee as written, dotted (`self.langfuse.get_prompt`).
    pub callee: String,
    /// The loader family's name (`in-house`, `langfuse`, `config`...).
    pub family: String,
    pub hosted: bool,
    /// Counts as a reference only; never reported as an unknown id.
    pub reference_only: bool,
    /// The registry id: the literal, reduced by the family's `id-pattern`.
    pub id: Option<String>,
    /// The literal as written, when there is one.
    pub literal: Option<String>,
    /// For an id built at run time (`f"support/{name}"`): its leading literal text.
    pub id_prefix: Option<String>,
    /// The id literal's contents (inside the quotes), or the whole call when there is none.
    pub span: FileSpan,
    pub start: LineCol,
    pub end: LineCol,
    /// A version or label is pinned.
    pub versioned: bool,
}

/// Every loader call under `root`, in source order.
pub fn collect_loader_calls(root: Node<'_>, source: &str, loaders: &LoaderSpec) -> Vec<LoaderCall> {
    let mut out = Vec::new();
    if loaders.families.is_empty() {
        return out;
    }
    let mut index: Option<LineIndex> = None;
    let mut stack = vec![root];
    let mut id_like: Vec<(String, FileSpan)> = Vec::new();
    let mention = |lit: String, span: FileSpan, ix: &LineIndex| LoaderCall {
        callee: String::new(),
        family: MENTION_FAMILY.into(),
        hosted: true,
        reference_only: true,
        id: Some(lit.trim_start_matches("./").to_string()),
        literal: Some(lit),
        id_prefix: None,
        span,
        start: ix.line_col(source, span.start),
        end: ix.line_col(source, span.end),
        versioned: false,
    };
    while let Some(node) = stack.pop() {
        if node.kind() == "string" && (loaders.mention.is_some() || loaders.id_mention.is_some()) {
            if let StrValue::Literal(lit, span) = string_value(node, source) {
                if loaders.mention.as_ref().is_some_and(|re| re.is_match(&lit)) {
                    let ix = index.get_or_insert_with(|| LineIndex::new(source));
                    out.push(mention(lit, span, ix));
                } else if loaders
                    .id_mention
                    .as_ref()
                    .is_some_and(|re| re.is_match(&lit))
                {
                    id_like.push((lit, span));
                }
            }
        }
        if node.kind() == "call" {
            if let Some(call) = loader_call(node, source, loaders) {
                let ix = index.get_or_insert_with(|| LineIndex::new(source));
                let (span, versioned, id) = call;
                out.push(LoaderCall {
                    start: ix.line_col(source, span.start),
                    end: ix.line_col(source, span.end),
                    span,
                    versioned,
                    ..id
                });
            }
        }
        // Children pushed in reverse so the stack pops them in source order.
        let children: Vec<_> = node.children().collect();
        stack.extend(children.into_iter().rev());
    }
    let computed = out
        .iter()
        .any(|c| !c.reference_only && c.id.is_none() && c.id_prefix.is_none());
    if computed && !id_like.is_empty() {
        let ix = index.get_or_insert_with(|| LineIndex::new(source));
        out.extend(
            id_like
                .into_iter()
                .map(|(lit, span)| mention(lit, span, ix)),
        );
        out.sort_by_key(|c| c.span.start);
    }
    out
}

impl LoaderSpec {
    /// Cheap byte test: can `source` hold a call of any loader?
    pub fn may_occur_in(&self, source: &str) -> bool {
        (self.mention.is_some() && source.contains('.'))
            || self
                .prefilter_words()
                .iter()
                .any(|w| source.contains(w.as_str()))
    }
}

/// Loader calls in `source` with a parser of its own: for sources that are not a scanned file
/// (notebook cells joined, rule test cases). Scanned Python files reuse their one parse through
/// `PythonExtractor::loader_calls`.
pub fn parse_and_collect(source: &str, loaders: &LoaderSpec) -> Vec<LoaderCall> {
    if !loaders.may_occur_in(source) {
        return Vec::new();
    }
    let tree = Tree::parse(source);
    collect_loader_calls(tree.root_node(), source, loaders)
}

/// Loader calls in a notebook's code cells, as references only: their spans are not mapped
/// back into the JSON (every call points at line 1), so callers must not report on them.
///
pub fn notebook_references(json: &str, loaders: &LoaderSpec) -> Vec<LoaderCall> {
    let Ok(nb) = serde_json::from_str::<serde_json::Value>(json) else {
        return Vec::new();
    };
    let mut code = String::new();
    for cell in nb["cells"].as_array().into_iter().flatten() {
        if cell["cell_type"] != "code" {
            continue;
        }
        match &cell["source"] {
            serde_json::Value::String(s) => code.push_str(s),
            serde_json::Value::Array(lines) => lines
                .iter()
                .filter_map(|l| l.as_str())
                .for_each(|l| code.push_str(l)),
            _ => {}
        }
        code.push('\n');
    }
    let first = LineCol { line: 1, column: 1 };
    parse_and_collect(&code, loaders)
        .into_iter()
        .map(|c| LoaderCall {
            span: FileSpan::new(0, 0),
            start: first,
            end: first,
            ..c
        })
        .collect()
}

fn text<'s>(node: Node<'_>, source: &'s str) -> &'s str {
    source.get(node.byte_range()).unwrap_or("")
}

/// The dotted text of a callee: `a.b.c`, `Langfuse().get_prompt`.
pub fn dotted(node: Node<'_>, source: &str) -> String {
    match node.kind() {
        "identifier" => text(node, source).to_string(),
        "attribute" => {
            let obj = node
                .field("object")
                .map(|o| dotted(o, source))
                .unwrap_or_default();
            let attr = node
                .field("attribute")
                .map(|a| text(a, source))
                .unwrap_or("");
            format!("{obj}.{attr}")
        }
        "call" => {
            let f = node
                .field("function")
                .map(|f| dotted(f, source))
                .unwrap_or_default();
            format!("{f}()")
        }
        _ => text(node, source).split_whitespace().collect(),
    }
}

/// A string argument's value: `Literal(text, contents span)` for a plain literal, `Prefix` for
/// one with interpolations (the literal text before the first one), `Other` for non-strings.
enum StrValue {
    Literal(String, FileSpan),
    Prefix(String),
    Other,
}

fn string_value(node: Node<'_>, source: &str) -> StrValue {
    match node.kind() {
        "string" => {
            let mut value = String::new();
            let mut span: Option<FileSpan> = None;
            for child in node.children() {
                match child.kind() {
                    // Byte strings are not ids.
                    "string_start"
                        if text(child, source).bytes().any(|b| b == b'b' || b == b'B') =>
                    {
                        return StrValue::Other;
                    }
                    "string_content" => {
                        value.push_str(text(child, source));
                        let r = child.byte_range();
                        span = Some(match span {
                            None => FileSpan::new(r.start, r.end),
                            Some(s) => FileSpan::new(s.start, r.end),
                        });
                    }
                    "interpolation" => return StrValue::Prefix(value),
                    _ => {}
                }
            }
            let span = span.unwrap_or_else(|| {
                // An empty literal: point between the quotes.
                let at = node
                    .child(0)
                    .map(|c| c.end_byte())
                    .unwrap_or(node.start_byte());
                FileSpan::new(at, at)
            });
            StrValue::Literal(value, span)
        }
        "concatenated_string" => {
            let mut value = String::new();
            let mut span: Option<FileSpan> = None;
            for child in node.named_children() {
                match string_value(child, source) {
                    StrValue::Literal(v, s) => {
                        value.push_str(&v);
                        span = Some(span.map_or(s, |x| FileSpan::new(x.start, s.end)));
                    }
                    StrValue::Prefix(p) => {
                        value.push_str(&p);
                        return StrValue::Prefix(value);
                    }
                    StrValue::Other => {
                        return if value.is_empty() {
                            StrValue::Other
                        } else {
                            StrValue::Prefix(value)
                        }
                    }
                }
            }
            match span {
                Some(s) => StrValue::Literal(value, s),
                None => StrValue::Other,
            }
        }
        "parenthesized_expression" => match node.named_child(0) {
            Some(inner) => string_value(inner, source),
            None => StrValue::Other,
        },
        // `"support/" + name`: the literal head is a prefix.
        "binary_operator" => {
            let is_plus = node
                .field("operator")
                .is_some_and(|o| text(o, source) == "+");
            match (is_plus, node.field("left")) {
                (true, Some(left)) => match string_value(left, source) {
                    StrValue::Literal(v, _) | StrValue::Prefix(v) => StrValue::Prefix(v),
                    StrValue::Other => StrValue::Other,
                },
                _ => StrValue::Other,
            }
        }
        _ => StrValue::Other,
    }
}

/// Whether a dict literal has a string key among `keys` (`{"version": 3}`).
fn dict_has_key(node: Node<'_>, source: &str, keys: &[String]) -> bool {
    let found = node.named_children().any(|pair| {
        pair.kind() == "pair"
            && pair.field("key").is_some_and(
                |k| matches!(string_value(k, source), StrValue::Literal(v, _) if keys.contains(&v)),
            )
    });
    found
}

type Found = (FileSpan, bool, LoaderCall);

fn loader_call(node: Node<'_>, source: &str, loaders: &LoaderSpec) -> Option<Found> {
    let function = node.field("function")?;
    if !matches!(function.kind(), "identifier" | "attribute") {
        return None;
    }
    let callee = dotted(function, source);
    let fam = &loaders.families[loaders.family_of(&callee)?];
    let args = node.field("arguments")?;
    if args.kind() != "argument_list" {
        return None;
    }
    let mut positional = Vec::new();
    let mut id_node = None;
    let mut versioned = false;
    for arg in args.named_children() {
        match arg.kind() {
            "keyword_argument" => {
                let name = arg.field("name").map(|n| text(n, source)).unwrap_or("");
                let value = arg.field("value");
                if fam.id_keywords.iter().any(|k| k == name) && id_node.is_none() {
                    id_node = value;
                }
                if fam.version_keywords.iter().any(|k| k == name)
                    && value.is_some_and(|v| v.kind() != "none")
                {
                    versioned = true;
                }
                if value.is_some_and(|v| {
                    v.kind() == "dictionary" && dict_has_key(v, source, &fam.version_keywords)
                }) {
                    versioned = true;
                }
            }
            "list_splat" | "dictionary_splat" => {}
            _ => {
                if arg.kind() == "dictionary" && dict_has_key(arg, source, &fam.version_keywords) {
                    versioned = true;
                }
                positional.push(arg);
            }
        }
    }
    // A keyword id wins over the positional one only when no positional id is given.
    let id_node = fam
        .id_positional
        .and_then(|i| positional.get(i).copied())
        .or(id_node);
    let whole = FileSpan::new(node.start_byte(), node.end_byte());
    let mut call = LoaderCall {
        callee,
        family: fam.name.clone(),
        hosted: fam.hosted,
        reference_only: fam.reference_only,
        id: None,
        literal: None,
        id_prefix: None,
        span: whole,
        start: LineCol { line: 0, column: 0 },
        end: LineCol { line: 0, column: 0 },
        versioned,
    };
    let mut span = whole;
    match id_node.map(|n| string_value(n, source)) {
        Some(StrValue::Literal(lit, s)) => {
            span = s;
            let lit = lit.trim().to_string();
            let (id, pinned) = match &fam.id_pattern {
                Some(re) => match re.captures(&lit) {
                    Some(c) => (
                        c.name("id")
                            .map(|m| m.as_str().to_string())
                            .unwrap_or_else(|| lit.clone()),
                        c.name("version").is_some(),
                    ),
                    None => (lit.clone(), false),
                },
                None => (lit.clone(), false),
            };
            versioned |= pinned;
            call.id = Some(id.trim_start_matches("./").to_string());
            call.literal = Some(lit);
        }
        Some(StrValue::Prefix(p)) => call.id_prefix = Some(p.trim_start_matches("./").to_string()),
        _ => {}
    }
    Some((span, versioned, call))
}

#[cfg(test)]
mod tests;
