//! Tabular output: `table` (for people, Chinese or English headers), `csv`
//! (header row of machine keys) and `json` (array of objects with the same
//! keys). Numbers carry their reporting precision so every format prints
//! them as the reports do (PM2.5 `35`, CO `1.2`, ratio `85.3`).

use clap::ValueEnum;
use comfy_table::{Table as Comfy, presets::UTF8_FULL_CONDENSED};
use std::io::Write;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Zh,
    En,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// Value and decimals.
    Num(f64, u32),
    Bool(bool),
}

impl Cell {
    pub fn opt(v: Option<f64>, decimals: u32) -> Cell {
        v.map_or(Cell::Empty, |x| Cell::Num(x, decimals))
    }

    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
    }

    fn plain(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(v, d) => format!("{:.*}", *d as usize, lantian_core::round::round_half_even(*v, *d)),
            Cell::Bool(b) => b.to_string(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Empty => serde_json::Value::Null,
            Cell::Text(s) => s.clone().into(),
            Cell::Int(i) => (*i).into(),
            // Parse the printed form back so JSON carries exactly the reported digits.
            Cell::Num(..) => self.plain().parse::<f64>().map_or(serde_json::Value::Null, Into::into),
            Cell::Bool(b) => (*b).into(),
        }
    }
}

/// A column: machine key, Chinese header, English header.
#[derive(Clone, Copy, Debug)]
pub struct Col(pub &'static str, pub &'static str, pub &'static str);

pub struct Table {
    pub cols: Vec<Col>,
    pub rows: Vec<Vec<Cell>>,
}

impl Table {
    pub fn new(cols: Vec<Col>) -> Table {
        Table { cols, rows: Vec::new() }
    }

    pub fn push(&mut self, row: Vec<Cell>) {
        debug_assert_eq!(row.len(), self.cols.len());
        self.rows.push(row);
    }

    pub fn render(&self, format: Format, lang: Lang, out: &mut dyn Write) -> anyhow::Result<()> {
        match format {
            Format::Table => {
                let mut t = Comfy::new();
                t.load_style(UTF8_FULL_CONDENSED);
                t.set_header(self.cols.iter().map(|c| if lang == Lang::Zh { c.1 } else { c.2 }));
                for r in &self.rows {
                    t.add_row(r.iter().map(|c| match (c, lang) {
                        (Cell::Bool(b), Lang::Zh) => (if *b { "是" } else { "否" }).to_string(),
                        (Cell::Bool(b), Lang::En) => (if *b { "yes" } else { "no" }).to_string(),
                        _ => c.plain(),
                    }));
                }
                writeln!(out, "{t}")?;
            }
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(self.cols.iter().map(|c| c.0))?;
                for r in &self.rows {
                    w.write_record(r.iter().map(Cell::plain))?;
                }
                w.flush()?;
            }
            Format::Json => {
                let arr: Vec<serde_json::Value> = self
                    .rows
                    .iter()
                    .map(|r| {
                        serde_json::Value::Object(
                            self.cols.iter().zip(r).map(|(c, v)| (c.0.to_string(), v.json())).collect(),
                        )
                    })
                    .collect();
                serde_json::to_writer_pretty(&mut *out, &arr)?;
                writeln!(out)?;
            }
            // Written as files by `Ctx::print`, never to a stream.
            Format::Xlsx | Format::Docx | Format::Md => anyhow::bail!("{format:?} is written to a file"),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(vec![Col("city", "城市", "City"), Col("pm25", "PM2.5", "PM2.5"), Col("co", "CO", "CO")]);
        t.push(vec![Cell::text("成都"), Cell::Num(40.0, 0), Cell::Num(1.25, 1)]);
        t.push(vec![Cell::text("自贡"), Cell::Empty, Cell::Num(0.8, 1)]);
        t
    }

    #[test]
    fn csv_and_json_share_keys() {
        let mut buf = Vec::new();
        sample().render(Format::Csv, Lang::Zh, &mut buf).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "city,pm25,co\n成都,40,1.2\n自贡,,0.8\n");
        let mut buf = Vec::new();
        sample().render(Format::Json, Lang::Zh, &mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["city"], "成都");
        assert_eq!(v[0]["pm25"], 40.0);
        assert!(v[1]["pm25"].is_null());
    }
}
