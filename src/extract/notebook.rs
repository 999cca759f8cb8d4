//! Jupyter notebooks: code cells go through the Python extractor.

use crate::extract::python::PythonExtractor;
use crate::extract::PromptSpec;
use crate::prompt::Prompt;
use crate::source::SourceFile;

pub fn extract(file: &SourceFile, py: &mut PythonExtractor, spec: &PromptSpec) -> (Vec<Prompt>, Option<String>) {
    let _ = (file, py, spec);
    (Vec::new(), None)
}
