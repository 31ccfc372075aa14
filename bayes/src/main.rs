//! `bayes`: parse the configuration, start logging, run until ctrl-c or SIGTERM.

use bayes::configuration::Configuration;
use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let configuration = Configuration::parse();
    platform::telemetry::init(&configuration.log);
    let result = bayes::startup::run(configuration, platform::shutdown::signal()).await;
    platform::exit::code("bayes", result)
}
