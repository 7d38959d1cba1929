//! `singerid ensemble`: several trained models of the same configuration (seeds, typically)
//! folded into one model whose logits are the mean of theirs, then calibrated like a trained
//! model: its `unknown` threshold is computed on the validation split, as the trainer does.
//!
//! Only models whose inference is affine in their input after a fixed summary can be folded
//! exactly into one model of the same kind; today that is `mel_stats_linear`
//! ([`MelStatsLinear::logit_average`]). Other kinds are refused with a message: averaging the
//! weights of two networks is not averaging their answers.

use std::path::PathBuf;

use serde::Serialize;
use singerid_data::{CacheOptions, Progress};
use singerid_eval::{LevelScores, evaluate};
use singerid_models::baseline::mel_stats_linear::MelStatsLinear;
use singerid_train::Bundle;

use crate::error::Error;

/// What to fold and where it goes.
#[derive(Debug, Clone)]
pub struct EnsembleRequest {
    /// The member model folders (a training run folder stands for its `best/`).
    pub members: Vec<PathBuf>,
    /// The folder the folded model is written to (replaced atomically).
    pub out: PathBuf,
    /// The split its `unknown` threshold is calibrated on (`val` by default in the CLI).
    pub split: String,
    /// The feature cache.
    pub cache: CacheOptions,
    /// Clips per forward pass.
    pub batch_size: usize,
    /// The command line, recorded in the folded model's provenance.
    pub command: String,
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct EnsembleOutcome {
    /// The folded model's folder.
    pub out: PathBuf,
    /// The members, as resolved.
    pub members: Vec<PathBuf>,
    /// The calibration split.
    pub split: String,
    /// Clips scored on it.
    pub clips: usize,
    /// The folded model's clip ("frame") scores on the calibration split.
    pub frame: LevelScores,
    /// Its song scores (the paper's vote).
    pub song: LevelScores,
    /// The calibrated `unknown` threshold (None: no recording named correctly).
    pub unknown_below: Option<f32>,
}

/// Folds the members into one model, scores it on `request.split`, calibrates its `unknown`
/// threshold there and writes the bundle.
///
/// # Errors
/// Fewer than two members, a member that is not a `mel_stats_linear` model, members that differ
/// in anything but their weights (classes, features, clip length, separator, data partition),
/// and the errors of [`crate::predict_split`] and of writing the folder.
pub fn fold_ensemble(
    request: &EnsembleRequest,
    progress: &dyn Progress,
) -> Result<EnsembleOutcome, Error> {
    if request.members.len() < 2 {
        return Err(Error::Evaluation(
            "an ensemble needs at least two member models".into(),
        ));
    }
    let device = burn::tensor::Device::default();
    let mut resolved = Vec::new();
    let mut bundles = Vec::new();
    for member in &request.members {
        let dir = singerid_train::bundle::resolve_dir(member)?;
        bundles.push(singerid_train::bundle::load(&dir, &device)?);
        resolved.push(dir);
    }
    for (dir, bundle) in resolved.iter().zip(&bundles) {
        if !matches!(
            singerid_train::Objective::of_provenance(&bundle.meta.provenance),
            singerid_train::Objective::Softmax
        ) {
            return Err(Error::Evaluation(format!(
                "{} was not trained as a classifier (softmax objective); only classifiers' \
                 answers can be averaged",
                dir.display()
            )));
        }
    }
    let first = &bundles[0];
    for (dir, bundle) in resolved.iter().zip(&bundles).skip(1) {
        if let Some(what) = difference(first, bundle) {
            return Err(Error::Evaluation(format!(
                "{} differs from {} in its {what}; only models trained the same way (seeds of \
                 one configuration) can be folded",
                dir.display(),
                resolved[0].display()
            )));
        }
    }
    let (metas, models): (Vec<_>, Vec<_>) = bundles
        .into_iter()
        .map(|b| (b.meta, (b.model, b.separator)))
        .unzip();
    let mut separator = None;
    let mut linear = Vec::new();
    for ((model, member_separator), dir) in models.into_iter().zip(&resolved) {
        let kind = model.name().to_owned();
        let Some(model) = singerid_models::classifier::downcast::<MelStatsLinear>(model) else {
            return Err(Error::Evaluation(format!(
                "{} is a {kind} model; only mel_stats_linear models can be folded into one \
                 (their logits are affine in the clip statistics)",
                dir.display()
            )));
        };
        linear.push(model);
        separator = separator.or(member_separator);
    }
    let folded = MelStatsLinear::logit_average(&linear)
        .map_err(|e| Error::Train(singerid_train::Error::Model(e)))?;

    let mut meta = metas[0].clone();
    meta.unknown_below = None;
    let bundle = Bundle {
        model: Box::new(folded),
        meta,
        separator,
        melody: None,
    };
    let split = crate::predict_split(
        &bundle,
        &resolved[0],
        None,
        Some(&request.split),
        None,
        &request.cache,
        request.batch_size,
        progress,
    )?;
    let evaluation = evaluate(&split.predictions).map_err(|e| {
        Error::Evaluation(format!(
            "scoring the ensemble on split `{}`: {e}",
            request.split
        ))
    })?;
    let unknown_below = singerid_eval::vote::calibrate_unknown(&split.predictions);

    let members: Vec<serde_json::Value> = resolved
        .iter()
        .zip(&metas)
        .map(|(dir, meta)| {
            serde_json::json!({
                "path": dir.display().to_string(),
                "epoch": meta.provenance.get("epoch"),
                "seed": meta.provenance.pointer("/train_config/seed"),
                "val": meta.provenance.get("val"),
            })
        })
        .collect();
    let mut meta = bundle.meta.clone();
    meta.unknown_below = unknown_below;
    meta.provenance = serde_json::json!({
        "data": metas[0].provenance.get("data"),
        "train_config": metas[0].provenance.get("train_config"),
        "ensemble": {
            "rule": "mean of the members' logits, folded into one mel_stats_linear model \
                     (the first member's batch norm and embedding)",
            "members": members,
            "command": request.command,
        },
        "calibration": {
            "split": request.split,
            "clips": split.predictions.clips.len(),
            "frame": brief(&evaluation.frame),
            "song": brief(&evaluation.song),
        },
    });
    singerid_train::bundle::save(&*bundle.model, &meta, &request.out)?;
    Ok(EnsembleOutcome {
        out: request.out.clone(),
        members: resolved,
        split: request.split.clone(),
        clips: split.predictions.clips.len(),
        frame: evaluation.frame,
        song: evaluation.song,
        unknown_below,
    })
}

/// What, besides the weights, differs between two members (None: nothing).
fn difference(a: &Bundle, b: &Bundle) -> Option<&'static str> {
    let (m, n) = (&a.meta, &b.meta);
    if m.classes != n.classes {
        return Some("classes");
    }
    if m.features != n.features {
        return Some("feature config");
    }
    if m.clip_frames != n.clip_frames || m.last_clip != n.last_clip {
        return Some("clip length");
    }
    if m.separator.as_ref().map(|s| &s.id) != n.separator.as_ref().map(|s| &s.id) {
        return Some("vocal separator");
    }
    // The seed that drew the partition may differ when the partition is the same.
    let data = |p: &serde_json::Value, key: &str| p.get("data").and_then(|d| d.get(key)).cloned();
    if ["dataset", "split", "recordings"]
        .iter()
        .any(|key| data(&m.provenance, key) != data(&n.provenance, key))
    {
        return Some("training data or partition");
    }
    None
}

/// A level's headline scores, for the provenance (the full report is `eval`'s).
fn brief(level: &LevelScores) -> serde_json::Value {
    serde_json::json!({
        "samples": level.n_samples,
        "accuracy": level.accuracy,
        "macro_f1": level.macro_f1,
        "weighted_f1": level.weighted_f1,
    })
}
