//! `GET /api/similar?recording=ID&k=10` (or `?singer=NAME`): the library's recordings and
//! singers nearest to a stored recording or a singer ([`singerid_library::similar`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use singerid_data::Silent;
use singerid_library::{Similar, similar as search};

use crate::error::ApiError;
use crate::state::App;

/// Neighbours listed when `k` is not given.
pub const DEFAULT_K: usize = 10;

/// The most neighbours one request may ask for.
pub const MAX_K: usize = 1000;

/// The query string.
#[derive(Debug, Deserialize)]
pub struct SimilarParams {
    /// A stored recording's id (as `singerid scan` and `/api/map` list them).
    pub recording: Option<i64>,
    /// Or a singer's name.
    pub singer: Option<String>,
    /// How many recordings and singers to list (1 to [`MAX_K`], default [`DEFAULT_K`]).
    pub k: Option<usize>,
}

/// The handler.
///
/// # Errors
/// 400 for a bad query, 404 for an unknown recording or singer.
pub async fn similar(
    State(app): State<Arc<App>>,
    params: Result<Query<SimilarParams>, QueryRejection>,
) -> Result<Json<Similar>, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let query = match (params.recording, params.singer) {
        (Some(id), None) => singerid_library::Query::Recording(id),
        (None, Some(name)) => singerid_library::Query::Singer(name),
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of recording=ID or singer=NAME",
            ));
        }
    };
    let k = params.k.unwrap_or(DEFAULT_K);
    if !(1..=MAX_K).contains(&k) {
        return Err(ApiError::bad_request(format!(
            "k must be between 1 and {MAX_K}, not {k}"
        )));
    }
    let found = tokio::task::spawn_blocking(move || {
        let mut library = app.library()?;
        search(
            &mut library,
            &app.bundle,
            &app.model_dir,
            &query,
            k,
            &app.options,
            &Silent,
        )
        .map_err(|e| ApiError::from_library(e, StatusCode::NOT_FOUND))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the search failed: {e}")))??;
    Ok(Json(found))
}
