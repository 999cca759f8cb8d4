//! Field and kind ids of the Python tree (`tree.rs`), resolved once, and `Node::field`.

use std::sync::OnceLock;

use super::tree::{self, Node};

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
        let [call, class_definition, dictionary, default_parameter, typed_default_parameter, augmented_assignment, assignment, function_definition, import_statement, import_from_statement, identifier, keyword_argument, attribute, parameters, typed_parameter, string] =
            WALK_KINDS.map(tree::kind_id);
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
            field_left: tree::field_id("left"),
            field_name: tree::field_id("name"),
            field_attribute: tree::field_id("attribute"),
        }
    })
}

/// `child_by_field_name` with the name resolved once.
pub(crate) trait Field<'t> {
    fn field(&self, name: &str) -> Option<Node<'t>>;
}

impl<'t> Field<'t> for Node<'t> {
    fn field(&self, name: &str) -> Option<Node<'t>> {
        self.child_by_field_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_field_exists() {
        for k in WALK_KINDS {
            assert_ne!(tree::kind_id(k), 0, "no node kind {k:?}");
        }
        for f in ["left", "name", "attribute"] {
            assert_ne!(tree::field_id(f), 0, "no field {f:?}");
        }
    }

    #[test]
    fn kind_ids_match_kind_names() {
        let src = "import a.b as c\nfrom d import (e, f as g)\nprint(match, type, exec)\n\
                   def h(p, q=1, *, r: int = 2, s: str, **kw): x = {k: v}; x += h(q=p)\n\
                   match x:\n    case [y]: type = y.z\nclass C(B): s = f\"{x}\" + 'y'\n";
        let tree = tree::Tree::parse(src);
        let mut stack = vec![tree.root_node()];
        let mut seen = std::collections::HashSet::new();
        while let Some(n) = stack.pop() {
            for k in WALK_KINDS {
                assert_eq!(
                    n.kind() == k,
                    n.kind_id() == tree::kind_id(k),
                    "{k} vs {}",
                    n.kind()
                );
            }
            seen.insert(n.kind());
            let mut c = n.walk();
            stack.extend(n.children(&mut c));
        }
        for k in WALK_KINDS {
            assert!(seen.contains(k), "the sample lacks a {k}");
        }
    }
}
