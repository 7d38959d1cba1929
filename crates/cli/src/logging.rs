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

/// The one progress display of the program: an indicatif bar on stderr for each step a library
/// reports through [`singerid_data::Progress`], hidden with `--quiet`, when stderr is not a
/// terminal, or for steps of fewer than `min_units` units. Log lines go around it.
pub struct Bar {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    /// `--quiet`: no bars, no messages.
    quiet: bool,
    min_units: u64,
}

impl Bar {
    /// A display that shows bars for steps of at least `min_units` units unless `quiet`.
    pub fn new(quiet: bool, min_units: u64) -> Self {
        Self {
            bar: Mutex::new(None),
            quiet,
            min_units,
        }
    }

    /// A bar of `total` units (or a spinner) with `template` (indicatif's syntax, `{prefix}` is
    /// the step's name), registered so that log lines go around it; hidden when `quiet`.
    pub fn create(quiet: bool, total: Option<u64>, template: &str) -> ProgressBar {
        if quiet || !io::stderr().is_terminal() {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(total, indicatif::ProgressDrawTarget::stderr());
        match indicatif::ProgressStyle::with_template(template) {
            Ok(style) => bar.set_style(style),
            Err(err) => tracing::debug!("default progress style ({err})"),
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        show_progress_bar(Some(bar.clone()));
        bar
    }

    fn current(&self) -> Option<ProgressBar> {
        self.bar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl singerid_data::Progress for Bar {
    fn start(&self, what: &str, total: Option<u64>) {
        if total.is_some_and(|t| t < self.min_units) {
            return;
        }
        let bar = Self::create(
            self.quiet,
            total,
            "{spinner} {prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
        );
        bar.set_prefix(what.to_owned());
        *self.bar.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar);
    }

    fn advance(&self, n: u64) {
        if let Some(bar) = self.current() {
            bar.inc(n);
        }
    }

    fn message(&self, line: &str) {
        match self.current() {
            Some(bar) => bar.println(line),
            None if !self.quiet => eprintln!("{line}"),
            None => {}
        }
    }

    fn finish(&self) {
        if let Some(bar) = self
            .bar
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            bar.finish_and_clear();
            show_progress_bar(None);
        }
    }
}
