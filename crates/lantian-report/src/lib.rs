//! lantian-report: the documents a provincial department hands on — the
//! monthly notice (通报), the rectification completion table (完成情况表),
//! the daily briefing (会商简报), any table as Excel — generated from
//! numbers, never typed.
//!
//! Composition is pure: [`notice`], [`completion`] and [`daily`] turn plain data (the
//! assessed statistics, ledger records) into a [`doc::Doc`], a small
//! document model of headings, paragraphs, tables and images. Renderers turn
//! a `Doc` into Markdown ([`md`]), Word ([`docx`]) or Excel ([`xlsx`]);
//! [`chart`] draws PNG charts with the bundled CJK font so Chinese labels
//! render on any machine.

pub mod chart;
pub mod completion;
pub mod daily;
pub mod doc;
pub mod docx;
pub mod md;
pub mod notice;
pub mod text;
pub mod xlsx;

pub use doc::{Block, Cell, Doc, Image, Table};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("chart: {0}")]
    Chart(String),
    #[error("docx: {0}")]
    Docx(String),
    #[error("xlsx: {0}")]
    Xlsx(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
