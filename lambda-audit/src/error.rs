//! Errors that make an input unusable (exit status 2). Findings about an
//! artifact that will not load are not errors: they are `check::Finding`s.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not an ELF file ({reason})")]
    NotElf { path: PathBuf, reason: String },
    #[error("{path}: malformed ELF: {reason}")]
    MalformedElf { path: PathBuf, reason: String },
    #[error("{path}: is a directory, not an ELF file")]
    IsDirectory { path: PathBuf },
    #[error("profile {name}: {reason}")]
    Profile { name: String, reason: String },
    #[error("{0}")]
    Usage(String),
    #[error("{what}: {reason}")]
    Tool { what: String, reason: String },
    /// The input is fine but the result would not work: exit status 1.
    #[error("{0}")]
    Refused(String),
}

impl AuditError {
    pub fn io(path: &Path, source: std::io::Error) -> AuditError {
        AuditError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl AuditError {
    /// 1 for a refusal (the artifact would not work), 2 for unusable input.
    pub fn exit_code(&self) -> i32 {
        match self {
            AuditError::Refused(_) => 1,
            _ => 2,
        }
    }
}

pub type Result<T, E = AuditError> = std::result::Result<T, E>;
