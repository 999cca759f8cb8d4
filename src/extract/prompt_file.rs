//! Prompt files: Dotprompt, Prompty, Jinja, Mustache, Markdown and text.

use crate::extract::PromptSpec;
use crate::prompt::{Origin, Prompt, PromptBuilder, PromptFormat};
use crate::source::SourceFile;

pub fn extract(file: &SourceFile, format: PromptFormat, _spec: &PromptSpec) -> Vec<Prompt> {
    if file.text.trim().is_empty() {
        return Vec::new();
    }
    let mut b = PromptBuilder::new();
    b.push_verbatim(&file.text, 0);
    vec![b.into_prompt(Prompt::new(file.path.clone(), Origin::File, format, false))]
}
