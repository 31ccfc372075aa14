//! `bayes`: parse the configuration, start logging, consume until ctrl-c or SIGTERM.

use bayes::configuration::Configuration;
use clap::Parser;
use std::process::ExitCode;

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
