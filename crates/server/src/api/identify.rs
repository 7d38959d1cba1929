//! `POST /api/identify`: one uploaded file -> the singer, as `singerid identify --db
//! --format json` prints it for one file, plus the library's singers that sound most alike.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde::Serialize;
use singerid_data::progress::Silent;
use singerid_infer::identify::Failure;
use singerid_library::OpenSetResult;
use singerid_library::open_set::cosine;
use singerid_library::similar::{Neighbour, singer_profiles};

use crate::error::ApiError;
use crate::state::App;
use crate::upload::{Upload, receive};

/// Singers listed in `similar_singers`.
pub const SIMILAR_SINGERS: usize = 5;

/// The answer: the fields of `identify --format json` and the nearest singers.
#[derive(Debug, Serialize)]
pub struct IdentifyResponse {
    /// The model folder.
    pub model: PathBuf,
    /// Where the model's input comes from (a channel, or separated vocals).
    pub vocals: String,
    /// The model's singers.
    pub classes: Vec<String>,
    /// The file's result (one entry), its `path` the uploaded file's name.
    pub files: Vec<OpenSetResult>,
    /// Always empty here: a file that cannot be identified is an error answer.
    pub failures: Vec<Failure>,
    /// The library's singers nearest to the file (cosine distance to their profiles; trained
    /// singers have a profile once the library has recordings the model named them on).
    pub similar_singers: Vec<Neighbour>,
}

/// The handler.
///
/// # Errors
/// 503 when busy, 413 / 415 / 400 for the upload ([`receive`], [`Upload::probe`]), 422 when
/// the audio cannot be identified (shorter than one clip).
pub async fn identify(
    State(app): State<Arc<App>>,
    request: Request,
) -> Result<Json<IdentifyResponse>, ApiError> {
    let ticket = app.slots.admit();
    let uploads = receive(request, &app.limits, &std::env::temp_dir(), 1).await;
    let (ticket, mut uploads) = (ticket?, uploads?);
    let upload = uploads
        .pop()
        .ok_or_else(|| ApiError::bad_request("no file"))?;
    let job_app = Arc::clone(&app);
    let answer = ticket.run(move || run(&job_app, &upload)).await??;
    Ok(Json(answer))
}

/// The blocking part: probe, identify, rank the nearest singers.
fn run(app: &App, upload: &Upload) -> Result<IdentifyResponse, ApiError> {
    upload.probe(app.limits.max_seconds)?;
    let mut library = app.library()?;
    let found = singerid_library::identify_open(
        &mut library,
        &app.bundle,
        &app.model_dir,
        &[upload.path().to_path_buf()],
        &app.options,
        &Silent,
        &mut |_| {},
    )
    .map_err(|e| ApiError::from_library(e, StatusCode::UNPROCESSABLE_ENTITY))?;
    let Some(mut result) = found.files.into_iter().next() else {
        let why = found
            .failures
            .first()
            .map_or_else(|| "no result".to_owned(), |f| upload.in_words(&f.error));
        return Err(ApiError::unprocessable(format!(
            "{}: cannot be identified: {why}",
            upload.name
        )));
    };
    result.file.path = PathBuf::from(&upload.name);
    let similar_singers = nearest_singers(app, &library, &result.file.embedding)?;
    Ok(IdentifyResponse {
        model: app.model_dir.clone(),
        vocals: app.bundle.vocals(),
        classes: app.bundle.meta.classes.clone(),
        files: vec![result],
        failures: Vec::new(),
        similar_singers,
    })
}

/// The singers (with a profile) nearest to `embedding`, nearest first.
fn nearest_singers(
    app: &App,
    library: &singerid_library::Library,
    embedding: &[f32],
) -> Result<Vec<Neighbour>, ApiError> {
    let internal = |e: singerid_library::LibraryError| ApiError::internal(e.to_string());
    let analyses = library.analyses(app.model.id).map_err(internal)?;
    let profiles = singer_profiles(library, app.model.id, &analyses).map_err(internal)?;
    let mut nearest: Vec<Neighbour> = profiles
        .into_iter()
        .map(|(name, (kind, profile))| Neighbour {
            id: None,
            name,
            detail: kind.to_owned(),
            distance: 1.0 - cosine(embedding, &profile),
        })
        .collect();
    nearest.sort_by(|a, b| a.distance.total_cmp(&b.distance).then(a.name.cmp(&b.name)));
    nearest.truncate(SIMILAR_SINGERS);
    Ok(nearest)
}
