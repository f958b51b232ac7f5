//! The `lantian` binary's adapters over the application layer
//! (`lantian_app`): the command line (`cli`), the web dashboard and API
//! (`serve`), the HJ 212 gateway (`gateway`) and the logger simulator
//! (`simulate`). `main.rs` is flag parsing; the integration tests run the
//! binary.

pub mod cli;
pub mod gateway;
pub mod output;
pub mod serve;
pub mod simulate;
