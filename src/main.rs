use std::process::ExitCode;

fn main() -> ExitCode {
    promptlint::cli::run()
}
