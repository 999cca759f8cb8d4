//! Exit codes: 0 clean, 1 findings at or above `--fail-on`, 2 the scan could not be done.

use std::process::ExitCode;

pub const CLEAN: u8 = 0;
pub const FINDINGS: u8 = 1;
pub const ERROR: u8 = 2;

pub fn code(c: u8) -> ExitCode {
    ExitCode::from(c)
}

/// Writes `s` to stdout; a closed pipe (`promptlint ... | head`) is not an error.
pub fn write_stdout(s: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
