//! `check = "contradiction"`: pairs of instructions in one prompt that cannot both be obeyed.
//!
//! Every rule of the `contradiction` pack names this check with its axis (`params.axis`):
//! `output-format`, `length`, `language`, ... (mutually exclusive choices read from the pack's
//! `[[data.axis]]` vocabularies), `numeric-limit` (limits on the same unit whose ranges do not
//! meet) and `polarity` (the same verb and object, once required and once forbidden). The pack
//! data compiles once into a shared `Vocab`; the analysis of a prompt (units, directives, all
//! conflicts) runs once per prompt and thread and is cached, so eleven rules cost one parse.
//!
//! Precision first: two directives are compared only when their scopes agree (same role
//! family, same specific section, same inline part, neither conditional unless the condition
//! is the axis's own trigger, e.g. "if the request is unclear" for clarifying questions), and a
//! later directive is reported once per rule, against the first earlier one it contradicts.
//! Text inside examples, code and quotes never reaches the parser (see `directive.rs`).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};

use regex::Regex;
use serde::Deserialize;

use super::directive::{
    self, phrase_pattern, stem, words, Action, Directive, Limit, Mention, Phrases, Unit,
};
use crate::kinds::{fill, Hit, RuleContext};
use crate::packs::Rule;
use crate::prompt::Prompt;
use crate::span::PromptSpan;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawParams {
    axis: String,
}

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
struct Value {
    name: String,
    regex: Regex,
    negative: Option<Regex>,
}

#[derive(Debug)]
struct Axis {
    rule: String,
    label: String,
    exclusive: bool,
    compatible: Vec<(usize, usize)>,
    triggers: Phrases,
    values: Vec<Value>,
}

#[derive(Debug)]
struct Numeric {
    regex: Regex,
    /// "at least four substitutions": any noun after an explicit comparator.
    generic: Regex,
    units: HashMap<String, String>,
    numbers: HashMap<String, u32>,
    at_most: Phrases,
    below: Phrases,
    at_least: Phrases,
    above: Phrases,
    between: Phrases,
    bare_after: HashSet<String>,
    short_max: HashMap<String, u32>,
    long_min: HashMap<String, u32>,
}

/// The pack's vocabulary, compiled once and shared by every rule of the pack.
#[derive(Debug)]
pub struct Vocab {
    imperative: HashSet<String>,
    starters: HashSet<String>,
    modal: Phrases,
    non_model: Phrases,
    lead_ins: Phrases,
    negation: Phrases,
    neutralizers: Phrases,
    hedges: Phrases,
    permissive: Phrases,
    request_conditions: Phrases,
    post_negation: Phrases,
    flips: Phrases,
    conditions: Phrases,
    exceptions: Phrases,
    global_conditions: Phrases,
    scope_lead: Regex,
    global_targets: HashSet<String>,
    generic_words: HashSet<String>,
    scoping_section_words: HashSet<String>,
    scope_words: HashSet<String>,
    data_sections: Vec<String>,
    part_nouns: Phrases,
    stopwords: HashSet<String>,
    verbs: Vec<(Regex, String)>,
    axes: Vec<Axis>,
    numeric: Numeric,
    clause_verbs: HashSet<String>,
}

fn lower_set(v: &[String]) -> HashSet<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

/// An alternation of literal phrases, longest first so leftmost-first matching takes the
/// longest phrase ("markdown table" before "markdown").
fn alt(items: &[String]) -> String {
    let mut items: Vec<&String> = items.iter().collect();
    items.sort_by_key(|s| std::cmp::Reverse(s.len()));
    items
        .iter()
        .map(|t| phrase_pattern(t))
        .collect::<Vec<_>>()
        .join("|")
}

impl Vocab {
    fn compile(data: &toml::Table) -> Result<Vocab, String> {
        let raw: RawData = toml::Value::Table(data.clone())
            .try_into()
            .map_err(|e| format!("[data]: {e}"))?;
        let modifiers = format!("(?:(?:{})\\s+){{0,3}}", alt(&raw.modifiers));
        let mut axes = Vec::new();
        for a in &raw.axis {
            let mut values = Vec::new();
            for v in &a.value {
                let mut branches: Vec<String> = Vec::new();
                if !v.terms.is_empty() {
                    let terms = format!("(?:{})", alt(&v.terms));
                    for f in &a.frames {
                        branches.push(format!(
                            "(?-u:\\b){}(?-u:\\b)",
                            f.replace("{m}", &modifiers).replace("{v}", &terms)
                        ));
                    }
                }
                branches.extend(v.patterns.iter().map(|p| format!("(?:{p})")));
                if branches.is_empty() {
                    return Err(format!(
                        "axis `{}` value `{}`: needs `terms` (with axis `frames`) or `patterns`",
                        a.rule, v.name
                    ));
                }
                let regex = Regex::new(&format!("(?i){}", branches.join("|"))).map_err(|e| {
                    format!("axis `{}` value `{}`: invalid regex: {e}", a.rule, v.name)
                })?;
                let negative = if v.negative_patterns.is_empty() {
                    None
                } else {
                    let alt = v
                        .negative_patterns
                        .iter()
                        .map(|p| format!("(?:{p})"))
                        .collect::<Vec<_>>()
                        .join("|");
                    Some(Regex::new(&format!("(?i){alt}")).map_err(|e| {
                        format!(
                            "axis `{}` value `{}`: invalid negative pattern: {e}",
                            a.rule, v.name
                        )
                    })?)
                };
                values.push(Value {
                    name: v.name.clone(),
                    regex,
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
                triggers: Phrases::new(&a.triggers)?,
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
        let num = format!("(?:[0-9]{{1,5}}|{})", alt(&number_words));
        let numeric_re = format!(
            "(?i)(?-u:\\b)(?:(?P<cmp>{})\\s+)?(?P<n>{num})(?:\\s*(?:-|to|and|\u{2013})\\s*(?P<m>{num}))?(?:\\s+|-)(?:[a-z]+\\s+)?(?P<unit>{})(?-u:\\b)",
            alt(&cmps),
            alt(&unit_words)
        );
        let numeric = Numeric {
            regex: Regex::new(&numeric_re).map_err(|e| format!("[data.numeric]: {e}"))?,
            generic: Regex::new(&format!(
                "(?i)(?-u:\\b)(?P<cmp>{})\\s+(?P<n>{num})\\s+(?P<unit>[a-z]{{3,20}})(?-u:\\b)",
                alt(&cmps)
            ))
            .map_err(|e| format!("[data.numeric]: {e}"))?,
            units,
            numbers: n
                .numbers
                .iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), *v))
                .collect(),
            at_most: Phrases::new(&n.at_most)?,
            below: Phrases::new(&n.below)?,
            at_least: Phrases::new(&n.at_least)?,
            above: Phrases::new(&n.above)?,
            between: Phrases::new(&n.between)?,
            bare_after: lower_set(&n.bare_after),
            short_max: n.short_max.clone(),
            long_min: n.long_min.clone(),
        };
        let mut verbs = Vec::new();
        for group in &raw.verb_groups {
            let Some(canon) = group.first() else { continue };
            for v in group {
                let re = Regex::new(&format!("(?i)^(?:{})(?-u:\\b)", phrase_pattern(v)))
                    .map_err(|e| format!("verb-groups: {e}"))?;
                verbs.push((re, canon.to_ascii_lowercase()));
            }
        }
        // Longer verb phrases first ("bring up" before "bring").
        verbs.sort_by_key(|(re, _)| std::cmp::Reverse(re.as_str().len()));
        let scope_lead = Regex::new(&format!(
            "(?i)^(?:{})\\s+(?P<x>[^,:;.]{{1,120}})[,:]",
            alt(&raw.scope_prepositions)
        ))
        .map_err(|e| format!("scope-prepositions: {e}"))?;
        let mut clause_verbs = lower_set(&raw.imperative_verbs);
        clause_verbs.extend(
            [
                "always", "never", "don't", "do", "avoid", "please", "just", "simply", "you",
                "instead",
            ]
            .iter()
            .map(|s| s.to_string()),
        );
        Ok(Vocab {
            imperative: lower_set(&raw.imperative_verbs),
            starters: lower_set(&raw.non_directive_starters),
            modal: Phrases::new(&raw.modal_cues)?,
            non_model: Phrases::new(&raw.non_model_subjects)?,
            lead_ins: Phrases::new(&raw.lead_ins)?,
            negation: Phrases::new(&raw.negation_cues)?,
            neutralizers: Phrases::new(&raw.neutralizers)?,
            hedges: Phrases::new(&raw.hedge_cues)?,
            permissive: Phrases::new(&raw.permissive_cues)?,
            request_conditions: Phrases::new(&raw.request_conditions)?,
            post_negation: Phrases::new(&raw.post_negation_cues)?,
            flips: Phrases::new(&raw.flip_cues)?,
            conditions: Phrases::new(&raw.condition_cues)?,
            exceptions: Phrases::new(&raw.exception_cues)?,
            global_conditions: Phrases::new(&raw.global_conditions)?,
            scope_lead,
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
            data_sections: raw
                .data_sections
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            part_nouns: Phrases::new(&raw.part_nouns)?,
            stopwords: lower_set(&raw.stopwords),
            verbs,
            axes,
            numeric,
            clause_verbs,
        })
    }

    /// Whether a section title scopes its body: it names a part of the output ("Summary",
    /// "Email subject"), a situation or audience ("When the user is upset", "For beginners",
    /// "Escalations", "Internal staff"), unless it is made only of generic words. Topic
    /// headings ("Identity and purpose", "Style") do not scope: rules under them apply to the
    /// whole response.
    fn section_scopes(&self, title: &str) -> bool {
        if self.is_generic_title(title) {
            return false;
        }
        let t = title.replace(['_', '-'], " ");
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

    /// A heading or tag title made only of generic words ("Output format", "Rules") does not
    /// scope its body.
    fn is_generic_title(&self, title: &str) -> bool {
        let t = title.replace(['_', '-'], " ");
        let generic = words(&t).all(|(_, w)| {
            let w = stem(w);
            self.generic_words.contains(&w)
                || self.stopwords.contains(&w)
                || w.chars().all(|c| c.is_ascii_digit())
        });
        generic
    }

    /// Clause boundaries of a unit: `;`, "but", "however", and ", and"/"and"/"," before a new
    /// imperative ("Be brief, use bullets").
    fn clauses(&self, t: &str) -> Vec<(usize, usize)> {
        let mut cuts = vec![0];
        let ws: Vec<(usize, &str)> = words(t).collect();
        for (i, (at, w)) in ws.iter().enumerate() {
            let lw = w.to_ascii_lowercase();
            let before = t[..*at].trim_end();
            if matches!(
                lw.as_str(),
                "but" | "however" | "instead" | "whereas" | "while" | "though" | "although"
            ) || before.ends_with(';')
                || before.ends_with(':')
            {
                cuts.push(*at);
            } else if (lw == "and" || lw == "then" || before.ends_with(',')) && i + 1 < ws.len() {
                let next = if lw == "and" || lw == "then" {
                    ws[i + 1].1
                } else {
                    w
                };
                if self.clause_verbs.contains(&next.to_ascii_lowercase()) {
                    cuts.push(*at);
                }
            }
        }
        // Dashes and parentheses set off a new clause ("NEVER use X - use Y instead").
        for sep in [" - ", " \u{2014} ", " \u{2013} ", "\u{2014}", " ("] {
            cuts.extend(t.match_indices(sep).map(|(i, _)| i));
        }
        cuts.push(t.len());
        cuts.sort_unstable();
        cuts.dedup();
        cuts.windows(2).map(|w| (w[0], w[1])).collect()
    }

    fn clause_of(clauses: &[(usize, usize)], at: usize) -> (usize, usize) {
        clauses
            .iter()
            .copied()
            .find(|(a, b)| *a <= at && at < *b)
            .unwrap_or((0, 0))
    }

    /// Negations in `t[a..b]` not cancelled by a neutraliser ("no more than", "not only").
    fn negations(&self, t: &str, a: usize, b: usize) -> usize {
        let seg = &t[a..b];
        let neutral: Vec<(usize, usize)> = self
            .neutralizers
            .find_iter(seg)
            .map(|m| (m.start(), m.end()))
            .collect();
        let neg = self
            .negation
            .find_iter(seg)
            .filter(|m| {
                !neutral
                    .iter()
                    .any(|(s, e)| *s <= m.start() && m.start() < *e)
            })
            .count();
        neg + self.flips.find_iter(seg).count()
    }

    /// Whether the mention at `m_start..m_end` is negated within its clause.
    fn negated(&self, t: &str, clauses: &[(usize, usize)], m_start: usize, m_end: usize) -> bool {
        let (a, b) = Self::clause_of(clauses, m_start);
        let m_end = m_end.min(b).max(a);
        // Passive negations ("are not allowed") may sit inside the match or after it; plain
        // ones ("never", "no code") before it or inside it. A cue counts once.
        let post: Vec<(usize, usize)> = self
            .post_negation
            .find_iter(&t[a..b])
            .map(|m| (a + m.start(), a + m.end()))
            .filter(|(s, _)| *s >= m_start)
            .collect();
        let seg = &t[a..m_end];
        let neutral: Vec<(usize, usize)> = self
            .neutralizers
            .find_iter(seg)
            .map(|m| (a + m.start(), a + m.end()))
            .collect();
        let pre = self
            .negation
            .find_iter(seg)
            .map(|m| (a + m.start(), a + m.end()))
            .filter(|(s, e)| {
                !neutral.iter().any(|(ns, ne)| ns <= s && s < ne)
                    && !post.iter().any(|(ps, pe)| s < pe && ps < e)
            })
            .count()
            + self.flips.find_iter(seg).count();
        // A bounded quantity ("never more than one emoji") permits the thing.
        let clause = t[a..b].to_ascii_lowercase();
        let bounded = self.numeric.regex.is_match(&t[a..b])
            || ["more than", "fewer than", "less than"]
                .iter()
                .any(|p| clause.contains(p));
        !bounded && (pre + post.len()) % 2 == 1
    }

    /// A unit that starts like an imperative we do not know ("Crack jokes ...") and mentions
    /// an axis value: a directive unless its first word is a determiner, pronoun or a past or
    /// progressive form ("Our old bot used slang", "Using emoji is fun").
    fn loose_directive(&self, t: &str) -> bool {
        let trimmed = t.trim_start();
        if trimmed.ends_with('?') || self.non_model.find(trimmed).is_some_and(|m| m.start() == 0) {
            return false;
        }
        let Some((_, first)) = words(trimmed).next() else {
            return false;
        };
        let first = first.to_ascii_lowercase();
        // "Dia displays videos using XML": a description of the model in the third person.
        let second = words(trimmed)
            .nth(1)
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        let third_person = matches!(
            second.as_str(),
            "displays"
                | "uses"
                | "can"
                | "has"
                | "is"
                | "provides"
                | "supports"
                | "creates"
                | "generates"
                | "renders"
                | "shows"
                | "offers"
                | "helps"
                | "answers"
                | "responds"
                | "writes"
                | "replies"
                | "includes"
                | "follows"
                | "knows"
                | "cannot"
                | "will"
                | "does"
                | "may"
                | "might"
                | "tends"
                | "likes"
                | "prefers"
                | "was"
        );
        if self.starters.contains(&first)
            || first.ends_with("ed")
            || first.ends_with("ing")
            || first.ends_with('s')
            || third_person
        {
            return false;
        }
        self.axes
            .iter()
            .any(|a| a.values.iter().any(|v| v.regex.is_match(t)))
    }

    fn is_directive(&self, t: &str) -> bool {
        let trimmed = t.trim_start();
        if trimmed.ends_with('?') {
            return false;
        }
        if self.non_model.find(trimmed).is_some_and(|m| m.start() == 0) {
            return false;
        }
        // "If the request is unclear, ask ..." is a directive after its condition clause.
        let main = match self.conditions.find(trimmed) {
            Some(m) if m.start() == 0 => trimmed
                .find(',')
                .map(|i| &trimmed[i + 1..])
                .unwrap_or(trimmed),
            _ => trimmed,
        };
        let first = words(main)
            .next()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        // "A comprehensive answer is expected every time: be comprehensive."
        let after_colon = trimmed
            .split_once(": ")
            .and_then(|(_, r)| words(r).next())
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        self.imperative.contains(&first)
            || self
                .verbs
                .iter()
                .any(|(re, _)| re.is_match(main.trim_start()))
            || self.imperative.contains(&after_colon)
            || self.modal.is_match(trimmed)
    }

    /// Parses one unit into a directive, or `None` when it is not one or says nothing the rules
    /// compare.
    fn parse(&self, u: &Unit, text: &str) -> Option<Directive> {
        let t = u.masked.as_str();
        let trimmed = t.trim();
        // A lead-in ("Use artifacts for:") introduces a list; JSON, tables and code-like lines
        // are data.
        let alpha = trimmed
            .chars()
            .filter(|c| c.is_alphabetic() || c.is_whitespace())
            .count();
        if trimmed.ends_with(':')
            || trimmed.starts_with(['{', '[', '"', '|', '/', '$', '=', '<'])
            || alpha * 10 < trimmed.chars().count() * 7
        {
            return None;
        }
        if !self.is_directive(t) && !self.loose_directive(t) {
            return None;
        }
        let clauses = self.clauses(t);
        // A list under "Don't:" / "Avoid:" / "Never:" inherits the negation.
        let lead_negates = u.lead.as_deref().is_some_and(|l| {
            let l = directive::mask(l);
            words(&l).count() <= 6
                && self.negation.is_match(&l)
                && self.action(&l, &self.clauses(&l)).is_none()
        });
        // Conditions: inherited from a lead-in line, or in the unit itself.
        let mut condition = None;
        let mut exception = false;
        let mut lead_part = None;
        if let Some(lead) = &u.lead {
            let lead_masked = directive::mask(lead);
            if let Some(m) = self.conditions.find(&lead_masked) {
                let c = lead_masked[m.start()..].to_string();
                if !self.global_conditions.is_match(&c) {
                    exception = self.exceptions.is_match(&c);
                    condition = Some(c);
                }
            } else if let Some(p) = self.scope_part(&format!("{lead_masked}:")) {
                lead_part = Some(p);
            } else if let Some(p) = self.part_noun(&lead_masked, &[]) {
                lead_part = Some(p);
            }
        }
        for m in self.conditions.find_iter(t) {
            let (_, end) = Self::clause_of(&clauses, m.start());
            let end = if m.start() < 3 {
                t[m.start()..]
                    .find(',')
                    .map(|i| m.start() + i)
                    .unwrap_or(end)
            } else {
                t.len()
            };
            let c = &t[m.start()..end.max(m.start())];
            if self.global_conditions.is_match(c) {
                continue;
            }
            exception |= self.exceptions.is_match(&t[m.start()..m.end()]);
            condition = Some(c.to_string());
            break;
        }
        // Mentions of axis values.
        let mut mentions = Vec::new();
        let mut claimed: Vec<(usize, usize)> = Vec::new();
        for (ai, axis) in self.axes.iter().enumerate() {
            for (vi, v) in axis.values.iter().enumerate() {
                for m in v.regex.find_iter(t) {
                    claimed.push((m.start(), m.end()));
                    if self.hedged(t, &clauses, m.start()) || self.after_preposition(t, m.start()) {
                        continue;
                    }
                    let positive = !self.negated(t, &clauses, m.start(), m.end());
                    let qualifier = self.qualifier(t, &clauses, m.end());
                    let scoped = self.scoped_after(t, &clauses, m.end())
                        || (axis.rule == "output-format"
                            && (self.object_scoped(m.as_str()) || self.modifies_noun(t, m.end())));
                    push_mention(
                        &mut mentions,
                        Mention {
                            axis: ai,
                            value: vi,
                            positive,
                            numeric: false,
                            qualifier,
                            scoped,
                        },
                    );
                }
                if let Some(neg) = &v.negative {
                    for m in neg.find_iter(t) {
                        claimed.push((m.start(), m.end()));
                        if self.hedged(t, &clauses, m.start()) {
                            continue;
                        }
                        // The pattern carries its own negation ("without asking"); only a
                        // negation before it flips it back.
                        let positive = self.negated(t, &clauses, m.start(), m.start());
                        // "Pretend to be a human agent named Sam": the rest describes the pretence.
                        push_mention(
                            &mut mentions,
                            Mention {
                                axis: ai,
                                value: vi,
                                positive,
                                numeric: false,
                                qualifier: Vec::new(),
                                scoped: false,
                            },
                        );
                    }
                }
            }
        }
        let limits = self.limits(t, &clauses, &mut claimed);
        let limit_target = if limits.is_empty() {
            Vec::new()
        } else {
            self.limit_target(t, &claimed)
        };
        for l in &limits {
            self.length_from_limit(l, &mut mentions);
        }
        let inline_part = self
            .label_part(t)
            .or_else(|| self.scope_part(t))
            .or_else(|| self.subject_part(t, &claimed))
            .or_else(|| self.part_noun(t, &claimed));
        if lead_negates {
            for m in &mut mentions {
                m.positive = !m.positive;
            }
        }
        let action = self.action(t, &clauses).map(|mut a| {
            if lead_negates {
                a.positive = !a.positive;
            }
            a
        });
        if mentions.is_empty() && limits.is_empty() && action.is_none() {
            return None;
        }
        let part = [u.section.clone(), lead_part, inline_part]
            .into_iter()
            .map(|p| p.unwrap_or_default())
            .collect::<Vec<_>>()
            .join("|");
        Some(Directive {
            span: u.span,
            text: text[u.span.start..u.span.end].to_string(),
            part,
            request_condition: condition
                .as_deref()
                .is_some_and(|c| self.request_conditions.is_match(c)),
            permissive: self.permissive.is_match(t),
            condition,
            exception,
            mentions,
            limits,
            limit_target,
            action,
        })
    }

    /// What a numeric limit applies to: the unit's content words outside the limit and value
    /// spans, minus its verb, stopwords and response nouns ("Summarize *the battle* in 50 words").
    fn limit_target(&self, t: &str, claimed: &[(usize, usize)]) -> Vec<String> {
        let mut out: Vec<String> = words(t)
            .skip(1)
            .filter(|(at, _)| !claimed.iter().any(|(a, b)| a <= at && at < b))
            .map(|(_, w)| stem(&w.to_ascii_lowercase()))
            .filter(|w| {
                !self.stopwords.contains(w)
                    && !self.global_targets.contains(w)
                    && !self.imperative.contains(w)
                    && !self.numeric.units.contains_key(w)
                    && !self.modal.is_match(w)
                    && !w.chars().all(|c| c.is_ascii_digit())
                    && !matches!(
                        w.as_str(),
                        "keep"
                            | "less"
                            | "fewer"
                            | "more"
                            | "long"
                            | "short"
                            | "total"
                            | "length"
                            | "maximum"
                            | "minimum"
                            | "limit"
                            | "limited"
                            | "contain"
                            | "consist"
                            | "span"
                            | "run"
                            | "have"
                            | "ha"
                            | "exceed"
                            | "least"
                            | "most"
                            | "exactly"
                    )
            })
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// "Do not ask for more information than necessary", "not every output has to include
    /// code": a hedge limits or relaxes the mention instead of requiring or forbidding it.
    fn hedged(&self, t: &str, clauses: &[(usize, usize)], at: usize) -> bool {
        let (a, b) = Self::clause_of(clauses, at);
        self.hedges.is_match(&t[a..b])
    }

    /// "Use ## for sections in long answers": a value after a preposition names a situation.
    fn after_preposition(&self, t: &str, at: usize) -> bool {
        let prev = words(&t[..at])
            .last()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        matches!(
            prev.as_str(),
            "in" | "for"
                | "of"
                | "on"
                | "during"
                | "within"
                | "about"
                | "under"
                | "like"
                | "than"
                | "into"
        )
    }

    /// "Markdown *code fences*", "JSON *field*": the format word modifies another noun.
    fn modifies_noun(&self, t: &str, end: usize) -> bool {
        let Some((at, next)) = words(&t[end..]).next() else {
            return false;
        };
        if !t[end..end + at].trim().is_empty() {
            return false;
        }
        let n = stem(&next.to_ascii_lowercase());
        next.chars().all(|c| c.is_ascii_alphabetic())
            && !self.stopwords.contains(&n)
            && !self.global_targets.contains(&n)
            && !matches!(
                n.as_str(),
                "format"
                    | "formatting"
                    | "syntax"
                    | "markup"
                    | "only"
                    | "and"
                    | "or"
                    | "with"
                    | "when"
                    | "if"
                    | "unless"
                    | "instead"
                    | "whenever"
                    | "exclusively"
                    | "throughout"
                    | "everywhere"
                    | "without"
                    | "but"
                    | "so"
                    | "style"
                    | "form"
                    | "structure"
                    | "object"
                    | "document"
                    | "mode"
                    | "block"
                    | "code"
                    | "paragraph"
                    | "sentence"
                    | "text"
                    | "layout"
                    | "list"
                    | "array"
                    | "tag"
                    | "file"
                    | "string"
                    | "element"
                    | "markdown"
                    | "json"
                    | "table"
                    | "prose"
                    | "bullet"
                    | "point"
            )
            && !self.imperative.contains(&n)
    }

    /// "Present *comparative data* in tables": a format for one object, not the response.
    fn object_scoped(&self, matched: &str) -> bool {
        let ws: Vec<String> = words(matched)
            .map(|(_, w)| w.to_ascii_lowercase())
            .collect();
        let Some(prep) = ws
            .iter()
            .position(|w| matches!(w.as_str(), "in" | "as" | "using" | "with" | "into"))
        else {
            return false;
        };
        if prep < 2 || !self.imperative.contains(&ws[0]) {
            return false;
        }
        ws[1..prep].iter().any(|w| {
            let s = stem(w);
            !self.stopwords.contains(w)
                && !self.stopwords.contains(&s)
                && !self.global_targets.contains(&s)
                && !matches!(
                    s.as_str(),
                    "everything"
                        | "all"
                        | "it"
                        | "them"
                        | "always"
                        | "only"
                        | "strictly"
                        | "entire"
                        | "whole"
                        | "final"
                        | "complete"
                        | "full"
                        | "result"
                        | "finding"
                        | "answer"
                        | "work"
                )
        })
    }

    /// Whether a scoping phrase ("for academic queries", "in the summary") follows a mention.
    fn scoped_after(&self, t: &str, clauses: &[(usize, usize)], from: usize) -> bool {
        let (_, end) = Self::clause_of(clauses, from.saturating_sub(1));
        let rest = &t[from.min(end)..end];
        let mut ws = words(rest).map(|(_, w)| w.to_ascii_lowercase());
        // Only a preposition right after the mention scopes it ("long answers for research
        // queries"); "short and to the point" or a purpose ("to keep it light") does not.
        match ws.next().as_deref() {
            Some(
                "for" | "in" | "during" | "on" | "within" | "inside" | "when" | "whenever"
                | "while",
            ) => ws
                .map(|w| stem(&w))
                .any(|w| !self.stopwords.contains(&w) && !self.global_targets.contains(&w)),
            _ => false,
        }
    }

    /// "**Code outputs:** ..." / "Sensitive topics: ..." names a part, unless the label is
    /// generic ("IMPORTANT:", "Format:") or is itself a directive ("Be concise: ...").
    fn label_part(&self, t: &str) -> Option<String> {
        let trimmed = t.trim_start();
        let colon = trimmed.find(':')?;
        let label = trimmed[..colon].trim();
        if colon > 60
            || label.is_empty()
            || words(label).count() > 6
            || trimmed[colon + 1..].trim().is_empty()
        {
            return None;
        }
        let first = words(label)
            .next()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        // An identifier label ("create_summary:") names an item, whatever its first word.
        let identifier = label.contains('_') && !label.contains(' ');
        if !identifier
            && (self.imperative.contains(&first)
                || self.is_generic_title(label)
                || self.modal.is_match(label))
        {
            return None;
        }
        Some(
            words(label)
                .map(|(_, w)| stem(w))
                .collect::<Vec<_>>()
                .join(" "),
        )
    }

    /// Content words after a mention, to the end of its clause, up to a condition or purpose.
    fn qualifier(&self, t: &str, clauses: &[(usize, usize)], from: usize) -> Vec<String> {
        let (_, end) = Self::clause_of(clauses, from.saturating_sub(1));
        let mut out = Vec::new();
        for (_, w) in words(&t[from.min(end)..end]) {
            let lw = w.to_ascii_lowercase();
            // "links or URLs": a coordinated value, not a restriction; a condition or purpose
            // ends the qualifier.
            if matches!(lw.as_str(), "and" | "or" | "nor") && out.is_empty() {
                break;
            }
            if matches!(
                lw.as_str(),
                "if" | "when" | "unless" | "because" | "since" | "so" | "to" | "and" | "or"
            ) && !out.is_empty()
            {
                break;
            }
            let s = stem(&lw);
            if lw == "to"
                || self.stopwords.contains(&lw)
                || self.stopwords.contains(&s)
                || self.global_targets.contains(&s)
            {
                continue;
            }
            out.push(s);
        }
        out
    }

    /// "In the summary, ..." / "For beginners: ..." names a part unless it is the whole
    /// response ("In your answers, ...").
    fn scope_part(&self, t: &str) -> Option<String> {
        let c = self.scope_lead.captures(t.trim_start())?;
        let x = c.name("x")?.as_str();
        let content: Vec<String> = words(x)
            .map(|(_, w)| stem(w))
            .filter(|w| !self.stopwords.contains(w))
            .collect();
        if content.is_empty() || content.iter().all(|w| self.global_targets.contains(w)) {
            return None;
        }
        Some(content.join(" "))
    }

    /// The subject of a passive or modal directive when it names something other than the
    /// response ("Every artifact should be comprehensive", "UI edits should be thorough").
    fn subject_part(&self, t: &str, claimed: &[(usize, usize)]) -> Option<String> {
        let ws: Vec<(usize, &str)> = words(t).take(6).collect();
        let modal = ws.iter().position(|(_, w)| {
            matches!(
                w.to_ascii_lowercase().as_str(),
                "should"
                    | "must"
                    | "shall"
                    | "will"
                    | "need"
                    | "needs"
                    | "has"
                    | "have"
                    | "are"
                    | "is"
            )
        })?;
        if modal == 0 {
            return None;
        }
        let (at, head) = ws[modal - 1];
        let head = stem(&head.to_ascii_lowercase());
        let first = ws[0].1.to_ascii_lowercase();
        if self.scope_words.contains(&first)
            || self
                .conditions
                .find(t.trim_start())
                .is_some_and(|m| m.start() == 0)
        {
            return None;
        }
        if claimed.iter().any(|(a, b)| *a <= at && at < *b)
            || self.global_targets.contains(&head)
            || self.stopwords.contains(&head)
            || matches!(
                first.as_str(),
                "you" | "your" | "it" | "this" | "that" | "i" | "we"
            )
            || self.imperative.contains(&first)
        {
            return None;
        }
        Some(head)
    }

    /// A part noun ("summary", "title", "each bullet") outside the claimed value spans.
    fn part_noun(&self, t: &str, claimed: &[(usize, usize)]) -> Option<String> {
        self.part_nouns
            .find_iter(t)
            // A noun right after a value ("prose paragraphs", "Markdown headings") belongs to it.
            .find(|m| {
                !claimed.iter().any(|(a, b)| {
                    m.start() < *b && *a < m.end()
                        || (*b <= m.start() && t[*b..m.start()].trim().is_empty())
                })
            })
            .map(|m| stem(m.as_str().split_whitespace().last().unwrap_or("")))
    }

    fn number(&self, s: &str) -> Option<u32> {
        s.parse()
            .ok()
            .or_else(|| self.numeric.numbers.get(&s.to_ascii_lowercase()).copied())
    }

    fn limits(
        &self,
        t: &str,
        clauses: &[(usize, usize)],
        claimed: &mut Vec<(usize, usize)>,
    ) -> Vec<Limit> {
        let n = &self.numeric;
        let mut out = Vec::new();
        let listed: Vec<(usize, usize)> =
            n.regex.find_iter(t).map(|m| (m.start(), m.end())).collect();
        let generic = n.generic.captures_iter(t).filter(|c| {
            c.get(0)
                .is_some_and(|m| !listed.iter().any(|(a, b)| m.start() < *b && *a < m.end()))
        });
        for c in n.regex.captures_iter(t).chain(generic) {
            let (Some(all), Some(num), Some(unit)) = (c.get(0), c.name("n"), c.name("unit")) else {
                continue;
            };
            let Some(v) = self.number(num.as_str()) else {
                continue;
            };
            // Listed units ("words", "bullet points") always count; any other noun only after
            // an explicit comparator ("at least four substitutions").
            let canon = match n.units.get(&unit.as_str().to_ascii_lowercase()) {
                Some(c) => c.clone(),
                None if c.name("cmp").is_some()
                    && !self.stopwords.contains(&unit.as_str().to_ascii_lowercase()) =>
                {
                    stem(unit.as_str())
                }
                None => continue,
            };
            let canon = &canon;
            let second = c.name("m").and_then(|m| self.number(m.as_str()));
            let (mut lo, mut hi) = match c.name("cmp").map(|m| m.as_str()) {
                Some(cmp) if n.at_most.is_full(cmp) => (0, v),
                Some(cmp) if n.below.is_full(cmp) => (0, v.saturating_sub(1)),
                Some(cmp) if n.at_least.is_full(cmp) => (v, u32::MAX),
                Some(cmp) if n.above.is_full(cmp) => (v.saturating_add(1), u32::MAX),
                Some(cmp) if n.between.is_full(cmp) => match second {
                    Some(m) => (v.min(m), v.max(m)),
                    None => continue,
                },
                Some(_) => (v, v),
                None => {
                    if let Some(m) = second {
                        (v.min(m), v.max(m))
                    } else {
                        // A bare count only after a verb that asks for it ("use 5 bullets").
                        let prev = words(&t[..all.start()])
                            .last()
                            .map(|(_, w)| w.to_ascii_lowercase())
                            .unwrap_or_default();
                        if !n.bare_after.contains(&prev) {
                            continue;
                        }
                        (v, v)
                    }
                }
            };
            // "Do not write more than 100 words" = at most 100.
            let (a, _) = Self::clause_of(clauses, all.start());
            if self.negations(t, a, all.start()) % 2 == 1 {
                (lo, hi) = match (lo, hi) {
                    (0, h) if h != u32::MAX => (h.saturating_add(1), u32::MAX),
                    (l, u32::MAX) => (0, l.saturating_sub(1)),
                    _ => continue,
                };
            }
            claimed.push((all.start(), all.end()));
            // "20 words each", "per bullet": a limit on every item, not on the whole.
            let next = words(&t[all.end()..])
                .next()
                .map(|(_, w)| w.to_ascii_lowercase())
                .unwrap_or_default();
            let after_next = words(&t[all.end()..])
                .nth(1)
                .map(|(_, w)| stem(&w.to_ascii_lowercase()))
                .unwrap_or_default();
            let per_item = matches!(next.as_str(), "each" | "apiece")
                || (matches!(next.as_str(), "per" | "every")
                    && !self.global_targets.contains(&after_next));
            out.push(Limit {
                unit: if per_item {
                    format!("{canon} per item")
                } else {
                    canon.clone()
                },
                lo,
                hi,
                text: all.as_str().to_string(),
            });
        }
        out
    }

    /// Numeric limits that imply a length: "under 30 words" is short, "at least 300" long.
    fn length_from_limit(&self, l: &Limit, mentions: &mut Vec<Mention>) {
        let Some(ai) = self.axes.iter().position(|a| a.rule == "length") else {
            return;
        };
        let value = |name: &str| self.axes[ai].values.iter().position(|v| v.name == name);
        if self
            .numeric
            .short_max
            .get(&l.unit)
            .is_some_and(|m| l.hi <= *m)
        {
            if let Some(vi) = value("short") {
                push_mention(
                    mentions,
                    Mention {
                        axis: ai,
                        value: vi,
                        positive: true,
                        numeric: true,
                        qualifier: Vec::new(),
                        scoped: false,
                    },
                );
            }
        }
        if self
            .numeric
            .long_min
            .get(&l.unit)
            .is_some_and(|m| l.lo >= *m)
        {
            if let Some(vi) = value("long") {
                push_mention(
                    mentions,
                    Mention {
                        axis: ai,
                        value: vi,
                        positive: true,
                        numeric: true,
                        qualifier: Vec::new(),
                        scoped: false,
                    },
                );
            }
        }
    }

    /// The directive's verb and object: lead-ins ("Please always", "You must never") are
    /// stripped and counted for polarity, double negatives ("never fail to") flip it.
    fn action(&self, t: &str, clauses: &[(usize, usize)]) -> Option<Action> {
        let (_, first_end) = clauses.first().copied()?;
        if self.hedges.is_match(&t[..first_end]) {
            // "Use emoji rarely", "do not ask more than necessary": a degree, not a rule.
            return None;
        }
        let mut rest = &t[..first_end];
        let mut negs = 0;
        let mut stripped = false;
        loop {
            let trimmed =
                rest.trim_start_matches(|c: char| c.is_whitespace() || c == ',' || c == ':');
            if let Some(m) = self.lead_ins.find(trimmed).filter(|m| m.start() == 0) {
                if m.as_str().eq_ignore_ascii_case("only") {
                    // "Only use X to ..." restricts the means; it does not require X.
                    return None;
                }
                negs += self.negations(trimmed, 0, m.end());
                stripped = true;
                rest = &trimmed[m.end()..];
                continue;
            }
            if let Some(m) = self.flips.find(trimmed).filter(|m| m.start() == 0) {
                negs += 1;
                rest = trimmed[m.end()..].trim_start();
                rest = rest.strip_prefix("to ").unwrap_or(rest);
                continue;
            }
            rest = trimmed;
            break;
        }
        let mut known = self
            .verbs
            .iter()
            .find_map(|(re, canon)| re.find(rest).map(|m| (canon.clone(), &rest[m.end()..])));
        // "Avoid using X", "refrain from asking": the gerund's base form is the verb.
        if known.is_none() && stripped {
            if let Some((at, first)) = words(rest)
                .next()
                .filter(|(_, w)| w.len() >= 5 && w.to_ascii_lowercase().ends_with("ing"))
            {
                let base = first[..first.len() - 3].to_ascii_lowercase();
                let after = &rest[at + first.len()..];
                known = [base.clone(), format!("{base}e")].iter().find_map(|b| {
                    self.verbs
                        .iter()
                        .find(|(re, _)| re.is_match(b))
                        .map(|(_, canon)| (canon.clone(), after))
                });
            }
        }
        // A verb outside the synonym groups still counts after an explicit lead-in ("Always
        // remind ...", "Never remind ..."): it is its own canonical form.
        let (verb, after) = match known {
            Some(k) => k,
            None if stripped => {
                let (at, first) = words(rest).next()?;
                let lw = first.to_ascii_lowercase();
                let plausible = lw.len() >= 3
                    && lw.chars().all(|c| c.is_ascii_alphabetic())
                    && !self.starters.contains(&lw)
                    && !lw.ends_with("ing")
                    && !lw.ends_with("ed")
                    && !self.stopwords.contains(&lw);
                if !plausible {
                    return None;
                }
                (lw, &rest[at + first.len()..])
            }
            None => return None,
        };
        if words(after)
            .next()
            .is_some_and(|(_, w)| w.eq_ignore_ascii_case("only"))
        {
            // "Use ONLY Tailwind classes": a restriction of means, not a requirement.
            return None;
        }
        // Object alternatives split on "or" / "and" ("refunds or discounts"); after a
        // preposition or purpose ("the shell to view, create or edit files") the words restrict
        // every alternative instead. A condition or contrast ends the object.
        let mut alternatives: Vec<Vec<String>> = vec![Vec::new()];
        let mut count = 0;
        let mut restricted = false;
        for (_, w) in words(after) {
            let lw = w.to_ascii_lowercase();
            if matches!(
                lw.as_str(),
                "if" | "when"
                    | "unless"
                    | "because"
                    | "since"
                    | "so"
                    | "before"
                    | "after"
                    | "while"
                    | "but"
                    | "instead"
                    | "rather"
            ) {
                break;
            }
            if matches!(
                lw.as_str(),
                "more" | "fewer" | "less" | "most" | "least" | "exceed" | "over" | "beyond"
            ) {
                // A bounded quantity ("never use more than one emoji") is a limit, not a ban.
                return None;
            }
            if count > 0
                && matches!(
                    lw.as_str(),
                    "to" | "for"
                        | "with"
                        | "in"
                        | "on"
                        | "about"
                        | "into"
                        | "from"
                        | "at"
                        | "during"
                        | "via"
                        | "using"
                )
            {
                restricted = true;
                continue;
            }
            if lw == "or" || lw == "and" || lw == "nor" {
                if !restricted {
                    alternatives.push(Vec::new());
                }
                continue;
            }
            let s = stem(&lw);
            if self.stopwords.contains(&s)
                || self.stopwords.contains(&lw)
                || (lw.len() > 4 && lw.ends_with("ly"))
                || matches!(lw.as_str(), "zero" | "none")
            {
                continue;
            }
            if restricted {
                for a in alternatives.iter_mut().filter(|a| !a.is_empty()) {
                    a.push(s.clone());
                }
            } else if let Some(last) = alternatives.last_mut() {
                last.push(s);
            }
            count += 1;
            if count >= 10 {
                break;
            }
        }
        // "any other tool", "anything else": the alternative excludes what the positive names.
        let excluding = |w: &str| {
            matches!(
                w,
                "other" | "another" | "else" | "different" | "alternative"
            )
        };
        let raw_alts = after
            .split([',', ';'])
            .flat_map(|c| c.split(" or "))
            .flat_map(|c| c.split(" and "));
        let excluded = raw_alts
            .clone()
            .any(|c| words(c).any(|(_, w)| excluding(&w.to_ascii_lowercase())));
        if excluded {
            alternatives.retain(|a| !a.is_empty());
            let keep: Vec<Vec<String>> = raw_alts
                .filter(|c| !words(c).any(|(_, w)| excluding(&w.to_ascii_lowercase())))
                .map(|c| {
                    words(c)
                        .map(|(_, w)| stem(&w.to_ascii_lowercase()))
                        .filter(|w| !self.stopwords.contains(w))
                        .collect()
                })
                .filter(|a: &Vec<String>| !a.is_empty())
                .collect();
            alternatives = keep;
        }
        alternatives.retain(|a| !a.is_empty());
        if alternatives.is_empty() {
            // A bare verb ("Never apologize.", "Greet the user warmly.") forbids or requires
            // the action as a whole; a pronoun ("Do not use it") or an exclusion ("any other")
            // refers elsewhere and says nothing comparable.
            let bare = words(after).all(|(_, w)| {
                let lw = w.to_ascii_lowercase();
                (lw.len() > 4 && lw.ends_with("ly"))
                    || matches!(
                        lw.as_str(),
                        "the"
                            | "a"
                            | "an"
                            | "user"
                            | "users"
                            | "customer"
                            | "customers"
                            | "patient"
                            | "patients"
                            | "client"
                            | "clients"
                            | "people"
                            | "person"
                            | "caller"
                            | "guest"
                            | "guests"
                            | "traveler"
                            | "student"
                            | "always"
                            | "ever"
                            | "again"
                            | "please"
                    )
            });
            if !bare {
                return None;
            }
            alternatives.push(Vec::new());
        }
        let object_negated = words(after)
            .take(3)
            .any(|(_, w)| matches!(w.to_ascii_lowercase().as_str(), "zero" | "no" | "none"))
            && !self.neutralizers.is_match(after);
        let positive = (negs + usize::from(object_negated)) % 2 == 0;
        // Flattened with "|" between alternatives; split again when comparing.
        let object = alternatives.iter().map(|a| a.join(" ")).collect();
        Some(Action {
            verb,
            object,
            positive,
        })
    }
}

fn push_mention(mentions: &mut Vec<Mention>, m: Mention) {
    if !mentions
        .iter()
        .any(|x| x.axis == m.axis && x.value == m.value && x.positive == m.positive)
    {
        mentions.push(m);
    }
}

/// One contradicting pair, found once per prompt and filtered per rule.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub rule: String,
    pub later: PromptSpan,
    pub earlier: PromptSpan,
    pub later_what: String,
    pub earlier_what: String,
    pub later_text: String,
    pub earlier_text: String,
}

/// Whether two directives may be compared on `axis` (`None`: polarity / numeric).
/// How a directive's condition bears on a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    /// No condition, or the axis's own trigger ("if unclear" for clarifying questions).
    Absolute,
    /// A plain condition on a requirement ("before booking", "when explaining the API"): it
    /// still clashes with an absolute prohibition of the same thing.
    Situational,
    /// An exception, a user-request condition or a permission: always a scope.
    Scoped,
}

fn cond(d: &Directive, axis: Option<&Axis>) -> Cond {
    match &d.condition {
        None => Cond::Absolute,
        Some(c) if !d.exception && axis.is_some_and(|ax| ax.triggers.is_match(c)) => Cond::Absolute,
        Some(_) if d.exception || d.request_condition || d.permissive => Cond::Scoped,
        Some(_) => Cond::Situational,
    }
}

/// Whether a pair may conflict: same part, and either both absolute, or (when `opposite` is
/// the positive/negative split of one thing) an absolute prohibition against a situational
/// requirement ("Never ask for clarification" / "Always ask for clarification before booking").
fn comparable(
    a: &Directive,
    b: &Directive,
    axis: Option<&Axis>,
    opposite: Option<(bool, bool)>,
) -> bool {
    if a.part != b.part {
        return false;
    }
    match (cond(a, axis), cond(b, axis), opposite) {
        (Cond::Absolute, Cond::Absolute, _) => true,
        (Cond::Absolute, Cond::Situational, Some((a_pos, _))) => !a_pos,
        (Cond::Situational, Cond::Absolute, Some((_, b_pos))) => !b_pos,
        _ => false,
    }
}

/// "asks for JSON (output format)" / "forbids emoji".
fn describe(axis: &Axis, m: &Mention) -> String {
    let v = &axis.values[m.value].name;
    let verb = if m.positive { "asks for" } else { "forbids" };
    if v.eq_ignore_ascii_case(&axis.label) || axis.values.len() == 1 {
        format!("{verb} {v}")
    } else {
        format!("{verb} {v} ({})", axis.label)
    }
}

fn subset(small: &str, big: &str) -> bool {
    let b: HashSet<&str> = big.split(' ').collect();
    small
        .split(' ')
        .filter(|w| !w.is_empty())
        .all(|w| b.contains(w))
}

/// All conflicts of a prompt, in order of the later directive.
pub fn analyse(vocab: &Vocab, prompt: &Prompt) -> Vec<Conflict> {
    // XML-ish tags are usually situations ("<ui_navigation>", "<unclear_screen>") unless
    // generic; Markdown headings scope only when they name a part, situation or audience.
    let generic = |t: &str, tag: bool| {
        if tag {
            vocab.is_generic_title(t)
        } else {
            !vocab.section_scopes(t)
        }
    };
    let units = directive::units(prompt, &vocab.data_sections, &generic);
    let ds: Vec<Directive> = units
        .iter()
        .filter_map(|u| vocab.parse(u, &prompt.text))
        .collect();
    let mut out: Vec<Conflict> = Vec::new();
    for j in 1..ds.len() {
        let b = &ds[j];
        let mut done: HashSet<String> = HashSet::new();
        for a in &ds[..j] {
            let mut pair_found = false;
            // Axes.
            for mb in &b.mentions {
                let axis = &vocab.axes[mb.axis];
                if done.contains(&axis.rule) || a.part != b.part {
                    continue;
                }
                let hit = a.mentions.iter().find(|ma| {
                    if ma.axis != mb.axis || (ma.numeric && mb.numeric) {
                        return false;
                    }
                    if ma.value == mb.value {
                        let (pos, neg): (&Mention, &Mention) =
                            if ma.positive { (ma, mb) } else { (mb, ma) };
                        return ma.positive != mb.positive
                            && neg.qualifier.iter().all(|w| pos.qualifier.contains(w))
                            && comparable(a, b, Some(axis), Some((ma.positive, mb.positive)));
                    }
                    let compatible = axis.compatible.iter().any(|&(x, y)| {
                        (x, y) == (ma.value, mb.value) || (y, x) == (ma.value, mb.value)
                    });
                    axis.exclusive
                        && ma.positive
                        && mb.positive
                        && !compatible
                        && !ma.scoped
                        && !mb.scoped
                        && !a.permissive
                        && !b.permissive
                        && comparable(a, b, Some(axis), None)
                });
                if let Some(ma) = hit {
                    done.insert(axis.rule.clone());
                    if out.iter().any(|c| {
                        c.rule == axis.rule
                            && c.later_text == short(&b.text)
                            && c.earlier_text == short(&a.text)
                    }) {
                        continue;
                    }
                    pair_found = true;
                    out.push(conflict(
                        &axis.rule,
                        a,
                        b,
                        describe(axis, ma),
                        describe(axis, mb),
                    ));
                }
            }
            // Numeric limits on the same unit whose ranges do not meet.
            if !done.contains("numeric-limit") && comparable(a, b, None, None) {
                let same_target = a.limit_target == b.limit_target;
                let hit = b.limits.iter().filter(|_| same_target).find_map(|lb| {
                    a.limits
                        .iter()
                        .find(|la| la.unit == lb.unit && (la.hi < lb.lo || lb.hi < la.lo))
                        .map(|la| (la, lb))
                });
                if let Some((la, lb)) = hit {
                    done.insert("numeric-limit".into());
                    pair_found = true;
                    out.push(conflict(
                        "numeric-limit",
                        a,
                        b,
                        format!("sets a limit of {}", limit_text(la)),
                        format!("sets a limit of {}", limit_text(lb)),
                    ));
                }
            }
            // The same action, required and forbidden.
            if !pair_found && !done.contains("polarity") {
                if let (Some(x), Some(y)) = (&a.action, &b.action) {
                    if x.verb == y.verb
                        && x.positive != y.positive
                        && comparable(a, b, None, Some((x.positive, y.positive)))
                    {
                        let (pos, neg) = if x.positive { (x, y) } else { (y, x) };
                        let covers = neg
                            .object
                            .iter()
                            .any(|n| pos.object.iter().any(|p| subset(n, p)));
                        if covers {
                            done.insert("polarity".into());
                            out.push(conflict("polarity", a, b, action_text(x), action_text(y)));
                        }
                    }
                }
            }
        }
    }
    out
}

fn limit_text(l: &Limit) -> String {
    l.text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn action_text(a: &Action) -> String {
    let what = format!("{} {}", a.verb, a.object.join(" / "))
        .trim()
        .to_string();
    if a.positive {
        format!("requires \"{what}\"")
    } else {
        format!("forbids \"{what}\"")
    }
}

fn conflict(
    rule: &str,
    a: &Directive,
    b: &Directive,
    earlier_what: String,
    later_what: String,
) -> Conflict {
    Conflict {
        rule: rule.to_string(),
        later: b.span,
        earlier: a.span,
        later_what,
        earlier_what,
        later_text: short(&b.text),
        earlier_text: short(&a.text),
    }
}

fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= 70 {
        return s;
    }
    let cut: String = s.chars().take(67).collect();
    format!("{cut}...")
}

/// The compiled check: one rule's axis and the shared vocabulary.
#[derive(Debug)]
pub struct Contradiction {
    axis: String,
    vocab: Arc<Vocab>,
}

type VocabCache = Mutex<Vec<(u64, Arc<Vocab>)>>;
static VOCABS: std::sync::LazyLock<VocabCache> =
    std::sync::LazyLock::new(|| Mutex::new(Vec::new()));

/// (vocabulary pointer, prompt key, conflicts).
type CachedAnalysis = (usize, u64, Arc<Vec<Conflict>>);

thread_local! {
    /// The last prompt analysed on this thread: (vocab pointer, text hash, conflicts).
    static LAST: RefCell<Option<CachedAnalysis>> = const { RefCell::new(None) };
}

fn hash<T: Hash + ?Sized>(t: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

impl Contradiction {
    pub fn compile(
        params: Option<&toml::Table>,
        data: Option<&toml::Table>,
    ) -> Result<Contradiction, String> {
        let params = params.ok_or("the contradiction check needs `params.axis`")?;
        let p: RawParams = toml::Value::Table(params.clone())
            .try_into()
            .map_err(|e| format!("{e}"))?;
        let data = data.ok_or("the contradiction check needs the pack's [data] table")?;
        let key = hash(&format!("{data:?}"));
        let vocab = {
            let mut cache = VOCABS
                .lock()
                .map_err(|_| "vocabulary cache poisoned".to_string())?;
            match cache.iter().find(|(k, _)| *k == key) {
                Some((_, v)) => v.clone(),
                None => {
                    let v = Arc::new(Vocab::compile(data)?);
                    cache.push((key, v.clone()));
                    v
                }
            }
        };
        let known = p.axis == "numeric-limit"
            || p.axis == "polarity"
            || vocab.axes.iter().any(|a| a.rule == p.axis);
        if !known {
            return Err(format!(
                "unknown axis `{}` (not in [[data.axis]], numeric-limit or polarity)",
                p.axis
            ));
        }
        Ok(Contradiction {
            axis: p.axis,
            vocab,
        })
    }

    fn conflicts(&self, prompt: &Prompt) -> Arc<Vec<Conflict>> {
        let vp = Arc::as_ptr(&self.vocab) as usize;
        let key = hash(&(prompt.text.as_str(), prompt.segments.len(), &prompt.id));
        if let Some(hit) = LAST.with(|l| {
            l.borrow()
                .as_ref()
                .filter(|(v, k, _)| *v == vp && *k == key)
                .map(|(_, _, c)| c.clone())
        }) {
            return hit;
        }
        let c = Arc::new(analyse(&self.vocab, prompt));
        LAST.with(|l| *l.borrow_mut() = Some((vp, key, c.clone())));
        c
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        let conflicts = self.conflicts(cx.prompt);
        conflicts
            .iter()
            .filter(|c| c.rule == self.axis)
            .map(|c| {
                let slots = [("later", c.later_what.as_str()), ("earlier", c.earlier_what.as_str())];
                let mut hit = Hit::new(c.later, fill(&rule.message, &slots));
                hit.related = vec![(c.earlier, format!("earlier: {}", c.earlier_what))];
                hit.help = Some(format!(
                    "keep one: either the earlier \"{}\" or this \"{}\"; delete the other, or scope it (\"if the user asks ...\", \"in the summary ...\")",
                    c.earlier_text, c.later_text
                ));
                hit
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packs::raw::RawPackFile;
    use crate::prompt::{Origin, PromptFormat};

    pub(super) fn vocab() -> Arc<Vocab> {
        let raw: RawPackFile =
            toml::from_str(include_str!("../../rules/contradiction.toml")).expect("pack parses");
        let params: toml::Table = toml::from_str("axis = \"polarity\"").expect("params");
        Contradiction::compile(Some(&params), raw.data.as_ref())
            .expect("compiles")
            .vocab
    }

    fn prompt(text: &str) -> Prompt {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Markdown, false);
        p.text = text.to_string();
        crate::segment::segment(&mut p);
        p
    }

    fn rules(text: &str) -> Vec<String> {
        analyse(&vocab(), &prompt(text))
            .into_iter()
            .map(|c| c.rule)
            .collect()
    }

    #[test]
    #[allow(clippy::print_stdout)]
    fn debug_env() {
        let Ok(text) = std::env::var("CONTRA_DEBUG") else {
            return;
        };
        let v = vocab();
        let p = prompt(&text);
        let generic = |t: &str, tag: bool| {
            if tag {
                v.is_generic_title(t)
            } else {
                !v.section_scopes(t)
            }
        };
        for u in directive::units(&p, &v.data_sections, &generic) {
            println!(
                "UNIT {:?} section={:?} lead={:?}",
                &p.text[u.span.start..u.span.end],
                u.section,
                u.lead
            );
            if let Some(d) = v.parse(&u, &p.text) {
                println!(
                    "  part={:?} cond={:?} exc={} mentions={:?} limits={:?} action={:?}",
                    d.part, d.condition, d.exception, d.mentions, d.limits, d.action
                );
            }
        }
        for c in analyse(&v, &p) {
            println!(
                "CONFLICT {} {:?} <- {:?}",
                c.rule, c.later_text, c.earlier_text
            );
        }
    }

    /// `CONTRA_PROBE="text" cargo test --lib probe -- --nocapture`: is this unit a directive?
    #[test]
    #[allow(clippy::print_stdout)]
    fn probe() {
        let Ok(t) = std::env::var("CONTRA_PROBE") else {
            return;
        };
        let v = vocab();
        println!(
            "directive={} loose={}",
            v.is_directive(&t),
            v.loose_directive(&t)
        );
    }

    #[test]
    fn conditions_scope_or_not() {
        // An exception or a user request scopes; the axis's own trigger does not.
        assert!(rules("Never ask clarifying questions unless the request is ambiguous.\nIf the request is ambiguous, ask a clarifying question.").is_empty());
        assert_eq!(rules("Never ask clarifying questions.\nIf the request is unclear, ask a clarifying question."), vec!["clarifying-questions"]);
        assert!(
            rules("Do not write code.\nIf the user asks for an implementation, include code.")
                .is_empty()
        );
        // A situational requirement still clashes with an absolute prohibition.
        assert_eq!(
            rules("Never include code.\nInclude code samples when explaining the API."),
            vec!["code"]
        );
        // ... but a permission does not.
        assert!(
            rules("Avoid emoji. If the patient uses emoji, you may reply with one.").is_empty()
        );
    }

    #[test]
    fn negation_forms() {
        assert_eq!(
            rules("Emoji are strictly prohibited.\nUse emojis to make replies fun."),
            vec!["emoji"]
        );
        assert_eq!(
            rules("Use absolutely zero jargon.\nUse jargon."),
            vec!["polarity"]
        );
        assert!(rules(
            "Never fail to mention the refund policy.\nAlways mention the refund policy."
        )
        .is_empty());
        assert!(
            rules("Do not respond in any language other than English.\nRespond in English.")
                .is_empty()
        );
        assert_eq!(
            rules("Do not respond in any language other than English.\nRespond in French."),
            vec!["language"]
        );
        assert!(
            rules("Never use more than one emoji.\nUse an emoji when confirming a booking.")
                .is_empty()
        );
        assert!(rules("Never use emoji. Do not use emoji under any circumstances.").is_empty());
    }

    #[test]
    fn scopes_and_parts() {
        assert!(rules("## Summary\nBe brief.\n\n## Deep dive\nBe exhaustive.").is_empty());
        assert_eq!(rules("# Format\nAlways respond in JSON.\n\n# Style\nFormat your answer as a Markdown table."), vec!["output-format"]);
        assert!(
            rules("For children:\n- use a playful tone\n\nFor adults:\n- use a formal tone")
                .is_empty()
        );
        assert!(rules("Things to avoid:\n- Use emoji.\n\nNever use emoji.").is_empty());
        assert!(rules("Use tables for comparisons.\nRespond in JSON.").is_empty());
        assert!(
            rules("**Billing emails:** include a link to the invoice.\nDo not include links.")
                .is_empty()
        );
    }

    #[test]
    fn data_is_not_instruction() {
        assert!(rules(
            "Respond in JSON.\n\n<example>\nFormat your answer as a Markdown table.\n</example>"
        )
        .is_empty());
        assert!(
            rules("Respond in JSON.\n```\nFormat your answer as a Markdown table.\n```").is_empty()
        );
        assert!(rules("Never say \"respond in Markdown\". Respond in JSON.").is_empty());
        assert!(
            rules("Be concise.\n<document>\nAlways give exhaustive answers.\n</document>")
                .is_empty()
        );
    }

    #[test]
    fn numeric_limits() {
        assert_eq!(
            rules("Use at most 3 bullet points.\nList exactly 5 bullet points."),
            vec!["numeric-limit"]
        );
        assert_eq!(rules("Replies are limited to 2 sentences.\nEvery answer must contain at least 5 sentences."), vec!["numeric-limit"]);
        assert!(rules("Write the bullets as exactly 16 words each.\nSummarize the battle in 50 words or less.").is_empty());
        assert!(rules("Use between 3 and 5 bullets. Use no more than 5 bullets.").is_empty());
    }

    #[test]
    fn non_ascii_and_odd_input_do_not_panic() {
        for t in [
            "Réponds en français.\u{a0}Respond in English.",
            "- \n-\n* ",
            "\"unbalanced quote. Use JSON.",
            "«Be brief.» — be thorough!",
            "",
            "::::",
            "1. \n2.",
        ] {
            let _ = rules(t);
        }
    }

    #[test]
    fn assistant_messages_are_not_instructions() {
        use crate::segment::{Role, Segment, SegmentKind};
        let text = "Always respond in JSON.\n\nFormat your answer as a Markdown table.\n\nUse a Markdown table.";
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Markdown, false);
        p.text = text.to_string();
        let second = text.find("Format").unwrap_or(0);
        let third = text.find("Use a").unwrap_or(0);
        p.segments = vec![
            Segment::new(
                SegmentKind::Role { role: Role::System },
                PromptSpan::new(0, second - 2),
            ),
            Segment::new(
                SegmentKind::Role {
                    role: Role::Assistant,
                },
                PromptSpan::new(second, third - 2),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::User },
                PromptSpan::new(third, text.len()),
            ),
        ];
        crate::segment::segment(&mut p);
        let found: Vec<(String, usize)> = analyse(&vocab(), &p)
            .into_iter()
            .map(|c| (c.rule, c.later.start))
            .collect();
        // The assistant turn is ignored; the user turn of the same request is compared.
        assert_eq!(found, vec![("output-format".to_string(), third)]);
    }

    #[test]
    fn axis_conflicts() {
        assert_eq!(
            rules("Always respond in JSON.\nFormat your answer as a Markdown table."),
            vec!["output-format"]
        );
        assert_eq!(
            rules("Be concise.\nGive thorough, in-depth answers."),
            vec!["length"]
        );
        assert!(rules("In the summary, be brief. In the appendix, be exhaustive.").is_empty());
    }
}
