//! Tabular results: machine keys with Chinese and English headers, typed
//! cells that carry their reporting precision, so every front end prints a
//! number as the reports do (PM2.5 `35`, CO `1.2`, ratio `85.3`). CSV (a
//! header row of keys) and JSON (an array of objects with the same keys) are
//! written here; text tables for people are the CLI's.

use std::io::Write;

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// Value and decimals.
    Num(f64, u32),
    Bool(bool),
    /// Why capture is not met (empty when it is): words in text tables,
    /// a compact code in CSV, an array of objects in JSON.
    Capture(Vec<crate::capture::CaptureShortfall>),
}

impl Cell {
    pub fn opt(v: Option<f64>, decimals: u32) -> Cell {
        v.map_or(Cell::Empty, |x| Cell::Num(x, decimals))
    }

    pub fn text(s: impl Into<String>) -> Cell {
        let s = s.into();
        if s.is_empty() { Cell::Empty } else { Cell::Text(s) }
    }

    /// The cell as CSV prints it (numbers rounded by GB/T 8170 to their decimals).
    pub fn plain(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(v, d) => format!("{:.*}", *d as usize, lantian_core::round::round_half_even(*v, *d)),
            Cell::Bool(b) => b.to_string(),
            Cell::Capture(list) => crate::capture::plain(list),
        }
    }

    pub fn json(&self) -> serde_json::Value {
        match self {
            Cell::Empty => serde_json::Value::Null,
            Cell::Text(s) => s.clone().into(),
            Cell::Int(i) => (*i).into(),
            // Parse the printed form back so JSON carries exactly the reported digits.
            Cell::Num(..) => self.plain().parse::<f64>().map_or(serde_json::Value::Null, Into::into),
            Cell::Bool(b) => (*b).into(),
            Cell::Capture(list) => serde_json::to_value(list).unwrap_or_default(),
        }
    }
}

/// A column: machine key, Chinese header, English header.
#[derive(Clone, Copy, Debug)]
pub struct Col(pub &'static str, pub &'static str, pub &'static str);

#[derive(Clone, Debug)]
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

    /// The rows as JSON objects keyed by the columns' machine keys.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    serde_json::Value::Object(
                        self.cols.iter().zip(r).map(|(c, v)| (c.0.to_string(), v.json())).collect(),
                    )
                })
                .collect(),
        )
    }

    /// Pretty JSON and a newline.
    pub fn write_json(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.to_json())?;
        writeln!(out)?;
        Ok(())
    }

    /// CSV with a header row of machine keys.
    pub fn write_csv(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.cols.iter().map(|c| c.0))?;
        for r in &self.rows {
            w.write_record(r.iter().map(Cell::plain))?;
        }
        w.flush()?;
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
        sample().write_csv(&mut buf).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), "city,pm25,co\n成都,40,1.2\n自贡,,0.8\n");
        let mut buf = Vec::new();
        sample().write_json(&mut buf).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v[0]["city"], "成都");
        assert_eq!(v[0]["pm25"], 40.0);
        assert!(v[1]["pm25"].is_null());
    }
}
