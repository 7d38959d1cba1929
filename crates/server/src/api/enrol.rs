//! `POST /api/singers/{name}/recordings`: enrol a singer (or add recordings to one) from
//! uploaded files ([`singerid_library::enrol`]).
//!
//! The files are kept in the uploads folder beside the database, because the library refers to
//! recordings by path (for `similar` and later scans): each under
//! `<uploads>/<content hash>/<name>`, so the same file sent twice is stored and analysed once.
//! Every file is probed before anything is written; the library writes the singer, its
//! recordings and its profile in transactions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{self, Request, State};
use axum::http::StatusCode;
use singerid_data::Silent;
use singerid_library::EnrolSummary;
use singerid_library::enrol::check_name;

use crate::error::ApiError;
use crate::state::App;
use crate::upload::{Upload, receive};

/// The handler: 201 with the summary for a new singer, 200 when recordings were added to one.
///
/// # Errors
/// 400 for a bad name, 409 for one of the model's trained singers, 503 when busy, 413 / 415 /
/// 400 for the uploads, 422 when no file could be analysed.
pub async fn enrol(
    State(app): State<Arc<App>>,
    name: Result<extract::Path<String>, PathRejection>,
    request: Request,
) -> Result<(StatusCode, Json<EnrolSummary>), ApiError> {
    let name = name
        .map_err(|e| ApiError::bad_request(e.body_text()))
        .and_then(|extract::Path(name)| checked(&app, name));
    let ticket = app.slots.admit();
    let uploads = receive(request, &app.limits, &app.uploads, app.limits.max_files).await;
    let (name, ticket, uploads) = (name?, ticket?, uploads?);
    let job_app = Arc::clone(&app);
    let summary = ticket.run(move || run(&job_app, &name, uploads)).await??;
    let status = if summary.new_singer {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(summary)))
}

/// The name, if it can be enrolled.
fn checked(app: &App, name: String) -> Result<String, ApiError> {
    check_name(&name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if app.bundle.meta.classes.contains(&name) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("{name:?} is one of the model's trained singers; it needs no enrolment"),
        ));
    }
    Ok(name)
}

/// The blocking part: probe every file, keep them, enrol.
fn run(app: &App, name: &str, uploads: Vec<Upload>) -> Result<EnrolSummary, ApiError> {
    for upload in &uploads {
        upload.probe(app.limits.max_seconds)?;
    }
    let paths = uploads
        .into_iter()
        .map(|upload| keep(&app.uploads, upload))
        .collect::<Result<Vec<_>, _>>()?;
    let mut library = app.library()?;
    singerid_library::enrol(
        &mut library,
        &app.bundle,
        &app.model_dir,
        name,
        &paths,
        &app.options,
        &Silent,
    )
    .map_err(|e| ApiError::from_library(e, StatusCode::UNPROCESSABLE_ENTITY))
}

/// Moves an upload to `<uploads>/<content hash>/<name>`, or returns the file already kept there
/// for the same content.
fn keep(uploads: &Path, upload: Upload) -> Result<PathBuf, ApiError> {
    let io = |what: &str, e: std::io::Error| ApiError::internal(format!("{what}: {e}"));
    let hash = singerid_library::scan::content_hash(upload.path()).map_err(ApiError::internal)?;
    let dir = uploads.join(&hash[..32]);
    if let Some(existing) = std::fs::read_dir(&dir).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.is_file())
    }) {
        return Ok(existing);
    }
    std::fs::create_dir_all(&dir).map_err(|e| io("creating the uploads folder", e))?;
    let target = dir.join(stored_name(&upload));
    upload
        .file
        .persist(&target)
        .map_err(|e| io("keeping the upload", e.error))?;
    Ok(target)
}

/// A file-system-safe name for an upload: its letters, digits and `-_.() `, at most 100
/// characters, ending in the extension it was saved with.
fn stored_name(upload: &Upload) -> String {
    let extension = upload
        .path()
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("audio");
    let mut name: String = upload
        .name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.() ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    name = name.trim_start_matches('.').trim().to_owned();
    let has_extension = Path::new(&name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(extension));
    if !has_extension {
        name = format!(
            "{}.{extension}",
            if name.is_empty() { "upload" } else { &name }
        );
    }
    name
}
