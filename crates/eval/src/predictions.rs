//! Clip predictions: what a model says about every clip of a dataset, the input of evaluation
//! ([`crate::evaluate()`]) and of `singerid identify`.
//!
//! Produced by [`crate::predict()`] (model on clips) and consumed by the metrics, the song vote,
//! the reports and the plots, so that none of those needs a model or a backend.

use serde::{Deserialize, Serialize};

/// One clip's prediction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClipPrediction {
    /// The recording's path relative to the dataset root (the song key is [`Self::song`]).
    pub recording: String,
    /// The song this clip belongs to: the unit of the song-level vote. Songs are keyed by
    /// their full relative path (`singer/album`-level for artist20 trees, the manifest's
    /// `song` column otherwise), never by file name alone.
    pub song: String,
    /// The recording's singer as named in the dataset.
    pub singer: String,
    /// The true class index in [`Predictions::classes`], or `None` when the model does not
    /// know this singer (reported, never silently dropped).
    pub label: Option<usize>,
    /// Index of this clip within its recording (0, 1, ...).
    pub clip_index: usize,
    /// First frame of the clip within the recording.
    pub start_frame: usize,
    /// Softmax probabilities, one per class.
    pub probs: Vec<f32>,
    /// The model's embedding of the clip (the last GRU state, 32-d in the paper).
    pub embedding: Vec<f32>,
}

/// Every clip prediction of one dataset (or one split of it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// Class names in class-index order (the model's singers).
    pub classes: Vec<String>,
    /// Clip length in frames.
    pub clip_frames: usize,
    /// Seconds per frame (hop / sample rate), for timelines.
    pub seconds_per_frame: f64,
    /// The clips, grouped by recording, in clip order.
    pub clips: Vec<ClipPrediction>,
}
