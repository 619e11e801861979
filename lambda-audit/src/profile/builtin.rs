//! The built-in profiles: their table (each file under `profiles/`,
//! embedded, by name), the text build.rs leaves of each (`STRIPPED`, the
//! export lists taken out into `EXPORTS`), Lambda's two architectures and
//! which built-in profile a name means on each.

use crate::elf::Arch;
use crate::error::{AuditError, Result};

// The built-in profiles as build.rs leaves them: `STRIPPED` (each file's
// text, its export lists taken out), `EXPORTS` and `LIST_ENDS` (the lists).
include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// The built-in profiles, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    (
        "amazonlinux-2017.03-python3.6",
        include_str!("../../profiles/amazonlinux-2017.03-python3.6.json"),
    ),
    (
        "amazonlinux-2",
        include_str!("../../profiles/amazonlinux-2.json"),
    ),
    (
        "amazonlinux-2023",
        include_str!("../../profiles/amazonlinux-2023.json"),
    ),
    ("python3.6", include_str!("../../profiles/python3.6.json")),
    ("python3.8", include_str!("../../profiles/python3.8.json")),
    ("python3.9", include_str!("../../profiles/python3.9.json")),
    ("python3.10", include_str!("../../profiles/python3.10.json")),
    ("python3.11", include_str!("../../profiles/python3.11.json")),
    ("python3.12", include_str!("../../profiles/python3.12.json")),
    ("python3.13", include_str!("../../profiles/python3.13.json")),
    ("python3.14", include_str!("../../profiles/python3.14.json")),
    (
        "provided.al2",
        include_str!("../../profiles/provided.al2.json"),
    ),
    (
        "provided.al2023",
        include_str!("../../profiles/provided.al2023.json"),
    ),
    ("nodejs18.x", include_str!("../../profiles/nodejs18.x.json")),
    ("nodejs20.x", include_str!("../../profiles/nodejs20.x.json")),
    ("nodejs22.x", include_str!("../../profiles/nodejs22.x.json")),
    ("nodejs24.x", include_str!("../../profiles/nodejs24.x.json")),
    ("java8.al2", include_str!("../../profiles/java8.al2.json")),
    ("java11", include_str!("../../profiles/java11.json")),
    ("java17", include_str!("../../profiles/java17.json")),
    ("java21", include_str!("../../profiles/java21.json")),
    ("java25", include_str!("../../profiles/java25.json")),
    (
        "java8.al2023",
        include_str!("../../profiles/java8.al2023.json"),
    ),
    (
        "java11.al2023",
        include_str!("../../profiles/java11.al2023.json"),
    ),
    (
        "java17.al2023",
        include_str!("../../profiles/java17.al2023.json"),
    ),
    ("ruby3.2", include_str!("../../profiles/ruby3.2.json")),
    ("ruby3.3", include_str!("../../profiles/ruby3.3.json")),
    ("ruby3.4", include_str!("../../profiles/ruby3.4.json")),
    ("ruby4.0", include_str!("../../profiles/ruby4.0.json")),
    ("dotnet8", include_str!("../../profiles/dotnet8.json")),
    ("dotnet10", include_str!("../../profiles/dotnet10.json")),
    // arm64: the same names, for Lambda's other architecture (`--arch arm64`).
    (
        "amazonlinux-2-arm64",
        include_str!("../../profiles/amazonlinux-2-arm64.json"),
    ),
    (
        "amazonlinux-2023-arm64",
        include_str!("../../profiles/amazonlinux-2023-arm64.json"),
    ),
    (
        "python3.8-arm64",
        include_str!("../../profiles/python3.8-arm64.json"),
    ),
    (
        "python3.9-arm64",
        include_str!("../../profiles/python3.9-arm64.json"),
    ),
    (
        "python3.10-arm64",
        include_str!("../../profiles/python3.10-arm64.json"),
    ),
    (
        "python3.11-arm64",
        include_str!("../../profiles/python3.11-arm64.json"),
    ),
    (
        "python3.12-arm64",
        include_str!("../../profiles/python3.12-arm64.json"),
    ),
    (
        "python3.13-arm64",
        include_str!("../../profiles/python3.13-arm64.json"),
    ),
    (
        "python3.14-arm64",
        include_str!("../../profiles/python3.14-arm64.json"),
    ),
    (
        "provided.al2-arm64",
        include_str!("../../profiles/provided.al2-arm64.json"),
    ),
    (
        "provided.al2023-arm64",
        include_str!("../../profiles/provided.al2023-arm64.json"),
    ),
    (
        "nodejs18.x-arm64",
        include_str!("../../profiles/nodejs18.x-arm64.json"),
    ),
    (
        "nodejs20.x-arm64",
        include_str!("../../profiles/nodejs20.x-arm64.json"),
    ),
    (
        "nodejs22.x-arm64",
        include_str!("../../profiles/nodejs22.x-arm64.json"),
    ),
    (
        "nodejs24.x-arm64",
        include_str!("../../profiles/nodejs24.x-arm64.json"),
    ),
    (
        "java8.al2-arm64",
        include_str!("../../profiles/java8.al2-arm64.json"),
    ),
    (
        "java11-arm64",
        include_str!("../../profiles/java11-arm64.json"),
    ),
    (
        "java17-arm64",
        include_str!("../../profiles/java17-arm64.json"),
    ),
    (
        "java21-arm64",
        include_str!("../../profiles/java21-arm64.json"),
    ),
    (
        "java25-arm64",
        include_str!("../../profiles/java25-arm64.json"),
    ),
    (
        "java8.al2023-arm64",
        include_str!("../../profiles/java8.al2023-arm64.json"),
    ),
    (
        "java11.al2023-arm64",
        include_str!("../../profiles/java11.al2023-arm64.json"),
    ),
    (
        "java17.al2023-arm64",
        include_str!("../../profiles/java17.al2023-arm64.json"),
    ),
    (
        "ruby3.2-arm64",
        include_str!("../../profiles/ruby3.2-arm64.json"),
    ),
    (
        "ruby3.3-arm64",
        include_str!("../../profiles/ruby3.3-arm64.json"),
    ),
    (
        "ruby3.4-arm64",
        include_str!("../../profiles/ruby3.4-arm64.json"),
    ),
    (
        "ruby4.0-arm64",
        include_str!("../../profiles/ruby4.0-arm64.json"),
    ),
    (
        "dotnet8-arm64",
        include_str!("../../profiles/dotnet8-arm64.json"),
    ),
    (
        "dotnet10-arm64",
        include_str!("../../profiles/dotnet10-arm64.json"),
    ),
];

/// Lambda's two instruction set architectures, as its API names them
/// (`Architectures`: `x86_64`, `arm64`). A built-in profile's name means
/// the x86_64 one, Lambda's default; its arm64 one is the file
/// `NAME-arm64.json` (`BUILTIN` key `NAME-arm64`), whose `name` is the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LambdaArch {
    X86_64,
    Arm64,
}

impl LambdaArch {
    pub const ALL: [LambdaArch; 2] = [LambdaArch::X86_64, LambdaArch::Arm64];

    /// Lambda's name (`x86_64`, `arm64`).
    pub fn name(self) -> &'static str {
        match self {
            LambdaArch::X86_64 => "x86_64",
            LambdaArch::Arm64 => "arm64",
        }
    }

    /// The ELF architecture its loader accepts.
    pub fn elf(self) -> Arch {
        match self {
            LambdaArch::X86_64 => Arch::X86_64,
            LambdaArch::Arm64 => Arch::AARCH64,
        }
    }

    /// The Lambda architecture of an ELF one, if Lambda has it.
    pub fn of_elf(arch: Arch) -> Option<LambdaArch> {
        LambdaArch::ALL.into_iter().find(|a| a.elf() == arch)
    }

    /// The `BUILTIN` key of the built-in profile `name` for this architecture.
    fn builtin_key(self, name: &str) -> String {
        match self {
            LambdaArch::X86_64 => name.to_string(),
            LambdaArch::Arm64 => format!("{name}-arm64"),
        }
    }
}

impl std::str::FromStr for LambdaArch {
    type Err = String;

    /// `x86_64` or `arm64` (`aarch64`, the ELF name, is taken for arm64).
    fn from_str(text: &str) -> std::result::Result<LambdaArch, String> {
        match text {
            "x86_64" => Ok(LambdaArch::X86_64),
            "arm64" | "aarch64" => Ok(LambdaArch::Arm64),
            _ => Err(format!(
                "{text:?} is not a Lambda architecture (x86_64, arm64)"
            )),
        }
    }
}

pub const DEFAULT_PROFILE: &str = "amazonlinux-2017.03-python3.6";

/// The built-in base a profile of ELF architecture `arch` extends by the
/// name `base`: its arm64 twin for an aarch64 profile (`"extends":
/// "amazonlinux-2023", "arch": "aarch64"` is Amazon Linux 2023 on arm64).
pub(super) fn base_for_arch(base: &str, arch: Option<&str>) -> String {
    if arch == Some("aarch64") {
        let twin = LambdaArch::Arm64.builtin_key(base);
        if BUILTIN.iter().any(|(name, _)| *name == twin) {
            return twin;
        }
    }
    base.to_string()
}

/// The built-in profile `name` has for `arch`, as its `BUILTIN` key; `None`
/// when `name` is no built-in name (a file's path, then). A built-in name
/// without a profile for `arch` is refused in one line naming the names
/// that have one.
pub(super) fn builtin_for(name: &str, arch: LambdaArch) -> Result<Option<&'static str>> {
    let key = |name: &str| BUILTIN.iter().find(|(k, _)| *k == name).map(|(k, _)| *k);
    let Some(given) = key(name) else {
        return Ok(None);
    };
    // A key of its own (`python3.12-arm64`) is that profile, whatever its arch.
    if arch == LambdaArch::X86_64 || given.ends_with("-arm64") {
        return Ok(Some(given));
    }
    if let Some(found) = key(&arch.builtin_key(name)) {
        return Ok(Some(found));
    }
    let others: Vec<&str> = BUILTIN
        .iter()
        .filter_map(|(k, _)| k.strip_suffix("-arm64"))
        .filter(|k| !k.starts_with("amazonlinux-"))
        .collect();
    let default = if name == DEFAULT_PROFILE {
        " (the default profile: give --profile)"
    } else {
        ""
    };
    Err(AuditError::Usage(format!(
        "{name}{default} is x86_64 only: Lambda never offered it on {} (its runtimes there: {})",
        arch.name(),
        others.join(", ")
    )))
}
