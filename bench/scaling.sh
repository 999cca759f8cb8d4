#!/usr/bin/env bash
# Linearity and memory: times `promptlint check` on generated trees 1x, 2x and 4x the base size
# and reports wall time and peak resident memory (max RSS) for each.
#
#   bench/scaling.sh [OUT_DIR]      # trees go to OUT_DIR (default: a temp dir), kept for reruns
#
# Time should grow about linearly with the tree; peak memory should stay flat, bounded by
# threads x the largest file rather than by the size of the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
cargo build --release --quiet
bin=$PWD/target/release/promptlint
runs=${RUNS:-5}
printf '| tree | files | check (mean) | peak RSS |\n|---|---|---|---|\n'
for k in 1 2 4; do
  tree=$out/tree-${k}x
  [ -d "$tree" ] || python3 bench/gen_tree.py "$tree" --py $((20000 * k)) --prompts $((2000 * k)) >/dev/null
  files=$(find "$tree" -type f | wc -l)
  json=$(mktemp)
  hyperfine --warmup 1 --runs "$runs" -N --export-json "$json" "$bin check --exit-zero -q $tree" >/dev/null
  mean=$(python3 -c "import json,sys; print('%.0f ms' % (json.load(open(sys.argv[1]))['results'][0]['mean'] * 1000))" "$json")
  rss=$( { /usr/bin/time -f '%M' "$bin" check --exit-zero -q "$tree" >/dev/null; } 2>&1 | tail -1)
  printf '| %sx | %s | %s | %s MB |\n' "$k" "$files" "$mean" "$((rss / 1024))"
  rm -f "$json"
done
