//! One training step (loss, backward, Adam with an explicit epsilon) for every model and every
//! FGNL ablation at the paper's clip lengths T = 94, 157 and 313 frames (3, 5 and 10 s at 16 kHz,
//! hop 512): finite loss, a gradient on every trainable parameter, non-zero overall, and
//! parameters that move. Batch 2, 3 classes, to stay cheap.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::Gradients;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Device, Distribution, Tensor};
use singerid_models::{
    Attention, ModelConfig, ModelKind, ModelOutput, Reweighting, Smoothing, SoftmaxOver,
};

const FRAMES: [usize; 3] = [94, 157, 313];
const CLASSES: usize = 3;
const BATCH: usize = 2;

/// Sums |grad| over every float parameter and counts the parameters without one.
struct GradientCheck<'a> {
    grads: &'a Gradients,
    total: f64,
    without: Vec<String>,
    seen: usize,
}

impl ModuleVisitor for GradientCheck<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        if !value.is_require_grad() {
            return; // batch-norm statistics and the fixed Gaussian kernels
        }
        self.seen += 1;
        match value.grad(self.grads) {
            Some(g) => self.total += f64::from(g.abs().sum().into_scalar::<f32>()),
            None => self
                .without
                .push(format!("{} {:?}", param.id, value.dims())),
        }
    }
}

fn variants() -> Vec<(String, ModelConfig)> {
    let mut out: Vec<_> = ModelKind::ALL
        .into_iter()
        .map(|k| (k.name().to_string(), ModelConfig::new(k, CLASSES)))
        .collect();
    let ablation = |name: &str, f: &dyn Fn(&mut singerid_models::FgnlConfig)| {
        let mut c = ModelConfig::crnn_fgnl(CLASSES);
        if let Attention::Fgnl(fgnl) = &mut c.attention {
            f(fgnl);
        }
        (format!("crnn_fgnl/{name}"), c)
    };
    out.push(ablation("no_smoothing", &|f| f.smoothing = Smoothing::Off));
    out.push(ablation("no_mose", &|f| f.reweighting = Reweighting::Off));
    out.push(ablation("se", &|f| f.reweighting = Reweighting::Se));
    out.push(ablation("softmax_over_keys", &|f| {
        f.softmax_over = SoftmaxOver::Keys
    }));
    out
}

fn train_step(name: &str, config: &ModelConfig, frames: usize, device: &Device) {
    let model = config.init(device);
    let input = || {
        Tensor::<4>::random(
            [BATCH, 1, 128, frames],
            Distribution::Uniform(-40.0, 40.0),
            device,
        )
    };
    let melody = config.kind.uses_melody().then(input);
    let ModelOutput { logits, embedding } = model.forward(input(), melody);
    assert_eq!(logits.dims(), [BATCH, CLASSES], "{name} T={frames}");
    assert_eq!(embedding.dims(), [BATCH, 32], "{name} T={frames}");
    // Cross-entropy against classes 0 and 2.
    let targets = Tensor::<2>::from_floats([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], device);
    let loss = (log_softmax(logits, 1) * targets)
        .sum()
        .neg()
        .div_scalar(BATCH as f64);
    let loss_value = loss.clone().into_scalar::<f32>();
    assert!(
        loss_value.is_finite(),
        "{name} T={frames}: loss {loss_value}"
    );

    let grads = loss.backward();
    let mut check = GradientCheck {
        grads: &grads,
        total: 0.0,
        without: Vec::new(),
        seen: 0,
    };
    model.visit(&mut check);
    assert!(check.seen > 0, "{name}: no trainable parameter");
    assert!(
        check.without.is_empty(),
        "{name} T={frames}: parameters without gradient: {:?}",
        check.without
    );
    assert!(
        check.total.is_finite() && check.total > 0.0,
        "{name} T={frames}: |grad| = {}",
        check.total
    );

    let before = model.dense.weight.val().into_data();
    let grads = GradientsParams::from_grads(grads, &model);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let model = optimizer.step(1e-3, model, grads);
    let after = model.dense.weight.val().into_data();
    assert_ne!(
        before, after,
        "{name} T={frames}: Adam did not move the classifier"
    );
}

fn every_variant_at(frames: usize) {
    let device = Device::default().autodiff();
    for (name, config) in variants() {
        train_step(&name, &config, frames, &device);
    }
}

#[test]
fn one_training_step_at_3_seconds() {
    every_variant_at(FRAMES[0]);
}

#[test]
fn one_training_step_at_5_seconds() {
    every_variant_at(FRAMES[1]);
}

#[test]
fn one_training_step_at_10_seconds() {
    every_variant_at(FRAMES[2]);
}
