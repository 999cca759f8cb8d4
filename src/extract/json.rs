//! A small positioned JSON reader for notebooks and JSON prompt files.
//!
//! It builds the same `yaml::Node` tree the YAML walk uses: strings are double-quoted scalars
//! starting at their opening quote, so `yaml::map_scalar` maps their escapes back to the exact
//! bytes; other literals are plain scalars. It exists because JSON written with
//! `ensure_ascii` escapes emoji as surrogate pairs (`\ud83d\ude00`), which YAML parsers reject.
//! Nesting is capped so the tree stays shallow; a lone surrogate decodes to U+FFFD.

use crate::extract::yaml::Node;
use yaml_rust2::scanner::TScalarStyle;

const MAX_DEPTH: usize = 128;

/// Parses `text` as one JSON value, or returns a message naming the line of the problem.
pub fn parse(text: &str) -> Result<Node, String> {
    let mut r = Reader {
        text,
        bytes: text.as_bytes(),
        at: 0,
    };
    let node = r.value(0)?;
    r.ws();
    if r.at < r.bytes.len() {
        return Err(r.error("unexpected text after the JSON value"));
    }
    Ok(node)
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn error(&self, what: &str) -> String {
        let line = self.text[..self.at.min(self.text.len())]
            .matches('\n')
            .count()
            + 1;
        format!("invalid JSON at line {line}: {what}")
    }

    fn ws(&mut self) {
        while self.at < self.bytes.len()
            && matches!(self.bytes[self.at], b' ' | b'\t' | b'\r' | b'\n')
        {
            self.at += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        self.ws();
        if self.bytes.get(self.at) == Some(&c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", c as char)))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, String> {
        if depth >= MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than {MAX_DEPTH} levels")));
        }
        self.ws();
        let start = self.at;
        match self.bytes.get(self.at) {
            Some(b'{') => {
                self.at += 1;
                let mut entries = Vec::new();
                self.ws();
                if self.bytes.get(self.at) == Some(&b'}') {
                    self.at += 1;
                    return Ok(Node::Map { entries, start });
                }
                loop {
                    self.ws();
                    if self.bytes.get(self.at) != Some(&b'"') {
                        return Err(self.error("expected a string key"));
                    }
                    let key = self.string()?;
                    self.expect(b':')?;
                    let value = self.value(depth + 1)?;
                    entries.push((key, value));
                    self.ws();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b'}') => {
                            self.at += 1;
                            return Ok(Node::Map { entries, start });
                        }
                        _ => return Err(self.error("expected `,` or `}`")),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                self.ws();
                if self.bytes.get(self.at) == Some(&b']') {
                    self.at += 1;
                    return Ok(Node::Seq { items, start });
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.bytes.get(self.at) {
                        Some(b',') => self.at += 1,
                        Some(b']') => {
                            self.at += 1;
                            return Ok(Node::Seq { items, start });
                        }
                        _ => return Err(self.error("expected `,` or `]`")),
                    }
                }
            }
            Some(b'"') => self.string(),
            Some(c) if c.is_ascii_alphanumeric() || *c == b'-' => {
                while self.at < self.bytes.len()
                    && (self.bytes[self.at].is_ascii_alphanumeric()
                        || b"+-.".contains(&self.bytes[self.at]))
                {
                    self.at += 1;
                }
                Ok(Node::Scalar {
                    value: self.text[start..self.at].to_string(),
                    style: TScalarStyle::Plain,
                    start,
                })
            }
            Some(_) => Err(self.error("expected a value")),
            None => Err(self.error("unexpected end of input")),
        }
    }

    /// A string literal at `self.at` (its opening quote), decoded.
    fn string(&mut self) -> Result<Node, String> {
        let start = self.at;
        self.at += 1;
        let mut value = String::new();
        loop {
            // Notebook outputs hold long base64 runs: find the next quote or backslash with
            // memchr's vector search rather than byte by byte.
            let run = self.at;
            self.at = memchr::memchr2(b'"', b'\\', &self.bytes[run..])
                .map_or(self.bytes.len(), |i| run + i);
            if value.is_empty() {
                // Room for the escape that ends most runs (a notebook line's `\n`).
                value.reserve(self.at - run + 8);
            }
            value.push_str(&self.text[run..self.at]);
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(Node::Scalar {
                        value,
                        style: TScalarStyle::DoubleQuoted,
                        start,
                    });
                }
                Some(b'\\') => {
                    let (c, len) = decode_escape(self.text, self.at)
                        .ok_or_else(|| self.error("invalid escape in a string"))?;
                    value.push(c);
                    self.at += len;
                }
                _ => return Err(self.error("unterminated string")),
            }
        }
    }
}

/// The character a JSON escape at `at` (a backslash) stands for, and its length in bytes.
/// Surrogate pairs combine; a lone surrogate is U+FFFD.
pub fn decode_escape(text: &str, at: usize) -> Option<(char, usize)> {
    let next = *text.as_bytes().get(at + 1)?;
    let c = match next {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hi = u32::from_str_radix(text.get(at + 2..at + 6)?, 16).ok()?;
            if (0xD800..0xDC00).contains(&hi) {
                let lo = text
                    .get(at + 6..at + 8)
                    .filter(|s| *s == "\\u")
                    .and_then(|_| text.get(at + 8..at + 12))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .filter(|lo| (0xDC00..0xE000).contains(lo));
                return Some(match lo {
                    Some(lo) => (
                        char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?,
                        12,
                    ),
                    None => ('\u{FFFD}', 6),
                });
            }
            return Some((char::from_u32(hi).unwrap_or('\u{FFFD}'), 6));
        }
        _ => return None,
    };
    Some((c, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_positions_and_surrogates() {
        let text = "{\"a\": [1, true, \"x\\ud83d\\ude00y\\u00e9\"], \"b\": {}}";
        let node = parse(text).unwrap();
        let Some(Node::Seq { items, .. }) = node.get("a") else {
            panic!()
        };
        assert_eq!(items[0].as_str(), Some("1"));
        assert_eq!(items[2].as_str(), Some("x😀yé"));
        let b = crate::extract::yaml::map_scalar(text, &items[2]);
        assert_eq!(b.text, "x😀yé");
        let at = b.text.find('😀').unwrap();
        let span = b.map.to_file(crate::span::PromptSpan::new(at, at + 4));
        assert_eq!(&text[span.start..span.end], "\\ud83d\\ude00");
    }

    #[test]
    fn errors_name_the_line() {
        assert_eq!(
            parse("{\n\"a\": [1,\n").unwrap_err(),
            "invalid JSON at line 3: unexpected end of input"
        );
        assert!(parse("{\"a\": \"\\q\"}").is_err());
        assert!(parse(&"[".repeat(1000))
            .unwrap_err()
            .contains("nested deeper"));
        assert!(parse("{} x").is_err());
    }
}
