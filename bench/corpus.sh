#!/usr/bin/env bash
# Assembles the real-repository corpus the README's figures come from: public LLM
# applications, frameworks and prompt collections, shallow-cloned side by side under one
# directory (made a git repository, so every tool sees the same .gitignore rules).
#
#   bench/corpus.sh DIR        # then: bench/run.sh DIR
#
# About 31,700 files, 6,000 of them Python (68 MB). Needs git and network access.
set -euo pipefail
dir=${1:?usage: bench/corpus.sh DIR}
mkdir -p "$dir"
cd "$dir"
repos=(
  deepset-ai/haystack
  microsoft/semantic-kernel
  microsoft/promptflow
  openai/openai-agents-python
  pydantic/pydantic-ai
  mem0ai/mem0
  khoj-ai/khoj
  assafelovic/gpt-researcher
  danielmiessler/fabric
  anthropics/anthropic-cookbook
  anthropics/courses
  Azure-Samples/contoso-chat
  dair-ai/Prompt-Engineering-Guide
  langchain-ai/langchain-academy
  langchain-ai/open_deep_research
  jujumilk3/leaked-system-prompts
  x1xhlol/system-prompts-and-models-of-ai-tools
  f/awesome-chatgpt-prompts
)
for r in "${repos[@]}"; do
  name=${r/\//+}
  [ -d "$name" ] || git clone --quiet --depth 1 "https://github.com/$r" "$name"
  rm -rf "$name/.git"
done
[ -d .git ] || git init --quiet
find . -type f -not -path './.git/*' | wc -l
