//! Running the server: the router, [`serve`] (the CLI's `singerid serve`, until Ctrl-C) and
//! [`spawn`] (a server on its own thread, for tests and benchmarks).

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::ServerConfig;
use crate::error::ServerError;
use crate::state::App;
use crate::{api, page};

/// How long shutting down waits for inference jobs still running.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(30);

/// Every route, with JSON answers for unknown routes and wrong methods, and one log line per
/// request.
pub fn router(app: Arc<App>) -> Router {
    api::routes()
        .merge(page::routes())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::wrong_method)
        .layer(middleware::from_fn(log_request))
        .with_state(app)
}

/// Loads the model, opens the database and serves until Ctrl-C; `on_listening` learns the
/// bound address (the port is chosen by the system when the config's is 0).
///
/// # Errors
/// See [`App::load`]; an address that cannot be bound.
pub fn serve(
    config: &ServerConfig,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let app = App::load(config)?;
    let runtime = runtime()?;
    runtime.block_on(async {
        let listener = bind(config.addr).await?;
        let addr = listener.local_addr().map_err(|e| ServerError::Io {
            what: "reading the bound address".into(),
            source: e,
        })?;
        on_listening(addr);
        axum::serve(listener, router(app))
            .with_graceful_shutdown(async {
                // No signal handler (an error) means Ctrl-C kills the process instead.
                if tokio::signal::ctrl_c().await.is_ok() {
                    tracing::info!("shutting down");
                }
            })
            .await
            .map_err(|e| ServerError::Io {
                what: "serving".into(),
                source: e,
            })
    })?;
    runtime.shutdown_timeout(SHUTDOWN_WAIT);
    Ok(())
}

/// A server running on its own thread; dropping it shuts it down.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (for tests: the slots, the database).
    pub app: Arc<App>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts a server on its own thread and runtime; returns once it listens.
///
/// # Errors
/// See [`serve`].
pub fn spawn(config: &ServerConfig) -> Result<RunningServer, ServerError> {
    let app = App::load(config)?;
    let runtime = runtime()?;
    let listener = runtime.block_on(bind(config.addr))?;
    let addr = listener.local_addr().map_err(|e| ServerError::Io {
        what: "reading the bound address".into(),
        source: e,
    })?;
    let (shutdown, stop) = oneshot::channel::<()>();
    let router = router(Arc::clone(&app));
    let thread = std::thread::Builder::new()
        .name("singerid-server".into())
        .spawn(move || {
            let served = runtime.block_on(async move {
                axum::serve(listener, router)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await
            });
            if let Err(e) = served {
                tracing::error!("the server stopped: {e}");
            }
            runtime.shutdown_timeout(SHUTDOWN_WAIT);
        })
        .map_err(|e| ServerError::Io {
            what: "starting the server thread".into(),
            source: e,
        })?;
    Ok(RunningServer {
        addr,
        app,
        shutdown: Some(shutdown),
        thread: Some(thread),
    })
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ServerError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("singerid-http")
        .build()
        .map_err(|e| ServerError::Io {
            what: "starting the async runtime".into(),
            source: e,
        })
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| ServerError::Bind { addr, source: e })
}

/// One line per request: method, path, status, milliseconds.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status();
    if status.is_server_error() {
        tracing::warn!("{method} {path} -> {} in {ms:.0} ms", status.as_u16());
    } else {
        tracing::info!("{method} {path} -> {} in {ms:.0} ms", status.as_u16());
    }
    response
}
