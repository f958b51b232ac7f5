//! `lantian import`: files into the store, with a progress bar and a summary.

use super::Ctx;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use lantian_store::import::ImportSummary;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// `audited`: the files are an auditor's (the audited layer, see `lantian_store::import::import_layer`).
pub fn import(ctx: &Ctx, paths: &[PathBuf], audited: bool) -> Result<ExitCode> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} files ({eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(match (ctx.zh(), audited) {
        (true, false) => "导入",
        (true, true) => "导入审核数据",
        (false, false) => "importing",
        (false, true) => "importing audited data",
    });
    let cb = |done: usize, total: usize| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    };
    let layer = if audited { lantian_store::Layer::Audited } else { lantian_store::Layer::Raw };
    let summary = lantian_store::import::import_layer(&ctx.app.data, paths, layer, Some(&cb));
    bar.finish_and_clear();
    let summary = summary?;
    print_import_summary(ctx, &summary);
    Ok(if summary.unreadable.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn print_import_summary(ctx: &Ctx, s: &ImportSummary) {
    let zh = ctx.zh();
    let files: Vec<String> =
        s.files.iter().map(|(f, n)| format!("{n} × {}", if zh { f.label_zh() } else { f.label() })).collect();
    let mut err = std::io::stderr().lock();
    let _ = writeln!(
        err,
        "{} {}",
        if zh { "文件:" } else { "files:" },
        if files.is_empty() { "0".to_string() } else { files.join(", ") }
    );
    let counts = |label_zh: &str, label_en: &str, m: lantian_store::partition::MergeCounts| {
        if zh {
            format!("{label_zh}: 新增 {}, 修订 {}, 未变 {}", m.imported, m.revised, m.unchanged)
        } else {
            format!("{label_en}: imported {}, revised {}, unchanged {}", m.imported, m.revised, m.unchanged)
        }
    };
    let _ = writeln!(err, "{}", counts("小时值", "hourly values", s.hourly));
    let c = s.city_days;
    if c.imported + c.revised + c.unchanged > 0 {
        let _ = writeln!(err, "{}", counts("城市日值", "city daily values", c));
    }
    if s.stations > 0 {
        let _ = writeln!(err, "{} {}", if zh { "站点:" } else { "stations:" }, s.stations);
    }
    let _ = writeln!(err, "{} {}", if zh { "拒收:" } else { "rejected:" }, s.rejected);
    if let Some(p) = &s.rejects_file {
        let _ = writeln!(
            err,
            "  {} {}",
            if zh { "拒收明细 (文件、行、列、原因):" } else { "rejects (file, line, column, reason):" },
            p.display()
        );
    }
    for (p, why) in &s.skipped {
        let _ = writeln!(err, "{} {}: {why}", if zh { "跳过" } else { "skipped" }, p.display());
    }
    for (p, why) in &s.unreadable {
        let _ = writeln!(err, "{} {}: {why}", if zh { "无法读取" } else { "unreadable" }, p.display());
    }
    let _ = writeln!(err, "{} {}", if zh { "存储版本:" } else { "store generation:" }, s.generation);
}
