//! `GET /api/map`: the library's singers and recordings as points in 2-D (PCA of their
//! unit-length embeddings, [`crate::projection`]), for the page's map.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use singerid_library::open_set::unit;
use singerid_library::similar::singer_profiles;

use crate::error::ApiError;
use crate::projection::pca_2d;
use crate::state::App;

/// A singer on the map.
#[derive(Debug, Serialize)]
pub struct SingerPoint {
    /// The name.
    pub name: String,
    /// `trained` or `enrolled`.
    pub kind: &'static str,
    /// Position.
    pub x: f32,
    /// Position.
    pub y: f32,
}

/// A recording on the map.
#[derive(Debug, Serialize)]
pub struct RecordingPoint {
    /// The recording's id (for `/api/similar?recording=ID`).
    pub id: i64,
    /// Its file name.
    pub name: String,
    /// The singer the model named.
    pub singer: String,
    /// Position.
    pub x: f32,
    /// Position.
    pub y: f32,
}

/// The answer.
#[derive(Debug, Serialize)]
pub struct Map {
    /// How the points were placed.
    pub method: &'static str,
    /// The share of the variance each axis explains.
    pub explained: [f32; 2],
    /// Singers with a profile: enrolled ones, and trained ones the model named on some
    /// recording of the library.
    pub singers: Vec<SingerPoint>,
    /// Every recording the model analysed.
    pub recordings: Vec<RecordingPoint>,
}

/// The handler.
///
/// # Errors
/// 500 when the database cannot be read.
pub async fn map(State(app): State<Arc<App>>) -> Result<Json<Map>, ApiError> {
    let map = tokio::task::spawn_blocking(move || build(&app))
        .await
        .map_err(|e| ApiError::internal(format!("building the map failed: {e}")))??;
    Ok(Json(map))
}

fn build(app: &App) -> Result<Map, ApiError> {
    let library = app.library()?;
    let internal = |e: singerid_library::LibraryError| ApiError::internal(e.to_string());
    let analyses = library.analyses(app.model.id).map_err(internal)?;
    let profiles = singer_profiles(&library, app.model.id, &analyses).map_err(internal)?;
    let points: Vec<Vec<f32>> = profiles
        .values()
        .map(|(_, profile)| profile.clone())
        .chain(analyses.iter().map(|a| unit(&a.embedding)))
        .collect();
    let projection = pca_2d(&points);
    let mut at = projection.points.into_iter();
    let singers = profiles
        .into_iter()
        .zip(at.by_ref())
        .map(|((name, (kind, _)), [x, y])| SingerPoint { name, kind, x, y })
        .collect();
    let recordings = analyses
        .into_iter()
        .zip(at)
        .map(|(a, [x, y])| RecordingPoint {
            id: a.recording_id,
            name: a.path.file_name().map_or_else(
                || a.path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            singer: a.singer,
            x,
            y,
        })
        .collect();
    Ok(Map {
        method: "pca",
        explained: projection.explained,
        singers,
        recordings,
    })
}
