//! Running a model over every clip of a [`ClipSet`]: the softmax probabilities (or, for a
//! tagging model, [`predict_tags`]: the sigmoid of each output) and the embedding of each clip,
//! in clip order, as [`Predictions`].
//!
//! The model is put in inference mode ([`SingerModel::valid`]: batch-norm uses its moving statistics,
//! dropout is off, no autodiff graph), so the result does not depend on the batch size beyond
//! floating-point rounding. Used for validation after every epoch, by `singerid eval` and by
//! `singerid identify`.

use burn::tensor::Tensor;
use burn::tensor::activation::{sigmoid, softmax};
use singerid_models::SingerModel;

use crate::clips::ClipSet;
use singerid_eval::{ClipPrediction, Predictions};

/// Predicts every clip of `set` with `model`, `batch_size` clips at a time (0 is read as 1).
///
/// The model runs on the device its weights are on, without autodiff.
///
/// # Panics
/// If the set's clips do not fit the model (mel bands other than the model's, clips shorter than
/// [`SingerModel::min_frames`], no melody contours for a model that takes them: see
/// [`ClipSet::attach_melody`]); callers check the bundle's metadata first.
pub fn predict(model: &dyn SingerModel, set: &ClipSet, batch_size: usize) -> Predictions {
    predict_with(model, set, batch_size, |logits| softmax(logits, 1))
}

/// [`predict`] for a tagging model ([`crate::Objective::Multilabel`]): each clip's `probs` are
/// the sigmoid of its logits, one independent score in `[0, 1]` per tag, and its `label` means
/// nothing (the tags are the recording's, [`singerid_data::Recording::tags`]).
///
/// # Panics
/// As [`predict`].
pub fn predict_tags(model: &dyn SingerModel, set: &ClipSet, batch_size: usize) -> Predictions {
    predict_with(model, set, batch_size, sigmoid)
}

/// [`predict`] with `scores` turning a batch's logits `[batch, classes]` into its `probs`.
fn predict_with(
    model: &dyn SingerModel,
    set: &ClipSet,
    batch_size: usize,
    scores: fn(Tensor<2>) -> Tensor<2>,
) -> Predictions {
    let model = model.valid();
    let device = model.device();
    let batch_size = batch_size.max(1);
    let mut clips = Vec::with_capacity(set.len());
    let indices: Vec<usize> = (0..set.len()).collect();
    for chunk in indices.chunks(batch_size) {
        let (mel, melody) = set.inputs(chunk, &device);
        let output = model.forward(mel, melody);
        let probs = rows(scores(output.logits));
        let embeddings = rows(output.embedding);
        for ((&i, probs), embedding) in chunk.iter().zip(probs).zip(embeddings) {
            clips.push(ClipPrediction {
                recording: set
                    .recording(i)
                    .map(|r| r.path.display().to_string())
                    .unwrap_or_default(),
                song: set.song(i).unwrap_or_default().to_owned(),
                singer: set.singer(i).unwrap_or_default().to_owned(),
                label: set.label(i),
                clip_index: set.clip_index(i).unwrap_or_default(),
                start_frame: set.start_frame(i).unwrap_or_default(),
                probs,
                embedding,
            });
        }
    }
    Predictions {
        classes: set.classes().to_vec(),
        clip_frames: set.clip_frames(),
        seconds_per_frame: set.seconds_per_frame(),
        clips,
    }
}

/// The rows of a `[n, k]` tensor as vectors (NaN rows if the data cannot be read as f32).
fn rows(tensor: Tensor<2>) -> Vec<Vec<f32>> {
    let [n, k] = tensor.dims();
    let values = tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap_or_else(|_| vec![f32::NAN; n * k]);
    values.chunks(k.max(1)).map(<[f32]>::to_vec).collect()
}

/// The mean cross-entropy `-ln p[label]` over the labelled clips of `predictions` (probabilities
/// floored at 1e-12), or `None` when no clip is labelled.
pub fn mean_cross_entropy(predictions: &Predictions) -> Option<f64> {
    let losses: Vec<f64> = predictions
        .clips
        .iter()
        .filter_map(|c| {
            let p = *c.probs.get(c.label?)?;
            Some(-f64::from(p).max(1e-12).ln())
        })
        .collect();
    (!losses.is_empty()).then(|| losses.iter().sum::<f64>() / losses.len() as f64)
}
