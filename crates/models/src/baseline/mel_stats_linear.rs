//! The "log-mel mean/std + logistic regression" baseline: each clip is summarised by the mean
//! and the standard deviation over time of every log-mel bin (2 x mels features, a bag-of-frames
//! timbre summary in the spirit of Tzanetakis & Cook (2002), "Musical genre classification of
//! audio signals", IEEE TSAP, Sec. IV's texture-window means and variances), standardised by a
//! batch-norm layer, and classified by one linear layer under softmax cross-entropy (multinomial
//! logistic regression).
//!
//! The batch-norm stands in for scikit-learn's `StandardScaler` before `LogisticRegression`: in
//! training it standardises with batch statistics, in inference with its moving averages, and
//! its affine part is learned. There is no weight decay here (scikit-learn's default C = 1.0 L2
//! penalty is a training-loss choice). The embedding is the standardised feature vector.
//!
//! With `gate_db` set, the statistics are taken over the clip's loud frames only: those whose
//! mean log-mel level (over the bins) is within `gate_db` dB of the clip's loudest frame. On
//! separated vocals the quiet frames are mostly the separator's residue of the accompaniment
//! (the voice pauses), so gating acts as a simple voice-activity detector; the choice of 10 dB
//! and the measured gain are in bench/RESULTS.md ("Issue 13, session 6").

use burn::config::Config;
use burn::module::Module;
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig};
use burn::tensor::{Device, Tensor, TensorData};

use crate::classifier::{Classifier, ClassifierConfig, ModelOutput};
use crate::error::ModelError;
use crate::model::N_MELS;

/// Registry name of this model.
pub const NAME: &str = "mel_stats_linear";

/// Every hyper-parameter of [`MelStatsLinear`].
#[derive(Config, Debug, PartialEq)]
pub struct MelStatsLinearConfig {
    /// Number of classes (singers).
    pub n_classes: usize,
    /// Mel bins of the input.
    #[config(default = "N_MELS")]
    pub mels: usize,
    /// Added to the variance before the square root, so the standard deviation of a constant
    /// bin has a finite gradient.
    #[config(default = 1e-5)]
    pub std_epsilon: f64,
    /// Momentum of the batch-norm moving statistics (burn's convention: weight of the new batch).
    #[config(default = 0.1)]
    pub bn_momentum: f64,
    /// Batch-norm epsilon.
    #[config(default = 1e-5)]
    pub bn_epsilon: f64,
    /// L2 penalty on the linear weights, added to the mean cross-entropy as
    /// `l2 · Σ W²` (scikit-learn's `C` corresponds to `l2 = 1 / (2 · C · n_samples)`).
    #[config(default = 0.0)]
    pub l2: f64,
    /// When set, only frames whose mean level over the mel bins is at least the clip's loudest
    /// frame's minus this many dB enter the mean and the standard deviation (see the module
    /// docs); `None` uses every frame.
    #[config(default = "None")]
    pub gate_db: Option<f64>,
}

impl MelStatsLinearConfig {
    /// Number of features: a mean and a standard deviation per mel bin.
    pub fn features(&self) -> usize {
        2 * self.mels
    }

    /// Builds the model.
    ///
    /// # Panics
    /// If the config is invalid; see [`ClassifierConfig::try_init`].
    pub fn init(&self, device: &Device) -> MelStatsLinear {
        match ClassifierConfig::try_init(self, device) {
            Ok(model) => model,
            Err(e) => panic!("{e}"),
        }
    }
}

impl ClassifierConfig for MelStatsLinearConfig {
    type Model = MelStatsLinear;

    fn try_init(&self, device: &Device) -> Result<MelStatsLinear, ModelError> {
        let fail = |m: String| Err(ModelError::InvalidConfig(m));
        if self.n_classes == 0 || self.mels == 0 {
            return fail(format!(
                "n_classes and mels must be at least 1, got {} and {}",
                self.n_classes, self.mels
            ));
        }
        if !(self.l2 >= 0.0 && self.l2.is_finite()) {
            return fail(format!("l2 must be a finite value >= 0, got {}", self.l2));
        }
        if let Some(gate) = self.gate_db
            && !(gate >= 0.0 && gate.is_finite())
        {
            return fail(format!("gate_db must be a finite value >= 0, got {gate}"));
        }
        if !(self.std_epsilon > 0.0 && self.bn_epsilon > 0.0) {
            return fail("std_epsilon and bn_epsilon must be positive".into());
        }
        if !(0.0..=1.0).contains(&self.bn_momentum) {
            return fail(format!(
                "bn_momentum must be in [0, 1], got {}",
                self.bn_momentum
            ));
        }
        Ok(MelStatsLinear {
            norm: BatchNormConfig::new(self.features())
                .with_epsilon(self.bn_epsilon)
                .with_momentum(self.bn_momentum)
                .init(device),
            linear: LinearConfig::new(self.features(), self.n_classes).init(device),
            config: self.clone(),
        })
    }

    fn n_classes(&self) -> usize {
        self.n_classes
    }
}

/// Softmax regression on standardised per-bin log-mel statistics; see the module docs.
#[derive(Module, Debug)]
pub struct MelStatsLinear {
    /// Standardises the 2 x mels statistics.
    pub norm: BatchNorm,
    /// The classifier, weight `[2 x mels, classes]`.
    pub linear: Linear,
    /// The config this model was built from.
    #[module(skip)]
    pub config: MelStatsLinearConfig,
}

impl Classifier for MelStatsLinear {
    type Config = MelStatsLinearConfig;

    fn name(&self) -> &'static str {
        NAME
    }

    fn config(&self) -> &MelStatsLinearConfig {
        &self.config
    }

    /// # Shapes
    /// - `mel`: `[batch, 1, mels, frames]` log-mel (dB); `melody` must be `None`
    /// - output: logits `[batch, classes]`, embedding `[batch, 2 x mels]`
    ///
    /// # Panics
    /// On a wrong input shape or a melody input.
    fn regularization(&self, _output: &ModelOutput) -> Option<Tensor<1>> {
        (self.config.l2 > 0.0).then(|| {
            self.linear
                .weight
                .val()
                .powi_scalar(2)
                .sum()
                .mul_scalar(self.config.l2)
        })
    }

    fn forward(&self, mel: Tensor<4>, melody: Option<Tensor<4>>) -> ModelOutput {
        assert!(melody.is_none(), "{NAME} takes no melody input");
        let [batch, channels, mels, frames] = mel.dims();
        assert!(
            channels == 1 && mels == self.config.mels && frames >= 1,
            "mel input must be [batch, 1, {}, frames >= 1], got {:?}",
            self.config.mels,
            mel.dims()
        );
        let x = mel.reshape([batch, mels, frames]); // [batch, mels, frames]
        let (var, mean) = match self.config.gate_db {
            None => x.var_mean_bias(2), // [batch, mels, 1] each
            Some(gate) => gated_var_mean(x, gate),
        };
        let std = var.add_scalar(self.config.std_epsilon).sqrt(); // [batch, mels, 1]
        let x = Tensor::cat(vec![mean, std], 1).reshape([batch, 2 * mels]); // [batch, 2·mels]
        let embedding = self.norm.forward(x); // [batch, 2·mels]
        let logits = self.linear.forward(embedding.clone()); // [batch, classes]
        ModelOutput { logits, embedding }
    }
}

impl MelStatsLinear {
    /// One model whose logits are the mean of `members`' logits, exactly (up to rounding): an
    /// ensemble folded into a single model of this kind, so that it costs one member at
    /// inference.
    ///
    /// In inference each member is affine in the clip statistics `x`: `W_m·BN_m(x) + b_m`,
    /// with `BN_m(x) = s_m ⊙ x + c_m` (`s_m = γ_m / sqrt(v_m + ε)`, `c_m = β_m − s_m ⊙ μ_m`
    /// from its moving statistics). The result keeps the first member's batch norm, so its
    /// embedding is the first member's, and writes every member's standardisation relative to
    /// it, `BN_m(x) = A_m ⊙ BN_0(x) + C_m` with `A_m = s_m / s_0`, `C_m = c_m − A_m ⊙ c_0`;
    /// then `W = mean_m diag(A_m)·W_m` and `b = mean_m (b_m + C_mᵀ·W_m)`.
    ///
    /// # Errors
    /// [`ModelError::InvalidConfig`] for no members, members whose inference configs differ
    /// (classes, mels, gate, epsilons), or a first member with a zero scale `s_0` (a γ of 0),
    /// which the others cannot be written relative to.
    pub fn logit_average(members: &[MelStatsLinear]) -> Result<MelStatsLinear, ModelError> {
        let fail = |m: String| Err(ModelError::InvalidConfig(m));
        let Some(first) = members.first() else {
            return fail("an ensemble needs at least one member".into());
        };
        let inference = |c: &MelStatsLinearConfig| {
            (c.n_classes, c.mels, c.gate_db, c.std_epsilon, c.bn_epsilon)
        };
        if let Some(i) = members
            .iter()
            .position(|m| inference(&m.config) != inference(&first.config))
        {
            return fail(format!(
                "member {i} computes differently from member 0 (classes, mels, gate_db or an \
                 epsilon differ): {:?} vs {:?}",
                m_config_line(&members[i].config),
                m_config_line(&first.config)
            ));
        }
        let (features, classes) = (first.config.features(), first.config.n_classes);
        let (s0, c0) = first.standardisation();
        if s0.iter().any(|&s| s == 0.0 || !s.is_finite()) {
            return fail("member 0 has a zero or non-finite batch-norm scale".into());
        }
        let mut weight = vec![0.0f64; features * classes]; // [features, classes], row-major
        let mut bias = vec![0.0f64; classes];
        for member in members {
            let (s, c) = member.standardisation();
            let w = to_f64(member.linear.weight.val().into_data());
            let b = match &member.linear.bias {
                Some(b) => to_f64(b.val().into_data()),
                None => vec![0.0; classes],
            };
            for f in 0..features {
                let a = s[f] / s0[f];
                let shift = c[f] - a * c0[f];
                for k in 0..classes {
                    weight[f * classes + k] += a * w[f * classes + k];
                    bias[k] += shift * w[f * classes + k];
                }
            }
            for k in 0..classes {
                bias[k] += b[k];
            }
        }
        let n = members.len() as f64;
        let device = first.linear.weight.val().device();
        let weight: Vec<f32> = weight.iter().map(|&v| (v / n) as f32).collect();
        let bias: Vec<f32> = bias.iter().map(|&v| (v / n) as f32).collect();
        let mut folded = first.clone();
        folded.linear.weight = folded
            .linear
            .weight
            .map(|_| Tensor::from_data(TensorData::new(weight, [features, classes]), &device));
        let bias = Tensor::from_data(TensorData::new(bias, [classes]), &device);
        folded.linear.bias = Some(match folded.linear.bias {
            Some(param) => param.map(|_| bias),
            None => burn::module::Param::from_tensor(bias),
        });
        Ok(folded)
    }

    /// The inference-time batch norm as `s ⊙ x + c`: (`s`, `c`) per feature.
    fn standardisation(&self) -> (Vec<f64>, Vec<f64>) {
        crate::kernels::batch_norm::eval_affine(&self.norm)
    }
}

/// The inference-relevant part of a config, for error messages.
fn m_config_line(c: &MelStatsLinearConfig) -> String {
    format!(
        "classes {}, mels {}, gate_db {:?}, std_epsilon {}, bn_epsilon {}",
        c.n_classes, c.mels, c.gate_db, c.std_epsilon, c.bn_epsilon
    )
}

fn to_f64(data: TensorData) -> Vec<f64> {
    data.convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap_or_default()
        .into_iter()
        .map(f64::from)
        .collect()
}

/// Biased variance and mean over time of `x` `[batch, mels, frames]`, counting only the frames
/// whose mean over the mels is within `gate` of the loudest frame's (at least that one frame).
/// The selection is not differentiated (it is a step function of the input).
fn gated_var_mean(x: Tensor<3>, gate: f64) -> (Tensor<3>, Tensor<3>) {
    let level = x.clone().mean_dim(1); // [batch, 1, frames]
    let loudest = level.clone().max_dim(2); // [batch, 1, 1]
    let keep = level
        .sub(loudest)
        .greater_equal_elem(-gate)
        .float()
        .detach(); // [batch, 1, frames], 1 for the kept frames
    let count = keep.clone().sum_dim(2); // [batch, 1, 1], >= 1
    let mean = x.clone().mul(keep.clone()).sum_dim(2).div(count.clone()); // [batch, mels, 1]
    let var = x
        .sub(mean.clone())
        .powi_scalar(2)
        .mul(keep)
        .sum_dim(2)
        .div(count); // [batch, mels, 1]
    (var, mean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::SingerModel;
    use burn::tensor::Distribution;

    #[test]
    fn output_shapes() {
        let device = Device::default();
        let model = MelStatsLinearConfig::new(3).init(&device);
        for (batch, frames) in [(1, 1), (4, 37)] {
            let x = Tensor::random(
                [batch, 1, 128, frames],
                Distribution::Uniform(-80.0, 0.0),
                &device,
            );
            let out = Classifier::forward(&model, x, None);
            assert_eq!(out.logits.dims(), [batch, 3]);
            assert_eq!(out.embedding.dims(), [batch, 256]);
        }
        // BN (gamma, beta, 2 moving statistics) + Linear (weight, bias).
        assert_eq!(SingerModel::num_params(&model), 4 * 256 + 256 * 3 + 3);
    }

    /// Two mel bins, two frames, identity BN (fresh moving stats: mean 0, var 1, so
    /// y = x / sqrt(1 + 1e-5)), linear weights set to pick features:
    /// bin 0 = [1, 3] -> mean 2, std 1; bin 1 = [4, 4] -> mean 4, std sqrt(1e-5).
    /// Features [mean0, mean1, std0, std1] = [2, 4, 1, ~0.00316].
    #[test]
    fn features_are_means_then_stds() {
        let device = Device::default();
        let mut model = MelStatsLinearConfig::new(4).with_mels(2).init(&device);
        let eye: Vec<f32> = (0..16)
            .map(|i| if i % 5 == 0 { 1.0 } else { 0.0 })
            .collect();
        model.linear.weight = model
            .linear
            .weight
            .map(|_| Tensor::from_data(TensorData::new(eye, [4, 4]), &device));
        model.linear.bias = model.linear.bias.map(|b| b.map(|t| t.zeros_like()));
        let x = Tensor::from_data(
            TensorData::new(vec![1.0f32, 3.0, 4.0, 4.0], [1, 1, 2, 2]),
            &device,
        );
        let out = Classifier::forward(&model, x, None);
        let got = out.logits.into_data().try_to_vec::<f32>().expect("f32");
        let scale = 1.0 / (1.0f32 + 1e-5).sqrt();
        let want = [
            2.0 * scale,
            4.0 * scale,
            1.0 * scale,
            1e-5f32.sqrt() * scale,
        ];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
    }

    /// Two bins, four frames with mean levels -1, -30, -5, -21 dB (loudest -1): a 10 dB gate
    /// keeps frames 0 and 2 only. Bin 0 there = [0, -4] -> mean -2, std 2; bin 1 = [-2, -6] ->
    /// mean -4, std 2. Without the gate all four frames count.
    #[test]
    fn gate_keeps_only_frames_near_the_loudest() {
        let device = Device::default();
        let x = Tensor::<3>::from_data(
            TensorData::new(
                vec![0.0f32, -30.0, -4.0, -20.0, -2.0, -30.0, -6.0, -22.0],
                [1, 2, 4],
            ),
            &device,
        );
        let (var, mean) = gated_var_mean(x.clone(), 10.0);
        let mean = mean.into_data().try_to_vec::<f32>().expect("f32");
        let var = var.into_data().try_to_vec::<f32>().expect("f32");
        assert_eq!(mean, vec![-2.0, -4.0]);
        assert_eq!(var, vec![4.0, 4.0]);
        // A gate wide enough for every frame gives the plain statistics.
        let (var_all, mean_all) = gated_var_mean(x.clone(), 100.0);
        let (var_ref, mean_ref) = x.var_mean_bias(2);
        for (a, b) in [(var_all, var_ref), (mean_all, mean_ref)] {
            let (a, b) = (
                a.into_data().try_to_vec::<f32>(),
                b.into_data().try_to_vec::<f32>(),
            );
            assert_eq!(a.expect("f32"), b.expect("f32"));
        }
    }

    /// Three members with different batch-norm statistics and weights: the folded model's
    /// logits are the mean of theirs, and its embedding is the first member's.
    #[test]
    fn logit_average_is_the_mean_of_the_members_logits() {
        let device = Device::default();
        let config = MelStatsLinearConfig::new(5)
            .with_mels(8)
            .with_gate_db(Some(10.0));
        let random = |shape: [usize; 1], lo: f64, hi: f64| {
            Tensor::<1>::random(shape, Distribution::Uniform(lo, hi), &device)
        };
        let members: Vec<MelStatsLinear> = (0..3)
            .map(|_| {
                let mut m = config.init(&device);
                m.norm.gamma = m.norm.gamma.map(|_| random([16], 0.5, 2.0));
                m.norm.beta = m.norm.beta.map(|_| random([16], -1.0, 1.0));
                m.norm.running_mean = burn::module::RunningState::new(random([16], -40.0, 0.0));
                m.norm.running_var = burn::module::RunningState::new(random([16], 1.0, 30.0));
                m.linear.bias = m.linear.bias.map(|b| b.map(|_| random([5], -1.0, 1.0)));
                m
            })
            .collect();
        let folded = MelStatsLinear::logit_average(&members).expect("fold");
        let x = Tensor::random([4, 1, 8, 20], Distribution::Uniform(-80.0, 0.0), &device);
        let mean = members
            .iter()
            .map(|m| Classifier::forward(m, x.clone(), None).logits)
            .reduce(|a, b| a + b)
            .expect("members")
            .div_scalar(3.0);
        let out = Classifier::forward(&folded, x.clone(), None);
        let (got, want) = (to_f64(out.logits.into_data()), to_f64(mean.into_data()));
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g - w).abs() < 1e-4 * (1.0 + w.abs()),
                "{got:?} vs {want:?}"
            );
        }
        let first = Classifier::forward(&members[0], x, None).embedding;
        assert_eq!(to_f64(out.embedding.into_data()), to_f64(first.into_data()));
        // Members that compute differently cannot be folded.
        let other = MelStatsLinearConfig::new(5).with_mels(8).init(&device);
        let mixed = [members[0].clone(), other];
        assert!(MelStatsLinear::logit_average(&mixed).is_err());
        assert!(MelStatsLinear::logit_average(&[]).is_err());
    }

    #[test]
    fn configs_without_a_gate_still_load() {
        let json = r#"{"n_classes": 3, "mels": 128, "std_epsilon": 1e-5, "bn_momentum": 0.1,
            "bn_epsilon": 1e-5, "l2": 0.001}"#;
        let config: MelStatsLinearConfig = serde_json::from_str(json).expect("old config");
        assert_eq!(config.gate_db, None);
        let bad = MelStatsLinearConfig::new(3).with_gate_db(Some(-1.0));
        assert!(ClassifierConfig::try_init(&bad, &Device::default()).is_err());
    }

    #[test]
    #[should_panic(expected = "mel input must be")]
    fn wrong_mel_count_panics() {
        let device = Device::default();
        let model = MelStatsLinearConfig::new(3).init(&device);
        let _ = Classifier::forward(&model, Tensor::zeros([1, 1, 64, 10], &device), None);
    }

    #[test]
    fn gradients_reach_every_parameter() {
        let device = Device::default().autodiff();
        let model = MelStatsLinearConfig::new(3).init(&device);
        let x = Tensor::random([4, 1, 128, 20], Distribution::Uniform(-80.0, 0.0), &device);
        let loss = Classifier::forward(&model, x, None)
            .logits
            .powi_scalar(2)
            .mean();
        let grads = loss.backward();
        assert!(model.linear.weight.val().grad(&grads).is_some());
        assert!(model.norm.gamma.val().grad(&grads).is_some());
        assert!(model.norm.beta.val().grad(&grads).is_some());
    }
}
