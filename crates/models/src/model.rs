//! The model builder shared by every named model: backbone branches -> optional attention on the
//! last block -> Permute + Reshape -> GRU (sequence) -> GRU (last state = embedding) -> Dropout ->
//! Dense.
//!
//! Nasrullah & Zhao (2019), IJCNN, Sec. III (the CRNN head); Kuo et al. (2021), AAAI, Fig. 3
//! (CRNN_FGNL, CRNNM_FGNL). The named presets live in one short file per model
//! (`crnn.rs`, `crnn_fgnl.rs`, ...).
//!
//! # Training vs inference
//! burn's convention: batch-norm (batch statistics, running-stat updates) and dropout are in
//! training mode when the input lives on an autodiff device (`Device::default().autodiff()`),
//! and in inference mode (moving statistics, no dropout, as Keras `training=False`) otherwise.
//! To evaluate a model trained on an autodiff device, call `model.valid()` (from
//! `burn::module::Module`), which returns the same model on the inner, non-autodiff device.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::attention::{Attention, AttentionBlock, FgnlTrace};
use crate::backbone::{BackboneConfig, Branch};
use crate::blocks::{KerasGru, KerasGruConfig, keras_init};
pub use crate::classifier::ModelOutput;
use crate::classifier::{Classifier, ClassifierConfig};
use crate::error::ModelError;

/// The named models.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Nasrullah & Zhao's CRNN, the paper's baseline (394,516 parameters).
    Crnn,
    /// The authors' CRNN_FGNL (584,141).
    CrnnFgnl,
    /// CRNNM: CRNN branches for mel and melody, joined on channels (778,772).
    Crnnm,
    /// The authors' CRNNM_FGNL (1,175,381).
    CrnnmFgnl,
    /// CRNN_NL: the FGNL backbone with Wang et al.'s non-local block instead of FGNL.
    CrnnNl,
    /// CRNN_FGNL_LIGHT: FGNL over block 4 only.
    CrnnFgnlLight,
    /// The FGNL backbone without attention (578,836), the fair control.
    FgnlBackbone,
}

impl ModelKind {
    /// Every kind, in the order of the paper's tables.
    pub const ALL: [ModelKind; 7] = [
        ModelKind::Crnn,
        ModelKind::CrnnFgnl,
        ModelKind::Crnnm,
        ModelKind::CrnnmFgnl,
        ModelKind::CrnnNl,
        ModelKind::CrnnFgnlLight,
        ModelKind::FgnlBackbone,
    ];

    /// The snake-case name (as in configs and fixture file names).
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Crnn => "crnn",
            ModelKind::CrnnFgnl => "crnn_fgnl",
            ModelKind::Crnnm => "crnnm",
            ModelKind::CrnnmFgnl => "crnnm_fgnl",
            ModelKind::CrnnNl => "crnn_nl",
            ModelKind::CrnnFgnlLight => "crnn_fgnl_light",
            ModelKind::FgnlBackbone => "fgnl_backbone",
        }
    }

    /// Whether the model takes the melody input as well.
    pub fn uses_melody(self) -> bool {
        matches!(self, ModelKind::Crnnm | ModelKind::CrnnmFgnl)
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ModelKind {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ModelKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ModelKind::ALL.iter().map(|k| k.name()).collect();
                ModelError::InvalidConfig(format!(
                    "unknown model kind {s:?}; expected one of {}",
                    names.join(", ")
                ))
            })
    }
}

/// The input branches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Inputs {
    /// Log-mel spectrogram only.
    Mel,
    /// Log-mel and melody, each with its own branch (CRNNM, Hsieh et al. 2020).
    MelAndMelody,
}

impl Inputs {
    /// Number of branches.
    pub fn branches(self) -> usize {
        match self {
            Inputs::Mel => 1,
            Inputs::MelAndMelody => 2,
        }
    }
}

/// Every hyper-parameter of a model. Build with [`ModelConfig::new`] (paper defaults per kind)
/// or a named preset, then adjust the public fields for ablations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// The named model this config derives from.
    pub kind: ModelKind,
    /// Number of classes (singers).
    pub n_classes: usize,
    /// Input branches.
    pub inputs: Inputs,
    /// Conv front end (shared by every branch).
    pub backbone: BackboneConfig,
    /// Attention after the last conv block.
    pub attention: Attention,
    /// Units of both GRUs (the embedding size).
    pub gru_units: usize,
    /// Dropout before the Dense layer.
    pub head_dropout: f64,
    /// L2 penalty on the Dense kernel added to the training loss, `dense_l2 · Σ W²` (Keras
    /// `kernel_regularizer=l2(dense_l2)`; the authors' CRNN_FGNL: 0.01). Absent in configs
    /// written before it existed: 0.
    #[serde(default)]
    pub dense_l2: f64,
    /// L1 penalty on the Dense layer's output (the logits: the softmax is a separate layer in
    /// the authors' code), `dense_activity_l1 · mean over the batch of Σ |logit|` (Keras
    /// `activity_regularizer=l1(...)`, divided by the batch size as TF2 Keras does; the authors'
    /// CRNN_FGNL: 0.01). Absent in configs written before it existed: 0.
    #[serde(default)]
    pub dense_activity_l1: f64,
}

/// Number of mel bins of every paper model.
pub const N_MELS: usize = 128;

impl ModelConfig {
    /// The paper's configuration of `kind` for `n_classes` classes.
    pub fn new(kind: ModelKind, n_classes: usize) -> Self {
        match kind {
            ModelKind::Crnn => Self::crnn(n_classes),
            ModelKind::CrnnFgnl => Self::crnn_fgnl(n_classes),
            ModelKind::Crnnm => Self::crnnm(n_classes),
            ModelKind::CrnnmFgnl => Self::crnnm_fgnl(n_classes),
            ModelKind::CrnnNl => Self::crnn_nl(n_classes),
            ModelKind::CrnnFgnlLight => Self::crnn_fgnl_light(n_classes),
            ModelKind::FgnlBackbone => Self::fgnl_backbone(n_classes),
        }
    }

    /// Channels reaching the attention module and the GRU (all branches joined).
    pub fn channels_out(&self) -> usize {
        self.backbone.channels_out() * self.inputs.branches()
    }

    /// GRU input features: remaining mel bins × channels.
    pub fn gru_input_features(&self) -> usize {
        self.backbone.mels_out() * self.channels_out()
    }

    /// Smallest clip length (frames) the model accepts: one GRU step.
    pub fn min_frames(&self) -> usize {
        self.backbone.downsampling()[1]
    }

    /// Checks that the config builds a working model.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let fail = |m: String| Err(ModelError::InvalidConfig(m));
        let b = &self.backbone;
        if self.n_classes == 0 {
            return fail("n_classes must be at least 1".into());
        }
        if self.gru_units == 0 {
            return fail("gru_units must be at least 1".into());
        }
        for (name, p) in [
            ("head_dropout", self.head_dropout),
            ("backbone.dropout", b.dropout),
        ] {
            if !(0.0..1.0).contains(&p) {
                return fail(format!("{name} must be in [0, 1), got {p}"));
            }
        }
        if b.bn_epsilon.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
            || !(0.0..=1.0).contains(&b.bn_momentum)
        {
            return fail(format!(
                "backbone batch-norm needs epsilon > 0 and momentum in [0, 1], got {} and {}",
                b.bn_epsilon, b.bn_momentum
            ));
        }
        if b.filters.is_empty() || b.filters.len() != b.pools.len() {
            return fail(format!(
                "backbone needs one pool entry per block: {} filters, {} pools",
                b.filters.len(),
                b.pools.len()
            ));
        }
        if b.filters.contains(&0) || b.pools.iter().flatten().any(|p| p.contains(&0)) {
            return fail("backbone filters and pool sizes must be positive".into());
        }
        if b.kernel_size.is_multiple_of(2) {
            return fail(format!(
                "backbone.kernel_size must be odd, got {}",
                b.kernel_size
            ));
        }
        if b.mels_out() == 0 {
            return fail(format!(
                "{} mel bins do not survive the pools {:?}",
                b.mels, b.pools
            ));
        }
        if self.attention.needs_previous_block() && b.filters.len() < 2 {
            return fail("FGNL over two blocks needs at least two conv blocks".into());
        }
        let reduction = match &self.attention {
            Attention::Off => None,
            Attention::NonLocal(c) => Some(c.reduction),
            Attention::Fgnl(c) => Some(c.reduction),
        };
        if let Some(m) = reduction {
            let c = self.channels_out();
            if m == 0 || !c.is_multiple_of(m) || c < m {
                return fail(format!(
                    "attention reduction {m} must divide the {c} channels of the last block"
                ));
            }
        }
        if let Attention::Fgnl(c) = &self.attention
            && c.excitation_hidden == 0
        {
            return fail("FGNL excitation_hidden must be at least 1".into());
        }
        Ok(())
    }

    /// Builds the model with Keras' default initialisation.
    ///
    /// # Panics
    /// If [`validate`](Self::validate) fails; use [`try_init`](Self::try_init) for a `Result`.
    pub fn init(&self, device: &Device) -> Model {
        match self.try_init(device) {
            Ok(model) => model,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the model after validating the config.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`].
    pub fn try_init(&self, device: &Device) -> Result<Model, ModelError> {
        self.validate()?;
        let channels = self.channels_out();
        Ok(Model {
            branches: (0..self.inputs.branches())
                .map(|_| self.backbone.init_branch(device))
                .collect(),
            attention: self.attention.init(channels, device),
            gru_sequence: KerasGruConfig::new(self.gru_input_features())
                .with_units(self.gru_units)
                .init(device),
            gru_final: KerasGruConfig::new(self.gru_units)
                .with_units(self.gru_units)
                .init(device),
            dropout: DropoutConfig::new(self.head_dropout).init(),
            dense: keras_init::dense(self.gru_units, self.n_classes, device),
            config: self.clone(),
        })
    }
}

/// Intermediate tensors of one forward pass (burn layouts: NCHW images).
#[derive(Debug, Default, Clone)]
pub struct ForwardTrace {
    /// Per branch: the input batch-norm output `[batch, 1, mels, frames]`.
    pub input_norm: Vec<Tensor<4>>,
    /// Per branch, per block: the block output `[batch, filters, mels_i, frames_i]`.
    pub blocks: Vec<Vec<Tensor<4>>>,
    /// The branches joined on channels after the last block (two-branch models only).
    pub joined: Option<Tensor<4>>,
    /// FGNL internals (FGNL models only).
    pub fgnl: FgnlTrace,
    /// The attention module's output `[batch, C, mels_out, frames_out]`.
    pub attention: Option<Tensor<4>>,
    /// GRU input after Permute + Reshape: `[batch, frames_out, mels_out * C]`.
    pub gru_input: Option<Tensor<3>>,
    /// First GRU's states `[batch, frames_out, units]`.
    pub gru_sequence: Option<Tensor<3>>,
}

/// A singer-identification model; see the module docs.
#[derive(Module, Debug)]
pub struct Model {
    /// One conv front end per input (mel first).
    pub branches: Vec<Branch>,
    /// Non-local or FGNL module on the last block, if any.
    pub attention: Option<AttentionBlock>,
    /// GRU returning the whole sequence.
    pub gru_sequence: KerasGru,
    /// GRU returning its last state (the embedding).
    pub gru_final: KerasGru,
    /// Dropout before the classifier.
    pub dropout: Dropout,
    /// Classifier, weight `[units, classes]`.
    pub dense: Linear,
    /// The config this model was built from.
    #[module(skip)]
    pub config: ModelConfig,
}

impl Model {
    /// The config this model was built from.
    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Number of parameters, counted as Keras' `count_params()` does: trainable weights plus
    /// batch-norm moving statistics and the fixed Gaussian kernels (394,516 for CRNN, ...).
    ///
    /// Same as [`Module::num_params`]; here so callers need not import the trait.
    pub fn num_params(&self) -> usize {
        <Self as Module>::num_params(self)
    }

    /// Classifies clips.
    ///
    /// # Shapes
    /// - `mel`: `[batch, 1, mels, frames]` log-mel (dB)
    /// - `melody`: `Some([batch, 1, mels, frames])` for CRNNM models, `None` otherwise
    /// - output: logits `[batch, classes]`, embedding `[batch, gru_units]`
    ///
    /// # Panics
    /// On a wrong input shape, a melody input given to (or missing from) a model, or a clip
    /// shorter than [`ModelConfig::min_frames`].
    ///
    /// # Memory
    /// In inference on the CPU (plain burn-flex, no autodiff) every clip is computed on its
    /// own (moving batch-norm statistics, no dropout), so a batch larger than
    /// [`INFERENCE_CHUNK`] clips is run [`INFERENCE_CHUNK`] clips at a time and the outputs
    /// joined: peak memory follows the chunk, not the batch (issue 11: CRNN_FGNL's activations
    /// for 64 clips of 94 frames are several hundred MiB each). Training, and other devices, see
    /// the whole batch.
    pub fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput {
        let batch = mel.dims()[0];
        if batch <= INFERENCE_CHUNK || !on_plain_flex(&mel) {
            return self.forward_traced(mel, melody, None);
        }
        let mel = mel.split(INFERENCE_CHUNK, 0);
        let melody = match melody {
            Some(melody) => melody
                .split(INFERENCE_CHUNK, 0)
                .into_iter()
                .map(Some)
                .collect(),
            None => vec![None; mel.len()],
        };
        let (logits, embedding): (Vec<_>, Vec<_>) = mel
            .into_iter()
            .zip(melody)
            .map(|(mel, melody)| {
                let out = self.forward_traced(mel, melody, None);
                (out.logits, out.embedding)
            })
            .unzip();
        ModelOutput {
            logits: Tensor::cat(logits, 0),
            embedding: Tensor::cat(embedding, 0),
        }
    }

    /// [`forward`](Self::forward), recording intermediates into `trace` when given.
    pub fn forward_traced(
        &self,
        mel: Tensor<4>,
        melody: Option<Tensor<4>>,
        mut trace: Option<&mut ForwardTrace>,
    ) -> ModelOutput {
        let config = &self.config;
        let [batch, channels, mels, frames] = mel.dims();
        assert!(
            channels == 1 && mels == config.backbone.mels,
            "mel input must be [batch, 1, {}, frames], got {:?}",
            config.backbone.mels,
            mel.dims()
        );
        assert!(
            frames >= config.min_frames(),
            "clip of {frames} frames is shorter than the {} the model needs",
            config.min_frames()
        );
        let inputs = match (config.inputs, melody) {
            (Inputs::Mel, None) => vec![mel],
            (Inputs::MelAndMelody, Some(melody)) => {
                assert!(
                    melody.dims() == [batch, channels, mels, frames],
                    "melody input must match the mel input {:?}, got {:?}",
                    [batch, channels, mels, frames],
                    melody.dims()
                );
                vec![mel, melody]
            }
            (Inputs::Mel, Some(_)) => panic!("{} takes no melody input", config.kind),
            (Inputs::MelAndMelody, None) => panic!("{} needs a melody input", config.kind),
        };

        let mut last = Vec::with_capacity(inputs.len());
        let mut previous = Vec::with_capacity(inputs.len());
        for (branch, x) in self.branches.iter().zip(inputs) {
            let (normalised, mut blocks) = branch.forward_all(x);
            if let Some(trace) = trace.as_deref_mut() {
                trace.input_norm.push(normalised);
                trace.blocks.push(blocks.clone());
            }
            let x4 = blocks.pop();
            previous.push(blocks.pop());
            last.extend(x4);
        }
        // Join the branches on channels, mel first (Keras `Concatenate(axis=-1)`).
        let x = join_channels(last); // [batch, C, mels_out, frames_out]
        if let Some(trace) = trace.as_deref_mut()
            && self.branches.len() > 1
        {
            trace.joined = Some(x.clone());
        }

        let x = match &self.attention {
            Some(attention) => {
                let x3 = config
                    .attention
                    .needs_previous_block()
                    .then(|| join_channels(previous.into_iter().flatten().collect()));
                let fgnl_trace = trace.as_deref_mut().map(|t| &mut t.fgnl);
                let z = attention.forward_traced(x, x3, fgnl_trace);
                if let Some(trace) = trace.as_deref_mut() {
                    trace.attention = Some(z.clone());
                }
                z
            }
            None => x,
        }; // [batch, C, mels_out, frames_out]

        // Keras Permute((2, 1, 3)) + Reshape: feature index = mel * C + channel.
        let [_, c, f, t] = x.dims();
        let x = x.permute([0, 3, 2, 1]).reshape([batch, t, f * c]); // [batch, frames_out, F·C]
        let (sequence, _) = self.gru_sequence.forward(x.clone()); // [batch, frames_out, units]
        let (_, embedding) = self.gru_final.forward(sequence.clone()); // [batch, units]
        if let Some(trace) = trace {
            trace.gru_input = Some(x);
            trace.gru_sequence = Some(sequence);
        }
        let logits = self.dense.forward(self.dropout.forward(embedding.clone())); // [batch, classes]
        ModelOutput { logits, embedding }
    }
}

/// Clips per piece of a CPU inference batch (see [`Model::forward`]): large enough that the
/// convolutions stay matrix products of tens of thousands of columns, small enough that
/// CRNN_FGNL's largest activation is tens of MiB.
pub const INFERENCE_CHUNK: usize = 16;

/// Whether `x` lives on plain burn-flex: the CPU, not recording gradients.
fn on_plain_flex(x: &Tensor<4>) -> bool {
    !x.device().is_autodiff()
        && x.clone()
            .try_into_primitive::<burn::backend::Flex>()
            .is_ok()
}

/// The CRNN family in the registry: seven entries (one per [`ModelKind`]) over this one config.
impl ClassifierConfig for ModelConfig {
    type Model = Model;

    fn try_init(&self, device: &Device) -> Result<Model, ModelError> {
        ModelConfig::try_init(self, device)
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    fn inputs(&self) -> Inputs {
        self.inputs
    }

    fn min_frames(&self) -> usize {
        ModelConfig::min_frames(self)
    }
}

impl Classifier for Model {
    type Config = ModelConfig;

    /// The preset's name: a CRNN config names its registry entry in `kind`.
    fn name(&self) -> &'static str {
        self.config.kind.name()
    }

    fn config(&self) -> &ModelConfig {
        &self.config
    }

    fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput {
        Model::forward(self, mel, melody)
    }

    fn regularization(&self, output: &ModelOutput) -> Option<Tensor<1>> {
        let kernel = (self.config.dense_l2 > 0.0).then(|| {
            self.dense
                .weight
                .val()
                .powi_scalar(2)
                .sum()
                .mul_scalar(self.config.dense_l2)
        });
        let activity = (self.config.dense_activity_l1 > 0.0).then(|| {
            let [batch, _] = output.logits.dims();
            output
                .logits
                .clone()
                .abs()
                .sum()
                .mul_scalar(self.config.dense_activity_l1 / batch.max(1) as f64)
        });
        match (kernel, activity) {
            (Some(k), Some(a)) => Some(k + a),
            (k, a) => k.or(a),
        }
    }
}

fn join_channels(mut maps: Vec<Tensor<4>>) -> Tensor<4> {
    match maps.len() {
        1 => maps.remove(0),
        _ => Tensor::cat(maps, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn mel(batch: usize, frames: usize, device: &Device) -> Tensor<4> {
        Tensor::random(
            [batch, 1, N_MELS, frames],
            Distribution::Uniform(-40.0, 40.0),
            device,
        )
    }

    /// Issue 13: the authors' Dense regularisers. For CRNN_FGNL the penalty is
    /// `0.01 · Σ W²` over the Dense kernel plus `0.01 · Σ |logit| / batch`, computed here by
    /// hand from the same weights and logits; the CRNN has none; and a config written before
    /// the fields existed reads them as 0.
    #[test]
    fn crnn_fgnl_adds_the_authors_dense_penalties_to_the_loss() {
        use crate::classifier::Classifier;
        let device = Device::default();
        let model = ModelConfig::crnn_fgnl(5).init(&device);
        let output = Model::forward(&model, mel(3, 94, &device), None);
        let penalty: f32 = Classifier::regularization(&model, &output)
            .expect("a penalty")
            .into_scalar();
        let weights = model
            .dense
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        let logits = output
            .logits
            .clone()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        let kernel: f64 = weights.iter().map(|w| f64::from(*w).powi(2)).sum();
        let activity: f64 = logits.iter().map(|l| f64::from(*l).abs()).sum::<f64>() / 3.0;
        let expected = 0.01 * kernel + 0.01 * activity;
        assert!((f64::from(penalty) - expected).abs() < 1e-5 * expected.max(1.0));

        let crnn = ModelConfig::crnn(5).init(&device);
        let output = Model::forward(&crnn, mel(2, 94, &device), None);
        assert!(Classifier::regularization(&crnn, &output).is_none());

        let mut old = serde_json::to_value(ModelConfig::crnn_fgnl(5)).expect("json");
        let map = old.as_object_mut().expect("object");
        map.remove("dense_l2");
        map.remove("dense_activity_l1");
        let read: ModelConfig = serde_json::from_value(old).expect("an old config still reads");
        assert_eq!((read.dense_l2, read.dense_activity_l1), (0.0, 0.0));
    }

    /// Output shapes over a grid of batch sizes, clip lengths and class counts, for every kind
    /// (the GRU runs floor(T / 16) or floor(T / 8) steps; T need not divide evenly).
    #[test]
    fn output_shapes_for_any_batch_and_length() {
        let device = Device::default();
        for kind in ModelKind::ALL {
            for (batch, frames, classes) in [(1, 16, 2), (3, 37, 11)] {
                let config = ModelConfig::new(kind, classes);
                let model = config.init(&device);
                let melody = kind.uses_melody().then(|| mel(batch, frames, &device));
                let out = model.forward(mel(batch, frames, &device), melody);
                assert_eq!(out.logits.dims(), [batch, classes], "{kind}");
                assert_eq!(out.embedding.dims(), [batch, 32], "{kind}");
            }
        }
    }

    /// A CPU inference batch larger than [`INFERENCE_CHUNK`] goes through in pieces (the last
    /// one partial) and gives the outputs of the whole batch at once, melody input included.
    #[test]
    fn chunked_inference_equals_the_whole_batch() {
        use burn::tensor::Tolerance;
        let device = Device::default();
        let batch = 2 * INFERENCE_CHUNK + 3;
        for kind in [ModelKind::Crnn, ModelKind::CrnnmFgnl] {
            let model = ModelConfig::new(kind, 4).init(&device);
            let x = mel(batch, 24, &device);
            assert!(on_plain_flex(&x), "the default device is plain burn-flex");
            let melody = kind.uses_melody().then(|| mel(batch, 24, &device));
            let chunked = model.forward(x.clone(), melody.clone());
            let whole = model.forward_traced(x, melody, None);
            assert_eq!(chunked.logits.dims(), [batch, 4], "{kind}");
            let scale = whole
                .logits
                .clone()
                .abs()
                .max()
                .into_scalar::<f32>()
                .max(1.0);
            chunked.logits.into_data().assert_approx_eq::<f32>(
                &whole.logits.into_data(),
                Tolerance::absolute(1e-5 * scale),
            );
            chunked
                .embedding
                .into_data()
                .assert_approx_eq::<f32>(&whole.embedding.into_data(), Tolerance::absolute(1e-5));
        }
    }

    #[test]
    fn kind_names_round_trip() {
        for kind in ModelKind::ALL {
            assert_eq!(kind.name().parse::<ModelKind>().ok(), Some(kind));
            let json = serde_json::to_string(&kind).expect("json");
            assert_eq!(json, format!("\"{}\"", kind.name()));
        }
        assert!("crnn_v2".parse::<ModelKind>().is_err());
    }

    #[test]
    fn config_json_round_trip() {
        for kind in ModelKind::ALL {
            let config = ModelConfig::new(kind, 20);
            let json = serde_json::to_string(&config).expect("json");
            let back: ModelConfig = serde_json::from_str(&json).expect("parse");
            assert_eq!(back, config);
        }
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let device = Device::default();
        let mut c = ModelConfig::crnn(0);
        assert!(c.try_init(&device).is_err());
        c.n_classes = 3;
        c.backbone.pools.pop();
        assert!(c.validate().is_err());
        let mut c = ModelConfig::crnn_fgnl(3);
        c.backbone.filters = vec![64, 128, 128, 100];
        assert!(
            c.validate().is_err(),
            "100 channels are not divisible by 32"
        );
    }

    #[test]
    #[should_panic(expected = "mel input must be")]
    fn wrong_mel_count_panics() {
        let device = Device::default();
        let model = ModelConfig::crnn(3).init(&device);
        let _ = model.forward(Tensor::zeros([1, 1, 64, 40], &device), None);
    }

    #[test]
    #[should_panic(expected = "needs a melody input")]
    fn missing_melody_panics() {
        let device = Device::default();
        let model = ModelConfig::crnnm(3).init(&device);
        let _ = model.forward(mel(1, 40, &device), None);
    }

    #[test]
    #[should_panic(expected = "takes no melody input")]
    fn unexpected_melody_panics() {
        let device = Device::default();
        let model = ModelConfig::crnn(3).init(&device);
        let _ = model.forward(mel(1, 40, &device), Some(mel(1, 40, &device)));
    }

    #[test]
    #[should_panic(expected = "shorter than")]
    fn too_short_clip_panics() {
        let device = Device::default();
        let model = ModelConfig::crnn(3).init(&device);
        let _ = model.forward(mel(1, 15, &device), None);
    }

    /// On a plain device dropout is off and batch-norm uses its moving statistics, so two
    /// passes agree exactly; on an autodiff device dropout makes them differ.
    #[test]
    fn inference_is_deterministic_and_training_is_not() {
        let device = Device::default();
        let model = ModelConfig::crnn(3).init(&device);
        let x = mel(2, 32, &device);
        let a = model.forward(x.clone(), None).logits.into_data();
        let b = model.forward(x, None).logits.into_data();
        assert_eq!(a, b);

        let device = device.autodiff();
        let model = ModelConfig::crnn(3).init(&device);
        let x = mel(2, 32, &device);
        let a = model.forward(x.clone(), None).embedding.into_data();
        let b = model.forward(x, None).embedding.into_data();
        assert_ne!(a, b);
    }
}
