//! Scoring a trained model on a split of a dataset the way the FGNL paper does (frame-level and
//! song-level accuracy, macro and weighted F1), with a report folder.
//!
//! The split is replayed from the model: a bundle records its dataset and the recordings of each
//! part of its partition ([`DataRecord`]), so `test` means the recordings that model was tested
//! on, whatever the partition (manifest column, album split, song split). Without a record (or
//! on another dataset) the manifest's split column is used.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;
use singerid_audio::Channel;
use singerid_data::{CacheOptions, Dataset, Outcome, Progress, Recording};
use singerid_eval::{Evaluation, Predictions, ReportFiles, RunInfo, evaluate, write_report};
use singerid_train::{Bundle, ClipSet, DataRecord, predict, predict_tags};

use crate::error::Error;

/// The split name that means every recording.
pub const ALL: &str = "all";

/// What to evaluate and where the report goes.
#[derive(Debug, Clone)]
pub struct EvalRequest {
    /// The model folder (for the report).
    pub model_dir: PathBuf,
    /// The dataset (`None`: the one the model was trained on, as its bundle records).
    pub data: Option<PathBuf>,
    /// The split to score (`None`: `test` when the model recorded a non-empty test part of this
    /// dataset, else `val` when there is one, else `all`).
    pub split: Option<String>,
    /// Override of the bundle's channel (e.g. MIR-1K's `right` to score a mixture model on the
    /// voice).
    pub channel: Option<Channel>,
    /// The feature cache.
    pub cache: CacheOptions,
    /// The report folder.
    pub out: PathBuf,
    /// Clips per forward pass.
    pub batch_size: usize,
    /// The command line, for the report.
    pub command: String,
}

/// Which recordings an evaluation scored, and how many of them could be scored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitCounts {
    /// The dataset evaluated.
    pub data: PathBuf,
    /// The split scored.
    pub split: String,
    /// Where the split came from: `model` (the model's recorded partition), `manifest` or
    /// `all`.
    pub split_source: &'static str,
    /// Recordings in the split.
    pub recordings: usize,
    /// Recordings whose separation or features failed.
    pub failed_recordings: usize,
    /// Dataset entries that could not be read at all (bad manifest rows, unreadable folders).
    pub dataset_problems: usize,
    /// Recordings shorter than one clip.
    pub skipped_recordings: usize,
}

impl SplitCounts {
    /// `<data>, split <name> (<n> recordings, <f> failed, <s> without a full clip)`.
    pub fn describe(&self) -> String {
        format!(
            "{}, split {} ({} recordings, {} failed, {} without a full clip)",
            self.data.display(),
            self.split,
            self.recordings,
            self.failed_recordings,
            self.skipped_recordings
        )
    }
}

impl EvalRequest {
    /// [`predict_split`] of `bundle` on the dataset and split this request names.
    ///
    /// # Errors
    /// As [`predict_split`].
    pub fn predict(
        &self,
        bundle: &Bundle,
        progress: &dyn Progress,
    ) -> Result<SplitPredictions, Error> {
        predict_split(
            bundle,
            &self.model_dir,
            self.data.as_deref(),
            self.split.as_deref(),
            self.channel,
            &self.cache,
            self.batch_size,
            progress,
        )
    }
}

/// The result of an evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct EvalOutcome {
    /// The model's registry name.
    pub model: String,
    /// The model's vocal source ([`Bundle::vocals`]).
    pub vocals: String,
    /// The dataset, the split and its counts.
    #[serde(flatten)]
    pub counts: SplitCounts,
    /// The scores.
    pub evaluation: Evaluation,
    /// Every clip's prediction.
    #[serde(skip)]
    pub predictions: Predictions,
    /// The report files.
    pub report: ReportFiles,
}

/// A model's clip predictions on a split of a dataset: what [`evaluate_split`] scores, and what
/// the open-set evaluation groups into recording embeddings.
#[derive(Debug, Clone)]
pub struct SplitPredictions {
    /// The dataset.
    pub data: PathBuf,
    /// The split predicted.
    pub split: String,
    /// Where the split came from: `model` (the model's recorded partition), `manifest` or `all`.
    pub split_source: &'static str,
    /// The partition the model recorded (`manifest`, `album`, ...), when it is this dataset's.
    pub own_partition: Option<String>,
    /// The features used (the bundle's, with the channel override).
    pub features: singerid_audio::FeatureConfig,
    /// Recordings in the split.
    pub recordings: usize,
    /// Recordings whose separation or features failed.
    pub failed_recordings: usize,
    /// Dataset entries that could not be read at all.
    pub dataset_problems: usize,
    /// Recordings shorter than one clip (one message each).
    pub skipped: Vec<String>,
    /// Every clip's prediction (singers the model does not know have no label). A tagging
    /// model's ([`crate::is_tagging_model`]) `probs` are its sigmoid outputs, one per tag.
    pub predictions: Predictions,
    /// The tags the dataset lists for each predicted recording, by the recording key of
    /// [`Self::predictions`] (empty lists for a dataset without tags).
    pub tags: BTreeMap<String, Vec<String>>,
}

impl SplitPredictions {
    /// The dataset, the split and its counts.
    pub fn counts(&self) -> SplitCounts {
        SplitCounts {
            data: self.data.clone(),
            split: self.split.clone(),
            split_source: self.split_source,
            recordings: self.recordings,
            failed_recordings: self.failed_recordings,
            dataset_problems: self.dataset_problems,
            skipped_recordings: self.skipped.len(),
        }
    }
}

/// Runs `bundle` over every clip of a split of a dataset, through the feature cache (and the
/// bundle's separator, whose stems are cached too).
///
/// `data`: the dataset (`None`: the one the model was trained on); `split`: as
/// [`EvalRequest::split`]; `channel`: as [`EvalRequest::channel`].
///
/// # Errors
/// No dataset known, an unreadable dataset, an unknown or empty split, an unwritable cache, or
/// no clip at all.
#[allow(clippy::too_many_arguments)]
pub fn predict_split(
    bundle: &Bundle,
    model_dir: &Path,
    data: Option<&Path>,
    split: Option<&str>,
    channel: Option<Channel>,
    cache: &CacheOptions,
    batch_size: usize,
    progress: &dyn Progress,
) -> Result<SplitPredictions, Error> {
    let meta = &bundle.meta;
    let mut config = meta.features;
    if let Some(channel) = channel {
        if bundle.separator.is_some() && channel != singerid_audio::Channel::Mix {
            return Err(Error::Evaluation(format!(
                "{} was trained on vocals separated from the channel mix; --channel {} does not \
                 apply to it",
                model_dir.display(),
                channel.name()
            )));
        }
        config.channel = channel;
    }
    config.validate()?;
    let record = DataRecord::from_provenance(&meta.provenance);
    let given = data;
    let data = match (given, &record) {
        (Some(data), _) => data.to_path_buf(),
        (None, Some(record)) => record.dataset.clone(),
        (None, None) => {
            return Err(Error::Evaluation(format!(
                "{} does not record the dataset it was trained on; pass --data",
                model_dir.display()
            )));
        }
    };
    let dataset = Dataset::open(&data)?;
    for problem in &dataset.problems {
        tracing::error!("{problem}");
    }
    // The model's own partition applies when this is the dataset it was trained on.
    let own = record
        .as_ref()
        .filter(|r| given.is_none() || same_path(&r.dataset, &data));
    let (split, mut recordings, split_source) = select(&dataset, own, split)?;
    if recordings.is_empty() {
        return Err(Error::Evaluation(format!(
            "no recordings in split `{split}` of {}",
            data.display()
        )));
    }
    tracing::info!(recordings = recordings.len(), split, "predicting");

    // A model trained on separated vocals is scored on vocals separated the same way.
    let mut failed: BTreeSet<PathBuf> = BTreeSet::new();
    if let Some(separator) = &bundle.separator {
        let problems = singerid_train::vocals::separate_recordings(
            &mut recordings,
            separator,
            &config,
            &cache.dir,
            progress,
        );
        for (i, message) in problems {
            tracing::error!("{message}");
            failed.insert(recordings[i].path.clone());
        }
    }
    let (cache, outcomes) = singerid_data::cache::fill(&recordings, &config, cache, progress)?;
    failed.extend(
        outcomes
            .iter()
            .filter(|o| matches!(o.outcome, Outcome::Failed(_)))
            .map(|o| o.path.clone()),
    );
    let usable: Vec<Recording> = recordings
        .iter()
        .filter(|r| !failed.contains(&r.path))
        .cloned()
        .collect();
    let (mut set, mut skipped) = ClipSet::from_cache(
        &usable,
        &cache,
        &meta.classes,
        meta.clip_frames,
        meta.last_clip,
    )?;
    // A melody model is given the contours of the same vocal source, as in training.
    if let Some(melody) = &bundle.melody {
        let recordings: Vec<&Recording> = set.recordings().collect();
        let frames = set.frame_counts();
        let contours = melody.contours(&recordings, &frames, &config, Some(cache.dir()), progress);
        let more = set.attach_melody(contours);
        for message in &more {
            tracing::error!("{message}");
        }
        skipped.extend(more);
    }
    for message in &skipped {
        tracing::warn!("{message}");
    }
    let predictions = if crate::is_tagging_model(bundle) {
        predict_tags(&*bundle.model, &set, batch_size.max(1))
    } else {
        predict(&*bundle.model, &set, batch_size.max(1))
    };
    let tags = set
        .recordings()
        .map(|r| (r.path.display().to_string(), r.tags.clone()))
        .collect();
    if predictions.clips.is_empty() {
        return Err(Error::Evaluation(format!(
            "no clips to evaluate: every recording of split `{split}` failed or is shorter than \
             one clip ({} frames)",
            meta.clip_frames
        )));
    }
    Ok(SplitPredictions {
        data,
        split,
        split_source,
        own_partition: own.map(|r| r.split.as_str().to_owned()),
        features: config,
        recordings: recordings.len(),
        failed_recordings: failed.len(),
        dataset_problems: dataset.problems.len(),
        skipped,
        predictions,
        tags,
    })
}

/// Evaluates `bundle` as `request` says and writes the report.
///
/// # Errors
/// Fatal problems: no dataset known, an unreadable dataset, an unknown or empty split, no clip of
/// a singer the model knows, an unwritable cache or report folder.
pub fn evaluate_split(
    bundle: &Bundle,
    request: &EvalRequest,
    progress: &dyn Progress,
) -> Result<EvalOutcome, Error> {
    let meta = &bundle.meta;
    let split = request.predict(bundle, progress)?;
    let counts = split.counts();
    let predictions = split.predictions;
    let evaluation = match evaluate(&predictions) {
        Err(singerid_eval::Error::NoSamples) => {
            let singers: BTreeSet<&str> = predictions
                .clips
                .iter()
                .map(|c| c.singer.as_str())
                .collect();
            return Err(Error::Evaluation(format!(
                "none of the {} clips belongs to a singer the model knows (found: {}; the model \
                 knows: {})",
                predictions.clips.len(),
                singers.into_iter().collect::<Vec<_>>().join(", "),
                meta.classes.join(", ")
            )));
        }
        other => other?,
    };

    let model_name = bundle.model.name().to_owned();
    let config = split.features;
    let mut notes = Vec::new();
    if config.channel != meta.features.channel {
        notes.push(format!(
            "Channel overridden: the model was trained on `{}`, evaluated on `{}`.",
            meta.features.channel.name(),
            config.channel.name()
        ));
    }
    if split.split_source == "model" {
        notes.push(format!(
            "Split `{}` is the model's own partition ({} split), as recorded in its bundle.",
            split.split,
            split.own_partition.as_deref().unwrap_or("manifest")
        ));
    }
    let info = RunInfo {
        model: model_name.clone(),
        params: bundle.model.num_params(),
        features: config,
        clip_frames: meta.clip_frames,
        last_clip: meta.last_clip,
        data: counts.describe(),
        checkpoint: Some(request.model_dir.clone()),
        command: request.command.clone(),
        notes,
        learning_curve: None,
    };
    let report = write_report(&request.out, &evaluation, &predictions, &info)?;
    Ok(EvalOutcome {
        model: model_name,
        vocals: bundle.vocals(),
        counts,
        evaluation,
        predictions,
        report,
    })
}

/// The recordings of split `name` (or the default split), with the name used and where the
/// split came from.
fn select(
    dataset: &Dataset,
    own: Option<&DataRecord>,
    name: Option<&str>,
) -> Result<(String, Vec<Recording>, &'static str), Error> {
    let has_column = dataset.recordings.iter().any(|r| r.split.is_some());
    let name = match name {
        Some(name) => name.to_owned(),
        None => {
            let own_has = |part: &str| {
                own.and_then(|r| r.part(dataset, part))
                    .is_some_and(|p| !p.is_empty())
            };
            if own_has("test") {
                "test".to_owned()
            } else if own_has("val") || has_column {
                "val".to_owned()
            } else {
                ALL.to_owned()
            }
        }
    };
    if name == ALL {
        return Ok((name, dataset.recordings.clone(), "all"));
    }
    if let Some(part) = own.and_then(|r| r.part(dataset, &name)) {
        let recordings = part.into_iter().cloned().collect();
        return Ok((name, recordings, "model"));
    }
    if !has_column {
        return Err(Error::Evaluation(format!(
            "{} has no split column and the model records no `{name}` part of it; use --split \
             all, or a manifest with a split column",
            dataset.root.display()
        )));
    }
    let recordings = dataset
        .recordings_in_split(&name)?
        .into_iter()
        .cloned()
        .collect();
    Ok((name, recordings, "manifest"))
}

/// Whether two paths name the same file (compared canonically when both exist).
fn same_path(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
