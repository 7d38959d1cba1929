//! The JSON API: one file per resource. Every handler answers JSON, and every error is
//! `{"error": "..."}` with its status ([`crate::ApiError`]); axum's own rejections (a bad path
//! or query, an unknown route, a wrong method) are turned into the same shape here.

pub mod enrol;
pub mod health;
pub mod identify;
pub mod map;
pub mod similar;
pub mod singers;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::App;

/// The API routes. Uploads enforce their own limit while streaming ([`crate::upload`]), so
/// axum's default body limit (2 MB) is lifted on them.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/api/health", get(health::health))
        .route(
            "/api/identify",
            post(identify::identify).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/singers", get(singers::singers))
        .route(
            "/api/singers/{name}/recordings",
            post(enrol::enrol).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/similar", get(similar::similar))
        .route("/api/map", get(map::map))
}

/// 404 for any unknown path.
pub async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!("no route {method} {}", uri.path()))
}

/// 405 for a known path with the wrong method.
pub async fn wrong_method(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept {method}", uri.path()),
    )
}
