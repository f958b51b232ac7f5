//! The `lantian` application: subcommands as functions over the store and
//! the core, so the binary (`main.rs`) is only flag parsing and the
//! integration tests can call the same code the commands run.

pub mod commands;
pub mod gateway;
pub mod live;
pub mod output;
pub mod report;
pub mod serve;
pub mod simulate;
pub mod tasks;
pub mod users;
