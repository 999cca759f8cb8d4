//! Which top-level statements of a module that may hold a prompt tree-sitter must parse.
//!
//! A large module usually holds its prompts in a few of its functions and classes (a test file
//! of hundreds of tests, a client module with one call site). The parse sees only the
//! top-level statements `collect` needs, whole (tree-sitter's included ranges keep every
//! position the file's own), and finds in them exactly what it finds in the whole module:
//! - every top-level statement other than a function or class definition: module-level
//!   bindings, which names anywhere resolve to, and augmentations of them;
//! - a definition holding a trigger token: each way `collect` finds a prompt starts at a node
//!   holding one, and what it resolves from there lies in the node's own scopes (its
//!   top-level definition, a class's `self.x` bindings included) or at module level;
//! - a definition holding a name `collect` reads module-wide by name: a prompt-like name
//!   bound anywhere, or a name bound to a list or tuple on a trigger's line (a message list:
//!   its uses decide whether it is listed on its own, glued or filled by `.format`);
//! - a definition naming a package a call site needs imported (imports count module-wide);
//! - a function named in any statement parsed (volatility reads a called function's source).
//!
//! A line indented with a form feed (which resets Python's indentation) makes the module
//! parse whole. Debug builds parse whole too and check that both parses find the same prompts.

use foldhash::{HashSet, HashSetExt};
use std::ops::Range;

use super::{Kind, Module, Plan, Triggers};

#[derive(Debug, PartialEq, Eq)]
enum Head<'s> {
    Function(&'s str),
    Class,
    Other,
}

/// One top-level statement: its tokens, where its first line starts, what it defines.
struct Statement<'s> {
    toks: Range<usize>,
    start_byte: usize,
    head: Head<'s>,
}

pub(super) fn statements_to_parse(
    m: &Module,
    triggers: Triggers,
    import_roots: &HashSet<String>,
) -> Plan {
    let lines = &m.lines;
    let Some(stmts) = statements(m) else {
        return Plan::Whole;
    };
    let mut keep: Vec<bool> = stmts.iter().map(|s| s.head == Head::Other).collect();
    let stmt_of = |tok: usize| stmts.partition_point(|s| s.toks.end <= tok);
    let line_of = |tok: usize| lines.partition_point(|l| l.end <= tok);
    let mut names = triggers.names;
    for &t in &triggers.toks {
        keep[stmt_of(t)] = true;
        names.extend(list_bindings(m, lines[line_of(t)].clone()));
    }
    for (s, stmt) in stmts.iter().enumerate() {
        if !keep[s] {
            keep[s] = names_in(m, stmt.toks.clone())
                .any(|w| names.contains(w) || import_roots.contains(w));
        }
    }
    // Functions named in what is parsed, until no more are.
    let mut named: HashSet<&str> = HashSet::new();
    let mut fresh: Vec<usize> = (0..stmts.len()).filter(|&s| keep[s]).collect();
    while !fresh.is_empty() {
        for s in fresh.drain(..) {
            named.extend(names_in(m, stmts[s].toks.clone()));
        }
        for (s, stmt) in stmts.iter().enumerate() {
            if let Head::Function(name) = stmt.head {
                if !keep[s] && named.contains(name) {
                    keep[s] = true;
                    fresh.push(s);
                }
            }
        }
    }
    if keep.iter().all(|k| *k) {
        return Plan::Whole;
    }
    let mut ranges: Vec<Range<usize>> = Vec::new();
    for (s, stmt) in stmts.iter().enumerate() {
        if !keep[s] {
            continue;
        }
        let start = if s == 0 { 0 } else { stmt.start_byte };
        let end = stmts.get(s + 1).map_or(m.src.len(), |n| n.start_byte);
        match ranges.last_mut() {
            Some(last) if last.end == start => last.end = end,
            _ => ranges.push(start..end),
        }
    }
    Plan::Statements(ranges)
}

/// The names among tokens `toks`, with every word of an f-string's body (its fields name
/// what tree-sitter parses as identifiers).
fn names_in<'s, 'm>(m: &'m Module<'s>, toks: Range<usize>) -> impl Iterator<Item = &'s str> + 'm {
    toks.flat_map(move |i| {
        let t = m.toks[i];
        let (from, to) = match t.kind {
            Kind::Name => (t.start, t.end),
            Kind::Str { fmt: true, .. } => t.body,
            _ => (0, 0),
        };
        let src: &'s str = m.src;
        src[from..to]
            .split(|c: char| !(c == '_' || c.is_alphanumeric()))
            .filter(|w| !w.is_empty())
    })
}

/// The top-level statements: a logical line starting in column 0 starts one (decorators
/// join the definition below them); indented lines belong to the statement above. `None`
/// when a line is indented with a form feed, which resets Python's indentation.
fn statements<'s>(m: &Module<'s>) -> Option<Vec<Statement<'s>>> {
    let mut out: Vec<Statement> = Vec::new();
    let mut decorated = false;
    for line in &m.lines {
        let first = line.start;
        let start = m.line_start(first);
        if m.src.as_bytes()[start..m.toks[first].start].contains(&b'\x0c') {
            return None;
        }
        let top = start == m.toks[first].start;
        match out.last_mut() {
            Some(last) if !top || decorated => {
                last.toks.end = line.end;
                if top {
                    last.head = head(m, first);
                }
            }
            _ => out.push(Statement {
                toks: line.clone(),
                start_byte: start,
                head: head(m, first),
            }),
        }
        if top {
            decorated = m.is(first, "@");
        }
    }
    Some(out)
}

/// What the top-level line starting at token `i` defines.
fn head<'s>(m: &Module<'s>, i: usize) -> Head<'s> {
    let def = if m.is(i, "async") { i + 1 } else { i };
    if m.is(def, "def") && m.is_name(def + 1) {
        Head::Function(m.text(def + 1))
    } else if m.is(i, "class") {
        Head::Class
    } else {
        Head::Other
    }
}

/// Names the line binds to a list or tuple (`msgs = [...]`, `self.msgs: list = (...)`,
/// chained `a = b = [...]`).
fn list_bindings<'s>(m: &Module<'s>, line: Range<usize>) -> Vec<&'s str> {
    let mut out = Vec::new();
    for j in line {
        if !m.is_name(j) {
            continue;
        }
        let target = m.starts_target(j)
            || (j >= 2 && m.is(j - 1, ".") && matches!(m.text(j - 2), "self" | "cls"));
        let value = if m.is(j + 1, "=") {
            Some(j + 2)
        } else if m.is(j + 1, ":") {
            m.annotated_value(j + 2)
        } else {
            None
        };
        let Some(mut value) = value else { continue };
        while m.is_name(value) && m.is(value + 1, "=") {
            value += 2;
        }
        if target && (m.is(value, "[") || m.is(value, "(")) {
            out.push(m.text(j));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Gate;
    use super::*;
    use crate::extract::python::PythonExtractor;
    use crate::extract::{PromptSpec, RawPromptsSpec};
    use crate::prompt::PromptFormat;

    fn spec() -> PromptSpec {
        PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap()
    }

    /// The source text of what the gate parses of `src`.
    fn parsed(src: &str) -> Option<String> {
        let spec = spec();
        match Gate::new(&spec.python).plan(src, &spec.python) {
            Plan::Skip => None,
            Plan::Whole => Some(src.to_string()),
            Plan::Statements(parts) => Some(parts.iter().map(|r| &src[r.clone()]).collect()),
        }
    }

    const CALL: &str = "def ask(q):\n    return client.chat.completions.create(messages=[{'role': 'user', 'content': 'Summarize the ticket.'}])\n";
    const PLAIN: &str = "def helper(x):\n    y = x + 1\n    return y\n";

    #[test]
    fn only_the_definitions_a_prompt_needs_are_parsed() {
        let src = format!("import os\n\n{PLAIN}\n{CALL}\nclass C:\n    def f(self):\n        return 1\n\nLIMIT = 3\n");
        let kept = parsed(&src).unwrap();
        assert!(kept.contains("def ask"), "{kept}");
        assert!(
            kept.contains("import os") && kept.contains("LIMIT = 3"),
            "{kept}"
        );
        assert!(
            !kept.contains("helper") && !kept.contains("class C"),
            "{kept}"
        );
    }

    #[test]
    fn decorators_comments_and_continuations_stay_with_their_statement() {
        let src = format!(
            "{PLAIN}\n@agent.system_prompt\n@other\ndef sys():\n    return 'Be terse.'\n# trailing\n{PLAIN}"
        );
        let kept = parsed(&src).unwrap();
        assert!(
            kept.starts_with(
                "@agent.system_prompt\n@other\ndef sys():\n    return 'Be terse.'\n# trailing\n"
            ),
            "{kept}"
        );
        assert!(!kept.contains("helper"), "{kept}");
    }

    #[test]
    fn definitions_the_parsed_statements_depend_on_are_parsed() {
        // Named in a parsed statement (an f-string field too): volatility reads its source.
        let src = format!("{CALL}def now():\n    return 1\ndef stamp():\n    return now()\nSYSTEM_PROMPT = f'Today {{stamp()}}'\n");
        let kept = parsed(&src).unwrap();
        assert!(
            kept.contains("def stamp") && kept.contains("def now"),
            "{kept}"
        );
        // Uses of a prompt-like name or of a bound message list decide how it is listed.
        for user in [
            "def f():\n    return SYSTEM_PROMPT + x\n",
            "def f():\n    return msgs.format(q=1)\n",
            "def f():\n    return f'{msgs}'\n",
            // Imports count module-wide.
            "def f():\n    from litellm import completion\n",
        ] {
            let src = format!(
                "{CALL}SYSTEM_PROMPT = 'Answer briefly.'\nmsgs = [('system', 'Be terse.')]\n{user}"
            );
            assert_eq!(parsed(&src).as_deref(), Some(src.as_str()), "{user}");
        }
    }

    #[test]
    fn a_form_feed_indent_or_nothing_to_leave_out_parses_whole() {
        let src = format!("{CALL}\x0c{PLAIN}");
        assert_eq!(parsed(&src).as_deref(), Some(src.as_str()));
        assert_eq!(parsed(CALL).as_deref(), Some(CALL));
        assert_eq!(parsed(PLAIN), None);
    }

    #[test]
    fn the_statements_parsed_find_the_prompts_at_their_positions() {
        let src = format!("{PLAIN}{PLAIN}\n\n{CALL}{PLAIN}");
        let spec = spec();
        let Plan::Statements(parts) = Gate::new(&spec.python).plan(&src, &spec.python) else {
            panic!("expected a partial parse");
        };
        let mut x = PythonExtractor::new();
        let partial = x.extract_statements(&src, "m.py", &spec, PromptFormat::Python, Some(&parts));
        let whole = x.extract(&src, "m.py", &spec, PromptFormat::Python);
        assert_eq!(partial.len(), 1);
        assert_eq!(format!("{partial:?}"), format!("{whole:?}"));
        let at = partial[0].map.pieces()[0].file_start;
        assert!(
            src[at..].starts_with("Summarize the ticket."),
            "{}",
            &src[at..]
        );
    }
}
