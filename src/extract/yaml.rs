//! YAML files that carry prompt text under prompt-like keys.

use crate::extract::PromptSpec;
use crate::prompt::Prompt;
use crate::source::SourceFile;

pub fn extract(file: &SourceFile, spec: &PromptSpec) -> (Vec<Prompt>, Option<String>) {
    let _ = (file, spec);
    (Vec::new(), None)
}
