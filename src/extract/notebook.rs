//! Jupyter notebooks: code cells go through the Python extractor.
//!
//! The `.ipynb` JSON is read with the positioned JSON reader (`json.rs`), so every `source`
//! line is a double-quoted scalar whose escapes map back to its exact bytes.
//! A code cell's lines are joined into the cell text with a map from cell offsets to file
//! offsets (escapes such as `\"`, `\n` and `\u00e9` are decoded pieces); the Python
//! extractor's prompts are then composed through that map, so findings point into the
//! notebook file. Prompt ids are `path#cell<N>:<inner id>` with N the 1-based position of the
//! cell among all cells. Markdown cells and outputs are not prompts. nbformat 3
//! (`worksheets`) is not read.

use crate::extract::python::PythonExtractor;
use crate::extract::yaml::{map_scalar, Node};
use crate::extract::PromptSpec;
use crate::prompt::{Prompt, PromptBuilder, PromptFormat};
use crate::source::SourceFile;

/// Prompts in the code cells of a notebook, or an error message when it is not valid JSON.
pub fn extract(
    file: &SourceFile,
    py: &mut PythonExtractor,
    spec: &PromptSpec,
) -> (Vec<Prompt>, Option<String>) {
    // Each cell is a module of its own. Cells are parsed whether or not they hold a prompt word:
    // a notebook's `llm.invoke("...")` cell often names nothing else.
    extract_with(file, &mut |cell: &str| {
        py.extract(cell, &file.path, spec, PromptFormat::Notebook)
    })
}

/// `extract` with the per-cell extractor given as a closure (tests pass a fake one).
pub fn extract_with(
    file: &SourceFile,
    python: &mut dyn FnMut(&str) -> Vec<Prompt>,
) -> (Vec<Prompt>, Option<String>) {
    let root = match crate::extract::json::parse(&file.text) {
        Ok(root) => root,
        Err(e) => {
            return (
                Vec::new(),
                Some(e.replacen("invalid JSON", "invalid notebook JSON", 1)),
            )
        }
    };
    let Some(Node::Seq { items: cells, .. }) = root.get("cells") else {
        return (
            Vec::new(),
            Some("not a Jupyter notebook: no `cells` list".into()),
        );
    };
    let mut out = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        if cell.get("cell_type").and_then(Node::as_str) != Some("code") {
            continue;
        }
        let Some(cell_text) = cell_source(&file.text, cell) else {
            continue;
        };
        if cell_text.text.trim().is_empty() {
            continue;
        }
        for mut p in python(&blank_magics(&cell_text.text)) {
            p.map = p.map.compose(&cell_text.map);
            let inner =
                p.id.split_once('#')
                    .map(|(_, s)| s.to_string())
                    .unwrap_or_else(|| p.id.clone());
            p.id = format!("{}#cell{}:{}", file.path, i + 1, inner);
            p.format = PromptFormat::Notebook;
            out.push(p);
        }
    }
    (out, None)
}

/// The cell text with IPython magics and shell escapes (`%pip ...`, `!ls`, `%%time`) blanked
/// to spaces, byte for byte, so the Python parser sees valid code at unchanged offsets. Lines
/// inside a triple-quoted string are prompt text, never magics.
fn blank_magics(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut open: Option<&str> = None;
    for line in cell.split_inclusive('\n') {
        let t = line.trim_start();
        let magic = open.is_none() && (t.starts_with('%') || t.starts_with('!'));
        if magic {
            let body = line.trim_end_matches(['\n', '\r']);
            out.extend(std::iter::repeat_n(' ', body.len()));
            out.push_str(&line[body.len()..]);
            continue;
        }
        out.push_str(line);
        // Track triple-quoted strings (naively: quotes inside comments also count).
        let mut rest = line;
        loop {
            let next = match open {
                Some(q) => rest.find(q).map(|i| (i, q)),
                None => ["\"\"\"", "\'\'\'"]
                    .iter()
                    .filter_map(|q| rest.find(q).map(|i| (i, *q)))
                    .min(),
            };
            let Some((i, q)) = next else { break };
            open = if open.is_some() { None } else { Some(q) };
            rest = &rest[i + 3..];
        }
    }
    out
}

/// A code cell's joined `source` (a list of line strings or one string) with its map into
/// the notebook file.
fn cell_source(text: &str, cell: &Node) -> Option<PromptBuilder> {
    let mut b = PromptBuilder::new();
    match cell.get("source")? {
        Node::Seq { items, .. } => {
            for item in items {
                if item.as_str().is_some() {
                    b.append(map_scalar(text, item));
                }
            }
        }
        scalar @ Node::Scalar { .. } => b.append(map_scalar(text, scalar)),
        _ => return None,
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::Origin;
    use crate::source::FileKind;
    use crate::span::PromptSpan;

    /// A stand-in for the Python extractor: the first `"..."` literal of the cell, verbatim.
    fn fake_python(cell: &str) -> Vec<Prompt> {
        let Some(a) = cell.find('"') else {
            return Vec::new();
        };
        let Some(len) = cell[a + 1..].find('"') else {
            return Vec::new();
        };
        let mut b = PromptBuilder::new();
        b.push_verbatim(&cell[a + 1..a + 1 + len], a + 1);
        vec![b.into_prompt(Prompt::new(
            "nb.ipynb#SYSTEM_PROMPT".into(),
            Origin::Assignment {
                name: "SYSTEM_PROMPT".into(),
            },
            PromptFormat::Notebook,
            true,
        ))]
    }

    fn file(text: &str) -> SourceFile {
        SourceFile::from_bytes(
            text.as_bytes().to_vec(),
            "nb.ipynb".into(),
            "nb.ipynb".into(),
            FileKind::Notebook,
        )
        .unwrap()
    }

    #[test]
    fn code_cell_prompts_map_to_notebook_bytes() {
        let text = r##"{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# SYSTEM_PROMPT = \"not code\"\n"]},
  {
   "cell_type": "code",
   "execution_count": 1,
   "metadata": {},
   "outputs": [],
   "source": [
    "import openai\n",
    "SYSTEM_PROMPT = \"R\u00e9ponds \\\"poliment\\\" \u00e0 bob@corp.io\\n\"\n",
    "client.chat.completions.create(messages=[])"
   ]
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}"##;
        let (ps, err) = extract_with(&file(text), &mut fake_python);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(ps.len(), 1);
        let p = &ps[0];
        assert_eq!(p.id, "nb.ipynb#cell2:SYSTEM_PROMPT");
        // The cell text has `\"` decoded; the Python literal `\"` is two cell chars `\` `"`.
        assert_eq!(p.text, "Réponds \\");
        let at = p.text.find("ponds").unwrap();
        let span = p.map.to_file(PromptSpan::new(at, at + 5));
        assert_eq!(&text[span.start..span.end], "ponds");
        let e = p.text.find('é').unwrap();
        let span = p.map.to_file(PromptSpan::new(e, e + 'é'.len_utf8()));
        assert_eq!(&text[span.start..span.end], "\\u00e9");
        let bs = p.text.find('\\').unwrap();
        let span = p.map.to_file(PromptSpan::new(bs, bs + 1));
        assert_eq!(&text[span.start..span.end], "\\\\");
        for piece in p.map.pieces().iter().filter(|x| x.verbatim) {
            assert_eq!(
                &p.text[piece.prompt_start..piece.prompt_start + piece.prompt_len],
                &text[piece.file_start..piece.file_start + piece.file_len]
            );
        }
    }

    #[test]
    fn cell_text_joins_lines_and_decodes_escapes() {
        let text = "{\"cells\": [{\"cell_type\": \"code\", \"source\": [\"a = 1\\n\", \"b = \\\"x\\ud83d\\ude00\\\"\"]}]}";
        let root = crate::extract::json::parse(text).unwrap();
        let Some(Node::Seq { items, .. }) = root.get("cells") else {
            panic!()
        };
        let b = cell_source(text, &items[0]).unwrap();
        assert_eq!(b.text, "a = 1\nb = \"x😀\"");
        let slice = |needle: &str| {
            let at = b.text.find(needle).unwrap();
            let span = b.map.to_file(PromptSpan::new(at, at + needle.len()));
            &text[span.start..span.end]
        };
        assert_eq!(slice("x"), "x");
        assert_eq!(slice("\n"), "\\n");
        assert_eq!(slice("😀"), "\\ud83d\\ude00");
        assert_eq!(slice("\"x"), "\\\"x");
    }

    #[test]
    fn magics_are_blanked_in_place() {
        let cell = "%pip install openai\n!ls é\nx = \"hi\"\n";
        let blank = blank_magics(cell);
        assert_eq!(blank.len(), cell.len());
        assert_eq!(
            blank,
            format!("{}\n{}\nx = \"hi\"\n", " ".repeat(19), " ".repeat(6))
        );
        let cell = "P = \"\"\"Be nice.\n!important: never lie\n%s\n\"\"\"\n%time f()\n";
        assert_eq!(
            blank_magics(cell),
            "P = \"\"\"Be nice.\n!important: never lie\n%s\n\"\"\"\n         \n"
        );
    }

    #[test]
    fn invalid_json_is_an_error_without_prompts() {
        let (ps, err) = extract_with(&file("{\"cells\": [ {\"cell_type\": "), &mut fake_python);
        assert!(ps.is_empty());
        assert!(err.unwrap().starts_with("invalid notebook JSON"));
        let (_, err) = extract_with(&file("{\"metadata\": {}}"), &mut fake_python);
        assert!(err.is_some());
    }

    #[test]
    fn a_cell_is_searched_even_without_a_prompt_word() {
        // `llm.invoke("...")` names no prompt word; a `.py` module like it is not parsed, but a
        // notebook cell is.
        let text = r#"{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
 "source": ["llm.invoke(\"Tell me a joke about cats\")"]}], "nbformat": 4}"#;
        let spec = PromptSpec::compile(&crate::extract::RawPromptsSpec::default(), &[]).unwrap();
        let mut py = PythonExtractor::new();
        let (ps, err) = extract(&file(text), &mut py, &spec);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(ps.len(), 1, "{ps:#?}");
        assert_eq!(ps[0].text, "Tell me a joke about cats");
    }
}
