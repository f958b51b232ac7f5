//! `lantian serve`: the web dashboard and its JSON API from one binary
//! (assets embedded), an adapter over `lantian_app` like the CLI.
//!
//! - `app`: the state (the sessions' cache, import jobs, work pools, the
//!   store of the current generation with its day cache) and the API's errors;
//! - `auth`: login, sessions (in the ledger; a user lists and ends their
//!   own), the CSRF gate of every write route;
//! - `pages`: the computed pages (overview, city), cached per generation;
//! - `ledger`: actions and rectification tasks;
//! - `files`: document downloads and imports from the page;
//! - `screen`: integrity findings, a finding's chart, decisions (province staff);
//! - `work`: bounded pools, the page cache, cancellation;
//! - `openapi`: the API document generated from the handlers.
//!
//! To add an endpoint: a handler with `#[utoipa::path]` in the module of
//! its family, a route in `routes` (write routes in the gated group), and
//! its path and types in `openapi`.
//!
//! Why axum: the tokio stack the gateway already uses, routing and
//! extractors without a framework's weight (STACK.md).

mod app;
mod auth;
mod files;
mod ledger;
mod openapi;
mod pages;
mod screen;
mod work;

use anyhow::{Context, Result};
use app::{ApiError, App};
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use lantian_app::Ctx;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

const INDEX: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");
const ECHARTS: &str = include_str!("../../assets/echarts.min.js");

/// How long a stopping server waits for open connections.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

fn asset(ct: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, ct), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

async fn openapi_json() -> Response {
    static DOC: OnceLock<String> = OnceLock::new();
    ([(header::CONTENT_TYPE, "application/json")], DOC.get_or_init(openapi::document).clone()).into_response()
}

pub fn router(ctx: Ctx) -> Router {
    routes(Arc::new(App::new(ctx)))
}

fn routes(app: Arc<App>) -> Router {
    // Writes: session and CSRF token checked before the body is read.
    let writes = Router::new()
        .route("/api/logout", post(auth::logout))
        .route("/api/sessions/{id}/end", post(auth::end_session))
        .route("/api/actions/{id}", post(ledger::change_action))
        .route(
            "/api/tasks/{n}/progress",
            post(ledger::task_progress).layer(axum::extract::DefaultBodyLimit::max(20 * 1024 * 1024)),
        )
        .route("/api/tasks", post(ledger::task_create))
        .route("/api/tasks/{n}", post(ledger::task_edit))
        .route("/api/tasks/{n}/status", post(ledger::task_status))
        .route("/api/findings/{id}/review", post(screen::review))
        .route("/api/import", post(files::import_start).layer(axum::extract::DefaultBodyLimit::max(512 * 1024 * 1024)))
        .route_layer(axum::middleware::from_fn_with_state(app.clone(), auth::require_write));
    Router::new()
        .route("/", get(|| async { asset("text/html; charset=utf-8", INDEX) }))
        .route("/assets/app.js", get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }))
        .route("/assets/app.css", get(|| async { asset("text/css; charset=utf-8", APP_CSS) }))
        .route("/assets/echarts.min.js", get(|| async { asset("text/javascript; charset=utf-8", ECHARTS) }))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/login", post(auth::login))
        .route("/api/me", get(auth::me))
        .route("/api/sessions", get(auth::sessions))
        .route("/api/overview", get(pages::overview))
        .route("/api/cities/{name}", get(pages::city))
        .route("/api/boundaries", get(pages::boundaries))
        .route("/api/actions", get(ledger::actions))
        .route("/api/tasks", get(ledger::tasks))
        .route("/api/tasks/{n}", get(ledger::task))
        .route("/api/reports", get(files::report))
        .route("/api/findings", get(screen::findings))
        .route("/api/findings/{id}/series", get(screen::finding_series))
        .route("/api/import/{id}", get(files::import_status))
        .merge(writes)
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
    let app = Arc::new(App::new(ctx.clone()));
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
        // The peer's address is kept with a session (shown in its list).
        let service = routes(app.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = axum::serve(listener, service).with_graceful_shutdown(stop);
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
