//! Choi et al.'s k1c2 ("Conv1D"): 1-D kernels (1 x 4, along time) convolved over the 2-D
//! log-mel, pooled along time only, then two fully-connected layers over every mel bin of
//! every feature map.
//!
//! Choi, Fazekas, Sandler & Cho (2017), "Convolutional recurrent neural networks for music
//! classification", ICASSP, arXiv:1609.04243, Sec. 2 and Fig. 1(a): four convolution layers
//! (1 x 4 kernels; max-pools 1 x 4, 1 x 5, 1 x 8, 1 x 8, which take the 1366 frames of a 29.1 s
//! clip to 1), two fully-connected layers, the output layer. Each layer `BN -> ELU`, a
//! frequency-axis batch-norm on the input, as in the authors' Keras taggers
//! (keunwoochoi/music-auto_tagging-keras@a3e105d). The fully-connected layers take
//! `channels × 96` inputs, which is why this structure spends most of its budget there (the
//! blog's "needs a lot of nodes only for fully-connected layers").
//!
//! Widths per budget (the paper's ratio 1 : 1 : 2 : 2 for the convolutions, 2 : 2 for the
//! fully-connected layers, scaled until the count is within 0.5 % of the budget at 50 outputs):
//! see [`K1C2_WIDTHS`]. singerid's choices where the paper is silent: dropout 0.1 after each
//! convolution layer and 0.3 after each fully-connected layer (the authors' CRNN code uses 0.1
//! and 0.3); the last pool spans every remaining frame (identical at 1366 frames; see
//! [`super::budget`]).

use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

use super::budget::{Budget, CHOI_MELS, ConvLayer, pool_mels_and_all_frames};
use crate::blocks::conv_block::elu;
use crate::blocks::{
    InputNorm, InputNormConfig, KERAS_BN_EPSILON, KERAS_BN_MOMENTUM_BURN, keras_init,
};
use crate::classifier::{Classifier, ClassifierConfig, ModelOutput};
use crate::error::ModelError;
use crate::kernels;

/// Registry name of this model.
pub const NAME: &str = "choi_k1c2";

/// Widths `[conv1, conv2, conv3, conv4, fc1, fc2]` per [`Budget`] (0.1M ... 3M): 99,538,
/// 248,848, 500,609, 997,133 and 3,001,098 parameters with 50 outputs.
pub const K1C2_WIDTHS: [[usize; 6]; 5] = [
    [15, 15, 31, 31, 30, 30],
    [24, 24, 49, 49, 48, 48],
    [34, 34, 69, 69, 69, 69],
    [49, 49, 98, 98, 97, 97],
    [85, 85, 169, 169, 170, 170],
];

/// Every hyper-parameter of [`K1c2`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct K1c2Config {
    /// Number of outputs (tags or singers).
    pub n_classes: usize,
    /// Mel bins of the input (96).
    pub mels: usize,
    /// The parameter budget, which sets every width ([`K1C2_WIDTHS`]).
    pub budget: Budget,
    /// Kernel `[mels, frames]` of every convolution (1 x 4).
    pub kernel: [usize; 2],
    /// Max-pool `[mels, frames]` after each convolution; the last one's frames are every
    /// frame left.
    pub pools: [[usize; 2]; 4],
    /// Dropout after each convolution layer.
    pub dropout: f64,
    /// Dropout after each fully-connected layer.
    pub fc_dropout: f64,
}

impl K1c2Config {
    /// The paper's k1c2 at `budget` for `n_classes` outputs.
    pub fn new(n_classes: usize, budget: Budget) -> Self {
        Self {
            n_classes,
            mels: CHOI_MELS,
            budget,
            kernel: [1, 4],
            pools: [[1, 4], [1, 5], [1, 8], [1, 8]],
            dropout: 0.1,
            fc_dropout: 0.3,
        }
    }

    /// The widths of this budget.
    pub fn widths(&self) -> [usize; 6] {
        K1C2_WIDTHS[self.budget.index()]
    }

    /// Mel bins left after the pools.
    pub fn mels_out(&self) -> usize {
        self.pools.iter().fold(self.mels, |m, p| m / p[0])
    }

    /// Checks that the config builds a working model.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] naming the offending field.
    pub fn validate(&self) -> Result<(), ModelError> {
        let fail = |m: String| Err(ModelError::InvalidConfig(m));
        if self.n_classes == 0 || self.kernel.contains(&0) {
            return fail("n_classes and the kernel sides must be at least 1".into());
        }
        super::budget::check_pools_and_dropouts(
            self.mels,
            &self.pools,
            [("dropout", self.dropout), ("fc_dropout", self.fc_dropout)],
        )
    }
    /// Builds the model.
    ///
    /// # Panics
    /// If [`validate`](Self::validate) fails; [`ClassifierConfig::try_init`] gives a `Result`.
    pub fn init(&self, device: &Device) -> K1c2 {
        match ClassifierConfig::try_init(self, device) {
            Ok(model) => model,
            Err(e) => panic!("{e}"),
        }
    }
}

impl ClassifierConfig for K1c2Config {
    type Model = K1c2;

    fn try_init(&self, device: &Device) -> Result<K1c2, ModelError> {
        self.validate()?;
        let w = self.widths();
        let mut channels = 1;
        let convs = w[..4]
            .iter()
            .map(|&out| {
                let layer = ConvLayer::init([channels, out], self.kernel, device);
                channels = out;
                layer
            })
            .collect();
        let mut features = channels * self.mels_out();
        let (mut fcs, mut fc_norms) = (Vec::new(), Vec::new());
        for &units in &w[4..] {
            fcs.push(keras_init::dense(features, units, device));
            fc_norms.push(
                BatchNormConfig::new(units)
                    .with_epsilon(KERAS_BN_EPSILON)
                    .with_momentum(KERAS_BN_MOMENTUM_BURN)
                    .init(device),
            );
            features = units;
        }
        Ok(K1c2 {
            input_norm: InputNormConfig::keras(self.mels).init(device),
            convs,
            fcs,
            fc_norms,
            dropout: DropoutConfig::new(self.dropout).init(),
            fc_dropout: DropoutConfig::new(self.fc_dropout).init(),
            output: keras_init::dense(features, self.n_classes, device),
            config: self.clone(),
        })
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// One frame must reach the last pool: the product of the other time pools (160).
    fn min_frames(&self) -> usize {
        self.pools[..3].iter().map(|p| p[1]).product()
    }
}

/// Choi et al.'s k1c2 tagger; see the module docs.
#[derive(Module, Debug)]
pub struct K1c2 {
    /// Batch-norm over the mel axis of the input.
    pub input_norm: InputNorm,
    /// The four 1 x 4 convolution layers.
    pub convs: Vec<ConvLayer>,
    /// The two fully-connected layers.
    pub fcs: Vec<Linear>,
    /// Their batch-norms.
    pub fc_norms: Vec<BatchNorm>,
    /// Dropout after each convolution layer.
    pub dropout: Dropout,
    /// Dropout after each fully-connected layer.
    pub fc_dropout: Dropout,
    /// The output layer (logits).
    pub output: Linear,
    /// The config this model was built from.
    #[module(skip)]
    pub config: K1c2Config,
}

impl Classifier for K1c2 {
    type Config = K1c2Config;

    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &K1c2Config {
        &self.config
    }

    /// # Shapes
    /// - `mel`: `[batch, 1, mels, frames]` log-mel (dB); `melody` must be `None`
    /// - output: logits `[batch, classes]`, embedding `[batch, fc2]` (the last
    ///   fully-connected layer)
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
                true => pool_mels_and_all_frames(x, pool[0]), // [batch, width_4, m / p0, 1]
            };
            x = self.dropout.forward(x);
        }
        let [_, c, m, _] = x.dims();
        let mut x = x.reshape([batch, c * m]); // [batch, width_4 · mels_out]
        let mut embedding = None;
        for (fc, norm) in self.fcs.iter().zip(&self.fc_norms) {
            let hidden = elu(norm.forward(fc.forward(x))); // [batch, units]
            x = self.fc_dropout.forward(hidden.clone());
            embedding = Some(hidden);
        }
        let logits = self.output.forward(x); // [batch, classes]
        let embedding = embedding.expect("two fully-connected layers");
        ModelOutput { logits, embedding }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tagger::budget::checks;
    use burn::tensor::Distribution;

    /// Per budget, with 50 outputs: input BN 4·96; convolution i `4·in·out + out` + BN
    /// `4·out`; fc1 `(conv4 · 96)·fc1 + fc1`, fc2 `fc1·fc2 + fc2`, each + BN `4·units`;
    /// output `fc2·50 + 50`. For 0.1M: 384 + 135 + 975 + 2015 + 3999 + 89,430 + 1050 + 1550 =
    /// 99,538.
    #[test]
    fn budgets_land_within_three_percent() {
        checks::budgets_land_within_three_percent(
            [99_538, 248_848, 500_609, 997_133, 3_001_098],
            |classes, budget, device| Box::new(K1c2Config::new(classes, budget).init(device)),
        );
    }

    #[test]
    fn output_shapes_for_the_96_mel_input() {
        checks::output_shapes_for_the_96_mel_input(
            [
                (Budget::K100, 2, 1366),
                (Budget::M1, 1, 160),
                (Budget::M1, 3, 400),
            ],
            |classes, budget, device| Box::new(K1c2Config::new(classes, budget).init(device)),
            |budget| K1c2Config::new(7, budget).widths()[5],
        );
    }

    #[test]
    #[should_panic(expected = "mel input must be")]
    fn too_short_clip_panics() {
        let device = Device::default();
        let model = K1c2Config::new(3, Budget::K100).init(&device);
        let _ = Classifier::forward(&model, Tensor::zeros([1, 1, 96, 159], &device), None);
    }

    #[test]
    fn gradients_reach_the_first_layer() {
        let device = Device::default().autodiff();
        let model = K1c2Config::new(3, Budget::K100).init(&device);
        let x = Tensor::random([2, 1, 96, 200], Distribution::Uniform(-80.0, 0.0), &device);
        let grads = Classifier::forward(&model, x, None)
            .logits
            .powi_scalar(2)
            .mean()
            .backward();
        assert!(model.convs[0].conv.weight.val().grad(&grads).is_some());
        assert!(model.fcs[0].weight.val().grad(&grads).is_some());
    }
}
