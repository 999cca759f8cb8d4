//! The cross-file checks: unknown-id, unlocked-change and unused-prompt, over data in memory.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{builtin, clean_rel, ids, parse_lockfile, stem, LockLine, Lockfile, RegistryPrompt};
use crate::extract::loaders::{LoaderCall, CONFIG_FAMILY, MENTION_FAMILY};
use crate::span::{FileSpan, LineCol, LineIndex};

/// A registry finding before severity, selection and suppression are applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryFinding {
    /// `registry/...`.
    pub rule: &'static str,
    /// Display path of the file it is in.
    pub path: String,
    pub span: FileSpan,
    pub start: LineCol,
    pub end: LineCol,
    /// Message slots: `id`, `hint`, `path`, `detail`.
    pub slots: Vec<(&'static str, String)>,
    /// What the fingerprint hashes (an id, a path and hash...).
    pub key: String,
}

/// Everything the cross-file checks look at.
pub struct Input<'a> {
    pub prompts: &'a [RegistryPrompt],
    pub lockfile: Option<&'a Lockfile>,
    /// Loader calls with the display path of their file.
    pub calls: &'a [(String, LoaderCall)],
    /// The configured registry dirs.
    pub dirs: &'a [String],
    /// Whether every file was scanned (unused-prompt needs every call site).
    pub whole_repo: bool,
}

/// The span of line 1 of `text` (or an empty span at 0).
fn first_line(text: Option<&str>) -> (FileSpan, LineCol, LineCol) {
    let t = text.unwrap_or("");
    let end = t.find(['\n', '\r']).unwrap_or(t.len());
    let end_col = t[..end].chars().count() + 1;
    (
        FileSpan::new(0, end),
        LineCol { line: 1, column: 1 },
        LineCol {
            line: 1,
            column: end_col,
        },
    )
}

/// Levenshtein distance over chars, capped: returns `cap + 1` once it is exceeded.
pub(super) fn distance(a: &str, b: &str, cap: usize) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > cap {
        return cap + 1;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        if cur.iter().min().copied().unwrap_or(0) > cap {
            return cap + 1;
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The prompts an id names: an exact id, or a key inside a structured prompt file
/// (`triage.system` or `triage/system` for `prompts/triage.yaml`).
fn resolve<'m>(
    by_id: &'m BTreeMap<String, Vec<usize>>,
    prompts: &[RegistryPrompt],
    id: &str,
) -> Option<&'m Vec<usize>> {
    if let Some(hits) = by_id.get(id) {
        return Some(hits);
    }
    let structured = |i: &usize| {
        let rel = prompts[*i].rel.to_ascii_lowercase();
        [".yaml", ".yml", ".json", ".toml"]
            .iter()
            .any(|e| rel.ends_with(e))
    };
    id.char_indices()
        .rev()
        .filter(|(_, c)| matches!(c, '.' | '/' | '#' | ':'))
        .filter_map(|(i, _)| by_id.get(&id[..i]))
        .find(|hits| hits.iter().any(structured))
}

/// Runs unknown-id, unlocked-change and unused-prompt over `input`.
pub fn analyze(input: &Input<'_>) -> Vec<RegistryFinding> {
    let mut out = Vec::new();
    // id -> indices of the prompts answering to it.
    let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut stems: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, p) in input.prompts.iter().enumerate() {
        for id in ids(&p.dir, &p.rel) {
            by_id.entry(id).or_default().push(i);
        }
        stems.entry(stem(&p.rel)).or_default().push(i);
    }
    for (s, v) in &stems {
        if v.len() == 1 {
            by_id
                .entry(s.to_string())
                .or_default()
                .extend(v.iter().copied());
        }
    }
    let mut referenced = vec![false; input.prompts.len()];
    let mut mirrored: BTreeSet<&str> = BTreeSet::new();
    let mut any_reference = false;
    for (_, call) in input.calls {
        if call.family == MENTION_FAMILY {
            // A file named in a string (`open(PROMPTS / "support/triage.md")`).
            if let Some(m) = &call.id {
                for (i, p) in input.prompts.iter().enumerate() {
                    if p.rel == *m || p.rel.ends_with(&format!("/{m}")) {
                        referenced[i] = true;
                    }
                }
                // An id kept in a table for a computed loader call (`IDS = ["triage", ...]`).
                for &i in resolve(&by_id, input.prompts, m).into_iter().flatten() {
                    referenced[i] = true;
                }
            }
        } else if let Some(id) = &call.id {
            any_reference = true;
            if let Some(hits) = resolve(&by_id, input.prompts, id) {
                mirrored.insert(call.family.as_str());
                for &i in hits {
                    referenced[i] = true;
                }
            }
        } else if let Some(prefix) = call.id_prefix.as_deref().filter(|p| !p.is_empty()) {
            any_reference = true;
            for (id, hits) in by_id.range(prefix.to_string()..) {
                if !id.starts_with(prefix) {
                    break;
                }
                for &i in hits {
                    referenced[i] = true;
                }
            }
        }
    }
    // unknown-id
    let namespaces: BTreeSet<&str> = by_id
        .keys()
        .filter_map(|k| k.rsplit_once('/').map(|(d, _)| d))
        .collect();
    let mut locked_ids: HashMap<String, String> = HashMap::new();
    if let Some(text) = input.lockfile.and_then(|l| l.text.as_deref()) {
        for l in parse_lockfile(text) {
            for dir in input.dirs {
                if clean_rel(dir).is_empty() || l.path.starts_with(&format!("{}/", clean_rel(dir)))
                {
                    for id in ids(dir, &l.path) {
                        locked_ids.entry(id).or_insert_with(|| l.path.clone());
                    }
                }
            }
        }
    }
    let no_unknown_id = builtin().ok().map(|d| &d.no_unknown_id);
    for (path, call) in input.calls {
        let Some(id) = &call.id else { continue };
        if call.reference_only || no_unknown_id.is_some_and(|g| g.is_match(path)) {
            continue;
        }
        if resolve(&by_id, input.prompts, id).is_some() || id.is_empty() {
            continue;
        }
        let cap = (id.chars().count() / 4).clamp(1, 3);
        let near = by_id
            .keys()
            .map(|k| (distance(id, k, cap), k))
            .filter(|(d, _)| *d <= cap)
            .min();
        let namespace = id.rsplit_once('/').map(|(d, _)| d);
        let was_locked = locked_ids.get(id.as_str());
        // A loader named in config is the registry's own: every unknown id is an error. A
        // built-in or hosted one may fetch from elsewhere, so it needs evidence that the id
        // was meant for this registry.
        let report = call.family == CONFIG_FAMILY
            || mirrored.contains(call.family.as_str())
            || near.is_some_and(|(d, _)| d <= 2)
            || namespace.is_some_and(|n| namespaces.contains(n))
            || was_locked.is_some();
        if !report {
            continue;
        }
        let hint = match (near, was_locked) {
            (Some((_, k)), _) => format!(" (did you mean `{k}`?)"),
            (None, Some(path)) => format!(" ({path} was deleted or moved)"),
            (None, None) => String::new(),
        };
        out.push(RegistryFinding {
            rule: "registry/unknown-id",
            path: path.clone(),
            span: call.span,
            start: call.start,
            end: call.end,
            slots: vec![("id", id.clone()), ("hint", hint)],
            key: id.clone(),
        });
    }
    // unlocked-change
    if let Some(lock) = input.lockfile {
        let lines = lock.text.as_deref().map(parse_lockfile).unwrap_or_default();
        if lock.text.is_some() || lock.explicit {
            let recorded: HashMap<&str, &LockLine> =
                lines.iter().map(|l| (l.path.as_str(), l)).collect();
            for p in input.prompts {
                let detail = match recorded.get(p.rel.as_str()) {
                    Some(l) if l.sha256 == p.sha256 => continue,
                    Some(l) => format!(
                        "{} changed since it was locked ({} records {}, the file is {})",
                        p.rel,
                        lock.rel,
                        &l.sha256[..12],
                        &p.sha256[..12]
                    ),
                    None if lock.text.is_none() => {
                        format!("{} is not locked ({} does not exist)", p.rel, lock.rel)
                    }
                    None => format!("{} is not in {}", p.rel, lock.rel),
                };
                let (span, start, end) = first_line(p.text.as_deref());
                out.push(RegistryFinding {
                    rule: "registry/unlocked-change",
                    path: p.display.clone(),
                    span,
                    start,
                    end,
                    slots: vec![("detail", detail), ("path", p.rel.clone())],
                    key: format!("{} {}", p.rel, p.sha256),
                });
            }
            let present: BTreeSet<&str> = input.prompts.iter().map(|p| p.rel.as_str()).collect();
            let text = lock.text.as_deref().unwrap_or("");
            let index = LineIndex::new(text);
            for l in lines.iter().filter(|l| !present.contains(l.path.as_str())) {
                out.push(RegistryFinding {
                    rule: "registry/unlocked-change",
                    path: lock.display.clone(),
                    span: l.span,
                    start: index.line_col(text, l.span.start),
                    end: index.line_col(text, l.span.end),
                    slots: vec![
                        (
                            "detail",
                            format!(
                                "{} records {}, which is no longer a registry prompt",
                                lock.rel, l.path
                            ),
                        ),
                        ("path", l.path.clone()),
                    ],
                    key: format!("gone {}", l.path),
                });
            }
        }
    }
    // unused-prompt
    if input.whole_repo && any_reference {
        for (i, p) in input.prompts.iter().enumerate() {
            if referenced[i] {
                continue;
            }
            // Included by another registry prompt (`{% include "partials/header.j2" %}`).
            let name = p.rel.rsplit('/').next().unwrap_or(&p.rel);
            let included = input
                .prompts
                .iter()
                .any(|o| o.rel != p.rel && o.text.as_deref().is_some_and(|t| t.contains(name)));
            if included {
                continue;
            }
            let id = ids(&p.dir, &p.rel)
                .into_iter()
                .filter(|x| !x.starts_with(&format!("{}/", clean_rel(&p.dir))))
                .min_by_key(|x| x.len())
                .unwrap_or_else(|| p.rel.clone());
            let (span, start, end) = first_line(p.text.as_deref());
            out.push(RegistryFinding {
                rule: "registry/unused-prompt",
                path: p.display.clone(),
                span,
                start,
                end,
                slots: vec![("path", p.rel.clone()), ("id", id)],
                key: p.rel.clone(),
            });
        }
    }
    out
}
