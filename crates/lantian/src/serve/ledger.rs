//! The ledgers on the web: the actions the policy recorded (acknowledge,
//! lift) and the rectification tasks (list, detail, status moves, progress
//! with evidence). A city officer sees and writes only its own city's
//! records (another city's answer 404, never their content).

use super::app::{ApiError, App, ErrorBody, Session, forbidden};
use super::auth::can_read_area;
use super::multipart_error;
use super::pages::accepts_gzip;
use anyhow::Result;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::{Json, extract::Multipart};
use jiff::civil::Date;
use lantian_core::task::TaskStatus;
use lantian_store::ledger::ActionRecord;
use lantian_store::tasks::{Task, TaskFields};
use lantian_store::users::User;
use std::collections::HashMap;
use std::sync::Arc;

/// An action of the ledger with its evidence.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Action {
    pub id: i64,
    pub area: String,
    pub period: String,
    /// notice, reminder_letter, warning_letter, interview, fund_deduction, approval_restriction.
    pub kind: String,
    pub rule: String,
    pub rule_name: String,
    /// `open`, `acknowledged` or `lifted`.
    pub status: String,
    /// CNY, for fund deductions.
    pub amount: Option<f64>,
    pub edition: String,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub close_reason: Option<String>,
    /// The facts and reasons the rule was triggered on.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
}

impl From<&ActionRecord> for Action {
    fn from(a: &ActionRecord) -> Action {
        Action {
            id: a.id,
            area: a.area.clone(),
            period: a.period.clone(),
            kind: a.kind.clone(),
            rule: a.rule.clone(),
            rule_name: a.rule_name.clone(),
            status: a.status.clone(),
            amount: a.amount,
            edition: a.edition.clone(),
            created_at: a.created_at.clone(),
            closed_at: a.closed_at.clone(),
            close_reason: a.close_reason.clone(),
            evidence: serde_json::from_str(&a.evidence).unwrap_or(serde_json::Value::Null),
        }
    }
}

/// The actions the user may see.
#[utoipa::path(get, path = "/api/actions", tag = "ledger", responses(
    (status = 200, description = "the actions", body = Vec<Action>),
    (status = 401, description = "not logged in", body = ErrorBody),
))]
pub async fn actions(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = app.session(&headers).await?.user;
    let key = format!("actions\u{0}{}", visibility(&user));
    app.ledger_page(key, accepts_gzip(&headers), move |l| {
        Ok(Ok(l
            .list(None, None)?
            .iter()
            .filter(|a| can_read_area(&user, &a.area))
            .map(Action::from)
            .collect::<Vec<_>>()))
    })
    .await
}

/// What of the ledger a user sees: everything, or one city's records.
fn visibility(u: &User) -> String {
    if u.role == "city" { format!("city:{}", u.city.as_deref().unwrap_or_default()) } else { "all".into() }
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ActionChange {
    /// `ack` (anyone but a viewer) or `lift` (province staff, with a reason).
    change: String,
    reason: Option<String>,
}

/// Acknowledge or lift an action.
#[utoipa::path(post, path = "/api/actions/{id}", tag = "ledger", params(("id" = i64, Path)),
    request_body = ActionChange, responses(
    (status = 200, description = "the action as it is now", body = Action),
    (status = 400, description = "unknown change or a lift without a reason", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "the role may not, or a missing CSRF token", body = ErrorBody),
    (status = 404, description = "no such action (or another city's)", body = ErrorBody),
))]
pub async fn change_action(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<i64>,
    Json(c): Json<ActionChange>,
) -> Result<Json<Action>, ApiError> {
    let user = session.user;
    let v = app
        .ledger(move |ledger| -> Result<Result<Action, ApiError>> {
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
            Ok(Ok(Action::from(&a)))
        })
        .await;
    app.ledger_written();
    v?.map(Json)
}

pub fn task_visible(u: &User, t: &Task) -> bool {
    u.role != "city" || u.city.as_ref().is_some_and(|c| t.fields.cities.contains(c))
}

/// Task `n` as `user` may see it: another city's task answers 404 like a missing one.
fn find_task(db: &mut dyn lantian_store::sql::Db, user: &User, n: i64) -> Result<Task, ApiError> {
    lantian_store::tasks::get(db, n)
        .ok()
        .filter(|t| task_visible(user, t))
        .ok_or_else(|| ApiError(StatusCode::NOT_FOUND, format!("no task {n}")))
}

/// A task in the list: the ledger's record, whether it is overdue, its status in words.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TaskItem {
    #[serde(flatten)]
    pub task: Task,
    pub overdue: bool,
    pub status_zh: &'static str,
}

/// The tasks the user may see.
#[utoipa::path(get, path = "/api/tasks", tag = "ledger", responses(
    (status = 200, description = "the tasks", body = Vec<TaskItem>),
    (status = 401, description = "not logged in", body = ErrorBody),
))]
pub async fn tasks(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    let user = app.session(&headers).await?.user;
    // Overdue depends on the day as well as the ledger.
    let today = lantian_app::today_date();
    let key = format!("tasks\u{0}{}\u{0}{today}", visibility(&user));
    app.ledger_page(key, accepts_gzip(&headers), move |l| {
        Ok(Ok(lantian_store::tasks::list(l.db())?
            .into_iter()
            .filter(|t| task_visible(&user, t))
            .map(|t| TaskItem {
                overdue: lantian_core::task::is_overdue(t.status, t.fields.deadline, today),
                status_zh: t.status.zh(),
                task: t,
            })
            .collect::<Vec<_>>()))
    })
    .await
}

/// One task with the status moves open to it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TaskDetail {
    #[serde(flatten)]
    pub task: Task,
    pub status_zh: &'static str,
    /// The statuses it may move to.
    pub next: Vec<&'static str>,
}

/// One task.
#[utoipa::path(get, path = "/api/tasks/{n}", tag = "ledger", params(("n" = i64, Path, description = "the task's number")),
    responses(
    (status = 200, description = "the task", body = TaskDetail),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 404, description = "no such task (or another city's)", body = ErrorBody),
))]
pub async fn task(State(app): State<Arc<App>>, headers: HeaderMap, Path(n): Path<i64>) -> Result<Response, ApiError> {
    let user = app.session(&headers).await?.user;
    let key = format!("task\u{0}{n}\u{0}{}", visibility(&user));
    app.ledger_page(key, accepts_gzip(&headers), move |l| {
        Ok(find_task(l.db(), &user, n).map(|t| TaskDetail {
            status_zh: t.status.zh(),
            next: t.status.next().iter().map(|s| s.key()).collect(),
            task: t,
        }))
    })
    .await
}

/// A progress entry as the form sends it (multipart/form-data).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ProgressForm {
    /// YYYY-MM-DD.
    date: String,
    /// Who reports it (default: the user).
    author: Option<String>,
    /// The measure (1-based) it reports on.
    measure: Option<i64>,
    text: String,
    /// "NAME=VALUE UNIT", repeatable.
    indicator: Vec<String>,
    /// Evidence files, repeatable (20 MB in all).
    #[schema(value_type = Vec<String>, format = Binary)]
    evidence: Vec<Vec<u8>>,
}

/// The id of what a write created.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Record a progress entry with evidence files.
#[utoipa::path(post, path = "/api/tasks/{n}/progress", tag = "ledger", params(("n" = i64, Path)),
    request_body(content = ProgressForm, content_type = "multipart/form-data"), responses(
    (status = 200, description = "recorded", body = Created),
    (status = 400, description = "a bad date, measure or indicator", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "a viewer, or a missing CSRF token", body = ErrorBody),
    (status = 404, description = "no such task (or another city's)", body = ErrorBody),
    (status = 413, description = "the files are larger than 20 MB", body = ErrorBody),
))]
pub async fn task_progress(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(n): Path<i64>,
    mut form: Multipart,
) -> Result<Json<Created>, ApiError> {
    let user = session.user;
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
    let ledgers = app.clone();
    let v = app
        .blocking(move || -> Result<Result<Created, ApiError>> {
            if let Err(e) = ledgers.with_ledger(|l| Ok(find_task(l.db(), &user, n)))? {
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
            let id = lantian_app::tasks::record_progress(&ctx, n, &report, &user.name)?;
            Ok(Ok(Created { id }))
        })
        .await;
    app.ledger_written();
    v?.map(Json)
}

/// Who writes tasks: the province's staff (admin, analyst); city officers
/// report progress on theirs, viewers read.
fn may_write_tasks(user: &User) -> Result<(), ApiError> {
    match user.role.as_str() {
        "admin" | "analyst" => Ok(()),
        _ => Err(forbidden("create or edit rectification tasks")),
    }
}

/// Create a rectification task (status 未启动): the same validation and
/// audit entry as `lantian task add`.
#[utoipa::path(post, path = "/api/tasks", tag = "ledger", request_body = lantian_store::tasks::TaskFields, responses(
    (status = 200, description = "created; `id` is the task's number", body = Created),
    (status = 400, description = "a missing field, a number in use, a bad date", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "not province staff, or a missing CSRF token", body = ErrorBody),
))]
pub async fn task_create(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Json(fields): Json<TaskFields>,
) -> Result<Json<Created>, ApiError> {
    let user = session.user;
    may_write_tasks(&user)?;
    let v = app
        .ledger(move |ledger| {
            lantian_store::tasks::add(ledger.db(), &fields, &user.name)?;
            Ok(Created { id: fields.number })
        })
        .await;
    app.ledger_written();
    v.map(Json)
}

/// Replace a task's fields (not its status or progress): the same
/// validation and audit entry (which fields changed) as `lantian task edit`.
#[utoipa::path(post, path = "/api/tasks/{n}", tag = "ledger", params(("n" = i64, Path, description = "the task's number")),
    request_body = lantian_store::tasks::TaskFields, responses(
    (status = 200, description = "edited", body = Created),
    (status = 400, description = "a missing field, nothing changed, the body's number differs", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "not province staff, or a missing CSRF token", body = ErrorBody),
    (status = 404, description = "no such task", body = ErrorBody),
))]
pub async fn task_edit(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(n): Path<i64>,
    Json(mut fields): Json<TaskFields>,
) -> Result<Json<Created>, ApiError> {
    let user = session.user;
    may_write_tasks(&user)?;
    // The number names the task; renumbering is not an edit.
    if fields.number != 0 && fields.number != n {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("the body is task {}, the path task {n}", fields.number),
        ));
    }
    fields.number = n;
    let v = app
        .ledger(move |ledger| -> Result<Result<Created, ApiError>> {
            if let Err(e) = find_task(ledger.db(), &user, n) {
                return Ok(Err(e));
            }
            lantian_store::tasks::edit(ledger.db(), &fields, &user.name)?;
            Ok(Ok(Created { id: n }))
        })
        .await;
    app.ledger_written();
    v?.map(Json)
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct StatusChange {
    /// not_started, in_progress, completed, closed (or 未启动, 推进中, 已完成, 已销号).
    to: String,
    note: Option<String>,
}

/// A task's status after a move.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct StatusAnswer {
    pub status: &'static str,
}

/// Move a task along its workflow. Closing (已销号, after verification) and
/// reopening are the province's; a city officer moves its own tasks to
/// 推进中 or 已完成.
#[utoipa::path(post, path = "/api/tasks/{n}/status", tag = "ledger", params(("n" = i64, Path)),
    request_body = StatusChange, responses(
    (status = 200, description = "moved", body = StatusAnswer),
    (status = 400, description = "unknown status or a move the workflow refuses", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "the role may not, or a missing CSRF token", body = ErrorBody),
    (status = 404, description = "no such task (or another city's)", body = ErrorBody),
))]
pub async fn task_status(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(n): Path<i64>,
    Json(c): Json<StatusChange>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let user = session.user;
    let Some(to) = TaskStatus::parse(&c.to) else {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("unknown status {:?}", c.to)));
    };
    let allowed = match user.role.as_str() {
        "admin" | "analyst" => true,
        "city" => matches!(to, TaskStatus::InProgress | TaskStatus::Completed),
        _ => false,
    };
    let v = app
        .ledger(move |ledger| -> Result<Result<StatusAnswer, ApiError>> {
            let t = match find_task(ledger.db(), &user, n) {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            // A city officer may not reopen a completed task either.
            if !allowed || (user.role == "city" && t.status == TaskStatus::Completed) {
                return Ok(Err(forbidden(&format!("move tasks to {}", to.zh()))));
            }
            lantian_store::tasks::set_status(ledger.db(), n, to, &user.name, c.note.as_deref())?;
            Ok(Ok(StatusAnswer { status: to.key() }))
        })
        .await;
    app.ledger_written();
    v?.map(Json)
}
