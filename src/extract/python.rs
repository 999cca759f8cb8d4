//! Prompts inline in Python, found with tree-sitter.
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

mod sites;
#[cfg(test)]
mod tests;
mod text;

use std::collections::{HashMap, HashSet};

use tree_sitter::{Node, Tree};

use crate::extract::{callee_matches, PromptSpec, PythonSpec};
use crate::prompt::{Origin, Prompt, PromptBuilder, PromptFormat};
use crate::segment::{Role, Segment, SegmentKind};
use text::Frag;

/// Recursion limit for nested expressions and name resolution.
const MAX_DEPTH: usize = 48;

/// A reusable tree-sitter parser for Python (one per worker thread).
pub struct PythonExtractor {
    parser: tree_sitter::Parser,
}

impl PythonExtractor {
    pub fn new() -> Self {
        let mut parser = tree_sitter::Parser::new();
        let _ = parser.set_language(&tree_sitter_python::LANGUAGE.into());
        Self { parser }
    }

    /// Every prompt in `source` (a Python module or a notebook's joined code cells). Broken
    /// Python is still searched: tree-sitter recovers around syntax errors.
    pub fn extract(
        &mut self,
        source: &str,
        path: &str,
        spec: &PromptSpec,
        format: PromptFormat,
    ) -> Vec<Prompt> {
        let Some(tree) = self.parser.parse(source, None) else {
            return Vec::new();
        };
        let mut module = Module::new(source, &tree, &spec.python);
        module.index();
        let candidates = module.collect();
        finalize(candidates, path, format)
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

/// Target and value of an assignment, or name and default of a parameter (`prompt: str = "..."`;
/// also what tree-sitter makes of some assignments after a syntax error).
fn assign_parts(n: Node) -> Option<(Node, Node)> {
    match n.kind() {
        "assignment" => Some((
            n.child_by_field_name("left")?,
            n.child_by_field_name("right")?,
        )),
        _ => Some((
            n.child_by_field_name("name")?,
            n.child_by_field_name("value")?,
        )),
    }
}

/// A name bound by an assignment.
#[derive(Clone, Copy)]
struct Binding<'a> {
    value: Node<'a>,
    stmt: Node<'a>,
}

/// One parsed module and what the passes learn about it.
pub(super) struct Module<'a> {
    src: &'a str,
    tree: &'a Tree,
    spec: &'a PythonSpec,
    /// (scope node id, name) -> bindings in source order.
    bindings: HashMap<(usize, String), Vec<Binding<'a>>>,
    /// (scope node id, name) -> function definitions.
    defs: HashMap<(usize, String), Node<'a>>,
    /// Imported module paths and names (`openai`, `litellm`, `completion`).
    imports: HashSet<String>,
    /// Identifier references (not binding targets) by name: their start bytes.
    refs: HashMap<String, Vec<usize>>,
    /// References whose value was folded into a prompt.
    consumed_refs: HashSet<usize>,
    /// Node ids (calls) already part of a prompt.
    consumed_nodes: HashSet<usize>,
}

impl<'a> Module<'a> {
    fn new(src: &'a str, tree: &'a Tree, spec: &'a PythonSpec) -> Self {
        Module {
            src,
            tree,
            spec,
            bindings: HashMap::new(),
            defs: HashMap::new(),
            imports: HashSet::new(),
            refs: HashMap::new(),
            consumed_refs: HashSet::new(),
            consumed_nodes: HashSet::new(),
        }
    }

    fn text(&self, n: Node) -> &'a str {
        self.src.get(n.byte_range()).unwrap_or("")
    }

    /// The scope a node's bindings belong to: nearest function, class or the module.
    fn scope_of(&self, n: Node<'a>) -> Node<'a> {
        let mut cur = n.parent();
        while let Some(p) = cur {
            if matches!(p.kind(), "function_definition" | "class_definition") {
                return p;
            }
            cur = p.parent();
        }
        self.tree.root_node()
    }

    /// Records bindings, definitions, imports and references.
    fn index(&mut self) {
        let mut stack = vec![self.tree.root_node()];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "assignment" => {
                    if let (Some(left), Some(right)) = (
                        n.child_by_field_name("left"),
                        n.child_by_field_name("right"),
                    ) {
                        if let Some((scope, name)) = self.binding_target(left) {
                            self.bindings
                                .entry((scope, name))
                                .or_default()
                                .push(Binding {
                                    value: right,
                                    stmt: n,
                                });
                        }
                    }
                }
                "function_definition" => {
                    if let Some(name) = n.child_by_field_name("name") {
                        let scope = self.scope_of(n).id();
                        self.defs.insert((scope, self.text(name).to_string()), n);
                    }
                }
                "import_statement" | "import_from_statement" => {
                    let mut c = n.walk();
                    let mut todo: Vec<Node> = n.named_children(&mut c).collect();
                    while let Some(m) = todo.pop() {
                        if m.kind() == "dotted_name" || m.kind() == "identifier" {
                            let t = self.text(m);
                            self.imports.insert(t.to_string());
                            if let Some(first) = t.split('.').next() {
                                self.imports.insert(first.to_string());
                            }
                        } else {
                            let mut c2 = m.walk();
                            todo.extend(m.named_children(&mut c2));
                        }
                    }
                    continue;
                }
                "identifier" if !self.is_binding_target(n) => {
                    self.refs
                        .entry(self.text(n).to_string())
                        .or_default()
                        .push(n.start_byte());
                }
                _ => {}
            }
            let mut c = n.walk();
            let children: Vec<Node> = n.children(&mut c).collect();
            stack.extend(children.into_iter().rev());
        }
    }

    /// `NAME = ...` in any scope, or `self.NAME = ...` in a method (bound in the class scope).
    fn binding_target(&self, left: Node<'a>) -> Option<(usize, String)> {
        match left.kind() {
            "identifier" => Some((self.scope_of(left).id(), self.text(left).to_string())),
            "attribute" => {
                let obj = left.child_by_field_name("object")?;
                let attr = left.child_by_field_name("attribute")?;
                if !matches!(self.text(obj), "self" | "cls") {
                    return None;
                }
                let class = self.enclosing_class(left)?;
                Some((class.id(), self.text(attr).to_string()))
            }
            _ => None,
        }
    }

    fn is_binding_target(&self, ident: Node<'a>) -> bool {
        let Some(p) = ident.parent() else {
            return false;
        };
        match p.kind() {
            "assignment" | "augmented_assignment" => p
                .child_by_field_name("left")
                .is_some_and(|l| l.id() == ident.id()),
            "function_definition" | "class_definition" => p
                .child_by_field_name("name")
                .is_some_and(|l| l.id() == ident.id()),
            "keyword_argument" => p
                .child_by_field_name("name")
                .is_some_and(|l| l.id() == ident.id()),
            "attribute" => p
                .child_by_field_name("attribute")
                .is_some_and(|l| l.id() == ident.id()),
            "parameters" | "default_parameter" | "typed_parameter" | "typed_default_parameter" => {
                true
            }
            _ => false,
        }
    }

    fn enclosing_def(&self, n: Node<'a>) -> Option<Node<'a>> {
        let mut cur = n.parent();
        while let Some(p) = cur {
            if p.kind() == "function_definition" {
                return Some(p);
            }
            cur = p.parent();
        }
        None
    }

    fn enclosing_class(&self, n: Node<'a>) -> Option<Node<'a>> {
        let mut cur = n.parent();
        while let Some(p) = cur {
            if p.kind() == "class_definition" {
                return Some(p);
            }
            cur = p.parent();
        }
        None
    }

    /// The binding `name` refers to at `use_node`: the enclosing functions' bindings first
    /// (the last one before the use), then the module's.
    fn resolve(&self, name: &str, use_node: Node<'a>) -> Option<Binding<'a>> {
        let mut scopes = Vec::new();
        let mut cur = use_node.parent();
        while let Some(p) = cur {
            if p.kind() == "function_definition" {
                scopes.push(p.id());
            }
            cur = p.parent();
        }
        // Code directly in a class body sees the class's names.
        let direct = self.scope_of(use_node);
        if direct.kind() == "class_definition" {
            scopes.push(direct.id());
        }
        scopes.push(self.tree.root_node().id());
        let at = use_node.start_byte();
        for scope in scopes {
            if let Some(list) = self.bindings.get(&(scope, name.to_string())) {
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

    /// `self.NAME` / `cls.NAME` inside a class: the class's binding.
    fn resolve_attr(&self, node: Node<'a>) -> Option<Binding<'a>> {
        let obj = node.child_by_field_name("object")?;
        let attr = node.child_by_field_name("attribute")?;
        if !matches!(self.text(obj), "self" | "cls") {
            return None;
        }
        let class = self.enclosing_class(node)?;
        self.bindings
            .get(&(class.id(), self.text(attr).to_string()))?
            .last()
            .copied()
    }

    /// The source of the definition an expression names or calls (`now_str()` -> its `def`),
    /// for volatility's one level of indirection.
    fn definition_source(&self, expr: Node<'a>) -> Option<String> {
        let mut head = expr;
        loop {
            head = match head.kind() {
                "call" => head.child_by_field_name("function")?,
                "attribute" => {
                    let obj = head.child_by_field_name("object")?;
                    if matches!(self.text(obj), "self" | "cls") {
                        let attr = head.child_by_field_name("attribute")?;
                        let class = self.enclosing_class(head)?;
                        let name = self.text(attr).to_string();
                        if let Some(d) = self.defs.get(&(class.id(), name.clone())) {
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
                "subscript" => head.child_by_field_name("value")?,
                "identifier" => break,
                _ => return None,
            };
        }
        let name = self.text(head);
        let mut cur = head.parent();
        let mut scopes = Vec::new();
        while let Some(p) = cur {
            if matches!(p.kind(), "function_definition" | "class_definition") {
                scopes.push(p.id());
            }
            cur = p.parent();
        }
        scopes.push(self.tree.root_node().id());
        for scope in scopes {
            if let Some(d) = self.defs.get(&(scope, name.to_string())) {
                return Some(self.text(*d).to_string());
            }
        }
        self.resolve(name, head)
            .map(|b| self.text(b.stmt).to_string())
    }

    /// The text of a string-valued expression, or `None` when it is not one (a bytes literal,
    /// a call result, a number...). Names are resolved one level and marked consumed.
    fn eval_str(&mut self, n: Node<'a>, depth: usize) -> Option<Frag> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "string" => self.string(n),
            "concatenated_string" => {
                let mut out = Frag::new();
                let mut c = n.walk();
                let parts: Vec<Node> = n.named_children(&mut c).collect();
                for part in parts.into_iter().filter(|p| p.kind() != "comment") {
                    out.append(self.string(part)?);
                }
                Some(out)
            }
            "parenthesized_expression" => {
                let inner = n.named_child(0)?;
                self.eval_str(inner, depth + 1)
            }
            "binary_operator" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| o.kind())
                    .unwrap_or("");
                let left = n.child_by_field_name("left")?;
                let right = n.child_by_field_name("right")?;
                match op {
                    "+" => {
                        let l = self.eval_str(left, depth + 1);
                        let r = self.eval_str(right, depth + 1);
                        if l.is_none() && r.is_none() {
                            return None;
                        }
                        let mut out = l.unwrap_or_else(|| self.expr_frag(left));
                        out.append(r.unwrap_or_else(|| self.expr_frag(right)));
                        Some(out)
                    }
                    "%" => {
                        let mut out = self.eval_str(left, depth + 1)?;
                        let (kw, pos) = self.percent_args(right);
                        out.apply_percent(&kw, &pos);
                        Some(out)
                    }
                    _ => None,
                }
            }
            "call" => self.eval_call_str(n, depth),
            "identifier" => {
                let b = self.resolve(self.text(n), n)?;
                let value = self.eval_binding(b, depth)?;
                self.consumed_refs.insert(n.start_byte());
                Some(value)
            }
            "attribute" => {
                let b = self.resolve_attr(n)?;
                let value = self.eval_binding(b, depth)?;
                if let Some(attr) = n.child_by_field_name("attribute") {
                    self.consumed_refs.insert(attr.start_byte());
                }
                Some(value)
            }
            _ => None,
        }
    }

    fn eval_binding(&mut self, b: Binding<'a>, depth: usize) -> Option<Frag> {
        self.eval_str(b.value, depth + 4)
    }

    /// A non-literal operand: `{expr}` placeholder.
    fn expr_frag(&self, n: Node<'a>) -> Frag {
        let mut f = Frag::new();
        f.expression(
            self.text(n),
            crate::span::FileSpan::new(n.start_byte(), n.end_byte()),
            self.definition_source(n),
        );
        f
    }

    /// String-producing calls: `dedent`, `cleandoc`, `.strip()`, `.format()`, `"sep".join()`.
    fn eval_call_str(&mut self, n: Node<'a>, depth: usize) -> Option<Frag> {
        let func = n.child_by_field_name("function")?;
        let args = n.child_by_field_name("arguments")?;
        let callee = self.callee(func);
        let first_arg = || -> Option<Node<'a>> {
            let mut c = args.walk();
            let first = args.named_children(&mut c).find(|a| a.kind() != "comment");
            first
        };
        if self
            .spec
            .dedent_callees
            .iter()
            .any(|p| callee_matches(p, &callee))
        {
            let mut f = self.eval_str(first_arg()?, depth + 1)?;
            f.dedent();
            return Some(f);
        }
        if self
            .spec
            .cleandoc_callees
            .iter()
            .any(|p| callee_matches(p, &callee))
        {
            let mut f = self.eval_str(first_arg()?, depth + 1)?;
            f.cleandoc();
            return Some(f);
        }
        if func.kind() != "attribute" {
            return None;
        }
        let obj = func.child_by_field_name("object")?;
        let method = self.text(func.child_by_field_name("attribute")?);
        match method {
            "strip" | "lstrip" | "rstrip" => {
                // Only the no-argument form strips whitespace.
                if first_arg().is_some() {
                    return self.eval_str(obj, depth + 1);
                }
                let mut f = self.eval_str(obj, depth + 1)?;
                f.strip(method != "rstrip", method != "lstrip");
                Some(f)
            }
            "format" | "format_map" => {
                let mut f = self.eval_str(obj, depth + 1)?;
                let (kw, pos) = self.call_args_text(args);
                f.apply_format(&kw, &pos);
                self.resolve_slot_defs(&mut f, args);
                Some(f)
            }
            "join" => {
                let sep = self.eval_str(obj, depth + 1)?;
                let list = first_arg()?;
                if !matches!(list.kind(), "list" | "tuple") {
                    return None;
                }
                let mut out = Frag::new();
                let mut c = list.walk();
                let items: Vec<Node> = list
                    .named_children(&mut c)
                    .filter(|i| i.kind() != "comment")
                    .collect();
                for (i, item) in items.into_iter().enumerate() {
                    if i > 0 {
                        out.append(sep.clone());
                    }
                    let part = self
                        .eval_str(item, depth + 1)
                        .unwrap_or_else(|| self.expr_frag(item));
                    out.append(part);
                }
                (out.literal_bytes > 0).then_some(out)
            }
            _ => None,
        }
    }

    /// Sets `resolved` on placeholders whose `expr` came from `.format(name=expr)` arguments.
    fn resolve_slot_defs(&self, f: &mut Frag, args: Node<'a>) {
        let mut c = args.walk();
        let values: Vec<(String, Node)> = args
            .named_children(&mut c)
            .filter_map(|a| match a.kind() {
                "keyword_argument" => {
                    let v = a.child_by_field_name("value")?;
                    Some((text::squash(self.text(v)), v))
                }
                "comment" => None,
                _ => Some((text::squash(self.text(a)), a)),
            })
            .collect();
        for s in &mut f.slots {
            if s.resolved.is_some() {
                continue;
            }
            if let Some(e) = &s.expr {
                if let Some((_, node)) = values.iter().find(|(t, _)| t == e) {
                    s.resolved = self.definition_source(*node);
                }
            }
        }
    }

    /// Keyword and positional argument texts of a call.
    fn call_args_text(&self, args: Node<'a>) -> (Vec<(String, String)>, Vec<String>) {
        let mut kw = Vec::new();
        let mut pos = Vec::new();
        let mut c = args.walk();
        for a in args.named_children(&mut c) {
            match a.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (
                        a.child_by_field_name("name"),
                        a.child_by_field_name("value"),
                    ) {
                        kw.push((self.text(k).to_string(), text::squash(self.text(v))));
                    }
                }
                "dictionary_splat" | "list_splat" | "comment" => {}
                _ => pos.push(text::squash(self.text(a))),
            }
        }
        (kw, pos)
    }

    /// The right operand of `%`: a tuple, a dict literal or a single value.
    fn percent_args(&self, right: Node<'a>) -> (Vec<(String, String)>, Vec<String>) {
        let mut kw = Vec::new();
        let mut pos = Vec::new();
        let mut c = right.walk();
        match right.kind() {
            "tuple" | "parenthesized_expression" if right.kind() == "tuple" => {
                pos.extend(
                    right
                        .named_children(&mut c)
                        .filter(|a| a.kind() != "comment")
                        .map(|a| text::squash(self.text(a))),
                );
            }
            "dictionary" => {
                for p in right.named_children(&mut c) {
                    if let (Some(k), Some(v)) =
                        (p.child_by_field_name("key"), p.child_by_field_name("value"))
                    {
                        let key = self.text(k).trim_matches(['"', '\'']).to_string();
                        kw.push((key, text::squash(self.text(v))));
                    }
                }
            }
            _ => pos.push(text::squash(self.text(right))),
        }
        (kw, pos)
    }

    /// One string literal (`None` for bytes).
    fn string(&self, n: Node<'a>) -> Option<Frag> {
        if n.kind() != "string" {
            return None;
        }
        let mut c = n.walk();
        let children: Vec<Node> = n.children(&mut c).collect();
        let start_tok = children.iter().find(|ch| ch.kind() == "string_start")?;
        let end_tok = children.iter().rev().find(|ch| ch.kind() == "string_end");
        let opener = self.text(*start_tok);
        let quote_at = opener.find(['"', '\'']).unwrap_or(opener.len());
        let prefix = text::parse_prefix(&opener[..quote_at]);
        if prefix.bytes {
            return None;
        }
        let content_start = start_tok.end_byte();
        let content_end = match end_tok {
            Some(e) if e.start_byte() >= content_start => e.start_byte(),
            _ => n.end_byte(),
        };
        let mut out = Frag::new();
        let mut at = content_start;
        let mut plain = Frag::new();
        for ch in children.iter().filter(|ch| ch.kind() == "interpolation") {
            if ch.start_byte() < at || ch.end_byte() > content_end {
                continue;
            }
            text::decode_into(&mut plain, self.src, at, ch.start_byte(), prefix);
            out.append(std::mem::take(&mut plain));
            let start = out.len();
            let field = self.text(*ch);
            out.verbatim(field, ch.start_byte());
            let expr = ch.child_by_field_name("expression");
            let name = expr
                .map(|e| text::squash(self.text(e)))
                .unwrap_or_else(|| text::squash(field.trim_matches(['{', '}'])));
            let resolved = expr.and_then(|e| self.definition_source(e));
            out.slots.push(text::Slot {
                name: name.clone(),
                expr: Some(name),
                resolved,
                syntax: crate::prompt::PlaceholderSyntax::FString,
                start,
                end: out.len(),
            });
            at = ch.end_byte();
        }
        text::decode_into(&mut plain, self.src, at, content_end, prefix);
        if !prefix.fstring {
            plain.scan_template_fields();
        }
        out.append(plain);
        Some(out)
    }

    /// Dotted callee text with argument lists elided: `OpenAI().chat.completions.create`.
    fn callee(&self, func: Node<'a>) -> String {
        match func.kind() {
            "identifier" => self.text(func).to_string(),
            "attribute" => {
                let obj = func
                    .child_by_field_name("object")
                    .map(|o| self.callee(o))
                    .unwrap_or_default();
                let attr = func
                    .child_by_field_name("attribute")
                    .map(|a| self.text(a))
                    .unwrap_or("");
                format!("{obj}.{attr}")
            }
            "call" => {
                let f = func
                    .child_by_field_name("function")
                    .map(|f| self.callee(f))
                    .unwrap_or_default();
                format!("{f}()")
            }
            // `Agent[Deps, Output](...)`: type parameters do not change the callee.
            "subscript" => func
                .child_by_field_name("value")
                .map(|v| self.callee(v))
                .unwrap_or_default(),
            _ => text::squash(self.text(func)),
        }
    }

    /// Whether the text fails the content checks (SQL, HTML...).
    fn not_prompt(&self, text: &str) -> bool {
        self.spec
            .not_prompt
            .as_ref()
            .is_some_and(|r| r.is_match(text))
    }

    /// Runs every pass and returns the prompts found.
    fn collect(&mut self) -> Vec<Candidate> {
        let mut out = Vec::new();
        let root = self.tree.root_node();
        // Pass 1: call sites, decorated prompt functions, DSPy signatures.
        let mut stack = vec![root];
        let mut assignments = Vec::new();
        let mut functions = Vec::new();
        let mut dicts = Vec::new();
        while let Some(n) = stack.pop() {
            match n.kind() {
                "call" if !self.consumed_nodes.contains(&n.id()) => {
                    if let Some(mut c) = self.call_site(n) {
                        c.call_id = Some(n.id());
                        out.push(c);
                    }
                }
                "assignment" | "default_parameter" | "typed_default_parameter" => {
                    assignments.push(n)
                }
                "function_definition" => functions.push(n),
                "dictionary" => dicts.push(n),
                "class_definition" => {
                    if let Some(c) = self.signature_class(n) {
                        out.push(c);
                    }
                }
                _ => {}
            }
            let mut c = n.walk();
            let children: Vec<Node> = n.named_children(&mut c).collect();
            stack.extend(children.into_iter().rev());
        }
        // Pass 2: functions returning prompts (they may consume constants too).
        for f in functions {
            if let Some(c) = self.prompt_function(f) {
                out.push(c);
            }
        }
        // Pass 3: assignments to prompt-like names, minus constants folded elsewhere.
        let mut pending = Vec::new();
        for a in assignments {
            if let Some(c) = self.assignment(a) {
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
                if let Some(c) = self.role_dict(d) {
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

    /// Every reference to the assigned name was folded into another prompt.
    fn fully_consumed(&self, stmt: Node<'a>) -> bool {
        let Some((left, _)) = assign_parts(stmt) else {
            return false;
        };
        let name_node = if left.kind() == "attribute" {
            left.child_by_field_name("attribute")
        } else {
            Some(left)
        };
        let Some(name_node) = name_node else {
            return false;
        };
        let name = self.text(name_node);
        let refs: Vec<usize> = if left.kind() == "attribute" {
            // `self.x` references are attribute nodes: find them by text.
            self.attr_refs(name)
        } else {
            // Only references that resolve to this binding (another function's local of the
            // same name is a different variable).
            let root = self.tree.root_node();
            let own = |r: &usize| {
                root.descendant_for_byte_range(*r, *r + name.len())
                    .and_then(|n| self.resolve(name, n))
                    .is_some_and(|b| b.stmt.id() == stmt.id())
            };
            let all = self.refs.get(name).cloned().unwrap_or_default();
            if stmt.kind() == "assignment" {
                all.into_iter().filter(own).collect()
            } else {
                all
            }
        };
        let after: Vec<usize> = refs
            .into_iter()
            .filter(|r| *r != name_node.start_byte())
            .collect();
        !after.is_empty() && after.iter().all(|r| self.consumed_refs.contains(r))
    }

    fn attr_refs(&self, name: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![self.tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() == "attribute" {
                if let Some(a) = n.child_by_field_name("attribute") {
                    let is_target = n.parent().is_some_and(|p| {
                        p.kind() == "assignment"
                            && p.child_by_field_name("left")
                                .is_some_and(|l| l.id() == n.id())
                    });
                    if self.text(a) == name && !is_target {
                        out.push(a.start_byte());
                    }
                }
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        out
    }

    /// The display name of an assignment target: `NAME`, `Class.NAME` for class attributes
    /// and `self.NAME` in methods, `func.NAME` is not used (locals keep their bare name).
    fn target_name(&self, left: Node<'a>) -> Option<String> {
        let name = match left.kind() {
            "identifier" => self.text(left),
            "attribute" => {
                let obj = left.child_by_field_name("object")?;
                if !matches!(self.text(obj), "self" | "cls") {
                    return None;
                }
                self.text(left.child_by_field_name("attribute")?)
            }
            _ => return None,
        };
        let scope = self.scope_of(left);
        let class = if left.kind() == "attribute" {
            self.enclosing_class(left)
        } else {
            (scope.kind() == "class_definition").then_some(scope)
        };
        match class.and_then(|c| c.child_by_field_name("name")) {
            Some(cn) => Some(format!("{}.{}", self.text(cn), name)),
            None => Some(name.to_string()),
        }
    }

    /// `NAME = <string>` (or a message list, or few-shot examples) for a prompt-like name.
    fn assignment(&mut self, stmt: Node<'a>) -> Option<Candidate> {
        let (left, value) = assign_parts(stmt)?;
        let full = self.target_name(left)?;
        let short = full.rsplit('.').next().unwrap_or(&full).to_string();
        let origin = Origin::Assignment { name: full.clone() };
        let prompt_name = self.spec.is_prompt_name(&short);
        let examples_name = self
            .spec
            .examples_name
            .as_ref()
            .is_some_and(|r| r.is_match(&short));
        let mut cand = Candidate::new(stmt.start_byte(), full, origin);
        match value.kind() {
            "list" | "tuple" => {
                // A list of role messages is a chat prompt whatever its name; a list of
                // example dicts is a few-shot block when the name says so.
                if self.has_role_message(value) {
                    self.messages(value, &mut cand, 0);
                } else if examples_name || prompt_name {
                    self.examples(value, &mut cand);
                } else {
                    return None;
                }
            }
            "dictionary" if prompt_name => {
                // `PROMPTS = {"summarize": "...", ...}`: each long string value is one part.
                let mut c = value.walk();
                let pairs: Vec<Node> = value
                    .named_children(&mut c)
                    .filter(|p| p.kind() == "pair")
                    .collect();
                for p in pairs {
                    let Some(v) = p.child_by_field_name("value") else {
                        continue;
                    };
                    if let Some(f) = self.eval_str(v, 0) {
                        if f.literal_bytes >= self.spec.min_name_chars {
                            cand.add_part(f, None);
                        }
                    }
                }
            }
            _ if prompt_name => {
                let f = self.eval_str(value, 0)?;
                if f.literal_bytes < self.spec.min_name_chars || f.text.trim().is_empty() {
                    return None;
                }
                let role = short
                    .to_ascii_lowercase()
                    .contains("system")
                    .then_some(Role::System);
                cand.add_part(f, role);
            }
            _ => return None,
        }
        if cand.builder.text.trim().chars().count() < self.spec.min_name_chars
            || self.not_prompt(&cand.builder.text)
        {
            return None;
        }
        cand.fragment = cand.builder.text.chars().count() < 40 && self.glued(&short);
        Some(cand)
    }

    /// A list literal with at least one element that carries a role: a `{"role": ...}` dict,
    /// a `dict(role=...)` call, a `("system", ...)` pair or a message constructor with a role.
    fn has_role_message(&self, list: Node<'a>) -> bool {
        let mut c = list.walk();
        let items: Vec<Node> = list.named_children(&mut c).collect();
        items.into_iter().any(|item| match item.kind() {
            "dictionary" => {
                let mut c2 = item.walk();
                let found = item.named_children(&mut c2).any(|p| {
                    p.child_by_field_name("key")
                        .and_then(|k| self.string(k))
                        .is_some_and(|f| f.text == "role")
                });
                found
            }
            "tuple" | "list" => self.is_pair(item),
            "call" => {
                let Some(func) = item.child_by_field_name("function") else {
                    return false;
                };
                let callee = self.callee(func);
                if callee == "dict" {
                    return self.text(item).contains("role");
                }
                let has_role = self.spec.sites_for(&callee).any(|s| s.role.is_some());
                has_role
            }
            _ => false,
        })
    }

    /// The name is used as a piece of a larger string (`+`, f-string field, `.join`).
    fn glued(&self, name: &str) -> bool {
        let Some(refs) = self.refs.get(name) else {
            return false;
        };
        let root = self.tree.root_node();
        refs.iter().any(|&r| {
            let Some(n) = root.descendant_for_byte_range(r, r + name.len()) else {
                return false;
            };
            n.parent().is_some_and(|p| {
                (p.kind() == "binary_operator"
                    && p.child_by_field_name("operator")
                        .is_some_and(|o| o.kind() == "+"))
                    || p.kind() == "interpolation"
            })
        })
    }

    /// A function whose returned strings are prompts: decorated as a prompt
    /// (`@agent.system_prompt`) or named like one (`def build_system_prompt()`).
    fn prompt_function(&mut self, def: Node<'a>) -> Option<Candidate> {
        let name = self.text(def.child_by_field_name("name")?).to_string();
        let decorator = def
            .parent()
            .filter(|p| p.kind() == "decorated_definition")
            .and_then(|p| {
                let mut c = p.walk();
                let decos: Vec<Node> = p
                    .named_children(&mut c)
                    .filter(|d| d.kind() == "decorator")
                    .collect();
                decos.into_iter().find_map(|d| {
                    let mut e = d.named_child(0)?;
                    if e.kind() == "call" {
                        e = e.child_by_field_name("function")?;
                    }
                    let callee = self.callee(e);
                    let last = callee.rsplit('.').next().unwrap_or("");
                    (e.kind() == "attribute"
                        && self.spec.prompt_decorators.iter().any(|p| p == last))
                    .then_some(callee)
                })
            });
        let by_name = decorator.is_none() && self.spec.is_prompt_name(&name);
        if decorator.is_none() && !by_name {
            return None;
        }
        let body = def.child_by_field_name("body")?;
        let mut returns = Vec::new();
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "return_statement" => returns.push(n),
                "function_definition" | "class_definition" | "lambda" => continue,
                _ => {}
            }
            let mut c = n.walk();
            let children: Vec<Node> = n.named_children(&mut c).collect();
            stack.extend(children.into_iter().rev());
        }
        let class = self
            .enclosing_class(def)
            .and_then(|c| c.child_by_field_name("name"))
            .map(|n| self.text(n));
        let full = match class {
            Some(c) => format!("{c}.{name}"),
            None => name.clone(),
        };
        let origin = match &decorator {
            Some(callee) => Origin::Call {
                callee: callee.clone(),
                keyword: None,
            },
            None => Origin::Assignment { name: full.clone() },
        };
        let mut cand = Candidate::new(def.start_byte(), full, origin);
        let role = (decorator.is_some() || name.to_ascii_lowercase().contains("system"))
            .then_some(Role::System);
        for r in returns {
            let Some(v) = r.named_child(0) else { continue };
            if let Some(f) = self.eval_str(v, 0) {
                if f.literal_bytes > 0 {
                    cand.add_part(f, role);
                }
            }
        }
        let min = if by_name {
            self.spec.min_name_chars
        } else {
            self.spec.min_call_chars.max(1)
        };
        let literal = cand
            .builder
            .map
            .pieces()
            .iter()
            .filter(|p| p.verbatim)
            .map(|p| p.prompt_len)
            .sum::<usize>();
        if literal < min || self.not_prompt(&cand.builder.text) {
            return None;
        }
        Some(cand)
    }

    /// A DSPy `Signature` subclass: its docstring and field descriptions are the instruction.
    fn signature_class(&mut self, class: Node<'a>) -> Option<Candidate> {
        let supers = class.child_by_field_name("superclasses")?;
        let mut c = supers.walk();
        let is_sig = supers.named_children(&mut c).any(|s| {
            self.spec
                .docstring_bases
                .iter()
                .any(|b| callee_matches(b, &self.callee(s)))
        });
        if !is_sig {
            return None;
        }
        let name = self.text(class.child_by_field_name("name")?).to_string();
        let body = class.child_by_field_name("body")?;
        let mut cand = Candidate::new(
            class.start_byte(),
            name.clone(),
            Origin::Assignment { name },
        );
        let mut c = body.walk();
        let stmts: Vec<Node> = body
            .named_children(&mut c)
            .filter(|s| s.kind() != "comment")
            .collect();
        if let Some(doc) = stmts
            .first()
            .filter(|s| s.kind() == "expression_statement")
            .and_then(|s| s.named_child(0))
        {
            if doc.kind() == "string" {
                if let Some(mut f) = self.string(doc) {
                    f.cleandoc();
                    cand.add_part(f, Some(Role::System));
                }
            }
        }
        // `field: str = dspy.InputField(desc="...")`
        for s in stmts {
            let Some(a) = s.named_child(0).filter(|a| a.kind() == "assignment") else {
                continue;
            };
            let Some(call) = a
                .child_by_field_name("right")
                .filter(|r| r.kind() == "call")
            else {
                continue;
            };
            let Some(func) = call.child_by_field_name("function") else {
                continue;
            };
            let callee = self.callee(func);
            if !self
                .spec
                .docstring_field_callees
                .iter()
                .any(|p| callee_matches(p, &callee))
            {
                continue;
            }
            let Some(args) = call.child_by_field_name("arguments") else {
                continue;
            };
            let mut c2 = args.walk();
            let kws: Vec<Node> = args
                .named_children(&mut c2)
                .filter(|k| k.kind() == "keyword_argument")
                .collect();
            for kw in kws {
                let is_desc = kw
                    .child_by_field_name("name")
                    .is_some_and(|k| matches!(self.text(k), "desc" | "description"));
                if let Some(v) = kw.child_by_field_name("value").filter(|_| is_desc) {
                    if let Some(f) = self.eval_str(v, 0) {
                        cand.add_part(f, None);
                    }
                }
            }
            self.consumed_nodes.insert(call.id());
        }
        (!cand.builder.text.trim().is_empty()).then_some(cand)
    }
}
