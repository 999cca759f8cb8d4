//! The contradiction pack's vocabulary: `[data]` of `rules/contradiction.toml`, parsed into
//! typed structs (`deny_unknown_fields`) and compiled once into a shared `Vocab`.
//!
//! Axes become regexes per value: the axis's `frames` with the value's `terms` substituted
//! (built for the set of frames a text can match, `frames.rs`), plus whole `patterns`. Cue
//! lists (negation, conditions, hedges, lead-ins...) become phrase alternations with ASCII word
//! boundaries. This module holds no grammar: `parse.rs` reads
//! directives with these tables, `contradiction.rs` compares them.

// A fast hasher: directive parsing looks up words in these sets all the time.
use foldhash::{HashMap, HashMapExt, HashSet};
use std::sync::Arc;

use crate::lazy_regex::{folds_onto_ascii, KeyedRegex, LazyRegex};
use crate::literal_automaton::{literal_automaton, LiteralAutomaton};
use serde::Deserialize;

use super::directive::{phrase_pattern, stem, words, Phrases};
use super::frames::{AxisFrames, Choices, Frames};
use super::literal::{boundary, fold_shared, is_space, leftmost_first, Folded, Hit, PhraseBook};
use super::parse_memo::ParseMemo;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawData {
    imperative_verbs: Vec<String>,
    non_directive_starters: Vec<String>,
    modal_cues: Vec<String>,
    non_model_subjects: Vec<String>,
    lead_ins: Vec<String>,
    negation_cues: Vec<String>,
    neutralizers: Vec<String>,
    hedge_cues: Vec<String>,
    permissive_cues: Vec<String>,
    request_conditions: Vec<String>,
    post_negation_cues: Vec<String>,
    flip_cues: Vec<String>,
    condition_cues: Vec<String>,
    exception_cues: Vec<String>,
    global_conditions: Vec<String>,
    scope_prepositions: Vec<String>,
    global_targets: Vec<String>,
    generic_section_words: Vec<String>,
    scoping_section_words: Vec<String>,
    data_sections: Vec<String>,
    speaker_labels: Vec<String>,
    part_nouns: Vec<String>,
    stopwords: Vec<String>,
    verb_groups: Vec<Vec<String>>,
    modifiers: Vec<String>,
    axis: Vec<RawAxis>,
    numeric: RawNumeric,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAxis {
    rule: String,
    label: String,
    #[serde(default)]
    exclusive: bool,
    #[serde(default)]
    compatible: Vec<[String; 2]>,
    #[serde(default)]
    triggers: Vec<String>,
    #[serde(default)]
    frames: Vec<String>,
    value: Vec<RawValue>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawValue {
    name: String,
    #[serde(default)]
    terms: Vec<String>,
    #[serde(default)]
    patterns: Vec<String>,
    #[serde(default)]
    negative_patterns: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawNumeric {
    units: HashMap<String, Vec<String>>,
    numbers: HashMap<String, u32>,
    at_most: Vec<String>,
    below: Vec<String>,
    at_least: Vec<String>,
    above: Vec<String>,
    exactly: Vec<String>,
    between: Vec<String>,
    bare_after: Vec<String>,
    short_max: HashMap<String, u32>,
    long_min: HashMap<String, u32>,
}

#[derive(Debug)]
pub struct Value {
    pub(crate) name: String,
    /// The axis frames around the value's terms, and the terms' slot in the `Gate`.
    framed: Option<(Frames, usize)>,
    /// The value's free-form `patterns`.
    patterns: Option<Patterns>,
    negative: Option<Patterns>,
}

/// A value's `patterns` (or `negative-patterns`) as one regex for the folded view, and the
/// slot in the `Gate` of the literals every match holds, when `build.rs` found such literals
/// (built-in patterns): the regex is built and run only for a text holding one.
#[derive(Debug)]
struct Patterns {
    regex: LazyRegex,
    gate: Option<usize>,
}

impl Patterns {
    /// The regex, when `text` may hold a match. The Kelvin sign and the long s always pass, in
    /// case a pattern needed Unicode to build and folds them onto `k` and `s`.
    fn on(&self, text: &ValueText) -> Option<&LazyRegex> {
        if self.gate.is_some_and(|g| !text.gate[g]) && !text.folds_onto_ascii {
            return None;
        }
        Some(&self.regex)
    }
}

impl Value {
    /// The framed regex for `text`, when the text can match it: one of the value's terms
    /// occurs (every frame holds one).
    fn framed_regex(&self, text: &ValueText) -> Option<std::sync::Arc<LazyRegex>> {
        let (frames, gate) = self.framed.as_ref()?;
        if !text.gate[*gate] {
            return None;
        }
        frames.regex_for(&text.folded.text)
    }

    /// The value's regexes run on the folded view (lowercase, one space per whitespace run),
    /// so they are built without `(?i)`: case-insensitive literals compile to classes and cost
    /// several times more to build.
    pub(crate) fn is_match(&self, text: &ValueText) -> bool {
        let folded = &text.folded.text;
        self.framed_regex(text).is_some_and(|r| r.is_match(folded))
            || self
                .patterns
                .as_ref()
                .and_then(|p| p.on(text))
                .is_some_and(|r| r.is_match(folded))
    }

    /// Non-overlapping matches, leftmost first, a framed match before a pattern match at the
    /// same start: what one alternation of frames and patterns would give.
    pub(crate) fn find_iter<'t>(&self, t: &'t str, text: &ValueText) -> Vec<Hit<'t>> {
        let folded = &text.folded;
        let mut all: Vec<(Hit<'t>, usize)> = Vec::new();
        if let Some(r) = self.framed_regex(text) {
            all.extend(hits(&r, t, folded).into_iter().map(|h| (h, 0)));
        }
        if let Some(r) = self.patterns.as_ref().and_then(|p| p.on(text)) {
            all.extend(hits(r, t, folded).into_iter().map(|h| (h, 1)));
        }
        leftmost_first(all)
    }

    pub(crate) fn force(&self) -> Result<(), String> {
        if let Some((f, _)) = &self.framed {
            f.force()?;
        }
        [&self.patterns, &self.negative]
            .into_iter()
            .flatten()
            .try_for_each(|p| p.regex.force())
    }

    pub(crate) fn negative_find_iter<'t>(&self, t: &'t str, text: &ValueText) -> Vec<Hit<'t>> {
        self.negative
            .as_ref()
            .and_then(|p| p.on(text))
            .map(|r| hits(r, t, &text.folded))
            .unwrap_or_default()
    }
}

/// A text as the axis values read it: folded once, and which `Gate` slots' literals occur.
pub(crate) struct ValueText {
    pub(crate) folded: std::rc::Rc<Folded>,
    gate: Vec<bool>,
    folds_onto_ascii: bool,
}

/// The literals the values' regexes need, in one automaton: a framed value's terms (every frame
/// holds one) and the keys of a pattern list. One scan of a text marks the slots whose literals
/// occur there, instead of one scan per value.
#[derive(Debug)]
struct Gate {
    literals: LiteralAutomaton,
    /// The slot of each literal.
    owner: Vec<usize>,
    slots: usize,
}

impl Gate {
    /// `slots[i]`: the literals of slot `i`, as they occur in a folded text.
    fn new(slots: &[Vec<String>]) -> Result<Gate, String> {
        let mut literals = Vec::new();
        let mut owner = Vec::new();
        for (slot, ls) in slots.iter().enumerate() {
            literals.extend(ls.iter().cloned());
            owner.extend(std::iter::repeat_n(slot, ls.len()));
        }
        Ok(Gate {
            literals: literal_automaton(&literals).map_err(|e| format!("value literals: {e}"))?,
            owner,
            slots: slots.len(),
        })
    }

    fn scan(&self, folded: &str) -> Vec<bool> {
        let mut present = vec![false; self.slots];
        for m in self.literals.find_overlapping_iter(folded) {
            present[self.owner[m.pattern().as_usize()]] = true;
        }
        present
    }
}

/// A value's `patterns` (or `negative-patterns`) for the folded view, where every whitespace
/// run is one space: `\s` becomes a literal space, which builds and searches faster than the
/// class. Keys `build.rs` found for built-in patterns get a slot in `slots`.
fn folded_patterns(patterns: &[String], slots: &mut Vec<Vec<String>>) -> Option<Patterns> {
    if patterns.is_empty() {
        return None;
    }
    let regex = LazyRegex::vocab(fold_pattern(&crate::lazy_regex::alternation(patterns)));
    let gate = crate::packs::builtin::value_keys(patterns).map(|keys| {
        // The folded view is lowercase, so lowercase keys find what case-insensitive ones do.
        slots.push(keys.iter().map(|k| k.to_ascii_lowercase()).collect());
        slots.len() - 1
    });
    Some(Patterns { regex, gate })
}

/// `pattern` for the folded view (see `folded_patterns`).
pub(super) fn fold_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => out.push(' '),
            Some(e) => {
                out.push('\\');
                out.push(e);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Matches of `regex` on the folded view, as spans of the original `t`.
fn hits<'t>(regex: &LazyRegex, t: &'t str, folded: &Folded) -> Vec<Hit<'t>> {
    regex
        .find_iter(&folded.text)
        .into_iter()
        .map(|(start, end)| folded.hit(t, start, end))
        .collect()
}

#[derive(Debug)]
pub struct Axis {
    pub(crate) rule: String,
    pub(crate) label: String,
    pub(crate) exclusive: bool,
    pub(crate) compatible: Vec<(usize, usize)>,
    pub(crate) triggers: Phrases,
    pub(crate) values: Vec<Value>,
}

/// Numeric limits. Both regexes are lowercase and case-sensitive, run on ASCII-lowercased
/// text: `(?i)` makes every letter a class and the build several times slower, and their
/// patterns build without Unicode, where ASCII case folding is all `(?i)` would do (tested).
#[derive(Debug)]
pub struct Numeric {
    pub(crate) regex: KeyedRegex,
    /// "at least four substitutions": any noun after an explicit comparator.
    pub(crate) generic: KeyedRegex,
    pub(crate) units: HashMap<String, String>,
    pub(crate) numbers: HashMap<String, u32>,
    pub(crate) at_most: Phrases,
    pub(crate) below: Phrases,
    pub(crate) at_least: Phrases,
    pub(crate) above: Phrases,
    pub(crate) between: Phrases,
    pub(crate) bare_after: HashSet<String>,
    pub(crate) short_max: HashMap<String, u32>,
    pub(crate) long_min: HashMap<String, u32>,
}

/// The pack's vocabulary, compiled once and shared by every rule of the pack.
#[derive(Debug)]
pub struct Vocab {
    pub(crate) imperative: HashSet<String>,
    pub(crate) starters: HashSet<String>,
    pub(crate) modal: Phrases,
    pub(crate) non_model: Phrases,
    pub(crate) lead_ins: Phrases,
    pub(crate) negation: Phrases,
    pub(crate) neutralizers: Phrases,
    pub(crate) hedges: Phrases,
    pub(crate) permissive: Phrases,
    pub(crate) request_conditions: Phrases,
    pub(crate) post_negation: Phrases,
    pub(crate) flips: Phrases,
    pub(crate) conditions: Phrases,
    pub(crate) exceptions: Phrases,
    pub(crate) global_conditions: Phrases,
    /// "In the summary, ...": the words between a scope preposition and a comma or colon, of
    /// any length (see `scope_lead`).
    scope_regex: LazyRegex,
    /// "<object> must (never) be <participle>".
    pub(crate) passive: LazyRegex,
    pub(crate) global_targets: HashSet<String>,
    pub(crate) generic_words: HashSet<String>,
    pub(crate) scoping_section_words: HashSet<String>,
    pub(crate) scope_words: HashSet<String>,
    pub(crate) data_sections: Vec<String>,
    pub(crate) speaker_labels: HashSet<String>,
    pub(crate) part_nouns: Phrases,
    pub(crate) stopwords: HashSet<String>,
    pub(crate) verbs: Verbs,
    pub(crate) axes: Vec<Axis>,
    gate: Gate,
    pub(crate) numeric: Numeric,
    pub(crate) clause_verbs: HashSet<String>,
    /// Units already read (`parse_memo.rs`).
    pub(crate) memo: ParseMemo,
}

/// The verb synonym groups: which verb phrase a text starts with, and its group's canonical
/// verb. Matched word by word (ASCII case-insensitive, any whitespace between words, a word
/// boundary after) rather than as some 150 anchored regexes, which cost more to build than a
/// whole pre-commit run.
#[derive(Debug)]
pub struct Verbs {
    /// Verb phrases (lowercase words) and their canonical verb, longest first.
    phrases: Vec<(Vec<String>, String)>,
    /// By a phrase's first byte: the places of the phrases starting with it, in order. A
    /// text can only start with the phrases of its own first byte's bucket.
    by_first_byte: Vec<Vec<usize>>,
}

impl Verbs {
    fn new(groups: &[Vec<String>]) -> Verbs {
        let mut phrases: Vec<(Vec<String>, String)> = Vec::new();
        for group in groups {
            let Some(canon) = group.first() else { continue };
            for v in group {
                let words = v.split_whitespace().map(str::to_ascii_lowercase).collect();
                phrases.push((words, canon.to_ascii_lowercase()));
            }
        }
        // Longer verb phrases first ("bring up" before "bring").
        phrases.sort_by_key(|(w, _)| {
            std::cmp::Reverse(w.iter().map(String::len).sum::<usize>() + w.len())
        });
        let mut by_first_byte = vec![Vec::new(); 256];
        for (i, (words, _)) in phrases.iter().enumerate() {
            if let Some(b) = words.first().and_then(|w| w.bytes().next()) {
                by_first_byte[usize::from(b)].push(i);
            }
        }
        Verbs {
            phrases,
            by_first_byte,
        }
    }

    /// The canonical verb of the phrase `text` starts with, and where that phrase ends.
    pub(crate) fn at_start(&self, text: &str) -> Option<(&str, usize)> {
        let first = text.bytes().next()?.to_ascii_lowercase();
        self.by_first_byte[usize::from(first)]
            .iter()
            .find_map(|&i| {
                let (words, canon) = &self.phrases[i];
                starts_with_words(text, words).map(|end| (canon.as_str(), end))
            })
    }
}

/// Where `words` (lowercase) end when `text` starts with them, separated by whitespace and
/// followed by a word boundary.
fn starts_with_words(text: &str, words: &[String]) -> Option<usize> {
    let b = text.as_bytes();
    let mut at = 0;
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            let gap = b[at..].iter().take_while(|c| is_space(**c)).count();
            if gap == 0 {
                return None;
            }
            at += gap;
        }
        let end = at + w.len();
        if end > b.len() || !b[at..end].eq_ignore_ascii_case(w.as_bytes()) {
            return None;
        }
        at = end;
    }
    (at > 0 && boundary(b, at)).then_some(at)
}

fn lower_set(v: &[String]) -> HashSet<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

/// A scope preposition opening a text, then `x` up to a comma or colon. `x` repeats its class
/// `count` times: `+` in the built regex, with the limit of 120 characters checked after the
/// match (`Vocab::scope_lead`), since a bounded Unicode class costs more to build than a
/// pre-commit run's other regexes together.
fn scope_lead_pattern(prepositions: &[String], count: &str) -> String {
    format!(
        "(?i)^(?:{})\\s+(?P<x>[^,:;.]{count})[,:]",
        alt(prepositions)
    )
}

/// The part of a phrase's first word that every match of its `phrase_pattern` holds verbatim
/// (up to an apostrophe, which may match a curly one).
fn first_word(phrase: &str) -> &str {
    let word = phrase.split_whitespace().next().unwrap_or("");
    word.split('\'').next().unwrap_or("")
}

/// `items` lowercased, longest first (a stable sort: equal lengths keep their order).
pub(super) fn longest_first(items: &[String]) -> Vec<String> {
    let mut items: Vec<String> = items.iter().map(|s| s.to_ascii_lowercase()).collect();
    items.sort_by_key(|s| std::cmp::Reverse(s.len()));
    items
}

/// An alternation of literal phrases, longest first so leftmost-first matching takes the
/// longest phrase ("markdown table" before "markdown").
fn alt(items: &[String]) -> String {
    longest_first(items)
        .iter()
        .map(|t| phrase_pattern(t))
        .collect::<Vec<_>>()
        .join("|")
}

impl Vocab {
    pub(crate) fn compile(data: &toml::Table) -> Result<Vocab, String> {
        let raw: RawData = toml::Value::Table(data.clone())
            .try_into()
            .map_err(|e| format!("[data]: {e}"))?;
        let modifiers =
            Arc::new(Choices::new(&raw.modifiers).map_err(|e| format!("modifiers: {e}"))?);
        let mut axes = Vec::new();
        let mut slots: Vec<Vec<String>> = Vec::new();
        // Every phrase list of the vocabulary is searched with one automaton.
        let mut book = PhraseBook::default();
        for a in &raw.axis {
            let frames = AxisFrames::new(a.frames.iter().map(|f| fold_pattern(f)));
            let mut values = Vec::new();
            for v in &a.value {
                // Built-in vocabulary: syntax is checked by the pack tests (`force`); lowercase
                // (tested), matched on the folded view.
                let framed = if v.terms.is_empty() || a.frames.is_empty() {
                    None
                } else {
                    let terms = Choices::few(&v.terms);
                    slots.push(terms.literals().to_vec());
                    let frames = Frames::new(frames.clone(), modifiers.clone(), terms);
                    Some((frames, slots.len() - 1))
                };
                if framed.is_none() && v.patterns.is_empty() {
                    return Err(format!(
                        "axis `{}` value `{}`: needs `terms` (with axis `frames`) or `patterns`",
                        a.rule, v.name
                    ));
                }
                let patterns = folded_patterns(&v.patterns, &mut slots);
                let negative = folded_patterns(&v.negative_patterns, &mut slots);
                values.push(Value {
                    name: v.name.clone(),
                    framed,
                    patterns,
                    negative,
                });
            }
            let index = |n: &str| {
                values
                    .iter()
                    .position(|v| v.name.eq_ignore_ascii_case(n))
                    .ok_or_else(|| {
                        format!("axis `{}`: `compatible` names unknown value `{n}`", a.rule)
                    })
            };
            let compatible = a
                .compatible
                .iter()
                .map(|[x, y]| Ok((index(x)?, index(y)?)))
                .collect::<Result<Vec<_>, String>>()?;
            axes.push(Axis {
                rule: a.rule.clone(),
                label: a.label.clone(),
                exclusive: a.exclusive,
                compatible,
                triggers: Phrases::in_book(&mut book, &a.triggers),
                values,
            });
        }
        let n = &raw.numeric;
        let mut unit_words: Vec<String> = Vec::new();
        let mut units = HashMap::new();
        for (canon, syns) in &n.units {
            for s in syns.iter().chain(std::iter::once(canon)) {
                units.insert(s.to_ascii_lowercase(), canon.clone());
                unit_words.push(s.clone());
            }
        }
        unit_words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let mut number_words: Vec<String> = n.numbers.keys().cloned().collect();
        number_words.sort_by_key(|w| std::cmp::Reverse(w.len()));
        let cmps: Vec<String> = [
            &n.at_most,
            &n.below,
            &n.at_least,
            &n.above,
            &n.exactly,
            &n.between,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        // Lowercase and case-sensitive: see `Numeric`.
        let lower = |words: &[String]| -> Vec<String> {
            words.iter().map(|w| w.to_ascii_lowercase()).collect()
        };
        let cmps = lower(&cmps);
        let num = format!("(?:[0-9]{{1,5}}|{})", alt(&lower(&number_words)));
        let numeric_re = format!(
            "(?-u:\\b)(?:(?P<cmp>{})\\s+)?(?P<n>{num})(?:\\s*(?:-|to|and|\u{2013})\\s*(?P<m>{num}))?(?:\\s+|-)(?:[a-z]+\\s+)?(?P<unit>{})(?-u:\\b)",
            alt(&cmps),
            alt(&lower(&unit_words))
        );
        // Built on first use, and only for a text holding one of the words every match holds:
        // a unit for the listed units, a comparator for any noun. Syntax: the pack tests.
        let numeric = Numeric {
            regex: KeyedRegex::new(numeric_re, unit_words.iter().map(|w| first_word(w)))
                .map_err(|e| format!("[data.numeric]: {e}"))?,
            generic: KeyedRegex::new(
                format!(
                    "(?-u:\\b)(?P<cmp>{})\\s+(?P<n>{num})\\s+(?P<unit>[a-z]{{3,20}})(?-u:\\b)",
                    alt(&cmps)
                ),
                cmps.iter().map(|w| first_word(w)),
            )
            .map_err(|e| format!("[data.numeric]: {e}"))?,
            units,
            numbers: n
                .numbers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), *v))
                .collect(),
            at_most: Phrases::in_book(&mut book, &n.at_most),
            below: Phrases::in_book(&mut book, &n.below),
            at_least: Phrases::in_book(&mut book, &n.at_least),
            above: Phrases::in_book(&mut book, &n.above),
            between: Phrases::in_book(&mut book, &n.between),
            bare_after: lower_set(&n.bare_after),
            short_max: n.short_max.clone(),
            long_min: n.long_min.clone(),
        };
        let verbs = Verbs::new(&raw.verb_groups);
        let scope_regex = LazyRegex::vocab(scope_lead_pattern(&raw.scope_prepositions, "+"));
        let mut clause_verbs = lower_set(&raw.imperative_verbs);
        clause_verbs.extend(
            [
                "always", "never", "don't", "do", "avoid", "please", "just", "simply", "you", "so",
                "instead",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        let vocab = Vocab {
            memo: ParseMemo::default(),
            imperative: lower_set(&raw.imperative_verbs),
            starters: lower_set(&raw.non_directive_starters),
            modal: Phrases::in_book(&mut book, &raw.modal_cues),
            non_model: Phrases::in_book(&mut book, &raw.non_model_subjects),
            lead_ins: Phrases::in_book(&mut book, &raw.lead_ins),
            negation: Phrases::in_book(&mut book, &raw.negation_cues),
            neutralizers: Phrases::in_book(&mut book, &raw.neutralizers),
            hedges: Phrases::in_book(&mut book, &raw.hedge_cues),
            permissive: Phrases::in_book(&mut book, &raw.permissive_cues),
            request_conditions: Phrases::in_book(&mut book, &raw.request_conditions),
            post_negation: Phrases::in_book(&mut book, &raw.post_negation_cues),
            flips: Phrases::in_book(&mut book, &raw.flip_cues),
            conditions: Phrases::in_book(&mut book, &raw.condition_cues),
            exceptions: Phrases::in_book(&mut book, &raw.exception_cues),
            global_conditions: Phrases::in_book(&mut book, &raw.global_conditions),
            scope_regex,
            passive: LazyRegex::vocab(
                r"(?i)^(?:the\s+|your\s+|our\s+|any\s+|all\s+)?(?P<obj>[a-z][a-z'\- ]{0,40}?)\s+(?:must|should|shall|will|may|can|is|are)\s+(?:always\s+|never\s+|not\s+|only\s+|ever\s+)*be\s+(?P<verb>[a-z]+(?:ed|en|wn|ne|t))(?-u:\b)".to_string(),
            ),
            global_targets: raw.global_targets.iter().map(|w| stem(w)).collect(),
            generic_words: raw.generic_section_words.iter().map(|w| stem(w)).collect(),
            scoping_section_words: raw.scoping_section_words.iter().map(|w| stem(w)).collect(),
            scope_words: [
                "when", "if", "for", "during", "while", "in", "on", "as", "with", "after",
                "before", "unless", "handling", "whenever", "once",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            speaker_labels: lower_set(&raw.speaker_labels),
            data_sections: raw
                .data_sections
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            part_nouns: Phrases::in_book(&mut book, &raw.part_nouns),
            stopwords: lower_set(&raw.stopwords),
            verbs,
            axes,
            gate: Gate::new(&slots)?,
            numeric,
            clause_verbs,
        };
        book.finish()?;
        Ok(vocab)
    }

    /// `t` as the axis values read it (see `ValueText`).
    pub(crate) fn value_text(&self, t: &str) -> ValueText {
        let folded = fold_shared(t);
        ValueText {
            gate: self.gate.scan(&folded.text),
            folds_onto_ascii: folds_onto_ascii(&folded.text),
            folded,
        }
    }

    /// What a text's opening scope preposition scopes ("In the summary, ..." -> "the
    /// summary"), at most 120 characters. The regex leaves `x` unbounded: `x` runs to the first
    /// of `,:;.`, and the prepositions that can open the same text are prefixes of each other,
    /// tried longest first, so a later one only makes `x` longer. When the preferred `x` is over
    /// the limit, every other one is too, as with `{1,120}` in the pattern.
    pub(crate) fn scope_lead<'t>(&self, t: &'t str) -> Option<&'t str> {
        let x = self.scope_regex.captures(t)?.name("x")?.as_str();
        (x.chars().count() <= 120).then_some(x)
    }

    /// Builds every regex the vocabulary builds lazily and reports a failure (for pack tests).
    pub(crate) fn force(&self) -> Result<(), String> {
        for (what, built) in [
            ("[data.numeric]", self.numeric.regex.force()),
            ("[data.numeric]", self.numeric.generic.force()),
            ("scope-prepositions", self.scope_regex.force()),
            ("passive regex", self.passive.force()),
        ] {
            built.map_err(|e| format!("{what}: {e}"))?;
        }
        self.axes
            .iter()
            .flat_map(|a| a.values.iter())
            .try_for_each(|v| v.force())
    }

    /// Whether a section title scopes its body: it names a part of the output ("Summary",
    /// "Email subject"), a situation or audience ("When the user is upset", "For beginners",
    /// "Escalations", "Internal staff"), unless it is made only of generic words. Topic
    /// headings ("Identity and purpose", "Style") do not scope: rules under them apply to the
    /// whole response.
    pub(crate) fn section_scopes(&self, title: &str) -> bool {
        if self.is_generic_title(title) {
            return false;
        }
        let t = title_words(title);
        let first = words(&t)
            .next()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        // "Committing changes", "Handling refunds": an activity or situation.
        let gerund = first.len() > 5 && first.ends_with("ing");
        self.scope_words.contains(&first)
            || gerund
            || self.part_nouns.is_match(&t)
            || words(&t).any(|(_, w)| self.scoping_section_words.contains(&stem(w)))
    }

    /// A line that reads like a plain-text sub-heading ("Academic Research", "Recent News"):
    /// short, capitalised, no punctuation, and not itself an instruction.
    pub(crate) fn is_heading_like(&self, line: &str) -> bool {
        let t = line.trim();
        let n = words(t).count();
        let first = words(t)
            .next()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        (1..=6).contains(&n)
            && t.chars().next().is_some_and(|c| c.is_uppercase())
            && !t.contains([':', '.', '!', '?', ';', ',', '"', '(', '`'])
            && !self.imperative.contains(&first)
            && !self.starters.contains(&first)
            && !self.modal.is_match(t)
            && !self.non_model.is_match(t)
    }

    /// A heading or tag title made only of generic words ("Output format", "Rules") does not
    /// scope its body.
    pub(crate) fn is_generic_title(&self, title: &str) -> bool {
        words(&title_words(title)).all(|(_, w)| {
            let w = stem(w);
            self.generic_words.contains(&w)
                || self.stopwords.contains(&w)
                || w.chars().all(|c| c.is_ascii_digit())
        })
    }
}

/// A heading or tag title with `_` and `-` read as spaces (`output_format`, `tool-use`), so
/// its parts are words; copied only when it holds either, as most titles do not.
fn title_words(title: &str) -> std::borrow::Cow<'_, str> {
    if title.bytes().any(|b| b == b'_' || b == b'-') {
        std::borrow::Cow::Owned(title.replace(['_', '-'], " "))
    } else {
        std::borrow::Cow::Borrowed(title)
    }
}

#[cfg(test)]
mod tests;
