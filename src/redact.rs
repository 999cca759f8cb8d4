//! Masking of sensitive values, so findings never print raw PII or secrets by default.
//!
//! Each style keeps just enough to find the value again: an email keeps its first character and
//! domain, a number its last four digits, a secret its first four characters.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Redact {
    /// `j•••@northwind-mail.com`
    Email,
    /// `•••• 4242` (the last four digits)
    Last4,
    /// `sk-p•••` (the first four characters)
    Secret,
    /// `•••` only
    Full,
    /// Not sensitive: shown as is.
    None,
}

const DOT: &str = "•••";

impl Redact {
    pub fn parse(s: &str) -> Option<Redact> {
        match s {
            "email" => Some(Redact::Email),
            "last4" => Some(Redact::Last4),
            "secret" => Some(Redact::Secret),
            "full" => Some(Redact::Full),
            "none" => Some(Redact::None),
            _ => None,
        }
    }

    pub fn mask(self, value: &str) -> String {
        match self {
            Redact::None => value.to_string(),
            Redact::Full => DOT.to_string(),
            Redact::Email => match value.rsplit_once('@') {
                Some((local, domain)) => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}{DOT}@{domain}")
                }
                None => DOT.to_string(),
            },
            Redact::Last4 => {
                let digits: Vec<char> = value.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
                if digits.len() <= 4 {
                    return DOT.to_string();
                }
                let tail: String = digits[digits.len() - 4..].iter().collect();
                format!("{DOT}{tail}")
            }
            Redact::Secret => {
                let head: String = value.chars().take(4).collect();
                if value.chars().count() <= 8 {
                    return DOT.to_string();
                }
                format!("{head}{DOT}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        assert_eq!(Redact::Email.mask("jane.doe@northwind-mail.com"), "j•••@northwind-mail.com");
        assert_eq!(Redact::Last4.mask("4539 1488 0343 6467"), "•••6467");
        assert_eq!(Redact::Last4.mask("+1 (415) 867-2341"), "•••2341");
        assert_eq!(Redact::Secret.mask("sk-proj-abcdefghijklmnop"), "sk-p•••");
        assert_eq!(Redact::Secret.mask("short"), "•••");
        assert!(!Redact::Email.mask("jane.doe@northwind-mail.com").contains("jane"));
    }
}
