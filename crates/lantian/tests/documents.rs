//! The rectification ledger and the generated documents on the bundled real
//! data: every number a document states is recomputed here from the
//! assessment's JSON output, independently of the report code.

use crate::common::{lantian, lantian_json, round_even, sample, sample_store};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A private copy of the sample store (documents and the ledger are written next to it).
fn private_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::real_data::copy_dir(sample_store(), &data);
    (dir, data)
}

fn ok(args: &[&str]) -> Output {
    let out = lantian(args);
    assert!(
        out.status.success(),
        "lantian {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// "上升5.0%" / "下降29.4%" / "持平", from the two reported values.
fn change_words(cur: f64, prev: f64) -> String {
    let c = round_even(100.0 * (cur - prev) / prev, 1);
    if c > 0.0 {
        format!("上升{c:.1}%")
    } else if c < 0.0 {
        format!("下降{:.1}%", -c)
    } else {
        "持平".into()
    }
}

#[test]
fn notice_2019_07_states_the_assessment() {
    let (dir, data) = private_store();
    let d = s(&data);
    let actions = lantian_json(&["--data", d, "policy", "run", "--period", "month:2019-07"]);
    let md = dir.path().join("notice.md");
    let out = ok(&["--data", d, "report", "notice", "--period", "month:2019-07", "--format", "md", "--output", s(&md)]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), s(&md), "prints the path it wrote");
    let text = std::fs::read_to_string(&md).unwrap();
    let rows = lantian_json(&[
        "--data",
        d,
        "assess",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-31",
        "--compare",
        "previous-year",
    ]);
    assert_eq!(rows.len(), 21);

    // Province: mean of the cities' reported PM2.5, pooled good days.
    let pm25 = round_even(rows.iter().map(|r| f(&r["pm25"])).sum::<f64>() / 21.0, 0);
    let pm10 = round_even(rows.iter().map(|r| f(&r["pm10"])).sum::<f64>() / 21.0, 0);
    let good: u64 = rows.iter().map(|r| r["good_days"].as_u64().unwrap()).sum();
    let valid: u64 = rows.iter().map(|r| r["valid_days"].as_u64().unwrap()).sum();
    let ratio = round_even(100.0 * good as f64 / valid as f64, 1);
    let expected = format!(
        "2019年7月，全省21个市（州）优良天数率为{ratio:.1}%（优良{good}天次/有效{valid}天次）；PM2.5平均浓度为{pm25}微克/立方米；PM10平均浓度为{pm10}微克/立方米"
    );
    assert!(text.contains(&expected), "expected «{expected}» in\n{text}");
    // Only Chengdu has July 2018: the province makes no year-on-year claim, Chengdu's change is stated.
    assert!(text.contains("等20个市（州）无2018年7月数据，不作同比分析"), "{text}");
    // Attainment groups need 2018's annual assessment of every city.
    assert!(text.contains("2018年度六项污染物评价数据不全，本期不分未达标城市和达标城市统计"), "{text}");
    let cd = rows.iter().find(|r| r["city"] == "成都").unwrap();
    let cd_change = format!("成都（{}）", change_words(f(&cd["pm25"]), f(&cd["pm25_prev"])));
    assert!(text.contains(&cd_change), "{cd_change}");

    // Ranking table: each city's rank, composite index and PM2.5 as assessed.
    for r in &rows {
        let line = format!(
            "| {} | {} | {:.2} |",
            r["rank"].as_u64().unwrap(),
            r["city"].as_str().unwrap(),
            f(&r["composite_index"])
        );
        assert!(text.contains(&line), "missing table row {line}");
    }
    let by_rank = |k: u64| -> Vec<String> {
        rows.iter().filter(|r| r["rank"].as_u64() == Some(k)).map(|r| r["city"].as_str().unwrap().to_string()).collect()
    };
    let best = [1, 2, 3].map(|k| by_rank(k).join("、")).join("、");
    let worst = [21, 20, 19].map(|k| by_rank(k).join("、")).join("、");
    assert!(
        text.contains(&format!("排名前三位的城市依次为{best}，排名后三位的城市（由后往前）依次为{worst}")),
        "{text}"
    );

    // Regions, from `assess --level region`.
    let regions =
        lantian_json(&["--data", d, "assess", "--from", "2019-07-01", "--to", "2019-07-31", "--level", "region"]);
    assert_eq!(regions.len(), 5);
    for r in &regions {
        let sentence = format!(
            "{}优良天数率为{:.1}%（优良{}天/有效{}天）；PM2.5平均浓度为{}微克/立方米",
            r["city"].as_str().unwrap(),
            f(&r["good_ratio"]),
            r["good_days"],
            r["valid_days"],
            f(&r["pm25"])
        );
        assert!(text.contains(&sentence), "missing «{sentence}»");
    }

    // Actions: the interviews the policy run recorded, in its order.
    let interviewed: Vec<String> = actions
        .iter()
        .filter(|a| a["action"] == "interview")
        .map(|a| a["area"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(interviewed.len(), 3);
    assert!(text.contains(&format!("对{}3个地区实施约谈", interviewed.join("、"))), "{text}");
    assert!(text.contains("对全省21个市（州）予以通报"));

    // Charts beside the text, as PNG.
    for name in ["ranking", "pm25_trend", "aqi_calendar"] {
        let png = std::fs::read(dir.path().join("notice_files").join(format!("{name}.png"))).unwrap();
        assert_eq!(&png[1..4], b"PNG", "{name}");
        assert!(text.contains(&format!("notice_files/{name}.png")));
    }
}

#[test]
fn notice_2016_07_compares_with_2015() {
    let (dir, data) = private_store();
    let d = s(&data);
    let md = dir.path().join("n2016.md");
    ok(&["--data", d, "report", "notice", "--period", "month:2016-07", "--format", "md", "-o", s(&md)]);
    let text = std::fs::read_to_string(&md).unwrap();
    let rows = lantian_json(&[
        "--data",
        d,
        "assess",
        "--from",
        "2016-07-01",
        "--to",
        "2016-07-31",
        "--compare",
        "previous-year",
    ]);
    assert_eq!(rows.len(), 21);
    let mean = |key: &str| round_even(rows.iter().map(|r| f(&r[key])).sum::<f64>() / 21.0, 0);
    let (cur, prev) = (mean("pm25"), mean("pm25_prev"));
    let expected = format!("PM2.5平均浓度为{cur}微克/立方米，同比{}", change_words(cur, prev));
    assert!(text.contains(&expected), "expected «{expected}»");
    // The three most improved and the rebounds, from each city's change.
    let mut changes: Vec<(f64, String)> = rows
        .iter()
        .map(|r| {
            (100.0 * (f(&r["pm25"]) - f(&r["pm25_prev"])) / f(&r["pm25_prev"]), r["city"].as_str().unwrap().into())
        })
        .collect();
    changes.sort_by(|a, b| a.0.total_cmp(&b.0));
    let say = |(c, name): &(f64, String)| format!("{name}（{}）", change_words(100.0 + c, 100.0));
    let improved: Vec<String> = changes.iter().take(3).map(say).collect();
    assert!(text.contains(&format!("PM2.5浓度同比改善幅度较大的城市为{}", improved.join("、"))), "{text}");
    let rising = changes.iter().filter(|(c, _)| round_even(*c, 1) > 0.0).count();
    assert!(text.contains(&format!("；{rising}个城市PM2.5浓度同比上升")), "{text}");
    // The 2013–2017 mirror has no MDA8: no ranking is made, and the notice says why.
    assert!(text.contains("缺少计算综合指数所需的O3日最大8小时平均第90百分位数，不作综合指数排名"), "{text}");
}

/// July 2020: only Chengdu's published days exist. The notice says so, and
/// splits by the 2019 annual assessment (six pollutants from station data).
#[test]
fn notice_2020_07_with_one_city() {
    let (dir, data) = private_store();
    let d = s(&data);
    let md = dir.path().join("n2020.md");
    ok(&["--data", d, "report", "notice", "--period", "month:2020-07", "--format", "md", "-o", s(&md)]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(
        text.contains("自贡、攀枝花、泸州等20个市（州）本期无监测数据，以下全省统计仅含有数据的1个市（州）"),
        "{text}"
    );
    // Chengdu 2019, judged here: PM2.5 annual mean above 35 μg/m³ → not attaining.
    let y2019 = lantian_json(&["--data", d, "assess", "--from", "2019-01-01", "--to", "2019-12-31", "--city", "成都"]);
    assert!(f(&y2019[0]["pm25"]) > 35.0);
    assert!(text.contains("2019年度未达标城市（1个）优良天数率为"), "{text}");
    assert!(text.contains("2019年度达标城市（0个）") || !text.contains("2019年度达标城市"), "{text}");
    // Year on year and against the mean of July 2017–2019, computed here.
    let july = |y: i32| {
        let r = lantian_json(&[
            "--data",
            d,
            "assess",
            "--from",
            &format!("{y}-07-01"),
            "--to",
            &format!("{y}-07-31"),
            "--city",
            "成都",
        ]);
        f(&r[0]["pm25"])
    };
    let (now, last) = (july(2020), july(2019));
    let three = round_even((july(2017) + july(2018) + july(2019)) / 3.0, 0);
    let expected = format!(
        "PM2.5平均浓度为{now}微克/立方米，同比{}，较近三年同期均值（{three}微克/立方米）{}",
        change_words(now, last),
        change_words(now, three)
    );
    assert!(text.contains(&expected), "expected «{expected}» in\n{text}");
}

/// The sample's task No. 46 and the illustrative 2019 targets.
fn with_task_46(d: &str) {
    ok(&["--data", d, "target", "import", s(&sample().join("targets-2019.toml"))]);
    ok(&["--data", d, "task", "import", s(&sample().join("tasks/task-46.json"))]);
}

#[test]
fn completion_table_of_task_46() {
    let (dir, data) = private_store();
    let d = s(&data);
    with_task_46(d);
    let md = dir.path().join("c.md");
    ok(&["--data", d, "report", "completion", "--task", "46", "--format", "md", "--output", s(&md)]);
    let text = std::fs::read_to_string(&md).unwrap();
    for label in ["| 整改任务 |", "| 整改责任单位 |", "| 整改目标 |", "| 整改措施 |", "| 整改主要工作及成效 |"]
    {
        assert!(text.contains(label), "{label}");
    }
    // The results sentence, judged here from the 2019 assessment and the targets file.
    let rows = lantian_json(&["--data", d, "assess", "--from", "2019-01-01", "--to", "2019-12-31"]);
    let targets: toml::Value =
        toml::from_str(&std::fs::read_to_string(sample().join("targets-2019.toml")).unwrap()).unwrap();
    let cities = ["自贡", "攀枝花", "绵阳", "南充", "宜宾", "广安", "达州", "资阳"];
    let mut met = Vec::new();
    let mut missed = Vec::new();
    for city in cities {
        let r = rows.iter().find(|r| r["city"] == city).unwrap();
        let t = targets["target"].as_array().unwrap().iter().find(|t| t["area"].as_str() == Some(city)).unwrap();
        let mut fails = Vec::new();
        if let Some(g) = t.get("good_ratio").and_then(|v| v.as_float()) {
            let v = f(&r["good_ratio"]);
            if v < g {
                fails.push(format!("优良天数率（{v:.1}%，目标≥{g:.1}%）"));
            }
        }
        if let Some(p) = t.get("pm25").and_then(|v| v.as_integer()) {
            let v = f(&r["pm25"]);
            if v > p as f64 {
                fails.push(format!("PM2.5年均浓度（{v:.0}，目标≤{p}）"));
            }
        }
        if fails.is_empty() {
            met.push(city);
        } else {
            missed.push((city, fails));
        }
    }
    assert!(!met.is_empty() && !missed.is_empty(), "the sample exercises both outcomes");
    assert!(text.contains(&format!("2019年，{}市均完成环境空气质量目标任务", met.join("、"))), "{text}");
    for (city, fails) in missed {
        assert!(text.contains(&format!("{city}市未完成{}目标任务", fails.join("、"))), "{city}: {fails:?}\n{text}");
    }
    // The seed's quantities are carried as indicators.
    assert!(text.contains("主要量化指标：燃煤电厂发电机组超低排放改造510万千瓦；钢铁超低排放改造项目15个"), "{text}");
}

fn xlsx_rows(path: &Path, sheet: &str) -> Vec<Vec<calamine::Data>> {
    use calamine::Reader;
    let mut x: calamine::Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = x.worksheet_range(sheet).unwrap_or_else(|e| panic!("{sheet}: {e} (have {:?})", x.sheet_names()));
    range.rows().map(<[calamine::Data]>::to_vec).collect()
}

#[test]
fn xlsx_exports_hold_the_same_numbers() {
    use calamine::Data;
    let (dir, data) = private_store();
    let d = s(&data);
    let path = dir.path().join("assess.xlsx");
    let out =
        ok(&["--data", d, "assess", "--from", "2019-01-01", "--to", "2019-12-31", "--format", "xlsx", "-o", s(&path)]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), s(&path));
    let json = lantian_json(&["--data", d, "assess", "--from", "2019-01-01", "--to", "2019-12-31"]);
    let rows = xlsx_rows(&path, "assess");
    assert_eq!(rows[1][0], Data::String("城市".into()), "header row under the caption");
    let col = |name: &str| rows[1].iter().position(|c| *c == Data::String(name.into())).unwrap();
    let (pm25, ci, gr) = (col("PM2.5"), col("综合指数"), col("优良天数比例%"));
    assert_eq!(rows.len(), 2 + json.len() + 1, "caption, header, 21 cities, units note");
    for r in &json {
        let row = rows.iter().find(|x| x[0] == Data::String(r["city"].as_str().unwrap().into())).unwrap();
        assert_eq!(row[pm25], Data::Float(f(&r["pm25"])), "numbers are numbers");
        assert_eq!(row[ci], Data::Float(f(&r["composite_index"])));
        assert_eq!(row[gr], Data::Float(f(&r["good_ratio"])));
    }
    // Default name: descriptive, in the current directory.
    let out = Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args(["--data", d, "rank", "--from", "2019-07-01", "--to", "2019-07-31", "--format", "xlsx"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(name, "lantian-rank-2019-07-01_2019-07-31.xlsx");
    assert!(dir.path().join(&name).is_file());

    // The notice as a workbook: text sheet and one sheet per table.
    ok(&["--data", d, "policy", "run", "--period", "month:2019-07"]);
    let notice = dir.path().join("notice.xlsx");
    ok(&["--data", d, "report", "notice", "--period", "month:2019-07", "--format", "xlsx", "-o", s(&notice)]);
    let july = lantian_json(&["--data", d, "assess", "--from", "2019-07-01", "--to", "2019-07-31"]);
    let ranking = xlsx_rows(&notice, "综合指数排名");
    for r in &july {
        let row = ranking.iter().find(|x| x[1] == Data::String(r["city"].as_str().unwrap().into())).unwrap();
        assert_eq!(row[0], Data::Float(f(&r["rank"])));
        assert_eq!(row[2], Data::Float(f(&r["composite_index"])));
        assert_eq!(row[5], Data::Float(f(&r["pm25"])));
    }
    assert_eq!(xlsx_rows(&notice, "区域").len(), 2 + 5 + 1);
    assert!(xlsx_rows(&notice, "正文")[0][0] == Data::String("2019年7月环境空气质量状况通报".into()));
}

/// LibreOffice opens the .docx files: converted to PDF, the text is there
/// and pdftoppm renders the pages. Runs where LibreOffice is installed
/// (`.ci/run` installs it and sets LANTIAN_TEST_OFFICE=1, which makes a
/// missing LibreOffice a failure).
#[test]
fn docx_opens_in_libreoffice() {
    let have = |c: &str, arg: &str| Command::new(c).arg(arg).output().is_ok_and(|o| o.status.success());
    if !have("soffice", "--version") || !have("pdftoppm", "-v") {
        assert!(
            std::env::var_os("LANTIAN_TEST_OFFICE").is_none(),
            "LANTIAN_TEST_OFFICE is set but LibreOffice is missing"
        );
        eprintln!("LibreOffice or poppler-utils not installed: docx conversion test skipped");
        return;
    }
    let (dir, data) = private_store();
    let d = s(&data);
    with_task_46(d);
    ok(&["--data", d, "policy", "run", "--period", "month:2019-07"]);
    let notice = dir.path().join("notice.docx");
    let completion = dir.path().join("completion.docx");
    ok(&["--data", d, "report", "notice", "--period", "month:2019-07", "-o", s(&notice)]);
    ok(&["--data", d, "report", "completion", "--task", "46", "--format", "docx", "-o", s(&completion)]);
    let profile = format!("-env:UserInstallation=file://{}", dir.path().join("lo-profile").display());
    let out = Command::new("soffice")
        .args([
            profile.as_str(),
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            s(dir.path()),
            s(&notice),
            s(&completion),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (stem, must) in [("notice", "环境空气质量状况通报"), ("completion", "整改主要工作及成效")] {
        let pdf = dir.path().join(format!("{stem}.pdf"));
        assert!(pdf.is_file(), "{stem}.pdf not written");
        let text = Command::new("pdftotext").args([s(&pdf), "-"]).output().unwrap();
        let text = String::from_utf8_lossy(&text.stdout).replace(char::is_whitespace, "");
        assert!(text.contains(must), "{stem}: the PDF lacks «{must}»:\n{text}");
        let prefix = dir.path().join(stem);
        let ppm = Command::new("pdftoppm").args(["-r", "40", "-png", s(&pdf), s(&prefix)]).output().unwrap();
        assert!(ppm.status.success());
        let pages = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let n = e.as_ref().unwrap().file_name().to_string_lossy().into_owned();
                n.starts_with(&format!("{stem}-")) && n.ends_with(".png")
            })
            .count();
        assert!(pages >= 1, "{stem}: no pages rendered");
    }
}

/// The task workflow on the command line, on SQLite and (when
/// `LANTIAN_TEST_PG` is set) PostgreSQL.
#[test]
fn task_ledger_cli() {
    task_checks(None);
    match lantian_store::ledger::test_pg("tasks_cli") {
        Some(url) => task_checks(Some(&url)),
        None => eprintln!("LANTIAN_TEST_PG not set: PostgreSQL run skipped"),
    }
}

fn task_checks(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = s(&data);
    let mut base: Vec<String> = vec!["--data".into(), d.into()];
    if let Some(url) = database {
        base.extend(["--database".into(), url.into()]);
    }
    let run = |args: &[&str]| -> Output {
        let all: Vec<String> = base.iter().cloned().chain(args.iter().map(|a| a.to_string())).collect();
        lantian(&all.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let okr = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        out
    };
    okr(&[
        "task",
        "add",
        "--number",
        "7",
        "--title",
        "第七项整改任务",
        "--source",
        "省级督察第一轮",
        "--problem",
        "扬尘管控不力",
        "--unit",
        "宜宾市人民政府",
        "--city",
        "宜宾",
        "--goal",
        "完成PM2.5目标",
        "--deadline",
        "2020-06-30",
        "--measure",
        "加强工地扬尘管控",
        "--measure",
        "提高机械化清扫率",
        "--by",
        "省厅",
    ]);
    // A missing required field is refused, naming it.
    let e = run(&["task", "add", "--number", "8", "--title", "x", "--problem", "y", "--goal", "z", "--measure", "m"]);
    assert!(!e.status.success() && String::from_utf8_lossy(&e.stderr).contains("responsible unit"));
    // Workflow: a skipped step is refused with the allowed moves named.
    let e = run(&["task", "status", "7", "completed"]);
    assert_eq!(e.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&e.stderr).contains("推进中 (in_progress)"),
        "{}",
        String::from_utf8_lossy(&e.stderr)
    );
    okr(&["task", "status", "7", "推进中", "--by", "宜宾市生态环境局"]);
    let evidence = dir.path().join("现场照片.jpg");
    std::fs::write(&evidence, b"\xff\xd8\xff photo").unwrap();
    okr(&[
        "task",
        "progress",
        "7",
        "--date",
        "2020-05-20",
        "--author",
        "宜宾市生态环境局",
        "--measure",
        "2",
        "--text",
        "主城区机械化清扫率提高到85%",
        "--indicator",
        "机械化清扫率=85 %",
        "--evidence",
        s(&evidence),
    ]);
    // Overdue: deadline passed and not completed.
    let list = lantian_json(
        &[&base.iter().map(String::as_str).collect::<Vec<_>>()[..], &["task", "list", "--overdue"]].concat(),
    );
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["overdue"], true);
    assert_eq!(list[0]["status"], "in_progress");
    let shown = okr(&["task", "show", "7", "--format", "json"]);
    let t: serde_json::Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(t["progress"][0]["indicators"][0]["value"], 85.0);
    let sha = t["progress"][0]["evidence"][0]["sha256"].as_str().unwrap().to_string();
    let stored = data.join("evidence").join(&sha[..2]).join(&sha);
    assert_eq!(std::fs::read(&stored).unwrap(), b"\xff\xd8\xff photo", "evidence kept under its hash");
    assert_eq!(t["history"].as_array().unwrap().len(), 2);
    assert_eq!(t["history"][1]["who"], "宜宾市生态环境局");
    let audit: Vec<&str> = t["audit"].as_array().unwrap().iter().map(|e| e["change"].as_str().unwrap()).collect();
    assert_eq!(audit.len(), 3, "created, moved, progress: {audit:?}");
    assert!(audit[2].starts_with("progress ") && audit[2].contains("measure 2"), "{audit:?}");
    okr(&["task", "status", "7", "completed"]);
    okr(&["task", "status", "7", "closed", "--note", "现场核查通过"]);
    let e = run(&["task", "progress", "7", "--date", "2020-07-01", "--author", "x", "--text", "y"]);
    assert!(String::from_utf8_lossy(&e.stderr).contains("closed"));
    // Export, then import into a fresh data directory: the same task.
    let export = dir.path().join("tasks.json");
    okr(&["task", "export", "-o", s(&export)]);
    let other = tempfile::tempdir().unwrap();
    let od = other.path().join("data");
    std::fs::create_dir_all(od.join("evidence").join(&sha[..2])).unwrap();
    std::fs::copy(&stored, od.join("evidence").join(&sha[..2]).join(&sha)).unwrap();
    ok(&["--data", s(&od), "task", "import", s(&export)]);
    let again = ok(&["--data", s(&od), "task", "show", "7", "--format", "json"]);
    let u: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    for key in ["number", "title", "units", "measures", "deadline"] {
        assert_eq!(t[key].clone(), u[key].clone(), "{key}");
    }
    assert_eq!(u["status"], "closed");
    assert_eq!(u["progress"][0]["evidence"], t["progress"][0]["evidence"]);
    // A misspelt field in an import file is an error, not a silent drop.
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"number": 9, "titel": "x"}"#).unwrap();
    let e = ok_err(&["--data", s(&od), "task", "import", s(&bad)]);
    assert!(e.contains("unknown field `titel`"), "{e}");
}

fn ok_err(args: &[&str]) -> String {
    let out = lantian(args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The AQI category of a level number, written out here (HJ 633 Table 2).
fn category(level: u64) -> &'static str {
    ["优", "良", "轻度污染", "中度污染", "重度污染", "严重污染"][level as usize - 1]
}

/// "+5.3" / "-2.0" / "0.0" from a change the engine printed to one decimal.
fn with_sign(v: f64) -> String {
    if v > 0.0 { format!("+{v:.1}") } else { format!("{v:.1}") }
}

/// A file of a zip archive (stored or deflated), read through the central directory.
fn zip_entry(zip: &[u8], name: &str) -> Option<Vec<u8>> {
    use std::io::Read;
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]) as usize;
    let end = zip.windows(4).rposition(|w| w == b"PK\x05\x06")?;
    let mut at = u32_at(end + 16);
    for _ in 0..u16_at(end + 10) {
        let (method, size, name_len) = (u16_at(at + 10), u32_at(at + 20), u16_at(at + 28));
        let (extra, comment, local) = (u16_at(at + 30), u16_at(at + 32), u32_at(at + 42));
        if &zip[at + 46..at + 46 + name_len] == name.as_bytes() {
            let data = local + 30 + u16_at(local + 26) + u16_at(local + 28);
            let raw = &zip[data..data + size];
            let mut out = Vec::new();
            match method {
                0 => out.extend_from_slice(raw),
                _ => {
                    flate2::read::DeflateDecoder::new(raw).read_to_end(&mut out).ok()?;
                }
            }
            return Some(out);
        }
        at += 46 + name_len + extra + comment;
    }
    None
}

/// `report daily` on the sample's 2019-07-15: every number checked against
/// `lantian daily --city`, `assess --compare previous-year`, `rank` and
/// `target check` for the same day and spans, run here.
#[test]
fn daily_briefing_2019_07_15() {
    let (dir, data) = private_store();
    let d = s(&data);
    ok(&["--data", d, "target", "import", s(&sample().join("targets-2019.toml"))]);
    let md = dir.path().join("daily.md");
    let out = ok(&["--data", d, "report", "daily", "--date", "2019-07-15", "--format", "md", "-o", s(&md)]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), s(&md));
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# 每日空气质量会商简报\n"), "{text}");
    assert!(text.contains("数据日期：2019年7月15日"));

    // The day and the day before, as `lantian daily --city` computes them.
    let mut day_level = std::collections::BTreeMap::new();
    for city in ["成都", "攀枝花", "达州", "甘孜州"] {
        let days = lantian_json(&["--data", d, "daily", "--city", city, "--from", "2019-07-14", "--to", "2019-07-15"]);
        assert_eq!(days.len(), 2, "{city}");
        let (before, day) = (&days[0], &days[1]);
        let primary = day["primary"].as_str().unwrap_or_default();
        let line = format!(
            "| {city} | {} | {} | {} | {} | {} | {} |",
            day["aqi"],
            category(day["level"].as_u64().unwrap()),
            ["一级", "二级", "三级", "四级", "五级", "六级"][day["level"].as_u64().unwrap() as usize - 1],
            if primary.is_empty() { "—" } else { primary },
            before["aqi"],
            category(before["level"].as_u64().unwrap())
        );
        assert!(text.contains(&line), "missing «{line}»");
        day_level.insert(city, (before["level"].as_u64().unwrap(), day["level"].as_u64().unwrap()));
    }

    // Month and year to date: values and changes from `assess`, ranks from `rank`.
    for (from, caption) in
        [("2019-07-01", "表2 本月累计（7月1日—15日）"), ("2019-01-01", "表3 本年累计（1月1日—7月15日）")]
    {
        assert!(text.contains(caption), "{caption}");
        let rows =
            lantian_json(&["--data", d, "assess", "--from", from, "--to", "2019-07-15", "--compare", "previous-year"]);
        assert_eq!(rows.len(), 21);
        let rank_of = |by: &str| -> std::collections::BTreeMap<String, u64> {
            lantian_json(&["--data", d, "rank", "--by", by, "--from", from, "--to", "2019-07-15"])
                .iter()
                .map(|r| (r["city"].as_str().unwrap().to_string(), r["rank"].as_u64().unwrap()))
                .collect()
        };
        let (pm25_rank, good_rank) = (rank_of("pm25"), rank_of("good_ratio"));
        // PM10: competition ranking, smallest first, computed here.
        let pm10: Vec<f64> = rows.iter().map(|r| f(&r["pm10"])).collect();
        let mut compared = 0;
        for (r, p10) in rows.iter().zip(&pm10) {
            let city = r["city"].as_str().unwrap();
            let change = |key: &str, unit: &str| match r[key].as_f64() {
                Some(c) => format!("{}{unit}", with_sign(c)),
                None => "无可比数据".to_string(),
            };
            compared += usize::from(r["pm25_change"].is_number());
            let line = format!(
                "| {city} | {} | {} | {} | {} | {} | {} | {:.1}% | {} | {} |",
                f(&r["pm25"]),
                change("pm25_change", "%"),
                pm25_rank[city],
                f(&r["pm10"]),
                change("pm10_change", "%"),
                1 + pm10.iter().filter(|x| *x < p10).count(),
                f(&r["good_ratio"]),
                change("good_ratio_change", ""),
                good_rank[city]
            );
            assert!(text.contains(&line), "missing «{line}»");
        }
        assert_eq!(compared, 1, "only Chengdu has 2018 data");
    }

    // Targets as `target check --as-of` judges them.
    let checks = lantian_json(&["--data", d, "target", "check", "--as-of", "2019-07-15"]);
    let at_risk = checks.iter().filter(|c| c["status"] == "at_risk").count();
    assert!(at_risk > 0);
    assert!(text.contains(&format!("截至2019年7月15日，共{}项目标", checks.len())), "{text}");
    assert!(text.contains(&format!("有风险{at_risk}项")), "{text}");
    let yb = checks.iter().find(|c| c["area"] == "宜宾" && c["indicator"] == "pm25").unwrap();
    let line = format!(
        "| 宜宾 | PM2.5年均浓度 | {} | {} | 有风险 | {:.1} |",
        f(&yb["so_far"]),
        f(&yb["target"]),
        f(&yb["budget"])
    );
    assert!(text.contains(&line), "missing «{line}»");

    // Worse: the level rose since the day before (of the cities read above), or YTD PM2.5 rose.
    let worse = text.split("表5 变差城市").nth(1).expect("a table of cities that got worse");
    for (city, (before, now)) in &day_level {
        let listed = worse.contains(&format!("| {city} | {} → {} |", category(*before), category(*now)));
        assert_eq!(listed, now > before, "{city}: {before} → {now}");
    }
    assert!(text.contains("判定规则：当日AQI级别高于前一日"));
    assert!(text.contains("本数据目录未运行数据采集网关，无实时数据。"));

    // The same briefing as a workbook (the default format): numbers stay numbers, one sheet per section.
    use calamine::Data;
    let xlsx = dir.path().join("daily.xlsx");
    ok(&["--data", d, "report", "daily", "--date", "2019-07-15", "-o", s(&xlsx)]);
    let ytd = lantian_json(&["--data", d, "assess", "--from", "2019-01-01", "--to", "2019-07-15"]);
    let sheet = xlsx_rows(&xlsx, "本年累计");
    assert_eq!(sheet[1][0], Data::String("城市".into()), "header under the caption");
    assert_eq!(sheet.len(), 2 + 21 + 1, "caption, header, 21 cities, note");
    for r in &ytd {
        let row = sheet.iter().find(|x| x[0] == Data::String(r["city"].as_str().unwrap().into())).unwrap();
        assert_eq!(row[1], Data::Float(f(&r["pm25"])));
        assert_eq!(row[4], Data::Float(f(&r["pm10"])));
        assert_eq!(row[7], Data::String(format!("{:.1}%", f(&r["good_ratio"]))));
    }
    let day = xlsx_rows(&xlsx, "当日");
    let cd = day.iter().find(|x| x[0] == Data::String("达州".into())).unwrap();
    assert_eq!(cd[2], Data::String(category(day_level["达州"].1).into()));
    assert_eq!(xlsx_rows(&xlsx, "正文")[0][0], Data::String("每日空气质量会商简报".into()));
    let mut book: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    assert!(!calamine::Reader::sheet_names(&book).contains(&"实时".to_string()), "no live sheet without a gateway");
    // The level colours: the styles carry the good (yellow) and excellent (green) fills.
    let styles = String::from_utf8(zip_entry(&std::fs::read(&xlsx).unwrap(), "xl/styles.xml").unwrap()).unwrap();
    assert!(styles.contains("FF00E400") && styles.contains("FFFFFF00"), "{styles}");
    let _ = calamine::Reader::worksheet_range(&mut book, "当日");

    // And as Word: the same words in the document part.
    let docx = dir.path().join("daily.docx");
    ok(&["--data", d, "report", "daily", "--date", "2019-07-15", "--format", "docx", "-o", s(&docx)]);
    let xml = String::from_utf8(zip_entry(&std::fs::read(&docx).unwrap(), "word/document.xml").unwrap()).unwrap();
    for words in ["每日空气质量会商简报", "本年累计", "无可比数据", "变差城市", "达州"] {
        assert!(xml.contains(words), "the docx lacks «{words}»");
    }

    // English, with the global --lang.
    let en = dir.path().join("daily-en.md");
    ok(&["--data", d, "--lang", "en", "report", "daily", "--date", "2019-07-15", "--format", "md", "-o", s(&en)]);
    let en = std::fs::read_to_string(&en).unwrap();
    assert!(en.starts_with("# Daily air-quality briefing") && en.contains("no baseline"), "{en}");
}

/// Where the gateway runs, the briefing gives each city's latest hour; a
/// bad date and a year without data are refused with a clear message.
#[test]
fn daily_briefing_live_hour_and_refusals() {
    let (dir, data) = private_store();
    let d = s(&data);
    // A gateway's log with one hour of Chengdu's 1431A not yet folded into the store:
    // 2020-01-02, the hour from 08:00 (label 09:00), PM2.5 80 and PM10 120 μg/m³.
    std::fs::create_dir_all(data.join("live")).unwrap();
    let start = (jiff::civil::date(2020, 1, 2).since(jiff::civil::date(1970, 1, 1)).unwrap().get_days() as i64)
        * 86_400
        + 8 * 3600;
    std::fs::write(
        data.join("live/wal-000001.log"),
        format!("H,1431A,pm25,{start},80,N\nH,1431A,pm10,{start},120,N\n"),
    )
    .unwrap();
    let md = dir.path().join("live.md");
    ok(&["--data", d, "report", "daily", "--date", "2019-07-15", "--format", "md", "-o", s(&md)]);
    let text = std::fs::read_to_string(&md).unwrap();
    // The hour's AQI as the calculator gives it (2012 edition in force on 2020-01-02).
    let aqi = &lantian_json(&["aqi", "--hourly", "--pm25", "80", "--pm10", "120", "--edition", "2012"])[0];
    let line = format!(
        "| 成都 | 2020-01-02 09:00 | 80 | 120 | — | — | — | — | {} | {} | {} |",
        aqi["aqi"],
        aqi["category"].as_str().unwrap(),
        aqi["primary"].as_str().unwrap()
    );
    assert!(text.contains(&line), "missing «{line}» in\n{text}");
    assert!(!text.contains("未运行数据采集网关"));

    let e = ok_err(&["--data", d, "report", "daily", "--date", "2019-02-30"]);
    assert!(e.contains("invalid value '2019-02-30' for '--date"), "{e}");
    let e = ok_err(&["--data", d, "report", "daily", "--date", "2031-03-01"]);
    assert!(e.contains("no data for 2031-01-01 … 2031-03-01: import data first"), "{e}");
    assert!(!dir.path().join("会商简报-2031-03-01.xlsx").exists());
}

/// The notice of a week: its title names the dates, and a week across two
/// months keeps all seven days in its level calendar (it once showed only
/// the days of the second month); a week the year lacks is named.
#[test]
fn weekly_notice_across_two_months() {
    let (dir, data) = private_store();
    let d = s(&data);
    let md = dir.path().join("w31.md");
    ok(&["--data", d, "report", "notice", "--period", "week:2019-W31", "--format", "md", "-o", s(&md)]);
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.starts_with("# 2019年7月29日—8月4日环境空气质量状况通报"), "{text}");
    assert!(text.contains("图3 2019年7月29日—8月4日各市（州）逐日空气质量级别"), "{text}");
    // The week's numbers are the assessment of its seven days.
    let rows = lantian_json(&["--data", d, "assess", "--from", "2019-07-29", "--to", "2019-08-04"]);
    let good: u64 = rows.iter().map(|r| r["good_days"].as_u64().unwrap()).sum();
    let valid: u64 = rows.iter().map(|r| r["valid_days"].as_u64().unwrap()).sum();
    assert!(text.contains(&format!("（优良{good}天次/有效{valid}天次）")), "{text}");
    let e = ok_err(&["--data", d, "report", "notice", "--period", "week:2019-W53"]);
    assert!(e.contains("period 'week:2019-W53': 2019 has ISO weeks 1 to 52"), "{e}");
}
