//! Prompts that are not call sites: assignments to prompt-like names (strings, message lists,
//! few-shot example lists, dicts of prompts), functions returning prompts (decorated with
//! `@agent.system_prompt` / `@agent.instructions` or named like a prompt), and DSPy
//! `Signature` docstrings (the one docstring that is a prompt).

use super::tree::Node;

use super::{assign_parts, Candidate, Module};
use crate::extract::callee_matches;
use crate::prompt::{Origin, PlaceholderSyntax};
use crate::segment::Role;

impl<'a> Module<'a> {
    /// Every reference to the assigned name was folded into another prompt.
    pub(super) fn fully_consumed(&self, stmt: Node<'a>) -> bool {
        let Some((left, _)) = assign_parts(stmt) else {
            return false;
        };
        let name_node = if left.kind() == "attribute" {
            left.field("attribute")
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
            let all = self.refs().get(name).cloned().unwrap_or_default();
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

    pub(super) fn attr_refs(&self, name: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut stack = vec![self.tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() == "attribute" {
                if let Some(a) = n.field("attribute") {
                    let is_target = n.parent().is_some_and(|p| {
                        p.kind() == "assignment"
                            && p.field("left").is_some_and(|l| l.id() == n.id())
                    });
                    if self.text(a) == name && !is_target {
                        out.push(a.start_byte());
                    }
                }
            }
            stack.extend(n.named_children());
        }
        out
    }

    /// The display name of an assignment target: `NAME`, `Class.NAME` for class attributes
    /// and `self.NAME` in methods, `func.NAME` is not used (locals keep their bare name).
    pub(super) fn target_name(&self, left: Node<'a>) -> Option<String> {
        let name = match left.kind() {
            "identifier" => self.text(left),
            "attribute" => {
                let obj = left.field("object")?;
                if !matches!(self.text(obj), "self" | "cls") {
                    return None;
                }
                self.text(left.field("attribute")?)
            }
            _ => return None,
        };
        let scope = self.scope_of(left);
        let class = if left.kind() == "attribute" {
            self.enclosing_class(left)
        } else {
            (scope.kind() == "class_definition").then_some(scope)
        };
        match class.and_then(|c| c.field("name")) {
            Some(cn) => Some(format!("{}.{}", self.text(cn), name)),
            None => Some(name.to_string()),
        }
    }

    /// `NAME = <string>` (or a message list, or few-shot examples) for a prompt-like name.
    pub(super) fn assignment(&mut self, stmt: Node<'a>) -> Option<Candidate> {
        let (left, value) = assign_parts(stmt)?;
        let full = self.target_name(left)?;
        let short = full.rsplit('.').next().unwrap_or(&full).to_string();
        let prompt_name = self.spec.is_prompt_name(&short);
        // Only a list can be a prompt whatever its name (role messages or, under an examples
        // name, few-shot examples): most assignments end here, before a candidate is made.
        let listy = matches!(value.kind(), "list" | "tuple");
        if !prompt_name && !listy {
            return None;
        }
        let examples_name = listy && self.spec.is_examples_name(&short);
        let origin = Origin::Assignment { name: full.clone() };
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
                let pairs: Vec<Node> = value
                    .named_children()
                    .filter(|p| p.kind() == "pair")
                    .collect();
                for p in pairs {
                    let Some(v) = p.field("value") else {
                        continue;
                    };
                    if let Some(f) = self.eval_str(v, 0) {
                        if f.prose_len() >= self.spec.min_name_chars {
                            cand.add_part(f, None);
                        }
                    }
                }
            }
            _ if prompt_name => {
                let mut f = self.eval_str(value, 0)?;
                if left.kind() == "identifier" {
                    let b = super::Binding { value, stmt };
                    self.append_augments(&mut f, &short, b, usize::MAX, 0);
                }
                if f.prose_len() < self.spec.min_name_chars || f.text.trim().is_empty() {
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
        self.fill_from_format_call(&short, &mut cand);
        Some(cand)
    }

    /// `NAME.format(q=question)` elsewhere in the module: the constant's `{q}` placeholders get
    /// their filling expressions (and definitions) from the first such call.
    fn fill_from_format_call(&self, name: &str, cand: &mut Candidate) {
        let root = self.tree.root_node();
        let Some(refs) = self.refs().get(name) else {
            return;
        };
        let call = refs.iter().find_map(|&r| {
            let n = root.descendant_for_byte_range(r, r + name.len())?;
            let attr = n.parent().filter(|p| p.kind() == "attribute")?;
            let method = attr.field("attribute").map(|m| self.text(m))?;
            if !matches!(method, "format" | "format_map") {
                return None;
            }
            attr.parent().filter(|c| c.kind() == "call")
        });
        let Some(args) = call.and_then(|c| c.field("arguments")) else {
            return;
        };
        let (kw, pos) = self.call_args_text(args);
        let nodes: Vec<(Option<String>, Node)> = args
            .named_children()
            .filter_map(|a| match a.kind() {
                "keyword_argument" => Some((
                    a.field("name").map(|k| self.text(k).to_string()),
                    a.field("value")?,
                )),
                "list_splat" | "dictionary_splat" => None,
                _ => Some((None, a)),
            })
            .collect();
        let mut auto = 0;
        for ph in &mut cand.builder.placeholders {
            if ph.syntax != PlaceholderSyntax::Brace || ph.expr.is_some() {
                continue;
            }
            let head = ph.name.split(['.', '[']).next().unwrap_or("");
            let (expr, node) = if head.is_empty() || head.parse::<usize>().is_ok() {
                let i = head.parse::<usize>().unwrap_or_else(|_| {
                    auto += 1;
                    auto - 1
                });
                (
                    pos.get(i).cloned(),
                    nodes
                        .iter()
                        .filter(|(k, _)| k.is_none())
                        .nth(i)
                        .map(|(_, n)| *n),
                )
            } else {
                (
                    kw.iter().find(|(k, _)| k == head).map(|(_, v)| v.clone()),
                    nodes
                        .iter()
                        .find(|(k, _)| k.as_deref() == Some(head))
                        .map(|(_, n)| *n),
                )
            };
            if expr.is_some() {
                ph.expr = expr;
                ph.resolved = node.and_then(|n| self.definition_source(n));
            }
        }
    }

    /// A list literal with at least one element that carries a role: a `{"role": ...}` dict,
    /// a `dict(role=...)` call, a `("system", ...)` pair or a message constructor with a role.
    pub(super) fn has_role_message(&self, list: Node<'a>) -> bool {
        list.named_children().any(|item| match item.kind() {
            "dictionary" => item.named_children().any(|p| {
                p.field("key")
                    .and_then(|k| self.string(k))
                    .is_some_and(|f| f.text == "role")
            }),
            "tuple" | "list" => self.is_pair(item),
            "call" => {
                let Some(func) = item.field("function") else {
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
    pub(super) fn glued(&self, name: &str) -> bool {
        let Some(refs) = self.refs().get(name) else {
            return false;
        };
        let root = self.tree.root_node();
        refs.iter().any(|&r| {
            let Some(n) = root.descendant_for_byte_range(r, r + name.len()) else {
                return false;
            };
            n.parent().is_some_and(|p| {
                (p.kind() == "binary_operator"
                    && p.field("operator").is_some_and(|o| o.kind() == "+"))
                    || p.kind() == "interpolation"
            })
        })
    }

    /// A function whose returned strings are prompts: decorated as a prompt
    /// (`@agent.system_prompt`) or named like one (`def build_system_prompt()`).
    pub(super) fn prompt_function(&mut self, def: Node<'a>) -> Option<Candidate> {
        let name = self.text(def.field("name")?).to_string();
        let decorator = def
            .parent()
            .filter(|p| p.kind() == "decorated_definition")
            .and_then(|p| {
                let decos: Vec<Node> = p
                    .named_children()
                    .filter(|d| d.kind() == "decorator")
                    .collect();
                decos.into_iter().find_map(|d| {
                    let mut e = d.named_child(0)?;
                    if e.kind() == "call" {
                        e = e.field("function")?;
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
        let body = def.field("body")?;
        let mut returns = Vec::new();
        let mut stack = vec![body];
        while let Some(n) = stack.pop() {
            match n.kind() {
                "return_statement" => returns.push(n),
                "function_definition" | "class_definition" | "lambda" => continue,
                _ => {}
            }
            let at = stack.len();
            stack.extend(n.named_children());
            // Reversed so the stack pops them in source order.
            stack[at..].reverse();
        }
        let class = self
            .enclosing_class(def)
            .and_then(|c| c.field("name"))
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
        let mut literal = 0;
        for r in returns {
            let Some(v) = r.named_child(0) else { continue };
            if let Some(f) = self.eval_str(v, 0) {
                if f.literal_bytes > 0 {
                    literal += f.prose_len();
                    cand.add_part(f, role);
                }
            }
        }
        let min = if by_name {
            self.spec.min_name_chars
        } else {
            self.spec.min_call_chars.max(1)
        };
        if literal < min || self.not_prompt(&cand.builder.text) {
            return None;
        }
        Some(cand)
    }

    /// A DSPy `Signature` subclass: its docstring and field descriptions are the instruction.
    pub(super) fn signature_class(&mut self, class: Node<'a>) -> Option<Candidate> {
        let supers = class.field("superclasses")?;
        let is_sig = supers.named_children().any(|s| {
            self.spec
                .docstring_bases
                .iter()
                .any(|b| callee_matches(b, &self.callee(s)))
        });
        if !is_sig {
            return None;
        }
        let name = self.text(class.field("name")?).to_string();
        let body = class.field("body")?;
        let mut cand = Candidate::new(
            class.start_byte(),
            name.clone(),
            Origin::Assignment { name },
        );
        let stmts: Vec<Node> = body.named_children().collect();
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
            let Some(call) = a.field("right").filter(|r| r.kind() == "call") else {
                continue;
            };
            let Some(func) = call.field("function") else {
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
            let Some(args) = call.field("arguments") else {
                continue;
            };
            let kws: Vec<Node> = args
                .named_children()
                .filter(|k| k.kind() == "keyword_argument")
                .collect();
            for kw in kws {
                let is_desc = kw
                    .field("name")
                    .is_some_and(|k| matches!(self.text(k), "desc" | "description"));
                if let Some(v) = kw.field("value").filter(|_| is_desc) {
                    if let Some(f) = self.eval_str(v, 0) {
                        cand.add_part(f, None);
                    }
                }
            }
            self.mark_node(call.id());
        }
        (!cand.builder.text.trim().is_empty()).then_some(cand)
    }
}
