//! Whether a Python module may hold a prompt, decided from its tokens before it is parsed
//! (most Python files of a repository hold none, and the parse is the costly step).
//!
//! Every way `collect` finds a prompt needs some token pattern, and a module holding none of
//! them is left unparsed:
//! - a call whose dotted callee ends like a call site's, with an argument the site reads (a
//!   listed keyword, a positional one where the site reads positions; any call to a site with
//!   a role, since message lists take those whole), the site's import present if it needs one;
//! - a prompt-like (or examples-like) name followed by `=`, `+=` or an annotation and `=`
//!   (assignment, default, keyword argument) whose value could be string text; `def` of a
//!   prompt-like name; a prompt decorator; a docstring base among a class's bases;
//! - a `"role":` key with a string value (a role dict) or in a dict that is an item of a list
//!   right after `=` (a message list bound to any name), a `dict(` item of such a list, or a
//!   role pair (`("system", ...)`) item of one;
//! - any of these inside an f-string's fields (checked loosely on the field text).
//!
//! A value "could be string text" unless it is one `None`/`True`/`False`/number token, a name
//! the module never binds (nothing for `eval_str` to resolve), or one call whose callee ends in
//! a name `eval_str` does not read (`kwargs.get(...)`; it reads `.format`, `.strip`, `.join`,
//! `.replace` and the dedent callees). A module that does not tokenize (an unterminated string,
//! unbalanced brackets) is always parsed: the parser's error recovery is not predictable from
//! tokens. Debug builds parse every module the gate skips and check that it holds no prompt.

// A fast hasher: the gate looks up every name token of a module.
use foldhash::{HashMap, HashSet, HashSetExt};

use super::super::{last_segment, PythonSpec, RawCallSite};
use super::eval::STRING_METHODS;

use crate::segment::Role;

/// The call sites and names the gate looks for, derived from the prompt spec.
#[derive(Debug, Default)]
pub struct Gate {
    /// Last callee segment -> the sites whose callee ends in it.
    sites: HashMap<String, Vec<GateSite>>,
    /// Keywords that `*` sites read (`system_prompt=` on any call).
    star_keywords: HashSet<String>,
    decorators: HashSet<String>,
    /// Last segments of the docstring bases (`Signature`).
    bases: HashSet<String>,
    /// Last segments of the calls `eval_str` reads a string from.
    string_calls: HashSet<String>,
    /// First segments of the packages call sites need imported (`imports` is module-wide in
    /// the extractor, so a function importing one is always parsed).
    import_roots: HashSet<String>,
}

/// Whether a module is parsed (see `Gate::plan`).
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// It cannot hold a prompt.
    Skip,
    Whole,
}

/// The tokens that start a pattern some prompt needs, and the prompt-like names bound
/// anywhere (`system_prompt = ...`), whose references the extractor reads module-wide by name
/// (a constant folded into every use, glued into a larger string, filled by `.format`).
#[derive(Default)]
struct Triggers<'s> {
    toks: Vec<usize>,
    names: HashSet<&'s str>,
}

#[derive(Debug)]
struct GateSite {
    /// The callee's segments when they are plain names (`chat`, `completions`, `create`);
    /// `None` when the pattern holds anything else (then its last segment alone counts).
    segments: Option<Vec<String>>,
    keywords: HashSet<String>,
    positional: bool,
    role: bool,
    /// First segments of the packages the site needs imported.
    requires_import: Vec<String>,
}

impl Gate {
    pub fn new(spec: &PythonSpec) -> Gate {
        let mut gate = Gate::default();
        for site in &spec.calls {
            let keywords = site_keywords(site);
            for callee in &site.callee {
                if callee == "*" {
                    gate.star_keywords.extend(keywords.iter().cloned());
                    continue;
                }
                let plain = callee.split('.').all(is_name);
                let last = last_segment(callee).to_string();
                gate.import_roots.extend(
                    site.requires_import
                        .iter()
                        .map(|i| i.split('.').next().unwrap_or(i).to_string()),
                );
                gate.sites.entry(last).or_default().push(GateSite {
                    segments: plain.then(|| callee.split('.').map(str::to_string).collect()),
                    keywords: keywords.clone(),
                    positional: !site.positional.is_empty() || !site.messages_positional.is_empty(),
                    role: site.role.is_some(),
                    requires_import: site
                        .requires_import
                        .iter()
                        .map(|i| i.split('.').next().unwrap_or(i).to_string())
                        .collect(),
                });
            }
        }
        let last = |s: &String| last_segment(s).to_string();
        gate.decorators = spec.prompt_decorators.iter().map(last).collect();
        gate.bases = spec.docstring_bases.iter().map(last).collect();
        gate.string_calls = STRING_METHODS
            .iter()
            .map(|s| s.to_string())
            .chain(spec.dedent_callees.iter().map(last))
            .chain(spec.cleandoc_callees.iter().map(last))
            .collect();
        gate
    }

    /// Whether `word` bound to text (`word = ...`, `word: T = ...`, `word=` in a call) may
    /// make a prompt: a prompt-like or examples-like name, or a keyword any call passes text in.
    fn binds_prompt(&self, word: &str, spec: &PythonSpec) -> bool {
        self.star_keywords.contains(word)
            || spec.is_prompt_name(word)
            || spec.is_examples_name(word)
    }

    /// Whether `source` must be parsed for `collect` to find every prompt in it: not when it
    /// cannot hold one.
    pub fn plan(&self, source: &str, spec: &PythonSpec) -> Plan {
        let Some(toks) = tokenize(source.as_bytes()) else {
            return Plan::Whole;
        };
        let Some(module) = Module::new(source, toks) else {
            return Plan::Whole;
        };
        let triggers = module.triggers(self, spec);
        if triggers.toks.is_empty() {
            return Plan::Skip;
        }
        Plan::Whole
    }

    /// Whether `source` may hold a prompt `collect` would find (false only when it cannot).
    #[cfg(test)]
    pub fn may_hold_prompt(&self, source: &str, spec: &PythonSpec) -> bool {
        !matches!(self.plan(source, spec), Plan::Skip)
    }
}

fn site_keywords(site: &RawCallSite) -> HashSet<String> {
    [
        &site.text,
        &site.system,
        &site.user,
        &site.messages,
        &site.examples,
    ]
    .into_iter()
    .flatten()
    .cloned()
    .collect()
}

fn is_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b == b'_' || b.is_ascii_alphabetic() || b >= 0x80)
        && bytes.all(is_name_byte)
}

fn is_name_byte(b: u8) -> bool {
    b == b'_' || b.is_ascii_alphanumeric() || b >= 0x80
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Name,
    Number,
    /// A string literal; `fmt` for f- and t-strings, `bytes` for bytes.
    Str {
        fmt: bool,
        bytes: bool,
    },
    Op,
    /// The end of a logical line.
    Newline,
}

#[derive(Debug, Clone, Copy)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
    /// For strings: the body between the quotes.
    body: (usize, usize),
}

/// Operators of more than one character, longest first.
const OPS: [&str; 25] = [
    "**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", ":=", "->", "+=", "-=", "*=", "/=",
    "%=", "&=", "|=", "^=", "@=", "**", "//", "<<", ">>", "<>",
];

/// Python's tokens, without comments and line continuations; `None` for an unterminated string.
fn tokenize(src: &[u8]) -> Option<Vec<Tok>> {
    let mut toks = Vec::with_capacity(src.len() / 6);
    let mut depth = 0usize;
    let mut i = 0;
    let push = |toks: &mut Vec<Tok>, kind, start, end| {
        toks.push(Tok {
            kind,
            start,
            end,
            body: (0, 0),
        })
    };
    while i < src.len() {
        let b = src[i];
        match b {
            b' ' | b'\t' | b'\r' | b'\x0c' => i += 1,
            b'\n' => {
                if depth == 0 && toks.last().is_some_and(|t: &Tok| t.kind != Kind::Newline) {
                    push(&mut toks, Kind::Newline, i, i + 1);
                }
                i += 1;
            }
            b'#' => {
                while i < src.len() && src[i] != b'\n' {
                    i += 1;
                }
            }
            // A line continuation joins the next line to this logical line.
            b'\\' if src[i + 1..].starts_with(b"\r\n") => i += 3,
            b'\\' if src.get(i + 1) == Some(&b'\n') => i += 2,
            b'\\' => i += 1,
            b'"' | b'\'' => {
                let tok = string(src, i, i)?;
                i = tok.end;
                toks.push(tok);
            }
            b'0'..=b'9' => {
                let start = i;
                i = number_end(src, start, i);
                push(&mut toks, Kind::Number, start, i);
            }
            b'.' if src.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let start = i;
                i = number_end(src, start, i + 1);
                push(&mut toks, Kind::Number, start, i);
            }
            _ if b == b'_' || b.is_ascii_alphabetic() || b >= 0x80 => {
                let start = i;
                while i < src.len() && is_name_byte(src[i]) {
                    i += 1;
                }
                // A string prefix (`f"`, `rb'`) belongs to the string.
                if i - start <= 3
                    && src.get(i).is_some_and(|q| *q == b'"' || *q == b'\'')
                    && src[start..i].iter().all(|c| b"rRbBuUfFtT".contains(c))
                {
                    let tok = string(src, start, i)?;
                    i = tok.end;
                    toks.push(tok);
                } else {
                    push(&mut toks, Kind::Name, start, i);
                }
            }
            _ => {
                let start = i;
                let len = OPS
                    .iter()
                    .find(|op| src[i..].starts_with(op.as_bytes()))
                    .map_or(1, |op| op.len());
                match b {
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                }
                i += len;
                push(&mut toks, Kind::Op, start, i);
            }
        }
    }
    Some(toks)
}

/// The end of the number token starting at `start`, scanning from `from`: digits, letters,
/// `_`, `.`, and a sign right after a decimal number's exponent (`1e+5`; `0x1e+5` is `0x1e + 5`).
fn number_end(src: &[u8], start: usize, from: usize) -> usize {
    let hex = src[start..].starts_with(b"0x") || src[start..].starts_with(b"0X");
    let mut i = from;
    while i < src.len() {
        let b = src[i];
        let exponent_sign = (b == b'+' || b == b'-') && !hex && matches!(src[i - 1], b'e' | b'E');
        if !(exponent_sign || b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            break;
        }
        i += 1;
    }
    i
}

/// The string literal whose prefix starts at `start` and quote at `quote`; `None` when it is
/// not terminated.
fn string(src: &[u8], start: usize, quote: usize) -> Option<Tok> {
    let prefix = &src[start..quote];
    let fmt = prefix.iter().any(|c| b"fFtT".contains(c));
    let bytes = prefix.iter().any(|c| b"bB".contains(c));
    let q = src[quote];
    let triple = src[quote..].starts_with(&[q, q, q]);
    let open = if triple { 3 } else { 1 };
    let body_start = quote + open;
    let end = if fmt {
        fstring_end(src, body_start, q, triple)?
    } else {
        plain_end(src, body_start, q, triple)?
    };
    Some(Tok {
        kind: Kind::Str { fmt, bytes },
        start,
        end: end + open,
        body: (body_start, end),
    })
}

/// Where the closing quote of a string without fields starts.
fn plain_end(src: &[u8], mut i: usize, q: u8, triple: bool) -> Option<usize> {
    while i < src.len() {
        match src[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return None,
            c if c == q && (!triple || src[i..].starts_with(&[q, q, q])) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Where the closing quote of an f-string starts: quotes inside its `{...}` fields open nested
/// strings (PEP 701 lets them reuse the outer quote).
fn fstring_end(src: &[u8], mut i: usize, q: u8, triple: bool) -> Option<usize> {
    let mut depth = 0usize;
    while i < src.len() {
        let c = src[i];
        match c {
            b'\\' => i += 2,
            b'\n' if !triple && depth == 0 => return None,
            b'{' if depth == 0 && src.get(i + 1) == Some(&b'{') => i += 2,
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => {
                depth -= 1;
                i += 1;
            }
            b'"' | b'\'' if depth > 0 => {
                let inner_triple = src[i..].starts_with(&[c, c, c]);
                let open = if inner_triple { 3 } else { 1 };
                i = plain_end(src, i + open, c, inner_triple)? + open;
            }
            _ if c == q && depth == 0 && (!triple || src[i..].starts_with(&[q, q, q])) => {
                return Some(i)
            }
            _ => i += 1,
        }
    }
    None
}

/// The token ranges of the logical lines, each with its closing newline token.
fn logical_lines(toks: &[Tok]) -> Vec<std::ops::Range<usize>> {
    let mut lines = Vec::new();
    let mut start = 0;
    for (i, t) in toks.iter().enumerate() {
        if t.kind == Kind::Newline {
            if start < i {
                lines.push(start..i + 1);
            }
            start = i + 1;
        }
    }
    if start < toks.len() {
        lines.push(start..toks.len());
    }
    lines
}

/// A tokenized module with its brackets matched.
struct Module<'s> {
    src: &'s str,
    toks: Vec<Tok>,
    /// For each bracket, the index of its partner.
    partner: Vec<usize>,
    /// For each token, the index of the innermost bracket open around it.
    enclosing: Vec<Option<usize>>,
    /// The logical lines' token ranges, each with its closing newline token.
    lines: Vec<std::ops::Range<usize>>,
    /// Names bound by an assignment (`x = ...`, `x: T = ...`, chained `x = y = ...`).
    bound: HashSet<&'s str>,
    /// Attributes bound by `self.x = ...` / `cls.x = ...`: a class's names, which a bare name
    /// directly in the class body resolves to as well.
    attr_bound: HashSet<&'s str>,
    /// For each token, whether its statement sits directly in a class body (see
    /// `class_bodies`); `None` when the module's indentation is not plain spaces.
    in_class: Option<Vec<bool>>,
    /// First segments of imported modules and names.
    imports: HashSet<&'s str>,
}

impl<'s> Module<'s> {
    /// `None` when the brackets do not balance.
    fn new(src: &'s str, toks: Vec<Tok>) -> Option<Module<'s>> {
        let n = toks.len();
        let mut partner = vec![usize::MAX; n];
        let mut enclosing = vec![None; n];
        let mut open: Vec<usize> = Vec::new();
        for (i, t) in toks.iter().enumerate() {
            enclosing[i] = open.last().copied();
            if t.kind != Kind::Op || t.end - t.start != 1 {
                continue;
            }
            match src.as_bytes()[t.start] {
                b'(' | b'[' | b'{' => open.push(i),
                c @ (b')' | b']' | b'}') => {
                    let o = open.pop()?;
                    let want = match c {
                        b')' => b'(',
                        b']' => b'[',
                        _ => b'{',
                    };
                    if src.as_bytes()[toks[o].start] != want {
                        return None;
                    }
                    partner[i] = o;
                    partner[o] = i;
                }
                _ => {}
            }
        }
        if !open.is_empty() {
            return None;
        }
        let lines = logical_lines(&toks);
        let mut m = Module {
            src,
            toks,
            partner,
            enclosing,
            lines,
            bound: HashSet::new(),
            attr_bound: HashSet::new(),
            in_class: None,
            imports: HashSet::new(),
        };
        m.index();
        m.in_class = m.class_bodies();
        Some(m)
    }

    fn text(&self, i: usize) -> &'s str {
        let t = &self.toks[i];
        &self.src[t.start..t.end]
    }

    fn is(&self, i: usize, s: &str) -> bool {
        i < self.toks.len() && self.text(i) == s
    }

    fn is_name(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == Kind::Name)
    }

    /// Whether token `i` starts a statement (or follows `=`, as `y` in `x = y = ...`).
    fn starts_target(&self, i: usize) -> bool {
        i == 0
            || self.toks[i - 1].kind == Kind::Newline
            || self.is(i - 1, ";")
            || self.is(i - 1, "=")
            || self.is(i - 1, ":") && self.enclosing[i].is_none()
    }

    /// Whether token `i` ends an expression: a line end, a separator or a closing bracket.
    fn ends_value(&self, i: usize) -> bool {
        match self.toks.get(i) {
            None => true,
            Some(t) if t.kind == Kind::Newline => true,
            Some(_) => matches!(self.text(i), "," | ")" | "]" | "}" | ";"),
        }
    }

    fn index(&mut self) {
        let mut in_import = false;
        for i in 0..self.toks.len() {
            let t = self.toks[i];
            if t.kind == Kind::Newline {
                in_import = false;
                continue;
            }
            if t.kind != Kind::Name {
                continue;
            }
            let word = self.text(i);
            if (word == "import" || word == "from") && self.starts_target(i) {
                in_import = true;
            } else if in_import {
                self.imports.insert(word);
            }
            if !(self.is(i + 1, "=") || self.is(i + 1, ":")) {
                continue;
            }
            if self.starts_target(i) {
                self.bound.insert(word);
            } else if i >= 2
                && self.is(i - 1, ".")
                && matches!(self.text(i - 2), "self" | "cls")
                && self.starts_target(i - 2)
            {
                self.attr_bound.insert(word);
            }
        }
    }

    /// Which tokens' statements sit directly in a class body, from the indentation of logical
    /// lines: a line ending in `:` opens a block for the lines indented deeper. `None` (every
    /// statement may be in one) when a line is indented with tabs or a `class` header carries
    /// its body on the same line.
    fn class_bodies(&self) -> Option<Vec<bool>> {
        let src = self.src.as_bytes();
        let mut out = vec![false; self.toks.len()];
        // (indent, whether the block is a class body)
        let mut blocks: Vec<(usize, bool)> = Vec::new();
        for line in &self.lines {
            let start = line.start;
            let end = line.end - usize::from(self.toks[line.end - 1].kind == Kind::Newline);
            let lead = &src[self.line_start(start)..self.toks[start].start];
            if lead.iter().any(|b| *b != b' ') {
                return None;
            }
            let indent = lead.len();
            while blocks.last().is_some_and(|(d, _)| *d >= indent) {
                blocks.pop();
            }
            let in_class = blocks.last().is_some_and(|(_, class)| *class);
            out[start..end].fill(in_class);
            let header_class = self.is(start, "class");
            let opens = end > start && self.is(end - 1, ":");
            if header_class && !opens {
                return None;
            }
            if opens {
                blocks.push((indent, header_class));
            }
        }
        Some(out)
    }

    /// Where the physical line holding token `i` starts.
    fn line_start(&self, i: usize) -> usize {
        self.src.as_bytes()[..self.toks[i].start]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1)
    }

    /// Whether a bare name `x` at token `v` may resolve to a binding: one of the module's, or a
    /// class's `self.x` for a statement directly in a class body.
    fn resolvable(&self, v: usize, word: &str) -> bool {
        self.bound.contains(word)
            || (self.attr_bound.contains(word) && self.in_class.as_ref().is_none_or(|c| c[v]))
    }

    /// Every token that starts a pattern some prompt needs (see the module doc), and the names
    /// whose references the extractor reads across the module (see `Triggers`).
    fn triggers(&self, gate: &Gate, spec: &PythonSpec) -> Triggers<'s> {
        let mut found = Triggers::default();
        let mut in_decorator = false;
        for i in 0..self.toks.len() {
            let t = self.toks[i];
            let hit = match t.kind {
                Kind::Newline => {
                    in_decorator = false;
                    false
                }
                Kind::Op if self.is(i, "@") && self.starts_target(i) => {
                    in_decorator = true;
                    false
                }
                Kind::Name => {
                    let word = self.text(i);
                    if ["=", "+=", ":"].iter().any(|op| self.is(i + 1, op))
                        && gate.binds_prompt(word, spec)
                    {
                        found.names.insert(word);
                    }
                    (in_decorator && gate.decorators.contains(word))
                        || self.name_pattern(i, word, gate, spec)
                }
                Kind::Str { fmt, bytes } => {
                    (fmt && self.fstring_pattern(t, gate, spec)) || (!bytes && self.role_pattern(i))
                }
                _ => false,
            };
            if hit {
                found.toks.push(i);
            }
        }
        found
    }

    /// The patterns that start at name token `i`.
    fn name_pattern(&self, i: usize, word: &str, gate: &Gate, spec: &PythonSpec) -> bool {
        if i > 0 && self.is(i - 1, "def") {
            return spec.is_prompt_name(word);
        }
        if gate.bases.contains(word) && self.in_class_bases(i) {
            return true;
        }
        if let Some(sites) = gate.sites.get(word) {
            if self.calls_site(i, sites) {
                return true;
            }
        }
        let next = self.toks.get(i + 1).map_or("", |_| self.text(i + 1));
        if next == "=" && word == "role" && self.in_listed_dict_call(i) {
            return true;
        }
        if next == "(" && word == "dict" && self.listed_item(i) {
            return true;
        }
        let value = match next {
            "=" | "+=" => i + 2,
            ":" => match self.annotated_value(i + 2) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
        gate.binds_prompt(word, spec) && self.may_be_text(value, gate)
    }

    /// After `NAME :` at `from`: the value after the annotation's `=`, if one follows.
    fn annotated_value(&self, from: usize) -> Option<usize> {
        let mut j = from;
        while j < self.toks.len() {
            if self.toks[j].kind == Kind::Newline {
                return None;
            }
            match self.text(j) {
                "(" | "[" | "{" => j = self.partner[j],
                ")" | "]" | "}" | "," | ";" => return None,
                "=" => return Some(j + 1),
                _ => {}
            }
            j += 1;
        }
        None
    }

    /// Whether the value starting at token `v` could evaluate to string text (see the module
    /// doc): everything but a lone constant, an unbound name or an unreadable call.
    fn may_be_text(&self, v: usize, gate: &Gate) -> bool {
        let Some(first) = self.toks.get(v) else {
            return false;
        };
        if self.ends_value(v + 1) {
            let word = self.text(v);
            return match first.kind {
                Kind::Number => false,
                Kind::Name => {
                    !matches!(word, "None" | "True" | "False" | "self" | "cls")
                        && self.resolvable(v, word)
                }
                _ => word != "...",
            };
        }
        if self.is_name(v)
            && matches!(self.text(v), "self" | "cls")
            && self.is(v + 1, ".")
            && self.is_name(v + 2)
            && self.ends_value(v + 3)
        {
            let attr = self.text(v + 2);
            return self.bound.contains(attr) || self.attr_bound.contains(attr);
        }
        // One call `a.b[0].c(...)`: its callee's last name decides.
        let mut j = v;
        let mut last = None;
        while self.is_name(j) {
            last = Some(self.text(j));
            j += 1;
            while self.is(j, "[") {
                j = self.partner[j] + 1;
            }
            if self.is(j, ".") {
                j += 1;
            } else {
                break;
            }
        }
        match last {
            Some(name) if self.is(j, "(") && self.ends_value(self.partner[j] + 1) => {
                gate.string_calls.contains(name)
            }
            _ => true,
        }
    }

    /// Whether name `i` is a call of one of `sites` (its callee, its import, its arguments).
    fn calls_site(&self, i: usize, sites: &[GateSite]) -> bool {
        let mut open = i + 1;
        while self.is(open, "[") {
            open = self.partner[open] + 1;
        }
        if !self.is(open, "(") {
            return false;
        }
        let close = self.partner[open];
        let (keywords, positional) = self.arguments(open, close);
        sites.iter().any(|site| {
            self.callee_ends_with(i, site)
                && (site.requires_import.is_empty()
                    || site
                        .requires_import
                        .iter()
                        .any(|m| self.imports.contains(m.as_str())))
                && (site.role
                    || (site.positional && positional)
                    || keywords.iter().any(|k| site.keywords.contains(*k)))
        })
    }

    /// The keyword names of a call's arguments, and whether it has a positional one.
    fn arguments(&self, open: usize, close: usize) -> (Vec<&'s str>, bool) {
        let mut keywords = Vec::new();
        let mut positional = false;
        let mut j = open + 1;
        let mut at_start = true;
        while j < close {
            if at_start {
                if self.is_name(j) && self.is(j + 1, "=") {
                    keywords.push(self.text(j));
                } else if !matches!(self.text(j), "*" | "**") {
                    positional = true;
                }
                at_start = false;
            }
            match self.text(j) {
                "(" | "[" | "{" => j = self.partner[j],
                "," => at_start = true,
                _ => {}
            }
            j += 1;
        }
        (keywords, positional)
    }

    /// Whether the dotted callee ending at name `i` ends with the site's segments (subscripts
    /// between them do not count: `callee` drops them).
    fn callee_ends_with(&self, i: usize, site: &GateSite) -> bool {
        let Some(segments) = &site.segments else {
            return true;
        };
        let mut at = i;
        for seg in segments.iter().rev().skip(1) {
            if at < 2 || !self.is(at - 1, ".") {
                return false;
            }
            let mut j = at - 2;
            while self.is(j, "]") {
                let o = self.partner[j];
                if o == 0 {
                    return false;
                }
                j = o - 1;
            }
            if !self.is_name(j) || self.text(j) != seg {
                return false;
            }
            at = j;
        }
        true
    }

    /// Whether name `i` sits directly in the parentheses of a `class NAME(...)` header.
    fn in_class_bases(&self, i: usize) -> bool {
        let Some(o) = self.enclosing[i] else {
            return false;
        };
        let mut j = o;
        if !self.is(j, "(") || j == 0 {
            return false;
        }
        j -= 1;
        if self.is(j, "]") {
            j = self.partner[j];
            if j == 0 {
                return false;
            }
            j -= 1;
        }
        j >= 1 && self.is_name(j) && self.is(j - 1, "class")
    }

    /// Whether bracket `o` opens a list or tuple right after `=` (a message list bound to a
    /// name, a default or a keyword).
    fn is_bound_list(&self, o: Option<usize>) -> bool {
        o.is_some_and(|o| o > 0 && (self.is(o, "[") || self.is(o, "(")) && self.is(o - 1, "="))
    }

    /// Whether token `i` (`dict` or a bracket) is an item of a bound list.
    fn listed_item(&self, i: usize) -> bool {
        self.is_bound_list(self.enclosing[i])
    }

    /// `role=` in a `dict(...)` call that is an item of a bound list.
    fn in_listed_dict_call(&self, i: usize) -> bool {
        self.enclosing[i].is_some_and(|o| {
            o > 0 && self.is(o, "(") && self.is(o - 1, "dict") && self.listed_item(o - 1)
        })
    }

    /// Whether string token `i` is a role key (`"role": "user"`, or `"role":` in a dict item of
    /// a bound list) or the role of a pair item of a bound list (`("system", ...)`).
    fn role_pattern(&self, i: usize) -> bool {
        let body = self.body(self.toks[i]);
        if self.is(i + 1, ":") && may_equal(body, |s| s == "role") {
            let value_is_role = self.toks.get(i + 2).is_some_and(|v| {
                matches!(v.kind, Kind::Str { bytes: false, .. })
                    && may_equal(self.body(*v), |s| Role::parse(s).is_some())
            });
            return value_is_role
                || self.enclosing[i].is_some_and(|o| self.is(o, "{") && self.listed_item(o));
        }
        i > 0
            && self.is(i + 1, ",")
            && (self.is(i - 1, "(") || self.is(i - 1, "["))
            && self.enclosing[i] == Some(i - 1)
            && self.listed_item(i - 1)
            && may_equal(body, |s| Role::parse(s).is_some() || s == "placeholder")
    }

    fn body(&self, t: Tok) -> &'s str {
        &self.src[t.body.0..t.body.1]
    }

    /// The patterns in an f-string's fields, checked loosely on the whole body: a name that
    /// could call a site, bind a prompt-like name or name a base, or a quoted `role`.
    fn fstring_pattern(&self, t: Tok, gate: &Gate, spec: &PythonSpec) -> bool {
        let body = self.body(t);
        if !body.contains('{') {
            return false;
        }
        if body.contains("'role'") || body.contains("\"role\"") {
            return true;
        }
        let bytes = body.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !(bytes[i] == b'_' || bytes[i].is_ascii_alphabetic() || bytes[i] >= 0x80) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && is_name_byte(bytes[i]) {
                i += 1;
            }
            let word = &body[start..i];
            let next = body[i..].trim_start().bytes().next();
            let hit = match next {
                Some(b'(' | b'[') => gate.sites.contains_key(word) || word == "dict",
                Some(b'=' | b':') => word == "role" || gate.binds_prompt(word, spec),
                _ => false,
            };
            if hit || gate.bases.contains(word) || gate.decorators.contains(word) {
                return true;
            }
        }
        false
    }
}

/// Whether a string body could read as a text `test` accepts: it does, or it holds an escape
/// (whose decoded text the gate does not work out).
fn may_equal(body: &str, test: impl Fn(&str) -> bool) -> bool {
    body.contains('\\') || body.contains('{') || test(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::{PromptSpec, RawPromptsSpec};

    fn holds(src: &str) -> bool {
        let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap();
        Gate::new(&spec.python).may_hold_prompt(src, &spec.python)
    }

    #[test]
    fn every_way_to_a_prompt_is_let_through() {
        for src in [
            "client.chat.completions.create(model='m', messages=msgs)\n",
            "OpenAI().chat.completions.create(messages=m)\n",
            "client.messages[0].create(system=s)\n",
            "Agent[Deps, Out](instructions='Be terse.')\n",
            "llm.invoke([SystemMessage()])\n",
            "PromptTemplate.from_template(t)\n",
            "from litellm import completion\ncompletion(messages=m)\n",
            "x = f(system_prompt='Be terse.')\n",
            "SYSTEM_PROMPT = 'You are a helpful assistant for billing.'\n",
            "SYSTEM_PROMPT = BASE\nBASE = 'x'\n",
            "a = SYSTEM_PROMPT = 'text'\n",
            "class A:\n    def f(self):\n        self.t = 'x'\n    prompt = t\n",
            "class A:\n\tdef f(self):\n\t\tself.t = 'x'\n\tprompt = t\n",
            "class A: prompt = t\ndef f(self):\n    self.t = 'x'\n",
            "class A:\n    prompt = 'text'\n    def f(self):\n        self.prompt_text = self.prompt\n",
            "def f(prompt: str = 'Summarize the text below.'):\n    pass\n",
            "prompt: Final[str] = (\n  'a'\n  'b'\n)\n",
            "prompt = textwrap.dedent(x)\n",
            "prompt = TEMPLATE.format(q=q)\n",
            "prompt = None if x else 'Summarize.'\n",
            "prompt += 'more text'\n",
            "FEW_SHOT_EXAMPLES = [{'input': 'a', 'output': 'b'}]\n",
            "def build_system_prompt():\n    return 'x'\n",
            "@agent.system_prompt\ndef f():\n    return 'x'\n",
            "@agent.instructions(dynamic=True)\nasync def f(): ...\n",
            "class QA(dspy.Signature):\n    '''Answer.'''\n",
            "class QA[T](Signature):\n    '''Answer.'''\n",
            "history.append({'role': 'user', 'content': 'Feedback: bad'})\n",
            "history.append({\"role\": f\"user\", 'content': 'Feedback: bad'})\n",
            "msgs = [{'role': r, 'content': c}]\n",
            "msgs = [dict(role=r, content=c)]\n",
            "msgs = [('system', 'Be terse and precise.'), ('human', '{q}')]\n",
            "def f(msgs=[['system', 'Be terse.']]): ...\n",
            "x = f\"{client.chat.completions.create(messages=m)}\"\n",
            "x = f\"{ {'role': 'user', 'content': 'hello world'} }\"\n",
            "x = f'{f(prompt=\"Summarize\")}'\n",
            "x = {'ro\\x6ce': 'user', 'content': 'Feedback: bad'}\n",
            // A line continuation does not end the statement.
            "msgs = \\\n    [('system', 'Be terse.'), ('human', '{q}')]\n",
            "msgs = \\\r\n    [dict(role=r, content='Summarize.')]\n",
            // Broken modules are always parsed.
            "x = 'unterminated\n",
            "f(a, b\n",
            "f(a, b]\n",
        ] {
            assert!(holds(src), "skipped: {src}");
        }
    }

    #[test]
    fn modules_without_those_patterns_are_skipped() {
        for src in [
            "",
            "# prompt = 'You are a helpful assistant'\nx = 1\n",
            "def run(prompt: str) -> str:\n    return prompt\n",
            "def f(prompt=None, system_prompt: str | None = None): ...\n",
            "self.file_system = kwargs.get('file_system', None)\n",
            "def __init__(self, *, file_system=None):\n    self.file_system = file_system\n",
            "prompt = self.build()\n",
            "x = f(system_prompt=make())\n",
            "n = len(prompt)\nif prompt == other: pass\n",
            "x = {'prompt_tokens': 3}\n",
            "'''A docstring about the system prompt and role: user.'''\n",
            "d = {'role': role, 'content': content}\n",
            "pairs = f(('system', 'a'), ('user', 'b'))\n",
            "class A:\n    def __init__(self, t):\n        self.prompt = t\n        self.t = t\n",
            "client.files.create(file=f)\n",
            "agent.run(x)\n",
            "x = f'{prompt} is {role}'\n",
            "x = b'role: system' + rb\"prompt = 'x'\"\n",
            "class A(Base):\n    signature = 1\n",
        ] {
            assert!(!holds(src), "parsed: {src}");
        }
    }

    #[test]
    fn tokens_cover_strings_numbers_and_operators() {
        let src = "x = rb'\\''+f\"{a[\"k\"]}\"  # c\ny == 1e-5 ... 0x1e+5\n";
        let toks = tokenize(src.as_bytes()).unwrap();
        let texts: Vec<&str> = toks.iter().map(|t| &src[t.start..t.end]).collect();
        assert_eq!(
            texts,
            [
                "x",
                "=",
                "rb'\\''",
                "+",
                "f\"{a[\"k\"]}\"",
                "\n",
                "y",
                "==",
                "1e-5",
                "...",
                "0x1e",
                "+",
                "5",
                "\n"
            ]
        );
        assert!(tokenize(b"'''open").is_none());
        assert!(tokenize(b"f'{x'").is_none());
    }
}
