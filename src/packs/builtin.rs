//! The packs embedded in the binary.

/// `(file name, contents)` of every built-in pack, in display order.
pub const BUILTIN_PACKS: &[(&str, &str)] = &[
    ("rules/pii.toml", include_str!("../../rules/pii.toml")),
    ("rules/cache.toml", include_str!("../../rules/cache.toml")),
    (
        "rules/registry.toml",
        include_str!("../../rules/registry.toml"),
    ),
    (
        "rules/contradiction.toml",
        include_str!("../../rules/contradiction.toml"),
    ),
];
