//! Reading one file from disk into a `SourceFile`, with the checks that keep a scan going.
//!
//! Binary files (a NUL byte in the first 8 KiB) are skipped silently; files above the size cap
//! are skipped with a note; a UTF-8 BOM is stripped and remembered so spans still index the
//! bytes on disk; invalid UTF-8 and I/O failures become a per-file error. Nothing here aborts a
//! scan and nothing here prints.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::prompt::PromptFormat;

/// What kind of file this is, decided from its path (and config globs) before reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FileKind {
    Python,
    Notebook,
    /// A prompt file whose whole body is prompt text in the given format.
    PromptFile(PromptFormat),
    /// A structured file scanned for prompt-like keys.
    Yaml,
    Json,
}

/// A file's text and where it came from.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as displayed (relative to the current directory when under it, `/` separators).
    pub path: String,
    /// The path as opened.
    pub fs_path: PathBuf,
    /// The file's text, without a UTF-8 BOM.
    pub text: String,
    /// Bytes removed from the start (3 for a BOM): add to spans to index the bytes on disk.
    pub bom_len: usize,
    pub kind: FileKind,
}

/// Why a file was not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Binary content: skipped silently, as ripgrep does.
    Binary,
    /// Above the size cap: skipped with a note.
    TooLarge { size: u64, cap: u64 },
    /// Could not be read or decoded: a per-file error.
    Error(String),
}

const SNIFF_LEN: usize = 8 * 1024;

impl SourceFile {
    /// Reads `fs_path`, applying the binary, size and encoding checks.
    pub fn read(
        fs_path: &Path,
        path: String,
        kind: FileKind,
        max_size: u64,
    ) -> Result<SourceFile, Skip> {
        // Open, then stat the handle: one path lookup per file, not two.
        let file = fs::File::open(fs_path).map_err(|e| Skip::Error(io_message(&e)))?;
        let meta = file.metadata().map_err(|e| Skip::Error(io_message(&e)))?;
        if meta.is_dir() {
            return Err(Skip::Error("is a directory".into()));
        }
        if meta.len() > max_size {
            return Err(Skip::TooLarge {
                size: meta.len(),
                cap: max_size,
            });
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize + 1);
        file.take(max_size + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Skip::Error(io_message(&e)))?;
        if bytes.len() as u64 > max_size {
            return Err(Skip::TooLarge {
                size: bytes.len() as u64,
                cap: max_size,
            });
        }
        Self::from_bytes(bytes, fs_path.to_path_buf(), path, kind)
    }

    /// Decodes bytes already in memory (a file read from git, a test case).
    pub fn from_bytes(
        mut bytes: Vec<u8>,
        fs_path: PathBuf,
        path: String,
        kind: FileKind,
    ) -> Result<SourceFile, Skip> {
        if bytes[..bytes.len().min(SNIFF_LEN)].contains(&0) {
            return Err(Skip::Binary);
        }
        let bom_len = if bytes.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        if bom_len > 0 {
            bytes.drain(..bom_len);
        }
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to() + bom_len;
            Skip::Error(format!("not valid UTF-8 (invalid byte at offset {at}); save the file as UTF-8 or exclude it"))
        })?;
        Ok(SourceFile {
            path,
            fs_path,
            text,
            bom_len,
            kind,
        })
    }
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::NotFound => "no such file".into(),
        _ => e.to_string().to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Result<SourceFile, Skip> {
        SourceFile::from_bytes(
            bytes.to_vec(),
            PathBuf::from("x"),
            "x".into(),
            FileKind::Python,
        )
    }

    #[test]
    fn bom_is_stripped_and_counted() {
        let f = decode(b"\xEF\xBB\xBFabc").unwrap();
        assert_eq!(f.text, "abc");
        assert_eq!(f.bom_len, 3);
    }

    #[test]
    fn nul_means_binary() {
        assert_eq!(decode(b"ab\0cd").unwrap_err(), Skip::Binary);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let Skip::Error(msg) = decode(b"ok\xff").unwrap_err() else {
            panic!()
        };
        assert!(msg.contains("offset 2"), "{msg}");
    }
}
