//! singerid-server: the HTTP API and the web page, one binary with the CLI (`singerid serve`).
//!
//! - [`config`]: [`ServerConfig`] (database, model, address) and the [`Limits`] every request
//!   is held to (upload size, audio length, inference slots and their queue).
//! - [`state`]: [`App`], what every request shares: the model [`singerid_infer::Bundle`],
//!   loaded once, the database path (each request opens its own connection; the database is in
//!   WAL mode) and the inference [`Slots`].
//! - [`slots`]: admission control. Inference is CPU-bound and blocking, so it runs on tokio's
//!   blocking pool, at most `max_concurrent` jobs at once; a bounded number of requests wait for
//!   a slot, and the rest are answered 503 with `Retry-After`.
//! - [`upload`]: a multipart upload -> a temporary file with the original extension (the
//!   decoder's hint), rejected by size while it streams in (413), then probed by decoding it
//!   (415 when it is not audio, 413 when it is longer than the limit).
//! - [`api`]: the routes: `/api/identify`, `/api/singers`, `/api/singers/{name}/recordings`,
//!   `/api/similar`, `/api/map`, `/api/health`; every error is `{"error": "..."}` ([`ApiError`]).
//! - [`projection`]: embeddings -> 2-D by PCA, for the map of the library's singers.
//! - [`page`]: the static page (HTML, CSS and JS embedded with `include_str!`).
//! - [`serve`](mod@serve): binding, graceful shutdown, and [`spawn`] (a server on its own
//!   thread, for tests and benchmarks).
//!
//! A request flows: route -> admission ([`Slots::admit`]) -> upload to a temporary file ->
//! blocking job (probe, then [`singerid_library::identify_open`] or
//! [`singerid_library::enrol`]) -> JSON.

pub mod api;
pub mod config;
pub mod error;
pub mod page;
pub mod projection;
pub mod serve;
pub mod slots;
pub mod state;
pub mod upload;

pub use config::{Limits, ServerConfig};
pub use error::{ApiError, ServerError};
pub use serve::{RunningServer, router, serve, spawn};
pub use slots::{Slots, Ticket};
pub use state::App;
