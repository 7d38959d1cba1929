//! The experiment: what a training run is made of, built in one place, stored with the model,
//! and replayed by evaluation.
//!
//! An [`ExperimentSpec`] says what a user asked for: the dataset, how it is partitioned (the
//! manifest's split column, the papers' album split for a seed, or a seeded song split), the
//! feature config (with the vocal source: the mixture or a channel), the clip length and the
//! training options. [`prepare`] turns it into a [`Prepared`] run: the partition with its
//! recording lists, the filled feature cache, the clip sets and the [`TrainConfig`]. The
//! resulting [`DataRecord`] (dataset, partition mode and seed, and the recordings of every part)
//! is stored in `train.json` and in every model bundle the run saves, so that evaluating a model
//! "on its test part" means exactly the recordings it was not trained on.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use singerid_audio::FeatureConfig;
use singerid_data::clip::{ClipLength, LastClip};
use singerid_data::split::Split;
use singerid_data::{
    CacheOptions, Dataset, DatasetSource, Outcome, Partition, PartitionMode, Progress, Recording,
    partition,
};

use crate::clips::{Augment, ClipSet};
use crate::error::Error;
use crate::trainer::{
    self, LrPlateau, Objective, RunSpec, TrainConfig, TrainObserver, TrainOutcome,
};

/// What a user asks to train.
#[derive(Debug, Clone)]
pub struct ExperimentSpec {
    /// The dataset: a manifest CSV or an `<artist>/<album>/<song>` tree.
    pub data: PathBuf,
    /// How recordings are partitioned (`None`: the manifest's split column when there is one,
    /// else the album split).
    pub split: Option<PartitionMode>,
    /// Seed of the album or song split and of training.
    pub seed: u64,
    /// The model's registry name (`singerid_models::registry`).
    pub model: String,
    /// Fields of the model's config to change from its registry default (a JSON object, e.g.
    /// `{"l2": 0.0004}`; empty: the default).
    pub model_overrides: serde_json::Map<String, serde_json::Value>,
    /// Clip length in seconds (converted to frames with the feature config's rate and hop).
    pub clip_seconds: f64,
    /// Whether the last full clip of each recording is dropped (the authors' code did).
    pub last_clip: LastClip,
    /// The feature config, including the channel (the vocal source when `separator` is None).
    pub features: FeatureConfig,
    /// Train on the voice separated from the channel mix by this separator folder (or a
    /// `train-separator` run folder) instead of the channel itself; the model's bundle then
    /// holds a copy of the separator and `eval` / `identify` separate their input the same way.
    pub separator: Option<PathBuf>,
    /// The CREPE model folder that makes the melody input of a model that takes one (CRNNM,
    /// CRNNM_FGNL), with the FGNL authors' settings ([`crate::melody::MelodyExtractor`]); the
    /// contour is computed on the same vocal source as the log-mel. Ignored by mel-only models.
    pub crepe: Option<PathBuf>,
    /// Where features are cached.
    pub cache: CacheOptions,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Clips per batch.
    pub batch_size: usize,
    /// Maximum epochs.
    pub max_epochs: usize,
    /// Epochs without a better validation score before stopping (0: never).
    pub patience: usize,
    /// Wall-clock budget in seconds, across resumes.
    pub time_budget_seconds: Option<f64>,
    /// Training-time augmentation of the clips.
    pub augment: Augment,
    /// Class-balanced loss weights.
    pub class_weights: bool,
    /// Learning-rate plateau schedule (`None`: constant).
    pub lr_plateau: Option<LrPlateau>,
    /// The training objective (softmax classification, a siamese embedding, or multi-label
    /// tagging on the manifest's `tags` column).
    pub objective: Objective,
    /// Remixes per training recording ([`crate::remix`]): its voice stem over another singer's
    /// accompaniment stem, separated when `separator` is set; needs stereo stems and the
    /// channel mix. 0: none.
    pub remixes: usize,
}

/// How the data of a run was partitioned, with the resulting recordings: stored in the run's
/// `train.json` and in its model bundles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataRecord {
    /// The dataset: manifest CSV or tree root, absolute.
    pub dataset: PathBuf,
    /// The partition mode (`manifest`, `album` or `song`).
    pub split: PartitionMode,
    /// The partition seed (unused by `manifest`).
    pub split_seed: u64,
    /// Counts per part.
    pub train: PartCount,
    /// Counts per part.
    pub val: PartCount,
    /// Counts per part.
    pub test: PartCount,
    /// The recordings of each part (`train`, `val`, `test`), as paths relative to the dataset
    /// root; empty in bundles written before this field existed.
    #[serde(default)]
    pub recordings: BTreeMap<String, Vec<PathBuf>>,
    /// Remixes made of each training recording ([`crate::remix`]); their clips are counted in
    /// `train`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub remixes: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// How much of the data one part holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartCount {
    /// Recordings (clip files).
    pub recordings: usize,
    /// Songs.
    pub songs: usize,
    /// Clips.
    pub clips: usize,
}

impl DataRecord {
    /// Reads the record a bundle's provenance holds (`provenance.data`), if any.
    pub fn from_provenance(provenance: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(provenance.get("data")?.clone()).ok()
    }

    /// The recordings of `part` (`train`, `val` or `test`) in `dataset`, as the run used them.
    ///
    /// Runs that recorded their lists are replayed from them; older runs split by the manifest
    /// column are replayed from the manifest (any split name of its column). `None` when the
    /// record cannot say (an older run with an album or song split, or a name the manifest does
    /// not use).
    pub fn part<'a>(&self, dataset: &'a Dataset, part: &str) -> Option<Vec<&'a Recording>> {
        match self.recordings.get(part) {
            Some(paths) => {
                let wanted: std::collections::BTreeSet<&Path> =
                    paths.iter().map(PathBuf::as_path).collect();
                Some(
                    dataset
                        .recordings
                        .iter()
                        .filter(|r| wanted.contains(r.path.as_path()))
                        .collect(),
                )
            }
            None if self.split == PartitionMode::Manifest => dataset.recordings_in_split(part).ok(),
            None => None,
        }
    }
}

/// Everything [`prepare`] builds: the data, partition and clip sets of a run.
#[derive(Debug)]
pub struct Prepared {
    /// The dataset as read.
    pub dataset: Dataset,
    /// The partition of its recordings.
    pub partition: Partition,
    /// The resolved feature config.
    pub features: FeatureConfig,
    /// Class names: the sorted singers of the training part, or with
    /// [`Objective::Multilabel`] its sorted tags ([`crate::objective::tag_vocabulary`]).
    pub classes: Vec<String>,
    /// Training clips.
    pub train: ClipSet,
    /// Validation clips.
    pub val: ClipSet,
    /// Test clips (empty when the split has no test part).
    pub test: ClipSet,
    /// The training config.
    pub config: TrainConfig,
    /// What `train.json` and the bundles record about the data ([`DataRecord`] as JSON).
    pub spec: RunSpec,
    /// The data record.
    pub record: DataRecord,
    /// The clip length asked for, in seconds.
    pub clip_seconds: f64,
    /// Recordings that could not be used (feature failures, too short), one line each.
    pub problems: Vec<String>,
}

impl Prepared {
    /// The dataset as `train.json` names it: the manifest or tree root, absolute.
    pub fn dataset_name(&self) -> String {
        dataset_name(&self.dataset)
    }

    /// One line about the experiment's data, partition, clips and model, for the user.
    pub fn summary(&self) -> String {
        let p = self;
        let tagging = p.config.objective.is_multilabel();
        let mut summary = format!(
            "data: {} ({} split{}), {} {}; train {} songs / {} clips, val {} songs / {} clips, \
             test {} songs / {} clips; {} frames per clip ({} s), channel {}, model {}",
            p.dataset_name(),
            p.partition.mode.as_str(),
            if p.partition.mode == PartitionMode::Manifest {
                String::new()
            } else {
                format!(", seed {}", p.partition.seed)
            },
            p.classes.len(),
            if tagging { "tags" } else { "classes" },
            p.train.song_count(),
            p.train.len(),
            p.val.song_count(),
            p.val.len(),
            p.test.song_count(),
            p.test.len(),
            p.config.clip_frames,
            p.clip_seconds,
            p.features.channel.name(),
            p.config.model,
        );
        // A tagging run's clips have no singer label: each is scored on its recording's tags.
        let unknown = if tagging {
            0
        } else {
            p.val.unlabelled_count() + p.test.unlabelled_count()
        };
        if unknown > 0 {
            summary.push_str(&format!(
                "; {unknown} val/test clips are of singers absent from training (not scored)"
            ));
        }
        if !p.problems.is_empty() {
            summary.push_str(&format!(
                "; {} recordings unusable (see errors above)",
                p.problems.len()
            ));
        }
        summary
    }

    /// Trains in the run folder `out` (resuming a run of the same experiment there; `restart`
    /// wipes its training files first), writing `split.csv` beside `train.json`.
    ///
    /// # Errors
    /// As [`crate::train`].
    pub fn run(
        &self,
        out: &Path,
        restart: bool,
        device: &Device,
        observer: &mut dyn TrainObserver,
    ) -> Result<TrainOutcome, Error> {
        trainer::prepare_run_dir(out, &self.config, &self.spec, restart)?;
        let split_path = out.join(SPLIT_FILE);
        singerid_data::atomic::write_atomic(&split_path, self.partition.listing_csv.as_bytes())
            .map_err(Error::io(&split_path))?;
        crate::train(
            out,
            &self.config,
            &self.spec,
            &self.train,
            &self.val,
            false,
            device,
            observer,
        )
    }
}

/// The partition listing in a run folder (album or song -> part).
pub const SPLIT_FILE: &str = "split.csv";

/// The manifest path or tree root of a dataset.
pub fn dataset_name(dataset: &Dataset) -> String {
    match &dataset.source {
        DatasetSource::Manifest(path) => path.display().to_string(),
        DatasetSource::Tree => dataset.root.display().to_string(),
    }
}

/// Checks that a multi-label experiment can be run on `dataset`, before any long step.
///
/// # Errors
/// [`Error::Experiment`] when the dataset lists no tags, or remixes are asked for (a remix
/// mixes two recordings, whose tags need not apply to it).
fn check_tagging(spec: &ExperimentSpec, dataset: &Dataset) -> Result<(), Error> {
    let invalid = |message: String| Error::Experiment { message };
    if spec.remixes > 0 {
        return Err(invalid(
            "remixes put one recording's voice over another's accompaniment, and neither \
             recording's tags need apply to the mix; the multi-label objective takes no remixes"
                .into(),
        ));
    }
    if dataset.recordings.iter().all(|r| r.tags.is_empty()) {
        return Err(invalid(format!(
            "the multi-label objective trains on tags, and {} lists none: give the manifest a \
             `tags` column (`;`-separated tags per recording, e.g. `rock;female vocal`)",
            spec.data.display()
        )));
    }
    Ok(())
}

/// The classes of a multi-label run: the tag vocabulary of the training part.
///
/// # Errors
/// [`Error::Experiment`] when no training recording has a tag.
fn tag_classes(spec: &ExperimentSpec, partition: &Partition) -> Result<Vec<String>, Error> {
    let vocabulary =
        crate::objective::tag_vocabulary(partition.train.iter().map(|r| r.tags.as_slice()));
    if vocabulary.is_empty() {
        return Err(Error::Experiment {
            message: format!(
                "no recording of the training part of {} has a tag; the multi-label \
                 objective learns the tags of the training recordings",
                spec.data.display()
            ),
        });
    }
    Ok(vocabulary)
}

/// Reads the dataset, partitions it, fills the feature cache and builds the clip sets.
///
/// # Errors
/// An invalid feature config or clip length, a melody model without a usable CREPE, an
/// unreadable or empty dataset, an impossible split, an unusable cache.
pub fn prepare(spec: &ExperimentSpec, progress: &dyn Progress) -> Result<Prepared, Error> {
    let invalid = |message: String| Error::Experiment { message };
    let features = spec.features;
    features
        .validate()
        .map_err(|e| invalid(format!("feature config: {e}")))?;
    let entry = singerid_models::registry::get(&spec.model)?;
    let melody = if entry.uses_melody() {
        let dir = spec.crepe.as_deref().ok_or_else(|| {
            invalid(format!(
                "{} takes a melody input: give the CREPE model that makes it (--crepe full, the \
                 authors' choice, or tiny)",
                spec.model
            ))
        })?;
        if spec.objective.is_multilabel() {
            return Err(invalid(format!(
                "{} takes a melody input; the multi-label objective trains mel-only models",
                spec.model
            )));
        }
        let extractor = crate::melody::MelodyExtractor::authors(dir)?;
        extractor.check_features(&features)?;
        Some(extractor)
    } else {
        None
    };
    let clip = ClipLength::from_seconds(
        spec.clip_seconds,
        features.sample_rate_hz,
        features.hop_length,
    )
    .map_err(|e| invalid(format!("clip length {} s: {e}", spec.clip_seconds)))?;
    let mut dataset = Dataset::open(&spec.data)?;
    if dataset.recordings.is_empty() {
        return Err(invalid(format!(
            "no usable audio files found in {}",
            spec.data.display()
        )));
    }
    let mut problems: Vec<String> = dataset.problems.iter().map(ToString::to_string).collect();
    for problem in &dataset.problems {
        tracing::error!("{problem}");
    }
    if spec.objective.is_multilabel() {
        check_tagging(spec, &dataset)?;
    }
    if spec.remixes > 0 && features.channel != singerid_audio::Channel::Mix {
        return Err(invalid(format!(
            "remixes put one recording's voice stem over another's accompaniment stem, which \
             makes a mixture; the channel is {}, set it to mix",
            features.channel.name()
        )));
    }
    // The stem files, before separation replaces the paths (remixes are made from them).
    let stem_files: HashMap<PathBuf, PathBuf> = dataset
        .recordings
        .iter()
        .map(|r| (r.path.clone(), r.abs_path.clone()))
        .collect();
    let separator = match &spec.separator {
        Some(dir) => {
            if features.channel != singerid_audio::Channel::Mix {
                return Err(invalid(format!(
                    "separated vocals are taken from the channel mix; the channel is {}, set \
                     it to mix",
                    features.channel.name()
                )));
            }
            let (separator, dir) = crate::vocals::load_separator(dir)?;
            let failed = crate::vocals::separate_recordings(
                &mut dataset.recordings,
                &separator,
                &features,
                &spec.cache.dir,
                progress,
            );
            for (_, message) in &failed {
                tracing::error!("{message}");
                problems.push(message.clone());
            }
            let bad: std::collections::HashSet<usize> = failed.iter().map(|(i, _)| *i).collect();
            let mut index = 0;
            dataset.recordings.retain(|_| {
                index += 1;
                !bad.contains(&(index - 1))
            });
            let record = crate::vocals::SeparatorRecord {
                id: separator.id(),
                source: std::path::absolute(&dir).unwrap_or(dir),
            };
            Some((separator, record))
        }
        None => None,
    };
    let mode = spec
        .split
        .unwrap_or(if dataset.recordings.iter().any(|r| r.split.is_some()) {
            PartitionMode::Manifest
        } else {
            PartitionMode::Album
        });
    let partition = partition(&dataset, mode, spec.seed).map_err(|e| {
        invalid(format!(
            "dividing {} with the {} split: {e}",
            spec.data.display(),
            mode.as_str()
        ))
    })?;
    let classes = if spec.objective.is_multilabel() {
        tag_classes(spec, &partition)?
    } else {
        let mut singers: Vec<String> = partition.train.iter().map(|r| r.singer.clone()).collect();
        singers.sort();
        singers.dedup();
        singers
    };
    if classes.is_empty() {
        return Err(invalid(format!(
            "the training part of the {} split is empty",
            mode.as_str()
        )));
    }

    let stems: Vec<Recording> = partition
        .train
        .iter()
        .map(|r| Recording {
            abs_path: stem_files
                .get(&r.path)
                .cloned()
                .unwrap_or_else(|| r.abs_path.clone()),
            ..r.clone()
        })
        .collect();
    let remixed = crate::remix::remix_recordings(
        &stems,
        spec.remixes,
        spec.seed,
        &features,
        separator.as_ref().map(|(s, _)| s),
        &spec.cache.dir,
        progress,
    )?;
    let separator = separator.map(|(_, record)| record);
    let train_recordings: Vec<Recording> =
        partition.train.iter().chain(&remixed).cloned().collect();
    let all: Vec<Recording> = dataset.recordings.iter().chain(&remixed).cloned().collect();
    let (cache, outcomes) = singerid_data::cache::fill(&all, &features, &spec.cache, progress)?;
    for outcome in &outcomes {
        if let Outcome::Failed(err) = &outcome.outcome {
            problems.push(err.to_string());
        }
    }
    let frames = clip.frames();
    let build = |recordings: &[Recording], problems: &mut Vec<String>| -> Result<ClipSet, Error> {
        let (set, more) =
            ClipSet::from_cache(recordings, &cache, &classes, frames, spec.last_clip)?;
        for problem in &more {
            tracing::warn!("{problem}");
        }
        problems.extend(more);
        Ok(set)
    };
    let mut train = build(&train_recordings, &mut problems)?;
    let mut val = build(partition.part(Split::Val), &mut problems)?;
    let mut test = build(partition.part(Split::Test), &mut problems)?;
    // Release the cache's writer lock before the long part.
    drop(cache);
    if let Some(extractor) = &melody {
        for set in [&mut train, &mut val, &mut test] {
            let recordings: Vec<&Recording> = set.recordings().collect();
            let frames = set.frame_counts();
            let contours = extractor.contours(
                &recordings,
                &frames,
                &features,
                Some(&spec.cache.dir),
                progress,
            );
            for problem in set.attach_melody(contours) {
                tracing::error!("{problem}");
                problems.push(problem);
            }
        }
    }

    let mut config = TrainConfig::new(spec.model.as_str(), frames);
    if !spec.model_overrides.is_empty() {
        let mut model_config = (entry.default_config)(classes.len());
        let fields = model_config
            .as_object_mut()
            .ok_or_else(|| invalid(format!("{}'s config is not a JSON object", spec.model)))?;
        for (key, value) in &spec.model_overrides {
            if !fields.contains_key(key) {
                let known: Vec<&String> = fields.keys().collect();
                return Err(invalid(format!(
                    "{} has no config field {key:?}; its fields: {known:?}",
                    spec.model
                )));
            }
            fields.insert(key.clone(), value.clone());
        }
        config.model_config = Some(model_config);
    }
    config.last_clip = spec.last_clip;
    config.learning_rate = spec.learning_rate;
    config.batch_size = spec.batch_size;
    config.max_epochs = spec.max_epochs;
    config.patience = spec.patience;
    config.seed = spec.seed;
    config.time_budget_seconds = spec.time_budget_seconds;
    config.augment = spec.augment;
    config.class_weights = spec.class_weights;
    config.lr_plateau = spec.lr_plateau;
    config.objective = spec.objective.clone();

    let count = |set: &ClipSet| PartCount {
        recordings: set.recording_count(),
        songs: set.song_count(),
        clips: set.len(),
    };
    let paths = |recordings: &[Recording]| recordings.iter().map(|r| r.path.clone()).collect();
    let record = DataRecord {
        dataset: PathBuf::from(dataset_name(&dataset)),
        split: mode,
        split_seed: spec.seed,
        train: count(&train),
        val: count(&val),
        test: count(&test),
        recordings: BTreeMap::from([
            ("train".to_owned(), paths(&partition.train)),
            ("val".to_owned(), paths(&partition.val)),
            ("test".to_owned(), paths(&partition.test)),
        ]),
        remixes: spec.remixes,
    };
    let run_spec = RunSpec {
        classes: classes.clone(),
        features,
        data: serde_json::to_value(&record).map_err(|e| invalid(e.to_string()))?,
        separator,
        melody: melody.as_ref().map(|m| m.record().clone()),
    };
    Ok(Prepared {
        dataset,
        partition,
        features,
        classes,
        train,
        val,
        test,
        config,
        spec: run_spec,
        record,
        clip_seconds: spec.clip_seconds,
        problems,
    })
}
