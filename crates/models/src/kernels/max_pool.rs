//! Max-pooling of an NCHW tensor with stride = kernel, no padding, no dilation: Keras
//! `MaxPooling2D(pool)` with 'valid' padding, trailing rows/columns that do not fill a window
//! dropped. The backward pass routes each output gradient to the first maximum of its window
//! (NaN wins, the last NaN of a window), as burn-flex does.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, Flex, TensorMetadata};
use burn::nn::pool::MaxPool2dConfig;
use burn::tensor::{DType, Shape, Tensor, TensorData};

use super::parallel::{paired_blocks, run_groups};

/// `MaxPool2d(kernel, stride = kernel)` of a `[batch, channels, h, w]` tensor, fused on
/// burn-flex; elsewhere burn's max-pool. Output `[batch, channels, h / kh, w / kw]` (floor).
pub fn max_pool(x: Tensor<4>, kernel: [usize; 2]) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let fallback = |x: Tensor<4>| MaxPool2dConfig::new(kernel).init().forward(x);
    if x.dtype() != DType::F32 || kernel[0] == 0 || kernel[1] == 0 || h < kernel[0] || w < kernel[1]
    {
        return fallback(x);
    }
    if x.device().is_autodiff() {
        let Ok(x_ad) = x.clone().try_into_primitive::<Autodiff<Flex>>() else {
            return fallback(x);
        };
        let input = x_ad.primitive().to_contiguous();
        let (y, argmax) = forward(&input, kernel, true);
        let state = State {
            input_shape: input.shape(),
            argmax,
        };
        let out = super::record(MaxPoolBackward, [x_ad.node()], state, y);
        Tensor::from_primitive::<Autodiff<Flex>>(out)
    } else {
        let Ok(x_flex) = x.clone().try_into_primitive::<Flex>() else {
            return fallback(x);
        };
        let (y, _) = forward(&x_flex.to_contiguous(), kernel, false);
        Tensor::from_primitive::<Flex>(y)
    }
}

/// Pools a contiguous f32 tensor; with `keep_argmax`, also returns each output's source index
/// within its input plane.
fn forward(x: &FlexTensor, [kh, kw]: [usize; 2], keep_argmax: bool) -> (FlexTensor, Vec<u32>) {
    let shape = x.shape();
    let (batch, channels, h, w) = (shape[0], shape[1], shape[2], shape[3]);
    let (ho, wo) = (h / kh, w / kw);
    let input = x
        .as_slice::<f32>()
        .expect("a contiguous f32 flex tensor (checked by the caller)");
    let plane_in = h * w;
    let plane_out = ho * wo;
    let mut y = vec![0.0f32; batch * channels * plane_out];
    let mut argmax = vec![0u32; if keep_argmax { y.len() } else { 0 }];
    let argmax_plane = if keep_argmax { plane_out } else { 0 };
    let mut dummy = vec![0u32; batch * channels];
    let (arg_buf, arg_plane) = if keep_argmax {
        (&mut argmax[..], argmax_plane)
    } else {
        (&mut dummy[..], 1)
    };
    run_groups(
        paired_blocks(&mut y, plane_out, arg_buf, arg_plane),
        |group| {
            for (i, out, arg) in group {
                let plane = &input[i * plane_in..(i + 1) * plane_in];
                for oh in 0..ho {
                    for ow in 0..wo {
                        let mut best = f32::NEG_INFINITY;
                        let mut best_index = usize::MAX;
                        for r in oh * kh..oh * kh + kh {
                            let row = &plane[r * w..r * w + w];
                            for (c, &v) in row.iter().enumerate().skip(ow * kw).take(kw) {
                                if best_index == usize::MAX || v > best || v.is_nan() {
                                    best = v;
                                    best_index = r * w + c;
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
    let y = FlexTensor::from_data(TensorData::new(y, Shape::new([batch, channels, ho, wo])));
    (y, argmax)
}

/// The input shape and each output's argmax within its plane.
#[derive(Clone)]
struct State {
    input_shape: Shape,
    argmax: Vec<u32>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaxPoolState")
            .field("input_shape", &self.input_shape)
            .finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct MaxPoolBackward;

impl Backward<Flex, 1> for MaxPoolBackward {
    type State = State;

    fn backward(self, ops: Ops<State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let grad = grads.consume::<Flex>(&ops.node).to_contiguous();
        let [Some(node)] = ops.parents else {
            return;
        };
        let state = ops.state;
        let g = grad.as_slice::<f32>().expect("a contiguous f32 gradient");
        let shape = &state.input_shape;
        let plane_in = shape[2] * shape[3];
        let blocks = shape[0] * shape[1];
        let plane_out = g.len() / blocks.max(1);
        let mut dx = vec![0.0f32; blocks * plane_in];
        let mut index: Vec<usize> = (0..blocks).collect();
        run_groups(paired_blocks(&mut dx, plane_in, &mut index, 1), |group| {
            for (i, out, _) in group {
                let gs = &g[i * plane_out..(i + 1) * plane_out];
                let args = &state.argmax[i * plane_out..(i + 1) * plane_out];
                for (&gv, &a) in gs.iter().zip(args) {
                    out[a as usize] += gv;
                }
            }
        });
        grads.register::<Flex>(
            node.id,
            FlexTensor::from_data(TensorData::new(dx, shape.clone())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, Tolerance};

    /// Output and input gradient against burn's max-pool, odd sizes (trailing rows and columns
    /// dropped) and repeated values (ties go to the first maximum).
    #[test]
    fn matches_burn_max_pool() {
        for device in [Device::flex().autodiff(), Device::flex()] {
            device.seed(5);
            for kernel in [[2, 2], [4, 2]] {
                let x0 = Tensor::<4>::random([2, 3, 9, 7], Distribution::Normal(0.0, 1.0), &device)
                    .clamp_max(0.5);
                let y_ref = MaxPool2dConfig::new(kernel).init().forward(x0.clone());
                let y = max_pool(x0.clone(), kernel);
                assert_eq!(y.dims(), y_ref.dims());
                y.clone()
                    .into_data()
                    .assert_approx_eq::<f32>(&y_ref.clone().into_data(), Tolerance::absolute(0.0));
                if device.is_autodiff() {
                    let weights = Tensor::<4>::random(y.dims(), Distribution::Default, &device);
                    let x = x0.clone().require_grad();
                    let grads = (max_pool(x.clone(), kernel) * weights.clone())
                        .sum()
                        .backward();
                    let x_ref = x0.require_grad();
                    let grads_ref = (MaxPool2dConfig::new(kernel).init().forward(x_ref.clone())
                        * weights)
                        .sum()
                        .backward();
                    x.grad(&grads)
                        .expect("gradient")
                        .into_data()
                        .assert_approx_eq::<f32>(
                            &x_ref.grad(&grads_ref).expect("gradient").into_data(),
                            Tolerance::absolute(0.0),
                        );
                }
            }
        }
    }
}
