//! The Home Assistant relay as an AWS Lambda function: each Alexa request is POSTed unchanged
//! to `BASE_URL/api/alexa` with the user's account-linking token, and Home Assistant's answer
//! is the skill's response. `--help` for the environment variables; see the [`ha_relay`]
//! library.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    ha_relay::run_cli().await
}
