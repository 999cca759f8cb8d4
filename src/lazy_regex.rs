//! Regexes compiled on first use.
//!
//! Start-up must stay cheap (a pre-commit run over a few files in well under 20 ms), so pack
//! regexes are syntax-checked when a pack loads — every pack error still surfaces at load,
//! naming the file, rule and key — but built into automata only when a rule first runs on a
//! prompt that passed its keyword prefilter. Most runs never build most of them.

use std::borrow::Cow;
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

#[derive(Debug)]
pub struct LazyRegex {
    pattern: String,
    /// Built without Unicode tables when the pattern allows it (see `vocab`).
    ascii: bool,
    compiled: OnceLock<Option<Regex>>,
}

impl LazyRegex {
    /// Checks `pattern`'s syntax now; builds it later.
    pub fn new(pattern: &str) -> Result<LazyRegex, String> {
        regex_syntax::ParserBuilder::new()
            .build()
            .parse(pattern)
            .map_err(|e| e.to_string())?;
        Ok(LazyRegex {
            pattern: pattern.to_string(),
            ascii: false,
            compiled: OnceLock::new(),
        })
    }

    /// Skips the syntax check: for built-in vocabularies, which the pack tests build in full
    /// (`force`), and whose syntax check alone would cost more than a pre-commit run.
    pub fn unchecked(pattern: String) -> LazyRegex {
        LazyRegex {
            pattern,
            ascii: false,
            compiled: OnceLock::new(),
        }
    }

    /// A built-in English vocabulary regex (unchecked, like `unchecked`), built by
    /// `ascii_first`.
    pub fn vocab(pattern: String) -> LazyRegex {
        LazyRegex {
            pattern,
            ascii: true,
            compiled: OnceLock::new(),
        }
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
        self.get().is_some_and(|r| r.is_match(text))
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
    lower: OnceLock<Regex>,
    folding: OnceLock<Regex>,
}

impl Caseless {
    pub const fn new(pattern: &'static str) -> Caseless {
        Caseless {
            pattern,
            lower: OnceLock::new(),
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
        let re = self
            .lower
            .get_or_init(|| Regex::new(self.pattern).expect("caseless regex"));
        let hay = if text.bytes().any(|b| b.is_ascii_uppercase()) {
            Cow::Owned(text.to_ascii_lowercase())
        } else {
            Cow::Borrowed(text)
        };
        (re, hay)
    }

    pub fn is_match(&self, text: &str) -> bool {
        let (re, hay) = self.on(text);
        re.is_match(&hay)
    }

    #[cfg(test)]
    pub fn pattern(&self) -> &'static str {
        self.pattern
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
    fn syntax_errors_surface_at_load() {
        assert!(LazyRegex::new("(unclosed").is_err());
        let r = LazyRegex::new(r"(?-u:\b)ab+c").unwrap();
        assert!(r.is_match("xx abbbc") && !r.is_match("ac"));
        assert!(r.force().is_ok());
    }
}
