//! Invariants over every fixture tree under tests/fixtures/: every prompt's offset map is
//! faithful (a verbatim piece's prompt bytes equal the file bytes), and every finding's span lies
//! inside its file on character boundaries with line/column that point at those bytes.

use std::path::{Path, PathBuf};

use promptlint::config::RuleSettings;
use promptlint::engine::{Engine, Selection};
use promptlint::extract::{Extractor, PromptSpec, RawPromptsSpec};
use promptlint::packs::compile::compile_builtin;
use promptlint::source::SourceFile;
use promptlint::span::LineIndex;

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_symlink() {
            continue;
        }
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn offset_maps_and_finding_spans_are_faithful() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let spec = PromptSpec::compile(&RawPromptsSpec::default(), &[]).unwrap();
    let rules = compile_builtin(&|_| true).unwrap();
    let settings = RuleSettings {
        cache_min_static_chars: 1000,
        ..RuleSettings::default()
    };
    let engine = Engine::new(&rules, &spec, &settings, &Selection::default()).unwrap();
    let mut extractor = Extractor::new(&spec);
    let mut files = Vec::new();
    files_under(&root, &mut files);
    let (mut prompts_seen, mut findings_seen) = (0, 0);
    for path in files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let Some(kind) = spec.classify(&rel) else {
            continue;
        };
        let Ok(file) = SourceFile::read(&path, rel.clone(), kind, 2 << 20) else {
            continue;
        };
        let (prompts, _) = extractor.extract(&file);
        for p in &prompts {
            prompts_seen += 1;
            for piece in p.map.pieces() {
                let prompt_bytes =
                    &p.text.as_bytes()[piece.prompt_start..piece.prompt_start + piece.prompt_len];
                assert!(
                    piece.file_start + piece.file_len <= file.text.len(),
                    "{rel}: piece beyond end of file in {}",
                    p.id
                );
                if piece.verbatim {
                    let file_bytes =
                        &file.text.as_bytes()[piece.file_start..piece.file_start + piece.file_len];
                    assert_eq!(
                        prompt_bytes, file_bytes,
                        "{rel}: verbatim piece differs in prompt {}",
                        p.id
                    );
                }
            }
        }
        let result = engine.lint_file(&mut extractor, &file);
        let index = LineIndex::new(&file.text);
        for f in &result.findings {
            findings_seen += 1;
            assert!(
                f.span.end <= file.text.len() && f.span.start <= f.span.end,
                "{rel}: {} span out of file",
                f.rule
            );
            assert!(
                file.text.is_char_boundary(f.span.start) && file.text.is_char_boundary(f.span.end),
                "{rel}: {} span splits a character",
                f.rule
            );
            assert_eq!(
                index.line_col(&file.text, f.span.start),
                f.start,
                "{rel}: {} start line/column",
                f.rule
            );
            assert_eq!(
                index.line_col(&file.text, f.span.end),
                f.end,
                "{rel}: {} end line/column",
                f.rule
            );
        }
    }
    // The trees are broad: hundreds of prompts and findings, so the loop above proved something.
    assert!(
        prompts_seen > 300 && findings_seen > 100,
        "only {prompts_seen} prompts and {findings_seen} findings checked"
    );
}
