//! `lantian serve`: the web dashboard and its JSON API from one binary
//! (assets embedded). Accounts from `lantian user`; sessions in a cookie
//! (HttpOnly, SameSite=Strict) with a CSRF token every write must echo in
//! `X-CSRF-Token`; logins rate-limited per name. The numbers come from the
//! same functions as `lantian assess`, so the page and the CLI agree.
//!
//! Why axum: the tokio stack the gateway already uses, routing and
//! extractors without a framework's weight (STACK.md).

use crate::commands::{Ctx, Source, assess_period, assess_table, region_period, shift_year};
use crate::output::{Format, Lang, Table};
use anyhow::{Context, Result};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::civil::Date;
use lantian_store::users::{self, User};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const INDEX: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");
const ECHARTS: &str = include_str!("../assets/echarts.min.js");
const OPENAPI: &str = include_str!("../assets/openapi.json");

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

struct App {
    ctx: Ctx,
    sessions: Mutex<HashMap<String, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

/// An API error: status and a message for people.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(serde_json::json!({ "error": self.1 }))).into_response()
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

fn ctx_clone(c: &Ctx) -> Ctx {
    Ctx {
        data: c.data.clone(),
        database: c.database.clone(),
        format: Format::Json,
        lang: c.lang,
        output: None,
        stem: String::new(),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into()))?
        .map_err(ApiError::from)
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
    let ctx = ctx_clone(&app.ctx);
    let (name, password) = (l.name.clone(), l.password);
    let user = blocking(move || {
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
    let ctx = ctx_clone(&app.ctx);
    let last =
        blocking(move || Ok(ctx.store()?.months().last().map(|m| m.first_day().last_of_month().to_string()))).await?;
    v["data_to"] = last.map_or(serde_json::Value::Null, Into::into);
    Ok(Json(v))
}

#[derive(serde::Deserialize)]
struct Period {
    from: Date,
    to: Date,
}

fn table_json(t: &Table, lang: Lang) -> Result<serde_json::Value> {
    let mut out = Vec::new();
    t.render(Format::Json, lang, &mut out)?;
    Ok(serde_json::from_slice(&out)?)
}

/// The province overview: every city's assessment with the year-on-year
/// change (the rows of `lantian assess --compare previous-year`), its place
/// (mean of its stations' coordinates), and the regions.
async fn overview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<Period>,
) -> Result<Json<serde_json::Value>, ApiError> {
    app.session(&headers)?;
    if p.from > p.to {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("from {} is after to {}", p.from, p.to)));
    }
    let ctx = ctx_clone(&app.ctx);
    let v = blocking(move || {
        let store = ctx.store()?;
        let cur = assess_period(&store, &[], p.from, p.to, None, Source::Auto)?;
        let prev = assess_period(&store, &[], shift_year(p.from, 1), shift_year(p.to, 1), None, Source::Auto)?;
        let prev = prev.into_iter().map(|c| (c.city, c.stats)).collect();
        let mut cities = table_json(&assess_table(&cur, Some(&prev), p.from, p.to), ctx.lang)?;
        // The main pollutant (largest single index) where all six are known.
        let main: HashMap<&str, &str> = cur
            .iter()
            .filter_map(|c| Some((c.city.as_str(), c.stats.composite_index.and(c.stats.main_pollutant)?.label())))
            .collect();
        for row in cities.as_array_mut().into_iter().flatten() {
            let m = row["city"].as_str().and_then(|c| main.get(c).copied());
            row["main_pollutant"] = m.map_or(serde_json::Value::Null, Into::into);
        }
        let areas = lantian_store::areas::Areas::load(&ctx.data)?;
        let regions = region_period(&store, &areas, p.from, p.to, None, Source::Auto)?;
        let mut regions = table_json(&assess_table(&regions, None, p.from, p.to), ctx.lang)?;
        // In the order the province lists its regions.
        if let Some(list) = regions.as_array_mut() {
            list.sort_by_key(|r| areas.region.iter().position(|x| r["city"] == x.name.as_str()));
        }
        let mut places = serde_json::Map::new();
        for (city, stations) in lantian_store::query::city_stations(&store) {
            let pts: Vec<(f64, f64)> = stations
                .iter()
                .filter_map(|c| store.station(c))
                .filter_map(|s| Some((s.lon?, s.lat?)))
                .collect();
            if !pts.is_empty() {
                let n = pts.len() as f64;
                let (x, y) = pts.iter().fold((0.0, 0.0), |a, b| (a.0 + b.0, a.1 + b.1));
                places.insert(city, serde_json::json!([x / n, y / n]));
            }
        }
        let edition = lantian_core::Edition::for_date(p.to);
        Ok(serde_json::json!({
            "from": p.from.to_string(),
            "to": p.to.to_string(),
            "edition": format!("{edition:?}"),
            "method": {
                "zh": "按HJ 663：时段均值为日均值（≥20小时）的算术平均，CO取第95百分位数，O3取日最大8小时平均第90百分位数；综合指数按环办监测〔2018〕19号；城市日值为其国控站点日值（先修约）的算术平均；同比为上年同期。",
                "en": "HJ 663: period means of daily values (≥ 20 h), CO p95, O3-8h p90; composite index per 环办监测〔2018〕19号; a city's day is the mean of its stations' reported daily values; year on year = same period last year."
            },
            "cities": cities,
            "regions": regions,
            "places": places,
        }))
    })
    .await?;
    Ok(Json(v))
}

fn asset(ct: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

pub fn router(ctx: Ctx) -> Router {
    let app = Arc::new(App { ctx, sessions: Mutex::new(HashMap::new()), failures: Mutex::new(HashMap::new()) });
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
        .with_state(app)
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
}

pub fn serve(ctx: &Ctx, args: &ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let listener =
            tokio::net::TcpListener::bind(&args.addr).await.with_context(|| format!("listening on {}", args.addr))?;
        eprintln!("lantian serve: http://{}", listener.local_addr()?);
        axum::serve(listener, router(ctx_clone(ctx))).await?;
        Ok(())
    })
}
