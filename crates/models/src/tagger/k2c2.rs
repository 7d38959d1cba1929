//! Choi et al.'s k2c2 ("Conv2D"): five 3 x 3 convolution layers with 2-D max-pools that take the
//! 96 x 1366 log-mel to one value per feature map, then the output layer.
//!
//! Choi, Fazekas, Sandler & Cho (2017), "Convolutional recurrent neural networks for music
//! classification", ICASSP, arXiv:1609.04243, Sec. 2 and Fig. 1(c) (the fully convolutional
//! tagger of Choi et al., ISMIR 2016); pools `(2, 4), (2, 4), (2, 4), (3, 5), (4, 4)`, each
//! layer `Conv -> BN -> ELU -> MaxPool`, input batch-norm over the mel axis, as the authors'
//! `MusicTaggerCNN` (keunwoochoi/music-auto_tagging-keras@a3e105d, `music_tagger_cnn.py`).
//!
//! Widths per budget: ratio 1 : 2 : 2 : 3 : 4 (the authors' 64-128-128-128-64 code model is
//! not the paper's scaled structure), scaled until within 0.5 % of each budget at 50 outputs;
//! see [`K2C2_WIDTHS`]. singerid's choices: dropout 0.1 after each layer and 0.3 before the
//! output, as the authors' CRNN (the paper uses one dropout setting for all three models); the
//! last pool spans every remaining frame (identical at 1366 frames; see [`super::budget`]).

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::budget::{Budget, CHOI_MELS, ConvLayer, pool_mels_and_all_frames};
use crate::blocks::{InputNorm, InputNormConfig, keras_init};
use crate::classifier::{Classifier, ClassifierConfig, ModelOutput};
use crate::error::ModelError;
use crate::kernels;

/// Registry name of this model.
pub const NAME: &str = "choi_k2c2";

/// Widths of the five convolution layers per [`Budget`] (0.1M ... 3M): 99,587, 249,681,
/// 499,711, 1,000,302 and 2,998,277 parameters with 50 outputs.
pub const K2C2_WIDTHS: [[usize; 5]; 5] = [
    [21, 42, 42, 62, 83],
    [33, 67, 67, 100, 133],
    [48, 95, 95, 142, 190],
    [67, 135, 135, 202, 270],
    [117, 234, 234, 352, 469],
];

/// Every hyper-parameter of [`K2c2`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K2c2Config {
    /// Number of outputs (tags or singers).
    pub n_classes: usize,
    /// Mel bins of the input (96).
    pub mels: usize,
    /// The parameter budget, which sets every width ([`K2C2_WIDTHS`]).
    pub budget: Budget,
    /// Square kernel side (3).
    pub kernel: usize,
    /// Max-pool `[mels, frames]` after each layer; the last one's frames are every frame left.
    pub pools: [[usize; 2]; 5],
    /// Dropout after each convolution layer.
    pub dropout: f64,
    /// Dropout before the output layer.
    pub head_dropout: f64,
}

impl K2c2Config {
    /// The paper's k2c2 at `budget` for `n_classes` outputs.
    pub fn new(n_classes: usize, budget: Budget) -> Self {
        Self {
            n_classes,
            mels: CHOI_MELS,
            budget,
            kernel: 3,
            pools: [[2, 4], [2, 4], [2, 4], [3, 5], [4, 4]],
            dropout: 0.1,
            head_dropout: 0.3,
        }
    }

    /// The widths of this budget.
    pub fn widths(&self) -> [usize; 5] {
        K2C2_WIDTHS[self.budget.index()]
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
    pub fn init(&self, device: &Device) -> K2c2 {
        match ClassifierConfig::try_init(self, device) {
            Ok(model) => model,
            Err(e) => panic!("{e}"),
        }
    }
}

impl ClassifierConfig for K2c2Config {
    type Model = K2c2;

    fn try_init(&self, device: &Device) -> Result<K2c2, ModelError> {
        self.validate()?;
        let mut channels = 1;
        let convs = self
            .widths()
            .iter()
            .map(|&out| {
                let layer = ConvLayer::init([channels, out], [self.kernel; 2], device);
                channels = out;
                layer
            })
            .collect();
        Ok(K2c2 {
            input_norm: InputNormConfig::keras(self.mels).init(device),
            convs,
            dropout: DropoutConfig::new(self.dropout).init(),
            head_dropout: DropoutConfig::new(self.head_dropout).init(),
            output: keras_init::dense(channels * self.mels_out(), self.n_classes, device),
            config: self.clone(),
        })
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// One frame must reach the last pool: the product of the other time pools (320).
    fn min_frames(&self) -> usize {
        self.pools[..4].iter().map(|p| p[1]).product()
    }
}

/// Choi et al.'s k2c2 tagger; see the module docs.
#[derive(Module, Debug)]
pub struct K2c2 {
    /// Batch-norm over the mel axis of the input.
    pub input_norm: InputNorm,
    /// The five 3 x 3 convolution layers.
    pub convs: Vec<ConvLayer>,
    /// Dropout after each convolution layer.
    pub dropout: Dropout,
    /// Dropout before the output layer.
    pub head_dropout: Dropout,
    /// The output layer (logits).
    pub output: Linear,
    /// The config this model was built from.
    #[module(skip)]
    pub config: K2c2Config,
}

impl Classifier for K2c2 {
    type Config = K2c2Config;

    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &K2c2Config {
        &self.config
    }

    /// # Shapes
    /// - `mel`: `[batch, 1, mels, frames]` log-mel (dB); `melody` must be `None`
    /// - output: logits `[batch, classes]`, embedding `[batch, conv5 · mels_out]` (the last
    ///   feature maps, flattened)
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
        let last = self.convs.len() - 1;
        for (i, (conv, pool)) in self.convs.iter().zip(config.pools).enumerate() {
            x = conv.forward(x); // [batch, width_i, m, t]
            x = match i == last {
                false => kernels::max_pool(x, pool), // [batch, width_i, m / p0, t / p1]
                true => pool_mels_and_all_frames(x, pool[0]), // [batch, width_5, 1, 1]
            };
            x = self.dropout.forward(x);
        }
        let [_, c, m, _] = x.dims();
        let embedding = x.reshape([batch, c * m]); // [batch, width_5 · mels_out]
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
    /// output `conv5·50 + 50`. For 0.1M: 384 + 294 + 8148 + 16,086 + 23,746 + 46,729 + 4200 =
    /// 99,587.
    #[test]
    fn budgets_land_within_three_percent() {
        checks::budgets_land_within_three_percent(
            [99_587, 249_681, 499_711, 1_000_302, 2_998_277],
            |classes, budget, device| Box::new(K2c2Config::new(classes, budget).init(device)),
        );
    }

    #[test]
    fn output_shapes_for_the_96_mel_input() {
        checks::output_shapes_for_the_96_mel_input(
            [
                (Budget::K100, 2, 1366),
                (Budget::M1, 1, 320),
                (Budget::K250, 3, 700),
            ],
            |classes, budget, device| Box::new(K2c2Config::new(classes, budget).init(device)),
            |budget| K2c2Config::new(7, budget).widths()[4],
        );
    }

    #[test]
    #[should_panic(expected = "mel input must be")]
    fn too_short_clip_panics() {
        let device = Device::default();
        let model = K2c2Config::new(3, Budget::K100).init(&device);
        let _ = Classifier::forward(&model, Tensor::zeros([1, 1, 96, 319], &device), None);
    }

    #[test]
    fn gradients_reach_the_first_layer() {
        let device = Device::default().autodiff();
        let model = K2c2Config::new(3, Budget::K100).init(&device);
        let x = Tensor::random([2, 1, 96, 330], Distribution::Uniform(-80.0, 0.0), &device);
        let grads = Classifier::forward(&model, x, None)
            .logits
            .powi_scalar(2)
            .mean()
            .backward();
        assert!(model.convs[0].conv.weight.val().grad(&grads).is_some());
        assert!(model.output.weight.val().grad(&grads).is_some());
    }
}
