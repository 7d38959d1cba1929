//! The web page: plain HTML, CSS and JavaScript embedded in the binary (`include_str!`), no
//! build step. It uploads a song to `/api/identify` and draws who sings when (a per-clip
//! timeline), the top candidates and the nearest singers; draws the map of the library's
//! singers from `/api/map`; and enrols a singer from dropped files.
//!
//! `/?selftest=1` makes the page fetch `/test/fixture` and upload it as a user would; the
//! route exists only when the server was started with [`crate::ServerConfig::self_test_file`]
//! (the browser test does; the CLI never does).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::error::ApiError;
use crate::state::App;

const INDEX_HTML: &str = include_str!("page/index.html");
const APP_JS: &str = include_str!("page/app.js");
const STYLE_CSS: &str = include_str!("page/style.css");

/// The header that carries the self-test file's name.
pub const FIXTURE_NAME_HEADER: &str = "x-fixture-name";

/// The page's routes.
pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/test/fixture", get(fixture))
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// The self-test file, when the server has one.
async fn fixture(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let Some(path) = &app.self_test_file else {
        return Err(ApiError::not_found("no route GET /test/fixture"));
    };
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| ApiError::internal(format!("{}: {e}", path.display())))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut response =
        ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response();
    if let Ok(value) = HeaderValue::from_str(&name) {
        response.headers_mut().insert(FIXTURE_NAME_HEADER, value);
    }
    Ok(response)
}
