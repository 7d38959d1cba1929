//! Open-Unmix: the spectrogram model that estimates one source's magnitude from a mixture's.
//!
//! Stöter, Uhlich, Liutkus & Mitsufuji (2019), "Open-Unmix - A Reference Implementation for
//! Music Source Separation", Journal of Open Source Software 4(41), 1667 (Fig. 1: input
//! crop and standardisation, fc1 + BN + tanh, 3-layer BLSTM with a skip connection, fc2 + BN +
//! ReLU, fc3 + BN, output scaling, a ReLU mask times the mixture). The reference code is class
//! `OpenUnmix` of the `openunmix` 1.3.0 PyPI package (`openunmix/model.py`, sigsep/
//! open-unmix-pytorch tag v1.3.0); singerid follows it line for line, including its storage
//! conventions: `input_mean` holds the negated mean and `input_scale` the reciprocal scale
//! (`x = (x + input_mean) * input_scale`), and the output stage is `x * output_scale +
//! output_mean`. The STFT front end and the multichannel Wiener filter of `Separator` are not
//! part of this file.
//!
//! Inference matches PyTorch's eval mode; on an autodiff device batch-norm uses batch
//! statistics and the LSTM's inter-layer dropout is active, as in PyTorch's train mode.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig};
use burn::tensor::activation::{relu, tanh};
use burn::tensor::{Device, Tensor};

use super::lstm::{TorchLstm, TorchLstmConfig};
use crate::error::ModelError;

/// PyTorch's `BatchNorm1d` epsilon (burn's default too).
pub const TORCH_BN_EPSILON: f64 = 1e-5;
/// burn's momentum for PyTorch's `BatchNorm1d(momentum=0.1)`: both weigh the new batch by 0.1.
pub const TORCH_BN_MOMENTUM: f64 = 0.1;

/// [`OpenUnmix`] configuration: the constructor arguments of `openunmix.model.OpenUnmix`.
///
/// The defaults are the `umxhq` / `umxl` spectrogram sizes (n_fft 4096 at 44.1 kHz, 16 kHz
/// bandwidth); [`OpenUnmixConfig::umxhq`], [`OpenUnmixConfig::umxl`] and
/// [`OpenUnmixConfig::umxse`] give the pretrained models' full configurations.
#[derive(Config, Debug)]
pub struct OpenUnmixConfig {
    /// Frequency bins of the input and output spectrograms (`n_fft / 2 + 1`).
    #[config(default = 2049)]
    pub nb_bins: usize,
    /// Audio channels (2 for stereo models, 1 for `umxse`).
    #[config(default = 2)]
    pub nb_channels: usize,
    /// Width of the fc layers; each LSTM direction has `hidden_size / 2` units when
    /// bidirectional, `hidden_size` when unidirectional. Must be even when bidirectional.
    #[config(default = 512)]
    pub hidden_size: usize,
    /// Stacked LSTM layers.
    #[config(default = 3)]
    pub nb_layers: usize,
    /// Bins fed to the network (the rest only pass through the mask); `None` (or 0, as in
    /// the reference) means all `nb_bins`. `umxhq` uses 1487 (16 kHz of 22.05 kHz).
    #[config(default = "Some(1487)")]
    pub max_bin: Option<usize>,
    /// Causal variant: one forward LSTM of `hidden_size` units instead of a BLSTM.
    #[config(default = false)]
    pub unidirectional: bool,
    /// Dropout between LSTM layers (the reference's fixed 0.4; unused with one layer).
    #[config(default = 0.4)]
    pub lstm_dropout: f64,
}

/// Open-Unmix; see the module docs.
///
/// Mirrors <https://github.com/sigsep/open-unmix-pytorch/blob/v1.3.0/openunmix/model.py>
/// (`OpenUnmix`). Field names are the reference's, so the state-dict keys map one to one
/// (see [`super::import`]).
#[derive(Module, Debug)]
pub struct OpenUnmix {
    /// `[max_bin]`: the negated training-set mean of each input bin.
    pub input_mean: Param<Tensor<1>>,
    /// `[max_bin]`: the reciprocal training-set standard deviation of each input bin.
    pub input_scale: Param<Tensor<1>>,
    /// `nb_channels * max_bin -> hidden_size`, no bias.
    pub fc1: Linear,
    /// Over `hidden_size`.
    pub bn1: BatchNorm,
    /// `hidden_size -> hidden_size` features per frame.
    pub lstm: TorchLstm,
    /// `2 * hidden_size -> hidden_size`, no bias.
    pub fc2: Linear,
    /// Over `hidden_size`.
    pub bn2: BatchNorm,
    /// `hidden_size -> nb_channels * nb_bins`, no bias.
    pub fc3: Linear,
    /// Over `nb_channels * nb_bins`.
    pub bn3: BatchNorm,
    /// `[nb_bins]`: output scale per bin.
    pub output_scale: Param<Tensor<1>>,
    /// `[nb_bins]`: output offset per bin.
    pub output_mean: Param<Tensor<1>>,
}

impl OpenUnmixConfig {
    /// `umxhq` (and `umx`): stereo, n_fft 4096 (2049 bins), 1487 bins in, hidden size 512.
    pub fn umxhq() -> Self {
        Self::new()
    }

    /// `umxl`: as [`Self::umxhq`] with hidden size 1024.
    pub fn umxl() -> Self {
        Self::new().with_hidden_size(1024)
    }

    /// `umxse` (speech enhancement): mono, n_fft 1024 at 16 kHz (513 bins, all fed in),
    /// hidden size 256.
    pub fn umxse() -> Self {
        Self::new()
            .with_nb_bins(513)
            .with_nb_channels(1)
            .with_hidden_size(256)
            .with_max_bin(Some(513))
    }

    /// Bins fed to the network: `max_bin`, or `nb_bins` when it is `None` or 0.
    pub fn input_bins(&self) -> usize {
        match self.max_bin {
            Some(bins) if bins > 0 => bins,
            _ => self.nb_bins,
        }
    }

    /// Units per LSTM direction.
    pub fn lstm_hidden_size(&self) -> usize {
        if self.unidirectional {
            self.hidden_size
        } else {
            self.hidden_size / 2
        }
    }

    /// Checks the sizes, then builds the model.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for zero sizes, `max_bin > nb_bins`, an odd
    /// `hidden_size` with a bidirectional LSTM, or a dropout outside `[0, 1)`.
    pub fn try_init(&self, device: &Device) -> Result<OpenUnmix, ModelError> {
        let invalid = |m: String| Err(ModelError::InvalidConfig(format!("Open-Unmix: {m}")));
        if self.nb_bins == 0 || self.nb_channels == 0 || self.hidden_size == 0 {
            return invalid(format!(
                "nb_bins, nb_channels and hidden_size must be > 0, got {}, {}, {}",
                self.nb_bins, self.nb_channels, self.hidden_size
            ));
        }
        if self.nb_layers == 0 {
            return invalid("nb_layers must be > 0".into());
        }
        if self.input_bins() > self.nb_bins {
            return invalid(format!(
                "max_bin {} exceeds nb_bins {}",
                self.input_bins(),
                self.nb_bins
            ));
        }
        if !self.unidirectional && !self.hidden_size.is_multiple_of(2) {
            return invalid(format!(
                "a bidirectional LSTM splits hidden_size in two directions; {} is odd",
                self.hidden_size
            ));
        }
        if !(0.0..1.0).contains(&self.lstm_dropout) {
            return invalid(format!(
                "lstm_dropout must be in [0, 1), got {}",
                self.lstm_dropout
            ));
        }
        Ok(self.init(device))
    }

    /// Builds the model with PyTorch's initialisation (the reference's defaults: zero input
    /// mean, unit scales, unit output mean).
    ///
    /// # Panics
    /// On a config [`Self::try_init`] refuses.
    pub fn init(&self, device: &Device) -> OpenUnmix {
        let bins_in = self.input_bins();
        let hidden = self.hidden_size;
        // torch.nn.Linear's default: U(±1/sqrt(fan_in)), which is Kaiming-uniform with a = √5.
        let linear = |d_input: usize, d_output: usize| {
            LinearConfig::new(d_input, d_output)
                .with_bias(false)
                .with_initializer(Initializer::KaimingUniform {
                    gain: 1.0 / 3.0f64.sqrt(),
                    fan_out_only: false,
                })
                .init(device)
        };
        let bn = |features: usize| {
            BatchNormConfig::new(features)
                .with_epsilon(TORCH_BN_EPSILON)
                .with_momentum(TORCH_BN_MOMENTUM)
                .init(device)
        };
        let filled = |n: usize, value: f64| Initializer::Constant { value }.init([n], device);
        OpenUnmix {
            input_mean: filled(bins_in, 0.0),
            input_scale: filled(bins_in, 1.0),
            fc1: linear(self.nb_channels * bins_in, hidden),
            bn1: bn(hidden),
            lstm: TorchLstmConfig::new(hidden, self.lstm_hidden_size())
                .with_num_layers(self.nb_layers)
                .with_bidirectional(!self.unidirectional)
                .with_dropout(if self.nb_layers > 1 {
                    self.lstm_dropout
                } else {
                    0.0
                })
                .init(device),
            // The skip connection concatenates the LSTM input and output: 2 * hidden.
            fc2: linear(2 * hidden, hidden),
            bn2: bn(hidden),
            fc3: linear(hidden, self.nb_channels * self.nb_bins),
            bn3: bn(self.nb_channels * self.nb_bins),
            output_scale: filled(self.nb_bins, 1.0),
            output_mean: filled(self.nb_bins, 1.0),
        }
    }
}

impl OpenUnmix {
    /// Bins of the input and output spectrograms.
    pub fn nb_bins(&self) -> usize {
        self.output_scale.dims()[0]
    }

    /// Bins fed to the network (`max_bin`).
    pub fn input_bins(&self) -> usize {
        self.input_mean.dims()[0]
    }

    /// Audio channels.
    pub fn nb_channels(&self) -> usize {
        self.fc1.weight.dims()[0] / self.input_bins()
    }

    /// Estimates the target's magnitude spectrogram from the mixture's.
    ///
    /// # Shapes
    /// - `x`: `[batch, channels, bins, frames]`, a non-negative mixture magnitude
    ///   (openunmix's `[nb_samples, nb_channels, nb_bins, nb_frames]`)
    /// - output: `[batch, channels, bins, frames]`
    ///
    /// # Panics
    /// If `channels` or `bins` differ from the model's, or `frames` is 0.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [batch, channels, bins, frames] = x.dims();
        let (nb_bins, bins_in) = (self.nb_bins(), self.input_bins());
        let hidden = self.fc2.weight.dims()[1];
        assert!(
            channels == self.nb_channels() && bins == nb_bins && frames > 0,
            "OpenUnmix expects [batch, {}, {nb_bins}, frames > 0], got {:?}",
            self.nb_channels(),
            x.dims()
        );
        let mix = x.clone();

        // Frames first, as the reference's sequence-first LSTM wants.
        let x = x.permute([3, 0, 1, 2]); // [frames, batch, channels, bins]
        let x = x.slice([0..frames, 0..batch, 0..channels, 0..bins_in]); // [.., bins_in]
        let x = (x + self.input_mean.val().reshape([1, 1, 1, bins_in]))
            * self.input_scale.val().reshape([1, 1, 1, bins_in]);
        let x = x.reshape([frames * batch, channels * bins_in]); // [frames*batch, channels*bins_in]
        let x = self.fc1.forward(x); // [frames*batch, hidden]
        let x = self.bn1.forward(x);
        let x = tanh(x.reshape([frames, batch, hidden])); // [frames, batch, hidden]

        let lstm_out = self.lstm.forward(x.clone()); // [frames, batch, hidden]
        // The skip connection.
        let x = Tensor::cat(vec![x, lstm_out], 2); // [frames, batch, 2*hidden]
        let x = self.fc2.forward(x.reshape([frames * batch, 2 * hidden])); // [frames*batch, hidden]
        let x = relu(self.bn2.forward(x));
        let x = self.fc3.forward(x); // [frames*batch, channels*bins]
        let x = self.bn3.forward(x);
        let x = x.reshape([frames, batch, channels, bins]); // [frames, batch, channels, bins]
        let x = x * self.output_scale.val().reshape([1, 1, 1, bins])
            + self.output_mean.val().reshape([1, 1, 1, bins]);
        let x = x.permute([1, 2, 3, 0]); // [batch, channels, bins, frames]
        relu(x) * mix
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Distribution, TensorData, Tolerance};

    fn tiny() -> OpenUnmixConfig {
        OpenUnmixConfig::new()
            .with_nb_bins(9)
            .with_nb_channels(2)
            .with_hidden_size(4)
            .with_nb_layers(2)
            .with_max_bin(Some(5))
    }

    #[test]
    fn output_shapes() {
        let device = Device::default();
        let model = tiny().try_init(&device).expect("valid config");
        assert_eq!(model.fc1.weight.dims(), [10, 4]);
        assert_eq!(model.fc3.weight.dims(), [4, 18]);
        for (batch, frames) in [(1, 1), (3, 7)] {
            let x = Tensor::<4>::random([batch, 2, 9, frames], Distribution::Default, &device);
            assert_eq!(model.forward(x).dims(), [batch, 2, 9, frames]);
        }
        let uni = tiny()
            .with_unidirectional(true)
            .with_max_bin(None)
            .with_nb_channels(1)
            .init(&device);
        assert_eq!(uni.lstm.d_output(), 4);
        let x = Tensor::<4>::ones([2, 1, 9, 3], &device);
        assert_eq!(uni.forward(x).dims(), [2, 1, 9, 3]);
    }

    /// Zero fc3 weights, unit batch-norm statistics (gamma 1, beta 0, mean 0, var 1) make the
    /// network's mask `relu(bn3(0) * output_scale + output_mean) = relu(output_mean)` up to the
    /// BN epsilon: `0 / sqrt(1 + 1e-5) = 0`, so each bin of the output is
    /// `relu(output_mean[bin]) * x[bin]` whatever the LSTM does. With output_mean =
    /// `[-1, 0.5, 2]` and x = 3 everywhere: bins give 0, 1.5, 6.
    #[test]
    fn hand_computed_mask_from_output_mean() {
        let device = Device::default();
        let config = OpenUnmixConfig::new()
            .with_nb_bins(3)
            .with_nb_channels(1)
            .with_hidden_size(2)
            .with_nb_layers(1)
            .with_max_bin(None);
        let mut model = config.init(&device);
        model.fc3.weight = Param::from_tensor(Tensor::zeros([2, 3], &device));
        model.output_mean = Param::from_tensor(Tensor::from_floats([-1.0, 0.5, 2.0], &device));
        model.output_scale = Param::from_tensor(Tensor::from_floats([7.0, 7.0, 7.0], &device));
        let y = model.forward(Tensor::full([1, 1, 3, 2], 3.0, &device));
        y.into_data().assert_approx_eq::<f32>(
            &TensorData::from([[[[0.0, 0.0], [1.5, 1.5], [6.0, 6.0]]]]),
            Tolerance::absolute(1e-6),
        );
    }

    #[test]
    fn invalid_configs_are_refused() {
        let device = Device::default();
        for (config, needle) in [
            (
                tiny().with_max_bin(Some(10)),
                "max_bin 10 exceeds nb_bins 9",
            ),
            (tiny().with_hidden_size(5), "5 is odd"),
            (tiny().with_nb_layers(0), "nb_layers must be > 0"),
            (tiny().with_lstm_dropout(1.0), "lstm_dropout"),
        ] {
            let message = config.try_init(&device).expect_err("invalid").to_string();
            assert!(message.contains(needle), "{message}");
        }
        assert!(
            tiny()
                .with_hidden_size(5)
                .with_unidirectional(true)
                .try_init(&device)
                .is_ok()
        );
        assert_eq!(tiny().with_max_bin(Some(0)).input_bins(), 9);
    }

    #[test]
    #[should_panic(expected = "OpenUnmix expects [batch, 2, 9, frames > 0]")]
    fn wrong_bin_count_panics() {
        let device = Device::default();
        let model = tiny().init(&device);
        let _ = model.forward(Tensor::ones([1, 2, 8, 3], &device));
    }

    #[test]
    fn presets_match_the_pretrained_models() {
        let hq = OpenUnmixConfig::umxhq();
        assert_eq!(
            (hq.nb_bins, hq.input_bins(), hq.hidden_size, hq.nb_channels),
            (2049, 1487, 512, 2)
        );
        assert_eq!(OpenUnmixConfig::umxl().hidden_size, 1024);
        let se = OpenUnmixConfig::umxse();
        assert_eq!((se.nb_bins, se.input_bins(), se.nb_channels), (513, 513, 1));
    }

    /// Through burn-store's safetensors (what singerid's checkpoints use), in memory: the
    /// batch-norm running statistics and the LSTM directions come back.
    #[test]
    fn safetensors_round_trip() {
        use burn_store::{ModuleSnapshot, SafetensorsStore};
        let device = Device::default();
        let mut model = tiny().init(&device);
        model.bn3.running_var = burn::module::RunningState::new(Tensor::full([18], 2.5, &device));
        let x = Tensor::<4>::random([2, 2, 9, 4], Distribution::Default, &device);
        let expected = model.forward(x.clone()).into_data();
        let mut store = SafetensorsStore::from_bytes(None);
        model.save_into(&mut store).expect("saves");
        let bytes = store.get_bytes().expect("bytes");
        let mut reloaded = tiny().init(&device);
        let result = reloaded
            .load_from(&mut SafetensorsStore::from_bytes(Some(bytes)))
            .expect("loads");
        assert!(
            result.missing.is_empty() && result.unused.is_empty(),
            "{result:?}"
        );
        reloaded
            .forward(x)
            .into_data()
            .assert_approx_eq::<f32>(&expected, Tolerance::absolute(0.0));
    }

    #[test]
    fn gradients_reach_every_parameter() {
        let device = Device::default().autodiff();
        let model = tiny().init(&device);
        let x = Tensor::<4>::random([2, 2, 9, 4], Distribution::Default, &device);
        let grads = model.forward(x).sum().backward();
        assert!(model.input_mean.grad(&grads).is_some());
        assert!(model.input_scale.grad(&grads).is_some());
        assert!(model.fc1.weight.grad(&grads).is_some());
        assert!(model.bn1.gamma.grad(&grads).is_some());
        assert!(
            model.lstm.layers[0]
                .forward
                .weight_ih
                .grad(&grads)
                .is_some()
        );
        assert!(model.fc3.weight.grad(&grads).is_some());
        assert!(model.output_mean.grad(&grads).is_some());
    }
}
