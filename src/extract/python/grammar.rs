//! Field and kind ids of the Python grammar, resolved once.
//!
//! `Node::child_by_field_name` resolves the name on every call (a linear scan of the grammar's
//! field names), and `Node::kind` turns a C string into `&str` on every call; in a walk over
//! every node of every module those two were a fifth of extraction. The ids here are looked up
//! once per process; names outside the table still work, through the slow path.

use std::sync::OnceLock;

use tree_sitter::{Language, Node};

/// The field names extraction asks for, in the order of `field_ids`.
const FIELDS: [&str; 13] = [
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
];

/// The ids of the node kinds and fields the index walk tells apart.
pub(crate) struct WalkIds {
    pub call: u16,
    pub class_definition: u16,
    pub dictionary: u16,
    pub default_parameter: u16,
    pub typed_default_parameter: u16,
    pub augmented_assignment: u16,
    pub assignment: u16,
    pub function_definition: u16,
    pub import_statement: u16,
    pub import_from_statement: u16,
    pub identifier: u16,
    pub keyword_argument: u16,
    pub attribute: u16,
    pub parameters: u16,
    pub typed_parameter: u16,
    pub string: u16,
    pub field_left: u16,
    pub field_name: u16,
    pub field_attribute: u16,
}

/// Kind names in the order `walk_ids` reads them (for the tests).
const WALK_KINDS: [&str; 16] = [
    "call",
    "class_definition",
    "dictionary",
    "default_parameter",
    "typed_default_parameter",
    "augmented_assignment",
    "assignment",
    "function_definition",
    "import_statement",
    "import_from_statement",
    "identifier",
    "keyword_argument",
    "attribute",
    "parameters",
    "typed_parameter",
    "string",
];

pub(crate) fn walk_ids() -> &'static WalkIds {
    static WALK: OnceLock<WalkIds> = OnceLock::new();
    WALK.get_or_init(|| {
        let lang = language();
        let [call, class_definition, dictionary, default_parameter, typed_default_parameter, augmented_assignment, assignment, function_definition, import_statement, import_from_statement, identifier, keyword_argument, attribute, parameters, typed_parameter, string] =
            WALK_KINDS.map(|k| lang.id_for_node_kind(k, true));
        WalkIds {
            call,
            class_definition,
            dictionary,
            default_parameter,
            typed_default_parameter,
            augmented_assignment,
            assignment,
            function_definition,
            import_statement,
            import_from_statement,
            identifier,
            keyword_argument,
            attribute,
            parameters,
            typed_parameter,
            string,
            field_left: field_id("left"),
            field_name: field_id("name"),
            field_attribute: field_id("attribute"),
        }
    })
}

fn language() -> Language {
    tree_sitter_python::LANGUAGE.into()
}

/// The ids of `FIELDS`, 0 for a field the grammar lacks.
fn field_ids() -> &'static [u16; FIELDS.len()] {
    static IDS: OnceLock<[u16; FIELDS.len()]> = OnceLock::new();
    IDS.get_or_init(|| {
        let lang = language();
        FIELDS.map(|f| lang.field_id_for_name(f).map_or(0, |id| id.get()))
    })
}

/// The id of field `name`, 0 when the grammar has no such field.
pub(crate) fn field_id(name: &str) -> u16 {
    match FIELDS.iter().position(|f| *f == name) {
        Some(i) => field_ids()[i],
        None => language().field_id_for_name(name).map_or(0, |id| id.get()),
    }
}

/// `child_by_field_name` with the name resolved once.
pub(crate) trait Field<'t> {
    fn field(&self, name: &str) -> Option<Node<'t>>;
}

impl<'t> Field<'t> for Node<'t> {
    fn field(&self, name: &str) -> Option<Node<'t>> {
        match field_id(name) {
            0 => None,
            id => self.child_by_field_id(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_exists_in_the_grammar() {
        for (f, id) in FIELDS.iter().zip(field_ids()) {
            assert_ne!(*id, 0, "no field {f:?} in the Python grammar");
        }
    }

    #[test]
    fn kind_ids_match_kind_names() {
        let lang = language();
        let id = |k: &str| lang.id_for_node_kind(k, true);
        for k in WALK_KINDS {
            assert_ne!(id(k), 0, "no node kind {k:?} in the Python grammar");
        }
        let w = walk_ids();
        assert_eq!(
            [w.call, w.class_definition, w.identifier, w.typed_parameter],
            [
                id("call"),
                id("class_definition"),
                id("identifier"),
                id("typed_parameter")
            ]
        );
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language()).unwrap();
        // Soft keywords and `print` are identifiers by alias: they must carry the same id.
        let src = "import a.b as c\nfrom d import (e, f as g)\nprint(match, type, exec)\n\
                   def h(p, q=1, *, r: int = 2, s: str, **kw): x = {k: v}; x += h(q=p)\n\
                   match x:\n    case [y]: type = y.z\nclass C(B): s = f\"{x}\" + 'y'\n";
        let tree = parser.parse(src, None).unwrap();
        let mut stack = vec![tree.root_node()];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            for k in WALK_KINDS {
                assert_eq!(n.kind() == k, n.kind_id() == id(k), "{k} vs {}", n.kind());
            }
            seen.insert(n.kind());
            let mut c = n.walk();
            stack.extend(n.children(&mut c));
        }
        for k in WALK_KINDS {
            assert!(seen.contains(k), "the sample lacks a {k}");
        }
    }

    #[test]
    fn field_matches_child_by_field_name() {
        let mut parser = tree_sitter::Parser::new();
        parser.set_language(&language()).unwrap();
        let src = "x = f(a, k=v)\ny += o.attr\nclass C(B):\n    def m(self): return {1: 2}\n";
        let tree = parser.parse(src, None).unwrap();
        let mut stack = vec![tree.root_node()];
        let mut checked = 0;
        while let Some(n) = stack.pop() {
            for f in FIELDS {
                assert_eq!(n.field(f), n.child_by_field_name(f), "{f} of {}", n.kind());
                checked += usize::from(n.field(f).is_some());
            }
            let mut c = n.walk();
            stack.extend(n.children(&mut c));
        }
        assert!(checked > 10);
    }
}
