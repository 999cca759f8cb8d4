//! A Python syntax tree in the shape the extractor reads, built from Ruff's parser.
//!
//! Ruff's recursive-descent parser reads Python about eight times faster than tree-sitter's,
//! but it yields an abstract tree: no parentheses, no `expression_statement` or
//! `decorated_definition` wrappers, strings without their quote tokens. The extractor's passes
//! were written against the concrete tree-sitter-python shape, so this module rebuilds that
//! shape (the node kinds and fields the passes ask about, with the same byte ranges) in one flat
//! arena: parenthesized expressions from the token stream, `assignment` chains for `a = b = c`,
//! `pair`s in dicts, `string_start`/`string_content`/`interpolation`/`string_end` in strings,
//! `type` around annotations, `block` around bodies. Comments are not nodes (every pass skipped
//! them). Syntax errors are recovered by Ruff; the tree then holds what it could read.
//!
//! `Node` and `TreeCursor` keep the method names of the tree-sitter API the passes were written
//! against (`kind`, `field`, `named_children`, `descendant_for_byte_range`...), so the passes
//! read the same with either.

use std::num::NonZeroU16;
use std::ops::Range;

use ruff_python_ast::token::{Token, TokenKind, Tokens};
use ruff_python_ast::visitor::source_order::{self, SourceOrderVisitor, TraversalSignal};
use ruff_python_ast::{self as ast, AnyNodeRef, Expr, ExprContext, Stmt, StringFlags};
use ruff_python_parser::{Mode, ParseOptions};
use ruff_text_size::{Ranged, TextSize};

const NONE: u32 = u32::MAX;

/// Stack left before the tree walk grows the stack, and by how much.
const STACK_RED_ZONE: usize = 64 * 1024;
const STACK_GROWTH: usize = 1024 * 1024;

/// Node kinds: tree-sitter-python's names for the nodes the passes tell apart, anonymous
/// operator tokens, and broad names for the rest.
const KINDS: &[&str] = &[
    "module",
    "identifier",
    "call",
    "argument_list",
    "keyword_argument",
    "list_splat",
    "dictionary_splat",
    "attribute",
    "subscript",
    "string",
    "concatenated_string",
    "string_start",
    "string_content",
    "string_end",
    "interpolation",
    "format_specifier",
    "parenthesized_expression",
    "binary_operator",
    "list",
    "tuple",
    "list_comprehension",
    "generator_expression",
    "dictionary",
    "pair",
    "set",
    "expression_list",
    "pattern_list",
    "tuple_pattern",
    "list_pattern",
    "list_splat_pattern",
    "dictionary_splat_pattern",
    "assignment",
    "augmented_assignment",
    "expression_statement",
    "return_statement",
    "function_definition",
    "class_definition",
    "decorated_definition",
    "decorator",
    "block",
    "parameters",
    "lambda_parameters",
    "default_parameter",
    "typed_default_parameter",
    "typed_parameter",
    "type",
    "lambda",
    "import_statement",
    "import_from_statement",
    "future_import_statement",
    "dotted_name",
    "aliased_import",
    "none",
    "true",
    "false",
    "integer",
    "float",
    "ellipsis",
    "boolean_operator",
    "not_operator",
    "unary_operator",
    "comparison_operator",
    "conditional_expression",
    "named_expression",
    "await",
    "yield",
    "set_comprehension",
    "dictionary_comprehension",
    "slice",
    "for_in_clause",
    "statement",
    "clause",
    "pattern",
    "type_parameter",
    "other",
    // Anonymous operator tokens (`binary_operator` and `augmented_assignment` operators).
    "+",
    "-",
    "*",
    "@",
    "/",
    "%",
    "**",
    "<<",
    ">>",
    "|",
    "^",
    "&",
    "//",
    "+=",
    "-=",
    "*=",
    "@=",
    "/=",
    "%=",
    "**=",
    "<<=",
    ">>=",
    "|=",
    "^=",
    "&=",
    "//=",
];

/// The index of the first anonymous kind in `KINDS`.
const FIRST_TOKEN_KIND: u16 = 75;

/// Field names, id = index + 1 (0: no field).
const FIELDS: &[&str] = &[
    "value",
    "name",
    "function",
    "attribute",
    "object",
    "left",
    "arguments",
    "right",
    "operator",
    "key",
    "body",
    "superclasses",
    "expression",
    "type",
    "definition",
    "subscript",
    "parameters",
    "return_type",
];

/// The id of node kind `name` (0 for a name this tree never uses).
fn kind_id(name: &str) -> u16 {
    KINDS
        .iter()
        .position(|k| *k == name)
        .map_or(0, |i| i as u16)
}

/// The id of field `name` (0 when there is no such field).
fn field_id(name: &str) -> u16 {
    FIELDS
        .iter()
        .position(|f| *f == name)
        .map_or(0, |i| i as u16 + 1)
}

/// Kind ids (checked against `KINDS` by a test), for the passes that compare `Node::kind_id`.
pub(crate) mod k {
    pub const MODULE: u16 = 0;
    pub const IDENTIFIER: u16 = 1;
    pub const CALL: u16 = 2;
    pub const ARGUMENT_LIST: u16 = 3;
    pub const KEYWORD_ARGUMENT: u16 = 4;
    pub const LIST_SPLAT: u16 = 5;
    pub const DICTIONARY_SPLAT: u16 = 6;
    pub const ATTRIBUTE: u16 = 7;
    pub const SUBSCRIPT: u16 = 8;
    pub const STRING: u16 = 9;
    pub const CONCATENATED_STRING: u16 = 10;
    pub const STRING_START: u16 = 11;
    pub const STRING_CONTENT: u16 = 12;
    pub const STRING_END: u16 = 13;
    pub const INTERPOLATION: u16 = 14;
    pub const FORMAT_SPECIFIER: u16 = 15;
    pub const PARENTHESIZED_EXPRESSION: u16 = 16;
    pub const BINARY_OPERATOR: u16 = 17;
    pub const LIST: u16 = 18;
    pub const TUPLE: u16 = 19;
    pub const LIST_COMPREHENSION: u16 = 20;
    pub const GENERATOR_EXPRESSION: u16 = 21;
    pub const DICTIONARY: u16 = 22;
    pub const PAIR: u16 = 23;
    pub const SET: u16 = 24;
    pub const EXPRESSION_LIST: u16 = 25;
    pub const PATTERN_LIST: u16 = 26;
    pub const TUPLE_PATTERN: u16 = 27;
    pub const LIST_PATTERN: u16 = 28;
    pub const LIST_SPLAT_PATTERN: u16 = 29;
    pub const DICTIONARY_SPLAT_PATTERN: u16 = 30;
    pub const ASSIGNMENT: u16 = 31;
    pub const AUGMENTED_ASSIGNMENT: u16 = 32;
    pub const EXPRESSION_STATEMENT: u16 = 33;
    pub const RETURN_STATEMENT: u16 = 34;
    pub const FUNCTION_DEFINITION: u16 = 35;
    pub const CLASS_DEFINITION: u16 = 36;
    pub const DECORATED_DEFINITION: u16 = 37;
    pub const DECORATOR: u16 = 38;
    pub const BLOCK: u16 = 39;
    pub const PARAMETERS: u16 = 40;
    pub const LAMBDA_PARAMETERS: u16 = 41;
    pub const DEFAULT_PARAMETER: u16 = 42;
    pub const TYPED_DEFAULT_PARAMETER: u16 = 43;
    pub const TYPED_PARAMETER: u16 = 44;
    pub const TYPE: u16 = 45;
    pub const LAMBDA: u16 = 46;
    pub const IMPORT_STATEMENT: u16 = 47;
    pub const IMPORT_FROM_STATEMENT: u16 = 48;
    pub const FUTURE_IMPORT_STATEMENT: u16 = 49;
    pub const DOTTED_NAME: u16 = 50;
    pub const ALIASED_IMPORT: u16 = 51;
    pub const NONE: u16 = 52;
    pub const TRUE: u16 = 53;
    pub const FALSE: u16 = 54;
    pub const INTEGER: u16 = 55;
    pub const FLOAT: u16 = 56;
    pub const ELLIPSIS: u16 = 57;
    pub const BOOLEAN_OPERATOR: u16 = 58;
    pub const NOT_OPERATOR: u16 = 59;
    pub const UNARY_OPERATOR: u16 = 60;
    pub const COMPARISON_OPERATOR: u16 = 61;
    pub const CONDITIONAL_EXPRESSION: u16 = 62;
    pub const NAMED_EXPRESSION: u16 = 63;
    pub const AWAIT: u16 = 64;
    pub const YIELD: u16 = 65;
    pub const SET_COMPREHENSION: u16 = 66;
    pub const DICTIONARY_COMPREHENSION: u16 = 67;
    pub const SLICE: u16 = 68;
    pub const FOR_IN_CLAUSE: u16 = 69;
    pub const STATEMENT: u16 = 70;
    pub const CLAUSE: u16 = 71;
    pub const PATTERN: u16 = 72;
    pub const TYPE_PARAMETER: u16 = 73;
    pub const OTHER: u16 = 74;
}

/// Field ids (checked against `FIELDS` by a test).
pub(crate) mod f {
    pub const VALUE: u16 = 1;
    pub const NAME: u16 = 2;
    pub const FUNCTION: u16 = 3;
    pub const ATTRIBUTE: u16 = 4;
    pub const OBJECT: u16 = 5;
    pub const LEFT: u16 = 6;
    pub const ARGUMENTS: u16 = 7;
    pub const RIGHT: u16 = 8;
    pub const OPERATOR: u16 = 9;
    pub const KEY: u16 = 10;
    pub const BODY: u16 = 11;
    pub const SUPERCLASSES: u16 = 12;
    pub const EXPRESSION: u16 = 13;
    pub const TYPE: u16 = 14;
    pub const DEFINITION: u16 = 15;
    pub const SUBSCRIPT: u16 = 16;
    pub const PARAMETERS: u16 = 17;
    pub const RETURN_TYPE: u16 = 18;
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct NodeData {
    kind: u16,
    /// The field this node is in its parent (0: none).
    field: u16,
    start: u32,
    end: u32,
    parent: u32,
    first_child: u32,
    last_child: u32,
    next: u32,
}

/// A parsed module.
pub struct Tree {
    nodes: Vec<NodeData>,
}

impl Tree {
    /// Parses `src` as a Python module (recovering from syntax errors).
    pub fn parse(src: &str) -> Tree {
        Tree::parse_reusing(src, None)
    }

    /// `parse`, storing the nodes in `old`'s storage: a worker parses file after file, and a
    /// fresh arena per file is a large allocation each time.
    pub fn parse_reusing(src: &str, old: Option<Tree>) -> Tree {
        let mut nodes = old.map(|t| t.nodes).unwrap_or_default();
        nodes.clear();
        nodes.reserve(src.len() / 6);
        let parsed = ruff_python_parser::parse_unchecked(src, ParseOptions::from(Mode::Module));
        let mut b = Builder {
            src,
            tokens: parsed.tokens(),
            nodes,
            open: Vec::new(),
            frames: Vec::new(),
            annotation: 0,
            max_depth: 0,
        };
        b.push(k::MODULE, 0, src.len() as u32, 0);
        b.visit_mod(parsed.syntax());
        let (nodes, depth) = (b.nodes, b.max_depth);
        // Dropping the syntax tree recurses as deep as it nests: a pathological nesting is
        // dropped on a stack sized for it.
        if depth > 1000 {
            stacker::grow(depth * 1024 + STACK_GROWTH, move || drop(parsed));
        }
        Tree { nodes }
    }

    pub fn root_node(&self) -> Node<'_> {
        Node { tree: self, i: 0 }
    }
}

/// A node of a `Tree`.
#[derive(Clone, Copy)]
pub struct Node<'t> {
    tree: &'t Tree,
    i: u32,
}

impl std::fmt::Debug for Node<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?}", self.kind(), self.byte_range())
    }
}

impl<'t> Node<'t> {
    fn data(&self) -> &'t NodeData {
        &self.tree.nodes[self.i as usize]
    }

    fn at(&self, i: u32) -> Option<Node<'t>> {
        (i != NONE).then_some(Node { tree: self.tree, i })
    }

    /// A number unique to this node within its tree.
    pub fn id(&self) -> usize {
        self.i as usize
    }

    pub fn kind(&self) -> &'static str {
        KINDS[self.data().kind as usize]
    }

    pub fn kind_id(&self) -> u16 {
        self.data().kind
    }

    /// Operator tokens are anonymous; every other node is named.
    pub fn is_named(&self) -> bool {
        self.data().kind < FIRST_TOKEN_KIND
    }

    pub fn start_byte(&self) -> usize {
        self.data().start as usize
    }

    pub fn end_byte(&self) -> usize {
        self.data().end as usize
    }

    pub fn byte_range(&self) -> Range<usize> {
        self.start_byte()..self.end_byte()
    }

    pub fn parent(&self) -> Option<Node<'t>> {
        self.at(self.data().parent)
    }

    pub fn walk(&self) -> TreeCursor<'t> {
        TreeCursor {
            tree: self.tree,
            node: self.i,
            root: self.i,
        }
    }

    fn child_iter(&self) -> impl Iterator<Item = Node<'t>> + 't {
        let tree = self.tree;
        let mut next = self.data().first_child;
        std::iter::from_fn(move || {
            let i = next;
            (i != NONE).then(|| {
                next = tree.nodes[i as usize].next;
                Node { tree, i }
            })
        })
    }

    /// Every child, operator tokens included.
    pub fn children(&self) -> impl Iterator<Item = Node<'t>> + 't {
        self.child_iter()
    }

    /// The named children.
    pub fn named_children(&self) -> impl Iterator<Item = Node<'t>> + 't {
        self.child_iter().filter(|n| n.is_named())
    }

    pub fn child(&self, i: usize) -> Option<Node<'t>> {
        self.child_iter().nth(i)
    }

    pub fn named_child(&self, i: usize) -> Option<Node<'t>> {
        self.child_iter().filter(|n| n.is_named()).nth(i)
    }

    /// The first child in field `name` (`child_by_field_name` in tree-sitter).
    pub fn field(&self, name: &str) -> Option<Node<'t>> {
        match field_id(name) {
            0 => None,
            id => self.child_iter().find(|n| n.data().field == id),
        }
    }

    /// The smallest node under this one that spans `start..end`.
    pub fn descendant_for_byte_range(&self, start: usize, end: usize) -> Option<Node<'t>> {
        let (start, end) = (start as u32, end as u32);
        let mut node = *self;
        'down: loop {
            for c in node.child_iter() {
                let d = c.data();
                if d.start > start {
                    break;
                }
                if end <= d.end && (d.start < d.end || start == end) {
                    node = c;
                    continue 'down;
                }
            }
            return Some(node);
        }
    }
}

/// A pre-order cursor over a subtree (the tree-sitter cursor's moves).
pub struct TreeCursor<'t> {
    tree: &'t Tree,
    node: u32,
    root: u32,
}

impl<'t> TreeCursor<'t> {
    pub fn node(&self) -> Node<'t> {
        Node {
            tree: self.tree,
            i: self.node,
        }
    }

    /// The field the current node is in its parent.
    pub fn field_id(&self) -> Option<NonZeroU16> {
        NonZeroU16::new(self.tree.nodes[self.node as usize].field)
    }

    pub fn goto_first_child(&mut self) -> bool {
        let c = self.tree.nodes[self.node as usize].first_child;
        if c == NONE {
            return false;
        }
        self.node = c;
        true
    }

    pub fn goto_next_sibling(&mut self) -> bool {
        if self.node == self.root {
            return false;
        }
        let n = self.tree.nodes[self.node as usize].next;
        if n == NONE {
            return false;
        }
        self.node = n;
        true
    }

    pub fn goto_parent(&mut self) -> bool {
        if self.node == self.root {
            return false;
        }
        self.node = self.tree.nodes[self.node as usize].parent;
        true
    }
}

/// One AST node being visited and the arena nodes it opened.
struct Frame<'a> {
    ast: AnyNodeRef<'a>,
    /// Arena nodes to close when the AST node is left.
    opened: u32,
    /// The field its child gets when this AST node has no arena node of its own (a string
    /// expression of one part, a parameter inside a `name=default`).
    pass_field: Option<u16>,
    /// Per-kind progress through the children: dict items, assignment targets.
    next: usize,
    /// A dict key was just visited (its value comes next), or a definition's own node is open.
    flag: bool,
}

struct Builder<'s> {
    src: &'s str,
    tokens: &'s Tokens,
    nodes: Vec<NodeData>,
    /// Open arena nodes, innermost last.
    open: Vec<u32>,
    frames: Vec<Frame<'s>>,
    /// The field of the `type` node the next expression is wrapped in (an annotation).
    annotation: u16,
    /// The deepest nesting of AST nodes seen.
    max_depth: usize,
}

fn pos(t: TextSize) -> u32 {
    t.to_u32()
}

impl<'s> Builder<'s> {
    /// Adds a node as the last child of the innermost open node.
    fn add(&mut self, kind: u16, start: u32, end: u32, field: u16) -> u32 {
        let i = self.nodes.len() as u32;
        let parent = self.open.last().copied().unwrap_or(NONE);
        self.nodes.push(NodeData {
            kind,
            field,
            start,
            end,
            parent,
            first_child: NONE,
            last_child: NONE,
            next: NONE,
        });
        if parent != NONE {
            let p = &mut self.nodes[parent as usize];
            let last = p.last_child;
            p.last_child = i;
            if last == NONE {
                p.first_child = i;
            } else {
                self.nodes[last as usize].next = i;
            }
        }
        i
    }

    /// Adds a node and opens it.
    fn push(&mut self, kind: u16, start: u32, end: u32, field: u16) {
        let i = self.add(kind, start, end, field);
        self.open.push(i);
    }

    /// The end of the innermost open node's last child (or its start).
    fn last_child_end(&self) -> u32 {
        let top = self.nodes[*self.open.last().unwrap_or(&0) as usize];
        if top.last_child == NONE {
            top.start
        } else {
            self.nodes[top.last_child as usize].end
        }
    }

    /// The tokens that start at or after `offset` (`Tokens::after` without its panic on an
    /// offset inside a token: a recovered tree's ranges need not fall on token bounds).
    fn tokens_after(&self, offset: TextSize) -> &'s [Token] {
        let tokens: &'s [Token] = self.tokens;
        &tokens[tokens.partition_point(|t| t.start() < offset)..]
    }

    /// The tokens that end at or before `offset`.
    fn tokens_before(&self, offset: TextSize) -> &'s [Token] {
        let tokens: &'s [Token] = self.tokens;
        &tokens[..tokens.partition_point(|t| t.end() <= offset)]
    }

    /// Offset of the first token at or after `from` that is not a closing parenthesis or trivia.
    fn next_token(&self, from: TextSize) -> Option<(TokenKind, u32, u32)> {
        self.tokens_after(from)
            .iter()
            .find(|t| {
                !matches!(
                    t.kind(),
                    TokenKind::Rpar
                        | TokenKind::Comment
                        | TokenKind::NonLogicalNewline
                        | TokenKind::Newline
                )
            })
            .map(|t| (t.kind(), pos(t.start()), pos(t.end())))
    }

    /// The parentheses around `expr` that are not its parent's own, outermost first.
    fn parentheses(&self, expr: ast::ExprRef<'s>, parent: AnyNodeRef<'s>) -> Vec<(u32, u32)> {
        // Cheap tests first (the token search below is two binary searches of the file's
        // tokens): a parenthesized expression is followed by `)` (or a comment)...
        let bytes = self.src.as_bytes();
        let mut at = expr.end().to_usize();
        while at < bytes.len()
            && matches!(bytes[at], b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'\\')
        {
            at += 1;
        }
        if at >= bytes.len() || !matches!(bytes[at], b')' | b'#') {
            return Vec::new();
        }
        // ...and preceded by `(`. On the same line only a `(` token can end right before it
        // (a comment runs to the end of its line); across lines, a comment may sit in between.
        let mut before = expr.start().to_usize();
        while before > 0 && matches!(bytes[before - 1], b' ' | b'\t' | b'\x0c') {
            before -= 1;
        }
        match before.checked_sub(1).map(|b| bytes[b]) {
            None => return Vec::new(),
            Some(b'\n' | b'\r' | b'\\') => {}
            // A call's own parentheses around its one argument are not the argument's.
            Some(b'(')
                if parent.is_arguments()
                    && before - 1 == parent.start().to_usize()
                    && at + 1 == parent.end().to_usize() =>
            {
                return Vec::new()
            }
            Some(b'(') => {}
            Some(_) => return Vec::new(),
        }
        let mut out: Vec<(u32, u32)> =
            ruff_python_ast::token::parentheses_iterator(expr, Some(parent), self.tokens)
                .map(|r| (pos(r.start()), pos(r.end())))
                .collect();
        out.reverse();
        out
    }

    /// The field `child` holds in `parent` (for the kinds whose fields the passes read).
    fn field_of(&self, parent: AnyNodeRef<'s>, child: AnyNodeRef<'s>) -> u16 {
        // The field of `first` when `child` is that expression, else `other`.
        let split = |first: &Expr, field: u16, other: u16| {
            if AnyNodeRef::from(first).ptr_eq(child) {
                field
            } else {
                other
            }
        };
        match parent {
            AnyNodeRef::ExprCall(c) => split(&c.func, f::FUNCTION, f::ARGUMENTS),
            AnyNodeRef::ExprAttribute(a) => split(&a.value, f::OBJECT, f::ATTRIBUTE),
            AnyNodeRef::ExprSubscript(s) => split(&s.value, f::VALUE, f::SUBSCRIPT),
            AnyNodeRef::ExprBinOp(b) => split(&b.left, f::LEFT, f::RIGHT),
            AnyNodeRef::StmtAugAssign(a) => split(&a.target, f::LEFT, f::RIGHT),
            AnyNodeRef::StmtAnnAssign(a) => split(&a.target, f::LEFT, f::RIGHT),
            AnyNodeRef::Keyword(kw) if kw.arg.is_some() => {
                if matches!(child, AnyNodeRef::Identifier(_)) {
                    f::NAME
                } else {
                    f::VALUE
                }
            }
            AnyNodeRef::StmtFunctionDef(_) | AnyNodeRef::StmtClassDef(_) => match child {
                AnyNodeRef::Identifier(_) => f::NAME,
                AnyNodeRef::Parameters(_) => f::PARAMETERS,
                AnyNodeRef::Arguments(_) => f::SUPERCLASSES,
                _ => 0,
            },
            AnyNodeRef::ParameterWithDefault(p) if p.default.is_some() => match child {
                AnyNodeRef::Parameter(_) => f::NAME,
                _ => f::VALUE,
            },
            AnyNodeRef::ExprLambda(l) => split(&l.body, f::BODY, f::PARAMETERS),
            AnyNodeRef::InterpolatedElement(e) => split(&e.expression, f::EXPRESSION, 0),
            AnyNodeRef::ExprNamed(n) => split(&n.target, f::NAME, f::VALUE),
            _ => 0,
        }
    }

    /// The `*` or `**` token right before `at` (a variadic parameter's name).
    fn star_before(&self, at: TextSize) -> Option<(TokenKind, u32)> {
        self.tokens_before(at)
            .last()
            .filter(|t| matches!(t.kind(), TokenKind::Star | TokenKind::DoubleStar))
            .map(|t| (t.kind(), pos(t.start())))
    }

    /// Where a decorated definition's own `def`/`class` keyword starts.
    fn definition_start(&self, after: TextSize, fallback: u32) -> u32 {
        self.tokens_after(after)
            .iter()
            .find(|t| {
                matches!(
                    t.kind(),
                    TokenKind::Def | TokenKind::Async | TokenKind::Class
                )
            })
            .map_or(fallback, |t| pos(t.start()))
    }

    /// Opens what the parent's shape needs before `node` (dict pairs, chained assignments, a
    /// decorated definition's own node, a format specifier) and returns the field `node` gets
    /// and how many nodes the child must close beyond its own.
    fn before_child(&mut self, node: AnyNodeRef<'s>) -> (u16, u32) {
        let Some(frame) = self.frames.last() else {
            return (0, 0);
        };
        if let Some(field) = frame.pass_field {
            return (field, 0);
        }
        let parent = frame.ast;
        match parent {
            AnyNodeRef::ExprDict(d) => {
                let frame = self.frames.last_mut().expect("frame");
                let Some(item) = d.items.get(frame.next) else {
                    return (0, 0);
                };
                if !frame.flag && item.key.is_some() {
                    frame.flag = true;
                    let (s, e) = (pos(item.start()), pos(item.end()));
                    self.push(k::PAIR, s, e, 0);
                    (f::KEY, 0)
                } else if frame.flag {
                    frame.flag = false;
                    frame.next += 1;
                    (f::VALUE, 1)
                } else {
                    frame.next += 1;
                    // `**rest`: the `**` token precedes the value.
                    let start = self
                        .tokens_before(item.value.start())
                        .iter()
                        .rev()
                        .find(|t| t.kind() == TokenKind::DoubleStar)
                        .map_or(pos(item.value.start()), |t| pos(t.start()));
                    self.push(k::DICTIONARY_SPLAT, start, pos(item.value.end()), 0);
                    (0, 1)
                }
            }
            AnyNodeRef::StmtAssign(a) => {
                let value = AnyNodeRef::from(&*a.value);
                if value.ptr_eq(node) {
                    return (f::RIGHT, 0);
                }
                let frame = self.frames.last_mut().expect("frame");
                let i = frame.next;
                frame.next += 1;
                if i > 0 {
                    frame.opened += 1;
                    self.push(k::ASSIGNMENT, pos(node.start()), pos(a.end()), f::RIGHT);
                }
                (f::LEFT, 0)
            }
            AnyNodeRef::StmtFunctionDef(_) | AnyNodeRef::StmtClassDef(_)
                if !frame.flag && !matches!(node, AnyNodeRef::Decorator(_)) =>
            {
                let (decorators, kind) = match parent {
                    AnyNodeRef::StmtFunctionDef(d) => (&d.decorator_list, k::FUNCTION_DEFINITION),
                    AnyNodeRef::StmtClassDef(c) => (&c.decorator_list, k::CLASS_DEFINITION),
                    _ => unreachable!(),
                };
                let frame = self.frames.last_mut().expect("frame");
                frame.flag = true;
                if let Some(last) = decorators.last() {
                    frame.opened += 1;
                    let start = self.definition_start(last.end(), pos(node.start()));
                    self.push(kind, start, pos(parent.end()), f::DEFINITION);
                }
                (self.field_of(parent, node), 0)
            }
            AnyNodeRef::Parameter(_) if matches!(node, AnyNodeRef::Identifier(_)) => {
                let (kind, start) = match self.star_before(node.start()) {
                    Some((TokenKind::DoubleStar, at)) => (k::DICTIONARY_SPLAT_PATTERN, at),
                    Some((_, at)) => (k::LIST_SPLAT_PATTERN, at),
                    None => (k::LIST_SPLAT_PATTERN, pos(node.start())),
                };
                self.push(kind, start, pos(node.end()), 0);
                (0, 1)
            }
            AnyNodeRef::InterpolatedElement(e)
                if !AnyNodeRef::from(&*e.expression).ptr_eq(node) =>
            {
                let frame = self.frames.last_mut().expect("frame");
                if !frame.flag {
                    frame.flag = true;
                    frame.opened += 1;
                    let start = e
                        .format_spec
                        .as_ref()
                        .map_or(pos(node.start()), |s| pos(s.start()));
                    let end = pos(e.end()).saturating_sub(1).max(start);
                    self.push(k::FORMAT_SPECIFIER, start, end, 0);
                }
                (0, 0)
            }
            _ => (self.field_of(parent, node), 0),
        }
    }

    /// Opens `node`'s own arena nodes (wrappers first); returns how many, and the field its
    /// child gets when it has none of its own.
    fn open_node(&mut self, node: AnyNodeRef<'s>, field: u16) -> (u32, Option<u16>) {
        let (s, e) = (pos(node.start()), pos(node.end()));
        let mut opened = 0;
        let mut field = field;
        if let Some(expr) = node.as_expr_ref() {
            if self.annotation != 0 {
                let annotation = std::mem::take(&mut self.annotation);
                self.push(k::TYPE, s, e, annotation);
                opened += 1;
                field = 0;
            }
            if let Some(parent) = self.frames.last().map(|f| f.ast) {
                for (ps, pe) in self.parentheses(expr, parent) {
                    self.push(k::PARENTHESIZED_EXPRESSION, ps, pe, field);
                    opened += 1;
                    field = 0;
                }
            }
        }
        let kind = match node {
            AnyNodeRef::ModModule(_) | AnyNodeRef::ModExpression(_) => return (0, None),
            AnyNodeRef::StmtFunctionDef(d) if !d.decorator_list.is_empty() => {
                k::DECORATED_DEFINITION
            }
            AnyNodeRef::StmtClassDef(c) if !c.decorator_list.is_empty() => k::DECORATED_DEFINITION,
            AnyNodeRef::StmtFunctionDef(_) => k::FUNCTION_DEFINITION,
            AnyNodeRef::StmtClassDef(_) => k::CLASS_DEFINITION,
            AnyNodeRef::StmtReturn(_) => k::RETURN_STATEMENT,
            AnyNodeRef::StmtAssign(_) | AnyNodeRef::StmtAnnAssign(_) => {
                self.push(k::EXPRESSION_STATEMENT, s, e, field);
                self.push(k::ASSIGNMENT, s, e, 0);
                return (opened + 2, None);
            }
            AnyNodeRef::StmtAugAssign(_) => {
                self.push(k::EXPRESSION_STATEMENT, s, e, field);
                self.push(k::AUGMENTED_ASSIGNMENT, s, e, 0);
                return (opened + 2, None);
            }
            AnyNodeRef::StmtExpr(_) => k::EXPRESSION_STATEMENT,
            AnyNodeRef::StmtImport(i) => {
                self.push(k::IMPORT_STATEMENT, s, e, field);
                self.aliases(&i.names);
                return (opened + 1, None);
            }
            AnyNodeRef::StmtImportFrom(i) => {
                let future = i
                    .module
                    .as_ref()
                    .is_some_and(|m| m.as_str() == "__future__");
                let kind = if future {
                    k::FUTURE_IMPORT_STATEMENT
                } else {
                    k::IMPORT_FROM_STATEMENT
                };
                self.push(kind, s, e, field);
                if let Some(m) = &i.module {
                    self.add(k::DOTTED_NAME, pos(m.start()), pos(m.end()), 0);
                }
                self.aliases(&i.names);
                return (opened + 1, None);
            }
            AnyNodeRef::StmtDelete(_)
            | AnyNodeRef::StmtTypeAlias(_)
            | AnyNodeRef::StmtFor(_)
            | AnyNodeRef::StmtWhile(_)
            | AnyNodeRef::StmtIf(_)
            | AnyNodeRef::StmtWith(_)
            | AnyNodeRef::StmtMatch(_)
            | AnyNodeRef::StmtRaise(_)
            | AnyNodeRef::StmtTry(_)
            | AnyNodeRef::StmtAssert(_)
            | AnyNodeRef::StmtGlobal(_)
            | AnyNodeRef::StmtNonlocal(_)
            | AnyNodeRef::StmtPass(_)
            | AnyNodeRef::StmtBreak(_)
            | AnyNodeRef::StmtContinue(_)
            | AnyNodeRef::StmtIpyEscapeCommand(_) => k::STATEMENT,
            AnyNodeRef::ExprBoolOp(_) => k::BOOLEAN_OPERATOR,
            AnyNodeRef::ExprNamed(_) => k::NAMED_EXPRESSION,
            AnyNodeRef::ExprBinOp(_) => k::BINARY_OPERATOR,
            AnyNodeRef::ExprUnaryOp(u) => {
                if u.op == ast::UnaryOp::Not {
                    k::NOT_OPERATOR
                } else {
                    k::UNARY_OPERATOR
                }
            }
            AnyNodeRef::ExprLambda(_) => k::LAMBDA,
            AnyNodeRef::ExprIf(_) => k::CONDITIONAL_EXPRESSION,
            AnyNodeRef::ExprDict(_) => k::DICTIONARY,
            AnyNodeRef::ExprSet(_) => k::SET,
            AnyNodeRef::ExprListComp(_) => k::LIST_COMPREHENSION,
            AnyNodeRef::ExprSetComp(_) => k::SET_COMPREHENSION,
            AnyNodeRef::ExprDictComp(_) => k::DICTIONARY_COMPREHENSION,
            AnyNodeRef::ExprGenerator(_) => k::GENERATOR_EXPRESSION,
            AnyNodeRef::ExprAwait(_) => k::AWAIT,
            AnyNodeRef::ExprYield(_) | AnyNodeRef::ExprYieldFrom(_) => k::YIELD,
            AnyNodeRef::ExprCompare(_) => k::COMPARISON_OPERATOR,
            AnyNodeRef::ExprCall(_) => k::CALL,
            AnyNodeRef::ExprFString(x) if !x.value.is_implicit_concatenated() => {
                return (opened, Some(field))
            }
            AnyNodeRef::ExprTString(x) if !x.value.is_implicit_concatenated() => {
                return (opened, Some(field))
            }
            AnyNodeRef::ExprStringLiteral(x) if !x.value.is_implicit_concatenated() => {
                return (opened, Some(field))
            }
            AnyNodeRef::ExprBytesLiteral(x) if !x.value.is_implicit_concatenated() => {
                return (opened, Some(field))
            }
            AnyNodeRef::ExprFString(_)
            | AnyNodeRef::ExprTString(_)
            | AnyNodeRef::ExprStringLiteral(_)
            | AnyNodeRef::ExprBytesLiteral(_) => k::CONCATENATED_STRING,
            AnyNodeRef::ExprNumberLiteral(n) => {
                if matches!(n.value, ast::Number::Int(_)) {
                    k::INTEGER
                } else {
                    k::FLOAT
                }
            }
            AnyNodeRef::ExprBooleanLiteral(b) => {
                if b.value {
                    k::TRUE
                } else {
                    k::FALSE
                }
            }
            AnyNodeRef::ExprNoneLiteral(_) => k::NONE,
            AnyNodeRef::ExprEllipsisLiteral(_) => k::ELLIPSIS,
            AnyNodeRef::ExprAttribute(_) => k::ATTRIBUTE,
            AnyNodeRef::ExprSubscript(_) => k::SUBSCRIPT,
            AnyNodeRef::ExprStarred(x) => {
                if x.ctx == ExprContext::Load {
                    k::LIST_SPLAT
                } else {
                    k::LIST_SPLAT_PATTERN
                }
            }
            AnyNodeRef::ExprName(_) | AnyNodeRef::Identifier(_) => k::IDENTIFIER,
            AnyNodeRef::ExprList(x) => {
                if x.ctx == ExprContext::Load {
                    k::LIST
                } else {
                    k::LIST_PATTERN
                }
            }
            AnyNodeRef::ExprTuple(x) => match (x.parenthesized, x.ctx == ExprContext::Load) {
                (true, true) => k::TUPLE,
                (true, false) => k::TUPLE_PATTERN,
                (false, true) => k::EXPRESSION_LIST,
                (false, false) => k::PATTERN_LIST,
            },
            AnyNodeRef::ExprSlice(_) => k::SLICE,
            AnyNodeRef::ExprIpyEscapeCommand(_) => k::OTHER,
            AnyNodeRef::ExceptHandlerExceptHandler(_)
            | AnyNodeRef::MatchCase(_)
            | AnyNodeRef::ElifElseClause(_)
            | AnyNodeRef::WithItem(_) => k::CLAUSE,
            AnyNodeRef::Comprehension(_) => k::FOR_IN_CLAUSE,
            AnyNodeRef::PatternMatchValue(_)
            | AnyNodeRef::PatternMatchSingleton(_)
            | AnyNodeRef::PatternMatchSequence(_)
            | AnyNodeRef::PatternMatchMapping(_)
            | AnyNodeRef::PatternMatchClass(_)
            | AnyNodeRef::PatternMatchStar(_)
            | AnyNodeRef::PatternMatchAs(_)
            | AnyNodeRef::PatternMatchOr(_)
            | AnyNodeRef::PatternArguments(_)
            | AnyNodeRef::PatternKeyword(_) => k::PATTERN,
            AnyNodeRef::TypeParams(_)
            | AnyNodeRef::TypeParamTypeVar(_)
            | AnyNodeRef::TypeParamTypeVarTuple(_)
            | AnyNodeRef::TypeParamParamSpec(_) => k::TYPE_PARAMETER,
            AnyNodeRef::InterpolatedElement(_) => k::INTERPOLATION,
            AnyNodeRef::InterpolatedStringLiteralElement(_) => k::STRING_CONTENT,
            AnyNodeRef::InterpolatedStringFormatSpec(_) => k::FORMAT_SPECIFIER,
            AnyNodeRef::Arguments(_) => k::ARGUMENT_LIST,
            AnyNodeRef::Parameters(_) => {
                let lambda = self
                    .frames
                    .last()
                    .is_some_and(|f| matches!(f.ast, AnyNodeRef::ExprLambda(_)));
                if lambda {
                    k::LAMBDA_PARAMETERS
                } else {
                    k::PARAMETERS
                }
            }
            AnyNodeRef::ParameterWithDefault(p) => {
                match (p.default.is_some(), p.parameter.annotation.is_some()) {
                    (true, true) => k::TYPED_DEFAULT_PARAMETER,
                    (true, false) => k::DEFAULT_PARAMETER,
                    (false, true) => {
                        let r = p.parameter.range();
                        self.push(k::TYPED_PARAMETER, pos(r.start()), pos(r.end()), field);
                        return (opened + 1, Some(0));
                    }
                    (false, false) => return (opened, Some(0)),
                }
            }
            AnyNodeRef::Parameter(p) => {
                // Inside a `name=default` or `name: type` node: no node of its own.
                if matches!(
                    self.frames.last().map(|f| f.ast),
                    Some(AnyNodeRef::ParameterWithDefault(_))
                ) {
                    return (opened, Some(field));
                }
                // `*args` / `**kwargs`: the splat around the name opens with the name
                // (`before_child`); annotated, a `typed_parameter` holds both.
                if p.annotation.is_some() {
                    let star = self.star_before(p.name.start()).map_or(s, |(_, at)| at);
                    self.push(k::TYPED_PARAMETER, star, e, field);
                    opened += 1;
                }
                return (opened, None);
            }
            AnyNodeRef::Keyword(kw) => {
                if kw.arg.is_some() {
                    k::KEYWORD_ARGUMENT
                } else {
                    self.push(k::DICTIONARY_SPLAT, s, e, field);
                    return (opened + 1, Some(0));
                }
            }
            AnyNodeRef::Alias(_) => k::ALIASED_IMPORT,
            AnyNodeRef::Decorator(_) => k::DECORATOR,
            AnyNodeRef::FString(_)
            | AnyNodeRef::TString(_)
            | AnyNodeRef::StringLiteral(_)
            | AnyNodeRef::BytesLiteral(_) => {
                self.push(k::STRING, s, e, field);
                let (open_len, content) = string_opener(node);
                self.add(k::STRING_START, s, s + open_len, 0);
                if let Some((cs, ce)) = content.filter(|(cs, ce)| cs < ce) {
                    self.add(k::STRING_CONTENT, cs, ce, 0);
                }
                return (opened + 1, None);
            }
        };
        self.push(kind, s, e, field);
        (opened + 1, None)
    }

    /// The names of an import: `dotted_name`, or `aliased_import` with the alias.
    fn aliases(&mut self, names: &'s [ast::Alias]) {
        for a in names {
            if a.name.as_str() == "*" {
                continue;
            }
            let (ns, ne) = (pos(a.name.start()), pos(a.name.end()));
            match &a.asname {
                Some(alias) => {
                    self.push(k::ALIASED_IMPORT, pos(a.start()), pos(a.end()), 0);
                    self.add(k::DOTTED_NAME, ns, ne, f::NAME);
                    self.add(k::IDENTIFIER, pos(alias.start()), pos(alias.end()), 0);
                    self.open.pop();
                }
                None => {
                    self.add(k::DOTTED_NAME, ns, ne, 0);
                }
            }
        }
    }
}

/// The opener's length of a string part, and its content range when it has no elements of its
/// own (a plain or bytes literal; an f-string's content comes from its elements).
fn string_opener(node: AnyNodeRef) -> (u32, Option<(u32, u32)>) {
    let plain = |flags: ast::AnyStringFlags, r: ruff_text_size::TextRange| {
        let open = pos(flags.opener_len());
        let close = pos(flags.closer_len());
        let (s, e) = (pos(r.start()), pos(r.end()));
        (
            open,
            Some((s + open, e.saturating_sub(close).max(s + open))),
        )
    };
    match node {
        AnyNodeRef::StringLiteral(x) => plain(x.flags.as_any_string_flags(), x.range),
        AnyNodeRef::BytesLiteral(x) => plain(x.flags.as_any_string_flags(), x.range),
        AnyNodeRef::FString(x) => (pos(x.flags.as_any_string_flags().opener_len()), None),
        AnyNodeRef::TString(x) => (pos(x.flags.as_any_string_flags().opener_len()), None),
        _ => (0, None),
    }
}

/// The closer's length of a string part (`None` for any other node).
fn string_closer(node: AnyNodeRef) -> Option<u32> {
    let len = match node {
        AnyNodeRef::StringLiteral(x) => x.flags.closer_len(),
        AnyNodeRef::BytesLiteral(x) => x.flags.closer_len(),
        AnyNodeRef::FString(x) => x.flags.closer_len(),
        AnyNodeRef::TString(x) => x.flags.closer_len(),
        _ => return None,
    };
    Some(pos(len))
}

impl<'s> SourceOrderVisitor<'s> for Builder<'s> {
    fn enter_node(&mut self, node: AnyNodeRef<'s>) -> TraversalSignal {
        let (field, extra) = self.before_child(node);
        let (opened, pass_field) = self.open_node(node, field);
        let skip = matches!(
            node,
            AnyNodeRef::StmtImport(_) | AnyNodeRef::StmtImportFrom(_)
        );
        self.max_depth = self.max_depth.max(self.frames.len() + 1);
        self.frames.push(Frame {
            ast: node,
            opened: opened + extra,
            pass_field,
            next: 0,
            flag: false,
        });
        if skip {
            TraversalSignal::Skip
        } else {
            TraversalSignal::Traverse
        }
    }

    fn leave_node(&mut self, node: AnyNodeRef<'s>) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        if let Some(close) = string_closer(node) {
            let e = pos(node.end());
            self.add(k::STRING_END, e.saturating_sub(close), e, 0);
        }
        for _ in 0..frame.opened {
            self.open.pop();
        }
    }

    // Deeply nested code must not overflow the worker's stack: the walk grows it as it goes,
    // as Ruff's parser does.
    fn visit_expr(&mut self, expr: &'s Expr) {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || {
            source_order::walk_expr(self, expr)
        });
    }

    fn visit_stmt(&mut self, stmt: &'s Stmt) {
        stacker::maybe_grow(STACK_RED_ZONE, STACK_GROWTH, || {
            source_order::walk_stmt(self, stmt)
        });
    }

    fn visit_annotation(&mut self, expr: &'s Expr) {
        self.annotation = match self.frames.last().map(|f| f.ast) {
            Some(AnyNodeRef::StmtFunctionDef(_)) => f::RETURN_TYPE,
            _ => f::TYPE,
        };
        source_order::walk_annotation(self, expr);
        self.annotation = 0;
    }

    fn visit_operator(&mut self, _op: &'s ast::Operator) {
        let from = TextSize::new(self.last_child_end());
        if let Some((_, s, e)) = self.next_token(from) {
            let kind = kind_id(&self.src[s as usize..e as usize]);
            let kind = if kind >= FIRST_TOKEN_KIND {
                kind
            } else {
                k::OTHER
            };
            self.add(kind, s, e, f::OPERATOR);
        }
    }

    fn visit_body(&mut self, body: &'s [Stmt]) {
        let in_module = matches!(
            self.frames.last().map(|f| f.ast),
            None | Some(AnyNodeRef::ModModule(_))
        );
        match (body.first(), body.last()) {
            (Some(first), Some(last)) if !in_module => {
                self.push(k::BLOCK, pos(first.start()), pos(last.end()), f::BODY);
                source_order::walk_body(self, body);
                self.open.pop();
            }
            _ => source_order::walk_body(self, body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind the passes compare by id, with its constant.
    const COMPARED: [(u16, &str); 16] = [
        (k::CALL, "call"),
        (k::CLASS_DEFINITION, "class_definition"),
        (k::DICTIONARY, "dictionary"),
        (k::DEFAULT_PARAMETER, "default_parameter"),
        (k::TYPED_DEFAULT_PARAMETER, "typed_default_parameter"),
        (k::AUGMENTED_ASSIGNMENT, "augmented_assignment"),
        (k::ASSIGNMENT, "assignment"),
        (k::FUNCTION_DEFINITION, "function_definition"),
        (k::IMPORT_STATEMENT, "import_statement"),
        (k::IMPORT_FROM_STATEMENT, "import_from_statement"),
        (k::IDENTIFIER, "identifier"),
        (k::KEYWORD_ARGUMENT, "keyword_argument"),
        (k::ATTRIBUTE, "attribute"),
        (k::PARAMETERS, "parameters"),
        (k::TYPED_PARAMETER, "typed_parameter"),
        (k::STRING, "string"),
    ];

    #[test]
    fn kind_constants_name_their_kinds() {
        let others = [
            (k::MODULE, "module"),
            (k::PAIR, "pair"),
            (k::BLOCK, "block"),
            (k::TYPE, "type"),
            (k::NONE, "none"),
            (k::FOR_IN_CLAUSE, "for_in_clause"),
            (k::OTHER, "other"),
        ];
        for (id, name) in COMPARED.into_iter().chain(others) {
            assert_eq!(KINDS[id as usize], name);
            assert_eq!(kind_id(name), id);
        }
        assert_eq!(KINDS[FIRST_TOKEN_KIND as usize], "+");
        for (id, name) in [
            (f::LEFT, "left"),
            (f::NAME, "name"),
            (f::ATTRIBUTE, "attribute"),
        ] {
            assert_eq!(FIELDS[(id - 1) as usize], name);
        }
        assert_eq!(FIELDS[(f::RETURN_TYPE - 1) as usize], "return_type");
        assert_eq!(FIELDS[(f::VALUE - 1) as usize], "value");
    }

    /// A tree parsed into an earlier tree's storage, larger or smaller, is the fresh tree.
    #[test]
    fn reused_storage_parses_as_fresh() {
        let big = "def f(x):\n    return [g(y) for y in x if y]\n".repeat(50);
        let small = "PROMPT = \"Be brief.\"\nclient.create(messages=[{\"role\": \"user\"}])\n";
        let old = Tree::parse(&big);
        let reused = Tree::parse_reusing(small, Some(old));
        assert_eq!(reused.nodes, Tree::parse(small).nodes);
        let again = Tree::parse_reusing(&big, Some(reused));
        assert_eq!(again.nodes, Tree::parse(&big).nodes);
    }

    /// A sample holding every kind the passes compare by id: each node's `kind` and
    /// `kind_id` agree.
    #[test]
    fn every_compared_kind_occurs_with_its_id() {
        let src = "import a.b as c\nfrom d import (e, f as g)\nprint(match, type, exec)\n\
                   def h(p, q=1, *, r: int = 2, s: str, **kw): x = {k: v}; x += h(q=p)\n\
                   match x:\n    case [y]: type = y.z\nclass C(B): s = f\"{x}\" + 'y'\n";
        let tree = Tree::parse(src);
        let mut stack = vec![tree.root_node()];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            for (id, name) in COMPARED {
                assert_eq!(
                    n.kind() == name,
                    n.kind_id() == id,
                    "{name} vs {}",
                    n.kind()
                );
            }
            seen.insert(n.kind());
            stack.extend(n.children());
        }
        for (_, name) in COMPARED {
            assert!(seen.contains(name), "the sample lacks a {name}");
        }
    }

    /// The tree as an S-expression: `(kind field: (kind ...))`, with each node's text for leaves.
    fn sexp(src: &str) -> String {
        fn go(n: Node, src: &str, field: Option<&str>, out: &mut String) {
            if let Some(f) = field {
                out.push_str(f);
                out.push_str(": ");
            }
            out.push('(');
            out.push_str(n.kind());
            let kids: Vec<Node> = n.children().collect();
            if kids.is_empty() {
                out.push(' ');
                out.push_str(&src[n.byte_range()]);
            }
            for k in kids {
                out.push(' ');
                let f = FIELDS
                    .get((k.data().field as usize).wrapping_sub(1))
                    .copied();
                go(k, src, f, out);
            }
            out.push(')');
        }
        let tree = Tree::parse(src);
        let mut out = String::new();
        go(tree.root_node(), src, None, &mut out);
        out
    }

    #[test]
    fn shapes() {
        let cases = [
            ("x = a = 'b'\n", "(module (expression_statement (assignment left: (identifier x) right: (assignment left: (identifier a) right: (string (string_start ') (string_content b) (string_end '))))))"),
            ("f(k=(\"a\" \"b\"), *c, **d)\n", "(module (expression_statement (call function: (identifier f) arguments: (argument_list (keyword_argument name: (identifier k) value: (parenthesized_expression (concatenated_string (string (string_start \") (string_content a) (string_end \")) (string (string_start \") (string_content b) (string_end \"))))) (list_splat (identifier c)) (dictionary_splat (identifier d))))))"),
            ("{'r': x, **y}\n", "(module (expression_statement (dictionary (pair key: (string (string_start ') (string_content r) (string_end ')) value: (identifier x)) (dictionary_splat (identifier y)))))"),
            ("@d\ndef f(a, b=1, *c: int, **e): return a + b\n", "(module (decorated_definition (decorator (identifier d)) definition: (function_definition name: (identifier f) parameters: (parameters (identifier a) (default_parameter name: (identifier b) value: (integer 1)) (typed_parameter (list_splat_pattern (identifier c)) type: (type (identifier int))) (dictionary_splat_pattern (identifier e))) body: (block (return_statement (binary_operator left: (identifier a) operator: (+ +) right: (identifier b)))))))"),
            ("s = f\"x{y!r:>{w}}\"\n", "(module (expression_statement (assignment left: (identifier s) right: (string (string_start f\") (string_content x) (interpolation expression: (identifier y) (format_specifier (string_content >) (interpolation expression: (identifier w)))) (string_end \")))))"),
            ("from a.b import c as d, e\nx += 1\n", "(module (import_from_statement (dotted_name a.b) (aliased_import name: (dotted_name c) (identifier d)) (dotted_name e)) (expression_statement (augmented_assignment left: (identifier x) operator: (+= +=) right: (integer 1))))"),
        ];
        for (src, want) in cases {
            assert_eq!(sexp(src), want, "{src}");
        }
    }

    /// Parentheses around an expression, on one line or across lines with comments in between,
    /// and the ones that belong to a call, tuple or other parent instead.
    #[test]
    fn parentheses_are_found_where_they_are() {
        let cases = [
            ("f(x)\n", 0),
            ("f( x )\n", 0),
            ("f(\n    x,\n)\n", 0),
            ("f(\n    x\n)\n", 0),
            ("f((x))\n", 1),
            ("f( (x) )\n", 1),
            ("f((x), y)\n", 1),
            ("f(a, (b))\n", 1),
            ("f(a, ( b ))\n", 1),
            ("f(a=(b))\n", 1),
            ("y = ((a))\n", 2),
            ("x = (  # why\n    'a'\n)\n", 1),
            ("x = (\n    # why\n    'a'  # and\n)\n", 1),
            ("x = ( \\\n 'a')\n", 1),
            ("t = (a, (b))\n", 1),
            ("z = [(a)]\n", 1),
            ("print((a) + b)\n", 1),
            ("g((a)(b))\n", 1),
            ("(a)\n", 1),
            ("x = a(b)\n", 0),
            ("x = (a)(b)\n", 1),
        ];
        for (src, want) in cases {
            let got = sexp(src).matches("parenthesized_expression").count();
            assert_eq!(got, want, "{src:?}: {}", sexp(src));
        }
    }

    #[test]
    fn descendant_and_parent() {
        let src = "X = 'p'\ndef g():\n    return X.format(a=1)\n";
        let tree = Tree::parse(src);
        let root = tree.root_node();
        let at = src.rfind('X').unwrap();
        let n = root.descendant_for_byte_range(at, at + 1).unwrap();
        assert_eq!(n.kind(), "identifier");
        assert_eq!(n.parent().unwrap().kind(), "attribute");
        assert_eq!(n.parent().unwrap().parent().unwrap().kind(), "call");
    }

    #[test]
    fn deep_nesting_and_broken_code_do_not_panic() {
        let deep = format!("x = {}1{}\n", "(".repeat(5000), ")".repeat(5000));
        let _ = Tree::parse(&deep);
        let deep_list = format!("x = {}{}\n", "[".repeat(200_000), "]".repeat(200_000));
        let _ = Tree::parse(&deep_list);
        for src in [
            "def (:\n",
            "x = f(\n",
            "class\n  ",
            "print 'x'\n",
            "\u{feff}x = 1\n",
            "",
        ] {
            let _ = Tree::parse(src);
        }
    }
}
