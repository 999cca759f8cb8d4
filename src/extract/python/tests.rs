use super::*;
use crate::extract::RawPromptsSpec;
use crate::prompt::{PlaceholderSyntax, Prompt};
use crate::span::PromptSpan;

fn spec() -> PromptSpec {
    PromptSpec::compile(&RawPromptsSpec::default(), &[]).expect("builtin spec")
}

/// Extracts and checks the offset-map invariant of every prompt.
fn run(src: &str) -> Vec<Prompt> {
    run_spec(&spec(), src)
}

/// `run` with the built-in spec extended by `config` (a `promptlint.toml`'s prompt sections).
fn run_with(config: &str, src: &str) -> Vec<Prompt> {
    let extra: RawPromptsSpec = toml::from_str(config).expect("toml");
    run_spec(&PromptSpec::compile(&extra, &[]).expect("spec"), src)
}

fn run_spec(spec: &PromptSpec, src: &str) -> Vec<Prompt> {
    let mut x = PythonExtractor::new();
    let prompts = x.extract(src, "m.py", spec, PromptFormat::Python);
    for p in &prompts {
        assert_map(p, src);
    }
    prompts
}

/// For each verbatim piece the prompt bytes equal the file bytes; pieces are sorted and inside
/// both texts; placeholders and segments lie inside the prompt text.
fn assert_map(p: &Prompt, src: &str) {
    let mut last_end = 0;
    for piece in p.map.pieces() {
        assert!(piece.prompt_start >= last_end, "{}: pieces overlap", p.id);
        last_end = piece.prompt_start + piece.prompt_len;
        assert!(last_end <= p.text.len(), "{}: piece past text", p.id);
        assert!(
            piece.file_start + piece.file_len <= src.len(),
            "{}: piece past file",
            p.id
        );
        if piece.verbatim {
            assert_eq!(
                &p.text.as_bytes()[piece.prompt_start..last_end],
                &src.as_bytes()[piece.file_start..piece.file_start + piece.file_len],
                "{}: verbatim piece differs from file",
                p.id
            );
        }
    }
    for ph in &p.placeholders {
        assert!(
            ph.span.end <= p.text.len() && ph.span.start < ph.span.end,
            "{}: bad placeholder span",
            p.id
        );
    }
    for s in &p.segments {
        assert!(s.span.end <= p.text.len(), "{}: bad segment span", p.id);
    }
}

fn ids(ps: &[Prompt]) -> Vec<&str> {
    ps.iter().map(|p| p.id.as_str()).collect()
}

fn one<'a>(ps: &'a [Prompt], id: &str) -> &'a Prompt {
    let full = format!("m.py#{id}");
    ps.iter()
        .find(|p| p.id == full)
        .unwrap_or_else(|| panic!("no prompt {full} in {:?}", ids(ps)))
}

/// The file bytes a prompt substring maps to.
fn file_text<'s>(p: &Prompt, src: &'s str, needle: &str) -> &'s str {
    let at = p
        .text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {:?}", p.text));
    let span = p.map.to_file(PromptSpan::new(at, at + needle.len()));
    &src[span.start..span.end]
}

fn roles(p: &Prompt) -> Vec<(Role, &str)> {
    p.segments
        .iter()
        .filter_map(|s| match s.kind {
            SegmentKind::Role { role } => Some((role, p.slice(s.span))),
            _ => None,
        })
        .collect()
}

#[test]
fn openai_chat_messages_are_one_prompt_with_roles() {
    let src = r#"
from openai import OpenAI
client = OpenAI()
def ask(q):
    return client.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "You are a terse assistant."},
            {"role": "user", "content": q},
        ],
    )
"#;
    let ps = run(src);
    assert_eq!(ids(&ps), ["m.py#client.chat.completions.create"]);
    let p = &ps[0];
    assert_eq!(p.text, "You are a terse assistant.\n\n{q}");
    assert_eq!(
        roles(p),
        [
            (Role::System, "You are a terse assistant."),
            (Role::User, "{q}")
        ]
    );
    assert_eq!(p.model.as_deref(), Some("gpt-4o"));
    assert!(p.inline);
    assert_eq!(p.placeholders[0].syntax, PlaceholderSyntax::Expression);
    assert!(
        matches!(&p.origin, Origin::Call { callee, keyword } if callee == "client.chat.completions.create" && keyword.as_deref() == Some("messages"))
    );
}

#[test]
fn calls_with_only_runtime_values_are_not_prompts() {
    let src = "r = client.chat.completions.create(model=m, messages=[{\"role\": \"user\", \"content\": q}])\n";
    assert!(run(src).is_empty());
}

#[test]
fn responses_api_instructions_and_input() {
    let src = r#"
resp = client.responses.create(model="gpt-4.1", instructions="Talk like a pirate.", input="Are semicolons optional in JavaScript?")
"#;
    let ps = run(src);
    let p = one(&ps, "client.responses.create");
    assert_eq!(
        roles(p),
        [
            (Role::System, "Talk like a pirate."),
            (Role::User, "Are semicolons optional in JavaScript?")
        ]
    );
}

#[test]
fn anthropic_system_blocks_with_cache_control_come_first() {
    let src = r#"
import anthropic
client = anthropic.Anthropic()
msg = client.messages.create(
    model="claude-sonnet-4-5",
    messages=[{"role": "user", "content": "Summarize the handbook."}],
    system=[
        {"type": "text", "text": "You answer questions about the handbook."},
        {"type": "text", "text": "HANDBOOK TEXT", "cache_control": {"type": "ephemeral"}},
    ],
)
"#;
    let ps = run(src);
    let p = one(&ps, "client.messages.create");
    assert!(p
        .text
        .starts_with("You answer questions about the handbook.\n\nHANDBOOK TEXT"));
    let end = p.text.find("HANDBOOK TEXT").unwrap() + "HANDBOOK TEXT".len();
    assert_eq!(p.cache_breakpoints, [end]);
    let r = roles(p);
    assert_eq!(r[0].0, Role::System);
    assert_eq!(r[1], (Role::User, "Summarize the handbook."));
}

#[test]
fn langchain_templates_and_messages() {
    let src = r#"
from langchain_core.prompts import ChatPromptTemplate, PromptTemplate, MessagesPlaceholder
from langchain_core.messages import SystemMessage, HumanMessage
chat = ChatPromptTemplate.from_messages([
    ("system", "You are a helpful assistant named {name}. Use {{braces}} literally."),
    MessagesPlaceholder("history"),
    ("human", "{question}"),
])
qa = PromptTemplate(template="Answer using the context.\n{context}\nQ: {question}", input_variables=["context", "question"])
short = PromptTemplate.from_template("Tell me a joke about {topic}")
msgs = [SystemMessage(content="You are a pirate."), HumanMessage("Hi there")]
"#;
    let ps = run(src);
    let chat = one(&ps, "ChatPromptTemplate.from_messages");
    assert_eq!(
        chat.text,
        "You are a helpful assistant named {name}. Use {braces} literally.\n\n{question}"
    );
    assert_eq!(roles(chat)[1], (Role::User, "{question}"));
    let names: Vec<_> = chat
        .placeholders
        .iter()
        .map(|p| (p.name.as_str(), p.syntax))
        .collect();
    assert_eq!(
        names,
        [
            ("name", PlaceholderSyntax::Brace),
            ("question", PlaceholderSyntax::Brace)
        ]
    );
    assert_eq!(file_text(chat, src, "{braces}"), "{{braces}}");
    let qa = one(&ps, "PromptTemplate");
    assert_eq!(
        qa.text,
        "Answer using the context.\n{context}\nQ: {question}"
    );
    assert_eq!(
        one(&ps, "PromptTemplate.from_template").placeholders[0].name,
        "topic"
    );
    // The message list bound to `msgs` is one chat prompt; its constructors are not listed again.
    let msgs = one(&ps, "msgs");
    assert_eq!(
        roles(msgs),
        [
            (Role::System, "You are a pirate."),
            (Role::User, "Hi there")
        ]
    );
    assert!(!ids(&ps)
        .iter()
        .any(|i| i.ends_with("#SystemMessage") || i.ends_with("#HumanMessage")));
}

#[test]
fn few_shot_prompt_template_examples_become_segments() {
    let src = r#"
examples = [
    {"question": "Who is Jane Roe?", "answer": "Jane Roe, jane.roe@example.com"},
    {"question": "Capital of France?", "answer": "Paris"},
]
fs = FewShotPromptTemplate(
    examples=examples,
    example_prompt=PromptTemplate.from_template("Q: {question}\nA: {answer}"),
    prefix="Answer the questions.",
    suffix="Q: {input}\nA:",
    input_variables=["input"],
)
"#;
    let ps = run(src);
    let p = one(&ps, "FewShotPromptTemplate");
    assert_eq!(p.example_count(), 2);
    assert!(p
        .text
        .contains("Who is Jane Roe?\nJane Roe, jane.roe@example.com"));
    assert_eq!(
        file_text(p, src, "jane.roe@example.com"),
        "jane.roe@example.com"
    );
    let inputs: Vec<_> = p
        .segments
        .iter()
        .filter(|s| s.kind == SegmentKind::ExampleInput)
        .map(|s| p.slice(s.span))
        .collect();
    assert_eq!(inputs, ["Who is Jane Roe?", "Capital of France?"]);
    // The examples constant is folded into the call; the example_prompt is its own template.
    assert!(!ids(&ps).contains(&"m.py#examples"));
    assert!(ids(&ps).contains(&"m.py#PromptTemplate.from_template"));
}

#[test]
fn llamaindex_rich_template_is_jinja() {
    let src = r#"
from llama_index.core.prompts import RichPromptTemplate, PromptTemplate
t = RichPromptTemplate("Context: {{ context_str }}\nAnswer: {{ query_str }} {not_a_field}")
p = PromptTemplate("Context information is below.\n{context_str}\nQuery: {query_str}\n")
"#;
    let ps = run(src);
    let rich = one(&ps, "RichPromptTemplate");
    let names: Vec<_> = rich
        .placeholders
        .iter()
        .map(|p| (p.name.as_str(), p.syntax))
        .collect();
    assert_eq!(
        names,
        [
            ("context_str", PlaceholderSyntax::DoubleBrace),
            ("query_str", PlaceholderSyntax::DoubleBrace)
        ]
    );
    assert_eq!(one(&ps, "PromptTemplate").placeholders.len(), 2);
}

#[test]
fn pydantic_ai_agent_and_decorated_functions() {
    let src = r#"
from pydantic_ai import Agent, RunContext
agent = Agent("openai:gpt-4o", system_prompt="Be concise, reply with one sentence.", instructions="Use the customer's name.")

@agent.system_prompt
def add_the_users_name(ctx: RunContext[str]) -> str:
    """Docstring is not the prompt."""
    return f"The user's name is {ctx.deps}."

@agent.instructions(dynamic=True)
def add_date() -> str:
    return "Today's date is " + str(date.today())
"#;
    let ps = run(src);
    let a = one(&ps, "Agent");
    assert_eq!(
        roles(a)[0],
        (Role::System, "Be concise, reply with one sentence.")
    );
    let f = one(&ps, "add_the_users_name");
    assert_eq!(f.text, "The user's name is {ctx.deps}.");
    assert!(matches!(&f.origin, Origin::Call { callee, .. } if callee == "agent.system_prompt"));
    let d = one(&ps, "add_date");
    assert_eq!(d.text, "Today's date is {str(date.today())}");
    assert_eq!(d.placeholders[0].syntax, PlaceholderSyntax::Expression);
}

#[test]
fn genai_system_instruction_and_contents() {
    let src = r#"
from google import genai
from google.genai import types
client = genai.Client()
r = client.models.generate_content(
    model="gemini-2.5-flash",
    contents="Explain how AI works in a few words",
    config=types.GenerateContentConfig(system_instruction="You are a cat. Your name is Neko."),
)
"#;
    let ps = run(src);
    // The inline config's system instruction joins the call, first.
    assert_eq!(ids(&ps), ["m.py#client.models.generate_content"]);
    let p = &ps[0];
    assert_eq!(
        roles(p),
        [
            (Role::System, "You are a cat. Your name is Neko."),
            (Role::User, "Explain how AI works in a few words")
        ]
    );
    assert_eq!(p.model.as_deref(), Some("gemini-2.5-flash"));
}

#[test]
fn litellm_completion_needs_the_import() {
    let with = "from litellm import completion\nr = completion(model=\"gpt-4o\", messages=[{\"role\": \"user\", \"content\": \"Hello, how are you?\"}])\n";
    let ps = run(with);
    assert_eq!(ids(&ps), ["m.py#completion"]);
    assert!(
        matches!(&ps[0].origin, Origin::Call { keyword, .. } if keyword.as_deref() == Some("messages"))
    );
    assert_eq!(ps[0].model.as_deref(), Some("gpt-4o"));
    // Without the import the call site is unknown; only the role dict itself is still found.
    let without = "r = completion(model=\"x\", messages=[{\"role\": \"user\", \"content\": \"Hello, how are you?\"}])\n";
    let ps = run(without);
    assert_eq!(ids(&ps), ["m.py#completion"]);
    assert!(matches!(&ps[0].origin, Origin::Call { keyword: None, .. }));
    assert_eq!(ps[0].model, None);
    assert!(run("r = completion(model=\"x\", prompt=\"Hi\")\n").is_empty());
}

#[test]
fn assignments_to_prompt_like_names() {
    let src = r#"
SYSTEM_PROMPT = "You are a careful reviewer of pull requests."
SUMMARY_TEMPLATE = 'Summarize this: {text} in {n} words please'
SYSTEM_ROLE_TEXT = "You are the ops assistant for the infra team."
prompt_path = "prompts/system_prompt_file.txt"
PROMPT_VERSION = "v2 of the prompt, released in june"
short_prompt = "Hi"
HTML_TEMPLATE = "<html><body>{content}</body></html> and more text here"
SQL_TEMPLATE = "SELECT * FROM users WHERE id = {id} and more"
greeting_text = "You are a careful reviewer of pull requests."
prompt = build()

class Reviewer:
    system_prompt: str = "You review code and point out bugs."
    def __init__(self):
        self.instructions = "Always answer in English, be brief."
"#;
    let ps = run(src);
    assert_eq!(
        ids(&ps),
        [
            "m.py#SYSTEM_PROMPT",
            "m.py#SUMMARY_TEMPLATE",
            "m.py#SYSTEM_ROLE_TEXT",
            "m.py#Reviewer.system_prompt",
            "m.py#Reviewer.instructions",
        ]
    );
    assert!(matches!(&ps[0].origin, Origin::Assignment { name } if name == "SYSTEM_PROMPT"));
    assert_eq!(roles(&ps[0])[0].0, Role::System);
}

#[test]
fn constant_consumed_by_a_call_is_not_listed_twice() {
    let src = r#"
SYSTEM_PROMPT = "You are a support bot for Acme. Be kind."
OTHER_PROMPT = "You translate English to French, nothing else."
def a(q):
    return client.chat.completions.create(messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": q}])
def b(q):
    client.chat.completions.create(messages=[{"role": "system", "content": OTHER_PROMPT}])
    print(OTHER_PROMPT)
"#;
    let ps = run(src);
    assert_eq!(
        ids(&ps),
        [
            "m.py#OTHER_PROMPT",
            "m.py#client.chat.completions.create",
            "m.py#client.chat.completions.create[2]"
        ]
    );
    let call = one(&ps, "client.chat.completions.create");
    assert_eq!(file_text(call, src, "Acme"), "Acme");
    assert!(call
        .text
        .starts_with("You are a support bot for Acme. Be kind.\n\n{q}"));
}

#[test]
fn local_variable_prompt_flows_into_the_call() {
    let src = r#"
def run(doc, today):
    prompt = f"Summarize the document below for {today}.\n\n{doc}"
    return llm.invoke(prompt)
"#;
    let ps = run(src);
    assert_eq!(ids(&ps), ["m.py#llm.invoke"]);
    let names: Vec<_> = ps[0].placeholders.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["today", "doc"]);
}

#[test]
fn literal_forms_decode_and_map_back() {
    let src = "SYSTEM_PROMPT = (\n    \"Contact jane\\x2Edoe@example.com \"  # escaped dot\n    'or call \\u0035\\u00355-0100.\\n'\n    r\"Raw \\d stays\"\n)\n";
    let ps = run(src);
    let p = one(&ps, "SYSTEM_PROMPT");
    assert_eq!(
        p.text,
        "Contact jane.doe@example.com or call 555-0100.\nRaw \\d stays"
    );
    assert_eq!(
        file_text(p, src, "jane.doe@example.com"),
        "jane\\x2Edoe@example.com"
    );
    assert_eq!(file_text(p, src, "Raw \\d"), "Raw \\d");
    assert_eq!(file_text(p, src, "call 5"), "call \\u0035");
}

#[test]
fn bytes_literals_are_not_prompts() {
    assert!(run("SYSTEM_PROMPT = b\"You are a helpful assistant for bytes.\"\n").is_empty());
}

#[test]
fn plus_concatenation_keeps_expressions_as_placeholders() {
    let src = r#"
BASE = "You are an assistant for the sales team."
def build(name):
    system_prompt = BASE + " The customer is " + name + ". Be polite."
    return system_prompt
"#;
    let ps = run(src);
    let p = one(&ps, "system_prompt");
    assert_eq!(
        p.text,
        "You are an assistant for the sales team. The customer is {name}. Be polite."
    );
    let ph = &p.placeholders[0];
    assert_eq!(
        (ph.name.as_str(), ph.syntax),
        ("name", PlaceholderSyntax::Expression)
    );
    assert_eq!(file_text(p, src, "{name}"), "name");
}

#[test]
fn dedent_and_cleandoc_map_each_kept_byte() {
    let src = "import textwrap, inspect\nSYSTEM_PROMPT = textwrap.dedent(f\"\"\"\n    You help {user.name}.\n      Reach me at ops@example.com.\n    \"\"\").strip()\nUSER_TEMPLATE = inspect.cleandoc(\"\"\"First line.\n        Second line for the cleandoc user template.\n    \"\"\")\n";
    let ps = run(src);
    let p = one(&ps, "SYSTEM_PROMPT");
    assert_eq!(
        p.text,
        "You help {user.name}.\n  Reach me at ops@example.com."
    );
    assert_eq!(file_text(p, src, "ops@example.com"), "ops@example.com");
    assert_eq!(p.placeholders[0].syntax, PlaceholderSyntax::FString);
    assert_eq!(p.placeholders[0].expr.as_deref(), Some("user.name"));
    assert_eq!(p.slice(p.placeholders[0].span), "{user.name}");
    let c = one(&ps, "USER_TEMPLATE");
    assert_eq!(
        c.text,
        "First line.\nSecond line for the cleandoc user template."
    );
}

#[test]
fn fstring_fields_resolve_one_level() {
    let src = r#"
from datetime import datetime
def now_str():
    return datetime.now().strftime("%Y-%m-%d")
SYSTEM_PROMPT = f"Today is {now_str()}. You are a scheduling assistant. {{literal}}"
"#;
    let ps = run(src);
    let p = one(&ps, "SYSTEM_PROMPT");
    assert_eq!(
        p.text,
        "Today is {now_str()}. You are a scheduling assistant. {literal}"
    );
    let ph = &p.placeholders[0];
    assert_eq!(ph.name, "now_str()");
    assert!(ph
        .resolved
        .as_deref()
        .is_some_and(|r| r.starts_with("def now_str") && r.contains("datetime.now()")));
    assert_eq!(p.placeholders.len(), 1);
    assert_eq!(file_text(p, src, "{literal}"), "{{literal}}");
}

#[test]
fn format_and_percent_placeholders_take_their_arguments() {
    let src = r#"
QA_PROMPT = "Answer {question} using {context}. Literal {{x}}."
def a(q, docs):
    client.chat.completions.create(messages=[{"role": "user", "content": QA_PROMPT.format(question=q, context=get_docs(docs))}])
def get_docs(d):
    return d
REPORT_PROMPT = "Write a report about %s for %(ignored)s the team, please." % (topic,)
"#;
    let ps = run(src);
    let call = one(&ps, "client.chat.completions.create");
    assert_eq!(call.text, "Answer {question} using {context}. Literal {x}.");
    let q = &call.placeholders[0];
    assert_eq!(
        (q.syntax, q.expr.as_deref()),
        (PlaceholderSyntax::Brace, Some("q"))
    );
    let c = &call.placeholders[1];
    assert_eq!(c.expr.as_deref(), Some("get_docs(docs)"));
    assert!(c
        .resolved
        .as_deref()
        .is_some_and(|r| r.starts_with("def get_docs")));
    let r = one(&ps, "REPORT_PROMPT");
    assert_eq!(r.placeholders[0].syntax, PlaceholderSyntax::Percent);
    assert_eq!(r.placeholders[0].expr.as_deref(), Some("topic"));
}

#[test]
fn pii_value_maps_to_exact_file_bytes_through_every_form() {
    // One value written four ways: escaped, split by implicit concatenation, dedented, and
    // next to an f-string field.
    let src = "import textwrap\nA_PROMPT = \"Mail \\\"bob@corp.io\\\" now, please do it.\"\nB_PROMPT = \"Mail bob@\" \"corp.io now, please do it.\"\nC_PROMPT = textwrap.dedent(\"\"\"\n        Mail bob@corp.io now,\n        please do it.\n\"\"\")\nD_PROMPT = f\"{greeting} Mail bob@corp.io now, please do it.\"\n";
    let ps = run(src);
    for (id, expect) in [
        ("A_PROMPT", "bob@corp.io"),
        ("B_PROMPT", "bob@\" \"corp.io"),
        ("C_PROMPT", "bob@corp.io"),
        ("D_PROMPT", "bob@corp.io"),
    ] {
        let p = one(&ps, id);
        assert_eq!(file_text(p, src, "bob@corp.io"), expect, "{id}");
    }
}

#[test]
fn negatives_docstrings_logging_sql_argparse() {
    let src = r#"
"""Module docstring: You are a helpful assistant that should never be listed."""
import logging, argparse
logger = logging.getLogger(__name__)
def f():
    """You are a helpful assistant docstring, not a prompt."""
    logger.info("You are a helpful assistant log line, not a prompt %s", x)
    print("You are a helpful assistant print, not a prompt")
    raise ValueError("You are a helpful assistant error, not a prompt")
parser = argparse.ArgumentParser()
parser.add_argument("--prompt", help="The prompt to send to the model for completion")
QUERY_TEMPLATE = "SELECT name, email FROM users WHERE team = {team} ORDER BY name"
cursor.execute("SELECT * FROM prompts WHERE system = 1 AND template = 2")
"#;
    assert!(run(src).is_empty(), "{:?}", ids(&run(src)));
}

#[test]
fn dspy_signature_docstring_is_the_prompt() {
    let src = r#"
import dspy
class Classify(dspy.Signature):
    """Classify the sentiment of a product review."""
    review: str = dspy.InputField(desc="a customer review")
    sentiment: str = dspy.OutputField(desc="positive or negative")

class Plain:
    """Not a prompt."""
"#;
    let ps = run(src);
    assert_eq!(ids(&ps), ["m.py#Classify"]);
    assert_eq!(
        ps[0].text,
        "Classify the sentiment of a product review.\n\na customer review\n\npositive or negative"
    );
}

#[test]
fn broken_python_still_yields_what_parses() {
    let src = "SYSTEM_PROMPT = \"You are a helpful assistant for broken files.\"\ndef broken(:\n    x = = 2\nOTHER_PROMPT = \"Second prompt that comes after the syntax error.\"\n";
    let ps = run(src);
    assert!(ids(&ps).contains(&"m.py#SYSTEM_PROMPT"), "{:?}", ids(&ps));
    assert!(ids(&ps).contains(&"m.py#OTHER_PROMPT"), "{:?}", ids(&ps));
}

#[test]
fn prompt_named_functions_return_prompts() {
    let src = r#"
def build_system_prompt(user):
    """Builds it."""
    return f"You are assisting {user}. Keep answers short and factual."
def get_prompt_path():
    return "prompts/a_long_enough_path_to_a_prompt.txt"
"#;
    let ps = run(src);
    assert_eq!(ids(&ps), ["m.py#build_system_prompt"]);
}

#[test]
fn few_shot_constant_and_message_list_assignments() {
    let src = r#"
FEW_SHOT_EXAMPLES = [
    {"input": "I was charged twice", "output": "billing"},
    {"input": "The app crashes on start", "output": "bug"},
]
example_messages = [
    dict(role="user", content="Change get_factorial() to use math.factorial"),
    {"role": "assistant", "content": "I will edit the file."},
]
"#;
    let ps = run(src);
    let fs = one(&ps, "FEW_SHOT_EXAMPLES");
    assert_eq!(fs.example_count(), 2);
    let em = one(&ps, "example_messages");
    assert_eq!(
        roles(em),
        [
            (Role::User, "Change get_factorial() to use math.factorial"),
            (Role::Assistant, "I will edit the file.")
        ]
    );
}

#[test]
fn ignored_callee_keywords_are_not_prompts() {
    let src = "logger.info(\"x\", system_prompt=\"You are a very long system prompt here.\")\n";
    assert!(run(src).is_empty());
}

#[test]
fn repeated_calls_get_numbered_ids() {
    let src = "a = SystemMessage(content=\"You are one.\")\nb = SystemMessage(content=\"You are two.\")\n";
    assert_eq!(
        ids(&run(src)),
        ["m.py#SystemMessage", "m.py#SystemMessage[2]"]
    );
}

#[test]
fn stray_role_dicts_are_prompts_named_after_their_call() {
    let src = r#"
RESUME_QUESTION = "Please continue where you left off and finish the review."
def loop(items, result):
    items.append({"content": f"Feedback: {result.feedback}", "role": "user"})
    items.append({"role": "user", "content": RESUME_QUESTION})
    items.append({"role": "user", "content": result})
    other = {"role": "admin", "content": "not a chat role"}
"#;
    let ps = run(src);
    assert_eq!(ids(&ps), ["m.py#items.append", "m.py#items.append[2]"]);
    assert_eq!(ps[0].text, "Feedback: {result.feedback}");
    assert_eq!(roles(&ps[1])[0].0, Role::User);
}

#[test]
fn replace_markers_become_filled_placeholders() {
    let src = r#"
import textwrap
def classify(ticket, categories):
    prompt = textwrap.dedent("""
    Classify the ticket into one of:
    <categories>{{categories}}</categories>
    Ticket: [TICKET]
    """).replace("{{categories}}", categories).replace("[TICKET]", ticket).replace("\n", " ")
    return client.messages.create(messages=[{"role": "user", "content": prompt}])
"#;
    let ps = run(src);
    let p = one(&ps, "client.messages.create");
    let got: Vec<_> = p
        .placeholders
        .iter()
        .map(|p| (p.name.as_str(), p.expr.as_deref(), p.syntax))
        .collect();
    assert_eq!(
        got,
        [
            (
                "categories",
                Some("categories"),
                PlaceholderSyntax::DoubleBrace
            ),
            ("TICKET", Some("ticket"), PlaceholderSyntax::Expression)
        ]
    );
}

#[test]
fn format_is_passed_through_and_prompt_dicts_split_into_parts() {
    let src = "PROMPTS = {\n    \"summarize\": \"Summarize the text below in two sentences.\",\n    \"translate\": \"Translate the text below into plain French.\",\n    \"n\": 3,\n}\n";
    let spec = spec();
    let mut x = PythonExtractor::new();
    let ps = x.extract(src, "nb.ipynb", &spec, PromptFormat::Notebook);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].id, "nb.ipynb#PROMPTS");
    assert_eq!(ps[0].format, PromptFormat::Notebook);
    assert!(ps[0].inline);
    assert_eq!(
        ps[0].text,
        "Summarize the text below in two sentences.\n\nTranslate the text below into plain French."
    );
    assert_map(&ps[0], src);
}

#[test]
fn short_assignment_glued_into_a_larger_string_is_a_fragment() {
    let src = "ROLE_PROMPT = \"You are a strict grader.\"\ndef build(x):\n    return client.responses.create(instructions=ROLE_PROMPT + x, input=\"Grade this essay now.\")\nprint(ROLE_PROMPT + \"!\")\n";
    let ps = run(src);
    let frag = one(&ps, "ROLE_PROMPT");
    assert!(frag.fragment);
    assert!(one(&ps, "client.responses.create")
        .text
        .starts_with("You are a strict grader.{x}"));
}

#[test]
fn a_dropped_call_gives_its_constants_back() {
    // A generic helper whose text starts as SQL is not a prompt, so the constant it would have
    // folded in keeps its own entry. A known LLM call with SQL in it is still a prompt.
    let src = "INSTRUCTIONS_PROMPT = \"You are a careful SQL reviewer for the data team.\"\nhelper(prompt=\"SELECT a FROM b WHERE c = 1 ORDER BY a\", instructions=INSTRUCTIONS_PROMPT)\nr = client.chat.completions.create(messages=[{\"role\": \"user\", \"content\": \"SELECT a FROM b\"}])\n";
    assert_eq!(
        ids(&run(src)),
        [
            "m.py#INSTRUCTIONS_PROMPT",
            "m.py#client.chat.completions.create"
        ]
    );
}

#[test]
fn plus_equals_assembly_extends_the_prompt() {
    let src = r#"
def build(rules, question):
    prompt = "You are a support agent for Acme."
    for rule in rules:
        prompt += f"\n- {rule}"
    prompt += "\nAnswer the question below."
    return client.chat.completions.create(messages=[{"role": "user", "content": prompt + question}])
"#;
    let ps = run(src);
    assert_eq!(ids(&ps), ["m.py#client.chat.completions.create"]);
    assert_eq!(
        ps[0].text,
        "You are a support agent for Acme.\n- {rule}\nAnswer the question below.{question}"
    );
}

#[test]
fn format_calls_elsewhere_fill_constant_placeholders() {
    let src = r#"
from datetime import datetime
SUMMARY_PROMPT = "Summarize {doc} for {user} as of {when}."
def today():
    return datetime.now()
def run(d, u):
    text = SUMMARY_PROMPT.format(doc=d, user=u.name, when=today())
    send(text)
"#;
    let ps = run(src);
    let p = one(&ps, "SUMMARY_PROMPT");
    let got: Vec<_> = p
        .placeholders
        .iter()
        .map(|p| (p.name.as_str(), p.expr.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("doc", Some("d")),
            ("user", Some("u.name")),
            ("when", Some("today()"))
        ]
    );
    assert!(p.placeholders[2]
        .resolved
        .as_deref()
        .is_some_and(|r| r.contains("datetime.now()")));
}

#[test]
fn in_house_wrappers_come_from_config() {
    let config = "[python]\n[[python.call]]\ncallee = [\"bots.ask\"]\nsystem = [\"persona\"]\npositional = [0]\nrole = \"user\"\n";
    let src = "r = bots.ask(\"Where is my order?\", persona=\"You are Max from Contoso.\")\n";
    let ps = run_with(config, src);
    assert_eq!(ps.len(), 1);
    assert_eq!(ps[0].id, "m.py#bots.ask");
    assert_eq!(
        ps[0].text,
        "You are Max from Contoso.\n\nWhere is my order?"
    );
    // Without the config only the prompt-like keyword is seen, not the positional question.
    assert_eq!(run(src)[0].text, "You are Max from Contoso.");
}

#[test]
fn a_constant_also_used_in_an_f_string_keeps_its_own_entry() {
    // The reference inside the f-string is a use the call did not fold in.
    let call = "SYSTEM_PROMPT = \"You are a careful assistant for the billing team.\"\nclient.chat.completions.create(messages=[{\"role\": \"system\", \"content\": SYSTEM_PROMPT}])\n";
    assert_eq!(ids(&run(call)), ["m.py#client.chat.completions.create"]);
    let also = format!("{call}log = f\"using {{SYSTEM_PROMPT}}\"\n");
    assert_eq!(
        ids(&run(&also)),
        ["m.py#SYSTEM_PROMPT", "m.py#client.chat.completions.create"]
    );
}

/// Calls to callees no call site names: a keyword a `*` site reads or a prompt-like keyword
/// makes a prompt part, on a plain name, an attribute or a call's result; other keywords and
/// positional text do not.
#[test]
fn unknown_callees_with_prompt_keywords() {
    let src = r#"
make(system_instruction="You are a terse assistant for billing questions.")
svc.configure(text_qa_template="Answer the question from the context given above.")
build(summary_prompt="Summarize the meeting notes in three short bullet points.")
Factory().create(system_prompt="You are a helpful assistant for the docs site.")
make(title="Quarterly report on the billing system and its users.")
svc.configure("You are a terse assistant for billing questions, always.")
"#;
    let ps = run(src);
    assert_eq!(
        ids(&ps),
        vec![
            "m.py#make",
            "m.py#svc.configure",
            "m.py#build",
            "m.py#Factory().create",
        ]
    );
}

/// A `*` call site from config reads its keyword on any callee, though the name is not
/// prompt-like.
#[test]
fn any_callee_keywords_come_from_config() {
    let config = "[python]\n[[python.call]]\ncallee = [\"*\"]\ntext = [\"body\"]\n";
    let src = "mailer.send(body=\"You are the support bot; answer in two sentences.\")\n";
    assert_eq!(ids(&run_with(config, src)), ["m.py#mailer.send"]);
    assert!(run(src).is_empty());
}

/// A role key is read decoded: written with an escape, it still reads `role`.
#[test]
fn a_role_key_written_with_an_escape_still_reads_role() {
    let src = "def f(items, r):\n    items.append({\"r\\x6fle\": \"user\", \"content\": f\"Note: {r.note}\"})\n";
    assert_eq!(ids(&run(src)), ["m.py#items.append"]);
}
