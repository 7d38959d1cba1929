//! 2-D convolution, stride 1, odd square kernel `k`, symmetric 'same' zero padding `k / 2`, with
//! bias: forward and backward as im2col + matrix products on burn-flex's gemm.
//!
//! Per clip `b`, `cols_b[ci·k² + kh·k + kw, h·W + w] = x[b, ci, h + kh - p, w + kw - p]` (zero
//! outside), so that `y_b = W cols_b + bias` with `W` the `[Co, Ci·k²]` weight matrix lands in
//! NCHW order without a transpose. Backward, with `g_b = ∂L/∂y_b`: `∂W = Σ_b g_b cols_bᵀ`,
//! `∂bias = Σ_{b, h, w} g`, `∂cols_b = Wᵀ g_b` folded back into `∂x_b` (col2im, the adjoint of
//! im2col). The columns are rebuilt from `x` in the backward pass rather than kept, and the batch
//! is processed in chunks so that the column buffer stays near [`COLUMN_BUDGET`] floats.
//!
//! burn-flex computes the weight gradient as a convolution whose kernel is the whole output
//! gradient (a `[Co, B·H·W] x [B·H·W, 9]`-shaped product per input channel) and the input gradient
//! as a transposed convolution; both were ~3x the forward time here (bench/RESULTS.md).

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, TensorMetadata};
use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2d;
use burn::tensor::{DType, Shape, Tensor, TensorData};
use std::ops::Range;

use super::parallel::{blocks, run_groups};

/// Floats of im2col columns built at once (32 MiB).
const COLUMN_BUDGET: usize = 8 << 20;

/// Whether [`conv2d`] computes `conv` itself: groups 1, stride 1, dilation 1, an odd square
/// kernel, symmetric padding of half the kernel, and a bias.
pub fn supports(conv: &Conv2d) -> bool {
    let [kh, kw] = conv.kernel_size;
    let pad = kh / 2;
    let padded = match &conv.padding {
        PaddingConfig2d::Explicit(top, left, bottom, right) => {
            [*top, *left, *bottom, *right] == [pad; 4]
        }
        PaddingConfig2d::Valid => kh == 1,
        _ => false,
    };
    conv.groups == 1
        && conv.stride == [1, 1]
        && conv.dilation == [1, 1]
        && kh == kw
        && kh % 2 == 1
        && padded
        && conv.bias.is_some()
}

/// `conv.forward(x)` for a [`supports`]-ed convolution on burn-flex (f32); elsewhere burn's.
pub fn conv2d(conv: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let Some(bias) = conv.bias.as_ref().filter(|_| supports(conv)) else {
        return conv.forward(x);
    };
    if x.dtype() != DType::F32 || conv.weight.val().dtype() != DType::F32 {
        return conv.forward(x);
    }
    let k = conv.kernel_size[0];
    if x.device().is_autodiff() {
        let (Ok(x_ad), Ok(w_ad), Ok(b_ad)) = (
            x.clone().try_into_primitive::<Autodiff<Flex>>(),
            conv.weight.val().try_into_primitive::<Autodiff<Flex>>(),
            bias.val().try_into_primitive::<Autodiff<Flex>>(),
        ) else {
            return conv.forward(x);
        };
        let x_flex = x_ad.primitive().to_contiguous();
        let w_flex = w_ad.primitive().to_contiguous();
        let y = forward(&x_flex, &w_flex, b_ad.primitive(), k);
        let state = State {
            x: x_flex,
            weight: w_flex,
            k,
        };
        let out = super::record(
            ConvBackward,
            [x_ad.node(), w_ad.node(), b_ad.node()],
            state,
            y,
        );
        Tensor::from_primitive::<Autodiff<Flex>>(out)
    } else {
        let (Ok(x_flex), Ok(w_flex), Ok(b_flex)) = (
            x.clone().try_into_primitive::<Flex>(),
            conv.weight.val().try_into_primitive::<Flex>(),
            bias.val().try_into_primitive::<Flex>(),
        ) else {
            return conv.forward(x);
        };
        let y = forward(&x_flex.to_contiguous(), &w_flex.to_contiguous(), &b_flex, k);
        Tensor::from_primitive::<Flex>(y)
    }
}

fn f32s(t: &FlexTensor) -> &[f32] {
    t.as_slice::<f32>()
        .expect("a contiguous f32 flex tensor (made so by the caller)")
}

fn dims4(t: &FlexTensor) -> [usize; 4] {
    let s = t.shape();
    [s[0], s[1], s[2], s[3]]
}

/// Clips per chunk so that a chunk's columns fit the budget.
fn chunk_len(batch: usize, rows: usize, plane: usize) -> usize {
    (COLUMN_BUDGET / (rows * plane).max(1)).clamp(1, batch.max(1))
}

/// Every contiguous run of the im2col layout for one `h x w` plane and a `k x k` kernel with
/// `k / 2` zero padding: `f(row, cols, input)` says that row `kh·k + kw` holds, at columns
/// `cols` (output positions `oh·w + ow`), the input pixels `input` (`ih·w + iw`). Positions
/// not covered read the padding (zero). [`im2col`] copies along these runs, [`col2im`] adds
/// back along the same runs, which is what makes one the other's adjoint.
fn tap_runs(h: usize, w: usize, k: usize, mut f: impl FnMut(usize, Range<usize>, Range<usize>)) {
    let p = k / 2;
    for kh in 0..k {
        for kw in 0..k {
            let (w_lo, w_hi) = (p.saturating_sub(kw), (w + p).saturating_sub(kw).min(w));
            if w_lo >= w_hi {
                continue;
            }
            for oh in 0..h {
                let ih = oh + kh;
                if ih < p || ih - p >= h {
                    continue;
                }
                let ih = ih - p;
                let (iw_lo, iw_hi) = (w_lo + kw - p, w_hi + kw - p);
                f(
                    kh * k + kw,
                    oh * w + w_lo..oh * w + w_hi,
                    ih * w + iw_lo..ih * w + iw_hi,
                );
            }
        }
    }
}

/// im2col of clips `start..start + len` of the NCHW `x` into `[len, Ci·k², H·W]` columns.
fn im2col(x: &[f32], [_, ci, h, w]: [usize; 4], k: usize, start: usize, len: usize) -> Vec<f32> {
    let plane = h * w;
    let kk = k * k;
    let mut cols = vec![0.0f32; len * ci * kk * plane];
    run_groups(blocks(&mut cols, kk * plane), |group| {
        for (i, block) in group {
            // Block i: clip start + i / ci, input channel i % ci.
            let src = &x[(start * ci + i) * plane..(start * ci + i + 1) * plane];
            tap_runs(h, w, k, |row, cols, input| {
                block[row * plane..(row + 1) * plane][cols].copy_from_slice(&src[input]);
            });
        }
    });
    cols
}

/// col2im: the adjoint of [`im2col`], adding `[len, Ci·k², H·W]` columns into the input
/// gradient of clips `start..start + len` (`dx` holds those clips only).
fn col2im(cols: &[f32], dx: &mut [f32], [_, _, h, w]: [usize; 4], k: usize) {
    let plane = h * w;
    let kk = k * k;
    run_groups(blocks(dx, plane), |group| {
        for (i, out) in group {
            let block = &cols[i * kk * plane..(i + 1) * kk * plane];
            tap_runs(h, w, k, |row, cols, input| {
                let row = &block[row * plane..(row + 1) * plane];
                for (d, &s) in out[input].iter_mut().zip(&row[cols]) {
                    *d += s;
                }
            });
        }
    });
}

fn tensor3(values: Vec<f32>, shape: [usize; 3]) -> Tensor<3> {
    Tensor::from_primitive::<Flex>(FlexTensor::from_data(TensorData::new(values, shape)))
}

fn into_vec(t: Tensor<3>) -> Vec<f32> {
    t.into_data()
        .try_into_vec::<f32>()
        .expect("f32 data from an f32 product")
}

/// The weight as a `[1, Co, Ci·k²]` matrix on plain flex.
fn weight_matrix(weight: &FlexTensor) -> Tensor<3> {
    let [co, ci, kh, kw] = dims4(weight);
    Tensor::<4>::from_primitive::<Flex>(weight.clone()).reshape([1, co, ci * kh * kw])
}

fn forward(x: &FlexTensor, weight: &FlexTensor, bias: &FlexTensor, k: usize) -> FlexTensor {
    let dims @ [batch, ci, h, w] = dims4(x);
    let co = dims4(weight)[0];
    let plane = h * w;
    let rows = ci * k * k;
    let wm = weight_matrix(weight);
    let bias = Tensor::<1>::from_primitive::<Flex>(bias.clone()).reshape([1, co, 1]);
    let input = f32s(x);
    let step = chunk_len(batch, rows, plane);
    // One product per chunk straight into NCHW order; a single chunk needs no copy at all.
    let mut chunks: Vec<Tensor<3>> = (0..batch)
        .step_by(step)
        .map(|start| {
            let len = step.min(batch - start);
            let cols = tensor3(im2col(input, dims, k, start, len), [len, rows, plane]);
            wm.clone().matmul(cols).add(bias.clone()) // [len, Co, H·W]
        })
        .collect();
    let y = match chunks.len() {
        1 => chunks.remove(0),
        _ => Tensor::cat(chunks, 0),
    };
    y.reshape([batch, co, h, w])
        .try_into_primitive::<Flex>()
        .expect("a plain flex tensor")
}

/// The input and weight of the forward pass (the columns are rebuilt from them).
#[derive(Clone, Debug)]
struct State {
    x: FlexTensor,
    weight: FlexTensor,
    k: usize,
}

#[derive(Debug)]
struct ConvBackward;

impl Backward<Flex, 3> for ConvBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let State { x, weight, k } = ops.state;
        let dims @ [batch, ci, h, w] = dims4(&x);
        let co = dims4(&weight)[0];
        let plane = h * w;
        let rows = ci * k * k;
        let [x_node, w_node, b_node] = ops.parents;
        let g = Tensor::<4>::from_primitive::<Flex>(grad).reshape([batch, co, plane]);

        if let Some(node) = b_node {
            let db = g.clone().sum_dim(2).sum_dim(0).reshape([co]);
            grads.register::<Flex>(
                node.id,
                db.try_into_primitive::<Flex>()
                    .expect("a plain flex tensor"),
            );
        }
        if x_node.is_none() && w_node.is_none() {
            return;
        }
        let wt = weight_matrix(&weight).swap_dims(1, 2); // [1, Ci·k², Co]
        let input = f32s(&x);
        let step = chunk_len(batch, rows, plane);
        let mut dw: Option<Tensor<3>> = None;
        let mut dx = match x_node {
            Some(_) => vec![0.0f32; batch * ci * plane],
            None => Vec::new(),
        };
        for start in (0..batch).step_by(step) {
            let len = step.min(batch - start);
            let g_chunk = g.clone().narrow(0, start, len); // [len, Co, H·W]
            if w_node.is_some() {
                let cols = tensor3(im2col(input, dims, k, start, len), [len, rows, plane]);
                let part = g_chunk.clone().matmul(cols.swap_dims(1, 2)).sum_dim(0); // [1, Co, Ci·k²]
                dw = Some(match dw {
                    Some(acc) => acc + part,
                    None => part,
                });
            }
            if x_node.is_some() {
                let dcols = into_vec(wt.clone().matmul(g_chunk)); // [len, Ci·k², H·W]
                let span = start * ci * plane..(start + len) * ci * plane;
                col2im(&dcols, &mut dx[span], dims, k);
            }
        }
        if let (Some(node), Some(dw)) = (w_node, dw) {
            let dw = dw.reshape([co, ci, k, k]);
            grads.register::<Flex>(
                node.id,
                dw.try_into_primitive::<Flex>()
                    .expect("a plain flex tensor"),
            );
        }
        if let Some(node) = x_node {
            grads.register::<Flex>(
                node.id,
                FlexTensor::from_data(TensorData::new(dx, Shape::new([batch, ci, h, w]))),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::nn::conv::Conv2dConfig;
    use burn::tensor::{Device, Distribution, Tolerance};

    /// Output and the gradients of x, weight and bias against burn's convolution, for 3x3 and
    /// 1x1 kernels, one and several input channels, and a width narrower than the kernel.
    #[test]
    fn matches_burn_conv2d() {
        for (ci, co, k, h, w) in [
            (1, 4, 3, 6, 9),
            (5, 3, 3, 7, 2),
            (4, 6, 1, 3, 5),
            (3, 2, 5, 6, 4),
        ] {
            for device in [Device::flex().autodiff(), Device::flex()] {
                device.seed(7);
                let p = k / 2;
                let mut conv = Conv2dConfig::new([ci, co], [k, k])
                    .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
                    .init(&device);
                conv.bias = Some(Param::from_tensor(Tensor::random(
                    [co],
                    Distribution::Normal(0.0, 1.0),
                    &device,
                )));
                assert!(supports(&conv));
                let reference = conv.clone();
                let x0 =
                    Tensor::<4>::random([3, ci, h, w], Distribution::Normal(0.0, 1.0), &device);
                let tol = Tolerance::absolute(1e-4);
                if !device.is_autodiff() {
                    conv2d(&conv, x0.clone())
                        .into_data()
                        .assert_approx_eq::<f32>(&reference.forward(x0).into_data(), tol);
                    continue;
                }
                let weights = Tensor::<4>::random([3, co, h, w], Distribution::Default, &device);
                let x = x0.clone().require_grad();
                let y = conv2d(&conv, x.clone());
                let grads = (y.clone() * weights.clone()).sum().backward();
                let x_ref = x0.require_grad();
                let y_ref = reference.forward(x_ref.clone());
                let grads_ref = (y_ref.clone() * weights).sum().backward();
                y.into_data()
                    .assert_approx_eq::<f32>(&y_ref.into_data(), tol);
                x.grad(&grads)
                    .expect("x gradient")
                    .into_data()
                    .assert_approx_eq::<f32>(
                        &x_ref.grad(&grads_ref).expect("x gradient").into_data(),
                        tol,
                    );
                conv.weight
                    .val()
                    .grad(&grads)
                    .expect("weight gradient")
                    .into_data()
                    .assert_approx_eq::<f32>(
                        &reference
                            .weight
                            .val()
                            .grad(&grads_ref)
                            .expect("weight gradient")
                            .into_data(),
                        tol,
                    );
                let bias = |c: &Conv2d, g| {
                    c.bias
                        .as_ref()
                        .expect("bias")
                        .val()
                        .grad(g)
                        .expect("bias gradient")
                        .into_data()
                };
                bias(&conv, &grads).assert_approx_eq::<f32>(&bias(&reference, &grads_ref), tol);
            }
        }
    }
}
