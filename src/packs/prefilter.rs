//! One Aho-Corasick pass over all rule keywords per prompt decides which keyworded rules run.
//! A rule without keywords always runs.

use crate::literal_automaton::LiteralAutomaton;

#[derive(Debug)]
pub struct Prefilter {
    automaton: Option<LiteralAutomaton>,
    /// For each pattern index, the rules (indexes into `RuleSet::rules`) it enables.
    pattern_rules: Vec<Vec<usize>>,
    /// Rules with no keywords.
    always: Vec<usize>,
    rule_count: usize,
}

impl Prefilter {
    /// `keywords[i]` are the keywords of rule `i`.
    pub fn new(keywords: &[Vec<String>]) -> Result<Prefilter, String> {
        let mut patterns: Vec<String> = Vec::new();
        let mut pattern_rules: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (rule, kws) in keywords.iter().enumerate() {
            if kws.is_empty() {
                always.push(rule);
            }
            for kw in kws {
                let kw = kw.to_lowercase();
                match patterns.iter().position(|p| *p == kw) {
                    Some(i) => pattern_rules[i].push(rule),
                    None => {
                        patterns.push(kw);
                        pattern_rules.push(vec![rule]);
                    }
                }
            }
        }
        // Run on prompt texts only: it starts as an NFA, which builds faster than a pre-commit
        // run's searches would save with a DFA, and turns into one once a run searches more.
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                LiteralAutomaton::new(&patterns, true)
                    .map_err(|e| format!("keyword prefilter: {e}"))?,
            )
        };
        Ok(Prefilter {
            automaton,
            pattern_rules,
            always,
            rule_count: keywords.len(),
        })
    }

    /// A flag per rule: may it match `text`?
    pub fn candidates(&self, text: &str) -> Vec<bool> {
        let mut on = vec![false; self.rule_count];
        for &r in &self.always {
            on[r] = true;
        }
        if let Some(ac) = &self.automaton {
            for m in ac.find_overlapping_iter(text) {
                for &r in &self.pattern_rules[m.pattern().as_usize()] {
                    on[r] = true;
                }
            }
        }
        on
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_gate_rules() {
        let p =
            Prefilter::new(&[vec!["@".into()], vec![], vec!["sk-".into(), "AKIA".into()]]).unwrap();
        assert_eq!(p.candidates("mail me at a@b.c"), vec![true, true, false]);
        assert_eq!(p.candidates("key akia..."), vec![false, true, true]);
    }
}
