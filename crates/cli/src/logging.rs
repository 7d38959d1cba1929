//! Logging to stderr with `tracing`, without tearing the progress bar.
//!
//! Log lines go through [`BarAwareStderr`]: while a progress bar is registered with
//! [`show_progress_bar`], each line is written with the bar suspended (cleared, line printed,
//! bar redrawn), so per-file errors and the bar share the terminal.

use std::io::{self, IsTerminal, Write};
use std::sync::{Mutex, PoisonError};

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;

use crate::args::GlobalArgs;

static ACTIVE_BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Registers `bar` as the one on screen (or, with `None`, removes it).
pub fn show_progress_bar(bar: Option<ProgressBar>) {
    *ACTIVE_BAR.lock().unwrap_or_else(PoisonError::into_inner) = bar;
}

/// Installs the global subscriber: level from `-v`/`-q` unless `RUST_LOG` is set, no
/// timestamps or targets (one short line per event), colour only on a terminal.
///
/// Below `-vv` the decoder library's own log lines are silenced: they do not name the file
/// (e.g. "probe reached EOF at 12 bytes"), and the audio crate reports the same failure with
/// the path.
pub fn init(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error,symphonia=off",
        (false, 0) => "warn,symphonia=off",
        (false, 1) => "info,symphonia=off",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| BarAwareStderr)
        .with_ansi(io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}

/// stderr, writing around the registered progress bar.
pub struct BarAwareStderr;

impl Write for BarAwareStderr {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let bar = ACTIVE_BAR
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        match bar {
            Some(bar) => bar.suspend(|| io::stderr().lock().write_all(buf))?,
            None => io::stderr().lock().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
