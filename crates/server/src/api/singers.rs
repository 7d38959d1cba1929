//! `GET /api/singers`: the singers the library knows for the model, as `singerid singers
//! --format json` prints them.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::App;

/// One singer.
#[derive(Debug, Serialize)]
pub struct Singer {
    /// The name.
    pub name: String,
    /// `trained` or `enrolled`.
    pub kind: String,
    /// Recordings enrolled for it.
    pub enrolled_recordings: usize,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Listing {
    /// The model's folder name.
    pub model: String,
    /// Its enrolment threshold (None: enrolled singers are listed but never chosen).
    pub enrol_threshold: Option<f32>,
    /// Trained singers, then enrolled ones, by name.
    pub singers: Vec<Singer>,
}

/// The handler.
///
/// # Errors
/// 500 on a database error.
pub async fn singers(State(app): State<Arc<App>>) -> Result<Json<Listing>, ApiError> {
    let listing = tokio::task::spawn_blocking(move || list(&app))
        .await
        .map_err(|e| ApiError::internal(format!("listing the singers failed: {e}")))??;
    Ok(Json(listing))
}

fn list(app: &App) -> Result<Listing, ApiError> {
    let library = app.library()?;
    let internal = |e: singerid_library::LibraryError| ApiError::internal(e.to_string());
    Ok(Listing {
        model: app.model.name.clone(),
        enrol_threshold: library.enrol_threshold(app.model.id).map_err(internal)?,
        singers: library
            .singers(app.model.id)
            .map_err(internal)?
            .into_iter()
            .map(|s| Singer {
                name: s.name,
                kind: s.kind,
                enrolled_recordings: s.recordings,
            })
            .collect(),
    })
}
