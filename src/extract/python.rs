//! Prompts inline in Python, found in the syntax tree of `tree.rs` (Ruff's parser).
//!
//! A string is a prompt when it flows into a known LLM call or prompt constructor (the call
//! sites of `rules/prompts.toml`), when it is bound to a prompt-like name, when it is returned
//! by a function decorated as a prompt (`@agent.system_prompt`) or named like one, or when it
//! is the docstring of a DSPy `Signature`. One `Prompt` per construction: all the prompt
//! arguments of one call together (system first, then source order), or one assignment.
//!
//! Names passed to a call site (or used in `+`, `.format`, f-string-free concatenation) are
//! resolved one level to a same-function, same-class (`self.x`) or module-level binding and
//! their text is folded in, mapped to the constant's own literal. A constant whose every
//! reference in the module was folded into another prompt is not listed again on its own
//! (no double inventory); a constant also used elsewhere (or not used at all) keeps its own
//! entry. Imports are not followed across files.
//!
//! Invariants: every verbatim piece of every prompt equals the file bytes it maps to; ids are
//! `path#NAME` / `path#Class.attr` / `path#callee` with `[n]` for repeats, never line numbers.
//! Docstrings (except DSPy), bytes literals, arguments of ignored callees and text matching
//! `not-prompt-patterns` are never prompts. Segmentation by text and volatility run later.
//!
//! Layout: this file indexes a module (bindings, definitions, imports, references, in one cursor
//! walk that also gathers the nodes the passes visit), resolves names and runs the passes; `eval`
//! reads string expressions, `text` holds text with per-byte origins (escapes, dedent, format),
//! `sites` reads call sites and message lists, `decls` reads assignments, prompt functions and
//! DSPy signatures; `tree` builds the syntax tree the passes read from Ruff's parser (with its
//! kind and field ids as constants).

mod decls;
mod eval;
mod sites;
#[cfg(test)]
mod tests;
mod text;
pub(crate) mod tree;

// A fast hasher: these maps key on identifiers and node ids, hashed for every identifier.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::borrow::Cow;
use std::cell::OnceCell;

use tree::{f, k, Node, Tree};

use crate::extract::{PromptSpec, PythonSpec};
use crate::prompt::{Origin, Prompt, PromptBuilder, PromptFormat};
use crate::segment::{Role, Segment, SegmentKind};
use text::Frag;

/// Recursion limit for nested expressions and name resolution.
const MAX_DEPTH: usize = 48;

/// The Python extractor of one worker thread.
pub struct PythonExtractor {
    /// The last tree parsed, and the source it was parsed from (address and length), so the
    /// registry's loader-call scan reuses the one parse instead of parsing the file again.
    last: Option<(Tree, usize, usize)>,
}

impl PythonExtractor {
    pub fn new() -> Self {
        Self { last: None }
    }

    /// Registry loader calls in `source`, from the tree `extract` just built for it when there
    /// is one (else one parse with this worker's parser).
    pub fn loader_calls(
        &mut self,
        source: &str,
        loaders: &crate::extract::loaders::LoaderSpec,
    ) -> Vec<crate::extract::loaders::LoaderCall> {
        if !loaders.may_occur_in(source) {
            return Vec::new();
        }
        let key = (source.as_ptr() as usize, source.len());
        let tree = match self.last.take() {
            Some((tree, ptr, len)) if (ptr, len) == key => tree,
            _ => Tree::parse(source),
        };
        let calls =
            crate::extract::loaders::collect_loader_calls(tree.root_node(), source, loaders);
        self.last = Some((tree, key.0, key.1));
        calls
    }

    /// Every prompt in `source` (a Python module or a notebook's joined code cells). Broken
    /// Python is still searched: the parser recovers around syntax errors.
    pub fn extract(
        &mut self,
        source: &str,
        path: &str,
        spec: &PromptSpec,
        format: PromptFormat,
    ) -> Vec<Prompt> {
        let tree = Tree::parse_reusing(source, self.last.take().map(|(tree, ..)| tree));
        let mut module = Module::new(source, &tree, &spec.python);
        let visits = module.index();
        let candidates = module.collect(visits);
        let prompts = finalize(candidates, path, format);
        self.last = Some((tree, source.as_ptr() as usize, source.len()));
        prompts
    }
}

impl Default for PythonExtractor {
    fn default() -> Self {
        Self::new()
    }
}

/// A prompt before its id is known.
struct Candidate {
    /// File offset used to order prompts (the construction's start).
    anchor: usize,
    /// The id's name part (`SYSTEM_PROMPT`, `client.chat.completions.create`).
    name: String,
    origin: Origin,
    builder: PromptBuilder,
    segments: Vec<Segment>,
    cache_breakpoints: Vec<usize>,
    model: Option<String>,
    fragment: bool,
    /// Bytes of literal text (what makes a call site worth a prompt).
    literal: usize,
    /// For call sites: the call node, so a call folded into a later prompt can be dropped.
    call_id: Option<usize>,
}

impl Candidate {
    fn new(anchor: usize, name: String, origin: Origin) -> Self {
        Candidate {
            anchor,
            name,
            origin,
            builder: PromptBuilder::new(),
            segments: Vec::new(),
            cache_breakpoints: Vec::new(),
            model: None,
            fragment: false,
            literal: 0,
            call_id: None,
        }
    }

    /// Appends one part (a message, a keyword's text), separated from the previous one.
    fn add_part(&mut self, frag: Frag, role: Option<Role>) -> crate::span::PromptSpan {
        if !self.builder.is_empty() {
            self.builder.push_synthetic("\n\n");
        }
        let span = frag.push_into(&mut self.builder);
        if let Some(role) = role {
            self.segments
                .push(Segment::new(SegmentKind::Role { role }, span));
        }
        span
    }
}

fn finalize(mut candidates: Vec<Candidate>, path: &str, format: PromptFormat) -> Vec<Prompt> {
    candidates.sort_by(|a, b| a.anchor.cmp(&b.anchor).then_with(|| a.name.cmp(&b.name)));
    let mut seen: HashMap<String, usize> = HashMap::new();
    candidates
        .into_iter()
        .map(|c| {
            let n = seen.entry(c.name.clone()).or_insert(0);
            *n += 1;
            let id = if *n == 1 {
                format!("{path}#{}", c.name)
            } else {
                format!("{path}#{}[{}]", c.name, n)
            };
            let mut p = c
                .builder
                .into_prompt(Prompt::new(id, c.origin, format, true));
            p.segments = c.segments;
            p.segments
                .sort_by_key(|s| (s.span.start, std::cmp::Reverse(s.span.end)));
            p.cache_breakpoints = c.cache_breakpoints;
            p.model = c.model;
            p.fragment = c.fragment;
            p
        })
        .collect()
}

/// Whether an identifier that is child `field` (a field id) of a `parent` node (a kind id) is
/// bound there rather than referenced.
fn is_binding_target(parent: u16, field: u16) -> bool {
    match parent {
        k::ASSIGNMENT | k::AUGMENTED_ASSIGNMENT => field == f::LEFT,
        k::FUNCTION_DEFINITION | k::CLASS_DEFINITION | k::KEYWORD_ARGUMENT => field == f::NAME,
        k::ATTRIBUTE => field == f::ATTRIBUTE,
        k::PARAMETERS | k::DEFAULT_PARAMETER | k::TYPED_PARAMETER | k::TYPED_DEFAULT_PARAMETER => {
            true
        }
        _ => false,
    }
}

/// Target and value of an assignment, or name and default of a parameter (`prompt: str = "..."`;
/// also what a parser may make of some assignments after a syntax error).
fn assign_parts(n: Node) -> Option<(Node, Node)> {
    match n.kind() {
        "assignment" => Some((n.field("left")?, n.field("right")?)),
        _ => Some((n.field("name")?, n.field("value")?)),
    }
}

/// A name bound by an assignment.
#[derive(Clone, Copy)]
struct Binding<'a> {
    value: Node<'a>,
    stmt: Node<'a>,
}

/// The nodes the passes of `collect` visit, each list in source pre-order.
#[derive(Default)]
struct Visits<'a> {
    /// Calls and class definitions: pass 1 takes them together, outer before inner.
    sites: Vec<Node<'a>>,
    assignments: Vec<Node<'a>>,
    functions: Vec<Node<'a>>,
    dicts: Vec<Node<'a>>,
}

/// One parsed module and what the passes learn about it.
pub(super) struct Module<'a> {
    src: &'a str,
    tree: &'a Tree,
    spec: &'a PythonSpec,
    /// (scope node id, name) -> bindings in source order.
    bindings: HashMap<(usize, &'a str), Vec<Binding<'a>>>,
    /// (scope node id, name) -> `name += ...` statements in source order.
    augments: HashMap<(usize, &'a str), Vec<Node<'a>>>,
    /// (scope node id, name) -> function definitions.
    defs: HashMap<(usize, &'a str), Node<'a>>,
    /// Imported module paths and names (`openai`, `litellm`, `completion`).
    imports: HashSet<String>,
    /// Identifier references (not binding targets) by name: their start bytes. Gathered on
    /// first use (`refs`): only a module with a candidate constant asks, most modules none.
    refs: OnceCell<HashMap<&'a str, Vec<usize>>>,
    /// References whose value was folded into a prompt.
    consumed_refs: HashSet<usize>,
    /// Node ids (calls, role dicts) already part of a prompt.
    consumed_nodes: HashSet<usize>,
    /// What each candidate consumed, so a candidate that is dropped gives it back.
    journal: Vec<Consumed>,
}

/// One entry of `Module::journal`.
#[derive(Clone, Copy)]
enum Consumed {
    Ref(usize),
    Node(usize),
}

impl<'a> Module<'a> {
    fn new(src: &'a str, tree: &'a Tree, spec: &'a PythonSpec) -> Self {
        Module {
            src,
            tree,
            spec,
            bindings: HashMap::new(),
            augments: HashMap::new(),
            defs: HashMap::new(),
            imports: HashSet::new(),
            refs: OnceCell::new(),
            consumed_refs: HashSet::new(),
            consumed_nodes: HashSet::new(),
            journal: Vec::new(),
        }
    }

    /// A reference whose value was folded into a prompt.
    fn mark_ref(&mut self, at: usize) {
        if self.consumed_refs.insert(at) {
            self.journal.push(Consumed::Ref(at));
        }
    }

    /// A node (call, role dict) that became part of a prompt.
    fn mark_node(&mut self, id: usize) {
        if self.consumed_nodes.insert(id) {
            self.journal.push(Consumed::Node(id));
        }
    }

    /// Runs `f`; when it yields no prompt, forgets what it consumed (a constant folded into
    /// a call that turned out not to be a prompt must still be listed on its own).
    fn attempt<T>(&mut self, f: impl FnOnce(&mut Self) -> Option<T>) -> Option<T> {
        let mark = self.journal.len();
        let out = f(self);
        if out.is_none() {
            for c in self.journal.drain(mark..) {
                match c {
                    Consumed::Ref(r) => self.consumed_refs.remove(&r),
                    Consumed::Node(n) => self.consumed_nodes.remove(&n),
                };
            }
        }
        out
    }

    fn text(&self, n: Node) -> &'a str {
        self.src.get(n.byte_range()).unwrap_or("")
    }

    /// The function and class definitions enclosing `n`, innermost first (its ancestors of
    /// those kinds: a parent is one step in the tree).
    fn enclosing(&self, n: Node<'a>) -> impl Iterator<Item = Node<'a>> + '_ {
        std::iter::successors(n.parent(), |p| p.parent()).filter(move |p| {
            let kind = p.kind_id();
            kind == k::FUNCTION_DEFINITION || kind == k::CLASS_DEFINITION
        })
    }

    /// The scope a node's bindings belong to: nearest function, class or the module.
    fn scope_of(&self, n: Node<'a>) -> Node<'a> {
        self.enclosing(n)
            .next()
            .unwrap_or_else(|| self.tree.root_node())
    }

    /// Records bindings, definitions and imports, and gathers the nodes the passes of `collect`
    /// visit, in one walk of the tree.
    fn index(&mut self) -> Visits<'a> {
        // One cursor walk, in source pre-order, with each node's parent and enclosing scope
        // carried along (looking them up per identifier would cost a climb each).
        let root = self.tree.root_node();
        let mut visits = Visits::default();
        let mut cursor = root.walk();
        // The nodes above the cursor, each with the scope its children belong to.
        let mut above: Vec<(Node<'a>, Node<'a>)> = Vec::new();
        loop {
            let n = cursor.node();
            let kind = n.kind_id();
            let scope = above.last().map_or(root, |&(_, s)| s);
            // An identifier has no children (its references are gathered by `refs`).
            if kind != k::IDENTIFIER
                && self.visit(n, kind, scope, &mut visits)
                && cursor.goto_first_child()
            {
                let inner = if kind == k::FUNCTION_DEFINITION || kind == k::CLASS_DEFINITION {
                    n
                } else {
                    scope
                };
                above.push((n, inner));
                continue;
            }
            while !cursor.goto_next_sibling() {
                if !cursor.goto_parent() {
                    return visits;
                }
                above.pop();
            }
        }
    }

    /// Indexes one node other than an identifier (`kind`: its kind id); false when its children
    /// hold nothing to index (imports, strings without expressions).
    fn visit(&mut self, n: Node<'a>, kind: u16, scope: Node<'a>, visits: &mut Visits<'a>) -> bool {
        if kind == k::CALL || kind == k::CLASS_DEFINITION {
            visits.sites.push(n);
        } else if kind == k::DICTIONARY {
            visits.dicts.push(n);
        } else if kind == k::DEFAULT_PARAMETER || kind == k::TYPED_DEFAULT_PARAMETER {
            visits.assignments.push(n);
        } else if kind == k::AUGMENTED_ASSIGNMENT {
            let plus = n.field("operator").is_some_and(|o| o.kind() == "+=");
            if let Some(left) = n
                .field("left")
                .filter(|l| plus && l.kind_id() == k::IDENTIFIER)
            {
                let key = (scope.id(), self.text(left));
                self.augments.entry(key).or_default().push(n);
            }
        } else if kind == k::ASSIGNMENT {
            visits.assignments.push(n);
            if let (Some(left), Some(right)) = (n.field("left"), n.field("right")) {
                let target = if left.kind_id() == k::IDENTIFIER {
                    Some((scope.id(), self.text(left)))
                } else {
                    self.binding_target(left)
                };
                if let Some(key) = target {
                    self.bindings.entry(key).or_default().push(Binding {
                        value: right,
                        stmt: n,
                    });
                }
            }
        } else if kind == k::FUNCTION_DEFINITION {
            visits.functions.push(n);
            if let Some(name) = n.field("name") {
                self.defs.insert((scope.id(), self.text(name)), n);
            }
        } else if kind == k::IMPORT_STATEMENT || kind == k::IMPORT_FROM_STATEMENT {
            let mut todo: Vec<Node> = n.named_children().collect();
            while let Some(m) = todo.pop() {
                if m.kind() == "dotted_name" || m.kind() == "identifier" {
                    let t = self.text(m);
                    self.imports.insert(t.to_string());
                    if let Some(first) = t.split('.').next() {
                        self.imports.insert(first.to_string());
                    }
                } else {
                    todo.extend(m.named_children());
                }
            }
        }
        self.descends(n, kind)
    }

    /// Whether a node's children hold anything to index: not an import's (its names are
    /// recorded whole), nor a string's unless it is an f-string (or t-string), the only kind
    /// whose parts hold expressions.
    fn descends(&self, n: Node<'a>, kind: u16) -> bool {
        match kind {
            k::IMPORT_STATEMENT | k::IMPORT_FROM_STATEMENT => false,
            k::STRING => self.src.as_bytes()[n.start_byte()..]
                .iter()
                .take_while(|b| b.is_ascii_alphabetic())
                .any(|b| matches!(b, b'f' | b'F' | b't' | b'T')),
            _ => true,
        }
    }

    /// Identifier references (not binding targets) by name, in source order: the identifiers
    /// of the nodes `index` walks, gathered in a walk of their own the first time a pass asks.
    fn refs(&self) -> &HashMap<&'a str, Vec<usize>> {
        self.refs.get_or_init(|| {
            let mut refs: HashMap<&'a str, Vec<usize>> = HashMap::new();
            let mut cursor = self.tree.root_node().walk();
            loop {
                let n = cursor.node();
                let kind = n.kind_id();
                if kind == k::IDENTIFIER {
                    let field = cursor.field_id().map_or(0, |f| f.get());
                    if !n
                        .parent()
                        .is_some_and(|p| is_binding_target(p.kind_id(), field))
                    {
                        refs.entry(self.text(n)).or_default().push(n.start_byte());
                    }
                } else if self.descends(n, kind) && cursor.goto_first_child() {
                    continue;
                }
                while !cursor.goto_next_sibling() {
                    if !cursor.goto_parent() {
                        return refs;
                    }
                }
            }
        })
    }

    /// `NAME = ...` in any scope, or `self.NAME = ...` in a method (bound in the class scope).
    fn binding_target(&self, left: Node<'a>) -> Option<(usize, &'a str)> {
        match left.kind() {
            "identifier" => Some((self.scope_of(left).id(), self.text(left))),
            "attribute" => {
                let obj = left.field("object")?;
                let attr = left.field("attribute")?;
                if !matches!(self.text(obj), "self" | "cls") {
                    return None;
                }
                let class = self.enclosing_class(left)?;
                Some((class.id(), self.text(attr)))
            }
            _ => None,
        }
    }

    fn enclosing_def(&self, n: Node<'a>) -> Option<Node<'a>> {
        self.enclosing(n)
            .find(|d| d.kind() == "function_definition")
    }

    fn enclosing_class(&self, n: Node<'a>) -> Option<Node<'a>> {
        self.enclosing(n).find(|d| d.kind() == "class_definition")
    }

    /// The binding `name` refers to at `use_node`: the enclosing functions' bindings first
    /// (the last one before the use), then the module's.
    fn resolve(&self, name: &str, use_node: Node<'a>) -> Option<Binding<'a>> {
        let enclosing: Vec<Node<'a>> = self.enclosing(use_node).collect();
        let mut scopes: Vec<usize> = enclosing
            .iter()
            .filter(|d| d.kind() == "function_definition")
            .map(|d| d.id())
            .collect();
        // Code directly in a class body sees the class's names.
        if let Some(class) = enclosing.first().filter(|d| d.kind() == "class_definition") {
            scopes.push(class.id());
        }
        scopes.push(self.tree.root_node().id());
        let at = use_node.start_byte();
        for scope in scopes {
            if let Some(list) = self.bindings.get(&(scope, name)) {
                let before = list.iter().rev().find(|b| b.stmt.end_byte() <= at);
                let pick = before.or_else(|| {
                    if scope == self.tree.root_node().id() {
                        list.first()
                    } else {
                        None
                    }
                });
                if let Some(b) = pick {
                    return Some(*b);
                }
            }
        }
        None
    }

    /// `name += <expr>` statements that extend binding `b` before file offset `until` (and
    /// before `name` is bound again): `prompt += "..."` assembly.
    fn appended(&self, name: &str, b: Binding<'a>, until: usize) -> Vec<Node<'a>> {
        let key = (self.scope_of(b.stmt).id(), name);
        let Some(augs) = self.augments.get(&key) else {
            return Vec::new();
        };
        let next_binding = self
            .bindings
            .get(&key)
            .and_then(|l| {
                l.iter()
                    .map(|x| x.stmt.start_byte())
                    .find(|s| *s > b.stmt.start_byte())
            })
            .unwrap_or(usize::MAX);
        augs.iter()
            .copied()
            .filter(|a| {
                a.start_byte() >= b.stmt.end_byte() && a.end_byte() <= until.min(next_binding)
            })
            .collect()
    }

    /// Appends the right-hand sides of `name += ...` statements to `f`.
    fn append_augments(
        &mut self,
        f: &mut Frag,
        name: &str,
        b: Binding<'a>,
        until: usize,
        depth: usize,
    ) {
        for aug in self.appended(name, b, until) {
            let Some(right) = aug.field("right") else {
                continue;
            };
            let part = self
                .eval_str(right, depth + 1)
                .unwrap_or_else(|| self.expr_frag(right));
            f.append(part);
        }
    }

    /// `self.NAME` / `cls.NAME` inside a class: the class's binding.
    fn resolve_attr(&self, node: Node<'a>) -> Option<Binding<'a>> {
        let obj = node.field("object")?;
        let attr = node.field("attribute")?;
        if !matches!(self.text(obj), "self" | "cls") {
            return None;
        }
        let class = self.enclosing_class(node)?;
        self.bindings
            .get(&(class.id(), self.text(attr)))?
            .last()
            .copied()
    }

    /// The source of the definition an expression names or calls (`now_str()` -> its `def`),
    /// for volatility's one level of indirection.
    fn definition_source(&self, expr: Node<'a>) -> Option<String> {
        let mut head = expr;
        loop {
            head = match head.kind() {
                "call" => head.field("function")?,
                "attribute" => {
                    let obj = head.field("object")?;
                    if matches!(self.text(obj), "self" | "cls") {
                        let attr = head.field("attribute")?;
                        let class = self.enclosing_class(head)?;
                        let name = self.text(attr);
                        if let Some(d) = self.defs.get(&(class.id(), name)) {
                            return Some(self.text(*d).to_string());
                        }
                        return self
                            .bindings
                            .get(&(class.id(), name))?
                            .last()
                            .map(|b| self.text(b.stmt).to_string());
                    }
                    obj
                }
                "subscript" => head.field("value")?,
                "identifier" => break,
                _ => return None,
            };
        }
        let name = self.text(head);
        let mut scopes: Vec<usize> = self.enclosing(head).map(|d| d.id()).collect();
        scopes.push(self.tree.root_node().id());
        for scope in scopes {
            if let Some(d) = self.defs.get(&(scope, name)) {
                return Some(self.text(*d).to_string());
            }
        }
        self.resolve(name, head)
            .map(|b| self.text(b.stmt).to_string())
    }

    /// Dotted callee text with argument lists elided: `OpenAI().chat.completions.create`.
    fn callee(&self, func: Node<'a>) -> String {
        // Iterative: a pathological `a.b.c...` chain must not exhaust the stack.
        // Suffix pieces borrow from the source: `None` is a call's `()`, `Some(attr)` an
        // attribute (written with its dot), so the only allocation is the result.
        let mut suffix: Vec<Option<&str>> = Vec::new();
        let mut cur = func;
        let head: Cow<str> = loop {
            match cur.kind() {
                "identifier" => break Cow::Borrowed(self.text(cur)),
                "attribute" => {
                    let attr = cur.field("attribute").map(|a| self.text(a)).unwrap_or("");
                    suffix.push(Some(attr));
                    match cur.field("object") {
                        Some(o) => cur = o,
                        None => break Cow::Borrowed(""),
                    }
                }
                "call" => {
                    suffix.push(None);
                    match cur.field("function") {
                        Some(f) => cur = f,
                        None => break Cow::Borrowed(""),
                    }
                }
                // `Agent[Deps, Output](...)`: type parameters do not change the callee.
                "subscript" => match cur.field("value") {
                    Some(v) => cur = v,
                    None => break Cow::Borrowed(""),
                },
                _ => break Cow::Owned(text::squash(self.text(cur))),
            }
        };
        // Sized once: growing the name piece by piece reallocates it for every piece.
        let len = suffix
            .iter()
            .map(|s| s.map_or(2, |a| a.len() + 1))
            .sum::<usize>();
        let mut out = String::with_capacity(head.len() + len);
        out.push_str(&head);
        for s in suffix.into_iter().rev() {
            match s {
                Some(attr) => {
                    out.push('.');
                    out.push_str(attr);
                }
                None => out.push_str("()"),
            }
        }
        out
    }

    /// Whether the text fails the content checks (SQL, HTML...).
    fn not_prompt(&self, text: &str) -> bool {
        self.spec
            .not_prompt
            .as_ref()
            .is_some_and(|r| r.is_match(text))
    }

    /// Runs every pass over what `index` gathered and returns the prompts found.
    fn collect(&mut self, visits: Visits<'a>) -> Vec<Candidate> {
        let mut out = Vec::new();
        let Visits {
            sites,
            assignments,
            functions,
            dicts,
        } = visits;
        // Pass 1: call sites, decorated prompt functions, DSPy signatures.
        for n in sites {
            if n.kind() == "call" {
                if !self.consumed_nodes.contains(&n.id()) {
                    if let Some(mut c) = self.attempt(|m| m.call_site(n)) {
                        c.call_id = Some(n.id());
                        out.push(c);
                    }
                }
            } else if let Some(c) = self.attempt(|m| m.signature_class(n)) {
                out.push(c);
            }
        }
        // Pass 2: functions returning prompts (they may consume constants too).
        for f in functions {
            if let Some(c) = self.attempt(|m| m.prompt_function(f)) {
                out.push(c);
            }
        }
        // Pass 3: assignments to prompt-like names, minus constants folded elsewhere.
        let mut pending = Vec::new();
        for a in assignments {
            if let Some(c) = self.attempt(|m| m.assignment(a)) {
                pending.push((a, c));
            }
        }
        for (a, c) in pending {
            if !self.fully_consumed(a) {
                out.push(c);
            }
        }
        // Pass 4: role dicts no call site or message list took (`history.append({...})`).
        for d in dicts {
            if !self.consumed_nodes.contains(&d.id()) {
                if let Some(c) = self.attempt(|m| m.role_dict(d)) {
                    out.push(c);
                }
            }
        }
        // A message constructor bound to a name and folded into a later call is not listed twice.
        out.retain(|c| {
            c.call_id
                .is_none_or(|id| !self.consumed_nodes.contains(&id))
        });
        out
    }
}
