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

/// The pack's vocabulary and the texts of its rule tests.
/// The keys `build.rs` found for the values' free-form patterns pass every text the patterns
/// match, on every test prompt of the pack in both letter cases; and most built-in pattern
/// lists have keys.
#[test]
fn value_pattern_keys_pass_every_text_the_patterns_match() {
    let (vocab, texts) = pack_vocab_and_texts();
    let lists: Vec<&Patterns> = vocab
        .axes
        .iter()
        .flat_map(|a| &a.values)
        .flat_map(|v| [&v.patterns, &v.negative])
        .flatten()
        .collect();
    let keyed = lists.iter().filter(|p| p.gate.is_some()).count();
    assert!(
        keyed * 4 >= lists.len() * 3,
        "{keyed} of {} keyed",
        lists.len()
    );
    let mut matched = 0;
    for t in texts.iter().flat_map(|t| [t.clone(), t.to_uppercase()]) {
        let text = vocab.value_text(&t);
        for p in &lists {
            let whole: Vec<_> = crate::lazy_regex::ascii_first(p.regex.pattern())
                .unwrap()
                .find_iter(&text.folded.text)
                .map(|m| m.range())
                .collect();
            let gated: Vec<_> = p
                .on(&text)
                .map(|r| hits(r, &t, &text.folded))
                .unwrap_or_default()
                .iter()
                .map(|h| h.start()..h.end())
                .collect();
            let whole_in_t: Vec<_> = whole
                .iter()
                .map(|r| {
                    let h = text.folded.hit(&t, r.start, r.end);
                    h.start()..h.end()
                })
                .collect();
            assert_eq!(gated, whole_in_t, "{t:?}");
            matched += usize::from(!whole.is_empty());
        }
    }
    assert!(matched > 50, "only {matched} texts matched");
}

/// Looking verbs up by first byte finds what trying every phrase in order finds, at every
/// word of every test prompt of the pack, in both letter cases.
#[test]
fn verbs_by_first_byte_find_what_every_phrase_finds() {
    let (vocab, texts) = pack_vocab_and_texts();
    let every = |t: &str| {
        vocab.verbs.phrases.iter().find_map(|(words, canon)| {
            starts_with_words(t, words).map(|end| (canon.to_string(), end))
        })
    };
    let mut found = 0;
    for t in texts.iter().flat_map(|t| [t.clone(), t.to_uppercase()]) {
        for (at, _) in words(&t) {
            let want = every(&t[at..]);
            let got = vocab
                .verbs
                .at_start(&t[at..])
                .map(|(c, e)| (c.to_string(), e));
            assert_eq!(got, want, "{:?}", &t[at..]);
            found += usize::from(want.is_some());
        }
    }
    assert!(found > 100, "only {found} verbs found");
}

fn pack_vocab_and_texts() -> (super::Vocab, Vec<String>) {
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
    (vocab, texts)
}

/// The numeric regexes run only on texts holding one of their keys (a unit, a comparator's
/// first word), and there find what they find without the keys, in any letter case.
#[test]
fn numeric_keys_pass_every_text_the_regexes_match() {
    let (vocab, mut texts) = pack_vocab_and_texts();
    texts.extend(
        [
            "Keep it under 50 WORDS.",
            "No more than three bullet points; at least 2 examples.",
            "Use between 3 and 5 sentences, at most twenty tokens.",
            "Write two–three paragraphs. Don\u{2019}t exceed 4 substitutions.",
            "Reply in 3 lines, max 10 items.",
            "Answer with 42 \u{212A}ilobytes or 7 word\u{17F}.",
        ]
        .map(String::from),
    );
    texts.extend(texts.clone().iter().map(|t| t.to_uppercase()));
    let mut matched = 0;
    for regex in [&vocab.numeric.regex, &vocab.numeric.generic] {
        // What a run on lowercased text stands for: the pattern with ASCII case folding, on
        // the text as written, without the keys (it builds without Unicode, see `Numeric`).
        assert!(
            !crate::lazy_regex::has_uppercase_literal(regex.pattern()),
            "{}",
            regex.pattern()
        );
        let reference = regex::RegexBuilder::new(&format!("(?i){}", regex.pattern()))
            .unicode(false)
            .build()
            .unwrap();
        for t in &texts {
            let whole: Vec<(usize, usize)> = reference
                .find_iter(t)
                .map(|m| (m.start(), m.end()))
                .collect();
            let gated: Vec<(usize, usize)> = regex
                .captures_iter(&t.to_ascii_lowercase())
                .iter()
                .filter_map(|c| c.get(0))
                .map(|m| (m.start(), m.end()))
                .collect();
            assert_eq!(gated, whole, "{t:?}");
            matched += usize::from(!whole.is_empty());
        }
    }
    assert!(matched > 20, "only {matched} texts matched");
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

/// The one scan for every value's terms marks a value exactly when its own terms occur, on
/// every test prompt of the pack in both letter cases.
#[test]
fn the_term_gate_marks_the_values_whose_terms_occur() {
    let (vocab, texts) = pack_vocab_and_texts();
    let mut marked = 0;
    for t in texts.iter().flat_map(|t| [t.clone(), t.to_uppercase()]) {
        let text = vocab.value_text(&t);
        for value in vocab.axes.iter().flat_map(|a| &a.values) {
            let Some((frames, gate)) = &value.framed else {
                continue;
            };
            let own = frames.has_term(&text.folded.text);
            assert_eq!(text.gate[*gate], own, "value {} on {t:?}", value.name);
            marked += usize::from(own);
        }
    }
    assert!(marked > 100, "only {marked} values marked");
}

/// A value's framed regex built from only the frames whose leading words occur finds what
/// the alternation of all its frames finds, on every test prompt of the pack.
#[test]
fn partial_frame_alternations_find_what_the_full_one_finds() {
    let (vocab, texts) = pack_vocab_and_texts();
    let mut compared = 0;
    for axis in &vocab.axes {
        for value in &axis.values {
            let Some((frames, _)) = &value.framed else {
                continue;
            };
            let full = frames.uncached_full_regex();
            for t in &texts {
                let folded = super::super::literal::fold(t);
                let spans = |r: &regex::Regex| -> Vec<(usize, usize)> {
                    r.find_iter(&folded.text)
                        .map(|m| (m.start(), m.end()))
                        .collect()
                };
                let partial = frames.partial_regex(&folded.text).map(|r| spans(&r));
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

/// The scope regex with `x` unbounded and the limit checked after the match finds what the
/// bounded pattern finds.
#[test]
fn scope_lead_checks_its_limit_like_the_bounded_pattern() {
    let raw: toml::Table =
        toml::from_str(include_str!("../../../rules/contradiction.toml")).unwrap();
    let (vocab, mut texts) = pack_vocab_and_texts();
    let preps = strings(&raw["data"], "scope-prepositions");
    let bounded = regex::Regex::new(&super::scope_lead_pattern(&preps, "{1,120}")).unwrap();
    let (long, at_limit, over) = ("x".repeat(118), "é".repeat(120), "y".repeat(121));
    for lead in [
        "In the case of",
        "in",
        "When writing",
        "During",
        "For",
        "Within",
    ] {
        for gap in [" ", "   ", "\t \n"] {
            for body in [
                "the summary",
                "",
                "a.b",
                "émoji—ok",
                &long,
                &at_limit,
                &over,
                "x y",
            ] {
                for tail in [",", ":", ";", ". more", "", ", and: more"] {
                    texts.push(format!("{lead}{gap}{body}{tail}"));
                    texts.push(format!("{lead}{gap}the case of {body}{tail}"));
                    texts.push(format!("{lead}{gap}{body}{body}{tail}"));
                }
            }
        }
    }
    let mut found = 0;
    for t in &texts {
        let want = bounded
            .captures(t)
            .and_then(|c| c.name("x"))
            .map(|m| m.as_str());
        assert_eq!(vocab.scope_lead(t), want, "{t:?}");
        found += usize::from(want.is_some());
    }
    assert!(found > 100, "only {found} texts had a scope lead");
}
