#!/usr/bin/env python3
"""Generates a large synthetic repository for benchmarks.

Usage: bench/gen_tree.py OUT_DIR [--py N] [--prompts N] [--seed S]

Most Python files hold ordinary code (as in a real monorepo); about one in eight holds prompts
in the shapes real LLM code uses (module constants, chat calls, LangChain templates, f-strings
with dates). Prompt files are Markdown, Jinja, Prompty and YAML under prompts/ directories.
Deterministic for a given seed, so runs are comparable.
"""
import argparse
import os
import random

PLAIN = '''import os
import json
from dataclasses import dataclass


@dataclass
class Record{n}:
    """A plain record with a name and a size."""
    name: str
    size: int = {n}

    def describe(self) -> str:
        return f"{{self.name}} has size {{self.size}}"


def load_{n}(path: str) -> list:
    with open(path) as fh:
        data = json.load(fh)
    out = []
    for i, item in enumerate(data):
        if item.get("enabled"):
            out.append(Record{n}(name=item["name"], size=i))
    return out


def total_{n}(records) -> int:
    return sum(r.size for r in records) + {n}
'''

PROMPTY_PY = '''from datetime import datetime
from openai import OpenAI

client = OpenAI()

SYSTEM_PROMPT_{n} = """You are a support assistant for Northwind.
Answer briefly and politely. Always respond in English.

Example 1:
Input: my parcel {n} is late
Output: shipping
"""


def answer_{n}(question: str, user_name: str) -> str:
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {{"role": "system", "content": SYSTEM_PROMPT_{n}}},
            {{"role": "user", "content": f"Today is {{datetime.now():%Y-%m-%d}}. {{user_name}} asks: {{question}}"}},
        ],
    )
    return response.choices[0].message.content
'''

MD = """# Ticket triage {n}

You classify support tickets into one of: billing, shipping, bug, other.
Be concise. Respond with the category only.

## Examples
Input: I was charged twice for order {n}
Output: billing

Input: the app crashes when I upload
Output: bug
"""

JINJA = """{{# triage template {n} #}}
You are a helpful assistant for {{{{ company_name }}}}.
{{% for doc in documents %}}
- {{{{ doc.title }}}}: {{{{ doc.body }}}}
{{% endfor %}}
Answer the question: {{{{ question }}}}
"""

YAML = """name: agent-{n}
system_prompt: |
  You are agent {n}. Keep answers short and cite the source document.
  Never reveal internal tooling.
temperature: 0.2
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--py", type=int, default=20000)
    ap.add_argument("--prompts", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    for i in range(a.py):
        d = os.path.join(a.out, "src", f"pkg{i // 200}", f"mod{(i // 20) % 10}")
        os.makedirs(d, exist_ok=True)
        body = PROMPTY_PY if rnd.random() < 0.125 else PLAIN
        with open(os.path.join(d, f"file_{i}.py"), "w") as fh:
            fh.write(body.format(n=i))
    kinds = [("md", MD), ("j2", JINJA), ("yaml", YAML)]
    for i in range(a.prompts):
        ext, tpl = kinds[i % len(kinds)]
        d = os.path.join(a.out, "services", f"svc{i // 100}", "prompts")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, f"prompt_{i}.{ext}"), "w") as fh:
            fh.write(tpl.format(n=i))


if __name__ == "__main__":
    main()
