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

/// One recording's clips, from [`Predictions::by_recording`].
#[derive(Debug, Clone, PartialEq)]
pub struct RecordingClips<'a> {
    /// The recording's key ([`ClipPrediction::recording`]).
    pub recording: &'a str,
    /// Its singer as the dataset names it.
    pub singer: &'a str,
    /// Its clips, in order.
    pub clips: Vec<&'a ClipPrediction>,
}

impl RecordingClips<'_> {
    /// The recording's embedding: the mean of its clips' ([`mean_embedding`]).
    pub fn embedding(&self) -> Vec<f32> {
        mean_embedding(&self.clips)
    }
}

impl Predictions {
    /// The clips grouped by recording, recordings in the order they first appear.
    pub fn by_recording(&self) -> Vec<RecordingClips<'_>> {
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        let mut out: Vec<RecordingClips<'_>> = Vec::new();
        for clip in &self.clips {
            let i = *index.entry(clip.recording.as_str()).or_insert_with(|| {
                out.push(RecordingClips {
                    recording: &clip.recording,
                    singer: &clip.singer,
                    clips: Vec::new(),
                });
                out.len() - 1
            });
            out[i].clips.push(clip);
        }
        out
    }
}

/// The mean of clips' embeddings (accumulated in f64), a recording's embedding; empty for no
/// clips.
pub fn mean_embedding(clips: &[&ClipPrediction]) -> Vec<f32> {
    let Some(first) = clips.first() else {
        return Vec::new();
    };
    let mut sum = vec![0.0_f64; first.embedding.len()];
    for c in clips {
        for (s, v) in sum.iter_mut().zip(&c.embedding) {
            *s += f64::from(*v);
        }
    }
    sum.iter()
        .map(|s| (s / clips.len() as f64) as f32)
        .collect()
}
