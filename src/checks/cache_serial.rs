//! Unstable serialisation for `cache/unstable-serialization`: a placeholder whose filling
//! expression (or the same-module definition it resolves to) serialises without a fixed order.
//!
//! Unstable: a serialisation call from `[data] serialize-calls` (`json.dumps(...)`) with no
//! stable marker (`sort_keys=True`, `sorted(`); a set built in the expression (`set(...)`); or
//! a name the module binds to a set (`TAGS = {"a", "b"}`, `set(...)`, a set comprehension)
//! interpolated or iterated without `sorted(`. Decided from source text only: a set that
//! arrives through a parameter is not seen.

use crate::lazy_regex::LazyRegex;
use std::cell::RefCell;
use std::collections::HashSet;

use crate::prompt::Placeholder;

/// Compiled patterns of `[data]` in rules/cache.toml.
#[derive(Debug)]
pub struct Serial {
    pub calls: LazyRegex,
    pub stable: LazyRegex,
    pub set_builders: LazyRegex,
}

impl Serial {
    /// Whether `ph` is filled by a non-deterministic serialisation.
    pub fn is_unstable(&self, ph: &Placeholder, file_text: &str) -> bool {
        let exprs: Vec<&str> = [ph.expr.as_deref(), ph.resolved.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        let exprs = if exprs.is_empty() {
            vec![ph.name.as_str()]
        } else {
            exprs
        };
        exprs.iter().any(|e| self.unstable_expr(e, file_text))
    }

    fn unstable_expr(&self, e: &str, file_text: &str) -> bool {
        if self.stable.is_match(e) {
            return false;
        }
        if self.calls.is_match(e) || self.set_builders.is_match(e) {
            return true;
        }
        // A module-level or local name bound to a set, used in this expression.
        idents(e).any(|id| binds_set(file_text, id, &self.set_builders))
    }
}

/// Identifiers of an expression that could name a variable (not attributes or calls).
fn idents(e: &str) -> impl Iterator<Item = &str> {
    let bytes = e.as_bytes();
    e.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|s| {
            !s.is_empty()
                && !s.as_bytes()[0].is_ascii_digit()
                && !matches!(
                    *s,
                    "for" | "in" | "if" | "else" | "join" | "str" | "list" | "repr" | "self"
                )
        })
        .filter(move |s| {
            // Skip `x.attr` attributes and `f(` calls: only bare names can be set variables.
            let Some(at) = substr_offset(e, s) else {
                return false;
            };
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + s.len()).copied();
            before != Some(b'.') && after != Some(b'(')
        })
}

fn substr_offset(whole: &str, part: &str) -> Option<usize> {
    let base = whole.as_ptr() as usize;
    let p = part.as_ptr() as usize;
    (p >= base && p <= base + whole.len()).then(|| p - base)
}

/// The `(name, value)` of each line shaped like an assignment: `name = value`,
/// `self.name = value`, `name: T = value` (not `==`). Read by hand, line by line: the regex it
/// replaces (kept in the tests as the reference) ran through the slow capture engines over
/// whole files, about 5% of a Python-heavy run.
fn assignments(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.split('\n').filter_map(assignment)
}

/// `(?m)^[ \t]*(?:self\.)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[ \t]*([^=\n][^\n]*)$`
/// on one line, with the regex's leftmost-first choices.
fn assignment(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_start_matches([' ', '\t']);
    let rest = rest.strip_prefix("self.").unwrap_or(rest);
    let bytes = rest.as_bytes();
    if !bytes
        .first()
        .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_')
    {
        return None;
    }
    let name_len = bytes
        .iter()
        .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        .unwrap_or(bytes.len());
    let (name, rest) = rest.split_at(name_len);
    let rest = rest.trim_start_matches([' ', '\t']);
    let rest = match rest.as_bytes().first() {
        Some(b'=') => &rest[1..],
        // An annotation runs to the first `=`.
        Some(b':') => &rest[rest.find('=')? + 1..],
        _ => return None,
    };
    // The value's first character is not `=`; spaces before it are given back one at a time.
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let value = match rest[spaces..].chars().next() {
        Some(c) if c != '=' => &rest[spaces..],
        _ if spaces > 0 => &rest[spaces - 1..],
        _ => return None,
    };
    Some((name, value))
}

thread_local! {
    /// Names bound to sets in the file last looked at: (its text, names).
    static SET_NAMES: RefCell<Option<(String, HashSet<String>)>> = const { RefCell::new(None) };
}

/// Whether `file_text` assigns a set to `name` (`name = {...}` without `:`, `name = set(...)`).
/// One scan per file, cached per thread: every placeholder of every prompt asks.
fn binds_set(file_text: &str, name: &str, set_builders: &LazyRegex) -> bool {
    if name.len() < 2 {
        return false;
    }
    SET_NAMES.with(|cell| {
        let mut cache = cell.borrow_mut();
        let fresh = !matches!(&*cache, Some((text, _)) if text == file_text);
        if fresh {
            let names = assignments(file_text)
                .filter_map(|(name, rhs)| {
                    let rhs = rhs.trim();
                    let rhs = rhs.split(" #").next().unwrap_or(rhs).trim();
                    (set_builders.is_match(rhs) || is_set_literal(rhs)).then(|| name.to_string())
                })
                .collect();
            *cache = Some((file_text.to_string(), names));
        }
        cache
            .as_ref()
            .is_some_and(|(_, names)| names.contains(name))
    })
}

/// `{"a", "b"}` or `{x for x in y}` on one line: braces with no `:` at depth 1.
fn is_set_literal(rhs: &str) -> bool {
    if !(rhs.starts_with('{') && rhs.ends_with('}')) || rhs.len() < 3 {
        return false;
    }
    let inner = &rhs[1..rhs.len() - 1];
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in inner.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ':' if depth == 0 => return false,
                _ => {}
            },
        }
    }
    !inner.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments_read_like_the_regex_they_replace() {
        let reference = regex::Regex::new(
            r"(?m)^[ \t]*(?:self\.)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[ \t]*([^=\n][^\n]*)$",
        )
        .unwrap();
        let lines = [
            "TAGS = {\"a\", \"b\"}",
            "    self.tags = set(x)",
            "self.x.y = 1",
            "self = 2",
            "selfish = 3",
            "x: set[str] = {\"a\"}",
            "x: int",
            "x == y",
            "x = = y",
            "x =",
            "x = ",
            "x =  ",
            "\tx\t=\t{1}\r",
            "_a1 = é",
            "1x = 2",
            "x = y == z",
            "x := 3",
            "x: = 4",
            "  # x = 1",
            "f(x = 1)",
            "x += 1",
            "",
            "=",
            "é = 1",
            "x = 'a' # {b}",
        ];
        let text = lines.join("\n");
        let expected: Vec<(&str, &str)> = reference
            .captures_iter(&text)
            .map(|c| (c.get(1).unwrap().as_str(), c.get(2).unwrap().as_str()))
            .collect();
        let got: Vec<(&str, &str)> = assignments(&text).collect();
        assert_eq!(got, expected);
        assert!(got.len() >= 10, "{got:?}");
    }

    #[test]
    fn set_literals() {
        assert!(is_set_literal(r#"{"a", "b"}"#));
        assert!(is_set_literal("{t.name for t in tools}"));
        assert!(!is_set_literal(r#"{"a": 1}"#));
        assert!(!is_set_literal("{}"));
        assert!(!is_set_literal(r#"{k: v for k, v in x.items()}"#));
    }

    #[test]
    fn names_bound_to_sets() {
        let re = LazyRegex::unchecked(r"(?-u:\b)(?:frozen)?set\s*\(".into());
        let src = "TAGS = {\"a\", \"b\"}\nnames = set(xs)\nd = {\"a\": 1}\n";
        assert!(binds_set(src, "TAGS", &re));
        assert!(binds_set(src, "names", &re));
        assert!(!binds_set(src, "d", &re));
        assert_eq!(
            idents("\", \".join(tags)").collect::<Vec<_>>(),
            vec!["tags"]
        );
    }
}
