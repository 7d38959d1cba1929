//! `BatchNorm(ELU(x))` over the channels of an NCHW tensor, fused (the Keras order of the conv
//! block: ELU before batch-norm).
//!
//! Training (autodiff flex device, layer not frozen): with `a = ELU(x)`, per channel
//! `μ = mean(a)`, `σ² = mean((a - μ)²)` (biased, as burn), `â = (a - μ) / sqrt(σ² + ε)`,
//! `y = γ â + β`; the running statistics move by `momentum` as in `burn::nn::BatchNorm`. Backward,
//! with `g = ∂L/∂y` and `n` samples per channel: `∂β = Σ g`, `∂γ = Σ g â`,
//! `∂a = γ / sqrt(σ² + ε) · (g - ∂β / n - â ∂γ / n)`, `∂x = ∂a · ELU'(x)` where
//! `ELU'(x) = 1` for `x > 0` and `exp(x) = a + 1` otherwise, so only `a` is kept for the backward.
//!
//! Inference: `y = ELU(x) · s + t` with `s = γ / sqrt(var + ε)`, `t = β - mean · s` from the
//! moving statistics, in one pass.

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, TensorMetadata};
use burn::nn::BatchNorm;
use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::{DType, Shape, Tensor, TensorData};

use super::math::elu;
use super::parallel::{blocks_by_channel, paired_blocks, run_groups};
use crate::blocks::conv_block::elu as elu_composed;

/// `norm(ELU(x))` for a `[batch, channels, h, w]` tensor, fused on burn-flex (see the module
/// docs); elsewhere the composed burn ops. Same semantics as `norm.forward(elu(x))`, including
/// the running-statistics update in training.
pub fn elu_batch_norm(x: Tensor<4>, norm: &BatchNorm) -> Tensor<4> {
    elu_batch_norm_pool(x, norm, None)
}

/// [`elu_batch_norm`] followed by max-pooling with stride = kernel `pool` and no padding
/// (trailing rows and columns dropped), all in one op: the full-size normalised map is never
/// stored, and the backward pass writes the input gradient in one pass from the pooled gradient
/// (the batch-norm sums `Σ g` and `Σ g â` only see the window maxima, where `g` is non-zero).
/// Ties go to the first maximum of a window (NaN wins), as in burn-flex.
pub fn elu_batch_norm_pool(x: Tensor<4>, norm: &BatchNorm, pool: Option<[usize; 2]>) -> Tensor<4> {
    let device = x.device();
    let training = device.is_autodiff() && norm.training.is_enabled();
    let [_, _, h, w] = x.dims();
    let pool = pool.filter(|&[ph, pw]| ph > 0 && pw > 0);
    let composed = |x: Tensor<4>| {
        let y = norm.forward(elu_composed(x));
        match pool {
            Some(kernel) => MaxPool2dConfig::new(kernel).init().forward(y),
            None => y,
        }
    };
    if x.dtype() != DType::F32 || pool.is_some_and(|[ph, pw]| h < ph || w < pw) {
        return composed(x);
    }
    if training {
        let (Ok(x_ad), Ok(gamma), Ok(beta)) = (
            x.clone().try_into_primitive::<Autodiff<Flex>>(),
            norm.gamma.val().try_into_primitive::<Autodiff<Flex>>(),
            norm.beta.val().try_into_primitive::<Autodiff<Flex>>(),
        ) else {
            return composed(x);
        };
        let (y, mean, var) = train_autodiff(x_ad, gamma, beta, norm.epsilon, pool);
        let m = norm.momentum;
        let channels = mean.len();
        let update = |state: &burn::module::RunningState<Tensor<1>>, batch: Vec<f32>| {
            let batch = Tensor::<1>::from_data(TensorData::new(batch, [channels]), &device);
            let moved = state
                .value_sync()
                .to_device(&device)
                .mul_scalar(1.0 - m)
                .add(batch.mul_scalar(m));
            state.update(moved.detach());
        };
        update(&norm.running_mean, mean);
        update(&norm.running_var, var);
        Tensor::from_primitive::<Autodiff<Flex>>(y)
    } else {
        let Ok(x_flex) = x.clone().try_into_primitive::<Flex>() else {
            return composed(x);
        };
        let to_vec = |t: Tensor<1>| t.into_data().convert::<f32>().try_into_vec::<f32>();
        let (Ok(gamma), Ok(beta), Ok(mean), Ok(var)) = (
            to_vec(norm.gamma.val()),
            to_vec(norm.beta.val()),
            to_vec(norm.running_mean.value()),
            to_vec(norm.running_var.value()),
        ) else {
            return composed(x);
        };
        let y = infer(&x_flex, &gamma, &beta, &mean, &var, norm.epsilon, pool);
        Tensor::from_primitive::<Flex>(y)
    }
}

/// `[batch, channels, plane]` view of an NCHW shape.
fn geometry(shape: &Shape) -> (usize, usize, usize) {
    let dims = shape.clone();
    let batch = dims[0];
    let channels = dims[1];
    let plane = dims.num_elements() / (batch * channels).max(1);
    (batch, channels, plane)
}

fn contiguous_f32(t: &FlexTensor) -> FlexTensor {
    t.to_contiguous()
}

fn slice(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("a contiguous f32 flex tensor (checked by the caller)")
}

fn flex_from(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// Per-channel sums `(Σ v, Σ v²)` of `a`, computed while writing `a = ELU(x)`.
fn elu_and_moments(x: &[f32], a: &mut [f32], plane: usize, channels: usize) -> Vec<(f64, f64)> {
    let groups = blocks_by_channel(a, plane, channels);
    let partial = std::sync::Mutex::new(vec![(0.0f64, 0.0f64); channels]);
    run_groups(groups, |group| {
        let mut local = vec![(0.0f64, 0.0f64); channels];
        for (c, i, out) in group {
            let input = &x[i * plane..i * plane + out.len()];
            let (mut total, mut total2) = (0.0f64, 0.0f64);
            // f32 partial sums over runs of 256, flushed to f64: vectorised and accurate.
            for (outs, ins) in out.chunks_mut(256).zip(input.chunks(256)) {
                let (mut s, mut s2) = (0.0f32, 0.0f32);
                for (o, &v) in outs.iter_mut().zip(ins) {
                    let e = elu(v);
                    *o = e;
                    s += e;
                    s2 += e * e;
                }
                total += f64::from(s);
                total2 += f64::from(s2);
            }
            local[c].0 += total;
            local[c].1 += total2;
        }
        let mut partial = partial.lock().expect("no poisoned lock");
        for (p, l) in partial.iter_mut().zip(local) {
            p.0 += l.0;
            p.1 += l.1;
        }
    });
    partial.into_inner().expect("no poisoned lock")
}

/// `out = a · scale[c] + shift[c]`, block by block.
fn affine(a: &[f32], out: &mut [f32], plane: usize, scale: &[f32], shift: &[f32]) {
    let channels = scale.len();
    run_groups(blocks_by_channel(out, plane, channels), |group| {
        for (c, i, out) in group {
            let input = &a[i * plane..i * plane + out.len()];
            let (s, t) = (scale[c], shift[c]);
            for (o, &v) in out.iter_mut().zip(input) {
                *o = v * s + t;
            }
        }
    });
}

/// Max-pool of `a · scale[c] + shift[c]` with stride = kernel; returns the pooled
/// `[batch, channels, h / kh, w / kw]` tensor and, with `keep_argmax`, each output's source index
/// within its plane.
fn affine_pool(
    a: &[f32],
    shape: &Shape,
    kernel: [usize; 2],
    scale: &[f32],
    shift: &[f32],
    keep_argmax: bool,
) -> (FlexTensor, Vec<u32>) {
    pool_map(a, shape, kernel, scale, shift, keep_argmax, |v| v)
}

/// Max over stride = kernel windows of `f(v) · scale[c] + shift[c]`.
fn pool_map(
    a: &[f32],
    shape: &Shape,
    [kh, kw]: [usize; 2],
    scale: &[f32],
    shift: &[f32],
    keep_argmax: bool,
    f: impl Fn(f32) -> f32 + Sync,
) -> (FlexTensor, Vec<u32>) {
    let (batch, channels, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let (ho, wo) = (h / kh, w / kw);
    let (plane_in, plane_out) = (h * w, ho * wo);
    let mut y = vec![0.0f32; batch * channels * plane_out];
    let mut argmax = vec![
        0u32;
        if keep_argmax {
            y.len()
        } else {
            batch * channels
        }
    ];
    let arg_plane = if keep_argmax { plane_out } else { 1 };
    run_groups(
        paired_blocks(&mut y, plane_out, &mut argmax, arg_plane),
        |group| {
            // The kh input rows of one output row, transformed (a vectorised loop), then pooled.
            let mut rows = vec![0.0f32; kh * wo * kw];
            for (i, out, arg) in group {
                let c = i % channels;
                let (s, t) = (scale[c], shift[c]);
                let src = &a[i * plane_in..(i + 1) * plane_in];
                for oh in 0..ho {
                    for (dr, row) in rows.chunks_mut(wo * kw).enumerate() {
                        let base = (oh * kh + dr) * w;
                        for (o, &v) in row.iter_mut().zip(&src[base..base + wo * kw]) {
                            *o = f(v) * s + t;
                        }
                    }
                    for ow in 0..wo {
                        let mut best = f32::NEG_INFINITY;
                        let mut best_index = usize::MAX;
                        for (dr, row) in rows.chunks(wo * kw).enumerate() {
                            for (j, &v) in row[ow * kw..ow * kw + kw].iter().enumerate() {
                                if best_index == usize::MAX || v > best || v.is_nan() {
                                    best = v;
                                    best_index = (oh * kh + dr) * w + ow * kw + j;
                                }
                            }
                        }
                        out[oh * wo + ow] = best;
                        if keep_argmax {
                            arg[oh * wo + ow] = best_index as u32;
                        }
                    }
                }
            }
        },
    );
    let y = flex_from(y, Shape::new([batch, channels, ho, wo]));
    (y, if keep_argmax { argmax } else { Vec::new() })
}

/// Forward of the training op; returns the output and the batch mean and (biased) variance.
fn train_autodiff(
    x: <Autodiff<Flex> as burn::backend::BackendTypes>::FloatTensorPrimitive,
    gamma: <Autodiff<Flex> as burn::backend::BackendTypes>::FloatTensorPrimitive,
    beta: <Autodiff<Flex> as burn::backend::BackendTypes>::FloatTensorPrimitive,
    epsilon: f64,
    pool: Option<[usize; 2]>,
) -> (
    <Autodiff<Flex> as burn::backend::BackendTypes>::FloatTensorPrimitive,
    Vec<f32>,
    Vec<f32>,
) {
    let x_flex = contiguous_f32(x.primitive());
    let shape = x_flex.shape();
    let (batch, channels, plane) = geometry(&shape);
    let n = (batch * plane) as f64;
    let gamma_v = slice(&contiguous_f32(gamma.primitive())).to_vec();
    let beta_v = slice(&contiguous_f32(beta.primitive())).to_vec();

    let mut a = vec![0.0f32; shape.num_elements()];
    let moments = elu_and_moments(slice(&x_flex), &mut a, plane, channels);
    let mut mean = Vec::with_capacity(channels);
    let mut var = Vec::with_capacity(channels);
    let mut inv_std = Vec::with_capacity(channels);
    let mut scale = Vec::with_capacity(channels);
    let mut shift = Vec::with_capacity(channels);
    for (c, &(s, s2)) in moments.iter().enumerate() {
        let m = s / n;
        let v = (s2 / n - m * m).max(0.0);
        let is = 1.0 / (v + epsilon).sqrt();
        mean.push(m as f32);
        var.push(v as f32);
        inv_std.push(is as f32);
        let sc = f64::from(gamma_v[c]) * is;
        scale.push(sc as f32);
        shift.push((f64::from(beta_v[c]) - m * sc) as f32);
    }
    let (y, argmax) = match pool {
        None => {
            let mut y = vec![0.0f32; shape.num_elements()];
            affine(&a, &mut y, plane, &scale, &shift);
            (flex_from(y, shape.clone()), None)
        }
        Some(kernel) => {
            let (y, argmax) = affine_pool(&a, &shape, kernel, &scale, &shift, true);
            (y, Some(Arc::new(argmax)))
        }
    };

    let state = State {
        a: Arc::new(a),
        shape,
        mean: mean.clone(),
        inv_std,
        gamma: gamma_v,
        argmax,
    };
    let out = super::record(
        EluBatchNormBackward,
        [x.node(), gamma.node(), beta.node()],
        state,
        y,
    );
    (out, mean, var)
}

/// What the backward pass needs: the ELU output and the per-channel statistics.
#[derive(Clone)]
struct State {
    a: Arc<Vec<f32>>,
    shape: Shape,
    mean: Vec<f32>,
    inv_std: Vec<f32>,
    gamma: Vec<f32>,
    /// With pooling: each pooled output's source index within its `h·w` plane.
    argmax: Option<Arc<Vec<u32>>>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EluBatchNormState")
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct EluBatchNormBackward;

impl Backward<Flex, 3> for EluBatchNormBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = contiguous_f32(&grads.consume::<Flex>(&ops.node));
        let state = ops.state;
        let g = slice(&grad);
        let a = state.a.as_slice();
        let (batch, channels, plane) = geometry(&state.shape);
        let n = (batch * plane) as f32;

        // Pass 1: Σ g and Σ g â per channel (with pooling, g is non-zero at the argmax only).
        let plane_g = g.len() / (batch * channels).max(1);
        let mut sums = vec![(0.0f64, 0.0f64); channels];
        {
            let mut per_block = vec![(0.0f64, 0.0f64); batch * channels];
            let groups = blocks_by_channel(&mut per_block, 1, channels);
            let argmax = state.argmax.as_deref();
            run_groups(groups, |group| {
                for (c, i, out) in group {
                    let (m, is) = (state.mean[c], state.inv_std[c]);
                    let a_block = &a[i * plane..(i + 1) * plane];
                    let g_block = &g[i * plane_g..(i + 1) * plane_g];
                    let (mut sg, mut sgx) = (0.0f64, 0.0f64);
                    match argmax {
                        None => {
                            for (gs, as_) in g_block.chunks(256).zip(a_block.chunks(256)) {
                                let (mut s1, mut s2) = (0.0f32, 0.0f32);
                                for (&gv, &av) in gs.iter().zip(as_) {
                                    s1 += gv;
                                    s2 += gv * (av - m) * is;
                                }
                                sg += f64::from(s1);
                                sgx += f64::from(s2);
                            }
                        }
                        Some(argmax) => {
                            let args = &argmax[i * plane_g..(i + 1) * plane_g];
                            for (&gv, &j) in g_block.iter().zip(args) {
                                sg += f64::from(gv);
                                sgx += f64::from(gv * (a_block[j as usize] - m) * is);
                            }
                        }
                    }
                    out[0] = (sg, sgx);
                }
            });
            for (i, (sg, sgx)) in per_block.into_iter().enumerate() {
                sums[i % channels].0 += sg;
                sums[i % channels].1 += sgx;
            }
        }
        let d_beta: Vec<f32> = sums.iter().map(|s| s.0 as f32).collect();
        let d_gamma: Vec<f32> = sums.iter().map(|s| s.1 as f32).collect();

        let [x_node, gamma_node, beta_node] = ops.parents;
        if let Some(node) = x_node {
            // Pass 2: ∂x.
            let mut dx = vec![0.0f32; a.len()];
            let argmax = state.argmax.as_deref();
            run_groups(blocks_by_channel(&mut dx, plane, channels), |group| {
                for (c, i, out) in group {
                    let a_block = &a[i * plane..i * plane + out.len()];
                    let g_block = &g[i * plane_g..(i + 1) * plane_g];
                    let (m, is) = (state.mean[c], state.inv_std[c]);
                    let k = state.gamma[c] * is;
                    let mean_g = d_beta[c] / n;
                    let mean_gx = d_gamma[c] / n;
                    let elu_grad = |av: f32, da: f32| if av > 0.0 { da } else { da * (av + 1.0) };
                    match argmax {
                        None => {
                            for ((o, &gv), &av) in out.iter_mut().zip(g_block).zip(a_block) {
                                let xhat = (av - m) * is;
                                *o = elu_grad(av, k * (gv - mean_g - xhat * mean_gx));
                            }
                        }
                        Some(argmax) => {
                            // g = 0 off the window maxima; add k·g there (ELU' applied once).
                            for (o, &av) in out.iter_mut().zip(a_block) {
                                let xhat = (av - m) * is;
                                *o = k * (-mean_g - xhat * mean_gx);
                            }
                            let args = &argmax[i * plane_g..(i + 1) * plane_g];
                            for (&gv, &j) in g_block.iter().zip(args) {
                                out[j as usize] += k * gv;
                            }
                            for (o, &av) in out.iter_mut().zip(a_block) {
                                *o = elu_grad(av, *o);
                            }
                        }
                    }
                }
            });
            grads.register::<Flex>(node.id, flex_from(dx, state.shape.clone()));
        }
        if let Some(node) = gamma_node {
            grads.register::<Flex>(node.id, flex_from(d_gamma, Shape::new([channels])));
        }
        if let Some(node) = beta_node {
            grads.register::<Flex>(node.id, flex_from(d_beta, Shape::new([channels])));
        }
    }
}

/// Inference: one pass, `ELU(x) · s + t` per channel, max-pooled when `pool` is given.
fn infer(
    x: &FlexTensor,
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    var: &[f32],
    epsilon: f64,
    pool: Option<[usize; 2]>,
) -> FlexTensor {
    let x = contiguous_f32(x);
    let shape = x.shape();
    let (_, channels, plane) = geometry(&shape);
    let mut scale = Vec::with_capacity(channels);
    let mut shift = Vec::with_capacity(channels);
    for c in 0..channels {
        let s = f64::from(gamma[c]) / (f64::from(var[c]) + epsilon).sqrt();
        scale.push(s as f32);
        shift.push((f64::from(beta[c]) - f64::from(mean[c]) * s) as f32);
    }
    let input = slice(&x);
    if let Some(kernel) = pool {
        return pool_map(input, &shape, kernel, &scale, &shift, false, elu).0;
    }
    let mut y = vec![0.0f32; shape.num_elements()];
    run_groups(blocks_by_channel(&mut y, plane, channels), |group| {
        for (c, i, out) in group {
            let (s, t) = (scale[c], shift[c]);
            for (o, &v) in out.iter_mut().zip(&input[i * plane..]) {
                *o = elu(v) * s + t;
            }
        }
    });
    flex_from(y, shape)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::BatchNormConfig;
    use burn::tensor::{Device, Distribution, Tolerance};

    fn norm(channels: usize, device: &Device) -> BatchNorm {
        let mut norm = BatchNormConfig::new(channels)
            .with_epsilon(1e-3)
            .with_momentum(0.01)
            .init(device);
        norm.gamma = Param::from_tensor(Tensor::random(
            [channels],
            Distribution::Normal(1.0, 0.5),
            device,
        ));
        norm.beta = Param::from_tensor(Tensor::random(
            [channels],
            Distribution::Normal(0.0, 0.5),
            device,
        ));
        norm
    }

    /// `norm.forward(elu(x))`, max-pooled by burn when `pool` is given.
    fn composed(x: Tensor<4>, norm: &BatchNorm, pool: Option<[usize; 2]>) -> Tensor<4> {
        let y = norm.forward(elu_composed(x));
        match pool {
            Some(kernel) => MaxPool2dConfig::new(kernel).init().forward(y),
            None => y,
        }
    }

    const POOLS: [Option<[usize; 2]>; 3] = [None, Some([2, 2]), Some([4, 2])];

    /// The fused training op against the composed burn ops: output, the gradients of x, γ and β,
    /// and the running statistics; odd sizes, so pooling drops a row and a column.
    #[test]
    fn training_matches_composed_ops() {
        for pool in POOLS {
            let device = Device::flex().autodiff();
            device.seed(3);
            let x0 = Tensor::<4>::random([3, 5, 9, 11], Distribution::Normal(0.0, 2.0), &device);
            let fused = norm(5, &device);
            let reference = fused.clone();

            let x = x0.clone().require_grad();
            let y = elu_batch_norm_pool(x.clone(), &fused, pool);
            let weights = Tensor::<4>::random(y.dims(), Distribution::Default, &device);
            let grads = (y.clone() * weights.clone()).sum().backward();
            let x_ref = x0.require_grad();
            let y_ref = composed(x_ref.clone(), &reference, pool);
            let grads_ref = (y_ref.clone() * weights).sum().backward();

            let tol = Tolerance::absolute(2e-5);
            y.into_data()
                .assert_approx_eq::<f32>(&y_ref.into_data(), tol);
            x.grad(&grads)
                .expect("gradient")
                .into_data()
                .assert_approx_eq::<f32>(
                    &x_ref.grad(&grads_ref).expect("gradient").into_data(),
                    tol,
                );
            for (p, q) in [
                (fused.gamma.val(), reference.gamma.val()),
                (fused.beta.val(), reference.beta.val()),
            ] {
                p.grad(&grads)
                    .expect("gradient")
                    .into_data()
                    .assert_approx_eq::<f32>(
                        &q.grad(&grads_ref).expect("gradient").into_data(),
                        Tolerance::absolute(1e-4),
                    );
            }
            for (p, q) in [
                (fused.running_mean.value(), reference.running_mean.value()),
                (fused.running_var.value(), reference.running_var.value()),
            ] {
                p.into_data().assert_approx_eq::<f32>(&q.into_data(), tol);
            }
        }
    }

    #[test]
    fn inference_matches_composed_ops() {
        let device = Device::flex();
        device.seed(4);
        let mut bn = norm(4, &device);
        bn.running_mean =
            burn::module::RunningState::new(Tensor::from_floats([0.5, -0.2, 0.0, 1.0], &device));
        bn.running_var =
            burn::module::RunningState::new(Tensor::from_floats([2.0, 0.3, 1.0, 0.7], &device));
        let x = Tensor::<4>::random([2, 4, 7, 9], Distribution::Normal(0.0, 3.0), &device);
        for pool in POOLS {
            let y = elu_batch_norm_pool(x.clone(), &bn, pool);
            let y_ref = composed(x.clone(), &bn, pool);
            y.into_data()
                .assert_approx_eq::<f32>(&y_ref.into_data(), Tolerance::absolute(1e-5));
        }
    }
}
