//! The vocabulary's own tests: verb matching, folded (lowercase) axis patterns, and partial
//! frame alternations against the full ones.

use super::*;

#[test]
fn verbs_match_whole_words_at_the_start_longest_phrase_first() {
    let groups = vec![
        vec![
            "mention".to_string(),
            "bring up".into(),
            "talk about".into(),
        ],
        vec!["bring".to_string()],
    ];
    let v = Verbs::new(&groups);
    assert_eq!(v.at_start("Bring  UP the price"), Some(("mention", 9)));
    assert_eq!(v.at_start("bring the menu"), Some(("bring", 5)));
    assert_eq!(v.at_start("talk\nabout x"), Some(("mention", 10)));
    assert_eq!(v.at_start("mentioned"), None);
    assert_eq!(v.at_start("mention_x"), None);
    assert_eq!(v.at_start("mention, then"), Some(("mention", 7)));
    assert_eq!(v.at_start("talk"), None);
    assert_eq!(v.at_start(" mention"), None);
}

/// The strings of array `key` in `table` (none when absent).
fn strings(table: &toml::Value, key: &str) -> Vec<String> {
    table
        .get(key)
        .and_then(|f| f.as_array())
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(String::from))
        .collect()
}

/// Axis regexes run on the folded (lowercase) view without `(?i)`: an uppercase letter
/// outside an escape, a group name or a flag group would never match.
/// A value's framed regex built from only the frames whose leading words occur finds what
/// the alternation of all its frames finds, on every test prompt of the pack.
#[test]
fn partial_frame_alternations_find_what_the_full_one_finds() {
    let raw: toml::Table =
        toml::from_str(include_str!("../../../rules/contradiction.toml")).unwrap();
    let vocab = super::Vocab::compile(raw["data"].as_table().unwrap()).unwrap();
    let mut texts: Vec<String> = Vec::new();
    for rule in raw["rule"].as_array().unwrap() {
        if let Some(test) = rule.get("test") {
            for k in ["valid", "invalid"] {
                texts.extend(strings(test, k).iter().map(|t| t.replace(['«', '»'], "")));
            }
        }
    }
    assert!(texts.len() > 50);
    let mut compared = 0;
    for axis in &vocab.axes {
        for value in &axis.values {
            let Some(frames) = &value.framed else {
                continue;
            };
            let full = frames.full_regex();
            for t in &texts {
                let folded = super::super::literal::fold(t);
                let spans = |r: &regex::Regex| -> Vec<(usize, usize)> {
                    r.find_iter(&folded.text)
                        .map(|m| (m.start(), m.end()))
                        .collect()
                };
                let partial = frames.regex_for(&folded.text).map(|r| spans(&r));
                let whole = spans(&full);
                assert_eq!(
                    partial.unwrap_or_default(),
                    whole,
                    "axis {} value {} on {t:?}",
                    axis.rule,
                    value.name
                );
                compared += usize::from(!whole.is_empty());
            }
        }
    }
    assert!(compared > 20, "only {compared} texts matched a frame");
}

#[test]
fn axis_patterns_are_lowercase() {
    let raw: toml::Table =
        toml::from_str(include_str!("../../../rules/contradiction.toml")).unwrap();
    let axes = raw["data"]["axis"].as_array().unwrap();
    for a in axes {
        let mut texts = strings(a, "frames");
        for v in a["value"].as_array().unwrap() {
            for k in ["terms", "patterns", "negative-patterns"] {
                texts.extend(strings(v, k));
            }
        }
        for t in texts {
            assert!(
                !crate::lazy_regex::has_uppercase_literal(&t),
                "uppercase in {t:?}"
            );
            assert!(
                !t.contains("\\n"),
                "newline in {t:?}: the folded view has none"
            );
        }
    }
}
