//! The computed pages: the province overview of a period and a city's
//! year (`lantian_app::pages`), cached per store generation.

use super::app::{Answer, ApiError, App, ErrorBody, answer, respond};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use jiff::civil::Date;
use lantian_app::pages::{CityPage, NotFound, Overview};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// Whether the client takes gzip (every browser does).
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|x| x.trim().eq_ignore_ascii_case("gzip")))
}

/// The basis of a page (default: the official one, audited values with
/// sand-dust and exceptional events deducted).
#[derive(Clone, Copy, serde::Deserialize, utoipa::IntoParams)]
pub struct BasisQuery {
    /// `best` (audited where audited, raw elsewhere; default) or `raw`.
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "from_str_opt")]
    values: Option<lantian_store::Values>,
    /// `deducted` (default) or `included`: sand-dust and exceptional-event data in PM10/PM2.5.
    #[param(value_type = Option<String>)]
    #[serde(default, deserialize_with = "from_str_opt")]
    dust: Option<lantian_app::basis::Dust>,
}

impl BasisQuery {
    pub fn basis(self) -> lantian_app::basis::Basis {
        let official = lantian_app::basis::Basis::OFFICIAL;
        lantian_app::basis::Basis {
            values: self.values.unwrap_or(official.values),
            dust: self.dust.unwrap_or(official.dust),
        }
    }
}

/// A query value parsed by its `FromStr` (the enums of the basis).
fn from_str_opt<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = String>,
{
    use serde::Deserialize;
    Option::<String>::deserialize(d)?.map(|s| s.parse().map_err(serde::de::Error::custom)).transpose()
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct Period {
    /// First day, YYYY-MM-DD.
    #[param(value_type = String, format = Date)]
    from: Date,
    /// Last day, YYYY-MM-DD.
    #[param(value_type = String, format = Date)]
    to: Date,
}

/// Province overview for a period: the rows of `lantian assess --compare
/// previous-year` with the main pollutant and the three-year comparison of
/// `lantian rank`, the regions, each city's place.
#[utoipa::path(get, path = "/api/overview", tag = "pages", params(Period, BasisQuery), responses(
    (status = 200, description = "the overview", body = Overview),
    (status = 400, description = "bad period", body = ErrorBody),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 503, description = "busy: try again (Retry-After)", body = ErrorBody),
))]
pub async fn overview(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Query(p): Query<Period>,
    Query(b): Query<BasisQuery>,
) -> Result<Response, ApiError> {
    app.session(&headers).await?;
    if p.from > p.to {
        return Err(ApiError(StatusCode::BAD_REQUEST, format!("from {} is after to {}", p.from, p.to)));
    }
    let key = format!("overview\u{0}{}\u{0}{}", p.from, p.to);
    let basis = b.basis();
    app.computed(key, accepts_gzip(&headers), basis, true, move |ctx, days, other, cancel| {
        Ok(Ok(lantian_app::pages::overview_page(ctx, days, basis, other, p.from, p.to, &|| cancel.check())?))
    })
    .await
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
pub struct CityQuery {
    year: i16,
}

/// One city's year: the daily AQI calendar, PM2.5 by month against the
/// year before, the year's statistics with their single indexes, each
/// target's status (judged today, or at the year's end), its stations' data capture.
#[utoipa::path(get, path = "/api/cities/{name}", tag = "pages",
    params(("name" = String, Path, description = "the city"), CityQuery, BasisQuery), responses(
    (status = 200, description = "the city's year", body = CityPage),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 404, description = "no data for the city in the year", body = ErrorBody),
    (status = 503, description = "busy: try again (Retry-After)", body = ErrorBody),
))]
pub async fn city(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Query(q): Query<CityQuery>,
    Query(b): Query<BasisQuery>,
) -> Result<Response, ApiError> {
    app.session(&headers).await?;
    // Targets are judged as of today: a new day is a new page.
    let today = lantian_app::today_date();
    let key = format!("city\u{0}{name}\u{0}{}\u{0}{today}", q.year);
    let basis = b.basis();
    app.computed(key, accepts_gzip(&headers), basis, false, move |ctx, days, _, cancel| {
        Ok(lantian_app::pages::city_page(ctx, days, basis, &name, q.year, today, &|| cancel.check())?
            .map_err(|NotFound(e)| ApiError(StatusCode::NOT_FOUND, e)))
    })
    .await
}

/// The installed city outlines (`lantian boundaries import`) as GeoJSON:
/// features named by city, a top-level `lantian` member with `schematic`
/// (caption the map 示意图) and `source`. 404 when none are installed (the
/// pages then draw the cities as points).
#[utoipa::path(get, path = "/api/boundaries", tag = "pages", responses(
    (status = 200, description = "a GeoJSON FeatureCollection", content_type = "application/json", body = Object),
    (status = 401, description = "not logged in", body = ErrorBody),
    (status = 404, description = "no outlines installed", body = ErrorBody),
))]
pub async fn boundaries(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    app.session(&headers).await?;
    // Read and gzipped once per installed file (its modification time).
    static CACHE: Mutex<Option<(std::path::PathBuf, SystemTime, Arc<Answer>)>> = Mutex::new(None);
    let path = app.ctx.data.join(lantian_store::boundaries::FILE);
    let Ok(modified) = std::fs::metadata(&path).and_then(|m| m.modified()) else {
        return Err(ApiError(StatusCode::NOT_FOUND, "no boundaries installed (lantian boundaries import FILE)".into()));
    };
    let gzip = accepts_gzip(&headers);
    if let Ok(c) = CACHE.lock()
        && let Some((p, t, a)) = c.as_ref()
        && *p == path
        && *t == modified
    {
        return Ok(respond(a, gzip));
    }
    // Small (under a megabyte) and read once per file: a plain read.
    let text = std::fs::read(&path).map_err(|e| ApiError(StatusCode::NOT_FOUND, format!("boundaries: {e}")))?;
    let doc: serde_json::Value = serde_json::from_slice(&text).map_err(|e| anyhow::anyhow!("boundaries: {e}"))?;
    let a = answer(Ok::<_, ApiError>(doc)).map_err(ApiError::from)?;
    if let Ok(mut c) = CACHE.lock() {
        *c = Some((path, modified, a.clone()));
    }
    Ok(respond(&a, gzip))
}
