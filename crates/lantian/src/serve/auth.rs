//! Accounts and sessions: log in (argon2 hashes, 5 failures lock a name for
//! 5 minutes), the session cookie (HttpOnly, SameSite=Strict), the CSRF
//! token every write echoes in `X-CSRF-Token`, who may read what, and a
//! user's own sessions (list, end).
//!
//! Sessions live in the ledger (`lantian_store::sessions`): a restart keeps
//! people logged in, and every server sharing the ledger sees a session
//! ended or an account disabled. The ledger is the truth; this process keeps
//! what it read for `SESSION_RECHECK` so that a page's dozen requests do not
//! each read it. A session ended through this server is dropped from the
//! cache at once; one ended elsewhere (`lantian user disable`, another
//! server on the same PostgreSQL ledger) is refused within `SESSION_RECHECK`.
//!
//! Every write route sits behind `require_write`, which checks the session
//! and the token before anything reads the body: an anonymous write is 401
//! whatever it sends.

use super::app::{ApiError, App, ErrorBody, Session, unauthorized};
use axum::Json;
use axum::extract::{ConnectInfo, Extension, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lantian_store::sessions;
use lantian_store::users::{self, User};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const COOKIE: &str = "lantian_session";
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);
/// How long a session read from the ledger is trusted before it is read
/// again: the longest another process's revocation takes to be seen here.
pub const SESSION_RECHECK: Duration = Duration::from_secs(2);
/// Sessions cached at most (beyond it, those due for a recheck are dropped).
const CACHE_MAX: usize = 4096;
/// Failed logins allowed per name within `LOGIN_WINDOW`.
const LOGIN_LIMIT: u32 = 5;
const LOGIN_WINDOW: Duration = Duration::from_secs(300);
const CLEAR_COOKIE: &str = "lantian_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0";

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|c| {
        let (k, v) = c.trim().split_once('=')?;
        (k == COOKIE).then(|| v.to_string())
    })
}

impl App {
    /// The request's session, or 401: from the cache if read from the
    /// ledger less than `SESSION_RECHECK` ago, else from the ledger.
    pub async fn session(self: &Arc<Self>, headers: &HeaderMap) -> Result<Session, ApiError> {
        let token = cookie_token(headers).ok_or_else(unauthorized)?;
        let key = sessions::token_hash(&token);
        let now = sessions::now();
        if let Some((s, at)) = self.sessions.lock().map_err(|_| unauthorized())?.get(&key)
            && at.elapsed() < SESSION_RECHECK
            && s.expires > now
        {
            return Ok(s.clone());
        }
        let ended = self.sessions_ended.load(Ordering::SeqCst);
        let found = self.ledger(move |l| Ok(sessions::check(l.db(), &token, now)?)).await.map_err(|e| {
            // The ledger could not be read: not the client's fault.
            if e.0 == StatusCode::BAD_REQUEST { ApiError(StatusCode::SERVICE_UNAVAILABLE, e.1) } else { e }
        })?;
        let mut cache = self.sessions.lock().map_err(|_| unauthorized())?;
        let Some(s) = found else {
            cache.remove(&key);
            return Err(unauthorized());
        };
        // A session ended here meanwhile may be what was read: do not cache it.
        if self.sessions_ended.load(Ordering::SeqCst) == ended {
            if cache.len() >= CACHE_MAX {
                cache.retain(|_, (_, at)| at.elapsed() < SESSION_RECHECK);
            }
            cache.insert(key, (s.clone(), Instant::now()));
        }
        Ok(s)
    }

    /// Session `id` was ended: no request of this process is let in with it.
    fn forget_session(&self, id: i64) {
        self.sessions_ended.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut c) = self.sessions.lock() {
            c.retain(|_, (s, _)| s.id != id);
        }
    }

    /// A write: a session whose CSRF token the request echoes.
    async fn write_session(self: &Arc<Self>, headers: &HeaderMap) -> Result<Session, ApiError> {
        let s = self.session(headers).await?;
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
    match app.write_session(req.headers()).await {
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
pub async fn login(
    State(app): State<Arc<App>>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Json(l): Json<Login>,
) -> Result<Response, ApiError> {
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
    let agent = headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string);
    // The peer's address (behind a reverse proxy, the proxy's).
    let address = peer.map(|Extension(ConnectInfo(a))| a.ip().to_string());
    let created = app
        .ledger(move |ledger| {
            let Some(user) = users::verify(ledger.db(), &name, &password)? else { return Ok(None) };
            let ttl = SESSION_TTL.as_secs() as i64;
            match sessions::create(ledger.db(), &user.name, sessions::now(), ttl, agent.as_deref(), address.as_deref())
            {
                Ok(s) => Ok(Some(s)),
                // Disabled between the two reads.
                Err(lantian_store::Error::Input(_)) => Ok(None),
                Err(e) => Err(e.into()),
            }
        })
        .await?;
    let Some((token, s)) = created else {
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
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", SESSION_TTL.as_secs());
    let mut r = Json(me_of(&s)).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).map_err(|_| unauthorized())?);
    Ok(r)
}

/// Confirmation of a write that returns nothing else.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Done {
    pub ok: bool,
}

/// Log out: ends the session (its row is deleted), clears the cookie.
#[utoipa::path(post, path = "/api/logout", tag = "session", responses(
    (status = 200, description = "logged out", body = Done),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "missing or wrong CSRF token", body = ErrorBody),
))]
pub async fn logout(State(app): State<Arc<App>>, Extension(session): Extension<Session>) -> Result<Response, ApiError> {
    let (name, id) = (session.user.name.clone(), session.id);
    app.ledger(move |l| Ok(sessions::end(l.db(), &name, id, false)?)).await?;
    app.forget_session(id);
    let mut r = Json(Done { ok: true }).into_response();
    r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    Ok(r)
}

/// The session's user and the last day with data (the pages' default period).
#[utoipa::path(get, path = "/api/me", tag = "session", responses(
    (status = 200, description = "the user", body = Me),
    (status = 401, description = "not logged in", body = ErrorBody),
))]
pub async fn me(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<Me>, ApiError> {
    let mut v = me_of(&app.session(&headers).await?);
    v.data_to = Some(app.store_now().await?.store().months().last().map(|m| m.first_day().last_of_month().to_string()))
        .flatten();
    Ok(Json(v))
}

/// One of the user's own sessions (never its token).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SessionItem {
    /// What `POST /api/sessions/{id}/end` takes.
    pub id: i64,
    /// When it was logged in (RFC 3339, UTC).
    pub created: String,
    /// Its last request, to the minute (RFC 3339, UTC).
    pub last_seen: String,
    /// When it ends unless ended before (RFC 3339, UTC).
    pub expires: String,
    /// The browser's User-Agent at login.
    pub agent: Option<String>,
    /// The address it logged in from (behind a reverse proxy, the proxy's).
    pub address: Option<String>,
    /// The session of this request.
    pub current: bool,
}

fn time(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map(|t| t.to_string()).unwrap_or_default()
}

/// The user's own live sessions, the newest first.
#[utoipa::path(get, path = "/api/sessions", tag = "session", responses(
    (status = 200, description = "the user's sessions", body = Vec<SessionItem>),
    (status = 401, description = "not logged in", body = ErrorBody),
))]
pub async fn sessions(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Json<Vec<SessionItem>>, ApiError> {
    let me = app.session(&headers).await?;
    let name = me.user.name.clone();
    let list = app.ledger(move |l| Ok(sessions::list(l.db(), &name, sessions::now())?)).await?;
    Ok(Json(
        list.into_iter()
            .map(|s| SessionItem {
                id: s.id,
                created: time(s.created),
                last_seen: time(s.last_seen),
                expires: time(s.expires),
                agent: s.agent,
                address: s.address,
                current: s.id == me.id,
            })
            .collect(),
    ))
}

/// End one of the user's own sessions (another browser's, say; ending the
/// current one logs out). Written to the audit log.
#[utoipa::path(post, path = "/api/sessions/{id}/end", tag = "session",
    params(("id" = i64, Path, description = "the session's id from `GET /api/sessions`")),
    responses(
        (status = 200, description = "ended", body = Done),
        (status = 401, description = "not logged in", body = ErrorBody),
        (status = 403, description = "missing or wrong CSRF token", body = ErrorBody),
        (status = 404, description = "no such session of this user", body = ErrorBody),
    ))]
pub async fn end_session(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let name = session.user.name.clone();
    let ended = app.ledger(move |l| Ok(sessions::end(l.db(), &name, id, true)?)).await?;
    if !ended {
        // Someone else's session answers as one that does not exist.
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no session {id} of yours")));
    }
    app.forget_session(id);
    app.ledger_written();
    let mut r = Json(Done { ok: true }).into_response();
    if id == session.id {
        r.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_static(CLEAR_COOKIE));
    }
    Ok(r)
}
