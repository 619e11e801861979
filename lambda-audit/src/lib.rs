//! lambda-audit: proves statically, without executing anything, that an ELF
//! artifact will load in a given runtime, and packages it.
//!
//! The data flow (see `docs/design.md`):
//! `elf` reads facts from a file; `profile` holds a runtime as data (`scan`
//! writes one from a root filesystem); `resolve` finds each needed library as
//! the runtime's loader would, comparing paths as `lexical` normalizes them; `check` judges the closure, and `openssl`
//! says which OpenSSL the artifact carries; `report` shows the verdict;
//! `bundle` vendors what is missing; `archive` zips reproducibly; `package`
//! audits a whole package, which `unzip` reads from a zip, naming each file's
//! Python distribution or (`npm`) npm package, passing over what a Node.js
//! package's loader never opens on the runtime (`loaders`), with its layers merged as
//! the runtime's /opt by `layers`; `bounded` reads
//! every other input within a stated bound; `lifecycle` says when a
//! runtime is deprecated; `sbom` lists what a package is made of
//! (CycloneDX), with `clibs` naming the C libraries linked in.

pub mod archive;
pub mod atomic;
pub mod bounded;
pub mod bundle;
pub mod check;
pub mod clibs;
pub mod elf;
pub mod error;
pub mod layers;
pub mod lexical;
pub mod lifecycle;
pub mod loaders;
pub mod npm;
pub mod openssl;
pub mod package;
pub mod profile;
pub mod report;
pub mod resolve;
pub mod sbom;
pub mod scan;
pub mod unzip;
