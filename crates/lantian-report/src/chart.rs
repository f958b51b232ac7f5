//! Charts as PNG, drawn for print: a ranking bar chart, a monthly trend line
//! chart and a calendar of daily AQI levels in the standard colours (HJ 633
//! Table 2) with the level's number in each cell, so it reads in black and
//! white too. Text is drawn with the bundled Noto Sans SC subset (GB 2312,
//! OFL), so Chinese labels render the same on every machine.
//!
//! Every chart is `WIDTH` pixels wide and the .docx places it at the text
//! width of the page, so a pixel has one size on paper and the text sizes
//! are set in points (`TextRole`). The chart draws no title: its caption is
//! the document's (the docx prints it under the image).

use crate::doc::Image;
use crate::{Error, Result};
use lantian_core::round::round_half_even;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::cell::RefCell;
use std::sync::Once;

/// Noto Sans CJK SC Regular, subset to GB 2312 (see assets/fonts/LICENSE-OFL.txt).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-GB2312.otf");
const FAMILY: &str = "lantian-cjk";

/// Canvas width of every chart, px (3 px per point at the width below).
pub const WIDTH: u32 = 1327;
/// The width the charts are drawn for: the text width of a portrait A4
/// notice (`docx::image_width_pt(false)`), pt.
const PRINT_WIDTH_PT: f64 = 442.25;

/// What a piece of text is, which sets its size on paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextRole {
    /// Axis tick labels and the calendar's day numbers.
    Tick,
    /// An axis's name (unit).
    AxisName,
    /// Values printed at bars and points.
    DataLabel,
    Legend,
    /// Category names beside bars and calendar rows (cities).
    RowLabel,
    /// The level number in a calendar cell.
    CellNumber,
}

impl TextRole {
    pub const ALL: [TextRole; 6] = [
        TextRole::Tick,
        TextRole::AxisName,
        TextRole::DataLabel,
        TextRole::Legend,
        TextRole::RowLabel,
        TextRole::CellNumber,
    ];

    /// Size on paper when the chart is placed at the width it is drawn for
    /// (小五 is 9 pt, the smallest a printed notice uses).
    fn pt(self) -> f64 {
        match self {
            TextRole::Tick | TextRole::DataLabel => 9.5,
            TextRole::AxisName | TextRole::Legend | TextRole::RowLabel => 10.0,
            TextRole::CellNumber => 9.0,
        }
    }

    /// Font size on the canvas (em), px.
    pub fn px(self) -> f64 {
        self.pt() * f64::from(WIDTH) / PRINT_WIDTH_PT
    }
}

/// The printed size, pt, of text `font_px` high in an image `image_px`
/// wide placed `placed_pt` wide.
pub fn effective_pt(font_px: f64, image_px: u32, placed_pt: f64) -> f64 {
    font_px / f64::from(image_px.max(1)) * placed_pt
}

/// A piece of text a chart drew (or a style it gave plotters for its tick
/// labels, legend, axis names: then without `text`). Tests read these.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    pub role: TextRole,
    pub px: f64,
    pub text: Option<String>,
}

/// Hands out text styles by role and records what was drawn.
#[derive(Default)]
struct Pen {
    marks: RefCell<Vec<Mark>>,
}

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

impl Pen {
    fn style(&self, role: TextRole) -> TextStyle<'static> {
        self.marks.borrow_mut().push(Mark { role, px: role.px(), text: None });
        font(role.px())
    }

    fn text(&self, area: &Area<'_>, role: TextRole, text: &str, at: (i32, i32), pos: Pos, ink: RGBColor) -> DrawResult {
        self.marks.borrow_mut().push(Mark { role, px: role.px(), text: Some(text.to_string()) });
        area.draw(&Text::new(text.to_string(), at, font(role.px()).pos(pos).color(&ink)))?;
        Ok(())
    }
}

fn register() -> Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| Error::Chart("the bundled font does not load".into()));
    });
    result
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().into()
}

/// Approximate advance of `s` at `px`: CJK one em, ASCII about half.
fn text_width(s: &str, px: f64) -> f64 {
    s.chars().map(|c| if c.is_ascii() { 0.6 } else { 1.0 }).sum::<f64>() * px
}

fn err(e: impl std::fmt::Display) -> Error {
    Error::Chart(e.to_string())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draw on a white `w`×`h` canvas and encode it as PNG.
fn png(
    name: &str,
    caption: &str,
    (w, h): (u32, u32),
    draw: impl FnOnce(&Area<'_>, &Pen) -> DrawResult,
) -> Result<(Image, Vec<Mark>)> {
    register()?;
    let pen = Pen::default();
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root, &pen).map_err(err)?;
        root.present().map_err(err)?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| Error::Chart("buffer size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageOutputFormat::Png).map_err(err)?;
    let image = Image { caption: caption.into(), name: name.into(), png: out.into_inner(), width: w, height: h };
    Ok((image, pen.marks.into_inner()))
}

fn hex(s: &str) -> RGBColor {
    let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap_or(0x80_80_80);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

const BAR: RGBColor = RGBColor(0x2f, 0x6d, 0xb5);
const PREV: RGBColor = RGBColor(0x80, 0x80, 0x80);
const GRID: RGBColor = RGBColor(0xdd, 0xdd, 0xdd);
const NO_DATA: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);

fn px(role: TextRole) -> u32 {
    role.px().round() as u32
}

/// Horizontal bars in the given order from the top (e.g. ranked cities),
/// values printed at the bars' ends. `caption` is the document's caption.
pub fn bars(name: &str, caption: &str, labels: &[String], values: &[Option<f64>], decimals: usize) -> Result<Image> {
    bars_marked(name, caption, labels, values, decimals).map(|(i, _)| i)
}

fn bars_marked(
    name: &str,
    caption: &str,
    labels: &[String],
    values: &[Option<f64>],
    decimals: usize,
) -> Result<(Image, Vec<Mark>)> {
    let n = labels.len().max(1);
    // One row per category, 16 pt apart.
    let pitch = 48u32;
    let label_w = labels.iter().map(|l| text_width(l, TextRole::RowLabel.px())).fold(0.0, f64::max) as u32 + 24;
    let axis_h = px(TextRole::Tick) * 2;
    let height = 16 + pitch * n as u32 + axis_h + 8;
    let max = values.iter().flatten().fold(0.0f64, |a, &b| a.max(b)).max(1e-9) * 1.15;
    let tick_decimals = usize::from(max < 10.0);
    png(name, caption, (WIDTH, height), |root, pen| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(16)
            .margin_right(24)
            .margin_bottom(8)
            .margin_left(8)
            .x_label_area_size(axis_h)
            .y_label_area_size(label_w)
            .build_cartesian_2d(0f64..max, -0.5f64..(n as f64 - 0.5))?;
        let ticks = move |x: &f64| format!("{x:.tick_decimals$}");
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .x_label_style(pen.style(TextRole::Tick))
            .x_label_formatter(&ticks)
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .draw()?;
        // The first category on top.
        let row = |i: usize| (n - 1 - i) as f64;
        chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| Rectangle::new([(0.0, row(i) - 0.32), (v, row(i) + 0.32)], BAR.filled()))
        }))?;
        for (i, label) in labels.iter().enumerate() {
            let (x0, y) = chart.backend_coord(&(0.0, row(i)));
            let right = Pos::new(HPos::Right, VPos::Center);
            pen.text(root, TextRole::RowLabel, label, (x0 - 12, y), right, BLACK)?;
            let (x, value) = match values.get(i).copied().flatten() {
                Some(v) => (chart.backend_coord(&(v, row(i))).0, format!("{v:.decimals$}")),
                None => (x0, "—".to_string()),
            };
            pen.text(root, TextRole::DataLabel, &value, (x + 8, y), Pos::new(HPos::Left, VPos::Center), BLACK)?;
        }
        Ok(())
    })
}

/// Monthly values of this year and last year (12 slots, `None` = no data):
/// the first series solid with its values printed, the others dashed with
/// hollow markers (told apart in black and white too).
pub fn monthly_trend(name: &str, caption: &str, unit: &str, series: &[(String, Vec<Option<f64>>)]) -> Result<Image> {
    monthly_trend_marked(name, caption, unit, series).map(|(i, _)| i)
}

fn monthly_trend_marked(
    name: &str,
    caption: &str,
    unit: &str,
    series: &[(String, Vec<Option<f64>>)],
) -> Result<(Image, Vec<Mark>)> {
    let max = series.iter().flat_map(|(_, v)| v.iter().flatten()).fold(0.0f64, |a, &b| a.max(b)).max(1.0) * 1.2;
    let tick = px(TextRole::Tick);
    png(name, caption, (WIDTH, 640), |root, pen| {
        let mut chart = ChartBuilder::on(root)
            .margin_top(16)
            .margin_right(32)
            .margin_bottom(8)
            .margin_left(8)
            .x_label_area_size(tick * 2)
            // Tick values and the rotated unit beside them.
            .y_label_area_size(tick * 2 + px(TextRole::AxisName) * 2)
            .build_cartesian_2d(0.5f64..12.5, 0f64..max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(12)
            .x_label_formatter(&|x| format!("{}月", x.round() as i64))
            .x_label_style(pen.style(TextRole::Tick))
            .y_labels(6)
            .y_label_style(pen.style(TextRole::Tick))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc(unit)
            .axis_desc_style(pen.style(TextRole::AxisName))
            .bold_line_style(GRID)
            .light_line_style(WHITE)
            .draw()?;
        for (k, (label, values)) in series.iter().enumerate() {
            // Broken where a month has no value.
            let mut run: Vec<(f64, f64)> = Vec::new();
            let mut runs = Vec::new();
            for (m, v) in values.iter().enumerate() {
                match v {
                    Some(v) => run.push(((m + 1) as f64, *v)),
                    None => runs.push(std::mem::take(&mut run)),
                }
            }
            runs.push(run);
            let mut first = true;
            for r in runs.into_iter().filter(|r| !r.is_empty()) {
                let s = if k == 0 {
                    chart.draw_series(LineSeries::new(r.clone(), BAR.stroke_width(4)))?
                } else {
                    chart.draw_series(DashedLineSeries::new(r.clone(), 14, 10, PREV.stroke_width(4)))?
                };
                // The legend's sample: a solid line with a dot, or dashes
                // with a hollow one.
                match (first, k) {
                    (true, 0) => {
                        s.label(label.clone()).legend(|at| {
                            EmptyElement::at(at)
                                + PathElement::new(vec![(0, 0), (44, 0)], BAR.stroke_width(4))
                                + Circle::new((22, 0), 7, BAR.filled())
                        });
                    }
                    (true, _) => {
                        s.label(label.clone()).legend(|at| {
                            EmptyElement::at(at)
                                + PathElement::new(vec![(0, 0), (14, 0)], PREV.stroke_width(4))
                                + PathElement::new(vec![(30, 0), (44, 0)], PREV.stroke_width(4))
                                + Circle::new((22, 0), 7, PREV.stroke_width(3))
                        });
                    }
                    _ => {}
                }
                first = false;
                if k == 0 {
                    chart.draw_series(r.iter().map(|&(x, y)| Circle::new((x, y), 7, BAR.filled())))?;
                    for &(x, y) in &r {
                        let (bx, by) = chart.backend_coord(&(x, y));
                        let v = format!("{:.0}", round_half_even(y, 0));
                        let above = Pos::new(HPos::Center, VPos::Bottom);
                        pen.text(root, TextRole::DataLabel, &v, (bx, by - 12), above, BLACK)?;
                    }
                } else {
                    chart.draw_series(r.iter().map(|&(x, y)| Circle::new((x, y), 7, PREV.stroke_width(3))))?;
                }
            }
        }
        chart
            .configure_series_labels()
            .label_font(pen.style(TextRole::Legend))
            .legend_area_size(56)
            .margin(16)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        Ok(())
    })
}

/// Where the calendar's parts go, px.
#[derive(Clone, Copy, Debug, PartialEq)]
struct CalendarLayout {
    /// Left edge of the first day's column.
    left: u32,
    /// Top edge of the first row.
    top: u32,
    cell: u32,
    /// Top edge of the legend.
    legend: u32,
}

fn calendar_layout(rows: &[(String, Vec<Option<u8>>)], days: usize) -> CalendarLayout {
    let label_w = rows.iter().map(|(a, _)| text_width(a, TextRole::RowLabel.px())).fold(0.0, f64::max) as u32;
    let left = 8 + label_w + 16;
    // A month fits at ≈ 13 pt a cell; a week is not stretched past 16 pt.
    let cell = ((WIDTH - left - 16) / days.max(1) as u32).min(48);
    let top = 8 + px(TextRole::Tick) * 3 / 2;
    let legend = top + cell * rows.len() as u32 + 28;
    CalendarLayout { left, top, cell, legend }
}

/// The ink of a level's number: black on the light colours, white on red
/// and darker (HJ 633's colours, checked in grey in the tests).
fn cell_ink(level: u8) -> RGBColor {
    if level >= 4 { WHITE } else { BLACK }
}

fn level_colour(level: u8) -> RGBColor {
    hex(lantian_core::Level::from_aqi(level_floor(level)).colour_hex())
}

/// A calendar: one row per area, one column per day, each cell in its AQI
/// level's colour with the level's number (`Some(1..=6)`), grey and blank
/// without a value; the legend below.
pub fn level_calendar(
    name: &str,
    caption: &str,
    rows: &[(String, Vec<Option<u8>>)],
    day_labels: &[String],
) -> Result<Image> {
    level_calendar_marked(name, caption, rows, day_labels).map(|(i, _)| i)
}

fn level_calendar_marked(
    name: &str,
    caption: &str,
    rows: &[(String, Vec<Option<u8>>)],
    day_labels: &[String],
) -> Result<(Image, Vec<Mark>)> {
    let l = calendar_layout(rows, day_labels.len());
    let swatch = px(TextRole::CellNumber) * 3 / 2;
    // The legend: the six levels and "no data", wrapped to the width.
    let mut items = Vec::new();
    let (mut x, mut y) = (l.left, l.legend);
    let entries = (1..=6u8).map(|n| (Some(n), lantian_core::Level::from_aqi(level_floor(n)).category_zh()));
    for (level, label) in entries.chain([(None, "无数据")]) {
        let w = swatch + 10 + text_width(label, TextRole::Legend.px()) as u32 + 28;
        if x + w > WIDTH && x > l.left {
            (x, y) = (l.left, y + swatch + 14);
        }
        items.push((level, label, x, y));
        x += w;
    }
    let height = y + swatch + 12;
    png(name, caption, (WIDTH, height), |root, pen| {
        let (cell, ci) = (l.cell, l.cell as i32);
        let numbers = f64::from(cell) >= TextRole::CellNumber.px() * 1.2;
        // Every day when the numbers fit, else every fifth.
        let every = if f64::from(cell) >= text_width("31", TextRole::Tick.px()) { 1 } else { 5 };
        for (d, label) in day_labels.iter().enumerate() {
            if d % every == 0 {
                let x = (l.left + cell * d as u32 + cell / 2) as i32;
                let bottom = Pos::new(HPos::Center, VPos::Bottom);
                pen.text(root, TextRole::Tick, label, (x, l.top as i32 - 6), bottom, BLACK)?;
            }
        }
        for (r, (area, levels)) in rows.iter().enumerate() {
            let y = (l.top + cell * r as u32) as i32;
            let right = Pos::new(HPos::Right, VPos::Center);
            pen.text(root, TextRole::RowLabel, area, (l.left as i32 - 12, y + ci / 2), right, BLACK)?;
            for (d, level) in levels.iter().enumerate() {
                let x = (l.left + cell * d as u32) as i32;
                let fill = level.filter(|l| (1..=6).contains(l)).map_or(NO_DATA, level_colour);
                root.draw(&Rectangle::new([(x + 1, y + 1), (x + ci - 2, y + ci - 2)], fill.filled()))?;
                if let (Some(n @ 1..=6), true) = (level, numbers) {
                    let centre = Pos::new(HPos::Center, VPos::Center);
                    let at = (x + ci / 2, y + ci / 2);
                    pen.text(root, TextRole::CellNumber, &n.to_string(), at, centre, cell_ink(*n))?;
                }
            }
        }
        for &(level, label, x, y) in &items {
            let (x, y, s) = (x as i32, y as i32, swatch as i32);
            let fill = level.map_or(NO_DATA, level_colour);
            root.draw(&Rectangle::new([(x, y), (x + s, y + s)], fill.filled()))?;
            if let Some(n) = level {
                let centre = Pos::new(HPos::Center, VPos::Center);
                pen.text(root, TextRole::CellNumber, &n.to_string(), (x + s / 2, y + s / 2), centre, cell_ink(n))?;
            }
            let left = Pos::new(HPos::Left, VPos::Center);
            pen.text(root, TextRole::Legend, label, (x + s + 10, y + s / 2), left, BLACK)?;
        }
        Ok(())
    })
}

/// The lowest AQI of a level, to ask the core for its colour.
fn level_floor(level: u8) -> u16 {
    [0, 51, 101, 151, 201, 301][usize::from(level.clamp(1, 6) - 1)]
}

#[cfg(test)]
mod tests;
