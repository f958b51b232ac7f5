//! `lantian boundaries import`: area outlines for the dashboard's map.

use super::Ctx;
use anyhow::Result;
use clap::Subcommand;
use lantian_app::{Cell, Col, Table};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum BoundariesCommand {
    /// Install a GeoJSON file of city outlines (Polygon/MultiPolygon features matched to the
    /// cities by GB/T 2260 code (`adcode`, `code`) or by name); prints how each feature matched.
    Import {
        file: PathBuf,
        /// The outlines are only a schematic (no 审图号): the pages caption the map 示意图.
        #[arg(long)]
        schematic: bool,
    },
}

pub fn boundaries(ctx: &Ctx, cmd: &BoundariesCommand) -> Result<()> {
    let BoundariesCommand::Import { file, schematic } = cmd;
    let r = lantian_app::pages::import_boundaries(&ctx.app, file, *schematic)?;
    let zh = ctx.zh();
    let mut t = Table::new(vec![
        Col("feature", "要素", "Feature"),
        Col("name", "名称", "Name"),
        Col("code", "代码", "Code"),
        Col("city", "城市", "City"),
        Col("matched_by", "匹配方式", "Matched by"),
    ]);
    for f in &r.features {
        let how = match (zh, f.how.as_str()) {
            (true, "code") => "行政区划代码".to_string(),
            (true, "name") => "名称".to_string(),
            (true, other) => format!("未匹配：{other}"),
            (false, other) => other.to_string(),
        };
        t.push(vec![
            Cell::Int(f.feature as i64),
            Cell::text(f.name.clone().unwrap_or_default()),
            Cell::text(f.code.clone().unwrap_or_default()),
            Cell::text(f.city.clone().unwrap_or_default()),
            Cell::text(how),
        ]);
    }
    ctx.print(&t)?;
    let unmatched = r.features.len() - r.matched();
    if zh {
        eprintln!("已导入边界: {} 个要素匹配到城市，{unmatched} 个未匹配", r.matched());
    } else {
        eprintln!("boundaries imported: {} features matched a city, {unmatched} did not", r.matched());
    }
    if !r.cities_without.is_empty() {
        let sep = if zh { "、" } else { ", " };
        let label = if zh {
            "无边界的城市（地图上以点表示）"
        } else {
            "cities without an outline (drawn as points)"
        };
        eprintln!("{label}: {}", r.cities_without.join(sep));
    }
    Ok(())
}
