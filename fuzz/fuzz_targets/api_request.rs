//! Every API request body and query through the real router (`lantian
//! serve`'s axum app) with a logged-in admin session: login, action
//! changes, task status moves, progress forms, import uploads, and the
//! query strings of the overview, city and report endpoints. The first
//! byte picks the endpoint, the rest is the body (or the query). Any panic
//! or 5xx answer is a finding.
#![no_main]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use libfuzzer_sys::fuzz_target;
use lantian_store::ledger::Ledger;
use std::sync::OnceLock;
use tower::ServiceExt;

const BOUNDARY: &str = "fuzzboundary";

struct App {
    _dir: tempfile::TempDir,
    rt: tokio::runtime::Runtime,
    router: axum::Router,
    cookie: String,
    csrf: String,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let csv = dir.path().join("hours.csv");
        std::fs::write(
            &csv,
            "station,time,pollutant,value\n1431A,2019-07-01T01:00,pm25,35\n1431A,2019-07-01T02:00,o3,120\n",
        )
        .unwrap();
        lantian_store::import(&data, &[csv], None).unwrap();
        let mut ledger = lantian_store::ledger::SqliteLedger::open(&data).unwrap();
        lantian_store::users::add(ledger.db(), "admin", "fuzz-password", "admin", None, "fuzz").unwrap();
        let task: lantian_store::tasks::ImportTask =
            serde_json::from_str(include_str!("../../sample/tasks/task-46.json")).unwrap();
        lantian_store::tasks::import(ledger.db(), &[task], "fuzz").unwrap();
        drop(ledger);
        let ctx = lantian_app::Ctx::new(data, None);
        let router = lantian::serve::router(ctx);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let login = Request::post("/api/login")
            .header("content-type", "application/json")
            .body(Body::from(r#"{"name":"admin","password":"fuzz-password"}"#))
            .unwrap();
        let res = rt.block_on(router.clone().oneshot(login)).unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        let body = rt.block_on(axum::body::to_bytes(res.into_body(), 1 << 20)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let csrf = v["csrf"].as_str().unwrap().to_string();
        App { _dir: dir, rt, router, cookie, csrf }
    })
}

fn request(method: &str, uri: &str, ct: &str, body: &[u8]) -> Option<Request<Body>> {
    let a = app();
    Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct)
        .header("cookie", &a.cookie)
        .header("x-csrf-token", &a.csrf)
        .body(Body::from(body.to_vec()))
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else { return };
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    let query = String::from_utf8_lossy(body);
    let req = match pick % 9 {
        0 => request("POST", "/api/login", "application/json", body),
        1 => request("POST", "/api/actions/1", "application/json", body),
        2 => request("POST", "/api/tasks/46/status", "application/json", body),
        3 => request("POST", "/api/tasks/46/progress", &multipart, body),
        4 => request("POST", "/api/import", &multipart, body),
        5 => request("GET", &format!("/api/overview?{query}"), "", b""),
        6 => request("GET", &format!("/api/reports?{query}"), "", b""),
        7 => request("GET", &format!("/api/cities/{query}"), "", b""),
        _ => request("GET", &format!("/api/tasks?{query}"), "", b""),
    };
    let Some(req) = req else { return };
    let a = app();
    let res = a.rt.block_on(a.router.clone().oneshot(req)).unwrap();
    assert!(!res.status().is_server_error(), "{}", res.status());
});
