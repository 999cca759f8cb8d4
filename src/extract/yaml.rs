//! YAML files that carry prompt text under prompt-like keys.
//!
//! The file is parsed with yaml-rust2's event parser into a small positioned tree (`Node`).
//! A string scalar is a prompt when its value reads like prose (20+ chars and three words, or
//! several lines) and its key is a prompt key: a `[yaml] strong-keys` entry (`system_prompt`)
//! on its own, or another `[yaml] keys` entry or Python prompt-name match (`prompt`,
//! `instruction`, `summary_template`) when the file mentions LLMs (`llm-signals`) or the value
//! holds a template slot. `exclude-keys` (`confirmation_prompt`) never count. CI, deployment
//! and CLI-spec YAML shares these words and must stay quiet. Three shapes are joined into one
//! prompt: a list of `{role, content}` mappings (one `Role` segment per message, joined by a
//! synthetic blank line), a crewAI agent (`role`/`goal`/`backstory`) and a crewAI task
//! (`description`/`expected_output`). Lists of strings under a prompt key (promptfoo
//! `prompts:`) give one prompt per inline string; `file://` references are not prompts. JSON
//! files (read by `json.rs`) go through the same walk. Ids are `path#dotted.key[i]`.
//!
//! Every prompt byte maps back to the file: plain and quoted scalars character by character
//! (escapes and line folding become decoded pieces), block scalars line by line. When that
//! mapping cannot reproduce the parser's value exactly, the value is kept as one decoded piece
//! over the scalar's first line, so spans stay inside the scalar. Aliases never produce a
//! second prompt. Parse errors keep what was read before them and return a message. Spans
//! start at the value, not at the key.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::extract::PromptSpec;
use crate::prompt::{Origin, Prompt, PromptBuilder, PromptFormat};
use crate::segment::{Role, Segment, SegmentKind};
use crate::source::SourceFile;
use crate::span::{FileSpan, PromptSpan};

/// A parsed YAML node with the byte offset where it starts.
#[derive(Debug, Clone)]
pub enum Node {
    Scalar {
        value: String,
        style: TScalarStyle,
        start: usize,
    },
    Seq {
        items: Vec<Node>,
        start: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        start: usize,
    },
    Alias,
}

impl Node {
    /// The value under `key` of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// A scalar's value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Scalar { value, .. } => Some(value),
            _ => None,
        }
    }
}

/// Deeper nesting is not read: no prompt format nests this deep, and the tree is walked and
/// dropped recursively.
const MAX_DEPTH: usize = 128;

/// The model a `model:` value names: a string (`googleai/gemini-1.5-flash`), or in a mapping
/// (Prompty `configuration`/`parameters`, agent configs) the first of `azure_deployment`,
/// `deployment`, `deployment_name`, `model`, `name`, `id` that is not an `${env:...}` reference.
pub fn model_name(model: &Node) -> Option<String> {
    if let Some(s) = model.as_str() {
        return Some(s.trim().to_string()).filter(|s| !s.is_empty());
    }
    const NAMES: &[&str] = &[
        "azure_deployment",
        "deployment",
        "deployment_name",
        "model",
        "name",
        "id",
    ];
    for place in [
        model.get("configuration"),
        model.get("parameters"),
        Some(model),
    ]
    .into_iter()
    .flatten()
    {
        for key in NAMES {
            if let Some(s) = place.get(key).and_then(Node::as_str) {
                let s = s.trim();
                if !s.is_empty() && !s.starts_with("${") {
                    return Some(s.to_string());
                }
            }
        }
    }
    None
}

enum Frame {
    Seq(Vec<Node>, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize),
}

/// Parses `text` into one root node per document. On a parse error the documents read so far
/// (including the open one, closed where it broke) are returned with a message.
pub fn parse_tree(text: &str) -> (Vec<Node>, Option<String>) {
    // Markers index characters; spans index bytes.
    let char_bytes: Option<Vec<usize>> =
        (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
    let to_byte = |ci: usize| match &char_bytes {
        Some(v) => v.get(ci).copied().unwrap_or(text.len()),
        None => ci.min(text.len()),
    };
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut error = None;
    fn attach(stack: &mut [Frame], docs: &mut Vec<Node>, node: Node) {
        match stack.last_mut() {
            Some(Frame::Seq(items, _)) => items.push(node),
            Some(Frame::Map(entries, key, _)) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => docs.push(node),
        }
    }
    loop {
        let (event, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                error = Some(format!(
                    "invalid YAML at line {}: {}",
                    e.marker().line(),
                    e.info()
                ));
                break;
            }
        };
        let start = to_byte(mark.index());
        match event {
            Event::StreamEnd => break,
            Event::Scalar(value, style, _, _) => attach(
                &mut stack,
                &mut docs,
                Node::Scalar {
                    value,
                    style,
                    start,
                },
            ),
            Event::Alias(_) => attach(&mut stack, &mut docs, Node::Alias),
            Event::SequenceStart(..) | Event::MappingStart(..) if stack.len() >= MAX_DEPTH => {
                // Recursion over the tree (walk, drop) must stay shallow.
                error = Some(format!(
                    "YAML nested deeper than {MAX_DEPTH} levels at line {}; not read further",
                    mark.line()
                ));
                break;
            }
            Event::SequenceStart(..) => stack.push(Frame::Seq(Vec::new(), start)),
            Event::MappingStart(..) => stack.push(Frame::Map(Vec::new(), None, start)),
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some(frame) = stack.pop() {
                    attach(&mut stack, &mut docs, close(frame));
                }
            }
            _ => {}
        }
    }
    while let Some(frame) = stack.pop() {
        attach(&mut stack, &mut docs, close(frame));
    }
    (docs, error)
}

fn close(frame: Frame) -> Node {
    match frame {
        Frame::Seq(items, start) => Node::Seq { items, start },
        Frame::Map(entries, _, start) => Node::Map { entries, start },
    }
}

/// Prompts under prompt-like keys of a YAML file, and a parse error message if any.
pub fn extract(file: &SourceFile, spec: &PromptSpec) -> (Vec<Prompt>, Option<String>) {
    if is_http_recording(&file.text) {
        return (Vec::new(), None);
    }
    extract_as(file, spec, PromptFormat::Yaml)
}

/// Whether `text` is recorded HTTP traffic in vcrpy's cassette format (`interactions:`, then
/// `- request:`), wherever it is kept (`cassettes/`, promptflow's `recordings/`...): the
/// requests a test suite once sent hold prompts, but they are test data, not the team's prompts,
/// and they run to megabytes. `classify` skips `cassettes` directories by name.
pub fn is_http_recording(text: &str) -> bool {
    let mut lines = text.lines().map(str::trim_end).filter(|l| !l.is_empty());
    lines.next() == Some("interactions:") && lines.next() == Some("- request:")
}

/// The same walk over a JSON file, read by `json.rs` (LangChain serialized prompts,
/// `{role, content}` lists); prompts get `format`.
pub fn extract_as(
    file: &SourceFile,
    spec: &PromptSpec,
    format: PromptFormat,
) -> (Vec<Prompt>, Option<String>) {
    let (docs, error) = if format == PromptFormat::Json {
        match crate::extract::json::parse(&file.text) {
            Ok(root) => (vec![root], None),
            Err(e) => (Vec::new(), Some(e)),
        }
    } else {
        parse_tree(&file.text)
    };
    // A file named for prompts (`prompts.yaml`, `prompts/agent.yml`) is about models too.
    let named_for_prompts = file.path.to_ascii_lowercase().contains("prompt");
    let llm_file = named_for_prompts || spec.yaml_llm_signals.is_match(file.text.as_bytes());
    let mut cx = Walk {
        text: &file.text,
        path: &file.path,
        spec,
        format,
        llm_file,
        out: Vec::new(),
    };
    for (i, doc) in docs.iter().enumerate() {
        let before = cx.out.len();
        cx.node(doc, "", None, None);
        if i > 0 {
            // Later documents of a multi-document file: `path#doc1:key`.
            for p in &mut cx.out[before..] {
                if let Some((file, key)) = p.id.split_once('#') {
                    p.id = format!("{file}#doc{i}:{key}");
                }
            }
        }
    }
    (cx.out, error)
}

struct Walk<'a> {
    text: &'a str,
    path: &'a str,
    spec: &'a PromptSpec,
    format: PromptFormat,
    /// The file mentions LLMs (`[yaml] llm-signals`).
    llm_file: bool,
    out: Vec<Prompt>,
}

fn join_path(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Prose, not a setting: at least 20 characters and three words, or several lines. CI
/// expressions (`${{ inputs.prompt }}`) do not count.
fn prose_like(value: &str) -> bool {
    let mut v = value.trim().to_string();
    while let Some(a) = v.find("${{") {
        let end = v[a..].find("}}").map(|i| a + i + 2).unwrap_or(v.len());
        v.replace_range(a..end, "");
    }
    let v = v.trim();
    (v.chars().count() >= 20 && v.split_whitespace().count() >= 3)
        || (v.contains('\n') && v.len() >= 10)
}

/// A template slot in the value: `{{ x }}`, `{% ... %}`, `{$x}` or `{name}`.
fn has_placeholder(value: &str) -> bool {
    value.contains("{{")
        || value.contains("{%")
        || !crate::extract::prompt_file::placeholders(value, PromptFormat::Text, false).is_empty()
}

/// Ends the previous part of a joined prompt: its trailing line breaks go, a synthetic blank
/// line follows.
fn separate(b: &mut PromptBuilder) {
    if b.is_empty() {
        return;
    }
    let trimmed = b.text.trim_end_matches(['\n', '\r']).len();
    if trimmed == 0 {
        return;
    }
    b.truncate(trimmed);
    b.push_synthetic("\n\n");
}

const AGENT_FIELDS: &[&str] = &["role", "goal", "backstory"];
const TASK_FIELDS: &[&str] = &["description", "expected_output"];

impl Walk<'_> {
    /// Whether `value` under `key` is a prompt: the key is prompt-like and not excluded, and
    /// either strong, or backed by the file's LLM vocabulary or a placeholder in the value.
    fn is_prompt(&self, key: &str, value: &str) -> bool {
        let spec = self.spec;
        if key == "content"
            || spec
                .yaml_exclude_keys
                .as_ref()
                .is_some_and(|r| r.is_match(key))
        {
            return false;
        }
        if !prose_like(value) {
            return false;
        }
        if spec.yaml_strong_keys.iter().any(|k| k == key) {
            return true;
        }
        let prompt_like =
            spec.yaml_keys.iter().any(|k| k == key) || spec.python.is_prompt_name(key);
        prompt_like && (self.llm_file || has_placeholder(value))
    }

    fn node(&mut self, node: &Node, path: &str, key: Option<&str>, model: Option<&str>) {
        // `parse_tree` bounds the depth, so this recursion is bounded too.
        match node {
            Node::Map { entries, .. } => self.map(node, entries, path, model),
            Node::Seq { items, .. } => {
                if self.messages(items, path, key.unwrap_or("messages"), model) {
                    return;
                }
                // An item's path is written only for an item that can hold a prompt.
                let item_path = |i: usize| format!("{path}[{i}]");
                for (i, item) in items.iter().enumerate() {
                    match (item, key) {
                        (Node::Scalar { value, .. }, Some(k)) => {
                            if self.is_prompt(k, value)
                                && !value.trim_start().starts_with("file://")
                            {
                                self.scalar(item, &item_path(i), k, model);
                            }
                        }
                        (Node::Scalar { .. } | Node::Alias, _) => {}
                        _ => self.node(item, &item_path(i), key, model),
                    }
                }
            }
            Node::Scalar { .. } | Node::Alias => {}
        }
    }

    fn map(&mut self, node: &Node, entries: &[(Node, Node)], path: &str, model: Option<&str>) {
        let own_model = node.get("model").and_then(model_name);
        let model = own_model.as_deref().or(model);
        let str_of = |k: &str| {
            node.get(k)
                .and_then(Node::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        // crewAI agents and tasks: one prompt per mapping, fields joined.
        // `role` + `goal` alone is a weaker sign than `backstory`: ask for LLM context.
        let agent = str_of("backstory").is_some()
            && (str_of("role").is_some() || str_of("goal").is_some())
            || str_of("role").is_some()
                && str_of("goal").is_some()
                && (self.llm_file || self.path.contains("agents."));
        let fields: &[&str] = if agent {
            AGENT_FIELDS
        } else if str_of("description").is_some() && str_of("expected_output").is_some() {
            TASK_FIELDS
        } else {
            &[]
        };
        if !fields.is_empty() {
            let mut b = PromptBuilder::new();
            for f in fields {
                if let Some(v) = node.get(f) {
                    if v.as_str().is_some() {
                        separate(&mut b);
                        b.append(map_scalar(self.text, v));
                    }
                }
            }
            let id_key = if path.is_empty() { "root" } else { path };
            let last = path.rsplit('.').next().unwrap_or(path);
            self.push(b, id_key, last, model, Vec::new());
        }
        for (k, v) in entries {
            let Some(key) = k.as_str() else { continue };
            if fields.contains(&key) {
                continue;
            }
            match v {
                Node::Scalar { value, .. } => {
                    if self.is_prompt(key, value) {
                        self.scalar(v, &join_path(path, key), key, model);
                    }
                }
                Node::Alias => {}
                _ => self.node(v, &join_path(path, key), Some(key), model),
            }
        }
    }

    /// A list of `{role, content}` mappings: one prompt. Returns whether it was one.
    fn messages(&mut self, items: &[Node], path: &str, key: &str, model: Option<&str>) -> bool {
        let is_msg = |n: &Node| {
            n.get("role").and_then(Node::as_str).is_some()
                && matches!(
                    n.get("content"),
                    Some(Node::Scalar { .. } | Node::Seq { .. })
                )
        };
        if !items.iter().any(is_msg) || !items.iter().all(|n| matches!(n, Node::Map { .. })) {
            return false;
        }
        let mut b = PromptBuilder::new();
        let mut segments = Vec::new();
        for item in items.iter().filter(|n| is_msg(n)) {
            let Some(content) = item.get("content") else {
                continue;
            };
            separate(&mut b);
            let start = b.len();
            match content {
                // Content parts: `[{type: text, text: ...}]`.
                Node::Seq { items: parts, .. } => {
                    for text in parts
                        .iter()
                        .filter_map(|p| p.get("text"))
                        .filter(|t| t.as_str().is_some())
                    {
                        separate(&mut b);
                        b.append(map_scalar(self.text, text));
                    }
                }
                _ => b.append(map_scalar(self.text, content)),
            }
            if let Some(role) = item
                .get("role")
                .and_then(Node::as_str)
                .and_then(Role::parse)
            {
                segments.push(Segment::new(
                    SegmentKind::Role { role },
                    PromptSpan::new(start, b.len()),
                ));
            }
        }
        let id_key = if path.is_empty() { key } else { path };
        self.push(b, id_key, key, model, segments);
        true
    }

    fn scalar(&mut self, node: &Node, path: &str, key: &str, model: Option<&str>) {
        let b = map_scalar(self.text, node);
        self.push(b, path, key, model, Vec::new());
    }

    fn push(
        &mut self,
        mut b: PromptBuilder,
        id_key: &str,
        key: &str,
        model: Option<&str>,
        segments: Vec<Segment>,
    ) {
        if b.text.trim().is_empty() {
            return;
        }
        let id = format!("{}#{}", self.path, id_key);
        // Template syntax inside values: `{{ x }}`, `{% for %}`, and `{x}` (crewAI,
        // LangChain f-string templates).
        b.placeholders =
            crate::extract::prompt_file::placeholders(&b.text, PromptFormat::Text, false);
        let mut p = b.into_prompt(Prompt::new(
            id,
            Origin::Key {
                key: key.to_string(),
            },
            self.format,
            false,
        ));
        p.model = model.map(str::to_string);
        p.segments = segments;
        self.out.push(p);
    }
}

/// Maps a scalar node's value back to the file. Falls back to one decoded piece over the
/// scalar's first line when the style-specific walk cannot reproduce the value.
pub fn map_scalar(text: &str, node: &Node) -> PromptBuilder {
    let Node::Scalar {
        value,
        style,
        start,
    } = node
    else {
        return PromptBuilder::new();
    };
    let start = (*start).min(text.len());
    let mapped = match style {
        TScalarStyle::Plain => map_flow(text, start, value, Quote::None),
        TScalarStyle::SingleQuoted => map_flow(text, start + 1, value, Quote::Single),
        TScalarStyle::DoubleQuoted => map_flow(text, start + 1, value, Quote::Double),
        TScalarStyle::Literal => map_block(text, start, value, false),
        TScalarStyle::Folded => map_block(text, start, value, true),
    };
    match mapped {
        Some(b) if b.text == *value => b,
        _ => {
            let mut b = PromptBuilder::new();
            let end = text[start..]
                .find('\n')
                .map(|i| start + i)
                .unwrap_or(text.len());
            b.push_decoded(
                value,
                FileSpan::new(start, end.max(start + 1).min(text.len())),
            );
            b
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    None,
    Single,
    Double,
}

/// Plain and quoted scalars: verbatim runs, escapes and folded line breaks as decoded pieces.
fn map_flow(text: &str, mut j: usize, value: &str, quote: Quote) -> Option<PromptBuilder> {
    let bytes = text.as_bytes();
    let mut b = PromptBuilder::new();
    while b.len() < value.len() {
        let before = b.len();
        let c = *bytes.get(j)?;
        // In double quotes (every JSON string: a notebook's lines), all up to the next escape,
        // quote or line break is verbatim but for the blanks before a break, which fold with
        // it: one piece, where the steps below would take it word by word.
        let run_end = if quote == Quote::Double {
            double_quoted_run(bytes, j)
        } else {
            j
        };
        if run_end > j {
            let take = (run_end - j).min(value.len() - b.len());
            b.push_verbatim(text.get(j..j + take)?, j);
            j += take;
        } else if quote == Quote::Double && c == b'\\' {
            let next = text[j + 1..].chars().next()?;
            if next == '\n' || next == '\r' {
                // Escaped line break: nothing, and the next line's indentation is dropped.
                let mut k = j + 1;
                while k < bytes.len() && matches!(bytes[k], b'\r' | b'\n') {
                    k += 1;
                    if bytes[k - 1] == b'\n' {
                        break;
                    }
                }
                while k < bytes.len() && matches!(bytes[k], b' ' | b'\t') {
                    k += 1;
                }
                j = k;
                continue;
            }
            let (decoded, len) = match next {
                'x' => (hex_char(text.get(j + 2..j + 4)?)?, 4),
                // JSON surrogate pairs (`\ud83d\ude00`) as the JSON reader decodes them.
                'u' => crate::extract::json::decode_escape(text, j)?,
                'U' => (hex_char(text.get(j + 2..j + 10)?)?, 10),
                _ => (simple_escape(next)?, 1 + next.len_utf8()),
            };
            let mut buf = [0u8; 4];
            b.push_decoded(decoded.encode_utf8(&mut buf), FileSpan::new(j, j + len));
            j += len;
        } else if quote == Quote::Single && c == b'\'' {
            if bytes.get(j + 1) == Some(&b'\'') {
                b.push_decoded("'", FileSpan::new(j, j + 2));
                j += 2;
            } else {
                return None;
            }
        } else if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            let mut k = j;
            while k < bytes.len() && matches!(bytes[k], b' ' | b'\t' | b'\r' | b'\n') {
                k += 1;
            }
            let run = &text[j..k];
            let breaks = run.matches('\n').count();
            if breaks == 0 {
                b.push_verbatim(run, j);
            } else {
                // Folding: trailing spaces go, one break becomes a space, n breaks n-1 newlines.
                // In a double-quoted scalar an escaped break may follow the spaces; keep them
                // if the value has them.
                let folded = if breaks == 1 {
                    " ".to_string()
                } else {
                    "\n".repeat(breaks - 1)
                };
                b.push_decoded(&folded, FileSpan::new(j, k));
            }
            j = k;
        } else {
            let mut k = j;
            while k < bytes.len()
                && !matches!(
                    bytes[k],
                    b' ' | b'\t' | b'\r' | b'\n' | b'\\' | b'\'' | b'"'
                )
            {
                k += 1;
            }
            if k == j {
                // A quote character that is content (`"` in single quotes, `'` in double).
                k = j + 1;
            }
            let take = (k - j).min(value.len() - b.len());
            let piece = text.get(j..j + take)?;
            b.push_verbatim(piece, j);
            j += take;
        }
        // What came before was checked already: compare only what this step added.
        if value.as_bytes().get(before..b.len()) != Some(&b.text.as_bytes()[before..]) {
            // Spaces before a double-quoted escaped break are kept: retry that run verbatim.
            return None;
        }
    }
    Some(b)
}

/// The end of the verbatim run of a double-quoted scalar at `j`: before the next backslash,
/// double quote or line break, and before the blanks that lead up to a line break.
fn double_quoted_run(bytes: &[u8], j: usize) -> usize {
    let rest = &bytes[j..];
    let stop = memchr::memchr3(b'\\', b'"', b'\n', rest).unwrap_or(rest.len());
    let stop = memchr::memchr(b'\r', &rest[..stop]).unwrap_or(stop);
    let mut end = j + stop;
    if matches!(bytes.get(end), Some(b'\n' | b'\r')) {
        while end > j && matches!(bytes[end - 1], b' ' | b'\t') {
            end -= 1;
        }
    }
    end
}

fn hex_char(hex: &str) -> Option<char> {
    u32::from_str_radix(hex, 16).ok().and_then(char::from_u32)
}

fn simple_escape(c: char) -> Option<char> {
    Some(match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{b}',
        'f' => '\u{c}',
        'r' => '\r',
        'e' => '\u{1b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        _ => return None,
    })
}

/// Block scalars (`|`, `>`): each content line after the indentation is verbatim; the line
/// breaks are verbatim (literal, LF) or decoded (folded, CRLF).
fn map_block(text: &str, content: usize, value: &str, folded: bool) -> Option<PromptBuilder> {
    // The parser marks the first content character; the header (`|-`, `>2`) is above it.
    let start = block_header(text, content)?;
    let header_end = text[start..].find('\n').map(|i| start + i + 1)?;
    let header = &text[start + 1..header_end];
    let explicit = header
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '#')
        .find_map(|c| c.to_digit(10))
        .map(|d| d as usize);
    // Content lines: (line start, line end without break, break end).
    let mut lines = Vec::new();
    let mut offset = header_end;
    let mut indent = explicit.map(|d| line_indent(text, start) + d);
    while offset < text.len() {
        let end = text[offset..]
            .find('\n')
            .map(|i| offset + i)
            .unwrap_or(text.len());
        let line = text[offset..end].trim_end_matches('\r');
        let spaces = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        if !blank {
            match indent {
                None => indent = Some(spaces),
                Some(n) if spaces < n => break,
                _ => {}
            }
            if indent == Some(0) {
                return None;
            }
        }
        lines.push((
            offset,
            offset + line.len(),
            (end + 1).min(text.len()),
            blank,
        ));
        offset = end + 1;
    }
    let indent = indent?;
    let mut b = PromptBuilder::new();
    let mut prev_normal: Option<bool> = None;
    let mut pending: Vec<(usize, usize)> = Vec::new();
    for &(ls, le, be, blank) in &lines {
        let content_start = (ls + indent).min(le);
        if blank && content_start >= le {
            pending.push((le, be));
            continue;
        }
        let content = &text[content_start..le];
        let normal = !content.starts_with([' ', '\t']);
        // The breaks since the previous content line.
        if let Some(prev) = prev_normal {
            let (first, rest) = pending.split_first()?;
            if folded && prev && normal && rest.is_empty() {
                b.push_decoded(" ", FileSpan::new(first.0, first.1));
            } else {
                let skip_first = folded && prev && normal;
                for (i, (s, e)) in pending.iter().enumerate() {
                    if skip_first && i == 0 {
                        continue;
                    }
                    push_break(&mut b, text, *s, *e);
                }
            }
        } else {
            for (s, e) in &pending {
                push_break(&mut b, text, *s, *e);
            }
        }
        pending.clear();
        b.push_verbatim(content, content_start);
        pending.push((le, be));
        prev_normal = Some(normal);
    }
    for (s, e) in &pending {
        if b.len() >= value.len() {
            break;
        }
        push_break(&mut b, text, *s, *e);
    }
    // Chomping: keep what the parser kept.
    if b.len() > value.len() && value.as_bytes() == &b.text.as_bytes()[..value.len()] {
        b.truncate(value.len());
    }
    while b.len() < value.len() && value[b.len()..].bytes().all(|c| c == b'\n') {
        b.push_synthetic("\n");
    }
    Some(b)
}

fn push_break(b: &mut PromptBuilder, text: &str, s: usize, e: usize) {
    if e <= s {
        b.push_synthetic("\n");
    } else if &text[s..e] == "\n" {
        b.push_verbatim("\n", s);
    } else {
        b.push_decoded("\n", FileSpan::new(s, e));
    }
}

/// The offset of the `|` / `>` indicator of the block scalar whose content starts at
/// `content`: the last non-blank line above it must end with the header.
fn block_header(text: &str, content: usize) -> Option<usize> {
    let mut line_start = text[..content].rfind('\n').map(|i| i + 1).unwrap_or(0);
    while line_start > 0 {
        let prev_start = text[..line_start - 1]
            .rfind('\n')
            .map(|i| i + 1)
            .unwrap_or(0);
        let mut line = text[prev_start..line_start - 1].trim_end_matches('\r');
        if let Some(i) = line.find(" #") {
            line = &line[..i];
        }
        let line = line.trim_end();
        if line.is_empty() {
            line_start = prev_start;
            continue;
        }
        let at = line.rfind(['|', '>'])?;
        let indicators = &line[at + 1..];
        let before = line[..at].chars().next_back();
        let ok = indicators.len() <= 2
            && indicators
                .chars()
                .all(|c| c == '+' || c == '-' || c.is_ascii_digit())
            && before.is_none_or(|c| c == ' ' || c == '\t');
        return ok.then_some(prev_start + at);
    }
    None
}

/// Leading spaces of the line holding `at`.
fn line_indent(text: &str, at: usize) -> usize {
    let ls = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    text[ls..].len() - text[ls..].trim_start_matches(' ').len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;

    fn run(path: &str, text: &str) -> (Vec<Prompt>, Option<String>) {
        let spec = PromptSpec::compile(&Default::default(), &[]).unwrap();
        let file = SourceFile::from_bytes(
            text.as_bytes().to_vec(),
            path.into(),
            path.into(),
            FileKind::Yaml,
        )
        .unwrap();
        extract(&file, &spec)
    }

    /// Every verbatim piece equals the file bytes it claims.
    fn assert_invariant(p: &Prompt, text: &str) {
        for piece in p.map.pieces() {
            if piece.verbatim {
                assert_eq!(
                    &p.text[piece.prompt_start..piece.prompt_start + piece.prompt_len],
                    &text[piece.file_start..piece.file_start + piece.file_len]
                );
            }
        }
    }

    fn file_slice<'a>(p: &Prompt, text: &'a str, needle: &str) -> &'a str {
        let at = p.text.find(needle).unwrap();
        let span = p.map.to_file(PromptSpan::new(at, at + needle.len()));
        &text[span.start..span.end]
    }

    #[test]
    fn plain_quoted_and_block_scalars_map_exactly() {
        let text = "agent:\n  templates:\n    system_template: |\n      You are a helpful assistant.\n        Indented line.\n\n      Email bob@corp.io if stuck.\n    instance_template: \"Fix the issue:\\n\\t{{problem}}\\u00e9 ok\"\n    next_step_template: 'It''s your turn, answer the user now'\n    summary_prompt: Summarize the text below\n      in three short bullet points.\n";
        let (ps, err) = run("config/default.yaml", text);
        assert!(err.is_none());
        let ids: Vec<_> = ps.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "config/default.yaml#agent.templates.system_template",
                "config/default.yaml#agent.templates.instance_template",
                "config/default.yaml#agent.templates.next_step_template",
                "config/default.yaml#agent.templates.summary_prompt",
            ]
        );
        for p in &ps {
            assert_invariant(p, text);
        }
        assert_eq!(
            ps[0].text,
            "You are a helpful assistant.\n  Indented line.\n\nEmail bob@corp.io if stuck.\n"
        );
        assert_eq!(file_slice(&ps[0], text, "bob@corp.io"), "bob@corp.io");
        assert_eq!(file_slice(&ps[0], text, "  Indented"), "  Indented");
        assert_eq!(ps[1].text, "Fix the issue:\n\t{{problem}}é ok");
        assert_eq!(file_slice(&ps[1], text, "{{problem}}"), "{{problem}}");
        assert_eq!(file_slice(&ps[1], text, "\n"), "\\n");
        assert_eq!(file_slice(&ps[1], text, "é"), "\\u00e9");
        assert_eq!(ps[2].text, "It's your turn, answer the user now");
        assert_eq!(file_slice(&ps[2], text, "'s your"), "''s your");
        assert_eq!(
            ps[3].text,
            "Summarize the text below in three short bullet points."
        );
        assert_eq!(file_slice(&ps[3], text, "three short"), "three short");
        assert_eq!(
            ps[0].origin,
            Origin::Key {
                key: "system_template".into()
            }
        );
    }

    #[test]
    fn folded_block_scalar() {
        let text = "model: gpt-4o\nprompt: >-\n  You are a careful\n  reviewer.\n\n  Be brief.\nother: 1\n";
        let (ps, _) = run("x.yaml", text);
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].text, "You are a careful reviewer.\nBe brief.");
        assert_invariant(&ps[0], text);
        assert_eq!(file_slice(&ps[0], text, "Be brief."), "Be brief.");
    }

    #[test]
    fn messages_become_one_prompt_with_roles() {
        let text = "name: Summarizer\nmodel: openai/gpt-4o\nmessages:\n  - role: system\n    content: You summarize support tickets.\n  - role: user\n    content: |\n      Summarize: {{input}}\n";
        let (ps, _) = run("summarize.prompt.yaml", text);
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        assert_eq!(p.id, "summarize.prompt.yaml#messages");
        assert_eq!(
            p.text,
            "You summarize support tickets.\n\nSummarize: {{input}}\n"
        );
        assert_eq!(p.model.as_deref(), Some("openai/gpt-4o"));
        let roles: Vec<_> = p
            .segments
            .iter()
            .map(|s| (s.kind.clone(), &p.text[s.span.start..s.span.end]))
            .collect();
        assert_eq!(
            roles[0],
            (
                SegmentKind::Role { role: Role::System },
                "You summarize support tickets."
            )
        );
        assert_eq!(roles[1].0, SegmentKind::Role { role: Role::User });
        assert_invariant(p, text);
    }

    #[test]
    fn message_content_parts() {
        let text = "messages:\n  - role: system\n    content:\n      - type: text\n        text: You are terse.\n      - type: text\n        text: Answer in English.\n  - role: user\n    content: hi\n";
        let (ps, _) = run("chat.yaml", text);
        assert_eq!(ps[0].text, "You are terse.\n\nAnswer in English.\n\nhi");
        let roles: Vec<_> = ps[0]
            .segments
            .iter()
            .map(|s| &ps[0].text[s.span.start..s.span.end])
            .collect();
        assert_eq!(roles, vec!["You are terse.\n\nAnswer in English.", "hi"]);
    }

    #[test]
    fn crewai_agents_and_tasks_join_fields() {
        let text = "researcher:\n  role: >\n    Senior Data Researcher\n  goal: Uncover cutting-edge developments in {topic}\n  backstory: >\n    You're a seasoned researcher.\nresearch_task:\n  description: Conduct thorough research about {topic}\n  expected_output: A list with 10 bullet points\n  agent: researcher\n";
        let (ps, _) = run("src/crew/config/agents.yaml", text);
        let ids: Vec<_> = ps.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![
                "src/crew/config/agents.yaml#researcher",
                "src/crew/config/agents.yaml#research_task"
            ]
        );
        assert_eq!(ps[0].text, "Senior Data Researcher\n\nUncover cutting-edge developments in {topic}\n\nYou're a seasoned researcher.\n");
        for p in &ps {
            assert_invariant(p, text);
        }
    }

    #[test]
    fn prompts_for_people_yield_nothing() {
        let survey = "questions:\n- properties:\n    question: How satisfied are you with the CLI?\n    instruction: \"Please answer the question by typing the number of your answer: \"\n    instruction_on_rejection: \"Answer is invalid, please type a number from 1 to 5: \"\n";
        assert!(run("survey/contents/General.yaml", survey).0.is_empty());
        let cli = "- command_type: DELETE\n  input:\n    confirmation_prompt: |\n      You are about to delete backup [{name}] in [{location}].\n      Any associated data will be lost.\n";
        assert!(run("surface/backups/delete.yaml", cli).0.is_empty());
        // The same weak key counts in a file about models, or with a template slot.
        let llm =
            "model: gpt-4o-mini\ninstruction: Answer the customer's question in two sentences.\n";
        assert_eq!(run("bot.yaml", llm).0.len(), 1);
        let slot = "prompt: Summarize the following article for {audience} readers\n";
        assert_eq!(run("summarize.yaml", slot).0.len(), 1);
    }

    #[test]
    fn http_recordings_yield_nothing_wherever_they_are() {
        let body = "    method: POST\n    parsed_body:\n      messages:\n      - content: You are a support agent. Email dana.whitfield@northwind-mail.com when stuck.\n        role: system\n      - content: Where is my parcel?\n        role: user\n      model: gpt-4o\n    uri: https://api.openai.com/v1/chat/completions\n  response:\n    status:\n      code: 200\nversion: 1\n";
        let recording = format!("interactions:\n- request:\n{body}");
        assert!(is_http_recording(&recording));
        assert!(run("tests/recordings/azure/test_chat.yaml", &recording)
            .0
            .is_empty());
        // The same requests under another top-level key are read as usual.
        let other = format!("examples:\n- request:\n{body}");
        assert!(!is_http_recording(&other));
        assert_eq!(
            run("tests/recordings/azure/test_chat.yaml", &other).0.len(),
            1
        );
        assert!(!is_http_recording("interactions:\n  greeting: Hello\n"));
    }

    #[test]
    fn multi_document_ids_and_nested_model() {
        let text = "system_prompt: You are a very careful assistant.\n---\nagent:\n  model:\n    name: gpt-4o\n  system_prompt: You are a second careful assistant.\n";
        let (ps, _) = run("x.yaml", text);
        let ids: Vec<_> = ps.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            vec!["x.yaml#system_prompt", "x.yaml#doc1:agent.system_prompt"]
        );
        assert_eq!(ps[0].model, None);
        assert_eq!(ps[1].model.as_deref(), Some("gpt-4o"));
    }

    #[test]
    fn ci_and_k8s_yaml_yield_nothing() {
        let wf = "name: CI\non:\n  workflow_dispatch:\n    inputs:\n      prompt:\n        description: The prompt\n        required: true\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: cargo test --all\n        with:\n          prompt: ${{ inputs.prompt }}\n";
        assert!(run(".github/workflows/ci.yml", wf).0.is_empty());
        let k8s = "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n          image: nginx\n";
        assert!(run("deploy/web.yaml", k8s).0.is_empty());
    }

    #[test]
    fn aliases_do_not_double_count_and_promptfoo_lists() {
        let text = "base: &sys \"You are a terse assistant for the billing team.\"\nagents:\n  a:\n    system_prompt: *sys\nprompts:\n  - file://prompts/a.txt\n  - 'Write a short tweet about {{topic}} please'\n";
        let (ps, _) = run("promptfooconfig.yaml", text);
        let ids: Vec<_> = ps.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, vec!["promptfooconfig.yaml#prompts[1]"]);
        let text = "system_prompt: &sys \"You are a terse assistant for the billing team.\"\nother:\n  system_prompt: *sys\n";
        assert_eq!(run("a.yaml", text).0.len(), 1);
    }

    #[test]
    fn parse_errors_keep_partial_results() {
        let text = "system_prompt: You are a helpful and careful assistant.\nbad: [unclosed\n";
        let (ps, err) = run("a.yaml", text);
        assert_eq!(ps.len(), 1);
        assert!(err.unwrap().starts_with("invalid YAML at line"));
    }

    #[test]
    fn json_chat_lists_and_serialized_templates() {
        let spec = PromptSpec::compile(&Default::default(), &[]).unwrap();
        let text = "[\n  {\"role\": \"system\", \"content\": \"Tu es \\\"utile\\\".\\nR\\u00e9ponds bri\u{e8}vement.\"},\n  {\"role\": \"user\", \"content\": \"{question}\"}\n]\n";
        let file = SourceFile::from_bytes(
            text.as_bytes().to_vec(),
            "prompts/chat.json".into(),
            "prompts/chat.json".into(),
            FileKind::Json,
        )
        .unwrap();
        let (ps, err) = extract_as(&file, &spec, PromptFormat::Json);
        assert!(err.is_none());
        assert_eq!(ps.len(), 1);
        assert_eq!(ps[0].id, "prompts/chat.json#messages");
        assert_eq!(
            ps[0].text,
            "Tu es \"utile\".\nRéponds brièvement.\n\n{question}"
        );
        assert_eq!(ps[0].format, PromptFormat::Json);
        assert_invariant(&ps[0], text);
        assert_eq!(file_slice(&ps[0], text, "\"utile"), "\\\"utile");
        assert_eq!(file_slice(&ps[0], text, "brièvement"), "brièvement");
        assert_eq!(ps[0].placeholders[0].name, "question");
    }

    #[test]
    fn deep_nesting_stops_with_an_error() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let (_, err) = parse_tree(&text);
        assert!(err.is_some());
        let text = format!("{}x{}", "- ".repeat(300), "");
        assert!(parse_tree(&text).1.is_some());
    }

    #[test]
    fn non_ascii_and_crlf() {
        let text = "note: héllo wörld, claude\r\nsystem_prompt: Réponds en français, toujours poliment.\r\ntemplate: |\r\n  Ligne une été\r\n  Ligne deux\r\n";
        let (ps, _) = run("fr.yaml", text);
        assert_eq!(ps.len(), 2);
        for p in &ps {
            assert_invariant(p, text);
        }
        assert_eq!(file_slice(&ps[0], text, "français"), "français");
        assert_eq!(ps[1].text, "Ligne une été\nLigne deux\n");
        assert_eq!(file_slice(&ps[1], text, "deux"), "deux");
    }
}

#[cfg(test)]
mod mapping_tests {
    use super::*;

    /// Every string scalar of `text` maps exactly (no fallback) and verbatim pieces hold.
    fn assert_exact(text: &str) {
        let (docs, err) = parse_tree(text);
        assert!(err.is_none(), "{err:?}");
        let mut scalars = Vec::new();
        fn walk<'a>(n: &'a Node, out: &mut Vec<&'a Node>) {
            match n {
                Node::Scalar { .. } => out.push(n),
                Node::Seq { items, .. } => items.iter().for_each(|i| walk(i, out)),
                Node::Map { entries, .. } => entries.iter().for_each(|(k, v)| {
                    walk(k, out);
                    walk(v, out)
                }),
                Node::Alias => {}
            }
        }
        docs.iter().for_each(|d| walk(d, &mut scalars));
        for node in scalars {
            let value = node.as_str().unwrap();
            let b = map_scalar(text, node);
            assert_eq!(b.text, value);
            for p in b.map.pieces().iter().filter(|p| p.verbatim) {
                assert_eq!(
                    &b.text[p.prompt_start..p.prompt_start + p.prompt_len],
                    &text[p.file_start..p.file_start + p.file_len]
                );
            }
            // A fallback is one decoded piece; real mappings keep visible text verbatim.
            if value.chars().any(|c| c.is_alphanumeric()) {
                assert!(
                    b.map.pieces().iter().any(|p| p.verbatim),
                    "fallback for {value:?}"
                );
            }
        }
    }

    #[test]
    fn block_scalar_variants() {
        assert_exact("a: |2\n    indented twice\n  base\nb: 1\n");
        assert_exact("- |\n  in a sequence\n  second line\n- >\n  folded in\n  a sequence\n");
        assert_exact("a: |\n\n  after a blank line\n\n\n  and more\n");
        assert_exact("a: | # a comment\n  text here\n");
        assert_exact("a: |+\n  keep\n\n\nb: x\n");
        assert_exact("a: >\n  folded\n    more indented\n  back\n");
        assert_exact("a: |-\n  strip\n");
        assert_exact("a:\n  b:\n    - c: |\n        deep text\n        lines\n");
    }

    #[test]
    fn flow_scalar_variants() {
        assert_exact("msgs: [{role: system, content: \"Be \\\"brief\\\".\"}, {role: user, content: 'it''s me'}]\n");
        assert_exact("a: plain text that\n  continues here\n\n  and after a blank\n");
        assert_exact("a: \"double that \\\n   continues\"\n");
        assert_exact("a: \"tab\\tand\\u263A and \\x41\"\n");
        assert_exact("---\na: first doc\n---\nb: second doc\n");
        assert_exact("a: 'single\n  folded'\n");
        assert_exact("a: \"é\\\"ü\"\nb: ünïcödé plain\n");
    }

    /// Double-quoted runs are taken whole up to an escape, quote or line break; the blanks
    /// before a break fold with it.
    #[test]
    fn double_quoted_runs() {
        assert_exact("a: \"words  with  spaces   \n   folded here\"\n");
        assert_exact("a: \"line one\n\n  after a blank\"\n");
        assert_exact("a: \"it's \\\"quoted\\\" and\ttabbed\"\n");
        assert_exact("a: \"trailing spaces   \\\n  escaped break\"\n");
        assert_exact("a: \"crlf  \r\n  folded\"\r\n");
        assert_exact("a: [\"one\", \"two words\", \"\\u00e9t\u{e9} \\n x\"]\n");
        let (docs, _) = parse_tree("a: \"keep   \n  fold\"\n");
        let Some(Node::Map { entries, .. }) = docs.first() else {
            panic!("no map")
        };
        let b = map_scalar("a: \"keep   \n  fold\"\n", &entries[0].1);
        assert_eq!(b.text, "keep fold");
        let verbatim: Vec<_> = b.map.pieces().iter().filter(|p| p.verbatim).collect();
        assert_eq!(verbatim.len(), 2, "{:?}", b.map.pieces());
    }
}
