//! An axis value's frames, built only for what a text can match.
//!
//! A value's framed regex is the alternation of every frame of its axis around its terms, and
//! each frame repeats the modifier list up to three times: the length axis's "short" value is a
//! 6 KB pattern that takes longer to build than the rest of a pre-commit run. Most frames open
//! with fixed words ("be", "keep it", "respond", "length:"): every match of such a frame begins
//! with one of its leading literals (regex-syntax's prefix extraction, the same guarantee a
//! regex prefilter relies on). A frame whose leading literals are absent from a text cannot
//! match anywhere in it, and neither can a modifier or term absent from it; removing branches
//! that cannot match leaves the others in their order, so the alternation of what remains
//! finds exactly what the full alternation finds there. Such regexes are kept per pattern
//! until their patterns add up to the full one's length; then the value uses its full
//! alternation from then on. Each is a `LazyRegex`: its first texts are searched with
//! regex-lite, and the full build happens only when a run searches more with it.

use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::AhoCorasick;
#[cfg(test)]
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::directive::phrase_pattern;
use super::literal::fold_phrase;
use super::vocab::{fold_pattern, longest_first};
#[cfg(test)]
use crate::lazy_regex::ascii_first;
use crate::lazy_regex::LazyRegex;
use crate::literal_automaton::{literal_automaton, LiteralAutomaton};

/// An axis's frames (folded patterns with `{m}` and `{v}` in them, between ASCII word
/// boundaries) and, worked out on first use, their leading literals; shared by its values.
#[derive(Debug)]
pub(crate) struct AxisFrames {
    frames: Vec<String>,
    leads: OnceLock<Vec<Option<AhoCorasick>>>,
}

impl AxisFrames {
    /// `frames`: the axis's frames on the folded view.
    pub(crate) fn new(frames: impl IntoIterator<Item = String>) -> Arc<AxisFrames> {
        Arc::new(AxisFrames {
            frames: frames
                .into_iter()
                .map(|f| format!("(?-u:\\b){f}(?-u:\\b)"))
                .collect(),
            leads: OnceLock::new(),
        })
    }

    fn leads(&self) -> &[Option<AhoCorasick>] {
        self.leads
            .get_or_init(|| self.frames.iter().map(|f| frame_leads(f)).collect())
    }
}

/// The leading literals of one frame (folded pattern with `{m}` and `{v}` in it), as an
/// automaton over the folded text; `None` when a match can begin anywhere (the frame opens with
/// the value or the modifiers, or has no finite set of leading literals).
fn frame_leads(folded_frame: &str) -> Option<AhoCorasick> {
    // The placeholders become a class too large to expand: extraction stops there, so what is
    // left are the words before them.
    let pattern = folded_frame.replace("{m}", "[a-z]").replace("{v}", "[a-z]");
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&pattern)
        .ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let literals = seq.literals()?;
    if literals.is_empty() || literals.iter().any(|l| l.as_bytes().is_empty()) {
        return None;
    }
    let bytes: Vec<&[u8]> = literals.iter().map(|l| l.as_bytes()).collect();
    AhoCorasick::new(bytes).ok()
}

/// The phrases a frame placeholder stands for (`{m}` the modifiers, `{v}` a value's terms):
/// each one's pattern on the folded view, in alternation order (longest first), and the folded
/// phrases as literals. A phrase absent from a text cannot match there, so the alternation of
/// the phrases present finds what the alternation of all of them finds.
#[derive(Debug)]
pub(crate) struct Choices {
    patterns: Vec<String>,
    folded: Vec<String>,
    /// An automaton over `folded` for a long list (the modifiers); a value's few terms are
    /// searched one by one, which costs less than building an automaton per value.
    literals: Option<LiteralAutomaton>,
}

impl Choices {
    /// A long list: searched with one automaton.
    pub(crate) fn new(phrases: &[String]) -> Result<Choices, String> {
        let mut choices = Choices::few(phrases);
        choices.literals = Some(literal_automaton(&choices.folded).map_err(|e| e.to_string())?);
        Ok(choices)
    }

    /// A short list (a value's terms): searched phrase by phrase.
    pub(crate) fn few(phrases: &[String]) -> Choices {
        let phrases = longest_first(phrases);
        Choices {
            patterns: phrases
                .iter()
                .map(|p| fold_pattern(&phrase_pattern(p)))
                .collect(),
            folded: phrases.iter().map(|p| fold_phrase(p)).collect(),
            literals: None,
        }
    }

    /// The phrases as they occur in a folded text, in alternation order.
    pub(crate) fn literals(&self) -> &[String] {
        &self.folded
    }

    /// Which phrases occur in `folded`, by position in alternation order.
    fn occurring(&self, folded: &str) -> Vec<bool> {
        let Some(literals) = &self.literals else {
            return self
                .folded
                .iter()
                .map(|p| folded.contains(p.as_str()))
                .collect();
        };
        let mut present = vec![false; self.patterns.len()];
        for m in literals.find_overlapping_iter(folded) {
            present[m.pattern().as_usize()] = true;
        }
        present
    }

    /// The alternation of the phrases `present` marks (all when `None`).
    fn alternation(&self, present: Option<&[bool]>) -> String {
        self.patterns
            .iter()
            .enumerate()
            .filter(|(i, _)| present.is_none_or(|p| p[*i]))
            .map(|(_, p)| p.as_str())
            .collect::<Vec<_>>()
            .join("|")
    }
}

/// `{m}`: up to three modifiers, each followed by a space; empty when none can match.
fn modifiers_pattern(alternation: &str) -> String {
    if alternation.is_empty() {
        String::new()
    } else {
        format!("(?:(?:{alternation}) +){{0,3}}")
    }
}

/// A value's frames (its axis's frames around its terms) and the regexes built for texts.
///
/// For a text, the regex holds only what can match there: the frames whose leading literals
/// occur, with only the modifiers and terms that occur. Those are a fraction of the full
/// alternation's size (the modifiers, repeated three times in each frame, make up most of it).
/// Partial regexes are kept by pattern; once they have cost as much to build as the full
/// alternation would (its length as the measure), the full one is built and serves every text.
#[derive(Debug)]
pub(crate) struct Frames {
    axis: Arc<AxisFrames>,
    modifiers: Arc<Choices>,
    /// The value's terms. Every frame holds one, so a text whose folded view holds none cannot
    /// match and no regex is built or run.
    terms: Choices,
    built: Mutex<Partials>,
    /// The alternation of every frame, once a text needs it: from then on it serves every text
    /// without the lead checks or the lock.
    full: OnceLock<Arc<LazyRegex>>,
    /// The full alternation's length: what partial patterns may add up to. Worked out when a
    /// text first needs a regex: most values meet no such text in a run.
    budget: OnceLock<usize>,
}

#[derive(Debug, Default)]
struct Partials {
    /// By pattern (`LazyRegex::pattern`).
    regexes: Vec<Arc<LazyRegex>>,
    /// Total length of the patterns built so far.
    spent: usize,
}

impl Frames {
    pub(crate) fn new(axis: Arc<AxisFrames>, modifiers: Arc<Choices>, terms: Choices) -> Frames {
        Frames {
            axis,
            modifiers,
            terms,
            built: Mutex::new(Partials::default()),
            full: OnceLock::new(),
            budget: OnceLock::new(),
        }
    }

    fn budget(&self) -> usize {
        *self
            .budget
            .get_or_init(|| self.alternation(None, None).len())
    }

    /// Which frames can match somewhere in `folded`.
    fn candidates(&self, folded: &str) -> Vec<bool> {
        self.axis
            .leads()
            .iter()
            .map(|lead| lead.as_ref().is_none_or(|a| a.is_match(folded)))
            .collect()
    }

    /// The alternation of the frames `frames` marks (all when `None`), with `{m}` and `{v}`
    /// standing for the modifiers and terms `(modifiers, terms)` mark (all when `None`).
    fn alternation(&self, frames: Option<&[bool]>, choices: Option<(&[bool], &[bool])>) -> String {
        let modifiers = modifiers_pattern(&self.modifiers.alternation(choices.map(|c| c.0)));
        let terms = format!("(?:{})", self.terms.alternation(choices.map(|c| c.1)));
        self.axis
            .frames
            .iter()
            .enumerate()
            .filter(|(i, _)| frames.is_none_or(|f| f[*i]))
            .map(|(_, f)| f.replace("{m}", &modifiers).replace("{v}", &terms))
            .collect::<Vec<_>>()
            .join("|")
    }

    fn full_regex(&self) -> Arc<LazyRegex> {
        self.full
            .get_or_init(|| Arc::new(LazyRegex::vocab(self.alternation(None, None))))
            .clone()
    }

    /// The pattern of the regex to run on `folded` (`None` when nothing can match there).
    fn partial_pattern(&self, folded: &str) -> Option<String> {
        let frames = self.candidates(folded);
        if !frames.contains(&true) {
            return None;
        }
        let terms = self.terms.occurring(folded);
        if !terms.contains(&true) {
            return None;
        }
        let modifiers = self.modifiers.occurring(folded);
        Some(self.alternation(Some(&frames), Some((&modifiers, &terms))))
    }

    /// The regex to run on `folded`: the alternation of what can match there (`None` when
    /// nothing can). A text none of the terms occur in cannot match; the vocabulary checks that
    /// for all values at once before calling this.
    pub(crate) fn regex_for(&self, folded: &str) -> Option<Arc<LazyRegex>> {
        if let Some(full) = self.full.get() {
            return Some(full.clone());
        }
        let pattern = self.partial_pattern(folded)?;
        let Ok(mut built) = self.built.lock() else {
            return None;
        };
        if let Some(regex) = built.regexes.iter().find(|r| r.pattern() == pattern) {
            return Some(regex.clone());
        }
        // A text that needs everything gets the full alternation, not a copy of it.
        let budget = self.budget();
        if pattern.len() >= budget || built.spent + pattern.len() > budget {
            return Some(self.full_regex());
        }
        built.spent += pattern.len();
        let regex = Arc::new(LazyRegex::vocab(pattern));
        built.regexes.push(regex.clone());
        Some(regex)
    }

    /// Builds the full alternation as a run would and reports a failure (for pack tests).
    pub(crate) fn force(&self) -> Result<(), String> {
        LazyRegex::vocab(self.alternation(None, None)).force()
    }

    /// The full alternation, built by the `regex` crate apart from the cache (the tests'
    /// reference).
    #[cfg(test)]
    pub(crate) fn uncached_full_regex(&self) -> Regex {
        ascii_first(&self.alternation(None, None)).expect("frames build")
    }

    /// Whether one of the value's terms occurs in `folded` (for tests).
    #[cfg(test)]
    pub(crate) fn has_term(&self, folded: &str) -> bool {
        self.terms.occurring(folded).contains(&true)
    }

    /// The regex for `folded` alone, built apart from the cache (for tests).
    #[cfg(test)]
    pub(crate) fn partial_regex(&self, folded: &str) -> Option<Regex> {
        Some(ascii_first(&self.partial_pattern(folded)?).expect("frames build"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_are_the_words_before_the_placeholders() {
        let lead = frame_leads(r"(?-u:\b)(?:be|stay|keep +it) +{m}{v}(?-u:\b)").unwrap();
        assert!(lead.is_match("please be  concise"));
        assert!(lead.is_match("keep it short"));
        assert!(!lead.is_match("answers short"));
        assert!(frame_leads(r"(?-u:\b){m}{v} +(?:answers?|replies)(?-u:\b)").is_none());
        assert!(frame_leads(r"(?-u:\b)(?:{v}|length *:) +x").is_none());
    }

    #[test]
    fn a_partial_alternation_finds_what_the_full_one_finds() {
        let frames = [
            "length *: *{m}{v}",
            "(?:be|stay) +{m}{v}",
            "{m}{v} +answers?",
        ];
        let axis = AxisFrames::new(frames.map(String::from));
        let modifiers = ["very", "quite", "a bit"].map(String::from);
        let modifiers = Arc::new(Choices::new(&modifiers).unwrap());
        let set = Frames::new(
            axis,
            modifiers,
            Choices::few(&["short".into(), "brief".into()]),
        );
        let full = set.uncached_full_regex();
        let texts = [
            "short answer",
            "be brief, brief answer",
            "length: short",
            "nothing here",
            "be short. length: very brief",
            "brief answers, stay quite short",
            "a bit short answers",
            "be a bit brief",
            "stay very very very short",
            "stay very very very very short answers",
            "length:brief answer",
            "be quite, quite brief",
        ];
        for (i, text) in texts.into_iter().enumerate() {
            if i == 1 {
                // Only what occurs in the first text: no `brief`, no modifier, no `be`/`length`.
                let built = set.built.lock().unwrap();
                assert_eq!(built.regexes.len(), 1);
                let pattern = built.regexes[0].pattern();
                assert!(
                    !pattern.contains("brief") && !pattern.contains("very"),
                    "{pattern}"
                );
                assert!(!pattern.contains("length"), "{pattern}");
            }
            let spans = |r: &Regex| -> Vec<(usize, usize)> {
                r.find_iter(text).map(|m| (m.start(), m.end())).collect()
            };
            let partial = set
                .regex_for(text)
                .map(|r| r.find_iter(text))
                .unwrap_or_default();
            assert_eq!(partial, spans(&full), "{text}");
        }
        // Partial builds stop at the full alternation's length; the full one serves from then.
        let built = set.built.lock().unwrap();
        assert!(built.regexes.len() >= 2 && built.spent <= set.budget());
        assert!(set.full.get().is_some());
    }

    #[test]
    fn a_text_that_needs_everything_builds_the_full_alternation_once() {
        let axis = AxisFrames::new(["be +{m}{v}", "{m}{v} +answers?"].map(String::from));
        let modifiers = Arc::new(Choices::new(&["very".into()]).unwrap());
        let set = Frames::new(axis, modifiers, Choices::few(&["short".into()]));
        assert!(set.regex_for("be very short answers").is_some());
        assert!(set.built.lock().unwrap().regexes.is_empty());
        assert!(set.full.get().is_some());
    }
}
