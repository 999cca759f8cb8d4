//! `--format github`: GitHub Actions workflow commands, one per finding, so findings show as
//! annotations on the pull request's diff without uploading anything.
//!
//! `::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=RULE::MESSAGE` (info findings are
//! `notice`). Property values and messages are escaped as the Actions runner expects (`%`, CR,
//! LF, and in properties also `:` and `,`), so a message cannot inject a second command.

use std::fmt::Write;

use crate::finding::Report;
use crate::packs::Severity;

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command per finding, then one warning per file that could not be scanned.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let command = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let _ = writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&f.path),
            f.start.line,
            f.start.column,
            f.end.line.max(f.start.line),
            f.end.column,
            escape_property(&format!("promptlint {}", f.rule)),
            escape_data(&f.message)
        );
    }
    for e in &report.errors {
        let _ = writeln!(
            out,
            "::warning file={},title=promptlint::{}",
            escape_property(&e.path),
            escape_data(&e.message)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_cannot_inject_commands() {
        assert_eq!(escape_data("a\n::error::x 100%"), "a%0A::error::x 100%25");
        assert_eq!(escape_property("a,b:c"), "a%2Cb%3Ac");
    }
}
