//! Segmentation: roles, sections, few-shot examples, code blocks and quotes in prompt text.
//!
//! Extractors add the segments only they can see (a message's role, an `examples=[...]` list);
//! `segment` adds what the text itself shows: Markdown headings and XML-ish tags as sections,
//! fenced code blocks, quoted blocks, and few-shot examples (`<example>` tags, "Example N:",
//! `Input:`/`Output:` and `Q:`/`A:` pairs, `User:`/`Assistant:` transcripts, user/assistant
//! message pairs after a system message). Segments are a flat vector sorted by start; nesting is
//! containment. Rule packs ask "is this span inside an example / code / quote?" through the
//! helpers at the bottom, never by re-parsing text.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;

use crate::prompt::Prompt;
use crate::span::PromptSpan;

/// A chat role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
}

impl Role {
    /// Parses the role names used by SDKs, templates and transcripts.
    pub fn parse(name: &str) -> Option<Role> {
        match name.trim().to_ascii_lowercase().as_str() {
            "system" | "sys" => Some(Role::System),
            "developer" => Some(Role::Developer),
            "user" | "human" => Some(Role::User),
            "assistant" | "ai" | "model" | "bot" => Some(Role::Assistant),
            "tool" | "function" => Some(Role::Tool),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// System and developer messages carry instructions.
    pub fn is_instruction(self) -> bool {
        matches!(self, Role::System | Role::Developer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SegmentKind {
    /// One message of a chat prompt.
    Role { role: Role },
    /// A Markdown heading's section or an XML-ish tag's body.
    Section { title: String },
    /// One few-shot example (0-based index within the prompt).
    Example { index: usize },
    /// The input half of an example.
    ExampleInput,
    /// The output half of an example.
    ExampleOutput,
    /// A fenced or indented code block.
    CodeBlock,
    /// A quoted passage (`>` lines or a `"""` block inside the prompt).
    Quote,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    #[serde(flatten)]
    pub kind: SegmentKind,
    #[serde(skip)]
    pub span: PromptSpan,
}

impl Segment {
    pub fn new(kind: SegmentKind, span: PromptSpan) -> Self {
        Self { kind, span }
    }
}

static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(#{1,6})[ \t]+(\S[^\n]*?)[ \t#]*$").expect("heading regex"));
static FENCE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*(```|~~~)").expect("fence regex"));
static XML_OPEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<([A-Za-z][A-Za-z0-9_\-]{0,40})(?:\s[^<>]{0,200})?>").expect("xml regex")
});
static EXAMPLE_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?mi)^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?(?:example|sample|demonstration|shot)[ \t]*(?:#?[0-9]+|[ivx]+)?[ \t]*(?:\*\*)?[ \t]*[:.)\-]?(?:\*\*)?[ \t]*$|(?mi)^[ \t]*(?:#{1,6}[ \t]*)?(?:\*\*)?(?:example|sample)[ \t]*#?[0-9]+[ \t]*[:.)\-]")
        .expect("example header regex")
});
/// A line opening a turn of an inline transcript or an input/output pair.
static TURN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^[ \t]*(?:[-*][ \t]+)?(?:\*\*)?(input|output|question|answer|q|a|user|human|customer|assistant|ai|agent|bot|query|response|text|label|sql|email|message|reply)(?:\*\*)?[ \t]*:(?:\*\*)?")
        .expect("turn regex")
});

/// Adds text-derived segments to `prompt.segments` and sorts them.
pub fn segment(prompt: &mut Prompt) {
    let text = prompt.text.as_str();
    let mut found = Vec::new();
    let code = code_blocks(text);
    found.extend(
        code.iter()
            .map(|s| Segment::new(SegmentKind::CodeBlock, *s)),
    );
    sections(text, &code, &mut found);
    quotes(text, &code, &mut found);
    let mut examples = Vec::new();
    tagged_examples(text, &mut examples);
    headed_examples(text, &code, &mut examples);
    if examples.is_empty() {
        transcript_examples(text, &code, &mut examples);
    }
    message_pair_examples(&prompt.segments, &mut examples);
    push_examples(&prompt.segments, examples, text, &mut found);
    prompt.segments.extend(found);
    prompt
        .segments
        .sort_by_key(|s| (s.span.start, std::cmp::Reverse(s.span.end)));
    prompt.segments.dedup();
}

fn inside_any(spans: &[PromptSpan], at: usize) -> bool {
    spans.iter().any(|s| s.start <= at && at < s.end)
}

fn code_blocks(text: &str) -> Vec<PromptSpan> {
    let mut out = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for m in FENCE.find_iter(text) {
        let marker = m.as_str().trim_start();
        match open {
            None => open = Some((m.start(), marker)),
            Some((start, opener)) if opener == marker => {
                let end = text[m.end()..]
                    .find('\n')
                    .map(|i| m.end() + i)
                    .unwrap_or(text.len());
                out.push(PromptSpan::new(start, end));
                open = None;
            }
            Some(_) => {}
        }
    }
    if let Some((start, _)) = open {
        out.push(PromptSpan::new(start, text.len()));
    }
    out
}

fn sections(text: &str, code: &[PromptSpan], out: &mut Vec<Segment>) {
    // Markdown headings: a section runs to the next heading of the same or higher level.
    let heads: Vec<(usize, usize, String)> = HEADING
        .captures_iter(text)
        .filter_map(|c| {
            let m = c.get(0)?;
            (!inside_any(code, m.start())).then(|| (m.start(), c[1].len(), c[2].to_string()))
        })
        .collect();
    for (i, (start, level, title)) in heads.iter().enumerate() {
        let end = heads[i + 1..]
            .iter()
            .find(|(_, l, _)| l <= level)
            .map(|h| h.0)
            .unwrap_or(text.len());
        out.push(Segment::new(
            SegmentKind::Section {
                title: title.clone(),
            },
            PromptSpan::new(*start, end),
        ));
    }
    // XML-ish tags with a matching close tag.
    for c in XML_OPEN.captures_iter(text) {
        let (Some(m), Some(name)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if inside_any(code, m.start()) {
            continue;
        }
        let close = format!("</{}>", name.as_str());
        if let Some(rel) = text[m.end()..].find(&close) {
            let end = m.end() + rel + close.len();
            out.push(Segment::new(
                SegmentKind::Section {
                    title: name.as_str().to_ascii_lowercase(),
                },
                PromptSpan::new(m.start(), end),
            ));
        }
    }
}

fn quotes(text: &str, code: &[PromptSpan], out: &mut Vec<Segment>) {
    let mut start: Option<usize> = None;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let is_quote = line.trim_start().starts_with('>') && !inside_any(code, offset);
        match (is_quote, start) {
            (true, None) => start = Some(offset),
            (false, Some(s)) => {
                out.push(Segment::new(SegmentKind::Quote, PromptSpan::new(s, offset)));
                start = None;
            }
            _ => {}
        }
        offset += line.len();
    }
    if let Some(s) = start {
        out.push(Segment::new(
            SegmentKind::Quote,
            PromptSpan::new(s, text.len()),
        ));
    }
    // Triple-quoted passages inside a prompt ("""...""") are quoted data.
    let mut rest = 0;
    while let Some(a) = text[rest..].find("\"\"\"") {
        let open = rest + a;
        let Some(b) = text[open + 3..].find("\"\"\"") else {
            break;
        };
        let close = open + 3 + b + 3;
        out.push(Segment::new(
            SegmentKind::Quote,
            PromptSpan::new(open, close),
        ));
        rest = close;
    }
}

/// An example candidate: its whole span plus optional input/output halves.
struct ExampleCandidate {
    span: PromptSpan,
    parts: Vec<(SegmentKind, PromptSpan)>,
}

fn tagged_examples(text: &str, out: &mut Vec<ExampleCandidate>) {
    let lower = text.to_ascii_lowercase();
    for tag in ["example", "examples", "sample", "demo", "shot"] {
        let open_pat = format!("<{tag}");
        let close_pat = format!("</{tag}>");
        let mut from = 0;
        while let Some(a) = lower[from..].find(&open_pat) {
            let open = from + a;
            let after = open + open_pat.len();
            let Some(gt) = lower[after..].find('>') else {
                break;
            };
            let head_end = after + gt + 1;
            // `<examples>` must not match `<example>`'s search and vice versa.
            let next = lower.as_bytes().get(after).copied().unwrap_or(b'>');
            if !(next == b'>'
                || next == b' '
                || next == b'\n'
                || next == b'_'
                || next.is_ascii_digit())
            {
                from = after;
                continue;
            }
            let Some(b) = lower[head_end..].find(&close_pat) else {
                break;
            };
            let end = head_end + b + close_pat.len();
            if tag == "examples" {
                // A wrapper: its children are the examples, unless it has none.
                let inner = &lower[head_end..end];
                if !inner.contains("<example") {
                    out.push(ExampleCandidate {
                        span: PromptSpan::new(open, end),
                        parts: io_parts(text, PromptSpan::new(head_end, end)),
                    });
                }
            } else {
                out.push(ExampleCandidate {
                    span: PromptSpan::new(open, end),
                    parts: io_parts(text, PromptSpan::new(head_end, end)),
                });
            }
            from = end;
        }
    }
}

/// "Example 1:" style headers: each example runs to the next header, or to a blank-line gap
/// followed by a heading or a line that no longer looks like example content.
fn headed_examples(text: &str, code: &[PromptSpan], out: &mut Vec<ExampleCandidate>) {
    let heads: Vec<usize> = EXAMPLE_HEADER
        .find_iter(text)
        .map(|m| m.start())
        .filter(|s| !inside_any(code, *s))
        .collect();
    for (i, start) in heads.iter().enumerate() {
        if out
            .iter()
            .any(|c| c.span.start <= *start && *start < c.span.end)
        {
            continue;
        }
        let hard_end = heads.get(i + 1).copied().unwrap_or(text.len());
        let end = example_end(text, *start, hard_end);
        let span = PromptSpan::new(*start, end);
        out.push(ExampleCandidate {
            span,
            parts: io_parts(text, span),
        });
    }
}

/// Where an example that starts at `start` ends, at most at `hard_end`: the next Markdown
/// heading, or the next "instruction-looking" paragraph after a blank line.
fn example_end(text: &str, start: usize, hard_end: usize) -> usize {
    let body_start = text[start..hard_end]
        .find('\n')
        .map(|i| start + i + 1)
        .unwrap_or(hard_end);
    let mut offset = body_start;
    let mut blank = false;
    for line in text[body_start..hard_end].split_inclusive('\n') {
        let t = line.trim();
        if t.starts_with('#')
            || (blank && t.starts_with('<') && t.ends_with('>') && !t.starts_with("</"))
        {
            return trim_end(text, start, offset);
        }
        if blank
            && !t.is_empty()
            && !TURN.is_match(line)
            && !t.starts_with('{')
            && !t.starts_with('[')
        {
            // A new paragraph that is not a turn: the example's last turn may still continue
            // across blank lines only if it is indented.
            if !line.starts_with([' ', '\t']) {
                return trim_end(text, start, offset);
            }
        }
        blank = t.is_empty();
        offset += line.len();
    }
    trim_end(text, start, hard_end)
}

fn trim_end(text: &str, start: usize, mut end: usize) -> usize {
    while end > start && text.as_bytes()[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    end
}

/// Inline transcripts without headers: runs of `Input:`/`Output:`, `Q:`/`A:` or
/// `User:`/`Assistant:` lines. An input turn followed by an output turn is one example.
fn transcript_examples(text: &str, code: &[PromptSpan], out: &mut Vec<ExampleCandidate>) {
    let turns: Vec<(usize, usize, bool)> = TURN
        .captures_iter(text)
        .filter_map(|c| {
            let m = c.get(0)?;
            if inside_any(code, m.start()) {
                return None;
            }
            let label = c[1].to_ascii_lowercase();
            let input = is_input_label(&label)?;
            Some((m.start(), m.end(), input))
        })
        .collect();
    let mut i = 0;
    while i + 1 < turns.len() {
        let (a_start, _, a_in) = turns[i];
        let (b_start, b_label_end, b_in) = turns[i + 1];
        if a_in && !b_in {
            // The output turn runs to the next turn, a blank line, or the end.
            let limit = turns.get(i + 2).map(|t| t.0).unwrap_or(text.len());
            let end = turn_end(text, b_label_end, limit);
            // A turn whose value is empty or a placeholder is a template slot, not an example.
            let a_value = text[a_start..b_start]
                .split_once(':')
                .map(|(_, v)| v.trim())
                .unwrap_or("");
            let b_value = text[b_label_end..end].trim();
            if !is_slot(a_value) && !is_slot(b_value) {
                let span = PromptSpan::new(a_start, end);
                out.push(ExampleCandidate {
                    span,
                    parts: vec![
                        (
                            SegmentKind::ExampleInput,
                            PromptSpan::new(a_start, trim_end(text, a_start, b_start)),
                        ),
                        (SegmentKind::ExampleOutput, PromptSpan::new(b_start, end)),
                    ],
                });
            }
            i += 2;
        } else {
            i += 1;
        }
    }
}

fn is_input_label(label: &str) -> Option<bool> {
    match label {
        "input" | "question" | "q" | "user" | "human" | "customer" | "query" | "text" | "email"
        | "message" => Some(true),
        "output" | "answer" | "a" | "assistant" | "ai" | "agent" | "bot" | "response" | "label"
        | "sql" | "reply" => Some(false),
        _ => None,
    }
}

/// Empty, a lone placeholder, or an ellipsis: a slot the caller fills, not example data.
fn is_slot(value: &str) -> bool {
    let v = value.trim();
    v.is_empty()
        || v == "..."
        || ((v.starts_with('{') && v.ends_with('}')) && !v.contains('"') && !v.contains('\n'))
        || (v.starts_with('<') && v.ends_with('>') && !v.contains(' '))
        || (v.starts_with('[') && v.ends_with(']') && v.len() < 40 && !v.contains('"'))
}

fn turn_end(text: &str, from: usize, limit: usize) -> usize {
    let mut offset = from;
    let mut first = true;
    for line in text[from..limit].split_inclusive('\n') {
        if !first && line.trim().is_empty() {
            return trim_end(text, from, offset);
        }
        first = false;
        offset += line.len();
    }
    trim_end(text, from, limit)
}

/// Splits an example body into input and output halves by its turn labels.
fn io_parts(text: &str, span: PromptSpan) -> Vec<(SegmentKind, PromptSpan)> {
    let body = &text[span.start..span.end];
    let mut parts = Vec::new();
    let mut output_at = None;
    for c in TURN.captures_iter(body) {
        let (Some(m), Some(label)) = (c.get(0), c.get(1)) else {
            continue;
        };
        if is_input_label(&label.as_str().to_ascii_lowercase()) == Some(false) {
            output_at = Some(span.start + m.start());
            break;
        }
    }
    if let Some(at) = output_at {
        parts.push((SegmentKind::ExampleInput, PromptSpan::new(span.start, at)));
        parts.push((SegmentKind::ExampleOutput, PromptSpan::new(at, span.end)));
    }
    parts
}

/// User/assistant message pairs that follow a system message (and precede the final user
/// turn) are few-shot examples given as messages.
fn message_pair_examples(existing: &[Segment], out: &mut Vec<ExampleCandidate>) {
    let roles: Vec<(Role, PromptSpan)> = existing
        .iter()
        .filter_map(|s| match s.kind {
            SegmentKind::Role { role } => Some((role, s.span)),
            _ => None,
        })
        .collect();
    if roles.len() < 3 || !roles[0].0.is_instruction() {
        return;
    }
    let mut i = 1;
    while i + 1 < roles.len() {
        let (a, a_span) = roles[i];
        let (b, b_span) = roles[i + 1];
        if a == Role::User && b == Role::Assistant {
            out.push(ExampleCandidate {
                span: PromptSpan::new(a_span.start, b_span.end),
                parts: vec![
                    (SegmentKind::ExampleInput, a_span),
                    (SegmentKind::ExampleOutput, b_span),
                ],
            });
            i += 2;
        } else {
            i += 1;
        }
    }
}

fn push_examples(
    existing: &[Segment],
    mut examples: Vec<ExampleCandidate>,
    _text: &str,
    out: &mut Vec<Segment>,
) {
    // Extractor-provided examples (from `examples=[...]`) count first.
    let mut index = existing
        .iter()
        .filter(|s| matches!(s.kind, SegmentKind::Example { .. }))
        .count();
    examples.sort_by_key(|c| c.span.start);
    let mut last_end = 0;
    for c in examples {
        if c.span.start < last_end
            || existing
                .iter()
                .any(|s| matches!(s.kind, SegmentKind::Example { .. }) && s.span.overlaps(c.span))
        {
            continue;
        }
        out.push(Segment::new(SegmentKind::Example { index }, c.span));
        out.extend(c.parts.into_iter().map(|(k, s)| Segment::new(k, s)));
        index += 1;
        last_end = c.span.end;
    }
}

/// Queries over a prompt's segments.
pub trait SegmentQuery {
    fn segments(&self) -> &[Segment];

    /// The example containing `span`, if any.
    fn example_at(&self, span: PromptSpan) -> Option<&Segment> {
        self.segments()
            .iter()
            .find(|s| matches!(s.kind, SegmentKind::Example { .. }) && s.span.contains(span))
    }

    fn in_example(&self, span: PromptSpan) -> bool {
        self.example_at(span).is_some()
    }

    /// Inside an example, code block or quote: data, not instruction.
    fn in_data(&self, span: PromptSpan) -> bool {
        self.segments().iter().any(|s| {
            matches!(
                s.kind,
                SegmentKind::Example { .. } | SegmentKind::CodeBlock | SegmentKind::Quote
            ) && s.span.contains(span)
        })
    }

    /// The innermost role segment containing `span`.
    fn role_at(&self, span: PromptSpan) -> Option<Role> {
        self.segments().iter().rev().find_map(|s| match s.kind {
            SegmentKind::Role { role } if s.span.contains(span) => Some(role),
            _ => None,
        })
    }

    /// The innermost section containing `span`, as its start offset and title.
    fn section_at(&self, span: PromptSpan) -> Option<&Segment> {
        self.segments()
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Section { .. }) && s.span.contains(span))
            .min_by_key(|s| s.span.len())
    }
}

impl SegmentQuery for Prompt {
    fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::{Origin, PromptFormat};

    fn seg(text: &str) -> Prompt {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Text, false);
        p.text = text.to_string();
        segment(&mut p);
        p
    }

    fn examples(p: &Prompt) -> Vec<&str> {
        p.segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Example { .. }))
            .map(|s| &p.text[s.span.start..s.span.end])
            .collect()
    }

    #[test]
    fn xml_example_tags() {
        let p = seg("Be brief.\n<example>\nUser: hi I'm bob@corp.io\nAssistant: hello\n</example>\n<example>x</example>\nDone.");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2);
        assert!(ex[0].contains("bob@corp.io"));
        let at = p.text.find("bob@").unwrap();
        assert!(p.in_example(PromptSpan::new(at, at + 3)));
        let done = p.text.find("Done").unwrap();
        assert!(!p.in_example(PromptSpan::new(done, done + 4)));
    }

    #[test]
    fn numbered_example_headers() {
        let p = seg("Classify tickets.\n\nExample 1:\nInput: my card was charged twice\nOutput: billing\n\nExample 2:\nInput: app crashes\nOutput: bug\n\nNow classify the ticket below.\n{ticket}");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2, "{ex:?}");
        assert!(ex[1].ends_with("Output: bug"));
        assert!(p
            .segments
            .iter()
            .any(|s| s.kind == SegmentKind::ExampleOutput));
    }

    #[test]
    fn qa_transcript_without_headers() {
        let p = seg("Answer like this.\nQ: What is 2+2?\nA: 4\nQ: Capital of France?\nA: Paris\n\nQ: {question}\nA:");
        let ex = examples(&p);
        assert_eq!(ex.len(), 2, "{ex:?}");
    }

    #[test]
    fn template_slots_are_not_examples() {
        let p = seg("Input: {input}\nOutput:");
        assert!(examples(&p).is_empty());
    }

    #[test]
    fn message_pairs_after_system_are_examples() {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Text, false);
        p.text = "sys\n\nu1\n\na1\n\nu2".into();
        p.segments = vec![
            Segment::new(
                SegmentKind::Role { role: Role::System },
                PromptSpan::new(0, 3),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::User },
                PromptSpan::new(5, 7),
            ),
            Segment::new(
                SegmentKind::Role {
                    role: Role::Assistant,
                },
                PromptSpan::new(9, 11),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::User },
                PromptSpan::new(13, 15),
            ),
        ];
        segment(&mut p);
        assert_eq!(examples(&p), vec!["u1\n\na1"]);
        assert_eq!(p.role_at(PromptSpan::new(13, 14)), Some(Role::User));
    }

    #[test]
    fn sections_code_and_quotes() {
        let p = seg("# Rules\nBe nice.\n## Format\nJSON.\n```\n# not a heading\n```\n> quoted\n");
        let titles: Vec<_> = p
            .segments
            .iter()
            .filter_map(|s| match &s.kind {
                SegmentKind::Section { title } => Some(title.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(titles, vec!["Rules", "Format"]);
        assert!(p.segments.iter().any(|s| s.kind == SegmentKind::CodeBlock));
        let q = p.text.find("quoted").unwrap();
        assert!(p.in_data(PromptSpan::new(q, q + 1)));
    }
}
