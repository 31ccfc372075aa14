//! `bayes`: parse the configuration, start logging, build, run until ctrl-c or SIGTERM.

use bayes::configuration::Configuration;
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
    let result = async {
        Application::build(configuration)?
            .run_until_stopped(platform::shutdown::signal())
            .await
    };
    platform::exit::code("bayes", result.await)
}
