//! `GET /api/singers`: the singers the library knows for the model, as `singerid singers
//! --format json` prints them ([`singerid_library::Library::listing`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use singerid_library::db::SingerListing;

use crate::error::ApiError;
use crate::state::App;

/// The handler.
///
/// # Errors
/// 500 on a database error.
pub async fn singers(State(app): State<Arc<App>>) -> Result<Json<SingerListing>, ApiError> {
    let listing = tokio::task::spawn_blocking(move || list(&app))
        .await
        .map_err(|e| ApiError::internal(format!("listing the singers failed: {e}")))??;
    Ok(Json(listing))
}

fn list(app: &App) -> Result<SingerListing, ApiError> {
    app.library()?
        .listing(&app.model)
        .map_err(|e| ApiError::internal(e.to_string()))
}
