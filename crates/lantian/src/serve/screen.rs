//! The integrity screening page's API, for province staff (a city officer
//! gets 403: a city does not see the screening of its own stations): the
//! findings of a period, one finding's chart against its neighbours, and a
//! person's decision. Screening runs on the heavy pool.

use super::app::Session;
use super::app::{ApiError, App, ErrorBody, forbidden};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use jiff::civil::Date;
use lantian_app::screen::{self, Finding, ReviewRequest, ScreenRequest, evidence};
use lantian_core::integrity::Check;
use lantian_core::time::{date_of, day_of_label, format_label};
use lantian_store::findings::Decision;
use std::sync::Arc;

fn staff(s: &Session) -> Result<(), ApiError> {
    if s.user.role == "city" { Err(forbidden("the integrity screening")) } else { Ok(()) }
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct FindingsQuery {
    /// First day, YYYY-MM-DD.
    #[param(value_type = String, format = Date)]
    from: Date,
    /// Last day, YYYY-MM-DD.
    #[param(value_type = String, format = Date)]
    to: Date,
    city: Option<String>,
    /// A check key (divergence, short_drop, selective_gaps, bunching, stuck, pm25_above_pm10, drift, control).
    check: Option<String>,
    /// Dismissed findings too.
    #[serde(default)]
    all: bool,
    /// `zh` (default) or `en`: the evidence sentences' language.
    lang: Option<String>,
}

/// One finding as the page shows it (the keys of `lantian screen`).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FindingRow {
    id: String,
    station: String,
    station_name: String,
    city: String,
    from: String,
    to: String,
    check: String,
    series: String,
    score: i64,
    /// `confirmed`, `dismissed`, or null (not reviewed yet).
    status: Option<String>,
    evidence: String,
    /// The decision's note, who made it and when.
    note: Option<String>,
    reviewed_by: Option<String>,
    reviewed_at: Option<String>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FindingsPage {
    findings: Vec<FindingRow>,
    stations: usize,
    station_months: usize,
    /// Stations with a check that could not run (`lantian screen --not-run` says why).
    stations_not_run: usize,
}

fn date(l: i64) -> String {
    date_of(day_of_label(l)).map(|d| d.to_string()).unwrap_or_default()
}

fn row(f: &Finding, zh: bool) -> FindingRow {
    FindingRow {
        id: f.id.clone(),
        station: f.station.clone(),
        station_name: f.station_name.clone(),
        city: f.city.clone(),
        from: date(f.hit.from),
        to: date(f.hit.to),
        check: f.hit.check.key().into(),
        series: evidence::series_name(f.hit.series).into(),
        score: f.hit.score.round() as i64,
        status: f.status().map(|d| d.key().to_string()),
        evidence: evidence::sentence(&f.hit, zh),
        note: f.review.as_ref().map(|r| r.note.clone()),
        reviewed_by: f.review.as_ref().map(|r| r.who.clone()),
        reviewed_at: f.review.as_ref().map(|r| r.at.clone()),
    }
}

/// The findings of a period, highest score first (dismissed ones only with `all`).
#[utoipa::path(get, path = "/api/findings", tag = "screening", params(FindingsQuery), responses(
    (status = 200, description = "the findings", body = FindingsPage),
    (status = 400, description = "bad period or check", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "a city officer", body = ErrorBody),
    (status = 503, description = "busy: try again (Retry-After)", body = ErrorBody),
))]
pub async fn findings(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(q): Query<FindingsQuery>,
) -> Result<Json<FindingsPage>, ApiError> {
    staff(&app.session(&headers).await?)?;
    if q.from > q.to {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("from {} is after to {}", q.from, q.to)));
    }
    let checks = match q.check.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => {
            vec![Check::parse(c).ok_or_else(|| ApiError(StatusCode::BAD_REQUEST, format!("check {c:?}: unknown")))?]
        }
        None => Vec::new(),
    };
    let zh = q.lang.as_deref() != Some("en");
    let ctx = app.ctx.clone();
    let req = ScreenRequest {
        from: Some(q.from),
        to: Some(q.to),
        city: q.city.filter(|c| !c.is_empty()),
        checks,
        dismissed: q.all,
        ..Default::default()
    };
    let page = app
        .heavy
        .run(move |_| {
            let params = screen::load_params(&ctx, None)?;
            let s = screen::screen(&ctx, &req, &params)?;
            let not_run: std::collections::BTreeSet<&str> = s.skipped.iter().map(|x| x.station.as_str()).collect();
            Ok(FindingsPage {
                findings: s.findings.iter().map(|f| row(f, zh)).collect(),
                stations: s.stations,
                station_months: s.station_months,
                stations_not_run: not_run.len(),
            })
        })
        .await?;
    Ok(Json(page))
}

/// A finding's series hour by hour beside its neighbours' median, three days either side.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct FindingSeries {
    finding: FindingRow,
    /// Hour-ending labels, `YYYY-MM-DDTHH:00+08:00`.
    times: Vec<String>,
    station: Vec<Option<f64>>,
    /// The neighbours' median (null for gases, which are not compared).
    reference: Option<Vec<Option<f64>>>,
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct LangQuery {
    lang: Option<String>,
}

#[utoipa::path(get, path = "/api/findings/{id}/series", tag = "screening",
    params(("id" = String, Path, description = "the finding's id"), LangQuery), responses(
    (status = 200, description = "the series", body = FindingSeries),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "a city officer", body = ErrorBody),
    (status = 404, description = "no such finding in the data now", body = ErrorBody),
))]
pub async fn finding_series(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<LangQuery>,
) -> Result<Json<FindingSeries>, ApiError> {
    staff(&app.session(&headers).await?)?;
    let ctx = app.ctx.clone();
    let zh = q.lang.as_deref() != Some("en");
    let out = app
        .heavy
        .run(move |_| -> anyhow::Result<Result<FindingSeries, ApiError>> {
            let params = screen::load_params(&ctx, None)?;
            let f = match screen::find(&ctx, &id, &params) {
                Ok(f) => f,
                Err(e) => return Ok(Err(ApiError(StatusCode::NOT_FOUND, e.to_string()))),
            };
            let c = screen::chart(&ctx, &f, &params)?;
            let opt = |v: &[f64]| v.iter().map(|x| (!x.is_nan()).then_some(*x)).collect::<Vec<_>>();
            Ok(Ok(FindingSeries {
                finding: row(&f, zh),
                times: (0..c.station.len()).map(|h| format_label(c.start + h as i64)).collect(),
                station: opt(&c.station),
                reference: c.reference.as_deref().map(opt),
            }))
        })
        .await??;
    Ok(Json(out))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct ReviewBody {
    /// `confirmed` or `dismissed`.
    decision: String,
    /// What was checked and what was seen (required).
    note: String,
    /// With `confirmed`: blank the finding's hours in the audited layer.
    #[serde(default)]
    invalidate: bool,
}

/// Record a decision on a finding (admin and analyst; audited).
#[utoipa::path(post, path = "/api/findings/{id}/review", tag = "screening",
    params(("id" = String, Path, description = "the finding's id")), request_body = ReviewBody, responses(
    (status = 200, description = "the finding as it is now", body = FindingRow),
    (status = 400, description = "unknown decision, no note, or invalidating a dismissal", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 403, description = "the role may not, or a missing CSRF token", body = ErrorBody),
    (status = 404, description = "no such finding in the data now", body = ErrorBody),
))]
pub async fn review(
    State(app): State<Arc<App>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
    Json(b): Json<ReviewBody>,
) -> Result<Json<FindingRow>, ApiError> {
    if !matches!(session.user.role.as_str(), "admin" | "analyst") {
        return Err(forbidden("reviewing findings"));
    }
    let decision = Decision::parse(&b.decision).ok_or_else(|| {
        ApiError(StatusCode::BAD_REQUEST, format!("decision {:?}: confirmed or dismissed", b.decision))
    })?;
    if b.note.trim().is_empty() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            "a decision needs a note (what was checked, what was seen)".into(),
        ));
    }
    if b.invalidate && decision != Decision::Confirmed {
        return Err(ApiError(StatusCode::BAD_REQUEST, "only confirmed findings invalidate data".into()));
    }
    let ctx = app.ctx.clone();
    let by = session.user.name.clone();
    let out = app
        .heavy
        .run(move |_| -> anyhow::Result<Result<FindingRow, ApiError>> {
            let params = screen::load_params(&ctx, None)?;
            if let Err(e) = screen::find(&ctx, &id, &params) {
                return Ok(Err(ApiError(StatusCode::NOT_FOUND, e.to_string())));
            }
            let req = ReviewRequest { id: id.clone(), decision, note: b.note.clone(), by, invalidate: b.invalidate };
            screen::review(&ctx, &req, &params)?;
            let f = screen::find(&ctx, &id, &params)?;
            Ok(Ok(row(&f, true)))
        })
        .await??;
    app.ledger_written();
    Ok(Json(out))
}
