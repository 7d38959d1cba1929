//! The one list of models by name (timm's `create_model("resnet50")`, torchvision's
//! `get_model(name)`): adding a model is its file (or folder) plus ONE line in [`ENTRIES`].
//! Nothing else in singerid enumerates models: the trainer, checkpoints, bundles, the CLI's
//! model names and the reproduce grid all read this list.
//!
//! # Adding a model
//!
//! 1. Its file, e.g. `baseline/mel_stats_linear.rs`: a `#[derive(Module)]` struct, an
//!    `XConfig` (serde: burn's `#[derive(Config)]` gives it), `impl ClassifierConfig for XConfig`
//!    (`try_init`, `n_classes`, and `inputs` / `min_frames` when not the defaults) and
//!    `impl Classifier for X` (`name`, `config`, `forward`), plus the `pub mod` line Rust needs
//!    in the parent module.
//! 2. One line in [`ENTRIES`]:
//!    `entry("x", "summary", Inputs::Mel, |n| json(XConfig::new(n)), build_from_json::<XConfig>),`
//!
//! Training, checkpoints, bundles, prediction and the listings then work unchanged; the tests
//! here check the new entry builds, round-trips its config and reports its own name.
//!
//! # How an entry works
//!
//! An entry is a name, a one-line summary, the inputs, a `default_config(n_classes)` and a
//! `build(config, device)`. Configs cross the registry as `serde_json::Value` so that one
//! untyped list can hold models with unrelated config types; the typed work happens in the
//! model file, behind [`ClassifierConfig`] / [`Classifier`]:
//! - `default_config` is a non-capturing closure over the model's preset, serialised by
//!   [`json`];
//! - `build` is [`build_from_json::<XConfig>`](build_from_json), the same generic function for
//!   every model: deserialise the config (unknown fields are errors), validate, init, box as
//!   `dyn` [`SingerModel`].
//!
//! Design notes. Entries are plain data in a `static` slice, not `inventory`/`linkme`
//! self-registration: the list is greppable, ordered (the paper's tables first) and needs no
//! link-time tricks. The CRNN family shares one [`ModelConfig`] and is seven entries over its
//! presets; [`ModelKind`](crate::ModelKind) stays as that family's variant list. A model
//! reports its own registry name ([`Classifier::name`]); a test checks that every entry builds
//! a model reporting that entry's name, inputs and class count.

use burn::tensor::Device;

use crate::baseline::mel_stats_linear::MelStatsLinearConfig;
use crate::classifier::{ClassifierConfig, SingerModel, build_from_json};
use crate::error::ModelError;
use crate::iclr2018::Iclr2018Config;
use crate::model::{Inputs, ModelConfig};
use crate::tagger::{Budget, ChoiCrnnConfig, K1c2Config, K2c2Config};

/// The inputs a model takes (same enum as the CRNN config's `inputs`).
pub type InputKind = Inputs;

/// Builds a model from its config (as JSON) on a device: [`build_from_json::<XConfig>`](build_from_json).
pub type BuildFn = fn(&serde_json::Value, &Device) -> Result<Box<dyn SingerModel>, ModelError>;

/// One registered model.
#[derive(Debug, Clone, Copy)]
pub struct ModelEntry {
    /// The name in configs, checkpoints and on the command line (snake case).
    pub name: &'static str,
    /// One line for `--help` and listings.
    pub summary: &'static str,
    /// The inputs the model takes.
    pub input: InputKind,
    /// The model's default (paper) config for `n_classes` classes, as JSON.
    pub default_config: fn(usize) -> serde_json::Value,
    /// Builds the model from a config (as JSON) on a device.
    pub build: BuildFn,
}

impl ModelEntry {
    /// Whether the model takes the melody input as well.
    pub fn uses_melody(&self) -> bool {
        self.input == Inputs::MelAndMelody
    }

    /// Builds the model from `config` and checks that it is this entry's model (a CRNN config
    /// names its preset in `kind`, which must be this entry).
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for a config that does not parse, validate or belong here.
    pub fn init(
        &self,
        config: &serde_json::Value,
        device: &Device,
    ) -> Result<Box<dyn SingerModel>, ModelError> {
        let model = (self.build)(config, device)?;
        if model.name() != self.name {
            return Err(ModelError::InvalidConfig(format!(
                "the config describes a {} model, not {}",
                model.name(),
                self.name
            )));
        }
        Ok(model)
    }

    /// Builds the model with its default config for `n_classes` classes.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] (e.g. 0 classes).
    pub fn init_default(
        &self,
        n_classes: usize,
        device: &Device,
    ) -> Result<Box<dyn SingerModel>, ModelError> {
        self.init(&(self.default_config)(n_classes), device)
    }
}

/// Serialises a preset for [`ModelEntry::default_config`].
///
/// # Panics
/// If the config does not serialise (a bug in its `Serialize` impl).
pub fn json<C: ClassifierConfig>(config: C) -> serde_json::Value {
    serde_json::to_value(config).expect("model configs serialise to JSON")
}

/// One line per model, the paper's tables first.
#[rustfmt::skip]
pub static ENTRIES: &[ModelEntry] = &[
    entry("crnn", "Nasrullah & Zhao's CRNN, the paper's baseline (394,516 parameters)", Inputs::Mel, |n| json(ModelConfig::crnn(n)), build_from_json::<ModelConfig>),
    entry("crnn_fgnl", "Kuo et al.'s CRNN_FGNL (584,141)", Inputs::Mel, |n| json(ModelConfig::crnn_fgnl(n)), build_from_json::<ModelConfig>),
    entry("crnnm", "CRNNM: CRNN branches for mel and melody (778,772)", Inputs::MelAndMelody, |n| json(ModelConfig::crnnm(n)), build_from_json::<ModelConfig>),
    entry("crnnm_fgnl", "Kuo et al.'s CRNNM_FGNL (1,175,381)", Inputs::MelAndMelody, |n| json(ModelConfig::crnnm_fgnl(n)), build_from_json::<ModelConfig>),
    entry("crnn_nl", "CRNN_NL: the FGNL backbone with Wang et al.'s non-local block", Inputs::Mel, |n| json(ModelConfig::crnn_nl(n)), build_from_json::<ModelConfig>),
    entry("crnn_fgnl_light", "CRNN_FGNL_LIGHT: FGNL over block 4 only", Inputs::Mel, |n| json(ModelConfig::crnn_fgnl_light(n)), build_from_json::<ModelConfig>),
    entry("fgnl_backbone", "The FGNL backbone without attention (578,836), the fair control", Inputs::Mel, |n| json(ModelConfig::fgnl_backbone(n)), build_from_json::<ModelConfig>),
    entry("iclr_cnn", "ICLR-2018 shallow CNN (64, 128) + feed-forward attention (622,400 conv parameters)", Inputs::Mel, |n| json(Iclr2018Config::cnn(n)), build_from_json::<Iclr2018Config>),
    entry("iclr_cnn_deep", "ICLR-2018 deep CNN (13 conv layers) + average aggregation", Inputs::Mel, |n| json(Iclr2018Config::cnn_deep(n)), build_from_json::<Iclr2018Config>),
    entry("iclr_resnext", "ICLR-2018 shallow ResNeXt (cardinality 4) + feed-forward attention (54,208 conv parameters)", Inputs::Mel, |n| json(Iclr2018Config::resnext(n)), build_from_json::<Iclr2018Config>),
    entry("iclr_resnext_deep", "ICLR-2018 deep ResNeXt (19 conv layers) + average aggregation", Inputs::Mel, |n| json(Iclr2018Config::resnext_deep(n)), build_from_json::<Iclr2018Config>),
    entry("iclr_resnext_siamese", "ICLR-2018 siamese twin: ResNeXt (128, 128) + attention + 16-d linear embedding (train with --objective contrastive)", Inputs::Mel, |n| json(Iclr2018Config::resnext_siamese(n)), build_from_json::<Iclr2018Config>),
    entry("choi_k1c2", "Choi et al.'s k1c2 (Conv1D) tagger; budget 0.1M-3M by config, default 1M", Inputs::Mel, |n| json(K1c2Config::new(n, Budget::default())), build_from_json::<K1c2Config>),
    entry("choi_k2c2", "Choi et al.'s k2c2 (Conv2D) tagger; budget 0.1M-3M by config, default 1M", Inputs::Mel, |n| json(K2c2Config::new(n, Budget::default())), build_from_json::<K2c2Config>),
    entry("choi_crnn", "Choi et al.'s CRNN tagger (4 conv + 2 GRU); budget 0.1M-3M by config, default 1M", Inputs::Mel, |n| json(ChoiCrnnConfig::new(n, Budget::default())), build_from_json::<ChoiCrnnConfig>),
    entry("mel_stats_linear", "Log-mel mean/std per bin + softmax regression, the classic baseline", Inputs::Mel, |n| json(MelStatsLinearConfig::new(n)), build_from_json::<MelStatsLinearConfig>),
];

const fn entry(
    name: &'static str,
    summary: &'static str,
    input: InputKind,
    default_config: fn(usize) -> serde_json::Value,
    build: BuildFn,
) -> ModelEntry {
    ModelEntry {
        name,
        summary,
        input,
        default_config,
        build,
    }
}

/// Every entry, in registry order.
pub fn entries() -> &'static [ModelEntry] {
    ENTRIES
}

/// Every registered name, in registry order.
pub fn names() -> Vec<&'static str> {
    ENTRIES.iter().map(|e| e.name).collect()
}

/// The entry called `name`.
///
/// # Errors
/// [`ModelError::UnknownModel`] listing the registered names.
pub fn get(name: &str) -> Result<&'static ModelEntry, ModelError> {
    ENTRIES
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| ModelError::UnknownModel {
            name: name.to_owned(),
            known: names().join(", "),
        })
}

/// Builds the model `name` from `config`, or from its default config for `n_classes` classes
/// when `config` is `None` (a given config holds its own class count).
///
/// # Errors
/// [`ModelError::UnknownModel`], or the entry's build errors.
pub fn build(
    name: &str,
    n_classes: usize,
    config: Option<&serde_json::Value>,
    device: &Device,
) -> Result<Box<dyn SingerModel>, ModelError> {
    let entry = get(name)?;
    match config {
        Some(config) => entry.init(config, device),
        None => entry.init_default(n_classes, device),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_snake_case() {
        let names = names();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), names.len(), "{names:?}");
        for name in names {
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}"
            );
        }
    }

    /// Every entry builds a model that reports the entry's name, inputs and class count, and
    /// whose config JSON rebuilds it.
    #[test]
    fn every_entry_builds_what_it_says() {
        let device = Device::default();
        for entry in entries() {
            let model = entry.init_default(5, &device).expect(entry.name);
            assert_eq!(model.name(), entry.name);
            assert_eq!(model.inputs(), entry.input, "{}", entry.name);
            assert_eq!(model.n_classes(), 5, "{}", entry.name);
            let again = entry.init(&model.config_json(), &device).expect(entry.name);
            assert_eq!(again.config_json(), model.config_json(), "{}", entry.name);
            assert_eq!(again.num_params(), model.num_params(), "{}", entry.name);
        }
    }

    #[test]
    fn crnn_family_entries_match_model_kind() {
        for kind in crate::ModelKind::ALL {
            let entry = get(kind.name()).expect("every kind is registered");
            assert_eq!(entry.uses_melody(), kind.uses_melody());
        }
    }

    #[test]
    fn unknown_name_lists_the_known_ones() {
        let err = get("nope").expect_err("unknown");
        let text = err.to_string();
        assert!(text.contains("\"nope\""), "{text}");
        for name in names() {
            assert!(text.contains(name), "{text}");
        }
    }
}
