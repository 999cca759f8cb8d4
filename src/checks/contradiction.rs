//! `check = "contradiction"`: pairs of instructions in one prompt that cannot both be obeyed.
//!
//! Every rule of the `contradiction` pack names this check with its axis (`params.axis`):
//! `output-format`, `length`, `language`, ... (mutually exclusive choices read from the pack's
//! `[[data.axis]]` vocabularies), `numeric-limit` (limits on the same unit whose ranges do not
//! meet) and `polarity` (the same verb and object, once required and once forbidden). The pack
//! data compiles once into a shared `Vocab`; the analysis of a prompt (units, directives, all
//! conflicts) runs once per prompt and thread and is cached, so eleven rules cost one parse.
//!
//! Precision first: two directives are compared only when their scopes agree: the same part
//! (a specific section such as "## Summary" or `<ui_navigation>`, a lead-in such as "For
//! beginners:", an inline part such as "In the appendix," or "Keep the title short"), and
//! conditions that do not scope ("unless", "only if", "if the user asks" and permissions always
//! do; an axis's own trigger such as "if the request is unclear" never does; any other
//! condition only clashes with an absolute prohibition of the same thing). System, developer and
//! user messages of one request are compared; assistant and tool turns are data. A later
//! directive is reported once per rule, against the first earlier one it contradicts.
//! Text inside examples, code and quotes never reaches the parser (see `directive.rs`).
//!
//! Layout: `directive.rs` splits units and masks quotes, `vocab.rs` compiles the pack data,
//! `parse.rs` reads a unit as a directive, and this file compares directives and reports.

// A fast hasher: the pair loop looks up axis names for every pair of directives.
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use serde::Deserialize;

use super::directive::{self, Action, Directive, Limit, Mention};
use super::vocab::{Axis, Vocab};
use super::{key_hasher, LastResult};
use crate::kinds::{fill, Hit, RuleContext};
use crate::packs::Rule;
use crate::prompt::Prompt;
use crate::span::PromptSpan;

/// A rule's `params`: which axis it reports.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawParams {
    axis: String,
}

/// One contradicting pair, found once per prompt and filtered per rule.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub rule: String,
    pub later: PromptSpan,
    pub earlier: PromptSpan,
    pub later_what: String,
    pub earlier_what: String,
    pub later_text: String,
    pub earlier_text: String,
}

/// Whether two directives may be compared on `axis` (`None`: polarity / numeric).
/// How a directive's condition bears on a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cond {
    /// No condition, or the axis's own trigger ("if unclear" for clarifying questions).
    Absolute,
    /// A plain condition on a requirement ("before booking", "when explaining the API"): it
    /// still clashes with an absolute prohibition of the same thing.
    Situational,
    /// An exception, a user-request condition or a permission: always a scope.
    Scoped,
}

fn cond(d: &Directive, axis: Option<&Axis>) -> Cond {
    match &d.condition {
        None => Cond::Absolute,
        Some(c) if !d.exception && axis.is_some_and(|ax| ax.triggers.is_match(c)) => Cond::Absolute,
        Some(_) if d.exception || d.request_condition || d.permissive => Cond::Scoped,
        Some(_) => Cond::Situational,
    }
}

/// Whether a pair may conflict: same part, and either both absolute, or (when `opposite` is
/// the positive/negative split of one thing) an absolute prohibition against a situational
/// requirement ("Never ask for clarification" / "Always ask for clarification before booking").
fn comparable(
    a: &Directive,
    b: &Directive,
    axis: Option<&Axis>,
    opposite: Option<(bool, bool)>,
) -> bool {
    if a.part != b.part {
        return false;
    }
    match (cond(a, axis), cond(b, axis), opposite) {
        (Cond::Absolute, Cond::Absolute, _) => true,
        (Cond::Absolute, Cond::Situational, Some((a_pos, _))) => !a_pos,
        (Cond::Situational, Cond::Absolute, Some((_, b_pos))) => !b_pos,
        _ => false,
    }
}

/// "asks for JSON (output format)" / "forbids emoji".
fn describe(axis: &Axis, m: &Mention) -> String {
    let v = &axis.values[m.value].name;
    let verb = if m.positive { "asks for" } else { "forbids" };
    if v.eq_ignore_ascii_case(&axis.label) || axis.values.len() == 1 {
        format!("{verb} {v}")
    } else {
        format!("{verb} {v} ({})", axis.label)
    }
}

/// Whether every word of `small` (a prohibited object) occurs in `big` (a required one), and
/// not merely as the first word of a longer compound ("password" in "password reset link").
fn subset(small: &str, big: &str) -> bool {
    let plain = |x: &str| -> Vec<String> {
        x.split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| w.trim_start_matches('+').to_string())
            .collect()
    };
    // Head words only (restrictions are marked "+"): a compound needs two more head words.
    let head: Vec<&str> = big
        .split(' ')
        .filter(|w| !w.is_empty() && !w.starts_with('+'))
        .collect();
    let (b, s) = (plain(big), plain(small));
    let covered = s.iter().all(|w| b.contains(w));
    let compound = s.len() == 1
        && head
            .iter()
            .position(|w| *w == s[0])
            .is_some_and(|i| head.len() - i > 2);
    covered && !compound
}

/// All conflicts of a prompt, in order of the later directive.
pub fn analyse(vocab: &Vocab, prompt: &Prompt) -> Vec<Conflict> {
    // XML-ish tags are usually situations ("<ui_navigation>", "<unclear_screen>") unless
    // generic; Markdown headings scope only when they name a part, situation or audience.
    let generic = |t: &str, tag: bool| {
        if tag {
            vocab.is_generic_title(t)
        } else {
            !vocab.section_scopes(t)
        }
    };
    let heading_like = |line: &str| vocab.is_heading_like(line);
    let units = directive::units(prompt, &vocab.data_sections, &generic, &heading_like);
    let ds: Vec<Directive> = units
        .iter()
        .filter_map(|u| {
            vocab
                .memo
                .directive(u, &prompt.text, || vocab.parse(u, &prompt.text))
        })
        .collect();
    let mut out: Vec<Conflict> = Vec::new();
    // Only directives of the same part are ever compared: index them by part once.
    let mut by_part: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, d) in ds.iter().enumerate() {
        by_part.entry(d.part.as_str()).or_default().push(i);
    }
    for j in 1..ds.len() {
        let b = &ds[j];
        let mut done: HashSet<String> = HashSet::new();
        let earlier = by_part
            .get(b.part.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for a in earlier.iter().take_while(|&&i| i < j).map(|&i| &ds[i]) {
            let mut pair_found = false;
            // Axes.
            for mb in &b.mentions {
                let axis = &vocab.axes[mb.axis];
                if done.contains(&axis.rule) || a.part != b.part {
                    continue;
                }
                let hit = a.mentions.iter().find(|ma| {
                    if ma.axis != mb.axis || (ma.numeric && mb.numeric) {
                        return false;
                    }
                    if ma.value == mb.value {
                        let (pos, neg): (&Mention, &Mention) =
                            if ma.positive { (ma, mb) } else { (mb, ma) };
                        return ma.positive != mb.positive
                            && neg.qualifier.iter().all(|w| pos.qualifier.contains(w))
                            && comparable(a, b, Some(axis), Some((ma.positive, mb.positive)));
                    }
                    let compatible = axis.compatible.iter().any(|&(x, y)| {
                        (x, y) == (ma.value, mb.value) || (y, x) == (ma.value, mb.value)
                    });
                    axis.exclusive
                        && ma.positive
                        && mb.positive
                        && !compatible
                        && !ma.scoped
                        && !mb.scoped
                        && !a.permissive
                        && !b.permissive
                        && comparable(a, b, Some(axis), None)
                });
                if let Some(ma) = hit {
                    done.insert(axis.rule.clone());
                    if out.iter().any(|c| {
                        c.rule == axis.rule
                            && c.later_text == short(&b.text)
                            && c.earlier_text == short(&a.text)
                    }) {
                        continue;
                    }
                    pair_found = true;
                    out.push(conflict(
                        &axis.rule,
                        a,
                        b,
                        describe(axis, ma),
                        describe(axis, mb),
                    ));
                }
            }
            // Numeric limits on the same unit whose ranges do not meet.
            if !done.contains("numeric-limit") && comparable(a, b, None, None) {
                let same_target = a.limit_target == b.limit_target;
                let hit = b.limits.iter().filter(|_| same_target).find_map(|lb| {
                    a.limits
                        .iter()
                        .find(|la| la.unit == lb.unit && (la.hi < lb.lo || lb.hi < la.lo))
                        .map(|la| (la, lb))
                });
                if let Some((la, lb)) = hit {
                    done.insert("numeric-limit".into());
                    pair_found = true;
                    out.push(conflict(
                        "numeric-limit",
                        a,
                        b,
                        format!("sets a limit of {}", limit_text(la)),
                        format!("sets a limit of {}", limit_text(lb)),
                    ));
                }
            }
            // The same action, required and forbidden.
            if !pair_found && !done.contains("polarity") {
                if let (Some(x), Some(y)) = (&a.action, &b.action) {
                    if x.verb == y.verb
                        && x.positive != y.positive
                        && comparable(a, b, None, Some((x.positive, y.positive)))
                    {
                        let (pos, neg) = if x.positive { (x, y) } else { (y, x) };
                        let covers = neg
                            .object
                            .iter()
                            .any(|n| pos.object.iter().any(|p| subset(n, p)));
                        if covers {
                            done.insert("polarity".into());
                            out.push(conflict("polarity", a, b, action_text(x), action_text(y)));
                        }
                    }
                }
            }
        }
    }
    out
}

fn limit_text(l: &Limit) -> String {
    l.text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn action_text(a: &Action) -> String {
    let what = format!("{} {}", a.verb, a.object.join(" / ").replace('+', ""))
        .trim()
        .to_string();
    if a.positive {
        format!("requires \"{what}\"")
    } else {
        format!("forbids \"{what}\"")
    }
}

fn conflict(
    rule: &str,
    a: &Directive,
    b: &Directive,
    earlier_what: String,
    later_what: String,
) -> Conflict {
    Conflict {
        rule: rule.to_string(),
        later: b.span,
        earlier: a.span,
        later_what,
        earlier_what,
        later_text: short(&b.text),
        earlier_text: short(&a.text),
    }
}

fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= 70 {
        return s;
    }
    let cut: String = s.chars().take(67).collect();
    format!("{cut}...")
}

/// The compiled check: one rule's axis and the shared vocabulary.
#[derive(Debug)]
pub struct Contradiction {
    axis: String,
    vocab: Arc<LazyVocab>,
}

/// The pack's vocabulary, built on first use: its many phrase regexes cost more than a whole
/// pre-commit run, and most runs never meet a prompt with two directives to compare.
#[derive(Debug)]
pub struct LazyVocab {
    data: Arc<toml::Table>,
    built: OnceLock<Result<Vocab, String>>,
}

impl LazyVocab {
    /// Builds it now unless built (or being built) already.
    pub fn build(&self) {
        let _ = self.get();
    }

    pub fn get(&self) -> Result<&Vocab, &str> {
        self.built
            .get_or_init(|| Vocab::compile(&self.data))
            .as_ref()
            .map_err(String::as_str)
    }
}

type VocabCache = Mutex<Vec<Arc<LazyVocab>>>;
static VOCABS: std::sync::LazyLock<VocabCache> =
    std::sync::LazyLock::new(|| Mutex::new(Vec::new()));

thread_local! {
    /// The conflicts of the last prompt analysed on this thread.
    static LAST: LastResult<Arc<Vec<Conflict>>> = const { LastResult::new() };
}

impl Contradiction {
    pub fn vocabulary(&self) -> &Arc<LazyVocab> {
        &self.vocab
    }

    pub fn compile(
        params: Option<&toml::Table>,
        data: Option<&Arc<toml::Table>>,
    ) -> Result<Contradiction, String> {
        let params = params.ok_or("the contradiction check needs `params.axis`")?;
        let p: RawParams = toml::Value::Table(params.clone())
            .try_into()
            .map_err(|e| format!("{e}"))?;
        let data = data.ok_or("the contradiction check needs the pack's [data] table")?;
        let vocab = {
            let mut cache = VOCABS
                .lock()
                .map_err(|_| "vocabulary cache poisoned".to_string())?;
            // Every rule of the pack passes the same table: the same `Arc` within one pack
            // load, an equal table across loads. Compare it, do not rebuild.
            match cache
                .iter()
                .find(|v| Arc::ptr_eq(&v.data, data) || v.data == *data)
            {
                Some(v) => v.clone(),
                None => {
                    let v = Arc::new(LazyVocab {
                        data: Arc::clone(data),
                        built: OnceLock::new(),
                    });
                    cache.push(v.clone());
                    v
                }
            }
        };
        let declared = data
            .get("axis")
            .and_then(|a| a.as_array())
            .into_iter()
            .flatten()
            .any(|a| a.get("rule").and_then(|r| r.as_str()) == Some(p.axis.as_str()));
        let known = p.axis == "numeric-limit" || p.axis == "polarity" || declared;
        if !known {
            return Err(format!(
                "unknown axis `{}` (not in [[data.axis]], numeric-limit or polarity)",
                p.axis
            ));
        }
        Ok(Contradiction {
            axis: p.axis,
            vocab,
        })
    }

    /// Builds the vocabulary now and reports a failure (for pack tests).
    pub fn force(&self) -> Result<(), String> {
        self.vocab.get().map_err(str::to_string)?.force()
    }

    fn conflicts(&self, prompt: &Prompt) -> Arc<Vec<Conflict>> {
        let mut key = key_hasher();
        let vocab = Arc::as_ptr(&self.vocab) as usize;
        (
            vocab,
            prompt.text.as_str(),
            prompt.segments.len(),
            &prompt.id,
        )
            .hash(&mut key);
        LAST.with(|last| {
            last.get_or(key.finish(), || {
                Arc::new(
                    self.vocab
                        .get()
                        .map_or_else(|_| Vec::new(), |v| analyse(v, prompt)),
                )
            })
        })
    }

    pub fn run(&self, rule: &Rule, cx: &RuleContext<'_>) -> Vec<Hit> {
        let conflicts = self.conflicts(cx.prompt);
        conflicts
            .iter()
            .filter(|c| c.rule == self.axis)
            .map(|c| {
                let slots = [("later", c.later_what.as_str()), ("earlier", c.earlier_what.as_str())];
                let mut hit = Hit::new(c.later, fill(&rule.message, &slots));
                hit.related = vec![(c.earlier, format!("earlier: {}", c.earlier_what))];
                hit.help = Some(format!(
                    "keep one: either the earlier \"{}\" or this \"{}\"; delete the other, or scope it (\"if the user asks ...\", \"in the summary ...\")",
                    c.earlier_text, c.later_text
                ));
                hit
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::packs::raw::RawPackFile;
    use crate::prompt::{Origin, PromptFormat};

    pub(crate) fn vocab() -> Arc<Vocab> {
        let raw: RawPackFile =
            toml::from_str(include_str!("../../rules/contradiction.toml")).expect("pack parses");
        Arc::new(Vocab::compile(raw.data.as_ref().expect("data")).expect("compiles"))
    }

    pub(crate) fn prompt(text: &str) -> Prompt {
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Markdown, false);
        p.text = text.to_string();
        crate::segment::segment(&mut p);
        p
    }

    fn rules(text: &str) -> Vec<String> {
        analyse(&vocab(), &prompt(text))
            .into_iter()
            .map(|c| c.rule)
            .collect()
    }

    #[test]
    #[allow(clippy::print_stdout)]
    fn debug_env() {
        let Ok(text) = std::env::var("CONTRA_DEBUG") else {
            return;
        };
        let v = vocab();
        let p = prompt(&text);
        let generic = |t: &str, tag: bool| {
            if tag {
                v.is_generic_title(t)
            } else {
                !v.section_scopes(t)
            }
        };
        for u in directive::units(&p, &v.data_sections, &generic, &|l: &str| {
            v.is_heading_like(l)
        }) {
            println!(
                "UNIT {:?} section={:?} lead={:?}",
                &p.text[u.span.start..u.span.end],
                u.section,
                u.lead
            );
            if let Some(d) = v.parse(&u, &p.text) {
                println!(
                    "  part={:?} cond={:?} exc={} mentions={:?} limits={:?} action={:?}",
                    d.part, d.condition, d.exception, d.mentions, d.limits, d.action
                );
            }
        }
        for c in analyse(&v, &p) {
            println!(
                "CONFLICT {} {:?} <- {:?}",
                c.rule, c.later_text, c.earlier_text
            );
        }
    }

    /// `CONTRA_PROBE="text" cargo test --lib probe -- --nocapture`: is this unit a directive?
    #[test]
    #[allow(clippy::print_stdout)]
    fn probe() {
        let Ok(t) = std::env::var("CONTRA_PROBE") else {
            return;
        };
        let v = vocab();
        println!(
            "directive={} loose={}",
            v.is_directive(&t),
            v.loose_directive(&t)
        );
    }

    /// The numeric regexes run on lowercased text; a limit is reported as written.
    #[test]
    fn limits_keep_their_letter_case() {
        let found = analyse(
            &vocab(),
            &prompt("Use AT MOST 3 Bullets.\nUse at least 5 bullets."),
        );
        let whats: Vec<&str> = found
            .iter()
            .flat_map(|c| [c.earlier_what.as_str(), c.later_what.as_str()])
            .collect();
        assert!(
            whats.contains(&"sets a limit of AT MOST 3 Bullets"),
            "{whats:?}"
        );
    }

    #[test]
    fn conditions_scope_or_not() {
        // An exception or a user request scopes; the axis's own trigger does not.
        assert!(rules("Never ask clarifying questions unless the request is ambiguous.\nIf the request is ambiguous, ask a clarifying question.").is_empty());
        assert_eq!(rules("Never ask clarifying questions.\nIf the request is unclear, ask a clarifying question."), vec!["clarifying-questions"]);
        assert!(
            rules("Do not write code.\nIf the user asks for an implementation, include code.")
                .is_empty()
        );
        // A situational requirement still clashes with an absolute prohibition.
        assert_eq!(
            rules("Never include code.\nInclude code samples when explaining the API."),
            vec!["code"]
        );
        // ... but a permission does not.
        assert!(
            rules("Avoid emoji. If the patient uses emoji, you may reply with one.").is_empty()
        );
    }

    #[test]
    fn negation_forms() {
        assert_eq!(
            rules("Emoji are strictly prohibited.\nUse emojis to make replies fun."),
            vec!["emoji"]
        );
        assert_eq!(
            rules("Use absolutely zero jargon.\nUse jargon."),
            vec!["polarity"]
        );
        assert!(rules(
            "Never fail to mention the refund policy.\nAlways mention the refund policy."
        )
        .is_empty());
        assert!(
            rules("Do not respond in any language other than English.\nRespond in English.")
                .is_empty()
        );
        assert_eq!(
            rules("Do not respond in any language other than English.\nRespond in French."),
            vec!["language"]
        );
        assert!(
            rules("Never use more than one emoji.\nUse an emoji when confirming a booking.")
                .is_empty()
        );
        assert!(rules("Never use emoji. Do not use emoji under any circumstances.").is_empty());
    }

    #[test]
    fn scopes_and_parts() {
        assert!(rules("## Summary\nBe brief.\n\n## Deep dive\nBe exhaustive.").is_empty());
        assert_eq!(rules("# Format\nAlways respond in JSON.\n\n# Style\nFormat your answer as a Markdown table."), vec!["output-format"]);
        assert!(
            rules("For children:\n- use a playful tone\n\nFor adults:\n- use a formal tone")
                .is_empty()
        );
        assert!(rules("Things to avoid:\n- Use emoji.\n\nNever use emoji.").is_empty());
        assert!(rules("Use tables for comparisons.\nRespond in JSON.").is_empty());
        assert!(
            rules("**Billing emails:** include a link to the invoice.\nDo not include links.")
                .is_empty()
        );
    }

    #[test]
    fn data_is_not_instruction() {
        assert!(rules(
            "Respond in JSON.\n\n<example>\nFormat your answer as a Markdown table.\n</example>"
        )
        .is_empty());
        assert!(
            rules("Respond in JSON.\n```\nFormat your answer as a Markdown table.\n```").is_empty()
        );
        assert!(rules("Never say \"respond in Markdown\". Respond in JSON.").is_empty());
        assert!(
            rules("Be concise.\n<document>\nAlways give exhaustive answers.\n</document>")
                .is_empty()
        );
    }

    #[test]
    fn plain_text_subheadings_scope() {
        let t = "Academic Research\n\nYour answer should be formatted as a write-up with paragraphs, using Markdown.\n\nRecent News\n\nAlways use lists.";
        assert!(rules(t).is_empty());
        // A one-line instruction without a period is not a heading.
        assert_eq!(
            rules("Be concise\n\nGive thorough, in-depth answers."),
            vec!["length"]
        );
    }

    #[test]
    fn passive_actions() {
        assert_eq!(
            rules("The refund policy must always be mentioned.\nRefunds must never be discussed."),
            vec!["polarity"]
        );
        assert!(
            rules("Passwords must never be shared.\nShare the password reset link.").is_empty()
        );
    }

    #[test]
    fn numeric_limits() {
        assert_eq!(
            rules("Use at most 3 bullet points.\nList exactly 5 bullet points."),
            vec!["numeric-limit"]
        );
        assert_eq!(rules("Replies are limited to 2 sentences.\nEvery answer must contain at least 5 sentences."), vec!["numeric-limit"]);
        assert!(rules("Write the bullets as exactly 16 words each.\nSummarize the battle in 50 words or less.").is_empty());
        assert!(rules("Use between 3 and 5 bullets. Use no more than 5 bullets.").is_empty());
    }

    #[test]
    fn non_ascii_and_odd_input_do_not_panic() {
        for t in [
            "Réponds en français.\u{a0}Respond in English.",
            "- \n-\n* ",
            "\"unbalanced quote. Use JSON.",
            "«Be brief.» — be thorough!",
            "",
            "::::",
            "1. \n2.",
        ] {
            let _ = rules(t);
        }
    }

    #[test]
    fn assistant_messages_are_not_instructions() {
        use crate::segment::{Role, Segment, SegmentKind};
        let text = "Always respond in JSON.\n\nFormat your answer as a Markdown table.\n\nUse a Markdown table.";
        let mut p = Prompt::new("t".into(), Origin::File, PromptFormat::Markdown, false);
        p.text = text.to_string();
        let second = text.find("Format").unwrap_or(0);
        let third = text.find("Use a").unwrap_or(0);
        p.segments = vec![
            Segment::new(
                SegmentKind::Role { role: Role::System },
                PromptSpan::new(0, second - 2),
            ),
            Segment::new(
                SegmentKind::Role {
                    role: Role::Assistant,
                },
                PromptSpan::new(second, third - 2),
            ),
            Segment::new(
                SegmentKind::Role { role: Role::User },
                PromptSpan::new(third, text.len()),
            ),
        ];
        crate::segment::segment(&mut p);
        let found: Vec<(String, usize)> = analyse(&vocab(), &p)
            .into_iter()
            .map(|c| (c.rule, c.later.start))
            .collect();
        // The assistant turn is ignored; the user turn of the same request is compared.
        assert_eq!(found, vec![("output-format".to_string(), third)]);
    }

    #[test]
    fn axis_conflicts() {
        assert_eq!(
            rules("Always respond in JSON.\nFormat your answer as a Markdown table."),
            vec!["output-format"]
        );
        assert_eq!(
            rules("Be concise.\nGive thorough, in-depth answers."),
            vec!["length"]
        );
        assert!(rules("In the summary, be brief. In the appendix, be exhaustive.").is_empty());
    }
}
#[cfg(test)]
mod timing {
    #[test]
    #[allow(clippy::print_stdout)]
    fn timing() {
        let Ok(path) = std::env::var("CONTRA_TIME") else {
            return;
        };
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let v = super::tests::vocab();
        let mut p = crate::prompt::Prompt::new(
            "t".into(),
            crate::prompt::Origin::File,
            crate::prompt::PromptFormat::Markdown,
            false,
        );
        p.text = text;
        let t0 = std::time::Instant::now();
        crate::segment::segment(&mut p);
        let t1 = std::time::Instant::now();
        let generic = |t: &str, _tag: bool| v.is_generic_title(t);
        let units = super::directive::units(&p, &v.data_sections, &generic, &|l: &str| {
            v.is_heading_like(l)
        });
        let t2 = std::time::Instant::now();
        let ds: Vec<_> = units.iter().filter_map(|u| v.parse(u, &p.text)).collect();
        let t3 = std::time::Instant::now();
        let c = super::analyse(&v, &p);
        let t4 = std::time::Instant::now();
        println!(
            "segment {:?} units {:?} ({}) parse {:?} ({}) analyse-all {:?} ({})",
            t1 - t0,
            t2 - t1,
            units.len(),
            t3 - t2,
            ds.len(),
            t4 - t3,
            c.len()
        );
    }
}
