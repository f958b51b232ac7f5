//! The server's state: accounts' sessions, import jobs, the two work pools,
//! the store of the current generation with the days computed on it; and
//! the API's errors (every one JSON `{"error": …}`).

use super::work;
use anyhow::Result;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantian_app::Ctx;
use lantian_app::days::{DayCache, Days};
use lantian_store::ledger::Ledger;
use lantian_store::users::User;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Page computations at once (each uses a core and reads months ahead on
/// other threads), other blocking calls at once, and requests allowed to
/// wait for either before the server answers 503.
const HEAVY_WORKERS: usize = 2;
const LIGHT_WORKERS: usize = 8;
const QUEUE: usize = 1024;
/// Computed pages kept (per store generation).
const CACHE_ENTRIES: usize = 4096;

/// A logged-in user's session.
#[derive(Clone)]
pub struct Session {
    pub user: User,
    pub csrf: String,
    pub expires: Instant,
}

/// A running or finished import started from the page.
#[derive(Default)]
pub struct ImportJob {
    pub done: std::sync::atomic::AtomicUsize,
    pub total: std::sync::atomic::AtomicUsize,
    pub result: Mutex<Option<Result<super::files::ImportSummary, String>>>,
}

pub struct App {
    pub ctx: Ctx,
    pub jobs: Mutex<HashMap<String, Arc<ImportJob>>>,
    pub sessions: Mutex<HashMap<String, Session>>,
    pub failures: Mutex<HashMap<String, (u32, Instant)>>,
    /// Pages computed from the store (overview, city pages, documents): few at a time, cached.
    pub heavy: work::Work<Arc<Answer>>,
    /// Everything else that blocks (ledger reads and writes, password
    /// checks); its cache keeps ledger pages per ledger change.
    pub light: work::Work<Arc<Answer>>,
    /// Open ledger connections, reused (opening SQLite reads its schema: it
    /// cost a third of the server's time when every ledger read opened one).
    ledgers: Mutex<Vec<Box<dyn Ledger + Send>>>,
    /// The ledger's last change (its newest audit entry) and when it was read.
    ledger_change: Mutex<Option<(i64, Instant)>>,
    /// The store's current generation, opened once and shared by the
    /// computations with the days they have computed.
    store: Mutex<Option<(Arc<DayCache>, Instant)>>,
}

/// An API error: status and a message for people.
pub struct ApiError(pub StatusCode, pub String);

/// Every error the API answers.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.0, Json(ErrorBody { error: self.1 })).into_response();
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

impl From<work::Refused> for ApiError {
    fn from(r: work::Refused) -> ApiError {
        match r {
            work::Refused::Busy => ApiError(StatusCode::SERVICE_UNAVAILABLE, "busy: try again in a moment".into()),
            work::Refused::Stopping => ApiError(StatusCode::SERVICE_UNAVAILABLE, "the server is stopping".into()),
            work::Refused::Failed(e) => ApiError::from(e),
        }
    }
}

pub fn unauthorized() -> ApiError {
    ApiError(StatusCode::UNAUTHORIZED, "not logged in".into())
}

pub fn forbidden(what: &str) -> ApiError {
    ApiError(StatusCode::FORBIDDEN, format!("your role may not {what}"))
}

fn internal() -> ApiError {
    ApiError(StatusCode::INTERNAL_SERVER_ERROR, "internal error".into())
}

/// A computed answer: status and JSON, and the JSON gzipped once for the
/// clients that accept it (browsers do; a page is 15–30 KB, 3–5 KB gzipped).
pub struct Answer {
    pub status: StatusCode,
    pub body: axum::body::Bytes,
    pub gzip: axum::body::Bytes,
}

impl App {
    pub fn new(ctx: Ctx) -> App {
        App {
            ctx,
            sessions: Mutex::new(HashMap::new()),
            failures: Mutex::new(HashMap::new()),
            jobs: Mutex::new(HashMap::new()),
            heavy: work::Work::new(HEAVY_WORKERS, QUEUE, CACHE_ENTRIES),
            light: work::Work::new(LIGHT_WORKERS, QUEUE, CACHE_ENTRIES),
            ledgers: Mutex::new(Vec::new()),
            ledger_change: Mutex::new(None),
            store: Mutex::new(None),
        }
    }

    /// Blocking work that is not a page computation, on the light pool.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        Ok(self.light.run(move |_| f()).await?)
    }

    /// Run `f` with a pooled ledger connection (blocking: call it on a pool).
    /// A connection that failed is dropped rather than reused.
    pub fn with_ledger<T>(&self, f: impl FnOnce(&mut dyn Ledger) -> Result<T>) -> Result<T> {
        let pooled = self.ledgers.lock().ok().and_then(|mut p| p.pop());
        let mut ledger = match pooled {
            Some(l) => l,
            None => self.ctx.ledger()?,
        };
        let out = f(&mut *ledger)?;
        if let Ok(mut p) = self.ledgers.lock()
            && p.len() < LIGHT_WORKERS
        {
            p.push(ledger);
        }
        Ok(out)
    }

    /// Ledger work on the light pool with a pooled connection.
    pub async fn ledger<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce(&mut dyn Ledger) -> Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let app = self.clone();
        Ok(self.light.run(move |_| app.with_ledger(f)).await?)
    }

    /// The ledger's last change, read at most once per `work::RECHECK`
    /// (and at once after a write through this server).
    async fn ledger_change(self: &Arc<Self>) -> Result<i64, ApiError> {
        if let Some((id, at)) = *self.ledger_change.lock().map_err(|_| internal())?
            && at.elapsed() < work::RECHECK
        {
            return Ok(id);
        }
        let id = self.ledger(|l| Ok(lantian_store::ledger::last_change(l.db())?)).await?;
        *self.ledger_change.lock().map_err(|_| internal())? = Some((id, Instant::now()));
        Ok(id)
    }

    /// A write went through: ledger pages are read afresh from now on.
    pub fn ledger_written(&self) {
        if let Ok(mut c) = self.ledger_change.lock() {
            *c = None;
        }
    }

    /// A page read from the ledger, cached until the ledger changes.
    pub async fn ledger_page<T: serde::Serialize>(
        self: &Arc<Self>,
        key: String,
        gzip: bool,
        read: impl FnOnce(&mut dyn Ledger) -> Result<Result<T, ApiError>> + Send + 'static,
    ) -> Result<Response, ApiError> {
        let change = self.ledger_change().await?;
        let app = self.clone();
        let answer = self.light.cached(key, change as u64, move |_| answer(app.with_ledger(read)?)).await?;
        Ok(respond(&answer, gzip))
    }

    /// The store as committed now (re-read at most once per `work::RECHECK`).
    pub async fn store_now(&self) -> Result<Arc<DayCache>, ApiError> {
        if let Some((s, at)) = &*self.store.lock().map_err(|_| internal())?
            && at.elapsed() < work::RECHECK
        {
            return Ok(s.clone());
        }
        let ctx = self.ctx.clone();
        let fresh = self.light.run(move |_| ctx.store()).await?;
        let mut slot = self.store.lock().map_err(|_| internal())?;
        let keep = slot.as_ref().is_some_and(|(s, _)| s.store().generation() == fresh.generation());
        let store = if keep { slot.as_ref().expect("checked").0.clone() } else { Arc::new(DayCache::new(fresh)) };
        *slot = Some((store.clone(), Instant::now()));
        Ok(store)
    }

    /// A page, computed at most once per store generation and key (however
    /// many ask at once), on the heavy pool. `compute` gets the days of the
    /// store and a flag that is set when nobody waits for the answer any more.
    pub async fn computed<T: serde::Serialize>(
        &self,
        key: String,
        gzip: bool,
        compute: impl FnOnce(&Ctx, &dyn Days, &work::Cancel) -> Result<Result<T, ApiError>> + Send + 'static,
    ) -> Result<Response, ApiError> {
        let store = self.store_now().await?;
        let ctx = self.ctx.clone();
        let answer = self
            .heavy
            .cached(key, store.store().generation(), move |cancel| answer(compute(&ctx, &*store, cancel)?))
            .await?;
        Ok(respond(&answer, gzip))
    }
}

/// A page's result as it is cached: JSON and gzipped JSON.
fn answer<T: serde::Serialize>(r: Result<T, ApiError>) -> Result<Arc<Answer>> {
    let (status, body) = match r {
        Ok(v) => (StatusCode::OK, serde_json::to_vec(&v)?),
        Err(ApiError(status, error)) => (status, serde_json::to_vec(&ErrorBody { error })?),
    };
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut z, &body)?;
    Ok(Arc::new(Answer { status, body: body.into(), gzip: z.finish()?.into() }))
}

/// A cached answer, gzipped for the clients that accept it.
fn respond(answer: &Answer, gzip: bool) -> Response {
    let json = (header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if gzip {
        let enc = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (answer.status, [json, enc], answer.gzip.clone()).into_response()
    } else {
        (answer.status, [json], answer.body.clone()).into_response()
    }
}
