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
            // Capture shortfalls are sentences: footnotes under the table,
            // one per area, rather than a wide column.
            let notes = |c: &Cell| matches!(c, Cell::Capture(_));
            let hidden: Vec<bool> = (0..t.cols.len()).map(|k| t.rows.iter().any(|r| notes(&r[k]))).collect();
            let mut c = Comfy::new();
            c.load_style(UTF8_FULL_CONDENSED);
            let shown = |k: &usize| !hidden[*k];
            c.set_header(
                (0..t.cols.len()).filter(shown).map(|k| if lang == Lang::Zh { t.cols[k].1 } else { t.cols[k].2 }),
            );
            let mut footnotes = Vec::new();
            for r in &t.rows {
                c.add_row((0..r.len()).filter(shown).map(|k| match (&r[k], lang) {
                    (Cell::Bool(b), Lang::Zh) => (if *b { "是" } else { "否" }).to_string(),
                    (Cell::Bool(b), Lang::En) => (if *b { "yes" } else { "no" }).to_string(),
                    (cell, _) => cell.plain(),
                }));
                for cell in r {
                    if let Cell::Capture(list) = cell
                        && !list.is_empty()
                    {
                        // The row's area: its first text cell.
                        let area = r.iter().find_map(|c| if let Cell::Text(s) = c { Some(s.as_str()) } else { None });
                        let sep = if lang == Lang::Zh { "：" } else { ": " };
                        let note = lantian_app::capture::note(list, lang);
                        footnotes.push(format!("  {}{sep}{note}", area.unwrap_or("?")));
                    }
                }
            }
            writeln!(out, "{c}")?;
            if !footnotes.is_empty() {
                let head = if lang == Lang::Zh {
                    "数据有效性未达标（GB 3095 表4：每月至少 27 个有效日均值，2 月至少 25 个，全年至少 324 个）："
                } else {
                    "Capture below the minimum (GB 3095 Table 4: ≥ 27 valid daily values a month, 25 in February, 324 a year):"
                };
                writeln!(out, "{head}")?;
                for f in footnotes {
                    writeln!(out, "{f}")?;
                }
            }
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

    #[test]
    fn capture_shortfalls_are_footnotes_in_text_and_data_in_json() {
        use lantian_app::capture::CaptureShortfall;
        let short =
            CaptureShortfall { scope: "month", year: 2019, month: Some(8), pollutant: "pm25", present: 20, needed: 27 };
        let cols = vec![Col("city", "城市", "City"), Col("ok", "达标", "OK"), Col("why", "说明", "Why")];
        let mut t = Table::new(cols);
        t.push(vec![Cell::text("成都"), Cell::Bool(true), Cell::Capture(vec![])]);
        t.push(vec![Cell::text("自贡"), Cell::Bool(false), Cell::Capture(vec![short])]);
        let text = |lang| {
            let mut buf = Vec::new();
            render(&t, Format::Table, lang, &mut buf).unwrap();
            String::from_utf8(buf).unwrap()
        };
        let zh = text(Lang::Zh);
        assert!(!zh.contains("说明"), "the column is a footnote: {zh}");
        assert!(zh.ends_with("  自贡：8月 PM2.5 有效 20 天 < 27 天\n"), "{zh}");
        assert!(!zh.contains("成都："));
        assert!(text(Lang::En).ends_with("  自贡: Aug: PM2.5 20 valid days < 27\n"));
        let mut buf = Vec::new();
        render(&t, Format::Json, Lang::Zh, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["why"], serde_json::json!([]));
        assert_eq!(v[1]["why"][0]["present"], 20);
        let mut buf = Vec::new();
        render(&t, Format::Csv, Lang::Zh, &mut buf).unwrap();
        assert!(String::from_utf8(buf).unwrap().ends_with("自贡,false,2019-08:pm25:20/27\n"));
    }
}
