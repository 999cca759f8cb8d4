//! Raw pack files -> the compiled `RuleSet`. The only place pack errors come from; each names
//! the file, the rule id and the key.

use std::sync::Arc;

use crate::lazy_regex::LazyRegex;

use super::builtin::BUILTIN_PACKS;
use super::prefilter::Prefilter;
use super::raw::{RawPackFile, RawRule};
use super::{PackInfo, Rule, RuleSet, Scope, Severity};
use crate::checks::{Check, CheckName};
use crate::kinds::pattern::PatternMatcher;
use crate::kinds::Matcher;
use crate::redact::Redact;
use crate::validate::Validator;

/// A problem in a pack file.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {what}")]
pub struct PackError {
    pub file: String,
    pub what: String,
}

/// Compiles the built-in packs whose names `wanted` accepts.
///
/// Their regexes are not syntax-checked here: the pack tests build every one of them
/// (`Matcher::force`), and checking them on every run would cost more than a pre-commit run.
pub fn compile_builtin(wanted: &dyn Fn(&str) -> bool) -> Result<RuleSet, PackError> {
    let files = BUILTIN_PACKS
        .iter()
        .map(|file| {
            let raw = file.parse().map_err(|what| PackError {
                file: file.path.to_string(),
                what,
            })?;
            Ok((file.path.to_string(), raw))
        })
        .collect::<Result<Vec<_>, _>>()?;
    compile(files, wanted, false)
}

/// Compiles `(file name, contents)` pack files; a regex error surfaces here, naming the file,
/// rule and key.
pub fn compile_files(
    files: &[(String, String)],
    wanted: &dyn Fn(&str) -> bool,
) -> Result<RuleSet, PackError> {
    let files = files
        .iter()
        .map(|(file, text)| {
            let raw: RawPackFile = toml::from_str(text).map_err(|e| PackError {
                file: file.clone(),
                what: e.to_string(),
            })?;
            Ok((file.clone(), raw))
        })
        .collect::<Result<Vec<_>, _>>()?;
    compile(files, wanted, true)
}

fn compile(
    files: Vec<(String, RawPackFile)>,
    wanted: &dyn Fn(&str) -> bool,
    check_syntax: bool,
) -> Result<RuleSet, PackError> {
    let mut rules = Vec::new();
    let mut packs = Vec::new();
    for (file, mut raw) in files {
        packs.push(PackInfo {
            name: raw.pack.name.clone(),
            summary: raw.pack.summary.clone(),
            file: file.clone(),
        });
        if !wanted(&raw.pack.name) {
            continue;
        }
        // One table for every rule of the pack: checks that share it compare it by pointer.
        let data = raw.data.take().map(Arc::new);
        let pack_severity = match &raw.pack.severity {
            Some(s) => parse_severity(s).map_err(|what| PackError {
                file: file.clone(),
                what: format!("[pack] severity: {what}"),
            })?,
            None => Severity::Warning,
        };
        for r in &raw.rule {
            let rule = compile_rule(
                &raw.pack.name,
                pack_severity,
                r,
                data.as_ref(),
                check_syntax,
            )
            .map_err(|what| PackError {
                file: file.clone(),
                what: format!("rule `{}`: {what}", r.id),
            })?;
            if rules.iter().any(|x: &Rule| x.id == rule.id) {
                return Err(PackError {
                    file: file.clone(),
                    what: format!("rule `{}`: duplicate id", r.id),
                });
            }
            rules.push(rule);
        }
    }
    let keywords: Vec<Vec<String>> = rules.iter().map(|r| r.keywords.clone()).collect();
    let prefilter = Prefilter::new(&keywords).map_err(|what| PackError {
        file: "packs".into(),
        what,
    })?;
    Ok(RuleSet {
        rules,
        packs,
        prefilter,
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity `{s}` (expected error, warning or info)"))
}

fn regex(check: bool, key: &str, pattern: &str) -> Result<LazyRegex, String> {
    if !check {
        return Ok(LazyRegex::unchecked(pattern.to_string()));
    }
    LazyRegex::new(pattern).map_err(|e| format!("`{key}`: invalid regex: {e}"))
}

fn alternation(check: bool, key: &str, patterns: &[String]) -> Result<Option<LazyRegex>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    if check {
        for p in patterns {
            regex(check, key, p)?;
        }
    }
    regex(check, key, &crate::lazy_regex::alternation(patterns)).map(Some)
}

fn compile_rule(
    pack: &str,
    pack_severity: Severity,
    r: &RawRule,
    data: Option<&Arc<toml::Table>>,
    check: bool,
) -> Result<Rule, String> {
    if r.id.is_empty()
        || !r
            .id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err("`id` must be kebab-case (a-z, 0-9, -)".into());
    }
    let severity = match &r.severity {
        Some(s) => parse_severity(s).map_err(|e| format!("`severity`: {e}"))?,
        None => pack_severity,
    };
    let example_severity = r
        .example_severity
        .as_deref()
        .map(parse_severity)
        .transpose()
        .map_err(|e| format!("`example-severity`: {e}"))?;
    let scope = match r.scope.as_deref() {
        None | Some("prompt") => Scope::Prompt,
        Some("instructions") => Scope::Instructions,
        Some("examples") => Scope::Examples,
        Some("system") => Scope::System,
        Some(other) => {
            return Err(format!(
            "`scope`: unknown scope `{other}` (expected prompt, instructions, examples or system)"
        ))
        }
    };
    let pattern_keys = [
        ("pattern", r.pattern.is_some()),
        ("validate", !r.validate.is_empty()),
        ("allow", !r.allow.is_empty()),
        ("stopwords", !r.stopwords.is_empty()),
        ("context", r.context.is_some()),
        ("context-deny", r.context_deny.is_some()),
        ("redact", r.redact.is_some()),
        ("test-values", !r.test_values.is_empty()),
        ("allow-normalized", !r.allow_normalized.is_empty()),
        ("context-optional-if", r.context_optional_if.is_some()),
        ("prefix-deny", r.prefix_deny.is_some()),
    ];
    let matcher = match r.kind.as_str() {
        "pattern" => {
            if r.check.is_some() || r.params.is_some() {
                return Err("`check`/`params` are only for kind = \"check\"".into());
            }
            let pattern = r
                .pattern
                .as_deref()
                .ok_or("kind = \"pattern\" needs `pattern`")?;
            let validators = r
                .validate
                .iter()
                .map(|v| {
                    Validator::parse(v)
                        .ok_or_else(|| format!("`validate`: unknown validator `{v}`"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let redact = match r.redact.as_deref() {
                None => Redact::None,
                Some(s) => Redact::parse(s).ok_or_else(|| format!("`redact`: unknown style `{s}` (expected email, last4, secret, full or none)"))?,
            };
            Matcher::Pattern(Box::new(PatternMatcher {
                regex: regex(check, "pattern", pattern)?.near(keyword_bytes(&r.keywords)),
                validators,
                allow: alternation(check, "allow", &r.allow)?,
                stopwords: r.stopwords.iter().map(|s| s.to_lowercase()).collect(),
                context: r
                    .context
                    .as_deref()
                    .map(|c| regex(check, "context", c))
                    .transpose()?,
                context_deny: r
                    .context_deny
                    .as_deref()
                    .map(|c| regex(check, "context-deny", c))
                    .transpose()?,
                context_window: r.context_window.unwrap_or(40),
                redact,
                test_values: r
                    .test_values
                    .iter()
                    .map(|v| v.chars().filter(|c| c.is_ascii_alphanumeric()).collect())
                    .collect(),
                test_value_severity: r
                    .test_value_severity
                    .as_deref()
                    .map(parse_severity)
                    .transpose()
                    .map_err(|e| format!("`test-value-severity`: {e}"))?,
                outside_examples_allow: r
                    .outside_examples_allow
                    .iter()
                    .map(|s| s.to_lowercase())
                    .collect(),
                allow_normalized: alternation(check, "allow-normalized", &r.allow_normalized)?,
                context_optional_if: r
                    .context_optional_if
                    .as_deref()
                    .map(|c| regex(check, "context-optional-if", c))
                    .transpose()?,
                prefix_deny: r
                    .prefix_deny
                    .as_deref()
                    .map(|c| regex(check, "prefix-deny", c))
                    .transpose()?,
            }))
        }
        "check" => {
            if let Some((key, _)) = pattern_keys.iter().find(|(_, set)| *set) {
                return Err(format!("`{key}` is only for kind = \"pattern\""));
            }
            let name = r.check.as_deref().ok_or("kind = \"check\" needs `check`")?;
            let name: CheckName =
                serde::Deserialize::deserialize(toml::Value::String(name.to_string()))
                    .map_err(|_| format!("`check`: unknown check `{name}`"))?;
            Matcher::Check(
                Check::compile(name, r.params.as_ref(), data)
                    .map_err(|e| format!("`params`: {e}"))?,
            )
        }
        other => {
            return Err(format!(
                "`kind`: unknown kind `{other}` (expected pattern or check)"
            ))
        }
    };
    Ok(Rule {
        id: format!("{pack}/{}", r.id),
        pack: pack.to_string(),
        name: r.id.clone(),
        severity,
        example_severity,
        summary: r.summary.clone(),
        message: r.message.clone(),
        help: r.help.clone(),
        docs: r.docs.clone(),
        scope,
        keywords: r.keywords.clone(),
        default_enabled: r.default_enabled.unwrap_or(true),
        matcher,
        tests: r.test.clone(),
    })
}

/// A rule's keywords as bytes, when each is one ASCII character (both cases of a letter:
/// keywords match case-insensitively): the bytes its matches are searched near (see
/// `LazyRegex::near`, which proves the pattern needs one). Empty otherwise.
fn keyword_bytes(keywords: &[String]) -> Vec<u8> {
    if !keywords.iter().all(|k| k.len() == 1 && k.is_ascii()) {
        return Vec::new();
    }
    keywords
        .iter()
        .flat_map(|k| {
            let b = k.as_bytes()[0];
            [b.to_ascii_lowercase(), b.to_ascii_uppercase()]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The built-in rules that scan most prompts (their keywords are digits or punctuation)
    /// are searched near those characters: each pattern is proven to need one and to have a
    /// greatest match length. (An email or street address, with `+` repeats, has none.)
    #[test]
    fn single_character_keywords_narrow_the_search() {
        let toml = std::fs::read_to_string("rules/pii.toml").unwrap();
        let raw: crate::packs::raw::RawPackFile = toml::from_str(&toml).unwrap();
        let near: Vec<&str> = raw
            .rule
            .iter()
            .filter(|r| {
                let bytes = keyword_bytes(&r.keywords);
                r.pattern.as_deref().is_some_and(|p| {
                    !bytes.is_empty()
                        && LazyRegex::unchecked(p.into()).near(bytes).reach().is_some()
                })
            })
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(
            near,
            ["phone-number", "ssn", "credit-card", "iban", "ip-address"]
        );
        assert_eq!(keyword_bytes(&["a".into(), "@".into()]), b"aA@@".to_vec());
        assert!(keyword_bytes(&["sk-".into()]).is_empty());
    }
}
