//! `singerid serve`: the HTTP API and the web page over a library database
//! (`singerid_server::serve` does the work; this only turns flags into its config).

use std::net::{IpAddr, SocketAddr};
use std::num::{NonZeroU64, NonZeroUsize};
use std::time::Duration;

use singerid_server::config::MIB;
use singerid_server::{Limits, ServerConfig};

use crate::args::{DbArgs, DeviceArgs, GlobalArgs, ModelArgs};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,

    #[command(flatten)]
    pub model: ModelArgs,

    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, value_name = "PORT", default_value = "8080")]
    pub port: u16,

    /// Address to listen on; 0.0.0.0 opens the server to the network (it has no
    /// authentication).
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// The largest upload, in MiB (all files of one request together); larger ones get 413.
    #[arg(long, value_name = "N", default_value = "100")]
    pub max_upload_mb: NonZeroU64,

    /// The longest audio accepted, in seconds; longer files get 413.
    #[arg(long, value_name = "N", default_value = "600", value_parser = parse_seconds)]
    pub max_seconds: f64,

    /// Inference jobs (identify, enrol) run at once; one per CPU core is right for most
    /// machines.
    #[arg(long, value_name = "N", default_value = "2")]
    pub max_concurrent: NonZeroUsize,

    /// Requests that may wait for a free inference job; more get 503 with Retry-After at once.
    #[arg(long, value_name = "N", default_value = "32")]
    pub max_queue: usize,

    /// Seconds a request waits for a free inference job before it gets 503.
    #[arg(long, value_name = "SECONDS", default_value = "60")]
    pub queue_wait: NonZeroU64,

    #[command(flatten)]
    pub device: DeviceArgs,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("expected a positive number of seconds, got {s:?}")),
    }
}

/// Runs the server until Ctrl-C.
///
/// # Errors
/// An unloadable model, an unopenable database, an address that cannot be bound.
pub fn run(args: &ServeArgs, _global: &GlobalArgs) -> anyhow::Result<bool> {
    let config = ServerConfig {
        db: args.db.path(),
        model: args.model.path()?,
        device: args.device.device,
        addr: SocketAddr::new(args.host, args.port),
        limits: Limits {
            max_upload_bytes: args.max_upload_mb.get().saturating_mul(MIB),
            max_seconds: args.max_seconds,
            max_concurrent: args.max_concurrent.get(),
            max_queue: args.max_queue,
            queue_wait: Duration::from_secs(args.queue_wait.get()),
            ..Limits::default()
        },
        self_test_file: None,
    };
    singerid_server::serve(&config, |addr| {
        eprintln!(
            "singerid: serving http://{addr}/ (model {}, library {}); Ctrl-C stops",
            config.model.display(),
            config.db.display()
        );
    })?;
    Ok(true)
}
