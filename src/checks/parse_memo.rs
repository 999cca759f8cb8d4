//! Directives already read, shared by the threads of a run.
//!
//! `Vocab::parse` reads a unit from its masked text, its lead-in and its section alone; only the
//! directive's span and original text come from where the unit sits. Prompts repeat sentences
//! (a rule quoted in every prompt of a family, dated copies of one system prompt, notebooks
//! copied per provider), and reading a sentence again costs the whole grammar: a repeat takes
//! the earlier reading and its own place. The memo is bounded: it starts over once it holds
//! `MAX_UNITS` readings (about a kilobyte each with their directives), so memory never grows
//! with the repository.

use std::hash::{Hash, Hasher};
use std::sync::Mutex;

use foldhash::HashMap;

use super::directive::{Directive, Unit};
use super::key_hasher;

/// Readings the memo keeps before it starts over.
const MAX_UNITS: usize = 8192;

/// What `parse` reads of a unit.
#[derive(PartialEq, Eq)]
struct Reading {
    masked: String,
    lead: Option<String>,
    section: Option<String>,
}

impl Reading {
    fn of(u: &Unit) -> Reading {
        Reading {
            masked: u.masked.clone(),
            lead: u.lead.clone(),
            section: u.section.clone(),
        }
    }

    fn is(&self, u: &Unit) -> bool {
        self.masked == u.masked && self.lead == u.lead && self.section == u.section
    }
}

pub(crate) struct ParseMemo {
    /// Readings by their hash. Of two readings whose hashes collide, the later is kept.
    entries: Mutex<HashMap<u64, (Reading, Option<Directive>)>>,
    max_units: usize,
}

impl Default for ParseMemo {
    fn default() -> Self {
        ParseMemo::bounded(MAX_UNITS)
    }
}

impl std::fmt::Debug for ParseMemo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParseMemo")
    }
}

impl ParseMemo {
    fn bounded(max_units: usize) -> ParseMemo {
        ParseMemo {
            entries: Mutex::new(HashMap::default()),
            max_units,
        }
    }

    /// The directive of `u` in `text` (the prompt's text): an earlier reading of the same unit,
    /// placed at `u`, or `parse`'s, kept.
    pub(crate) fn directive(
        &self,
        u: &Unit,
        text: &str,
        parse: impl FnOnce() -> Option<Directive>,
    ) -> Option<Directive> {
        let mut h = key_hasher();
        (&u.masked, &u.lead, &u.section).hash(&mut h);
        let key = h.finish();
        if let Ok(entries) = self.entries.lock() {
            if let Some((_, found)) = entries.get(&key).filter(|(r, _)| r.is(u)) {
                return found.clone().map(|mut d| {
                    d.span = u.span;
                    d.text = text[u.span.start..u.span.end].to_string();
                    d
                });
            }
        }
        let read = parse();
        if let Ok(mut entries) = self.entries.lock() {
            // Room for every reading at once, and kept when starting over: growing the table
            // step by step moves every reading (directives included) at each step.
            if entries.len() >= self.max_units {
                entries.clear();
            } else if entries.capacity() == 0 {
                entries.reserve(self.max_units);
            }
            entries.insert(key, (Reading::of(u), read.clone()));
        }
        read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::contradiction::tests::{prompt, vocab};
    use crate::checks::directive::units;

    /// Repeats of one sentence: alone, under a lead-in, in another section, and moved.
    const TEXT: &str = "Always answer in French. Never use bullet points.\n\n\
        For the summary:\n- Always answer in French.\n- Keep it under 50 words.\n\n\
        ## Output\n\nAlways answer in French. Respond in JSON.\n\n\
        ## Tone\n\nBe friendly.  Always answer in French. Never use bullet points.\n";

    fn read_all(memo: &ParseMemo) -> Vec<String> {
        let v = vocab();
        let p = prompt(TEXT);
        let generic = |t: &str, _tag: bool| v.is_generic_title(t);
        let heading = |l: &str| v.is_heading_like(l);
        units(&p, &v.data_sections, &generic, &heading)
            .iter()
            .map(|u| {
                let fresh = v.parse(u, &p.text);
                let kept = memo.directive(u, &p.text, || v.parse(u, &p.text));
                assert_eq!(format!("{kept:?}"), format!("{fresh:?}"));
                format!("{kept:?}")
            })
            .collect()
    }

    /// A repeated unit gets the earlier reading at its own place, and a unit that reads the
    /// same text under another lead-in or section is read again.
    #[test]
    fn repeats_read_as_if_read_afresh() {
        let memo = ParseMemo::default();
        let first = read_all(&memo);
        assert!(first.iter().filter(|d| d.contains("Some(")).count() >= 6);
        let entries = memo.entries.lock().unwrap();
        assert!(
            entries.len() < first.len(),
            "no repeat was taken from the memo"
        );
        drop(entries);
        assert_eq!(read_all(&memo), first);
    }

    #[test]
    fn starts_over_when_full() {
        let memo = ParseMemo::bounded(3);
        read_all(&memo);
        let entries = memo.entries.lock().unwrap();
        assert!(entries.len() <= 3, "{} readings kept", entries.len());
    }
}
