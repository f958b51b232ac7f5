//! The API's OpenAPI document, generated from the handlers' annotations and
//! the request and response types (utoipa: derive macros only, no runtime
//! beyond serde_json; chosen over hand-written JSON so the document cannot
//! drift from the code).

use super::app::ErrorBody;
use super::auth::{Done, Login, Me, SessionItem};
use super::files::{ImportForm, ImportStarted, ImportStatus, ImportSummary, RejectRow};
use super::ledger::{Action, ActionChange, Created, ProgressForm, StatusAnswer, StatusChange, TaskDetail, TaskItem};
use super::screen::{FindingRow, FindingSeries, FindingsPage, ReviewBody};
use lantian_app::assess::{AreaRow, Compare};
use lantian_app::capture::CaptureShortfall;
use lantian_app::pages::{
    BasisNote, Breakdown, CalendarDay, CityPage, Method, MonthlyPm25, OtherBasis, Overview, OverviewRow,
    StationCapture, TargetRow, YearStats,
};
use lantian_store::tasks::{
    Evidence, GoalTargets, Indicator, Progress, StatusChange as TaskStatusChange, Task, TaskFields,
};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "lantian 蓝天",
        description = "The dashboard's JSON API. Log in at /api/login (a session cookie, HttpOnly, SameSite=Strict); every write echoes the session's CSRF token in X-CSRF-Token. Numbers are computed by the same functions as the `lantian` command line.",
    ),
    paths(
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::auth::sessions,
        super::auth::end_session,
        super::pages::overview,
        super::pages::city,
        super::pages::boundaries,
        super::ledger::actions,
        super::ledger::change_action,
        super::ledger::tasks,
        super::ledger::task,
        super::ledger::task_create,
        super::ledger::task_edit,
        super::ledger::task_progress,
        super::ledger::task_status,
        super::files::report,
        super::files::import_start,
        super::files::import_status,
        super::screen::findings,
        super::screen::finding_series,
        super::screen::review,
    ),
    components(schemas(
        ErrorBody, Login, Me, Done, SessionItem, Overview, OverviewRow, AreaRow, Compare, CaptureShortfall, Method, BasisNote, OtherBasis, CityPage, CalendarDay,
        MonthlyPm25, YearStats, Breakdown, TargetRow, StationCapture, Action, ActionChange, TaskItem, TaskDetail,
        Task, TaskFields, GoalTargets, Indicator, Evidence, Progress, TaskStatusChange, ProgressForm, Created, StatusChange,
        StatusAnswer, ImportForm, ImportStarted, ImportStatus, ImportSummary, RejectRow, FindingRow, FindingsPage, FindingSeries, ReviewBody,
    )),
    tags(
        (name = "session", description = "log in and out; one's own sessions"),
        (name = "pages", description = "computed pages, cached per store generation"),
        (name = "ledger", description = "actions and rectification tasks"),
        (name = "files", description = "documents and imports"),
        (name = "screening", description = "data integrity findings and decisions (province staff)"),
    )
)]
struct ApiDoc;

/// The document as JSON.
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
