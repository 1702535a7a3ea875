//! The persistent cafe skill in a terminal: a scripted demo by default, `--interactive` to talk
//! to it, `--http` or `--lambda` to serve it. `--help` for details.

use std::process::ExitCode;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    skill_examples::demo::run_cli(skill_examples::cafe::APP).await
}
