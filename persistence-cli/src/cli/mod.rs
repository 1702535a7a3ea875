//! The command line: arguments ([`Cli`], in `args.rs`) and what each command does ([`run`], in
//! `commands.rs`).

mod args;
mod commands;

pub use args::{Cli, Command, Concurrency, Global};
pub use commands::run;
