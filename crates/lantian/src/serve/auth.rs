//! Accounts and sessions: log in (argon2 hashes, 5 failures lock a name for
//! 5 minutes), the session cookie (HttpOnly, SameSite=Strict), the CSRF
//! token every write echoes in `X-CSRF-Token`, and who may read what.
//!
//! Every write route sits behind `require_write`, which checks the session
//! and the token before anything reads the body: an anonymous write is 401
//! whatever it sends.

use super::app::{ApiError, App, ErrorBody, Session, unauthorized};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lantian_store::users::{self, User};
use std::sync::Arc;
use std::time::{Duration, Instant};

const COOKIE: &str = "lantian_session";
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// Failed logins allowed per name within `LOGIN_WINDOW`.
const LOGIN_LIMIT: u32 = 5;
const LOGIN_WINDOW: Duration = Duration::from_secs(300);

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

impl App {
    /// The request's session, or 401.
    pub fn session(&self, headers: &HeaderMap) -> Result<Session, ApiError> {
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

/// The gate of every write route: session and CSRF token checked before the
/// body is read; the handler finds the session in the request's extensions.
pub async fn require_write(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    match app.write_session(req.headers()) {
        Ok(s) => {
            req.extensions_mut().insert(s);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

/// Province staff read and write everything; a city officer only its own
/// city's records; a viewer reads and never writes.
pub fn can_read_area(u: &User, area: &str) -> bool {
    u.role != "city" || u.city.as_deref() == Some(area)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct Login {
    pub name: String,
    pub password: String,
}

/// Who is logged in, the token writes echo, and the last day with data.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    pub name: String,
    /// `admin`, `analyst`, `city` or `viewer`.
    pub role: String,
    /// A city officer's city.
    pub city: Option<String>,
    /// Echo it in `X-CSRF-Token` on every write.
    pub csrf: String,
    /// The last day of the last month with hourly data (`/api/me` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_to: Option<String>,
}

fn me_of(s: &Session) -> Me {
    Me {
        name: s.user.name.clone(),
        role: s.user.role.clone(),
        city: s.user.city.clone(),
        csrf: s.csrf.clone(),
        data_to: None,
    }
}

/// Log in: sets the session cookie.
#[utoipa::path(post, path = "/api/login", tag = "session", request_body = Login, responses(
    (status = 200, description = "logged in; the cookie is set", body = Me),
    (status = 401, description = "wrong name or password", body = ErrorBody),
    (status = 429, description = "too many failed logins for this name", body = ErrorBody),
))]
pub async fn login(State(app): State<Arc<App>>, Json(l): Json<Login>) -> Result<Response, ApiError> {
    {
        let f = app.failures.lock().map_err(|_| unauthorized())?;
        if let Some((n, since)) = f.get(&l.name)
            && *n >= LOGIN_LIMIT
            && since.elapsed() < LOGIN_WINDOW
        {
            return Err(ApiError(StatusCode::TOO_MANY_REQUESTS, "too many failed logins; wait a few minutes".into()));
        }
    }
    let (name, password) = (l.name.clone(), l.password);
    let user = app.ledger(move |ledger| Ok(users::verify(ledger.db(), &name, &password)?)).await?;
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
    let body = me_of(&s);
    app.sessions.lock().map_err(|_| unauthorized())?.insert(token.clone(), s);
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_TTL.as_secs());
    let mut r = Json(body).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| unauthorized())?);
    Ok(r)
}

/// Confirmation of a write that returns nothing else.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Done {
    pub ok: bool,
}

/// Log out: ends the session, clears the cookie.
#[utoipa::path(post, path = "/api/logout", tag = "session", responses(
    (status = 200, description = "logged out", body = Done),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "missing or wrong CSRF token", body = ErrorBody),
))]
pub async fn logout(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let (Some(t), Ok(mut s)) = (cookie_token(&headers), app.sessions.lock()) {
        s.remove(&t);
    }
    let mut r = Json(Done { ok: true }).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("lantian_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(r)
}

/// The session's user and the last day with data (the pages' default period).
#[utoipa::path(get, path = "/api/me", tag = "session", responses(
    (status = 200, description = "the user", body = Me),
    (status = 401, description = "not logged in", body = ErrorBody),
))]
pub async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let mut v = me_of(&app.session(&headers)?);
    v.data_to = Some(app.store_now().await?.store().months().last().map(|m| m.first_day().last_of_month().to_string()))
        .flatten();
    Ok(Json(v))
}
