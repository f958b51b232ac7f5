//! Charts as PNG: a ranking bar chart, a monthly trend line chart and a
//! calendar of daily AQI levels in the standard colours (HJ 633 Table 2).
//! Text is drawn with the bundled Noto Sans SC subset (GB 2312, OFL), so
//! Chinese labels render the same on every machine.

use crate::doc::Image;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::sync::Once;

/// Noto Sans CJK SC Regular, subset to GB 2312 (see assets/fonts/LICENSE-OFL.txt).
static FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-GB2312.otf");
const FAMILY: &str = "lantian-cjk";

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

fn err(e: impl std::fmt::Display) -> Error {
    Error::Chart(e.to_string())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

/// Draw on a white `w`×`h` canvas and encode it as PNG.
fn png(
    name: &str,
    caption: &str,
    (w, h): (u32, u32),
    draw: impl FnOnce(&Area<'_>) -> std::result::Result<(), Box<dyn std::error::Error>>,
) -> Result<Image> {
    register()?;
    let mut buf = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        draw(&root).map_err(err)?;
        root.present().map_err(err)?;
    }
    let img = image::RgbImage::from_raw(w, h, buf).ok_or_else(|| Error::Chart("buffer size".into()))?;
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageOutputFormat::Png).map_err(err)?;
    Ok(Image { caption: caption.into(), name: name.into(), png: out.into_inner(), width: w, height: h })
}

fn hex(s: &str) -> RGBColor {
    let v = u32::from_str_radix(s.trim_start_matches('#'), 16).unwrap_or(0x80_80_80);
    RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
}

const BAR: RGBColor = RGBColor(0x2f, 0x6d, 0xb5);
const PREV: RGBColor = RGBColor(0xa0, 0xa0, 0xa0);
const NO_DATA: RGBColor = RGBColor(0xe6, 0xe6, 0xe6);

/// Bars in the given order (e.g. ranked cities), values printed on top.
pub fn bars(name: &str, title: &str, labels: &[String], values: &[Option<f64>], decimals: usize) -> Result<Image> {
    let n = labels.len().max(1);
    let width = (120 + 44 * n as u32).max(640);
    let max = values.iter().flatten().fold(0.0f64, |a, &b| a.max(b)).max(1e-9) * 1.15;
    png(name, title, (width, 460), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(20.0))
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(48)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..max)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(6)
            .y_label_style(font(13.0))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .light_line_style(WHITE)
            .draw()?;
        chart.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            v.map(|v| Rectangle::new([(i as f64 - 0.35, 0.0), (i as f64 + 0.35, v)], BAR.filled()))
        }))?;
        for (i, v) in values.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(i as f64, v.unwrap_or(0.0)));
            let top = match v {
                Some(v) => format!("{v:.decimals$}"),
                None => "—".into(),
            };
            root.draw(&Text::new(top, (x, y - 18), font(13.0).pos(text_center())))?;
            let (_, base) = chart.backend_coord(&(0.0, 0.0));
            root.draw(&Text::new(labels[i].clone(), (x, base + 6), font(13.0).pos(text_center())))?;
        }
        Ok(())
    })
}

fn text_center() -> plotters::style::text_anchor::Pos {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    Pos::new(HPos::Center, VPos::Top)
}

/// Monthly values of this year and last year (12 slots, `None` = no data).
pub fn monthly_trend(name: &str, title: &str, unit: &str, series: &[(String, Vec<Option<f64>>)]) -> Result<Image> {
    let max = series.iter().flat_map(|(_, v)| v.iter().flatten()).fold(0.0f64, |a, &b| a.max(b)).max(1.0) * 1.2;
    png(name, title, (900, 420), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, font(20.0))
            .margin(12)
            .x_label_area_size(30)
            .y_label_area_size(52)
            .build_cartesian_2d(0.5f64..12.5, 0f64..max)?;
        chart
            .configure_mesh()
            .x_labels(12)
            .x_label_formatter(&|x| format!("{}月", x.round() as i64))
            .x_label_style(font(13.0))
            .y_label_style(font(13.0))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .y_desc(unit)
            .axis_desc_style(font(13.0))
            .light_line_style(RGBColor(0xee, 0xee, 0xee))
            .draw()?;
        for (k, (label, values)) in series.iter().enumerate() {
            let colour = if k == 0 { BAR } else { PREV };
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
                let s = chart.draw_series(LineSeries::new(r.clone(), colour.stroke_width(3)))?;
                if first {
                    s.label(label.clone())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
                    first = false;
                }
                chart.draw_series(r.iter().map(|&(x, y)| Circle::new((x, y), 4, colour.filled())))?;
            }
        }
        chart
            .configure_series_labels()
            .label_font(font(13.0))
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK.mix(0.3))
            .position(SeriesLabelPosition::UpperRight)
            .draw()?;
        Ok(())
    })
}

/// A calendar: one row per area, one column per day, each cell in its AQI
/// level's colour (`Some(1..=6)`), grey without a value; legend below.
pub fn level_calendar(
    name: &str,
    title: &str,
    rows: &[(String, Vec<Option<u8>>)],
    day_labels: &[String],
) -> Result<Image> {
    let days = day_labels.len().max(1) as u32;
    let cell = (760 / days).clamp(6, 24);
    let left = 70u32;
    let top = 46u32;
    let width = left + cell * days + 20;
    let height = top + 22 + cell * rows.len() as u32 + 60;
    png(name, title, (width.max(640), height), |root| {
        root.draw(&Text::new(title.to_string(), ((width.max(640) / 2) as i32, 10), font(20.0).pos(text_center())))?;
        for (d, label) in day_labels.iter().enumerate() {
            // Every day when there is room, else every fifth.
            if cell >= 18 || d % 5 == 0 {
                let x = (left + cell * d as u32 + cell / 2) as i32;
                root.draw(&Text::new(label.clone(), (x, top as i32), font(11.0).pos(text_center())))?;
            }
        }
        let y0 = top + 20;
        for (r, (area, levels)) in rows.iter().enumerate() {
            let y = (y0 + cell * r as u32) as i32;
            root.draw(&Text::new(area.clone(), (4, y + 2), font(12.0)))?;
            for (d, l) in levels.iter().enumerate() {
                let x = (left + cell * d as u32) as i32;
                let colour = match l {
                    Some(l @ 1..=6) => hex(lantian_core::Level::from_aqi(level_floor(*l)).colour_hex()),
                    _ => NO_DATA,
                };
                root.draw(&Rectangle::new([(x, y), (x + cell as i32 - 1, y + cell as i32 - 1)], colour.filled()))?;
            }
        }
        // Legend: the six levels and "no data".
        let ly = (y0 + cell * rows.len() as u32 + 18) as i32;
        let mut x = left as i32;
        for l in 1..=6u8 {
            let level = lantian_core::Level::from_aqi(level_floor(l));
            root.draw(&Rectangle::new([(x, ly), (x + 14, ly + 14)], hex(level.colour_hex()).filled()))?;
            root.draw(&Text::new(level.category_zh().to_string(), (x + 18, ly), font(12.0)))?;
            x += 30 + 14 * level.category_zh().chars().count() as i32;
        }
        root.draw(&Rectangle::new([(x, ly), (x + 14, ly + 14)], NO_DATA.filled()))?;
        root.draw(&Text::new("无数据".to_string(), (x + 18, ly), font(12.0)))?;
        Ok(())
    })
}

/// The lowest AQI of a level, to ask the core for its colour.
fn level_floor(level: u8) -> u16 {
    [0, 51, 101, 151, 201, 301][usize::from(level.clamp(1, 6) - 1)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(img: &Image) -> image::RgbImage {
        image::load_from_memory(&img.png).unwrap().to_rgb8()
    }

    #[test]
    fn calendar_cells_have_the_standard_colours() {
        let rows = vec![("成都".to_string(), vec![Some(1), Some(2), Some(5), None])];
        let labels: Vec<String> = (1..=4).map(|d| d.to_string()).collect();
        let img = level_calendar("cal", "日历", &rows, &labels).unwrap();
        let px = decode(&img);
        assert_eq!((px.width(), px.height()), (img.width, img.height));
        let cell = (760 / 4u32).clamp(6, 24);
        let at = |d: u32| px.get_pixel(70 + cell * d + cell / 2, 46 + 20 + cell / 2).0;
        assert_eq!(at(0), [0x00, 0xe4, 0x00], "优 green");
        assert_eq!(at(1), [0xff, 0xff, 0x00], "良 yellow");
        assert_eq!(at(2), [0x99, 0x00, 0x4c], "重度污染 purple");
        assert_eq!(at(3), [0xe6, 0xe6, 0xe6], "no data grey");
    }

    #[test]
    fn chinese_labels_are_drawn() {
        // The label area under the bars holds dark (text) pixels only when
        // the CJK font rendered the city names.
        let labels = vec!["成都".to_string(), "攀枝花".to_string()];
        let img = bars("b", "综合指数排名", &labels, &[Some(4.65), None], 2).unwrap();
        let px = decode(&img);
        let dark = px.pixels().filter(|p| p.0.iter().all(|&c| c < 100)).count();
        assert!(dark > 200, "text pixels: {dark}");
        let trend = monthly_trend("t", "PM2.5月均浓度", "μg/m³", &[("2019年".into(), vec![Some(50.0); 12])]).unwrap();
        assert!(trend.png.len() > 1000);
    }
}
