//! Files in and out: documents as downloads (the notice, a task's
//! completion table, the daily briefing) and imports uploaded from the page (admin, analyst),
//! with their progress and rejected rows.

use super::app::{ApiError, App, ErrorBody, ImportJob, Session, forbidden, unauthorized};
use super::ledger::task_visible;
use super::multipart_error;
use anyhow::Result;
use axum::Json;
use axum::extract::{Extension, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::sync::atomic::Ordering;

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct ReportQuery {
    /// `notice`, `completion` or `daily` (the daily briefing, 会商简报).
    kind: String,
    /// For a notice: month:YYYY-MM (also week:YYYY-Www, year:YYYY).
    period: Option<String>,
    /// For a completion table: the task's number.
    task: Option<i64>,
    /// For the daily briefing: the day reported, YYYY-MM-DD.
    date: Option<String>,
    /// `docx` or `xlsx`; default `docx`, for the daily briefing `xlsx`.
    format: Option<String>,
    /// For the daily briefing: `zh` (default) or `en`.
    lang: Option<String>,
}

/// Generate a document and send it as a download.
#[utoipa::path(get, path = "/api/reports", tag = "files", params(ReportQuery), responses(
    (status = 200, description = "the document (.docx or .xlsx)", content_type = "application/octet-stream", body = Vec<u8>),
    (status = 400, description = "a bad period or date, a date without data, an unknown task or kind", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 503, description = "busy: try again (Retry-After)", body = ErrorBody),
))]
pub async fn report(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<ReportQuery>,
) -> Result<Response, ApiError> {
    let user = app.session(&headers).await?.user;
    let ctx = app.ctx.clone();
    let current = app.store_now().await?;
    let change = app.ledger_change().await?;
    let deduct = app.deduction(change).await?;
    // Documents are page-sized computations: the heavy pool (not cached: a
    // completion table depends on who asks).
    let (name, bytes, ct) = app
        .heavy
        .run(move |_| -> Result<(String, Vec<u8>, &'static str)> {
            let en = match q.lang.as_deref() {
                None | Some("zh") => false,
                Some("en") => true,
                Some(other) => anyhow::bail!("lang={other}: zh or en"),
            };
            let (doc, stem) = match (q.kind.as_str(), &q.period, q.task, &q.date) {
                ("notice", Some(period), _, _) => {
                    let (from, to) = lantian_app::parse_period(period)?;
                    let days = current.best.view(deduct);
                    let data = lantian_app::report::notice_data(&ctx, &days, period, from, to, "四川省生态环境厅", 3)?;
                    (lantian_report::notice::compose(&data)?, format!("notice-{}", period.replace(':', "-")))
                }
                ("completion", _, Some(n), _) => {
                    let mut ledger = ctx.ledger()?;
                    let t = lantian_store::tasks::get(ledger.db(), n)?;
                    if !task_visible(&user, &t) {
                        anyhow::bail!("no task {n}");
                    }
                    let days = current.best.view(deduct);
                    let data = lantian_app::report::completion_data(&ctx, &days, n)?;
                    (lantian_report::completion::compose(&data), format!("task-{n}-completion"))
                }
                ("daily", _, _, Some(date)) => {
                    let date: jiff::civil::Date =
                        date.parse().map_err(|e| anyhow::anyhow!("date={date}: expected YYYY-MM-DD ({e})"))?;
                    // The server's days are the official basis (best values, events deducted).
                    let days = current.best.view(deduct);
                    let basis = lantian_app::basis::Basis::OFFICIAL;
                    let data = lantian_app::daily::daily_data(&ctx, &days, date, "四川省生态环境厅", basis, en)?;
                    (lantian_report::daily::compose(&data, en), format!("daily-briefing-{date}"))
                }
                _ => anyhow::bail!(
                    "kind=notice&period=month:YYYY-MM, kind=completion&task=N or kind=daily&date=YYYY-MM-DD"
                ),
            };
            let default = if q.kind == "daily" { "xlsx" } else { "docx" };
            Ok(match q.format.as_deref().unwrap_or(default) {
                "xlsx" => (
                    format!("{stem}.xlsx"),
                    lantian_report::xlsx::render(&doc, Some(if en { "Text" } else { "正文" }))?,
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

/// Files to import (multipart/form-data, any field name, repeatable).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// CNEMC site files, station lists, long CSV, city daily files, Parquet (.csv, .csv.gz, .parquet).
    #[schema(value_type = Vec<String>, format = Binary)]
    files: Vec<Vec<u8>>,
}

/// The job an upload started.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImportStarted {
    pub job: String,
}

/// A rejected row or cell, as the rejects file has it (file as uploaded).
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct RejectRow {
    pub file: String,
    pub line: String,
    pub column: String,
    pub reason: String,
    pub value: String,
}

/// What an import from the page did.
#[derive(Clone, serde::Serialize, utoipa::ToSchema)]
pub struct ImportSummary {
    pub files: usize,
    /// Hourly values new, revised and unchanged.
    pub imported: u64,
    pub revised: u64,
    pub unchanged: u64,
    /// City daily values new.
    pub city_days: u64,
    pub stations: usize,
    pub rejected: u64,
    /// Files that could not be read at all, with the reason.
    pub unreadable: Vec<String>,
    /// Whether a new store generation was committed.
    pub committed: bool,
    /// The first 200 rejected rows.
    pub rejects: Vec<RejectRow>,
}

/// Upload files and import them (admin, analyst). Answers at once with a
/// job id; `GET /api/import/{id}` reports progress and, at the end, the
/// summary and the rejected rows (file, line, column, reason).
#[utoipa::path(post, path = "/api/import", tag = "files",
    request_body(content = ImportForm, content_type = "multipart/form-data"), responses(
    (status = 200, description = "the import started", body = ImportStarted),
    (status = 400, description = "no files, or a bad file name", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "the role may not import, or a missing CSRF token", body = ErrorBody),
    (status = 413, description = "the upload is larger than 512 MB", body = ErrorBody),
))]
pub async fn import_start(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    mut form: Multipart,
) -> Result<Json<ImportStarted>, ApiError> {
    let user = session.user;
    if !matches!(user.role.as_str(), "admin" | "analyst") {
        return Err(forbidden("import data"));
    }
    let id = lantian_store::users::random_token()[..16].to_string();
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
    job.total.store(paths.len(), Ordering::Relaxed);
    app.jobs.lock().map_err(|_| unauthorized())?.insert(id.clone(), job.clone());
    let data = app.ctx.data.clone();
    let audit_ctx = app.ctx.clone();
    tokio::task::spawn_blocking(move || {
        let progress = |done: usize, total: usize| {
            job.done.store(done, Ordering::Relaxed);
            job.total.store(total, Ordering::Relaxed);
        };
        let result =
            lantian_store::import(&data, &paths, Some(&progress)).map_err(|e| e.to_string()).map(|s| ImportSummary {
                files: s.files.values().sum::<usize>(),
                imported: s.hourly.imported,
                revised: s.hourly.revised,
                unchanged: s.hourly.unchanged,
                city_days: s.city_days.imported,
                stations: s.stations,
                rejected: s.rejected,
                unreadable: s
                    .unreadable
                    .iter()
                    .map(|(p, e)| format!("{}: {e}", p.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()))
                    .collect(),
                committed: s.committed,
                rejects: s.rejects_file.as_ref().map(|p| first_rejects(p)).unwrap_or_default(),
            });
        // Every write is in the audit log, imports from the page too.
        let change = match &result {
            Ok(s) => format!(
                "import {id_for_job}: {} files, {} new, {} revised hourly values, {} rejected",
                s.files, s.imported, s.revised, s.rejected
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
    Ok(Json(ImportStarted { job: id }))
}

/// The first 200 rows of a rejects file, with files named as uploaded.
fn first_rejects(path: &std::path::Path) -> Vec<RejectRow> {
    let Ok(text) = std::fs::read_to_string(path) else { return Vec::new() };
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.records()
        .filter_map(|x| x.ok())
        .take(200)
        .map(|rec| {
            let f = |i: usize| rec.get(i).unwrap_or_default().to_string();
            // The name as uploaded, not the server's path.
            RejectRow { file: uploaded_name(&f(0)), line: f(1), column: f(2), reason: f(3), value: f(4) }
        })
        .collect()
}

/// `…/uploads/<job>/003-name.csv` → `name.csv`.
fn uploaded_name(path: &str) -> String {
    let base = path.rsplit(['/', '\\']).next().unwrap_or(path);
    base.split_once('-')
        .filter(|(n, _)| n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit()))
        .map_or(base, |(_, r)| r)
        .to_string()
}

/// An import's progress, then its summary or error.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ImportStatus {
    /// `running`, `done` or `failed`.
    pub state: &'static str,
    pub done: usize,
    pub total: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<ImportSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An import's progress and, at the end, what it did.
#[utoipa::path(get, path = "/api/import/{id}", tag = "files", params(("id" = String, Path)), responses(
    (status = 200, description = "the import's state", body = ImportStatus),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "the role may not see imports", body = ErrorBody),
    (status = 404, description = "no such import", body = ErrorBody),
))]
pub async fn import_status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ImportStatus>, ApiError> {
    let user = app.session(&headers).await?.user;
    if !matches!(user.role.as_str(), "admin" | "analyst") {
        return Err(forbidden("see imports"));
    }
    let job = app.jobs.lock().map_err(|_| unauthorized())?.get(&id).cloned();
    let Some(job) = job else {
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no import {id}")));
    };
    let result = job.result.lock().map_err(|_| unauthorized())?.clone();
    let (done, total) = (job.done.load(Ordering::Relaxed), job.total.load(Ordering::Relaxed));
    Ok(Json(match result {
        None => ImportStatus { state: "running", done, total, summary: None, error: None },
        Some(Ok(s)) => ImportStatus { state: "done", done: total, total, summary: Some(s), error: None },
        Some(Err(e)) => ImportStatus { state: "failed", done, total, summary: None, error: Some(e) },
    }))
}
