//! `lantian serve`: the web dashboard and its JSON API from one binary
//! (assets embedded). Accounts from `lantian user`; sessions in a cookie
//! (HttpOnly, SameSite=Strict) with a CSRF token every write must echo in
//! `X-CSRF-Token`; logins rate-limited per name. The numbers come from the
//! same functions as `lantian assess`, so the page and the CLI agree.
//!
//! Why axum: the tokio stack the gateway already uses, routing and
//! extractors without a framework's weight (STACK.md).

use anyhow::{Context, Result};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::civil::Date;
use lantian_app::Ctx;
use lantian_app::days::{DayCache, Days};
use lantian_store::users::{self, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod work;

const INDEX: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");
const ECHARTS: &str = include_str!("../../assets/echarts.min.js");
const OPENAPI: &str = include_str!("../../assets/openapi.json");

/// Page computations at once (each uses a core and reads months ahead on
/// other threads), other blocking calls at once, and requests allowed to
/// wait for either before the server answers 503.
const HEAVY_WORKERS: usize = 2;
const LIGHT_WORKERS: usize = 8;
const QUEUE: usize = 1024;
/// Computed pages kept (per store generation).
const CACHE_ENTRIES: usize = 4096;

/// How long a stopping server waits for open connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

const COOKIE: &str = "lantian_session";
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per name within `LOGIN_WINDOW`.
const LOGIN_LIMIT: u32 = 5;
const LOGIN_WINDOW: Duration = Duration::from_secs(300);

#[derive(Clone)]
struct Session {
    user: User,
    csrf: String,
    expires: Instant,
}

/// A running or finished import started from the page.
#[derive(Default)]
struct ImportJob {
    done: std::sync::atomic::AtomicUsize,
    total: std::sync::atomic::AtomicUsize,
    result: Mutex<Option<Result<serde_json::Value, String>>>,
}

struct App {
    ctx: Ctx,
    jobs: Mutex<HashMap<String, Arc<ImportJob>>>,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// Pages computed from the store (overview, city pages): few at a time, cached.
    heavy: work::Work,
    /// Everything else that blocks (ledger reads and writes, password checks).
    light: work::Work,
    /// The store's current generation, opened once and shared by the
    /// computations with the days they have computed.
    store: Mutex<Option<(Arc<DayCache>, Instant)>>,
}

/// An API error: status and a message for people.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response();
        if self.0 == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> ApiError {
        ApiError(StatusCode::BAD_REQUEST, format!("{e:#}"))
    }
}

fn unauthorized() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, "not logged in".into())
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

impl App {
    fn session(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
        let token = cookie_token(headers).ok_or_else(unauthorized)?;
        let mut s = self.sessions.lock().map_err(|_| unauthorized())?;
        match s.get(&token) {
            Some(sess) if sess.expires > Instant::now() => Ok(sess.clone()),
            Some(_) => {
                s.remove(&token);
                Err(unauthorized())
            }
            None => Err(unauthorized()),
        }
    }

    /// A write: a session whose CSRF token the request echoes.
    fn write_session(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
        let s = self.session(headers)?;
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
        if sent.is_empty() || sent != s.csrf {
            return Err(ApiError(StatusCode::FORBIDDEN, "missing or wrong CSRF token".into()));
        }
        Ok(s)
    }
}

impl From<work::Refused> for ApiError {
    fn from(r: work::Refused) -> ApiError {
        match r {
            work::Refused::Busy => ApiError(StatusCode::SERVICE_UNAVAILABLE, "busy: try again in a moment".into()),
            work::Refused::Stopping => ApiError(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping".into()),
            work::Refused::Failed(e) => ApiError::from(e),
        }
    }
}

impl App {
    /// Blocking work that is not a page computation, on the light pool.
    async fn blocking<T: Send + 'static>(&self, f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T, ApiError> {
        Ok(self.light.run(move |_| f()).await?)
    }

    /// The store as committed now (re-read at most once per `work::RECHECK`).
    async fn store_now(&self) -> Result<Arc<DayCache>, ApiError> {
        if let Some((s, at)) = &*self.store.lock().map_err(|_| unauthorized())?
            && at.elapsed() < work::RECHECK
        {
            return Ok(s.clone());
        }
        let ctx = self.ctx.clone();
        let fresh = self.light.run(move |_| ctx.store()).await?;
        let mut slot = self.store.lock().map_err(|_| unauthorized())?;
        let keep = slot.as_ref().is_some_and(|(s, _)| s.store().generation() == fresh.generation());
        let store = if keep { slot.as_ref().expect("checked").0.clone() } else { Arc::new(DayCache::new(fresh)) };
        *slot = Some((store.clone(), Instant::now()));
        Ok(store)
    }

    /// A page's JSON, computed at most once per store generation and key
    /// (however many ask at once), on the heavy pool. `compute` gets the
    /// store and a flag that is set when nobody waits for the answer any more.
    async fn computed(
        &self,
        key: String,
        compute: impl FnOnce(&Ctx, &dyn Days, &work::Cancel) -> Result<(StatusCode, serde_json::Value)> + Send + 'static,
    ) -> Result<Response, ApiError> {
        let store = self.store_now().await?;
        let ctx = self.ctx.clone();
        let (status, body) = self
            .heavy
            .cached(key, store.store().generation(), move |cancel| {
                let (status, v) = compute(&ctx, &*store, cancel)?;
                Ok((status, axum::body::Bytes::from(v.to_string())))
            })
            .await?;
        Ok((status, [(header::CONTENT_TYPE, "application/json")], body).into_response())
    }
}

#[derive(serde::Deserialize)]
struct Login {
    name: String,
    password: String,
}

fn me_json(s: &Session) -> serde_json::Value {
    serde_json::json!({ "name": s.user.name, "role": s.user.role, "city": s.user.city, "csrf": s.csrf })
}

async fn login(State(app): State<Arc<App>>, Json(l): Json<Login>) -> Result<Response, ApiError> {
    {
        let f = app.failures.lock().map_err(|_| unauthorized())?;
        if let Some((n, since)) = f.get(&l.name)
            && *n >= LOGIN_LIMIT
            && since.elapsed() < LOGIN_WINDOW
        {
            return Err(ApiError(StatusCode::TOO_MANY_REQUESTS, "too many failed logins; wait a few minutes".into()));
        }
    }
    let ctx = app.ctx.clone();
    let (name, password) = (l.name.clone(), l.password);
    let user = app
        .blocking(move || {
            let mut ledger = ctx.ledger()?;
            Ok(users::verify(ledger.db(), &name, &password)?)
        })
        .await?;
    let Some(user) = user else {
        let mut f = app.failures.lock().map_err(|_| unauthorized())?;
        let e = f.entry(l.name.clone()).or_insert((0, Instant::now()));
        if e.1.elapsed() >= LOGIN_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
        return Err(ApiError(StatusCode::UNAUTHORIZED, "wrong name or password".into()));
    };
    if let Ok(mut f) = app.failures.lock() {
        f.remove(&l.name);
    }
    let token = users::random_token();
    let s = Session { user, csrf: users::random_token(), expires: Instant::now() + SESSION_TTL };
    let body = me_json(&s);
    app.sessions.lock().map_err(|_| unauthorized())?.insert(token.clone(), s);
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_TTL.as_secs());
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| unauthorized())?);
    Ok(r)
}

async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    app.write_session(&headers)?;
    if let (Some(t), Ok(mut s)) = (cookie_token(&headers), app.sessions.lock()) {
        s.remove(&t);
    }
    let mut r = Json(serde_json::json!({ "ok": true })).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("lantian_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(r)
}

async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    let mut v = me_json(&app.session(&headers)?);
    // The last day with data, for the pages' default period.
    let last = app.store_now().await?.store().months().last().map(|m| m.first_day().last_of_month().to_string());
    v["data_to"] = last.map_or(serde_json::Value::Null, Into::into);
    Ok(Json(v))
}

#[derive(serde::Deserialize)]
struct Period {
    from: Date,
    to: Date,
}

/// The province overview: every city's assessment with the year-on-year
/// change (the rows of `lantian assess --compare previous-year`), its place
/// (mean of its stations' coordinates), and the regions.
async fn overview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<Period>,
) -> Result<Response, ApiError> {
    app.session(&headers)?;
    if p.from > p.to {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("from {} is after to {}", p.from, p.to)));
    }
    let key = format!("overview\u{0}{}\u{0}{}", p.from, p.to);
    app.computed(key, move |ctx, store, cancel| {
        let v = lantian_app::pages::overview_page(ctx, store, p.from, p.to, &|| cancel.check())?;
        Ok((StatusCode::OK, v))
    })
    .await
}

/// Province staff read and write everything; a city officer only its own
/// city's records; a viewer reads and never writes.
fn can_read_area(u: &User, area: &str) -> bool {
    u.role != "city" || u.city.as_deref() == Some(area)
}

fn forbidden(what: &str) -> ApiError {
    ApiError(StatusCode::FORBIDDEN, format!("your role may not {what}"))
}

fn action_json(a: &lantian_store::ledger::ActionRecord) -> serde_json::Value {
    serde_json::json!({
        "id": a.id, "area": a.area, "period": a.period, "kind": a.kind, "rule": a.rule, "rule_name": a.rule_name,
        "status": a.status, "amount": a.amount, "edition": a.edition, "created_at": a.created_at,
        "closed_at": a.closed_at, "close_reason": a.close_reason,
        "evidence": serde_json::from_str::<serde_json::Value>(&a.evidence).unwrap_or(serde_json::Value::Null),
    })
}

async fn actions(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.session(&headers)?.user;
    let ctx = app.ctx.clone();
    let list = app.blocking(move || Ok(ctx.ledger()?.list(None, None)?)).await?;
    Ok(Json(list.iter().filter(|a| can_read_area(&user, &a.area)).map(action_json).collect()))
}

#[derive(serde::Deserialize)]
struct ActionChange {
    /// `ack` or `lift`.
    change: String,
    reason: Option<String>,
}

async fn change_action(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<i64>,
    Json(c): Json<ActionChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.write_session(&headers)?.user;
    let ctx = app.ctx.clone();
    let v = app
        .blocking(move || -> Result<Result<serde_json::Value, ApiError>> {
            let mut ledger = ctx.ledger()?;
            let Some(a) = ledger.get(id)? else {
                return Ok(Err(ApiError(StatusCode::NOT_FOUND, format!("no action {id}"))));
            };
            // Another city's action is not even there for a city officer.
            if !can_read_area(&user, &a.area) {
                return Ok(Err(ApiError(StatusCode::NOT_FOUND, format!("no action {id}"))));
            }
            let allowed = match c.change.as_str() {
                "ack" => user.role != "viewer",
                "lift" => matches!(user.role.as_str(), "admin" | "analyst"),
                other => return Ok(Err(ApiError(StatusCode::BAD_REQUEST, format!("change {other:?}: ack or lift")))),
            };
            if !allowed {
                return Ok(Err(forbidden(&format!("{} actions", c.change))));
            }
            let (status, reason) = match c.change.as_str() {
                "ack" => ("acknowledged", None),
                _ => (
                    "lifted",
                    Some(
                        c.reason
                            .clone()
                            .filter(|r| !r.trim().is_empty())
                            .ok_or_else(|| anyhow::anyhow!("a lift needs a reason"))?,
                    ),
                ),
            };
            ledger.set_status(id, status, &user.name, reason.as_deref())?;
            let a = ledger.get(id)?.ok_or_else(|| anyhow::anyhow!("action {id} vanished"))?;
            Ok(Ok(action_json(&a)))
        })
        .await?;
    v.map(Json)
}

fn task_visible(u: &User, t: &lantian_store::tasks::Task) -> bool {
    u.role != "city" || u.city.as_ref().is_some_and(|c| t.fields.cities.contains(c))
}

/// Task `n` as `user` may see it: another city's task answers 404 like a missing one.
fn find_task(db: &mut dyn lantian_store::sql::Db, user: &User, n: i64) -> Result<lantian_store::tasks::Task, ApiError> {
    lantian_store::tasks::get(db, n)
        .ok()
        .filter(|t| task_visible(user, t))
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no task {n}")))
}

async fn tasks(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.session(&headers)?.user;
    let ctx = app.ctx.clone();
    let list = app.blocking(move || Ok(lantian_store::tasks::list(ctx.ledger()?.db())?)).await?;
    let today = lantian_app::today_date();
    let out: Vec<serde_json::Value> = list
        .iter()
        .filter(|t| task_visible(&user, t))
        .map(|t| {
            let mut v = serde_json::to_value(t).unwrap_or_default();
            v["overdue"] = lantian_core::task::is_overdue(t.status, t.fields.deadline, today).into();
            v["status_zh"] = t.status.zh().into();
            v
        })
        .collect();
    Ok(Json(out.into()))
}

async fn task(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(n): axum::extract::Path<i64>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.session(&headers)?.user;
    let ctx = app.ctx.clone();
    let t = app.blocking(move || Ok(find_task(ctx.ledger()?.db(), &user, n))).await??;
    let mut v = serde_json::to_value(&t).unwrap_or_default();
    v["status_zh"] = t.status.zh().into();
    v["next"] = t.status.next().iter().map(|s| s.key()).collect::<Vec<_>>().into();
    Ok(Json(v))
}

/// A progress entry with evidence files (multipart form: date, author,
/// measure, text, indicator (repeatable, "NAME=VALUE UNIT"), evidence files).
async fn task_progress(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(n): axum::extract::Path<i64>,
    mut form: axum::extract::Multipart,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.write_session(&headers)?.user;
    if user.role == "viewer" {
        return Err(forbidden("report progress"));
    }
    let mut fields: HashMap<String, String> = HashMap::new();
    let mut indicators = Vec::new();
    let mut files = Vec::new();
    while let Some(f) = form.next_field().await.map_err(multipart_error)? {
        let name = f.name().unwrap_or_default().to_string();
        if name == "evidence" {
            let file = f.file_name().unwrap_or("evidence").to_string();
            let bytes = f.bytes().await.map_err(multipart_error)?;
            if !bytes.is_empty() {
                files.push((file, bytes.to_vec()));
            }
        } else {
            let text = f.text().await.map_err(multipart_error)?;
            if name == "indicator" {
                if !text.trim().is_empty() {
                    indicators.push(text);
                }
            } else {
                fields.insert(name, text);
            }
        }
    }
    let ctx = app.ctx.clone();
    let v = app
        .blocking(move || -> Result<Result<serde_json::Value, ApiError>> {
            let mut ledger = ctx.ledger()?;
            if let Err(e) = find_task(ledger.db(), &user, n) {
                return Ok(Err(e));
            }
            let get = |k: &str| fields.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
            let date: Date = get("date").parse().map_err(|e| anyhow::anyhow!("date {:?}: {e}", get("date")))?;
            let measure = match get("measure").as_str() {
                "" => None,
                m => Some(m.parse::<i64>().map_err(|_| anyhow::anyhow!("measure {m:?} is not a number"))?),
            };
            let author = if get("author").is_empty() { user.name.clone() } else { get("author") };
            let report =
                lantian_app::tasks::ProgressReport { date, author, measure, text: get("text"), indicators, files };
            drop(ledger);
            let id = lantian_app::tasks::record_progress(&ctx, n, &report, &user.name)?;
            Ok(Ok(serde_json::json!({ "id": id })))
        })
        .await?;
    v.map(Json)
}

#[derive(serde::Deserialize)]
struct StatusChange {
    to: String,
    note: Option<String>,
}

/// Move a task along its workflow. Closing (已销号, after verification) and
/// reopening are the province's; a city officer moves its own tasks to
/// 推进中 or 已完成.
async fn task_status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(n): axum::extract::Path<i64>,
    Json(c): Json<StatusChange>,
) -> Result<Json<serde_json::Value>, ApiError> {
    use lantian_core::task::TaskStatus;
    let user = app.write_session(&headers)?.user;
    let Some(to) = TaskStatus::parse(&c.to) else {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("unknown status {:?}", c.to)));
    };
    let allowed = match user.role.as_str() {
        "admin" | "analyst" => true,
        "city" => matches!(to, TaskStatus::InProgress | TaskStatus::Completed),
        _ => false,
    };
    let ctx = app.ctx.clone();
    let v = app
        .blocking(move || -> Result<Result<serde_json::Value, ApiError>> {
            let mut ledger = ctx.ledger()?;
            let t = match find_task(ledger.db(), &user, n) {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            // A city officer may not reopen a completed task either.
            if !allowed || (user.role == "city" && t.status == TaskStatus::Completed) {
                return Ok(Err(forbidden(&format!("move tasks to {}", to.zh()))));
            }
            lantian_store::tasks::set_status(ledger.db(), n, to, &user.name, c.note.as_deref())?;
            Ok(Ok(serde_json::json!({ "status": to.key() })))
        })
        .await?;
    v.map(Json)
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    /// notice | completion
    kind: String,
    period: Option<String>,
    task: Option<i64>,
    /// docx | xlsx
    format: Option<String>,
}

/// Generate a document and send it as a download.
async fn report(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let user = app.session(&headers)?.user;
    let ctx = app.ctx.clone();
    let days = app.store_now().await?;
    // Documents are page-sized computations: the heavy pool (not cached: a
    // completion table depends on who asks).
    let (name, bytes, ct) = app
        .heavy
        .run(move |_| -> Result<(String, Vec<u8>, &'static str)> {
            let doc = match (q.kind.as_str(), &q.period, q.task) {
                ("notice", Some(period), _) => {
                    let (from, to) = lantian_app::parse_period(period)?;
                    let data = lantian_app::report::notice_data(&ctx, &*days, period, from, to, "四川省生态环境厅", 3)?;
                    lantian_report::notice::compose(&data)?
                }
                ("completion", _, Some(n)) => {
                    let mut ledger = ctx.ledger()?;
                    let t = lantian_store::tasks::get(ledger.db(), n)?;
                    if !task_visible(&user, &t) {
                        anyhow::bail!("no task {n}");
                    }
                    lantian_report::completion::compose(&lantian_app::report::completion_data(&ctx, n)?)
                }
                _ => anyhow::bail!("kind=notice&period=month:YYYY-MM or kind=completion&task=N"),
            };
            let stem = match q.task {
                Some(n) => format!("task-{n}-completion"),
                None => format!("notice-{}", q.period.clone().unwrap_or_default().replace(':', "-")),
            };
            Ok(match q.format.as_deref().unwrap_or("docx") {
                "xlsx" => (
                    format!("{stem}.xlsx"),
                    lantian_report::xlsx::render(&doc, Some("正文"))?,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
                _ => (
                    format!("{stem}.docx"),
                    lantian_report::docx::render(&doc)?,
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                ),
            })
        })
        .await?;
    let disposition = format!("attachment; filename=\"{name}\"");
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(ct)),
            (header::CONTENT_DISPOSITION, HeaderValue::from_str(&disposition).map_err(|_| unauthorized())?),
        ],
        bytes,
    )
        .into_response())
}

#[derive(serde::Deserialize)]
struct CityQuery {
    year: i16,
}

/// One city's year: the daily AQI calendar, PM2.5 by month against the
/// year before, the year's statistics with their single indexes, each
/// target's status (judged today, or at the year's end), its stations' data capture.
async fn city(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(name): axum::extract::Path<String>,
    Query(q): Query<CityQuery>,
) -> Result<Response, ApiError> {
    app.session(&headers)?;
    // Targets are judged as of today: a new day is a new page.
    let today = lantian_app::today_date();
    let key = format!("city\u{0}{name}\u{0}{}\u{0}{today}", q.year);
    app.computed(key, move |ctx, store, cancel| {
        Ok(match lantian_app::pages::city_page(ctx, store, &name, q.year, today, &|| cancel.check())? {
            Ok(v) => (StatusCode::OK, v),
            Err(lantian_app::pages::NotFound(e)) => (StatusCode::NOT_FOUND, serde_json::json!({ "error": e })),
        })
    })
    .await
}

/// Upload files and import them (admin, analyst). Answers at once with a
/// job id; `GET /api/import/{id}` reports progress and, at the end, the
/// summary and the rejected rows (file, line, column, reason).
async fn import_start(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.write_session(&headers)?.user;
    if !matches!(user.role.as_str(), "admin" | "analyst") {
        return Err(forbidden("import data"));
    }
    let id = users::random_token()[..16].to_string();
    let dir = app.ctx.data.join("uploads").join(&id);
    std::fs::create_dir_all(&dir).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let mut paths = Vec::new();
    let received: Result<(), ApiError> = async {
        while let Some(f) = form.next_field().await.map_err(multipart_error)? {
            // The name a browser sends is only a label: no directory part survives.
            let name = lantian_store::tasks::safe_name(f.file_name().unwrap_or("upload"))
                .map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))?;
            let bytes = f.bytes().await.map_err(multipart_error)?;
            let path = dir.join(format!("{:03}-{name}", paths.len()));
            std::fs::write(&path, &bytes).map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            paths.push(path);
        }
        if paths.is_empty() {
            return Err(ApiError(StatusCode::BAD_REQUEST, "no files".into()));
        }
        Ok(())
    }
    .await;
    if let Err(e) = received {
        // A refused upload leaves nothing behind.
        let _ = std::fs::remove_dir_all(&dir);
        return Err(e);
    }
    let id_for_job = id.clone();
    let job = Arc::new(ImportJob::default());
    job.total.store(paths.len(), std::sync::atomic::Ordering::Relaxed);
    app.jobs.lock().map_err(|_| unauthorized())?.insert(id.clone(), job.clone());
    let data = app.ctx.data.clone();
    let audit_ctx = app.ctx.clone();
    tokio::task::spawn_blocking(move || {
        let progress = |done: usize, total: usize| {
            job.done.store(done, std::sync::atomic::Ordering::Relaxed);
            job.total.store(total, std::sync::atomic::Ordering::Relaxed);
        };
        let result = lantian_store::import(&data, &paths, Some(&progress)).map_err(|e| e.to_string()).map(|s| {
            let rejects: Vec<serde_json::Value> = s
                .rejects_file
                .as_ref()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .map(|text| {
                    let mut r = csv::Reader::from_reader(text.as_bytes());
                    let head: Vec<String> = r.headers().map(|h| h.iter().map(str::to_string).collect()).unwrap_or_default();
                    r.records()
                        .filter_map(|x| x.ok())
                        .take(200)
                        .map(|rec| {
                            serde_json::Value::Object(
                                head.iter()
                                    .zip(rec.iter())
                                    .map(|(k, v)| {
                                        // The name as uploaded, not the server's path.
                                        let v = if k == "file" { uploaded_name(v) } else { v.to_string() };
                                        (k.clone(), v.into())
                                    })
                                    .collect(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            serde_json::json!({
                "files": s.files.values().sum::<usize>(),
                "imported": s.hourly.imported, "revised": s.hourly.revised, "unchanged": s.hourly.unchanged,
                "city_days": s.city_days.imported, "stations": s.stations, "rejected": s.rejected,
                "unreadable": s.unreadable.iter().map(|(p, e)| format!("{}: {e}", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default())).collect::<Vec<_>>(),
                "committed": s.committed, "rejects": rejects,
            })
        });
        // Every write is in the audit log, imports from the page too.
        let change = match &result {
            Ok(s) => format!(
                "import {id_for_job}: {} files, {} new, {} revised hourly values, {} rejected",
                s["files"], s["imported"], s["revised"], s["rejected"]
            ),
            Err(e) => format!("import {id_for_job} failed: {e}"),
        };
        if let Ok(mut ledger) = audit_ctx.ledger() {
            let _ = lantian_store::ledger::note(ledger.db(), &user.name, &change);
        }
        if let Ok(mut r) = job.result.lock() {
            *r = Some(result);
        }
    });
    Ok(Json(serde_json::json!({ "job": id })))
}

/// `…/uploads/<job>/003-name.csv` → `name.csv`.
fn uploaded_name(path: &str) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    base.split_once('-')
        .filter(|(n, _)| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(base, |(_, r)| r)
        .to_string()
}

async fn import_status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = app.session(&headers)?.user;
    if !matches!(user.role.as_str(), "admin" | "analyst") {
        return Err(forbidden("see imports"));
    }
    let job = app.jobs.lock().map_err(|_| unauthorized())?.get(&id).cloned();
    let Some(job) = job else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no import {id}")));
    };
    let result = job.result.lock().map_err(|_| unauthorized())?.clone();
    let (done, total) =
        (job.done.load(std::sync::atomic::Ordering::Relaxed), job.total.load(std::sync::atomic::Ordering::Relaxed));
    Ok(Json(match result {
        None => serde_json::json!({ "state": "running", "done": done, "total": total }),
        Some(Ok(summary)) => serde_json::json!({ "state": "done", "done": total, "total": total, "summary": summary }),
        Some(Err(e)) => serde_json::json!({ "state": "failed", "done": done, "total": total, "error": e }),
    }))
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

pub fn router(ctx: Ctx) -> Router {
    routes(app(ctx))
}

fn app(ctx: Ctx) -> Arc<App> {
    Arc::new(App {
        ctx,
        sessions: Mutex::new(HashMap::new()),
        failures: Mutex::new(HashMap::new()),
        jobs: Mutex::new(HashMap::new()),
        heavy: work::Work::new(HEAVY_WORKERS, QUEUE, CACHE_ENTRIES),
        light: work::Work::new(LIGHT_WORKERS, QUEUE, 0),
        store: Mutex::new(None),
    })
}

fn routes(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route("/assets/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/assets/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS) }))
        .route("/assets/echarts.min.js", get(|| async { asset("text/javascript; charset=utf-8", ECHARTS) }))
        .route("/api/openapi.json", get(|| async { asset("application/json", OPENAPI) }))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/me", get(me))
        .route("/api/overview", get(overview))
        .route("/api/cities/{name}", get(city))
        .route("/api/actions", get(actions))
        .route("/api/actions/{id}", post(change_action))
        .route("/api/tasks", get(tasks))
        .route("/api/tasks/{n}", get(task))
        .route(
            "/api/tasks/{n}/progress",
            post(task_progress).layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024)),
        )
        .route("/api/tasks/{n}/status", post(task_status))
        .route("/api/reports", get(report))
        .route("/api/import", post(import_start).layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024)))
        .route("/api/import/{id}", get(import_status))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(app)
}

/// A multipart body that cannot be read: over the route's size limit is
/// 413 with the limit named, anything else 400.
fn multipart_error(e: axum::extract::multipart::MultipartError) -> ApiError {
    let status = e.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError(
            status,
            "the upload is larger than this form accepts (20 MB for evidence, 512 MB for an import)".into(),
        );
    }
    ApiError(status, format!("unreadable form: {}", e.body_text()))
}

/// Requests axum refuses before a handler runs (a body over the limit, not
/// JSON, a missing field, a path or query that does not parse) answer in
/// plain text; the API answers every error as `{"error": "..."}`.
async fn json_errors(res: Response) -> Response {
    let plain = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !(plain && (res.status().is_client_error() || res.status().is_server_error())) {
        return res;
    }
    let status = res.status();
    let text = match axum::body::to_bytes(res.into_body(), 64 * 1024).await {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(_) => status.canonical_reason().unwrap_or("error").to_string(),
    };
    ApiError(status, text).into_response()
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Also run the HJ 212 gateway in this process, listening here (e.g. 127.0.0.1:9212).
    #[arg(long)]
    pub gateway: Option<String>,
}

pub fn serve(ctx: &Ctx, args: &ServeArgs) -> Result<()> {
    let mut gateway = None;
    if let Some(listen) = &args.gateway {
        // The gateway keeps its own runtime and writer thread; it shares the data directory.
        let (gctx, gargs) = (
            ctx.clone(),
            crate::gateway::GatewayArgs {
                listen: listen.clone(),
                max_packet: 4096,
                idle_secs: 600,
                max_connections: 10_000,
                rate: 2_000,
                flush_secs: 60,
                http: None,
            },
        );
        gateway = Some(std::thread::spawn(move || {
            if let Err(e) = crate::gateway::gateway(&gctx, &gargs) {
                eprintln!("gateway: {e:#}");
            }
        }));
    }
    // Blocking threads are bounded by the work pools; this is a backstop.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().max_blocking_threads(64).build()?;
    let app = app(ctx.clone());
    rt.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(&args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
        eprintln!("lantian serve: http://{}", listener.local_addr()?);
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let (stopped_tx, stopped) = tokio::sync::oneshot::channel::<()>();
        let pools = app.clone();
        let stop = async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            // Queued and running page work is abandoned; requests in flight
            // get 503 and the connections close.
            pools.heavy.stop();
            pools.light.stop();
            let _ = stopped_tx.send(());
        };
        let server = axum::serve(listener, routes(app.clone())).with_graceful_shutdown(stop);
        let server = std::pin::pin!(std::future::IntoFuture::into_future(server));
        // Graceful, but not forever: clients that keep their connections
        // open get SHUTDOWN_GRACE to finish, then the process exits.
        tokio::select! {
            r = server => r?,
            _ = async {
                let _ = stopped.await;
                tokio::time::sleep(SHUTDOWN_GRACE).await;
            } => eprintln!("lantian serve: connections still open after {SHUTDOWN_GRACE:?}; stopping anyway"),
        }
        Ok::<(), anyhow::Error>(())
    })?;
    // Computations notice the stop flag between steps; do not wait for stragglers.
    rt.shutdown_timeout(Duration::from_secs(1));
    // The gateway got the same signal: let it fold its log into the store.
    if let Some(g) = gateway {
        let _ = g.join();
    }
    Ok(())
}
