//! Reading one instruction unit as a directive: clauses, negation and double negation,
//! conditions and their kind, parts and scopes, axis mentions, numeric limits and the verb +
//! object action. Everything it recognises comes from the pack's vocabulary (`vocab.rs`); this
//! module is the grammar only and never compares directives (`contradiction.rs` does).

use super::directive::{self, stem, words, words_rev, Action, Directive, Limit, Mention, Unit};
use super::vocab::Vocab;

/// People nouns: function words in an object ("ask the user"), restrictions after a
/// preposition ("share summaries with students").
const PEOPLE: &[&str] = &[
    "user", "customer", "client", "patient", "student", "traveler", "guest", "caller", "member",
    "employee", "people", "person", "visitor",
];

impl Vocab {
    /// Clause boundaries of a unit: `;`, "but", "however", and ", and"/"and"/"," before a new
    /// imperative ("Be brief, use bullets").
    pub(crate) fn clauses(&self, t: &str) -> Vec<(usize, usize)> {
        let mut cuts = vec![0];
        let ws: Vec<(usize, &str)> = words(t).collect();
        // Every unit is split more than once: compare words in place, and lowercase a verb
        // candidate into one reused buffer, instead of allocating a lowercase copy of each word.
        let mut lower = String::new();
        for (i, &(at, w)) in ws.iter().enumerate() {
            let is = |k: &str| w.eq_ignore_ascii_case(k);
            let before = t[..at].trim_end();
            let and_then = is("and") || is("then");
            if [
                "but", "however", "instead", "whereas", "while", "though", "although",
            ]
            .into_iter()
            .any(is)
                || before.ends_with(';')
                || before.ends_with(':')
            {
                cuts.push(at);
            } else if (and_then || before.ends_with(',')) && i + 1 < ws.len() {
                let next = if and_then { ws[i + 1].1 } else { w };
                lower.clear();
                lower.push_str(next);
                lower.make_ascii_lowercase();
                if self.clause_verbs.contains(lower.as_str()) {
                    cuts.push(at);
                }
            }
        }
        // Dashes and parentheses set off a new clause ("NEVER use X - use Y instead"). A
        // separator is searched for only when its distinctive byte occurs (the em and en
        // dashes both start with byte 0xE2 in UTF-8).
        let bytes = t.as_bytes();
        for (sep, byte) in [
            (" - ", b'-'),
            (" \u{2014} ", 0xE2),
            (" \u{2013} ", 0xE2),
            ("\u{2014}", 0xE2),
            (" (", b'('),
        ] {
            if bytes.contains(&byte) {
                cuts.extend(t.match_indices(sep).map(|(i, _)| i));
            }
        }
        cuts.push(t.len());
        cuts.sort_unstable();
        cuts.dedup();
        cuts.windows(2).map(|w| (w[0], w[1])).collect()
    }

    pub(crate) fn clause_of(clauses: &[(usize, usize)], at: usize) -> (usize, usize) {
        clauses
            .iter()
            .copied()
            .find(|(a, b)| *a <= at && at < *b)
            .unwrap_or((0, 0))
    }

    /// Negations in `t[a..b]` not cancelled by a neutraliser ("no more than", "not only").
    pub(crate) fn negations(&self, t: &str, a: usize, b: usize) -> usize {
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
    pub(crate) fn negated(
        &self,
        t: &str,
        clauses: &[(usize, usize)],
        m_start: usize,
        m_end: usize,
    ) -> bool {
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
        let bounded = self.numeric.regex.is_match(&clause)
            || ["more than", "fewer than", "less than"]
                .iter()
                .any(|p| clause.contains(p));
        !bounded && (pre + post.len()) % 2 == 1
    }

    /// A unit that starts like an imperative we do not know ("Crack jokes ...") and mentions
    /// an axis value: a directive unless its first word is a determiner, pronoun or a past or
    /// progressive form ("Our old bot used slang", "Using emoji is fun").
    pub(crate) fn loose_directive(&self, t: &str) -> bool {
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
        let text = self.value_text(t);
        self.axes
            .iter()
            .any(|a| a.values.iter().any(|v| v.is_match(&text)))
    }

    pub(crate) fn is_directive(&self, t: &str) -> bool {
        let trimmed = t.trim_start();
        if trimmed.ends_with('?') {
            return false;
        }
        let non_model_subject = self.non_model.find(trimmed).is_some_and(|m| m.start() == 0);
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
        // "The brand voice is formal; maintain a formal tone" has its imperative after ";".
        let after_semicolon = trimmed
            .split_once("; ")
            .and_then(|(_, r)| words(r).next())
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        let after_colon = trimmed
            .split_once(": ")
            .and_then(|(_, r)| words(r).next())
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        // "Editors are busy, so be concise": an imperative opening any clause. Splitting the
        // clauses costs the most of these tests, so it runs last.
        let clause_imperative = || {
            self.clauses(trimmed).iter().skip(1).any(|&(a, b)| {
                words(&trimmed[a..b])
                    .find(|(_, w)| {
                        !["so", "and", "then", "but", "please", "just"]
                            .into_iter()
                            .any(|k| w.eq_ignore_ascii_case(k))
                    })
                    .is_some_and(|(_, w)| self.imperative.contains(&w.to_ascii_lowercase()))
            })
        };
        // "We only operate in Germany, so always answer in German": a later clause addresses
        // the model even when the first one talks about someone else.
        let later_after_mark =
            self.imperative.contains(&after_colon) || self.imperative.contains(&after_semicolon);
        if non_model_subject {
            return later_after_mark || clause_imperative();
        }
        later_after_mark
            || self.imperative.contains(&first)
            || self.verbs.at_start(main.trim_start()).is_some()
            || self.modal.is_match(trimmed)
            || clause_imperative()
    }

    /// Parses one unit into a directive, or `None` when it is not one or says nothing the rules
    /// compare.
    pub(crate) fn parse(&self, u: &Unit, text: &str) -> Option<Directive> {
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
        // "User: respond in French please" quotes a turn.
        if let Some((label, _)) = trimmed.split_once(':') {
            if self
                .speaker_labels
                .contains(&label.trim().to_ascii_lowercase())
            {
                return None;
            }
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
        let value_text = self.value_text(t);
        for (ai, axis) in self.axes.iter().enumerate() {
            for (vi, v) in axis.values.iter().enumerate() {
                for m in v.find_iter(t, &value_text) {
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
                {
                    for m in v.negative_find_iter(t, &value_text) {
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
            .or_else(|| {
                // Only the clause that holds the directive names its part, not a reason or
                // an aside after it ("..., so readers can compare the outline").
                let (a, b) = self.directive_clause(t, &clauses).unwrap_or((0, t.len()));
                self.part_noun_in(t, a, b, &claimed)
            });
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
    pub(crate) fn limit_target(&self, t: &str, claimed: &[(usize, usize)]) -> Vec<String> {
        let mut out: Vec<String> = words(t)
            .enumerate()
            .filter(|(i, (_, w))| *i > 0 || !self.imperative.contains(&w.to_ascii_lowercase()))
            .map(|(_, x)| x)
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
    pub(crate) fn hedged(&self, t: &str, clauses: &[(usize, usize)], at: usize) -> bool {
        let (a, b) = Self::clause_of(clauses, at);
        self.hedges.is_match(&t[a..b])
    }

    /// "Use ## for sections in long answers": a value after a preposition names a situation.
    pub(crate) fn after_preposition(&self, t: &str, at: usize) -> bool {
        let prev = words_rev(&t[..at])
            .next()
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
    pub(crate) fn modifies_noun(&self, t: &str, end: usize) -> bool {
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
                    | "heading"
                    | "header"
                    | "bold"
                    | "italic"
                    | "emphasis"
                    | "link"
                    | "section"
                    | "title"
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
    pub(crate) fn object_scoped(&self, matched: &str) -> bool {
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
                        | "draft"
                )
        })
    }

    /// Whether a scoping phrase ("for academic queries", "in the summary") follows a mention.
    pub(crate) fn scoped_after(&self, t: &str, clauses: &[(usize, usize)], from: usize) -> bool {
        let (_, end) = Self::clause_of(clauses, from.saturating_sub(1));
        let rest = &t[from.min(end)..end];
        let mut ws = words(rest).map(|(_, w)| w.to_ascii_lowercase());
        // Only a preposition right after the mention scopes it ("long answers for research
        // queries"); "short and to the point" or a purpose ("to keep it light") does not.
        let mut first = ws.next();
        // "only for timetables", "just in emails": the adverb does not remove the scope.
        while matches!(
            first.as_deref(),
            Some("only" | "just" | "exclusively" | "solely" | "mainly" | "mostly")
        ) {
            first = ws.next();
        }
        match first.as_deref() {
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
    pub(crate) fn label_part(&self, t: &str) -> Option<String> {
        let trimmed = t.trim_start();
        let colon = trimmed.find(':')?;
        let label = trimmed[..colon].trim();
        if colon > 60
            || label.is_empty()
            || words(label).count() > 4
            || trimmed[colon + 1..].trim().is_empty()
        {
            return None;
        }
        let first = words(label)
            .next()
            .map(|(_, w)| w.to_ascii_lowercase())
            .unwrap_or_default();
        // A clause with a verb ("Our audience is international:") is not a label.
        if words(label).any(|(_, w)| {
            matches!(
                w.to_ascii_lowercase().as_str(),
                "is" | "are" | "was" | "were" | "be" | "has" | "have" | "will" | "must" | "should"
            )
        }) {
            return None;
        }
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
    pub(crate) fn qualifier(
        &self,
        t: &str,
        clauses: &[(usize, usize)],
        from: usize,
    ) -> Vec<String> {
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
    pub(crate) fn scope_part(&self, t: &str) -> Option<String> {
        let x = self.scope_lead(t.trim_start())?;
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
    pub(crate) fn subject_part(&self, t: &str, claimed: &[(usize, usize)]) -> Option<String> {
        // In the passive voice the subject is the action's object, not a part.
        if self.passive.is_match(t.trim_start()) {
            return None;
        }
        let ws: Vec<(usize, &str)> = words(t).take(6).collect();
        let modal = ws.iter().position(|(_, w)| {
            matches!(
                w.to_ascii_lowercase().as_str(),
                "should" | "must" | "shall" | "will" | "need" | "needs" | "has" | "have"
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
            || self.is_generic_title(&head)
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
    /// `part_noun` restricted to `t[a..b]` (offsets stay those of `t`).
    pub(crate) fn part_noun_in(
        &self,
        t: &str,
        a: usize,
        b: usize,
        claimed: &[(usize, usize)],
    ) -> Option<String> {
        let shifted: Vec<(usize, usize)> = claimed
            .iter()
            .filter(|(x, y)| *y > a && *x < b)
            .map(|(x, y)| (x.saturating_sub(a), (*y).min(b) - a))
            .collect();
        self.part_noun(&t[a..b], &shifted)
    }

    pub(crate) fn part_noun(&self, t: &str, claimed: &[(usize, usize)]) -> Option<String> {
        self.part_nouns
            .find_iter(t)
            // A noun right after a value ("prose paragraphs", "Markdown headings") belongs to it.
            .find(|m| {
                // "with the keys title and body": field names, not parts of the answer.
                let before = t[..m.start()].to_ascii_lowercase();
                let field = [
                    "key",
                    "keys",
                    "field",
                    "fields",
                    "property",
                    "properties",
                    "column",
                    "columns",
                ]
                .iter()
                .any(|k| words_rev(&before).take(4).any(|(_, w)| w == *k));
                !field
                    && !claimed.iter().any(|(a, b)| {
                        m.start() < *b && *a < m.end()
                            || (*b <= m.start() && t[*b..m.start()].trim().is_empty())
                    })
            })
            .map(|m| stem(m.as_str().split_whitespace().last().unwrap_or("")))
    }

    pub(crate) fn number(&self, s: &str) -> Option<u32> {
        s.parse()
            .ok()
            .or_else(|| self.numeric.numbers.get(&s.to_ascii_lowercase()).copied())
    }

    pub(crate) fn limits(
        &self,
        t: &str,
        clauses: &[(usize, usize)],
        claimed: &mut Vec<(usize, usize)>,
    ) -> Vec<Limit> {
        let n = &self.numeric;
        let mut out = Vec::new();
        // Offsets are `t`'s; group texts are lowercase (see `Numeric`).
        let lower = t.to_ascii_lowercase();
        let listed_captures = n.regex.captures_iter(&lower);
        let listed: Vec<(usize, usize)> = listed_captures
            .iter()
            .filter_map(|c| c.get(0))
            .map(|m| (m.start(), m.end()))
            .collect();
        let generic = n.generic.captures_iter(&lower).into_iter().filter(|c| {
            c.get(0)
                .is_some_and(|m| !listed.iter().any(|(a, b)| m.start() < *b && *a < m.end()))
        });
        for c in listed_captures.into_iter().chain(generic) {
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
                        let prev = words_rev(&t[..all.start()])
                            .next()
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
                    && !matches!(
                        after_next.as_str(),
                        "answer" | "response" | "reply" | "message" | "output" | "turn"
                    ));
            out.push(Limit {
                unit: if per_item {
                    format!("{canon} per item")
                } else {
                    canon.clone()
                },
                lo,
                hi,
                text: t[all.start()..all.end()].to_string(),
            });
        }
        out
    }

    /// Numeric limits that imply a length: "under 30 words" is short, "at least 300" long.
    pub(crate) fn length_from_limit(&self, l: &Limit, mentions: &mut Vec<Mention>) {
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
    /// "The refund policy must always be mentioned" / "Refunds must never be discussed": the
    /// subject is the object, the participle the verb.
    pub(crate) fn passive_action(&self, clause: &str) -> Option<Action> {
        let c = self.passive.captures(clause.trim_start())?;
        let (obj, participle) = (
            c.name("obj")?.as_str(),
            c.name("verb")?.as_str().to_ascii_lowercase(),
        );
        let verb = self.verbs.at_start(&participle)?.0.to_string();
        let object: Vec<String> = words(obj)
            .map(|(_, w)| stem(&w.to_ascii_lowercase()))
            .filter(|w| !self.stopwords.contains(w))
            .collect();
        if object.is_empty() || object.iter().any(|w| self.global_targets.contains(w)) {
            return None;
        }
        let negs = self.negations(clause, 0, clause.len());
        Some(Action {
            verb,
            object: vec![object.join(" ")],
            positive: negs.is_multiple_of(2),
        })
    }

    /// The clause that holds the directive: the first one opening with a lead-in or a verb
    /// ("To avoid legal risk, *never mention the warranty*"), else the first.
    pub(crate) fn directive_clause(
        &self,
        t: &str,
        clauses: &[(usize, usize)],
    ) -> Option<(usize, usize)> {
        let opens = |&(a, b): &(usize, usize)| {
            let c = t[a..b].trim_start_matches(|ch: char| {
                ch.is_whitespace() || ch == ',' || ch == ';' || ch == ':'
            });
            let w = words(c)
                .find(|(_, w)| {
                    !matches!(
                        w.to_ascii_lowercase().as_str(),
                        "so" | "and" | "then" | "just"
                    )
                })
                .map(|(_, w)| w.to_ascii_lowercase())
                .unwrap_or_default();
            self.lead_ins.find(c).is_some_and(|m| m.start() == 0) || self.imperative.contains(&w)
        };
        clauses
            .iter()
            .copied()
            .find(|c| opens(c))
            .or_else(|| clauses.first().copied())
    }

    pub(crate) fn action(&self, t: &str, clauses: &[(usize, usize)]) -> Option<Action> {
        let (first_start, first_end) = self.directive_clause(t, clauses)?;
        let t = &t[..first_end];
        let t_start = first_start;
        if self.hedges.is_match(&t[t_start..]) {
            // "Use emoji rarely", "do not ask more than necessary": a degree, not a rule.
            return None;
        }
        if let Some(a) = self.passive_action(&t[t_start..]) {
            return Some(a);
        }
        let mut rest = &t[t_start..];
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
            .at_start(rest)
            .map(|(canon, end)| (canon.to_string(), &rest[end..]));
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
                        .at_start(b)
                        .map(|(canon, _)| (canon.to_string(), after))
                });
            }
        }
        // A verb outside the synonym groups still counts after an explicit lead-in ("Always
        // remind ...", "Never remind ..."): it is its own canonical form.
        let (verb, after) = match known {
            Some(k) => k,
            // A verb outside the synonym groups is its own canonical form when it is a known
            // imperative ("Remind", "Commit"); an unknown word after "Avoid" is likely a noun.
            None if words(rest)
                .next()
                .is_some_and(|(_, w)| self.imperative.contains(&w.to_ascii_lowercase())) =>
            {
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
            // After a preposition, a person is a real restriction ("with students").
            let person = restricted && PEOPLE.contains(&s.as_str());
            if !person
                && (self.stopwords.contains(&s)
                    || self.stopwords.contains(&lw)
                    || (lw.len() > 4 && lw.ends_with("ly"))
                    || matches!(lw.as_str(), "zero" | "none"))
            {
                continue;
            }
            if restricted {
                // "+" marks a restriction word: it narrows the object but is not part of its
                // head noun (see `subset`).
                for a in alternatives.iter_mut().filter(|a| !a.is_empty()) {
                    a.push(format!("+{s}"));
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

pub(crate) fn push_mention(mentions: &mut Vec<Mention>, m: Mention) {
    if !mentions
        .iter()
        .any(|x| x.axis == m.axis && x.value == m.value && x.positive == m.positive)
    {
        mentions.push(m);
    }
}
