//! `GET /api/health`: whether the server is up, with its model, the library's size and how
//! busy the inference slots are.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::error::ApiError;
use crate::state::App;

/// The answer.
#[derive(Debug, Serialize)]
pub struct Health {
    /// Always `ok` (any failure is an error answer).
    pub status: &'static str,
    /// The model's folder name.
    pub model: String,
    /// Singers the model knows: trained and enrolled.
    pub singers: usize,
    /// Recordings in the library.
    pub recordings: usize,
    /// Inference jobs running now.
    pub running: usize,
    /// Requests admitted (running, waiting for a slot, or uploading).
    pub admitted: usize,
    /// Inference slots.
    pub max_concurrent: usize,
}

/// The handler.
///
/// # Errors
/// 500 when the database cannot be read.
pub async fn health(State(app): State<Arc<App>>) -> Result<Json<Health>, ApiError> {
    let health = tokio::task::spawn_blocking(move || {
        let library = app.library()?;
        let internal = |e: singerid_library::LibraryError| ApiError::internal(e.to_string());
        let singers = library.singers(app.model.id).map_err(internal)?.len();
        let (recordings, _, _) = library.counts(app.model.id).map_err(internal)?;
        Ok::<_, ApiError>(Health {
            status: "ok",
            model: app.model.name.clone(),
            singers,
            recordings,
            running: app.slots.running(),
            admitted: app.slots.admitted(),
            max_concurrent: app.limits.max_concurrent,
        })
    })
    .await
    .map_err(|e| ApiError::internal(format!("the health check failed: {e}")))??;
    Ok(Json(health))
}
