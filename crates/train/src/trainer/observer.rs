//! How a caller follows and steers a run: [`TrainObserver`] receives progress and may stop it;
//! [`TrainOutcome`] says what the run did and why it stopped.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::run_dir::EpochLog;

/// Progress within an epoch, given to [`TrainObserver::on_step`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepProgress {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// Steps in the epoch.
    pub steps: usize,
    /// Mean training loss of the epoch so far.
    pub loss: f64,
    /// Training accuracy of the epoch so far.
    pub accuracy: f64,
}

/// How the run starts, given to [`TrainObserver::on_start`].
#[derive(Debug, Clone, PartialEq)]
pub struct StartInfo {
    /// Epochs already completed (non-zero when resuming).
    pub completed_epochs: usize,
    /// The configured maximum.
    pub max_epochs: usize,
    /// Training steps per epoch.
    pub steps_per_epoch: usize,
    /// Training seconds already spent (resumed runs).
    pub elapsed_seconds: f64,
}

/// Whether training goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now: mid-epoch, the epoch is abandoned (the run resumes from the last completed
    /// epoch); after an epoch, nothing is lost.
    Stop,
}

/// Receives progress; the library never prints. Every method has a default that does nothing.
pub trait TrainObserver {
    /// Called once before the first epoch of this call.
    fn on_start(&mut self, _info: &StartInfo) {}
    /// Called after every training step.
    fn on_step(&mut self, _progress: &StepProgress) -> Control {
        Control::Continue
    }
    /// Called after every completed (logged and checkpointed) epoch.
    fn on_epoch(&mut self, _row: &EpochLog) -> Control {
        Control::Continue
    }
}

/// An observer that ignores everything.
impl TrainObserver for () {}

/// Why training stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// `max_epochs` epochs are done.
    MaxEpochs,
    /// `patience` epochs passed without a better validation weighted F1.
    Patience,
    /// The next epoch would have ended past the time budget.
    TimeBudget,
    /// The observer asked to stop.
    Interrupted,
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MaxEpochs => "all epochs done",
            Self::Patience => "early stopping (patience reached)",
            Self::TimeBudget => "time budget reached",
            Self::Interrupted => "interrupted",
        })
    }
}

/// What [`train`](super::train) did.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    /// Epochs completed in total (across resumes).
    pub epochs: usize,
    /// Epochs completed by this call.
    pub epochs_this_call: usize,
    /// The epoch that resumed from, when this call resumed.
    pub resumed_from: Option<usize>,
    /// The best epoch's log row, if any epoch completed.
    pub best: Option<EpochLog>,
    /// Why it stopped.
    pub stop: StopReason,
    /// The run folder.
    pub run_dir: PathBuf,
    /// The best bundle folder (`<run>/best`).
    pub best_dir: PathBuf,
    /// Every completed epoch's log row, in order.
    pub log: Vec<EpochLog>,
}
