//! Instruction units and directives: the parser under the `contradiction` check.
//!
//! `units` splits a prompt's instruction text (segmentation's `instruction_spans`: examples,
//! code blocks and quotes are data and never reach this module) into units: list items and
//! sentences. Each unit gets a scope: its chat role, the innermost *specific* section around it
//! (a heading like "Summary" scopes its body; generic ones like "Format" or "Rules" do not), an
//! inline part ("In the summary, ...", "Keep the title short"), and a condition ("if the user
//! asks", "unless ..."). A lead-in line ending with a colon passes its condition and part to the
//! list under it. `Vocab` (compiled once from the pack's `[data]`) then decides whether a unit
//! is a directive and reads its axis mentions with polarity, numeric limits, and its
//! verb + object action. All vocabularies are data; this module only holds the grammar.
//! Matching runs on a masked copy of the unit where quoted passages and Markdown emphasis are
//! blanked, so a quoted phrase ("never say 'always'") is never read as an instruction.

use super::literal::{Hit, PhraseBook, PhraseSet};
use crate::prompt::Prompt;
use crate::segment::{instruction_spans, Role, SegmentKind, SegmentQuery};
use crate::span::PromptSpan;

/// A unit of instruction text and its scope.
#[derive(Debug, Clone)]
pub struct Unit {
    pub span: PromptSpan,
    /// The unit's text with quotes and emphasis blanked (same byte offsets as the prompt slice).
    pub masked: String,
    /// Title of the innermost section that is not generic, lowercased.
    pub section: Option<String>,
    /// A condition or part inherited from a lead-in line ("For the summary:").
    pub lead: Option<String>,
    /// A plain-text sub-heading above the unit ("Academic Research" on a line of its own).
    pub pseudo: Option<String>,
    pub role: Option<Role>,
}

/// One mention of an axis value inside a directive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mention {
    pub axis: usize,
    pub value: usize,
    pub positive: bool,
    /// Synthesised from a numeric limit (e.g. "under 30 words" counts as short).
    pub numeric: bool,
    /// Stemmed content words after the mention in its clause ("links *to competitor sites*"):
    /// a prohibition narrower than the requirement is an exception, not a contradiction.
    pub qualifier: Vec<String>,
    /// A scoping phrase follows ("long answers *for research queries*").
    pub scoped: bool,
}

/// A numeric limit: `lo..=hi` of `unit` (words, sentences, bullets...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limit {
    pub unit: String,
    pub lo: u32,
    pub hi: u32,
    pub text: String,
}

/// A verb and its object, normalised: "Never bring up refunds" -> (mention, {refund}, -).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub verb: String,
    pub object: Vec<String>,
    pub positive: bool,
}

/// A parsed directive.
#[derive(Debug, Clone)]
pub struct Directive {
    pub span: PromptSpan,
    pub text: String,
    /// Section, lead-in and inline part joined: directives compare only with equal parts.
    pub part: String,
    /// The condition text, when the directive is conditional.
    pub condition: Option<String>,
    /// The condition is an exception ("unless", "except"): it always scopes.
    pub exception: bool,
    /// The condition is the user's request ("if the user asks"): it always scopes.
    pub request_condition: bool,
    /// A permission ("you may", "feel free to") rather than a requirement.
    pub permissive: bool,
    pub mentions: Vec<Mention>,
    pub limits: Vec<Limit>,
    /// What the limits apply to (content words besides verb and limit); compared for equality.
    pub limit_target: Vec<String>,
    pub action: Option<Action>,
}

/// Splits the prompt's instruction text into units.
pub fn units(
    prompt: &Prompt,
    data_sections: &[String],
    is_generic_title: &dyn Fn(&str, bool) -> bool,
    is_heading_like: &dyn Fn(&str) -> bool,
) -> Vec<Unit> {
    let text = prompt.text.as_str();
    let mut out = Vec::new();
    for span in instruction_spans(prompt) {
        let mut lead: Option<String> = None;
        let mut pseudo: Option<String> = None;
        let mut offset = span.start;
        let mut para: Option<(usize, usize, bool)> = None; // (start, end, is list item)
        let flush = |para: &mut Option<(usize, usize, bool)>,
                     lead: &mut Option<String>,
                     pseudo: &mut Option<String>,
                     out: &mut Vec<Unit>| {
            if let Some((s, e, is_item)) = para.take() {
                let e = e.max(s);
                let inherited = if is_item { lead.clone() } else { None };
                let body = text[s..e].trim_end();
                // A short title-like line standing alone is a plain-text sub-heading.
                if !is_item && !body.contains('\n') && is_heading_like(body) {
                    *pseudo = Some(body.to_string());
                    *lead = None;
                    return;
                }
                if !is_item && body.ends_with(':') {
                    *lead = Some(body.trim_end_matches(':').to_string());
                } else if !is_item {
                    *lead = None;
                }
                // Mask the whole paragraph first so a quote spanning several sentences is
                // blanked as a whole and never split.
                let pm = mask(&text[s..e]);
                for (a, b) in sentences(&pm, 0, pm.len()) {
                    out.push(Unit {
                        span: PromptSpan::new(s + a, s + b),
                        masked: pm[a..b].to_string(),
                        section: None,
                        lead: inherited.clone(),
                        pseudo: pseudo.clone(),
                        role: None,
                    });
                }
            }
        };
        for line in text[span.start..span.end].split_inclusive('\n') {
            let start = offset;
            offset += line.len();
            let t = line.trim();
            let structural = t.is_empty()
                || t.starts_with('#')
                || t.starts_with('|')
                || t.starts_with("```")
                || (t.starts_with('<') && t.ends_with('>'))
                || t.chars().all(|c| matches!(c, '-' | '*' | '_' | '=' | ' '));
            if structural {
                flush(&mut para, &mut lead, &mut pseudo, &mut out);
                if t.starts_with('#') || t.starts_with('<') {
                    lead = None;
                    pseudo = None;
                }
                continue;
            }
            let lead_ws = line.len() - line.trim_start().len();
            let content = &line[lead_ws..];
            let marker = list_marker_len(content);
            if marker > 0 {
                flush(&mut para, &mut lead, &mut pseudo, &mut out);
                para = Some((
                    start + lead_ws + marker,
                    start + line.trim_end().len(),
                    true,
                ));
            } else {
                match para.as_mut() {
                    Some(p) => p.1 = start + line.trim_end().len(),
                    None => {
                        // A new plain paragraph after list items ends the lead-in's reach.
                        para = Some((start + lead_ws, start + line.trim_end().len(), false));
                    }
                }
            }
        }
        flush(&mut para, &mut lead, &mut pseudo, &mut out);
    }
    // Scope: role and the innermost specific section; units inside data sections are dropped.
    // A section's title is judged once (by segment), not again for every unit inside it.
    let mut section_generic: Vec<Option<bool>> = vec![None; prompt.segments.len()];
    out.retain_mut(|u| {
        u.role = prompt.role_at(u.span);
        if matches!(u.role, Some(Role::Assistant) | Some(Role::Tool)) {
            return false;
        }
        let mut containing: Vec<(usize, usize, &str, bool)> = prompt
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.span.contains(u.span))
            .filter_map(|(i, s)| match &s.kind {
                SegmentKind::Section { title } => {
                    let tag = prompt.text[s.span.start..].starts_with('<');
                    Some((s.span.len(), i, title.as_str(), tag))
                }
                _ => None,
            })
            .collect();
        if containing.iter().any(|(_, _, t, tag)| {
            *tag && data_sections.iter().any(|d| d == &t.to_ascii_lowercase())
        }) {
            return false;
        }
        containing.sort_by_key(|c| c.0);
        // Plain-text sub-headings name situations ("Recent News") unless generic, like tags.
        let pseudo = u
            .pseudo
            .as_deref()
            .filter(|p| !is_generic_title(p, true))
            .map(str::to_lowercase);
        u.section = pseudo.or_else(|| {
            containing
                .iter()
                .find(|(_, i, t, tag)| {
                    !*section_generic[*i].get_or_insert_with(|| is_generic_title(t, *tag))
                })
                .map(|(_, _, t, _)| t.to_lowercase())
        });
        true
    });
    out
}

fn list_marker_len(content: &str) -> usize {
    let b = content.as_bytes();
    if b.len() >= 2 && matches!(b[0], b'-' | b'*' | b'+' | b'>') && b[1] == b' ' {
        let mut n = 2;
        if content[n..].starts_with("[ ] ") || content[n..].starts_with("[x] ") {
            n += 4;
        }
        return n;
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0
        && digits < 4
        && b.len() > digits + 1
        && matches!(b[digits], b'.' | b')')
        && b[digits + 1] == b' '
    {
        return digits + 2;
    }
    0
}

const ABBREVIATIONS: &[&str] = &[
    "e.g", "i.e", "etc", "vs", "approx", "mr", "mrs", "dr", "no", "fig", "cf", "ca",
];

/// Splits `text[start..end]` into sentences at `.`, `!` or `?` followed by whitespace and a
/// non-lowercase character (or the end), skipping common abbreviations.
fn sentences(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut s = start;
    let mut i = start;
    while i < end {
        let c = bytes[i];
        if matches!(c, b'.' | b'!' | b'?') {
            let next = bytes.get(i + 1).copied();
            let at_end = i + 1 >= end;
            if at_end
                || next.is_some_and(|n| {
                    n == b' ' || n == b'\n' || n == b'\t' || n == b'"' || n == b')'
                })
            {
                let after = text[i + 1..end].trim_start();
                let starts_lower = after.chars().next().is_some_and(|c| c.is_lowercase());
                let word_start = text[s..i]
                    .char_indices()
                    .rev()
                    .find(|(_, c)| c.is_whitespace())
                    .map(|(w, c)| s + w + c.len_utf8())
                    .unwrap_or(s);
                let word = text[word_start..i].to_ascii_lowercase();
                let abbrev = ABBREVIATIONS.contains(&word.as_str());
                if at_end || (!starts_lower && !abbrev) {
                    push_trimmed(text, s, i + 1, &mut out);
                    s = i + 1;
                }
            }
        }
        i += 1;
    }
    push_trimmed(text, s, end, &mut out);
    out
}

fn push_trimmed(text: &str, a: usize, b: usize, out: &mut Vec<(usize, usize)>) {
    let slice = &text[a..b];
    let lead = slice.len() - slice.trim_start().len();
    let a = a + lead;
    let b = a + text[a..b].trim_end().len();
    if b > a && text[a..b].chars().any(|c| c.is_alphabetic()) {
        out.push((a, b));
    }
}

/// Blanks quoted passages, inline emphasis markers and backticks, keeping byte offsets.
pub fn mask(s: &str) -> String {
    let mut out: Vec<u8> = s.as_bytes().to_vec();
    // Straight double quotes and curly quotes: blank what lies between a pair.
    let blank = |open: &str, close: &str, out: &mut Vec<u8>| {
        let mut from = 0;
        while let Some(a) = s[from..].find(open) {
            let a = from + a + open.len();
            let Some(b) = s[a..].find(close) else { break };
            let b = a + b;
            for byte in &mut out[a..b] {
                *byte = b' ';
            }
            from = b + close.len();
        }
    };
    blank("\"", "\"", &mut out);
    // Curly quotes are not ASCII: most units skip both searches.
    if !s.is_ascii() {
        blank("\u{201c}", "\u{201d}", &mut out);
        blank("\u{2018}", "\u{2019}", &mut out);
    }
    // Single-quoted phrases: only when the quote opens at a word start and closes at a word end.
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\'' && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()) {
            if let Some(j) = (i + 1..bytes.len()).find(|&j| {
                bytes[j] == b'\'' && bytes.get(j + 1).is_none_or(|n| !n.is_ascii_alphanumeric())
            }) {
                if j > i + 1 && !s[i + 1..j].contains('\n') {
                    for byte in &mut out[i + 1..j] {
                        *byte = b' ';
                    }
                    i = j + 1;
                    continue;
                }
            }
        }
        i += 1;
    }
    for (k, b) in bytes.iter().enumerate() {
        if matches!(b, b'*' | b'`')
            || (*b == b'_' && (bytes.get(k + 1) == Some(&b'_') || (k > 0 && bytes[k - 1] == b'_')))
        {
            out[k] = b' ';
        }
    }
    // Blanking only touched ASCII bytes or whole quoted runs, so this stays valid UTF-8; fall
    // back to the original text rather than ever panicking.
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// A list of cue phrases, matched as whole words (see `literal.rs`). An automaton builds in
/// microseconds, so it is built with the vocabulary and a failure is reported there.
#[derive(Debug)]
pub struct Phrases(Option<PhraseSet>);

impl Phrases {
    pub fn new(phrases: &[String]) -> Result<Phrases, String> {
        if phrases.is_empty() {
            return Ok(Phrases(None));
        }
        PhraseSet::new(phrases).map(|s| Phrases(Some(s)))
    }

    /// A list of `book`: it answers once the book is finished.
    pub fn in_book(book: &mut PhraseBook, phrases: &[String]) -> Phrases {
        Phrases((!phrases.is_empty()).then(|| book.add(phrases)))
    }

    pub fn find_iter<'t>(&self, text: &'t str) -> std::vec::IntoIter<Hit<'t>> {
        self.0
            .as_ref()
            .map(|s| s.find_iter(text))
            .unwrap_or_default()
            .into_iter()
    }

    /// Whether one phrase of the list spans all of `text`.
    pub fn is_full(&self, text: &str) -> bool {
        self.find_iter(text)
            .any(|m| m.start() == 0 && m.end() == text.len())
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.0.as_ref().is_some_and(|s| s.is_match(text))
    }

    pub fn find<'t>(&self, text: &'t str) -> Option<Hit<'t>> {
        self.0.as_ref().and_then(|s| s.find(text))
    }
}

/// A literal phrase as a regex: spaces match any whitespace, apostrophes match curly ones.
pub fn phrase_pattern(p: &str) -> String {
    let mut out = String::new();
    for (i, word) in p.split_whitespace().enumerate() {
        if i > 0 {
            out.push_str(r"\s+");
        }
        out.push_str(&regex::escape(word).replace('\'', "(?:'|\u{2019})"));
    }
    out
}

/// Lowercase content words with light stemming (plural `s`, `ies`, `es`).
pub fn stem(word: &str) -> String {
    let w = word.to_ascii_lowercase();
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 4
        && (w.ends_with("ches") || w.ends_with("shes") || w.ends_with("sses") || w.ends_with("xes"))
    {
        return w[..w.len() - 2].to_string();
    }
    if w.len() > 4 && w.ends_with("jis") {
        return w[..w.len() - 1].to_string();
    }
    if w.len() > 3
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        return w[..w.len() - 1].to_string();
    }
    w
}

/// Words of `s` (ASCII letters, digits, apostrophes and hyphens), each with the offset where
/// its run starts and without leading or trailing apostrophes and hyphens. Lazy: callers that
/// want the first few words of a long text stop there.
pub fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    // Every word character is ASCII, so a byte scan finds the same runs as a char scan.
    let b = s.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || loop {
        while i < b.len() && !word_byte(b[i]) {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        let a = i;
        while i < b.len() && word_byte(b[i]) {
            i += 1;
        }
        if let Some(w) = trim_word(s, a, i) {
            return Some((a, w));
        }
    })
}

/// Which bytes are word characters: a table, since every unit's words are scanned many times.
const WORD_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || b == b'\'' || b == b'-';
        c += 1;
    }
    t
};

fn word_byte(b: u8) -> bool {
    WORD_BYTES[b as usize]
}

/// The run `s[a..e]` of word bytes without its leading and trailing apostrophes and hyphens,
/// or `None` when nothing else is left. The run is ASCII, so bytes are chars.
fn trim_word(s: &str, mut a: usize, mut e: usize) -> Option<&str> {
    let b = s.as_bytes();
    while a < e && matches!(b[a], b'\'' | b'-') {
        a += 1;
    }
    while e > a && matches!(b[e - 1], b'\'' | b'-') {
        e -= 1;
    }
    (a < e).then(|| &s[a..e])
}

/// `words(s)` last to first: the words before a position without scanning from the start.
pub fn words_rev(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let b = s.as_bytes();
    let mut i = b.len();
    std::iter::from_fn(move || loop {
        while i > 0 && !word_byte(b[i - 1]) {
            i -= 1;
        }
        if i == 0 {
            return None;
        }
        let e = i;
        while i > 0 && word_byte(b[i - 1]) {
            i -= 1;
        }
        if let Some(w) = trim_word(s, i, e) {
            return Some((i, w));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `words` against the eager char scan it replaced.
    #[test]
    fn words_match_a_char_scan() {
        fn reference(s: &str) -> Vec<(usize, &str)> {
            let mut out = Vec::new();
            let mut start = None;
            for (i, c) in s.char_indices() {
                let w = c.is_ascii_alphanumeric() || c == '\'' || c == '-';
                match (w, start) {
                    (true, None) => start = Some(i),
                    (false, Some(a)) => {
                        out.push((a, &s[a..i]));
                        start = None;
                    }
                    _ => {}
                }
            }
            if let Some(a) = start {
                out.push((a, &s[a..]));
            }
            out.into_iter()
                .map(|(a, w)| (a, w.trim_matches(|c| c == '\'' || c == '-')))
                .filter(|(_, w)| !w.is_empty())
                .collect()
        }
        for t in [
            "",
            "Don't use -- emoji; 'quoted' words-with-hyphens.",
            "caf\u{e9} na\u{ef}ve r\u{e9}sum\u{e9}s 42 x-ray '-' -'a'-",
            "\u{2019}twas ---",
            "tail",
        ] {
            assert_eq!(words(t).collect::<Vec<_>>(), reference(t), "{t:?}");
            let mut backward: Vec<_> = words_rev(t).collect();
            backward.reverse();
            assert_eq!(backward, reference(t), "{t:?}");
        }
    }

    #[test]
    fn sentences_split_and_skip_abbreviations() {
        let t = "Be brief, e.g. one line. Use JSON! Why? ok";
        let s: Vec<&str> = sentences(t, 0, t.len())
            .into_iter()
            .map(|(a, b)| &t[a..b])
            .collect();
        assert_eq!(s, vec!["Be brief, e.g. one line.", "Use JSON!", "Why? ok"]);
    }

    #[test]
    fn mask_blanks_quotes_and_emphasis() {
        assert_eq!(
            mask("Never say \"always JSON\" **now**"),
            "Never say \"           \"   now  "
        );
        assert_eq!(mask("don't 'quote' it's"), "don't '     ' it's");
        assert_eq!(mask("say “héllo” ok").len(), "say “héllo” ok".len());
    }

    #[test]
    fn stems() {
        assert_eq!(stem("Refunds"), "refund");
        assert_eq!(stem("policies"), "policy");
        assert_eq!(stem("matches"), "match");
        assert_eq!(stem("status"), "status");
        assert_eq!(stem("class"), "class");
        assert_eq!(stem("emojis"), "emoji");
        assert_eq!(stem("analysis"), "analysis");
    }

    #[test]
    fn list_markers() {
        assert_eq!(list_marker_len("- a"), 2);
        assert_eq!(list_marker_len("12. a"), 4);
        assert_eq!(list_marker_len("-a"), 0);
        assert_eq!(list_marker_len("2024 was"), 0);
    }
}
