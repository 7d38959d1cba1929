//! Keras' default initialisers, so that a model trained from scratch here starts where the
//! authors' Keras models start: `glorot_uniform` kernels and zero biases (Conv2D, Dense),
//! `orthogonal` recurrent kernels (GRU).
//!
//! burn's own `Conv2dConfig`/`LinearConfig` draw the bias from the kernel's initialiser; Keras
//! zero-initialises it, hence these constructors.

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::{Device, Tensor};

/// Keras `glorot_uniform`.
pub const GLOROT_UNIFORM: Initializer = Initializer::XavierUniform { gain: 1.0 };

/// A zero-initialised bias of `size` entries.
pub fn zero_bias(size: usize, device: &Device) -> Param<Tensor<1>> {
    Initializer::Zeros.init([size], device)
}

/// A Keras-initialised `Conv2D` (stride 1, optional bias), NCHW weight `[out, in / groups, kh, kw]`.
pub fn conv2d(
    channels: [usize; 2],
    kernel_size: [usize; 2],
    padding: PaddingConfig2d,
    device: &Device,
) -> Conv2d {
    let mut conv = Conv2dConfig::new(channels, kernel_size)
        .with_padding(padding)
        .with_bias(false)
        .with_initializer(GLOROT_UNIFORM)
        .init(device);
    conv.bias = Some(zero_bias(channels[1], device));
    conv
}

/// A Keras-initialised `Dense` layer: weight `[in, out]` (Keras' own layout), zero bias.
pub fn dense(d_input: usize, d_output: usize, device: &Device) -> Linear {
    let mut linear = LinearConfig::new(d_input, d_output)
        .with_bias(false)
        .with_initializer(GLOROT_UNIFORM)
        .init(device);
    linear.bias = Some(zero_bias(d_output, device));
    linear
}
