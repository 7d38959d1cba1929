//! Choi et al.'s CRNN tagger: four 3 x 3 convolution layers whose max-pools reduce the mel axis
//! to 1, then a two-layer GRU over the remaining frames.
//!
//! Choi, Fazekas, Sandler & Cho (2017), "Convolutional recurrent neural networks for music
//! classification", ICASSP, arXiv:1609.04243, Sec. 2 and Fig. 1(d) (the blog: "4-layer 2D conv
//! layers + 2-layer GRU"); pools `(2, 2), (3, 3), (4, 4), (4, 4)`, each layer
//! `Conv -> BN -> ELU -> MaxPool -> Dropout(0.1)`, input batch-norm over the mel axis, dropout
//! 0.3 before the output, as the authors' `MusicTaggerCRNN`
//! (keunwoochoi/music-auto_tagging-keras@a3e105d, `music_tagger_crnn.py`).
//!
//! Widths per budget: the paper's Table 1 as recalled (first convolution N, the other three
//! 2N, both GRUs N: N = 30, 48, 68, 96, 169), within 2 % of each budget at 50 outputs; see
//! [`CRNN_WIDTHS`]. Differences from the authors' code: the GRUs are TF2 Keras GRUs
//! ([`KerasGru`], `reset_after`: one more bias vector than Keras 1's), and the input is not
//! zero-padded from 1366 to 1440 frames (the GRU runs `floor(frames / 96)` = 14 steps instead
//! of 15).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::budget::{Budget, CHOI_MELS, ConvLayer};
use crate::blocks::{InputNorm, InputNormConfig, KerasGru, KerasGruConfig, keras_init};
use crate::classifier::{Classifier, ClassifierConfig, ModelOutput};
use crate::error::ModelError;
use crate::kernels;

/// Registry name of this model.
pub const NAME: &str = "choi_crnn";

/// Widths `[conv1, conv2, conv3, conv4, gru1, gru2]` per [`Budget`] (0.1M ... 3M): 98,114,
/// 247,442, 498,907, 1,002,689 and 3,031,482 parameters with 50 outputs.
pub const CRNN_WIDTHS: [[usize; 6]; 5] = [
    [30, 60, 60, 60, 30, 30],
    [48, 96, 96, 96, 48, 48],
    [68, 137, 137, 137, 68, 68],
    [96, 195, 195, 195, 96, 96],
    [169, 339, 339, 339, 169, 169],
];

/// Every hyper-parameter of [`ChoiCrnn`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiCrnnConfig {
    /// Number of outputs (tags or singers).
    pub n_classes: usize,
    /// Mel bins of the input (96).
    pub mels: usize,
    /// The parameter budget, which sets every width ([`CRNN_WIDTHS`]).
    pub budget: Budget,
    /// Square kernel side (3).
    pub kernel: usize,
    /// Max-pool `[mels, frames]` after each convolution layer.
    pub pools: [[usize; 2]; 4],
    /// Dropout after each convolution layer.
    pub dropout: f64,
    /// Dropout before the output layer.
    pub head_dropout: f64,
}

impl ChoiCrnnConfig {
    /// The paper's CRNN at `budget` for `n_classes` outputs.
    pub fn new(n_classes: usize, budget: Budget) -> Self {
        Self {
            n_classes,
            mels: CHOI_MELS,
            budget,
            kernel: 3,
            pools: [[2, 2], [3, 3], [4, 4], [4, 4]],
            dropout: 0.1,
            head_dropout: 0.3,
        }
    }

    /// The widths of this budget.
    pub fn widths(&self) -> [usize; 6] {
        CRNN_WIDTHS[self.budget.index()]
    }

    /// Mel bins left after the pools (1 for 96).
    pub fn mels_out(&self) -> usize {
        self.pools.iter().fold(self.mels, |m, p| m / p[0])
    }

    /// Checks that the config builds a working model.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let fail = |m: String| Err(ModelError::InvalidConfig(m));
        if self.n_classes == 0 || self.kernel.is_multiple_of(2) {
            return fail(format!(
                "n_classes must be at least 1 and the kernel odd, got {} and {}",
                self.n_classes, self.kernel
            ));
        }
        super::budget::check_pools_and_dropouts(
            self.mels,
            &self.pools,
            [
                ("dropout", self.dropout),
                ("head_dropout", self.head_dropout),
            ],
        )
    }
    /// Builds the model.
    ///
    /// # Panics
    /// If [`validate`](Self::validate) fails; [`ClassifierConfig::try_init`] gives a `Result`.
    pub fn init(&self, device: &Device) -> ChoiCrnn {
        match ClassifierConfig::try_init(self, device) {
            Ok(model) => model,
            Err(e) => panic!("{e}"),
        }
    }
}

impl ClassifierConfig for ChoiCrnnConfig {
    type Model = ChoiCrnn;

    fn try_init(&self, device: &Device) -> Result<ChoiCrnn, ModelError> {
        self.validate()?;
        let w = self.widths();
        let mut channels = 1;
        let convs = w[..4]
            .iter()
            .map(|&out| {
                let layer = ConvLayer::init([channels, out], [self.kernel; 2], device);
                channels = out;
                layer
            })
            .collect();
        Ok(ChoiCrnn {
            input_norm: InputNormConfig::keras(self.mels).init(device),
            convs,
            dropout: DropoutConfig::new(self.dropout).init(),
            gru_sequence: KerasGruConfig::new(channels * self.mels_out())
                .with_units(w[4])
                .init(device),
            gru_final: KerasGruConfig::new(w[4]).with_units(w[5]).init(device),
            head_dropout: DropoutConfig::new(self.head_dropout).init(),
            output: keras_init::dense(w[5], self.n_classes, device),
            config: self.clone(),
        })
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// One GRU step: the product of the time pools (96).
    fn min_frames(&self) -> usize {
        self.pools.iter().map(|p| p[1]).product()
    }
}

/// Choi et al.'s CRNN tagger; see the module docs.
#[derive(Module, Debug)]
pub struct ChoiCrnn {
    /// Batch-norm over the mel axis of the input.
    pub input_norm: InputNorm,
    /// The four 3 x 3 convolution layers.
    pub convs: Vec<ConvLayer>,
    /// Dropout after each convolution layer.
    pub dropout: Dropout,
    /// GRU returning the whole sequence.
    pub gru_sequence: KerasGru,
    /// GRU returning its last state (the embedding).
    pub gru_final: KerasGru,
    /// Dropout before the output layer.
    pub head_dropout: Dropout,
    /// The output layer (logits).
    pub output: Linear,
    /// The config this model was built from.
    #[module(skip)]
    pub config: ChoiCrnnConfig,
}

impl Classifier for ChoiCrnn {
    type Config = ChoiCrnnConfig;

    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &ChoiCrnnConfig {
        &self.config
    }

    /// # Shapes
    /// - `mel`: `[batch, 1, mels, frames]` log-mel (dB); `melody` must be `None`
    /// - output: logits `[batch, classes]`, embedding `[batch, gru2]` (the last GRU state)
    ///
    /// # Panics
    /// On a wrong input shape or a clip shorter than `min_frames`.
    fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput {
        let config = &self.config;
        assert!(melody.is_none(), "{NAME} takes no melody input");
        let [batch, channels, mels, frames] = mel.dims();
        assert!(
            channels == 1 && mels == config.mels && frames >= config.min_frames(),
            "mel input must be [batch, 1, {}, frames >= {}], got {:?}",
            config.mels,
            config.min_frames(),
            mel.dims()
        );
        let mut x = self.input_norm.forward(mel); // [batch, 1, mels, frames]
        for (conv, pool) in self.convs.iter().zip(config.pools) {
            let y = conv.forward(x); // [batch, width_i, m, t]
            x = self.dropout.forward(kernels::max_pool(y, pool)); // [batch, width_i, m/p0, t/p1]
        }
        let [_, c, m, t] = x.dims();
        let x = x.permute([0, 3, 1, 2]).reshape([batch, t, c * m]); // [batch, frames/96, width_4]
        let (sequence, _) = self.gru_sequence.forward(x); // [batch, frames/96, gru1]
        let (_, embedding) = self.gru_final.forward(sequence); // [batch, gru2]
        let logits = self
            .output
            .forward(self.head_dropout.forward(embedding.clone())); // [batch, classes]
        ModelOutput { logits, embedding }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagger::budget::checks;
    use burn::tensor::Distribution;

    /// Per budget, with 50 outputs: input BN 4·96; layer i `9·in·out + out` + BN `4·out`;
    /// GRU `3·(in·U + U² + 2U)`; output `gru2·50 + 50`. For 0.1M: 384 + 420 + 16,500 +
    /// 32,700 + 32,700 + 8280 + 5580 + 1550 = 98,114.
    #[test]
    fn budgets_land_within_three_percent() {
        checks::budgets_land_within_three_percent(
            [98_114, 247_442, 498_907, 1_002_689, 3_031_482],
            |classes, budget, device| Box::new(ChoiCrnnConfig::new(classes, budget).init(device)),
        );
    }

    #[test]
    fn output_shapes_for_the_96_mel_input() {
        checks::output_shapes_for_the_96_mel_input(
            [
                (Budget::K100, 2, 1366),
                (Budget::M1, 1, 96),
                (Budget::K500, 3, 250),
            ],
            |classes, budget, device| Box::new(ChoiCrnnConfig::new(classes, budget).init(device)),
            |budget| ChoiCrnnConfig::new(7, budget).widths()[5],
        );
    }

    #[test]
    #[should_panic(expected = "mel input must be")]
    fn too_short_clip_panics() {
        let device = Device::default();
        let model = ChoiCrnnConfig::new(3, Budget::K100).init(&device);
        let _ = Classifier::forward(&model, Tensor::zeros([1, 1, 96, 95], &device), None);
    }

    #[test]
    fn gradients_reach_the_first_layer() {
        let device = Device::default().autodiff();
        let model = ChoiCrnnConfig::new(3, Budget::K100).init(&device);
        let x = Tensor::random([2, 1, 96, 200], Distribution::Uniform(-80.0, 0.0), &device);
        let grads = Classifier::forward(&model, x, None)
            .logits
            .powi_scalar(2)
            .mean()
            .backward();
        assert!(model.convs[0].conv.weight.val().grad(&grads).is_some());
        assert!(model.gru_sequence.kernel.val().grad(&grads).is_some());
    }
}
