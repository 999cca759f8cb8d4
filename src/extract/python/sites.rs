//! Call sites: the prompt arguments of one LLM call or prompt constructor become one prompt.
//!
//! Which keywords and positions hold what (system text, user text, a message list, few-shot
//! examples) is data from `rules/prompts.toml`. This module reads message lists (role dicts,
//! `(role, text)` tuples, message-constructor calls, names bound to any of those), Anthropic
//! content blocks with `cache_control`, and example lists, and records roles, examples and
//! cache breakpoints as it appends their text.

use super::tree::Node;

use super::text::Frag;
use super::{Candidate, Module, MAX_DEPTH};
use crate::extract::RawCallSite;
use crate::prompt::{Origin, PlaceholderSyntax};
use crate::segment::{Role, Segment, SegmentKind};
use crate::span::PromptSpan;

/// What an argument holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    System,
    User,
    Text(Option<Role>),
    Messages,
    Examples,
    /// A prompt-like keyword on a callee no site describes: needs `min-name-chars`.
    Named(Option<Role>),
    /// A config object built inline for a known LLM call
    /// (`config=types.GenerateContentConfig(system_instruction=...)`): its text joins the call.
    Nested,
}

/// Template syntax a call site declares for its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// Plain text (placeholders as found).
    Plain,
    /// `str.format`-style template: `{x}` fields, `{{` is a literal brace.
    Format,
    /// Jinja: only `{{ x }}` are fields.
    Jinja,
}

impl<'a> Module<'a> {
    /// The prompt of one call, if it has prompt arguments holding some literal text.
    pub(super) fn call_site(&mut self, call: Node<'a>) -> Option<Candidate> {
        let func = call.field("function")?;
        let args = call
            .field("arguments")
            .filter(|a| a.kind() == "argument_list")?;
        // A call without arguments (`x.strip()`, `super().__init__()`) has no prompt part.
        args.named_children().next()?;
        // Most calls are neither a known sink nor given a prompt keyword: tell them by the
        // callee's last segment and the keyword names, before the callee is written out.
        let last_segment = match func.kind() {
            "identifier" => Some(self.text(func)),
            "attribute" => func.field("attribute").map(|a| self.text(a)),
            _ => None,
        };
        if let Some(last) = last_segment {
            let keywords = args
                .named_children()
                .filter(|a| a.kind() == "keyword_argument")
                .filter_map(|a| a.field("name"))
                .map(|k| self.text(k));
            if !self.spec.call_may_hold_prompt(last, keywords) {
                return None;
            }
        }
        let callee = self.callee(func);
        if self.spec.is_ignored_callee(&callee) {
            return None;
        }
        let sites: Vec<&RawCallSite> = self
            .spec
            .sites_for(&callee)
            .filter(|s| {
                s.requires_import.is_empty()
                    || s.requires_import.iter().any(|i| self.imports.contains(i))
            })
            .collect();
        // A known LLM call or prompt constructor is a strong sink: its text is a prompt even
        // when it looks like SQL (text-to-SQL prompts). Generic prompt-like keywords are not.
        let strong = sites.iter().any(|s| s.callee.iter().all(|c| c != "*"));
        let mut keywords = Vec::new();
        let mut positional = Vec::new();
        for a in args.named_children() {
            match a.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (a.field("name"), a.field("value")) {
                        keywords.push((self.text(k), v));
                    }
                }
                "list_splat" | "dictionary_splat" => {}
                _ => positional.push(a),
            }
        }
        let role_kw = keywords
            .iter()
            .find(|(k, _)| *k == "role")
            .and_then(|(_, v)| self.string(*v))
            .and_then(|f| Role::parse(&f.text));
        let mut syntax = Syntax::Plain;
        for s in &sites {
            match s.syntax.as_deref() {
                Some("jinja") => syntax = Syntax::Jinja,
                Some("format") if syntax == Syntax::Plain => syntax = Syntax::Format,
                _ => {}
            }
        }
        if let Some((_, v)) = keywords.iter().find(|(k, _)| *k == "template_format") {
            let fmt = self.string(*v).map(|f| f.text).unwrap_or_default();
            if fmt.contains("jinja") || fmt == "mustache" || fmt == "handlebars" {
                syntax = Syntax::Jinja;
            }
        }

        // (slot, value, keyword) in source order.
        let mut parts: Vec<(Slot, Node<'a>, Option<&'a str>)> = Vec::new();
        for (k, v) in &keywords {
            // Resolving a name to see whether it holds a list is needed only for a messages
            // keyword or a prompt-like name: worked out then, once.
            let listy_cell = std::cell::OnceCell::new();
            let listy = || *listy_cell.get_or_init(|| self.is_listy(*v));
            let slot = sites.iter().find_map(|s| {
                let has = |l: &[String]| l.iter().any(|x| x == k);
                if has(&s.system) {
                    Some(Slot::System)
                } else if has(&s.messages) && listy() {
                    Some(Slot::Messages)
                } else if has(&s.user) {
                    Some(Slot::User)
                } else if has(&s.text) {
                    Some(Slot::Text(
                        s.role.as_deref().and_then(Role::parse).or(role_kw),
                    ))
                } else if has(&s.examples) {
                    Some(Slot::Examples)
                } else if has(&s.messages) {
                    Some(Slot::User)
                } else {
                    None
                }
            });
            let slot = slot.or_else(|| {
                (self.spec.is_prompt_name(k) && !listy()).then(|| {
                    Slot::Named(
                        k.to_ascii_lowercase()
                            .contains("system")
                            .then_some(Role::System),
                    )
                })
            });
            let specific = sites.iter().any(|s| s.callee.iter().all(|c| c != "*"));
            let slot = slot.or_else(|| (specific && v.kind() == "call").then_some(Slot::Nested));
            if let Some(slot) = slot {
                parts.push((slot, *v, Some(*k)));
            }
        }
        for (i, v) in positional.iter().enumerate() {
            let slot = sites.iter().find_map(|s| {
                if s.messages_positional.contains(&i) {
                    Some(if self.is_listy(*v) {
                        Slot::Messages
                    } else {
                        Slot::Text(s.role.as_deref().and_then(Role::parse).or(Some(Role::User)))
                    })
                } else if s.positional.contains(&i) {
                    Some(Slot::Text(
                        s.role.as_deref().and_then(Role::parse).or(role_kw),
                    ))
                } else {
                    None
                }
            });
            if let Some(slot) = slot {
                parts.push((slot, *v, None));
            }
        }
        if parts.is_empty() {
            return None;
        }
        // System text first, then source order.
        parts.sort_by_key(|(slot, v, _)| {
            (!matches!(slot, Slot::System | Slot::Nested), v.start_byte())
        });

        let keyword = match parts.as_slice() {
            [(slot, _, Some(k))] if *slot != Slot::Nested => Some(k.to_string()),
            _ => None,
        };
        let mut cand = Candidate::new(
            call.start_byte(),
            callee.clone(),
            Origin::Call { callee, keyword },
        );
        let mut literal = 0usize;
        for (slot, v, _) in parts {
            literal += match slot {
                Slot::System => self.content(v, Some(Role::System), &mut cand, syntax, 0),
                Slot::User => self.content(v, Some(Role::User), &mut cand, syntax, 0),
                Slot::Text(role) => self.content(v, role, &mut cand, syntax, 0),
                Slot::Messages => self.message_value(v, &mut cand, syntax, 0),
                Slot::Examples => self.examples(v, &mut cand),
                Slot::Nested => {
                    let Some(inner) = self.attempt(|m| m.call_site(v)) else {
                        continue;
                    };
                    self.mark_node(v.id());
                    let n = inner.literal;
                    self.splice(inner, &mut cand);
                    n
                }
                Slot::Named(role) => {
                    let Some(f) = self.eval_str(v, 0) else {
                        continue;
                    };
                    if f.prose_len() < self.spec.min_name_chars {
                        continue;
                    }
                    let n = f.literal_bytes;
                    cand.add_part(f, role);
                    n
                }
            };
        }
        if literal < self.spec.min_call_chars.max(1)
            || (!strong && self.not_prompt(&cand.builder.text))
        {
            return None;
        }
        cand.literal = literal;
        cand.model = keywords
            .iter()
            .find(|(k, _)| self.spec.model_keywords.iter().any(|m| m == k))
            .and_then(|(_, v)| self.string(*v))
            .map(|f| f.text);
        Some(cand)
    }

    /// A list or tuple literal, or a name bound to one.
    fn is_listy(&self, v: Node<'a>) -> bool {
        match v.kind() {
            "list" | "tuple" | "list_comprehension" => true,
            "identifier" => self
                .resolve(self.text(v), v)
                .is_some_and(|b| matches!(b.value.kind(), "list" | "tuple")),
            "attribute" => self
                .resolve_attr(v)
                .is_some_and(|b| matches!(b.value.kind(), "list" | "tuple")),
            _ => false,
        }
    }

    /// A messages argument: a list literal or a name bound to one. Returns literal bytes.
    fn message_value(
        &mut self,
        v: Node<'a>,
        cand: &mut Candidate,
        syntax: Syntax,
        depth: usize,
    ) -> usize {
        match v.kind() {
            "list" | "tuple" => self.messages_in(v, cand, syntax, depth),
            "identifier" | "attribute" => {
                let b = if v.kind() == "identifier" {
                    self.resolve(self.text(v), v)
                } else {
                    self.resolve_attr(v)
                };
                let Some(b) = b else { return 0 };
                let n = self.message_value(b.value, cand, syntax, depth + 4);
                if n > 0 {
                    self.consume_ref(v);
                }
                n
            }
            _ => 0,
        }
    }

    /// Each element of a message list. Returns literal bytes.
    pub(super) fn messages(&mut self, list: Node<'a>, cand: &mut Candidate, depth: usize) -> usize {
        self.messages_in(list, cand, Syntax::Plain, depth)
    }

    fn messages_in(
        &mut self,
        list: Node<'a>,
        cand: &mut Candidate,
        syntax: Syntax,
        depth: usize,
    ) -> usize {
        if depth > MAX_DEPTH {
            return 0;
        }
        list.named_children()
            .map(|item| self.message(item, cand, syntax, depth + 1))
            .sum()
    }

    /// One message: a role dict, a `(role, text)` pair, a message constructor call, or a name.
    fn message(
        &mut self,
        item: Node<'a>,
        cand: &mut Candidate,
        syntax: Syntax,
        depth: usize,
    ) -> usize {
        if depth > MAX_DEPTH {
            return 0;
        }
        match item.kind() {
            "dictionary" | "call"
                if self.dict_call(item).is_some() || item.kind() == "dictionary" =>
            {
                self.mark_node(item.id());
                let pairs = if item.kind() == "dictionary" {
                    self.dict_pairs(item)
                } else {
                    self.dict_call(item).unwrap_or_default()
                };
                let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| *v);
                let role = get("role")
                    .and_then(|r| self.string(r))
                    .and_then(|f| Role::parse(&f.text));
                if let Some(content) = get("content")
                    .or_else(|| get("parts"))
                    .or_else(|| get("text"))
                {
                    return self.content(content, role, cand, syntax, depth);
                }
                0
            }
            "tuple" | "list" => {
                let el: Vec<Node> = item.named_children().collect();
                let [first, second] = el.as_slice() else {
                    return 0;
                };
                let Some(role_text) = self.string(*first).map(|f| f.text) else {
                    return 0;
                };
                if role_text == "placeholder" {
                    return 0;
                }
                let role = Role::parse(&role_text);
                if role.is_none() {
                    return 0;
                }
                self.content(*second, role, cand, syntax, depth)
            }
            "call" => {
                let Some(func) = item.field("function") else {
                    return 0;
                };
                let callee = self.callee(func);
                let has_site = self
                    .spec
                    .sites_for(&callee)
                    .any(|s| s.callee.iter().all(|c| c != "*"));
                if !has_site {
                    return 0;
                }
                // The constructor's own text becomes this message.
                let Some(inner) = self.attempt(|m| m.call_site(item)) else {
                    return 0;
                };
                self.mark_node(item.id());
                let n = inner.literal;
                self.splice(inner, cand);
                n
            }
            "identifier" | "attribute" => {
                let b = if item.kind() == "identifier" {
                    self.resolve(self.text(item), item)
                } else {
                    self.resolve_attr(item)
                };
                let Some(b) = b else {
                    // An unknown message object (a history variable): keep its place.
                    return 0;
                };
                let n = if matches!(b.value.kind(), "list" | "tuple") && !self.is_pair(b.value) {
                    self.messages_in(b.value, cand, syntax, depth + 4)
                } else if matches!(b.value.kind(), "dictionary" | "tuple" | "list" | "call") {
                    self.message(b.value, cand, syntax, depth + 4)
                } else if let Some(f) = self.eval_str(b.value, depth + 4) {
                    let n = f.literal_bytes;
                    cand.add_part(f, None);
                    n
                } else {
                    0
                };
                if n > 0 {
                    self.consume_ref(item);
                }
                n
            }
            "list_splat" => match item.named_child(0) {
                Some(inner) => self.message_value(inner, cand, syntax, depth + 1),
                None => 0,
            },
            _ => match self.eval_str(item, depth + 1) {
                Some(f) => {
                    let n = f.literal_bytes;
                    cand.add_part(f, None);
                    n
                }
                None => 0,
            },
        }
    }

    /// `("system", "...")`: a two-element tuple starting with a role name.
    pub(super) fn is_pair(&self, n: Node<'a>) -> bool {
        let el: Vec<Node> = n.named_children().collect();
        el.len() == 2
            && self
                .string(el[0])
                .is_some_and(|f| Role::parse(&f.text).is_some() || f.text == "placeholder")
    }

    fn consume_ref(&mut self, n: Node<'a>) {
        let at = if n.kind() == "attribute" {
            n.field("attribute").map(|a| a.start_byte())
        } else {
            Some(n.start_byte())
        };
        if let Some(at) = at {
            self.mark_ref(at);
        }
    }

    /// Appends a nested call's prompt (a message constructor) as parts of `cand`.
    fn splice(&mut self, inner: Candidate, cand: &mut Candidate) {
        if !cand.builder.is_empty() {
            cand.builder.push_synthetic("\n\n");
        }
        let shift = cand.builder.len();
        cand.builder.append(inner.builder);
        cand.segments
            .extend(inner.segments.into_iter().map(|mut s| {
                s.span = PromptSpan::new(s.span.start + shift, s.span.end + shift);
                s
            }));
        cand.cache_breakpoints
            .extend(inner.cache_breakpoints.into_iter().map(|b| b + shift));
        if cand.model.is_none() {
            cand.model = inner.model;
        }
    }

    /// Message content: a string expression, a list of content blocks, or any other
    /// expression (kept as an `{expr}` placeholder). Returns literal bytes.
    fn content(
        &mut self,
        v: Node<'a>,
        role: Option<Role>,
        cand: &mut Candidate,
        syntax: Syntax,
        depth: usize,
    ) -> usize {
        if let Some(mut f) = self.eval_str(v, depth + 1) {
            apply_syntax(&mut f, syntax);
            let n = f.literal_bytes;
            cand.add_part(f, role);
            return n;
        }
        let blocks = match v.kind() {
            "list" | "tuple" => Some(v),
            "identifier" => self
                .resolve(self.text(v), v)
                .map(|b| b.value)
                .filter(|b| matches!(b.kind(), "list" | "tuple")),
            _ => None,
        };
        if let Some(list) = blocks {
            // Content blocks: text blocks join into one message; `cache_control` marks a
            // breakpoint at the end of its block.
            let mut frag = Frag::new();
            let mut breaks = Vec::new();
            for item in list.named_children() {
                let (text_node, cached) = match item.kind() {
                    "dictionary" => {
                        let pairs = self.dict_pairs(item);
                        let t = pairs.iter().find(|(k, _)| k == "text").map(|(_, v)| *v);
                        (t, pairs.iter().any(|(k, _)| k == "cache_control"))
                    }
                    _ => (Some(item), false),
                };
                let Some(t) = text_node else { continue };
                // A block filled at run time (a loaded document) keeps its place and breakpoint.
                let mut f = self
                    .eval_str(t, depth + 1)
                    .unwrap_or_else(|| self.expr_frag(t));
                apply_syntax(&mut f, syntax);
                if !frag.is_empty() {
                    frag.synthetic("\n\n");
                }
                frag.append(f);
                if cached {
                    breaks.push(frag.len());
                }
            }
            if frag.is_empty() {
                return 0;
            }
            if v.kind() == "identifier" {
                self.consume_ref(v);
            }
            let n = frag.literal_bytes;
            let span = cand.add_part(frag, role);
            cand.cache_breakpoints
                .extend(breaks.into_iter().map(|b| span.start + b));
            return n;
        }
        if v.kind() == "dictionary" {
            return self.message(v, cand, syntax, depth + 1);
        }
        // A runtime value (user input, history): its place in the prompt is still visible.
        let f = self.expr_frag(v);
        cand.add_part(f, role);
        0
    }

    /// A role dict outside any call site or message list (`history.append({"role": "user",
    /// "content": f"Feedback: {x}"})`): one prompt named after the enclosing call or name.
    pub(super) fn role_dict(&mut self, d: Node<'a>) -> Option<Candidate> {
        // Most dicts are not messages: only a plain string key whose source holds `role` (or
        // an escape) can read `role`, so look at the keys' source before decoding them all.
        let may_hold_role = d
            .named_children()
            .filter(|p| p.kind() == "pair")
            .filter_map(|p| p.field("key"))
            .filter(|k| k.kind() == "string")
            .any(|k| {
                let key = self.text(k);
                key.contains("role") || key.contains('\\')
            });
        if !may_hold_role {
            return None;
        }
        let pairs = self.dict_pairs(d);
        let role_node = pairs.iter().find(|(k, _)| k == "role").map(|(_, v)| *v)?;
        Role::parse(&self.string(role_node)?.text)?;
        pairs.iter().find(|(k, _)| k == "content")?;
        let mut up = d.parent();
        let mut origin = None;
        while let Some(p) = up {
            match p.kind() {
                "list"
                | "tuple"
                | "argument_list"
                | "parenthesized_expression"
                | "keyword_argument"
                | "binary_operator"
                | "expression_list" => up = p.parent(),
                "return_statement" => {
                    let def = self.enclosing_def(p)?;
                    let name = self.text(def.field("name")?).to_string();
                    origin = Some((name.clone(), Origin::Assignment { name }));
                    break;
                }
                "call" => {
                    let callee = p
                        .field("function")
                        .map(|f| self.callee(f))
                        .unwrap_or_default();
                    origin = Some((
                        callee.clone(),
                        Origin::Call {
                            callee,
                            keyword: None,
                        },
                    ));
                    break;
                }
                "assignment" => {
                    let name = p.field("left").and_then(|l| self.target_name(l))?;
                    origin = Some((name.clone(), Origin::Assignment { name }));
                    break;
                }
                _ => break,
            }
        }
        let (name, origin) = origin.unwrap_or_else(|| {
            (
                "message".to_string(),
                Origin::Call {
                    callee: "message".to_string(),
                    keyword: None,
                },
            )
        });
        if let Origin::Call { callee, .. } = &origin {
            if self.spec.is_ignored_callee(callee) {
                return None;
            }
        }
        let mut cand = Candidate::new(d.start_byte(), name, origin);
        let n = self.message(d, &mut cand, Syntax::Plain, 0);
        if n < self.spec.min_message_chars.max(1) || self.not_prompt(&cand.builder.text) {
            return None;
        }
        cand.literal = n;
        Some(cand)
    }

    /// `dict(role=..., content=...)`: its keyword arguments as pairs.
    fn dict_call(&self, n: Node<'a>) -> Option<Vec<(String, Node<'a>)>> {
        if n.kind() != "call" || self.text(n.field("function")?) != "dict" {
            return None;
        }
        let args = n.field("arguments")?;
        let kws: Vec<Node> = args
            .named_children()
            .filter(|k| k.kind() == "keyword_argument")
            .collect();
        Some(
            kws.into_iter()
                .filter_map(|k| Some((self.text(k.field("name")?).to_string(), k.field("value")?)))
                .collect(),
        )
    }

    /// `(key text, value)` of a dict literal's string-keyed pairs.
    fn dict_pairs(&self, d: Node<'a>) -> Vec<(String, Node<'a>)> {
        d.named_children()
            .filter(|p| p.kind() == "pair")
            .filter_map(|p| {
                let k = p.field("key")?;
                let v = p.field("value")?;
                Some((self.string(k)?.text, v))
            })
            .collect()
    }

    /// A few-shot example list (`[{"input": ..., "output": ...}]`, `dspy.Example(...)`), or a
    /// name bound to one: each item becomes an `Example` segment. Returns literal bytes.
    pub(super) fn examples(&mut self, v: Node<'a>, cand: &mut Candidate) -> usize {
        let list = match v.kind() {
            "list" | "tuple" => v,
            "identifier" => match self.resolve(self.text(v), v) {
                Some(b) if matches!(b.value.kind(), "list" | "tuple") => {
                    let n = self.examples(b.value, cand);
                    if n > 0 {
                        self.consume_ref(v);
                    }
                    return n;
                }
                _ => return 0,
            },
            _ => return 0,
        };
        let mut literal = 0;
        let mut index = cand
            .segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Example { .. }))
            .count();
        for item in list.named_children() {
            let item = match item.kind() {
                "identifier" => match self.resolve(self.text(item), item) {
                    Some(b) => b.value,
                    None => continue,
                },
                _ => item,
            };
            let pairs: Vec<(String, Node)> = match item.kind() {
                "dictionary" => self.dict_pairs(item),
                "call" => {
                    let Some(args) = item.field("arguments") else {
                        continue;
                    };
                    let kws: Vec<Node> = args
                        .named_children()
                        .filter(|k| k.kind() == "keyword_argument")
                        .collect();
                    self.mark_node(item.id());
                    kws.into_iter()
                        .filter_map(|k| {
                            Some((self.text(k.field("name")?).to_string(), k.field("value")?))
                        })
                        .collect()
                }
                _ => continue,
            };
            let values: Vec<(String, Frag)> = pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k, self.eval_str(v, 1)?)))
                .filter(|(_, f)| f.literal_bytes > 0)
                .collect();
            if values.is_empty() {
                continue;
            }
            if !cand.builder.is_empty() {
                cand.builder.push_synthetic("\n\n");
            }
            let start = cand.builder.len();
            let count = values.len();
            let mut parts = Vec::new();
            for (i, (key, f)) in values.into_iter().enumerate() {
                if i > 0 {
                    cand.builder.push_synthetic("\n");
                }
                literal += f.literal_bytes;
                let key_l = key.to_ascii_lowercase();
                let kind = if self.spec.example_input_keys.contains(&key_l) {
                    Some(SegmentKind::ExampleInput)
                } else if self.spec.example_output_keys.contains(&key_l) {
                    Some(SegmentKind::ExampleOutput)
                } else if i == 0 && count > 1 {
                    Some(SegmentKind::ExampleInput)
                } else if i + 1 == count && count > 1 {
                    Some(SegmentKind::ExampleOutput)
                } else {
                    None
                };
                let span = f.push_into(&mut cand.builder);
                if let Some(kind) = kind {
                    parts.push(Segment::new(kind, span));
                }
            }
            cand.segments.push(Segment::new(
                SegmentKind::Example { index },
                PromptSpan::new(start, cand.builder.len()),
            ));
            cand.segments.extend(parts);
            index += 1;
        }
        literal
    }
}

fn apply_syntax(f: &mut Frag, syntax: Syntax) {
    match syntax {
        Syntax::Plain => {}
        Syntax::Format => f.apply_format(&[], &[]),
        Syntax::Jinja => f.slots.retain(|s| s.syntax != PlaceholderSyntax::Brace),
    }
}
