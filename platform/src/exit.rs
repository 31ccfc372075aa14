//! How a service's `main` ends: exit 0, or one line on stderr and exit 1.

use std::process::ExitCode;

/// The exit code for a service's result; an error is printed as one line,
/// `name: cause: cause…`, which is what an operator sees of a refused start.
#[must_use]
pub fn code(name: &str, result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{name}: {error:#}");
            ExitCode::FAILURE
        }
    }
}
