//! End-to-end tests on the bundled real data (one test binary, see
//! STYLE-ANCHORS: linking one executable is cheaper on two cores).

mod catalogue;
mod common;
mod crash;
mod documents;
mod gateway;
mod official;
mod operations;
mod real_data;
mod robustness;
mod screen;
mod sessions;
mod snapshots;
mod web;
mod web_round_two;
