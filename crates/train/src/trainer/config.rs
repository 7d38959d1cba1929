//! What a run is: the training settings ([`TrainConfig`]) and the data it trains on
//! ([`RunSpec`]), both written to `train.json`.

use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use singerid_audio::FeatureConfig;
use singerid_data::clip::LastClip;
use singerid_models::{ModelEntry, ModelError, registry};

use crate::Error;
use crate::clips::Augment;

/// Every setting of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// The model to train: a registry name (`singerid_models::registry::names()`).
    pub model: String,
    /// The model's config as JSON, replacing the registry default for the run's classes
    /// (ablations); `None`: the entry's default config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<serde_json::Value>,
    /// Clip length in frames (94, 157, 313 for the paper's 3, 5, 10 s).
    pub clip_frames: usize,
    /// Keep or drop each recording's last full clip.
    #[serde(default)]
    pub last_clip: LastClip,
    /// Adam's learning rate (the paper: 1e-4, constant).
    pub learning_rate: f64,
    /// Clips per training batch (the paper: 16).
    pub batch_size: usize,
    /// Stop after this many epochs.
    pub max_epochs: usize,
    /// Stop after this many epochs without a better validation score (0: never): the weighted
    /// F1 (softmax), the contrastive loss (contrastive) or the macro AUC-ROC (multi-label).
    pub patience: usize,
    /// Seed of the weight initialisation, dropout and shuffling.
    pub seed: u64,
    /// Do not start an epoch expected to end later than this many seconds of training.
    pub time_budget_seconds: Option<f64>,
    /// Adam's epsilon (Keras: 1e-7).
    pub adam_epsilon: f32,
    /// Training-time augmentation (random clip offsets, SpecAugment masks); off by default.
    #[serde(default, skip_serializing_if = "Augment::is_off")]
    pub augment: Augment,
    /// Weight each class's loss by `n / (classes * n_class)` so that rare singers count as much
    /// as frequent ones (MIR-1K's train split: amy 124 clips, tammy 8); off by default.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub class_weights: bool,
    /// Learning-rate plateau schedule: multiply the rate by `factor` after every `patience`
    /// epochs without a better validation weighted F1; `None`: constant (the paper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lr_plateau: Option<LrPlateau>,
    /// What the network is trained for: softmax classification (the default, not written to
    /// `train.json`), a siamese embedding with the contrastive loss, or multi-label tagging.
    #[serde(default, skip_serializing_if = "Objective::is_softmax")]
    pub objective: Objective,
}

/// The training objective of a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Objective {
    /// Softmax cross-entropy over the singers (the classifiers; [`super::train`]).
    #[default]
    Softmax,
    /// A siamese embedding: the model's `embedding` output, both clips of a pair through the
    /// one network, the contrastive loss on balanced, song-disjoint pairs
    /// ([`super::siamese`]).
    Contrastive(super::siamese::SiameseConfig),
    /// Multi-label tagging: the classes are the tags of the training recordings (a manifest's
    /// `tags` column), each output an independent sigmoid trained with binary cross-entropy
    /// against the multi-hot vector of the clip's recording's tags
    /// ([`crate::objective::multilabel`]); validated and selected on the macro AUC-ROC
    /// ([`super::multilabel`]).
    Multilabel,
}

impl Objective {
    /// Whether this is [`Objective::Softmax`].
    pub fn is_softmax(&self) -> bool {
        matches!(self, Objective::Softmax)
    }

    /// Whether this is [`Objective::Multilabel`]: the model's classes are tags.
    pub fn is_multilabel(&self) -> bool {
        matches!(self, Objective::Multilabel)
    }

    /// The objective recorded in a bundle's provenance (`train_config.objective`); softmax when
    /// absent (every bundle written before siamese training existed).
    pub fn of_provenance(provenance: &serde_json::Value) -> Self {
        provenance
            .get("train_config")
            .and_then(|c| c.get("objective"))
            .and_then(|o| serde_json::from_value(o.clone()).ok())
            .unwrap_or_default()
    }
}

/// A plateau schedule of the learning rate (see [`TrainConfig::lr_plateau`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LrPlateau {
    /// Multiplier applied at each plateau, in (0, 1).
    pub factor: f64,
    /// Epochs without improvement per decay, at least 1.
    pub patience: usize,
}

impl TrainConfig {
    /// The paper's settings for `model` at `clip_frames`: lr 1e-4, batch 16, at most 100 epochs,
    /// patience 10, seed 0, no time budget, Keras' Adam epsilon 1e-7, every clip kept.
    pub fn new(model: impl Into<String>, clip_frames: usize) -> Self {
        Self {
            model: model.into(),
            model_config: None,
            clip_frames,
            last_clip: LastClip::Keep,
            learning_rate: 1e-4,
            batch_size: 16,
            max_epochs: 100,
            patience: 10,
            seed: 0,
            time_budget_seconds: None,
            adam_epsilon: 1e-7,
            augment: Augment::default(),
            class_weights: false,
            lr_plateau: None,
            objective: Objective::Softmax,
        }
    }

    /// Checks the settings and builds the model once on the default device: returns its
    /// registry entry and its config (JSON), from which the run builds it on its own device.
    pub(super) fn validate(
        &self,
        n_classes: usize,
    ) -> Result<(&'static ModelEntry, serde_json::Value), Error> {
        let invalid = |m: String| Error::Model(ModelError::InvalidConfig(m));
        let entry = registry::get(&self.model)?;
        if self.batch_size == 0 {
            return Err(invalid("the batch size must be at least 1".into()));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(invalid(format!(
                "the learning rate must be positive, got {}",
                self.learning_rate
            )));
        }
        if !(self.adam_epsilon.is_finite() && self.adam_epsilon > 0.0) {
            return Err(invalid(format!(
                "Adam's epsilon must be positive, got {}",
                self.adam_epsilon
            )));
        }
        if self.class_weights && self.objective.is_multilabel() {
            return Err(invalid(
                "class weights balance the singers of a softmax classifier; the multi-label \
                 objective has none (drop the class weights)"
                    .into(),
            ));
        }
        if let Some(plateau) = self.lr_plateau
            && !(plateau.factor > 0.0 && plateau.factor < 1.0 && plateau.patience >= 1)
        {
            return Err(invalid(format!(
                "the learning-rate plateau needs a factor in (0, 1) and a patience of at least \
                 1 epoch, got {} and {}",
                plateau.factor, plateau.patience
            )));
        }
        if let Some(budget) = self.time_budget_seconds
            && !(budget.is_finite() && budget > 0.0)
        {
            return Err(invalid(format!(
                "the time budget must be a positive number of seconds, got {budget}"
            )));
        }
        let model = registry::build(
            entry.name,
            n_classes,
            self.model_config.as_ref(),
            &Device::default(),
        )?;
        if model.n_classes() != n_classes {
            return Err(invalid(format!(
                "the model config has {} classes, the run {n_classes}",
                model.n_classes()
            )));
        }
        if self.clip_frames < model.min_frames() {
            return Err(invalid(format!(
                "clips of {} frames are shorter than the {} frames {} needs",
                self.clip_frames,
                model.min_frames(),
                self.model
            )));
        }
        Ok((entry, model.config_json()))
    }

    /// Whether `other` computes the same training (everything but when to stop is equal).
    pub(super) fn same_training(&self, other: &Self) -> bool {
        let strip = |c: &Self| Self {
            max_epochs: 0,
            patience: 0,
            time_budget_seconds: None,
            ..c.clone()
        };
        strip(self) == strip(other)
    }
}

/// What the run trains on, written to `train.json` beside the [`TrainConfig`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Class names in class-index order.
    pub classes: Vec<String>,
    /// The feature config of the clips.
    pub features: FeatureConfig,
    /// Free-form description of the data (dataset, split mode and seed, counts); part of the
    /// identity of the run: a different description is a different run.
    pub data: serde_json::Value,
    /// The separator the clips' vocals came from (None: the feature config's channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub separator: Option<crate::vocals::SeparatorRecord>,
    /// The CREPE weights and settings of the melody input (CRNNM models; None for the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub melody: Option<crate::melody::MelodyRecord>,
}
