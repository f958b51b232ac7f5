//! `lantian serve`: the API's authentication rules, the OpenAPI document
//! checked against real responses, the overview equal to `lantian assess`,
//! and the dashboard driven in a real headless Chromium.

use crate::common::{lantian, lantian_json, sample_store};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn sorted(mut v: Vec<&str>) -> Vec<&str> {
    v.sort();
    v
}

pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
    pub(crate) data: PathBuf,
}

impl Server {
    /// Kill the server (SIGKILL: nothing is saved on the way out) and start
    /// another on the same data directory.
    pub(crate) fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        (self.child, self.port) = spawn(&self.data, &[]);
    }

    /// Stop the server as a service manager does (SIGTERM) and start it
    /// again on the same port, so a browser's open page reaches it.
    pub(crate) fn restart_same_port(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let _ = self.child.wait();
        self.child = spawn_on(&self.data, &[], self.port);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private copy of the sample store with an admin and a city officer, served.
pub(crate) fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    crate::real_data::copy_dir(sample_store(), &data);
    let sample = crate::common::sample();
    let targets = sample.join("targets-2019.toml");
    let task = sample.join("tasks/task-46.json");
    for args in [
        ["user", "add", "admin", "--role", "admin", "--password", "admin-password"].as_slice(),
        ["user", "add", "analyst", "--role", "analyst", "--password", "analyst-password"].as_slice(),
        ["user", "add", "viewer", "--role", "viewer", "--password", "viewer-password"].as_slice(),
        ["user", "add", "chengdu", "--role", "city", "--city", "成都", "--password", "chengdu-password"].as_slice(),
        ["user", "add", "yibin", "--role", "city", "--city", "宜宾", "--password", "yibin-password"].as_slice(),
        ["target", "import", s(&targets)].as_slice(),
        ["task", "import", s(&task)].as_slice(),
        ["policy", "run", "--period", "month:2019-07"].as_slice(),
    ] {
        let mut a = vec!["--data", s(&data)];
        a.extend(args);
        let out = lantian(&a);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (child, port) = spawn(&data, &[]);
    Server { child, port, _dir: dir, data }
}

/// `lantian serve` on a free port of the loopback (`global` flags before
/// `serve`), once it accepts connections.
pub(crate) fn spawn(data: &Path, global: &[&str]) -> (Child, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    (spawn_on(data, global, port), port)
}

fn spawn_on(data: &Path, global: &[&str], port: u16) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args(["--data", s(data)])
        .args(global)
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(30), "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: String,
    pub(crate) body: serde_json::Value,
}

pub(crate) fn request(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or_default());
    c.write_all(req.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    c.read_to_end(&mut bytes).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    let body = serde_json::from_str(rest).unwrap_or(serde_json::Value::Null);
    Reply { status, headers: head.to_string(), body }
}

pub(crate) fn login(port: u16, name: &str, password: &str) -> (String, String) {
    let r = request(port, "POST", "/api/login", &[], Some(&format!(r#"{{"name":"{name}","password":"{password}"}}"#)));
    assert_eq!(r.status, 200, "{:?}", r.body);
    let cookie = r.headers.lines().find_map(|l| l.strip_prefix("set-cookie: ")).unwrap().to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    (cookie.split(';').next().unwrap().to_string(), r.body["csrf"].as_str().unwrap().to_string())
}

/// A response checked against a schema of the OpenAPI document (3.1, as
/// generated): required keys present, types as declared (`null` where the
/// type allows it), `allOf` / `oneOf` / `$ref` followed, recursively.
pub(crate) fn conforms(v: &serde_json::Value, schema: &serde_json::Value, doc: &serde_json::Value, at: &str) {
    if let Err(e) = check(v, schema, doc, at) {
        panic!("{e}");
    }
}

fn check(v: &serde_json::Value, schema: &serde_json::Value, doc: &serde_json::Value, at: &str) -> Result<(), String> {
    let schema = match schema.get("$ref").and_then(|r| r.as_str()) {
        Some(r) => r.trim_start_matches("#/").split('/').fold(doc, |d, k| &d[k]),
        None => schema,
    };
    for part in schema["allOf"].as_array().into_iter().flatten() {
        check(v, part, doc, at)?;
    }
    if let Some(alts) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        let errors: Vec<String> = alts.iter().filter_map(|a| check(v, a, doc, at).err()).collect();
        if errors.len() == alts.len() {
            return Err(format!("{at}: matches none of {}: {errors:?}", alts.len()));
        }
    }
    let types: Vec<&str> = match &schema["type"] {
        serde_json::Value::String(t) => vec![t.as_str()],
        serde_json::Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).collect(),
        _ => Vec::new(),
    };
    if types.is_empty() {
        return Ok(());
    }
    let kind = match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    };
    if !types.iter().any(|t| *t == kind || (*t == "number" && kind == "integer")) {
        return Err(format!("{at}: {kind}, expected {types:?}"));
    }
    match v {
        serde_json::Value::Object(o) => {
            for k in schema["required"].as_array().into_iter().flatten() {
                if !o.contains_key(k.as_str().unwrap_or_default()) {
                    return Err(format!("{at}: missing {k}"));
                }
            }
            for (k, sub) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(x) = o.get(k) {
                    check(x, sub, doc, &format!("{at}.{k}"))?;
                }
            }
            if let Some(extra) = schema.get("additionalProperties").filter(|e| e.is_object()) {
                for (k, x) in o {
                    check(x, extra, doc, &format!("{at}.{k}"))?;
                }
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                if let Some(items) = schema.get("items") {
                    check(x, items, doc, &format!("{at}[{i}]"))?;
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Every write the OpenAPI document lists answers 401 to a request without
/// a session, whatever its body: the session is checked before the body is read.
#[test]
fn anonymous_writes_are_401_whatever_the_body() {
    let srv = server();
    let doc = request(srv.port, "GET", "/api/openapi.json", &[], None).body;
    let mut writes = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in
            item.as_object().unwrap().keys().filter(|m| matches!(m.as_str(), "post" | "put" | "patch" | "delete"))
        {
            if path == "/api/login" {
                continue;
            }
            writes += 1;
            let url = path.replace("{id}", "1").replace("{n}", "46").replace("{name}", "x");
            for (ct, body) in [
                ("application/json", "{not json".to_string()),
                ("application/json", r#"{"change":"ack","to":"closed"}"#.to_string()),
                ("multipart/form-data; boundary=x", "--x\r\ngarbage".to_string()),
                ("text/plain", "x".repeat(3 << 20)),
            ] {
                let status = raw(srv.port, &method.to_uppercase(), &url, &[], ct, body.as_bytes());
                assert_eq!(status, 401, "{method} {url} ({ct}, {} bytes)", body.len());
            }
        }
    }
    assert!(writes >= 5, "the document lists the writes ({writes})");
}

#[test]
fn api_rules_openapi_and_numbers() {
    let srv = server();
    let port = srv.port;
    // Not logged in.
    assert_eq!(request(port, "GET", "/api/me", &[], None).status, 401);
    assert_eq!(request(port, "GET", "/api/overview?from=2019-07-01&to=2019-07-31", &[], None).status, 401);
    // Wrong passwords: refused, then rate-limited even for the right one.
    for _ in 0..5 {
        let r = request(port, "POST", "/api/login", &[], Some(r#"{"name":"chengdu","password":"nope-nope"}"#));
        assert_eq!(r.status, 401);
    }
    let r = request(port, "POST", "/api/login", &[], Some(r#"{"name":"chengdu","password":"chengdu-password"}"#));
    assert_eq!(r.status, 429, "login rate limit");
    let (cookie, csrf) = login(port, "admin", "admin-password");
    let with = [("Cookie", cookie.as_str())];
    let doc: serde_json::Value =
        serde_json::from_str(&request(port, "GET", "/api/openapi.json", &[], None).body.to_string()).unwrap();
    let schema = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
    };
    let me = request(port, "GET", "/api/me", &with, None);
    assert_eq!(me.status, 200);
    conforms(&me.body, &schema("/api/me", "get", "200"), &doc, "me");
    assert_eq!(me.body["data_to"], "2019-12-31");
    let ov = request(port, "GET", "/api/overview?from=2019-07-01&to=2019-07-31", &with, None);
    assert_eq!(ov.status, 200);
    conforms(&ov.body, &schema("/api/overview", "get", "200"), &doc, "overview");
    let bad = request(port, "GET", "/api/overview?from=2019-08-01&to=2019-07-31", &with, None);
    assert_eq!(bad.status, 400);
    conforms(&bad.body, &schema("/api/overview", "get", "400"), &doc, "bad period");
    // The overview's cities are `lantian assess --compare previous-year`.
    let assess = lantian_json(&[
        "--data",
        s(&srv.data),
        "assess",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-31",
        "--compare",
        "previous-year",
    ]);
    let cities = ov.body["cities"].as_array().unwrap();
    assert_eq!(cities.len(), assess.len());
    for a in &assess {
        let c = cities.iter().find(|c| c["city"] == a["city"]).unwrap();
        for (k, v) in a.as_object().unwrap() {
            assert_eq!(&c[k], v, "{} {k}", a["city"]);
        }
    }
    assert_eq!(ov.body["regions"][0]["city"], "成都平原地区", "the province's own order");
    // The three-year comparison is `lantian rank`'s.
    let rank = lantian_json(&["--data", s(&srv.data), "rank", "--from", "2019-07-01", "--to", "2019-07-31"]);
    for r in &rank {
        let c = cities.iter().find(|c| c["city"] == r["city"]).unwrap();
        for (mine, theirs) in [
            ("composite_3y", "composite_3y"),
            ("composite_change_3y", "composite_change_3y"),
            ("pm25_3y", "pm25_3y"),
            ("pm25_change_3y", "pm25_change_3y"),
        ] {
            assert_eq!(c[mine], r[theirs], "{} {mine}", r["city"]);
        }
    }
    assert!(rank.iter().any(|r| !r["composite_change_3y"].is_null()), "some city has three earlier years");
    // The other read endpoints, against their schemas.
    for (path, key) in [
        ("/api/cities/%E6%88%90%E9%83%BD?year=2019", "/api/cities/{name}"),
        ("/api/actions", "/api/actions"),
        ("/api/tasks", "/api/tasks"),
        ("/api/tasks/46", "/api/tasks/{n}"),
    ] {
        let r = request(port, "GET", path, &with, None);
        assert_eq!(r.status, 200, "{path}");
        conforms(&r.body, &schema(key, "get", "200"), &doc, path);
    }
    let missing = request(port, "GET", "/api/tasks/999", &with, None);
    assert_eq!(missing.status, 404);
    conforms(&missing.body, &schema("/api/tasks/{n}", "get", "404"), &doc, "missing task");
    let city = request(port, "GET", "/api/cities/%E6%88%90%E9%83%BD?year=2019", &with, None).body;
    let year = lantian_json(&[
        "--data",
        s(&srv.data),
        "assess",
        "--from",
        "2019-01-01",
        "--to",
        "2019-12-31",
        "--city",
        "成都",
    ]);
    assert_eq!(city["year_stats"]["pm25"], year[0]["pm25"]);
    assert_eq!(city["year_stats"]["good_days"], year[0]["good_days"]);
    assert_eq!(city["calendar"].as_array().unwrap().len() as u64, year[0]["valid_days"].as_u64().unwrap());
    // Writes need the CSRF token.
    assert_eq!(request(port, "POST", "/api/logout", &with, None).status, 403);
    let wrong = [("Cookie", cookie.as_str()), ("X-CSRF-Token", "0000")];
    assert_eq!(request(port, "POST", "/api/logout", &wrong, None).status, 403);
    let right = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    assert_eq!(request(port, "POST", "/api/logout", &right, None).status, 200);
    assert_eq!(request(port, "GET", "/api/me", &with, None).status, 401, "the session ended");
}

/// The dashboard in Debian's Chromium (playwright-core): log in, read the
/// ranking, change the period, switch to English. Runs where Chromium and
/// the test's node_modules are installed (`.ci/run` installs both and sets
/// LANTIAN_TEST_BROWSER=1, which makes their absence a failure).
#[test]
fn dashboard_in_chromium() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let ready = Path::new("/usr/bin/chromium").exists() && dir.join("node_modules/playwright-core").is_dir();
    if !ready {
        assert!(
            std::env::var_os("LANTIAN_TEST_BROWSER").is_none(),
            "LANTIAN_TEST_BROWSER is set but Chromium or playwright-core is missing"
        );
        eprintln!("Chromium or playwright-core missing: browser test skipped");
        return;
    }
    let srv = server();
    // A dust event in the month shown first: the official and raw bases differ for Chengdu.
    let added = lantian(&[
        "--data",
        s(&srv.data),
        "event",
        "add",
        "--city",
        "成都",
        "--start",
        "2019-12-10",
        "--end",
        "2019-12-12",
        "--reference",
        "browser test",
    ]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let shots = std::env::var_os("LANTIAN_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(|| srv.data.join("shots"));
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("node")
        .arg(dir.join("overview.mjs"))
        .args([&format!("http://127.0.0.1:{}", srv.port), "admin", "admin-password", s(&shots)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["bad_login"], "用户名或密码错误");
    let how = v["how"].as_str().unwrap();
    assert!(how.contains("2019-12-01—2019-12-31") && how.contains("1431A") && how.contains("数据有效性达标"), "{how}");
    assert_eq!(v["english_heading"], "Cities ranked by composite index");
    // The switches: the marked city is the one with the event; raw values are `--values raw`.
    assert!(v["marked"].as_array().unwrap().iter().any(|c| c == "成都"), "{}", v["marked"]);
    assert!(v["marked_title"].as_str().unwrap().contains("原始数据、不扣沙为"), "{}", v["marked_title"]);
    assert!(v["basis_note"].as_str().unwrap().contains("扣除沙尘"), "{}", v["basis_note"]);
    let raw = lantian_json(&[
        "--data",
        s(&srv.data),
        "--values",
        "raw",
        "assess",
        "--from",
        "2019-12-01",
        "--to",
        "2019-12-31",
    ]);
    for a in &raw {
        let row = v["raw"]["rows"].as_array().unwrap().iter().find(|r| r["city"] == a["city"]).unwrap();
        assert_eq!(row["pm25"], format!("{:.0}", a["pm25"].as_f64().unwrap()), "raw {}", a["city"]);
    }
    for (key, from, to) in [("first", "2019-12-01", "2019-12-31"), ("year", "2019-01-01", "2019-12-31")] {
        let shown = v[key]["rows"].as_array().unwrap();
        assert!(v[key]["title"].as_str().unwrap().contains(from));
        let assess = lantian_json(&["--data", s(&srv.data), "assess", "--from", from, "--to", to]);
        assert_eq!(shown.len(), assess.len());
        for a in &assess {
            let row = shown.iter().find(|r| r["city"] == a["city"]).unwrap();
            assert_eq!(row["rank"], a["rank"].to_string(), "{key} {}", a["city"]);
            assert_eq!(row["composite"], format!("{:.2}", a["composite_index"].as_f64().unwrap()));
            assert_eq!(row["pm25"], format!("{:.0}", a["pm25"].as_f64().unwrap()));
            assert_eq!(row["good"], format!("{:.1}", a["good_ratio"].as_f64().unwrap()));
        }
    }
    // The marked cities are those whose capture `lantian assess` says falls short, with its reasons.
    let year_rows = lantian_json(&["--data", s(&srv.data), "assess", "--from", "2019-01-01", "--to", "2019-12-31"]);
    let short: Vec<&str> =
        year_rows.iter().filter(|r| r["capture_ok"] == false).map(|r| r["city"].as_str().unwrap()).collect();
    let marked: Vec<&str> = v["capture"].as_array().unwrap().iter().map(|m| m["city"].as_str().unwrap()).collect();
    assert!(!short.is_empty());
    assert_eq!(sorted(marked), sorted(short.clone()));
    let first = &v["capture"][0];
    let f = &year_rows.iter().find(|r| r["city"] == first["city"]).unwrap()["capture_failures"][0];
    let line = format!("{}年{}月", f["year"], f["month"]);
    assert!(first["title"].as_str().unwrap().contains(&line), "{} lacks {line}", first["title"]);
    assert_eq!(v["city"]["title"], "成都 · 2019");
    let year = lantian_json(&[
        "--data",
        s(&srv.data),
        "assess",
        "--from",
        "2019-01-01",
        "--to",
        "2019-12-31",
        "--city",
        "成都",
    ]);
    assert!(
        v["city"]["summary"]
            .as_str()
            .unwrap()
            .starts_with(&format!("PM2.5 {:.0}，", year[0]["pm25"].as_f64().unwrap())),
        "{}",
        v["city"]["summary"]
    );
    assert!(v["city"]["targets"].as_array().unwrap().iter().any(|t| t == "good_ratio"));
    // Targets are named as people say them, not by their stored keys.
    let names: Vec<&str> = v["city"]["target_names"].as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    assert!(names.contains(&"优良天数比例"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains('_')), "{names:?}");
    // Only stations that reported are in the table; the rest are named below it.
    let hours: Vec<&str> = v["city"]["station_hours"].as_array().unwrap().iter().filter_map(|n| n.as_str()).collect();
    assert!(!hours.is_empty() && hours.iter().all(|h| !h.starts_with("0 /")), "{hours:?}");
    assert!(v["city"]["absent"].as_str().unwrap().contains("草堂寺"), "{}", v["city"]["absent"]);
    assert_eq!(v["actions"], 25, "the July 2019 policy run's actions");
    let acked = v["acknowledged"].as_str().unwrap();
    let ledger = lantian_json(&["--data", s(&srv.data), "action", "list", "--status", "acknowledged"]);
    assert!(ledger.iter().any(|a| a["id"].as_i64().map(|i| i.to_string()).as_deref() == Some(acked)), "{ledger:?}");
    let rows = v["progress_rows"].as_array().unwrap();
    assert_eq!(rows[1].as_u64().unwrap(), rows[0].as_u64().unwrap() + 1);
    // The task written and edited on the web is the ledger's, with the CLI's validation and audit.
    assert!(v["task_refused"].as_str().unwrap().contains("task 46 exists already"), "{}", v["task_refused"]);
    let task = lantian_json(&["--data", s(&srv.data), "task", "export"]);
    let t = task.iter().find(|t| t["number"] == 901).expect("task 901 in the ledger");
    assert_eq!(t["measures"].as_array().unwrap().len(), 3, "{t}");
    assert_eq!(t["deadline"], "2020-06-30");
    assert_eq!(t["goal_targets"][0]["areas"][0], "成都");
    assert_eq!(t["status"], "not_started");
    let shown = lantian(&["--data", s(&srv.data), "task", "show", "901"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("道路机扫水洗") && shown.contains("edited task 901: deadline, measures"), "{shown}");
    let last = v["last_progress"].as_str().unwrap();
    assert!(
        last.contains("浏览器测试") && last.contains("柴油货车抽查1200辆次") && last.contains("抽查记录.pdf"),
        "{last}"
    );
    assert_eq!(v["download"], "notice-month-2019-07.docx");
    assert_eq!(v["week_download"], "notice-week-2019-W30.docx");
    assert_eq!(v["daily_download"], "daily-briefing-2019-07-15.xlsx");
    assert_eq!(&std::fs::read(shots.join("notice-month-2019-07.docx")).unwrap()[..2], b"PK");
    // The screening page: the same findings as `lantian screen`, the chart, a dismissal recorded.
    let sc = &v["screen"];
    assert!(sc["alerts"].as_array().unwrap().is_empty(), "{}", sc["alerts"]);
    let cli = lantian_json(&[
        "--data",
        s(&srv.data),
        "screen",
        "--city",
        "广安",
        "--check",
        "stuck",
        "--from",
        "2019-01-01",
        "--to",
        "2019-12-31",
    ]);
    let ids: Vec<&str> = cli.iter().filter_map(|r| r["id"].as_str()).collect();
    // After the dismissal the page lists what the CLI lists; before it, the dismissed one too.
    assert_eq!(
        sc["after"].as_array().unwrap().iter().filter_map(|x| x.as_str()).collect::<Vec<_>>(),
        ids,
        "the page's rows are the CLI's"
    );
    assert_eq!(sc["rows"].as_array().unwrap().len(), ids.len() + 1);
    assert!(
        sc["title"].as_str().unwrap().contains("小平旧居") && sc["title"].as_str().unwrap().contains("数值恒定"),
        "{}",
        sc["title"]
    );
    assert!(sc["evidence"].as_str().unwrap().contains("29小时恒为41"), "{}", sc["evidence"]);
    assert_eq!(sc["buttons"], serde_json::json!(["确认（数据有问题）", "排除"]));
    let all = lantian_json(&["--data", s(&srv.data), "screen", "--station", "2543A", "--check", "stuck", "--all"]);
    let r = all.iter().find(|r| r["id"] == "2543A-stuck-pm25-2019010912").unwrap();
    assert_eq!(r["status"], "dismissed", "{r}");
    let rejects = v["import_rejects"].as_array().unwrap();
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    let r = rejects[0].as_str().unwrap();
    assert!(r.contains("补录数据.csv") && r.contains('3') && r.contains("value"), "{r}");
    assert!(!r.contains("uploads"), "the server's path is not shown: {r}");
    for f in [
        "login.png",
        "overview.png",
        "overview-en.png",
        "overview-raw.png",
        "city.png",
        "actions.png",
        "task.png",
        "reports.png",
        "import.png",
    ] {
        assert!(shots.join(f).is_file(), "{f}");
    }
}

/// The README's first command: `lantian demo` imports the sample, prints the
/// 2019 ranking, makes an account and serves the dashboard with it.
#[test]
fn demo_serves_with_its_printed_account() {
    let cwd = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args(["demo", "--sample", s(&crate::common::sample()), "--addr", &format!("127.0.0.1:{port}")])
        .current_dir(cwd.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let password = loop {
        let line = rx.recv_timeout(Duration::from_secs(120)).expect("demo prints its account");
        if let Some(rest) = line.split("密码 password: ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_string();
        }
    };
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(t.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(20));
    }
    let (cookie, _) = login(port, "demo", &password);
    let ov = request(port, "GET", "/api/overview?from=2019-01-01&to=2019-12-31", &[("Cookie", cookie.as_str())], None);
    assert_eq!(ov.body["cities"].as_array().unwrap().len(), 21);
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains("成都") && printed.contains("4.65"), "{printed}");
}

fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "lantianboundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
    }
    if let Some((name, bytes)) = file {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"evidence\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes(),
        );
        body.extend(bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)], ct: &str, body: &[u8]) -> u16 {
    raw_reply(port, method, path, headers, ct, body).0
}

fn raw_reply(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    ct: &str,
    body: &[u8],
) -> (u16, serde_json::Value) {
    let (status, text) = raw_text(port, method, path, headers, ct, body);
    (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// Every role against every write endpoint and another city's records.
#[test]
fn authorization_matrix() {
    let srv = server();
    let port = srv.port;
    let sessions: Vec<(&str, String, String)> = [
        ("admin", "admin-password"),
        ("analyst", "analyst-password"),
        ("viewer", "viewer-password"),
        ("chengdu", "chengdu-password"),
        ("yibin", "yibin-password"),
    ]
    .iter()
    .map(|(u, p)| {
        let (c, x) = login(port, u, p);
        (*u, c, x)
    })
    .collect();
    let admin = &sessions[0];
    let all = request(port, "GET", "/api/actions", &[("Cookie", admin.1.as_str())], None).body;
    let id_of = |area: &str, kind: &str| {
        all.as_array().unwrap().iter().find(|a| a["area"] == area && a["kind"] == kind).unwrap()["id"].as_i64().unwrap()
    };
    // 成都 and 宜宾 both got the monthly notice in July 2019.
    let (chengdu_notice, yibin_notice) = (id_of("成都", "notice"), id_of("宜宾", "notice"));
    // The screening: province staff read it, a city officer is refused; only admin and analyst decide.
    let finding = "/api/findings/2543A-stuck-pm25-2019010912";
    for (user, cookie, csrf) in &sessions {
        let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
        let list = request(port, "GET", "/api/findings?from=2019-01-01&to=2019-01-31&check=stuck", &auth, None);
        let series = request(port, "GET", &format!("{finding}/series"), &auth, None);
        let review = |note: &str| {
            let body = serde_json::json!({"decision": "confirmed", "note": note}).to_string();
            request(port, "POST", &format!("{finding}/review"), &auth, Some(&body)).status
        };
        match *user {
            "chengdu" | "yibin" => {
                assert_eq!((list.status, series.status), (403, 403), "{user}");
                assert_eq!(review("x"), 403, "{user}");
            }
            "viewer" => {
                assert_eq!((list.status, series.status), (200, 200));
                assert_eq!(review("x"), 403);
            }
            _ => {
                assert_eq!(list.status, 200, "{user}");
                assert!(
                    list.body["findings"].as_array().unwrap().iter().any(|f| f["id"] == "2543A-stuck-pm25-2019010912")
                );
                assert_eq!(
                    series.body["times"].as_array().unwrap().len(),
                    series.body["station"].as_array().unwrap().len()
                );
                assert_eq!(review(" "), 400, "a note is required");
                assert_eq!(review(&format!("checked by {user}")), 200);
            }
        }
    }
    let decided = lantian_json(&["--data", s(&srv.data), "screen", "--station", "2543A", "--check", "stuck"]);
    assert_eq!(decided.iter().find(|r| r["id"] == "2543A-stuck-pm25-2019010912").unwrap()["status"], "confirmed");
    for (user, cookie, csrf) in &sessions {
        let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
        // Reading: a city officer sees only its own city's actions.
        let list = request(port, "GET", "/api/actions", &auth, None).body;
        let areas: std::collections::BTreeSet<String> =
            list.as_array().unwrap().iter().map(|a| a["area"].as_str().unwrap().to_string()).collect();
        match *user {
            "chengdu" => assert_eq!(areas.into_iter().collect::<Vec<_>>(), vec!["成都"]),
            "yibin" => assert_eq!(areas.into_iter().collect::<Vec<_>>(), vec!["宜宾"]),
            _ => assert_eq!(areas.len(), 21, "{user}"),
        }
        // Task 46 concerns 宜宾, not 成都.
        let task = request(port, "GET", "/api/tasks/46", &auth, None).status;
        assert_eq!(task, if *user == "chengdu" { 404 } else { 200 }, "{user} reads task 46");
        let tasks = request(port, "GET", "/api/tasks", &auth, None).body;
        assert_eq!(tasks.as_array().unwrap().len(), usize::from(*user != "chengdu"), "{user} lists tasks");
        // Acknowledging the 宜宾 notice.
        let ack =
            request(port, "POST", &format!("/api/actions/{yibin_notice}"), &auth, Some(r#"{"change":"ack"}"#)).status;
        let expected = match *user {
            "viewer" => 403,
            "chengdu" => 404,
            // The first role to acknowledge succeeds; the others find it acknowledged already.
            _ => ack,
        };
        assert_eq!(ack, expected, "{user} acks 宜宾");
        assert!([200, 400].contains(&ack) || *user == "viewer" || *user == "chengdu", "{user}: {ack}");
        // Lifting is the province's.
        let lift = request(
            port,
            "POST",
            &format!("/api/actions/{chengdu_notice}"),
            &auth,
            Some(r#"{"change":"lift","reason":"测试"}"#),
        )
        .status;
        let expected_lift = match *user {
            "viewer" | "chengdu" => 403,
            "yibin" => 404,
            _ => lift,
        };
        assert_eq!(lift, expected_lift, "{user} lifts 成都");
        // Progress on task 46, with an evidence file.
        let (ct, body) = multipart(
            &[
                ("date", "2019-12-31"),
                ("measure", "2"),
                ("text", "完成燃煤电厂超低排放改造"),
                ("indicator", "超低排放改造=10 万千瓦"),
            ],
            Some(("照片.jpg", b"\xff\xd8\xffjpeg")),
        );
        let status = raw(port, "POST", "/api/tasks/46/progress", &auth, &ct, &body);
        let expected = match *user {
            "viewer" => 403,
            "chengdu" => 404,
            _ => 200,
        };
        assert_eq!(status, expected, "{user} reports progress on task 46");
        // Status moves: task 46 is 已完成 in the sample; closing is the province's, reopening too.
        let reopen =
            request(port, "POST", "/api/tasks/46/status", &auth, Some(r#"{"to":"in_progress","note":"复核"}"#)).status;
        let expected = match *user {
            "viewer" => 403,
            "chengdu" => 404,
            // Already 推进中 by then: the workflow refuses the move.
            "yibin" => 400,
            // The first province role reopens it; after that it is 推进中 and the move is refused (400).
            _ => reopen,
        };
        assert_eq!(reopen, expected, "{user} reopens task 46");
        assert!([200, 400].contains(&reopen) || matches!(*user, "viewer" | "chengdu"), "{user}: {reopen}");
        // Importing is the province's.
        let boundary = "lantianboundary7MA4YWxk";
        let csv = "station,time,pollutant,value\n1431A,2019-07-01T01:00,pm25,30\n";
        let upload = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"../../x.csv\"\r\n\r\n{csv}\r\n--{boundary}--\r\n"
        );
        let upload_ct = format!("multipart/form-data; boundary={boundary}");
        let (status, started) = raw_reply(port, "POST", "/api/import", &auth, &upload_ct, upload.as_bytes());
        assert_eq!(status, if matches!(*user, "admin" | "analyst") { 200 } else { 403 }, "{user} imports");
        if status == 200 {
            let job = started["job"].as_str().unwrap().to_string();
            let doc: serde_json::Value = request(port, "GET", "/api/openapi.json", &[], None).body;
            let t = Instant::now();
            loop {
                let r = request(port, "GET", &format!("/api/import/{job}"), &auth, None);
                assert_eq!(r.status, 200);
                let schema = doc["paths"]["/api/import/{id}"]["get"]["responses"]["200"]["content"]["application/json"]
                    ["schema"]
                    .clone();
                conforms(&r.body, &schema, &doc, "import status");
                if r.body["state"] != "running" {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(30));
                std::thread::sleep(Duration::from_millis(50));
            }
            // Another role may not watch imports.
            let viewer = sessions.iter().find(|x| x.0 == "viewer").unwrap();
            let v = [("Cookie", viewer.1.as_str())];
            assert_eq!(request(port, "GET", &format!("/api/import/{job}"), &v, None).status, 403);
        }
        // Without the CSRF token every write is refused.
        let no_csrf = [("Cookie", cookie.as_str())];
        assert_eq!(raw(port, "POST", "/api/tasks/46/progress", &no_csrf, &ct, &body), 403, "{user} without CSRF");
        assert_eq!(
            request(port, "POST", &format!("/api/actions/{yibin_notice}"), &no_csrf, Some(r#"{"change":"ack"}"#))
                .status,
            403
        );
    }
    // The audit trail names who did it.
    let out = lantian(&["--data", s(&srv.data), "task", "show", "46", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let who: Vec<&str> = v["audit"].as_array().unwrap().iter().map(|e| e["who"].as_str().unwrap()).collect();
    for u in ["admin", "analyst", "yibin"] {
        assert!(who.contains(&u), "{u} not in the audit log: {who:?}");
    }
    // The yibin officer may now complete it again (its own task, 推进中 → 已完成).
    let yibin = &sessions[4];
    let y = [("Cookie", yibin.1.as_str()), ("X-CSRF-Token", yibin.2.as_str())];
    assert_eq!(request(port, "POST", "/api/tasks/46/status", &y, Some(r#"{"to":"completed"}"#)).status, 200);
    assert_eq!(
        request(port, "POST", "/api/tasks/46/status", &y, Some(r#"{"to":"closed"}"#)).status,
        403,
        "closing is the province's"
    );
    assert_eq!(
        request(port, "POST", "/api/tasks/46/status", &y, Some(r#"{"to":"in_progress"}"#)).status,
        403,
        "reopening too"
    );
    // Imports from the page are in the audit log with who ran them (the job finishes in the background).
    let t = Instant::now();
    loop {
        use lantian_store::ledger::Ledger;
        let log = lantian_store::ledger::SqliteLedger::open(&srv.data).unwrap().audit(None).unwrap();
        let imports: Vec<&str> =
            log.iter().filter(|e| e.change.starts_with("import ")).map(|e| e.who.as_str()).collect();
        if imports.len() == 2 {
            assert!(imports.contains(&"admin") && imports.contains(&"analyst"), "{imports:?}");
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "imports not audited: {imports:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Evidence is stored under its hash.
    let sha = v["progress"].as_array().unwrap().iter().rev().find_map(|p| p["evidence"][0]["sha256"].as_str()).unwrap();
    assert!(srv.data.join("evidence").join(&sha[..2]).join(sha).is_file());
    // Reports download for any logged-in role.
    let viewer = [("Cookie", sessions[2].1.as_str())];
    let r = request(port, "GET", "/api/reports?kind=completion&task=46&format=docx", &viewer, None);
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.headers.contains("attachment; filename=\"task-46-completion.docx\""), "{}", r.headers);
    daily_briefing_download(port, &viewer, &srv.data);
}

/// `GET /api/reports?kind=daily`: a workbook by default, its day sheet
/// holding what `lantian daily --city` computes for the same day.
fn daily_briefing_download(port: u16, auth: &[(&str, &str)], data: &Path) {
    use calamine::{Data, Reader};
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req =
        "GET /api/reports?kind=daily&date=2019-07-15 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n".to_string();
    for (k, v) in auth {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let mut bytes = Vec::new();
    c.read_to_end(&mut bytes).unwrap();
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("attachment; filename=\"daily-briefing-2019-07-15.xlsx\""), "{head}");
    assert!(head.contains("spreadsheetml"), "{head}");
    let mut x = calamine::Xlsx::new(std::io::Cursor::new(bytes[split + 4..].to_vec())).unwrap();
    for sheet in ["正文", "当日", "本月累计", "本年累计", "目标", "变差城市"] {
        assert!(x.sheet_names().contains(&sheet.to_string()), "{sheet}: {:?}", x.sheet_names());
    }
    let day = x.worksheet_range("当日").unwrap();
    let rows: Vec<&[Data]> = day.rows().collect();
    let daily =
        lantian_json(&["--data", s(data), "daily", "--city", "达州", "--from", "2019-07-15", "--to", "2019-07-15"]);
    let row = rows.iter().find(|r| r[0] == Data::String("达州".into())).unwrap();
    assert_eq!(row[1], Data::Float(daily[0]["aqi"].as_f64().unwrap()));
    assert_eq!(row[4], Data::String(daily[0]["primary"].as_str().unwrap().into()));
}

/// `serve --gateway`: the dashboard and the HJ 212 gateway in one process;
/// SIGTERM stops both, and the gateway's log is in the store.
#[test]
fn serve_with_gateway() {
    use crate::gateway::{Client, free_port, hourly_seg, register};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    lantian_store::import(&data, &[crate::common::sample().join("sichuan_stations_2022.02.13.csv")], None).unwrap();
    register(&data, "1431A", "ug");
    let (web, gw) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_lantian"))
        .args([
            "--data",
            s(&data),
            "serve",
            "--addr",
            &format!("127.0.0.1:{web}"),
            "--gateway",
            &format!("127.0.0.1:{gw}"),
        ])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", gw)).is_err()
        || std::net::TcpStream::connect(("127.0.0.1", web)).is_err()
    {
        assert!(t.elapsed() < Duration::from_secs(30), "serve with gateway did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut c = Client::connect(gw);
    let seg = hourly_seg(
        "20190701100000001",
        "LT1431A",
        "pw1431A",
        "5",
        "DataTime=20190701100000;a34004-Avg=35,a34004-Flag=N",
    );
    c.send(lantian_hj212::encode(&seg).as_bytes());
    assert_eq!(c.acks(1), vec!["20190701100000001"]);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let rows = lantian_json(&[
        "--data",
        s(&data),
        "hourly",
        "--station",
        "1431A",
        "--from",
        "2019-07-01",
        "--to",
        "2019-07-01",
    ]);
    assert_eq!(rows.iter().find(|r| r["time"] == "2019-07-01T11:00+08:00").unwrap()["pm25"], 35.0);
}

/// The bad-input catalogue, web side: hostile and malformed requests, each
/// with the status and words the client gets, then proof that nothing else
/// changed or was lost (the server still answers, the ledger holds exactly
/// what the accepted requests wrote, no file escaped the data directory).
#[test]
fn hostile_requests_catalogue() {
    let srv = server();
    let port = srv.port;
    let (cookie, csrf) = login(port, "admin", "admin-password");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let sql = "'); DROP TABLE task; --";
    let task_46 = || -> serde_json::Value {
        let out = lantian(&["--data", s(&srv.data), "task", "show", "46", "--format", "json"]);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let progress_before = task_46()["progress"].as_array().map_or(0, Vec::len);
    let id = request(port, "GET", "/api/actions", &auth, None).body[0]["id"].as_i64().unwrap();
    let json = "application/json";
    let big_json = format!(r#"{{"name":"{}","password":"x"}}"#, "a".repeat(3 << 20));
    let deep_json = format!(r#"{{"name":"a","password":"b","extra":{}{}}}"#, "[".repeat(100_000), "]".repeat(100_000));
    let (mp, too_big) = multipart(&[("date", "2019-12-01"), ("text", "x")], Some(("big.pdf", &vec![0u8; 21 << 20])));
    let (_, bad_date) = multipart(&[("date", "2019-13-01"), ("text", "x")], None);
    let (_, sql_everywhere) = multipart(
        &[("date", "2019-12-01"), ("author", sql), ("text", sql), ("indicator", &format!("{sql}=3 台"))],
        Some((&format!("../../{sql}.pdf"), b"%PDF-1.4 evidence")),
    );
    let (_, bad_indicator) = multipart(&[("date", "2019-12-01"), ("text", "x"), ("indicator", "no equals sign")], None);
    let action = format!("/api/actions/{id}");
    // (name, method, path, content type, body, status, words in the reply)
    type Case<'a> = (&'a str, &'a str, String, &'a str, Vec<u8>, u16, String);
    let cases: Vec<Case> = vec![
        (
            "login: SQL in name and password",
            "POST",
            "/api/login".into(),
            json,
            format!(r#"{{"name":"admin' OR '1'='1","password":"{sql}"}}"#).into_bytes(),
            401,
            "wrong name or password".into(),
        ),
        (
            "login: 3 MB body",
            "POST",
            "/api/login".into(),
            json,
            big_json.into_bytes(),
            413,
            "Failed to buffer the request body: length limit exceeded".into(),
        ),
        (
            "login: not JSON",
            "POST",
            "/api/login".into(),
            json,
            b"name=admin".to_vec(),
            400,
            "Failed to parse the request body as JSON: expected ident at line 1 column 2".into(),
        ),
        (
            "login: missing field",
            "POST",
            "/api/login".into(),
            json,
            br#"{"name":"admin"}"#.to_vec(),
            422,
            "missing field `password`".into(),
        ),
        // Skipped without recursion (no stack overflow), the login then refused.
        (
            "login: 100,000 nested arrays in an extra field",
            "POST",
            "/api/login".into(),
            json,
            deep_json.into_bytes(),
            401,
            "wrong name or password".into(),
        ),
        (
            "ack: SQL in the reason",
            "POST",
            action.clone(),
            json,
            format!(r#"{{"change":"ack","reason":"{sql}"}}"#).into_bytes(),
            200,
            r#""status":"acknowledged""#.into(),
        ),
        (
            "action: unknown change",
            "POST",
            action.clone(),
            json,
            br#"{"change":"ack'; --"}"#.to_vec(),
            400,
            r#"change \"ack'; --\": ack or lift"#.into(),
        ),
        (
            "action: id not a number",
            "POST",
            "/api/actions/1%20OR%201=1".into(),
            json,
            br#"{"change":"ack"}"#.to_vec(),
            400,
            "Invalid URL: Cannot parse `1 OR 1=1` to a `i64`".into(),
        ),
        (
            "city: SQL in the name",
            "GET",
            "/api/cities/%E6%88%90%E9%83%BD'%3B%20DROP%20TABLE%20task%3B--?year=2019".into(),
            json,
            Vec::new(),
            404,
            "no data for 成都'; DROP TABLE task;-- in 2019".into(),
        ),
        (
            "overview: SQL in the period",
            "GET",
            "/api/overview?from=2019-07-01'%20OR%20'1'='1&to=2019-07-31".into(),
            json,
            Vec::new(),
            400,
            r#"from: parsed value '2019-07-01', but unparsed input"#.into(),
        ),
        (
            "task status: SQL in the target status",
            "POST",
            "/api/tasks/46/status".into(),
            json,
            format!(r#"{{"to":"{sql}"}}"#).into_bytes(),
            400,
            r#"unknown status \"'); DROP TABLE task; --\""#.into(),
        ),
        (
            "report: SQL in the kind",
            "GET",
            "/api/reports?kind=notice'--&period=month:2019-07".into(),
            json,
            Vec::new(),
            400,
            "kind=notice&period=month:YYYY-MM, kind=completion&task=N or kind=daily&date=YYYY-MM-DD".into(),
        ),
        (
            "report: daily briefing of a 13th month",
            "GET",
            "/api/reports?kind=daily&date=2019-13-01".into(),
            json,
            Vec::new(),
            400,
            "date=2019-13-01: expected YYYY-MM-DD".into(),
        ),
        (
            "report: daily briefing of a year without data",
            "GET",
            "/api/reports?kind=daily&date=2031-03-01".into(),
            json,
            Vec::new(),
            400,
            "no data for 2031-01-01 … 2031-03-01".into(),
        ),
        (
            "progress: 21 MB evidence",
            "POST",
            "/api/tasks/46/progress".into(),
            &mp,
            too_big,
            413,
            "the upload is larger than this form accepts (20 MB for evidence".into(),
        ),
        (
            "progress: 13th month",
            "POST",
            "/api/tasks/46/progress".into(),
            &mp,
            bad_date,
            400,
            r#"date \"2019-13-01\": failed to parse two digit integer as month"#.into(),
        ),
        (
            "progress: indicator without a value",
            "POST",
            "/api/tasks/46/progress".into(),
            &mp,
            bad_indicator,
            400,
            r#"indicator \"no equals sign\": expected NAME=VALUE UNIT"#.into(),
        ),
        (
            "progress: SQL and path traversal in every text field and the file name",
            "POST",
            "/api/tasks/46/progress".into(),
            &mp,
            sql_everywhere,
            200,
            r#""id":"#.into(),
        ),
    ];
    assert!(cases.len() >= 16);
    let mut wrong = Vec::new();
    for (name, method, path, ct, body, status, words) in &cases {
        let (got, reply) = raw_text(port, method, path, &auth, ct, body);
        eprintln!("catalogue web: {name}: {got} {}", reply.chars().take(160).collect::<String>());
        if got != *status || !reply.contains(words.as_str()) {
            wrong.push(format!("{name}: expected {status} «{words}», got {got} {reply}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    // Nothing else lost or changed: the server answers, the ack and the one
    // accepted progress entry are there with their text as written.
    assert_eq!(request(port, "GET", "/api/me", &auth, None).status, 200);
    let actions = lantian_json(&["--data", s(&srv.data), "action", "list"]);
    assert_eq!(actions.len(), 25);
    let task = task_46();
    let progress = task["progress"].as_array().unwrap();
    assert_eq!(progress.len(), progress_before + 1, "only the accepted entry was added");
    // Entries are listed by date: find the new one by its author.
    let last = progress.iter().find(|p| p["author"] == sql).expect("the entry with SQL text stored as text");
    assert_eq!(last["text"], sql);
    assert_eq!(last["indicators"][0]["name"], sql);
    assert_eq!(last["evidence"][0]["name"], format!("{sql}.pdf"), "the directory part was dropped");
    let outside: Vec<_> =
        std::fs::read_dir(srv.data.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(outside, vec![std::ffi::OsString::from("data")], "nothing written beside the data directory");
}

fn raw_text(port: u16, method: &str, path: &str, headers: &[(&str, &str)], ct: &str, body: &[u8]) -> (u16, String) {
    let mut c = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: {ct}\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    c.write_all(req.as_bytes()).unwrap();
    let _ = c.write_all(body); // the server may answer 413 and close before reading it all
    let mut bytes = Vec::new();
    let _ = c.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default())
}
