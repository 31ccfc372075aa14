//! `bayes`: parse the configuration, start logging, consume until ctrl-c or SIGTERM.

use bayes::configuration::Configuration;
use clap::Parser;
use std::process::ExitCode;

// glibc malloc showed up at ~13% of the api's CPU under load; mimalloc's
// thread-local free lists make the many small per-request allocations cheap.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let configuration = Configuration::parse();
    platform::telemetry::init(&configuration.log);
    match bayes::startup::run(configuration, platform::shutdown::signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bayes: {error:#}");
            ExitCode::FAILURE
        }
    }
}
