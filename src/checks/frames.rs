//! An axis value's frames, built only for the frames a text can match.
//!
//! A value's framed regex is the alternation of every frame of its axis around its terms, and
//! each frame repeats the modifier list up to three times: the length axis's "short" value is a
//! 6 KB pattern that takes longer to build than the rest of a pre-commit run. Most frames open
//! with fixed words ("be", "keep it", "respond", "length:"): every match of such a frame begins
//! with one of its leading literals (regex-syntax's prefix extraction, the same guarantee a
//! regex prefilter relies on). A frame whose leading literals are absent from a text cannot
//! match anywhere in it, so the alternation of the remaining frames, in their order, finds
//! exactly what the full alternation finds there. Regexes are kept per set of frames; after a
//! few different sets a value builds its full alternation once and uses it from then on.

use std::sync::{Arc, Mutex, OnceLock};

use aho_corasick::AhoCorasick;
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use crate::lazy_regex::ascii_first;

/// How many partial alternations a value builds before it builds the full one.
const MAX_PARTIAL: usize = 3;

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

/// A value's frames (its axis's frames around its terms) and the regexes built for sets of them.
#[derive(Debug)]
pub(crate) struct Frames {
    /// One branch per axis frame, in the axis's order.
    branches: Vec<String>,
    axis: Arc<AxisFrames>,
    /// The value's terms, folded, as literals: every frame holds one, so a text whose folded
    /// view holds none cannot match and no regex is built or run.
    gate: AhoCorasick,
    /// (set of branches as a bit mask, its alternation; `None` if it failed to build).
    built: Mutex<Vec<(u64, Option<Arc<Regex>>)>>,
    /// The alternation of every branch, once built: from then on it serves every text without
    /// the lead checks or the lock.
    full: OnceLock<Option<Arc<Regex>>>,
}

impl Frames {
    /// `modifiers` and `terms`: the patterns `{m}` and `{v}` stand for, on the folded view;
    /// `gate`: the folded terms as literals.
    pub(crate) fn new(
        axis: Arc<AxisFrames>,
        modifiers: &str,
        terms: &str,
        gate: AhoCorasick,
    ) -> Frames {
        let branches = axis
            .frames
            .iter()
            .map(|f| f.replace("{m}", modifiers).replace("{v}", terms))
            .collect();
        Frames {
            branches,
            axis,
            gate,
            built: Mutex::new(Vec::new()),
            full: OnceLock::new(),
        }
    }

    fn full(&self) -> u64 {
        if self.branches.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << self.branches.len()) - 1
        }
    }

    /// The branches that can match somewhere in `folded`.
    fn candidates(&self, folded: &str) -> u64 {
        if self.branches.len() >= 64 {
            return u64::MAX;
        }
        self.axis
            .leads()
            .iter()
            .enumerate()
            .filter(|(_, lead)| lead.as_ref().is_none_or(|a| a.is_match(folded)))
            .fold(0, |mask, (i, _)| mask | 1 << i)
    }

    fn alternation(&self, mask: u64) -> String {
        self.branches
            .iter()
            .enumerate()
            .filter(|(i, _)| mask == u64::MAX || mask & (1 << i) != 0)
            .map(|(_, b)| b.as_str())
            .collect::<Vec<_>>()
            .join("|")
    }

    /// The regex to run on `folded`: the alternation of the branches that can match there
    /// (`None` when none can, or the build failed).
    pub(crate) fn regex_for(&self, folded: &str) -> Option<Arc<Regex>> {
        if !self.gate.is_match(folded) {
            return None;
        }
        if let Some(full) = self.full.get() {
            return full.clone();
        }
        let wanted = self.candidates(folded);
        if wanted == 0 {
            return None;
        }
        let Ok(mut built) = self.built.lock() else {
            return None;
        };
        if let Some((_, regex)) = built.iter().find(|(mask, _)| *mask == wanted) {
            return regex.clone();
        }
        if wanted == self.full() || built.len() >= MAX_PARTIAL {
            let full = self.full.get_or_init(|| {
                ascii_first(&self.alternation(self.full()))
                    .ok()
                    .map(Arc::new)
            });
            return full.clone();
        }
        let regex = ascii_first(&self.alternation(wanted)).ok().map(Arc::new);
        built.push((wanted, regex.clone()));
        regex
    }

    /// Builds the full alternation and reports a failure (for pack tests).
    pub(crate) fn force(&self) -> Result<(), String> {
        ascii_first(&self.alternation(self.full()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The full alternation, built apart from the cache (for tests).
    #[cfg(test)]
    pub(crate) fn full_regex(&self) -> Regex {
        ascii_first(&self.alternation(self.full())).expect("frames build")
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
        let gate = AhoCorasick::new(["short", "brief"]).unwrap();
        let set = Frames::new(axis, "(?:(?:very|quite) +){0,3}", "(?:short|brief)", gate);
        let full = set.full_regex();
        for (i, text) in [
            "short answer",
            "be brief, brief answer",
            "length: short",
            "nothing here",
            "be short. length: very brief",
            "brief answers, stay quite short",
        ]
        .into_iter()
        .enumerate()
        {
            if i == 3 {
                // Three different sets so far, each its own partial alternation.
                assert_eq!(set.built.lock().unwrap().len(), 3);
                assert!(set.full.get().is_none());
            }
            let partial: Vec<(usize, usize)> = set
                .regex_for(text)
                .map(|r| r.find_iter(text).map(|m| (m.start(), m.end())).collect())
                .unwrap_or_default();
            let whole: Vec<(usize, usize)> =
                full.find_iter(text).map(|m| (m.start(), m.end())).collect();
            assert_eq!(partial, whole, "{text}");
        }
        // The first text needs every frame: the full alternation is built and then reused.
        assert!(set.full.get().is_some());
    }
}
