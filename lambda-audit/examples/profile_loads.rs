//! Loads each profile named on the command line (built-in names or files)
//! in one process, as a check against several runtimes does before it
//! audits: the cost of profiles alone, measured in docs/benchmarks.md.

use std::process::ExitCode;

use lambda_audit::profile::Profile;

fn main() -> ExitCode {
    let mut libraries = 0;
    for name in std::env::args().skip(1) {
        match Profile::load(&name) {
            Ok(profile) => libraries += profile.libraries.len(),
            Err(e) => {
                eprintln!("lambda-audit: {e}");
                return ExitCode::from(2);
            }
        }
    }
    println!("{libraries} libraries");
    ExitCode::SUCCESS
}
