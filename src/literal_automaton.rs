//! Literal automata that start cheap and speed up as a run searches more: the contradiction
//! vocabulary's phrase and value lists (folded text) and the rule keyword prefilter (ASCII
//! case-insensitive) share it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// An automaton over literal (folded) strings. It starts as a noncontiguous NFA, the cheapest
/// kind to build (a run over a few files searches little text with it), and once it has
/// searched `DFA_AFTER` bytes it builds a DFA of the same literals, several times cheaper per
/// byte searched, for the rest of the run. Overlapping matches are the same either way.
#[derive(Debug)]
pub struct LiteralAutomaton {
    nfa: AhoCorasick,
    literals: Vec<String>,
    ascii_case_insensitive: bool,
    searched: AtomicUsize,
    dfa: OnceLock<Option<AhoCorasick>>,
}

/// Text an automaton searches as an NFA before it builds its DFA: about what a DFA build costs
/// in NFA searching.
const DFA_AFTER: usize = 128 * 1024;

pub fn literal_automaton(
    literals: &[String],
) -> Result<LiteralAutomaton, aho_corasick::BuildError> {
    LiteralAutomaton::new(literals, false)
}

impl LiteralAutomaton {
    /// Over `literals`, ASCII case-insensitively when asked.
    pub fn new(
        literals: &[String],
        ascii_case_insensitive: bool,
    ) -> Result<LiteralAutomaton, aho_corasick::BuildError> {
        Ok(LiteralAutomaton {
            nfa: build_automaton(
                literals,
                ascii_case_insensitive,
                AhoCorasickKind::NoncontiguousNFA,
            )?,
            literals: literals.to_vec(),
            ascii_case_insensitive,
            searched: AtomicUsize::new(0),
            dfa: OnceLock::new(),
        })
    }

    /// Every occurrence of every literal in `haystack`, overlapping ones included.
    pub fn find_overlapping_iter<'a, 'h>(
        &'a self,
        haystack: &'h str,
    ) -> aho_corasick::FindOverlappingIter<'a, 'h> {
        self.automaton(haystack.len())
            .find_overlapping_iter(haystack)
    }

    fn automaton(&self, len: usize) -> &AhoCorasick {
        if let Some(dfa) = self.dfa.get() {
            return dfa.as_ref().unwrap_or(&self.nfa);
        }
        if self.searched.fetch_add(len, Ordering::Relaxed) + len < DFA_AFTER {
            return &self.nfa;
        }
        // A DFA over too many states fails to build: the NFA then serves the whole run.
        self.dfa
            .get_or_init(|| {
                build_automaton(
                    &self.literals,
                    self.ascii_case_insensitive,
                    AhoCorasickKind::DFA,
                )
                .ok()
            })
            .as_ref()
            .unwrap_or(&self.nfa)
    }

    /// Builds the DFA now (the tests search with both kinds).
    #[cfg(test)]
    pub fn force_dfa(&self) {
        self.searched.store(DFA_AFTER, Ordering::Relaxed);
        let _ = self.automaton(0);
    }

    /// Whether the DFA was built (tests).
    #[cfg(test)]
    pub fn has_dfa(&self) -> bool {
        self.dfa.get().is_some_and(Option::is_some)
    }
}

fn build_automaton(
    literals: &[String],
    ascii_case_insensitive: bool,
    kind: AhoCorasickKind,
) -> Result<AhoCorasick, aho_corasick::BuildError> {
    AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .ascii_case_insensitive(ascii_case_insensitive)
        .kind(Some(kind))
        .build(literals)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A case-insensitive automaton finds every case, as an NFA and once it is a DFA.
    #[test]
    fn a_caseless_automaton_matches_every_case_in_both_kinds() {
        let words: Vec<String> = ["sk-", "akia", "@"].iter().map(|w| w.to_string()).collect();
        let ac = LiteralAutomaton::new(&words, true).unwrap();
        let text = "SK-x AKIA akIa a@b sk_";
        let found = |ac: &LiteralAutomaton| -> Vec<(usize, usize)> {
            ac.find_overlapping_iter(text)
                .map(|m| (m.pattern().as_usize(), m.start()))
                .collect()
        };
        let nfa = found(&ac);
        assert_eq!(nfa, vec![(0, 0), (1, 5), (1, 10), (2, 16)]);
        ac.force_dfa();
        assert!(ac.has_dfa());
        assert_eq!(found(&ac), nfa);
    }
}
