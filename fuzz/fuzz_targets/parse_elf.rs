//! The ELF entry point must turn any bytes into facts or an error, never a
//! panic, a hang or an abort (run: cargo +nightly fuzz run parse_elf). It
//! drives the parse without the CLI's panic guard, so panics are found.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = lambda_audit::elf::facts_from_bytes(data);
});
