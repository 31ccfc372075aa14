//! `api`: parse the configuration, start logging, build, serve until ctrl-c or SIGTERM.

use api::configuration::Configuration;
use api::startup::Application;
use clap::Parser;
use std::process::ExitCode;

// glibc malloc showed up at ~13% of the api's CPU under load; mimalloc's
// thread-local free lists make the many small per-request allocations
// cheap. A binary's choice, so it is made here, not in a library.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let configuration = Configuration::parse();
    platform::telemetry::init(&configuration.log);
    let result = async {
        Application::build(configuration)
            .await?
            .run_until_stopped(platform::shutdown::signal())
            .await
    };
    platform::exit::code("api", result.await)
}
