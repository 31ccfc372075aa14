//! `bayes`: parse the configuration, start logging, build, run until ctrl-c or SIGTERM.

use bayes::configuration::{Command, Configuration};
use bayes::startup::Application;
use clap::Parser;
use std::process::ExitCode;

// glibc malloc showed up at ~13% of CPU under load; mimalloc's thread-local
// free lists make the many small allocations cheap. A binary's choice.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let configuration = Configuration::parse();
    platform::telemetry::init(&configuration.log);
    let result = match configuration.command {
        Some(Command::Status) => bayes::commands::status(&configuration).await,
        Some(Command::Rebuild) => bayes::commands::rebuild_all(&configuration).await,
        None => {
            async {
                Application::build(configuration)?
                    .run_until_stopped(platform::shutdown::signal())
                    .await
            }
            .await
        }
    };
    platform::exit::code("bayes", result)
}
