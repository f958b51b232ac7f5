use super::*;
use crate::docx::image_width_pt;

fn decode(img: &Image) -> image::RgbImage {
    image::load_from_memory(&img.png).unwrap().to_rgb8()
}

const CITIES: [&str; 21] = [
    "阿坝州",
    "甘孜州",
    "凉山州",
    "雅安",
    "遂宁",
    "巴中",
    "广元",
    "内江",
    "广安",
    "资阳",
    "绵阳",
    "南充",
    "乐山",
    "泸州",
    "德阳",
    "自贡",
    "眉山",
    "宜宾",
    "攀枝花",
    "成都",
    "达州",
];

/// The notice's three charts at their real sizes (21 cities, a 31-day month).
fn notice_charts() -> Vec<(Image, Vec<Mark>)> {
    let labels: Vec<String> = CITIES.iter().map(|c| c.to_string()).collect();
    let values: Vec<Option<f64>> = (0..21).map(|i| Some(2.0 + 0.13 * f64::from(i))).collect();
    let trend = vec![
        ("2019年".to_string(), (0..12).map(|m| (m < 7).then_some(60.0 - 6.0 * f64::from(m))).collect()),
        ("2018年".to_string(), (0..12).map(|m| Some(55.0 - 3.0 * f64::from(m))).collect()),
    ];
    let rows: Vec<(String, Vec<Option<u8>>)> = labels
        .iter()
        .enumerate()
        .map(|(i, c)| (c.clone(), (0..31).map(|d| Some(((i + d) % 6) as u8 + 1)).collect()))
        .collect();
    let days: Vec<String> = (1..=31).map(|d| d.to_string()).collect();
    vec![
        bars_marked("b", "图1 2019年7月各市（州）环境空气质量综合指数", &labels, &values, 2).unwrap(),
        monthly_trend_marked("t", "图2 全省PM2.5月均浓度变化（四川省）", "微克/立方米", &trend).unwrap(),
        level_calendar_marked("c", "图3 2019年7月各市（州）逐日空气质量级别", &rows, &days).unwrap(),
    ]
}

#[test]
fn effective_size_is_font_over_image_width_times_placed_width() {
    assert!((effective_pt(27.0, 1327, 442.25) - 8.998).abs() < 0.01);
    assert!((effective_pt(13.0, 1044, 442.25) - 5.5).abs() < 0.01, "the old bar chart's labels");
}

#[test]
fn every_text_prints_at_9_pt_or_more_where_the_docx_places_it() {
    let placed = image_width_pt(false);
    let mut roles = Vec::new();
    for (img, marks) in notice_charts() {
        assert_eq!(img.width, WIDTH, "{}", img.name);
        assert!(!marks.is_empty(), "{}", img.name);
        for m in &marks {
            let pt = effective_pt(m.px, img.width, placed);
            assert!(pt >= 9.0, "{}: {:?} {:?} prints at {pt:.1} pt", img.name, m.role, m.text);
            roles.push(m.role);
        }
    }
    for role in TextRole::ALL {
        assert!(roles.contains(&role), "{role:?} is not used by any chart");
    }
    // The old layout (13 px in a 1044 px bar chart) would not pass.
    assert!(effective_pt(13.0, 1044, placed) < 9.0);
}

#[test]
fn no_chart_draws_its_title() {
    for (img, marks) in notice_charts() {
        let caption = &img.caption;
        assert!(caption.starts_with('图'));
        for text in marks.iter().filter_map(|m| m.text.as_deref()) {
            assert!(text != caption && !text.contains('图'), "{}: {text}", img.name);
        }
    }
    // Nothing is drawn in the band above the plot where a title would go.
    let (img, _) = &notice_charts()[0];
    let px = decode(img);
    assert!((0..12).all(|y| (0..px.width()).all(|x| px.get_pixel(x, y).0 == [255, 255, 255])));
}

#[test]
fn calendar_cells_carry_their_level_number() {
    let rows = vec![("成都".to_string(), vec![Some(1), Some(2), Some(5), None, Some(6)])];
    let labels: Vec<String> = (1..=5).map(|d| d.to_string()).collect();
    let (_, marks) = level_calendar_marked("cal", "日历", &rows, &labels).unwrap();
    let numbers: Vec<&str> =
        marks.iter().filter(|m| m.role == TextRole::CellNumber).filter_map(|m| m.text.as_deref()).collect();
    // The four days with a level, then the legend's six swatches.
    assert_eq!(numbers, ["1", "2", "5", "6", "1", "2", "3", "4", "5", "6"]);
}

#[test]
fn level_numbers_stand_out_in_grey() {
    // Luma (ITU-R BT.601) of the ink against the cell, as a black-and-white
    // printer renders it.
    let luma = |c: RGBColor| 0.299 * f64::from(c.0) + 0.587 * f64::from(c.1) + 0.114 * f64::from(c.2);
    for level in 1..=6u8 {
        let contrast = (luma(cell_ink(level)) - luma(level_colour(level))).abs();
        assert!(contrast >= 120.0, "level {level}: {contrast:.0}");
    }
}

#[test]
fn calendar_cells_have_the_standard_colours() {
    let rows = vec![("成都".to_string(), vec![Some(1), Some(2), Some(5), None])];
    let labels: Vec<String> = (1..=4).map(|d| d.to_string()).collect();
    let img = level_calendar("cal", "日历", &rows, &labels).unwrap();
    let px = decode(&img);
    assert_eq!((px.width(), px.height()), (img.width, img.height));
    let l = calendar_layout(&rows, 4);
    // Inside the cell, off the number in its centre.
    let at = |d: u32| px.get_pixel(l.left + l.cell * d + 4, l.top + 4).0;
    assert_eq!(at(0), [0x00, 0xe4, 0x00], "优 green");
    assert_eq!(at(1), [0xff, 0xff, 0x00], "良 yellow");
    assert_eq!(at(2), [0x99, 0x00, 0x4c], "重度污染 purple");
    assert_eq!(at(3), [0xe6, 0xe6, 0xe6], "no data grey");
}

#[test]
fn chinese_labels_are_drawn() {
    // The label area beside the bars holds dark (text) pixels only when
    // the CJK font rendered the city names.
    let labels = vec!["成都".to_string(), "攀枝花".to_string()];
    let img = bars("b", "综合指数排名", &labels, &[Some(4.65), None], 2).unwrap();
    let px = decode(&img);
    let dark = (0..px.height()).flat_map(|y| (0..100).map(move |x| (x, y)));
    let dark = dark.filter(|&(x, y)| px.get_pixel(x, y).0.iter().all(|&c| c < 100)).count();
    assert!(dark > 200, "text pixels: {dark}");
    let trend = monthly_trend("t", "PM2.5月均浓度", "μg/m³", &[("2019年".into(), vec![Some(50.0); 12])]).unwrap();
    assert!(trend.png.len() > 1000);
}
