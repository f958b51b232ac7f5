//! The server's state: a cache of the sessions (kept in the ledger), import
//! jobs, the two work pools, the store of the current generation with the
//! days computed on it; and the API's errors (every one JSON `{"error": …}`).

use super::work;
use anyhow::Result;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lantian_app::Ctx;
use lantian_app::basis::{Basis, Dust};
use lantian_app::days::{DayCache, Days};
use lantian_store::Values;
use lantian_store::ledger::Ledger;
use lantian_store::query::Deduction;
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

/// A logged-in user's session, as the ledger holds it.
pub use lantian_store::sessions::Session;

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
    /// Sessions read from the ledger (the truth), by token hash, with when
    /// they were read: trusted for `auth::SESSION_RECHECK` (see `auth`).
    pub sessions: Mutex<HashMap<String, (Session, Instant)>>,
    /// Moved by every session this process ends, so that a check that read
    /// the ledger before the end does not put the session back in the cache.
    pub sessions_ended: std::sync::atomic::AtomicU64,
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
    store: Mutex<Option<(Arc<Current>, Instant)>>,
    /// The active events' deduction, with the ledger change it was read at.
    deduction: Mutex<Option<(i64, Option<Arc<Deduction>>)>>,
}

/// One store generation with a day cache for each kind of values.
pub struct Current {
    pub best: DayCache,
    pub raw: DayCache,
}

impl Current {
    fn new(store: lantian_store::Store) -> Current {
        Current {
            best: DayCache::new(store.clone().with_values(Values::Best)),
            raw: DayCache::new(store.with_values(Values::Raw)),
        }
    }

    pub fn store(&self) -> &lantian_store::Store {
        self.best.store()
    }

    pub fn cache(&self, values: Values) -> &DayCache {
        match values {
            Values::Best => &self.best,
            Values::Raw => &self.raw,
        }
    }
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
            sessions_ended: std::sync::atomic::AtomicU64::new(0),
            failures: Mutex::new(HashMap::new()),
            jobs: Mutex::new(HashMap::new()),
            heavy: work::Work::new(HEAVY_WORKERS, QUEUE, CACHE_ENTRIES),
            light: work::Work::new(LIGHT_WORKERS, QUEUE, CACHE_ENTRIES),
            ledgers: Mutex::new(Vec::new()),
            ledger_change: Mutex::new(None),
            store: Mutex::new(None),
            deduction: Mutex::new(None),
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
    pub async fn ledger_change(self: &Arc<Self>) -> Result<i64, ApiError> {
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
    pub async fn store_now(&self) -> Result<Arc<Current>, ApiError> {
        if let Some((s, at)) = &*self.store.lock().map_err(|_| internal())?
            && at.elapsed() < work::RECHECK
        {
            return Ok(s.clone());
        }
        let ctx = self.ctx.clone();
        let fresh = self.light.run(move |_| ctx.store()).await?;
        let mut slot = self.store.lock().map_err(|_| internal())?;
        let keep = slot.as_ref().is_some_and(|(s, _)| s.store().generation() == fresh.generation());
        let store = if keep { slot.as_ref().expect("checked").0.clone() } else { Arc::new(Current::new(fresh)) };
        *slot = Some((store.clone(), Instant::now()));
        Ok(store)
    }

    /// The deduction of the active events, read again when the ledger moves.
    pub async fn deduction(self: &Arc<Self>, change: i64) -> Result<Option<Arc<Deduction>>, ApiError> {
        if let Some((at, d)) = &*self.deduction.lock().map_err(|_| internal())?
            && *at == change
        {
            return Ok(d.clone());
        }
        let ctx = self.ctx.clone();
        let d = self.light.run(move |_| lantian_app::basis::deduction(&ctx, Basis::OFFICIAL)).await?;
        *self.deduction.lock().map_err(|_| internal())? = Some((change, d.clone()));
        Ok(d)
    }

    /// A page on `basis`, computed at most once per store generation (and
    /// ledger change, when events are deducted) and key, however many ask at
    /// once, on the heavy pool. `compute` gets the days on the basis and a
    /// flag that is set when nobody waits for the answer any more.
    pub async fn computed<T: serde::Serialize>(
        self: &Arc<Self>,
        key: String,
        gzip: bool,
        basis: Basis,
        with_other: bool,
        compute: impl FnOnce(&Ctx, &dyn Days, Option<&dyn Days>, &work::Cancel) -> Result<Result<T, ApiError>>
        + Send
        + 'static,
    ) -> Result<Response, ApiError> {
        let current = self.store_now().await?;
        // The other basis a page may show beside (official ↔ raw).
        let other = if basis.is_official() { Basis::RAW } else { Basis::OFFICIAL };
        let deducted = basis.dust == Dust::Deducted || (with_other && other.dust == Dust::Deducted);
        let (deduct, change) = if deducted {
            let change = self.ledger_change().await?;
            (self.deduction(change).await?, change)
        } else {
            (None, 0)
        };
        let key = format!("{key}\u{0}{}\u{0}{}\u{0}{change}", basis.values.key(), basis.dust.key());
        let ctx = self.ctx.clone();
        let answer = self
            .heavy
            .cached(key, current.store().generation(), move |cancel| {
                let of = |b: Basis| {
                    current.cache(b.values).view(if b.dust == Dust::Deducted { deduct.clone() } else { None })
                };
                let days = of(basis);
                let other_days = with_other.then(|| of(other));
                answer(compute(&ctx, &days, other_days.as_ref().map(|d| d as &dyn Days), cancel)?)
            })
            .await?;
        Ok(respond(&answer, gzip))
    }
}

/// A page's result as it is cached: JSON and gzipped JSON.
pub(super) fn answer<T: serde::Serialize>(r: Result<T, ApiError>) -> Result<Arc<Answer>> {
    let (status, body) = match r {
        Ok(v) => (StatusCode::OK, serde_json::to_vec(&v)?),
        Err(ApiError(status, error)) => (status, serde_json::to_vec(&ErrorBody { error })?),
    };
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut z, &body)?;
    Ok(Arc::new(Answer { status, body: body.into(), gzip: z.finish()?.into() }))
}

/// A cached answer, gzipped for the clients that accept it.
pub(super) fn respond(answer: &Answer, gzip: bool) -> Response {
    let json = (header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if gzip {
        let enc = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        (answer.status, [json, enc], answer.gzip.clone()).into_response()
    } else {
        (answer.status, [json], answer.body.clone()).into_response()
    }
}
