//! How long work reports its progress, without the library knowing about terminals: the
//! caller (the CLI's progress bar, a server's status, a test) implements [`Progress`].

/// Receives the progress of one long step at a time. Implementations must be cheap and
/// thread-safe: [`advance`](Progress::advance) is called from worker threads.
pub trait Progress: Sync {
    /// A new step begins: `what` names it (e.g. "features", "identify"), `total` counts its
    /// units (files, clips, steps) when known.
    fn start(&self, what: &str, total: Option<u64>);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// A line for the user that must not tear the progress display.
    fn message(&self, line: &str) {
        tracing::info!("{line}");
    }
    /// The step is over.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _what: &str, _total: Option<u64>) {}
    fn advance(&self, _n: u64) {}
    fn message(&self, _line: &str) {}
    fn finish(&self) {}
}
