//! `api`: parse the configuration, start logging, run until ctrl-c or SIGTERM.

use api::configuration::Configuration;
use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let configuration = Configuration::parse();
    platform::telemetry::init(&configuration.log);
    let result = api::startup::run(configuration, platform::shutdown::signal()).await;
    platform::exit::code("api", result)
}
