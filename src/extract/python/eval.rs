//! String-valued expressions: literals, implicit concatenation, `+`, `%`, `.format`,
//! `dedent`/`cleandoc`/`.strip()`, `"sep".join([...])` and names resolved one level.
//!
//! Each function returns a `Frag` (text plus per-byte origins) or `None` when the expression is
//! not a string this module can read (a bytes literal, a call result, a number). A name that
//! resolves to a string binding is folded in and its reference is marked consumed, so the
//! constant is not listed again on its own.

use super::tree::Node;

use super::text::{self, Frag};
use super::{Binding, Module, MAX_DEPTH};
use crate::extract::callee_matches;

impl<'a> Module<'a> {
    /// The text of a string-valued expression, or `None` when it is not one (a bytes literal,
    /// a call result, a number...). Names are resolved one level and marked consumed.
    pub(super) fn eval_str(&mut self, n: Node<'a>, depth: usize) -> Option<Frag> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "string" => self.string(n),
            "concatenated_string" => {
                let mut out = Frag::new();
                for part in n.named_children() {
                    out.append(self.string(part)?);
                }
                Some(out)
            }
            "parenthesized_expression" => {
                let inner = n.named_child(0)?;
                self.eval_str(inner, depth + 1)
            }
            "binary_operator" => {
                let op = n.field("operator").map(|o| o.kind()).unwrap_or("");
                let left = n.field("left")?;
                let right = n.field("right")?;
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
                        // Same-module helpers filling `%` slots (`% now_str()`), as for `.format`.
                        match right.kind() {
                            "tuple" => self.resolve_slot_defs(&mut out, right),
                            "dictionary" => {}
                            _ => {
                                let e = text::squash(self.text(right));
                                for s in out.slots.iter_mut().filter(|s| s.resolved.is_none()) {
                                    if s.expr.as_deref() == Some(e.as_str()) {
                                        s.resolved = self.definition_source(right);
                                    }
                                }
                            }
                        }
                        Some(out)
                    }
                    _ => None,
                }
            }
            "call" => self.eval_call_str(n, depth),
            "identifier" => {
                let name = self.text(n);
                let b = self.resolve(name, n)?;
                let mut value = self.eval_binding(b, depth)?;
                self.append_augments(&mut value, name, b, n.start_byte(), depth);
                self.mark_ref(n.start_byte());
                Some(value)
            }
            "attribute" => {
                let b = self.resolve_attr(n)?;
                let value = self.eval_binding(b, depth)?;
                if let Some(attr) = n.field("attribute") {
                    self.mark_ref(attr.start_byte());
                }
                Some(value)
            }
            _ => None,
        }
    }

    pub(super) fn eval_binding(&mut self, b: Binding<'a>, depth: usize) -> Option<Frag> {
        self.eval_str(b.value, depth + 4)
    }

    /// A non-literal operand: `{expr}` placeholder.
    pub(super) fn expr_frag(&self, n: Node<'a>) -> Frag {
        let mut f = Frag::new();
        f.expression(
            self.text(n),
            crate::span::FileSpan::new(n.start_byte(), n.end_byte()),
            self.definition_source(n),
        );
        f
    }

    /// String-producing calls: `dedent`, `cleandoc`, and the string methods `strip`, `format`, `replace`, `join`.
    pub(super) fn eval_call_str(&mut self, n: Node<'a>, depth: usize) -> Option<Frag> {
        let func = n.field("function")?;
        let args = n.field("arguments")?;
        let callee = self.callee(func);
        let first_arg = || args.named_children().next();
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
        let obj = func.field("object")?;
        let method = self.text(func.field("attribute")?);
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
            "replace" => {
                // `TEMPLATE.replace("{{ticket}}", ticket)`: the marker is a placeholder filled by
                // the second argument. A literal replacement (`"\n"` -> `" "`) is not applied.
                let mut f = self.eval_str(obj, depth + 1)?;
                let argv: Vec<Node> = args.named_children().collect();
                if let (Some(old), Some(new)) =
                    (argv.first().and_then(|a| self.string(*a)), argv.get(1))
                {
                    if new.kind() != "string" && old.text.trim().len() >= 2 {
                        let expr = text::squash(self.text(*new));
                        f.fill_marker(&old.text, &expr, self.definition_source(*new));
                    }
                }
                Some(f)
            }
            "join" => {
                let sep = self.eval_str(obj, depth + 1)?;
                let list = first_arg()?;
                if !matches!(list.kind(), "list" | "tuple") {
                    return None;
                }
                let mut out = Frag::new();
                let items: Vec<Node> = list.named_children().collect();
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
    pub(super) fn resolve_slot_defs(&self, f: &mut Frag, args: Node<'a>) {
        let values: Vec<(String, Node)> = args
            .named_children()
            .filter_map(|a| match a.kind() {
                "keyword_argument" => {
                    let v = a.field("value")?;
                    Some((text::squash(self.text(v)), v))
                }
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
    pub(super) fn call_args_text(&self, args: Node<'a>) -> (Vec<(String, String)>, Vec<String>) {
        let mut kw = Vec::new();
        let mut pos = Vec::new();
        for a in args.named_children() {
            match a.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (a.field("name"), a.field("value")) {
                        kw.push((self.text(k).to_string(), text::squash(self.text(v))));
                    }
                }
                "dictionary_splat" | "list_splat" => {}
                _ => pos.push(text::squash(self.text(a))),
            }
        }
        (kw, pos)
    }

    /// The right operand of `%`: a tuple, a dict literal or a single value.
    pub(super) fn percent_args(&self, right: Node<'a>) -> (Vec<(String, String)>, Vec<String>) {
        let mut kw = Vec::new();
        let mut pos = Vec::new();
        match right.kind() {
            "tuple" | "parenthesized_expression" if right.kind() == "tuple" => {
                pos.extend(right.named_children().map(|a| text::squash(self.text(a))));
            }
            "dictionary" => {
                for p in right.named_children() {
                    if let (Some(k), Some(v)) = (p.field("key"), p.field("value")) {
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
    pub(super) fn string(&self, n: Node<'a>) -> Option<Frag> {
        if n.kind() != "string" {
            return None;
        }
        let children: Vec<Node> = n.children().collect();
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
            let expr = ch.field("expression");
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
}
