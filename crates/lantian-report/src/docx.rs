//! Word (.docx) in the layout of a government notice: A4, title in 小标宋
//! 二号, headings in 黑体, body in 仿宋 三号 with a two-character first-line
//! indent, tables in 宋体 五号 with a shaded header row, charts inline at
//! the text width. Fonts are named, not embedded: Word and LibreOffice map
//! them to the installed Chinese fonts.

use crate::doc::{Block, Cell, Doc, Image, Table as DocTable};
use crate::{Error, Result};
use docx_rs::{
    AlignmentType, Docx, LineSpacing, LineSpacingType, PageMargin, PageOrientationType, Paragraph, Pic, Run, RunFonts,
    Shading, Table, TableCell, TableRow, WidthType,
};

const TITLE_FONT: &str = "方正小标宋简体";
const HEADING_FONT: &str = "黑体";
const BODY_FONT: &str = "仿宋_GB2312";
const TABLE_FONT: &str = "宋体";
/// Half-points.
const TITLE_SIZE: usize = 44;
const BODY_SIZE: usize = 32;
const TABLE_SIZE: usize = 21;
/// A4 in twentieths of a point.
const A4: (u32, u32) = (11_906, 16_838);
const MARGIN: (i32, i32, i32, i32) = (2_098, 1_474, 1_984, 1_587); // top, right, bottom, left (3.7/2.6/3.5/2.8 cm)
/// EMU per twip.
const EMU_PER_TWIP: u32 = 635;

fn fonts(name: &str) -> RunFonts {
    RunFonts::new().east_asia(name).ascii("Times New Roman").hi_ansi("Times New Roman")
}

fn run(text: &str, font: &str, size: usize) -> Run {
    Run::new().add_text(text).fonts(fonts(font)).size(size)
}

/// The text width of a page, twips.
fn text_width(landscape: bool) -> u32 {
    let w = if landscape { A4.1 } else { A4.0 };
    w - (MARGIN.1 + MARGIN.3) as u32
}

/// The width a chart is placed at, pt: the text width (the charts are drawn
/// for the portrait width, so their text prints at the sizes they set).
pub fn image_width_pt(landscape: bool) -> f64 {
    f64::from(text_width(landscape)) / 20.0
}

/// Render `doc` as .docx bytes.
pub fn render(doc: &Doc) -> Result<Vec<u8>> {
    let (w, h) = if doc.landscape { (A4.1, A4.0) } else { A4 };
    let text_width = text_width(doc.landscape);
    let mut d = Docx::new()
        .page_size(w, h)
        .page_margin(PageMargin::new().top(MARGIN.0).right(MARGIN.1).bottom(MARGIN.2).left(MARGIN.3))
        .default_fonts(fonts(BODY_FONT))
        .default_size(BODY_SIZE);
    if doc.landscape {
        d = d.page_orient(PageOrientationType::Landscape);
    }
    d = d.add_paragraph(
        Paragraph::new()
            .align(AlignmentType::Center)
            .line_spacing(LineSpacing::new().after(240))
            .add_run(run(&doc.title, TITLE_FONT, TITLE_SIZE)),
    );
    for line in &doc.subtitle {
        d = d.add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run(line, BODY_FONT, BODY_SIZE)));
    }
    let body_spacing = || LineSpacing::new().line(560).line_rule(LineSpacingType::Exact);
    for b in &doc.blocks {
        d = match b {
            Block::Heading(level, t) => {
                let font = if *level <= 1 { HEADING_FONT } else { "楷体_GB2312" };
                d.add_paragraph(
                    indent(Paragraph::new())
                        .line_spacing(body_spacing())
                        .keep_next(true)
                        .add_run(run(t, font, BODY_SIZE)),
                )
            }
            Block::Para(t) => d.add_paragraph(
                indent(Paragraph::new()).line_spacing(body_spacing()).add_run(run(t, BODY_FONT, BODY_SIZE)),
            ),
            Block::Table(t) => {
                let mut d = d;
                if !t.caption.is_empty() {
                    d = d.add_paragraph(
                        Paragraph::new()
                            .align(AlignmentType::Center)
                            .keep_next(true)
                            .add_run(run(&t.caption, HEADING_FONT, 24).bold()),
                    );
                }
                d = d.add_table(table(t, text_width));
                for n in &t.notes {
                    d = d.add_paragraph(Paragraph::new().add_run(run(n, TABLE_FONT, TABLE_SIZE)));
                }
                d
            }
            Block::Image(i) => image(d, i, text_width),
        };
    }
    let mut out = std::io::Cursor::new(Vec::new());
    d.build().pack(&mut out).map_err(|e| Error::Docx(e.to_string()))?;
    Ok(out.into_inner())
}

/// Two characters of first-line indent: 2 × 16 pt = 640 twips.
fn indent(p: Paragraph) -> Paragraph {
    p.indent(None, Some(docx_rs::SpecialIndentType::FirstLine(640)), None, None)
}

fn image(d: Docx, i: &Image, text_width: u32) -> Docx {
    // At `image_width_pt`: the charts' text sizes assume it.
    let width_emu = text_width * EMU_PER_TWIP;
    let height_emu = (u64::from(width_emu) * u64::from(i.height) / u64::from(i.width.max(1))) as u32;
    let pic = Pic::new_with_dimensions(i.png.clone(), i.width, i.height).size(width_emu, height_emu);
    d.add_paragraph(Paragraph::new().align(AlignmentType::Center).keep_next(true).add_run(Run::new().add_image(pic)))
        .add_paragraph(Paragraph::new().align(AlignmentType::Center).add_run(run(&i.caption, TABLE_FONT, TABLE_SIZE)))
}

fn cell_paragraph(text: &str, align: AlignmentType, bold: bool, size: usize) -> Paragraph {
    let mut paragraphs = text.split('\n');
    let first = paragraphs.next().unwrap_or_default();
    let mut r = run(first, TABLE_FONT, size);
    if bold {
        r = r.bold();
    }
    // Line breaks inside a cell (a measure's numbered items) stay breaks.
    for more in paragraphs {
        r = r.add_break(docx_rs::BreakType::TextWrapping).add_text(more);
    }
    Paragraph::new().align(align).add_run(r)
}

fn table(t: &DocTable, text_width: u32) -> Table {
    let width = t.rows.iter().map(Vec::len).chain([t.header.len()]).max().unwrap_or(1).max(1);
    // Label layout: a narrow label column, the text takes the rest.
    let grid: Vec<usize> = if t.label_column && width == 2 {
        let label = (text_width / 6) as usize;
        vec![label, text_width as usize - label]
    } else {
        vec![text_width as usize / width; width]
    };
    // Wide tables in 小五 (9 pt) so ten columns fit a portrait page.
    let size = if width > 7 { 18 } else { TABLE_SIZE };
    let mut rows = Vec::new();
    if !t.header.is_empty() {
        rows.push(
            TableRow::new(
                t.header
                    .iter()
                    .zip(&grid)
                    .map(|(h, w)| {
                        TableCell::new()
                            .width(*w, WidthType::Dxa)
                            .shading(Shading::new().fill("D9E2F3"))
                            .add_paragraph(cell_paragraph(h, AlignmentType::Center, true, size))
                    })
                    .collect(),
            )
            .cant_split(),
        );
    }
    for r in &t.rows {
        let cells = r
            .iter()
            .enumerate()
            .zip(&grid)
            .map(|((c, cell), w)| {
                let label = t.label_column && c == 0;
                let align = match cell {
                    Cell::Int(_) | Cell::Num(..) | Cell::Empty => AlignmentType::Center,
                    Cell::Text(_) if label || t.label_column => {
                        if label {
                            AlignmentType::Center
                        } else {
                            AlignmentType::Both
                        }
                    }
                    Cell::Text(_) => AlignmentType::Center,
                };
                let mut tc = TableCell::new().width(*w, WidthType::Dxa);
                if label {
                    tc = tc.shading(Shading::new().fill("F2F2F2"));
                }
                tc.add_paragraph(cell_paragraph(&cell.display(), align, label, size))
            })
            .collect();
        rows.push(TableRow::new(cells));
    }
    Table::new(rows).set_grid(grid).width(text_width as usize, WidthType::Dxa)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_docx_is_a_zip_with_the_text() {
        let doc = Doc {
            title: "四川省环境空气质量通报".into(),
            subtitle: vec!["2019年7月".into()],
            blocks: vec![
                Block::Heading(1, "一、总体情况".into()),
                Block::Para("全省PM2.5平均浓度为25微克/立方米。".into()),
                Block::Table(DocTable {
                    caption: "表1".into(),
                    header: vec!["城市".into(), "PM2.5".into()],
                    rows: vec![vec![Cell::text("成都"), Cell::Int(21)]],
                    ..Default::default()
                }),
            ],
            landscape: false,
        };
        let bytes = render(&doc).unwrap();
        assert_eq!(&bytes[..2], b"PK");
        // The document part holds the generated sentence.
        let text = String::from_utf8_lossy(&bytes);
        assert!(bytes.len() > 1000, "{}", text.len());
    }
}
