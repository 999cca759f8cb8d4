//! Regexes compiled on first use.
//!
//! Start-up must stay cheap (a pre-commit run over a few files in well under 20 ms), so pack
//! regexes are syntax-checked when a pack loads — every pack error still surfaces at load,
//! naming the file, rule and key — but built into automata only when a rule first runs on a
//! prompt that passed its keyword prefilter. Most runs never build most of them.

use std::borrow::Cow;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};
use regex::{Regex, RegexBuilder};

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

/// Builds `pattern` without Unicode tables when it allows it (ASCII case folding, `\s` and
/// classes: several times cheaper to build), else with them (a class that could match a
/// non-ASCII byte needs Unicode). For the built-in English vocabularies.
pub fn ascii_first(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .unicode(false)
        .size_limit(SIZE_LIMIT)
        .build()
        .or_else(|_| RegexBuilder::new(pattern).size_limit(SIZE_LIMIT).build())
}

/// A lazily built regex matching any of `patterns` (built-in data: syntax checked by tests).
pub fn lazy_any_of(patterns: &[String]) -> LazyRegex {
    LazyRegex::unchecked(alternation(patterns))
}

/// Haystack bytes one regex answers `is_match` for with its regex-lite form before the full
/// regex is built. regex-lite builds about ten times faster and searches tens of times slower:
/// a run that only asks about a few names or short expressions (a pre-commit run) never pays
/// for the full build, and a run that asks about many pays at most about one build's worth of
/// slow searches first.
#[cfg(not(test))]
const LITE_BUDGET: usize = 1024;
/// Unit tests answer every ASCII text with regex-lite, so `is_match`'s debug check compares the
/// two engines on every text the pack and extractor tests give it.
#[cfg(test)]
const LITE_BUDGET: usize = usize::MAX;

#[derive(Debug)]
pub struct LazyRegex {
    pattern: Cow<'static, str>,
    /// Built without Unicode tables when the pattern allows it (see `vocab`).
    ascii: bool,
    compiled: OnceLock<Option<Regex>>,
    lite: OnceLock<Option<regex_lite::Regex>>,
    /// What is left of `LITE_BUDGET`.
    lite_budget: AtomicUsize,
    /// The full regex that debug builds check regex-lite's answers against.
    #[cfg(debug_assertions)]
    checker: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// Checks `pattern`'s syntax now; builds it later.
    pub fn new(pattern: &str) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        Ok(LazyRegex::with(Cow::Owned(pattern.to_string()), false))
    }

    const fn with(pattern: Cow<'static, str>, ascii: bool) -> LazyRegex {
        LazyRegex {
            pattern,
            ascii,
            compiled: OnceLock::new(),
            lite: OnceLock::new(),
            lite_budget: AtomicUsize::new(LITE_BUDGET),
            #[cfg(debug_assertions)]
            checker: OnceLock::new(),
        }
    }

    /// Skips the syntax check: for built-in vocabularies, which the pack tests build in full
    /// (`force`), and whose syntax check alone would cost more than a pre-commit run.
    pub fn unchecked(pattern: String) -> LazyRegex {
        LazyRegex::with(Cow::Owned(pattern), false)
    }

    /// A fixed pattern of the source, like `unchecked`, for a `static`.
    pub const fn fixed(pattern: &'static str) -> LazyRegex {
        LazyRegex::with(Cow::Borrowed(pattern), false)
    }

    /// A built-in English vocabulary regex (unchecked, like `unchecked`), built by
    /// `ascii_first`.
    pub fn vocab(pattern: String) -> LazyRegex {
        LazyRegex::with(Cow::Owned(pattern), true)
    }

    fn build(&self) -> Result<Regex, regex::Error> {
        if self.ascii {
            ascii_first(&self.pattern)
        } else {
            RegexBuilder::new(&self.pattern)
                .size_limit(SIZE_LIMIT)
                .build()
        }
    }

    /// The compiled regex; `None` only if it exceeds the size cap (checked by `force`).
    pub fn get(&self) -> Option<&Regex> {
        self.compiled.get_or_init(|| self.build().ok()).as_ref()
    }

    pub fn is_match(&self, text: &str) -> bool {
        if self.compiled.get().is_none() {
            if let Some(lite) = self.lite_for(text) {
                let found = lite.is_match(text);
                // Every debug build (so every test run) checks the two engines agree.
                #[cfg(debug_assertions)]
                {
                    let checker = self.checker.get_or_init(|| self.build().ok());
                    assert_eq!(
                        found,
                        checker.as_ref().is_some_and(|r| r.is_match(text)),
                        "regex-lite and regex disagree: /{}/ on {text:?}",
                        self.pattern
                    );
                }
                return found;
            }
        }
        self.get().is_some_and(|r| r.is_match(text))
    }

    /// The regex-lite form of the pattern, when it answers exactly as the full regex on `text`
    /// and the budget covers `text`. regex-lite differs from regex only in Unicode: its `\w`,
    /// `\d`, `\s` and `\b` are ASCII, its case folding is ASCII, and it has no `\p{..}` (those
    /// fail to build here). On an ASCII text, with an ASCII pattern (no character that could
    /// fold onto an ASCII letter), the Unicode and ASCII meanings select the same characters.
    /// (A pattern over the full regex's size cap, which `force` reports, never matches in full
    /// but may in its lite form; built-in patterns are all forced by the pack tests.)
    fn lite_for(&self, text: &str) -> Option<&regex_lite::Regex> {
        if !text.is_ascii() || !self.pattern.is_ascii() {
            return None;
        }
        self.lite_budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(text.len())
            })
            .ok()?;
        self.lite
            .get_or_init(|| regex_lite::Regex::new(&self.pattern).ok())
            .as_ref()
    }

    /// Builds it now and reports a failure (for pack tests).
    pub fn force(&self) -> Result<(), String> {
        self.build().map(|_| ()).map_err(|e| e.to_string())
    }
}

/// Whether `text` holds one of the two non-ASCII characters Unicode simple case folding maps
/// onto ASCII letters: the Kelvin sign (`k`) and the long s (`s`).
pub(crate) fn folds_onto_ascii(text: &str) -> bool {
    text.contains(['\u{212A}', '\u{17F}'])
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

    /// The regex, when `text` may hold a match.
    pub fn on(&self, text: &str) -> Option<&Regex> {
        if !self.keys.is_match(text) && !folds_onto_ascii(text) {
            return None;
        }
        self.regex.get()
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.on(text).is_some_and(|r| r.is_match(text))
    }

    pub fn force(&self) -> Result<(), String> {
        self.regex.force()
    }

    /// The regex without its keys (for tests).
    #[cfg(test)]
    pub fn ungated(&self) -> &Regex {
        self.regex.get().expect("keyed regex builds")
    }
}

/// A case-insensitive regex run as a case-sensitive one on ASCII-lowercased text, which builds
/// several times faster (`(?i)` makes every letter a class and multiplies the literals a
/// prefilter has to hold). Unicode simple case folding maps just two non-ASCII characters onto
/// ASCII letters, the Kelvin sign and the long s: a text holding either is searched with the
/// `(?i)` form, so the matches are the same either way. Lowercasing keeps byte offsets.
pub struct Caseless {
    /// The pattern without the `i` flag; its letters are lowercase.
    pattern: &'static str,
    lower: LazyRegex,
    folding: OnceLock<Regex>,
}

impl Caseless {
    pub const fn new(pattern: &'static str) -> Caseless {
        Caseless {
            pattern,
            lower: LazyRegex::fixed(pattern),
            folding: OnceLock::new(),
        }
    }

    /// The regex to run and the haystack to run it on, with the byte offsets of `text`.
    pub fn on<'t>(&self, text: &'t str) -> (&Regex, Cow<'t, str>) {
        if folds_onto_ascii(text) {
            let re = self.folding.get_or_init(|| {
                Regex::new(&format!("(?i){}", self.pattern)).expect("caseless regex")
            });
            return (re, Cow::Borrowed(text));
        }
        let re = self.lower.get().expect("caseless regex");
        (re, lowercased(text))
    }

    pub fn is_match(&self, text: &str) -> bool {
        if folds_onto_ascii(text) {
            let (re, hay) = self.on(text);
            return re.is_match(&hay);
        }
        self.lower.is_match(&lowercased(text))
    }

    #[cfg(test)]
    pub fn pattern(&self) -> &'static str {
        self.pattern
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
        r.lite_budget.store(6, Ordering::Relaxed);
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
    fn syntax_errors_surface_at_load() {
        assert!(LazyRegex::new("(unclosed").is_err());
        let r = LazyRegex::new(r"(?-u:\b)ab+c").unwrap();
        assert!(r.is_match("xx abbbc") && !r.is_match("ac"));
        assert!(r.force().is_ok());
    }
}
