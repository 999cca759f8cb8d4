//! Regexes compiled on first use.
//!
//! Start-up must stay cheap (a pre-commit run over a few files in well under 20 ms), so pack
//! regexes are syntax-checked when a pack loads — every pack error still surfaces at load,
//! naming the file, rule and key — but built into automata only when a rule first runs on a
//! prompt that passed its keyword prefilter. Most runs never build most of them, and a
//! `LazyRegex` answers its first texts with regex-lite, which builds several times faster, before
//! it builds the full regex (see `LITE_BUDGET` and `lite_exact`); one run over whole texts builds
//! the full regex at once (`whole_texts`). The full regex has no literal prefilter
//! (`build_full`).

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::Regex;
#[cfg(test)]
use regex::RegexBuilder;
use regex_automata::meta;
use regex_automata::util::syntax;
use regex_automata::Input;

/// Compiled-size cap for one pack regex.
const SIZE_LIMIT: usize = 20 * (1 << 20);

/// One regex source matching any of `patterns` (each wrapped in a group, so alternations and
/// flags inside a pattern stay local to it).
pub fn alternation(patterns: &[String]) -> String {
    patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|")
}

/// A regex matching any of `patterns`, built now; `None` for an empty list.
pub fn any_of(patterns: &[String]) -> Result<Option<Regex>, regex::Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    Regex::new(&alternation(patterns)).map(Some)
}

/// The `regex` crate's build of a vocabulary pattern, as `LazyRegex::vocab` builds it: the
/// tests' reference for the engines a run uses.
#[cfg(test)]
pub fn ascii_first(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .build()
        .or_else(|_| RegexBuilder::new(pattern).size_limit(SIZE_LIMIT).build())
}

/// A regex built as the `regex` crate builds one (leftmost-first, on UTF-8 text, the same
/// syntax and size cap) but without a literal prefilter. Working out a prefilter's literals is
/// most of the build of a long alternation (a case-insensitive list of a few words spent 0.8 of
/// its 0.9 ms there), and a pre-commit run builds dozens of regexes to search a few kilobytes.
/// Whole repositories, where searching outweighs building, ran within 3% either way.
///
/// A pattern over the size cap is built again with the prefilter: a long plain list of words
/// then runs as Aho-Corasick without an NFA, so it builds as it would with the `regex` crate.
/// Errors read as the `regex` crate's.
fn build_full(pattern: &str, unicode: bool) -> Result<meta::Regex, String> {
    let build = |prefilter: bool| {
        meta::Builder::new()
            .configure(
                meta::Config::new()
                    .utf8_empty(true)
                    .nfa_size_limit(Some(SIZE_LIMIT))
                    .hybrid_cache_capacity(2 * (1 << 20))
                    .auto_prefilter(prefilter),
            )
            .syntax(syntax::Config::new().unicode(unicode))
            .build(pattern)
            .map_err(Box::new)
    };
    build(false)
        .or_else(|e| match e.size_limit() {
            Some(_) => build(true),
            None => Err(e),
        })
        .map_err(|e| match (e.size_limit(), e.syntax_error()) {
            (Some(limit), _) => format!("Compiled regex exceeds size limit of {limit} bytes."),
            (None, Some(syntax)) => syntax.to_string(),
            (None, None) => e.to_string(),
        })
}

/// A lazily built regex matching any of `patterns` (built-in data: syntax checked by tests).
pub fn lazy_any_of(patterns: &[String]) -> LazyRegex {
    LazyRegex::unchecked(alternation(patterns))
}

/// Haystack bytes one regex answers with its regex-lite form before the full regex is built.
/// regex-lite builds several times faster and searches tens of times slower: a run that asks
/// about a few names or short texts (a pre-commit run) never pays for the full build, and a
/// run that asks about many pays a bounded share of a build in slow searches first. Its
/// searches slow down with the pattern's size, and so does the full build, but not in step:
/// long alternations get fewer bytes (`LITE_WORK` divided by the pattern's length).
const LITE_BUDGET: usize = 1024;
const LITE_WORK: usize = 512 * 1024;

fn lite_budget(pattern_len: usize) -> usize {
    (LITE_WORK / pattern_len.max(1)).min(LITE_BUDGET)
}

#[derive(Debug)]
pub struct LazyRegex {
    pattern: Cow<'static, str>,
    /// Built without Unicode tables when the pattern allows it (see `vocab`).
    ascii: bool,
    /// Whether regex-lite answers its first texts (not for regexes run over whole texts).
    starts_lite: bool,
    compiled: OnceLock<Option<meta::Regex>>,
    lite: OnceLock<Option<regex_lite::Regex>>,
    /// Haystack bytes regex-lite has answered for (see `LITE_BUDGET`).
    lite_spent: AtomicUsize,
    /// Bytes one of which every match holds (`needing`): a text without any is answered
    /// "no match" by a byte search, without an engine. Empty: no such promise.
    needs: &'static [u8],
    /// Bytes one of which every match may hold (`near`), and, once the promise is proven
    /// from the pattern, the longest a match can be: matches are then searched for only in
    /// windows around those bytes (`windows`).
    near: Vec<u8>,
    reach: OnceLock<Option<usize>>,
    /// The full regex that debug builds check regex-lite's answers against.
    #[cfg(debug_assertions)]
    checker: OnceLock<Option<meta::Regex>>,
    /// Whether the `needs` promise holds, worked out once by debug builds.
    #[cfg(debug_assertions)]
    needs_proven: OnceLock<bool>,
}

impl LazyRegex {
    /// Checks `pattern`'s syntax now; builds it later.
    pub fn new(pattern: &str) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        Ok(LazyRegex::unchecked(pattern.to_string()))
    }

    const fn with(pattern: Cow<'static, str>, ascii: bool, starts_lite: bool) -> LazyRegex {
        LazyRegex {
            pattern,
            ascii,
            starts_lite,
            compiled: OnceLock::new(),
            lite: OnceLock::new(),
            lite_spent: AtomicUsize::new(0),
            needs: &[],
            near: Vec::new(),
            reach: OnceLock::new(),
            #[cfg(debug_assertions)]
            checker: OnceLock::new(),
            #[cfg(debug_assertions)]
            needs_proven: OnceLock::new(),
        }
    }

    /// The same regex, promising that every match holds one of `bytes`: whole-text regexes
    /// run without a literal prefilter (see `build_full`), and most texts lack the one
    /// character their matches need (`{`, `#`, `<`...). Debug builds prove the promise from
    /// the pattern's syntax on first use (`every_match_holds_one_of`).
    pub const fn needing(mut self, bytes: &'static [u8]) -> LazyRegex {
        self.needs = bytes;
        self
    }

    /// The same regex, searched for only near `bytes` when every match holds one of them and
    /// matches have a greatest length, both proven from the pattern on first use (else it is
    /// searched as usual). A regex run over whole prompts whose matches need a digit (phone
    /// numbers, card numbers) then scans a few windows around the digits, not all the prose.
    pub fn near(mut self, bytes: Vec<u8>) -> LazyRegex {
        self.near = bytes;
        self
    }

    /// The longest a match can be, when every match holds one of the `near` bytes.
    pub(crate) fn reach(&self) -> Option<usize> {
        *self.reach.get_or_init(|| {
            if self.near.is_empty() || !every_match_holds_one_of(&self.pattern, &self.near) {
                return None;
            }
            let hir = regex_syntax::Parser::new().parse(&self.pattern).ok()?;
            hir.properties().maximum_len()
        })
    }

    /// Whether `text` holds a byte every match needs (always, without a `needing` promise).
    fn may_match(&self, text: &str) -> bool {
        self.needs.is_empty() || self.needs.iter().any(|b| text.as_bytes().contains(b))
    }

    /// Skips the syntax check: for built-in vocabularies, which the pack tests build in full
    /// (`force`), and whose syntax check alone would cost more than a pre-commit run.
    pub fn unchecked(pattern: String) -> LazyRegex {
        LazyRegex::with(Cow::Owned(pattern), false, true)
    }

    /// A fixed pattern of the source, like `unchecked`, for a `static`.
    pub const fn fixed(pattern: &'static str) -> LazyRegex {
        LazyRegex::with(Cow::Borrowed(pattern), false, true)
    }

    /// A fixed pattern run over whole prompt or file texts, built in full when first used:
    /// such texts would soon spend regex-lite's budget, after paying for its build too.
    pub const fn whole_texts(pattern: &'static str) -> LazyRegex {
        LazyRegex::with(Cow::Borrowed(pattern), false, false)
    }

    /// A built-in English vocabulary regex (unchecked, like `unchecked`), built by
    /// `ascii_first`.
    pub fn vocab(pattern: String) -> LazyRegex {
        LazyRegex::with(Cow::Owned(pattern), true, true)
    }

    /// A vocabulary regex without Unicode tables when it allows it (ASCII case folding, `\s`
    /// and classes: several times cheaper to build), else with them (a class that could match
    /// a non-ASCII byte needs Unicode); any other with Unicode (see `build_full`).
    fn build(&self) -> Result<meta::Regex, String> {
        let built = if self.ascii {
            build_full(&self.pattern, false).or_else(|_| build_full(&self.pattern, true))
        } else {
            build_full(&self.pattern, true)
        };
        // The source's own patterns (`fixed`, `whole_texts`) must build. The tests reach every
        // one (debug builds check regex-lite's answers with this build too), so a broken one
        // fails them instead of never matching.
        debug_assert!(
            built.is_ok() || matches!(self.pattern, Cow::Owned(_)),
            "/{}/: {:?}",
            self.pattern,
            built.as_ref().err()
        );
        built
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The compiled regex; `None` only if it exceeds the size cap (checked by `force`).
    fn get(&self) -> Option<&meta::Regex> {
        self.compiled.get_or_init(|| self.build().ok()).as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        match self.engine(text) {
            Some(Engine::Full(r)) => r.is_match(text),
            Some(Engine::Lite(lite)) => {
                let found = lite.is_match(text);
                self.verify(text, &found, |r| r.is_match(text));
                found
            }
            None => false,
        }
    }

    /// Every non-overlapping match's groups, leftmost first (`Regex::captures_iter`).
    pub fn captures_iter<'t>(&self, text: &'t str) -> Vec<Captures<'t>> {
        match self.engine(text) {
            Some(Engine::Full(r)) => {
                let Some(reach) = self.reach() else {
                    return full_captures(r, text);
                };
                // The check `verify` makes holds the windows to the whole-text answer.
                let near: Vec<Captures<'t>> = windows(text, &self.near, reach)
                    .into_iter()
                    .flat_map(|w| r.captures_iter(Input::new(text).span(w)))
                    .map(|c| Captures::Full(c, text))
                    .collect();
                self.verify(text, &spans(&near), |r| spans(&full_captures(r, text)));
                near
            }
            Some(Engine::Lite(lite)) => {
                let all: Vec<Captures<'t>> = lite.captures_iter(text).map(Captures::Lite).collect();
                self.verify(text, &spans(&all), |r| spans(&full_captures(r, text)));
                all
            }
            None => Vec::new(),
        }
    }

    /// Every non-overlapping match's byte range, leftmost first (`Regex::find_iter`).
    pub fn find_iter(&self, text: &str) -> Vec<(usize, usize)> {
        match self.engine(text) {
            Some(Engine::Full(r)) => r.find_iter(text).map(|m| (m.start(), m.end())).collect(),
            Some(Engine::Lite(lite)) => {
                let all: Vec<(usize, usize)> =
                    lite.find_iter(text).map(|m| (m.start(), m.end())).collect();
                self.verify(text, &all, |r| {
                    r.find_iter(text).map(|m| (m.start(), m.end())).collect()
                });
                all
            }
            None => Vec::new(),
        }
    }

    /// The leftmost match's groups (`Regex::captures`).
    pub fn captures<'t>(&self, text: &'t str) -> Option<Captures<'t>> {
        let full = |r: &meta::Regex| {
            r.captures_iter(text)
                .next()
                .map(|c| Captures::Full(c, text))
        };
        match self.engine(text)? {
            Engine::Full(r) => full(r),
            Engine::Lite(lite) => {
                let first = lite.captures(text).map(Captures::Lite);
                self.verify(text, &spans(first.as_slice()), |r| {
                    spans(full(r).as_slice())
                });
                first
            }
        }
    }

    /// The engine to answer for `text`: the full regex once built, else regex-lite while it
    /// answers exactly and its budget lasts, else the full regex, built now. A pattern over the
    /// full regex's size cap (`force` reports it; a user's may only show at run time) keeps
    /// regex-lite for every ASCII text, so which texts match never depends on the order they
    /// come in; `None` then for the others.
    fn engine(&self, text: &str) -> Option<Engine<'_>> {
        #[cfg(debug_assertions)]
        assert!(
            *self.needs_proven.get_or_init(|| {
                self.needs.is_empty() || every_match_holds_one_of(&self.pattern, self.needs)
            }),
            "/{}/: not every match holds one of {:?}",
            self.pattern,
            self.needs
        );
        if !self.may_match(text) {
            return None;
        }
        if self.compiled.get().is_none() {
            if let Some(lite) = self.lite_for(text, false) {
                return Some(Engine::Lite(lite));
            }
        }
        match self.get() {
            Some(full) => Some(Engine::Full(full)),
            None => self.lite_for(text, true).map(Engine::Lite),
        }
    }

    /// Debug builds (so every test run) check each quicker answer (regex-lite's, or a search
    /// near the `near` bytes) against the full regex on the whole text.
    #[cfg_attr(not(debug_assertions), allow(unused_variables))]
    fn verify<T: PartialEq + std::fmt::Debug>(
        &self,
        text: &str,
        quick: &T,
        full: impl FnOnce(&meta::Regex) -> T,
    ) {
        #[cfg(debug_assertions)]
        if let Some(checker) = self.checker.get_or_init(|| self.build().ok()) {
            assert_eq!(
                quick,
                &full(checker),
                "the quick answer and the full regex disagree: /{}/ on {text:?}",
                self.pattern
            );
        }
    }

    /// The regex-lite form of the pattern, when it answers exactly as the full regex on `text`
    /// (see `lite_exact`) and the budget covers `text` (or `unbudgeted`).
    fn lite_for(&self, text: &str, unbudgeted: bool) -> Option<&regex_lite::Regex> {
        if (!self.starts_lite && !unbudgeted) || !text.is_ascii() {
            return None;
        }
        // Unit tests let regex-lite answer every ASCII text, so `verify` compares the two
        // engines on every text the pack and extractor tests give them.
        let budget = if cfg!(test) || unbudgeted {
            usize::MAX
        } else {
            lite_budget(self.pattern.len())
        };
        self.lite_spent
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |spent| {
                spent.checked_add(text.len()).filter(|s| *s <= budget)
            })
            .ok()?;
        self.lite
            .get_or_init(|| {
                lite_exact(&self.pattern)
                    .then(|| regex_lite::Regex::new(&self.pattern).ok())
                    .flatten()
            })
            .as_ref()
    }

    /// Builds it now and reports a failure (for pack tests).
    pub fn force(&self) -> Result<(), String> {
        self.build().map(|_| ())
    }
}

/// Whether regex-lite finds on every ASCII text what regex finds for `pattern` (when it builds
/// it: it has no `\p{..}`). The two differ only in Unicode: regex-lite's `\w`, `\d`, `\s` and
/// `\b` are ASCII, which on ASCII text select what the Unicode classes select, and its case
/// folding is ASCII. Unicode folding maps just two non-ASCII characters onto ASCII letters, the
/// Kelvin sign and the long s, so a case-insensitive pattern must not be able to name either:
/// no hex escape and no class range with a non-ASCII end. One syntax difference: regex-lite
/// case folds a class after negating a `[:^class:]` inside it, regex before. (A review found
/// these by hand; the debug check in `verify` compares the engines on every test text.)
fn lite_exact(pattern: &str) -> bool {
    if folds_onto_ascii(pattern) {
        return false;
    }
    // The flags a group turns on (`(?is)`, `(?i-s:`); not those after `-`.
    let enabled = |flag: u8| {
        pattern.match_indices("(?").any(|(at, _)| {
            pattern[at + 2..]
                .bytes()
                .take_while(|b| b.is_ascii_alphabetic())
                .any(|b| b == flag)
        })
    };
    // Verbose mode lets whitespace and comments hide a flag group or a range from the checks
    // below: leave such patterns to the full regex.
    if enabled(b'x') {
        return false;
    }
    if !enabled(b'i') {
        return true;
    }
    let chars: Vec<char> = pattern.chars().collect();
    let non_ascii_range = chars
        .windows(3)
        .any(|w| w[1] == '-' && (!w[0].is_ascii() || !w[2].is_ascii()));
    // regex-lite negates a `[:^class:]` before case folding the class around it, regex after.
    !non_ascii_range
        && !pattern.contains("[:^")
        && !["\\x", "\\u", "\\U"].iter().any(|e| pattern.contains(e))
}

enum Engine<'r> {
    Full(&'r meta::Regex),
    Lite(&'r regex_lite::Regex),
}

/// One match's groups, from whichever engine answered (see `LazyRegex::engine`).
pub enum Captures<'t> {
    Full(regex_automata::util::captures::Captures, &'t str),
    Lite(regex_lite::Captures<'t>),
}

/// A group's text and byte range, as `regex::Match` gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Group<'t> {
    start: usize,
    end: usize,
    text: &'t str,
}

impl<'t> Group<'t> {
    pub fn start(&self) -> usize {
        self.start
    }
    pub fn end(&self) -> usize {
        self.end
    }
    pub fn as_str(&self) -> &'t str {
        self.text
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

impl<'t> Captures<'t> {
    pub fn get(&self, i: usize) -> Option<Group<'t>> {
        match self {
            Captures::Full(c, text) => c.get_group(i).map(|s| (s.start, s.end, &text[s.range()])),
            Captures::Lite(c) => c.get(i).map(|m| (m.start(), m.end(), m.as_str())),
        }
        .map(|(start, end, text)| Group { start, end, text })
    }

    pub fn name(&self, name: &str) -> Option<Group<'t>> {
        match self {
            Captures::Full(c, text) => c
                .get_group_by_name(name)
                .map(|s| (s.start, s.end, &text[s.range()])),
            Captures::Lite(c) => c.name(name).map(|m| (m.start(), m.end(), m.as_str())),
        }
        .map(|(start, end, text)| Group { start, end, text })
    }

    /// The number of groups, group 0 included.
    pub fn group_len(&self) -> usize {
        match self {
            Captures::Full(c, _) => c.group_len(),
            Captures::Lite(c) => c.len(),
        }
    }
}

/// Every group of every match (for the debug check of the two engines, and tests).
pub(crate) fn spans(all: &[Captures<'_>]) -> Vec<Vec<Option<(usize, usize)>>> {
    all.iter()
        .map(|c| {
            (0..c.group_len())
                .map(|i| c.get(i).map(|g| (g.start, g.end)))
                .collect()
        })
        .collect()
}

/// Every match's groups of the full regex over the whole text.
fn full_captures<'t>(r: &meta::Regex, text: &'t str) -> Vec<Captures<'t>> {
    r.captures_iter(text)
        .map(|c| Captures::Full(c, text))
        .collect()
}

/// The spans of `text` a match holding one of `bytes` and at most `reach` bytes long can lie
/// in: around each such byte, `reach` bytes either way (widened to character boundaries),
/// overlapping ones merged. A match lies wholly in one of them, and a search of a span still
/// sees the text around it for `\b` and other look-arounds, so the spans searched in order
/// find what a search of the whole text finds.
fn windows(text: &str, bytes: &[u8], reach: usize) -> Vec<std::ops::Range<usize>> {
    let mut wanted = [false; 256];
    for &b in bytes {
        wanted[b as usize] = true;
    }
    let mut out: Vec<std::ops::Range<usize>> = Vec::new();
    for (at, b) in text.bytes().enumerate() {
        if !wanted[b as usize] {
            continue;
        }
        let start = crate::span::floor_char_boundary(text, at.saturating_sub(reach));
        let end =
            crate::span::ceil_char_boundary(text, at.saturating_add(reach + 1).min(text.len()));
        match out.last_mut() {
            Some(last) if start <= last.end => last.end = last.end.max(end),
            _ => out.push(start..end),
        }
    }
    out
}

/// Whether every match of `pattern` holds one of `bytes`, judged from its syntax alone: a
/// literal holding one, a class of nothing else, a concatenation with such a part, an
/// alternation of such branches, or a repetition of at least one of them. `false` whenever
/// that cannot be shown (a look-around, an optional part, a wide class).
pub(crate) fn every_match_holds_one_of(pattern: &str, bytes: &[u8]) -> bool {
    use regex_syntax::hir::{Class, Hir, HirKind};
    fn holds(h: &Hir, bytes: &[u8]) -> bool {
        let needed = |c: u32| c < 0x80 && bytes.contains(&(c as u8));
        match h.kind() {
            HirKind::Literal(l) => l.0.iter().any(|b| bytes.contains(b)),
            HirKind::Class(Class::Unicode(c)) => c
                .ranges()
                .iter()
                .all(|r| (r.start() as u32..=r.end() as u32).all(needed)),
            HirKind::Class(Class::Bytes(c)) => c
                .ranges()
                .iter()
                .all(|r| (r.start() as u32..=r.end() as u32).all(needed)),
            HirKind::Repetition(r) => r.min >= 1 && holds(&r.sub, bytes),
            HirKind::Capture(c) => holds(&c.sub, bytes),
            HirKind::Concat(parts) => parts.iter().any(|p| holds(p, bytes)),
            HirKind::Alternation(branches) => branches.iter().all(|b| holds(b, bytes)),
            HirKind::Empty | HirKind::Look(_) => false,
        }
    }
    regex_syntax::Parser::new()
        .parse(pattern)
        .is_ok_and(|hir| holds(&hir, bytes))
}

/// Whether `text` holds one of the two non-ASCII characters Unicode simple case folding maps
/// onto ASCII letters: the Kelvin sign (`k`) and the long s (`s`).
pub(crate) fn folds_onto_ascii(text: &str) -> bool {
    // Whole prompts go through here: an ASCII check and substring searches run many times
    // faster than decoding every char to compare it with both.
    !text.is_ascii() && (text.contains('\u{212A}') || text.contains('\u{17F}'))
}

/// A vocabulary regex (built like `LazyRegex::vocab`) run only on texts that hold one of its
/// keys, ASCII case-insensitively. Every match of the pattern must hold a key (the caller's
/// promise: keys are words the pattern requires), so a text without any cannot match, and a
/// regex no text needs is never built. The Kelvin sign and the long s, which Unicode case
/// folding maps onto `k` and `s`, always pass, for a pattern that needed Unicode to build.
#[derive(Debug)]
pub struct KeyedRegex {
    keys: AhoCorasick,
    regex: LazyRegex,
}

impl KeyedRegex {
    pub fn new<'k>(
        pattern: String,
        keys: impl IntoIterator<Item = &'k str>,
    ) -> Result<KeyedRegex, String> {
        let keys = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .build(keys)
            .map_err(|e| e.to_string())?;
        Ok(KeyedRegex {
            keys,
            regex: LazyRegex::vocab(pattern),
        })
    }

    /// Whether `text` may hold a match.
    fn may_match(&self, text: &str) -> bool {
        self.keys.is_match(text) || folds_onto_ascii(text)
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.may_match(text) && self.regex.is_match(text)
    }

    /// Like `LazyRegex::captures_iter`, on a text that holds a key.
    pub fn captures_iter<'t>(&self, text: &'t str) -> Vec<Captures<'t>> {
        if !self.may_match(text) {
            return Vec::new();
        }
        self.regex.captures_iter(text)
    }

    pub fn force(&self) -> Result<(), String> {
        self.regex.force()
    }

    /// The pattern, for tests.
    #[cfg(test)]
    pub fn pattern(&self) -> &str {
        self.regex.pattern()
    }
}

/// A case-insensitive regex run as a case-sensitive one on ASCII-lowercased text, which builds
/// several times faster (`(?i)` makes every letter a class and multiplies the literals a
/// prefilter has to hold). Unicode simple case folding maps just two non-ASCII characters onto
/// ASCII letters, the Kelvin sign and the long s: a text holding either is searched with the
/// `(?i)` form, so the matches are the same either way. Lowercasing keeps byte offsets.
pub struct Caseless {
    /// The pattern without the `i` flag; its letters are lowercase.
    lower: LazyRegex,
    folding: OnceLock<LazyRegex>,
}

impl Caseless {
    /// For short texts (a line, a title): regex-lite answers the first ones.
    pub const fn new(pattern: &'static str) -> Caseless {
        Caseless {
            lower: LazyRegex::fixed(pattern),
            folding: OnceLock::new(),
        }
    }

    /// For whole texts (see `LazyRegex::whole_texts`).
    pub const fn whole_texts(pattern: &'static str) -> Caseless {
        Caseless {
            lower: LazyRegex::whole_texts(pattern),
            folding: OnceLock::new(),
        }
    }

    /// See `LazyRegex::needing`. The bytes must not be letters, which lowercasing changes.
    pub const fn needing(mut self, bytes: &'static [u8]) -> Caseless {
        let mut i = 0;
        while i < bytes.len() {
            assert!(!bytes[i].is_ascii_alphabetic(), "a needed byte is a letter");
            i += 1;
        }
        self.lower.needs = bytes;
        self
    }

    /// The regex to run and the haystack to run it on, with the byte offsets of `text`. A text
    /// without a byte every match needs is not lowercased: the regex answers it at once.
    pub fn on<'t>(&self, text: &'t str) -> (&LazyRegex, Cow<'t, str>) {
        if folds_onto_ascii(text) {
            return (self.folding(), Cow::Borrowed(text));
        }
        if !self.lower.may_match(text) {
            return (&self.lower, Cow::Borrowed(text));
        }
        (&self.lower, lowercased(text))
    }

    /// The `(?i)` form, for texts holding the Kelvin sign or the long s.
    fn folding(&self) -> &LazyRegex {
        self.folding
            .get_or_init(|| LazyRegex::unchecked(format!("(?i){}", self.pattern())))
    }

    pub fn is_match(&self, text: &str) -> bool {
        let (re, hay) = self.on(text);
        re.is_match(&hay)
    }

    pub fn pattern(&self) -> &str {
        self.lower.pattern()
    }

    /// Builds both forms now and reports a failure (for tests).
    pub fn force(&self) -> Result<(), String> {
        self.lower.force()?;
        self.folding().force()
    }
}

fn lowercased(text: &str) -> Cow<'_, str> {
    if text.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(text.to_ascii_lowercase())
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether `pattern` holds an ASCII uppercase letter outside escapes, group names and flag
/// groups: run case-sensitively on lowercased text, such a letter would never match.
#[cfg(test)]
pub fn has_uppercase_literal(pattern: &str) -> bool {
    let escape_or_group = Regex::new(r"\\.|\(\?P<\w+>|\(\?[a-zA-Z-]+[:)]").expect("regex");
    escape_or_group
        .replace_all(pattern, "")
        .chars()
        .any(|c| c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_bytes_are_proven_from_the_pattern() {
        // An optional, alternative, repeated-zero-times or wider part does not promise it.
        for (pattern, bytes, holds) in [
            (r"\{[a-z]+\}", &b"{"[..], true),
            (r"(?m)^[ \t]*(`{3,}|~{3,})", b"`~", true),
            (r"(?:Input|Output):", b":", true),
            (r"x(?:a|b)+;", b";", true),
            (r"[{}]", b"{}", true),
            (r"\{?[a-z]+", b"{", false),
            (r"\{|x", b"{", false),
            (r"(?:\{)*x", b"{", false),
            (r"[{x]", b"{", false),
            (r"[^a]", b"{", false),
            (r"(`{3,}|~{3,})", b"`", false),
            (r"\b", b"{", false),
            (r"(", b"(", false),
        ] {
            assert_eq!(
                every_match_holds_one_of(pattern, bytes),
                holds,
                "/{pattern}/"
            );
        }
    }

    /// A regex `needing` bytes answers a text without them as "no match" and others as
    /// before; `Caseless` does not lowercase such a text.
    #[test]
    fn a_needing_regex_answers_texts_without_its_bytes_at_once() {
        static FIELD: LazyRegex = LazyRegex::whole_texts(r"\{([a-z]+)\}").needing(b"{");
        static LABEL: Caseless = Caseless::whole_texts(r"(?m)^(input|output):").needing(b":");
        assert!(!FIELD.is_match("no fields here"));
        assert!(FIELD.captures_iter("no fields").is_empty());
        assert_eq!(FIELD.find_iter("a {name} b"), vec![(2, 8)]);
        assert!(FIELD.captures("x {y}").is_some());
        let (re, hay) = LABEL.on("INPUT but no colon");
        assert!(matches!(hay, Cow::Borrowed("INPUT but no colon")));
        assert!(re.find_iter(&hay).is_empty());
        let (re, hay) = LABEL.on("INPUT: hi");
        assert_eq!(re.find_iter(&hay), vec![(0, 6)]);
    }

    /// A regex searched near its bytes finds what the whole text gives: matches at the text's
    /// edges, next to words (`\b` at a window's edge), around non-ASCII characters, far apart
    /// and close together; a pattern that does not need the bytes is searched whole.
    #[test]
    fn searching_near_the_needed_bytes_finds_what_the_whole_text_gives() {
        const DIGITS: &[u8] = b"0123456789";
        let phone = r"(?-u:\b)(?P<value>[0-9]{3}[-. ][0-9]{4})(?-u:\b)|#[a-z]{2}[0-9]";
        let re = LazyRegex::whole_texts(phone).near(DIGITS.to_vec());
        assert_eq!(re.reach(), Some(8));
        let reference = Regex::new(phone).unwrap();
        let far = format!(
            "555-0100 {} x 867-5309 é{}#ab1",
            "prose ".repeat(40),
            "é".repeat(30)
        );
        for text in [
            "555-0100",
            "call 555-0100 or 867.5309, not 1555-01000 nor a555-0100",
            "x5555-0100 555-01001 555-0100x 555-0100_ é555-0100é",
            "no digits at all",
            "#ab1#cd2 555 0100555 0100",
            far.as_str(),
        ] {
            let want: Vec<Vec<Option<(usize, usize)>>> = reference
                .captures_iter(text)
                .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                .collect();
            assert_eq!(spans(&re.captures_iter(text)), want, "{text:?}");
        }
        assert!(LazyRegex::whole_texts(r"[0-9]?x")
            .near(DIGITS.to_vec())
            .reach()
            .is_none());
        assert!(LazyRegex::whole_texts(r"[0-9]+")
            .near(DIGITS.to_vec())
            .reach()
            .is_none());
        assert!(LazyRegex::whole_texts(r"[0-9]").reach().is_none());
    }

    #[test]
    fn windows_cover_the_reach_around_each_byte_and_merge() {
        assert_eq!(windows("ab1cdefgh2", b"12", 2), vec![0..5, 7..10]);
        assert_eq!(windows("ab1cd2", b"12", 2), vec![0..6]);
        assert_eq!(windows("\u{e9}\u{e9}1", b"1", 1), vec![2..5]);
        assert!(windows("none", b"1", 3).is_empty());
    }

    #[test]
    fn folds_onto_ascii_finds_the_kelvin_sign_and_the_long_s_anywhere() {
        for text in [
            "\u{212A}",
            "a \u{212A}elvin",
            "\u{17F}",
            "caf\u{e9} \u{17F}",
        ] {
            assert!(folds_onto_ascii(text), "{text:?}");
        }
        for text in [
            "",
            "Kelvin",
            "caf\u{e9} \u{2014} na\u{ef}ve \u{1F600}",
            "\u{212B}\u{17E}",
        ] {
            assert!(!folds_onto_ascii(text), "{text:?}");
        }
    }

    #[test]
    fn regex_lite_answers_as_regex_on_ascii_text() {
        let patterns = [
            r"(?i)^(?:current_?)?(?:date|time|now)$",
            r"(?-u:\b)(?:frozen)?set\s*\(",
            r"\bkeep\b|\w+_id\b|\d{3}-\d{4}",
            r"(?m)^[ \t]*(?:#+[ \t]+)?examples?:?\s*$",
            r"(?is)^\s*select\s.+\sfrom\s",
            r"[^,:;.]{1,12}[,:]",
        ];
        let texts = [
            "current_date",
            "CurrentTime",
            "NOW",
            "now_",
            "frozenset(x)",
            "subset(",
            "keep it",
            "user_id",
            "call 555-0100",
            "## Examples\n",
            "  example",
            "SELECT a\nFROM t ",
            "a, b",
            "",
            "\t\n",
            "x_y z",
            "Ab12_ - :",
        ];
        let mut matched = 0;
        for p in patterns {
            let full = Regex::new(p).unwrap();
            let lite = regex_lite::Regex::new(p).unwrap();
            for t in texts {
                assert_eq!(lite.is_match(t), full.is_match(t), "/{p}/ on {t:?}");
                matched += usize::from(full.is_match(t));
            }
        }
        assert!(matched >= 10, "the cases must match something: {matched}");
    }

    #[test]
    fn non_ascii_text_and_spent_budget_go_to_the_full_regex() {
        // Unicode case folding maps the Kelvin sign onto `k`: only the full regex knows.
        let r = LazyRegex::unchecked(r"(?i)^kelvin$".into());
        assert!(r.is_match("\u{212A}elvin"));
        assert!(r.lite.get().is_none() && r.compiled.get().is_some());

        let r = LazyRegex::unchecked(r"(?i)^(?:today|now)$".into());
        r.lite_spent.store(usize::MAX - 6, Ordering::Relaxed);
        assert!(
            r.is_match("Today") && r.compiled.get().is_none(),
            "within the budget: lite"
        );
        assert!(
            r.is_match("NOW") && r.compiled.get().is_some(),
            "past the budget: full"
        );
        assert!(!r.is_match("nowhere"));

        // A pattern regex-lite cannot build is answered by the full regex.
        let r = LazyRegex::unchecked(r"^\p{Lu}".into());
        assert!(r.is_match("Name") && !r.is_match("name"));
        assert!(r.lite.get().is_some_and(Option::is_none));
    }

    #[test]
    fn regex_lite_answers_only_where_case_folding_cannot_reach_ascii() {
        for (pattern, exact) in [
            (r"(?i)^(?:now|today)$", true),
            (r"(?-i:K)x", true),
            (r"(?:-|to|\u{2013})", true),
            ("(?i)(?:-|to|\u{2013})", true),
            (r"[\x{100}-\x{300}]", true),
            (r"(?i)[\x{100}-\x{300}]", false),
            ("(?i)[\u{100}-\u{300}]", false),
            (r"(?i)\u{17F}", false),
            ("(?is)\u{212A}", false),
            ("\u{212A}", false),
            // Verbose mode can hide a flag group or a range from the checks.
            (r"(?x)( ?i)\x{212A}", false),
            ("(?xi)[\u{100} - \u{1FF}]", false),
            (r"(?s-x)a", true),
            // regex-lite folds after negating a `[:^class:]`, regex before.
            (r"(?i)[[:^lower:]]", false),
            (r"[[:^lower:]]", true),
        ] {
            assert_eq!(lite_exact(pattern), exact, "{pattern}");
        }
        let full = |p: &str, t: &str| Regex::new(p).unwrap().is_match(t);
        for (p, t) in [
            (r"(?x)( ?i)\x{212A}", "k"),
            ("(?xi)[\u{100} - \u{1FF}]", "s"),
            (r"(?i)[[:^lower:]]", "a"),
            (r"(?i)[^[:^lower:]]", "a"),
        ] {
            assert_eq!(
                LazyRegex::unchecked(p.into()).is_match(t),
                full(p, t),
                "/{p}/ on {t}"
            );
        }
        // What the refused ones would get wrong: Unicode folding reaches `s` and `k`.
        let r = LazyRegex::unchecked(r"(?i)^[\x{100}-\x{300}]\x{212A}$".into());
        assert!(r.is_match("sk") && r.lite.get().is_some_and(Option::is_none));
    }

    #[test]
    fn lite_captures_and_spans_are_the_full_regexes() {
        let p = r"(?i)(?-u:\b)(?P<n>[0-9]+|two|three)\s+(?P<unit>words?|lines?)|(?P<empty>x*)";
        let full = Regex::new(p).unwrap();
        let lazy = LazyRegex::unchecked(p.into());
        let texts = ["Use 3 words, two LINES", "", "xx 12 lines", "three words"];
        for t in texts {
            let want: Vec<Vec<Option<(usize, usize)>>> = full
                .captures_iter(t)
                .map(|c| c.iter().map(|m| m.map(|m| (m.start(), m.end()))).collect())
                .collect();
            let got = spans(&lazy.captures_iter(t));
            assert_eq!(got, want, "{t:?}");
            let found: Vec<(usize, usize)> =
                full.find_iter(t).map(|m| (m.start(), m.end())).collect();
            assert_eq!(lazy.find_iter(t), found, "{t:?}");
        }
        assert!(lazy.compiled.get().is_none(), "the lite form answered");
        assert!(spans(&lazy.captures_iter("Use 3 words")).len() >= 2);
    }

    #[test]
    fn long_patterns_get_a_smaller_budget() {
        assert_eq!(lite_budget(30), 1024);
        assert_eq!(lite_budget(512), 1024);
        assert_eq!(lite_budget(1024), 512);
        assert_eq!(lite_budget(1322), 396);
        assert_eq!(lite_budget(6000), 87);
    }

    /// A long plain list of words builds as with the `regex` crate (as Aho-Corasick, with the
    /// prefilter, when the NFA would be over the cap), and errors read as the crate's.
    #[test]
    fn builds_and_fails_as_the_regex_crate() {
        let words: Vec<String> = (0..50_000)
            .map(|i| format!("word{i:07}xyzxyzxyzxyzxyz"))
            .collect();
        let long = alternation(&words);
        let crate_build = |p: &str| RegexBuilder::new(p).size_limit(SIZE_LIMIT).build();
        assert!(crate_build(&long).is_ok());
        let built = build_full(&long, true).unwrap();
        assert!(built.is_match("a word0012345xyzxyzxyzxyzxyz b"));
        assert!(!built.is_match("a word0012345xyzxyzxyzxyzxy b"));
        for broken in [r"\w{4000}x", r"(unclosed", r"[z-a]"] {
            assert_eq!(
                build_full(broken, true).unwrap_err(),
                crate_build(broken).unwrap_err().to_string()
            );
        }
    }

    #[test]
    fn a_pattern_over_the_size_cap_answers_ascii_texts_with_regex_lite() {
        // `\w` is Unicode in regex (a large automaton) and ASCII in regex-lite.
        let r = LazyRegex::unchecked(r"\w{4000}x".into());
        let text = format!("{}x", "a".repeat(4000));
        let before = r.is_match(&text);
        assert!(r.get().is_none(), "over the full regex's cap");
        assert_eq!(
            r.is_match(&text),
            before,
            "the same answer before and after"
        );
        assert!(before);
    }

    #[test]
    fn syntax_errors_surface_at_load() {
        assert!(LazyRegex::new("(unclosed").is_err());
        let r = LazyRegex::new(r"(?-u:\b)ab+c").unwrap();
        assert!(r.is_match("xx abbbc") && !r.is_match("ac"));
        assert!(r.force().is_ok());
    }
}
