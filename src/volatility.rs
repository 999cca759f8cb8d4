//! Placeholder volatility: does a slot's value change from request to request?
//!
//! Decided once per prompt, right after extraction, from the `[volatility]` table of
//! `rules/cache.toml`, so every pack sees the same answer. A placeholder is volatile when its
//! filling expression (or the definition it resolves to within the module) calls a known
//! volatile function, or when its name matches the volatile vocabulary; static when its name
//! matches the per-deployment vocabulary; unknown otherwise.

use crate::lazy_regex::{lazy_any_of, LazyRegex};
use serde::Deserialize;

use crate::packs::builtin;
use crate::prompt::{Prompt, Volatility};

#[derive(Debug, Deserialize)]
struct CacheFileView {
    volatility: RawVolatility,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawVolatility {
    /// Regexes over an expression's source: a match makes it volatile.
    volatile_expressions: Vec<String>,
    /// Regexes over a placeholder's name (last dotted part and whole name).
    volatile_names: Vec<String>,
    /// Regexes over a placeholder's name that mark per-deployment values.
    static_names: Vec<String>,
    /// Per-deployment names that `volatile_names` would take for volatile (`cutoff_date`).
    static_overrides: Vec<String>,
}

#[derive(Debug)]
pub struct VolatilitySpec {
    expressions: LazyRegex,
    volatile_names: LazyRegex,
    static_names: LazyRegex,
    static_overrides: LazyRegex,
}

static BUILTIN: std::sync::LazyLock<Result<VolatilitySpec, String>> =
    std::sync::LazyLock::new(VolatilitySpec::compile_builtin);

impl VolatilitySpec {
    /// The built-in vocabulary, compiled once per run and shared by extraction and the cache pack.
    pub fn builtin() -> Result<&'static VolatilitySpec, String> {
        BUILTIN.as_ref().map_err(Clone::clone)
    }

    fn compile_builtin() -> Result<VolatilitySpec, String> {
        let view: CacheFileView = builtin::CACHE.parse()?;
        // Built on first use; the pack tests build every one (`force`).
        let v = &view.volatility;
        Ok(VolatilitySpec {
            expressions: lazy_any_of(&v.volatile_expressions),
            volatile_names: lazy_any_of(&v.volatile_names),
            static_names: lazy_any_of(&v.static_names),
            static_overrides: lazy_any_of(&v.static_overrides),
        })
    }

    /// Builds every regex now and reports a failure (for pack tests).
    pub fn force(&self) -> Result<(), String> {
        [
            &self.expressions,
            &self.volatile_names,
            &self.static_names,
            &self.static_overrides,
        ]
        .into_iter()
        .try_for_each(LazyRegex::force)
    }

    /// Whether source text (an expression, a function's definition) calls a volatile function.
    pub fn expression_is_volatile(&self, src: &str) -> bool {
        self.expressions.is_match(src)
    }

    /// Volatility of one placeholder from its name, filling expression and resolved definition.
    pub fn of(&self, name: &str, expr: Option<&str>, resolved: Option<&str>) -> Volatility {
        if [expr, resolved]
            .into_iter()
            .flatten()
            .any(|e| self.expressions.is_match(e))
        {
            return Volatility::Volatile;
        }
        let name = name.trim();
        // `user.name`, `ctx.deps.user_id`, `now()` -> check every identifier part.
        let idents: Vec<&str> = name
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|s| !s.is_empty())
            .collect();
        // `knowledge_cutoff_date`: fixed per deployment despite its suffix.
        let last_of = |s: &str| {
            s.rsplit(|c: char| !(c.is_alphanumeric() || c == '_'))
                .find(|p| !p.is_empty())
                .map(str::to_string)
        };
        if [Some(name), expr]
            .into_iter()
            .flatten()
            .filter_map(last_of)
            .any(|i| self.static_overrides.is_match(&i))
        {
            return Volatility::Static;
        }
        let target = expr.unwrap_or(name);
        let target_idents: Vec<&str> = target
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|s| !s.is_empty())
            .collect();
        if idents
            .iter()
            .chain(target_idents.iter())
            .any(|i| self.volatile_names.is_match(i))
        {
            return Volatility::Volatile;
        }
        if idents.last().is_some_and(|i| self.static_names.is_match(i)) {
            return Volatility::Static;
        }
        Volatility::Unknown
    }

    /// Sets the volatility of every placeholder of `prompt`.
    pub fn classify(&self, prompt: &mut Prompt) {
        for p in &mut prompt.placeholders {
            p.volatility = self.of(&p.name, p.expr.as_deref(), p.resolved.as_deref());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabulary() {
        let v = VolatilitySpec::builtin().unwrap();
        assert_eq!(
            v.of("datetime.now().isoformat()", None, None),
            Volatility::Volatile
        );
        assert_eq!(v.of("today", None, None), Volatility::Volatile);
        assert_eq!(v.of("current_date", None, None), Volatility::Volatile);
        assert_eq!(v.of("user.name", None, None), Volatility::Volatile);
        assert_eq!(v.of("x", Some("uuid.uuid4()"), None), Volatility::Volatile);
        assert_eq!(
            v.of("stamp", None, Some("def stamp():\n    return time.time()")),
            Volatility::Volatile
        );
        assert_eq!(v.of("company_name", None, None), Volatility::Static);
        assert_eq!(v.of("product", None, None), Volatility::Static);
        assert_eq!(v.of("topic", None, None), Volatility::Unknown);
        assert_eq!(v.of("chat_history", None, None), Volatility::Volatile);
        assert_eq!(v.of("context", None, None), Volatility::Unknown);
        assert_eq!(v.of("cutoff_date", None, None), Volatility::Static);
        assert_eq!(
            v.of("d", Some("cfg.knowledge_cutoff"), None),
            Volatility::Static
        );
        assert_eq!(v.of("delivery_time", None, None), Volatility::Static);
        assert_eq!(v.of("start_time", None, None), Volatility::Volatile);
    }
}
