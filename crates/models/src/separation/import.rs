//! Loading a PyTorch Open-Unmix state dict, saved as safetensors, into [`OpenUnmix`].
//!
//! The file is what `safetensors.torch.save_file(umx.state_dict(), path)` writes for one
//! target of `openunmix` 1.3.0 (e.g. the `vocals` model of `umxhq` or `umxl`). One table maps
//! every PyTorch key to a module path:
//!
//! | PyTorch key | burn path | layout |
//! |---|---|---|
//! | `input_mean`, `input_scale`, `output_scale`, `output_mean` | same name | same |
//! | `fc{1,2,3}.weight` `[out, in]` | `fc{1,2,3}.weight` `[in, out]` | transposed |
//! | `bn{n}.weight`, `bn{n}.bias` | `bn{n}.gamma`, `bn{n}.beta` | same |
//! | `bn{n}.running_mean`, `bn{n}.running_var` | same name | same |
//! | `bn{n}.num_batches_tracked` | (none: PyTorch's counter, unused with a fixed momentum) | ignored if present |
//! | `lstm.{weight_ih,weight_hh,bias_ih,bias_hh}_l{k}` | `lstm.layers.{k}.forward.{..}` | same |
//! | `lstm.{..}_l{k}_reverse` | `lstm.layers.{k}.reverse.{..}` | same |
//!
//! Every missing, unused or mis-shaped key is an error that names it; nothing is skipped.

use std::path::Path;

use burn::tensor::Device;

use super::open_unmix::{OpenUnmix, OpenUnmixConfig};
use crate::error::{ModelError, ShapeProblem};
use crate::import::state_dict::{Entry, Layout, apply_table};
pub use crate::import::state_dict::{StateDict, StateTensor, read_state_dict};

/// Reads the state dict at `path`, works out the configuration from its shapes
/// ([`config_from_state_dict`]) and loads it.
///
/// # Errors
/// As [`read_state_dict`], [`config_from_state_dict`] and [`apply_state_dict`].
pub fn load_open_unmix(
    path: &Path,
    device: &Device,
) -> Result<(OpenUnmixConfig, OpenUnmix), ModelError> {
    let state = read_state_dict(path)?;
    let config = config_from_state_dict(&state, path)?;
    let model = load_state_dict(&state, &config, path, device)?;
    Ok((config, model))
}

/// Builds the model `config` describes and loads the state dict at `path` into it.
///
/// # Errors
/// As [`read_state_dict`] and [`apply_state_dict`]; [`ModelError::InvalidConfig`] for a
/// config that cannot build a model.
pub fn load_open_unmix_with(
    path: &Path,
    config: &OpenUnmixConfig,
    device: &Device,
) -> Result<OpenUnmix, ModelError> {
    load_state_dict(&read_state_dict(path)?, config, path, device)
}

/// Builds the model `config` describes and loads `state` (read from `source`) into it.
///
/// # Errors
/// As [`apply_state_dict`]; [`ModelError::InvalidConfig`] for a config that cannot build a
/// model.
pub fn load_state_dict(
    state: &StateDict,
    config: &OpenUnmixConfig,
    source: &Path,
    device: &Device,
) -> Result<OpenUnmix, ModelError> {
    let mut model = config.try_init(device)?;
    apply_state_dict(&mut model, state, source)?;
    Ok(model)
}

/// The configuration a state dict was trained with, from its tensors' shapes: `hidden_size`
/// from `fc1.weight`, `max_bin` from `input_mean`, `nb_bins` from `output_mean`, the channels
/// from `fc1.weight`'s input width, the layers from the `lstm.weight_ih_l{k}` keys and the
/// direction from `lstm.weight_ih_l0_reverse`.
///
/// # Errors
/// [`ModelError::Keys`] naming the keys it needs and the file lacks;
/// [`ModelError::InvalidConfig`] if `fc1.weight`'s width is not a multiple of the input bins.
pub fn config_from_state_dict(
    state: &StateDict,
    source: &Path,
) -> Result<OpenUnmixConfig, ModelError> {
    let needed = [
        "fc1.weight",
        "input_mean",
        "output_mean",
        "lstm.weight_ih_l0",
    ];
    let missing: Vec<String> = needed
        .iter()
        .filter(|k| !state.contains_key(**k))
        .map(|k| (*k).to_owned())
        .collect();
    let mut mis_shaped = Vec::new();
    let mut dim = |key: &str, rank: usize, axis: usize| match state.get(key) {
        Some(t) if t.shape.len() == rank && t.shape[axis] > 0 => t.shape[axis],
        Some(t) => {
            mis_shaped.push(ShapeProblem {
                key: key.to_owned(),
                expected: vec![0; rank],
                found: t.shape.clone(),
            });
            0
        }
        None => 0,
    };
    let hidden_size = dim("fc1.weight", 2, 0);
    let fc1_in = dim("fc1.weight", 2, 1);
    let input_bins = dim("input_mean", 1, 0);
    let nb_bins = dim("output_mean", 1, 0);
    if !missing.is_empty() || !mis_shaped.is_empty() {
        return Err(ModelError::Keys {
            path: source.to_owned(),
            missing,
            unused: Vec::new(),
            mis_shaped,
        });
    }
    if !fc1_in.is_multiple_of(input_bins) {
        return Err(ModelError::InvalidConfig(format!(
            "{}: fc1.weight takes {fc1_in} inputs, not a multiple of input_mean's {input_bins} \
             bins, so the channel count is undefined",
            source.display()
        )));
    }
    let nb_layers = (0..)
        .take_while(|k| state.contains_key(&format!("lstm.weight_ih_l{k}")))
        .count();
    Ok(OpenUnmixConfig::new()
        .with_nb_bins(nb_bins)
        .with_nb_channels(fc1_in / input_bins)
        .with_hidden_size(hidden_size)
        .with_nb_layers(nb_layers)
        .with_max_bin(Some(input_bins))
        .with_unidirectional(!state.contains_key("lstm.weight_ih_l0_reverse")))
}

/// Loads `state` (read from `source`, named in errors) into `model`.
///
/// `*.num_batches_tracked` keys are accepted and ignored; every other key must be in the
/// table (module docs) with its PyTorch shape and dtype F32.
///
/// # Errors
/// [`ModelError::Keys`] listing every missing, unused and mis-shaped key;
/// [`ModelError::Safetensors`] naming the keys that are not F32.
///
/// # Panics
/// If the key table names a module path the model lacks (a bug in this file).
pub fn apply_state_dict(
    model: &mut OpenUnmix,
    state: &StateDict,
    source: &Path,
) -> Result<(), ModelError> {
    let table = key_table(model);
    apply_table(
        model,
        table,
        state,
        source,
        "Open-Unmix",
        " (save with `{k: v.float() for k, v in state_dict.items()}`)",
    )
}

/// Every PyTorch key the model needs, with its module path and layout.
fn key_table(model: &OpenUnmix) -> Vec<Entry> {
    let entry = |key: String, path: String, layout| Entry { key, path, layout };
    let same = |name: &str| entry(name.to_owned(), name.to_owned(), Layout::Same);
    let mut table = vec![same("input_mean"), same("input_scale")];
    let linear = |n: usize| {
        entry(
            format!("fc{n}.weight"),
            format!("fc{n}.weight"),
            Layout::Transpose,
        )
    };
    let batch_norm = |n: usize| {
        [
            ("weight", "gamma"),
            ("bias", "beta"),
            ("running_mean", "running_mean"),
            ("running_var", "running_var"),
        ]
        .map(|(torch, burn)| {
            entry(
                format!("bn{n}.{torch}"),
                format!("bn{n}.{burn}"),
                Layout::Same,
            )
        })
    };
    table.push(linear(1));
    table.extend(batch_norm(1));
    for (k, layer) in model.lstm.layers.iter().enumerate() {
        let directions = [
            ("", "forward", true),
            ("_reverse", "reverse", layer.reverse.is_some()),
        ];
        for (suffix, field, present) in directions {
            if !present {
                continue;
            }
            for name in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                table.push(entry(
                    format!("lstm.{name}_l{k}{suffix}"),
                    format!("lstm.layers.{k}.{field}.{name}"),
                    Layout::Same,
                ));
            }
        }
    }
    for n in [2, 3] {
        table.push(linear(n));
        table.extend(batch_norm(n));
    }
    table.push(same("output_scale"));
    table.push(same("output_mean"));
    table
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::state_dict::f32_tensor;
    use safetensors::Dtype;

    /// The state dict `torch.nn` would produce for `tiny()`, built by hand from PyTorch's
    /// shapes (`fc.weight [out, in]`, LSTM `[4H, in]`), with the I64 counters.
    fn state_for(config: &OpenUnmixConfig) -> StateDict {
        let (bins_in, h) = (config.input_bins(), config.hidden_size);
        let lstm_h = config.lstm_hidden_size();
        let mut state = StateDict::new();
        let mut put = |k: &str, shape: &[usize]| {
            state.insert(k.to_owned(), f32_tensor(shape));
        };
        put("input_mean", &[bins_in]);
        put("input_scale", &[bins_in]);
        put("fc1.weight", &[h, config.nb_channels * bins_in]);
        put("fc2.weight", &[h, 2 * h]);
        put("fc3.weight", &[config.nb_channels * config.nb_bins, h]);
        for (n, width) in [(1, h), (2, h), (3, config.nb_channels * config.nb_bins)] {
            for p in ["weight", "bias", "running_mean", "running_var"] {
                put(&format!("bn{n}.{p}"), &[width]);
            }
        }
        let directions: &[&str] = if config.unidirectional {
            &[""]
        } else {
            &["", "_reverse"]
        };
        for k in 0..config.nb_layers {
            let d_in = if k == 0 { h } else { 2 * lstm_h };
            let d_in = if config.unidirectional && k > 0 {
                lstm_h
            } else {
                d_in
            };
            for s in directions {
                put(&format!("lstm.weight_ih_l{k}{s}"), &[4 * lstm_h, d_in]);
                put(&format!("lstm.weight_hh_l{k}{s}"), &[4 * lstm_h, lstm_h]);
                put(&format!("lstm.bias_ih_l{k}{s}"), &[4 * lstm_h]);
                put(&format!("lstm.bias_hh_l{k}{s}"), &[4 * lstm_h]);
            }
        }
        put("output_scale", &[config.nb_bins]);
        put("output_mean", &[config.nb_bins]);
        for n in 1..=3 {
            state.insert(
                format!("bn{n}.num_batches_tracked"),
                StateTensor {
                    shape: vec![],
                    dtype: Dtype::I64,
                    values: None,
                },
            );
        }
        state
    }

    fn tiny() -> OpenUnmixConfig {
        OpenUnmixConfig::new()
            .with_nb_bins(9)
            .with_hidden_size(4)
            .with_nb_layers(2)
            .with_max_bin(Some(5))
    }

    #[test]
    fn loads_and_transposes_linear_weights() {
        let device = Device::default();
        let config = tiny();
        let state = state_for(&config);
        let model = load_state_dict(&state, &config, Path::new("t"), &device).expect("loads");
        // fc1.weight is [4, 10] = 0..40 row-major; burn holds its transpose [10, 4].
        let fc1 = model
            .fc1
            .weight
            .val()
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32");
        assert_eq!(&fc1[..4], &[0.0, 10.0, 20.0, 30.0]);
        let reverse = model.lstm.layers[1]
            .reverse
            .as_ref()
            .expect("bidirectional");
        assert_eq!(reverse.weight_ih.dims(), [8, 4]);
    }

    #[test]
    fn config_is_recovered_from_shapes() {
        for config in [tiny(), tiny().with_unidirectional(true).with_nb_channels(1)] {
            let found = config_from_state_dict(&state_for(&config), Path::new("t")).expect("ok");
            assert_eq!(
                (
                    found.nb_bins,
                    found.nb_channels,
                    found.hidden_size,
                    found.nb_layers,
                    found.max_bin,
                    found.unidirectional
                ),
                (
                    config.nb_bins,
                    config.nb_channels,
                    config.hidden_size,
                    config.nb_layers,
                    config.max_bin,
                    config.unidirectional
                )
            );
        }
    }

    #[test]
    fn non_f32_parameters_are_named() {
        let device = Device::default();
        let config = tiny();
        let mut state = state_for(&config);
        state.insert(
            "fc2.weight".into(),
            StateTensor {
                shape: vec![4, 8],
                dtype: Dtype::F16,
                values: None,
            },
        );
        let message = load_state_dict(&state, &config, Path::new("w.safetensors"), &device)
            .expect_err("f16 refused")
            .to_string();
        assert!(message.contains("fc2.weight (F16)"), "{message}");
    }
}
