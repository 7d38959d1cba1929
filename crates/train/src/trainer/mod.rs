//! The training loop: epochs of shuffled mini-batches (softmax cross-entropy, Adam), validation
//! after every epoch, early stopping on the validation weighted F1, a time budget, and a run
//! folder that survives being killed at any moment.
//!
//! # Run folder
//!
//! ```text
//! <run>/
//!   train.json      TrainConfig + classes + feature config + data description, written first
//!   log.csv         one row per completed epoch (EpochLog fields, in order; val_macro_auc
//!                   only in multi-label runs)
//!   log.jsonl       the same rows as JSON lines
//!   best/           the bundle (crate::bundle) of the epoch with the best val weighted F1
//!   last/           model.bpk (burnpack: weights, batch-norm statistics, parameter ids),
//!                   optimizer.bpk (Adam moments and step counts), state.json (epoch, best
//!                   score and epoch, epochs without improvement, elapsed time, file hashes)
//! ```
//!
//! Rerunning [`train`] on the same folder resumes after the last completed epoch: `train.json`
//! must match (only `max_epochs`, `patience` and `time_budget_seconds` may change: they decide
//! when to stop, not what is computed), `last/` is verified against the blake3 hashes in its
//! `state.json` and loaded, and log rows past its epoch are dropped. A corrupt or mismatched
//! checkpoint is refused with an error naming the file; nothing is silently retrained. With
//! `restart` the folder's training files are deleted first.
//!
//! Every file is written to a temporary sibling and renamed into place; `last/` is staged as
//! `.last.new/`, the old one moved to `.last.old/` and removed after the new one is in place
//! (a kill between the two renames is repaired on the next start). An epoch's log row is
//! appended before its `last/` is written, and rows past `last/`'s epoch are dropped on resume,
//! so a kill at any point replays at most the interrupted epoch.
//!
//! # Determinism
//!
//! The model is initialised from the device RNG seeded with a function of the seed, and each
//! epoch reseeds both the device RNG (dropout) and the shuffle generator (ChaCha8) with a
//! function of `(seed, epoch)` only, so a resumed run computes exactly what an unbroken one does
//! (on CPU with the same thread count). The Adam state is restored from burn's optimizer record;
//! the model is saved in burnpack format so its parameter ids, which key that record, survive.
//!
//! # Files
//!
//! [`config`] (what a run is), [`run_dir`] (the folder, `train.json` and the logs),
//! [`resume`] (`last/`), [`epochs`] (the loop: [`train`]), [`observer`] (progress and outcome),
//! [`siamese`] (the contrastive objective's loop, which [`train`] hands a run to when its
//! [`Objective`] says so), [`multilabel`] (what the multi-label objective changes in the
//! classifier loop: targets, loss, validation scores).

pub mod config;
pub mod epochs;
pub mod multilabel;
pub mod observer;
pub mod resume;
pub mod run_dir;
pub mod siamese;

pub use config::{LrPlateau, Objective, RunSpec, TrainConfig};
pub use epochs::train;
pub use observer::{Control, StartInfo, StepProgress, StopReason, TrainObserver, TrainOutcome};
pub use run_dir::{
    BEST_DIR, EpochLog, LAST_DIR, LAST_MODEL, LAST_OPTIMIZER, LAST_STATE, LOG_CSV, LOG_JSONL,
    RUN_FORMAT, STATE_FORMAT, TRAIN_FILE, prepare_run_dir,
};
pub use siamese::SiameseConfig;
