//! Command-line arguments (clap derive). Flags mirror ruff and gitleaks where they overlap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "promptlint", version, about = "A fast, precise linter for LLM prompts.", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Lint the prompts under the paths (default: the current directory).
    Check(CheckArgs),
    /// List every prompt found: id, place, kind and sha256.
    Prompts(PromptsArgs),
    /// Write or update the registry's prompt lockfile (`--check`: exit 1 when it is out of date).
    Lock(LockArgs),
    /// Explain a rule: what it catches, why, examples, how to fix or suppress it.
    Rule(RuleArgs),
    /// List every rule.
    Rules(RulesArgs),
    /// The reviewers' report: prompts changed since a revision, their findings and owners.
    Owners(OwnersArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
    Sarif,
    Github,
    Gitlab,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Error,
    Warning,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Human,
    Json,
}

/// Options shared by every command that scans files.
#[derive(Debug, Args, Clone)]
pub struct ScanArgs {
    /// Files or directories to scan.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Use this config file instead of discovering one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Apply config excludes to files named on the command line too.
    #[arg(long)]
    pub force_exclude: bool,
    /// Skip files larger than this many bytes (default 2 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing but findings (no summary, no notes).
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: OutputFormat,
    /// Only report findings in prompts touched since this git revision.
    #[arg(long, value_name = "REV")]
    pub diff: Option<String>,
    /// Report only findings not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record today's findings in this baseline file and exit 0.
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// Packs or rule ids to run (comma-separated; replaces the config's select).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Option<Vec<String>>,
    /// Packs or rule ids to skip (comma-separated; added to the config's ignore).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<String>,
    /// Lowest severity that makes the exit code 1.
    #[arg(long, value_enum)]
    pub fail_on: Option<FailOn>,
    /// Print matched PII and secrets unredacted (never in CI logs).
    #[arg(long)]
    pub show_pii: bool,
    /// Exit 0 even when there are findings.
    #[arg(long)]
    pub exit_zero: bool,
    /// Report suppression comments that suppress nothing.
    #[arg(long)]
    pub report_unused_ignores: bool,
}

#[derive(Debug, Args)]
pub struct PromptsArgs {
    #[command(flatten)]
    pub scan: ScanArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    /// Write nothing; exit 1 when the lockfile is out of date.
    #[arg(long)]
    pub check: bool,
    /// Use this config file instead of discovering one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print nothing when all is well.
    #[arg(short, long)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Rule id, e.g. `pii/email-address`.
    pub id: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: ListFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OwnersFormat {
    Markdown,
    Json,
}

#[derive(Debug, Args)]
pub struct OwnersArgs {
    /// Report prompts added, modified or removed between this git revision and the working tree.
    #[arg(
        long,
        value_name = "REV",
        required_unless_present = "suggest",
        conflicts_with = "suggest"
    )]
    pub base: Option<String>,
    /// Print CODEOWNERS lines giving this owner (e.g. `@org/prompt-reviewers`) every file that
    /// holds a prompt and has no owner today.
    #[arg(long, value_name = "OWNER")]
    pub suggest: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "markdown")]
    pub format: OwnersFormat,
    /// Use this config file instead of discovering one.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Skip files larger than this many bytes (default 2 MiB).
    #[arg(long, value_name = "BYTES")]
    pub max_file_size: Option<u64>,
    /// Worker threads (default: one per core).
    #[arg(short = 'j', long = "threads", value_name = "N")]
    pub threads: Option<usize>,
    /// Print nothing but the report (no notes on stderr).
    #[arg(short, long)]
    pub quiet: bool,
}
