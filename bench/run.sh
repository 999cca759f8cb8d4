#!/usr/bin/env bash
# Times promptlint against the tools a user would otherwise run, on the same tree, in one run.
#
#   bench/run.sh TREE            # e.g. a generated tree (bench/gen_tree.py) or a real repo
#   bench/run.sh --precommit TREE   # the pre-commit case: 10 files named on the command line
#   bench/run.sh --precommit TREE FILE...   # the same with these files (relative to TREE)
#   SKIP_SLOW=1 bench/run.sh TREE   # without semgrep and detect-secrets (minutes on a large tree)
#
# Tools that are not installed are skipped (install: `pip install ruff detect-secrets semgrep
# ast-grep-cli`, `apt-get install ripgrep hyperfine`). Results go to bench/out/ as Markdown and
# JSON; hyperfine prints the ratios ("x times faster than").
set -euo pipefail
cd "$(dirname "$0")/.."
mode=full
if [ "${1:-}" = "--precommit" ]; then mode=precommit; shift; fi
tree=${1:?usage: bench/run.sh [--precommit] TREE [FILE...]}
tree=$(cd "$tree" && pwd)
shift
cargo build --release --quiet
bin=$PWD/target/release/promptlint
mkdir -p bench/out
runs=${RUNS:-5}

have() { command -v "$1" >/dev/null 2>&1; }
# The real binary behind a pyenv shim: the shim alone adds ~50 ms to every run.
real() {
  local p
  p=$(command -v "$1")
  if [[ $p == */shims/* ]] && command -v pyenv >/dev/null 2>&1; then pyenv which "$1"; else echo "$p"; fi
}
cmds=()
names=()
add() { names+=("$1"); cmds+=("$2"); }

if [ "$mode" = precommit ]; then
  # `head` closes the pipe early: keep pipefail from ending the script there.
  if [ $# -gt 0 ]; then
    files="$*"
  else
    # A tree that is a git repository without commits (bench/gen_tree.py's) lists no files.
    files=$(cd "$tree" && { listed=$(git ls-files 2>/dev/null); if [ -n "$listed" ]; then echo "$listed"; else find . -type f -not -path './.git/*'; fi; } | grep -E '\.(py|md|ya?ml|j2|prompt|prompty)$' | sort | head -10 | tr '\n' ' ' || true)
  fi
  add promptlint "cd $tree && $bin check --exit-zero -q $files"
  have ruff && add ruff "cd $tree && $(real ruff) check --isolated --select E9 --no-cache --exit-zero $files"
  args=()
  for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine --warmup 3 --runs 30 --export-markdown bench/out/precommit.md "${args[@]}"
  exit 0
fi

add promptlint "$bin check --exit-zero -q $tree"
have ruff && add "ruff (parse-only)" "$(real ruff) check --isolated --select E9 --no-cache --exit-zero $tree"
if have ast-grep || have sg; then
  if have ast-grep; then sg=$(real ast-grep); else sg=$(real sg); fi
  cat > bench/out/sg-rule.yml <<'YML'
id: python-strings
language: python
rule:
  kind: string
YML
  add "ast-grep scan" "$sg scan --rule bench/out/sg-rule.yml $tree >/dev/null"
fi
# `gitleaks dir` since 8.19; older releases (Debian's package) scan a directory with `detect --no-git`.
if have gitleaks; then
  if gitleaks dir --help >/dev/null 2>&1; then
    add "gitleaks dir" "gitleaks dir --no-banner --exit-code 0 $tree >/dev/null 2>&1"
  else
    add "gitleaks detect --no-git" "gitleaks detect --no-git --no-banner --exit-code 0 -s $tree >/dev/null 2>&1"
  fi
fi
# semgrep and detect-secrets take minutes on a large tree: SKIP_SLOW=1 leaves them out.
if [ "${SKIP_SLOW:-0}" != 1 ]; then
  have semgrep && add "semgrep (1 pattern)" "SEMGREP_ENABLE_VERSION_CHECK=0 $(real semgrep) --metrics=off --quiet -e '\$X = \"...\"' --lang python $tree >/dev/null 2>&1"
  have detect-secrets && add "detect-secrets scan" "$(real detect-secrets) scan --all-files $tree >/dev/null"
fi
have rg && add "rg --files (walk floor)" "rg --files $tree >/dev/null"
add "cat every file (read floor)" "find $tree -type f -not -path '*/.git/*' -print0 | xargs -0 cat >/dev/null"

args=()
for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
hyperfine --warmup 1 --runs "$runs" --export-markdown bench/out/full.md --export-json bench/out/full.json "${args[@]}"
