//! The cache pack on the real binary, over cases generated across shapes: volatile values
//! (dates, ids, user data, random) at the top of long prompts must fire; the same values at the
//! end, in the user turn, static placeholders, short prompts and sorted serialisation must not.

use std::collections::BTreeMap;
use std::fs;

use assert_cmd::Command;
use serde_json::Value;

const VOLATILE_BRACE: &[&str] = &[
    "current_date",
    "today",
    "now",
    "timestamp",
    "session_id",
    "request_id",
    "user_name",
    "user_email",
    "chat_history",
    "customer_id",
];
const VOLATILE_JINJA: &[&str] = &[
    "now",
    "current_time",
    "user.name",
    "user.email",
    "session_id",
    "trace_id",
    "history",
    "tenant_id",
    "customer.name",
    "today",
];
const VOLATILE_EXPR: &[&str] = &[
    "datetime.now()",
    "datetime.utcnow().isoformat()",
    "date.today()",
    "time.time()",
    "uuid.uuid4()",
    "uuid4().hex",
    "random.choice(TIPS)",
    "datetime.now(timezone.utc)",
    "time.strftime('%H:%M')",
    "secrets.token_hex(8)",
];
const STATIC_NAMES: &[&str] = &[
    "company_name",
    "product",
    "bot_name",
    "language",
    "tone",
    "brand",
    "app_name",
    "persona_name",
    "industry",
    "output_format",
];

fn policy() -> String {
    "Follow the refund policy exactly, cite the order number, and answer politely. ".repeat(16)
}

/// `(file name, contents, expected rule or None)`.
fn cases() -> Vec<(String, String, Option<&'static str>)> {
    let s = policy();
    let mut out = Vec::new();
    for (i, v) in VOLATILE_BRACE.iter().enumerate() {
        out.push((
            format!("prompts/pos_brace_{i}.md"),
            format!("Context: {{{v}}}\n\n{s}"),
            Some("cache/volatile-prefix"),
        ));
        out.push((
            format!("prompts/neg_brace_end_{i}.md"),
            format!("{s}\n\nContext: {{{v}}}"),
            None,
        ));
    }
    for (i, v) in VOLATILE_JINJA.iter().enumerate() {
        out.push((
            format!("templates/pos_jinja_{i}.j2"),
            format!("Hello {{{{ {v} }}}}.\n{s}"),
            Some("cache/volatile-prefix"),
        ));
        out.push((
            format!("templates/neg_jinja_end_{i}.j2"),
            format!("{s}\nHello {{{{ {v} }}}}."),
            None,
        ));
    }
    for (i, e) in VOLATILE_EXPR.iter().enumerate() {
        let imports = "import random, secrets, time, uuid\nfrom datetime import date, datetime, timezone\nfrom uuid import uuid4\nTIPS = ['a', 'b']\n";
        out.push((
            format!("src/pos_fstring_{i}.py"),
            format!("{imports}SYSTEM_PROMPT = f\"\"\"Session marker: {{{e}}}\n{s}\"\"\"\n"),
            Some("cache/volatile-prefix"),
        ));
        out.push((
            format!("src/neg_fstring_end_{i}.py"),
            format!("{imports}SYSTEM_PROMPT = f\"\"\"{s}\nSession marker: {{{e}}}\"\"\"\n"),
            None,
        ));
        out.push((
            format!("src/neg_user_turn_{i}.py"),
            format!("{imports}def ask(client, q):\n    return client.chat.completions.create(model=\"gpt-4o\", messages=[\n        {{\"role\": \"system\", \"content\": \"{s}\"}},\n        {{\"role\": \"user\", \"content\": f\"Marker {{{e}}}: {{q}}\"}},\n    ])\n"),
            None,
        ));
        out.push((
            format!("src/pos_messages_{i}.py"),
            format!("{imports}def ask(client, q):\n    return client.chat.completions.create(model=\"gpt-4o\", messages=[\n        {{\"role\": \"system\", \"content\": f\"Marker {{{e}}}.\"}},\n        {{\"role\": \"system\", \"content\": \"{s}\"}},\n        {{\"role\": \"user\", \"content\": q}},\n    ])\n"),
            Some("cache/messages-order"),
        ));
    }
    for (i, v) in STATIC_NAMES.iter().enumerate() {
        out.push((
            format!("prompts/neg_static_{i}.md"),
            format!("You speak for {{{v}}}.\n\n{s}"),
            None,
        ));
        out.push((
            format!("prompts/neg_short_{i}.md"),
            format!("Today is {{current_date}}. Greet {{{v}}} users briefly."),
            None,
        ));
    }
    out.push((
        "src/pos_breakpoint.py".into(),
        format!("from datetime import date\ndef ask(client, q):\n    return client.messages.create(model=\"claude-sonnet-4-5\", max_tokens=500, system=[\n        {{\"type\": \"text\", \"text\": f\"Today is {{date.today()}}.\"}},\n        {{\"type\": \"text\", \"text\": \"{s}\", \"cache_control\": {{\"type\": \"ephemeral\"}}}},\n    ], messages=[{{\"role\": \"user\", \"content\": q}}])\n"),
        Some("cache/breakpoint-after-volatile"),
    ));
    out.push((
        "src/neg_breakpoint.py".into(),
        format!("from datetime import date\ndef ask(client, q):\n    return client.messages.create(model=\"claude-sonnet-4-5\", max_tokens=500, system=[\n        {{\"type\": \"text\", \"text\": \"{s}\", \"cache_control\": {{\"type\": \"ephemeral\"}}}},\n        {{\"type\": \"text\", \"text\": f\"Today is {{date.today()}}.\"}},\n    ], messages=[{{\"role\": \"user\", \"content\": q}}])\n"),
        None,
    ));
    out.push((
        "src/pos_dumps.py".into(),
        format!("import json\ndef build(tools):\n    system_prompt = f\"\"\"Tools: {{json.dumps(tools)}}\n{s}\"\"\"\n    return system_prompt\n"),
        Some("cache/unstable-serialization"),
    ));
    out.push((
        "src/neg_dumps_sorted.py".into(),
        format!("import json\ndef build(tools):\n    system_prompt = f\"\"\"Tools: {{json.dumps(tools, sort_keys=True)}}\n{s}\"\"\"\n    return system_prompt\n"),
        None,
    ));
    out
}

#[test]
fn cache_pack_over_generated_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases();
    let positives = cases.iter().filter(|c| c.2.is_some()).count();
    let negatives = cases.len() - positives;
    assert!(
        positives >= 40 && negatives >= 40,
        "{positives} positive and {negatives} negative cases"
    );
    for (name, text, _) in &cases {
        let p = dir.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    let out = Command::cargo_bin("promptlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "--format", "json", "--select", "cache", "."])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in v["findings"].as_array().unwrap() {
        found
            .entry(f["path"].as_str().unwrap().to_string())
            .or_default()
            .push(f["rule"].as_str().unwrap().to_string());
    }
    let mut wrong = Vec::new();
    for (name, _, expected) in &cases {
        let got = found.get(name).cloned().unwrap_or_default();
        let want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        if got != want {
            wrong.push(format!("{name}: expected {want:?}, got {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}
