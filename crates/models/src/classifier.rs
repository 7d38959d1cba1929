//! What every singer classifier is to the rest of singerid, written once.
//!
//! A model file implements two small typed traits:
//! - [`ClassifierConfig`] on its `XConfig` (serde, so a checkpoint can store it): build the
//!   module, and say its class count, inputs and shortest clip;
//! - [`Classifier`] on its `#[derive(Module)]` struct: its registry name, its config and
//!   `forward`.
//!
//! A blanket impl turns every [`Classifier`] into a [`SingerModel`], the object-safe trait that
//! the trainer, the bundles and prediction hold as `Box<dyn SingerModel>`. Everything generic
//! over the module type lives in that impl, once: the optimiser step (backward,
//! [`GradientsParams`], [`ModuleOptimizer::step`]), inference copies ([`Module::valid`]),
//! parameter counts and the weight files (safetensors for bundles, burnpack for the trainer's
//! resumable `last/`, which keeps the parameter ids Adam's state is keyed by).

use std::any::Any;
use std::fmt::Debug;
use std::path::Path;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor};
use burn_store::{ApplyResult, BurnpackStore, ModuleSnapshot, SafetensorsStore};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::ModelError;
use crate::model::Inputs;

/// What a forward pass returns.
#[derive(Debug, Clone)]
pub struct ModelOutput {
    /// Pre-softmax class scores `[batch, classes]`.
    pub logits: Tensor<2>,
    /// The clip embedding `[batch, dim]` (the CRNNs' last GRU state, 32-d in the paper), used
    /// for t-SNE and retrieval.
    pub embedding: Tensor<2>,
}

/// The config of a [`Classifier`]: every hyper-parameter, stored as JSON in checkpoints.
pub trait ClassifierConfig:
    Serialize + DeserializeOwned + Clone + Debug + Send + Sync + 'static
{
    /// The module this config builds.
    type Model: Classifier<Config = Self>;

    /// Builds the module after validating the config.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the offending field.
    fn try_init(&self, device: &Device) -> Result<Self::Model, ModelError>;

    /// Number of classes (singers).
    fn n_classes(&self) -> usize;

    /// The inputs `forward` takes.
    fn inputs(&self) -> Inputs {
        Inputs::Mel
    }

    /// Smallest clip length (frames) the model accepts.
    fn min_frames(&self) -> usize {
        1
    }
}

/// A singer classifier module: the one trait a model file implements besides its config.
pub trait Classifier: Module + Sync + 'static {
    /// Its config type.
    type Config: ClassifierConfig<Model = Self>;

    /// The registry name this module was built under (`crnn_fgnl`, `mel_stats_linear`, ...).
    fn name(&self) -> &'static str;

    /// The config it was built from.
    fn config(&self) -> &Self::Config;

    /// Classifies clips.
    ///
    /// # Shapes
    /// - `mel`: `[batch, 1, mels, frames]` log-mel (dB)
    /// - `melody`: `Some([batch, 1, mels, frames])` for [`Inputs::MelAndMelody`] models
    /// - output: logits `[batch, classes]`, embedding `[batch, dim]`
    fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput;

    /// The penalty this model adds to the training loss for a batch whose forward pass gave
    /// `output` (Keras `kernel_regularizer`s and `activity_regularizer`s), as a scalar `[1]`
    /// tensor on the model's device; `None` (the default) for no penalty.
    fn regularization(&self, output: &ModelOutput) -> Option<Tensor<1>> {
        let _ = output;
        None
    }
}

/// A classifier behind a trait object: what training, prediction and checkpoints need.
///
/// Implemented for every [`Classifier`]; do not implement it by hand.
pub trait SingerModel: Send + Sync + Debug + Any {
    /// The registry name ([`crate::registry::get`] rebuilds it from [`config_json`](Self::config_json)).
    fn name(&self) -> &'static str;
    /// The config as JSON (the `config` field of a checkpoint's `config.json`).
    fn config_json(&self) -> serde_json::Value;
    /// Number of classes.
    fn n_classes(&self) -> usize;
    /// The inputs `forward` takes.
    fn inputs(&self) -> Inputs;
    /// Smallest clip length in frames.
    fn min_frames(&self) -> usize;
    /// Number of parameters, batch-norm statistics and fixed kernels included (Keras'
    /// `count_params()`).
    fn num_params(&self) -> usize;
    /// The device the weights are on.
    fn device(&self) -> Device;
    /// See [`Classifier::forward`].
    fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput;
    /// See [`Classifier::regularization`].
    fn regularization(&self, output: &ModelOutput) -> Option<Tensor<1>>;
    /// The inference copy ([`Module::valid`]): on the inner device when trained on an autodiff
    /// device, so batch-norm uses its moving statistics and dropout is off.
    fn valid(&self) -> Box<dyn SingerModel>;
    /// A copy sharing nothing mutable with `self`.
    fn clone_boxed(&self) -> Box<dyn SingerModel>;
    /// One optimiser step on `loss` (a scalar computed from this model's outputs on an autodiff
    /// device): backward, gradients per parameter, `optimizer.step`.
    fn step(
        self: Box<Self>,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
        loss: Tensor<1>,
    ) -> Box<dyn SingerModel>;
    /// Writes every tensor to a safetensors file with `metadata` in its header.
    ///
    /// # Errors
    /// [`ModelError::Safetensors`] naming the file.
    fn save_safetensors(&self, path: &Path, metadata: &[(&str, String)]) -> Result<(), ModelError>;
    /// Reads the tensors of a safetensors file into the model; the result lists unused keys.
    ///
    /// # Errors
    /// [`ModelError::Safetensors`] naming the file.
    fn load_safetensors(&mut self, path: &Path) -> Result<ApplyResult, ModelError>;
    /// Writes a burnpack file (keeps parameter ids, which key an optimiser record).
    ///
    /// # Errors
    /// [`ModelError::Safetensors`] naming the file.
    fn save_burnpack(&self, path: &Path) -> Result<(), ModelError>;
    /// Reads a burnpack file into the model, parameter ids included.
    ///
    /// # Errors
    /// [`ModelError::Safetensors`] naming the file.
    fn load_burnpack(&mut self, path: &Path) -> Result<ApplyResult, ModelError>;
    /// For downcasting to the concrete module ([`downcast`]).
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete module ([`downcast`]).
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<M: Classifier> SingerModel for M {
    fn name(&self) -> &'static str {
        Classifier::name(self)
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::to_value(self.config()).expect("model configs serialise to JSON")
    }

    fn n_classes(&self) -> usize {
        self.config().n_classes()
    }

    fn inputs(&self) -> Inputs {
        self.config().inputs()
    }

    fn min_frames(&self) -> usize {
        self.config().min_frames()
    }

    fn num_params(&self) -> usize {
        Module::num_params(self)
    }

    fn device(&self) -> Device {
        self.devices().into_iter().next().unwrap_or_default()
    }

    fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput {
        Classifier::forward(self, mel, melody)
    }

    fn regularization(&self, output: &ModelOutput) -> Option<Tensor<1>> {
        Classifier::regularization(self, output)
    }

    fn valid(&self) -> Box<dyn SingerModel> {
        Box::new(Module::valid(self))
    }

    fn clone_boxed(&self) -> Box<dyn SingerModel> {
        Box::new(self.clone())
    }

    fn step(
        self: Box<Self>,
        optimizer: &mut ModuleOptimizer,
        learning_rate: f64,
        loss: Tensor<1>,
    ) -> Box<dyn SingerModel> {
        let grads = GradientsParams::from_grads(loss.backward(), &*self);
        Box::new(optimizer.step(learning_rate, *self, grads))
    }

    fn save_safetensors(&self, path: &Path, metadata: &[(&str, String)]) -> Result<(), ModelError> {
        let mut store = SafetensorsStore::from_file(path).overwrite(true);
        for (key, value) in metadata {
            store = store.metadata(*key, value.clone());
        }
        self.save_into(&mut store)
            .map_err(|e| store_error(path, e.to_string()))
    }

    fn load_safetensors(&mut self, path: &Path) -> Result<ApplyResult, ModelError> {
        let mut store = SafetensorsStore::from_file(path);
        self.load_from(&mut store)
            .map_err(|e| store_error(path, e.to_string()))
    }

    fn save_burnpack(&self, path: &Path) -> Result<(), ModelError> {
        let mut store = BurnpackStore::from_file(path).overwrite(true);
        self.save_into(&mut store)
            .map_err(|e| store_error(path, e.to_string()))
    }

    fn load_burnpack(&mut self, path: &Path) -> Result<ApplyResult, ModelError> {
        let mut store = BurnpackStore::from_file(path);
        self.load_from(&mut store)
            .map_err(|e| store_error(path, e.to_string()))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// The concrete module behind a trait object, if it is an `M`.
pub fn downcast<M: Classifier>(model: Box<dyn SingerModel>) -> Option<M> {
    model.into_any().downcast::<M>().ok().map(|m| *m)
}

/// Builds `C`'s module from its JSON and boxes it: the `build` of a registry entry.
///
/// # Errors
/// [`ModelError::ConfigJson`] when the JSON is not a `C`, [`ModelError::InvalidConfig`] when
/// the config does not validate.
pub fn build_from_json<C: ClassifierConfig>(
    config: &serde_json::Value,
    device: &Device,
) -> Result<Box<dyn SingerModel>, ModelError> {
    let config: C = serde_json::from_value(config.clone()).map_err(ModelError::ConfigJson)?;
    Ok(Box::new(config.try_init(device)?))
}

fn store_error(path: &Path, message: String) -> ModelError {
    ModelError::Safetensors {
        path: path.to_owned(),
        message,
    }
}
