//! The document model every report is composed in and every renderer reads.

use lantian_core::round::round_half_even;

#[derive(Clone, Debug, Default)]
pub struct Doc {
    pub title: String,
    /// Lines under the title (issuer, period, date).
    pub subtitle: Vec<String>,
    pub blocks: Vec<Block>,
    /// Landscape pages (wide tables).
    pub landscape: bool,
}

#[derive(Clone, Debug)]
pub enum Block {
    /// Level 1 or 2.
    Heading(u8, String),
    Para(String),
    Table(Table),
    Image(Image),
}

/// A table. With `label_column`, the first column holds labels (the
/// completion table's 整改任务 / 整改目标 … layout) and there is no header.
#[derive(Clone, Debug, Default)]
pub struct Table {
    /// Caption above the table; also the sheet's title in Excel.
    pub caption: String,
    /// Sheet name in Excel (≤ 31 characters).
    pub sheet: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Notes under the table (units, sources, method).
    pub notes: Vec<String>,
    pub label_column: bool,
    /// Background colours of single cells, (row of `rows`, column,
    /// `#rrggbb`): the AQI level colours. Renderers that cannot colour a
    /// cell leave it plain; the cell's text must carry the meaning too.
    pub fills: Vec<(usize, usize, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Int(i64),
    /// Value and decimals; printed rounded half-even (GB/T 8170).
    Num(f64, u32),
}

impl Cell {
    pub fn opt(v: Option<f64>, decimals: u32) -> Cell {
        v.map_or(Cell::Empty, |x| Cell::Num(x, decimals))
    }

    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// As printed.
    pub fn display(&self) -> String {
        match self {
            Cell::Empty => "—".to_string(),
            Cell::Text(s) => s.clone(),
            Cell::Int(i) => i.to_string(),
            Cell::Num(v, d) => format!("{:.*}", *d as usize, round_half_even(*v, *d)),
        }
    }

    /// The number, rounded as printed (what Excel cells hold).
    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Int(i) => Some(*i as f64),
            Cell::Num(v, d) => Some(round_half_even(*v, *d)),
            _ => None,
        }
    }
}

/// A PNG image with its pixel size.
#[derive(Clone, Debug)]
pub struct Image {
    pub caption: String,
    /// File name stem for formats that keep images beside the text.
    pub name: String,
    pub png: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

impl Doc {
    /// All paragraphs' text, for tests and search.
    pub fn text(&self) -> String {
        let mut s = format!("{}\n", self.title);
        for b in &self.blocks {
            match b {
                Block::Heading(_, t) | Block::Para(t) => {
                    s.push_str(t);
                    s.push('\n');
                }
                Block::Table(t) => {
                    s.push_str(&t.caption);
                    s.push('\n');
                    for r in &t.rows {
                        s.push_str(&r.iter().map(Cell::display).collect::<Vec<_>>().join("\t"));
                        s.push('\n');
                    }
                }
                Block::Image(i) => {
                    s.push_str(&i.caption);
                    s.push('\n');
                }
            }
        }
        s
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Table(t) => Some(t),
            _ => None,
        })
    }

    pub fn images(&self) -> impl Iterator<Item = &Image> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Image(i) => Some(i),
            _ => None,
        })
    }
}
