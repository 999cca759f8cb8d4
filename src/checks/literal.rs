//! Literal phrase lists matched with Aho-Corasick instead of regex alternations.
//!
//! The contradiction vocabulary holds hundreds of cue phrases; as regexes they cost more to build
//! than a whole pre-commit run. A phrase list here means exactly what its regex meant —
//! `(?i)\b(?:p1|p2|...)\b` with the phrases longest first, words separated by `\s+`, an
//! apostrophe matching a curly one — but is matched on a folded view of the text (ASCII
//! lowercase, whitespace runs as one space, curly apostrophes straight) and builds in
//! microseconds.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::literal_automaton::{literal_automaton, LiteralAutomaton};

/// A text as phrase matching sees it, with the way back to the original's byte offsets.
pub struct Folded {
    pub text: String,
    /// `orig[i]`: offset in the original of folded byte `i`; one extra entry for the end.
    /// `None` when folding kept every byte in place (no whitespace run to shorten, no curly
    /// apostrophe), as in most units: then folded byte `i` is original byte `i`.
    orig: Option<Vec<usize>>,
}

/// An ASCII `\s` byte.
pub(super) fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

impl Folded {
    /// The span of the original `t` that folded bytes `start..end` came from.
    pub fn hit<'t>(&self, t: &'t str, start: usize, end: usize) -> Hit<'t> {
        let (start, end) = match &self.orig {
            Some(orig) => (orig[start], orig[end]),
            None => (start, end),
        };
        Hit {
            text: t,
            start,
            end,
        }
    }
}

/// Whether folding `t` keeps every byte offset: no whitespace run longer than one byte (a
/// single `\t` or `\n` becomes one space) and no `’`. Lowercasing an ASCII letter keeps its one
/// byte, and other characters are copied as they are.
fn folds_in_place(t: &str) -> bool {
    let b = t.as_bytes();
    !b.windows(2).any(|w| is_space(w[0]) && is_space(w[1])) && !t.contains('\u{2019}')
}

/// Folds `t`: ASCII lowercase, every whitespace run one space, `’` as `'`.
pub fn fold(t: &str) -> Folded {
    if folds_in_place(t) {
        let mut text = t.to_ascii_lowercase();
        if text.bytes().any(|c| c != b' ' && is_space(c)) {
            text = text.replace(['\t', '\n', '\r', '\x0b', '\x0c'], " ");
        }
        return Folded { text, orig: None };
    }
    fold_general(t)
}

/// `fold` for any text, with a table of original offsets.
fn fold_general(t: &str) -> Folded {
    let b = t.as_bytes();
    let mut text = String::with_capacity(t.len());
    let mut orig = Vec::with_capacity(t.len() + 1);
    let mut i = 0;
    while i < b.len() {
        if is_space(b[i]) {
            text.push(' ');
            orig.push(i);
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
        } else if t[i..].starts_with('\u{2019}') {
            text.push('\'');
            orig.push(i);
            i += '\u{2019}'.len_utf8();
        } else {
            let c = t[i..].chars().next().unwrap_or(' ');
            let start = text.len();
            text.push(c.to_ascii_lowercase());
            orig.extend((0..text.len() - start).map(|k| i + k));
            i += c.len_utf8();
        }
    }
    orig.push(t.len());
    Folded {
        text,
        orig: Some(orig),
    }
}

/// A phrase as its matches look in a folded text: words joined by one space, folded.
pub fn fold_phrase(p: &str) -> String {
    fold(&p.split_whitespace().collect::<Vec<_>>().join(" ")).text
}

/// One match in the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit<'t> {
    text: &'t str,
    start: usize,
    end: usize,
}

impl<'t> Hit<'t> {
    pub fn start(&self) -> usize {
        self.start
    }
    pub fn end(&self) -> usize {
        self.end
    }
    pub fn as_str(&self) -> &'t str {
        &self.text[self.start..self.end]
    }
}

fn word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// ASCII `\b` at byte offset `at` of `t`.
pub(super) fn boundary(t: &[u8], at: usize) -> bool {
    let before = at > 0 && word_byte(t[at - 1]);
    let after = at < t.len() && word_byte(t[at]);
    before != after
}

/// Phrase lists searched together. A directive unit is asked about by some twenty lists, on
/// the whole unit and on slices of it; each list used to fold the text and scan it with an
/// automaton of its own. A book holds one automaton over the phrases of all its lists: a text
/// is folded and scanned once, every list's candidates are kept, and a question about the text
/// or a slice of it is answered from them (see `Scan`).
#[derive(Debug, Default)]
pub struct PhraseBook {
    /// Each list's phrases, folded, longest first.
    lists: Vec<Vec<String>>,
    bank: Arc<OnceLock<Bank>>,
}

/// The book's automaton once finished.
#[derive(Debug)]
struct Bank {
    /// Over the distinct folded phrases of every list.
    ac: LiteralAutomaton,
    /// For each distinct phrase: the lists holding it, with its rank there.
    owners: Vec<Vec<(u32, u32)>>,
    lists: usize,
    /// Tells apart the scans of different books in the per-thread cache.
    id: usize,
}

static BANK_IDS: AtomicUsize = AtomicUsize::new(0);

impl PhraseBook {
    /// Adds a list (not empty) to the book; it answers once the book is `finish`ed.
    pub fn add(&mut self, phrases: &[String]) -> PhraseSet {
        // Longest first, as the regex alternation had them: at one start, the first phrase
        // in this order that ends on a word boundary wins.
        let mut sorted: Vec<&String> = phrases.iter().collect();
        sorted.sort_by_key(|p| std::cmp::Reverse(p.len()));
        self.lists
            .push(sorted.iter().map(|p| fold_phrase(p)).collect());
        PhraseSet {
            bank: self.bank.clone(),
            list: self.lists.len() - 1,
        }
    }

    /// Builds the automaton of every list added.
    pub fn finish(self) -> Result<(), String> {
        let mut distinct: Vec<String> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut owners: Vec<Vec<(u32, u32)>> = Vec::new();
        for (list, phrases) in self.lists.iter().enumerate() {
            for (rank, p) in phrases.iter().enumerate() {
                let i = *index.entry(p.as_str()).or_insert_with(|| {
                    distinct.push(p.clone());
                    owners.push(Vec::new());
                    distinct.len() - 1
                });
                owners[i].push((list as u32, rank as u32));
            }
        }
        let ac = literal_automaton(&distinct).map_err(|e| format!("phrase list: {e}"))?;
        let bank = Bank {
            ac,
            owners,
            lists: self.lists.len(),
            id: BANK_IDS.fetch_add(1, Ordering::Relaxed),
        };
        self.bank
            .set(bank)
            .map_err(|_| "phrase book finished twice".to_string())
    }
}

/// One text folded and scanned with a book's automaton: every phrase occurrence of every list,
/// at original offsets, unfiltered. A slice of the text is answered from it: an occurrence
/// inside the slice is one the slice's own fold and scan would find (folding is per character
/// but for whitespace runs, and a phrase neither starts nor ends with whitespace), and the
/// slice's own fold finds no other. Word boundaries are then checked at the slice's edges as a
/// search of the slice alone would.
struct Scan {
    bank: usize,
    /// Where the scanned text was (address): where to look for a slice's offset. A slice is
    /// answered only when its bytes equal the text's there, whatever the address now holds;
    /// an equal text elsewhere is answered too.
    from: usize,
    text: String,
    /// The text's fold, which the axis values read too (`fold_shared`).
    folded: Rc<Folded>,
    /// Per list: (start, end, rank), in order.
    hits: Vec<Vec<(u32, u32, u32)>>,
}

/// Texts this thread scanned last, most recent first: a unit, its slices' questions, and the
/// odd lead-in or condition asked about in between.
const RECENT_SCANS: usize = 8;

thread_local! {
    static SCANS: RefCell<Vec<Rc<Scan>>> = const { RefCell::new(Vec::new()) };
}

/// The fold of `t`: a phrase scan's, when this thread scanned `t` itself (the axis values
/// read a unit right after the cue lists), else folded now.
pub(super) fn fold_shared(t: &str) -> Rc<Folded> {
    SCANS
        .with(|scans| {
            scans
                .borrow()
                .iter()
                .find(|s| s.text == t)
                .map(|s| s.folded.clone())
        })
        .unwrap_or_else(|| Rc::new(fold(t)))
}

/// Forgets this thread's scans (tests: a search after it scans afresh).
#[cfg(test)]
fn forget_scans() {
    SCANS.with(|scans| scans.borrow_mut().clear());
}

/// How many scans this thread keeps (tests).
#[cfg(test)]
fn scans_kept() -> usize {
    SCANS.with(|scans| scans.borrow().len())
}

impl Bank {
    fn scan(&self, t: &str) -> Scan {
        let f = Rc::new(fold(t));
        let mut hits: Vec<Vec<(u32, u32, u32)>> = vec![Vec::new(); self.lists];
        for m in self.ac.find_overlapping_iter(&f.text) {
            let h = f.hit(t, m.start(), m.end());
            for &(list, rank) in &self.owners[m.pattern().as_usize()] {
                hits[list as usize].push((h.start as u32, h.end as u32, rank));
            }
        }
        for list in &mut hits {
            list.sort_unstable();
        }
        Scan {
            bank: self.id,
            from: t.as_ptr() as usize,
            text: t.to_string(),
            folded: f,
            hits,
        }
    }

    /// The scan `t` is (a slice of), and `t`'s offset in it.
    fn scan_of(&self, t: &str) -> (Rc<Scan>, usize) {
        SCANS.with(|scans| {
            let mut scans = scans.borrow_mut();
            let at = t.as_ptr() as usize;
            // A slice of a scanned text, or a copy of one (a lead-in masked again for each
            // item under it).
            let found = scans.iter().filter(|s| s.bank == self.id).find_map(|s| {
                let inside = at.checked_sub(s.from).and_then(|a| {
                    let held = s.text.as_bytes().get(a..a.checked_add(t.len())?)?;
                    (held == t.as_bytes()).then_some(a)
                });
                inside
                    .or_else(|| (s.text == t).then_some(0))
                    .map(|a| (s.clone(), a))
            });
            if let Some(found) = found {
                return found;
            }
            let scan = Rc::new(self.scan(t));
            scans.truncate(RECENT_SCANS - 1);
            scans.insert(0, scan.clone());
            (scan, 0)
        })
    }
}

/// A list of literal phrases (a list of a `PhraseBook`).
#[derive(Debug)]
pub struct PhraseSet {
    bank: Arc<OnceLock<Bank>>,
    list: usize,
}

impl PhraseSet {
    /// A list in a book of its own.
    pub fn new(phrases: &[String]) -> Result<PhraseSet, String> {
        let mut book = PhraseBook::default();
        let set = book.add(phrases);
        book.finish()?;
        Ok(set)
    }

    /// Non-overlapping matches, leftmost first, as `Regex::find_iter` would give them.
    pub fn find_iter<'t>(&self, t: &'t str) -> Vec<Hit<'t>> {
        leftmost_first(self.candidates(t).collect())
    }

    pub fn find<'t>(&self, t: &'t str) -> Option<Hit<'t>> {
        self.find_iter(t).into_iter().next()
    }

    /// Whether `find_iter` would find anything: whether any candidate exists (the first one
    /// answers).
    pub fn is_match(&self, t: &str) -> bool {
        self.candidates(t).next().is_some()
    }

    /// Every phrase occurrence on word boundaries, tagged with its rank (longest first),
    /// ordered by start.
    fn candidates<'t>(&self, t: &'t str) -> impl Iterator<Item = (Hit<'t>, usize)> + 't {
        let found = self.bank.get().map(|bank| bank.scan_of(t));
        debug_assert!(found.is_some(), "phrase book not finished");
        let list = self.list;
        let bytes = t.as_bytes();
        found.into_iter().flat_map(move |(scan, a)| {
            let first = scan.hits[list].partition_point(|h| (h.0 as usize) < a);
            (first..scan.hits[list].len())
                .map(move |i| {
                    let (s, e, rank) = scan.hits[list][i];
                    (s as usize - a, e as usize - a, rank as usize)
                })
                .take_while(move |&(s, _, _)| s < t.len())
                .filter(move |&(s, e, _)| e <= t.len() && boundary(bytes, s) && boundary(bytes, e))
                .map(move |(start, end, rank)| {
                    (
                        Hit {
                            text: t,
                            start,
                            end,
                        },
                        rank,
                    )
                })
        })
    }
}

/// What an alternation's `find_iter` reports from candidate matches tagged with the rank of
/// their alternative: at the leftmost start the best-ranked one, then the next candidate that
/// starts at or after its end.
pub fn leftmost_first(mut candidates: Vec<(Hit<'_>, usize)>) -> Vec<Hit<'_>> {
    candidates.sort_unstable_by_key(|(h, rank)| (h.start, *rank));
    let mut out: Vec<Hit> = Vec::new();
    for (h, _) in candidates {
        if out.last().is_none_or(|l| h.start >= l.end) {
            out.push(h);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &[&str]) -> PhraseSet {
        PhraseSet::new(&p.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn spans(s: &PhraseSet, t: &str) -> Vec<(usize, usize)> {
        s.find_iter(t)
            .iter()
            .map(|h| (h.start(), h.end()))
            .collect()
    }

    const PHRASES: [&str; 7] = [
        "you must not",
        "you must",
        "don't",
        "never",
        "no",
        "not only",
        "a bit of",
    ];
    const TEXTS: [&str; 6] = [
        "You must not share it; you  MUST\tshare it.",
        "Don\u{2019}t do that, don't. Not only this; nothing, no-one, NO",
        "notably never-ending a bit\nof luck",
        "_never never_ xnever never",
        "caf\u{e9} no caf\u{e9}no \u{2019}no",
        "",
    ];

    /// Every case is checked against the regex the phrase list used to be.
    #[test]
    fn matches_like_the_regex_alternation() {
        let (phrases, texts) = (PHRASES, TEXTS);
        let s = set(&phrases);
        let re = reference(&phrases);
        for t in texts {
            let want: Vec<(usize, usize)> = re.find_iter(t).map(|m| (m.start(), m.end())).collect();
            assert_eq!(spans(&s, t), want, "{t:?}");
        }
    }

    #[test]
    fn folding_maps_back_to_original_offsets() {
        let f = fold("A  b\u{2019}C\u{e9}");
        assert_eq!(f.text, "a b'c\u{e9}");
        assert_eq!(f.orig, Some(vec![0, 1, 3, 4, 7, 8, 9, 10]));
    }

    /// The in-place fold gives the text and offsets the general one gives.
    #[test]
    fn folding_in_place_is_the_general_fold() {
        for t in [
            "Be Brief.\tUse\nBullets",
            "caf\u{e9} \u{e9}T\u{c9} \u{212a}elvin",
            "",
            " ",
            "a\r\nb",
            "x  y",
            "don\u{2019}t",
        ] {
            let f = fold(t);
            let general = fold_general(t);
            assert_eq!(f.text, general.text, "{t:?}");
            for i in 0..=f.text.len() {
                assert_eq!(
                    f.hit(t, i, i).start(),
                    general.hit(t, i, i).start(),
                    "{t:?} {i}"
                );
            }
            assert_eq!(
                f.orig.is_none(),
                !t.contains("\r\n") && !t.contains("  ") && !t.contains('\u{2019}'),
                "{t:?}"
            );
        }
    }

    #[test]
    fn the_dfa_finds_what_the_nfa_finds() {
        let (s, texts) = (set(&PHRASES), TEXTS);
        forget_scans();
        let before: Vec<_> = texts.iter().map(|t| spans(&s, t)).collect();
        let ac = &s.bank.get().expect("finished").ac;
        ac.force_dfa();
        assert!(ac.has_dfa(), "the DFA was not built");
        forget_scans();
        let after: Vec<_> = texts.iter().map(|t| spans(&s, t)).collect();
        assert_eq!(before, after);
        assert!(before.iter().any(|v| !v.is_empty()));
    }

    /// The axis values take a scanned unit's fold from its scan; any other text is folded.
    #[test]
    fn a_scanned_texts_fold_is_shared_and_is_its_fold() {
        let s = set(&PHRASES);
        for t in TEXTS {
            forget_scans();
            let unscanned = fold_shared(t);
            assert!(!Rc::ptr_eq(&unscanned, &fold_shared(t)));
            spans(&s, t);
            let shared = fold_shared(t);
            assert!(Rc::ptr_eq(&shared, &fold_shared(t)), "{t:?}");
            let fresh = fold(t);
            assert_eq!(shared.text, fresh.text);
            let n = fresh.text.len();
            assert_eq!(shared.hit(t, 0, n), fresh.hit(t, 0, n), "{t:?}");
        }
    }

    /// The regex a phrase list used to be.
    fn reference(phrases: &[&str]) -> regex::Regex {
        let owned: Vec<String> = phrases.iter().map(|p| p.to_string()).collect();
        let mut sorted: Vec<&String> = owned.iter().collect();
        sorted.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let alt = sorted
            .iter()
            .map(|p| crate::checks::directive::phrase_pattern(p))
            .collect::<Vec<_>>()
            .join("|");
        regex::RegexBuilder::new(&format!("(?i)(?-u:\\b)(?:{alt})(?-u:\\b)"))
            .unicode(false)
            .build()
            .unwrap()
    }

    /// Every slice of a scanned text, and a copy of it, is answered from the text's scan, as
    /// the regex finds in the slice alone: word boundaries at the slice's edges, whitespace
    /// runs cut by them.
    #[test]
    fn slices_are_answered_from_the_whole_texts_scan() {
        let s = set(&PHRASES);
        let re = reference(&PHRASES);
        for t in TEXTS {
            let t = t.to_string();
            forget_scans();
            spans(&s, &t);
            let bounds: Vec<usize> = (0..=t.len()).filter(|&i| t.is_char_boundary(i)).collect();
            for &a in &bounds {
                for &b in bounds.iter().filter(|&&b| b >= a) {
                    let slice = &t[a..b];
                    let want: Vec<(usize, usize)> =
                        re.find_iter(slice).map(|m| (m.start(), m.end())).collect();
                    assert_eq!(spans(&s, slice), want, "{t:?}[{a}..{b}]");
                }
            }
            let copy = t.clone();
            assert_eq!(spans(&s, &copy), spans(&s, &t));
            assert_eq!(
                scans_kept(),
                1,
                "a slice or copy of {t:?} was scanned again"
            );
        }
    }

    /// Lists of one book sharing phrases, at other ranks, find what each finds alone.
    #[test]
    fn lists_of_a_book_find_what_they_find_alone() {
        let lists: [&[&str]; 3] = [
            &["no", "not only", "never"],
            &["not", "no", "you must"],
            &["don't", "no", "a bit of", "not only"],
        ];
        let mut book = PhraseBook::default();
        let owned: Vec<Vec<String>> = lists
            .iter()
            .map(|l| l.iter().map(|p| p.to_string()).collect())
            .collect();
        let sets: Vec<PhraseSet> = owned.iter().map(|l| book.add(l)).collect();
        book.finish().unwrap();
        let mut found = 0;
        for t in TEXTS {
            for (set, phrases) in sets.iter().zip(lists) {
                let want: Vec<(usize, usize)> = reference(phrases)
                    .find_iter(t)
                    .map(|m| (m.start(), m.end()))
                    .collect();
                found += want.len();
                assert_eq!(spans(set, t), want, "{phrases:?} in {t:?}");
            }
        }
        assert!(found > 5);
    }
}
