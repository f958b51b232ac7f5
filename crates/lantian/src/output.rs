//! Output for people and programs: `table` (a text table with Chinese or
//! English headers), `csv` and `json` (machine keys) on standard output;
//! `xlsx`, `docx` and `md` as files, written through a temporary name and a
//! rename so an interrupted write leaves no half file.

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use comfy_table::{Table as Comfy, presets::UTF8_FULL_CONDENSED};
use lantian_app::{Cell, Lang, Table};
use lantian_report::{Block, Doc};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Csv,
    Json,
    /// Excel workbook (tables and reports; written to --output or a descriptive file name).
    Xlsx,
    /// Word document (reports, tables).
    Docx,
    /// Markdown with charts as PNG files beside it (reports, tables).
    Md,
}

/// Render `t` to a stream (table, csv, json).
pub fn render(t: &Table, format: Format, lang: Lang, out: &mut dyn Write) -> Result<()> {
    match format {
        Format::Table => {
            let mut c = Comfy::new();
            c.load_style(UTF8_FULL_CONDENSED);
            c.set_header(t.cols.iter().map(|c| if lang == Lang::Zh { c.1 } else { c.2 }));
            for r in &t.rows {
                c.add_row(r.iter().map(|cell| match (cell, lang) {
                    (Cell::Bool(b), Lang::Zh) => (if *b { "是" } else { "否" }).to_string(),
                    (Cell::Bool(b), Lang::En) => (if *b { "yes" } else { "no" }).to_string(),
                    _ => cell.plain(),
                }));
            }
            writeln!(out, "{c}")?;
        }
        Format::Csv => t.write_csv(out)?,
        Format::Json => t.write_json(out)?,
        // Written as files by `cli::Ctx::print`, never to a stream.
        Format::Xlsx | Format::Docx | Format::Md => bail!("{format:?} is written to a file"),
    }
    Ok(())
}

/// Write `bytes` to `path` through a temporary file and a rename: an
/// interrupted write leaves no half file under the name.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Render `doc` as docx, xlsx or md (`format`; a table format means docx)
/// and write it to `output`, else `stem.EXT` here. The path written.
pub fn write_doc(doc: &Doc, format: Format, lang: Lang, output: Option<&Path>, stem: &str) -> Result<PathBuf> {
    let format = match format {
        Format::Table => Format::Docx,
        f => f,
    };
    let ext = match format {
        Format::Docx => "docx",
        Format::Xlsx => "xlsx",
        Format::Md => "md",
        other => bail!("documents are written as docx, xlsx or md, not {other:?}"),
    };
    let path = output.map_or_else(|| PathBuf::from(format!("{stem}.{ext}")), Path::to_path_buf);
    match format {
        Format::Docx => write_atomic(&path, &lantian_report::docx::render(doc)?)?,
        Format::Xlsx => {
            let sheet = if lang == Lang::Zh { "正文" } else { "Text" };
            let text = doc.blocks.iter().any(|b| !matches!(b, Block::Table(_)));
            write_atomic(&path, &lantian_report::xlsx::render(doc, text.then_some(sheet))?)?
        }
        _ => {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            let files_dir = format!("{stem}_files");
            let (text, files) = lantian_report::md::render(doc, &files_dir);
            let base = path.parent().unwrap_or(Path::new(""));
            for (rel, png) in files {
                write_atomic(&base.join(rel), &png)?;
            }
            write_atomic(&path, text.as_bytes())?;
        }
    }
    println!("{}", path.display());
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use lantian_app::Col;

    #[test]
    fn text_table_speaks_the_language() {
        let mut t = Table::new(vec![Col("city", "城市", "City"), Col("ok", "达标", "OK")]);
        t.push(vec![Cell::text("成都"), Cell::Bool(true)]);
        let mut buf = Vec::new();
        render(&t, Format::Table, Lang::Zh, &mut buf).unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert!(s.contains("城市") && s.contains("是"), "{s}");
        let mut buf = Vec::new();
        render(&t, Format::Table, Lang::En, &mut buf).unwrap();
        let s = String::from_utf8(buf).unwrap();
        assert!(s.contains("City") && s.contains("yes"), "{s}");
    }
}
