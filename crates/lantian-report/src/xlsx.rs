//! Excel (.xlsx) as people hand tables on: one sheet per table with its
//! caption on top, a bold shaded header row that stays frozen, numbers
//! stored as numbers (rounded as printed, shown with their decimals), notes
//! (units, sources) under the table. A document's text and charts go on a
//! first sheet of their own.

use crate::doc::{Block, Cell, Doc, Table};
use crate::{Error, Result};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Image, Workbook, Worksheet};

fn err(e: rust_xlsxwriter::XlsxError) -> Error {
    Error::Xlsx(e.to_string())
}

/// Characters Excel refuses in sheet names.
fn sheet_name(name: &str, taken: &mut Vec<String>) -> String {
    let clean: String =
        name.chars().filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\')).take(28).collect();
    let base = if clean.trim().is_empty() { "Sheet".to_string() } else { clean };
    let mut n = base.clone();
    let mut i = 2;
    while taken.iter().any(|t| t.eq_ignore_ascii_case(&n)) {
        n = format!("{base}{i}");
        i += 1;
    }
    taken.push(n.clone());
    n
}

/// A workbook of `doc`: with `text_sheet`, a first sheet with the title,
/// paragraphs and charts; then one sheet per table.
pub fn render(doc: &Doc, text_sheet: Option<&str>) -> Result<Vec<u8>> {
    let mut wb = Workbook::new();
    let mut taken = Vec::new();
    if let Some(name) = text_sheet {
        let ws = wb.add_worksheet();
        ws.set_name(sheet_name(name, &mut taken)).map_err(err)?;
        text(ws, doc)?;
    }
    for t in doc.tables() {
        let ws = wb.add_worksheet();
        let name = if t.sheet.is_empty() { &t.caption } else { &t.sheet };
        ws.set_name(sheet_name(name, &mut taken)).map_err(err)?;
        table(ws, t)?;
    }
    if taken.is_empty() {
        wb.add_worksheet();
    }
    wb.save_to_buffer().map_err(err)
}

fn text(ws: &mut Worksheet, doc: &Doc) -> Result<()> {
    let title = Format::new().set_bold().set_font_size(16);
    let heading = Format::new().set_bold().set_font_size(12);
    let wrap = Format::new().set_text_wrap().set_align(FormatAlign::Top);
    ws.set_column_width(0, 110).map_err(err)?;
    ws.write_string_with_format(0, 0, &doc.title, &title).map_err(err)?;
    let mut row = 1u32;
    for s in &doc.subtitle {
        ws.write_string(row, 0, s).map_err(err)?;
        row += 1;
    }
    row += 1;
    for b in &doc.blocks {
        match b {
            Block::Heading(_, t) => {
                ws.write_string_with_format(row, 0, t, &heading).map_err(err)?;
                row += 1;
            }
            Block::Para(t) => {
                ws.write_string_with_format(row, 0, t, &wrap).map_err(err)?;
                // Roughly 60 Chinese characters per line at this width.
                let lines = (t.chars().count() / 60 + 1) as f64;
                ws.set_row_height(row, 15.0 * lines).map_err(err)?;
                row += 1;
            }
            Block::Table(t) => {
                ws.write_string(row, 0, format!("{}（见工作表“{}”）", t.caption, t.sheet)).map_err(err)?;
                row += 1;
            }
            Block::Image(i) => {
                let img = Image::new_from_buffer(&i.png).map_err(err)?.set_scale_width(0.75).set_scale_height(0.75);
                ws.insert_image(row, 0, &img).map_err(err)?;
                // Rows of 20 px under the picture.
                row += (f64::from(i.height) * 0.75 / 20.0).ceil() as u32 + 1;
                ws.write_string(row, 0, &i.caption).map_err(err)?;
                row += 2;
            }
        }
    }
    Ok(())
}

fn table(ws: &mut Worksheet, t: &Table) -> Result<()> {
    let caption = Format::new().set_bold().set_font_size(13);
    let head = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xD9E2F3))
        .set_border(FormatBorder::Thin);
    let body = Format::new().set_border(FormatBorder::Thin);
    let wrap = Format::new().set_border(FormatBorder::Thin).set_text_wrap().set_align(FormatAlign::Top);
    let nums: Vec<Format> = (0..4)
        .map(|d| body.clone().set_num_format(if d == 0 { "0".into() } else { format!("0.{}", "0".repeat(d)) }))
        .collect();
    let width = t.rows.iter().map(Vec::len).chain([t.header.len()]).max().unwrap_or(0);
    ws.write_string_with_format(0, 0, &t.caption, &caption).map_err(err)?;
    let mut row = 1u32;
    if !t.header.is_empty() {
        for (c, h) in t.header.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, h, &head).map_err(err)?;
        }
        row += 1;
        ws.set_freeze_panes(row, 0).map_err(err)?;
    }
    for (i, r) in t.rows.iter().enumerate() {
        for (c, cell) in r.iter().enumerate() {
            let col = c as u16;
            let fill = t.fills.iter().find(|(fr, fc, _)| *fr == i && *fc == c).map(|(_, _, hex)| hex.as_str());
            let (body, wrap) = (filled(&body, fill), filled(&wrap, fill));
            match cell {
                Cell::Empty => ws.write_blank(row, col, &body).map(|_| ()),
                Cell::Text(s) if t.label_column && c > 0 => ws.write_string_with_format(row, col, s, &wrap).map(|_| ()),
                Cell::Text(s) => ws.write_string_with_format(row, col, s, &body).map(|_| ()),
                Cell::Int(_) | Cell::Num(..) => {
                    let d = match cell {
                        Cell::Num(_, d) => (*d as usize).min(3),
                        _ => 0,
                    };
                    let v = cell.number().unwrap_or_default();
                    ws.write_number_with_format(row, col, v, &filled(&nums[d], fill)).map(|_| ())
                }
            }
            .map_err(err)?;
        }
        row += 1;
    }
    for n in &t.notes {
        ws.write_string(row, 0, n).map_err(err)?;
        row += 1;
    }
    // Column widths from the longest printed value (CJK characters count double).
    for c in 0..width {
        let longest = t
            .header
            .get(c)
            .into_iter()
            .cloned()
            .chain(t.rows.iter().filter_map(|r| r.get(c)).map(Cell::display))
            .map(|s| {
                s.lines()
                    .map(|l| l.chars().map(|ch| if ch.is_ascii() { 1 } else { 2 }).sum::<usize>())
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(8);
        let w = if t.label_column && c > 0 { 90.0 } else { (longest as f64 + 2.0).clamp(6.0, 40.0) };
        ws.set_column_width(c as u16, w).map_err(err)?;
    }
    Ok(())
}

/// `f` on a cell coloured `hex` (`#rrggbb`); dark fills get white text.
fn filled(f: &Format, hex: Option<&str>) -> Format {
    let Some(rgb) = hex.and_then(|h| u32::from_str_radix(h.trim_start_matches('#'), 16).ok()) else {
        return f.clone();
    };
    let (r, g, b) = (rgb >> 16, (rgb >> 8) & 0xff, rgb & 0xff);
    // Perceived brightness (ITU-R BT.601 weights): red, purple and maroon take white text.
    let dark = 299 * r + 587 * g + 114 * b < 128_000;
    let f = f.clone().set_background_color(Color::RGB(rgb));
    if dark { f.set_font_color(Color::White) } else { f }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    #[test]
    fn numbers_stay_numbers() {
        let t = Table {
            caption: "表1 城市排名".into(),
            sheet: "排名".into(),
            header: vec!["城市".into(), "PM2.5(μg/m³)".into(), "综合指数".into(), "备注".into()],
            rows: vec![
                vec![Cell::text("成都"), Cell::Int(43), Cell::Num(4.654, 2), Cell::Empty],
                vec![Cell::text("宜宾"), Cell::Num(44.5, 0), Cell::Num(4.105, 2), Cell::text("x")],
            ],
            notes: vec!["注：浓度单位为微克/立方米。".into()],
            label_column: false,
            fills: Vec::new(),
        };
        let doc = Doc { title: "t".into(), blocks: vec![Block::Table(t)], ..Default::default() };
        let bytes = render(&doc, None).unwrap();
        let mut x: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(x.sheet_names(), vec!["排名".to_string()]);
        let r = x.worksheet_range("排名").unwrap();
        assert_eq!(r.get_value((0, 0)), Some(&Data::String("表1 城市排名".into())));
        assert_eq!(r.get_value((1, 1)), Some(&Data::String("PM2.5(μg/m³)".into())));
        assert_eq!(r.get_value((2, 1)), Some(&Data::Float(43.0)));
        assert_eq!(r.get_value((2, 2)), Some(&Data::Float(4.65)));
        // Half-even: 44.5 → 44, 4.105 → 4.10 (GB/T 8170), stored as printed.
        assert_eq!(r.get_value((3, 1)), Some(&Data::Float(44.0)));
        assert_eq!(r.get_value((3, 2)), Some(&Data::Float(4.1)));
        assert_eq!(r.get_value((4, 0)), Some(&Data::String("注：浓度单位为微克/立方米。".into())));
    }

    #[test]
    fn sheet_names_are_legal_and_unique() {
        let mut taken = Vec::new();
        assert_eq!(sheet_name("a/b:c", &mut taken), "abc");
        assert_eq!(sheet_name("abc", &mut taken), "abc2");
        assert_eq!(sheet_name("", &mut taken), "Sheet");
    }
}
